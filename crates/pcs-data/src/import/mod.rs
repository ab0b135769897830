//! Importing another system's reports into a pcs dataset: `pcs import
//! partner-center SRC DST`.
//!
//! A [`Mapping`] (TOML data; the built-in one is
//! [`Mapping::partner_center`]) says which file holds which report and how
//! each report's columns and values become a pcs table's. [`import`] reads
//! every report file of a directory (CSV or `.xlsx`), checks every value it
//! writes as `pcs score` would (an error names the file, the line or cell,
//! the report's column and the value as written), drops the rows flagged as
//! duplicates of the partner global account, rolls location-level partner
//! ids up to their global account (from the profile report), and writes the
//! tables into DST atomically (a staged directory renamed into place).
//! Files are read in name order and rows in file order, so the same reports
//! always give the same files.
//!
//! ```
//! use pcs_data::import::{Mapping, import};
//! let src = tempfile::tempdir()?;
//! std::fs::write(src.path().join("Profile.csv"),
//!     "MPNId,PartnerName,PGA_MPNId,PGA_PartnerName,City,Country,HierarchyLevel\n\
//!      1000001,Contoso,1000001,Contoso,Seattle,US,Global\n\
//!      4000001,Contoso Munich,1000001,Contoso,Munich,DE,Location\n")?;
//! std::fs::write(src.path().join("PowerBIUsage.csv"),
//!     "MPNId,CustomerTenantId,CustomerName,Month,PartnerAttachType,ActiveSeats\n\
//!      4000001,t-1,Fabrikam,Oct-2023,PAL,40\n")?;
//! let out = tempfile::tempdir()?;
//! let dst = out.path().join("dataset");
//! let summary = import(src.path(), &dst, &Mapping::partner_center(), false)?;
//! assert_eq!(summary.reports[1].rolled_up, 1);
//! assert_eq!(
//!     std::fs::read_to_string(dst.join("usage.csv"))?,
//!     "partner_id,customer_tenant_id,customer_name,workload,month,quantity,association\n\
//!      1000001,t-1,Fabrikam,Power BI,2023-10,40,PAL\n"
//! );
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

pub mod mapping;
mod source;
mod values;

use std::collections::BTreeMap;
use std::fmt;
use std::fs::File;
use std::io::BufWriter;
use std::path::{Path, PathBuf};

use pcs_core::name::normalize;

pub use mapping::{Mapping, MappingError, Output, PARTNER_CENTER, Report, Source};

use crate::error::{DataError, ErrorKind};
use crate::write::StagedDataset;
use crate::xlsx_table::Kind;
use source::{RowSink, RowView};

/// What an import did with one report file.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ReportSummary {
    /// The report's name.
    pub report: String,
    /// The file.
    pub file: PathBuf,
    /// The pcs tables it fills.
    pub tables: Vec<String>,
    /// Data rows read.
    pub rows: u64,
    /// Rows that gave at least one pcs row.
    pub kept: u64,
    /// Rows dropped as duplicates of the partner global account.
    pub duplicates: u64,
    /// Rows dropped by the mapping's values: (pcs column, value as written) → rows.
    pub dropped: BTreeMap<(String, String), u64>,
    /// Kept rows whose partner id was rolled up to its global account.
    pub rolled_up: u64,
    /// Values that the mapping does not list, kept as written:
    /// (pcs column, value) → rows.
    pub unmapped: BTreeMap<(String, String), u64>,
    /// Optional pcs columns whose report column the file does not have
    /// (left empty): (pcs column, report column names).
    pub absent: Vec<(String, Vec<String>)>,
    /// Report columns that nothing reads.
    pub unused: Vec<String>,
    /// Profile only: global accounts (written as partners).
    pub global_accounts: u64,
    /// Profile only: location ids that roll up to a global account.
    pub locations: u64,
}

/// What an import did.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ImportSummary {
    /// One entry per report file read, in the order read.
    pub reports: Vec<ReportSummary>,
    /// Files of the source directory that hold no known report.
    pub unknown_files: Vec<PathBuf>,
    /// The tables written and their rows, in file name order.
    pub tables: Vec<(String, u64)>,
    /// The dataset directory written.
    pub destination: PathBuf,
}

