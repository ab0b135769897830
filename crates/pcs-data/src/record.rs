//! Turning one record's text fields into a typed row, with exact errors.
//!
//! CSV and Parquet readers both end here, so a value is judged the same way
//! whatever file it came from.

use std::path::Path;
use std::str::FromStr;

use pcs_core::Decimal;
use pcs_core::calendar::{Month, parse_date};
use pcs_core::facts::{
    AcrRow, CertificationRow, FactsBuilder, LicenseRow, PartnerRow, RevenueRow, Table, UsageRow,
};
use pcs_core::jiff::civil::Date;

use crate::error::{DataError, ErrorKind};
use crate::schema::{HeaderMap, col, columns};

/// Where a record is: file, line (CSV) or row (Parquet), and its header.
pub(crate) struct Loc<'a> {
    pub file: &'a Path,
    pub table: Table,
    pub header: &'a HeaderMap,
    pub line: u64,
    pub is_row: bool,
}

impl Loc<'_> {
    /// The error for the value of column `c` of this record, as written.
    pub(crate) fn value_error(&self, c: usize, value: &str, message: &str) -> DataError {
        self.err(c, value, message)
    }

    #[cold]
    #[inline(never)]
    fn err(&self, c: usize, value: &str, message: impl Into<String>) -> DataError {
        self.at(c, message).with_value(value)
    }

    /// An error located at column `c` of this record, without a value.
    fn at(&self, c: usize, message: impl Into<String>) -> DataError {
        let mut e = DataError::new(ErrorKind::Value, self.file, message);
        e = if self.is_row {
            e.at_row(self.line)
        } else {
            e.at_line(self.line)
        };
        let name = columns(self.table)[c].name;
        if let Some(i) = self.header.index[c] {
            e = e.in_column(i + 1, name);
        }
        e
    }

    /// The error for a required column `c` that holds no value (a null in
    /// a typed file): no value is shown, as the file has none.
    #[cold]
    #[inline(never)]
    fn null(&self, c: usize) -> DataError {
        self.at(c, "null (no value) in a required column")
    }
}

/// Parses a plain decimal: optional sign, digits, optional fraction. No
/// thousands separators, exponents, underscores or currency signs.
pub fn parse_decimal(text: &str) -> Option<Decimal> {
    let b = text.as_bytes();
    let (negative, digits) = match b.first() {
        Some(b'-') => (true, &b[1..]),
        Some(b'+') => (false, &b[1..]),
        _ => (false, b),
    };
    let mut seen_digit = false;
    let mut seen_dot = false;
    // The digits as an integer and the number of them after the dot, while
    // they fit: the exact value `rust_decimal` would parse, without its
    // general parser.
    let mut mantissa: u64 = 0;
    let mut count = 0u32;
    let mut scale = 0u32;
    for &c in digits {
        match c {
            b'0'..=b'9' => {
                seen_digit = true;
                mantissa = mantissa.wrapping_mul(10).wrapping_add(u64::from(c - b'0'));
                count += 1;
                scale += u32::from(seen_dot);
            }
            b'.' if !seen_dot => seen_dot = true,
            _ => return None,
        }
    }
    if !seen_digit {
        return None;
    }
    // 18 digits always fit; a negative zero keeps its sign through the
    // general parser.
    if count <= 18 && !(negative && mantissa == 0) {
        let m = i64::try_from(mantissa).ok()?;
        return Some(Decimal::new(if negative { -m } else { m }, scale));
    }
    Decimal::from_str(text).ok()
}

/// A value a typed file (Parquet) already holds as a number or a date, so
/// it need not go through text, or a null. Its column's text is then empty.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub(crate) enum Typed {
    /// No typed value: judge the column's text.
    #[default]
    None,
    /// An exact decimal.
    Decimal(Decimal),
    /// A calendar date (in a month column: its month).
    Date(Date),
    /// No value at all (a null): absent in an optional column, an error in
    /// a required one.
    Null,
    /// A typed value pcs cannot hold (a date beyond year 9999, a decimal
    /// beyond 28 digits): an error with this message when the record is
    /// judged, so the first bad field of a record is reported in the same
    /// order as for text. The column's text is the value as the file holds it.
    Invalid(&'static str),
}

