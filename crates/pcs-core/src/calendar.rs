//! Months and dates: the calendar arithmetic of the rules.

use std::fmt;

use jiff::civil::Date;
use serde::{Serialize, Serializer};

/// A calendar month such as `2023-11`.
///
/// ```
/// use pcs_core::calendar::Month;
/// let m: Month = "2023-11".parse().unwrap();
/// assert_eq!(m.minus(13).to_string(), "2022-10");
/// assert_eq!(m.last_day().to_string(), "2023-11-30");
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Month {
    /// Months since year 0: `year * 12 + (month - 1)`.
    index: i32,
}

/// Why a text is not a `YYYY-MM` month or a `YYYY-MM-DD` date.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("'{text}' is not a {expected}")]
pub struct CalendarParseError {
    text: String,
    expected: &'static str,
}

impl Month {
    /// The month of a year, `month` in 1..=12.
    pub fn new(year: i16, month: i8) -> Option<Month> {
        if !(1..=12).contains(&month) || !(1..=9999).contains(&year) {
            return None;
        }
        Some(Month {
            index: i32::from(year) * 12 + i32::from(month) - 1,
        })
    }

    /// The month a date falls in.
    pub fn of(date: Date) -> Month {
        Month {
            index: i32::from(date.year()) * 12 + i32::from(date.month()) - 1,
        }
    }

    /// The year.
    pub fn year(self) -> i16 {
        (self.index.div_euclid(12)) as i16
    }

    /// The month of the year, 1..=12.
    pub fn month(self) -> i8 {
        (self.index.rem_euclid(12) + 1) as i8
    }

    /// This month shifted `n` months back.
    pub fn minus(self, n: u32) -> Month {
        Month {
            index: self.index - n as i32,
        }
    }

    /// This month shifted `n` months forward.
    pub fn plus(self, n: u32) -> Month {
        Month {
            index: self.index + n as i32,
        }
    }

    /// Number of months from `other` to `self` (positive when `self` is later).
    pub fn months_since(self, other: Month) -> i32 {
        self.index - other.index
    }

    /// The first day of the month.
    pub fn first_day(self) -> Date {
        Date::new(self.year(), self.month(), 1).expect("a valid month has a first day")
    }

    /// The last day of the month.
    pub fn last_day(self) -> Date {
        self.first_day().last_of_month()
    }

    /// Parses exactly `YYYY-MM` (four-digit year, two-digit month).
    #[inline]
    pub fn parse_strict(text: &str) -> Result<Month, CalendarParseError> {
        let b = text.as_bytes();
        if b.len() == 7
            && b[4] == b'-'
            && let (Some(year), Some(month)) = (digits4(&b[0..4]), digits2(&b[5..7]))
            && let Some(m) = Month::new(year as i16, month as i8)
        {
            return Ok(m);
        }
        Err(parse_error(text, "month (YYYY-MM)"))
    }
}

impl std::str::FromStr for Month {
    type Err = CalendarParseError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Month::parse_strict(s)
    }
}

impl fmt::Display for Month {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:04}-{:02}", self.year(), self.month())
    }
}

impl Serialize for Month {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut buf = [0; 10];
        match iso_text(self.year(), self.month(), None, &mut buf) {
            Some(text) => s.serialize_str(text),
            None => s.collect_str(self),
        }
    }
}

/// Serialises a date as its `YYYY-MM-DD` text, as `Display` writes it.
pub fn serialize_date<S: Serializer>(date: Date, s: S) -> Result<S::Ok, S::Error> {
    let mut buf = [0; 10];
    match iso_text(date.year(), date.month(), Some(date.day()), &mut buf) {
        Some(text) => s.serialize_str(text),
        None => s.collect_str(&date),
    }
}

