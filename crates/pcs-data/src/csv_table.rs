//! Streaming a CSV table into the facts builder.

use std::fs::File;
use std::io::{BufRead, BufReader, Read, Seek, SeekFrom};

use rayon::prelude::*;
use std::path::Path;

use pcs_core::facts::{FactsBuilder, Table};

use crate::dialect::CsvDialect;
use crate::error::{DataError, ErrorKind};
use crate::record::parse_decimal;
use crate::record::{Loc, feed};
use crate::schema::{
    HeaderMap, HeaderProblem, MAX_COLUMNS, ValueKind, columns, is_free_text, match_header,
};
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
pub(crate) struct Header {
    names: Vec<String>,
    pub(crate) map: HeaderMap,
    pub(crate) dialect: CsvDialect,
}

/// CSV records, exactly as the csv crate reads them (its default dialect, with
/// the delimiter given): a record is ended by `\n`, `\r\n` or a lone `\r`,
/// empty lines are skipped, and a quote opens a quoted field only at the start
/// of a field. The input is read in large blocks into one buffer and records
/// are sliced from it where they lie: nothing is copied per line. A line with
/// neither a quote nor a lone `\r` is split at the delimiter directly (the
/// common case, several times faster than a general parser), and so is a line
/// whose quotes only enclose whole fields (`"Contoso, Ltd"`); any other record
/// goes through csv-core's parser, which decides where it ends. Line numbers
/// are counted here, exactly.
pub(crate) struct Records<R: Read> {
    input: R,
    /// Line feeds before the parse position (including those before the
    /// input started).
    line: u64,
    /// Bytes read from `input`.
    read: u64,
    /// The block buffer: bytes read but not parsed yet are `buf[pos..end]`;
    /// the current plain record's bytes lie before `pos`.
    buf: Vec<u8>,
    pos: usize,
    end: usize,
    /// How many bytes one read asks for.
    block: usize,
    /// Whether `input` has ended.
    eof: bool,
    /// The field delimiter.
    delimiter: u8,
    /// The current plain record's bytes in `buf`.
    span: (usize, usize),
    /// Field ranges in `buf` from `span.0` (plain records) or in `unquoted`
    /// (others).
    fields: Vec<(usize, usize)>,
    /// Whether the current record went through the general parser (its
    /// fields are in `unquoted`).
    quoted: bool,
    /// The fields of a record read by the general parser, unescaped.
    unquoted: Vec<u8>,
    /// Field ends in `unquoted`.
    ends: Vec<usize>,
    /// The general CSV parser, kept across records (as the csv crate keeps
    /// its own).
    parser: csv_core::Reader,
    /// Whether the input ended inside a quoted field.
    unterminated: bool,
    /// Whether a byte order mark may still start the input.
    bom_possible: bool,
    /// The lines the current record spans.
    record_lines: u64,
    /// Where the current record starts: its offset in the input and the
    /// line feeds before it (counting those before the input started).
    record_start: (u64, u64),
}

/// The size of the blocks a CSV table is read in.
const BLOCK: usize = 1 << 20;

impl<R: Read> Records<R> {
    /// Records of a whole comma-separated file, read in blocks of `block`
    /// bytes; see [`Records::with_delimiter`].
    #[cfg(test)]
    pub fn new(input: R, block: usize) -> Self {
        Records::with_block(input, 0, b',', true, block)
    }

    /// Records of `input`, which starts after `lines_before` line feeds. At
    /// the start of a file (`file_start`), a UTF-8 byte order mark is
    /// skipped, as the csv crate skips it.
    pub fn with_delimiter(input: R, lines_before: u64, delimiter: u8, file_start: bool) -> Self {
        Records::with_block(input, lines_before, delimiter, file_start, BLOCK)
    }

    /// [`Records::with_delimiter`], reading `block` bytes at a time (at
    /// least one; the tests read tiny blocks to cross every boundary).
    pub fn with_block(
        input: R,
        lines_before: u64,
        delimiter: u8,
        file_start: bool,
        block: usize,
    ) -> Self {
        let mut parser = csv_core::ReaderBuilder::new().delimiter(delimiter).build();
        // csv-core skips a byte order mark on its first read only: give it
        // that read now, so that a record starting mid-file with those bytes
        // keeps them. A one-byte record leaves it ready for the next one.
        let (mut out, mut ends) = ([0u8; 8], [0usize; 8]);
        let primed = parser.read_record(b"x\n", &mut out, &mut ends);
        debug_assert_eq!(primed.0, csv_core::ReadRecordResult::Record);
        let block = block.max(1);
        Records {
            input,
            line: lines_before,
            read: 0,
            buf: Vec::new(),
            pos: 0,
            end: 0,
            block,
            eof: false,
            delimiter,
            span: (0, 0),
            fields: Vec::with_capacity(16),
            quoted: false,
            unquoted: Vec::new(),
            ends: Vec::new(),
            parser,
            unterminated: false,
            bom_possible: file_start,
            record_lines: 0,
            record_start: (0, lines_before),
        }
    }

    /// Line feeds before the parse position (including those before the
    /// input started).
    pub fn lines(&self) -> u64 {
        self.line
    }

    /// Bytes of the input before the parse position.
    pub fn offset(&self) -> u64 {
        self.read - (self.end - self.pos) as u64
    }

    /// Whether the input ended inside a quoted field (the last record then
    /// holds what was read of it, as the csv crate's does).
    pub fn unterminated(&self) -> bool {
        self.unterminated
    }

    /// Where the current record starts: its offset in the input, and the
    /// line feeds before it (including those before the input started).
    pub fn record_start(&self) -> (u64, u64) {
        self.record_start
    }

    /// Reads one more block, keeping `buf[keep..end]` (moved to the start
    /// of the buffer); returns how far the kept bytes moved (`keep`). At
    /// the end of the input, sets `eof` and reads nothing.
    fn fill(&mut self, keep: usize, path: &Path) -> Result<usize, DataError> {
        self.buf.copy_within(keep..self.end, 0);
        self.end -= keep;
        self.pos -= keep;
        if self.buf.len() < self.end + self.block {
            self.buf.resize(self.end + self.block, 0);
        }
        let n = loop {
            match self
                .input
                .read(&mut self.buf[self.end..self.end + self.block])
            {
                Ok(n) => break n,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(DataError::new(ErrorKind::Io, path, e.to_string())),
            }
        };
        self.end += n;
        self.read += n as u64;
        self.eof = n == 0;
        Ok(keep)
    }

