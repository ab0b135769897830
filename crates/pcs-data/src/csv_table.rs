//! Streaming a CSV table into the facts builder.

use std::fs::File;
use std::io::{BufRead, BufReader, Read, Seek, SeekFrom};

use rayon::prelude::*;
use std::path::Path;

use pcs_core::facts::{FactsBuilder, Table};

use crate::error::{DataError, ErrorKind};
use crate::record::{Loc, feed};
use crate::schema::{HeaderMap, HeaderProblem, MAX_COLUMNS, columns, match_header};
use crate::{Counted, Progress};

pub(crate) fn header_error(
    table: Table,
    file: &Path,
    header: &[String],
    problem: HeaderProblem,
) -> DataError {
    let e = DataError::new(
        ErrorKind::Header,
        file,
        problem.describe(table, header, "header"),
    )
    .at_line(1);
    match problem {
        HeaderProblem::Missing(_) => e,
        HeaderProblem::Duplicate { column, second, .. } => {
            e.in_column(second + 1, column).with_value(&header[second])
        }
    }
}

/// Files smaller than this are read by one thread.
const PARALLEL_MIN_BYTES: u64 = 8 << 20;

/// The header of a CSV table, matched against the table's columns.
struct Header {
    names: Vec<String>,
    map: HeaderMap,
}

/// CSV records, line by line. A line without a quote is split on commas
/// directly (the common case, several times faster than a general parser); a
/// record with quotes, possibly over several lines, goes through the csv
/// crate. Blank lines are skipped; `\r\n` and `\n` both end a line. Line
/// numbers are counted here, exactly.
pub(crate) struct Records<R: BufRead> {
    input: R,
    /// Line feeds consumed (including those before the input started).
    line: u64,
    /// Bytes consumed.
    offset: u64,
    /// The current record's raw bytes (its line ending removed when unquoted).
    buf: Vec<u8>,
    /// Field ranges in `buf` (unquoted records) or in `unquoted` (quoted ones).
    fields: Vec<(usize, usize)>,
    /// Whether the current record had quotes (its fields are in `unquoted`).
    quoted: bool,
    /// The fields of a quoted record, unescaped.
    unquoted: Vec<u8>,
    /// Field ends in `unquoted`.
    ends: Vec<usize>,
    /// The general CSV parser, built once.
    parser: csv_core::Reader,
    /// Whether the input ended inside a quoted field.
    unterminated: bool,
    /// No quote lies between the current position and this offset: each
    /// search for a quote runs to the end of the input's buffer, so most
    /// lines need none of their own.
    no_quote_before: u64,
}

impl<R: BufRead> Records<R> {
    /// Records of `input`, which starts after `lines_before` line feeds.
    pub fn new(input: R, lines_before: u64) -> Self {
        Records {
            input,
            line: lines_before,
            offset: 0,
            buf: Vec::with_capacity(256),
            fields: Vec::with_capacity(16),
            quoted: false,
            unquoted: Vec::new(),
            ends: Vec::new(),
            parser: csv_core::Reader::new(),
            unterminated: false,
            no_quote_before: 0,
        }
    }

    /// Line feeds consumed so far (including those before the input started).
    pub fn lines(&self) -> u64 {
        self.line
    }

    /// Bytes consumed so far.
    pub fn offset(&self) -> u64 {
        self.offset
    }

    /// Appends one line (with its line feed, if any) to `buf`; returns its
    /// length and whether it holds a quote.
    fn read_line(&mut self, path: &Path) -> Result<(usize, bool), DataError> {
        let mut n = 0;
        let mut quoted = false;
        loop {
            let available = match self.input.fill_buf() {
                Ok(b) => b,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(DataError::new(ErrorKind::Io, path, e.to_string())),
            };
            if available.is_empty() {
                break;
            }
            let start = self.offset + n as u64;
            let (piece, done) = match memchr::memchr(b'\n', available) {
                Some(i) => (i + 1, true),
                None => (available.len(), false),
            };
            let end = start + piece as u64;
            if end > self.no_quote_before {
                let from = (self.no_quote_before.max(start) - start) as usize;
                self.no_quote_before = match memchr::memchr(b'"', &available[from..]) {
                    Some(q) => start + (from + q) as u64,
                    None => start + available.len() as u64,
                };
                quoted |= self.no_quote_before < end;
            }
            self.buf.extend_from_slice(&available[..piece]);
            self.input.consume(piece);
            n += piece;
            if done {
                self.line += 1;
                break;
            }
        }
        self.offset += n as u64;
        Ok((n, quoted))
    }

