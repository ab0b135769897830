//! Streaming a CSV table into the facts builder.

use std::fs::File;
use std::io::{BufReader, Read};
use std::path::Path;

use pcs_core::facts::{FactsBuilder, Table};

use crate::error::{DataError, ErrorKind};
use crate::record::{Loc, feed};
use crate::schema::{HeaderMap, HeaderProblem, MAX_COLUMNS, columns, match_header};

pub(crate) fn header_error(
    table: Table,
    file: &Path,
    header: &[String],
    problem: HeaderProblem,
) -> DataError {
    match problem {
        HeaderProblem::Missing(cols) => DataError::new(
            ErrorKind::Header,
            file,
            format!(
                "missing required column{} {} in the {} table (header: {})",
                if cols.len() > 1 { "s" } else { "" },
                cols.iter()
                    .map(|c| format!("'{c}'"))
                    .collect::<Vec<_>>()
                    .join(", "),
                table.name(),
                header.join(",")
            ),
        )
        .at_line(1),
        HeaderProblem::Duplicate {
            column,
            first,
            second,
        } => DataError::new(
            ErrorKind::Header,
            file,
            format!(
                "columns {} and {} both mean '{column}'",
                first + 1,
                second + 1
            ),
        )
        .at_line(1)
        .in_column(second + 1, column)
        .with_value(&header[second]),
    }
}

/// Reads `path` as the CSV table `table`, feeding every record to `builder`.
/// Returns the number of data records.
pub(crate) fn read(
    table: Table,
    path: &Path,
    builder: &mut FactsBuilder<'_>,
) -> Result<u64, DataError> {
    let file = File::open(path).map_err(|e| DataError::new(ErrorKind::Io, path, e.to_string()))?;
    read_from(table, path, BufReader::with_capacity(1 << 20, file), builder)
}

/// Reads CSV text of the table `table` from `input`; `path` names it in errors.
pub(crate) fn read_from(
    table: Table,
    path: &Path,
    input: impl Read,
    builder: &mut FactsBuilder<'_>,
) -> Result<u64, DataError> {
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(input);
    let mut record = csv::ByteRecord::new();
    let csv_err = |e: csv::Error| {
        let line = e.position().map(|p| p.line()).unwrap_or(0);
        DataError::new(ErrorKind::Format, path, format!("not valid CSV: {e}")).at_line(line)
    };
    if !reader.read_byte_record(&mut record).map_err(csv_err)? {
        return Err(DataError::new(
            ErrorKind::Header,
            path,
            "the file is empty: a header row is required",
        )
        .at_line(1));
    }
    let header = utf8_fields(&record, path, 1)?;
    let header: Vec<String> = header.iter().map(|s| s.to_string()).collect();
    let map: HeaderMap =
        match_header(table, &header).map_err(|p| header_error(table, path, &header, p))?;
    let specs = columns(table);
    let mut rows = 0u64;
    let mut record = csv::ByteRecord::new();
    let width = header.len();
    while reader.read_byte_record(&mut record).map_err(csv_err)? {
        let line = record.position().map(|p| p.line()).unwrap_or(0);
        if record.len() == 1 && record.get(0).is_some_and(|f| f.is_empty()) {
            continue; // a blank line
        }
        if record.len() != width {
            return Err(DataError::new(
                ErrorKind::Format,
                path,
                format!(
                    "this record has {} fields, the header has {width}",
                    record.len()
                ),
            )
            .at_line(line));
        }
        let mut values = [""; MAX_COLUMNS];
        for (slot, idx) in values.iter_mut().zip(&map.index) {
            let v = match idx {
                Some(i) => {
                    let bytes = record.get(*i).unwrap_or_default();
                    std::str::from_utf8(bytes).map_err(|_| {
                        DataError::new(ErrorKind::Format, path, "not UTF-8 text")
                            .at_line(line)
                            .in_column(i + 1, &header[*i])
                            .with_value(&String::from_utf8_lossy(bytes))
                    })?
                }
                None => "",
            };
            *slot = v;
        }
        let loc = Loc {
            file: path,
            table,
            header: &map,
            line,
            is_row: false,
        };
        feed(&values[..specs.len()], &loc, builder)?;
        rows += 1;
    }
    Ok(rows)
}

fn utf8_fields<'r>(
    record: &'r csv::ByteRecord,
    path: &Path,
    line: u64,
) -> Result<Vec<&'r str>, DataError> {
    record
        .iter()
        .enumerate()
        .map(|(i, b)| {
            std::str::from_utf8(b).map_err(|_| {
                DataError::new(ErrorKind::Format, path, "not UTF-8 text")
                    .at_line(line)
                    .in_column(i + 1, "header")
                    .with_value(&String::from_utf8_lossy(b))
            })
        })
        .collect()
}
