//! `pcs score --cluster`: the same scores and warnings as the native reader,
//! through a Ballista scheduler and executors on loopback ports that this
//! test process starts, with `pcs` as a separate process talking to them.
//! Without the `distributed` feature, `--cluster` is a clear error.

use std::path::{Path, PathBuf};
use std::process::Command;

const PCS: &str = env!("CARGO_BIN_EXE_pcs");

struct Run {
    code: i32,
    stdout: String,
    stderr: String,
}

fn pcs(args: &[&str]) -> Run {
    let out = Command::new(PCS)
        .args(args)
        .env_remove("RUST_BACKTRACE")
        .output()
        .expect("run pcs");
    Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8(out.stdout).expect("UTF-8"),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

#[cfg(feature = "distributed")]
fn ok(args: &[&str]) -> Run {
    let r = pcs(args);
    assert_eq!(r.code, 0, "pcs {args:?}: {}", r.stderr);
    r
}

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

#[cfg(not(feature = "distributed"))]
#[test]
fn without_the_feature_cluster_says_how_to_get_it() {
    let r = pcs(&[
        "score",
        workspace().join("examples/contoso").to_str().unwrap(),
        "--month",
        "2023-11",
        "--cluster",
        "df://127.0.0.1:50050",
    ]);
    assert_eq!(r.code, 1);
    assert!(r.stdout.is_empty());
    assert!(
        r.stderr.contains("built without the `distributed` feature"),
        "{}",
        r.stderr
    );
}

#[cfg(feature = "distributed")]
mod cluster {
    use super::*;

    /// Native and cluster runs of `pcs score` give byte-identical stdout
    /// and the same warnings.
    fn same_on_cluster(dir: &Path, month: &str, cluster: &str) -> usize {
        let d = dir.to_str().unwrap();
        let args = ["score", d, "--month", month, "--format", "jsonl"];
        let native = ok(&args);
        let mut on_cluster = args.to_vec();
        on_cluster.extend(["--cluster", cluster]);
        let distributed = ok(&on_cluster);
        assert_eq!(native.stdout, distributed.stdout, "{d} {month}");
        assert_eq!(native.stderr, distributed.stderr, "{d} {month}: warnings");
        native.stdout.lines().count()
    }

    #[test]
    fn generated_and_random_datasets_score_the_same_on_a_loopback_cluster() {
        let local = pcs_distributed::LocalCluster::start(2, 2).expect("a local cluster");
        let address = local.cluster().to_string();
        assert!(address.starts_with("df://127.0.0.1:") || address.starts_with("df://[::1]:"));
        let root = tempfile::tempdir().unwrap();

        let generated = root.path().join("generated");
        let g = generated.to_str().unwrap();
        ok(&[
            "generate",
            g,
            "--partners",
            "300",
            "--format",
            "parquet",
            "--seed",
            "4",
        ]);
        assert_eq!(same_on_cluster(&generated, "2024-07", &address), 300);
        // Another month of the same data: other pairs in the window.
        same_on_cluster(&generated, "2024-01", &address);

        for seed in [5, 13, 29] {
            let csv = root.path().join(format!("csv-{seed}"));
            let out = Command::new("python3")
                .arg(workspace().join("tests/oracle/gen_random.py"))
                .arg(&csv)
                .args(["--seed", &seed.to_string()])
                .output()
                .expect("python3 runs gen_random.py");
            assert!(out.status.success());
            let month = String::from_utf8(out.stdout).unwrap().trim().to_string();
            let pq = root.path().join(format!("pq-{seed}"));
            ok(&["convert", csv.to_str().unwrap(), pq.to_str().unwrap()]);
            let n = same_on_cluster(&pq, &month, &address);
            assert!(n > 0, "seed {seed}: no partner scored");
        }
    }

    #[test]
    fn cluster_errors_are_clear() {
        let example = workspace().join("examples/contoso");
        let e = example.to_str().unwrap();
        let r = pcs(&["score", e, "--month", "2023-11", "--cluster", "http://x:1"]);
        assert_eq!(r.code, 2);
        assert!(
            r.stderr.contains("expected df://HOST:PORT or standalone"),
            "{}",
            r.stderr
        );

        // The example is CSV: a cluster reads Parquet.
        let r = pcs(&["score", e, "--month", "2023-11", "--cluster", "standalone"]);
        assert_eq!(r.code, 2, "{}", r.stderr);
        assert!(r.stderr.contains("pcs convert"), "{}", r.stderr);
        assert!(r.stdout.is_empty());

        // Nothing listens on port 1 of the loopback address.
        let root = tempfile::tempdir().unwrap();
        let pq = root.path().join("pq");
        ok(&["convert", e, pq.to_str().unwrap()]);
        let r = pcs(&[
            "score",
            pq.to_str().unwrap(),
            "--month",
            "2023-11",
            "--cluster",
            "df://127.0.0.1:1",
        ]);
        assert_eq!(r.code, 1, "{}", r.stderr);
        assert!(r.stdout.is_empty());
    }

    #[test]
    fn standalone_mode_scores_the_example_like_the_native_reader() {
        let root = tempfile::tempdir().unwrap();
        let pq = root.path().join("pq");
        let example = workspace().join("examples/contoso");
        ok(&["convert", example.to_str().unwrap(), pq.to_str().unwrap()]);
        assert!(same_on_cluster(&pq, "2023-11", "standalone") >= 2);
    }
}
