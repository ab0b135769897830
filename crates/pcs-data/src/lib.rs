//! Reading pcs datasets: a directory of tables (`revenue`, `usage`,
//! `certifications`, `partners`), each as CSV, Parquet or an Excel workbook.
//!
//! Rows stream into a [`pcs_core::facts::FactsBuilder`]; nothing but the
//! per-partner aggregates is kept. The first malformed value stops the read
//! with a [`DataError`] that names the file, the line (or Parquet row), the
//! column and the value.
//!
//! ```no_run
//! use pcs_core::facts::MonthFilter;
//! use pcs_core::rulebook::RulebookSet;
//! let set = RulebookSet::builtin();
//! let rb = &set.versions()[0];
//! let dataset = pcs_data::Dataset::open("examples/contoso".as_ref())?;
//! let facts = dataset.load(rb, &pcs_data::LoadOptions::default())?;
//! println!("{} partners", facts.partners.len());
//! # Ok::<(), pcs_data::DataError>(())
//! ```

#[cfg(feature = "parquet")]
pub mod convert;
mod csv_table;
mod dialect;
mod error;
/// Importing other systems' reports (Partner Center Insights) into a dataset.
#[cfg(all(feature = "parquet", feature = "xlsx"))]
pub mod import;
#[cfg(feature = "parquet")]
mod parquet_table;
mod partner_index;
mod record;
mod schema;
/// Writing tables (CSV, Parquet) and whole dataset directories atomically.
#[cfg(feature = "parquet")]
pub mod write;
#[cfg(feature = "xlsx")]
mod xlsx_table;

use std::path::{Path, PathBuf};

use pcs_core::facts::{DatasetFacts, FactsBuilder, MonthFilter, Table};
use pcs_core::rulebook::Rulebook;

pub use dialect::{CsvDialect, CsvOptions};
pub use error::{DataError, ErrorKind};
pub use partner_index::PartnerIndex;
pub use record::parse_decimal;
pub use schema::{ColumnSpec, HeaderMap, HeaderProblem, ValueKind, columns, match_header};

/// Reads one CSV table from any reader into `builder` (the path only names
/// the input in errors). Returns the number of data records.
///
/// ```
/// use pcs_core::facts::{FactsBuilder, MonthFilter, Table};
/// let set = pcs_core::rulebook::RulebookSet::builtin();
/// let mut b = FactsBuilder::new(&set.versions()[0], MonthFilter::All, false);
/// let csv = "partner_id,name\nP1,Contoso\n";
/// let rows = pcs_data::read_csv(Table::Partners, "partners.csv".as_ref(), csv.as_bytes(), &mut b).unwrap();
/// assert_eq!(rows, 1);
/// ```
pub fn read_csv(
    table: Table,
    path: &Path,
    input: impl std::io::Read,
    builder: &mut FactsBuilder<'_>,
) -> Result<u64, DataError> {
    csv_table::read_from(table, path, CsvDialect::default(), input, builder)
}

/// Entry points for the differential tests and fuzz targets: the fast CSV
/// record reader and the csv crate, side by side; the partner index with
/// small ranges.
#[doc(hidden)]
pub mod testing {
    pub use crate::csv_table::{RawRecord, csv_crate_records, records_of};

    /// Reads the CSV table at `path` as `pcs score` does, splitting it into
    /// `threads` parts from `parallel_min_bytes` bytes on, each read in
    /// blocks of `block` bytes (`pcs score` reads 1 MiB blocks; tiny ones
    /// put a block boundary inside every record).
    pub fn read_csv_file(
        table: pcs_core::facts::Table,
        path: &std::path::Path,
        dialect: crate::CsvDialect,
        builder: &mut pcs_core::facts::FactsBuilder<'_>,
        threads: usize,
        parallel_min_bytes: u64,
        block: usize,
    ) -> Result<u64, crate::DataError> {
        let split = crate::csv_table::Split {
            threads,
            min_bytes: parallel_min_bytes,
            block,
        };
        crate::csv_table::read_split(table, path, dialect, builder, split, None)
    }

