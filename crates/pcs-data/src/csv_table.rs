//! Streaming a CSV table into the facts builder.

use std::collections::VecDeque;
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
    read_from(
        table,
        path,
        BufReader::with_capacity(1 << 20, file),
        builder,
    )
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
        .from_reader(LineCounter::new(input));
    let mut record = csv::ByteRecord::new();
    let csv_err = |e: csv::Error, lines: &mut LineCounter<_>| {
        let line = e.position().map(|p| lines.line_at(p.byte())).unwrap_or(0);
        DataError::new(ErrorKind::Format, path, format!("not valid CSV: {e}")).at_line(line)
    };
    let first = reader.read_byte_record(&mut record);
    if !first.map_err(|e| csv_err(e, reader.get_mut()))? {
        return Err(DataError::new(
            ErrorKind::Header,
            path,
            "the file is empty: a header row is required",
        )
        .at_line(1));
    }
    let header_line = record
        .position()
        .map(|p| reader.get_mut().line_at(p.byte()))
        .unwrap_or(1);
    let header = utf8_fields(&record, path, header_line)?;
    let header: Vec<String> = header.iter().map(|s| s.to_string()).collect();
    let map: HeaderMap =
        match_header(table, &header).map_err(|p| header_error(table, path, &header, p))?;
    let specs = columns(table);
    let mut rows = 0u64;
    let mut record = csv::ByteRecord::new();
    let width = header.len();
    loop {
        let more = reader.read_byte_record(&mut record);
        if !more.map_err(|e| csv_err(e, reader.get_mut()))? {
            break;
        }
        // The csv crate's own line numbers are off after blank lines and in
        // CRLF files; count newlines before the record's first byte instead.
        let line = record
            .position()
            .map(|p| reader.get_mut().line_at(p.byte()))
            .unwrap_or(0);
        // Every field must be text, the ignored ones too.
        if let Some(i) = (0..record.len())
            .find(|&i| std::str::from_utf8(record.get(i).unwrap_or_default()).is_err())
        {
            let bytes = record.get(i).unwrap_or_default();
            let name = header.get(i).map(String::as_str).unwrap_or("");
            return Err(DataError::new(ErrorKind::Format, path, "not UTF-8 text")
                .at_line(line)
                .in_column(i + 1, name)
                .with_value(&String::from_utf8_lossy(bytes)));
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
                    std::str::from_utf8(bytes).expect("every field was checked above")
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

/// Wraps the input to remember where its line breaks are, so that a record's
/// line number can be computed from its byte offset.
///
/// The csv crate reports a record's offset as where its parser started:
/// before blank lines it skipped, and on the `\n` of a `\r\n`. The record's
/// text starts at the first byte from there that is not a line break.
struct LineCounter<R> {
    inner: R,
    offset: u64,
    /// Positions of `\r` and `\n` bytes not yet passed, and whether each is `\n`.
    breaks: VecDeque<(u64, bool)>,
    /// `\n` bytes passed.
    passed: u64,
}

impl<R: Read> LineCounter<R> {
    fn new(inner: R) -> Self {
        LineCounter {
            inner,
            offset: 0,
            breaks: VecDeque::new(),
            passed: 0,
        }
    }

    /// The 1-based line of the record whose parse started at `offset`.
    /// Offsets must not decrease between calls.
    fn line_at(&mut self, offset: u64) -> u64 {
        let mut start = offset;
        while let Some(&(pos, lf)) = self.breaks.front() {
            if pos <= start {
                if pos == start {
                    start += 1;
                }
                self.breaks.pop_front();
                self.passed += u64::from(lf);
            } else {
                break;
            }
        }
        self.passed + 1
    }
}

impl<R: Read> Read for LineCounter<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        let base = self.offset;
        self.breaks.extend(
            memchr::memchr2_iter(b'\n', b'\r', &buf[..n])
                .map(|i| (base + i as u64, buf[i] == b'\n')),
        );
        self.offset += n as u64;
        Ok(n)
    }
}
