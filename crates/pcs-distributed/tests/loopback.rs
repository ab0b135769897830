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
        assert_eq!(x.services, y.services, "{w}: services");
        assert_eq!(x.acr, y.acr, "{w}: acr");
        assert_eq!(x.licenses, y.licenses, "{w}: licenses");
        assert_eq!(x.license_starts, y.license_starts, "{w}: license starts");
    }
}

/// A random dataset of `differential_areas.py` (acr, licenses and
/// certifications of the other areas, 25 months) as Parquet, and its month.
fn random_area_parquet(root: &Path, seed: u64) -> (PathBuf, Month) {
    let csv = root.join(format!("areas-csv-{seed}"));
    std::fs::create_dir_all(&csv).unwrap();
    let out = Command::new("python3")
        .arg("-c")
        .arg(
            "import sys; from pathlib import Path; sys.path.insert(0, sys.argv[1]); \
             import differential_areas as d; print(d.generate(Path(sys.argv[2]), int(sys.argv[3])))",
        )
        .arg(workspace().join("tests/oracle"))
        .arg(&csv)
        .arg(seed.to_string())
        .output()
        .expect("python3 runs differential_areas.py");
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
    let pq = root.join(format!("areas-pq-{seed}"));
    pcs_data::convert::to_parquet(&Dataset::open(&csv).unwrap(), &pq, false).unwrap();
    (pq, month)
}