    /// Moves to the next record; returns its first line, or `None` at the end.
    pub fn next_record(&mut self, path: &Path) -> Result<Option<u64>, DataError> {
        loop {
            self.buf.clear();
            let first_line = self.line + 1;
            let (n, quoted) = self.read_line(path)?;
            if n == 0 {
                return Ok(None);
            }
            if !quoted {
                while matches!(self.buf.last(), Some(b'\n' | b'\r')) {
                    self.buf.pop();
                }
                if self.buf.is_empty() {
                    continue; // a blank line
                }
                self.quoted = false;
                split_commas(&self.buf, &mut self.fields);
                return Ok(Some(first_line));
            }
            // Quotes: take more lines while a quoted field is open.
            while memchr::memchr_iter(b'"', &self.buf).count() % 2 == 1 {
                if self.read_line(path)?.0 == 0 {
                    self.unterminated = true;
                    break;
                }
            }
            if self.buf.last() != Some(&b'\n') {
                self.buf.push(b'\n');
            }
            self.unquoted.clear();
            self.unquoted.resize(self.buf.len(), 0);
            self.ends.clear();
            self.ends.resize(self.buf.len() + 1, 0);
            self.parser.reset();
            let (result, _, _, n) =
                self.parser
                    .read_record(&self.buf, &mut self.unquoted, &mut self.ends);
            if result != csv_core::ReadRecordResult::Record {
                return Err(DataError::new(
                    ErrorKind::Format,
                    path,
                    format!("not valid CSV: a quoted record could not be parsed ({result:?})"),
                )
                .at_line(first_line));
            }
            self.quoted = true;
            self.fields.clear();
            let mut start = 0;
            for &end in &self.ends[..n] {
                self.fields.push((start, end));
                start = end;
            }
            return Ok(Some(first_line));
        }
    }

    /// The current record's bytes as text (fields are slices of it, see
    /// [`Records::field`]); on invalid UTF-8, the index and raw bytes of the
    /// first bad field.
    pub fn text(&self) -> Result<&str, (usize, &[u8])> {
        let bytes = if self.quoted {
            &self.unquoted
        } else {
            &self.buf
        };
        if self.quoted {
            // Unescaped fields are stored without separators: check each one,
            // or bytes of two fields could pass as one character.
            for (i, &(a, b)) in self.fields.iter().enumerate() {
                if std::str::from_utf8(&bytes[a..b]).is_err() {
                    return Err((i, &bytes[a..b]));
                }
            }
        }
        std::str::from_utf8(bytes).map_err(|_| {
            let (i, &(a, b)) = self
                .fields
                .iter()
                .enumerate()
                .find(|(_, (a, b))| std::str::from_utf8(&bytes[*a..*b]).is_err())
                .expect("one field is not UTF-8");
            (i, &bytes[a..b])
        })
    }

    /// The number of fields of the current record.
    pub fn len(&self) -> usize {
        self.fields.len()
    }

    /// Field `i` of the current record, from its [`Records::text`]. Field
    /// ranges fall on character boundaries: unquoted fields are split at
    /// ASCII commas, and quoted ones are each checked by `text`.
    pub fn field<'t>(&self, text: &'t str, i: usize) -> &'t str {
        let (a, b) = self.fields[i];
        &text[a..b]
    }
}

