//! Streaming a Parquet table into the facts builder.
//!
//! Each needed column is read by what the field holds ([`ValueKind`]) and
//! the type the file gives it, as pandas, Polars, DuckDB, Spark and pyarrow
//! write them (checked before any row is read; a type that cannot hold the
//! field is one error naming the column and its type):
//!
//! - text (`utf8`, `large_utf8`, `utf8_view`, or a dictionary of them) is
//!   judged by the same code as a CSV field, in every column;
//! - integers of any width are read as their decimal text (ids, names and
//!   numbers);
//! - floats (16, 32, 64 bits) as their shortest round-trip decimal text,
//!   then the CSV number parser: never through binary arithmetic, so 0.1 is
//!   0.1; NaN and infinities are errors;
//! - decimals (32 to 256 bits, any scale, negative too) exactly;
//! - dates (`date32`, `date64`) and timestamps of any unit, with or without
//!   a time zone, as their calendar date in UTC (a month column takes that
//!   date's month, whatever the day); a time of day other than midnight is
//!   a counted warning ([`pcs_core::facts::WarningKind::TimeOfDay`]).
//!
//! A null is no value: absent in an optional column, an error naming the
//! row and column in a required one. An error about a cell names the value
//! as the file holds it (`1000001.0`, `2023-10-01`, `NaN`), never text the
//! file does not contain.

use std::fmt::Write as _;
use std::fs::File;
use std::path::Path;

use arrow_array::cast::AsArray;
use arrow_array::types::{
    ArrowPrimitiveType, Date32Type, Decimal128Type, Decimal256Type, Float16Type, Float32Type,
    Float64Type, Int32Type, Int64Type,
};
use arrow_array::{
    Array, ArrayRef, Date32Array, Decimal128Array, Decimal256Array, DictionaryArray, Float16Array,
    Float32Array, Float64Array, Int64Array, LargeStringArray, RecordBatch, StringArray,
    StringViewArray,
};
use arrow_schema::{DataType, TimeUnit};
use parquet::arrow::ProjectionMask;
use parquet::arrow::arrow_reader::{
    ArrowReaderMetadata, ArrowReaderOptions, ParquetRecordBatchReader,
    ParquetRecordBatchReaderBuilder,
};
use parquet::file::statistics::Statistics;
use pcs_core::Decimal;
use pcs_core::calendar::Month;
use pcs_core::facts::{FactsBuilder, MonthFilter, Table, WarningKind};
use pcs_core::jiff::civil::Date;

use rayon::prelude::*;

use crate::Progress;
use crate::csv_table::header_error;
use crate::error::{DataError, ErrorKind};
use crate::record::{Loc, Typed, feed_typed, parse_decimal, trim};
use crate::schema::{HeaderMap, MAX_COLUMNS, ValueKind, columns, match_header};

