//! Crash safety of uploads: `pcs serve` is killed at every step of an
//! upload (`PCS_FAULT=upload:STEP` aborts the process there, as `kill -9`
//! would; the feature `fault-injection` compiles the fault points in, and
//! only this test builds with it), then started again. It must start, on
//! either the old data or the new, never anything else, and leave no stray
//! file in the dataset directory.
//!
//! `cargo test -p pcs-cli --features fault-injection --test crash`

use std::collections::BTreeSet;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::os::unix::process::ExitStatusExt as _;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;
use tempfile::TempDir;

const PCS: &str = env!("CARGO_BIN_EXE_pcs");
const MONTH: &str = "2023-11";
const PARTNERS: [&str; 4] = ["1000001", "1000002", "1000003", "1000004"];

/// The steps, in order (`pcs_server::upload::FAULT_STEPS`), and whether the
/// upload is committed once the step is passed.
const STEPS: [(&str, bool); 8] = [
    ("received", false),
    ("validated", false),
    ("journal-written", false),
    ("committed", true),
    ("moved", true),
    ("old-removed", true),
    ("journal-removed", true),
    ("staging-removed", true),
];

fn example() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/contoso")
}

fn copy_csv(from: &Path, to: &Path) {
    for e in std::fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        if e.path().extension().is_some_and(|x| x == "csv") {
            std::fs::copy(e.path(), to.join(e.file_name())).unwrap();
        }
    }
}

struct Served {
    child: Child,
    addr: String,
}

impl Drop for Served {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn serve(dir: &Path, fault: Option<&str>) -> Served {
    let mut cmd = Command::new(PCS);
    cmd.arg("serve")
        .arg(dir)
        .args(["--addr", "127.0.0.1:0"])
        .env_remove("PCS_FAULT")
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
    if let Some(f) = fault {
        cmd.env("PCS_FAULT", format!("upload:{f}"));
    }
    let mut served = Served {
        child: cmd.spawn().unwrap(),
        addr: String::new(),
    };
    let mut err = BufReader::new(served.child.stderr.take().unwrap());
    let mut seen = String::new();
    loop {
        let mut line = String::new();
        if err.read_line(&mut line).unwrap() == 0 {
            panic!("pcs serve stopped before listening:\n{seen}");
        }
        seen.push_str(&line);
        if let Some(rest) = line.split("listening on http://").nth(1) {
            served.addr = rest.split('/').next().unwrap().to_string();
            std::thread::spawn(move || std::io::copy(&mut err, &mut std::io::sink()));
            return served;
        }
    }
}

/// One request; the raw answer (empty when the server died first).
fn request(addr: &str, method: &str, path: &str, ct: &str, body: &[u8]) -> String {
    let mut s = TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(120))).unwrap();
    let head = format!(
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\
         Content-Type: {ct}\r\nContent-Length: {}\r\n\r\n",
        body.len()
    );
    let _ = s.write_all(head.as_bytes());
    let _ = s.write_all(body);
    let mut raw = Vec::new();
    let _ = s.read_to_end(&mut raw);
    String::from_utf8_lossy(&raw).into_owned()
}

fn json(addr: &str, path: &str) -> Value {
    let raw = request(addr, "GET", path, "application/json", b"");
    let (head, body) = raw.split_once("\r\n\r\n").unwrap();
    assert!(head.starts_with("HTTP/1.1 200"), "{path}: {head}");
    serde_json::from_str(body).unwrap()
}

fn scores(addr: &str) -> Vec<Value> {
    PARTNERS
        .iter()
        .map(|p| json(addr, &format!("/api/v1/partners/{p}/score?month={MONTH}")))
        .collect()
}

/// `pcs score DIR` for the four partners (what the CLI sees on disk).
fn cli_scores(dir: &Path) -> Vec<Value> {
    let out = Command::new(PCS)
        .arg("score")
        .arg(dir)
        .args([
            "--month",
            MONTH,
            "--format",
            "json",
            "--area",
            "business_applications",
        ])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "pcs score {}: {}",
        dir.display(),
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice::<Value>(&out.stdout)
        .unwrap()
        .as_array()
        .unwrap()
        .to_vec()
}

/// Every name in the directory but the store's files.
/// The example's CSV tables (what `copy_csv` copies from it).
fn example_csv_names() -> BTreeSet<String> {
    names(&example())
        .into_iter()
        .filter(|n| n.ends_with(".csv"))
        .collect()
}

fn names(dir: &Path) -> BTreeSet<String> {
    std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| !n.starts_with("pcs-server.sqlite3"))
        .collect()
}