    /// Moves to the next record; returns its first line, or `None` at the end.
    pub fn next_record(&mut self, path: &Path) -> Result<Option<u64>, DataError> {
        if std::mem::take(&mut self.bom_possible) {
            // A byte order mark (which holds no line feed) at the very start.
            while self.end < 3 && !self.eof {
                self.fill(0, path)?;
            }
            if self.buf[..self.end].starts_with(b"\xef\xbb\xbf") {
                self.pos = 3;
            }
        }
        // Line endings where a record would start make empty records,
        // which the csv crate skips.
        loop {
            if self.pos == self.end {
                if self.eof {
                    return Ok(None);
                }
                self.fill(self.pos, path)?;
                continue;
            }
            match self.buf[self.pos] {
                b'\n' => self.line += 1,
                b'\r' => {}
                _ => break,
            }
            self.pos += 1;
        }
        let first_line = self.line + 1;
        self.record_start = (self.offset(), self.line);
        // Most lines: one pass finds the line feed and the delimiters
        // before it (the line then holds neither a quote nor a carriage
        // return, and is split as `split_plain` splits it).
        // (`scan_plain_line` needs a delimiter other than the bytes it
        // looks for besides.)
        if !matches!(self.delimiter, b'\n' | b'\r' | b'"')
            && let Some(len) = scan_plain_line(
                &self.buf[self.pos..self.end],
                self.delimiter,
                &mut self.fields,
            )
        {
            let start = self.pos;
            self.span = (start, start + len);
            self.line += 1;
            self.pos = start + len + 1;
            self.quoted = false;
            self.record_lines = 1;
            return Ok(Some(first_line));
        }
        // The line: up to its line feed, or to the end of the input.
        let mut searched = self.pos;
        let feed = loop {
            if let Some(i) = memchr::memchr(b'\n', &self.buf[searched..self.end]) {
                break Some(searched + i);
            }
            if self.eof {
                break None;
            }
            let before = self.end;
            searched = before - self.fill(self.pos, path)?;
        };
        let start = self.pos;
        let mut end = feed.unwrap_or(self.end);
        while end > start && matches!(self.buf[end - 1], b'\n' | b'\r') {
            end -= 1;
        }
        if split_plain(&self.buf[start..end], self.delimiter, &mut self.fields) {
            self.span = (start, end);
            self.line += u64::from(feed.is_some());
            self.pos = feed.map_or(self.end, |i| i + 1);
            self.quoted = false;
            self.record_lines = 1;
            return Ok(Some(first_line));
        }
        self.parse_general(path)?;
        Ok(Some(first_line))
    }

    /// Reads one record from the parse position with csv-core, reading
    /// more blocks while it needs them.
    fn parse_general(&mut self, path: &Path) -> Result<(), DataError> {
        use csv_core::ReadRecordResult as R;
        let mut start = self.pos;
        let line_at_start = self.line;
        let (mut outlen, mut endlen) = (0, 0);
        let mut at_end = false;
        loop {
            let input = if at_end {
                &[][..]
            } else {
                &self.buf[self.pos..self.end]
            };
            let need = outlen + input.len() + 1;
            if self.unquoted.len() < need {
                self.unquoted.resize(need.max(2 * self.unquoted.len()), 0);
            }
            if self.ends.len() < endlen + 2 {
                self.ends
                    .resize((endlen + 2).max(2 * self.ends.len()).max(16), 0);
            }
            let (result, nin, nout, nend) = self.parser.read_record(
                input,
                &mut self.unquoted[outlen..],
                &mut self.ends[endlen..],
            );
            self.line += memchr::memchr_iter(b'\n', &input[..nin]).count() as u64;
            self.pos += nin;
            outlen += nout;
            endlen += nend;
            match result {
                R::InputEmpty if !at_end => {
                    // The record's bytes stay in the buffer until it ends.
                    if !self.eof {
                        start -= self.fill(start, path)?;
                    }
                    if self.eof {
                        self.unterminated =
                            ends_in_quotes(&self.buf[start..self.end], self.delimiter);
                        at_end = true;
                    }
                }
                R::OutputFull | R::OutputEndsFull => {}
                R::Record | R::End | R::InputEmpty => break,
            }
        }
        // Line feeds inside the record, not the one that ends it.
        let ended_by_line_feed = self.pos > start && self.buf[self.pos - 1] == b'\n';
        self.record_lines = 1 + self.line - line_at_start - u64::from(ended_by_line_feed);
        self.quoted = true;
        self.fields.clear();
        let mut start = 0;
        for &end in &self.ends[..endlen] {
            self.fields.push((start, end));
            start = end;
        }
        Ok(())
    }

    /// The current record's bytes as text (fields are slices of it, see
    /// [`Records::field`]); on invalid UTF-8, the index and raw bytes of the
    /// first bad field.
    pub fn text(&self) -> Result<&str, (usize, &[u8])> {
        let bytes: &[u8] = if self.quoted {
            &self.unquoted[..self.fields.last().map_or(0, |f| f.1)]
        } else {
            &self.buf[self.span.0..self.span.1]
        };
        // Most records are text: one vectorised check of the whole line
        // (simdutf8's, several times faster than the standard library's on
        // lines of a hundred bytes); the error's place is found below.
        if !self.quoted
            && let Ok(text) = simdutf8::basic::from_utf8(bytes)
        {
            return Ok(text);
        }
        // Fields are checked one by one: unescaped fields are stored without
        // separators, so bytes of two fields could pass as one character.
        for (i, &(a, b)) in self.fields.iter().enumerate() {
            if std::str::from_utf8(&bytes[a..b]).is_err() {
                return Err((i, &bytes[a..b]));
            }
        }
        // Text fields joined directly or by an ASCII delimiter are text.
        Ok(std::str::from_utf8(bytes).expect("every field is UTF-8"))
    }

    /// The number of fields of the current record.
    pub fn len(&self) -> usize {
        self.fields.len()
    }

    /// Field `i` of the current record, from its [`Records::text`]. Field
    /// ranges fall on character boundaries: plain fields are split at an
    /// ASCII delimiter, and the others are each checked by `text`.
    pub fn field<'t>(&self, text: &'t str, i: usize) -> &'t str {
        let (a, b) = self.fields[i];
        &text[a..b]
    }

    /// The lines the current record spans (more than one only when a
    /// quoted value holds line breaks).
    pub fn record_lines(&self) -> u64 {
        self.record_lines
    }

    /// Whether the current record went through the general parser (only
    /// such a record can hold a line break inside a field).
    pub fn is_quoted(&self) -> bool {
        self.quoted
    }

    /// The bytes of field `i` of the current record, whether or not text.
    pub fn field_bytes(&self, i: usize) -> &[u8] {
        let (a, b) = self.fields[i];
        if self.quoted {
            &self.unquoted[a..b]
        } else {
            &self.buf[self.span.0 + a..self.span.0 + b]
        }
    }
}

/// One record: its first line and its fields' bytes.
pub type RawRecord = (u64, Vec<Vec<u8>>);

/// Every record of `input` as [`Records`] reads it through a buffer of
/// `capacity` bytes, and whether the input ended inside a quoted field. For
/// the differential tests against [`csv_crate_records`].
pub fn records_of(input: &[u8], delimiter: u8, capacity: usize) -> (Vec<RawRecord>, bool) {
    let mut r = Records::with_block(input, 0, delimiter, true, capacity);
    let mut out = Vec::new();
    while let Some(line) = r.next_record(Path::new("input")).expect("reading memory") {
        out.push((
            line,
            (0..r.len()).map(|i| r.field_bytes(i).to_vec()).collect(),
        ));
    }
    (out, r.unterminated())
}