/// Reads `path` as the Parquet table `table`. Row groups are shared out
/// among `threads` threads, each into its own builder, merged in file order.
/// Returns the number of rows.
pub(crate) fn read(
    table: Table,
    path: &Path,
    builder: &mut FactsBuilder<'_>,
    threads: usize,
    progress: Option<&Progress>,
) -> Result<u64, DataError> {
    let io = |e: std::io::Error| DataError::new(ErrorKind::Io, path, e.to_string());
    let format_err = |e: parquet::errors::ParquetError| {
        DataError::new(
            ErrorKind::Format,
            path,
            format!("not a readable Parquet file: {e}"),
        )
    };
    let file = File::open(path).map_err(io)?;
    let size = file.metadata().map_err(io)?.len();
    // The footer is read once; every part's reader starts from it.
    let plain = ArrowReaderMetadata::load(&file, ArrowReaderOptions::new()).map_err(format_err)?;
    let schema = plain.schema().clone();
    let header: Vec<String> = schema.fields().iter().map(|f| f.name().clone()).collect();
    let map: HeaderMap =
        match_header(table, &header).map_err(|p| header_error(table, path, &header, p))?;
    check_types(table, path, &schema, &map)?;
    let dict = dictionary_metadata(table, &map, &plain);
    let metadata = plain.metadata().clone();
    let groups: Vec<u64> = metadata
        .row_groups()
        .iter()
        .map(|g| g.num_rows().max(0) as u64)
        .collect();
    let total: u64 = groups.iter().sum();
    let parts = runs(&groups, threads);
    if parts.is_empty() {
        return Ok(0);
    }
    let months = builder.months().clone();
    let spare = spare_month(&months);
    let open =
        |meta: &ArrowReaderMetadata| -> Result<ParquetRecordBatchReaderBuilder<File>, DataError> {
            let file = File::open(path).map_err(io)?;
            Ok(ParquetRecordBatchReaderBuilder::new_with_metadata(
                file,
                meta.clone(),
            ))
        };
    // The batches of row groups `row_groups`, of the columns `skip` does
    // not mark, read through `meta`, and where each column lies in them.
    let batches =
        |meta: &ArrowReaderMetadata,
         row_groups: Vec<usize>,
         skip: &[bool; MAX_COLUMNS]|
         -> Result<(ParquetRecordBatchReader, [Option<usize>; MAX_COLUMNS]), DataError> {
            let reader = open(meta)?;
            let leaves: Vec<usize> = map
                .index
                .iter()
                .enumerate()
                .filter(|(c, _)| !skip[*c])
                .filter_map(|(_, i)| *i)
                .collect();
            let mask = ProjectionMask::roots(reader.parquet_schema(), leaves.iter().copied());
            let batches = reader
                .with_projection(mask)
                .with_row_groups(row_groups)
                .with_batch_size(8192)
                .build()
                .map_err(format_err)?;
            let mut sorted = leaves.clone();
            sorted.sort_unstable();
            // The projected batch holds the selected columns in file order.
            let mut pos = [None; MAX_COLUMNS];
            for (c, idx) in map.index.iter().enumerate() {
                if let Some(i) = idx.filter(|_| !skip[c]) {
                    pos[c] = sorted.binary_search(&i).ok();
                }
            }
            Ok((batches, pos))
        };
    let batch_err = |e: arrow_schema::ArrowError| {
        DataError::new(
            ErrorKind::Format,
            path,
            format!("not a readable Parquet file: {e}"),
        )
    };
    let report = |rows: usize| {
        if let Some(p) = progress
            && total > 0
        {
            p.add(size * rows as u64 / total);
        }
    };
    let row_of = RowOf {
        table,
        path,
        map: &map,
        spare,
    };
    // Reads row groups `row_groups` (rows from `first_row` + 1) into
    // `part`; the columns `skip` marks are not read (see `plan`).
    let read_groups = |row_groups: Vec<usize>,
                       first_row: u64,
                       skip: &[bool; MAX_COLUMNS],
                       part: &mut FactsBuilder<'_>|
     -> Result<u64, DataError> {
        let (batches, pos) = batches(&plain, row_groups, skip)?;
        let mut row = first_row;
        let mut texts: [String; MAX_COLUMNS] = Default::default();
        for batch in batches {
            let batch: RecordBatch = batch.map_err(batch_err)?;
            let cols = row_of.cells(&batch, &pos, &header)?;
            for r in 0..batch.num_rows() {
                row += 1;
                row_of.feed(&cols, skip, r, row, &mut texts, part)?;
            }
            report(batch.num_rows());
        }
        Ok(row - first_row)
    };
    // Reads row groups whose every month `outside` found well formed and
    // not kept, without their month (and the columns `skip` marks): each
    // distinct partner, tenant, workload and association of a dictionary
    // is judged once, each row then looked up by its key. A row any of
    // whose values fails (or may fail) a check is fed whole as
    // `read_groups` feeds it, so errors are a full read's.
    let read_lean = |row_groups: Vec<usize>,
                     first_row: u64,
                     skip: &[bool; MAX_COLUMNS],
                     part: &mut FactsBuilder<'_>|
     -> Result<u64, DataError> {
        use crate::schema::col;
        let (batches, pos) = batches(dict.as_ref().unwrap_or(&plain), row_groups, skip)?;
        let [c_partner, c_tenant, c_workload, c_amount, c_association] = match table {
            Table::Revenue => [
                col::R_PARTNER,
                col::R_TENANT,
                col::R_WORKLOAD,
                col::R_REVENUE,
                col::R_ASSOCIATION,
            ],
            _ => [
                col::U_PARTNER,
                col::U_TENANT,
                col::U_WORKLOAD,
                col::U_QUANTITY,
                col::U_ASSOCIATION,
            ],
        };
        let mut partners: PerKey<Partner> = PerKey::default();
        let mut tenants: PerKey<bool> = PerKey::default();
        let mut workloads: PerKey<Option<Option<WarningKind>>> = PerKey::default();
        let mut associations: PerKey<Option<Option<WarningKind>>> = PerKey::default();
        let mut row = first_row;
        let mut texts: [String; MAX_COLUMNS] = Default::default();
        let mut number = String::new();
        for batch in batches {
            let batch: RecordBatch = batch.map_err(batch_err)?;
            let keyed = |c: usize| -> Result<Option<Keyed>, DataError> {
                pos[c]
                    .map(|p| Keyed::new(batch.column(p), path, columns(table)[c].name))
                    .transpose()
            };
            // Every column the lean read judges is in the file (the
            // header holds the required ones); the tenant may be unread.
            let (Some(partner), Some(workload), Some(association)) =
                (keyed(c_partner)?, keyed(c_workload)?, keyed(c_association)?)
            else {
                unreachable!("required columns are in the file");
            };
            let tenant = keyed(c_tenant)?;
            let amount = pos[c_amount]
                .map(|p| Cells::new(batch.column(p), path, columns(table)[c_amount].name))
                .transpose()?;
            partners.start(&partner);
            workloads.start(&workload);
            associations.start(&association);
            if let Some(t) = &tenant {
                tenants.start(t);
            }
            // The batch's columns as `read_groups` reads them, made when a
            // row needs them.
            let mut whole: Option<Vec<Option<Cells>>> = None;
            for r in 0..batch.num_rows() {
                row += 1;
                let p = partners.get(&partner, r, |id| match id.map(trim) {
                    None | Some("") => Partner::Bad,
                    Some(id) if part.note_partner(id) => Partner::Kept,
                    Some(_) => Partner::Skipped,
                });
                let names =
                    |part: &mut FactsBuilder<'_>,
                     workloads: &mut PerKey<Option<Option<WarningKind>>>,
                     associations: &mut PerKey<Option<Option<WarningKind>>>| {
                        let w = workloads.get(&workload, r, |w| match w.map(trim) {
                            None | Some("") => None,
                            Some(w) => Some(part.workload_warning(table, w)),
                        })?;
                        let a = associations.get(&association, r, |a| match a.map(trim) {
                            None | Some("") => None,
                            Some(a) => Some(part.association_warning(a)),
                        })?;
                        Some((w, a))
                    };
                let clean = p != Partner::Bad
                    && tenant.as_ref().is_none_or(|t| {
                        tenants.get(t, r, |id| id.is_some_and(|id| !trim(id).is_empty()))
                    })
                    && amount
                        .as_ref()
                        .is_none_or(|a| a.amount_ok(r, table == Table::Usage, &mut number));
                let names = if clean {
                    names(part, &mut workloads, &mut associations)
                } else {
                    None
                };
                let Some((w, a)) = names else {
                    // A value fails, or may: judged as a full read judges it.
                    if whole.is_none() {
                        whole = Some(row_of.cells(&batch, &pos, &header)?);
                    }
                    let cols = whole.as_deref().unwrap_or_default();
                    row_of.feed(cols, skip, r, row, &mut texts, part)?;
                    continue;
                };
                if p == Partner::Kept {
                    if let Some(kind) = w {
                        part.count_warning(table, kind, trim(workload.text(r)), row);
                    }
                    if let Some(kind) = a {
                        part.count_warning(table, kind, trim(association.text(r)), row);
                    }
                }
            }
            report(batch.num_rows());
        }
        Ok(row - first_row)
    };
    let read_part = |(row_groups, first_row): &(Vec<usize>, u64)| -> Result<(FactsBuilder<'_>, u64), DataError> {
        use crate::schema::col;
        let mut part = builder.empty_like();
        let month_col = if table == Table::Revenue {
            col::R_MONTH
        } else {
            col::U_MONTH
        };
        let read_run = |run: Vec<usize>, first: u64, skip: &[bool; MAX_COLUMNS], part: &mut FactsBuilder<'_>| {
            if skip[month_col] {
                read_lean(run, first, skip, part)
            } else {
                read_groups(run, first, skip, part)
            }
        };
        let mut row = *first_row;
        // Consecutive row groups of the same plan are read together.
        let mut run: Vec<usize> = Vec::new();
        let mut run_skip = [false; MAX_COLUMNS];
        let mut run_first = row;
        for &g in row_groups {
            let group = metadata.row_group(g);
            let skip = match plan(table, group, &schema, &map, &months) {
                Some(skip) if outside(dict.as_ref().unwrap_or(&plain), path, g, &map, table, &months)? => skip,
                _ => [false; MAX_COLUMNS],
            };
            if skip != run_skip && !run.is_empty() {
                read_run(std::mem::take(&mut run), run_first, &run_skip, &mut part)?;
                run_first = row;
            }
            run_skip = skip;
            run.push(g);
            row += group.num_rows().max(0) as u64;
        }
        if !run.is_empty() {
            read_run(run, run_first, &run_skip, &mut part)?;
        }
        Ok((part, row - first_row))
    };
    let results: Vec<Result<(FactsBuilder<'_>, u64), DataError>> =
        parts.par_iter().map(read_part).collect();
    let mut rows = 0;
    for r in results {
        let (part, n) = r?; // the first error in file order
        builder.merge_on(part, rayon::current_num_threads());
        rows += n;
    }
    Ok(rows)
}

/// A month `months` does not keep (the month a lean read feeds a row
/// through the full checks with: such a row's month is not kept, and the
/// builder reads no more of it than its partner and names).
fn spare_month(months: &MonthFilter) -> Month {
    let start = Month::new(2000, 1).expect("a month");
    let kept = match months {
        MonthFilter::Only(kept) => kept.len(),
        MonthFilter::All => 0,
    };
    (0..=kept as u32)
        .map(|k| start.plus(k))
        .find(|m| !months.keeps(*m))
        .unwrap_or(start)
}

/// The reader metadata with the text columns a lean read judges once per
/// distinct value (partner, tenant, workload, association, month of
/// revenue and usage) read as dictionaries (`Dictionary(Int32, Utf8)`):
/// a column the file stores dictionary-encoded then comes with its
/// dictionary and keys, not one string per row. `None` for other tables,
/// or when no such column is plain text, or the reader refuses the types.
fn dictionary_metadata(
    table: Table,
    map: &HeaderMap,
    plain: &ArrowReaderMetadata,
) -> Option<ArrowReaderMetadata> {
    use crate::schema::col;
    let wanted: &[usize] = match table {
        Table::Revenue => &[
            col::R_PARTNER,
            col::R_TENANT,
            col::R_WORKLOAD,
            col::R_MONTH,
            col::R_ASSOCIATION,
        ],
        Table::Usage => &[
            col::U_PARTNER,
            col::U_TENANT,
            col::U_WORKLOAD,
            col::U_MONTH,
            col::U_ASSOCIATION,
        ],
        _ => return None,
    };
    let schema = plain.schema();
    let mut fields: Vec<arrow_schema::FieldRef> = schema.fields().iter().cloned().collect();
    let mut changed = false;
    for &c in wanted {
        let Some(i) = map.index[c] else { continue };
        if fields[i].data_type() == &DataType::Utf8 {
            let keyed = DataType::Dictionary(Box::new(DataType::Int32), Box::new(DataType::Utf8));
            fields[i] = std::sync::Arc::new(fields[i].as_ref().clone().with_data_type(keyed));
            changed = true;
        }
    }
    if !changed {
        return None;
    }
    let schema = arrow_schema::Schema::new_with_metadata(fields, schema.metadata().clone());
    ArrowReaderMetadata::try_new(
        plain.metadata().clone(),
        ArrowReaderOptions::new().with_schema(std::sync::Arc::new(schema)),
    )
    .ok()
}