fn plural(n: u64, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

impl fmt::Display for ImportSummary {
    /// The summary `pcs import` prints: per report what was kept, dropped,
    /// rolled up and not mapped; the files not read; the tables written.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for r in &self.reports {
            let name = r
                .file
                .file_name()
                .map(|n| n.to_string_lossy())
                .unwrap_or_default();
            write!(
                f,
                "{name}: {} → {}: {}",
                r.report,
                r.tables.join(", "),
                plural(r.rows, "row", "rows")
            )?;
            if r.global_accounts > 0 || r.locations > 0 {
                write!(
                    f,
                    ", {}, {} rolled up to their global account",
                    plural(r.global_accounts, "global account", "global accounts"),
                    plural(r.locations, "location id", "location ids")
                )?;
            } else {
                write!(f, ", {} kept", r.kept)?;
                if r.duplicates > 0 {
                    write!(
                        f,
                        ", {} dropped as duplicates of the global account",
                        r.duplicates
                    )?;
                }
                let dropped: u64 = r.dropped.values().sum();
                if dropped > 0 {
                    write!(f, ", {dropped} dropped by the mapping")?;
                }
                if r.rolled_up > 0 {
                    write!(f, ", {} rolled up to the global account", r.rolled_up)?;
                }
            }
            writeln!(f)?;
            for ((column, value), n) in &r.dropped {
                writeln!(
                    f,
                    "  dropped: {column} '{value}' ({})",
                    plural(*n, "row", "rows")
                )?;
            }
            for ((column, value), n) in &r.unmapped {
                writeln!(
                    f,
                    "  not in the mapping, kept as written: {column} '{value}' ({})",
                    plural(*n, "row", "rows")
                )?;
            }
            for (column, names) in &r.absent {
                writeln!(
                    f,
                    "  no column {} in the file: {column} left empty",
                    names.join(" or ")
                )?;
            }
            if !r.unused.is_empty() {
                writeln!(f, "  columns not read: {}", r.unused.join(", "))?;
            }
        }
        for file in &self.unknown_files {
            let name = file
                .file_name()
                .map(|n| n.to_string_lossy())
                .unwrap_or_default();
            writeln!(f, "{name}: not a known report, not read")?;
        }
        let tables: Vec<String> = self
            .tables
            .iter()
            .map(|(t, n)| format!("{t}.csv ({})", plural(*n, "row", "rows")))
            .collect();
        writeln!(
            f,
            "wrote {}: {}",
            self.destination.display(),
            tables.join(", ")
        )
    }
}

/// Reads every report in `src` by `mapping` and writes the pcs dataset
/// `dst` (replaced only with `force`). Nothing appears at `dst` unless every
/// report reads without error.
pub fn import(
    src: &Path,
    dst: &Path,
    mapping: &Mapping,
    force: bool,
) -> Result<ImportSummary, DataError> {
    let entries = std::fs::read_dir(src).map_err(|e| {
        DataError::new(
            ErrorKind::Io,
            src,
            format!("cannot read the report directory: {e}"),
        )
    })?;
    let mut files = Vec::new();
    for entry in entries {
        let entry = entry.map_err(|e| DataError::new(ErrorKind::Io, src, e.to_string()))?;
        let name = entry.file_name().to_string_lossy().into_owned();
        if name.starts_with('.') {
            continue;
        }
        files.push(entry.path());
    }
    files.sort();
    let mut known: Vec<(&Report, PathBuf)> = Vec::new();
    let mut summary = ImportSummary {
        destination: dst.to_path_buf(),
        ..ImportSummary::default()
    };
    for path in files {
        let stem = path.file_stem().map(|s| s.to_string_lossy().into_owned());
        match stem.as_deref().and_then(|s| mapping.report_for(s)) {
            Some(r) if path.is_file() && source::is_readable(&path) => known.push((r, path)),
            _ => summary.unknown_files.push(path),
        }
    }
    if known.is_empty() {
        let names: Vec<&str> = mapping.reports.iter().map(|r| r.name.as_str()).collect();
        return Err(DataError::new(
            ErrorKind::Layout,
            src,
            format!(
                "no report found (the mapping '{}' knows {}, as .csv or .xlsx)",
                mapping.name,
                names.join(", ")
            ),
        ));
    }
    // The profile first: the roll-up must be known before any other row.
    known.sort_by_key(|(r, _)| !r.is_profile());
    let staged = StagedDataset::new(dst, force)
        .map_err(|e| DataError::new(ErrorKind::Io, dst, e.to_string()))?;
    let mut out = Tables::new(staged.path());
    let mut profile = Profile::default();
    for (report, path) in &known {
        let mut sink = ReportSink::new(mapping, report, &mut profile, &mut out, path);
        let rows = source::read(path, &report.name, &mut sink)?;
        let mut s = sink.summary;
        s.rows = rows;
        summary.reports.push(s);
    }
    if known.iter().any(|(r, _)| r.is_profile()) {
        let path = staged.path().join("partners.csv");
        let w = out.writer("partners")?;
        for (id, name) in &profile.partners {
            w.write(&[id, name, ""]).map_err(|e| csv_error(&path, e))?;
        }
    }
    summary.tables = out.finish()?;
    staged
        .commit()
        .map_err(|e| DataError::new(ErrorKind::Io, dst, e.to_string()))?;
    Ok(summary)
}

