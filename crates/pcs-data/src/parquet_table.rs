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

use crate::csv_table::header_error;
use crate::error::{DataError, ErrorKind};
use crate::record::{Loc, feed};
use crate::schema::{HeaderMap, MAX_COLUMNS, match_header};

/// Reads `path` as the Parquet table `table`. Returns the number of rows.
pub(crate) fn read(
    table: Table,
    path: &Path,
    builder: &mut FactsBuilder<'_>,
) -> Result<u64, DataError> {
    let file = File::open(path).map_err(|e| DataError::new(ErrorKind::Io, path, e.to_string()))?;
    let format_err = |e: parquet::errors::ParquetError| {
        DataError::new(
            ErrorKind::Format,
            path,
            format!("not a readable Parquet file: {e}"),
        )
    };
    let reader = ParquetRecordBatchReaderBuilder::try_new(file).map_err(format_err)?;
    let schema = reader.schema().clone();
    let header: Vec<String> = schema.fields().iter().map(|f| f.name().clone()).collect();
    let map: HeaderMap =
        match_header(table, &header).map_err(|p| header_error(table, path, &header, p))?;
    let leaves: Vec<usize> = map.index.iter().flatten().copied().collect();
    let mask = ProjectionMask::roots(reader.parquet_schema(), leaves.iter().copied());
    let batches = reader
        .with_projection(mask)
        .with_batch_size(8192)
        .build()
        .map_err(format_err)?;
    let mut row = 0u64;
    for batch in batches {
        let batch: RecordBatch = batch.map_err(|e| {
            DataError::new(
                ErrorKind::Format,
                path,
                format!("not a readable Parquet file: {e}"),
            )
        })?;
        // The projected batch holds the selected columns in file order.
        let mut sorted = leaves.clone();
        sorted.sort_unstable();
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
                *slot = match col {
                    Some(a) => {
                        let s = a.as_string::<i32>();
                        if s.is_null(r) { "" } else { s.value(r) }
                    }
                    None => "",
                };
            }
            let loc = Loc {
                file: path,
                table,
                header: &map,
                line: row,
                is_row: true,
            };
            feed(&values[..text.len()], &loc, builder)?;
        }
    }
    Ok(row)
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