/// What a partner id resolves to in a lean read.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Partner {
    /// Null or empty: the row is judged whole (an error).
    Bad,
    /// The builder reads this partner's rows.
    Kept,
    /// The builder skips this partner's rows ([`FactsBuilder::only_partner`]).
    Skipped,
}

/// A text column of a batch in a lean read: the keys of a dictionary,
/// whose values are judged once each ([`PerKey`]), or cells judged row by
/// row.
enum Keyed {
    /// Keys into text values.
    Dict(DictionaryArray<Int32Type>),
    /// Any other type (text, integers), as [`Cells`] reads it.
    Cells(Cells),
}

impl Keyed {
    fn new(array: &ArrayRef, path: &Path, name: &str) -> Result<Keyed, DataError> {
        if let DataType::Dictionary(key, value) = array.data_type()
            && **key == DataType::Int32
            && **value == DataType::Utf8
        {
            return Ok(Keyed::Dict(array.as_dictionary::<Int32Type>().clone()));
        }
        Cells::new(array, path, name).map(Keyed::Cells)
    }

    /// Row `r`'s text (not null).
    fn text(&self, r: usize) -> &str {
        match self {
            Keyed::Dict(d) => d
                .values()
                .as_string::<i32>()
                .value(d.keys().values()[r] as usize),
            Keyed::Cells(c) => c.text(r).unwrap_or_default(),
        }
    }
}

/// What each value of a dictionary resolved to, filled as rows first use
/// them (so partners are met in row order), for as long as batches share
/// the dictionary (a column chunk's dictionary is shared by its batches).
struct PerKey<R> {
    values: Option<ArrayRef>,
    slots: Vec<Option<R>>,
}

impl<R> Default for PerKey<R> {
    fn default() -> Self {
        PerKey {
            values: None,
            slots: Vec::new(),
        }
    }
}

impl<R: Copy> PerKey<R> {
    /// Starts a batch: forgets what was resolved unless the batch shares
    /// the dictionary.
    fn start(&mut self, col: &Keyed) {
        if let Keyed::Dict(d) = col
            && !self
                .values
                .as_ref()
                .is_some_and(|v| std::sync::Arc::ptr_eq(v, d.values()))
        {
            self.values = Some(d.values().clone());
            self.slots.clear();
            self.slots.resize(d.values().len(), None);
        }
    }

    /// What row `r` resolves to: `resolve` of its text (`None` for a
    /// null), once per distinct dictionary value.
    fn get(&mut self, col: &Keyed, r: usize, resolve: impl FnOnce(Option<&str>) -> R) -> R {
        match col {
            Keyed::Dict(d) => {
                if d.keys().is_null(r) {
                    return resolve(None);
                }
                let k = d.keys().values()[r] as usize;
                if let Some(v) = self.slots[k] {
                    return v;
                }
                let values = d.values().as_string::<i32>();
                let v = resolve((!values.is_null(k)).then(|| values.value(k)));
                self.slots[k] = Some(v);
                v
            }
            Keyed::Cells(c) => resolve(if c.is_null(r) { None } else { c.text(r) }),
        }
    }
}

/// Feeding rows of a table's batches to the builder, with the checks and
/// error messages of a full read.
struct RowOf<'a> {
    table: Table,
    path: &'a Path,
    map: &'a HeaderMap,
    /// The month a row read without its month is fed with ([`spare_month`]).
    spare: Month,
}

impl RowOf<'_> {
    /// The needed columns of `batch` (`pos`: where each lies in it).
    fn cells(
        &self,
        batch: &RecordBatch,
        pos: &[Option<usize>; MAX_COLUMNS],
        header: &[String],
    ) -> Result<Vec<Option<Cells>>, DataError> {
        self.map
            .index
            .iter()
            .enumerate()
            .map(|(c, idx)| {
                pos[c]
                    .zip(*idx)
                    .map(|(p, i)| Cells::new(batch.column(p), self.path, &header[i]))
                    .transpose()
            })
            .collect()
    }

    /// Feeds row `r` of a batch (`cols`: its columns, `skip`: those not
    /// read) as row number `row`. A skipped column holds a value that
    /// passes every check in its place: a tenant or a name [`SKIPPED`], an
    /// amount 0, a month [`RowOf::spare`] (only rows of months not kept are
    /// read without them).
    fn feed(
        &self,
        cols: &[Option<Cells>],
        skip: &[bool; MAX_COLUMNS],
        r: usize,
        row: u64,
        texts: &mut [String; MAX_COLUMNS],
        part: &mut FactsBuilder<'_>,
    ) -> Result<(), DataError> {
        use crate::schema::col;
        let table = self.table;
        let loc = Loc {
            file: self.path,
            table,
            header: self.map,
            line: row,
            is_row: true,
        };
        let mut typed = [Typed::None; MAX_COLUMNS];
        // The text each column is judged by: its own for text, else the
        // float's decimal text, or how the file holds a value pcs cannot
        // (shown in the error).
        let mut own = [false; MAX_COLUMNS];
        for (c, cells) in cols.iter().enumerate() {
            let Some(cells) = cells else { continue };
            if cells.is_null(r) {
                typed[c] = Typed::Null;
                continue;
            }
            let text = &mut texts[c];
            if cells.text(r).is_some() {
                own[c] = true;
                continue;
            }
            if cells.float_text(r, text) {
                continue;
            }
            let value = match cells {
                Cells::Decimal(a, scale) => decimal(a.value(r), *scale)
                    .map(Typed::Decimal)
                    .ok_or("number out of range"),
                Cells::Decimal256(a, scale) => a
                    .value(r)
                    .to_i128()
                    .and_then(|m| decimal(m, *scale))
                    .map(Typed::Decimal)
                    .ok_or("number out of range"),
                Cells::Days(a) => civil(i64::from(a.value(r)))
                    .map(Typed::Date)
                    .ok_or("date out of range"),
                Cells::Instants(a, per_day, ..) => {
                    let v = a.value(r);
                    if v.rem_euclid(*per_day) != 0 {
                        part.warn_time_of_day(table, columns(table)[c].name, row);
                    }
                    civil(v.div_euclid(*per_day))
                        .map(Typed::Date)
                        .ok_or("date out of range")
                }
                _ => Ok(Typed::None),
            };
            typed[c] = value.unwrap_or_else(|message| {
                text.clear();
                text.push_str(&cells.shown(r));
                Typed::Invalid(message)
            });
        }
        let mut values = [""; MAX_COLUMNS];
        for (c, cells) in cols.iter().enumerate() {
            if skip[c] {
                values[c] = SKIPPED;
                typed[c] = match (table, c) {
                    (Table::Revenue, col::R_REVENUE) | (Table::Usage, col::U_QUANTITY) => {
                        Typed::Decimal(Decimal::ZERO)
                    }
                    (Table::Revenue, col::R_MONTH) | (Table::Usage, col::U_MONTH) => {
                        Typed::Date(self.spare.first_day())
                    }
                    _ => Typed::None,
                };
            } else if let Some(cells) = cells {
                values[c] = if own[c] {
                    cells.text(r).unwrap_or_default()
                } else {
                    &texts[c]
                };
            }
        }
        let n = cols.len();
        feed_typed(&values[..n], &typed[..n], &loc, part).map_err(|e| {
            // Name the cell as the file holds it, not as it was read.
            let cells = e
                .column()
                .filter(|_| e.value().is_some())
                .and_then(|(i, _)| self.map.index.iter().position(|x| *x == Some(i - 1)))
                .and_then(|c| cols[c].as_ref());
            match cells {
                Some(cells) => e.with_value(&cells.shown(r)),
                None => e,
            }
        })
    }
}

