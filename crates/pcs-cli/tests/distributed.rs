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
fn without_the_feature_pcs_cluster_says_how_to_get_it() {
    let r = pcs(&["cluster", "scheduler"]);
    assert_eq!(r.code, 1);
    assert!(
        r.stderr.contains("built without the `distributed` feature"),
        "{}",
        r.stderr
    );
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
        let args = [
            "score",
            d,
            "--month",
            month,
            "--format",
            "jsonl",
            "--area",
            "business_applications",
        ];
        let native = ok(&args);
        let mut on_cluster = args.to_vec();
        on_cluster.extend(["--cluster", cluster]);
        let distributed = ok(&on_cluster);
        assert_eq!(native.stdout, distributed.stdout, "{d} {month}");
        assert_eq!(native.stderr, distributed.stderr, "{d} {month}: warnings");
        native.stdout.lines().count()
    }

    /// `pcs score --area all` (and the default, every area) on a cluster
    /// gives byte-identical stdout and warnings.
    fn all_areas_same_on_cluster(dir: &Path, month: &str, cluster: &str) -> usize {
        let d = dir.to_str().unwrap();
        let args = [
            "score", d, "--month", month, "--format", "jsonl", "--area", "all",
        ];
        let native = ok(&args);
        let mut on_cluster = args.to_vec();
        on_cluster.extend(["--cluster", cluster]);
        let distributed = ok(&on_cluster);
        assert_eq!(native.stdout, distributed.stdout, "{d} {month}");
        assert_eq!(native.stderr, distributed.stderr, "{d} {month}: warnings");
        // Without --area: every area too.
        let default = ok(&[
            "score",
            d,
            "--month",
            month,
            "--format",
            "jsonl",
            "--cluster",
            cluster,
        ]);
        assert_eq!(default.stdout, native.stdout, "{d} {month}: default areas");
        native.stdout.lines().count()
    }

    #[test]
    fn every_area_scores_the_same_on_a_loopback_cluster() {
        let local = pcs_distributed::LocalCluster::start(2, 2).expect("a local cluster");
        let address = local.cluster().to_string();
        let root = tempfile::tempdir().unwrap();
        let generated = root.path().join("generated");
        generate_parquet(&generated, 150, 6);
        assert!(all_areas_same_on_cluster(&generated, "2024-07", &address) >= 150);

        let pq = root.path().join("contoso");
        let example = workspace().join("examples/contoso");
        ok(&["convert", example.to_str().unwrap(), pq.to_str().unwrap()]);
        assert!(all_areas_same_on_cluster(&pq, "2023-11", &address) >= 12);

        for seed in [4, 17] {
            let csv = root.path().join(format!("areas-{seed}"));
            std::fs::create_dir(&csv).unwrap();
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
            let month = String::from_utf8(out.stdout).unwrap().trim().to_string();
            let pq = root.path().join(format!("areas-pq-{seed}"));
            ok(&["convert", csv.to_str().unwrap(), pq.to_str().unwrap()]);
            assert!(all_areas_same_on_cluster(&pq, &month, &address) > 0);
        }
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

    /// A port nothing listens on now (the system's pick, released).
    fn free_port() -> u16 {
        std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port()
    }

    /// Waits until something accepts connections on the port.
    fn wait_for(port: u16, child: &mut std::process::Child) {
        let start = std::time::Instant::now();
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            if let Some(status) = child.try_wait().unwrap() {
                panic!("the process for port {port} ended: {status}");
            }
            assert!(
                start.elapsed() < std::time::Duration::from_secs(60),
                "nothing listens on port {port} after 60 s"
            );
            std::thread::sleep(std::time::Duration::from_millis(50));
        }
    }

    /// Child processes killed when the test ends, however it ends.
    struct Processes(Vec<std::process::Child>);

    impl Drop for Processes {
        fn drop(&mut self) {
            for c in &mut self.0 {
                let _ = c.kill();
                let _ = c.wait();
            }
        }
    }

    /// A cluster of separate processes: `pcs cluster scheduler` and two
    /// `pcs cluster executor`s, and `pcs score --cluster` as a fourth.
    #[test]
    fn a_cluster_of_pcs_processes_scores_like_the_native_reader() {
        let root = tempfile::tempdir().unwrap();
        let generated = root.path().join("generated");
        generate_parquet(&generated, 120, 8);
        let mut procs = Processes(Vec::new());
        let address = start_cluster(&mut procs, 2, &[], root.path());
        assert_eq!(same_on_cluster(&generated, "2024-07", &address), 120);
        for c in &mut procs.0 {
            assert!(c.try_wait().unwrap().is_none(), "a cluster process ended");
        }
    }

    /// `pcs generate --format parquet` into `dir`.
    fn generate_parquet(dir: &Path, partners: u32, seed: u32) {
        ok(&[
            "generate",
            dir.to_str().unwrap(),
            "--partners",
            &partners.to_string(),
            "--format",
            "parquet",
            "--seed",
            &seed.to_string(),
        ]);
    }

    /// Starts `pcs cluster scheduler` and `executors` `pcs cluster
    /// executor`s (one task slot each; shuffle files under `work`, which the
    /// test removes: an executor killed by the test's end cannot remove a
    /// directory of its own) with the environment `env`, and returns the
    /// scheduler's address once every one listens.
    fn start_cluster(
        procs: &mut Processes,
        executors: usize,
        env: &[(&str, &str)],
        work: &Path,
    ) -> String {
        use std::process::Stdio;
        let mut spawn = |args: Vec<String>, port: u16| {
            let mut child = Command::new(PCS)
                .args(args)
                .envs(env.iter().copied())
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .expect("start pcs cluster");
            wait_for(port, &mut child);
            procs.0.push(child);
        };
        let port = free_port();
        let to = |a: &[&str]| a.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        spawn(
            to(&[
                "cluster",
                "scheduler",
                "--bind",
                &format!("127.0.0.1:{port}"),
            ]),
            port,
        );
        let address = format!("df://127.0.0.1:{port}");
        for k in 0..executors {
            let (flight, grpc) = (free_port(), free_port());
            let mut args = to(&[
                "cluster",
                "executor",
                "--scheduler",
                &address,
                "--flight-port",
                &flight.to_string(),
                "--grpc-port",
                &grpc.to_string(),
                "--slots",
                "1",
            ]);
            let dir = work.join(format!("executor-{k}"));
            std::fs::create_dir(&dir).unwrap();
            args.extend(to(&["--work-dir", dir.to_str().unwrap()]));
            spawn(args, flight);
        }
        address
    }

    /// moto's S3 server (PyPI `moto[server]`; `.ci/run` installs it and
    /// sets `PCS_MOTO_SERVER`), or `None` with `PCS_SKIP_S3=1`.
    fn moto_server() -> Option<PathBuf> {
        if std::env::var_os("PCS_SKIP_S3").is_some() {
            eprintln!("PCS_SKIP_S3 is set: the s3:// test is skipped");
            return None;
        }
        let path = std::env::var_os("PCS_MOTO_SERVER")
            .map(PathBuf::from)
            .or_else(|| {
                std::env::var_os("PATH").and_then(|paths| {
                    std::env::split_paths(&paths)
                        .map(|d| d.join("moto_server"))
                        .find(|p| p.is_file())
                })
            });
        Some(path.expect(
            "the s3:// test needs moto's S3 server: python3 -m venv V && V/bin/pip install \
             'moto[server]', then PCS_MOTO_SERVER=V/bin/moto_server (or PCS_SKIP_S3=1)",
        ))
    }

    /// Tables at an `s3://` URL, on an S3-compatible server (moto): the
    /// client lists them, the scheduler plans and an executor process
    /// reads them, all configured by the `AWS_*` variables alone.
    #[test]
    fn tables_at_an_s3_url_score_like_the_local_copy() {
        use std::process::Stdio;
        let Some(moto) = moto_server() else {
            return;
        };
        let root = tempfile::tempdir().unwrap();
        let local = root.path().join("local");
        generate_parquet(&local, 60, 12);
        let mut procs = Processes(Vec::new());
        let s3_port = free_port();
        procs.0.push(
            Command::new(&moto)
                .args(["-H", "127.0.0.1", "-p", &s3_port.to_string()])
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .expect("start moto_server"),
        );
        wait_for(s3_port, procs.0.last_mut().unwrap());
        let endpoint = format!("http://127.0.0.1:{s3_port}");
        let aws = [
            ("AWS_ACCESS_KEY_ID", "pcs-test"),
            ("AWS_SECRET_ACCESS_KEY", "pcs-test"),
            ("AWS_REGION", "us-east-1"),
            ("AWS_ENDPOINT", endpoint.as_str()),
            ("AWS_ALLOW_HTTP", "true"),
        ];
        // The bucket and the objects, with the boto3 that moto runs on.
        let python = moto.with_file_name("python");
        let upload = Command::new(&python)
            .args([
                "-c",
                "import boto3, os, sys\n\
                 s3 = boto3.client('s3', endpoint_url=sys.argv[1])\n\
                 s3.create_bucket(Bucket='lake')\n\
                 for f in sorted(os.listdir(sys.argv[2])):\n\
                 \x20   s3.upload_file(os.path.join(sys.argv[2], f), 'lake', 'pcs/data/' + f)\n",
                &endpoint,
                local.to_str().unwrap(),
            ])
            .envs(aws)
            .output()
            .expect("run moto's python");
        assert!(
            upload.status.success(),
            "{}",
            String::from_utf8_lossy(&upload.stderr)
        );
        let address = start_cluster(&mut procs, 1, &aws, root.path());

        let args = [
            "--month",
            "2024-07",
            "--format",
            "jsonl",
            "--area",
            "business_applications",
        ];
        let native = ok(&[&["score", local.to_str().unwrap()][..], &args].concat());
        let on_s3 = |cluster: &str| {
            let out = Command::new(PCS)
                .args(["score", "s3://lake/pcs/data"])
                .args(args)
                .args(["--cluster", cluster])
                .envs(aws)
                .output()
                .expect("run pcs");
            let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
            assert!(out.status.success(), "{cluster}: {stderr}");
            (String::from_utf8(out.stdout).unwrap(), stderr)
        };
        let local_prefix = format!("{}/", local.display());
        for cluster in [address, "standalone".to_string()] {
            let (stdout, stderr) = on_s3(&cluster);
            assert_eq!(stdout, native.stdout, "{cluster}");
            assert_eq!(stdout.lines().count(), 60);
            // The same warnings, naming the objects.
            assert_eq!(
                stderr,
                native.stderr.replace(&local_prefix, "s3://lake/pcs/data/"),
                "{cluster}"
            );
        }

        // A prefix with no table, and a scheme that is not served.
        let out = Command::new(PCS)
            .args(["score", "s3://lake/nothing", "--month", "2024-07"])
            .args(["--cluster", "standalone"])
            .envs(aws)
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(2));
        assert!(
            String::from_utf8_lossy(&out.stderr).contains("no table found"),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let r = pcs(&[
            "score",
            "gs://lake/pcs",
            "--month",
            "2024-07",
            "--cluster",
            "standalone",
        ]);
        assert_eq!(r.code, 2, "{}", r.stderr);
        assert!(r.stderr.contains("s3://BUCKET/PREFIX"), "{}", r.stderr);
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
