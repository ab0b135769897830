//! The columns of each table (interface.md) and header matching.

use pcs_core::facts::Table;
use pcs_core::name::normalize;

/// A column of a table.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ColumnSpec {
    /// Canonical name (`customer_tenant_id`).
    pub name: &'static str,
    /// Whether the table must have it.
    pub required: bool,
}

const fn req(name: &'static str) -> ColumnSpec {
    ColumnSpec {
        name,
        required: true,
    }
}
const fn opt(name: &'static str) -> ColumnSpec {
    ColumnSpec {
        name,
        required: false,
    }
}

/// What a column holds, whatever the file format: how a typed file's
/// column (Parquet) is read, and which of its types can hold the field.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum ValueKind {
    /// An identifier (`partner_id`, `customer_tenant_id`, ...): text.
    Id,
    /// A name or other text (`workload`, `customer_name`, ...).
    Text,
    /// A calendar month (`YYYY-MM`).
    Month,
    /// A calendar date (`YYYY-MM-DD`).
    Date,
    /// A decimal number (`revenue_usd`, `quantity`, ...).
    Number,
}

impl ColumnSpec {
    /// What the column holds. Column names mean the same thing in every
    /// table, so the kind follows from the canonical name.
    pub fn kind(&self) -> ValueKind {
        kind_of_name(self.name).unwrap_or(ValueKind::Text)
    }
}

/// The kind of every column name of every table (a test checks that none
/// is missing, so a new column is classified on purpose).
fn kind_of_name(name: &str) -> Option<ValueKind> {
    Some(match name {
        "partner_id" | "customer_tenant_id" | "subscription_id" | "person_id" => ValueKind::Id,
        "month" => ValueKind::Month,
        "earned_on" | "expires_on" | "anniversary_date" | "associated_on" => ValueKind::Date,
        "revenue_usd" | "quantity" | "acr_usd" | "paid_seats" | "active_users" => ValueKind::Number,
        "customer_name" | "workload" | "association" | "channel" | "person_name"
        | "certification" | "name" | "service" | "offer" => ValueKind::Text,
        _ => return None,
    })
}

/// The most columns any table has.
pub(crate) const MAX_COLUMNS: usize = 9;

/// Column indices into [`columns`] for each table.
pub(crate) mod col {
    pub const R_PARTNER: usize = 0;
    pub const R_TENANT: usize = 1;
    pub const R_CUSTOMER: usize = 2;
    pub const R_SUBSCRIPTION: usize = 3;
    pub const R_WORKLOAD: usize = 4;
    pub const R_MONTH: usize = 5;
    pub const R_REVENUE: usize = 6;
    pub const R_ASSOCIATION: usize = 7;

    pub const U_PARTNER: usize = 0;
    pub const U_TENANT: usize = 1;
    pub const U_CUSTOMER: usize = 2;
    pub const U_WORKLOAD: usize = 3;
    pub const U_MONTH: usize = 4;
    pub const U_QUANTITY: usize = 5;
    pub const U_ASSOCIATION: usize = 6;

    pub const C_PARTNER: usize = 0;
    pub const C_PERSON: usize = 1;
    pub const C_PERSON_NAME: usize = 2;
    pub const C_CERTIFICATION: usize = 3;
    pub const C_EARNED: usize = 4;
    pub const C_EXPIRES: usize = 5;

    pub const P_PARTNER: usize = 0;
    pub const P_NAME: usize = 1;
    pub const P_ANNIVERSARY: usize = 2;

    pub const A_PARTNER: usize = 0;
    pub const A_TENANT: usize = 1;
    pub const A_CUSTOMER: usize = 2;
    pub const A_SUBSCRIPTION: usize = 3;
    pub const A_SERVICE: usize = 4;
    pub const A_MONTH: usize = 5;
    pub const A_ACR: usize = 6;
    pub const A_ASSOCIATION: usize = 7;
    pub const A_OFFER: usize = 8;