/// What a row group's skipped columns hold in their place: a value that
/// passes every check (an id), never looked at (the row's month is not kept,
/// so the builder reads its partner, names and month only).
const SKIPPED: &str = "-";

/// The columns of revenue and usage that a row of a month the builder does
/// not keep is read without: of such a row the builder reads the partner,
/// the names and the month only ([`FactsBuilder::months`]).
fn skippable(table: Table) -> &'static [usize] {
    use crate::schema::col;
    match table {
        Table::Revenue => &[col::R_TENANT, col::R_CUSTOMER, col::R_SUBSCRIPTION],
        Table::Usage => &[col::U_TENANT, col::U_CUSTOMER],
        _ => &[],
    }
}

/// Which columns of a row group may go unread, if its rows all fall in
/// months the builder does not keep ([`outside`] checks that): none unless
/// the `month` column's statistics (text `YYYY-MM`, or dates) show that no
/// kept month is within the group's range, and then only columns whose
/// every value passes the checks of a full read, as the statistics and the
/// column type prove: the optional text columns (no text fails), and the
/// customer's tenant id when it has no null and every value starts with a
/// visible ASCII byte (so none is empty once trimmed), or is an integer.
/// The month itself is not read again once [`outside`] has read it, unless
/// it is a timestamp (whose time of day is a counted warning); then the
/// amount may go unread too, when it cannot be null (a required column, or
/// a null count of 0) and its type proves every value a number pcs holds
/// (an integer, or a decimal stored as a 32- or 64-bit integer with a scale
/// of 0 to 28), and for usage quantities the statistics' minimum is 0 or
/// more. A malformed value is then reported just as a full read reports
/// it; the partner and names of every row are read (the partner list, the
/// warnings and the errors stay a full read's).
fn plan(
    table: Table,
    group: &parquet::file::metadata::RowGroupMetaData,
    schema: &arrow_schema::Schema,
    map: &HeaderMap,
    months: &MonthFilter,
) -> Option<[bool; MAX_COLUMNS]> {
    use crate::schema::col;
    let MonthFilter::Only(kept) = months else {
        return None;
    };
    let skippable = skippable(table);
    if skippable.is_empty() {
        return None;
    }
    let (month_col, amount_col) = if table == Table::Revenue {
        (col::R_MONTH, col::R_REVENUE)
    } else {
        (col::U_MONTH, col::U_QUANTITY)
    };
    let month_at = map.index[month_col]?;
    let stats = group.column(month_at).statistics()?;
    let month_of = |bytes: &[u8]| -> Option<Month> {
        match stats {
            Statistics::ByteArray(_) => Month::parse_strict(std::str::from_utf8(bytes).ok()?).ok(),
            Statistics::Int32(_) => {
                let days = i32::from_le_bytes(bytes.try_into().ok()?);
                civil(i64::from(days)).map(Month::of)
            }
            _ => None,
        }
    };
    let (lo, hi) = (
        month_of(stats.min_bytes_opt()?)?,
        month_of(stats.max_bytes_opt()?)?,
    );
    if kept.iter().any(|m| (lo..=hi).contains(m)) {
        return None;
    }
    let mut skip = [false; MAX_COLUMNS];
    for &c in skippable {
        let Some(i) = map.index[c] else { continue };
        let spec = &columns(table)[c];
        let safe = !spec.required
            || group.column(i).statistics().is_some_and(|st| {
                let visible = |b: Option<&[u8]>| {
                    b.and_then(|b| b.first())
                        .is_some_and(|b| (0x21..=0x7e).contains(b))
                };
                st.null_count_opt() == Some(0)
                    && (schema.field(i).data_type().is_integer()
                        || (matches!(st, Statistics::ByteArray(_))
                            && visible(st.min_bytes_opt())
                            && visible(st.max_bytes_opt())))
            });
        skip[c] = safe;
    }
    let base = |t: &DataType| match t {
        DataType::Dictionary(_, v) => v.as_ref().clone(),
        t => t.clone(),
    };
    if matches!(
        base(schema.field(month_at).data_type()),
        DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View | DataType::Date32
    ) {
        skip[month_col] = true;
        if let Some(i) = map.index[amount_col] {
            skip[amount_col] = amount_safe(group.column(i), schema.field(i).data_type(), table);
        }
    }
    skip.iter().any(|s| *s).then_some(skip)
}

/// Whether every value of a row group's amount column (`data_type`, as
/// read) passes the checks of a full read, by its type and statistics:
/// see [`plan`].
fn amount_safe(
    chunk: &parquet::file::metadata::ColumnChunkMetaData,
    data_type: &DataType,
    table: Table,
) -> bool {
    use parquet::basic::Type as Physical;
    let no_null = chunk.column_descr().max_def_level() == 0
        || chunk.statistics().and_then(|s| s.null_count_opt()) == Some(0);
    // Usage quantities must not be negative: the statistics of a signed
    // integer column say so (32- and 64-bit integers are compared signed).
    let not_negative = || {
        table != Table::Usage
            || match chunk.statistics() {
                Some(Statistics::Int32(s)) => s.min_opt().is_some_and(|m| *m >= 0),
                Some(Statistics::Int64(s)) => s.min_opt().is_some_and(|m| *m >= 0),
                _ => false,
            }
    };
    let stored_as_integer = matches!(chunk.column_type(), Physical::INT32 | Physical::INT64);
    no_null
        && match data_type {
            t if t.is_unsigned_integer() => true,
            t if t.is_signed_integer() => stored_as_integer && not_negative(),
            DataType::Decimal32(_, s)
            | DataType::Decimal64(_, s)
            | DataType::Decimal128(_, s)
            | DataType::Decimal256(_, s) => {
                stored_as_integer && (0..=28).contains(s) && not_negative()
            }
            _ => false,
        }
}

/// Whether no row of row group `g` has a month the builder keeps, read
/// from the group's `month` column (statistics only point at the groups to
/// check: a month written with spaces around it lies outside their range).
/// A row whose month cannot be read (null, malformed) answers no: the group
/// is then read whole and the row reported as a full read reports it. A
/// month column read as a dictionary has each distinct value parsed once.
fn outside(
    meta: &ArrowReaderMetadata,
    path: &Path,
    g: usize,
    map: &HeaderMap,
    table: Table,
    months: &MonthFilter,
) -> Result<bool, DataError> {
    use crate::schema::col;
    let format_err = |e: String| {
        DataError::new(
            ErrorKind::Format,
            path,
            format!("not a readable Parquet file: {e}"),
        )
    };
    let month_col = if table == Table::Revenue {
        col::R_MONTH
    } else {
        col::U_MONTH
    };
    let Some(i) = map.index[month_col] else {
        return Ok(false);
    };
    let file = File::open(path).map_err(|e| DataError::new(ErrorKind::Io, path, e.to_string()))?;
    let reader = ParquetRecordBatchReaderBuilder::new_with_metadata(file, meta.clone());
    let mask = ProjectionMask::roots(reader.parquet_schema(), [i]);
    let batches = reader
        .with_projection(mask)
        .with_row_groups(vec![g])
        .with_batch_size(8192)
        .build()
        .map_err(|e| format_err(e.to_string()))?;
    // Per distinct text, whether it is a well-formed month not kept.
    let mut texts: PerKey<bool> = PerKey::default();
    let not_kept = |m: Option<Month>| m.is_some_and(|m| !months.keeps(m));
    for batch in batches {
        let batch = batch.map_err(|e| format_err(e.to_string()))?;
        let keyed = Keyed::new(batch.column(0), path, "month")?;
        texts.start(&keyed);
        for r in 0..batch.num_rows() {
            let fine = match &keyed {
                Keyed::Cells(Cells::Days(a)) => {
                    !a.is_null(r) && not_kept(civil(i64::from(a.value(r))).map(Month::of))
                }
                Keyed::Cells(Cells::Instants(a, per_day, ..)) => {
                    !a.is_null(r) && not_kept(civil(a.value(r).div_euclid(*per_day)).map(Month::of))
                }
                _ => texts.get(&keyed, r, |t| {
                    not_kept(t.and_then(|t| Month::parse_strict(t.trim()).ok()))
                }),
            };
            if !fine {
                return Ok(false);
            }
        }
    }
    Ok(true)
}