/// Every record of `input` as the csv crate reads it (its default dialect,
/// headers taken as a record, any number of fields), with the line each
/// starts on: the csv crate gives the position before the line endings it
/// skipped, so these are counted past here.
pub fn csv_crate_records(input: &[u8], delimiter: u8) -> Vec<RawRecord> {
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .delimiter(delimiter)
        .from_reader(input);
    let mut out = Vec::new();
    let mut record = csv::ByteRecord::new();
    while reader
        .read_byte_record(&mut record)
        .expect("reading memory")
    {
        let mut at = record.position().expect("a position").byte() as usize;
        // The csv crate skips a byte order mark at the start, counted in
        // its positions.
        if at == 0 && input.starts_with(b"\xef\xbb\xbf") {
            at = 3;
        }
        while matches!(input.get(at), Some(b'\r' | b'\n')) {
            at += 1;
        }
        let line = 1 + memchr::memchr_iter(b'\n', &input[..at]).count() as u64;
        out.push((line, record.iter().map(<[u8]>::to_vec).collect()));
    }
    out
}

/// Whether the bytes of a record, read to the end of the input, end inside
/// a quoted field: a quote opens one at the start of a field, two quotes
/// inside stand for one, and a lone quote closes it (what follows, up to
/// the delimiter, belongs to the field as it is), as csv-core reads them.
fn ends_in_quotes(raw: &[u8], delimiter: u8) -> bool {
    #[derive(PartialEq)]
    enum State {
        FieldStart,
        Plain,
        Quoted,
        QuoteInQuoted,
    }
    let mut state = State::FieldStart;
    for &b in raw {
        state = match state {
            State::FieldStart | State::Plain if b == delimiter => State::FieldStart,
            State::FieldStart if b == b'"' => State::Quoted,
            State::FieldStart | State::Plain => State::Plain,
            State::Quoted if b == b'"' => State::QuoteInQuoted,
            State::Quoted => State::Quoted,
            State::QuoteInQuoted if b == b'"' => State::Quoted,
            State::QuoteInQuoted if b == delimiter => State::FieldStart,
            State::QuoteInQuoted => State::Plain,
        };
    }
    state == State::Quoted
}

/// Finds the first line feed of `bytes` and, before it, each `delimiter`,
/// 32 bytes at a time: one pass instead of a search for the line feed,
/// one for quotes and carriage returns and one for delimiters. Returns the
/// line's length (the line feed's index), with its fields in `fields` as
/// [`split_plain`] gives them, quoted fields included (`"Contoso, Ltd"`,
/// as [`split_quoted`] reads them); `None`, leaving `fields` unspecified,
/// for a line `split_plain` leaves to the general parser (a carriage
/// return, any other quote) or when `bytes` holds no line feed (the
/// general path reads those lines). `delimiter` is none of `\n`, `\r`
/// and `"`.
fn scan_plain_line(bytes: &[u8], delimiter: u8, fields: &mut Vec<(usize, usize)>) -> Option<usize> {
    use wide::{CmpEq, u8x32};
    let (feed, quote, cr, delim) = (
        u8x32::splat(b'\n'),
        u8x32::splat(b'"'),
        u8x32::splat(b'\r'),
        u8x32::splat(delimiter),
    );
    fields.clear();
    let mut scan = Quotes {
        start: 0,
        open: None,
        closed: None,
    };
    let mut at = 0;
    let mut chunks = bytes.chunks_exact(32);
    for chunk in &mut chunks {
        let v = u8x32::new(chunk.try_into().expect("32 bytes"));
        // Two masks, not three: the line feed, quote and carriage return
        // share one.
        let specials = (v.simd_eq(feed) | v.simd_eq(quote) | v.simd_eq(cr)).to_bitmask();
        let mut hits = v.simd_eq(delim).to_bitmask();
        if specials == 0 && scan.open.is_none() && scan.closed.is_none() {
            // Most steps: delimiters only.
            while hits != 0 {
                let i = at + hits.trailing_zeros() as usize;
                fields.push((scan.start, i));
                scan.start = i + 1;
                hits &= hits - 1;
            }
        } else if specials != 0 || scan.open.is_none() {
            // Every special byte and delimiter in order (inside a quoted
            // field, only its closing quote counts).
            let mut events = specials | hits;
            while events != 0 {
                let k = events.trailing_zeros() as usize;
                if let Some(end) = scan.byte(bytes, at + k, chunk[k], delimiter, fields)? {
                    return Some(end);
                }
                events &= events - 1;
            }
        }
        at += 32;
    }
    for (k, &c) in chunks.remainder().iter().enumerate() {
        if (matches!(c, b'\n' | b'"' | b'\r') || c == delimiter)
            && let Some(end) = scan.byte(bytes, at + k, c, delimiter, fields)?
        {
            return Some(end);
        }
    }
    None
}

/// Where [`scan_plain_line`] stands in a line: the current field's start,
/// and whether it is a quoted field still open (its first byte after the
/// quote) or closed (its range, which the next byte must end).
struct Quotes {
    start: usize,
    open: Option<usize>,
    closed: Option<(usize, usize)>,
}

impl Quotes {
    /// Takes special byte or delimiter `c` at `i`: `Some(Some(end))` at the
    /// line feed that ends the line, `Some(None)` to go on, `None` when the
    /// line is left to the general parser.
    #[inline(always)]
    fn byte(
        &mut self,
        bytes: &[u8],
        i: usize,
        c: u8,
        delimiter: u8,
        fields: &mut Vec<(usize, usize)>,
    ) -> Option<Option<usize>> {
        if c == b'\r' {
            return None;
        }
        if let Some(from) = self.open {
            // Inside a quoted field: a line feed or a delimiter is text;
            // the next quote closes it, and must be followed by the end of
            // the field.
            match c {
                b'"' => match bytes.get(i + 1) {
                    Some(&n) if n == delimiter || n == b'\n' => {
                        self.open = None;
                        self.closed = Some((from, i));
                    }
                    _ => return None,
                },
                b'\n' => return None,
                _ => {}
            }
            return Some(None);
        }
        match c {
            b'"' if i == self.start => {
                self.open = Some(i + 1);
                Some(None)
            }
            b'"' => None,
            _ => {
                fields.push(self.closed.take().unwrap_or((self.start, i)));
                self.start = i + 1;
                Some((c == b'\n').then_some(i))
            }
        }
    }
}