fn csv_error(path: &Path, e: csv::Error) -> DataError {
    DataError::new(ErrorKind::Io, path, format!("cannot write: {e}"))
}

/// The profile's findings: global accounts and location roll-ups.
#[derive(Default)]
struct Profile {
    /// Global account id → name.
    partners: BTreeMap<String, String>,
    /// Location id → global account id.
    roll_up: BTreeMap<String, String>,
}

/// One output CSV table being written, and its rows.
struct TableOut {
    path: PathBuf,
    writer: csv::Writer<BufWriter<File>>,
    rows: u64,
}

impl TableOut {
    fn write<S: AsRef<[u8]>>(&mut self, values: &[S]) -> Result<(), csv::Error> {
        self.writer.write_record(values)?;
        self.rows += 1;
        Ok(())
    }
}

/// The output tables, opened on first use.
struct Tables {
    dir: PathBuf,
    open: BTreeMap<String, TableOut>,
}

impl Tables {
    fn new(dir: &Path) -> Tables {
        Tables {
            dir: dir.to_path_buf(),
            open: BTreeMap::new(),
        }
    }

    fn writer(&mut self, table: &str) -> Result<&mut TableOut, DataError> {
        if !self.open.contains_key(table) {
            let path = self.dir.join(format!("{table}.csv"));
            let file = File::create(&path)
                .map_err(|e| DataError::new(ErrorKind::Io, &path, e.to_string()))?;
            let mut writer = csv::Writer::from_writer(BufWriter::new(file));
            let columns = mapping::table_columns(table).expect("a pcs table");
            writer
                .write_record(columns.iter().map(|c| c.name))
                .map_err(|e| csv_error(&path, e))?;
            self.open.insert(
                table.to_string(),
                TableOut {
                    path,
                    writer,
                    rows: 0,
                },
            );
        }
        Ok(self.open.get_mut(table).expect("just opened"))
    }

    fn finish(self) -> Result<Vec<(String, u64)>, DataError> {
        let mut done = Vec::new();
        for (name, t) in self.open {
            let file = t
                .writer
                .into_inner()
                .map_err(|e| DataError::new(ErrorKind::Io, &t.path, e.to_string()))?
                .into_inner()
                .map_err(|e| DataError::new(ErrorKind::Io, &t.path, e.to_string()))?;
            file.sync_all()
                .map_err(|e| DataError::new(ErrorKind::Io, &t.path, e.to_string()))?;
            done.push((name, t.rows));
        }
        Ok(done)
    }
}

/// A pcs column resolved against a file's header.
#[derive(Clone, Debug)]
enum Resolved {
    /// Report column index, and value map name.
    Cell(usize, Option<String>),
    /// The same text in every row.
    Constant(String),
    /// An optional column the file does not have.
    Empty,
}

/// Reads one report file into the output tables (or the profile).
struct ReportSink<'m, 'o> {
    mapping: &'m Mapping,
    report: &'m Report,
    profile: &'o mut Profile,
    out: &'o mut Tables,
    path: PathBuf,
    /// Per output: its pcs columns, resolved.
    columns: Vec<Vec<(&'static str, bool, Resolved)>>,
    duplicate: Option<usize>,
    summary: ReportSummary,
    values: Vec<String>,
}

impl<'m, 'o> ReportSink<'m, 'o> {
    fn new(
        mapping: &'m Mapping,
        report: &'m Report,
        profile: &'o mut Profile,
        out: &'o mut Tables,
        path: &Path,
    ) -> Self {
        let mut tables: Vec<String> = report.outputs.iter().map(|o| o.table.clone()).collect();
        tables.dedup();
        ReportSink {
            mapping,
            report,
            profile,
            out,
            path: path.to_path_buf(),
            columns: Vec::new(),
            duplicate: None,
            summary: ReportSummary {
                report: report.name.clone(),
                file: path.to_path_buf(),
                tables,
                ..ReportSummary::default()
            },
            values: Vec::new(),
        }
    }

