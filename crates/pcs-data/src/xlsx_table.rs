//! Streaming a table from an Excel workbook (`.xlsx`) into the facts builder.
//!
//! The sheet read is the one named after the table (`revenue`, names
//! matched like headers), else the workbook's first sheet. Cells are read
//! one at a time in file order ([`calamine`]'s cell reader) and each row is
//! fed to the same record validation as CSV and Parquet, so a value means
//! the same whatever file holds it.
//!
//! Excel keeps typed cells, and each is turned into the text pcs reads:
//!
//! - text as it is; a whole number as its digits (Excel stores an id typed
//!   as `1000001` as the number 1000001.0, which is read as `1000001`); a
//!   fraction as its shortest decimal text (`5900.5`), never through binary
//!   arithmetic; a number with a fraction in an id column is an error;
//! - a date cell (a serial number with a date format) as its calendar date,
//!   in a month column as its month (`2023-10`); a date with a time of day
//!   in a date column, or a duration, is an error;
//! - `TRUE`/`FALSE` and error cells (`#N/A`, `#REF!` …) are errors.
//!
//! Errors name the cell after the file: `revenue.xlsx!F12`, or
//! `revenue.xlsx!Sheet2!F12` when the sheet read is not the workbook's first
//! (quoted like Excel does, `'Umsatz 2023'!F12`, when the name has anything
//! but letters, digits and `_`); a header problem names the whole row
//! (`revenue.xlsx!1:1`). The value is shown as Excel shows it.

use std::fs::File;
use std::io::BufReader;
use std::path::Path;

use calamine::{DataRef, Reader, Xlsx, XlsxError, open_workbook};
use pcs_core::facts::{FactsBuilder, Table};
use pcs_core::name::normalize;

use crate::Progress;
use crate::error::{DataError, ErrorKind};
use crate::record::{Loc, feed};
use crate::schema::{HeaderMap, HeaderProblem, MAX_COLUMNS, columns, match_header};

/// What a column holds, which decides how a typed cell becomes text.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Kind {
    /// An identifier: a number must be whole.
    Id,
    /// `YYYY-MM`: a date cell gives its month.
    Month,
    /// `YYYY-MM-DD`: a date cell gives its date, and must have no time of day.
    Date,
    /// A decimal number.
    Number,
    /// Any other text.
    Text,
}

impl Kind {
    /// The kind of a pcs column, by its canonical name.
    pub(crate) fn of(column: &str) -> Kind {
        match column {
            "month" => Kind::Month,
            "earned_on" | "expires_on" | "anniversary_date" | "associated_on" => Kind::Date,
            "revenue_usd" | "quantity" | "acr_usd" | "paid_seats" | "active_users" => Kind::Number,
            c if c.ends_with("_id") => Kind::Id,
            _ => Kind::Text,
        }
    }
}

/// Why a cell cannot be read as text of its column's kind: the value as
/// Excel shows it, and what is wrong.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct CellProblem {
    /// The cell's value as Excel shows it.
    pub value: String,
    /// What is wrong.
    pub message: &'static str,
}

/// Shortest decimal text of a finite float (Rust's `Display`, which never
/// uses an exponent and round-trips).
fn float_text(f: f64) -> String {
    format!("{f}")
}

/// `(year, month, day, has_time)` of an Excel date cell.
fn ymd(dt: &calamine::ExcelDateTime) -> (u16, u8, u8, bool) {
    let (y, m, d, h, mi, s, ms) = dt.to_ymd_hms_milli();
    (y, m, d, (h, mi, s, ms) != (0, 0, 0, 0))
}

fn date_text(dt: &calamine::ExcelDateTime) -> String {
    let (y, m, d, h, mi, s, ms) = dt.to_ymd_hms_milli();
    if (h, mi, s, ms) == (0, 0, 0, 0) {
        format!("{y:04}-{m:02}-{d:02}")
    } else if ms == 0 {
        format!("{y:04}-{m:02}-{d:02} {h:02}:{mi:02}:{s:02}")
    } else {
        format!("{y:04}-{m:02}-{d:02} {h:02}:{mi:02}:{s:02}.{ms:03}")
    }
}

