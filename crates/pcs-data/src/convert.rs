//! `pcs convert`: a CSV dataset to Parquet, atomically.
//!
//! Revenue and usage are written sorted by month (rows of one month are
//! contiguous, in their original order), one month per row group (a month of
//! more than the writer's row-group size fills several), so the statistics
//! of a row group's `month` column name its month and a reader that keeps
//! some months only reads the others' partner and name columns alone
//! (`parquet_table`). Memory stays bounded: rows are first
//! spread over one temporary CSV file per month, then written month by month.
//!
//! The other tables keep their rows in the source's order ([`sorted_by_month`]):
//! a score reads (almost) every month of acr and licenses, and every row
//! of licenses (where each association starts), so sorting them skips
//! nothing, while it scatters each partner's rows over every month's row
//! group: dictionaries of a row group then hold every tenant and
//! subscription id (files 4 to 5 times larger) and the facts builder,
//! which gathers a partner's rows while they come one after another, meets
//! each partner once per month instead of once.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use pcs_core::facts::Table;

use crate::CsvDialect;
use crate::csv_table::for_each_record;
use crate::error::{DataError, ErrorKind};
use crate::record::trim;
use crate::write::{StagedDataset, TableWriter, WriteError};
use crate::{Dataset, Format, columns};

/// Rows written per table.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ConvertStats {
    /// (table, rows, months) per table written: the number of months
    /// written in order, one per row group, or 0 for a table without a
    /// month or kept in the source's order ([`sorted_by_month`]).
    pub tables: Vec<(Table, u64, usize)>,
    /// Where the dataset was written.
    pub destination: PathBuf,
}

fn write_error(path: &Path, e: WriteError) -> DataError {
    DataError::new(ErrorKind::Io, path, e.to_string())
}

/// Converts every CSV table of `source` into Parquet at `dest` (replaced
/// only with `force`). Nothing appears at `dest` unless every table converts.
pub fn to_parquet(source: &Dataset, dest: &Path, force: bool) -> Result<ConvertStats, DataError> {
    if let Some(t) = source.tables().iter().find(|t| t.format != Format::Csv) {
        return Err(DataError::new(
            ErrorKind::Layout,
            &t.path,
            format!(
                "a .{} table: pcs convert reads CSV tables",
                t.format.extension()
            ),
        ));
    }
    let staged = StagedDataset::new(dest, force).map_err(|e| write_error(dest, e))?;
    let mut stats = ConvertStats::default();
    for t in source.tables() {
        let month_col = columns(t.table).iter().position(|c| c.name == "month");
        // A month that is not well formed stops the conversion (`pcs
        // convert` has read the dataset first, so this is a second guard).
        // It is judged as the reader judges it: without the spaces around
        // it, which the writer drops too.
        let check_month = |values: &[&str], line: u64| -> Result<(), DataError> {
            match month_col {
                Some(mc) if pcs_core::calendar::Month::parse_strict(trim(values[mc])).is_err() => {
                    Err(
                        DataError::new(ErrorKind::Value, &t.path, "not a month (YYYY-MM)")
                            .at_line(line)
                            .with_value(values[mc]),
                    )
                }
                _ => Ok(()),
            }
        };
        let out_path = staged.table_path(t.table, Format::Parquet);
        let mut out = staged
            .create_table(t.table, Format::Parquet)
            .map_err(|e| write_error(&out_path, e))?;
        let (rows, months) = match month_col.filter(|_| sorted_by_month(t.table)) {
            None => {
                let rows = for_each_record(t.table, &t.path, t.dialect, |values, loc| {
                    check_month(values, loc.line)?;
                    out.write_row(values).map_err(|e| write_error(&t.path, e))
                })?;
                (rows, 0)
            }
            Some(mc) => {
                // Pass 1: one temporary CSV per month, beside the staged files.
                let spill = tempfile::tempdir_in(staged.path())
                    .map_err(|e| DataError::new(ErrorKind::Io, staged.path(), e.to_string()))?;
                let mut by_month: BTreeMap<String, (PathBuf, TableWriter)> = BTreeMap::new();
                let rows = for_each_record(t.table, &t.path, t.dialect, |values, loc| {
                    check_month(values, loc.line)?;
                    // Rows of ` 2023-09` and `2023-09` are one month.
                    let month = trim(values[mc]);
                    if !by_month.contains_key(month) {
                        let p = spill.path().join(format!("{month}.csv"));
                        let w = TableWriter::create(&p, t.table, Format::Csv)
                            .map_err(|e| write_error(&p, e))?;
                        by_month.insert(month.to_string(), (p, w));
                    }
                    let (p, w) = by_month.get_mut(month).expect("inserted above");
                    w.write_row(values).map_err(|e| write_error(p, e))
                })?;
                // Pass 2: month by month into the Parquet file.
                let months = by_month.len();
                for (_, (p, w)) in by_month {
                    w.finish().map_err(|e| write_error(&p, e))?;
                    for_each_record(t.table, &p, CsvDialect::default(), |values, _| {
                        out.write_row(values).map_err(|e| write_error(&t.path, e))
                    })?;
                    // One month per row group (a large month fills several).
                    out.end_row_group().map_err(|e| write_error(&out_path, e))?;
                    std::fs::remove_file(&p)
                        .map_err(|e| DataError::new(ErrorKind::Io, &p, e.to_string()))?;
                }
                (rows, months)
            }
        };
        out.finish().map_err(|e| write_error(&out_path, e))?;
        stats.tables.push((t.table, rows, months));
    }
    stats.destination = staged.commit().map_err(|e| write_error(dest, e))?;
    Ok(stats)
}

