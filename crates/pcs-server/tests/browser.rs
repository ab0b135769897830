//! The dashboard in a real browser: headless Chromium driven through
//! chromedriver (WebDriver), against the real server on a loopback port.
//!
//! It opens partner 1000001's overview for 2023-11, reads the five metric
//! cards and the total and compares them with the JSON API's score object;
//! then it fills the simulator form (one more certified person), submits it,
//! and checks the simulated total against `POST /api/v1/.../simulate` with
//! the same scenario. Screenshots go to `<target>/browser-artifacts/`.
//!
//! Needs Debian's `chromium` and `chromium-driver` (`.ci/run` installs them).
//! A missing browser fails the test with the install command; set
//! `PCS_SKIP_BROWSER=1` to skip it knowingly. `PCS_CHROMIUM` and
//! `PCS_CHROMEDRIVER` override the binaries' paths.

use std::net::{Ipv4Addr, SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::str::FromStr;
use std::time::{Duration, Instant};

use fantoccini::elements::Element;
use fantoccini::{Client, ClientBuilder, Locator};
use pcs_core::Decimal;
use pcs_core::rulebook::RulebookSet;
use pcs_server::state::{AppState, Config};
use serde_json::{Value, json};

const PARTNER: &str = "1000001";
const MONTH: &str = "2023-11";

fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .ancestors()
        .nth(2)
        .expect("crates/pcs-server is two levels below the workspace")
        .to_path_buf()
}

/// `<target>/browser-artifacts`, next to cargo's `tmp` dir for tests.
fn artifacts_dir() -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .parent()
        .expect("the target dir")
        .join("browser-artifacts");
    std::fs::create_dir_all(&dir).expect("create the artifacts dir");
    dir
}

fn find_binary(env: &str, candidates: &[&str]) -> Option<PathBuf> {
    if let Ok(p) = std::env::var(env) {
        return Some(PathBuf::from(p)).filter(|p| p.exists());
    }
    candidates
        .iter()
        .map(PathBuf::from)
        .find(|p| p.exists())
        .or_else(|| {
            let path = std::env::var_os("PATH")?;
            std::env::split_paths(&path)
                .flat_map(|dir| {
                    candidates
                        .iter()
                        .map(move |c| dir.join(Path::new(c).file_name().unwrap()))
                })
                .find(|p| p.exists())
        })
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        if e.file_type().unwrap().is_file() {
            std::fs::copy(e.path(), to.join(e.file_name())).unwrap();
        }
    }
}

fn free_port() -> u16 {
    TcpListener::bind((Ipv4Addr::LOCALHOST, 0))
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free loopback port")
}