/// `YYYY-MM` (or `YYYY-MM-DD` with a day) of a year in 1 to 9999, the
/// bytes `Display` writes, without the formatting machinery (score objects
/// write four dates each); `None` for a year outside.
fn iso_text(year: i16, month: i8, day: Option<i8>, buf: &mut [u8; 10]) -> Option<&str> {
    if !(1..=9999).contains(&year) || !(1..=12).contains(&month) {
        return None;
    }
    let two = |v: u8| [b'0' + v / 10, b'0' + v % 10];
    let y = year as u16;
    buf[0..2].copy_from_slice(&two((y / 100) as u8));
    buf[2..4].copy_from_slice(&two((y % 100) as u8));
    buf[4] = b'-';
    buf[5..7].copy_from_slice(&two(month as u8));
    let len = match day {
        Some(d) if (1..=31).contains(&d) => {
            buf[7] = b'-';
            buf[8..10].copy_from_slice(&two(d as u8));
            10
        }
        Some(_) => return None,
        None => 7,
    };
    std::str::from_utf8(&buf[..len]).ok()
}

/// The error of a text that is not the `expected` form (out of line: the
/// parsers are inlined where records are read).
#[cold]
#[inline(never)]
fn parse_error(text: &str, expected: &'static str) -> CalendarParseError {
    CalendarParseError {
        text: text.to_string(),
        expected,
    }
}

/// Four ASCII digits as a number, checked and converted a word at a time.
#[inline(always)]
fn digits4(b: &[u8]) -> Option<u32> {
    let x = u32::from_le_bytes(b.try_into().ok()?);
    // Every byte 0x30..=0x3f, and none above 0x39 (adding 6 carries it
    // into 0x40; no byte carries into the next).
    if x & 0xf0f0_f0f0 != 0x3030_3030 || (x + 0x0606_0606) & 0xf0f0_f0f0 != 0x3030_3030 {
        return None;
    }
    let d = x - 0x3030_3030;
    // Bytes 0 and 2: the first and the second pair of digits as numbers.
    let pairs = (d * 10 + (d >> 8)) & 0x00ff_00ff;
    Some((pairs * 100 + (pairs >> 16)) & 0xffff)
}

/// Two ASCII digits as a number.
#[inline(always)]
fn digits2(b: &[u8]) -> Option<u32> {
    match *b {
        [a @ b'0'..=b'9', z @ b'0'..=b'9'] => Some(u32::from(a - b'0') * 10 + u32::from(z - b'0')),
        _ => None,
    }
}

