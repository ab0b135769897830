//! How a CSV table is written: its delimiter and decimal separator, given by
//! the user or detected from the header, never guessed silently.

use std::fs::File;
use std::path::Path;

use pcs_core::facts::Table;

use crate::csv_table::Records;
use crate::schema::{HeaderProblem, match_header};

/// The delimiter and decimal separator of a CSV table.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CsvDialect {
    /// The field delimiter (`,`, `;` or a tab).
    pub delimiter: u8,
    /// Whether numbers are written with a decimal comma (`1234,5`), as Excel
    /// writes them in locales whose list separator is `;`.
    pub decimal_comma: bool,
}

impl Default for CsvDialect {
    fn default() -> Self {
        CsvDialect {
            delimiter: b',',
            decimal_comma: false,
        }
    }
}

/// What the user said about CSV tables; `None` means "detect from the header".
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct CsvOptions {
    /// The field delimiter.
    pub delimiter: Option<u8>,
    /// Whether numbers use a decimal comma.
    pub decimal_comma: Option<bool>,
}

/// The delimiters tried, in order, when none is given.
const CANDIDATES: [u8; 3] = [b',', b';', b'\t'];

/// How a delimiter is named in messages.
pub(crate) fn delimiter_name(d: u8) -> String {
    match d {
        b',' => "comma".into(),
        b';' => "semicolon".into(),
        b'\t' => "tab".into(),
        other => format!("'{}'", other as char),
    }
}

/// Settles the dialect of the CSV table `table` at `path`. Without a given
/// delimiter, the first of comma, semicolon and tab whose split of the
/// header names the table's required columns is taken (comma when none
/// does: the read then reports the header). Without a given decimal
/// separator, a semicolon-separated table has decimal commas (Excel writes
/// `;` where the comma is the decimal separator). Returns the dialect and,
/// when any of it was detected rather than given and differs from the
/// default, a note saying so.
pub(crate) fn settle(
    table: Table,
    path: &Path,
    options: &CsvOptions,
) -> (CsvDialect, Option<String>) {
    let delimiter = options.delimiter.unwrap_or_else(|| {
        CANDIDATES
            .into_iter()
            .find(|&d| header_fits(table, path, d))
            .unwrap_or(b',')
    });
    let decimal_comma = options.decimal_comma.unwrap_or(delimiter == b';');
    let dialect = CsvDialect {
        delimiter,
        decimal_comma,
    };
    let mut detected = Vec::new();
    if options.delimiter.is_none() && delimiter != b',' {
        detected.push(format!("{}-separated", delimiter_name(delimiter)));
    }
    if options.decimal_comma.is_none() && decimal_comma {
        detected.push("with decimal commas".to_string());
    }
    let note = (!detected.is_empty()).then(|| {
        format!(
            "{}: read as {}, detected from its header (--delimiter, --decimal-comma and --decimal-point say otherwise)",
            path.display(),
            detected.join(" ")
        )
    });
    (dialect, note)
}

/// Whether the header of `path`, split at `delimiter`, has the table's
/// required columns.
fn header_fits(table: Table, path: &Path, delimiter: u8) -> bool {
    let Ok(file) = File::open(path) else {
        return false;
    };
    let mut records = Records::with_block(file, 0, delimiter, true, 1 << 16);
    let Ok(Some(_)) = records.next_record(path) else {
        return false;
    };
    let Ok(text) = records.text() else {
        return false;
    };
    let names: Vec<&str> = (0..records.len()).map(|i| records.field(text, i)).collect();
    !matches!(match_header(table, &names), Err(HeaderProblem::Missing(_)))
}
