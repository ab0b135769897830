//! Streaming a Parquet table into the facts builder.
//!
//! Each needed column is cast to text and judged by the same code as CSV
//! fields, so a value means the same thing in either format.

use std::fs::File;
use std::path::Path;
use std::sync::Arc;

use arrow_array::cast::AsArray;
use arrow_array::{Array, ArrayRef, RecordBatch};
use arrow_schema::DataType;
use parquet::arrow::ProjectionMask;
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use pcs_core::facts::{FactsBuilder, Table};

use rayon::prelude::*;

use crate::Progress;
use crate::csv_table::header_error;
use crate::error::{DataError, ErrorKind};
use crate::record::{Loc, feed};
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
    // Contiguous runs of row groups, one per thread, with their first row.
    let n = threads.clamp(1, groups.len().max(1));
    let per = groups.len().div_ceil(n).max(1);
    let mut parts: Vec<(Vec<usize>, u64)> = Vec::new();
    let mut first_row = 0u64;
    for (k, run) in groups.chunks(per).enumerate() {
        parts.push(((k * per..k * per + run.len()).collect(), first_row));
        first_row += run.iter().sum::<u64>();
    }
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
            let text: Vec<Option<Arc<dyn Array>>> = map
                .index
                .iter()
                .map(|idx| {
                    idx.map(|i| {
                        let pos = sorted.binary_search(&i).expect("projected");
                        as_text(batch.column(pos), path, &header[i])
                    })
                    .transpose()
                })
                .collect::<Result<_, _>>()?;
            for r in 0..batch.num_rows() {
                row += 1;
                let mut values = [""; MAX_COLUMNS];
                for (slot, col) in values.iter_mut().zip(&text) {
                    if let Some(a) = col {
                        let s = a.as_string::<i32>();
                        *slot = if s.is_null(r) { "" } else { s.value(r) };
                    }
                }
                let loc = Loc {
                    file: path,
                    table,
                    header: &map,
                    line: row,
                    is_row: true,
                };
                feed(&values[..text.len()], &loc, &mut part)?;
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
