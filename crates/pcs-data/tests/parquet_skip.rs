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

/// How a typed test file holds its amounts.
#[derive(Clone, Copy, Debug)]
enum Amount {
    /// Text, as written.
    Text,
    /// `decimal(18, 2)` (stored as 64-bit integers).
    Decimal,
    /// `decimal(38, 2)` (stored as fixed-size bytes: not skipped).
    WideDecimal,
    /// Doubles.
    Float,
}

/// A revenue or usage file of `rows` (partner, tenant, workload, month,
/// amount, association; `"null"` is a null), one row group per element of
/// `groups`, names dictionary-encoded or plain, amounts as `amount`.
fn typed(
    dir: &Path,
    name: &str,
    table: Table,
    groups: &[Vec<Row>],
    amount: Amount,
    dictionary: bool,
) -> PathBuf {
    use arrow_array::{Decimal128Array, Float64Array};
    use parquet::file::properties::WriterProperties;
    let path = dir.join(name);
    let amount_name = if table == Table::Usage {
        "quantity"
    } else {
        "revenue_usd"
    };
    let amount_type = match amount {
        Amount::Text => DataType::Utf8,
        Amount::Decimal => DataType::Decimal128(18, 2),
        Amount::WideDecimal => DataType::Decimal128(38, 2),
        Amount::Float => DataType::Float64,
    };
    let schema = Arc::new(Schema::new(vec![
        Field::new("partner_id", DataType::Utf8, true),
        Field::new("customer_tenant_id", DataType::Utf8, true),
        Field::new("customer_name", DataType::Utf8, true),
        Field::new("workload", DataType::Utf8, true),
        Field::new("month", DataType::Utf8, true),
        Field::new(amount_name, amount_type, true),
        Field::new("association", DataType::Utf8, true),
    ]));
    let props = WriterProperties::builder()
        .set_dictionary_enabled(dictionary)
        .build();
    let mut w = ArrowWriter::try_new(
        std::fs::File::create(&path).unwrap(),
        schema.clone(),
        Some(props),
    )
    .unwrap();
    let null = |v: &'static str| (v != "null").then_some(v);
    for rows in groups {
        let col = |f: &dyn Fn(&Row) -> Option<&'static str>| -> ArrayRef {
            Arc::new(StringArray::from(rows.iter().map(f).collect::<Vec<_>>()))
        };
        let amounts: ArrayRef = match amount {
            Amount::Text => col(&|r| null(r.4)),
            Amount::Decimal | Amount::WideDecimal => {
                let cents = rows.iter().map(|r| {
                    null(r.4).map(|a| (a.parse::<f64>().unwrap() * 100.0).round() as i128)
                });
                let precision = if matches!(amount, Amount::Decimal) {
                    18
                } else {
                    38
                };
                Arc::new(
                    Decimal128Array::from(cents.collect::<Vec<_>>())
                        .with_precision_and_scale(precision, 2)
                        .unwrap(),
                )
            }
            Amount::Float => Arc::new(Float64Array::from(
                rows.iter()
                    .map(|r| null(r.4).map(|a| a.parse::<f64>().unwrap()))
                    .collect::<Vec<_>>(),
            )),
        };
        let batch = RecordBatch::try_new(
            schema.clone(),
            vec![
                col(&|r| null(r.0)),
                col(&|r| r.1),
                col(&|r| Some(if r.0 == "P1" { "Contoso" } else { "Fabrikam" })),
                col(&|r| null(r.2)),
                col(&|r| null(r.3)),
                amounts,
                col(&|r| null(r.5)),
            ],
        )
        .unwrap();
        w.write(&batch).unwrap();
        w.flush().unwrap();
    }
    w.close().unwrap();
    path
}

fn load_table(table: Table, path: &Path, months: &[&str]) -> Result<DatasetFacts, DataError> {
    let set = RulebookSet::builtin();
    let months = MonthFilter::Only(months.iter().map(|m| m.parse().unwrap()).collect());
    let mut b = FactsBuilder::new(&set.versions()[0], months, true);
    pcs_data::read_parquet(table, path, &mut b)?;
    Ok(b.finish())
}

fn assert_same_usage(a: &DatasetFacts, b: &DatasetFacts) {
    assert_same(a, b);
    for (id, x) in &a.partners {
        assert_eq!(x.usage, b.partners[id].usage, "{id}");
    }
}

/// Groups of usage rows: months not read with unknown names and a
/// workload with no rate, then the kept months.
fn usage_groups() -> Vec<Vec<Row>> {
    vec![
        vec![
            (
                "P1",
                Some("t1"),
                "Power Apps",
                "2022-05",
                "10",
                "CSP Tier 1",
            ),
            (
                "P9",
                Some("t9"),
                "No such workload",
                "2022-05",
                "1.5",
                "DPOR",
            ),
            ("P9", Some("t9"), "No such workload", "2022-05", "2", "Nope"),
            (
                "P1",
                Some("t2"),
                "Power Apps",
                "2022-06",
                "0",
                "No such association",
            ),
            ("P1", Some("t1"), "Portals", "2022-05", "3", "PAL"),
        ],
        vec![(
            "P1",
            Some("t1"),
            "Power Apps",
            "2023-10",
            "6000",
            "CSP Tier 1",
        )],
        vec![("P1", Some("t1"), "Power Apps", "2022-10", "5000", "DPOR")],
        vec![
            ("P7", Some("t4"), "No such workload", "2021-01", "7", "PAL"),
            ("P7", Some("t4"), "No such workload", "2021-01", "8", "PAL"),
        ],
    ]
}