    /// [`crate::PartnerIndex::build`] with the merge gap (bytes) and the
    /// range budget given: 0 and 0 keep one range per run of a partner's
    /// records.
    pub fn partner_index(
        dataset: &crate::Dataset,
        gap: u64,
        spare: usize,
    ) -> Result<crate::PartnerIndex, crate::DataError> {
        crate::PartnerIndex::build_with(dataset, gap, spare)
    }
}

/// Reads one Parquet table file into `builder`, on the calling thread.
/// Returns the number of data rows.
#[cfg(feature = "parquet")]
pub fn read_parquet(
    table: Table,
    path: &Path,
    builder: &mut FactsBuilder<'_>,
) -> Result<u64, DataError> {
    parquet_table::read(table, path, builder, 1, None)
}

/// The file format of a table.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    /// UTF-8 CSV with a header row.
    Csv,
    /// Apache Parquet.
    Parquet,
    /// An Excel workbook (`.xlsx`): the sheet named after the table, else
    /// the first sheet.
    Xlsx,
}

impl Format {
    /// The file extension.
    pub fn extension(self) -> &'static str {
        match self {
            Format::Csv => "csv",
            Format::Parquet => "parquet",
            Format::Xlsx => "xlsx",
        }
    }
}

/// One table file of a dataset.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TableFile {
    /// Which table.
    pub table: Table,
    /// Its path.
    pub path: PathBuf,
    /// Its format.
    pub format: Format,
    /// How it is written, when it is CSV.
    pub dialect: CsvDialect,
}

/// A dataset directory and the table files found in it.
#[derive(Clone, Debug)]
pub struct Dataset {
    dir: PathBuf,
    tables: Vec<TableFile>,
    notes: Vec<String>,
}

/// How to load a dataset.
#[derive(Clone, Debug)]
pub struct LoadOptions {
    /// Months to keep aggregates for.
    pub months: MonthFilter,
    /// Keep source lines of every aggregate (for explanations).
    pub trace: bool,
    /// Keep the groups of rows that counted for nothing (read by
    /// explanations and scorecards only; `false` saves their memory:
    /// [`FactsBuilder::without_excluded`]).
    pub excluded: bool,
    /// Threads for reading a large file (1: one thread).
    pub threads: usize,
    /// Where to report progress, if anywhere.
    pub progress: Option<std::sync::Arc<Progress>>,
}

impl Default for LoadOptions {
    fn default() -> Self {
        LoadOptions {
            months: MonthFilter::All,
            trace: false,
            excluded: true,
            threads: rayon::current_num_threads(),
            progress: None,
        }
    }
}

/// How far a load has got, shared with whoever displays progress.
#[derive(Debug, Default)]
pub struct Progress {
    bytes: std::sync::atomic::AtomicU64,
}

impl Progress {
    /// Bytes of table files read so far (for Parquet, an estimate by rows).
    pub fn bytes(&self) -> u64 {
        self.bytes.load(std::sync::atomic::Ordering::Relaxed)
    }

    pub(crate) fn add(&self, n: u64) {
        self.bytes
            .fetch_add(n, std::sync::atomic::Ordering::Relaxed);
    }
}

/// A reader that reports the bytes it reads to a [`Progress`].
pub(crate) struct Counted<'p, R> {
    pub inner: R,
    pub progress: Option<&'p Progress>,
}

impl<R: std::io::Read> std::io::Read for Counted<'_, R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        if let Some(p) = self.progress {
            p.add(n as u64);
        }
        Ok(n)
    }
}

/// Rows read per table.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ReadStats {
    /// (table, file, data rows).
    pub tables: Vec<(Table, PathBuf, u64)>,
}