/// The text pcs reads for a cell of a column of `kind` (empty for an empty
/// cell), or why there is none.
pub(crate) fn cell_text(cell: &DataRef<'_>, kind: Kind) -> Result<String, CellProblem> {
    let problem = |value: String, message| Err(CellProblem { value, message });
    match cell {
        DataRef::Empty => Ok(String::new()),
        DataRef::String(s) => Ok(s.clone()),
        DataRef::SharedString(s) => Ok((*s).to_string()),
        DataRef::Int(i) => Ok(i.to_string()),
        DataRef::Float(f) => {
            let text = float_text(*f);
            if kind == Kind::Id && f.fract() != 0.0 {
                return problem(text, "a number with a fraction in an id column");
            }
            Ok(text)
        }
        DataRef::DateTime(dt) if dt.is_duration() => problem(
            float_text(dt.as_f64()),
            "a duration, not a value of this column",
        ),
        DataRef::DateTime(dt) => match kind {
            Kind::Month => {
                let (y, m, _, _) = ymd(dt);
                Ok(format!("{y:04}-{m:02}"))
            }
            Kind::Date => {
                let (_, _, _, has_time) = ymd(dt);
                if has_time {
                    return problem(date_text(dt), "a date with a time of day (expected a date)");
                }
                Ok(date_text(dt))
            }
            Kind::Number => problem(date_text(dt), "a date where a number is expected"),
            Kind::Id | Kind::Text => problem(date_text(dt), "a date where text is expected"),
        },
        DataRef::DateTimeIso(s) => Ok(s.clone()),
        DataRef::DurationIso(s) => problem(s.clone(), "a duration, not a value of this column"),
        DataRef::Bool(b) => problem(
            if *b { "TRUE" } else { "FALSE" }.to_string(),
            "a TRUE/FALSE cell, not a value of this column",
        ),
        DataRef::Error(e) => problem(e.to_string(), "an error cell"),
    }
}

/// `A`, `B`, … `Z`, `AA`, … for a 0-based column.
pub(crate) fn column_letters(mut col: u32) -> String {
    let mut out = Vec::new();
    loop {
        out.push(b'A' + (col % 26) as u8);
        if col < 26 {
            break;
        }
        col = col / 26 - 1;
    }
    out.reverse();
    String::from_utf8(out).expect("ASCII")
}

/// Which sheet of a workbook is read, and how errors name its cells.
#[derive(Clone, Debug)]
pub(crate) struct SheetPlace {
    /// The sheet's name.
    pub name: String,
    /// The prefix of a cell reference: empty for the first sheet,
    /// `Sheet2!` (quoted when needed) for another.
    prefix: String,
}

impl SheetPlace {
    /// The reference of the cell at 0-based `row` and `col`: `F12`.
    pub(crate) fn cell(&self, row: u32, col: u32) -> String {
        format!("{}{}{}", self.prefix, column_letters(col), row + 1)
    }

    /// The reference of a whole 0-based row: `1:1`.
    pub(crate) fn row(&self, row: u32) -> String {
        format!("{}{}:{}", self.prefix, row + 1, row + 1)
    }
}

/// Picks the sheet named like `wanted` (names normalised as headers are),
/// else the first sheet.
pub(crate) fn pick_sheet(names: &[String], wanted: &str) -> Option<SheetPlace> {
    let key = normalize(wanted);
    let index = names.iter().position(|n| normalize(n) == key).unwrap_or(0);
    let name = names.get(index)?.clone();
    let prefix = if index == 0 {
        String::new()
    } else if name.chars().all(|c| c.is_alphanumeric() || c == '_') {
        format!("{name}!")
    } else {
        format!("'{}'!", name.replace('\'', "''"))
    };
    Some(SheetPlace { name, prefix })
}

fn xlsx_error(path: &Path, e: XlsxError) -> DataError {
    DataError::new(
        ErrorKind::Format,
        path,
        format!("not a readable Excel workbook (.xlsx): {e}"),
    )
}

/// One non-empty row of a sheet: its 0-based number and its cells by
/// 0-based column (missing cells are [`DataRef::Empty`]).
pub(crate) struct Row<'r, 'a> {
    /// 0-based row number in the sheet.
    pub number: u32,
    /// The cells, indexed by 0-based column.
    pub cells: &'r [DataRef<'a>],
}

