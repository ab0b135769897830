//! Writing dataset tables, as CSV or Parquet, and whole dataset directories
//! atomically.
//!
//! A [`TableWriter`] takes one row at a time as text (one value per column
//! of [`columns`](crate::columns), in that order), so it does not care where
//! the values come from: a generator, another file, a database. CSV is
//! written as given, under a header row of the canonical column names.
//! Parquet gets typed columns ([`arrow_schema`]): text as `Utf8`, `month` as
//! `Utf8` (`YYYY-MM`, checked), `revenue_usd` as `Decimal128(18, 2)`,
//! `quantity` as `Decimal128(18, 3)`, dates as `Date32`; an empty value of
//! an optional column is a null. A value that does not fit its Parquet type
//! is an error ([`WriteError::Value`]). Rows are buffered into record batches
//! of [`BATCH_ROWS`] rows, so memory stays bounded whatever the table's size.
//!
//! A [`StagedDataset`] is a dataset directory being written: the tables go
//! into a temporary directory next to the destination, which
//! [`StagedDataset::commit`] renames into place, so a reader never sees a
//! half-written dataset.
//!
//! ```
//! use pcs_core::facts::Table;
//! use pcs_data::Format;
//! use pcs_data::write::StagedDataset;
//! let parent = tempfile::tempdir()?;
//! let dest = parent.path().join("demo");
//! let staged = StagedDataset::new(&dest, false)?;
//! let mut partners = staged.create_table(Table::Partners, Format::Parquet)?;
//! partners.write_row(&["P1", "Contoso Consulting", "2024-03-31"])?;
//! partners.write_row(&["P2", "", ""])?;
//! partners.finish()?;
//! staged.commit()?;
//! assert!(dest.join("partners.parquet").is_file());
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use arrow_array::builder::{Date32Builder, Decimal128Builder, StringBuilder};
use arrow_array::{ArrayRef, Int64Array, RecordBatch};
use arrow_schema::{DataType, Field, Schema, SchemaRef};
use parquet::arrow::ArrowWriter;
use parquet::basic::{Compression, Encoding, ZstdLevel};
use parquet::errors::ParquetError;
use parquet::file::properties::WriterProperties;
use parquet::schema::types::ColumnPath;
use pcs_core::calendar::{Month, parse_date};
use pcs_core::facts::Table;
use pcs_core::jiff::civil::Date;

use crate::Format;
use crate::schema::{ColumnSpec, MAX_COLUMNS, columns};

/// Rows buffered per Parquet record batch.
pub const BATCH_ROWS: usize = 64 * 1024;

/// Rows per Parquet row group (a row group's encoded pages stay in memory
/// until it is flushed). 128 Ki rows was tried, to share work out more evenly:
/// reading took more CPU (about 10% more on the 20,000-partner benchmark).
const ROW_GROUP_ROWS: usize = 512 * 1024;

/// zstd level of Parquet files.
const ZSTD_LEVEL: i32 = 3;

