//! Parquet as real tools write it: the example dataset written by pandas,
//! Polars, DuckDB and pyarrow (`tests/fixtures/gen_real_tools.py`, the files
//! committed under `tests/fixtures/parquet/`) scores exactly as the same
//! records as CSV; files pcs must refuse fail with the column, the type and
//! the value as the file holds it.
//!
//! No Python is needed here: the tests read the committed files.

use std::path::{Path, PathBuf};
use std::process::Command;

/// The fixtures' directory.
fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures/parquet")
}

/// Exit code, stdout and stderr of `pcs args`.
fn pcs(args: &[&str]) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_pcs"))
        .args(args)
        .env_remove("RUST_BACKTRACE")
        .output()
        .expect("run pcs");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8(out.stdout).expect("stdout is UTF-8"),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// Scores `dir` with `args`, expecting success.
#[track_caller]
fn score(dir: &Path, args: &[&str]) -> (String, String) {
    let dir = dir.to_str().unwrap();
    let (code, stdout, stderr) = pcs(&[&["score", dir], args].concat());
    assert_eq!(code, 0, "pcs score {dir} {args:?} failed:\n{stderr}");
    (stdout, stderr)
}

/// Every dataset the tools wrote, with the program that wrote it (as the
/// file's `created_by` says) and the Parquet types it holds.
const DATASETS: &[(&str, &str)] = &[
    ("pandas-default", "parquet-cpp-arrow"),
    ("pandas-timestamps", "parquet-cpp-arrow"),
    ("polars-default", "Polars"),
    ("polars-datetime", "Polars"),
    ("duckdb-default", "DuckDB"),
    ("duckdb-typed", "DuckDB"),
    ("pyarrow-date32", "parquet-cpp-arrow"),
    ("pyarrow-date64", "parquet-cpp-arrow"),
    ("pyarrow-timestamp-ms-utc", "parquet-cpp-arrow"),
    ("pyarrow-dictionary", "parquet-cpp-arrow"),
    ("pyarrow-time-of-day", "parquet-cpp-arrow"),
    ("pandas-by-month", "parquet-cpp-arrow"),
    ("polars-by-month-no-statistics", "Polars"),
    ("pyarrow-by-month-dictionary", "parquet-cpp-arrow"),
    ("pyarrow-by-month-plain", "parquet-cpp-arrow"),
];

/// The datasets sorted by month in several row groups, whose groups of
/// months a score does not read are read lean where the statistics allow.
const BY_MONTH: &[&str] = &[
    "pandas-by-month",
    "polars-by-month-no-statistics",
    "pyarrow-by-month-dictionary",
    "pyarrow-by-month-plain",
];

/// The `created_by` and key-value metadata keys of a Parquet file.
fn written_by(path: &Path) -> (String, Vec<String>) {
    use parquet::file::reader::{FileReader, SerializedFileReader};
    let file = std::fs::File::open(path).unwrap();
    let reader = SerializedFileReader::new(file).unwrap();
    let meta = reader.metadata().file_metadata();
    let keys = meta
        .key_value_metadata()
        .map(|kv| kv.iter().map(|k| k.key.clone()).collect())
        .unwrap_or_default();
    (meta.created_by().unwrap_or("").to_string(), keys)
}

/// The Arrow type of each column of a Parquet file, as pcs's reader sees it.
fn arrow_types(path: &Path) -> Vec<String> {
    use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
    let file = std::fs::File::open(path).unwrap();
    let reader = ParquetRecordBatchReaderBuilder::try_new(file).unwrap();
    reader
        .schema()
        .fields()
        .iter()
        .map(|f| format!("{}: {}", f.name(), f.data_type()))
        .collect()
}

#[test]
fn every_fixture_directory_is_tested() {
    let mut found: Vec<String> = std::fs::read_dir(fixtures())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n != "source-csv" && n != "error")
        .collect();
    found.sort();
    let mut listed: Vec<String> = DATASETS.iter().map(|(n, _)| n.to_string()).collect();
    listed.sort();
    assert_eq!(found, listed);
}

#[test]
fn the_files_were_written_by_the_tools_named() {
    for (name, writer) in DATASETS {
        for table in ["revenue", "usage", "certifications", "partners"] {
            let path = fixtures().join(name).join(format!("{table}.parquet"));
            let (created_by, keys) = written_by(&path);
            assert!(
                created_by.contains(writer),
                "{}: written by {created_by:?}, not {writer}",
                path.display()
            );
            if name.starts_with("pandas") {
                assert!(keys.contains(&"pandas".to_string()), "{}", path.display());
            }
        }
    }
}