/// Chromedriver, ended when dropped.
struct Driver(Child);

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn start_driver(chromedriver: &Path, port: u16, log: &Path) -> Driver {
    let child = Command::new(chromedriver)
        .arg(format!("--port={port}"))
        .arg("--allowed-ips=127.0.0.1")
        .arg(format!("--log-path={}", log.display()))
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start {}: {e}", chromedriver.display()));
    let driver = Driver(child);
    // Wait (bounded) until it accepts connections.
    let addr = SocketAddr::from((Ipv4Addr::LOCALHOST, port));
    let deadline = Instant::now() + Duration::from_secs(60);
    while TcpStream::connect_timeout(&addr, Duration::from_millis(200)).is_err() {
        assert!(
            Instant::now() < deadline,
            "chromedriver did not listen on {addr} within 60 s (log: {})",
            log.display()
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    driver
}

async fn browser(chromium: &Path, driver_port: u16, profile: &Path) -> Client {
    let args = [
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--disable-dev-shm-usage",
        "--hide-scrollbars",
        "--window-size=1280,1600",
        &format!("--user-data-dir={}", profile.display()),
    ];
    let caps = json!({
        "browserName": "chrome",
        "goog:chromeOptions": { "binary": chromium, "args": args },
    });
    let caps = match caps {
        Value::Object(m) => m,
        _ => unreachable!(),
    };
    ClientBuilder::new(hyper_util::client::legacy::connect::HttpConnector::new())
        .capabilities(caps)
        .connect(&format!("http://127.0.0.1:{driver_port}"))
        .await
        .expect("a WebDriver session with headless Chromium")
}

fn dec(v: &Value) -> Decimal {
    match v {
        Value::Number(n) => Decimal::from_str(&n.to_string()).expect("a decimal number"),
        Value::String(s) => Decimal::from_str(s).expect("a decimal string"),
        other => panic!("expected a number, got {other}"),
    }
}

fn dec_text(s: &str) -> Decimal {
    Decimal::from_str(s).unwrap_or_else(|_| panic!("'{s}' is not a decimal"))
}

async fn attr(c: &Client, css: &str, name: &str) -> String {
    c.find(Locator::Css(css))
        .await
        .unwrap_or_else(|e| panic!("no element {css}: {e}"))
        .attr(name)
        .await
        .unwrap()
        .unwrap_or_else(|| panic!("{css} has no {name}"))
}

async fn attr_text(c: &Client, css: &str) -> String {
    c.find(Locator::Css(css))
        .await
        .unwrap_or_else(|e| panic!("no element {css}: {e}"))
        .text()
        .await
        .unwrap()
}

/// Clicks the element `css`.
async fn click(c: &Client, css: &str) {
    c.find(Locator::Css(css))
        .await
        .unwrap_or_else(|e| panic!("no element {css}: {e}"))
        .click()
        .await
        .unwrap();
}

/// Waits up to `secs` seconds for an element `css` to appear (`what` says
/// what it is when it does not).
async fn wait_for(c: &Client, css: &str, secs: u64, what: &str) -> Element {
    c.wait()
        .at_most(Duration::from_secs(secs))
        .for_element(Locator::Css(css))
        .await
        .unwrap_or_else(|e| panic!("{what} ({css}): {e}"))
}

/// The metric cards shown against a score object's `metrics`.
async fn check_cards(c: &Client, metrics: &Value, what: &str) {
    let metrics = metrics.as_object().expect("metrics");
    let cards = c
        .find_all(Locator::Css("section.score .cards [data-metric]"))
        .await
        .unwrap();
    assert_eq!(cards.len(), metrics.len(), "{what}: one card per metric");
    for card in &cards {
        let id = card.attr("data-metric").await.unwrap().unwrap();
        let points = card.attr("data-points").await.unwrap().unwrap();
        let max = card.attr("data-max").await.unwrap().unwrap();
        let m = &metrics[&id];
        assert_eq!(dec_text(&points), dec(&m["points"]), "{what} {id} points");
        assert_eq!(
            dec_text(&max),
            dec(&m["max_points"]),
            "{what} {id} max_points"
        );
    }
}

/// An advanced certification that counts on the evaluation date: one more
/// certified person adds points to partner 1000001 (6.42 of 15 today).
fn advanced_certification() -> String {
    let set = RulebookSet::builtin();
    let date = pcs_core::calendar::Month::parse_strict(MONTH)
        .unwrap()
        .last_day();
    let rb = set.in_force("business_applications", date).unwrap();
    rb.certifications
        .iter()
        .find(|c| c.level == "advanced" && c.eligible_on(date))
        .map(|c| c.id.clone())
        .expect("the rulebook has an advanced certification")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn overview_and_simulator_in_headless_chromium() {
    if std::env::var("PCS_SKIP_BROWSER").as_deref() == Ok("1") {
        eprintln!("PCS_SKIP_BROWSER=1: the headless-Chromium test is skipped");
        return;
    }
    let chromium = find_binary("PCS_CHROMIUM", &["/usr/bin/chromium", "/usr/bin/chromium-browser"])
        .expect("chromium is not installed: run `apt-get install chromium chromium-driver` (or set PCS_SKIP_BROWSER=1 to skip this test)");
    let chromedriver = find_binary("PCS_CHROMEDRIVER", &["/usr/bin/chromedriver"])
        .expect("chromedriver is not installed: run `apt-get install chromium chromium-driver` (or set PCS_SKIP_BROWSER=1 to skip this test)");

    // The server, in process, on a loopback port, over a copy of the example.
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("contoso");
    copy_dir(&workspace_root().join("examples/contoso"), &data);
    let state = AppState::open(Config::new(&data)).expect("the example dataset loads");
    let listener = tokio::net::TcpListener::bind((Ipv4Addr::LOCALHOST, 0))
        .await
        .unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move {
        axum::serve(listener, pcs_server::app(state)).await.unwrap();
    });

    let artifacts = artifacts_dir();
    let port = free_port();
    let _driver = start_driver(&chromedriver, port, &artifacts.join("chromedriver.log"));
    let profile = tmp.path().join("chromium-profile");
    std::fs::create_dir_all(&profile).unwrap();
    let c = browser(&chromium, port, &profile).await;
    let http = reqwest::Client::new();

    // ---------------------------------------------------------------- summary
    // The partner's first page: every solution area at a glance.
    c.goto(&format!("{base}/partners/{PARTNER}?month={MONTH}"))
        .await
        .unwrap();
    let get = |path: String| {
        let http = http.clone();
        let base = base.clone();
        async move {
            http.get(format!("{base}{path}"))
                .send()
                .await
                .unwrap()
                .json::<Value>()
                .await
                .unwrap()
        }
    };
    let summary = get(format!("/api/v1/partners/{PARTNER}/summary?month={MONTH}")).await;
    let rows = summary["areas"].as_array().expect("areas in the summary");
    assert_eq!(rows.len(), 6);
    for row in rows {
        let area = row["solution_area"].as_str().unwrap();
        let css = format!("tr[data-area='{area}']");
        assert_eq!(
            dec_text(&attr(&c, &css, "data-total").await),
            dec(&row["total_points"]),
            "{area} total on the summary"
        );
        assert_eq!(
            attr(&c, &css, "data-qualified").await,
            row["qualified"].to_string(),
            "{area}"
        );
    }
    let png = c.screenshot().await.unwrap();
    std::fs::write(artifacts.join("summary.png"), &png).unwrap();

    // ---------------------------------------------------------------- area switch
    // Each area through the area switch (a click, as a person would): the
    // scorecard shown is the API's score of that area.
    for row in rows.iter().rev() {
        let area = row["solution_area"].as_str().unwrap();
        click(&c, &format!("nav.areas a[data-area='{area}']")).await;
        wait_for(
            &c,
            &format!("section.score[data-area='{area}']"),
            30,
            "the area's scorecard",
        )
        .await;
        let api = get(format!(
            "/api/v1/partners/{PARTNER}/score?area={area}&month={MONTH}"
        ))
        .await;
        check_cards(&c, &api["metrics"], area).await;
        assert_eq!(
            dec_text(&attr(&c, "section.score [data-total]", "data-total").await),
            dec(&api["total_points"]),
            "{area} total"
        );
        if let Some(tracks) = api.get("tracks").and_then(Value::as_object) {
            // Modern Work: the track switch shows each track's scorecard.
            for (t, track) in tracks {
                click(&c, &format!("nav.trackswitch a[data-track='{t}']")).await;
                wait_for(
                    &c,
                    &format!("section.score[data-area='{area}'][data-track='{t}']"),
                    30,
                    "the track's scorecard",
                )
                .await;
                check_cards(&c, &track["metrics"], &format!("{area} {t}")).await;
                assert_eq!(
                    dec_text(&attr(&c, "section.score [data-total]", "data-total").await),
                    dec(&track["total_points"]),
                    "{area} {t} total"
                );
                let png = c.screenshot().await.unwrap();
                std::fs::write(artifacts.join(format!("{area}-{t}.png")), &png).unwrap();
            }
        }
    }

    // ---------------------------------------------------------------- Business Applications
    c.goto(&format!(
        "{base}/partners/{PARTNER}/areas/business_applications?month={MONTH}"
    ))
    .await
    .unwrap();
    let api = get(format!("/api/v1/partners/{PARTNER}/score?month={MONTH}")).await;
    let metrics = api["metrics"]
        .as_object()
        .expect("metrics in the score object");
    assert_eq!(metrics.len(), 5);
    let cards = c
        .find_all(Locator::Css(".cards [data-metric]"))
        .await
        .unwrap();
    assert_eq!(cards.len(), 5, "five metric cards");
    for card in &cards {
        let id = card.attr("data-metric").await.unwrap().unwrap();
        let m = &metrics[&id];
        // What a person reads on the card is the same number.
        let text = card.text().await.unwrap();
        assert!(
            text.contains(&format!(
                "{} of {}",
                {
                    let mut p = dec(&m["points"]);
                    p.rescale(2);
                    p
                },
                dec(&m["max_points"])
            )),
            "{id}: card text {text:?}"
        );
    }
    check_cards(&c, &api["metrics"], "business_applications").await;
    let total = attr(&c, "section.score [data-total]", "data-total").await;
    assert_eq!(dec_text(&total), dec(&api["total_points"]));
    assert_eq!(dec_text(&total), dec_text("70.84"));
    let qualified = attr(&c, ".pagehead [data-qualified]", "data-qualified").await;
    assert_eq!(qualified, api["qualified"].as_bool().unwrap().to_string());
    let png = c.screenshot().await.unwrap();
    std::fs::write(artifacts.join("overview.png"), &png).unwrap();

    // The script suggests partners while typing, from /api/v1/partners?q=.
    let search = c.find(Locator::Css("#partner-q")).await.unwrap();
    search.clear().await.unwrap();
    search.send_keys("fabrik").await.unwrap();
    wait_for(
        &c,
        "#partner-options option[value='1000002']",
        30,
        "a suggestion for Fabrikam Apps",
    )
    .await;

    // On a phone-sized window the cards stack under the total.
    c.set_window_size(390, 1400).await.unwrap();
    c.goto(&format!("{base}/partners/{PARTNER}?month={MONTH}"))
        .await
        .unwrap();
    let png = c.screenshot().await.unwrap();
    std::fs::write(artifacts.join("overview-narrow.png"), &png).unwrap();
    c.set_window_size(1280, 1600).await.unwrap();

    // ---------------------------------------------------------------- simulator
    c.goto(&format!("{base}/partners/{PARTNER}/simulate?month={MONTH}"))
        .await
        .unwrap();
    let cert = advanced_certification();
    c.find(Locator::Css("#cert_name_0"))
        .await
        .unwrap()
        .send_keys("Avery Howard")
        .await
        .unwrap();
    c.find(Locator::Css("#cert_cert_0"))
        .await
        .unwrap()
        .select_by_value(&cert)
        .await
        .unwrap();
    click(&c, "#simulate").await;
    let shown = wait_for(&c, "#simulated-total", 60, "the simulation result").await;
    let simulated = dec_text(&shown.attr("data-simulated-total").await.unwrap().unwrap());
    let current = dec_text(&attr(&c, "[data-current-total]", "data-current-total").await);

    let api: Value = http
        .post(format!(
            "{base}/api/v1/partners/{PARTNER}/simulate?month={MONTH}"
        ))
        .json(&json!({
            "certification": [{"person_name": "Avery Howard", "certification": cert}]
        }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(simulated, dec(&api["simulated"]["total_points"]), "{api}");
    assert_eq!(current, dec(&api["current"]["total_points"]));
    assert!(
        simulated > current,
        "one more advanced certification adds points ({current} → {simulated})"
    );
    let png = c.screenshot().await.unwrap();
    std::fs::write(artifacts.join("simulate.png"), &png).unwrap();
    // The recommendations and the plan, further down the same page.
    c.find(Locator::Css("#recs-h"))
        .await
        .expect("the recommendations");
    c.find(Locator::Css("#plan-h")).await.expect("the plan");
    c.execute("document.getElementById('recs-h').scrollIntoView()", vec![])
        .await
        .unwrap();
    let png = c.screenshot().await.unwrap();
    std::fs::write(artifacts.join("simulate-plan.png"), &png).unwrap();

    // ---------------------------------------------------------------- every page renders
    for (page, css, shot) in [
        ("metrics", "section[data-metric]", "metrics.png"),
        ("customers", "#eligibility", "customers.png"),
        ("skilling", "[data-risks]", "skilling.png"),
        ("history", "#history-chart", "history.png"),
    ] {
        c.goto(&format!("{base}/partners/{PARTNER}/{page}?month={MONTH}"))
            .await
            .unwrap();
        c.find(Locator::Css(css))
            .await
            .unwrap_or_else(|e| panic!("{page}: no {css}: {e}"));
        let png = c.screenshot().await.unwrap();
        std::fs::write(artifacts.join(shot), &png).unwrap();
    }
    // The chart has one bar per month of the last six, the totals of the table.
    let bars = c
        .find_all(Locator::Css("#history-chart g[data-month]"))
        .await
        .unwrap();
    assert_eq!(bars.len(), 6);
    let last = bars
        .last()
        .unwrap()
        .attr("data-total")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(dec_text(&last), dec_text("70.84"));

    // ---------------------------------------------------------------- upload through the page
    // A revenue file whose line 3 has a month that does not exist.
    let good = std::fs::read_to_string(data.join("revenue.csv")).unwrap();
    let bad: String = good
        .lines()
        .enumerate()
        .map(|(i, l)| {
            if i == 2 {
                l.replacen("2023-10", "2023-13", 1)
            } else {
                l.to_string()
            }
        })
        .collect::<Vec<_>>()
        .join("\n");
    let bad_path = tmp.path().join("revenue.csv");
    std::fs::write(&bad_path, bad + "\n").unwrap();
    c.goto(&format!("{base}/upload?month={MONTH}"))
        .await
        .unwrap();
    c.find(Locator::Css("#upload select[name=table]"))
        .await
        .unwrap()
        .select_by_value("revenue")
        .await
        .unwrap();
    c.find(Locator::Css("#upload input[type=file]"))
        .await
        .unwrap()
        .send_keys(&bad_path.display().to_string())
        .await
        .unwrap();
    click(&c, "#upload button[type=submit]").await;
    let result = wait_for(&c, "#upload-result", 60, "the upload result").await;
    assert_eq!(
        result.attr("data-accepted").await.unwrap().as_deref(),
        Some("false")
    );
    assert_eq!(attr_text(&c, "[data-detail=line]").await, "3");
    assert_eq!(attr_text(&c, "[data-detail=column_name]").await, "month");
    assert_eq!(attr_text(&c, "[data-detail=value]").await, "2023-13");
    let png = c.screenshot().await.unwrap();
    std::fs::write(artifacts.join("upload.png"), &png).unwrap();
    // Nothing changed.
    let after: Value = http
        .get(format!(
            "{base}/api/v1/partners/{PARTNER}/score?month={MONTH}"
        ))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(dec(&after["total_points"]), dec_text("70.84"));
    assert_eq!(
        std::fs::read_to_string(data.join("revenue.csv")).unwrap(),
        good
    );

    c.close().await.unwrap();
    eprintln!("screenshots in {}", artifacts.display());
}
