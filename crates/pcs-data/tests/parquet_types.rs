//! The Parquet reader over every column type real tools write: what each
//! type means for each kind of field, and errors that name the column, its
//! type and the value as the file holds it.
#![cfg(feature = "parquet")]

use std::path::{Path, PathBuf};
use std::sync::Arc;

use arrow_array::types::Int32Type;
use arrow_array::{
    ArrayRef, BooleanArray, Date32Array, Date64Array, Decimal128Array, DictionaryArray,
    Float32Array, Float64Array, Int64Array, LargeStringArray, NullArray, RecordBatch, StringArray,
    StringViewArray, TimestampMicrosecondArray, TimestampMillisecondArray,
    TimestampNanosecondArray, TimestampSecondArray, UInt32Array,
};
use arrow_schema::{Field, Schema};
use parquet::arrow::ArrowWriter;
use pcs_core::facts::{DatasetFacts, FactsBuilder, MonthFilter, Table, WarningKind};
use pcs_core::rulebook::RulebookSet;
use pcs_data::{DataError, ErrorKind};

/// A Parquet file of `columns` in a temporary directory.
struct File {
    _dir: tempfile::TempDir,
    path: PathBuf,
}

fn parquet(columns: Vec<(&str, ArrayRef)>) -> File {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("table.parquet");
    let schema = Arc::new(Schema::new(
        columns
            .iter()
            .map(|(n, a)| Field::new(*n, a.data_type().clone(), true))
            .collect::<Vec<_>>(),
    ));
    let batch = RecordBatch::try_new(
        schema.clone(),
        columns.into_iter().map(|(_, a)| a).collect(),
    )
    .unwrap();
    let mut w = ArrowWriter::try_new(std::fs::File::create(&path).unwrap(), schema, None).unwrap();
    w.write(&batch).unwrap();
    w.close().unwrap();
    File { _dir: dir, path }
}

fn load(table: Table, path: &Path) -> Result<DatasetFacts, DataError> {
    let set = RulebookSet::builtin();
    let mut b = FactsBuilder::new(&set.versions()[0], MonthFilter::All, false);
    pcs_data::read_parquet(table, path, &mut b)?;
    Ok(b.finish())
}

fn strs(v: &[&str]) -> ArrayRef {
    Arc::new(StringArray::from(v.to_vec()))
}

/// Days since 1970-01-01 of 2023-10-01 (and of 2023-05-10).
const OCT_1: i32 = 19_631;
const MAY_10: i32 = 19_487;

/// A revenue table of two rows with the given partner, month and revenue
/// columns.
fn revenue(partner: ArrayRef, month: ArrayRef, revenue: ArrayRef) -> File {
    parquet(vec![
        ("partner_id", partner),
        ("customer_tenant_id", strs(&["t1", "t2"])),
        ("workload", strs(&["Sales", "Finance"])),
        ("month", month),
        ("revenue_usd", revenue),
        ("association", strs(&["CSP Tier 1", "DPOR"])),
    ])
}

fn months() -> ArrayRef {
    strs(&["2023-10", "2023-10"])
}

fn amounts() -> ArrayRef {
    strs(&["100.50", "200"])
}

/// The revenue of each partner (all months), as text.
fn totals(facts: &DatasetFacts) -> Vec<(String, String)> {
    facts
        .partners
        .iter()
        .map(|(id, p)| {
            let sum: pcs_core::Decimal = p.revenue.values().map(|a| a.amount).sum();
            (id.clone(), sum.to_string())
        })
        .collect()
}

#[test]
fn a_float_id_column_is_refused_naming_the_column_and_its_type() {
    // pandas writes numeric ids as float64 when any is missing.
    let f = revenue(
        Arc::new(Float64Array::from(vec![1000001.0, 1000001.0])),
        months(),
        amounts(),
    );
    let e = load(Table::Revenue, &f.path).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Header);
    assert_eq!(e.column(), Some((1, "partner_id")));
    assert_eq!(e.line(), None);
    assert!(e.message().contains("type Float64"), "{e}");
    assert!(!e.to_string().contains("1000001.0"), "{e}");
    let f = revenue(
        Arc::new(
            Decimal128Array::from(vec![1000001, 1000001])
                .with_precision_and_scale(10, 0)
                .unwrap(),
        ),
        months(),
        amounts(),
    );
    let e = load(Table::Revenue, &f.path).unwrap_err();
    assert_eq!(e.column(), Some((1, "partner_id")));
    assert!(e.message().contains("type Decimal128(10, 0)"), "{e}");
}