/// The types the tools chose, so a regenerated fixture that lost one of
/// them (a tool changing its defaults) is noticed.
#[test]
fn the_fixtures_hold_the_types_they_are_for() {
    let types = |name: &str, table: &str| {
        arrow_types(&fixtures().join(name).join(format!("{table}.parquet"))).join(", ")
    };
    let has = |name: &str, table: &str, parts: &[&str]| {
        let t = types(name, table);
        for p in parts {
            assert!(t.contains(p), "{name}/{table}: {p} not in {t}");
        }
    };
    has(
        "pandas-default",
        "revenue",
        &[
            "partner_id: Int64",
            "month: LargeUtf8",
            "revenue_usd: Float64",
        ],
    );
    has("pandas-timestamps", "revenue", &["month: Timestamp(ns)"]);
    has(
        "pandas-timestamps",
        "certifications",
        &["earned_on: Timestamp(µs)"],
    );
    has("polars-default", "certifications", &["earned_on: Date32"]);
    has("polars-datetime", "usage", &["month: Timestamp(µs)"]);
    has(
        "polars-datetime",
        "certifications",
        &["earned_on: Timestamp(µs, \"UTC\")"],
    );
    has(
        "duckdb-default",
        "usage",
        &["partner_id: Int64", "quantity: Int64"],
    );
    has(
        "duckdb-typed",
        "revenue",
        &["month: Date32", "revenue_usd: Decimal128(18, 2)"],
    );
    has(
        "pyarrow-date32",
        "usage",
        &["month: Date32", "quantity: Decimal128(12, 3)"],
    );
    has(
        "pyarrow-date64",
        "revenue",
        &[
            "partner_id: UInt64",
            "customer_name: LargeUtf8",
            "month: Date64",
        ],
    );
    has(
        "pyarrow-timestamp-ms-utc",
        "revenue",
        &[
            "partner_id: Int32",
            "workload: Utf8View",
            "month: Timestamp(ms, \"UTC\")",
            "revenue_usd: Float32",
        ],
    );
    has(
        "pyarrow-dictionary",
        "revenue",
        &[
            "partner_id: Dictionary(Int8, Utf8)",
            "workload: Dictionary(Int32, Utf8)",
            "revenue_usd: Decimal256(40, 4)",
        ],
    );
    has(
        "pyarrow-dictionary",
        "certifications",
        &["earned_on: Timestamp(ns, \"Europe/Berlin\")"],
    );
}

#[test]
fn every_tool_and_type_scores_as_the_csv_does() {
    let csv = fixtures().join("source-csv");
    let runs: &[&[&str]] = &[
        &["--month", "2023-11", "--format", "jsonl"],
        &["--month", "2023-12", "--format", "csv"],
        &["--date", "2023-11-19", "--format", "jsonl"],
    ];
    for args in runs {
        let (expected, _) = score(&csv, args);
        assert!(expected.lines().count() >= 4, "{expected}");
        for (name, _) in DATASETS {
            let (got, stderr) = score(&fixtures().join(name), args);
            assert_eq!(got, expected, "{name} {args:?} differs from the CSV");
            if *name != "pyarrow-time-of-day" {
                assert!(!stderr.contains("time of day"), "{name}: {stderr}");
            }
        }
    }
}

#[test]
fn a_time_of_day_is_read_as_the_date_in_utc_with_a_counted_warning() {
    let (_, stderr) = score(
        &fixtures().join("pyarrow-time-of-day"),
        &["--month", "2023-11", "--format", "jsonl"],
    );
    for part in [
        "revenue.parquet: 49 rows: column 'month' holds a time of day other than midnight: read as the calendar date in UTC (first at line 1)",
        "usage.parquet: 41 rows: column 'month' holds a time of day",
        "certifications.parquet: 38 rows: column 'earned_on' holds a time of day",
        "column 'expires_on' holds a time of day",
        "partners.parquet: 2 rows: column 'anniversary_date' holds a time of day",
    ] {
        assert!(stderr.contains(part), "{part:?} not in:\n{stderr}");
    }
    // Under --strict, the warning stops the run.
    let dir = fixtures().join("pyarrow-time-of-day");
    let (code, stdout, stderr) = pcs(&[
        "score",
        dir.to_str().unwrap(),
        "--month",
        "2023-11",
        "--strict",
    ]);
    assert_eq!(code, 2, "{stderr}");
    assert!(stdout.is_empty());
    assert!(stderr.contains("time of day"), "{stderr}");
}