/// Contiguous runs of row groups, at most one per thread, of about the same
/// number of rows, each with the number of rows before it.
fn runs(groups: &[u64], threads: usize) -> Vec<(Vec<usize>, u64)> {
    let total: u64 = groups.iter().sum();
    let n = threads.clamp(1, groups.len().max(1)) as u64;
    let mut parts: Vec<(Vec<usize>, u64)> = Vec::new();
    let (mut run, mut first_row, mut seen) = (Vec::new(), 0u64, 0u64);
    for (g, &rows) in groups.iter().enumerate() {
        // Where run k should end, ideally (scaled by n to stay in integers).
        let k = parts.len() as u64 + 1;
        let target = total * k;
        let (before, after) = (seen * n, (seen + rows) * n);
        if k < n
            && !run.is_empty()
            && after > target
            && target - before.min(target) < after - target
        {
            // Ending the run before this group is closer to its share.
            parts.push((std::mem::take(&mut run), first_row));
            first_row = seen;
        }
        run.push(g);
        seen += rows;
        let k = parts.len() as u64 + 1;
        if k < n && seen * n >= total * k {
            parts.push((std::mem::take(&mut run), first_row));
            first_row = seen;
        }
    }
    if !run.is_empty() {
        parts.push((run, first_row));
    }
    parts
}

/// Whether a file column of type `data_type` can hold a field of `kind`,
/// and if not, what the field needs (for the error).
///
/// Text is read like CSV text in every column. An integer column is read
/// as the integer's decimal text in id, text and number columns: an integer
/// has exactly one such text, so the id 1000001 written by pandas, Polars
/// or DuckDB as int64 is the same partner as the text `1000001`. A float or
/// decimal id is refused: its text (`1000001.0`) is not the id, and a
/// float cannot hold every long id exactly. Months and dates are read from
/// text, dates and timestamps; numbers from text, integers, floats and
/// decimals.
fn accepts(kind: ValueKind, data_type: &DataType) -> Result<(), &'static str> {
    let base = match data_type {
        DataType::Dictionary(_, value) => value.as_ref(),
        other => other,
    };
    let text = matches!(
        base,
        DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View | DataType::Null
    );
    let integer = base.is_integer();
    let ok = text
        || match kind {
            ValueKind::Id | ValueKind::Text => integer,
            ValueKind::Month | ValueKind::Date => matches!(
                base,
                DataType::Date32 | DataType::Date64 | DataType::Timestamp(_, _)
            ),
            ValueKind::Number => {
                integer
                    || base.is_floating()
                    || matches!(
                        base,
                        DataType::Decimal32(_, _)
                            | DataType::Decimal64(_, _)
                            | DataType::Decimal128(_, _)
                            | DataType::Decimal256(_, _)
                    )
            }
        };
    if ok {
        return Ok(());
    }
    Err(match kind {
        ValueKind::Id => {
            "ids are text: write this column as strings or integers, not as floats or decimals (a float's text is not the id)"
        }
        ValueKind::Month => "a month is text (YYYY-MM), a date or a timestamp",
        ValueKind::Date => "a date is text (YYYY-MM-DD), a date or a timestamp",
        ValueKind::Number => "a number is an integer, a float, a decimal or text",
        _ => "this column is text: write it as strings",
    })
}

/// Checks the types of the needed columns before any row is read.
fn check_types(
    table: Table,
    path: &Path,
    schema: &arrow_schema::Schema,
    map: &HeaderMap,
) -> Result<(), DataError> {
    for (c, idx) in map.index.iter().enumerate() {
        let Some(i) = *idx else { continue };
        let spec = &columns(table)[c];
        let data_type = schema.field(i).data_type();
        accepts(spec.kind(), data_type).map_err(|why| {
            DataError::new(
                ErrorKind::Header,
                path,
                format!("the column has type {data_type}, which cannot hold this field: {why}"),
            )
            .in_column(i + 1, spec.name)
        })?;
    }
    Ok(())
}

/// Arrow's seconds, milliseconds, microseconds or nanoseconds per day.
fn per_day(unit: TimeUnit) -> i64 {
    match unit {
        TimeUnit::Second => 86_400,
        TimeUnit::Millisecond => 86_400_000,
        TimeUnit::Microsecond => 86_400_000_000,
        TimeUnit::Nanosecond => 86_400_000_000_000,
    }
}

/// A needed column of a batch, as pcs reads it.
enum Cells {
    /// Text (also integers and dictionaries of text, cast to text).
    Utf8(StringArray),
    /// Large text.
    LargeUtf8(LargeStringArray),
    /// Text views.
    View(StringViewArray),
    /// Floats, read through their shortest decimal text.
    F64(Float64Array),
    /// Single-precision floats, likewise.
    F32(Float32Array),
    /// Half-precision floats, likewise.
    F16(Float16Array),
    /// Decimals up to 128 bits (narrower ones widened), with their scale.
    Decimal(Decimal128Array, i8),
    /// 256-bit decimals, with their scale.
    Decimal256(Decimal256Array, i8),
    /// Days since 1970-01-01.
    Days(Date32Array),
    /// Date64 or timestamps: the values, the units per day, the unit and
    /// whether the column has a time zone.
    Instants(Int64Array, i64, TimeUnit, bool),
    /// Only nulls.
    Null,
}

impl Cells {
    /// The column `name` of a batch, read by its type (already checked by
    /// [`check_types`]).
    fn new(array: &ArrayRef, path: &Path, name: &str) -> Result<Cells, DataError> {
        let cast_err = |e: arrow_schema::ArrowError| {
            DataError::new(
                ErrorKind::Format,
                path,
                format!("column '{name}' cannot be read: {e}"),
            )
        };
        let instants = |unit: TimeUnit, zoned: bool| -> Result<Cells, DataError> {
            // The same values, as plain integers.
            let values = arrow_cast::cast(array, &DataType::Int64).map_err(cast_err)?;
            let values = values.as_primitive::<Int64Type>().clone();
            Ok(Cells::Instants(values, per_day(unit), unit, zoned))
        };
        Ok(match array.data_type() {
            DataType::Dictionary(_, value) => {
                let plain = arrow_cast::cast(array, value).map_err(cast_err)?;
                return Cells::new(&plain, path, name);
            }
            DataType::Utf8 => Cells::Utf8(array.as_string::<i32>().clone()),
            DataType::LargeUtf8 => Cells::LargeUtf8(array.as_string::<i64>().clone()),
            DataType::Utf8View => Cells::View(array.as_string_view().clone()),
            DataType::Null => Cells::Null,
            t if t.is_integer() => {
                // Exact: an integer's one decimal text.
                let text = arrow_cast::cast(array, &DataType::Utf8).map_err(cast_err)?;
                Cells::Utf8(text.as_string::<i32>().clone())
            }
            DataType::Float64 => Cells::F64(array.as_primitive::<Float64Type>().clone()),
            DataType::Float32 => Cells::F32(array.as_primitive::<Float32Type>().clone()),
            DataType::Float16 => Cells::F16(array.as_primitive::<Float16Type>().clone()),
            DataType::Decimal128(_, scale) => {
                Cells::Decimal(array.as_primitive::<Decimal128Type>().clone(), *scale)
            }
            DataType::Decimal32(_, scale) | DataType::Decimal64(_, scale) => {
                // Widening to 128 bits keeps every value exactly.
                let wide =
                    arrow_cast::cast(array, &DataType::Decimal128(38, *scale)).map_err(cast_err)?;
                Cells::Decimal(wide.as_primitive::<Decimal128Type>().clone(), *scale)
            }
            DataType::Decimal256(_, scale) => {
                Cells::Decimal256(array.as_primitive::<Decimal256Type>().clone(), *scale)
            }
            DataType::Date32 => Cells::Days(array.as_primitive::<Date32Type>().clone()),
            DataType::Date64 => instants(TimeUnit::Millisecond, false)?,
            DataType::Timestamp(unit, zone) => instants(*unit, zone.is_some())?,
            other => {
                return Err(DataError::new(
                    ErrorKind::Header,
                    path,
                    format!("column '{name}' has type {other}, which pcs does not read"),
                ));
            }
        })
    }