/// Streams the non-empty rows of the sheet picked for `wanted` in the
/// workbook at `path` to `f`, in order (the first is the header). Returns
/// the sheet's place.
pub(crate) fn for_each_row(
    path: &Path,
    wanted: &str,
    mut f: impl FnMut(&SheetPlace, Row<'_, '_>) -> Result<(), DataError>,
) -> Result<SheetPlace, DataError> {
    let mut workbook: Xlsx<BufReader<File>> = open_workbook(path).map_err(|e| match e {
        XlsxError::Io(io) => DataError::new(ErrorKind::Io, path, io.to_string()),
        e => xlsx_error(path, e),
    })?;
    let names = workbook.sheet_names();
    let Some(place) = pick_sheet(&names, wanted) else {
        return Err(DataError::new(
            ErrorKind::Format,
            path,
            "the workbook has no sheet",
        ));
    };
    let mut reader = workbook
        .worksheet_cells_reader(&place.name)
        .map_err(|e| xlsx_error(path, e))?;
    let mut cells: Vec<DataRef<'_>> = Vec::new();
    let mut current: Option<u32> = None;
    let flush = |row: u32,
                 cells: &mut Vec<DataRef<'_>>,
                 f: &mut dyn FnMut(&SheetPlace, Row<'_, '_>) -> Result<(), DataError>|
     -> Result<(), DataError> {
        if cells.iter().any(|c| !matches!(c, DataRef::Empty)) {
            f(
                &place,
                Row {
                    number: row,
                    cells: cells.as_slice(),
                },
            )?;
        }
        cells.clear();
        Ok(())
    };
    while let Some(cell) = reader.next_cell().map_err(|e| xlsx_error(path, e))? {
        let (row, col) = cell.get_position();
        if current != Some(row) {
            if let Some(r) = current {
                flush(r, &mut cells, &mut f)?;
            }
            current = Some(row);
        }
        let col = col as usize;
        if cells.len() <= col {
            cells.resize(col + 1, DataRef::Empty);
        }
        cells[col] = cell.get_value().clone();
    }
    if let Some(r) = current {
        flush(r, &mut cells, &mut f)?;
    }
    Ok(place)
}