/// Why a table or a dataset directory could not be written.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum WriteError {
    /// A file or directory could not be created, written, renamed or removed.
    #[error("{}: {source}", path.display())]
    Io {
        /// The file or directory.
        path: PathBuf,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// The destination directory exists and replacing it was not asked for.
    #[error("{} already exists", .0.display())]
    Exists(PathBuf),
    /// The destination is not a usable directory name (such as `..`).
    #[error("{}: not a usable name for a dataset directory", .0.display())]
    BadDestination(PathBuf),
    /// A row does not have one value per column of its table.
    #[error("{table} table, row {row}: {got} values given, but the table has {expected} columns")]
    Width {
        /// The table's name.
        table: &'static str,
        /// The 1-based data row.
        row: u64,
        /// Values given.
        got: usize,
        /// Columns of the table.
        expected: usize,
    },
    /// A value cannot be stored in its column's Parquet type.
    #[error("{table} table, row {row}, column {column}, value '{value}': {reason}")]
    Value {
        /// The table's name.
        table: &'static str,
        /// The 1-based data row.
        row: u64,
        /// The column's canonical name.
        column: &'static str,
        /// The value as given.
        value: String,
        /// What is wrong with it.
        reason: String,
    },
    /// The CSV encoder failed (usually an I/O error).
    #[error("writing CSV: {0}")]
    Csv(#[from] csv::Error),
    /// The Parquet encoder failed (usually an I/O error).
    #[error("writing Parquet: {0}")]
    Parquet(#[from] ParquetError),
    /// pcs reads tables in this format but does not write them (`.xlsx`).
    #[error("pcs does not write .{0} tables")]
    Unsupported(&'static str),
}

fn io_err(path: &Path) -> impl FnOnce(std::io::Error) -> WriteError + '_ {
    move |source| WriteError::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// How a column is typed in Parquet.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    Text,
    Month,
    Decimal { scale: u32 },
    Date,
}

/// Digits of precision of the decimal columns.
const DECIMAL_PRECISION: u8 = 18;

fn kind_of(column: &ColumnSpec) -> Kind {
    match column.name {
        "month" => Kind::Month,
        "revenue_usd" | "acr_usd" => Kind::Decimal { scale: 2 },
        "quantity" => Kind::Decimal { scale: 3 },
        "earned_on" | "expires_on" | "anniversary_date" | "associated_on" => Kind::Date,
        _ => Kind::Text,
    }
}

fn data_type(kind: Kind) -> DataType {
    match kind {
        Kind::Text | Kind::Month => DataType::Utf8,
        Kind::Decimal { scale } => DataType::Decimal128(DECIMAL_PRECISION, scale as i8),
        Kind::Date => DataType::Date32,
    }
}

/// The last column of every Parquet table pcs writes: each row's 1-based
/// position in the file (`Int64`, delta-encoded, so it costs next to
/// nothing). Readers of a table ignore it like any extra column; the
/// distributed plan numbers rows with it, so it can scan a file in parallel
/// and still report the rows the native reader reports.
pub const ROW_COLUMN: &str = "_pcs_row";

/// The Arrow schema of a table as pcs writes it to Parquet: the canonical
/// column names, typed (optional columns are nullable), then [`ROW_COLUMN`].
pub fn arrow_schema(table: Table) -> Schema {
    Schema::new(
        columns(table)
            .iter()
            .map(|c| Field::new(c.name, data_type(kind_of(c)), !c.required))
            .chain([Field::new(ROW_COLUMN, DataType::Int64, false)])
            .collect::<Vec<_>>(),
    )
}

/// Writes the rows of one table as CSV or Parquet.
///
/// Call [`TableWriter::finish`] at the end: a writer dropped without it
/// leaves an incomplete file (a Parquet file without its footer).
pub struct TableWriter<W: Write + Send = BufWriter<File>> {
    table: Table,
    rows: u64,
    sink: Sink<W>,
}

enum Sink<W: Write + Send> {
    Csv(csv::Writer<W>),
    Parquet(ParquetSink<W>),
}

struct ParquetSink<W: Write + Send> {
    writer: ArrowWriter<W>,
    schema: SchemaRef,
    columns: Vec<Column>,
    buffered: usize,
    batch_rows: usize,
    /// The position of the first buffered row.
    next_row: i64,
}

struct Column {
    spec: ColumnSpec,
    kind: Kind,
    builder: Builder,
}

enum Builder {
    Text(StringBuilder),
    Decimal(Decimal128Builder),
    Date(Date32Builder),
}

/// A value checked against its column's type, ready to append.
#[derive(Clone, Copy)]
enum Parsed<'a> {
    Null,
    Text(&'a str),
    Decimal(i128),
    Date(i32),
}

impl Column {
    fn new(spec: ColumnSpec, capacity: usize) -> Column {
        let kind = kind_of(&spec);
        Column {
            spec,
            kind,
            builder: new_builder(kind, capacity),
        }
    }

    /// Checks `value` against the column's type; on failure returns why.
    fn parse<'a>(&self, value: &'a str) -> Result<Parsed<'a>, String> {
        let trimmed = value.trim();
        if trimmed.is_empty() && !self.spec.required {
            return Ok(Parsed::Null);
        }
        Ok(match self.kind {
            Kind::Text => Parsed::Text(value),
            Kind::Month => {
                Month::parse_strict(trimmed).map_err(|_| "not a month (YYYY-MM)".to_string())?;
                Parsed::Text(trimmed)
            }
            Kind::Decimal { scale } => Parsed::Decimal(parse_fixed(trimmed, scale)?),
            Kind::Date => {
                let date =
                    parse_date(trimmed).map_err(|_| "not a date (YYYY-MM-DD)".to_string())?;
                Parsed::Date(days_since_epoch(date))
            }
        })
    }

    fn append(&mut self, value: Parsed<'_>) {
        match (&mut self.builder, value) {
            (Builder::Text(b), Parsed::Null) => b.append_null(),
            (Builder::Decimal(b), Parsed::Null) => b.append_null(),
            (Builder::Date(b), Parsed::Null) => b.append_null(),
            (Builder::Text(b), Parsed::Text(v)) => b.append_value(v),
            (Builder::Decimal(b), Parsed::Decimal(v)) => b.append_value(v),
            (Builder::Date(b), Parsed::Date(v)) => b.append_value(v),
            _ => unreachable!("values are parsed by their own column"),
        }
    }

    fn finish(&mut self) -> ArrayRef {
        match &mut self.builder {
            Builder::Text(b) => Arc::new(b.finish()),
            Builder::Decimal(b) => Arc::new(b.finish()),
            Builder::Date(b) => Arc::new(b.finish()),
        }
    }
}

