//! Streaming a Parquet table into the facts builder.
//!
//! Decimal and date columns are taken as they are (exactly: a Decimal128
//! becomes the same rust_decimal value); every other needed column is cast to
//! text and judged by the same code as CSV fields, so a value means the same
//! thing in either format.

use std::fs::File;
use std::path::Path;

use arrow_array::cast::AsArray;
use arrow_array::types::{Date32Type, Decimal128Type};
use arrow_array::{Array, ArrayRef, PrimitiveArray, RecordBatch, StringArray};
use arrow_schema::DataType;
use parquet::arrow::ProjectionMask;
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use pcs_core::Decimal;
use pcs_core::facts::{FactsBuilder, Table};
use pcs_core::jiff::civil::Date;

use rayon::prelude::*;

use crate::Progress;
use crate::csv_table::header_error;
use crate::error::{DataError, ErrorKind};
use crate::record::{Loc, Typed, feed_typed};
use crate::schema::{HeaderMap, MAX_COLUMNS, match_header};

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
    let reader = ParquetRecordBatchReaderBuilder::try_new(file).map_err(format_err)?;
    let header: Vec<String> = reader
        .schema()
        .fields()
        .iter()
        .map(|f| f.name().clone())
        .collect();
    let map: HeaderMap =
        match_header(table, &header).map_err(|p| header_error(table, path, &header, p))?;
    let groups: Vec<u64> = reader
        .metadata()
        .row_groups()
        .iter()
        .map(|g| g.num_rows().max(0) as u64)
        .collect();
    let total: u64 = groups.iter().sum();
    let parts = runs(&groups, threads);
    if parts.is_empty() {
        return Ok(0);
    }
    let read_part = |(row_groups, first_row): &(Vec<usize>, u64)| -> Result<(FactsBuilder<'_>, u64), DataError> {
        let mut part = builder.empty_like();
        let file = File::open(path).map_err(io)?;
        let reader = ParquetRecordBatchReaderBuilder::try_new(file).map_err(format_err)?;
        let leaves: Vec<usize> = map.index.iter().flatten().copied().collect();
        let mask = ProjectionMask::roots(reader.parquet_schema(), leaves.iter().copied());
        let batches = reader
            .with_projection(mask)
            .with_row_groups(row_groups.clone())
            .with_batch_size(8192)
            .build()
            .map_err(format_err)?;
        let mut sorted = leaves.clone();
        sorted.sort_unstable();
        let mut row = *first_row;
        for batch in batches {
            let batch: RecordBatch = batch.map_err(|e| {
                DataError::new(ErrorKind::Format, path, format!("not a readable Parquet file: {e}"))
            })?;
            // The projected batch holds the selected columns in file order.
            let cols: Vec<Option<Column>> = map
                .index
                .iter()
                .map(|idx| {
                    idx.map(|i| {
                        let pos = sorted.binary_search(&i).expect("projected");
                        Column::new(batch.column(pos), path, &header[i])
                    })
                    .transpose()
                })
                .collect::<Result<_, _>>()?;
            for r in 0..batch.num_rows() {
                row += 1;
                let loc = Loc {
                    file: path,
                    table,
                    header: &map,
                    line: row,
                    is_row: true,
                };
                let mut values = [""; MAX_COLUMNS];
                let mut typed = [Typed::None; MAX_COLUMNS];
                for (c, col) in cols.iter().enumerate() {
                    match col {
                        Some(Column::Text(a)) => {
                            values[c] = if a.is_null(r) { "" } else { a.value(r) };
                        }
                        Some(Column::Decimal(a, scale)) if !a.is_null(r) => {
                            typed[c] = decimal(a.value(r), *scale)
                                .map(Typed::Decimal)
                                .map_err(|text| loc.value_error(c, &text, "number out of range"))?;
                        }
                        Some(Column::Date(a)) if !a.is_null(r) => {
                            typed[c] = date(a.value(r))
                                .map(Typed::Date)
                                .map_err(|text| loc.value_error(c, &text, "date out of range"))?;
                        }
                        // A missing column or a null number or date: empty text.
                        _ => {}
                    }
                }
                let n = cols.len();
                feed_typed(&values[..n], &typed[..n], &loc, &mut part)?;
            }
            if let Some(p) = progress
                && total > 0
            {
                p.add(size * batch.num_rows() as u64 / total);
            }
        }
        Ok((part, row - first_row))
    };
    let results: Vec<Result<(FactsBuilder<'_>, u64), DataError>> =
        parts.par_iter().map(read_part).collect();
    let mut rows = 0;
    for r in results {
        let (part, n) = r?; // the first error in file order
        builder.merge(part);
        rows += n;
    }
    Ok(rows)
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

/// A needed column of a batch, as pcs reads it.
enum Column {
    /// Text (cast from whatever the file holds, when not a decimal or date).
    Text(StringArray),
    /// A decimal column with its scale (0 to 28).
    Decimal(PrimitiveArray<Decimal128Type>, u32),
    /// Days since 1970-01-01.
    Date(PrimitiveArray<Date32Type>),
}

impl Column {
    fn new(array: &ArrayRef, path: &Path, name: &str) -> Result<Column, DataError> {
        Ok(match array.data_type() {
            DataType::Decimal128(_, scale) if (0..=28).contains(scale) => Column::Decimal(
                array.as_primitive::<Decimal128Type>().clone(),
                *scale as u32,
            ),
            DataType::Date32 => Column::Date(array.as_primitive::<Date32Type>().clone()),
            _ => Column::Text(as_text(array, path, name)?.as_string::<i32>().clone()),
        })
    }
}

/// The exact decimal of a Decimal128 value, or its text when rust_decimal
/// cannot hold it (more than 96 bits of mantissa).
fn decimal(mantissa: i128, scale: u32) -> Result<Decimal, String> {
    Decimal::try_from_i128_with_scale(mantissa, scale).map_err(|_| {
        let digits = mantissa.unsigned_abs().to_string();
        let sign = if mantissa < 0 { "-" } else { "" };
        let scale = scale as usize;
        if scale == 0 {
            format!("{sign}{digits}")
        } else {
            let digits = format!("{digits:0>width$}", width = scale + 1);
            let (int, frac) = digits.split_at(digits.len() - scale);
            format!("{sign}{int}.{frac}")
        }
    })
}

/// The calendar date `days` after 1970-01-01 (years 1 to 9999, as a date in
/// text must be), or the number of days when out of that range.
fn date(days: i32) -> Result<Date, String> {
    // Howard Hinnant's days-to-civil algorithm, in 64-bit arithmetic.
    let z = i64::from(days) + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    if !(1..=9999).contains(&year) {
        return Err(format!("{days} days after 1970-01-01"));
    }
    Date::new(year as i16, month as i8, day as i8)
        .map_err(|_| format!("{days} days after 1970-01-01"))
}

fn as_text(array: &ArrayRef, path: &Path, name: &str) -> Result<ArrayRef, DataError> {
    match array.data_type() {
        DataType::Utf8 => Ok(array.clone()),
        DataType::Utf8View
        | DataType::LargeUtf8
        | DataType::Int8
        | DataType::Int16
        | DataType::Int32
        | DataType::Int64
        | DataType::UInt8
        | DataType::UInt16
        | DataType::UInt32
        | DataType::UInt64
        | DataType::Float32
        | DataType::Float64
        | DataType::Decimal128(_, _)
        | DataType::Decimal256(_, _)
        | DataType::Date32
        | DataType::Dictionary(_, _) => arrow_cast::cast(array, &DataType::Utf8).map_err(|e| {
            DataError::new(
                ErrorKind::Format,
                path,
                format!("column '{name}' cannot be read as text: {e}"),
            )
        }),
        other => Err(DataError::new(
            ErrorKind::Format,
            path,
            format!(
                "column '{name}' has type {other}, which pcs does not read (use text, a number or a date)"
            ),
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::{date, decimal};
    use pcs_core::jiff::civil::Date;

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
            assert_eq!(date(days), Ok(expected), "{days}");
        }
        assert_eq!(date(0).unwrap().to_string(), "1970-01-01");
        assert_eq!(date(19_782).unwrap().to_string(), "2024-02-29");
        assert!(date(-719_163).is_err(), "year 0");
        assert!(date(2_932_897).is_err(), "year 10000");
    }

    #[test]
    fn decimals_are_exact_or_their_text() {
        assert_eq!(decimal(150_000, 2).unwrap().to_string(), "1500.00");
        assert_eq!(decimal(-1_250, 3).unwrap().to_string(), "-1.250");
        assert_eq!(decimal(7, 0).unwrap().to_string(), "7");
        let huge = 10i128.pow(30) + 5;
        assert_eq!(
            decimal(huge, 2),
            Err("10000000000000000000000000000.05".to_string())
        );
        assert_eq!(
            decimal(-huge, 0),
            Err("-1000000000000000000000000000005".to_string())
        );
    }
}