/// The header names of a row, as text (a number or date header is written
/// as it would be in CSV).
pub(crate) fn header_names(cells: &[DataRef<'_>]) -> Vec<String> {
    cells
        .iter()
        .map(|c| cell_text(c, Kind::Text).unwrap_or_else(|p| p.value))
        .collect()
}

fn header_error(
    table: Table,
    path: &Path,
    place: &SheetPlace,
    row: u32,
    header: &[String],
    problem: HeaderProblem,
) -> DataError {
    let listed = format!("header row {}", row + 1);
    let e = DataError::new(
        ErrorKind::Header,
        path,
        problem.describe(table, header, &listed),
    )
    .at_line(u64::from(row) + 1);
    match problem {
        HeaderProblem::Missing(_) => e.at_cell(place.row(row)),
        HeaderProblem::Duplicate { column, second, .. } => e
            .in_column(second + 1, column)
            .with_value(&header[second])
            .at_cell(place.cell(row, second as u32)),
    }
}

/// Reads `path` as the `.xlsx` table `table` into `builder`. Returns the
/// number of data rows.
pub(crate) fn read(
    table: Table,
    path: &Path,
    builder: &mut FactsBuilder<'_>,
    progress: Option<&Progress>,
) -> Result<u64, DataError> {
    let specs = columns(table);
    let kinds: Vec<Kind> = specs.iter().map(|s| Kind::of(s.name)).collect();
    let mut header: Option<HeaderMap> = None;
    let mut rows = 0u64;
    let mut texts: Vec<String> = vec![String::new(); specs.len()];
    for_each_row(path, table.name(), |place, row| {
        let Some(map) = &header else {
            let names = header_names(row.cells);
            let map = match_header(table, &names)
                .map_err(|p| header_error(table, path, place, row.number, &names, p))?;
            header = Some(map);
            return Ok(());
        };
        rows += 1;
        let line = u64::from(row.number) + 1;
        let loc = Loc {
            file: path,
            table,
            header: map,
            line,
            is_row: false,
        };
        for (c, text) in texts.iter_mut().enumerate() {
            text.clear();
            let Some(i) = map.index[c] else { continue };
            let Some(cell) = row.cells.get(i) else {
                continue;
            };
            match cell_text(cell, kinds[c]) {
                Ok(t) => *text = t,
                Err(p) => {
                    return Err(loc
                        .value_error(c, &p.value, p.message)
                        .at_cell(place.cell(row.number, i as u32)));
                }
            }
        }
        let mut values = [""; MAX_COLUMNS];
        for (v, t) in values.iter_mut().zip(&texts) {
            *v = t.as_str();
        }
        feed(&values[..specs.len()], &loc, builder).map_err(|e| match e.column() {
            Some((i, _)) if e.line() == Some(line) && e.cell().is_none() => {
                e.at_cell(place.cell(row.number, i as u32 - 1))
            }
            _ => e,
        })
    })?;
    if header.is_none() {
        return Err(DataError::new(
            ErrorKind::Header,
            path,
            format!(
                "the sheet has no header row (expected the {} table's columns)",
                table.name()
            ),
        ));
    }
    if let Some(p) = progress
        && let Ok(m) = std::fs::metadata(path)
    {
        p.add(m.len());
    }
    Ok(rows)
}

#[cfg(test)]
mod tests {
    use super::*;
    use calamine::{CellErrorType, ExcelDateTime, ExcelDateTimeType};

    fn date(serial: f64) -> DataRef<'static> {
        DataRef::DateTime(ExcelDateTime::new(
            serial,
            ExcelDateTimeType::DateTime,
            false,
        ))
    }

    #[test]
    fn column_letters_are_excels() {
        assert_eq!(column_letters(0), "A");
        assert_eq!(column_letters(5), "F");
        assert_eq!(column_letters(25), "Z");
        assert_eq!(column_letters(26), "AA");
        assert_eq!(column_letters(51), "AZ");
        assert_eq!(column_letters(52), "BA");
        assert_eq!(column_letters(701), "ZZ");
        assert_eq!(column_letters(702), "AAA");
    }

    #[test]
    fn kinds_follow_the_column_names() {
        assert_eq!(Kind::of("partner_id"), Kind::Id);
        assert_eq!(Kind::of("customer_tenant_id"), Kind::Id);
        assert_eq!(Kind::of("month"), Kind::Month);
        assert_eq!(Kind::of("earned_on"), Kind::Date);
        assert_eq!(Kind::of("revenue_usd"), Kind::Number);
        assert_eq!(Kind::of("workload"), Kind::Text);
    }

    #[test]
    fn numbers_become_their_shortest_text() {
        assert_eq!(
            cell_text(&DataRef::Float(1000001.0), Kind::Id).unwrap(),
            "1000001"
        );
        assert_eq!(
            cell_text(&DataRef::Float(5900.5), Kind::Number).unwrap(),
            "5900.5"
        );
        assert_eq!(
            cell_text(&DataRef::Float(0.1), Kind::Number).unwrap(),
            "0.1"
        );
        assert_eq!(
            cell_text(&DataRef::Float(-12.25), Kind::Number).unwrap(),
            "-12.25"
        );
        assert_eq!(cell_text(&DataRef::Int(42), Kind::Id).unwrap(), "42");
        let p = cell_text(&DataRef::Float(1000001.5), Kind::Id).unwrap_err();
        assert_eq!(p.value, "1000001.5");
    }

    #[test]
    fn dates_become_dates_or_months() {
        // 45200 is 2023-10-01 in the 1900 date system.
        assert_eq!(cell_text(&date(45200.0), Kind::Date).unwrap(), "2023-10-01");
        assert_eq!(cell_text(&date(45230.0), Kind::Month).unwrap(), "2023-10");
        assert_eq!(cell_text(&date(45230.75), Kind::Month).unwrap(), "2023-10");
        let p = cell_text(&date(45200.5), Kind::Date).unwrap_err();
        assert_eq!(p.value, "2023-10-01 12:00:00");
        let p = cell_text(&date(45200.0), Kind::Number).unwrap_err();
        assert_eq!(p.value, "2023-10-01");
        let d1904 = DataRef::DateTime(ExcelDateTime::new(
            45200.0 - 1462.0,
            ExcelDateTimeType::DateTime,
            true,
        ));
        assert_eq!(cell_text(&d1904, Kind::Date).unwrap(), "2023-10-01");
    }

    #[test]
    fn booleans_and_error_cells_are_errors() {
        let p = cell_text(&DataRef::Bool(true), Kind::Text).unwrap_err();
        assert_eq!(p.value, "TRUE");
        let p = cell_text(&DataRef::Error(CellErrorType::NA), Kind::Number).unwrap_err();
        assert_eq!(p.value, "#N/A");
        let p = cell_text(&DataRef::Error(CellErrorType::Ref), Kind::Id).unwrap_err();
        assert_eq!(p.value, "#REF!");
    }

    #[test]
    fn sheets_are_picked_by_table_name_else_first() {
        let names = vec!["Summary".to_string(), "Revenue".to_string()];
        let p = pick_sheet(&names, "revenue").unwrap();
        assert_eq!(p.name, "Revenue");
        assert_eq!(p.cell(11, 5), "Revenue!F12");
        let names = vec!["Tabelle1".to_string(), "Umsatz 2023".to_string()];
        let p = pick_sheet(&names, "revenue").unwrap();
        assert_eq!(p.cell(0, 0), "A1");
        assert_eq!(p.row(0), "1:1");
        let names = vec!["x".to_string(), "usage data".to_string()];
        let p = pick_sheet(&names, "Usage Data").unwrap();
        assert_eq!(p.cell(1, 1), "'usage data'!B2");
        assert!(pick_sheet(&[], "revenue").is_none());
    }
}