/// The field ranges of an unquoted line, split at commas, eight bytes at a
/// time: fields are short, and a search call per field cost more than this
/// (memchr's short-haystack path was 5% of a run).
fn split_commas(line: &[u8], fields: &mut Vec<(usize, usize)>) {
    const LOW7: u64 = 0x7f7f_7f7f_7f7f_7f7f;
    const COMMAS: u64 = 0x2c2c_2c2c_2c2c_2c2c;
    fields.clear();
    let mut start = 0;
    let mut chunks = line.chunks_exact(8);
    let mut at = 0;
    for chunk in &mut chunks {
        let x = u64::from_le_bytes(chunk.try_into().expect("8 bytes")) ^ COMMAS;
        // The high bit of each byte that was a comma (now zero); exact, as
        // adding 0x7f to a 7-bit value never carries into the next byte.
        let mut commas = !(((x & LOW7) + LOW7) | x | LOW7);
        while commas != 0 {
            let i = at + (commas.trailing_zeros() / 8) as usize;
            fields.push((start, i));
            start = i + 1;
            commas &= commas - 1;
        }
        at += 8;
    }
    for (k, &c) in chunks.remainder().iter().enumerate() {
        if c == b',' {
            fields.push((start, at + k));
            start = at + k + 1;
        }
    }
    fields.push((start, line.len()));
}

fn utf8_error(path: &Path, line: u64, i: usize, name: &str, bytes: &[u8]) -> DataError {
    DataError::new(ErrorKind::Format, path, "not UTF-8 text")
        .at_line(line)
        .in_column(i + 1, name)
        .with_value(&String::from_utf8_lossy(bytes))
}

/// Reads and matches the header row.
fn read_header<R: BufRead>(
    table: Table,
    path: &Path,
    records: &mut Records<R>,
) -> Result<Header, DataError> {
    let Some(line) = records.next_record(path)? else {
        return Err(DataError::new(
            ErrorKind::Header,
            path,
            "the file is empty: a header row is required",
        )
        .at_line(1));
    };
    let text = records
        .text()
        .map_err(|(i, bytes)| utf8_error(path, line, i, "header", bytes))?;
    let names: Vec<String> = (0..records.len())
        .map(|i| records.field(text, i).to_string())
        .collect();
    let map = match_header(table, &names).map_err(|p| header_error(table, path, &names, p))?;
    Ok(Header { names, map })
}

/// Reads `path` as the CSV table `table`, feeding every record to `builder`.
/// Large files are split at record boundaries and read by `threads` threads,
/// each into its own builder; the parts are merged in file order. Returns the
/// number of data records.
pub(crate) fn read(
    table: Table,
    path: &Path,
    builder: &mut FactsBuilder<'_>,
    threads: usize,
    progress: Option<&Progress>,
) -> Result<u64, DataError> {
    read_split(table, path, builder, threads, PARALLEL_MIN_BYTES, progress)
}

/// Reads a large file in parts, one per thread, without a first pass over it.
///
/// The file is cut just after the first line feed at or after each of
/// `threads` equal offsets, assuming that line feed ends a record, and every
/// part is parsed at once with line numbers counted from its own start. The
/// assumption is then checked in file order: a part that ends inside a
/// quoted field shows that the next cut fell inside a multi-line value, and
/// the file is read again from the header by one thread. Otherwise each part's
/// line numbers (facts, warnings, the first error) are shifted by the line
/// feeds of the parts before it, and the parts are merged in file order.
fn read_split(
    table: Table,
    path: &Path,
    builder: &mut FactsBuilder<'_>,
    threads: usize,
    parallel_min_bytes: u64,
    progress: Option<&Progress>,
) -> Result<u64, DataError> {
    read_split_counted(table, path, builder, threads, parallel_min_bytes, progress)
        .map(|(rows, _)| rows)
}

