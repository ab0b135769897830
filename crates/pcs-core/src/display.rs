//! Numbers for people: thousands separators, money and MCV.

use rust_decimal::Decimal;

/// `1234567.5` as `1,234,567.5`.
///
/// ```
/// let d: pcs_core::Decimal = "-25000.50".parse().unwrap();
/// assert_eq!(pcs_core::display::thousands(d), "-25,000.5");
/// ```
pub fn thousands(d: Decimal) -> String {
    let text = d.normalize().to_string();
    let (sign, rest) = text
        .strip_prefix('-')
        .map_or(("", text.as_str()), |r| ("-", r));
    let (int, frac) = rest
        .split_once('.')
        .map_or((rest, None), |(i, f)| (i, Some(f)));
    let mut grouped = String::new();
    for (i, c) in int.chars().enumerate() {
        if i > 0 && (int.len() - i) % 3 == 0 {
            grouped.push(',');
        }
        grouped.push(c);
    }
    match frac {
        Some(f) => format!("{sign}{grouped}.{f}"),
        None => format!("{sign}{grouped}"),
    }
}

/// `1 row`, `2 rows`.
pub fn plural(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

/// `$1,620.5`.
pub fn money(d: Decimal) -> String {
    if d.is_sign_negative() && !d.is_zero() {
        format!("-${}", thousands(-d))
    } else {
        format!("${}", thousands(d))
    }
}

/// `12,300 MCV`.
pub fn mcv(d: Decimal) -> String {
    format!("{} MCV", thousands(d))
}

/// An area metric's value for people, as `pcs score --area` prints it:
/// Azure usage growth in percent (`12.5 %`), `n/a` when undefined, else
/// the number as it is.
pub fn area_value(m: &crate::area::AreaMetric) -> String {
    match (m.value, m.id.as_str()) {
        (None, _) => "n/a".into(),
        (Some(v), "usage_growth")
            if m.figures.iter().any(|(k, _)| k == "latest_acr") && m.parts.is_empty() =>
        {
            format!("{} %", v.normalize())
        }
        (Some(v), _) => v.normalize().to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn thousands_groups_digits() {
        let d = |s: &str| s.parse::<Decimal>().unwrap();
        assert_eq!(thousands(d("1234567.5")), "1,234,567.5");
        assert_eq!(thousands(d("-25000")), "-25,000");
        assert_eq!(thousands(d("999")), "999");
        assert_eq!(thousands(d("1000.00")), "1,000");
    }

    #[test]
    fn money_and_mcv() {
        let d = |s: &str| s.parse::<Decimal>().unwrap();
        assert_eq!(money(d("-120.50")), "-$120.5");
        assert_eq!(mcv(d("10000")), "10,000 MCV");
    }
}