    pub const L_PARTNER: usize = 0;
    pub const L_TENANT: usize = 1;
    pub const L_CUSTOMER: usize = 2;
    pub const L_WORKLOAD: usize = 3;
    pub const L_MONTH: usize = 4;
    pub const L_ASSOCIATION: usize = 5;
    pub const L_PAID: usize = 6;
    pub const L_ACTIVE: usize = 7;
    pub const L_ASSOCIATED_ON: usize = 8;
}

const REVENUE: &[ColumnSpec] = &[
    req("partner_id"),
    req("customer_tenant_id"),
    opt("customer_name"),
    opt("subscription_id"),
    req("workload"),
    req("month"),
    req("revenue_usd"),
    req("association"),
    opt("channel"),
];
const USAGE: &[ColumnSpec] = &[
    req("partner_id"),
    req("customer_tenant_id"),
    opt("customer_name"),
    req("workload"),
    req("month"),
    req("quantity"),
    req("association"),
];
const CERTIFICATIONS: &[ColumnSpec] = &[
    req("partner_id"),
    req("person_id"),
    opt("person_name"),
    req("certification"),
    req("earned_on"),
    opt("expires_on"),
];
const PARTNERS: &[ColumnSpec] = &[req("partner_id"), opt("name"), opt("anniversary_date")];
const ACR: &[ColumnSpec] = &[
    req("partner_id"),
    req("customer_tenant_id"),
    opt("customer_name"),
    opt("subscription_id"),
    req("service"),
    req("month"),
    req("acr_usd"),
    req("association"),
    opt("offer"),
];
const LICENSES: &[ColumnSpec] = &[
    req("partner_id"),
    req("customer_tenant_id"),
    opt("customer_name"),
    req("workload"),
    req("month"),
    req("association"),
    req("paid_seats"),
    req("active_users"),
    opt("associated_on"),
];

/// Whether a column holds free text (a name), where a line break may stand.
pub(crate) fn is_free_text(column: &str) -> bool {
    matches!(column, "customer_name" | "person_name" | "name")
}

/// The columns of a table, as interface.md lists them.
pub fn columns(table: Table) -> &'static [ColumnSpec] {
    match table {
        Table::Revenue => REVENUE,
        Table::Usage => USAGE,
        Table::Certifications => CERTIFICATIONS,
        Table::Partners => PARTNERS,
        Table::Acr => ACR,
        Table::Licenses => LICENSES,
    }
}

/// How a file's header maps to a table's columns.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HeaderMap {
    /// For each column of the table, the 0-based index in the file, if present.
    pub index: Vec<Option<usize>>,
    /// The header as written, for messages.
    pub names: Vec<String>,
}

/// Why a header does not fit its table.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum HeaderProblem {
    /// Required columns are missing.
    Missing(Vec<&'static str>),
    /// Two file columns (0-based) mean the same table column.
    Duplicate {
        /// The table column.
        column: &'static str,
        /// First file column.
        first: usize,
        /// Second file column.
        second: usize,
    },
}

impl HeaderProblem {
    /// What is wrong, for people: `header` is the file's column names and
    /// `listed` how the message names them ("header" in a CSV file).
    pub fn describe<S: AsRef<str>>(&self, table: Table, header: &[S], listed: &str) -> String {
        match self {
            HeaderProblem::Missing(cols) => format!(
                "missing required column{} {} in the {} table ({listed}: {})",
                if cols.len() > 1 { "s" } else { "" },
                cols.iter()
                    .map(|c| format!("'{c}'"))
                    .collect::<Vec<_>>()
                    .join(", "),
                table.name(),
                header
                    .iter()
                    .map(AsRef::as_ref)
                    .collect::<Vec<_>>()
                    .join(",")
            ),
            HeaderProblem::Duplicate {
                column,
                first,
                second,
            } => format!(
                "columns {} and {} both mean '{column}'",
                first + 1,
                second + 1
            ),
        }
    }
}