/// Parses exactly `YYYY-MM-DD`, rejecting impossible days such as `2023-02-30`.
///
/// ```
/// let d = pcs_core::calendar::parse_date("2024-02-29").unwrap();
/// assert_eq!(d.to_string(), "2024-02-29");
/// assert!(pcs_core::calendar::parse_date("2023-02-29").is_err());
/// ```
#[inline]
pub fn parse_date(text: &str) -> Result<Date, CalendarParseError> {
    let b = text.as_bytes();
    if b.len() == 10
        && b[4] == b'-'
        && b[7] == b'-'
        && let (Some(year @ 1..), Some(month), Some(day)) =
            (digits4(&b[0..4]), digits2(&b[5..7]), digits2(&b[8..10]))
        && let Ok(d) = Date::new(year as i16, month as i8, day as i8)
    {
        return Ok(d);
    }
    Err(parse_error(text, "date (YYYY-MM-DD)"))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The parsers before their word-at-a-time digits: a digit loop, then
    /// the same range checks.
    fn reference_digits(b: &[u8]) -> Option<u32> {
        b.iter().try_fold(0u32, |v, &c| {
            c.is_ascii_digit().then(|| v * 10 + u32::from(c - b'0'))
        })
    }

    fn reference_month(text: &str) -> Option<Month> {
        let b = text.as_bytes();
        if b.len() != 7 || b[4] != b'-' {
            return None;
        }
        Month::new(
            reference_digits(&b[0..4])? as i16,
            reference_digits(&b[5..7])? as i8,
        )
    }

    fn reference_date(text: &str) -> Option<Date> {
        let b = text.as_bytes();
        if b.len() != 10 || b[4] != b'-' || b[7] != b'-' {
            return None;
        }
        let year = reference_digits(&b[0..4])?;
        let month = reference_digits(&b[5..7])?;
        let day = reference_digits(&b[8..10])?;
        if year == 0 {
            return None;
        }
        Date::new(year as i16, month as i8, day as i8).ok()
    }

    proptest::proptest! {
        #[test]
        fn months_and_dates_parse_as_a_digit_loop_parses_them(
            text in "[0-9]{4}-[0-9]{2}(-[0-9]{2})?|[0-9:/@-]{7,10}|[0-9]{4}-[0-9]{2}-[0-9]{2}|\\PC{0,10}",
        ) {
            proptest::prop_assert_eq!(Month::parse_strict(&text).ok(), reference_month(&text));
            proptest::prop_assert_eq!(parse_date(&text).ok(), reference_date(&text));
        }
    }

    #[test]
    fn every_byte_next_to_the_digits_is_told_from_a_digit() {
        // Each byte in each place of a valid month and date.
        for (valid, place_count) in [("2024-07", 7), ("2024-07-31", 10)] {
            for place in 0..place_count {
                for byte in 0u8..=127 {
                    let mut b = valid.as_bytes().to_vec();
                    b[place] = byte;
                    let text = String::from_utf8(b).unwrap();
                    assert_eq!(
                        Month::parse_strict(&text).ok(),
                        reference_month(&text),
                        "{text:?}"
                    );
                    assert_eq!(parse_date(&text).ok(), reference_date(&text), "{text:?}");
                }
            }
        }
    }

    #[test]
    fn months_and_dates_serialise_as_their_display_text() {
        let month_json = |m: Month| serde_json::to_string(&m).unwrap();
        let date_json = |d: Date| {
            let mut out = Vec::new();
            serialize_date(d, &mut serde_json::Serializer::new(&mut out)).unwrap();
            String::from_utf8(out).unwrap()
        };
        for year in [1i16, 9, 10, 99, 100, 999, 1000, 2023, 2024, 9999] {
            for month in 1..=12i8 {
                let m = Month::new(year, month).unwrap();
                assert_eq!(month_json(m), format!("\"{m}\""));
                for day in [1, 9, 10, 28, 31] {
                    if let Ok(d) = Date::new(year, month, day) {
                        assert_eq!(date_json(d), format!("\"{d}\""));
                    }
                }
            }
        }
        // A month moved outside 1 to 9999 is still written as `Display` does.
        let early = Month::new(1, 1).unwrap().minus(1);
        assert_eq!(month_json(early), format!("\"{early}\""));
    }

    #[test]
    fn month_arithmetic_crosses_years() {
        let m = Month::new(2023, 1).unwrap();
        assert_eq!(m.minus(1).to_string(), "2022-12");
        assert_eq!(m.minus(13).to_string(), "2021-12");
        assert_eq!(m.plus(12).to_string(), "2024-01");
        assert_eq!(m.plus(5).months_since(m), 5);
    }

    #[test]
    fn month_parsing_is_strict() {
        assert!(Month::parse_strict("2023-11").is_ok());
        for bad in [
            "2023-13",
            "2023-00",
            "2023-1",
            "23-11",
            "2023/11",
            "2023-11-01",
            " 2023-11",
            "０２３-11",
        ] {
            assert!(Month::parse_strict(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn last_day_handles_leap_years() {
        assert_eq!(
            Month::new(2024, 2).unwrap().last_day().to_string(),
            "2024-02-29"
        );
        assert_eq!(
            Month::new(2023, 2).unwrap().last_day().to_string(),
            "2023-02-28"
        );
    }

    #[test]
    fn date_parsing_is_strict() {
        assert!(parse_date("2023-11-30").is_ok());
        for bad in [
            "2023-11-31",
            "2023-1-30",
            "30/11/2023",
            "2023-11-30T00:00",
            "0000-01-01",
        ] {
            assert!(parse_date(bad).is_err(), "{bad}");
        }
    }
}