/// A count's text: digits, optionally after a `+`; else the message of
/// what is wrong with it (not digits is told before out of range).
fn parse_count(v: &str) -> Result<u64, &'static str> {
    let digits = v.strip_prefix('+').unwrap_or(v);
    // Digits and range in one pass.
    let (mut n, mut overflow) = (0u64, false);
    for b in digits.bytes() {
        let d = b.wrapping_sub(b'0');
        if d > 9 {
            return Err("not a whole number of 0 or more");
        }
        match n.checked_mul(10).and_then(|x| x.checked_add(u64::from(d))) {
            Some(x) => n = x,
            None => overflow = true,
        }
    }
    if digits.is_empty() {
        Err("not a whole number of 0 or more")
    } else if overflow {
        Err("number out of range")
    } else {
        Ok(n)
    }
}

/// `str::trim`, without its character loop when both ends are visible
/// ASCII (nearly every field).
pub(crate) fn trim(v: &str) -> &str {
    match (v.as_bytes().first(), v.as_bytes().last()) {
        (Some(a), Some(z)) if a.is_ascii_graphic() && z.is_ascii_graphic() => v,
        _ => v.trim(),
    }
}

pub(crate) struct Fields<'a, 'l> {
    pub values: &'a [&'a str],
    pub typed: &'a [Typed],
    pub loc: &'a Loc<'l>,
}

impl<'a> Fields<'a, '_> {
    #[inline(always)]
    fn raw(&self, c: usize) -> &'a str {
        trim(self.values.get(c).copied().unwrap_or(""))
    }

    #[inline(always)]
    fn typed(&self, c: usize) -> Typed {
        self.typed.get(c).copied().unwrap_or_default()
    }

    /// An error if column `c` holds a null (the caller requires a value)
    /// or a typed value pcs cannot hold.
    #[inline(always)]
    fn required(&self, c: usize) -> Result<(), DataError> {
        match self.typed(c) {
            Typed::Null => Err(self.loc.null(c)),
            _ => self.valid(c),
        }
    }

    /// An error if column `c` holds a typed value pcs cannot hold.
    #[inline(always)]
    fn valid(&self, c: usize) -> Result<(), DataError> {
        match self.typed(c) {
            Typed::Invalid(message) => {
                let shown = self.values.get(c).copied().unwrap_or_default();
                Err(self.loc.err(c, shown, message))
            }
            _ => Ok(()),
        }
    }

    #[inline(always)]
    fn id(&self, c: usize) -> Result<&'a str, DataError> {
        self.required(c)?;
        let v = self.raw(c);
        if v.is_empty() {
            return Err(self.loc.err(c, v, "empty id"));
        }
        Ok(v)
    }

    #[inline(always)]
    fn name(&self, c: usize) -> Result<&'a str, DataError> {
        self.required(c)?;
        let v = self.raw(c);
        if v.is_empty() {
            return Err(self.loc.err(c, v, "empty value in a required column"));
        }
        Ok(v)
    }

    #[inline(always)]
    fn opt(&self, c: usize) -> Option<&'a str> {
        Some(self.raw(c)).filter(|v| !v.is_empty())
    }

    #[inline(always)]
    fn month(&self, c: usize) -> Result<Month, DataError> {
        self.required(c)?;
        if let Typed::Date(d) = self.typed(c) {
            return Ok(Month::of(d));
        }
        let v = self.raw(c);
        Month::parse_strict(v).map_err(|_| self.loc.err(c, v, "not a month (YYYY-MM)"))
    }

    #[inline(always)]
    fn date(&self, c: usize) -> Result<Date, DataError> {
        self.required(c)?;
        if let Typed::Date(d) = self.typed(c) {
            return Ok(d);
        }
        let v = self.raw(c);
        parse_date(v).map_err(|_| self.loc.err(c, v, "not a date (YYYY-MM-DD)"))
    }

    #[inline(always)]
    fn opt_date(&self, c: usize) -> Result<Option<Date>, DataError> {
        self.valid(c)?;
        if let Typed::Date(d) = self.typed(c) {
            return Ok(Some(d));
        }
        if self.raw(c).is_empty() {
            Ok(None)
        } else {
            self.date(c).map(Some)
        }
    }

    /// A whole number ≥ 0 (seats, users): digits only, or a typed decimal
    /// with no fraction.
    #[inline(always)]
    fn count(&self, c: usize) -> Result<u64, DataError> {
        // A null is no value (not an empty text): named as a null.
        self.required(c)?;
        if let Typed::Decimal(d) = self.typed(c) {
            return if d.fract().is_zero() && !d.is_sign_negative() {
                u64::try_from(d.trunc().mantissa() / 10i128.pow(d.trunc().scale()))
                    .map_err(|_| self.loc.err(c, &d.to_string(), "number out of range"))
            } else {
                Err(self
                    .loc
                    .err(c, &d.to_string(), "not a whole number of 0 or more"))
            };
        }
        let v = self.raw(c);
        parse_count(v).map_err(|message| self.loc.err(c, v, message))
    }

    #[inline(always)]
    fn decimal(&self, c: usize) -> Result<Decimal, DataError> {
        self.required(c)?;
        if let Typed::Decimal(d) = self.typed(c) {
            return Ok(d);
        }
        let v = self.raw(c);
        parse_decimal(v).ok_or_else(|| self.loc.err(c, v, "not a number"))
    }
}