#[test]
fn integer_and_text_ids_are_the_same_partner() {
    let ints = revenue(
        Arc::new(Int64Array::from(vec![1000001, 1000002])),
        months(),
        amounts(),
    );
    let text = revenue(strs(&["1000001", "1000002"]), months(), amounts());
    let unsigned = revenue(
        Arc::new(UInt32Array::from(vec![1000001, 1000002])),
        months(),
        amounts(),
    );
    let expected = vec![
        ("1000001".to_string(), "100.50".to_string()),
        ("1000002".to_string(), "200".to_string()),
    ];
    for f in [ints, text, unsigned] {
        assert_eq!(totals(&load(Table::Revenue, &f.path).unwrap()), expected);
    }
}

#[test]
fn every_text_type_reads_as_text() {
    let large: ArrayRef = Arc::new(LargeStringArray::from(vec!["P1", "P2"]));
    let view: ArrayRef = Arc::new(StringViewArray::from(vec!["P1", "P2"]));
    let dict: ArrayRef = Arc::new(
        vec!["P1", "P2"]
            .into_iter()
            .collect::<DictionaryArray<Int32Type>>(),
    );
    let month_dict: ArrayRef = Arc::new(
        vec!["2023-10", "2023-10"]
            .into_iter()
            .collect::<DictionaryArray<Int32Type>>(),
    );
    for (ids, month) in [(large, months()), (view, months()), (dict, month_dict)] {
        let f = revenue(ids, month, amounts());
        let facts = load(Table::Revenue, &f.path).unwrap();
        assert_eq!(
            totals(&facts),
            vec![
                ("P1".to_string(), "100.50".to_string()),
                ("P2".to_string(), "200".to_string())
            ]
        );
    }
}

#[test]
fn a_date_month_is_its_month() {
    // date32 on the 1st and on another day, date64, timestamps of every
    // unit with and without a time zone: all October 2023.
    let day_ms = 86_400_000i64;
    let oct = i64::from(OCT_1);
    let columns: Vec<ArrayRef> = vec![
        Arc::new(Date32Array::from(vec![OCT_1, OCT_1 + 30])),
        Arc::new(Date64Array::from(vec![oct * day_ms, (oct + 12) * day_ms])),
        Arc::new(TimestampSecondArray::from(vec![oct * 86_400, oct * 86_400])),
        Arc::new(TimestampMillisecondArray::from(vec![oct * day_ms; 2]).with_timezone("UTC")),
        Arc::new(TimestampMicrosecondArray::from(vec![
            oct * day_ms * 1000;
            2
        ])),
        Arc::new(
            TimestampNanosecondArray::from(vec![oct * day_ms * 1_000_000; 2])
                .with_timezone("+02:00"),
        ),
    ];
    for month in columns {
        let t = month.data_type().clone();
        let f = revenue(strs(&["P1", "P1"]), month, amounts());
        let facts = load(Table::Revenue, &f.path).unwrap_or_else(|e| panic!("{t}: {e}"));
        let p = &facts.partners["P1"];
        let months: Vec<String> = p.revenue.keys().map(|k| k.2.to_string()).collect();
        assert_eq!(months, vec!["2023-10", "2023-10"], "{t}");
        assert!(facts.warnings.is_empty(), "{t}: {:?}", facts.warnings);
    }
}

fn certifications(earned: ArrayRef, expires: ArrayRef) -> File {
    parquet(vec![
        ("partner_id", strs(&["P1", "P1"])),
        ("person_id", strs(&["a", "b"])),
        (
            "certification",
            strs(&[
                "d365-functional-consultant-sales",
                "d365-functional-consultant-sales",
            ]),
        ),
        ("earned_on", earned),
        ("expires_on", expires),
    ])
}

