//! Reading a report file (CSV or `.xlsx`) row by row, with exact places for
//! errors: `file, line 12, column 5 (Month)` or `file.xlsx!E12 (Month)`.

use std::fs::File;
use std::io::BufReader;
use std::path::Path;

use calamine::DataRef;

use crate::error::{DataError, ErrorKind};
use crate::xlsx_table::{self, Kind, SheetPlace};

/// The cells of one row.
enum Cells<'r, 'a> {
    Text(&'r csv::StringRecord),
    Xlsx(&'r [DataRef<'a>], &'r SheetPlace, u32),
}

/// One row of a report (the header row too), and how to name its cells.
pub(crate) struct RowView<'r, 'a> {
    path: &'r Path,
    /// The 1-based line (CSV) or row (`.xlsx`).
    pub line: u64,
    cells: Cells<'r, 'a>,
    header: &'r [String],
}

impl RowView<'_, '_> {
    /// The text of cell `col` read for a pcs column of `kind` (empty when
    /// the row has no such cell).
    pub(crate) fn text(&self, col: usize, kind: Kind) -> Result<String, DataError> {
        match &self.cells {
            Cells::Text(r) => Ok(r.get(col).unwrap_or("").to_string()),
            Cells::Xlsx(cells, _, _) => match cells.get(col) {
                None => Ok(String::new()),
                Some(c) => {
                    xlsx_table::cell_text(c, kind).map_err(|p| self.error(col, &p.value, p.message))
                }
            },
        }
    }

    /// The text of a flag cell: `TRUE`/`FALSE` cells read as `true`/`false`.
    pub(crate) fn flag(&self, col: usize) -> Result<String, DataError> {
        if let Cells::Xlsx(cells, _, _) = &self.cells
            && let Some(DataRef::Bool(b)) = cells.get(col)
        {
            return Ok(b.to_string());
        }
        self.text(col, Kind::Text)
    }

    /// The error for the value of cell `col`.
    pub(crate) fn error(&self, col: usize, value: &str, message: impl Into<String>) -> DataError {
        let name = self.header.get(col).map(String::as_str).unwrap_or("");
        let e = DataError::new(ErrorKind::Value, self.path, message)
            .at_line(self.line)
            .in_column(col + 1, name)
            .with_value(value);
        match &self.cells {
            Cells::Text(_) => e,
            Cells::Xlsx(_, place, row) => e.at_cell(place.cell(*row, col as u32)),
        }
    }

    /// An error about the whole row (kind `kind`).
    pub(crate) fn row_error(&self, kind: ErrorKind, message: impl Into<String>) -> DataError {
        let e = DataError::new(kind, self.path, message).at_line(self.line);
        match &self.cells {
            Cells::Text(_) => e,
            Cells::Xlsx(_, place, row) => e.at_cell(place.row(*row)),
        }
    }
}

/// What reads a report: its header first, then each data row.
pub(crate) trait RowSink {
    /// The header row (`names` are its cells as text).
    fn header(&mut self, names: &[String], row: &RowView<'_, '_>) -> Result<(), DataError>;
    /// A data row.
    fn row(&mut self, row: &RowView<'_, '_>) -> Result<(), DataError>;
}

/// Whether a file is read as a report, by its extension.
pub(crate) fn is_readable(path: &Path) -> bool {
    matches!(
        path.extension()
            .map(|e| e.to_string_lossy().to_ascii_lowercase())
            .as_deref(),
        Some("csv") | Some("xlsx")
    )
}

/// Reads the report at `path` (CSV, or `.xlsx`: the sheet named `sheet`,
/// else the first) into `sink`. Returns the number of data rows.
pub(crate) fn read(path: &Path, sheet: &str, sink: &mut dyn RowSink) -> Result<u64, DataError> {
    let ext = path
        .extension()
        .map(|e| e.to_string_lossy().to_ascii_lowercase());
    if ext.as_deref() == Some("xlsx") {
        read_xlsx(path, sheet, sink)
    } else {
        read_csv(path, sink)
    }
}

fn read_xlsx(path: &Path, sheet: &str, sink: &mut dyn RowSink) -> Result<u64, DataError> {
    let mut header: Option<Vec<String>> = None;
    let mut rows = 0u64;
    xlsx_table::for_each_row(path, sheet, |place, row| {
        let line = u64::from(row.number) + 1;
        match &header {
            None => {
                let names = xlsx_table::header_names(row.cells);
                let view = RowView {
                    path,
                    line,
                    cells: Cells::Xlsx(row.cells, place, row.number),
                    header: &names,
                };
                sink.header(&names, &view)?;
                header = Some(names);
            }
            Some(names) => {
                rows += 1;
                let view = RowView {
                    path,
                    line,
                    cells: Cells::Xlsx(row.cells, place, row.number),
                    header: names,
                };
                sink.row(&view)?;
            }
        }
        Ok(())
    })?;
    if header.is_none() {
        return Err(DataError::new(
            ErrorKind::Header,
            path,
            "the sheet is empty: no header row",
        ));
    }
    Ok(rows)
}

fn read_csv(path: &Path, sink: &mut dyn RowSink) -> Result<u64, DataError> {
    let file = File::open(path).map_err(|e| DataError::new(ErrorKind::Io, path, e.to_string()))?;
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(BufReader::new(file));
    let mut record = csv::StringRecord::new();
    let mut header: Option<Vec<String>> = None;
    let mut rows = 0u64;
    loop {
        let more = reader.read_record(&mut record).map_err(|e| {
            let line = e.position().map(|p| p.line());
            let what = match e.kind() {
                csv::ErrorKind::Utf8 { .. } => {
                    "not UTF-8 text (save the report as UTF-8 CSV)".to_string()
                }
                _ => format!("not readable CSV: {e}"),
            };
            let mut err = DataError::new(ErrorKind::Format, path, what);
            if let Some(l) = line {
                err = err.at_line(l);
            }
            err
        })?;
        if !more {
            break;
        }
        let line = record.position().map_or(0, |p| p.line());
        match &header {
            None => {
                let names: Vec<String> = record
                    .iter()
                    .enumerate()
                    .map(|(i, h)| {
                        if i == 0 {
                            h.trim_start_matches('\u{feff}').to_string()
                        } else {
                            h.to_string()
                        }
                    })
                    .collect();
                let view = RowView {
                    path,
                    line,
                    cells: Cells::Text(&record),
                    header: &names,
                };
                sink.header(&names, &view)?;
                header = Some(names);
            }
            Some(names) => {
                rows += 1;
                let view = RowView {
                    path,
                    line,
                    cells: Cells::Text(&record),
                    header: names,
                };
                if record.len() != names.len() {
                    return Err(view.row_error(
                        ErrorKind::Format,
                        format!(
                            "{} fields, but the header has {}",
                            record.len(),
                            names.len()
                        ),
                    ));
                }
                sink.row(&view)?;
            }
        }
    }
    if header.is_none() {
        return Err(DataError::new(
            ErrorKind::Header,
            path,
            "the file is empty: no header row",
        ));
    }
    Ok(rows)
}
