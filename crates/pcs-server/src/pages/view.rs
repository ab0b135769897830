//! Small pieces shared by the pages: numbers for people, URL encoding, the
//! month or date a page is for, bars and badges.

use maud::{Markup, html};
use pcs_core::Decimal;
use pcs_core::calendar::Month;
use pcs_core::jiff::civil::Date;
use pcs_core::score::{MetricDetail, MetricScore, PartnerScore};

/// Points with two decimals, as the scorecard prints them (`6.42`, `15.00`).
pub(crate) fn pts(d: Decimal) -> String {
    let mut d = d;
    d.rescale(2);
    d.to_string()
}

/// A decimal without trailing zeros (`70.84`, `15`).
pub(crate) fn num(d: Decimal) -> String {
    d.normalize().to_string()
}

/// A signed difference (`+4.2`, `-1`, `0`).
pub(crate) fn signed(d: Decimal) -> String {
    if d > Decimal::ZERO {
        format!("+{}", num(d))
    } else {
        num(d)
    }
}

/// A metric's value for people: growth in percent, counts as they are.
pub(crate) fn value_text(m: &MetricScore) -> String {
    match (&m.detail, m.value) {
        (MetricDetail::ConsumptionGrowth { .. }, Some(v)) => format!("{} %", num(v)),
        (_, Some(v)) => pcs_core::display::thousands(v),
        (_, None) => "n/a".to_string(),
    }
}

/// `points / max` as a whole percentage between 0 and 100, for the
/// stylesheet's width and position classes (`w-43`, `l-60`): the pages
/// carry no inline style, so the Content-Security-Policy can forbid it.
pub(crate) fn percent_int(points: Decimal, max: Decimal) -> u32 {
    if max <= Decimal::ZERO {
        return 0;
    }
    let r = (points / max * Decimal::ONE_HUNDRED)
        .max(Decimal::ZERO)
        .min(Decimal::ONE_HUNDRED)
        .round();
    u32::try_from(r.mantissa()).unwrap_or(0).min(100)
}

/// A horizontal bar filled to `points / max`.
pub(crate) fn bar(points: Decimal, max: Decimal, label: &str) -> Markup {
    let p = percent_int(points, max);
    html! {
        div.bar role="img" aria-label=(format!("{label}: {} of {}", pts(points), num(max))) {
            span class=(format!("w-{p}")) {}
        }
    }
}

/// The sum of the metrics' maxima (100 under the 2023-06 rulebook).
pub(crate) fn max_total(s: &PartnerScore) -> Decimal {
    s.metrics.iter().map(|m| m.max_points).sum()
}

/// Percent-encodes a path segment or query value (everything but
/// `A-Z a-z 0-9 - . _ ~`).
pub(crate) fn enc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// What a page is for: a month (evaluated on its last day) or a calendar
/// date (the refresh-by-the-20th rule), as the CLI's `--month` / `--date`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Sel {
    /// `?month=YYYY-MM`.
    Month(Month),
    /// `?date=YYYY-MM-DD`.
    Date(Date),
}

impl Sel {
    /// The query string that selects it (`month=2023-11`).
    pub(crate) fn query(self) -> String {
        match self {
            Sel::Month(m) => format!("month={m}"),
            Sel::Date(d) => format!("date={d}"),
        }
    }

    /// The server's [`crate::state::When`].
    pub(crate) fn when(self) -> crate::state::When {
        match self {
            Sel::Month(m) => crate::state::When::Month(m),
            Sel::Date(d) => crate::state::When::Date(d),
        }
    }
}

/// The link to a partner's page (`""` for the overview, `"customers"`, ...),
/// keeping the month or date.
pub(crate) fn partner_href(partner: &str, page: &str, sel: Sel) -> String {
    if page.is_empty() {
        format!("/partners/{}?{}", enc(partner), sel.query())
    } else {
        format!("/partners/{}/{page}?{}", enc(partner), sel.query())
    }
}

/// The partner's name and id for headings (`Contoso (1000001)`).
pub(crate) fn partner_title(id: &str, name: Option<&str>) -> String {
    match name {
        Some(n) if !n.is_empty() => format!("{n} ({id})"),
        _ => id.to_string(),
    }
}

/// A status badge: qualified or not.
pub(crate) fn qualified_badge(qualified: bool) -> Markup {
    html! {
        @if qualified { span.badge.good data-qualified="true" { "Qualified" } }
        @else { span.badge.warn data-qualified="false" { "Not qualified" } }
    }
}

/// A classification badge.
pub(crate) fn class_badge(class: &str) -> Markup {
    let text = match class {
        "enterprise" => "Enterprise",
        "smb" => "SMB",
        other => other,
    };
    html! { span.badge.plain data-classification=(class) { (text) } }
}

/// Source lines of a table file: `revenue.csv: 3, 7`.
pub(crate) fn source_lines(file: Option<&str>, lines: &[u64]) -> String {
    if lines.is_empty() {
        return String::new();
    }
    let list = lines
        .iter()
        .map(u64::to_string)
        .collect::<Vec<_>>()
        .join(", ");
    let label = if lines.len() == 1 { "line" } else { "lines" };
    match file {
        Some(f) => format!("{f}: {label} {list}"),
        None => format!("{label} {list}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> Decimal {
        s.parse().unwrap()
    }

    #[test]
    fn numbers_for_people() {
        assert_eq!(pts(d("6.42")), "6.42");
        assert_eq!(pts(d("15")), "15.00");
        assert_eq!(num(d("15.00")), "15");
        assert_eq!(signed(d("4.20")), "+4.2");
        assert_eq!(signed(d("-1")), "-1");
        assert_eq!(signed(d("0")), "0");
    }

    #[test]
    fn encoding_leaves_only_unreserved_bytes() {
        assert_eq!(enc("1000001"), "1000001");
        assert_eq!(enc("a b/c?d&e"), "a%20b%2Fc%3Fd%26e");
        assert_eq!(enc("é"), "%C3%A9");
        assert_eq!(
            partner_href("a/b", "customers", Sel::Month("2023-11".parse().unwrap())),
            "/partners/a%2Fb/customers?month=2023-11"
        );
        assert_eq!(
            partner_href("P", "", Sel::Date("2023-11-19".parse().unwrap())),
            "/partners/P?date=2023-11-19"
        );
    }

    #[test]
    fn bars_carry_their_width_and_an_accessible_label() {
        let html = bar(d("7.5"), d("15"), "Net customer adds").into_string();
        assert!(html.contains(r#"<span class="w-50">"#), "{html}");
        assert_eq!(percent_int(d("6.42"), d("15")), 43);
        assert_eq!(percent_int(d("99"), d("15")), 100);
        assert_eq!(percent_int(d("-3"), d("15")), 0);
        assert_eq!(percent_int(d("3"), d("0")), 0);
        assert!(
            html.contains(r#"aria-label="Net customer adds: 7.50 of 15""#),
            "{html}"
        );
    }

    #[test]
    fn source_lines_name_the_file() {
        assert_eq!(
            source_lines(Some("revenue.csv"), &[3]),
            "revenue.csv: line 3"
        );
        assert_eq!(source_lines(None, &[3, 7]), "lines 3, 7");
        assert_eq!(source_lines(Some("x"), &[]), "");
    }
}