fn dates(facts: &DatasetFacts) -> Vec<(String, Option<String>)> {
    facts.partners["P1"]
        .certifications
        .iter()
        .map(|c| (c.earned_on.to_string(), c.expires_on.map(|d| d.to_string())))
        .collect()
}

#[test]
fn timestamps_as_pandas_and_polars_write_them_are_dates() {
    // pandas' and Polars' default: microseconds, no time zone.
    let us = 86_400_000_000i64;
    let f = certifications(
        Arc::new(TimestampMicrosecondArray::from(vec![
            i64::from(MAY_10) * us,
            i64::from(MAY_10) * us,
        ])),
        Arc::new(TimestampMicrosecondArray::from(vec![
            Some(i64::from(MAY_10 + 731) * us),
            None,
        ])),
    );
    let facts = load(Table::Certifications, &f.path).unwrap();
    assert_eq!(
        dates(&facts),
        vec![
            ("2023-05-10".to_string(), Some("2025-05-10".to_string())),
            ("2023-05-10".to_string(), None)
        ]
    );
    assert!(facts.warnings.is_empty());
}

#[test]
fn a_time_of_day_is_the_date_in_utc_and_a_counted_warning() {
    let ms = 86_400_000i64;
    let may = i64::from(MAY_10) * ms;
    // 23:30 UTC on May 10 (01:30 on May 11 in Berlin) and 00:00:00.001.
    let f = certifications(
        Arc::new(
            TimestampMillisecondArray::from(vec![may + 84_600_000, may + 1])
                .with_timezone("Europe/Berlin"),
        ),
        Arc::new(TimestampMillisecondArray::from(vec![None, Some(may)])),
    );
    let facts = load(Table::Certifications, &f.path).unwrap();
    assert_eq!(
        dates(&facts),
        vec![
            ("2023-05-10".to_string(), None),
            ("2023-05-10".to_string(), Some("2023-05-10".to_string()))
        ]
    );
    assert_eq!(facts.warnings.len(), 1, "{:?}", facts.warnings);
    let w = &facts.warnings[0];
    assert_eq!(
        (w.kind, w.name.as_str(), w.rows, w.first_line),
        (WarningKind::TimeOfDay, "earned_on", 2, 1)
    );
    assert_eq!(
        w.describe("Business Applications"),
        "2 rows: column 'earned_on' holds a time of day other than midnight: read as the calendar date in UTC (first at line 1)"
    );
}

#[test]
fn numbers_of_every_type_are_exact() {
    let cases: Vec<(ArrayRef, [&str; 2])> = vec![
        (Arc::new(Int64Array::from(vec![-7, 1500])), ["-7", "1500"]),
        // Floats through their shortest text: 0.1 is 0.1, not 0.1000000000000000055…
        (
            Arc::new(Float64Array::from(vec![0.1, 5900.5])),
            ["0.1", "5900.5"],
        ),
        (
            Arc::new(Float32Array::from(vec![0.1f32, 12000.0])),
            ["0.1", "12000"],
        ),
        (
            Arc::new(
                Decimal128Array::from(vec![10_050, -2])
                    .with_precision_and_scale(18, 2)
                    .unwrap(),
            ),
            ["100.50", "-0.02"],
        ),
        (
            arrow_cast::cast(
                &Decimal128Array::from(vec![1_005_000, 7])
                    .with_precision_and_scale(20, 4)
                    .unwrap(),
                &arrow_schema::DataType::Decimal256(40, 4),
            )
            .unwrap(),
            ["100.5000", "0.0007"],
        ),
        (
            Arc::new(
                Decimal128Array::from(vec![15 * 10i128.pow(29), 0])
                    .with_precision_and_scale(38, 30)
                    .unwrap(),
            ),
            [
                "1.5000000000000000000000000000",
                "0.0000000000000000000000000000",
            ],
        ),
    ];
    for (amount, expected) in cases {
        let t = amount.data_type().clone();
        let f = revenue(strs(&["P1", "P2"]), months(), amount);
        let facts = load(Table::Revenue, &f.path).unwrap_or_else(|e| panic!("{t}: {e}"));
        let got: Vec<String> = totals(&facts).into_iter().map(|(_, v)| v).collect();
        assert_eq!(got, expected, "{t}");
    }
}