/// Every table file is scanned by exactly one query, once.
fn assert_one_scan_per_table(loaded: &pcs_distributed::Loaded, what: &str) {
    let files = loaded.dataset.tables().len();
    assert_eq!(
        loaded.queries.len(),
        files,
        "{what}: one query per table file: {:#?}",
        loaded.queries
    );
    for t in loaded.dataset.tables() {
        let name = t.path.file_name().unwrap().to_str().unwrap();
        let scans: usize = loaded
            .queries
            .iter()
            .flat_map(|q| &q.scans)
            .filter(|s| s.ends_with(name))
            .count();
        assert_eq!(
            scans, 1,
            "{what}: {name} scanned {scans} times: {:#?}",
            loaded.queries
        );
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

/// The other areas' inputs (acr, licenses, their tenants, services, starts,
/// exclusions and warnings) equal the native `Dataset::load_areas`, and
/// every table is scanned once, on random area datasets and on the
/// Business Applications ones.
#[test]
fn cluster_area_facts_equal_the_native_ones_with_one_scan_per_table() {
    use pcs_core::summary::AreaRead;
    let root = tempfile::tempdir().unwrap();
    let set = RulebookSet::builtin();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    let ctx = runtime
        .block_on(async {
            let c = pcs_distributed::spawn_local_cluster(2, 2).await?;
            pcs_distributed::connect(&c).await
        })
        .unwrap();
    let mut datasets: Vec<(PathBuf, Month)> = [3, 8, 21]
        .into_iter()
        .map(|seed| random_area_parquet(root.path(), seed))
        .collect();
    datasets.push(random_parquet(root.path(), 5));
    let mut acr_groups = 0;
    let mut license_groups = 0;
    for (dir, month) in &datasets {
        let ba = set
            .in_force("business_applications", month.last_day())
            .unwrap();
        let period = Period::for_month(ba, *month);
        let months = period.data_months();
        let in_force = set.areas_in_force(period.evaluation_date);
        let read =
            AreaRead::new(&[ba], &in_force, AreaRead::months_for(&in_force, *month)).unwrap();
        let options = LoadOptions {
            months: MonthFilter::Only(months.to_vec()),
            ..LoadOptions::default()
        };
        let expected = Dataset::open(dir)
            .unwrap()
            .load_areas(ba, &read.vocab, read.area_months.clone(), &options)
            .unwrap()
            .0;
        let areas = pcs_distributed::Areas {
            vocabulary: &read.vocab,
            months: &read.area_months,
        };
        let what = format!("{}, month {month}", dir.display());
        let loaded = runtime
            .block_on(pcs_distributed::load_with(
                &ctx,
                dir,
                ba,
                &months,
                Some(areas),
            ))
            .unwrap_or_else(|e| panic!("{what}: {e}"));
        assert_same_facts(&expected, &loaded.facts, &what);
        assert_one_scan_per_table(&loaded, &what);
        for p in loaded.facts.partners.values() {
            acr_groups += p.acr.len();
            license_groups += p.licenses.len();
        }
        // Without the areas: the Business Applications facts, one scan each.
        let ba_only = runtime
            .block_on(pcs_distributed::load_with(&ctx, dir, ba, &months, None))
            .unwrap_or_else(|e| panic!("{what}: {e}"));
        assert_same_facts(&native(dir, ba, &months), &ba_only.facts, &what);
        assert_one_scan_per_table(&ba_only, &what);
    }
    assert!(
        acr_groups > 100 && license_groups > 100,
        "{acr_groups} acr and {license_groups} licenses groups"
    );
}

/// A bad seat count in the licenses table stops the run with its row,
/// column and value, as the native reader says it.
#[test]
fn a_bad_licenses_value_is_reported_like_the_native_reader() {
    use pcs_core::summary::AreaRead;
    let root = tempfile::tempdir().unwrap();
    let set = RulebookSet::builtin();
    let header = "partner_id,customer_tenant_id,workload,month,association,paid_seats,active_users,associated_on\n";
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
    let month: Month = "2024-03".parse().unwrap();
    let ba = set
        .in_force("business_applications", month.last_day())
        .unwrap();
    let period = Period::for_month(ba, month);
    let in_force = set.areas_in_force(period.evaluation_date);
    let read = AreaRead::new(&[ba], &in_force, AreaRead::months_for(&in_force, month)).unwrap();
    for (bad, expect) in [
        (
            "P1,T2,Teams,2024-03,CPOR,1x,3,2023-01-05",
            "row 2, column 6 (paid_seats), value '1x'",
        ),
        (
            "P1,T2,Teams,2024-03,CPOR,4,3,2023-02-30",
            "row 2, column 8 (associated_on), value '2023-02-30'",
        ),
        (
            "P1,T2,Teams,2024-3,CPOR,4,-3,2023-01-05",
            "row 2, column 4 (month), value '2024-3'",
        ),
    ] {
        let text = format!(
            "{header}P1,T1,Teams,2024-03,CPOR,5,4,2023-01-05\n{bad}\nP1,T3,Teams,20x4-03,CPOR,5,4,\n"
        );
        let pq = root.path().join("pq");
        let _ = std::fs::remove_dir_all(&pq);
        write_text_parquet_named(&text, &pq, "licenses.parquet");
        let options = LoadOptions {
            months: MonthFilter::Only(period.data_months().to_vec()),
            ..LoadOptions::default()
        };
        let native = Dataset::open(&pq)
            .unwrap()
            .load_areas(ba, &read.vocab, read.area_months.clone(), &options)
            .unwrap_err();
        let areas = pcs_distributed::Areas {
            vocabulary: &read.vocab,
            months: &read.area_months,
        };
        let e = runtime
            .block_on(pcs_distributed::load_with(
                &ctx,
                &pq,
                ba,
                &period.data_months(),
                Some(areas),
            ))
            .unwrap_err();
        assert_eq!(e.kind(), ErrorKind::BadInput);
        assert_eq!(e.to_string(), native.to_string());
        assert!(e.to_string().contains(expect), "{e}");
    }
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
    let text = std::fs::read_to_string(csv).unwrap();
    write_text_parquet_named(&text, dir, "revenue.parquet");
}

/// Writes CSV text's columns as text into `dir/name`.
fn write_text_parquet_named(text: &str, dir: &Path, name: &str) {
    use datafusion::arrow::array::{ArrayRef, RecordBatch, StringArray};
    use datafusion::arrow::datatypes::{DataType, Field, Schema};
    use datafusion::parquet::arrow::ArrowWriter;
    use std::sync::Arc;
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
    let file = std::fs::File::create(dir.join(name)).unwrap();
    let mut w = ArrowWriter::try_new(file, schema, None).unwrap();
    w.write(&batch).unwrap();
    w.close().unwrap();
}