impl Dataset {
    /// Finds the tables in `dir`: `NAME.csv`, `NAME.parquet` or `NAME.xlsx` (file names
    /// matched case-insensitively). A table in both formats is an error; a
    /// missing table is empty; a directory with no table is an error. CSV
    /// dialects are detected from the headers ([`Dataset::open_with`]).
    pub fn open(dir: &Path) -> Result<Dataset, DataError> {
        Dataset::open_with(dir, &CsvOptions::default())
    }

    /// [`Dataset::open`], with what the user said of CSV dialects: what is
    /// not said is detected from each CSV table's header, and every
    /// detection that departs from plain comma-separated CSV is a note
    /// ([`Dataset::notes`]).
    pub fn open_with(dir: &Path, csv: &CsvOptions) -> Result<Dataset, DataError> {
        let entries = std::fs::read_dir(dir).map_err(|e| {
            DataError::new(
                ErrorKind::Io,
                dir,
                format!("cannot read the dataset directory: {e}"),
            )
        })?;
        let mut files = Vec::new();
        for entry in entries {
            let entry = entry.map_err(|e| DataError::new(ErrorKind::Io, dir, e.to_string()))?;
            files.push(entry.path());
        }
        let mut dataset = Dataset::from_files(dir, files)?;
        for t in &mut dataset.tables {
            if t.format == Format::Csv {
                let (dialect, note) = dialect::settle(t.table, &t.path, csv);
                t.dialect = dialect;
                dataset.notes.extend(note);
            }
        }
        Ok(dataset)
    }

    /// What was detected of the CSV tables' dialects, for people (one line
    /// each, naming the file).
    pub fn notes(&self) -> &[String] {
        &self.notes
    }

    /// The dataset made of the table files among `files` (the entries of
    /// `dir`, wherever they are listed from: a directory, or an object
    /// store's prefix), by the rules of [`Dataset::open`].
    pub fn from_files(
        dir: &Path,
        files: impl IntoIterator<Item = PathBuf>,
    ) -> Result<Dataset, DataError> {
        let mut tables: Vec<TableFile> = Vec::new();
        for path in files {
            let Some(name) = path.file_name() else {
                continue;
            };
            let name = name.to_string_lossy().to_lowercase();
            let Some((stem, ext)) = name.rsplit_once('.') else {
                continue;
            };
            let format = match ext {
                "csv" => Format::Csv,
                "parquet" => Format::Parquet,
                "xlsx" => Format::Xlsx,
                _ => continue,
            };
            let Some(table) = Table::ALL.into_iter().find(|t| t.name() == stem) else {
                continue;
            };
            if let Some(other) = tables.iter().find(|t| t.table == table) {
                return Err(DataError::new(
                    ErrorKind::Layout,
                    &path,
                    format!(
                        "the {} table is given twice (also {}): keep one file per table",
                        table.name(),
                        other.path.display()
                    ),
                ));
            }
            tables.push(TableFile {
                table,
                path,
                format,
                dialect: CsvDialect::default(),
            });
        }
        if tables.is_empty() {
            return Err(DataError::new(
                ErrorKind::Layout,
                dir,
                "no table found: expected revenue, usage, certifications, partners, acr or licenses as .csv, .parquet or .xlsx",
            ));
        }
        tables.sort_by_key(|t| t.table);
        Ok(Dataset {
            dir: dir.to_path_buf(),
            tables,
            notes: Vec::new(),
        })
    }

    /// The same dataset with only the files of `tables` (as found and
    /// detected by [`Dataset::open`]).
    pub fn only(&self, tables: &[Table]) -> Dataset {
        Dataset {
            dir: self.dir.clone(),
            tables: self
                .tables
                .iter()
                .filter(|t| tables.contains(&t.table))
                .cloned()
                .collect(),
            notes: self.notes.clone(),
        }
    }

    /// The dataset directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The table files found.
    pub fn tables(&self) -> &[TableFile] {
        &self.tables
    }

