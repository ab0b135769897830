//! The mapping of an import: which files hold which report, and how each
//! report's columns and values become a pcs table's (TOML, see
//! `mappings/partner-center.toml` for the format and the defaults).

use std::collections::BTreeMap;

use pcs_core::facts::Table;
use pcs_core::name::normalize;
use serde::Deserialize;

use crate::schema::ColumnSpec;

/// The built-in mapping of Partner Center Insights' reports.
pub const PARTNER_CENTER: &str = include_str!("../../mappings/partner-center.toml");

/// The profile's columns beyond the partners table's.
pub(crate) const PROFILE_EXTRA: &[&str] = &["global_id", "global_name"];

/// The columns of pcs table `name`, if it is one: the schema's, in file
/// order (interface.md).
pub(crate) fn table_columns(name: &str) -> Option<&'static [ColumnSpec]> {
    Table::ALL
        .into_iter()
        .find(|t| t.name() == name)
        .map(crate::schema::columns)
}

/// A mapping that cannot be used, with what is wrong.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MappingError(pub String);

impl std::fmt::Display for MappingError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for MappingError {}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawMapping {
    format: u32,
    name: String,
    title: Option<String>,
    duplicates: RawDuplicates,
    #[serde(rename = "report")]
    reports: Vec<RawReport>,
    #[serde(default)]
    values: BTreeMap<String, BTreeMap<String, String>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawDuplicates {
    yes: Vec<String>,
    no: Vec<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawReport {
    name: String,
    files: Vec<String>,
    duplicate: Option<OneOrMany>,
    table: Option<String>,
    columns: Option<BTreeMap<String, RawColumn>>,
    #[serde(default)]
    output: Vec<RawOutput>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawOutput {
    table: String,
    columns: BTreeMap<String, RawColumn>,
}

#[derive(Deserialize, Clone)]
#[serde(untagged)]
enum OneOrMany {
    One(String),
    Many(Vec<String>),
}

impl OneOrMany {
    fn into_vec(self) -> Vec<String> {
        match self {
            OneOrMany::One(s) => vec![s],
            OneOrMany::Many(v) => v,
        }
    }
}

#[derive(Deserialize)]
#[serde(untagged)]
enum RawColumn {
    Column(OneOrMany),
    Spec(RawSpec),
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSpec {
    column: Option<OneOrMany>,
    values: Option<String>,
    value: Option<String>,
}

/// Where a pcs column's value comes from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Source {
    /// The first of these report columns that the file has, its values
    /// translated by the named value map, if any.
    Column {
        /// Report column names, in order of preference.
        names: Vec<String>,
        /// A value map of [`Mapping::values`].
        values: Option<String>,
    },
    /// The same text in every row.
    Constant(String),
}

/// One pcs table filled from a report: each pcs column and its source.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Output {
    /// The pcs table (`revenue`, `acr`, …).
    pub table: String,
    /// (pcs column, source), in the table's column order.
    pub columns: Vec<(&'static str, Source)>,
}

/// One report of the source system.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Report {
    /// Its name.
    pub name: String,
    /// File name patterns (without extension, normalised; `*` is a wildcard).
    pub files: Vec<String>,
    /// The duplicate-row flag column (alternatives), if the report has one.
    pub duplicate: Option<Vec<String>>,
    /// What each row becomes.
    pub outputs: Vec<Output>,
}

impl Report {
    /// Whether this report is the profile (partners with a global account).
    pub fn is_profile(&self) -> bool {
        self.outputs
            .iter()
            .any(|o| o.table == "partners" && o.columns.iter().any(|(c, _)| *c == "global_id"))
    }

    /// Whether the file stem `stem` holds this report.
    pub fn matches(&self, stem: &str) -> bool {
        let stem = normalize(stem);
        self.files.iter().any(|p| glob(p, &stem))
    }
}

/// `*` matches any run of characters; everything else itself.
fn glob(pattern: &str, text: &str) -> bool {
    let parts: Vec<&str> = pattern.split('*').collect();
    if parts.len() == 1 {
        return pattern == text;
    }
    let (first, last) = (parts[0], parts[parts.len() - 1]);
    if !text.starts_with(first) || text.len() < first.len() + last.len() || !text.ends_with(last) {
        return false;
    }
    let mut rest = &text[first.len()..text.len() - last.len()];
    for mid in &parts[1..parts.len() - 1] {
        match rest.find(mid) {
            Some(i) => rest = &rest[i + mid.len()..],
            None => return false,
        }
    }
    true
}

/// A validated mapping.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Mapping {
    /// Its name.
    pub name: String,
    /// A description.
    pub title: Option<String>,
    /// Normalised duplicate-flag values meaning "a duplicate".
    pub duplicate_yes: Vec<String>,
    /// Normalised duplicate-flag values meaning "not a duplicate".
    pub duplicate_no: Vec<String>,
    /// The reports, in the mapping's order.
    pub reports: Vec<Report>,
    /// Value maps: name → (normalised report value → pcs value; "" drops).
    pub values: BTreeMap<String, BTreeMap<String, String>>,
}

impl Mapping {
    /// The built-in mapping of Partner Center Insights' reports.
    pub fn partner_center() -> Mapping {
        Mapping::parse(PARTNER_CENTER).expect("the built-in mapping is valid")
    }