/// Validates one record of `loc.table` and adds it to the builder.
pub(crate) fn feed(
    values: &[&str],
    loc: &Loc<'_>,
    builder: &mut FactsBuilder<'_>,
) -> Result<(), DataError> {
    feed_typed(values, &[], loc, builder)
}

/// [`feed`] for a record some of whose columns are already typed (`typed[c]`
/// wins over `values[c]` when it is not [`Typed::None`]).
pub(crate) fn feed_typed(
    values: &[&str],
    typed: &[Typed],
    loc: &Loc<'_>,
    builder: &mut FactsBuilder<'_>,
) -> Result<(), DataError> {
    let f = Fields { values, typed, loc };
    match loc.table {
        Table::Revenue => builder.add_revenue(&RevenueRow {
            partner_id: f.id(col::R_PARTNER)?,
            customer_tenant_id: f.id(col::R_TENANT)?,
            customer_name: f.opt(col::R_CUSTOMER),
            subscription_id: f.opt(col::R_SUBSCRIPTION),
            workload: f.name(col::R_WORKLOAD)?,
            month: f.month(col::R_MONTH)?,
            revenue_usd: f.decimal(col::R_REVENUE)?,
            association: f.name(col::R_ASSOCIATION)?,
            line: loc.line,
        }),
        Table::Usage => {
            let quantity = f.decimal(col::U_QUANTITY)?;
            if quantity.is_sign_negative() && !quantity.is_zero() {
                let text = match f.typed(col::U_QUANTITY) {
                    Typed::Decimal(d) => d.to_string(),
                    _ => f.raw(col::U_QUANTITY).to_string(),
                };
                return Err(loc.err(col::U_QUANTITY, &text, "negative usage quantity"));
            }
            builder.add_usage(&UsageRow {
                partner_id: f.id(col::U_PARTNER)?,
                customer_tenant_id: f.id(col::U_TENANT)?,
                customer_name: f.opt(col::U_CUSTOMER),
                workload: f.name(col::U_WORKLOAD)?,
                month: f.month(col::U_MONTH)?,
                quantity,
                association: f.name(col::U_ASSOCIATION)?,
                line: loc.line,
            })
        }
        Table::Certifications => builder.add_certification(&CertificationRow {
            partner_id: f.id(col::C_PARTNER)?,
            person_id: f.id(col::C_PERSON)?,
            person_name: f.opt(col::C_PERSON_NAME),
            certification: f.name(col::C_CERTIFICATION)?,
            earned_on: f.date(col::C_EARNED)?,
            expires_on: f.opt_date(col::C_EXPIRES)?,
            line: loc.line,
        }),
        Table::Partners => builder.add_partner(&PartnerRow {
            partner_id: f.id(col::P_PARTNER)?,
            name: f.opt(col::P_NAME),
            anniversary_date: f.opt_date(col::P_ANNIVERSARY)?,
            line: loc.line,
        }),
        Table::Acr => builder.add_acr(&AcrRow {
            partner_id: f.id(col::A_PARTNER)?,
            customer_tenant_id: f.id(col::A_TENANT)?,
            customer_name: f.opt(col::A_CUSTOMER),
            subscription_id: f.opt(col::A_SUBSCRIPTION),
            service: f.name(col::A_SERVICE)?,
            month: f.month(col::A_MONTH)?,
            acr_usd: f.decimal(col::A_ACR)?,
            association: f.name(col::A_ASSOCIATION)?,
            offer: f.opt(col::A_OFFER),
            line: loc.line,
        }),
        Table::Licenses => builder.add_license(&LicenseRow {
            partner_id: f.id(col::L_PARTNER)?,
            customer_tenant_id: f.id(col::L_TENANT)?,
            customer_name: f.opt(col::L_CUSTOMER),
            workload: f.name(col::L_WORKLOAD)?,
            month: f.month(col::L_MONTH)?,
            association: f.name(col::L_ASSOCIATION)?,
            paid_seats: f.count(col::L_PAID)?,
            active_users: f.count(col::L_ACTIVE)?,
            associated_on: f.opt_date(col::L_ASSOCIATED_ON)?,
            line: loc.line,
        }),
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::{parse_count, parse_decimal, trim};
    use pcs_core::Decimal;
    use proptest::prelude::*;
    use std::str::FromStr;

    /// The parser before its fast path: check the form, then `rust_decimal`.
    fn reference(text: &str) -> Option<Decimal> {
        let b = text.as_bytes();
        let d = b
            .strip_prefix(b"-")
            .or_else(|| b.strip_prefix(b"+"))
            .unwrap_or(b);
        let plain = d.iter().all(|c| c.is_ascii_digit() || *c == b'.')
            && d.iter().filter(|c| **c == b'.').count() <= 1
            && d.iter().any(u8::is_ascii_digit);
        if plain {
            Decimal::from_str(text).ok()
        } else {
            None
        }
    }

    proptest! {
        #[test]
        fn the_fast_path_parses_as_rust_decimal_does(
            text in "[+-]?[0-9]{0,30}(\\.[0-9]{0,30})?|[+-]?\\.[0-9]{1,20}|[-+0-9.a]{0,6}"
        ) {
            let got = parse_decimal(&text);
            let want = reference(&text);
            prop_assert_eq!(got, want);
            // Same scale and sign too, as printed.
            prop_assert_eq!(got.map(|d| d.to_string()), want.map(|d| d.to_string()));
        }

        #[test]
        fn a_count_is_read_as_the_standard_parser_reads_it(
            text in "\\+?[0-9]{0,22}|[+0-9a -]{0,5}|[0-9]{19,21}"
        ) {
            // The reader before its one-pass loop.
            let reference = |v: &str| {
                let digits = v.strip_prefix('+').unwrap_or(v);
                if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
                    return Err("not a whole number of 0 or more");
                }
                digits.parse::<u64>().map_err(|_| "number out of range")
            };
            prop_assert_eq!(parse_count(&text), reference(&text));
        }

        #[test]
        fn trim_is_str_trim(text in "[ \t\r\n\u{a0}\u{2003}\u{85}a-z.]{0,8}|\\PC{0,8}") {
            prop_assert_eq!(trim(&text), text.trim());
        }
    }

    #[test]
    fn a_count_ends_at_the_largest_u64() {
        assert_eq!(parse_count("18446744073709551615"), Ok(u64::MAX));
        assert_eq!(parse_count("+018446744073709551615"), Ok(u64::MAX));
        assert_eq!(
            parse_count("18446744073709551616"),
            Err("number out of range")
        );
        assert_eq!(
            parse_count("99999999999999999999x"),
            Err("not a whole number of 0 or more")
        );
        assert_eq!(parse_count("+"), Err("not a whole number of 0 or more"));
        assert_eq!(parse_count("-0"), Err("not a whole number of 0 or more"));
    }

    /// A null seat count in a typed file is a null in a required column,
    /// shown without a value (found by the `parquet_reader` fuzz target).
    #[test]
    fn a_null_count_is_named_as_a_null() {
        use super::{Loc, Typed, feed_typed};
        use crate::schema::{col, match_header};
        use pcs_core::facts::{FactsBuilder, MonthFilter, Table};
        let header: Vec<String> = [
            "partner_id",
            "customer_tenant_id",
            "workload",
            "month",
            "association",
            "paid_seats",
            "active_users",
        ]
        .map(String::from)
        .to_vec();
        let map = match_header(Table::Licenses, &header).unwrap();
        let set = pcs_core::rulebook::RulebookSet::builtin();
        let mut b = FactsBuilder::new(&set.versions()[0], MonthFilter::All, false);
        let loc = Loc {
            file: "licenses.parquet".as_ref(),
            table: Table::Licenses,
            header: &map,
            line: 4,
            is_row: true,
        };
        let mut values = [""; crate::schema::MAX_COLUMNS];
        for (c, v) in [
            (col::L_PARTNER, "P1"),
            (col::L_TENANT, "t1"),
            (col::L_WORKLOAD, "Sales"),
            (col::L_MONTH, "2023-10"),
            (col::L_ASSOCIATION, "DPOR"),
            (col::L_ACTIVE, "3"),
        ] {
            values[c] = v;
        }
        let mut typed = [Typed::None; crate::schema::MAX_COLUMNS];
        typed[col::L_PAID] = Typed::Null;
        let n = crate::schema::columns(Table::Licenses).len();
        let e = feed_typed(&values[..n], &typed[..n], &loc, &mut b).unwrap_err();
        assert!(e.value().is_none(), "{e}");
        assert!(e.to_string().contains("null (no value)"), "{e}");
        assert!(e.to_string().contains("paid_seats"), "{e}");
        // Text as before: an empty field is not a number.
        let e = feed_typed(&values[..n], &[], &loc, &mut b).unwrap_err();
        assert_eq!(e.value(), Some(""), "{e}");
    }

    #[test]
    fn decimal_edges() {
        for t in [
            "-0",
            "-0.00",
            "0",
            "+0.0",
            "999999999999999999",
            "9999999999999999999",
            "-1234567890.12345678",
            "5.",
            ".5",
            "-.5",
            "007.50",
        ] {
            assert_eq!(
                parse_decimal(t).map(|d| d.to_string()),
                reference(t).map(|d| d.to_string()),
                "{t}"
            );
        }
    }

    #[test]
    fn plain_decimals_only() {
        assert_eq!(parse_decimal("1500").unwrap().to_string(), "1500");
        assert_eq!(parse_decimal("-12.50").unwrap().to_string(), "-12.50");
        assert_eq!(parse_decimal("+3").unwrap().to_string(), "3");
        assert_eq!(parse_decimal(".5").unwrap().to_string(), "0.5");
        for bad in [
            "", "-", ".", "1,500", "1_000", "1e3", "$5", "NaN", "1.2.3", "12 000", "0x10",
        ] {
            assert!(parse_decimal(bad).is_none(), "{bad}");
        }
    }
}