    fn is_null(&self, r: usize) -> bool {
        match self {
            Cells::Utf8(a) => a.is_null(r),
            Cells::LargeUtf8(a) => a.is_null(r),
            Cells::View(a) => a.is_null(r),
            Cells::F64(a) => a.is_null(r),
            Cells::F32(a) => a.is_null(r),
            Cells::F16(a) => a.is_null(r),
            Cells::Decimal(a, _) => a.is_null(r),
            Cells::Decimal256(a, _) => a.is_null(r),
            Cells::Days(a) => a.is_null(r),
            Cells::Instants(a, ..) => a.is_null(r),
            Cells::Null => true,
        }
    }

    /// Whether row `r`, an amount, passes the checks of a full read: not
    /// null, a number pcs holds, and for a usage quantity not negative
    /// (false: it may not; the row is then judged whole). `text` holds a
    /// float's decimal text.
    fn amount_ok(&self, r: usize, usage: bool, text: &mut String) -> bool {
        if self.is_null(r) {
            return false;
        }
        let d = match self {
            Cells::Decimal(a, scale) => decimal(a.value(r), *scale),
            Cells::Decimal256(a, scale) => a.value(r).to_i128().and_then(|m| decimal(m, *scale)),
            Cells::Utf8(_) | Cells::LargeUtf8(_) | Cells::View(_) => {
                parse_decimal(trim(self.text(r).unwrap_or_default()))
            }
            _ if self.float_text(r, text) => parse_decimal(trim(text)),
            _ => None,
        };
        d.is_some_and(|d| !(usage && d.is_sign_negative() && !d.is_zero()))
    }

    /// Row `r`'s text, for a text column (else `None`).
    fn text(&self, r: usize) -> Option<&str> {
        match self {
            Cells::Utf8(a) => Some(a.value(r)),
            Cells::LargeUtf8(a) => Some(a.value(r)),
            Cells::View(a) => Some(a.value(r)),
            _ => None,
        }
    }

    /// Writes the decimal text a float of row `r` is read through: the
    /// shortest text that reads back as the same float (Rust's `Display`,
    /// which never uses an exponent). Returns false for a non-float.
    fn float_text(&self, r: usize, out: &mut String) -> bool {
        out.clear();
        match self {
            Cells::F64(a) => write!(out, "{}", a.value(r)),
            Cells::F32(a) => write!(out, "{}", a.value(r)),
            Cells::F16(a) => write!(out, "{}", f16_shortest(a.value(r))),
            _ => return false,
        }
        .expect("writing to a String");
        true
    }

    /// Row `r` (not null) as the file holds it, for messages: text as it
    /// is, a float as its shortest round-trip text (`1000001.0`, `NaN`), a
    /// decimal with its scale's digits, a date as `YYYY-MM-DD`, a timestamp
    /// as an ISO 8601 date and time (`Z` when the column has a time zone:
    /// it holds UTC instants).
    fn shown(&self, r: usize) -> String {
        match self {
            Cells::Utf8(_) | Cells::LargeUtf8(_) | Cells::View(_) => {
                self.text(r).unwrap_or_default().to_string()
            }
            Cells::F64(a) => format!("{:?}", a.value(r)),
            Cells::F32(a) => format!("{:?}", a.value(r)),
            Cells::F16(a) => format!("{:?}", f16_shortest(a.value(r))),
            Cells::Decimal(a, scale) => point(a.value(r).to_string(), *scale),
            Cells::Decimal256(a, scale) => point(a.value(r).to_string(), *scale),
            Cells::Days(a) => match civil(i64::from(a.value(r))) {
                Some(d) => d.to_string(),
                None => format!("{} days after 1970-01-01", a.value(r)),
            },
            Cells::Instants(a, per_day, unit, zoned) => {
                instant_text(a.value(r), *per_day, *unit, *zoned)
            }
            Cells::Null => String::new(),
        }
    }
}

/// Arrow's half-precision float.
type F16 = <Float16Type as ArrowPrimitiveType>::Native;

/// The shortest decimal of a half-precision float, as the `f32` it is read
/// through: `f32`'s own shortest text would show binary noise (0.1 in
/// half precision is 0.0999755859375).
fn f16_shortest(x: F16) -> f32 {
    let wide = x.to_f32();
    if !wide.is_finite() {
        return wide;
    }
    for digits in 0..5 {
        let text = format!("{wide:.digits$e}");
        if let Ok(back) = text.parse::<f32>()
            && F16::from_f32(back) == x
        {
            return back;
        }
    }
    wide
}

/// `digits` (an integer's text, maybe negative) with `scale` decimal places.
fn point(digits: String, scale: i8) -> String {
    let (sign, digits) = match digits.strip_prefix('-') {
        Some(d) => ("-", d),
        None => ("", digits.as_str()),
    };
    if scale <= 0 {
        let zeros = if digits == "0" {
            0
        } else {
            usize::from(scale.unsigned_abs())
        };
        return format!("{sign}{digits}{}", "0".repeat(zeros));
    }
    let scale = scale as usize;
    let digits = format!("{digits:0>width$}", width = scale + 1);
    let (int, frac) = digits.split_at(digits.len() - scale);
    format!("{sign}{int}.{frac}")
}

/// A date or timestamp as ISO 8601 text, or as a count of units when its
/// year is outside 1 to 9999.
fn instant_text(value: i64, per_day: i64, unit: TimeUnit, zoned: bool) -> String {
    let days = value.div_euclid(per_day);
    let Some(date) = civil(days) else {
        let unit = match unit {
            TimeUnit::Second => "s",
            TimeUnit::Millisecond => "ms",
            TimeUnit::Microsecond => "µs",
            TimeUnit::Nanosecond => "ns",
        };
        return format!("{value} {unit} after 1970-01-01T00:00:00");
    };
    let within = value.rem_euclid(per_day);
    let per_second = per_day / 86_400;
    let (seconds, fraction) = (within / per_second, within % per_second);
    let mut text = format!(
        "{date}T{:02}:{:02}:{:02}",
        seconds / 3600,
        seconds / 60 % 60,
        seconds % 60
    );
    if fraction != 0 {
        let width = per_second.ilog10() as usize;
        let digits = format!("{fraction:0width$}");
        text.push('.');
        text.push_str(digits.trim_end_matches('0'));
    }
    if zoned {
        text.push('Z');
    }
    text
}

/// The exact decimal of `mantissa` × 10^-`scale`, or `None` when
/// rust_decimal cannot hold it (more than 96 bits, or more than 28 decimal
/// places that are not trailing zeros).
fn decimal(mantissa: i128, scale: i8) -> Option<Decimal> {
    let (mut m, mut scale) = (mantissa, i32::from(scale));
    if scale < 0 {
        m = m.checked_mul(10i128.checked_pow(scale.unsigned_abs())?)?;
        scale = 0;
    }
    while scale > 28 && m % 10 == 0 {
        m /= 10;
        scale -= 1;
    }
    if scale > 28 {
        return None;
    }
    Decimal::try_from_i128_with_scale(m, scale as u32).ok()
}