fn new_builder(kind: Kind, capacity: usize) -> Builder {
    match kind {
        Kind::Text | Kind::Month => {
            Builder::Text(StringBuilder::with_capacity(capacity, capacity * 16))
        }
        Kind::Decimal { scale } => Builder::Decimal(
            Decimal128Builder::with_capacity(capacity)
                .with_precision_and_scale(DECIMAL_PRECISION, scale as i8)
                .expect("precision and scale are valid"),
        ),
        Kind::Date => Builder::Date(Date32Builder::with_capacity(capacity)),
    }
}

/// Parses a plain decimal (optional sign, digits, optional fraction: what
/// [`parse_decimal`](crate::parse_decimal) accepts) into an integer scaled by
/// `10^scale`, refusing values that need more decimal places or more than
/// 18 digits.
fn parse_fixed(text: &str, scale: u32) -> Result<i128, String> {
    let not_a_number = || "not a number".to_string();
    let (negative, digits) = match text.as_bytes() {
        [b'-', rest @ ..] => (true, rest),
        [b'+', rest @ ..] => (false, rest),
        rest => (false, rest),
    };
    let (int, frac) = match digits.iter().position(|&c| c == b'.') {
        Some(i) => (&digits[..i], &digits[i + 1..]),
        None => (digits, &digits[..0]),
    };
    if int.is_empty() && frac.is_empty() {
        return Err(not_a_number());
    }
    let limit = 10i128.pow(u32::from(DECIMAL_PRECISION));
    let too_large = || format!("too large for Decimal128({DECIMAL_PRECISION}, {scale})");
    let mut value: i128 = 0;
    for &c in int {
        if !c.is_ascii_digit() {
            return Err(not_a_number());
        }
        value = value * 10 + i128::from(c - b'0');
        if value >= limit {
            return Err(too_large());
        }
    }
    for (i, &c) in frac.iter().enumerate() {
        if !c.is_ascii_digit() {
            return Err(not_a_number());
        }
        if i < scale as usize {
            value = value * 10 + i128::from(c - b'0');
        } else if c != b'0' {
            return Err(format!(
                "has more than {scale} decimal places, which Decimal128({DECIMAL_PRECISION}, {scale}) cannot hold"
            ));
        }
    }
    for _ in frac.len()..scale as usize {
        value *= 10;
    }
    if value >= limit {
        return Err(too_large());
    }
    Ok(if negative { -value } else { value })
}

