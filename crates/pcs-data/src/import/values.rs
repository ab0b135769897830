//! The value forms an export holds, read into the forms a pcs table holds.

use pcs_core::Decimal;
use pcs_core::calendar::{Month, parse_date};

use crate::record::parse_decimal;

const MONTHS: [&str; 12] = [
    "january",
    "february",
    "march",
    "april",
    "may",
    "june",
    "july",
    "august",
    "september",
    "october",
    "november",
    "december",
];

/// The `YYYY-MM-DD` at the start of an ISO date or timestamp
/// (`2023-10-01`, `2023-10-01T00:00:00`, `2023-10-01 00:00:00.000Z`,
/// `2023-10-01T05:00:00+02:00`), and whether a time of day other than
/// midnight follows.
fn iso_date(text: &str) -> Option<(&str, bool)> {
    if text.len() == 10 {
        return Some((text, false));
    }
    let (date, time) = (text.get(..10)?, text.get(10..)?);
    let time = time.strip_prefix('T').or_else(|| time.strip_prefix(' '))?;
    // HH:MM[:SS[.fff]] then an optional zone (Z or ±HH:MM).
    let clock_end = time.find(['Z', '+', '-']).unwrap_or(time.len());
    let (clock, zone) = time.split_at(clock_end);
    let zone_ok = zone.is_empty()
        || zone == "Z"
        || (zone.len() == 6
            && zone.as_bytes()[3] == b':'
            && zone[1..3].bytes().all(|b| b.is_ascii_digit())
            && zone[4..].bytes().all(|b| b.is_ascii_digit()));
    let b = clock.as_bytes();
    let clock_ok = clock.len() >= 5
        && b[2] == b':'
        && clock[..2].bytes().all(|c| c.is_ascii_digit())
        && clock[3..5].bytes().all(|c| c.is_ascii_digit())
        && (clock.len() == 5
            || (b[5] == b':'
                && clock.len() >= 8
                && clock[6..8].bytes().all(|c| c.is_ascii_digit())
                && (clock.len() == 8
                    || (b[8] == b'.'
                        && clock.len() > 9
                        && clock[9..].bytes().all(|c| c.is_ascii_digit())))));
    if !(zone_ok && clock_ok) {
        return None;
    }
    let midnight = clock.bytes().all(|c| matches!(c, b'0' | b':' | b'.'));
    Some((date, !midnight))
}

/// A month in any of the forms exports use: `2023-10`, `2023-10-01`, an ISO
/// timestamp (the date as written, whatever its zone), `Oct-2023`,
/// `Oct 2023`, `October-2023`. Always the calendar month, as `YYYY-MM`.
pub(crate) fn month(text: &str) -> Option<String> {
    let t = text.trim();
    if let Ok(m) = Month::parse_strict(t) {
        return Some(m.to_string());
    }
    if let Some((date, _)) = iso_date(t)
        && let Ok(d) = parse_date(date)
    {
        return Some(format!("{:04}-{:02}", d.year(), d.month()));
    }
    let (name, year) = t.split_once(['-', ' '])?;
    let name = name.to_ascii_lowercase();
    let n = MONTHS.iter().position(|m| {
        name.len() >= 3 && (*m == name || (name.len() == 3 && m.starts_with(&name)))
    })?;
    if year.len() != 4 || !year.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let m = Month::parse_strict(&format!("{year}-{:02}", n + 1)).ok()?;
    Some(m.to_string())
}

/// A calendar date: `YYYY-MM-DD`, or an ISO timestamp at midnight.
pub(crate) fn date(text: &str) -> Result<String, &'static str> {
    let t = text.trim();
    let Some((d, has_time)) = iso_date(t) else {
        return Err("not a date (YYYY-MM-DD)");
    };
    if has_time {
        return Err("a date with a time of day (expected a date)");
    }
    parse_date(d)
        .map(|d| d.to_string())
        .map_err(|_| "not a date (YYYY-MM-DD)")
}

/// A decimal amount, as written (checked).
pub(crate) fn amount(text: &str) -> Result<String, &'static str> {
    let t = text.trim();
    parse_decimal(t)
        .map(|_| t.to_string())
        .ok_or("not a number (a plain decimal such as 1234.50)")
}