#[test]
fn values_are_named_as_the_file_holds_them() {
    let check = |f: File, table, row, column: (usize, &str), value: &str, message: &str| {
        let e = load(table, &f.path).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Value, "{e}");
        assert_eq!(e.line(), Some(row), "{e}");
        assert_eq!(e.column(), Some(column), "{e}");
        assert_eq!(e.value(), Some(value), "{e}");
        assert_eq!(e.message(), message, "{e}");
    };
    check(
        revenue(
            strs(&["P1", "P1"]),
            months(),
            Arc::new(Float64Array::from(vec![1.0, f64::NAN])),
        ),
        Table::Revenue,
        2,
        (5, "revenue_usd"),
        "NaN",
        "not a number",
    );
    check(
        revenue(
            strs(&["P1", "P1"]),
            months(),
            Arc::new(Float64Array::from(vec![f64::NEG_INFINITY, 1.0])),
        ),
        Table::Revenue,
        1,
        (5, "revenue_usd"),
        "-inf",
        "not a number",
    );
    check(
        revenue(
            strs(&["P1", "P1"]),
            Arc::new(Date32Array::from(vec![OCT_1, 3_000_000])),
            amounts(),
        ),
        Table::Revenue,
        2,
        (4, "month"),
        "3000000 days after 1970-01-01",
        "date out of range",
    );
    check(
        revenue(
            strs(&["P1", "P1"]),
            strs(&["2023-10", " 2023-13"]),
            amounts(),
        ),
        Table::Revenue,
        2,
        (4, "month"),
        " 2023-13",
        "not a month (YYYY-MM)",
    );
    check(
        revenue(
            strs(&["P1", "P1"]),
            months(),
            Arc::new(
                Decimal128Array::from(vec![1, 10i128.pow(30)])
                    .with_precision_and_scale(38, 1)
                    .unwrap(),
            ),
        ),
        Table::Revenue,
        2,
        (5, "revenue_usd"),
        "100000000000000000000000000000.0",
        "number out of range",
    );
    let usage = |quantity: ArrayRef| {
        parquet(vec![
            ("partner_id", strs(&["P1", "P1"])),
            ("customer_tenant_id", strs(&["t1", "t1"])),
            ("workload", strs(&["Sales", "Sales"])),
            ("month", months()),
            ("quantity", quantity),
            ("association", strs(&["DPOR", "DPOR"])),
        ])
    };
    check(
        usage(Arc::new(Float64Array::from(vec![3.0, -2.0]))),
        Table::Usage,
        2,
        (5, "quantity"),
        "-2.0",
        "negative usage quantity",
    );
    check(
        usage(Arc::new(
            Decimal128Array::from(vec![300, -250])
                .with_precision_and_scale(9, 3)
                .unwrap(),
        )),
        Table::Usage,
        2,
        (5, "quantity"),
        "-0.250",
        "negative usage quantity",
    );
}

#[test]
fn the_first_bad_field_of_a_row_is_reported_as_for_csv() {
    // An empty id comes before the month in the record: it is the error,
    // though the month (beyond year 9999) is read first.
    let f = revenue(
        strs(&["", "P1"]),
        Arc::new(Date32Array::from(vec![3_000_000, OCT_1])),
        amounts(),
    );
    let e = load(Table::Revenue, &f.path).unwrap_err();
    assert_eq!(
        (e.line(), e.column(), e.value()),
        (Some(1), Some((1, "partner_id")), Some(""))
    );
    assert_eq!(e.message(), "empty id");
    // An optional date beyond year 9999 is an error too.
    let f = parquet(vec![
        ("partner_id", strs(&["P1"])),
        (
            "anniversary_date",
            Arc::new(Date32Array::from(vec![-800_000])),
        ),
    ]);
    let e = load(Table::Partners, &f.path).unwrap_err();
    assert_eq!(e.value(), Some("-800000 days after 1970-01-01"), "{e}");
    assert_eq!(e.message(), "date out of range");
}