#[test]
fn dictionaries_and_typed_amounts_give_a_full_reads_facts_and_warnings() {
    let dir = tempfile::tempdir().unwrap();
    let months = ["2023-10", "2022-10"];
    let all = ["2021-01", "2022-05", "2022-06", "2022-10", "2023-10"];
    for amount in [
        Amount::Text,
        Amount::Decimal,
        Amount::WideDecimal,
        Amount::Float,
    ] {
        for dictionary in [true, false] {
            for (table, groups) in [(Table::Revenue, groups()), (Table::Usage, usage_groups())] {
                let split = typed(
                    dir.path(),
                    "split.parquet",
                    table,
                    &groups,
                    amount,
                    dictionary,
                );
                let one = typed(
                    dir.path(),
                    "one.parquet",
                    table,
                    &[groups.concat()],
                    amount,
                    dictionary,
                );
                let (a, b) = (
                    load_table(table, &split, &months).unwrap(),
                    load_table(table, &one, &months).unwrap(),
                );
                assert_same_usage(&a, &b);
                assert!(a.partners.contains_key("P9"), "{amount:?} {dictionary}");
                // An unknown name is counted once per row, from its first row.
                let unknown = a
                    .warnings
                    .iter()
                    .find(|w| w.name == "No such workload")
                    .expect("counted");
                let rows = groups
                    .concat()
                    .iter()
                    .filter(|r| r.2 == "No such workload")
                    .count();
                assert_eq!(
                    unknown.rows as usize, rows,
                    "{amount:?} {dictionary} {table:?}"
                );
                assert_same_usage(
                    &load_table(table, &split, &all).unwrap(),
                    &load_table(table, &one, &all).unwrap(),
                );
            }
        }
    }
}

#[test]
fn a_null_or_bad_value_in_a_group_read_lean_is_a_full_reads_error() {
    let dir = tempfile::tempdir().unwrap();
    let months = ["2023-10", "2022-10"];
    let cases: [(Table, Row, &str); 9] = [
        // A null amount: the statistics' null count keeps it read.
        (
            Table::Revenue,
            ("P1", Some("t1"), "Sales", "2022-05", "null", "DPOR"),
            "null (no value)",
        ),
        (
            Table::Usage,
            ("P1", Some("t1"), "Power Apps", "2022-05", "null", "DPOR"),
            "null (no value)",
        ),
        // A negative quantity: the statistics' minimum keeps it read.
        (
            Table::Usage,
            ("P1", Some("t1"), "Power Apps", "2022-05", "-1", "DPOR"),
            "negative usage quantity",
        ),
        // Null or empty names and partners, from a dictionary.
        (
            Table::Revenue,
            ("null", Some("t1"), "Sales", "2022-05", "1", "DPOR"),
            "null (no value)",
        ),
        (
            Table::Revenue,
            (" ", Some("t1"), "Sales", "2022-05", "1", "DPOR"),
            "empty id",
        ),
        (
            Table::Revenue,
            ("P1", Some("t1"), "null", "2022-05", "1", "DPOR"),
            "workload",
        ),
        (
            Table::Usage,
            ("P1", Some("t1"), "Power Apps", "2022-05", "1", " "),
            "empty value",
        ),
        // A null tenant where the amount is also null: the first in row order.
        (
            Table::Usage,
            ("P1", None, "Power Apps", "2022-05", "null", "DPOR"),
            "quantity",
        ),
        (
            Table::Revenue,
            ("P1", None, "Sales", "2022-05", "null", "DPOR"),
            "customer_tenant_id",
        ),
    ];
    for amount in [Amount::Text, Amount::Decimal, Amount::Float] {
        for dictionary in [true, false] {
            for (table, bad, message) in &cases {
                let mut groups = if *table == Table::Usage {
                    usage_groups()
                } else {
                    groups()
                };
                groups[0].insert(2, *bad);
                let split = typed(
                    dir.path(),
                    "split.parquet",
                    *table,
                    &groups,
                    amount,
                    dictionary,
                );
                let one = typed(
                    dir.path(),
                    "one.parquet",
                    *table,
                    &[groups.concat()],
                    amount,
                    dictionary,
                );
                let e = load_table(*table, &split, &months)
                    .expect_err(message)
                    .to_string();
                let f = load_table(*table, &one, &months)
                    .expect_err(message)
                    .to_string();
                assert!(e.contains(message), "{amount:?} {dictionary}: {e}");
                assert!(e.contains("row 3"), "{e}");
                assert_eq!(e.replace("split", "one"), f);
            }
        }
    }
}
