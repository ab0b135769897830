//! Row groups of months a read does not keep: their tenant and customer
//! columns go unread when the statistics prove no value there can fail,
//! and the facts, warnings and errors are a full read's.
#![cfg(feature = "parquet")]

use std::path::{Path, PathBuf};
use std::sync::Arc;

use arrow_array::{ArrayRef, RecordBatch, StringArray};
use arrow_schema::{DataType, Field, Schema};
use parquet::arrow::ArrowWriter;
use pcs_core::facts::{DatasetFacts, FactsBuilder, MonthFilter, Table};
use pcs_core::rulebook::RulebookSet;
use pcs_data::DataError;

/// One revenue row: partner, tenant (`None`: null), workload, month,
/// revenue, association.
type Row = (
    &'static str,
    Option<&'static str>,
    &'static str,
    &'static str,
    &'static str,
    &'static str,
);

/// A revenue Parquet file with one row group per element of `groups`.
fn revenue(dir: &Path, name: &str, groups: &[Vec<Row>]) -> PathBuf {
    let path = dir.join(name);
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
    let mut w =
        ArrowWriter::try_new(std::fs::File::create(&path).unwrap(), schema.clone(), None).unwrap();
    for rows in groups {
        let col = |f: &dyn Fn(&Row) -> Option<&'static str>| -> ArrayRef {
            Arc::new(StringArray::from(rows.iter().map(f).collect::<Vec<_>>()))
        };
        let batch = RecordBatch::try_new(
            schema.clone(),
            vec![
                col(&|r| Some(r.0)),
                col(&|r| r.1),
                col(&|r| Some(if r.0 == "P1" { "Contoso" } else { "Fabrikam" })),
                col(&|r| Some(r.2)),
                col(&|r| Some(r.3)),
                col(&|r| Some(r.4)),
                col(&|r| Some(r.5)),
            ],
        )
        .unwrap();
        w.write(&batch).unwrap();
        w.flush().unwrap();
    }
    w.close().unwrap();
    path
}

fn load(path: &Path, months: &[&str]) -> Result<DatasetFacts, DataError> {
    let set = RulebookSet::builtin();
    let months = MonthFilter::Only(months.iter().map(|m| m.parse().unwrap()).collect());
    let mut b = FactsBuilder::new(&set.versions()[0], months, true);
    pcs_data::read_parquet(Table::Revenue, path, &mut b)?;
    Ok(b.finish())
}

fn assert_same(a: &DatasetFacts, b: &DatasetFacts) {
    assert_eq!(a.warnings, b.warnings);
    assert_eq!(
        a.partners.keys().collect::<Vec<_>>(),
        b.partners.keys().collect::<Vec<_>>()
    );
    for (id, x) in &a.partners {
        let y = &b.partners[id];
        assert_eq!(x.tenants, y.tenants, "{id}");
        assert_eq!(x.revenue, y.revenue, "{id}");
        assert_eq!(x.excluded, y.excluded, "{id}");
    }
}

fn groups() -> Vec<Vec<Row>> {
    vec![
        // Months not read: a partner found only here, unknown names.
        vec![
            ("P1", Some("t1"), "Sales", "2022-05", "10", "CSP Tier 1"),
            ("P9", Some("t9"), "No such workload", "2022-05", "1", "DPOR"),
            (
                "P1",
                Some("t2"),
                "Finance",
                "2022-06",
                "20",
                "No such association",
            ),
        ],
        // The latest month.
        vec![
            ("P1", Some("t1"), "Sales", "2023-10", "6000", "CSP Tier 1"),
            ("P2", Some("t3"), "Sales", "2023-10", "100", "Unknown too"),
        ],
        // The baseline month.
        vec![("P1", Some("t1"), "Sales", "2022-10", "5000", "DPOR")],
        vec![("P2", Some("t4"), "No such workload", "2021-01", "7", "PAL")],
    ]
}

#[test]
fn skipped_row_groups_give_a_full_reads_facts_and_warnings() {
    let dir = tempfile::tempdir().unwrap();
    let groups = groups();
    let split = revenue(dir.path(), "split.parquet", &groups);
    // The same rows in one row group, whose months include the kept ones:
    // read whole.
    let one = revenue(dir.path(), "one.parquet", &[groups.concat()]);
    let months = ["2023-10", "2022-10"];
    let (a, b) = (load(&split, &months).unwrap(), load(&one, &months).unwrap());
    assert_same(&a, &b);
    assert!(
        a.partners.contains_key("P9"),
        "a partner of a skipped group"
    );
    assert_eq!(a.warnings.len(), 3, "{:?}", a.warnings);
    // Every month kept: nothing skipped, the same again.
    let all = ["2021-01", "2022-05", "2022-06", "2022-10", "2023-10"];
    assert_same(&load(&split, &all).unwrap(), &load(&one, &all).unwrap());
}

#[test]
fn a_value_that_could_fail_is_read_and_reported_as_a_full_read_reports_it() {
    let dir = tempfile::tempdir().unwrap();
    let months = ["2023-10", "2022-10"];
    // An empty tenant id, a null one, a month that is not one, in groups of
    // months not read: each is the error a full read gives, on its row.
    for (bad, message) in [
        (
            ("P1", Some(" "), "Sales", "2022-05", "1", "DPOR"),
            "empty id",
        ),
        (
            ("P1", None, "Sales", "2022-05", "1", "DPOR"),
            "customer_tenant_id",
        ),
        (
            ("P1", Some("t1"), "Sales", "2022-13", "1", "DPOR"),
            "2022-13",
        ),
        (
            ("P1", Some("t1"), "Sales", "2022-05", "x", "DPOR"),
            "not a number",
        ),
    ] {
        let mut groups = groups();
        groups[0].insert(1, bad);
        let split = revenue(dir.path(), "split.parquet", &groups);
        let one = revenue(dir.path(), "one.parquet", &[groups.concat()]);
        let e = load(&split, &months).expect_err(message).to_string();
        let f = load(&one, &months).expect_err(message).to_string();
        assert!(e.contains(message), "{e}");
        assert!(e.contains("row 2"), "{e}");
        assert_eq!(e.replace("split", "one"), f);
    }
}