    /// The value of one pcs column of a row, checked, and whether the
    /// mapping drops the row. `None`: dropped.
    fn value(
        &mut self,
        row: &RowView<'_, '_>,
        column: &'static str,
        required: bool,
        how: &Resolved,
    ) -> Result<Option<String>, DataError> {
        let (text, cell) = match how {
            Resolved::Empty => (String::new(), None),
            Resolved::Constant(v) => (v.clone(), None),
            Resolved::Cell(i, map) => {
                let raw = row.text(*i, Kind::of(column))?;
                let raw = raw.trim().to_string();
                let mapped = match map {
                    Some(m) if !raw.is_empty() => {
                        match self.mapping.values[m].get(&normalize(&raw)) {
                            Some(v) if v.is_empty() => {
                                *self
                                    .summary
                                    .dropped
                                    .entry((column.to_string(), raw))
                                    .or_default() += 1;
                                return Ok(None);
                            }
                            Some(v) => v.clone(),
                            None => {
                                *self
                                    .summary
                                    .unmapped
                                    .entry((column.to_string(), raw.clone()))
                                    .or_default() += 1;
                                raw.clone()
                            }
                        }
                    }
                    _ => raw.clone(),
                };
                (mapped, Some((*i, raw)))
            }
        };
        let fail = |message: &str| match &cell {
            Some((i, raw)) => row.error(*i, raw, format!("{message} (for {column})")),
            None => row.row_error(
                ErrorKind::Value,
                format!("{column}: the mapping's value '{text}': {message}"),
            ),
        };
        if text.is_empty() {
            if required {
                let what = if Kind::of(column) == Kind::Id {
                    "empty id"
                } else {
                    "empty value in a required column"
                };
                return Err(fail(what));
            }
            return Ok(Some(text));
        }
        let checked = match column {
            "month" => values::month(&text)
                .ok_or("not a month (2023-10, 2023-10-01, an ISO timestamp or Oct-2023)"),
            "earned_on" | "expires_on" | "anniversary_date" | "associated_on" => {
                values::date(&text)
            }
            "revenue_usd" | "acr_usd" => values::amount(&text),
            "quantity" => values::quantity(&text),
            "paid_seats" | "active_users" => values::count(&text),
            _ => Ok(text.clone()),
        };
        checked.map(Some).map_err(fail)
    }
}

fn header_error(row: &RowView<'_, '_>, report: &str, message: String) -> DataError {
    row.row_error(ErrorKind::Header, format!("the {report} report: {message}"))
}

impl RowSink for ReportSink<'_, '_> {
    fn header(&mut self, names: &[String], row: &RowView<'_, '_>) -> Result<(), DataError> {
        let keys: Vec<String> = names.iter().map(|n| normalize(n)).collect();
        let find = |alternatives: &[String]| {
            alternatives
                .iter()
                .find_map(|a| keys.iter().position(|k| *k == normalize(a)))
        };
        let mut used = vec![false; names.len()];
        if let Some(alternatives) = &self.report.duplicate {
            let Some(i) = find(alternatives) else {
                return Err(header_error(
                    row,
                    &self.report.name,
                    format!(
                        "no column {} (the duplicate-row flag); the header has {}",
                        alternatives.join(" or "),
                        names.join(",")
                    ),
                ));
            };
            used[i] = true;
            self.duplicate = Some(i);
        }
        for output in &self.report.outputs {
            let specs = mapping::table_columns(&output.table).expect("a pcs table");
            let mut resolved = Vec::new();
            for (column, source) in &output.columns {
                let required = specs.iter().any(|c| c.name == *column && c.required);
                let how = match source {
                    Source::Constant(v) => Resolved::Constant(v.clone()),
                    Source::Column {
                        names: alts,
                        values,
                    } => match find(alts) {
                        Some(i) => {
                            used[i] = true;
                            Resolved::Cell(i, values.clone())
                        }
                        None if required => {
                            return Err(header_error(
                                row,
                                &self.report.name,
                                format!(
                                    "no column {} (for the {} table's {column}); the header has {}",
                                    alts.join(" or "),
                                    output.table,
                                    names.join(",")
                                ),
                            ));
                        }
                        None => {
                            let entry = (column.to_string(), alts.clone());
                            if !self.summary.absent.contains(&entry) {
                                self.summary.absent.push(entry);
                            }
                            Resolved::Empty
                        }
                    },
                };
                resolved.push((*column, required, how));
            }
            self.columns.push(resolved);
        }
        self.summary.unused = names
            .iter()
            .zip(&used)
            .filter(|(n, u)| !**u && !n.trim().is_empty())
            .map(|(n, _)| n.clone())
            .collect();
        Ok(())
    }