/// Days from 1970-01-01 to `date` (the Arrow `Date32` value).
fn days_since_epoch(date: Date) -> i32 {
    // Howard Hinnant's days_from_civil.
    let (y, m, d) = (
        i32::from(date.year()),
        i32::from(date.month()),
        i32::from(date.day()),
    );
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

impl TableWriter<BufWriter<File>> {
    /// Creates (or truncates) the file at `path` and writes `table` into it.
    pub fn create(path: &Path, table: Table, format: Format) -> Result<Self, WriteError> {
        let file = File::create(path).map_err(io_err(path))?;
        TableWriter::new(BufWriter::with_capacity(1 << 20, file), table, format)
    }
}

impl<W: Write + Send> TableWriter<W> {
    /// A writer of `table` in `format` into `out`. For CSV, the header row
    /// is written at once.
    pub fn new(out: W, table: Table, format: Format) -> Result<Self, WriteError> {
        let sink = match format {
            Format::Csv => {
                let mut w = csv::WriterBuilder::new()
                    .buffer_capacity(1 << 16)
                    .from_writer(out);
                w.write_record(columns(table).iter().map(|c| c.name))?;
                Sink::Csv(w)
            }
            Format::Parquet => {
                let schema: SchemaRef = Arc::new(arrow_schema(table));
                let props = WriterProperties::builder()
                    .set_compression(Compression::ZSTD(ZstdLevel::try_new(ZSTD_LEVEL)?))
                    .set_max_row_group_row_count(Some(ROW_GROUP_ROWS))
                    .set_column_dictionary_enabled(ColumnPath::from(ROW_COLUMN), false)
                    .set_column_encoding(
                        ColumnPath::from(ROW_COLUMN),
                        Encoding::DELTA_BINARY_PACKED,
                    )
                    .build();
                let writer = ArrowWriter::try_new(out, schema.clone(), Some(props))?;
                Sink::Parquet(ParquetSink {
                    writer,
                    schema,
                    columns: Vec::new(),
                    buffered: 0,
                    batch_rows: BATCH_ROWS,
                    next_row: 1,
                })
            }
            Format::Xlsx => return Err(WriteError::Unsupported(format.extension())),
        };
        Ok(TableWriter {
            table,
            rows: 0,
            sink,
        })
    }

    /// Sets the rows per Parquet record batch (at least 1; default
    /// [`BATCH_ROWS`]). No effect on CSV.
    pub fn with_batch_rows(mut self, rows: usize) -> Self {
        if let Sink::Parquet(p) = &mut self.sink {
            p.batch_rows = rows.max(1);
        }
        self
    }

    /// The table being written.
    pub fn table(&self) -> Table {
        self.table
    }

    /// Data rows written so far.
    pub fn rows(&self) -> u64 {
        self.rows
    }

    /// Writes one row: one value per column of the table, in the order of
    /// [`columns`](crate::columns). An empty value of an optional column is
    /// a null in Parquet.
    pub fn write_row(&mut self, values: &[&str]) -> Result<(), WriteError> {
        let specs = columns(self.table);
        let row = self.rows + 1;
        if values.len() != specs.len() {
            return Err(WriteError::Width {
                table: self.table.name(),
                row,
                got: values.len(),
                expected: specs.len(),
            });
        }
        match &mut self.sink {
            Sink::Csv(w) => w.write_record(values)?,
            Sink::Parquet(p) => {
                if p.columns.is_empty() {
                    p.columns = specs
                        .iter()
                        .map(|s| Column::new(*s, p.batch_rows))
                        .collect();
                }
                // Check the whole row first, so a bad value leaves the batch as it was.
                let mut parsed = [Parsed::Null; MAX_COLUMNS];
                for ((slot, col), value) in parsed.iter_mut().zip(&p.columns).zip(values) {
                    *slot = col.parse(value).map_err(|reason| WriteError::Value {
                        table: self.table.name(),
                        row,
                        column: col.spec.name,
                        value: value.to_string(),
                        reason,
                    })?;
                }
                for (col, value) in p.columns.iter_mut().zip(parsed) {
                    col.append(value);
                }
                p.buffered += 1;
                if p.buffered >= p.batch_rows {
                    p.flush_batch()?;
                }
            }
        }
        self.rows = row;
        Ok(())
    }

    /// Ends the current Parquet row group after the rows written so far, so
    /// that the rows written next start a new one (no effect on CSV). `pcs
    /// convert` ends one at each month: every row group's statistics then
    /// name one month, and a reader skips the months it does not read.
    pub fn end_row_group(&mut self) -> Result<(), WriteError> {
        if let Sink::Parquet(p) = &mut self.sink {
            p.flush_batch()?;
            p.writer.flush()?;
        }
        Ok(())
    }

    /// Flushes buffered rows and ends the file (the Parquet footer); returns
    /// the underlying writer, flushed.
    pub fn finish(self) -> Result<W, WriteError> {
        match self.sink {
            Sink::Csv(w) => w
                .into_inner()
                .map_err(|e| WriteError::Csv(csv::Error::from(e.into_error()))),
            Sink::Parquet(mut p) => {
                p.flush_batch()?;
                let mut out = p.writer.into_inner()?;
                out.flush().map_err(ParquetError::from)?;
                Ok(out)
            }
        }
    }
}

impl<W: Write + Send> ParquetSink<W> {
    fn flush_batch(&mut self) -> Result<(), WriteError> {
        if self.buffered == 0 {
            return Ok(());
        }
        let mut arrays: Vec<ArrayRef> = self.columns.iter_mut().map(Column::finish).collect();
        let end = self.next_row + self.buffered as i64;
        arrays.push(Arc::new(Int64Array::from_iter_values(self.next_row..end)));
        self.next_row = end;
        let batch = RecordBatch::try_new(self.schema.clone(), arrays)
            .map_err(|e| WriteError::Parquet(ParquetError::External(Box::new(e))))?;
        self.writer.write(&batch)?;
        self.buffered = 0;
        Ok(())
    }
}

/// A dataset directory being written: files go into a temporary directory
/// created next to the destination (same parent, so the final rename stays
/// on one file system); [`StagedDataset::commit`] renames it into place.
/// Dropped without a commit, it removes the temporary directory.
pub struct StagedDataset {
    tmp: tempfile::TempDir,
    dest: PathBuf,
    parent: PathBuf,
    force: bool,
}

fn exists(path: &Path) -> bool {
    path.symlink_metadata().is_ok()
}

impl StagedDataset {
    /// Starts writing the dataset directory `dest`. If `dest` exists and
    /// `force` is not set, fails before creating anything
    /// ([`WriteError::Exists`]); missing parent directories are created.
    pub fn new(dest: &Path, force: bool) -> Result<StagedDataset, WriteError> {
        let Some(name) = dest.file_name() else {
            return Err(WriteError::BadDestination(dest.to_path_buf()));
        };
        if exists(dest) && !force {
            return Err(WriteError::Exists(dest.to_path_buf()));
        }
        let parent = match dest.parent() {
            Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
            _ => PathBuf::from("."),
        };
        std::fs::create_dir_all(&parent).map_err(io_err(&parent))?;
        let mut builder = tempfile::Builder::new();
        let prefix = format!(".{}.tmp-", name.to_string_lossy());
        builder.prefix(&prefix);
        #[cfg(unix)]
        {
            // Like mkdir: the umask decides, not tempfile's owner-only default.
            use std::os::unix::fs::PermissionsExt;
            builder.permissions(std::fs::Permissions::from_mode(0o777));
        }
        let tmp = builder.tempdir_in(&parent).map_err(io_err(&parent))?;
        Ok(StagedDataset {
            tmp,
            dest: dest.to_path_buf(),
            parent,
            force,
        })
    }

    /// The temporary directory being filled.
    pub fn path(&self) -> &Path {
        self.tmp.path()
    }

    /// The final destination.
    pub fn destination(&self) -> &Path {
        &self.dest
    }

    /// The path of `table` in `format` inside the temporary directory.
    pub fn table_path(&self, table: Table, format: Format) -> PathBuf {
        self.tmp
            .path()
            .join(format!("{}.{}", table.name(), format.extension()))
    }

    /// Creates a writer of `table` in `format` inside the temporary directory.
    pub fn create_table(&self, table: Table, format: Format) -> Result<TableWriter, WriteError> {
        TableWriter::create(&self.table_path(table, format), table, format)
    }

    /// Renames the temporary directory to the destination. When the
    /// destination exists (and `force` was given), it is renamed away first,
    /// then deleted once the new directory is in place; if the final rename
    /// fails, it is put back.
    pub fn commit(self) -> Result<PathBuf, WriteError> {
        let StagedDataset {
            tmp,
            dest,
            parent,
            force,
        } = self;
        if exists(&dest) {
            if !force {
                return Err(WriteError::Exists(dest));
            }
            let name = dest
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            let holder = tempfile::Builder::new()
                .prefix(&format!(".{name}.old-"))
                .tempdir_in(&parent)
                .map_err(io_err(&parent))?;
            let old = holder.path().join(&name);
            std::fs::rename(&dest, &old).map_err(io_err(&dest))?;
            if let Err(e) = std::fs::rename(tmp.path(), &dest) {
                let _ = std::fs::rename(&old, &dest);
                return Err(io_err(&dest)(e));
            }
            let _ = tmp.keep();
            holder.close().map_err(io_err(&old))?;
        } else {
            std::fs::rename(tmp.path(), &dest).map_err(io_err(&dest))?;
            let _ = tmp.keep();
        }
        Ok(dest)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Dataset, LoadOptions};
    use pcs_core::rulebook::RulebookSet;

    const REVENUE: &[[&str; 9]] = &[
        [
            "P1",
            "T1",
            "Contoso",
            "S1",
            "Sales",
            "2023-10",
            "1620",
            "CSP Tier 1",
            "CSP",
        ],
        [
            "P1", "T1", "", "", "power_bi", "2023-10", "250.5", "DPOR", "",
        ],
        [
            "P1",
            "T2",
            "Fabrikam",
            "",
            "Sales",
            "2022-10",
            "-12.25",
            "CSP-TIER-2",
            "EA",
        ],
        [
            "P1", "T2", "Fabrikam", "", "Azure", "2022-10", "99", "DPOR", "EA",
        ],
        [
            "P2",
            "T9",
            "Litware",
            "",
            "Finance",
            "2023-10",
            "5000.00",
            "PAL",
            "Web Direct",
        ],
    ];
    const USAGE: &[[&str; 7]] = &[
        ["P1", "T1", "Contoso", "Sales", "2023-10", "40", "DPOR"],
        [
            "P1",
            "T1",
            "Contoso",
            "Customer Insights",
            "2023-10",
            "51234.125",
            "PAL",
        ],
        ["P2", "T9", "", "Portals", "2022-10", "3", "PAL"],
    ];
    const CERTS: &[[&str; 6]] = &[
        [
            "P1",
            "U1",
            "Ada",
            "d365-functional-consultant-sales",
            "2022-01-05",
            "",
        ],
        [
            "P1",
            "U2",
            "",
            "Power Platform Solution Architect Expert",
            "2021-03-01",
            "2025-03-01",
        ],
        ["P2", "U3", "Bo", "Unknown Cert", "2020-02-29", "2021-02-28"],
    ];
    const PARTNERS: &[[&str; 3]] = &[
        ["P1", "One", "2024-01-31"],
        ["P2", "", ""],
        ["P3", "Three", ""],
    ];

    fn write_all(dir: &Path, format: Format, batch: usize) {
        fn put<const N: usize>(dir: &Path, t: Table, f: Format, batch: usize, rows: &[[&str; N]]) {
            let path = dir.join(format!("{}.{}", t.name(), f.extension()));
            let mut w = TableWriter::create(&path, t, f)
                .unwrap()
                .with_batch_rows(batch);
            for r in rows {
                w.write_row(r).unwrap();
            }
            assert_eq!(w.rows(), rows.len() as u64);
            w.finish().unwrap();
        }
        put(dir, Table::Revenue, format, batch, REVENUE);
        put(dir, Table::Usage, format, batch, USAGE);
        put(dir, Table::Certifications, format, batch, CERTS);
        put(dir, Table::Partners, format, batch, PARTNERS);
    }

    #[test]
    fn csv_and_parquet_load_to_the_same_facts() {
        let set = RulebookSet::builtin();
        let rb = &set.versions()[0];
        let csv_dir = tempfile::tempdir().unwrap();
        let pq_dir = tempfile::tempdir().unwrap();
        write_all(csv_dir.path(), Format::Csv, BATCH_ROWS);
        write_all(pq_dir.path(), Format::Parquet, 2);
        let header = std::fs::read_to_string(csv_dir.path().join("revenue.csv")).unwrap();
        assert!(header.starts_with(
            "partner_id,customer_tenant_id,customer_name,subscription_id,workload,month,revenue_usd,association,channel\n"
        ));
        let load = |d: &Path| {
            Dataset::open(d)
                .unwrap()
                .load_with_stats(rb, &LoadOptions::default())
                .unwrap()
        };
        let (a, sa) = load(csv_dir.path());
        let (b, sb) = load(pq_dir.path());
        let counts = |s: &crate::ReadStats| {
            s.tables
                .iter()
                .map(|(t, _, n)| (*t, *n))
                .collect::<Vec<_>>()
        };
        assert_eq!(counts(&sa), counts(&sb));
        assert_eq!(
            counts(&sa),
            vec![
                (Table::Revenue, 5),
                (Table::Usage, 3),
                (Table::Certifications, 3),
                (Table::Partners, 3)
            ]
        );
        assert_eq!(
            a.partners.keys().collect::<Vec<_>>(),
            b.partners.keys().collect::<Vec<_>>()
        );
        for (id, fa) in &a.partners {
            let fb = &b.partners[id];
            assert_eq!(fa.name, fb.name, "{id}");
            assert_eq!(fa.anniversary_date, fb.anniversary_date, "{id}");
            assert_eq!(
                format!("{:?}", fa.tenants),
                format!("{:?}", fb.tenants),
                "{id}"
            );
            assert_eq!(fa.revenue, fb.revenue, "{id}");
            assert_eq!(fa.usage, fb.usage, "{id}");
            assert_eq!(fa.excluded, fb.excluded, "{id}");
            assert_eq!(
                format!("{:?}", fa.people),
                format!("{:?}", fb.people),
                "{id}"
            );
            // Lines differ (CSV lines count the header, Parquet rows do not).
            let certs = |f: &pcs_core::facts::PartnerFacts| {
                f.certifications
                    .iter()
                    .map(|c| {
                        format!(
                            "{} {:?} {} {:?}",
                            c.person,
                            f.certification(c),
                            c.earned_on,
                            c.expires_on
                        )
                    })
                    .collect::<Vec<_>>()
            };
            assert_eq!(certs(fa), certs(fb), "{id}");
        }
        assert_eq!(a.warnings.len(), b.warnings.len());
        assert!(!a.partners["P1"].revenue.is_empty() && !a.partners["P1"].usage.is_empty());
    }

    #[test]
    fn parquet_columns_are_typed() {
        let s = arrow_schema(Table::Revenue);
        assert_eq!(
            s.field_with_name("revenue_usd").unwrap().data_type(),
            &DataType::Decimal128(18, 2)
        );
        assert_eq!(
            s.field_with_name("month").unwrap().data_type(),
            &DataType::Utf8
        );
        assert!(!s.field_with_name("partner_id").unwrap().is_nullable());
        assert!(s.field_with_name("channel").unwrap().is_nullable());
        let s = arrow_schema(Table::Usage);
        assert_eq!(
            s.field_with_name("quantity").unwrap().data_type(),
            &DataType::Decimal128(18, 3)
        );
        let s = arrow_schema(Table::Certifications);
        assert_eq!(
            s.field_with_name("earned_on").unwrap().data_type(),
            &DataType::Date32
        );
    }

    #[test]
    fn malformed_values_are_parquet_errors_and_the_row_is_dropped() {
        let mut w = TableWriter::new(Vec::new(), Table::Revenue, Format::Parquet).unwrap();
        w.write_row(&["P1", "T1", "", "", "Sales", "2023-10", "1.5", "DPOR", ""])
            .unwrap();
        for (i, bad) in [
            ["P1", "T1", "", "", "Sales", "2023-13", "1", "DPOR", ""],
            ["P1", "T1", "", "", "Sales", "2023-10", "1,5", "DPOR", ""],
            ["P1", "T1", "", "", "Sales", "2023-10", "1.005", "DPOR", ""],
            ["P1", "T1", "", "", "Sales", "2023-10", "", "DPOR", ""],
            [
                "P1",
                "T1",
                "",
                "",
                "Sales",
                "2023-10",
                "10000000000000000",
                "DPOR",
                "",
            ],
        ]
        .iter()
        .enumerate()
        {
            let e = w.write_row(bad).unwrap_err();
            assert!(matches!(e, WriteError::Value { row: 2, .. }), "{i}: {e}");
        }
        let e = w.write_row(&["P1"]).unwrap_err();
        assert!(
            matches!(
                e,
                WriteError::Width {
                    got: 1,
                    expected: 9,
                    ..
                }
            ),
            "{e}"
        );
        w.write_row(&["P1", "T1", "", "", "Sales", "2023-11", "-2", "DPOR", "EA"])
            .unwrap();
        assert_eq!(w.rows(), 2);
        let bytes = w.finish().unwrap();
        let mut file = tempfile::tempfile().unwrap();
        file.write_all(&bytes).unwrap();
        let reader =
            parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder::try_new(file).unwrap();
        let fields: Vec<(String, DataType, bool)> = reader
            .schema()
            .fields()
            .iter()
            .map(|f| (f.name().clone(), f.data_type().clone(), f.is_nullable()))
            .collect();
        let expected: Vec<(String, DataType, bool)> = arrow_schema(Table::Revenue)
            .fields()
            .iter()
            .map(|f| (f.name().clone(), f.data_type().clone(), f.is_nullable()))
            .collect();
        assert_eq!(fields, expected);
        let reader = reader.build().unwrap();
        let rows: usize = reader.map(|b| b.unwrap().num_rows()).sum();
        assert_eq!(rows, 2);

        let mut w = TableWriter::new(Vec::new(), Table::Certifications, Format::Parquet).unwrap();
        let e = w
            .write_row(&["P1", "U1", "", "x", "2023-02-29", ""])
            .unwrap_err();
        assert!(e.to_string().contains("earned_on"), "{e}");
    }

    #[test]
    fn the_row_column_numbers_rows_across_batches() {
        let mut w = TableWriter::new(Vec::new(), Table::Partners, Format::Parquet)
            .unwrap()
            .with_batch_rows(3);
        for i in 0..7 {
            w.write_row(&[&format!("P{i}"), "", ""]).unwrap();
        }
        // A rejected row takes no number.
        assert!(w.write_row(&["P9", "", "2023-02-30"]).is_err());
        w.write_row(&["P7", "", ""]).unwrap();
        let mut file = tempfile::tempfile().unwrap();
        file.write_all(&w.finish().unwrap()).unwrap();
        let reader = parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder::try_new(file)
            .unwrap()
            .build()
            .unwrap();
        let mut rows = Vec::new();
        for b in reader {
            let b = b.unwrap();
            let a = b
                .column_by_name(ROW_COLUMN)
                .unwrap()
                .as_any()
                .downcast_ref::<Int64Array>()
                .unwrap()
                .clone();
            rows.extend(a.values().iter().copied());
        }
        assert_eq!(rows, (1..=8).collect::<Vec<i64>>());
    }

    #[test]
    fn fixed_point_parsing() {
        assert_eq!(parse_fixed("1500", 2), Ok(150_000));
        assert_eq!(parse_fixed("-12.5", 2), Ok(-1_250));
        assert_eq!(parse_fixed("+.5", 3), Ok(500));
        assert_eq!(parse_fixed("7.", 2), Ok(700));
        assert_eq!(parse_fixed("1.2300", 2), Ok(123));
        assert!(parse_fixed("1.234", 2).is_err());
        assert!(parse_fixed(".", 2).is_err());
        assert!(parse_fixed("-", 2).is_err());
        assert!(parse_fixed("1e3", 2).is_err());
        assert_eq!(
            parse_fixed("9999999999999999.99", 2),
            Ok(999_999_999_999_999_999)
        );
        assert!(parse_fixed("10000000000000000", 2).is_err());
    }

    #[test]
    fn epoch_days() {
        let d = |s: &str| days_since_epoch(parse_date(s).unwrap());
        assert_eq!(d("1970-01-01"), 0);
        assert_eq!(d("1969-12-31"), -1);
        assert_eq!(d("2000-03-01"), 11_017);
        assert_eq!(d("2024-02-29"), 19_782);
    }

    fn listing(dir: &Path) -> Vec<String> {
        let mut v: Vec<String> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        v.sort();
        v
    }

    #[test]
    fn an_existing_destination_without_force_is_left_alone() {
        let parent = tempfile::tempdir().unwrap();
        let dest = parent.path().join("ds");
        std::fs::create_dir(&dest).unwrap();
        std::fs::write(dest.join("keep.txt"), "mine").unwrap();
        let e = StagedDataset::new(&dest, false).err().expect("an error");
        assert!(matches!(e, WriteError::Exists(_)), "{e}");
        assert_eq!(listing(parent.path()), vec!["ds"]);
        assert_eq!(listing(&dest), vec!["keep.txt"]);
    }

    #[test]
    fn commit_creates_and_force_replaces() {
        let parent = tempfile::tempdir().unwrap();
        let dest = parent.path().join("sub").join("ds");
        let staged = StagedDataset::new(&dest, false).unwrap();
        let mut w = staged.create_table(Table::Partners, Format::Csv).unwrap();
        w.write_row(&["P1", "", ""]).unwrap();
        w.finish().unwrap();
        assert!(!dest.exists());
        staged.commit().unwrap();
        assert_eq!(listing(&dest), vec!["partners.csv"]);
        assert_eq!(
            std::fs::read_to_string(dest.join("partners.csv")).unwrap(),
            "partner_id,name,anniversary_date\nP1,,\n"
        );

        let staged = StagedDataset::new(&dest, true).unwrap();
        let w = staged.create_table(Table::Usage, Format::Parquet).unwrap();
        w.finish().unwrap();
        staged.commit().unwrap();
        assert_eq!(listing(&dest), vec!["usage.parquet"]);
        assert_eq!(listing(&parent.path().join("sub")), vec!["ds"]);

        // Dropped without commit: nothing left.
        let staged = StagedDataset::new(&parent.path().join("other"), false).unwrap();
        staged
            .create_table(Table::Partners, Format::Csv)
            .unwrap()
            .finish()
            .unwrap();
        drop(staged);
        assert_eq!(listing(parent.path()), vec!["sub"]);
    }
}
