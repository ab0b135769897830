//! `pcs serve` and `pcs token` end to end: the real binary serving a copy
//! of the example dataset on 127.0.0.1 port 0, its answers compared with the
//! same binary's `pcs score` / report output for the same partner and month.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

use serde_json::Value;
use tempfile::TempDir;

const PCS: &str = env!("CARGO_BIN_EXE_pcs");

fn example() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/contoso")
}

/// A copy of the example (the server keeps its database in the data directory).
fn dataset() -> TempDir {
    let dir = tempfile::tempdir().unwrap();
    for e in std::fs::read_dir(example()).unwrap() {
        let e = e.unwrap();
        if e.path().extension().is_some_and(|x| x == "csv") {
            std::fs::copy(e.path(), dir.path().join(e.file_name())).unwrap();
        }
    }
    dir
}

/// A `pcs serve` process, ended when dropped.
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

fn serve(dir: &Path, extra: &[&str]) -> Served {
    let child = Command::new(PCS)
        .arg("serve")
        .arg(dir)
        .args(["--addr", "127.0.0.1:0"])
        .args(extra)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // From here on the process is ended and waited for when `served` drops,
    // even when this function panics.
    let mut served = Served {
        child,
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
            // Keep draining stderr so the server never blocks on a full pipe.
            std::thread::spawn(move || std::io::copy(&mut err, &mut std::io::sink()));
            return served;
        }
    }
}

/// One HTTP/1.1 request; the status and the body as JSON.
fn request(
    addr: &str,
    method: &str,
    path: &str,
    token: Option<&str>,
    body: Option<&str>,
) -> (u16, Value) {
    let mut s = TcpStream::connect(addr).unwrap();
    let auth = token
        .map(|t| format!("Authorization: Bearer {t}\r\n"))
        .unwrap_or_default();
    let body = body.unwrap_or("");
    write!(
        s,
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n{auth}\
         Content-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    )
    .unwrap();
    let mut raw = String::new();
    s.read_to_string(&mut raw).unwrap();
    let (head, body) = raw.split_once("\r\n\r\n").unwrap();
    let status: u16 = head.split(' ').nth(1).unwrap().parse().unwrap();
    assert!(
        head.to_ascii_lowercase()
            .contains("content-type: application/json"),
        "not JSON: {head}"
    );
    (
        status,
        serde_json::from_str(body).unwrap_or_else(|e| panic!("{e}: {body}")),
    )
}

fn get(addr: &str, path: &str) -> (u16, Value) {
    request(addr, "GET", path, None, None)
}