fn wait_for_exit(child: &mut Child) -> std::process::ExitStatus {
    let start = Instant::now();
    loop {
        if let Some(s) = child.try_wait().unwrap() {
            return s;
        }
        assert!(
            start.elapsed() < Duration::from_secs(120),
            "the server did not stop"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// A new revenue table (partner 1000001 loses its Sales revenue), as CSV
/// and as Parquet (`pcs convert`), with the scores it gives.
fn new_revenue(work: &Path) -> (Vec<u8>, Vec<u8>, Vec<Value>) {
    let csv_dir = work.join("new-csv");
    std::fs::create_dir(&csv_dir).unwrap();
    copy_csv(&example(), &csv_dir);
    let revenue = std::fs::read_to_string(csv_dir.join("revenue.csv")).unwrap();
    let kept: String = revenue
        .lines()
        .filter(|l| !(l.starts_with("1000001,") && l.contains(",Sales,")))
        .map(|l| format!("{l}\n"))
        .collect();
    assert_ne!(
        kept.len(),
        revenue.len(),
        "the example changed: pick other rows"
    );
    std::fs::write(csv_dir.join("revenue.csv"), &kept).unwrap();
    let parquet_dir = work.join("new-parquet");
    let st = Command::new(PCS)
        .arg("convert")
        .arg(&csv_dir)
        .arg(&parquet_dir)
        .stderr(Stdio::null())
        .status()
        .unwrap();
    assert!(st.success());
    let parquet = std::fs::read(parquet_dir.join("revenue.parquet")).unwrap();
    (kept.into_bytes(), parquet, cli_scores(&csv_dir))
}

fn crash_at_every_step(parquet: bool) {
    let work = tempfile::tempdir().unwrap();
    let (csv, pq, new_scores) = new_revenue(work.path());
    let old_scores = cli_scores(&example());
    assert_ne!(old_scores, new_scores, "the new table must change a score");
    let (body, ct, new_file) = if parquet {
        (pq, "application/vnd.apache.parquet", "revenue.parquet")
    } else {
        (csv, "text/csv", "revenue.csv")
    };
    let old_names = example_csv_names();
    let mut new_names = old_names.clone();
    new_names.remove("revenue.csv");
    new_names.insert(new_file.to_string());

    for (step, committed) in STEPS {
        let dir: TempDir = tempfile::tempdir().unwrap();
        copy_csv(&example(), dir.path());
        let mut s = serve(dir.path(), Some(step));
        let answer = request(&s.addr, "PUT", "/api/v1/tables/revenue", ct, &body);
        assert!(
            !answer.starts_with("HTTP/1.1 200"),
            "{step}: the upload finished: the fault point is missing\n{answer}"
        );
        let status = wait_for_exit(&mut s.child);
        assert_eq!(status.signal(), Some(6), "{step}: not aborted: {status:?}");
        drop(s);

        // Started again without a fault: the old data or the new, nothing else.
        let s = serve(dir.path(), None);
        let served = scores(&s.addr);
        let (expected, expected_names, what) = if committed {
            (&new_scores, &new_names, "new")
        } else {
            (&old_scores, &old_names, "old")
        };
        assert!(
            served == old_scores || served == new_scores,
            "{step}: neither the old nor the new data"
        );
        assert_eq!(&served, expected, "{step}: expected the {what} data");
        assert_eq!(&names(dir.path()), expected_names, "{step}: stray files");
        let history = json(&s.addr, "/api/v1/uploads");
        let accepted = history
            .as_array()
            .unwrap()
            .iter()
            .filter(|u| u["accepted"] == true)
            .count();
        assert_eq!(accepted, usize::from(committed), "{step}: {history}");
        drop(s);
        // The CLI reads the same directory the same way.
        assert_eq!(&cli_scores(dir.path()), expected, "{step}: pcs score");
    }
}

#[test]
fn a_crash_at_any_step_of_a_csv_to_parquet_switch_leaves_old_or_new_data() {
    crash_at_every_step(true);
}

#[test]
fn a_crash_at_any_step_of_a_csv_replacement_leaves_old_or_new_data() {
    crash_at_every_step(false);
}

#[test]
fn leftovers_of_an_older_crash_are_removed_at_start() {
    let dir = tempfile::tempdir().unwrap();
    copy_csv(&example(), dir.path());
    for n in 0..3 {
        let stray = dir.path().join(format!(".pcs-upload-crashed{n}"));
        std::fs::create_dir(&stray).unwrap();
        std::fs::write(stray.join("revenue.upload"), b"partial").unwrap();
    }
    std::fs::write(dir.path().join(".pcs-commit.json.tmp"), b"{\"staging\":").unwrap();
    let s = serve(dir.path(), None);
    assert_eq!(scores(&s.addr), cli_scores(&example()));
    assert_eq!(names(dir.path()), example_csv_names());
}