/// Splits a line (without its line ending) at `delimiter` into `fields`,
/// eight bytes at a time (fields are short, and a search call per field cost
/// more than this). A line with quotes is split by [`split_quoted`]. Returns
/// false, leaving `fields` unspecified, when the line holds a carriage return
/// or a quote that `split_quoted` leaves to the general parser.
fn split_plain(line: &[u8], delimiter: u8, fields: &mut Vec<(usize, usize)>) -> bool {
    const LOW7: u64 = 0x7f7f_7f7f_7f7f_7f7f;
    const ONES: u64 = 0x0101_0101_0101_0101;
    // A quote or a carriage return anywhere: one vectorised search of the
    // line before splitting, not a test of every eight bytes.
    if let Some(i) = memchr::memchr2(b'"', b'\r', line) {
        return line[i] == b'"'
            && memchr::memchr(b'\r', &line[i..]).is_none()
            && split_quoted(line, delimiter, fields);
    }
    let delimiters = ONES * u64::from(delimiter);
    fields.clear();
    let mut start = 0;
    let mut chunks = line.chunks_exact(8);
    let mut at = 0;
    for chunk in &mut chunks {
        let v = u64::from_le_bytes(chunk.try_into().expect("8 bytes"));
        let x = v ^ delimiters;
        // The high bit of each byte that was a delimiter (now zero); exact,
        // as adding 0x7f to a 7-bit value never carries into the next byte.
        let mut hits = !(((x & LOW7) + LOW7) | x | LOW7);
        while hits != 0 {
            let i = at + (hits.trailing_zeros() / 8) as usize;
            fields.push((start, i));
            start = i + 1;
            hits &= hits - 1;
        }
        at += 8;
    }
    for (k, &c) in chunks.remainder().iter().enumerate() {
        if c == delimiter {
            fields.push((start, at + k));
            start = at + k + 1;
        }
    }
    fields.push((start, line.len()));
    true
}

/// Splits a line with quotes, none of them a carriage return's neighbour,
/// when every quote is one of a pair around a whole field: the field starts
/// with a quote, the next quote ends it and the delimiter or the end of the
/// line follows (`"Contoso, Ltd"`, `""`). Such a field is its bytes between
/// the quotes, exactly as csv-core reads it; the ranges point into `line`.
/// Returns false, leaving `fields` unspecified, for any other quote (a
/// doubled quote inside a quoted field, a quote inside an unquoted field,
/// text after a closing quote, a quoted field running past the line): the
/// general parser reads those.
fn split_quoted(line: &[u8], delimiter: u8, fields: &mut Vec<(usize, usize)>) -> bool {
    if delimiter == b'"' {
        return false;
    }
    fields.clear();
    let mut at = 0;
    loop {
        if line.get(at) == Some(&b'"') {
            let Some(k) = memchr::memchr(b'"', &line[at + 1..]) else {
                return false;
            };
            let close = at + 1 + k;
            fields.push((at + 1, close));
            match line.get(close + 1) {
                None => return true,
                Some(&b) if b == delimiter => at = close + 2,
                Some(_) => return false,
            }
        } else {
            let rest = &line[at..];
            match memchr::memchr2(delimiter, b'"', rest) {
                Some(k) if rest[k] == b'"' => return false,
                Some(k) => {
                    fields.push((at, at + k));
                    at += k + 1;
                }
                None => {
                    fields.push((at, line.len()));
                    return true;
                }
            }
        }
    }
}

fn utf8_error(path: &Path, line: u64, i: usize, name: &str, bytes: &[u8]) -> DataError {
    DataError::new(ErrorKind::Format, path, "not UTF-8 text")
        .at_line(line)
        .in_column(i + 1, name)
        .with_value(&String::from_utf8_lossy(bytes))
}

/// Reads and matches the header row.
pub(crate) fn read_header<R: Read>(
    table: Table,
    path: &Path,
    records: &mut Records<R>,
    dialect: CsvDialect,
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
    Ok(Header {
        names,
        map,
        dialect,
    })
}

/// Reads `path` as the CSV table `table`, feeding every record to `builder`.
/// Large files are split at record boundaries and read by `threads` threads,
/// each into its own builder; the parts are merged in file order. Returns the
/// number of data records.
pub(crate) fn read(
    table: Table,
    path: &Path,
    dialect: CsvDialect,
    builder: &mut FactsBuilder<'_>,
    threads: usize,
    progress: Option<&Progress>,
) -> Result<u64, DataError> {
    let split = Split {
        threads,
        min_bytes: PARALLEL_MIN_BYTES,
        block: BLOCK,
    };
    read_split(table, path, dialect, builder, split, progress)
}

/// How a CSV file is read: in `threads` parts when it has `min_bytes`
/// bytes or more, each part in blocks of `block` bytes.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Split {
    /// Parts (threads) at most.
    pub threads: usize,
    /// Smaller files are read by one thread.
    pub min_bytes: u64,
    /// Bytes per read.
    pub block: usize,
}

/// Reads a large file in parts, one per thread, without a first pass over
/// it, each part in blocks of `block` bytes.
///
/// The file is cut just after the first line feed at or after each of
/// `threads` equal offsets, assuming that line feed ends a record, and every
/// part is parsed at once: the first straight into `builder`, the others
/// each into a part of their own with line numbers counted from its start.
/// The assumption is then checked in file order: a part that ends inside a
/// quoted field shows that the next cut fell inside a multi-line value, and
/// the file is read again by one thread from the start of the record that
/// cut split (the first part) or from the start of that part (a later one,
/// after the parts before it). Otherwise each later part's line numbers
/// (facts, warnings, the first error) are shifted by the line feeds of the
/// parts before it, and the parts are merged in file order. On an error,
/// `builder` may hold some of the file's records: the read is abandoned.
pub(crate) fn read_split(
    table: Table,
    path: &Path,
    dialect: CsvDialect,
    builder: &mut FactsBuilder<'_>,
    split: Split,
    progress: Option<&Progress>,
) -> Result<u64, DataError> {
    read_split_counted(table, path, dialect, builder, split, progress).map(|(rows, _)| rows)
}

