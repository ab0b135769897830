//! The one error of pcs-data: where the bad input is and what is wrong.

use std::fmt;
use std::path::{Path, PathBuf};

/// What kind of problem a [`DataError`] is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum ErrorKind {
    /// The dataset directory or a table file cannot be read.
    Io,
    /// The dataset layout is wrong (no tables, a table in two formats).
    Layout,
    /// A required column is missing, or two columns mean the same thing.
    Header,
    /// A value is malformed (empty id, bad month, date or number, negative quantity).
    Value,
    /// The file is not UTF-8 CSV, readable Parquet or a readable `.xlsx` workbook.
    Format,
    /// A warning turned into an error by strict mode.
    Strict,
}

/// Bad input: names the file, and where known the line, the column and the value.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DataError(Box<Inner>);

#[derive(Clone, Debug, PartialEq, Eq)]
struct Inner {
    kind: ErrorKind,
    file: PathBuf,
    line: Option<u64>,
    line_word: &'static str,
    column: Option<(usize, String)>,
    value: Option<String>,
    /// A spreadsheet cell (`F12`, `Umsatz!F12`), shown after the file name.
    cell: Option<String>,
    message: String,
}

impl DataError {
    pub(crate) fn new(kind: ErrorKind, file: &Path, message: impl Into<String>) -> Self {
        DataError(Box::new(Inner {
            kind,
            file: file.to_path_buf(),
            line: None,
            line_word: "line",
            column: None,
            value: None,
            cell: None,
            message: message.into(),
        }))
    }

    pub(crate) fn at_line(mut self, line: u64) -> Self {
        self.0.line = Some(line);
        self
    }

    /// Adds `by` to the line number, if any (a part of a file read before
    /// the lines above it were counted).
    pub(crate) fn shift_line(mut self, by: u64) -> Self {
        if let Some(line) = &mut self.0.line {
            *line += by;
        }
        self
    }

    pub(crate) fn at_row(mut self, row: u64) -> Self {
        self.0.line = Some(row);
        self.0.line_word = "row";
        self
    }

    pub(crate) fn in_column(mut self, index: usize, name: &str) -> Self {
        self.0.column = Some((index, name.to_string()));
        self
    }

    pub(crate) fn with_value(mut self, value: &str) -> Self {
        self.0.value = Some(value.to_string());
        self
    }

    /// Places the error in a spreadsheet cell: `cell` is the reference
    /// after the file name (`F12`, or `Sheet2!F12` when the sheet is not
    /// the workbook's first; `3:3` for a whole row).
    #[cfg_attr(not(feature = "xlsx"), allow(dead_code))]
    pub(crate) fn at_cell(mut self, cell: String) -> Self {
        self.0.cell = Some(cell);
        self
    }

    /// The kind of problem.
    pub fn kind(&self) -> ErrorKind {
        self.0.kind
    }

    /// The file (or directory) at fault.
    pub fn file(&self) -> &Path {
        &self.0.file
    }

    /// The 1-based line (CSV) or data row (Parquet), when known.
    pub fn line(&self) -> Option<u64> {
        self.0.line
    }

    /// The 1-based column number and the column's name, when known.
    pub fn column(&self) -> Option<(usize, &str)> {
        self.0.column.as_ref().map(|(i, n)| (*i, n.as_str()))
    }

    /// The spreadsheet cell (`F12`, `Sheet2!F12`) of an error in an `.xlsx`
    /// table, when known; [`DataError::line`] is then its row.
    pub fn cell(&self) -> Option<&str> {
        self.0.cell.as_deref()
    }

    /// The offending value, when there is one.
    pub fn value(&self) -> Option<&str> {
        self.0.value.as_deref()
    }

    /// What is wrong, without the location.
    pub fn message(&self) -> &str {
        &self.0.message
    }
}

impl fmt::Display for DataError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let e = &self.0;
        write!(f, "{}", e.file.display())?;
        if let Some(cell) = &e.cell {
            // `revenue.xlsx!F12 (month)`: the cell says the row and column.
            write!(f, "!{cell}")?;
            if let Some((_, name)) = &e.column {
                write!(f, " ({name})")?;
            }
        } else {
            if let Some(line) = e.line {
                write!(f, ", {} {line}", e.line_word)?;
            }
            if let Some((i, name)) = &e.column {
                write!(f, ", column {i} ({name})")?;
            }
        }
        if let Some(v) = &e.value {
            write!(f, ", value '{}'", v.escape_debug())?;
        }
        write!(f, ": {}", e.message)
    }
}

impl std::error::Error for DataError {}