/// Runs `pcs score` on an error fixture; returns stderr after checking the
/// exit code (2: bad input) and that nothing was printed.
#[track_caller]
fn refused(name: &str) -> String {
    let dir = fixtures().join("error").join(name);
    let (code, stdout, stderr) = pcs(&["score", dir.to_str().unwrap(), "--month", "2023-11"]);
    assert_eq!(code, 2, "{name}: {stderr}");
    assert!(stdout.is_empty(), "{name}: {stdout}");
    stderr
}

#[track_caller]
fn has(stderr: &str, parts: &[&str]) {
    for p in parts {
        assert!(stderr.contains(p), "{p:?} not in:\n{stderr}");
    }
}

#[test]
fn float_ids_are_refused_by_column_and_type_never_read_as_new_partners() {
    let e = refused("pandas-float-ids");
    has(
        &e,
        &[
            "revenue.parquet, column 1 (partner_id): the column has type Float64, which cannot hold this field: ids are text",
        ],
    );
    assert!(!e.contains("1000001.0"), "{e}");
    let e = refused("pyarrow-decimal-ids");
    has(
        &e,
        &["column 1 (partner_id): the column has type Decimal128(20, 0)"],
    );
}

#[test]
fn a_type_that_cannot_hold_a_month_is_named() {
    let e = refused("pyarrow-bool-month");
    has(
        &e,
        &[
            "column 6 (month): the column has type Boolean, which cannot hold this field: a month is text (YYYY-MM), a date or a timestamp",
        ],
    );
}

#[test]
fn values_are_named_as_the_file_holds_them() {
    has(
        &refused("pyarrow-nan-revenue"),
        &["revenue.parquet, row 2, column 7 (revenue_usd), value 'NaN': not a number"],
    );
    has(
        &refused("pyarrow-month-out-of-range"),
        &["row 3, column 6 (month), value '3000000 days after 1970-01-01': date out of range"],
    );
    has(
        &refused("pandas-bad-month-text"),
        &["row 3, column 6 (month), value ' 2023-13': not a month (YYYY-MM)"],
    );
    has(
        &refused("polars-negative-quantity"),
        &["usage.parquet, row 4, column 6 (quantity), value '-2.0': negative usage quantity"],
    );
}

#[test]
fn a_null_in_a_required_column_is_named_as_a_null() {
    let e = refused("pandas-null-workload");
    has(
        &e,
        &["revenue.parquet, row 2, column 5 (workload): null (no value) in a required column"],
    );
    assert!(!e.contains("value ''"), "{e}");
}

/// The counted warnings of a run's stderr, without the file names and
/// first lines (the files hold the rows in another order than the CSV).
fn counted(stderr: &str) -> Vec<String> {
    stderr
        .lines()
        .filter(|l| l.starts_with("  "))
        .map(|l| {
            let l = l.split_once(": ").map_or(l, |(_, rest)| rest);
            l.split(" (first at").next().unwrap_or(l).to_string()
        })
        .collect()
}

#[test]
fn files_sorted_by_month_in_many_row_groups_score_and_warn_as_the_csv_does() {
    use parquet::file::reader::{FileReader, SerializedFileReader};
    let csv = fixtures().join("source-csv");
    let runs: &[&[&str]] = &[
        &["--month", "2023-11", "--format", "jsonl"],
        &["--month", "2023-12", "--format", "jsonl"],
        &["--month", "2023-10", "--format", "csv", "--explain"],
    ];
    for name in BY_MONTH {
        for table in ["revenue", "usage"] {
            let file = std::fs::File::open(fixtures().join(name).join(format!("{table}.parquet")));
            let groups = SerializedFileReader::new(file.unwrap())
                .unwrap()
                .metadata()
                .num_row_groups();
            assert!(groups >= 4, "{name}/{table}: {groups} row groups");
        }
    }
    for args in runs {
        let (expected, warned) = score(&csv, args);
        let warned = counted(&warned);
        assert!(warned.iter().any(|w| w.contains("no rate")), "{warned:?}");
        for name in BY_MONTH {
            let (got, stderr) = score(&fixtures().join(name), args);
            assert_eq!(got, expected, "{name} {args:?} differs from the CSV");
            assert_eq!(counted(&stderr), warned, "{name} {args:?}");
        }
    }
}