/// A decimal ≥ 0, as written.
pub(crate) fn quantity(text: &str) -> Result<String, &'static str> {
    let t = text.trim();
    match parse_decimal(t) {
        Some(d) if d.is_sign_negative() && !d.is_zero() => Err("a negative quantity"),
        Some(_) => Ok(t.to_string()),
        None => Err("not a number (a plain decimal such as 12.5)"),
    }
}

/// A whole number ≥ 0 (`12`, or `12.0` as spreadsheets write it), as its digits.
pub(crate) fn count(text: &str) -> Result<String, &'static str> {
    let t = text.trim();
    let Some(d) = parse_decimal(t) else {
        return Err("not a whole number");
    };
    if d.is_sign_negative() && !d.is_zero() {
        return Err("a negative count");
    }
    if d.fract() != Decimal::ZERO {
        return Err("not a whole number");
    }
    Ok(d.trunc().normalize().to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        /// Every form of a date gives its calendar month, and nothing else
        /// reads as a different month.
        #[test]
        fn every_form_of_a_day_gives_its_month(
            y in 1900u32..2200, m in 1usize..=12, d in 1u32..=28,
            h in 0u32..24, mi in 0u32..60, zone in prop::sample::select(vec!["", "Z", "+02:00", "-11:30"]),
            full in any::<bool>(),
        ) {
            let want = format!("{y:04}-{m:02}");
            let name = if full { MONTHS[m - 1].to_string() } else { MONTHS[m - 1][..3].to_string() };
            for text in [
                want.clone(),
                format!("{want}-{d:02}"),
                format!("{want}-{d:02}T{h:02}:{mi:02}:00{zone}"),
                format!("{want}-{d:02} {h:02}:{mi:02}:00.000{zone}"),
                format!("{name}-{y}"),
                format!("{} {y}", name.to_uppercase()),
            ] {
                prop_assert_eq!(month(&text), Some(want.clone()), "{}", text);
            }
        }

        /// A month is read or refused, never misread: whatever the text, a
        /// month read from it is a valid `YYYY-MM` whose year appears in it.
        #[test]
        fn no_text_is_misread(text in "[0-9A-Za-z :T.+-]{0,24}") {
            if let Some(m) = month(&text) {
                prop_assert!(Month::parse_strict(&m).is_ok());
                prop_assert!(text.contains(&m[..4]), "{} from {}", m, text);
            }
        }
    }

    #[test]
    fn every_month_form() {
        for (text, want) in [
            ("2023-10", "2023-10"),
            ("2023-10-01", "2023-10"),
            ("2023-10-31", "2023-10"),
            ("2023-10-01T00:00:00", "2023-10"),
            ("2023-10-01T00:00:00Z", "2023-10"),
            ("2023-10-01 00:00:00.000", "2023-10"),
            ("2023-10-31T23:00:00-05:00", "2023-10"),
            ("2023-10-01T00:00", "2023-10"),
            ("Oct-2023", "2023-10"),
            ("oct 2023", "2023-10"),
            ("October-2023", "2023-10"),
            ("Sep-2023", "2023-09"),
            (" 2023-10 ", "2023-10"),
        ] {
            assert_eq!(month(text).as_deref(), Some(want), "{text}");
        }
        for bad in [
            "",
            "2023",
            "2023-13",
            "2023-10-32",
            "Oct-23",
            "Okt-2023",
            "10/1/2023",
            "2023-10-01X",
            "2023-10-01T25",
            "Octo-2023x",
            "Mayo-2023",
            "2023-10-01T00:00:00+0200",
        ] {
            assert_eq!(month(bad), None, "{bad}");
        }
    }

    #[test]
    fn dates_amounts_and_counts() {
        assert_eq!(date("2023-05-10").unwrap(), "2023-05-10");
        assert_eq!(date("2023-05-10T00:00:00Z").unwrap(), "2023-05-10");
        assert!(date("2023-05-10T14:30:00").is_err());
        assert!(date("10.05.2023").is_err());
        assert_eq!(amount(" -12.50 ").unwrap(), "-12.50");
        assert!(amount("1,200").is_err());
        assert_eq!(quantity("0").unwrap(), "0");
        assert!(quantity("-1").is_err());
        assert_eq!(count("12").unwrap(), "12");
        assert_eq!(count("12.0").unwrap(), "12");
        assert_eq!(count("-0").unwrap(), "0");
        assert!(count("12.5").is_err());
        assert!(count("-3").is_err());
    }
}