#[test]
fn a_null_in_a_required_column_is_a_null_not_an_empty_value() {
    let f = revenue(
        Arc::new(StringArray::from(vec![Some("P1"), None])),
        months(),
        amounts(),
    );
    let e = load(Table::Revenue, &f.path).unwrap_err();
    assert_eq!((e.line(), e.column()), (Some(2), Some((1, "partner_id"))));
    assert_eq!(e.value(), None, "{e}");
    assert_eq!(e.message(), "null (no value) in a required column");
    assert_eq!(
        e.to_string(),
        format!(
            "{}, row 2, column 1 (partner_id): null (no value) in a required column",
            f.path.display()
        )
    );
    // A typed null too; a column of only nulls is all nulls.
    let f = revenue(
        strs(&["P1", "P1"]),
        Arc::new(Date32Array::from(vec![None, Some(OCT_1)])),
        amounts(),
    );
    let e = load(Table::Revenue, &f.path).unwrap_err();
    assert_eq!(
        (e.line(), e.column(), e.value()),
        (Some(1), Some((4, "month")), None)
    );
    let f = revenue(strs(&["P1", "P1"]), months(), Arc::new(NullArray::new(2)));
    let e = load(Table::Revenue, &f.path).unwrap_err();
    assert_eq!(
        (e.line(), e.column(), e.value()),
        (Some(1), Some((5, "revenue_usd")), None)
    );
}

#[test]
fn nulls_in_optional_columns_are_absent() {
    let f = parquet(vec![
        ("partner_id", strs(&["P1", "P2"])),
        (
            "name",
            Arc::new(StringArray::from(vec![None, Some("Fabrikam")])),
        ),
        (
            "anniversary_date",
            Arc::new(Date32Array::from(vec![Some(MAY_10), None])),
        ),
    ]);
    let facts = load(Table::Partners, &f.path).unwrap();
    let p1 = &facts.partners["P1"];
    let p2 = &facts.partners["P2"];
    assert_eq!(p1.name, None);
    assert_eq!(
        p1.anniversary_date.map(|d| d.to_string()).as_deref(),
        Some("2023-05-10")
    );
    assert_eq!(p2.name.as_deref(), Some("Fabrikam"));
    assert_eq!(p2.anniversary_date, None);
}

#[test]
fn types_that_cannot_hold_the_field_are_refused_before_any_row() {
    let cases: Vec<(ArrayRef, usize, &str, &str)> = vec![
        (
            Arc::new(BooleanArray::from(vec![true, false])),
            4,
            "month",
            "type Boolean",
        ),
        (
            Arc::new(Int64Array::from(vec![202310, 202310])),
            4,
            "month",
            "type Int64",
        ),
    ];
    for (month, i, name, part) in cases {
        let f = revenue(strs(&["P1", "P1"]), month, amounts());
        let e = load(Table::Revenue, &f.path).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Header, "{e}");
        assert_eq!(e.column(), Some((i, name)), "{e}");
        assert!(e.message().contains(part), "{e}");
    }
    // A date where a number or a name belongs.
    let f = revenue(
        strs(&["P1", "P1"]),
        months(),
        Arc::new(Date32Array::from(vec![OCT_1, OCT_1])),
    );
    let e = load(Table::Revenue, &f.path).unwrap_err();
    assert_eq!(e.column(), Some((5, "revenue_usd")), "{e}");
    assert!(e.message().contains("type Date32"), "{e}");
    // An extra column of any type is ignored.
    let f = parquet(vec![
        ("partner_id", strs(&["P1"])),
        ("flag", Arc::new(BooleanArray::from(vec![true]))),
    ]);
    assert!(load(Table::Partners, &f.path).is_ok());
}
