//! The distributed plan against the native reader: a Ballista scheduler and
//! two executors on loopback ports, random edge-case datasets
//! (`tests/oracle/gen_random.py`, converted to Parquet), and the facts of
//! both paths compared field by field (source lines aside, which neither
//! keeps here), then the score objects.

use std::path::{Path, PathBuf};
use std::process::Command;

use pcs_core::calendar::Month;
use pcs_core::contract::score_object;
use pcs_core::facts::{DatasetFacts, MonthFilter};
use pcs_core::rulebook::{Rulebook, RulebookSet};
use pcs_core::score::{Period, score_partner};
use pcs_data::{Dataset, LoadOptions};
use pcs_distributed::{Cluster, ErrorKind};

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// A random dataset of `gen_random.py` as Parquet, and its month.
fn random_parquet(root: &Path, seed: u64) -> (PathBuf, Month) {
    let csv = root.join(format!("csv-{seed}"));
    let out = Command::new("python3")
        .arg(workspace().join("tests/oracle/gen_random.py"))
        .arg(&csv)
        .args(["--seed", &seed.to_string()])
        .output()
        .expect("python3 runs gen_random.py");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let month: Month = String::from_utf8(out.stdout)
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    let pq = root.join(format!("pq-{seed}"));
    pcs_data::convert::to_parquet(&Dataset::open(&csv).unwrap(), &pq, false).unwrap();
    (pq, month)
}

fn native(dir: &Path, rb: &Rulebook, months: &[Month]) -> DatasetFacts {
    let options = LoadOptions {
        months: MonthFilter::Only(months.to_vec()),
        ..LoadOptions::default()
    };
    Dataset::open(dir).unwrap().load(rb, &options).unwrap()
}

fn assert_same_facts(a: &DatasetFacts, b: &DatasetFacts, what: &str) {
    assert_eq!(a.warnings, b.warnings, "{what}: warnings");
    assert_eq!(
        a.partners.keys().collect::<Vec<_>>(),
        b.partners.keys().collect::<Vec<_>>(),
        "{what}: partners"
    );
    for (id, x) in &a.partners {
        let y = &b.partners[id];
        let w = format!("{what}, partner {id}");
        assert_eq!(x.name, y.name, "{w}: name");
        assert_eq!(x.anniversary_date, y.anniversary_date, "{w}: anniversary");
        assert_eq!(x.tenants, y.tenants, "{w}: tenants");
        assert_eq!(x.revenue, y.revenue, "{w}: revenue");
        assert_eq!(x.usage, y.usage, "{w}: usage");
        assert_eq!(x.excluded, y.excluded, "{w}: excluded");
        assert_eq!(x.people, y.people, "{w}: people");
        assert_eq!(x.certifications, y.certifications, "{w}: certifications");
    }
}

#[test]
fn cluster_facts_and_scores_equal_the_native_ones() {
    let root = tempfile::tempdir().unwrap();
    let set = RulebookSet::builtin();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    let cluster = runtime
        .block_on(pcs_distributed::spawn_local_cluster(2, 2))
        .unwrap();
    assert!(
        matches!(&cluster, Cluster::Remote { host, .. } if host == "127.0.0.1" || host == "::1")
    );
    let ctx = runtime
        .block_on(pcs_distributed::connect(&cluster))
        .unwrap();
    let mut compared = 0;
    for seed in [1, 2, 3, 7, 11, 19] {
        let (dir, month) = random_parquet(root.path(), seed);
        let rb = set
            .in_force("business_applications", month.last_day())
            .unwrap();
        let period = Period::for_month(rb, month);
        let months = period.data_months();
        let expected = native(&dir, rb, &months);
        let got = runtime
            .block_on(pcs_distributed::load(&ctx, &dir, rb, &months))
            .unwrap_or_else(|e| panic!("seed {seed}: {e}"))
            .0;
        let what = format!("seed {seed}, month {month}");
        assert_same_facts(&expected, &got, &what);
        for (id, f) in &expected.partners {
            let a = score_object(&score_partner(rb, id, f, period));
            let b = score_object(&score_partner(rb, id, &got.partners[id], period));
            assert_eq!(a, b, "{what}, partner {id}");
            compared += 1;
        }
    }
    assert!(compared > 20, "only {compared} partners compared");
}

#[test]
fn csv_tables_and_bad_values_are_refused_with_their_place() {
    let root = tempfile::tempdir().unwrap();
    let set = RulebookSet::builtin();
    let rb = &set.versions()[0];
    let months = ["2023-10".parse().unwrap()];
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    let ctx = runtime
        .block_on(async {
            let c = pcs_distributed::spawn_local_cluster(1, 2).await?;
            pcs_distributed::connect(&c).await
        })
        .unwrap();

    let csv = root.path().join("csv");
    std::fs::create_dir(&csv).unwrap();
    std::fs::write(
        csv.join("revenue.csv"),
        "partner_id,customer_tenant_id,workload,month,revenue_usd,association\n\
         P1,T1,Power BI,2023-10,300,CSP Tier 1\n\
         P1,T2,Power BI,2023-1O,300,CSP Tier 1\n",
    )
    .unwrap();
    let e = runtime
        .block_on(pcs_distributed::load(&ctx, &csv, rb, &months))
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::BadInput);
    assert!(e.to_string().contains("Parquet tables only"), "{e}");

    // The same file as Parquet with text columns: the bad month is found
    // with its row, column and value (the native reader says the same).
    let pq = root.path().join("pq");
    write_text_parquet(&csv.join("revenue.csv"), &pq);
    let e = runtime
        .block_on(pcs_distributed::load(&ctx, &pq, rb, &months))
        .unwrap_err();
    let native = Dataset::open(&pq)
        .unwrap()
        .load(rb, &LoadOptions::default())
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::BadInput);
    assert_eq!(e.to_string(), native.to_string());
    assert!(
        e.to_string()
            .contains("row 2, column 4 (month), value '2023-1O'"),
        "{e}"
    );
}

/// Writes a CSV file's columns as text into `dir/revenue.parquet`.
fn write_text_parquet(csv: &Path, dir: &Path) {
    use datafusion::arrow::array::{ArrayRef, RecordBatch, StringArray};
    use datafusion::arrow::datatypes::{DataType, Field, Schema};
    use datafusion::parquet::arrow::ArrowWriter;
    use std::sync::Arc;
    let text = std::fs::read_to_string(csv).unwrap();
    let mut lines = text.lines();
    let header: Vec<&str> = lines.next().unwrap().split(',').collect();
    let rows: Vec<Vec<&str>> = lines.map(|l| l.split(',').collect()).collect();
    let schema = Arc::new(Schema::new(
        header
            .iter()
            .map(|h| Field::new(*h, DataType::Utf8, true))
            .collect::<Vec<_>>(),
    ));
    let columns: Vec<ArrayRef> = (0..header.len())
        .map(|c| Arc::new(StringArray::from_iter_values(rows.iter().map(|r| r[c]))) as ArrayRef)
        .collect();
    let batch = RecordBatch::try_new(schema.clone(), columns).unwrap();
    std::fs::create_dir_all(dir).unwrap();
    let file = std::fs::File::create(dir.join("revenue.parquet")).unwrap();
    let mut w = ArrowWriter::try_new(file, schema, None).unwrap();
    w.write(&batch).unwrap();
    w.close().unwrap();
}