/// The calendar date `days` after 1970-01-01, in years 1 to 9999 (as a
/// date in text must be).
fn civil(days: i64) -> Option<Date> {
    // Howard Hinnant's days-to-civil algorithm, in 64-bit arithmetic (the
    // range check first keeps it from overflowing).
    if !(-719_162..=2_932_896).contains(&days) {
        return None;
    }
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    Date::new(year as i16, month as i8, day as i8).ok()
}

#[cfg(test)]
mod tests {
    use super::{civil, decimal, instant_text, point};
    use arrow_schema::TimeUnit;
    use pcs_core::jiff::civil::Date;

    /// A revenue file, one row group per element of `groups`, of (tenant,
    /// month) rows (text columns).
    fn groups_file(dir: &std::path::Path, groups: &[&[(&str, &str)]]) -> std::path::PathBuf {
        use arrow_array::{ArrayRef, RecordBatch, StringArray};
        use arrow_schema::{DataType, Field, Schema};
        use std::sync::Arc;
        let path = dir.join("revenue.parquet");
        let names = [
            "partner_id",
            "customer_tenant_id",
            "customer_name",
            "workload",
            "month",
            "revenue_usd",
            "association",
        ];
        let schema = Arc::new(Schema::new(
            names
                .iter()
                .map(|n| Field::new(*n, DataType::Utf8, true))
                .collect::<Vec<_>>(),
        ));
        let mut w = parquet::arrow::ArrowWriter::try_new(
            std::fs::File::create(&path).unwrap(),
            schema.clone(),
            None,
        )
        .unwrap();
        for rows in groups {
            let col = |f: &dyn Fn(&(&str, &str)) -> String| -> ArrayRef {
                Arc::new(StringArray::from(rows.iter().map(f).collect::<Vec<_>>()))
            };
            let batch = RecordBatch::try_new(
                schema.clone(),
                vec![
                    col(&|_| "P1".into()),
                    col(&|r| r.0.into()),
                    col(&|_| "Contoso".into()),
                    col(&|_| "Sales".into()),
                    col(&|r| r.1.into()),
                    col(&|_| "1".into()),
                    col(&|_| "DPOR".into()),
                ],
            )
            .unwrap();
            w.write(&batch).unwrap();
            w.flush().unwrap();
        }
        w.close().unwrap();
        path
    }

    /// Which groups are read without their tenant and customer columns.
    #[test]
    fn only_groups_of_months_not_kept_with_safe_columns_skip_them() {
        use super::{MAX_COLUMNS, outside, plan};
        use crate::schema::{col, match_header};
        use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
        use pcs_core::facts::{MonthFilter, Table};
        let dir = tempfile::tempdir().unwrap();
        let path = groups_file(
            dir.path(),
            &[
                &[("t1", "2022-05"), ("t2", "2022-06")],
                &[("t1", "2023-10")],
                &[("", "2022-05")],
                &[("t1", "2022-05"), ("t1", " 2023-10")],
                &[("t1", "2021-01")],
            ],
        );
        let reader =
            ParquetRecordBatchReaderBuilder::try_new(std::fs::File::open(&path).unwrap()).unwrap();
        let header: Vec<String> = reader
            .schema()
            .fields()
            .iter()
            .map(|f| f.name().clone())
            .collect();
        let map = match_header(Table::Revenue, &header).unwrap();
        let months =
            MonthFilter::Only(vec!["2023-10".parse().unwrap(), "2022-10".parse().unwrap()]);
        let meta = reader.metadata();
        let plans: Vec<Option<[bool; MAX_COLUMNS]>> = (0..5)
            .map(|g| {
                plan(
                    Table::Revenue,
                    meta.row_group(g),
                    reader.schema(),
                    &map,
                    &months,
                )
            })
            .collect();
        let skip = plans[0].expect("months not kept");
        assert!(skip[col::R_TENANT] && skip[col::R_CUSTOMER] && skip[col::R_MONTH]);
        // The amount is text here: it may not be a number, so it is read.
        assert!(!skip[col::R_REVENUE]);
        assert!(!skip[col::R_PARTNER] && !skip[col::R_WORKLOAD] && !skip[col::R_ASSOCIATION]);
        assert_eq!(plans[1], None, "the kept month");
        // An empty tenant id can fail: read; the customer name cannot.
        let skip = plans[2].expect("months not kept");
        assert!(!skip[col::R_TENANT] && skip[col::R_CUSTOMER]);
        // A month written with a space is not in the statistics' range.
        assert_eq!(plans[3], None);
        assert_eq!(
            plans[4],
            plan(
                Table::Revenue,
                meta.row_group(0),
                reader.schema(),
                &map,
                &months
            )
        );
        // Every month kept, or another table: nothing skipped.
        assert_eq!(
            plan(
                Table::Revenue,
                meta.row_group(0),
                reader.schema(),
                &map,
                &MonthFilter::All
            ),
            None
        );
        assert_eq!(
            plan(
                Table::Acr,
                meta.row_group(0),
                reader.schema(),
                &map,
                &months
            ),
            None
        );
        // The rows themselves: a kept month behind spaces is seen.
        let path = path.as_path();
        let meta = parquet::arrow::arrow_reader::ArrowReaderMetadata::load(
            &std::fs::File::open(path).unwrap(),
            Default::default(),
        )
        .unwrap();
        assert!(outside(&meta, path, 0, &map, Table::Revenue, &months).unwrap());
        assert!(!outside(&meta, path, 1, &map, Table::Revenue, &months).unwrap());
        assert!(!outside(&meta, path, 3, &map, Table::Revenue, &months).unwrap());
    }