/// [`read_split`], also saying whether it had to read the file again serially.
fn read_split_counted<'b>(
    table: Table,
    path: &Path,
    dialect: CsvDialect,
    builder: &mut FactsBuilder<'b>,
    split: Split,
    progress: Option<&Progress>,
) -> Result<(u64, bool), DataError> {
    let Split {
        threads,
        min_bytes: parallel_min_bytes,
        block,
    } = split;
    let io = |e: std::io::Error| DataError::new(ErrorKind::Io, path, e.to_string());
    let file = File::open(path).map_err(io)?;
    let size = file.metadata().map_err(io)?.len();
    if threads <= 1 || size < parallel_min_bytes {
        let mut records = Records::with_block(file, 0, dialect.delimiter, true, block);
        let header = read_header(table, path, &mut records, dialect)?;
        return read_records(table, path, &header, &mut records, builder).map(|rows| (rows, false));
    }
    let mut records = Records::with_block(file, 0, dialect.delimiter, true, 1 << 16);
    let header = read_header(table, path, &mut records, dialect)?;
    let header_end = records.offset();
    let header_lines = records.lines();
    let starts = cuts(path, header_end, size, threads)?;
    let ranges: Vec<(u64, u64)> = starts
        .iter()
        .zip(starts.iter().skip(1).chain([&size]))
        .map(|(&a, &b)| (a, b))
        .collect();
    let read_range = |mut part: FactsBuilder<'b>, from: u64, to: u64, lines_before: u64| {
        let mut records = range_records(path, (from, to, lines_before), dialect, block, progress)?;
        let rows = read_records(table, path, &header, &mut records, &mut part);
        Ok::<_, DataError>(Part {
            rows: rows.map(|n| (part, n)),
            lines: records.lines() - lines_before,
            unterminated: records.unterminated(),
        })
    };
    // The first part goes straight into `builder` (its lines counted from
    // the header: nothing to shift or merge); the others into parts, at
    // the same time.
    let empties: Vec<FactsBuilder<'b>> = ranges[1..].iter().map(|_| builder.empty_like()).collect();
    let (first, rest) = rayon::join(
        || {
            read_first_part(
                table,
                path,
                dialect,
                &header,
                builder,
                (header_end, ranges[0].1, header_lines),
                block,
                progress,
            )
        },
        || {
            ranges[1..]
                .par_iter()
                .zip(empties)
                .map(|(&(from, to), part)| read_range(part, from, to, 0))
                .collect::<Vec<Result<Part<'_>, DataError>>>()
        },
    );
    // After a cut inside a quoted value: the rest of the file from `from`
    // (a record's start, after `lines` line feeds), by one thread, in order.
    let read_on = |builder: &mut FactsBuilder<'b>, from: u64, lines: u64| {
        let mut records = range_records(path, (from, size, lines), dialect, block, progress)?;
        read_records(table, path, &header, &mut records, builder)
    };
    let first = first?;
    if let Some((offset, lines)) = first.resume.filter(|_| !rest.is_empty()) {
        // The first cut fell inside a quoted value: the records before the
        // one it cut are in `builder`; that one and the rest follow them.
        drop(rest);
        return Ok((first.rows + read_on(builder, offset, lines)?, true));
    }
    first.error.map_or(Ok(()), Err)?;
    let mut rows = first.rows;
    let mut lines_before = header_lines + first.lines;
    let mut done = Vec::with_capacity(rest.len());
    let last = rest.len().saturating_sub(1);
    for (k, part) in rest.into_iter().enumerate() {
        let part = part?;
        if part.unterminated && k < last {
            // A later cut fell inside a quoted value: the parts before this
            // one are merged, and the file is read on from this part's
            // start (a record's start: the parts before it ended outside
            // quotes).
            for (facts, m) in done {
                builder.merge_on(facts, threads);
                rows += m;
            }
            return Ok((
                rows + read_on(builder, ranges[1 + k].0, lines_before)?,
                true,
            ));
        }
        let (mut facts, n) = part.rows.map_err(|e| e.shift_line(lines_before))?;
        facts.shift_lines(lines_before);
        lines_before += part.lines;
        done.push((facts, n));
    }
    for (part, n) in done {
        builder.merge_on(part, threads);
        rows += n;
    }
    Ok((rows, false))
}

/// The records of the bytes `from..to` of the file at `path`, which start
/// after `lines_before` line feeds (not at the start of the file: no byte
/// order mark is skipped).
fn range_records<'p>(
    path: &Path,
    (from, to, lines_before): (u64, u64, u64),
    dialect: CsvDialect,
    block: usize,
    progress: Option<&'p Progress>,
) -> Result<Records<Counted<'p, std::io::Take<File>>>, DataError> {
    let io = |e: std::io::Error| DataError::new(ErrorKind::Io, path, e.to_string());
    let mut file = File::open(path).map_err(io)?;
    file.seek(SeekFrom::Start(from)).map_err(io)?;
    let input = Counted {
        inner: file.take(to - from),
        progress,
    };
    Ok(Records::with_block(
        input,
        lines_before,
        dialect.delimiter,
        false,
        block,
    ))
}

/// The first part of a split file, read into the builder itself.
struct FirstPart {
    /// Records added.
    rows: u64,
    /// Line feeds read.
    lines: u64,
    /// The first error, if the part has one (records before it are added).
    error: Option<DataError>,
    /// When the part ends inside a quoted value: where the record it cut
    /// starts (offset in the file, line feeds before it), the records
    /// before it being added.
    resume: Option<(u64, u64)>,
}

/// Reads the first part of a split file (`from`, `to`, and the line feeds
/// before `from`) into `builder`.
#[allow(clippy::too_many_arguments)]
fn read_first_part(
    table: Table,
    path: &Path,
    dialect: CsvDialect,
    header: &Header,
    builder: &mut FactsBuilder<'_>,
    (from, to, lines_before): (u64, u64, u64),
    block: usize,
    progress: Option<&Progress>,
) -> Result<FirstPart, DataError> {
    let mut records = range_records(path, (from, to, lines_before), dialect, block, progress)?;
    let mut rows = 0;
    let result = each_record(table, path, header, &mut records, |values, loc| {
        feed(values, loc, builder)?;
        rows += 1;
        Ok(())
    });
    let resume = records.unterminated().then(|| {
        let (offset, lines) = records.record_start();
        (from + offset, lines)
    });
    Ok(FirstPart {
        rows,
        lines: records.lines() - lines_before,
        error: result.err(),
        resume,
    })
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
    dialect: CsvDialect,
    input: impl Read,
    builder: &mut FactsBuilder<'_>,
) -> Result<u64, DataError> {
    let mut records = Records::with_delimiter(input, 0, dialect.delimiter, true);
    let header = read_header(table, path, &mut records, dialect)?;
    read_records(table, path, &header, &mut records, builder)
}