/// Whether `pcs convert` writes `table` sorted by month, one month per row
/// group: revenue and usage, of which a score reads two to four months
/// (`parquet_table` reads the other months' row groups lean). Acr and
/// licenses keep the source's order (see the module's documentation).
pub fn sorted_by_month(table: Table) -> bool {
    matches!(table, Table::Revenue | Table::Usage)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::LoadOptions;
    use pcs_core::rulebook::RulebookSet;

    fn dataset(dir: &Path) {
        std::fs::write(
            dir.join("revenue.csv"),
            "partner_id,customer_tenant_id,workload,month,revenue_usd,association\n\
             P1,T1,Sales,2023-10,300,DPOR\nP1,T2,Sales,2022-10,300,DPOR\nP2,T1,Sales,2023-10,1.50,CSP Tier 1\n",
        )
        .unwrap();
        std::fs::write(
            dir.join("certifications.csv"),
            "partner_id,person_id,certification,earned_on\nP1,a,data-analyst-associate,2023-01-01\n",
        )
        .unwrap();
    }

    #[test]
    fn converts_sorted_by_month_and_scores_the_same() {
        let (root, src) = source(&[]);
        dataset(&src);
        let dest = root.path().join("pq");
        let stats = to_parquet(&Dataset::open(&src).unwrap(), &dest, false).unwrap();
        assert_eq!(stats.tables[0], (Table::Revenue, 3, 2));
        assert!(dest.join("revenue.parquet").is_file());
        let set = RulebookSet::builtin();
        let rb = &set.versions()[0];
        let a = Dataset::open(&src)
            .unwrap()
            .load(rb, &LoadOptions::default())
            .unwrap();
        let b = Dataset::open(&dest)
            .unwrap()
            .load(rb, &LoadOptions::default())
            .unwrap();
        assert_eq!(a.partners.len(), b.partners.len());
        for (id, f) in &a.partners {
            let sum = |x: &pcs_core::facts::PartnerFacts| {
                x.revenue
                    .values()
                    .map(|v| v.amount)
                    .sum::<pcs_core::Decimal>()
            };
            assert_eq!(sum(f), sum(&b.partners[id]));
            assert_eq!(f.certifications.len(), b.partners[id].certifications.len());
        }
        // The destination exists now: no overwrite without force, and nothing changes.
        assert!(to_parquet(&Dataset::open(&src).unwrap(), &dest, false).is_err());
        assert!(to_parquet(&Dataset::open(&src).unwrap(), &dest, true).is_ok());
        let left: Vec<_> = std::fs::read_dir(root.path())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(left.len(), 2, "no temporary directory left: {left:?}");
    }

    /// A temporary directory holding `csv/`, a CSV dataset of `tables`
    /// (file name, contents), and the path of `csv/`.
    fn source(tables: &[(&str, &str)]) -> (tempfile::TempDir, PathBuf) {
        let root = tempfile::tempdir().unwrap();
        let src = root.path().join("csv");
        std::fs::create_dir(&src).unwrap();
        for (name, text) in tables {
            std::fs::write(src.join(name), text).unwrap();
        }
        (root, src)
    }

    const ACR_HEADER: &str = "partner_id,customer_tenant_id,customer_name,subscription_id,service,month,acr_usd,association,offer\n";

    /// The values of column `name` of a Parquet file, in file order.
    fn column_of(path: &Path, name: &str) -> Vec<String> {
        use arrow_array::cast::AsArray;
        let file = std::fs::File::open(path).unwrap();
        let reader = parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder::try_new(file)
            .unwrap()
            .build()
            .unwrap();
        let mut out = Vec::new();
        for batch in reader {
            let batch = batch.unwrap();
            let col = batch.column_by_name(name).unwrap().as_string::<i32>();
            out.extend(col.iter().map(|v| v.unwrap().to_string()));
        }
        out
    }

    #[test]
    fn acr_and_licenses_keep_the_source_order_revenue_is_sorted() {
        let acr = format!(
            "{ACR_HEADER}P1,T1,,S1,Storage,2023-10,1,CSP Tier 2,\nP1,T1,,S1,Storage,2023-09,2,CSP Tier 2,\n\
             P2,T2,,S2,Storage,2023-10,3,CSP Tier 2,\n"
        );
        let (root, src) = source(&[("acr.csv", &acr)]);
        dataset(&src);
        let dest = root.path().join("pq");
        let stats = to_parquet(&Dataset::open(&src).unwrap(), &dest, false).unwrap();
        let acr = stats.tables.iter().find(|t| t.0 == Table::Acr).unwrap();
        assert_eq!(*acr, (Table::Acr, 3, 0), "not sorted: no months in order");
        assert_eq!(
            column_of(&dest.join("acr.parquet"), "month"),
            ["2023-10", "2023-09", "2023-10"]
        );
        assert_eq!(
            column_of(&dest.join("acr.parquet"), "partner_id"),
            ["P1", "P1", "P2"]
        );
        // Revenue is sorted by month, rows of a month in their order.
        assert_eq!(
            column_of(&dest.join("revenue.parquet"), "month"),
            ["2022-10", "2023-10", "2023-10"]
        );
        assert!(sorted_by_month(Table::Revenue) && sorted_by_month(Table::Usage));
        assert!(!sorted_by_month(Table::Acr) && !sorted_by_month(Table::Licenses));
    }

    #[test]
    fn a_bad_acr_month_stops_the_conversion_too() {
        let acr = format!(
            "{ACR_HEADER}P1,T1,,S1,Storage,2023-10,1,CSP Tier 2,\nP1,T1,,S1,Storage,2023-9,2,CSP Tier 2,\n"
        );
        let (root, src) = source(&[("acr.csv", &acr)]);
        let dest = root.path().join("pq");
        let e = to_parquet(&Dataset::open(&src).unwrap(), &dest, false).unwrap_err();
        assert!(e.to_string().contains("line 3"), "{e}");
        assert!(e.to_string().contains("2023-9"), "{e}");
        assert!(!dest.exists());
    }

    #[test]
    fn a_month_with_spaces_around_it_converts_as_the_reader_reads_it() {
        // `pcs score` reads ` 2023-09 ` as 2023-09; so does the conversion,
        // sorted (revenue) or not (acr), and the month is one row group.
        let acr = format!(
            "{ACR_HEADER}P1,T1,,S1,Storage,2023-10,1,CSP Tier 2,\nP1,T1,,S1,Storage, 2023-09 ,2,CSP Tier 2,\n"
        );
        let revenue = "partner_id,customer_tenant_id,customer_name,workload,month,revenue_usd,association\n\
             P1,T1,A,Dynamics 365 Sales,2023-10,1,CSP Tier 1\n\
             P1,T2,B,Dynamics 365 Sales, 2023-09,2,CSP Tier 1\n\
             P1,T3,C,Dynamics 365 Sales,2023-09 ,3,CSP Tier 1\n";
        let (root, src) = source(&[("acr.csv", &acr), ("revenue.csv", revenue)]);
        let dest = root.path().join("pq");
        let stats = to_parquet(&Dataset::open(&src).unwrap(), &dest, false).unwrap();
        assert_eq!(
            column_of(&dest.join("acr.parquet"), "month"),
            ["2023-10", "2023-09"]
        );
        assert_eq!(
            column_of(&dest.join("revenue.parquet"), "month"),
            ["2023-09", "2023-09", "2023-10"]
        );
        assert!(stats.tables.contains(&(Table::Revenue, 3, 2)), "{stats:?}");
    }

    #[test]
    fn a_bad_month_stops_the_conversion_and_writes_nothing() {
        let (root, src) = source(&[(
            "usage.csv",
            "partner_id,customer_tenant_id,workload,month,quantity,association\nP1,T1,Power BI,2023/10,3,PAL\n",
        )]);
        let dest = root.path().join("pq");
        let e = to_parquet(&Dataset::open(&src).unwrap(), &dest, false).unwrap_err();
        assert!(e.to_string().contains("line 2"), "{e}");
        assert!(!dest.exists());
        assert_eq!(std::fs::read_dir(root.path()).unwrap().count(), 1);
    }
}