    /// Whether a group of months not kept is read without its amount, by
    /// the amount's type, nullability and statistics.
    #[test]
    fn the_amount_goes_unread_only_where_type_and_statistics_prove_it_valid() {
        use super::{MAX_COLUMNS, plan};
        use crate::schema::{col, match_header};
        use arrow_array::{ArrayRef, Decimal128Array, Float64Array, Int64Array, RecordBatch};
        use arrow_array::{StringArray, UInt32Array};
        use arrow_schema::{DataType, Field, Schema};
        use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
        use parquet::file::properties::{EnabledStatistics, WriterProperties};
        use pcs_core::facts::{MonthFilter, Table};
        use std::sync::Arc;
        let dir = tempfile::tempdir().unwrap();
        // (table, amount column, nullable, statistics) -> skipped?
        let text = |v: &[&str]| -> ArrayRef { Arc::new(StringArray::from(v.to_vec())) };
        let dec = |v: Vec<Option<i128>>, p: u8| -> ArrayRef {
            Arc::new(
                Decimal128Array::from(v)
                    .with_precision_and_scale(p, 2)
                    .unwrap(),
            )
        };
        let cases: Vec<(Table, ArrayRef, bool, bool, bool)> = vec![
            // Revenue may be negative: a decimal stored as int64 always passes.
            (
                Table::Revenue,
                dec(vec![Some(-150), Some(20)], 18),
                true,
                true,
                true,
            ),
            // Without statistics, only a required column proves no null.
            (
                Table::Revenue,
                dec(vec![Some(-150), Some(20)], 18),
                true,
                false,
                false,
            ),
            (
                Table::Revenue,
                dec(vec![Some(-150), Some(20)], 18),
                false,
                false,
                true,
            ),
            // A null: read (the row's error is a full read's).
            (
                Table::Revenue,
                dec(vec![None, Some(20)], 18),
                true,
                true,
                false,
            ),
            // Fixed-size bytes (precision 38): read.
            (
                Table::Revenue,
                dec(vec![Some(1), Some(20)], 38),
                true,
                true,
                false,
            ),
            // Floats may be NaN; text may not be a number: read.
            (
                Table::Revenue,
                Arc::new(Float64Array::from(vec![1.5, 2.0])),
                true,
                true,
                false,
            ),
            (Table::Revenue, text(&["1", "2"]), true, true, false),
            (
                Table::Revenue,
                Arc::new(Int64Array::from(vec![-5, 7])),
                true,
                true,
                true,
            ),
            // Usage quantities must not be negative: the minimum decides.
            (
                Table::Usage,
                dec(vec![Some(0), Some(20)], 18),
                true,
                true,
                true,
            ),
            (
                Table::Usage,
                dec(vec![Some(-1), Some(20)], 18),
                true,
                true,
                false,
            ),
            (
                Table::Usage,
                dec(vec![Some(0), Some(20)], 18),
                false,
                false,
                false,
            ),
            (
                Table::Usage,
                Arc::new(Int64Array::from(vec![3, 7])),
                true,
                true,
                true,
            ),
            (
                Table::Usage,
                Arc::new(Int64Array::from(vec![-3, 7])),
                true,
                true,
                false,
            ),
            (
                Table::Usage,
                Arc::new(UInt32Array::from(vec![3, 7])),
                true,
                false,
                false,
            ),
            (
                Table::Usage,
                Arc::new(UInt32Array::from(vec![3, 7])),
                false,
                false,
                true,
            ),
        ];
        let months = MonthFilter::Only(vec!["2023-10".parse().unwrap()]);
        for (n, (table, amount, nullable, statistics, skipped)) in cases.into_iter().enumerate() {
            let path = dir.path().join(format!("{n}.parquet"));
            let (amount_name, amount_col) = match table {
                Table::Revenue => ("revenue_usd", col::R_REVENUE),
                _ => ("quantity", col::U_QUANTITY),
            };
            let mut fields = vec![
                Field::new("partner_id", DataType::Utf8, false),
                Field::new("customer_tenant_id", DataType::Utf8, false),
                Field::new("workload", DataType::Utf8, false),
                Field::new("month", DataType::Utf8, false),
                Field::new("association", DataType::Utf8, false),
            ];
            fields.push(Field::new(
                amount_name,
                amount.data_type().clone(),
                nullable,
            ));
            let schema = Arc::new(Schema::new(fields));
            let mut columns = vec![
                text(&["P1", "P2"]),
                text(&["t1", "t2"]),
                text(&["Sales", "x"]),
                text(&["2022-05", "2022-05"]),
                text(&["DPOR", "y"]),
            ];
            columns.push(amount);
            let props = WriterProperties::builder()
                .set_statistics_enabled(if statistics {
                    EnabledStatistics::Chunk
                } else {
                    EnabledStatistics::None
                })
                // The month keeps its statistics: they select the group.
                .set_column_statistics_enabled("month".into(), EnabledStatistics::Chunk)
                .build();
            let mut w = parquet::arrow::ArrowWriter::try_new(
                std::fs::File::create(&path).unwrap(),
                schema.clone(),
                Some(props),
            )
            .unwrap();
            w.write(&RecordBatch::try_new(schema, columns).unwrap())
                .unwrap();
            w.close().unwrap();
            let reader =
                ParquetRecordBatchReaderBuilder::try_new(std::fs::File::open(&path).unwrap())
                    .unwrap();
            let header: Vec<String> = reader
                .schema()
                .fields()
                .iter()
                .map(|f| f.name().clone())
                .collect();
            let map = match_header(table, &header).unwrap();
            let skip: [bool; MAX_COLUMNS] = plan(
                table,
                reader.metadata().row_group(0),
                reader.schema(),
                &map,
                &months,
            )
            .expect("a month not kept");
            let month = if table == Table::Revenue {
                col::R_MONTH
            } else {
                col::U_MONTH
            };
            assert!(skip[month], "case {n}");
            assert_eq!(skip[amount_col], skipped, "case {n}");
        }
    }

    #[test]
    fn runs_share_rows_out_evenly_and_in_order() {
        use super::runs;
        let groups = [131_072, 131_072, 131_072, 131_072, 131_072, 131_072, 5_000];
        let parts = runs(&groups, 2);
        assert_eq!(parts, vec![(vec![0, 1, 2], 0), (vec![3, 4, 5, 6], 393_216)]);
        // Usage-like: three groups, the last small.
        assert_eq!(
            runs(&[524_288, 524_288, 276_000], 2),
            vec![(vec![0], 0), (vec![1, 2], 524_288)]
        );
        assert_eq!(runs(&[10], 4), vec![(vec![0], 0)]);
        assert!(runs(&[], 2).is_empty());
        let many: Vec<u64> = (0..40).map(|i| 1000 + i).collect();
        let parts = runs(&many, 3);
        assert_eq!(parts.len(), 3);
        let flat: Vec<usize> = parts.iter().flat_map(|(g, _)| g.clone()).collect();
        assert_eq!(flat, (0..40).collect::<Vec<_>>());
    }

    #[test]
    fn days_become_the_same_dates_as_jiff_computes() {
        let epoch = Date::new(1970, 1, 1).unwrap();
        for days in [
            -719_162, -1, 0, 1, 59, 365, 10_957, 19_723, 19_782, 2_932_896,
        ] {
            let expected = epoch
                .checked_add(pcs_core::jiff::Span::new().days(days))
                .unwrap();
            assert_eq!(civil(days), Some(expected), "{days}");
        }
        assert_eq!(civil(0).unwrap().to_string(), "1970-01-01");
        assert_eq!(civil(19_782).unwrap().to_string(), "2024-02-29");
        assert!(civil(-719_163).is_none(), "year 0");
        assert!(civil(2_932_897).is_none(), "year 10000");
        assert!(civil(i64::MIN).is_none() && civil(i64::MAX).is_none());
    }

    #[test]
    fn decimals_are_exact_or_refused() {
        let text = |m, s| decimal(m, s).map(|d| d.to_string());
        assert_eq!(text(150_000, 2).as_deref(), Some("1500.00"));
        assert_eq!(text(-1_250, 3).as_deref(), Some("-1.250"));
        assert_eq!(text(7, 0).as_deref(), Some("7"));
        assert_eq!(text(12, -3).as_deref(), Some("12000"));
        // Trailing zeros beyond 28 places are dropped; other digits refused.
        assert_eq!(
            text(15 * 10i128.pow(29), 30).as_deref(),
            Some("1.5000000000000000000000000000")
        );
        assert_eq!(text(15, 30), None);
        assert_eq!(text(10i128.pow(30) + 5, 2), None);
        assert_eq!(text(1, -40), None);
    }

    #[test]
    fn decimals_are_shown_with_their_scale() {
        assert_eq!(point("150000".into(), 2), "1500.00");
        assert_eq!(point("-5".into(), 3), "-0.005");
        assert_eq!(point("12".into(), -3), "12000");
        assert_eq!(point("0".into(), -3), "0");
        assert_eq!(
            point("1000000000000000000000000000005".into(), 2),
            "10000000000000000000000000000.05"
        );
    }

    #[test]
    fn instants_are_shown_as_iso_dates_and_times() {
        let day_us = 86_400_000_000;
        let oct = 19_631; // 2023-10-01
        assert_eq!(
            instant_text(oct * day_us, day_us, TimeUnit::Microsecond, false),
            "2023-10-01T00:00:00"
        );
        assert_eq!(
            instant_text(
                oct * day_us + 3_723_500_000,
                day_us,
                TimeUnit::Microsecond,
                true
            ),
            "2023-10-01T01:02:03.5Z"
        );
        assert_eq!(
            instant_text(-1, 86_400, TimeUnit::Second, false),
            "1969-12-31T23:59:59"
        );
        assert_eq!(
            instant_text(i64::MAX, day_us, TimeUnit::Microsecond, false),
            "9223372036854775807 µs after 1970-01-01T00:00:00"
        );
    }
}