/// Feeds every record after the header to `builder`.
fn read_records<R: Read>(
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
    dialect: CsvDialect,
    f: impl FnMut(&[&str], &Loc<'_>) -> Result<(), DataError>,
) -> Result<u64, DataError> {
    let file = File::open(path).map_err(|e| DataError::new(ErrorKind::Io, path, e.to_string()))?;
    let mut records = Records::with_delimiter(file, 0, dialect.delimiter, true);
    let header = read_header(table, path, &mut records, dialect)?;
    each_record(table, path, &header, &mut records, f)
}

/// Calls `f` with the values of every record of `records` (read after the
/// header), each checked as a full read checks it.
pub(crate) fn each_record<R: Read>(
    table: Table,
    path: &Path,
    header: &Header,
    records: &mut Records<R>,
    mut f: impl FnMut(&[&str], &Loc<'_>) -> Result<(), DataError>,
) -> Result<u64, DataError> {
    let specs = columns(table);
    let mut rows = 0u64;
    let width = header.names.len();
    // Numbers written with a decimal comma, rewritten with a point.
    let mut rewritten: Vec<String> = vec![String::new(); specs.len()];
    while let Some(line) = records.next_record(path)? {
        // Every field must be text, the ignored ones too.
        let text = records.text().map_err(|(i, bytes)| {
            let name = header.names.get(i).map(String::as_str).unwrap_or("");
            utf8_error(path, line, i, name, bytes)
        })?;
        if records.unterminated() {
            let i = records.len() - 1;
            let name = header.names.get(i).map(String::as_str).unwrap_or("");
            return Err(DataError::new(
                ErrorKind::Format,
                path,
                "a quoted value is not closed before the end of the file (a quote at the start of a field opens a quoted value)",
            )
            .at_line(line)
            .in_column(i + 1, name)
            .with_value(&shown(records.field(text, i))));
        }
        if records.len() != width {
            // Lines counted within the record, so that the message is the
            // same whichever part of a split file read it.
            let lines = records.record_lines();
            let spans = if lines > 1 {
                format!(
                    " (it runs over {lines} lines: a quote at the start of a field opens a quoted value that runs to the next quote)"
                )
            } else {
                String::new()
            };
            return Err(DataError::new(
                ErrorKind::Format,
                path,
                format!(
                    "this record has {} fields, the header has {width}{spans}",
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
        if records.is_quoted() {
            // Only a free-text column may hold a line break: anywhere else
            // it is a quote that swallowed the lines after it.
            for (c, spec) in specs.iter().enumerate() {
                if !is_free_text(spec.name) && values[c].contains(['\n', '\r']) {
                    return Err(loc.value_error(
                        c,
                        &shown(values[c]),
                        "a line break inside a value (a quote at the start of a field opens a quoted value that runs to the next quote)",
                    ));
                }
            }
        }
        if header.dialect.decimal_comma {
            for (c, spec) in specs.iter().enumerate() {
                if spec.kind() == ValueKind::Number && values[c].contains([',', '.']) {
                    let v = values[c];
                    if v.contains('.') || v.matches(',').count() > 1 {
                        return Err(loc.value_error(
                            c,
                            v,
                            "not a number with a decimal comma (this file is read with decimal commas: no '.' and no thousands separators; --decimal-point reads '.')",
                        ));
                    }
                    rewritten[c].clear();
                    rewritten[c].push_str(&v.replace(',', "."));
                }
            }
            for (c, spec) in specs.iter().enumerate() {
                if spec.kind() == ValueKind::Number && values[c].contains(',') {
                    if parse_decimal(rewritten[c].trim()).is_none() {
                        return Err(loc.value_error(c, values[c], "not a number"));
                    }
                    values[c] = &rewritten[c];
                }
            }
        }
        f(&values[..specs.len()], &loc)?;
        rows += 1;
    }
    Ok(rows)
}

/// A long value for a message: cut after 80 characters (marked with `…`);
/// messages show line breaks escaped.
fn shown(value: &str) -> String {
    let mut out: String = value.chars().take(80).collect();
    if value.chars().nth(80).is_some() {
        out.push('…');
    }
    out
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
        let rows = read_split(
            Table::Revenue,
            path,
            CsvDialect::default(),
            &mut b,
            Split {
                threads,
                min_bytes: 0,
                block: 7,
            },
            None,
        )?;
        Ok((b.finish(), rows))
    }

    /// Found by the fuzzer: two quoted fields whose bytes, side by side,
    /// look like one character.
    #[test]
    fn a_character_split_across_quoted_fields_is_not_utf8() {
        let set = RulebookSet::builtin();
        let mut b = FactsBuilder::new(&set.versions()[0], MonthFilter::All, false);
        let input: &[u8] = b"partner_id,name\n\"P\xcb\",\"\x92x\"\n";
        let e = read_from(
            Table::Partners,
            Path::new("p.csv"),
            CsvDialect::default(),
            input,
            &mut b,
        )
        .unwrap_err();
        assert!(
            e.to_string().contains("line 2, column 1 (partner_id)"),
            "{e}"
        );
        assert!(e.to_string().contains("not UTF-8"), "{e}");
    }

    /// All records of `text` as (first line, fields), read through a buffer
    /// of `capacity` bytes.
    fn all_records(text: &str, capacity: usize) -> Vec<(u64, Vec<String>)> {
        let mut r = Records::new(text.as_bytes(), capacity);
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
            proptest::prop_assert!(split_plain(line.as_bytes(), b',', &mut fields));
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

    proptest::proptest! {
        /// The one-pass scan ends a line where a search for its line feed
        /// does, gives way on the lines `split_plain` gives way on (a
        /// carriage return, a quote other than around a whole field), and
        /// splits what it ends as `split_plain` splits the line (bytes
        /// either side of the 32-byte steps included).
        #[test]
        fn a_scanned_line_is_the_line_split(
            bytes in proptest::collection::vec(
                proptest::sample::select(b";,a\n\r\"\xc3\xa9 ".to_vec()), 0..100),
            delimiter in proptest::sample::select(b",;a".to_vec()),
        ) {
            let mut fields = Vec::new();
            let got = scan_plain_line(&bytes, delimiter, &mut fields);
            let feed = memchr::memchr(b'\n', &bytes);
            let mut expected = Vec::new();
            match feed {
                Some(f) if split_plain(&bytes[..f], delimiter, &mut expected) => {
                    proptest::prop_assert_eq!(got, Some(f));
                    proptest::prop_assert_eq!(fields, expected);
                }
                _ => proptest::prop_assert_eq!(got, None),
            }
        }

        /// Lines of quoted and plain fields (quotes, delimiters, line
        /// feeds and carriage returns inside them too, at any offset from
        /// the 32-byte steps) are scanned as `split_plain` splits them.
        #[test]
        fn a_line_of_quoted_fields_is_scanned_as_it_is_split(
            lead in 0usize..40,
            cells in proptest::collection::vec(
                (proptest::bool::ANY, "[a-z ,;\"\r\né]{0,12}"), 1..8),
            tail in "[a-z,\"\n]{0,6}",
        ) {
            let mut line = "x".repeat(lead);
            for (i, (quoted, text)) in cells.iter().enumerate() {
                if i > 0 {
                    line.push(',');
                }
                if *quoted {
                    line.push('"');
                    line.push_str(text);
                    line.push('"');
                } else {
                    line.push_str(text);
                }
            }
            line.push('\n');
            line.push_str(&tail);
            let bytes = line.as_bytes();
            let mut fields = Vec::new();
            let got = scan_plain_line(bytes, b',', &mut fields);
            let f = memchr::memchr(b'\n', bytes).expect("a line feed");
            let mut expected = Vec::new();
            if split_plain(&bytes[..f], b',', &mut expected) {
                proptest::prop_assert_eq!(got, Some(f));
                proptest::prop_assert_eq!(fields, expected);
            } else {
                proptest::prop_assert_eq!(got, None);
            }
        }
    }

    #[test]
    fn a_long_line_is_scanned_across_many_steps() {
        let line = format!("{}\n", ["x"; 200].join(","));
        let mut fields = Vec::new();
        assert_eq!(
            scan_plain_line(line.as_bytes(), b',', &mut fields),
            Some(399)
        );
        assert_eq!(fields.len(), 200);
        assert_eq!(fields[199], (398, 399));
        assert_eq!(
            scan_plain_line(&line.as_bytes()[..399], b',', &mut fields),
            None
        );
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
            let (rows, again) = read_split_counted(
                Table::Revenue,
                path,
                CsvDialect::default(),
                &mut b,
                Split {
                    threads,
                    min_bytes: 0,
                    block: 13,
                },
                None,
            )
            .unwrap();
            (b.finish(), rows, again)
        };
        let lines = |facts: &DatasetFacts| {
            let mut all: Vec<(String, u64)> = facts
                .partners
                .iter()
                .flat_map(|(id, p)| {
                    p.traces()
                        .revenue
                        .values()
                        .flat_map(|a| a.lines().iter().map(|l| (id.clone(), *l)))
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
        let e = read_split_counted(
            Table::Revenue,
            flat.path(),
            CsvDialect::default(),
            &mut b,
            Split {
                threads: 4,
                min_bytes: 0,
                block: BLOCK,
            },
            None,
        )
        .unwrap_err();
        assert!(e.to_string().contains("line 4002, column 6"), "{e}");
        // Every record spans two lines, the first much longer: cuts fall
        // inside quoted values.
        let long = "x".repeat(300);
        let two_line = |f: &mut tempfile::NamedTempFile, n: usize, (p, t): (usize, usize)| {
            for i in 0..n {
                writeln!(
                    f,
                    "P{},T{},\"{long}\n{i}\",Sales,2023-10,{i},DPOR",
                    i % p,
                    i % t
                )
                .unwrap();
            }
            f.flush().unwrap();
        };
        let header_end = HEADER.len() as u64 + 1;
        // Whether each cut into `threads` parts falls inside a quoted value.
        let cuts_inside = |path: &Path, threads: usize| -> Vec<bool> {
            let text = std::fs::read(path).unwrap();
            cuts(path, header_end, text.len() as u64, threads).unwrap()[1..]
                .iter()
                .map(|&c| memchr::memchr_iter(b'"', &text[..c as usize]).count() % 2 == 1)
                .collect()
        };
        let mut tall = tempfile::NamedTempFile::new().unwrap();
        writeln!(tall, "{HEADER}").unwrap();
        two_line(&mut tall, 4000, (11, 5));
        assert!(
            cuts_inside(tall.path(), 4).contains(&true),
            "the sample has a cut inside a quoted value"
        );
        let (one, rows1, _) = read(tall.path(), 1);
        let (four, rows4, again) = read(tall.path(), 4);
        assert!(again, "a cut inside a quoted value is detected");
        assert_eq!((rows1, lines(&one)), (rows4, lines(&four)));
        assert_eq!(lines(&four).iter().map(|(_, l)| *l).max(), Some(8000));
        // Whichever cut falls inside a quoted value: the first (the first
        // part, read into the builder itself, is resumed from the record it
        // cut) or a later one (the parts from there are read again).
        for threads in [2, 3, 5, 8] {
            let inside = cuts_inside(tall.path(), threads);
            let (n, rows_n, again) = read(tall.path(), threads);
            assert_eq!(again, inside.contains(&true), "{threads} threads");
            assert_eq!(
                (rows1, lines(&one)),
                (rows_n, lines(&n)),
                "{threads} threads"
            );
            assert_eq!(one.partners, n.partners, "{threads} threads");
        }
        assert!(
            cuts_inside(tall.path(), 2)[0],
            "the sample's cut into two parts is inside quotes"
        );
        // Single-line records, then two-line ones: in four parts, the first
        // cut falls between records and a later one inside quotes.
        let mut mixed = tempfile::NamedTempFile::new().unwrap();
        writeln!(mixed, "{HEADER}").unwrap();
        for i in 0..12000 {
            writeln!(
                mixed,
                "P{},T{},Name {i},Sales,2023-10,{i},DPOR",
                i % 11,
                i % 5
            )
            .unwrap();
        }
        two_line(&mut mixed, 2000, (7, 3));
        let inside = cuts_inside(mixed.path(), 4);
        assert!(!inside[0] && inside[1..].contains(&true), "{inside:?}");
        let (one, rows1, _) = read(mixed.path(), 1);
        let (four, rows4, again) = read(mixed.path(), 4);
        assert!(again);
        assert_eq!((rows1, lines(&one)), (rows4, lines(&four)));
        assert_eq!(one.partners, four.partners);
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
            let mut la: Vec<_> = a
                .traces()
                .revenue
                .values()
                .flat_map(|x| x.lines().to_vec())
                .collect();
            let mut lb: Vec<_> = b
                .traces()
                .revenue
                .values()
                .flat_map(|x| x.lines().to_vec())
                .collect();
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

    /// The records of `input` through every buffer size from 1 to 40 bytes
    /// and a large one, checked equal to the csv crate's.
    fn check_like_the_csv_crate(input: &[u8], delimiter: u8) {
        let expected = csv_crate_records(input, delimiter);
        for capacity in (1..=40).chain([1 << 16]) {
            let (got, _) = records_of(input, delimiter, capacity);
            assert_eq!(
                got,
                expected,
                "capacity {capacity}, input {:?}",
                String::from_utf8_lossy(input)
            );
        }
        assert_eq!(
            records_of(input, delimiter, 1 << 16).1,
            ends_inside_quotes_by_the_csv_crate(input, delimiter),
            "unterminated, input {:?}",
            String::from_utf8_lossy(input)
        );
    }

    /// Whether the csv crate ends `input` inside a quoted field: then a line
    /// feed added at the end lands in the last field instead of ending it.
    fn ends_inside_quotes_by_the_csv_crate(input: &[u8], delimiter: u8) -> bool {
        let mut longer = input.to_vec();
        longer.push(b'\n');
        let (a, b) = (
            csv_crate_records(input, delimiter),
            csv_crate_records(&longer, delimiter),
        );
        a.len() == b.len()
            && a.last().zip(b.last()).is_some_and(|(x, y)| {
                x.1.last().map(|f| [f.as_slice(), b"\n"].concat()) == y.1.last().cloned()
            })
    }

    proptest::proptest! {
        /// The fast path reads what the csv crate reads, record for record,
        /// field for field and line for line, on text made of the bytes that
        /// matter (quotes, delimiters, both line endings, a byte order mark).
        #[test]
        fn records_are_the_csv_crates(
            text in "(\u{feff})?[a\",;\r\n\u{e9}]{0,60}",
            semicolon in proptest::bool::ANY,
        ) {
            check_like_the_csv_crate(text.as_bytes(), if semicolon { b';' } else { b',' });
        }
    }

    /// Lines whose quotes enclose whole fields: the shape of real exports
    /// (`"Contoso, Ltd"`), now split without the general parser.
    fn quoted_lines() -> impl proptest::strategy::Strategy<Value = String> {
        use proptest::prelude::*;
        let field = prop_oneof![
            "[a \u{e9}]{0,4}",
            "[a,; \u{e9}]{0,4}".prop_map(|f| format!("\"{f}\"")),
        ];
        let line = proptest::collection::vec(field, 1..5).prop_map(|f| f.join(","));
        proptest::collection::vec(line, 0..5).prop_map(|l| l.join("\n"))
    }

    proptest::proptest! {
        /// Records whose quotes enclose whole fields are the csv crate's,
        /// through every buffer size.
        #[test]
        fn quoted_fields_are_the_csv_crates(text in quoted_lines()) {
            check_like_the_csv_crate(text.as_bytes(), b',');
        }
    }

    #[test]
    fn quotes_around_whole_fields_are_split_directly() {
        let mut fields = Vec::new();
        let line = br#"1,"x,y",,"",z"#;
        assert!(split_plain(line, b',', &mut fields));
        let got: Vec<&[u8]> = fields.iter().map(|&(a, b)| &line[a..b]).collect();
        assert_eq!(got, [&b"1"[..], b"x,y", b"", b"", b"z"]);
        assert!(split_plain(br#""a""#, b',', &mut fields));
        assert_eq!(fields, [(1, 2)]);
        // Left to the general parser: a doubled quote, a quote inside an
        // unquoted field, text after a closing quote, an unclosed quote, a
        // carriage return, a quote as the delimiter.
        for line in [
            &br#""q""q",1"#[..],
            br#"a"b,1"#,
            br#""a"b,1"#,
            br#"1,"open"#,
            b"\"a\",b\rc",
        ] {
            assert!(!split_plain(line, b',', &mut fields), "{line:?}");
        }
        assert!(!split_quoted(br#""a""b""#, b'"', &mut fields));
    }

    /// The regressions of the issue "Real data in": a quote inside an
    /// unquoted field is a character, as in the csv crate, Python's csv
    /// module and DuckDB; the records after it are all read.
    #[test]
    fn a_quote_inside_a_field_is_a_character() {
        let text = "a,b,c\n1,ab\"cd,3\n4,Contoso \"West\",6\n7,27\" monitors,9\n10,\"q\" x,12\n";
        let (records, unterminated) = records_of(text.as_bytes(), b',', 1 << 16);
        assert!(!unterminated);
        let fields: Vec<Vec<String>> = records
            .iter()
            .map(|(_, f)| {
                f.iter()
                    .map(|b| String::from_utf8_lossy(b).into_owned())
                    .collect()
            })
            .collect();
        assert_eq!(fields.len(), 5);
        assert_eq!(fields[1], ["1", "ab\"cd", "3"]);
        assert_eq!(fields[2], ["4", "Contoso \"West\"", "6"]);
        assert_eq!(fields[3], ["7", "27\" monitors", "9"]);
        assert_eq!(fields[4], ["10", "q x", "12"]);
        check_like_the_csv_crate(text.as_bytes(), b',');
    }

    /// A lone carriage return ends a record (old Mac files), as in the csv
    /// crate; a byte order mark at the start is skipped.
    #[test]
    fn lone_carriage_returns_and_byte_order_marks() {
        let text = "\u{feff}a,b\r1,2\r\r3,4\r\n5,6";
        let (records, _) = records_of(text.as_bytes(), b',', 1 << 16);
        let lines: Vec<u64> = records.iter().map(|(l, _)| *l).collect();
        assert_eq!(records.len(), 4);
        assert_eq!(records[0].1, [b"a".to_vec(), b"b".to_vec()]);
        assert_eq!(lines, [1, 1, 1, 2]);
        check_like_the_csv_crate(text.as_bytes(), b',');
    }

    fn revenue(text: &str, dialect: CsvDialect) -> Result<(DatasetFacts, u64), DataError> {
        let set = RulebookSet::builtin();
        let mut b = FactsBuilder::new(&set.versions()[0], MonthFilter::All, true);
        let rows = read_from(
            Table::Revenue,
            Path::new("revenue.csv"),
            dialect,
            text.as_bytes(),
            &mut b,
        )?;
        Ok((b.finish(), rows))
    }

    /// A quote at the start of a field that is never closed would take the
    /// rest of the file as one value: it stops the read instead.
    #[test]
    fn an_unclosed_quote_stops_the_read() {
        let text = format!(
            "{HEADER}\nP1,T1,\"Contoso,Sales,2023-10,10,DPOR\nP1,T2,x,Sales,2023-10,20,DPOR\n"
        );
        let e = revenue(&text, CsvDialect::default())
            .unwrap_err()
            .to_string();
        assert!(e.contains("line 2, column 3 (customer_name)"), "{e}");
        assert!(e.contains("not closed before the end of the file"), "{e}");
        assert!(e.contains("Contoso,Sales,2023-10,10,DPOR\\nP1,T2"), "{e}");
    }

    /// A quoted value that swallows lines into a column that is not free
    /// text stops the read, naming the value with its line breaks shown.
    #[test]
    fn a_line_break_outside_a_name_stops_the_read() {
        let text = format!(
            "{HEADER}\nP1,T1,x,Sales,2023-10,10,\"DPOR\nP1\"\nP1,T2,x,Sales,2023-10,20,DPOR\n"
        );
        let e = revenue(&text, CsvDialect::default())
            .unwrap_err()
            .to_string();
        assert!(e.contains("line 2, column 7 (association)"), "{e}");
        assert!(e.contains("'DPOR\\nP1'"), "{e}");
        // With the wrong number of fields, the lines it spans are named.
        let text =
            format!("{HEADER}\nP1,T1,x,Sales,2023-10,10,\"DPOR\nP1\",T2,x,Sales,2023-10,20,DPOR\n");
        let e = revenue(&text, CsvDialect::default())
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("line 2: this record has 13 fields, the header has 7"),
            "{e}"
        );
        assert!(e.contains("runs over 2 lines"), "{e}");
        // In a name it is a value like any other.
        let text = format!("{HEADER}\nP1,T1,\"Contoso\nWest\",Sales,2023-10,10,DPOR\n");
        assert_eq!(revenue(&text, CsvDialect::default()).unwrap().1, 1);
    }

    /// Excel's semicolon CSV with decimal commas reads as the comma CSV;
    /// a decimal point or a thousands separator there is an error naming
    /// the value as written.
    #[test]
    fn decimal_commas() {
        let semi = CsvDialect {
            delimiter: b';',
            decimal_comma: true,
        };
        let comma = HEADER.replace(',', ";");
        let (a, _) = revenue(
            &format!("{comma}\r\nP1;T1;x;Sales;2023-10;1234,5;DPOR\r\nP1;T1;\"y;z\";Sales;2023-10;-0,25;DPOR\r\n"),
            semi,
        )
        .unwrap();
        let (b, _) = revenue(
            &format!("{HEADER}\nP1,T1,x,Sales,2023-10,1234.5,DPOR\nP1,T1,\"y;z\",Sales,2023-10,-0.25,DPOR\n"),
            CsvDialect::default(),
        )
        .unwrap();
        let sum = |f: &DatasetFacts| {
            f.partners["P1"]
                .revenue
                .values()
                .map(|x| x.amount)
                .sum::<pcs_core::Decimal>()
        };
        assert_eq!(sum(&a), sum(&b));
        assert_eq!(sum(&a).to_string(), "1234.25");
        for bad in ["1.234,5", "1,234,5", "12.5", "1,2x"] {
            let e = revenue(
                &format!("{comma}\nP1;T1;x;Sales;2023-10;{bad};DPOR\n"),
                semi,
            )
            .unwrap_err()
            .to_string();
            assert!(e.contains(&format!("value '{bad}'")), "{e}");
            assert!(e.contains("line 2, column 6 (revenue_usd)"), "{e}");
        }
    }
}