    /// The total size of the table files, in bytes.
    pub fn total_bytes(&self) -> u64 {
        self.tables
            .iter()
            .filter_map(|t| std::fs::metadata(&t.path).ok())
            .map(|m| m.len())
            .sum()
    }

    /// Reads every table into per-partner facts under `rulebook`.
    pub fn load(
        &self,
        rulebook: &Rulebook,
        options: &LoadOptions,
    ) -> Result<DatasetFacts, DataError> {
        self.load_with_stats(rulebook, options)
            .map(|(facts, _)| facts)
    }

    /// Like [`Dataset::load`], also returning rows read per table.
    pub fn load_with_stats(
        &self,
        rulebook: &Rulebook,
        options: &LoadOptions,
    ) -> Result<(DatasetFacts, ReadStats), DataError> {
        let builder = FactsBuilder::new(rulebook, options.months.clone(), options.trace);
        let builder = if options.excluded {
            builder
        } else {
            builder.without_excluded()
        };
        self.load_into_with(builder, options)
    }

    /// Reads every table for every solution area: the acr and licenses
    /// tables resolve their names through `vocabulary` and keep aggregates
    /// for `area_months`.
    pub fn load_areas(
        &self,
        rulebook: &Rulebook,
        vocabulary: &pcs_core::vocab::Vocabulary,
        area_months: MonthFilter,
        options: &LoadOptions,
    ) -> Result<(DatasetFacts, ReadStats), DataError> {
        let builder = FactsBuilder::new(rulebook, options.months.clone(), options.trace)
            .with_areas(vocabulary, area_months);
        let builder = if options.excluded {
            builder
        } else {
            builder.without_excluded()
        };
        self.load_into_with(builder, options)
    }

    /// Reads every table into `builder` (made by the caller: with areas,
    /// tracing only some months, ...); `options` gives the threads and the
    /// progress (its months and trace are the builder's business).
    pub fn load_into(
        &self,
        builder: FactsBuilder<'_>,
        options: &LoadOptions,
    ) -> Result<(DatasetFacts, ReadStats), DataError> {
        self.load_into_with(builder, options)
    }

    /// Reads one table file of this dataset into `builder` (with the
    /// threads and progress of `options`). Returns the number of data rows.
    pub fn read_table(
        &self,
        t: &TableFile,
        builder: &mut FactsBuilder<'_>,
        options: &LoadOptions,
    ) -> Result<u64, DataError> {
        Ok(match t.format {
            Format::Csv => csv_table::read(
                t.table,
                &t.path,
                t.dialect,
                builder,
                options.threads,
                options.progress.as_deref(),
            )?,
            #[cfg(feature = "parquet")]
            Format::Parquet => parquet_table::read(
                t.table,
                &t.path,
                builder,
                options.threads,
                options.progress.as_deref(),
            )?,
            #[cfg(not(feature = "parquet"))]
            Format::Parquet => {
                return Err(DataError::new(
                    ErrorKind::Format,
                    &t.path,
                    "this build of pcs does not read Parquet (built without the parquet feature)",
                ));
            }
            #[cfg(feature = "xlsx")]
            Format::Xlsx => {
                xlsx_table::read(t.table, &t.path, builder, options.progress.as_deref())?
            }
            #[cfg(not(feature = "xlsx"))]
            Format::Xlsx => {
                return Err(DataError::new(
                    ErrorKind::Format,
                    &t.path,
                    "this build of pcs does not read Excel workbooks (built without the xlsx feature)",
                ));
            }
        })
    }

    fn load_into_with(
        &self,
        mut builder: FactsBuilder<'_>,
        options: &LoadOptions,
    ) -> Result<(DatasetFacts, ReadStats), DataError> {
        let mut stats = ReadStats::default();
        for t in &self.tables {
            let rows = self.read_table(t, &mut builder, options)?;
            stats.tables.push((t.table, t.path.clone(), rows));
        }
        Ok((builder.finish(), stats))
    }
}