    /// Parses and checks a mapping (TOML).
    pub fn parse(text: &str) -> Result<Mapping, MappingError> {
        let raw: RawMapping = toml::from_str(text).map_err(|e| MappingError(e.to_string()))?;
        if raw.format != 1 {
            return Err(MappingError(format!(
                "mapping format {} is not known (this pcs reads format 1)",
                raw.format
            )));
        }
        let mut values = BTreeMap::new();
        for (name, map) in raw.values {
            let mut m = BTreeMap::new();
            for (k, v) in map {
                if let Some(old) = m.insert(normalize(&k), v.clone())
                    && old != v
                {
                    return Err(MappingError(format!(
                        "[values.{name}]: '{k}' is given twice (as '{old}' and '{v}')"
                    )));
                }
            }
            values.insert(name, m);
        }
        let mut reports = Vec::new();
        for r in raw.reports {
            let ctx = format!("report '{}'", r.name);
            if r.files.is_empty() {
                return Err(MappingError(format!("{ctx}: `files` is empty")));
            }
            let mut outputs = Vec::new();
            match (r.table, r.columns, r.output.is_empty()) {
                (Some(table), Some(columns), true) => {
                    outputs.push(output(&ctx, table, columns, &values)?);
                }
                (None, None, false) => {
                    for o in r.output {
                        outputs.push(output(&ctx, o.table, o.columns, &values)?);
                    }
                }
                _ => {
                    return Err(MappingError(format!(
                        "{ctx}: give either `table` and `columns`, or `[[report.output]]` entries"
                    )));
                }
            }
            reports.push(Report {
                name: r.name,
                files: r.files.iter().map(|f| normalize(f)).collect(),
                duplicate: r.duplicate.map(OneOrMany::into_vec),
                outputs,
            });
        }
        if reports.is_empty() {
            return Err(MappingError("the mapping has no report".into()));
        }
        Ok(Mapping {
            name: raw.name,
            title: raw.title,
            duplicate_yes: raw.duplicates.yes.iter().map(|v| normalize(v)).collect(),
            duplicate_no: raw.duplicates.no.iter().map(|v| normalize(v)).collect(),
            reports,
            values,
        })
    }