    fn row(&mut self, row: &RowView<'_, '_>) -> Result<(), DataError> {
        if let Some(i) = self.duplicate {
            let flag = row.flag(i)?;
            let key = normalize(&flag);
            if self.mapping.duplicate_yes.contains(&key) {
                self.summary.duplicates += 1;
                return Ok(());
            }
            if !self.mapping.duplicate_no.contains(&key) {
                return Err(row.error(
                    i,
                    &flag,
                    "not a duplicate flag (the mapping's [duplicates] lists the values)",
                ));
            }
        }
        let columns = std::mem::take(&mut self.columns);
        let result = self.outputs(row, &columns);
        self.columns = columns;
        result
    }
}

impl ReportSink<'_, '_> {
    fn outputs(
        &mut self,
        row: &RowView<'_, '_>,
        columns: &[Vec<(&'static str, bool, Resolved)>],
    ) -> Result<(), DataError> {
        let report = self.report;
        let mut wrote = false;
        let mut rolled = false;
        for (output, resolved) in report.outputs.iter().zip(columns) {
            let specs = mapping::table_columns(&output.table).expect("a pcs table");
            let mut by_name: Vec<(&'static str, String)> = Vec::with_capacity(resolved.len());
            let mut dropped = false;
            for (column, required, how) in resolved {
                match self.value(row, column, *required, how)? {
                    Some(v) => by_name.push((column, v)),
                    None => {
                        dropped = true;
                        break;
                    }
                }
            }
            if dropped {
                continue;
            }
            let get = |name: &str| {
                by_name
                    .iter()
                    .find(|(c, _)| *c == name)
                    .map(|(_, v)| v.as_str())
                    .unwrap_or("")
            };
            if report.is_profile() {
                let id = get("partner_id").to_string();
                let global = match get("global_id") {
                    "" => id.clone(),
                    g => g.to_string(),
                };
                let name = match (get("global_name"), global == id) {
                    ("", true) => get("name").to_string(),
                    (n, _) => n.to_string(),
                };
                if global != id {
                    match self.profile.roll_up.get(&id) {
                        Some(g) if *g != global => {
                            return Err(row.row_error(
                                ErrorKind::Value,
                                format!(
                                    "partner {id} is given two global accounts: {g} and {global}"
                                ),
                            ));
                        }
                        Some(_) => {}
                        None => {
                            self.profile.roll_up.insert(id.clone(), global.clone());
                            self.summary.locations += 1;
                        }
                    }
                }
                let entry = self.profile.partners.entry(global).or_insert_with(|| {
                    self.summary.global_accounts += 1;
                    String::new()
                });
                if entry.is_empty() {
                    *entry = name;
                }
                wrote = true;
                continue;
            }
            self.values.clear();
            for spec in specs {
                let column = spec.name;
                let mut v = get(column).to_string();
                if column == "partner_id"
                    && let Some(global) = self.profile.roll_up.get(&v)
                {
                    v = global.clone();
                    rolled = true;
                }
                self.values.push(v);
            }
            let path = self.path.clone();
            self.out
                .writer(&output.table)?
                .write(&self.values)
                .map_err(|e| csv_error(&path, e))?;
            wrote = true;
        }
        if wrote {
            self.summary.kept += 1;
        }
        if rolled {
            self.summary.rolled_up += 1;
        }
        Ok(())
    }
}