/// [`read_split`], also saying whether it had to read the file again serially.
fn read_split_counted(
    table: Table,
    path: &Path,
    builder: &mut FactsBuilder<'_>,
    threads: usize,
    parallel_min_bytes: u64,
    progress: Option<&Progress>,
) -> Result<(u64, bool), DataError> {
    let io = |e: std::io::Error| DataError::new(ErrorKind::Io, path, e.to_string());
    let file = File::open(path).map_err(io)?;
    let size = file.metadata().map_err(io)?.len();
    if threads <= 1 || size < parallel_min_bytes {
        let input = BufReader::with_capacity(1 << 20, file);
        return read_from(table, path, input, builder).map(|rows| (rows, false));
    }
    let mut records = Records::new(BufReader::with_capacity(1 << 16, file), 0);
    let header = read_header(table, path, &mut records)?;
    let header_end = records.offset();
    let header_lines = records.lines();
    let starts = cuts(path, header_end, size, threads)?;
    let ranges: Vec<(u64, u64)> = starts
        .iter()
        .zip(starts.iter().skip(1).chain([&size]))
        .map(|(&a, &b)| (a, b))
        .collect();
    let read_range = |from: u64, to: u64, lines_before: u64| {
        let mut part = builder.empty_like();
        let mut file = File::open(path).map_err(io)?;
        file.seek(SeekFrom::Start(from)).map_err(io)?;
        let input = Counted {
            inner: file.take(to - from),
            progress,
        };
        let mut records = Records::new(BufReader::with_capacity(1 << 20, input), lines_before);
        let rows = read_records(table, path, &header, &mut records, &mut part);
        Ok::<_, DataError>(Part {
            rows: rows.map(|n| (part, n)),
            lines: records.lines() - lines_before,
            unterminated: records.unterminated,
        })
    };
    let parts: Vec<Result<Part<'_>, DataError>> = ranges
        .par_iter()
        .map(|&(from, to)| read_range(from, to, 0))
        .collect();
    let mut lines_before = header_lines;
    let mut done = Vec::with_capacity(parts.len());
    let last = parts.len() - 1;
    for (k, part) in parts.into_iter().enumerate() {
        let part = part?;
        if part.unterminated && k < last {
            // A cut fell inside a quoted value: read it all again, in order.
            let part = read_range(header_end, size, header_lines)?;
            let (part, rows) = part.rows?;
            builder.merge(part);
            return Ok((rows, true));
        }
        let (mut facts, rows) = part.rows.map_err(|e| e.shift_line(lines_before))?;
        facts.shift_lines(lines_before);
        lines_before += part.lines;
        done.push((facts, rows));
    }
    let mut rows = 0;
    for (part, n) in done {
        builder.merge(part);
        rows += n;
    }
    Ok((rows, false))
}

/// One part of a file, read.
struct Part<'r> {
    /// The facts and the number of records, or the part's first error (with
    /// line numbers counted from the part's start).
    rows: Result<(FactsBuilder<'r>, u64), DataError>,
    /// Line feeds read.
    lines: u64,
    /// Whether the part ended inside a quoted field.
    unterminated: bool,
}

/// Where the parts of a file start: the end of the header, then just after
/// the first line feed at or after each of `n - 1` equal offsets (fewer when
/// the lines are long). Increasing, each below `size`.
fn cuts(path: &Path, header_end: u64, size: u64, n: usize) -> Result<Vec<u64>, DataError> {
    let io = |e: std::io::Error| DataError::new(ErrorKind::Io, path, e.to_string());
    let n = n.max(1) as u64;
    let mut starts = vec![header_end];
    for k in 1..n {
        let target = header_end + (size - header_end) * k / n;
        if target <= *starts.last().expect("one start at least") {
            continue;
        }
        let mut file = File::open(path).map_err(io)?;
        file.seek(SeekFrom::Start(target)).map_err(io)?;
        let mut input = BufReader::with_capacity(1 << 16, file.take(size - target));
        let mut pos = target;
        let found = loop {
            let buf = input.fill_buf().map_err(io)?;
            if buf.is_empty() {
                break None;
            }
            if let Some(i) = memchr::memchr(b'\n', buf) {
                break Some(pos + i as u64 + 1);
            }
            let len = buf.len();
            pos += len as u64;
            input.consume(len);
        };
        match found {
            Some(start) if start < size => starts.push(start),
            _ => break,
        }
    }
    Ok(starts)
}

/// Reads CSV text of the table `table` from `input`; `path` names it in errors.
pub(crate) fn read_from(
    table: Table,
    path: &Path,
    input: impl Read,
    builder: &mut FactsBuilder<'_>,
) -> Result<u64, DataError> {
    let mut records = Records::new(BufReader::new(input), 0);
    let header = read_header(table, path, &mut records)?;
    read_records(table, path, &header, &mut records, builder)
}