    /// The report held by a file with this stem (the first that matches).
    pub fn report_for(&self, stem: &str) -> Option<&Report> {
        self.reports.iter().find(|r| r.matches(stem))
    }
}

fn output(
    ctx: &str,
    table: String,
    columns: BTreeMap<String, RawColumn>,
    values: &BTreeMap<String, BTreeMap<String, String>>,
) -> Result<Output, MappingError> {
    let Some(specs) = table_columns(&table) else {
        return Err(MappingError(format!(
            "{ctx}: '{table}' is not a pcs table (revenue, usage, certifications, partners, acr, licenses)"
        )));
    };
    let mut raw = columns;
    let mut out = Vec::new();
    let extra: &[&'static str] = if table == "partners" {
        PROFILE_EXTRA
    } else {
        &[]
    };
    for (name, required) in specs
        .iter()
        .map(|c| (c.name, c.required))
        .chain(extra.iter().map(|n| (*n, false)))
    {
        let Some(col) = raw.remove(name) else {
            if required {
                return Err(MappingError(format!(
                    "{ctx}: the {table} table's required column '{name}' is not mapped"
                )));
            }
            continue;
        };
        let source = match col {
            RawColumn::Column(c) => Source::Column {
                names: c.into_vec(),
                values: None,
            },
            RawColumn::Spec(RawSpec {
                column: Some(c),
                values: v,
                value: None,
            }) => Source::Column {
                names: c.into_vec(),
                values: v,
            },
            RawColumn::Spec(RawSpec {
                column: None,
                values: None,
                value: Some(v),
            }) => Source::Constant(v),
            RawColumn::Spec(_) => {
                return Err(MappingError(format!(
                    "{ctx}: column '{name}': give `column` (with optional `values`) or `value`"
                )));
            }
        };
        if let Source::Column { names, values: v } = &source {
            if names.is_empty() {
                return Err(MappingError(format!(
                    "{ctx}: column '{name}' names no report column"
                )));
            }
            if let Some(v) = v
                && !values.contains_key(v)
            {
                return Err(MappingError(format!(
                    "{ctx}: column '{name}' uses [values.{v}], which the mapping does not have"
                )));
            }
        }
        out.push((name, source));
    }
    if let Some(unknown) = raw.keys().next() {
        return Err(MappingError(format!(
            "{ctx}: '{unknown}' is not a column of the {table} table"
        )));
    }
    Ok(Output {
        table,
        columns: out,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_built_in_mapping_is_valid() {
        let m = Mapping::partner_center();
        assert!(m.reports.iter().any(Report::is_profile));
        assert_eq!(
            m.report_for("AzureUsage_2023-11").unwrap().name,
            "AzureUsage"
        );
        assert_eq!(
            m.report_for("customers and tenants").unwrap().name,
            "CustomersAndTenants"
        );
        assert_eq!(
            m.report_for("certifications").unwrap().outputs[0].table,
            "certifications"
        );
        assert!(m.report_for("TeamsUsage3PApps").is_none());
        let ems = m.report_for("EMSUsage").unwrap();
        assert_eq!(ems.outputs.len(), 3);
    }

    #[test]
    fn globs() {
        assert!(glob("azureusage*", "azureusage"));
        assert!(glob("azureusage*", "azureusage_2023"));
        assert!(!glob("azureusage*", "myazureusage"));
        assert!(glob("*usage*", "myazureusage2"));
        assert!(glob("profile", "profile"));
        assert!(!glob("profile", "profiles"));
        assert!(!glob("a*a", "a"));
    }

    #[test]
    fn mistakes_are_named() {
        let base = "format = 1\nname = \"x\"\n[duplicates]\nyes = [\"1\"]\nno = [\"0\"]\n";
        let err = |extra: &str| Mapping::parse(&format!("{base}{extra}")).unwrap_err().0;
        assert!(
            err("[[report]]\nname = \"R\"\nfiles = [\"r\"]\ntable = \"sales\"\ncolumns = {}\n")
                .contains("'sales' is not a pcs table")
        );
        assert!(
            err("[[report]]\nname = \"R\"\nfiles = [\"r\"]\ntable = \"partners\"\ncolumns = {}\n")
                .contains("required column 'partner_id' is not mapped")
        );
        assert!(err("[[report]]\nname = \"R\"\nfiles = [\"r\"]\ntable = \"partners\"\n[report.columns]\npartner_id = \"Id\"\ncolour = \"C\"\n")
            .contains("'colour' is not a column of the partners table"));
        assert!(err("[[report]]\nname = \"R\"\nfiles = [\"r\"]\ntable = \"partners\"\n[report.columns]\npartner_id = { column = \"Id\", values = \"nope\" }\n")
            .contains("[values.nope]"));
        assert!(Mapping::parse("format = 2").is_err());
    }
}