/// stdout of a successful `pcs` run, as JSON.
fn pcs_json(args: &[&str]) -> Value {
    let out = Command::new(PCS).args(args).output().unwrap();
    assert!(
        out.status.success(),
        "pcs {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

#[test]
fn the_score_endpoint_returns_what_pcs_score_prints() {
    let dir = dataset();
    let d = dir.path().to_str().unwrap();
    let s = serve(dir.path(), &[]);
    for partner in ["1000001", "1000002", "1000003", "1000004"] {
        for (flag, when) in [
            ("month", "2023-11"),
            ("month", "2023-10"),
            ("date", "2023-11-19"),
            ("date", "2024-02-20"),
        ] {
            let cli = pcs_json(&[
                "score",
                d,
                &format!("--{flag}"),
                when,
                "--partner",
                partner,
                "--format",
                "json",
            ]);
            let (status, api) = get(
                &s.addr,
                &format!("/api/v1/partners/{partner}/score?{flag}={when}"),
            );
            assert_eq!(status, 200);
            assert_eq!(api, cli[0], "{partner} {flag}={when}");
        }
    }
}

#[test]
fn report_endpoints_return_what_the_report_commands_print() {
    let dir = dataset();
    let d = dir.path().to_str().unwrap();
    let s = serve(dir.path(), &[]);
    let p = "1000002";
    let m = "2023-11";
    let common = ["--partner", p, "--month", m, "--format", "json"];
    let cases: [(&str, &[&str], String); 6] = [
        (
            "explain",
            &[],
            format!("/api/v1/partners/{p}/explain?month={m}"),
        ),
        (
            "customers",
            &["--search", "graphic"],
            format!("/api/v1/partners/{p}/customers?month={m}&search=graphic"),
        ),
        (
            "skilling",
            &["--within", "120"],
            format!("/api/v1/partners/{p}/skilling?month={m}&within=120"),
        ),
        (
            "history",
            &["--months", "6"],
            format!("/api/v1/partners/{p}/history?month={m}&months=6"),
        ),
        (
            "recommend",
            &[],
            format!("/api/v1/partners/{p}/recommendations?month={m}"),
        ),
        ("plan", &[], format!("/api/v1/partners/{p}/plan?month={m}")),
    ];
    for (cmd, extra, path) in cases {
        let mut args = vec![cmd, d];
        args.extend(common);
        args.extend(extra);
        let cli = pcs_json(&args);
        let (status, mut api) = get(&s.addr, &path);
        assert_eq!(status, 200, "{path}: {api}");
        if cmd == "plan" {
            // The API adds the plan's scenario as TOML (pcs plan --write-scenario).
            api.as_object_mut().unwrap().remove("scenario_toml");
        }
        assert_eq!(api, cli, "{cmd}");
    }
    // simulate: the same scenario through the CLI file and the API body.
    let scenario = r#"{"title": "certify Avery", "certification": [{"person_name": "Avery Howard", "certification": "data-analyst-associate"}]}"#;
    let file = dir.path().join("what-if.json");
    std::fs::write(&file, scenario).unwrap();
    let mut args = vec!["simulate", d, "--scenario", file.to_str().unwrap()];
    args.extend(common);
    let cli = pcs_json(&args);
    let (status, api) = request(
        &s.addr,
        "POST",
        &format!("/api/v1/partners/{p}/simulate?month={m}"),
        None,
        Some(scenario),
    );
    assert_eq!(status, 200);
    assert_eq!(api, cli);
}

#[test]
fn serve_refuses_a_non_loopback_address_without_auth() {
    let dir = dataset();
    let out = Command::new(PCS)
        .arg("serve")
        .arg(dir.path())
        .args(["--addr", "0.0.0.0:0"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("refusing to listen on 0.0.0.0:0 without --auth"),
        "{err}"
    );
}

#[test]
fn serve_stops_on_a_malformed_dataset_with_exit_2() {
    let dir = dataset();
    let bad = std::fs::read_to_string(dir.path().join("usage.csv"))
        .unwrap()
        .replacen(",40,", ",-4,", 1);
    std::fs::write(dir.path().join("usage.csv"), bad).unwrap();
    let out = Command::new(PCS)
        .arg("serve")
        .arg(dir.path())
        .args(["--addr", "127.0.0.1:0"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("usage.csv, line 2, column 6 (quantity), value '-4'"),
        "{err}"
    );
}

#[test]
fn tokens_made_with_pcs_token_open_an_auth_server() {
    let dir = dataset();
    let d = dir.path().to_str().unwrap();
    let out = Command::new(PCS)
        .args([
            "token",
            "create",
            d,
            "--scope",
            "partner:1000001",
            "--label",
            "reseller",
        ])
        .output()
        .unwrap();
    assert!(out.status.success());
    let token = String::from_utf8(out.stdout).unwrap().trim().to_string();
    let bad = Command::new(PCS)
        .args(["token", "create", d, "--scope", "admin"])
        .output()
        .unwrap();
    assert_eq!(bad.status.code(), Some(2));

    let admin_file = dir.path().join("admin-token");
    let s = serve(
        dir.path(),
        &["--auth", "--token-file", admin_file.to_str().unwrap()],
    );
    let admin = std::fs::read_to_string(&admin_file)
        .unwrap()
        .trim()
        .to_string();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&admin_file).unwrap().permissions().mode();
        assert_eq!(mode & 0o077, 0, "the token file is private");
    }
    let (status, _) = get(&s.addr, "/api/v1/partners");
    assert_eq!(status, 401);
    let (status, v) = request(&s.addr, "GET", "/api/v1/partners", Some(&token), None);
    assert_eq!(status, 200);
    assert_eq!(v["total"], 1);
    let (status, _) = request(
        &s.addr,
        "GET",
        "/api/v1/partners/1000002/score?month=2023-11",
        Some(&token),
        None,
    );
    assert_eq!(status, 404);
    let (status, v) = request(&s.addr, "GET", "/api/v1/partners", Some(&admin), None);
    assert_eq!(status, 200);
    assert_eq!(v["total"], 4);

    let list = Command::new(PCS)
        .args(["token", "list", d])
        .output()
        .unwrap();
    let list = String::from_utf8(list.stdout).unwrap();
    assert!(
        list.contains("partner:1000001") && list.contains("reseller") && list.contains("\tall\t"),
        "{list}"
    );
    assert!(!list.contains(&token), "tokens are never shown again");
    let revoke = Command::new(PCS)
        .args(["token", "revoke", d, "1"])
        .output()
        .unwrap();
    assert!(revoke.status.success());
    let (status, _) = request(&s.addr, "GET", "/api/v1/partners", Some(&token), None);
    assert_eq!(status, 401);
}

#[test]
fn every_area_score_and_the_summary_are_what_pcs_score_area_prints() {
    let dir = dataset();
    let d = dir.path().to_str().unwrap();
    let s = serve(dir.path(), &[]);
    for (flag, when) in [("month", "2023-11"), ("date", "2024-02-20")] {
        // One line per partner and area, in the contract's order.
        let out = Command::new(PCS)
            .args(["score", d, &format!("--{flag}"), when, "--format", "jsonl"])
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let lines: Vec<Value> = String::from_utf8(out.stdout)
            .unwrap()
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        assert!(lines.len() >= 6 * 4, "{}", lines.len());
        let mut by_partner: std::collections::BTreeMap<String, Vec<Value>> = Default::default();
        for l in lines {
            let p = l["partner_id"].as_str().unwrap().to_string();
            by_partner.entry(p).or_default().push(l);
        }
        let mut areas_seen = std::collections::BTreeSet::new();
        for (partner, objects) in &by_partner {
            assert_eq!(objects.len(), 6, "{partner}: six areas");
            let (status, summary) = get(
                &s.addr,
                &format!("/api/v1/partners/{partner}/summary?{flag}={when}"),
            );
            assert_eq!(status, 200, "{summary}");
            let rows = summary["areas"].as_array().unwrap();
            assert_eq!(rows.len(), 6);
            for (cli, row) in objects.iter().zip(rows) {
                let area = cli["solution_area"].as_str().unwrap();
                areas_seen.insert(area.to_string());
                let (status, api) = get(
                    &s.addr,
                    &format!("/api/v1/partners/{partner}/score?area={area}&{flag}={when}"),
                );
                assert_eq!(status, 200, "{api}");
                assert_eq!(&api, cli, "{partner} {area} {flag}={when}");
                assert_eq!(row["solution_area"], cli["solution_area"]);
                assert_eq!(row["total_points"], cli["total_points"], "{partner} {area}");
                assert_eq!(row["qualified"], cli["qualified"], "{partner} {area}");
                assert_eq!(row["classification"], cli["classification"]);
                assert_eq!(summary["month"], cli["month"]);
            }
        }
        assert_eq!(areas_seen.len(), 6);
    }
}

/// With `--plan-seconds 0` the server's joint plan has no time limit, only
/// the scenario budget: on any machine, however slow or loaded, it is the
/// CLI's plan (which has no time limit either), never cut by the clock.
#[test]
fn with_plan_seconds_0_the_joint_plan_is_never_cut_by_the_clock() {
    let dir = dataset();
    let d = dir.path().to_str().unwrap();
    let s = serve(dir.path(), &["--plan-seconds", "0"]);
    let (m, p) = ("2023-11", "1000001");
    let without_bounds = |mut v: Value| {
        let search = v["search"].as_object_mut().unwrap();
        search.remove("bounds");
        search.remove("scenarios_scored");
        search.remove("candidates_visited");
        v.as_object_mut().unwrap().remove("scenario_toml");
        v
    };
    let cli = pcs_json(&[
        "plan",
        d,
        "--partner",
        p,
        "--month",
        m,
        "--format",
        "json",
        "--area",
        "modern_work",
        "--area",
        "security",
    ]);
    let (status, api) = get(
        &s.addr,
        &format!("/api/v1/partners/{p}/plan?month={m}&area=modern_work,security"),
    );
    assert_eq!(status, 200, "{api}");
    assert!(api["search"]["stopped_by"].is_null(), "{}", api["search"]);
    assert_eq!(api["search"]["exact"], true, "{}", api["search"]);
    assert_eq!(without_bounds(api), without_bounds(cli));
}

#[test]
fn simulate_recommend_and_plan_across_areas_are_what_the_cli_prints() {
    let dir = dataset();
    let d = dir.path().to_str().unwrap();
    let s = serve(dir.path(), &[]);
    let m = "2023-11";
    // A scenario with a certification that counts in two areas, an acr row
    // and a licences row.
    let scenario = r#"{"title": "across",
        "certification": [{"person_name": "New Analyst", "certification": "data-analyst-associate"}],
        "acr": [{"service": "Azure Cosmos DB", "acr_usd": 2500, "association": "CSP T1"}],
        "licenses": [{"workload": "Intune", "association": "CPOR", "paid_seats": 400, "active_users": 380}]}"#;
    let file = dir.path().join("across.json");
    std::fs::write(&file, scenario).unwrap();
    let sets: [&[&str]; 4] = [
        &["business_applications", "azure_data_ai"],
        &["modern_work", "security"],
        &["azure_infrastructure"],
        &["business_applications"],
    ];
    let mut plans_seen = 0;
    // The plan's search bounds for acr customers and services add the
    // tenants of the facts read, and the server reads every month while
    // the CLI reads the months the areas in force score: the bounds, and
    // so the number of scenarios scored, may differ by the tenants outside
    // those months (seen: partner 1000004). The plan itself is equal.
    let unbounded = |mut v: Value| {
        let search = v["search"].as_object_mut().unwrap();
        search.remove("bounds");
        search.remove("scenarios_scored");
        search.remove("candidates_visited");
        v
    };
    // The server stops each search of a joint plan after 3 s of its clock
    // (the CLI has no time limit): on a loaded machine its plan may then be
    // a greedy one, or none, and it must say so; otherwise it is the CLI's.
    let timed_out = |api: &Value| {
        let search = &api["search"];
        if search["stopped_by"] == "time" {
            assert_eq!(search["exact"], false, "{search}");
            return true;
        }
        false
    };
    let mut compared = 0;
    for p in ["1000001", "1000004"] {
        for areas in sets {
            let q = format!("month={m}&area={}", areas.join(","));
            let mut flags = vec!["--partner", p, "--month", m, "--format", "json"];
            for a in areas {
                flags.extend(["--area", a]);
            }
            let run = |cmd: &str, extra: &[&str]| {
                let mut args = vec![cmd, d];
                args.extend(extra);
                args.extend(flags.iter().copied());
                pcs_json(&args)
            };
            // plan
            let cli = run("plan", &[]);
            let (status, mut api) = get(&s.addr, &format!("/api/v1/partners/{p}/plan?{q}"));
            assert_eq!(status, 200, "{p} {areas:?}: {api}");
            let toml = api.as_object_mut().unwrap().remove("scenario_toml");
            assert!(toml.is_some_and(|t| t.is_string()));
            let cli = unbounded(cli);
            if !timed_out(&api) {
                assert_eq!(unbounded(api.clone()), cli, "plan {p} {areas:?}");
                compared += 1;
            }
            assert_eq!(api["areas"].as_array().unwrap().len(), areas.len());
            if !api["actions"].as_array().unwrap().is_empty() {
                plans_seen += 1;
            }
            // The costs body changes the plan as --costs does (defaults
            // otherwise): the same answer with an empty body.
            let (status, mut posted) = request(
                &s.addr,
                "POST",
                &format!("/api/v1/partners/{p}/plan?{q}"),
                None,
                Some("{}"),
            );
            assert_eq!(status, 200, "{posted}");
            posted.as_object_mut().unwrap().remove("scenario_toml");
            if !timed_out(&posted) {
                assert_eq!(unbounded(posted), cli, "POST plan {p} {areas:?}");
            }
            // recommend
            let cli = run("recommend", &[]);
            let (status, api) = get(
                &s.addr,
                &format!("/api/v1/partners/{p}/recommendations?{q}"),
            );
            assert_eq!(status, 200, "{api}");
            assert_eq!(api, cli, "recommend {p} {areas:?}");
            // simulate
            let cli = run("simulate", &["--scenario", file.to_str().unwrap()]);
            let (status, api) = request(
                &s.addr,
                "POST",
                &format!("/api/v1/partners/{p}/simulate?{q}"),
                None,
                Some(scenario),
            );
            assert_eq!(status, 200, "{api}");
            assert_eq!(api, cli, "simulate {p} {areas:?}");
            let got: Vec<&str> = api["areas"]
                .as_array()
                .unwrap()
                .iter()
                .map(|a| a["solution_area"].as_str().unwrap())
                .collect();
            assert_eq!(got, areas);
        }
    }
    assert!(plans_seen > 0, "some plan has actions");
    // The quick plans (one area) always finish within the server's time.
    assert!(compared >= 4, "{compared} plans compared with the CLI's");
    // The scenario's acr and licences rows need ?area=, as they need --area.
    let (status, e) = request(
        &s.addr,
        "POST",
        &format!("/api/v1/partners/1000001/simulate?month={m}"),
        None,
        Some(scenario),
    );
    assert_eq!(status, 400, "{e}");
    // A bad or empty area list is a 400 naming the areas.
    for q in ["area=azure", "area=", "area=modern_work,nope"] {
        let (status, e) = get(
            &s.addr,
            &format!("/api/v1/partners/1000001/plan?month={m}&{q}"),
        );
        assert_eq!(status, 400, "{q}: {e}");
    }
}