/// Matches a header against a table's columns: case-insensitive, with ' ',
/// '_' and '-' alike; extra columns are ignored.
pub fn match_header<S: AsRef<str>>(table: Table, header: &[S]) -> Result<HeaderMap, HeaderProblem> {
    let specs = columns(table);
    let mut index = vec![None; specs.len()];
    let keys: Vec<String> = specs.iter().map(|s| normalize(s.name)).collect();
    for (i, h) in header.iter().enumerate() {
        let key = normalize(h.as_ref().trim_start_matches('\u{feff}'));
        if let Some(c) = keys.iter().position(|k| *k == key) {
            if let Some(first) = index[c] {
                return Err(HeaderProblem::Duplicate {
                    column: specs[c].name,
                    first,
                    second: i,
                });
            }
            index[c] = Some(i);
        }
    }
    let missing: Vec<&'static str> = specs
        .iter()
        .zip(&index)
        .filter(|(s, i)| s.required && i.is_none())
        .map(|(s, _)| s.name)
        .collect();
    if !missing.is_empty() {
        return Err(HeaderProblem::Missing(missing));
    }
    Ok(HeaderMap {
        index,
        names: header.iter().map(|h| h.as_ref().to_string()).collect(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn odd_spellings_match() {
        let h = [
            "PARTNER-ID",
            "Customer Tenant ID",
            "extra",
            "Workload",
            "MONTH",
            "revenue_USD",
            "Association",
        ];
        let m = match_header(Table::Revenue, &h).unwrap();
        assert_eq!(m.index[col::R_PARTNER], Some(0));
        assert_eq!(m.index[col::R_TENANT], Some(1));
        assert_eq!(m.index[col::R_REVENUE], Some(5));
        assert_eq!(m.index[col::R_CUSTOMER], None);
    }

    #[test]
    fn missing_and_duplicate_columns_are_reported() {
        let h = ["partner_id", "month"];
        assert_eq!(
            match_header(Table::Usage, &h),
            Err(HeaderProblem::Missing(vec![
                "customer_tenant_id",
                "workload",
                "quantity",
                "association"
            ]))
        );
        let h = ["partner_id", "Partner ID", "name"];
        assert!(matches!(
            match_header(Table::Partners, &h),
            Err(HeaderProblem::Duplicate {
                column: "partner_id",
                first: 0,
                second: 1
            })
        ));
    }

    #[test]
    fn the_new_tables_match_odd_headers() {
        let h = [
            "PartnerId",
            "Customer Tenant ID",
            "Service",
            "Month",
            "ACR_USD",
            "Association",
            "offer",
        ];
        // "PartnerId" is not partner_id (no separator): a missing column.
        assert_eq!(
            match_header(Table::Acr, &h),
            Err(HeaderProblem::Missing(vec!["partner_id"]))
        );
        let h = [
            "partner-id",
            "CUSTOMER_TENANT_ID",
            "Workload",
            "month",
            "Association",
            "Paid Seats",
            "active users",
            "Associated On",
        ];
        let m = match_header(Table::Licenses, &h).unwrap();
        assert_eq!(m.index[col::L_PAID], Some(5));
        assert_eq!(m.index[col::L_ASSOCIATED_ON], Some(7));
        assert_eq!(m.index[col::L_CUSTOMER], None);
    }

    #[test]
    fn every_column_has_a_kind() {
        for t in Table::ALL {
            for c in columns(t) {
                assert!(kind_of_name(c.name).is_some(), "{}: {}", t.name(), c.name);
            }
        }
        let kind = |t, c: usize| columns(t)[c].kind();
        assert_eq!(kind(Table::Revenue, col::R_PARTNER), ValueKind::Id);
        assert_eq!(kind(Table::Revenue, col::R_MONTH), ValueKind::Month);
        assert_eq!(kind(Table::Revenue, col::R_REVENUE), ValueKind::Number);
        assert_eq!(kind(Table::Usage, col::U_QUANTITY), ValueKind::Number);
        assert_eq!(kind(Table::Certifications, col::C_EARNED), ValueKind::Date);
        assert_eq!(kind(Table::Partners, col::P_ANNIVERSARY), ValueKind::Date);
        assert_eq!(kind(Table::Partners, col::P_NAME), ValueKind::Text);
    }

    #[test]
    fn a_byte_order_mark_is_ignored() {
        let h = ["\u{feff}partner_id"];
        assert!(match_header(Table::Partners, &h).is_ok());
    }
}