/// Feeds every record after the header to `builder`.
fn read_records<R: BufRead>(
    table: Table,
    path: &Path,
    header: &Header,
    records: &mut Records<R>,
    builder: &mut FactsBuilder<'_>,
) -> Result<u64, DataError> {
    each_record(table, path, header, records, |values, loc| {
        feed(values, loc, builder)
    })
}

/// Reads the CSV table at `path` and calls `f` with each record's values,
/// in the order of [`crate::columns`] (absent optional columns are empty).
#[cfg_attr(not(feature = "parquet"), allow(dead_code))]
pub(crate) fn for_each_record(
    table: Table,
    path: &Path,
    f: impl FnMut(&[&str], &Loc<'_>) -> Result<(), DataError>,
) -> Result<u64, DataError> {
    let file = File::open(path).map_err(|e| DataError::new(ErrorKind::Io, path, e.to_string()))?;
    let mut records = Records::new(BufReader::with_capacity(1 << 20, file), 0);
    let header = read_header(table, path, &mut records)?;
    each_record(table, path, &header, &mut records, f)
}

fn each_record<R: BufRead>(
    table: Table,
    path: &Path,
    header: &Header,
    records: &mut Records<R>,
    mut f: impl FnMut(&[&str], &Loc<'_>) -> Result<(), DataError>,
) -> Result<u64, DataError> {
    let specs = columns(table);
    let mut rows = 0u64;
    let width = header.names.len();
    while let Some(line) = records.next_record(path)? {
        // Every field must be text, the ignored ones too.
        let text = records.text().map_err(|(i, bytes)| {
            let name = header.names.get(i).map(String::as_str).unwrap_or("");
            utf8_error(path, line, i, name, bytes)
        })?;
        if records.len() != width {
            return Err(DataError::new(
                ErrorKind::Format,
                path,
                format!(
                    "this record has {} fields, the header has {width}",
                    records.len()
                ),
            )
            .at_line(line));
        }
        let mut values = [""; MAX_COLUMNS];
        for (slot, idx) in values.iter_mut().zip(&header.map.index) {
            if let Some(i) = idx {
                *slot = records.field(text, *i);
            }
        }
        let loc = Loc {
            file: path,
            table,
            header: &header.map,
            line,
            is_row: false,
        };
        f(&values[..specs.len()], &loc)?;
        rows += 1;
    }
    Ok(rows)
}

#[cfg(test)]
mod tests {
    use super::*;
    use pcs_core::facts::{DatasetFacts, MonthFilter};
    use pcs_core::rulebook::RulebookSet;
    use std::io::Write;

    const HEADER: &str =
        "partner_id,customer_tenant_id,customer_name,workload,month,revenue_usd,association";

    /// A revenue file with quoted commas, quoted line breaks and CRLF lines.
    fn sample(rows: usize, bad_row: Option<usize>) -> tempfile::NamedTempFile {
        let mut f = tempfile::NamedTempFile::new().unwrap();
        writeln!(f, "{HEADER}").unwrap();
        for i in 0..rows {
            let name = match i % 7 {
                0 => format!("\"Coho Winery, S.A. {i}\""),
                3 => format!("\"Multi\nline \"\"{i}\"\"\""),
                _ => format!("Customer {i}"),
            };
            let amount = if Some(i) == bad_row {
                "abc".to_string()
            } else {
                format!("{}.{:02}", i % 900, i % 100)
            };
            let end = if i % 5 == 0 { "\r\n" } else { "\n" };
            write!(
                f,
                "P{},T{},{name},Sales,2023-10,{amount},DPOR{end}",
                i % 13,
                i % 17
            )
            .unwrap();
        }
        f.flush().unwrap();
        f
    }

    fn load(path: &Path, threads: usize) -> Result<(DatasetFacts, u64), DataError> {
        let set = RulebookSet::builtin();
        let mut b = FactsBuilder::new(&set.versions()[0], MonthFilter::All, true);
        let rows = read_split(Table::Revenue, path, &mut b, threads, 0, None)?;
        Ok((b.finish(), rows))
    }

    /// Found by the fuzzer: two quoted fields whose bytes, side by side,
    /// look like one character.
    #[test]
    fn a_character_split_across_quoted_fields_is_not_utf8() {
        let set = RulebookSet::builtin();
        let mut b = FactsBuilder::new(&set.versions()[0], MonthFilter::All, false);
        let input: &[u8] = b"partner_id,name\n\"P\xcb\",\"\x92x\"\n";
        let e = read_from(Table::Partners, Path::new("p.csv"), input, &mut b).unwrap_err();
        assert!(
            e.to_string().contains("line 2, column 1 (partner_id)"),
            "{e}"
        );
        assert!(e.to_string().contains("not UTF-8"), "{e}");
    }

    /// All records of `text` as (first line, fields), read through a buffer
    /// of `capacity` bytes.
    fn all_records(text: &str, capacity: usize) -> Vec<(u64, Vec<String>)> {
        let mut r = Records::new(BufReader::with_capacity(capacity, text.as_bytes()), 0);
        let mut out = Vec::new();
        while let Some(line) = r.next_record(Path::new("t.csv")).unwrap() {
            let t = r.text().unwrap();
            out.push((
                line,
                (0..r.len()).map(|i| r.field(t, i).to_string()).collect(),
            ));
        }
        out
    }

    proptest::proptest! {
        #[test]
        fn commas_split_as_a_byte_search_does(line in "[,a+\\-\u{ac}\u{12c}\u{e9}]{0,40}") {
            let mut fields = Vec::new();
            split_commas(line.as_bytes(), &mut fields);
            let mut expected = Vec::new();
            let mut start = 0;
            for i in memchr::memchr_iter(b',', line.as_bytes()) {
                expected.push((start, i));
                start = i + 1;
            }
            expected.push((start, line.len()));
            proptest::prop_assert_eq!(fields, expected);
        }
    }

    #[test]
    fn quotes_are_found_whatever_the_buffer_size() {
        let text =
            "a,b,c\n1,\"x,y\",3\n\n4,5,6\r\n\"multi\nline\",\"q\"\"q\",9\n7,8,9\n\"\",,\"end\"";
        let expected = all_records(text, 1 << 16);
        assert_eq!(expected.len(), 6);
        assert_eq!(expected[1], (2, vec!["1".into(), "x,y".into(), "3".into()]));
        assert_eq!(
            expected[3],
            (5, vec!["multi\nline".into(), "q\"q".into(), "9".into()])
        );
        for capacity in 1..=48 {
            assert_eq!(all_records(text, capacity), expected, "capacity {capacity}");
        }
    }

    #[test]
    fn cuts_follow_line_feeds_and_increase() {
        let f = sample(3000, None);
        let size = f.as_file().metadata().unwrap().len();
        let header_end = HEADER.len() as u64 + 1;
        let starts = cuts(f.path(), header_end, size, 7).unwrap();
        assert_eq!(starts.len(), 7, "{starts:?}");
        assert_eq!(starts[0], header_end);
        let text = std::fs::read(f.path()).unwrap();
        for w in starts.windows(2) {
            assert!(w[0] < w[1] && w[1] < size);
            assert_eq!(text[w[1] as usize - 1], b'\n');
        }
        // More parts than lines: one start per line at most.
        let tiny = sample(2, None);
        let size = tiny.as_file().metadata().unwrap().len();
        let starts = cuts(tiny.path(), header_end, size, 64).unwrap();
        assert!(starts.len() <= 3, "{starts:?}");
    }

    /// A file without multi-line values is read in parallel in one pass; one
    /// whose cuts fall inside quoted line breaks is read again serially. Both
    /// give what one thread gives, lines included.
    #[test]
    fn a_cut_inside_a_quoted_value_falls_back_to_one_thread() {
        let set = RulebookSet::builtin();
        let read = |path: &Path, threads: usize| {
            let mut b = FactsBuilder::new(&set.versions()[0], MonthFilter::All, true);
            let (rows, again) =
                read_split_counted(Table::Revenue, path, &mut b, threads, 0, None).unwrap();
            (b.finish(), rows, again)
        };
        let lines = |facts: &DatasetFacts| {
            let mut all: Vec<(String, u64)> = facts
                .partners
                .iter()
                .flat_map(|(id, p)| {
                    p.revenue
                        .values()
                        .flat_map(|a| a.lines.iter().map(|l| (id.clone(), *l)))
                })
                .collect();
            all.sort_unstable();
            all
        };
        // Single-line records only.
        let mut flat = tempfile::NamedTempFile::new().unwrap();
        writeln!(flat, "{HEADER}").unwrap();
        for i in 0..4000 {
            writeln!(
                flat,
                "P{},T{},\"Name, {i}\",Sales,2023-10,{i},DPOR",
                i % 11,
                i % 5
            )
            .unwrap();
        }
        flat.flush().unwrap();
        let (one, rows1, _) = read(flat.path(), 1);
        let (four, rows4, again) = read(flat.path(), 4);
        assert!(!again, "single-line records need no second pass");
        assert_eq!((rows1, lines(&one)), (rows4, lines(&four)));
        // A bad value in the last part is reported on its line in the file.
        writeln!(flat, "P1,T1,x,Sales,2023-10,abc,DPOR").unwrap();
        flat.flush().unwrap();
        let mut b = FactsBuilder::new(&set.versions()[0], MonthFilter::All, false);
        let e = read_split_counted(Table::Revenue, flat.path(), &mut b, 4, 0, None).unwrap_err();
        assert!(e.to_string().contains("line 4002, column 6"), "{e}");
        // Every record spans two lines, the first much longer: cuts fall
        // inside quoted values.
        let mut tall = tempfile::NamedTempFile::new().unwrap();
        writeln!(tall, "{HEADER}").unwrap();
        let long = "x".repeat(300);
        for i in 0..4000 {
            writeln!(
                tall,
                "P{},T{},\"{long}\n{i}\",Sales,2023-10,{i},DPOR",
                i % 11,
                i % 5
            )
            .unwrap();
        }
        tall.flush().unwrap();
        let text = std::fs::read(tall.path()).unwrap();
        let size = text.len() as u64;
        let header_end = HEADER.len() as u64 + 1;
        let inside = cuts(tall.path(), header_end, size, 4)
            .unwrap()
            .iter()
            .any(|&c| memchr::memchr_iter(b'"', &text[..c as usize]).count() % 2 == 1);
        assert!(inside, "the sample has a cut inside a quoted value");
        let (one, rows1, _) = read(tall.path(), 1);
        let (four, rows4, again) = read(tall.path(), 4);
        assert!(again, "a cut inside a quoted value is detected");
        assert_eq!((rows1, lines(&one)), (rows4, lines(&four)));
        assert_eq!(lines(&four).iter().map(|(_, l)| *l).max(), Some(8000));
    }

    #[test]
    fn parallel_reading_gives_the_same_facts_and_lines() {
        let f = sample(5000, None);
        let (one, rows1) = load(f.path(), 1).unwrap();
        let (four, rows4) = load(f.path(), 4).unwrap();
        assert_eq!(rows1, 5000);
        assert_eq!(rows1, rows4);
        assert_eq!(one.partners.len(), four.partners.len());
        for (id, a) in &one.partners {
            let b = &four.partners[id];
            let mut la: Vec<_> = a.revenue.values().flat_map(|x| x.lines.clone()).collect();
            let mut lb: Vec<_> = b.revenue.values().flat_map(|x| x.lines.clone()).collect();
            la.sort_unstable();
            lb.sort_unstable();
            assert_eq!(la, lb, "partner {id}");
            let sum = |f: &pcs_core::facts::PartnerFacts| {
                f.revenue
                    .values()
                    .map(|x| x.amount)
                    .sum::<pcs_core::Decimal>()
            };
            assert_eq!(sum(a), sum(b));
        }
    }

    #[test]
    fn the_first_error_in_file_order_is_reported_with_its_line() {
        let f = sample(5000, Some(4321));
        let one = load(f.path(), 1).unwrap_err().to_string();
        let four = load(f.path(), 4).unwrap_err().to_string();
        assert_eq!(one, four);
        assert!(one.contains("value 'abc'"), "{one}");
        // Row 4321 is on line 4321 + 2 + one extra line per multi-line name before it.
        let extra = (0..4321).filter(|i| i % 7 == 3).count();
        assert!(one.contains(&format!("line {}", 4321 + 2 + extra)), "{one}");
    }
}
