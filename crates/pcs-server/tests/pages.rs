//! The HTML pages over HTTP: the real application on 127.0.0.1:0 over a
//! private copy of the example dataset, driven with an HTTP client (no
//! browser; `browser.rs` has the one in headless Chromium). The figures on
//! the pages are compared with the JSON API's, which the API tests compare
//! with the CLI's.

mod support;
use std::path::{Path, PathBuf};
use std::str::FromStr;
use support::add_earlier_rows;

use pcs_core::Decimal;
use pcs_server::state::{AppState, Config};
use pcs_server::store::Scope;
use reqwest::StatusCode;
use reqwest::header::{CONTENT_DISPOSITION, CONTENT_TYPE, LOCATION};
use serde_json::{Value, json};
use tempfile::TempDir;

const P: &str = "1000001";
const M: &str = "2023-11";

struct Server {
    base: String,
    dir: TempDir,
    state: AppState,
    http: reqwest::Client,
}

fn copy_dir(from: &Path, to: &Path) {
    for e in std::fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        if e.file_type().unwrap().is_file() {
            std::fs::copy(e.path(), to.join(e.file_name())).unwrap();
        }
    }
}

fn example() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/contoso")
}

impl Server {
    async fn start(auth: bool) -> Server {
        Self::start_with(|c| c.auth = auth).await
    }

    async fn start_with(configure: impl FnOnce(&mut Config)) -> Server {
        Self::start_over(|_| {}, configure).await
    }

    /// A server over the example with `prepare` applied to its copy.
    async fn start_over(
        prepare: impl FnOnce(&Path),
        configure: impl FnOnce(&mut Config),
    ) -> Server {
        let dir = tempfile::tempdir().unwrap();
        copy_dir(&example(), dir.path());
        prepare(dir.path());
        let mut config = Config::new(dir.path());
        configure(&mut config);
        let state = AppState::open(config).unwrap();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let app = pcs_server::app(state.clone());
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        Server {
            base,
            dir,
            state,
            http: reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .unwrap(),
        }
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    async fn get(&self, path: &str) -> (StatusCode, reqwest::header::HeaderMap, String) {
        let r = self.http.get(self.url(path)).send().await.unwrap();
        let (s, h) = (r.status(), r.headers().clone());
        (s, h, r.text().await.unwrap())
    }

    /// The CSRF token of the forms of the page at `path`.
    async fn csrf(&self, path: &str) -> String {
        let (status, _, html) = self.get(path).await;
        assert_eq!(status, StatusCode::OK, "{path}");
        csrf_of(&html)
    }

    async fn json(&self, path: &str) -> Value {
        let r = self.http.get(self.url(path)).send().await.unwrap();
        assert_eq!(r.status(), StatusCode::OK, "{path}");
        r.json().await.unwrap()
    }
}

fn dec(v: &Value) -> Decimal {
    Decimal::from_str(&v.to_string()).unwrap()
}

/// The value of `attr="..."` right after `marker` in the page.
fn attr_after<'a>(html: &'a str, marker: &str, attr: &str) -> &'a str {
    let at = html.find(marker).unwrap_or_else(|| panic!("no {marker}"));
    let rest = &html[at..];
    let key = format!("{attr}=\"");
    let start = rest
        .find(&key)
        .unwrap_or_else(|| panic!("no {attr} after {marker}"))
        + key.len();
    let end = rest[start..].find('"').unwrap();
    &rest[start..start + end]
}

/// The value of the forms' hidden `csrf` field.
fn csrf_of(html: &str) -> String {
    attr_after(html, "name=\"csrf\"", "value").to_string()
}

fn is_html(h: &reqwest::header::HeaderMap) -> bool {
    h[CONTENT_TYPE].to_str().unwrap().starts_with("text/html")
}

/// The cards of a scorecard against a score object's metrics.
fn assert_cards(html: &str, metrics: &Value, what: &str) {
    let metrics = metrics.as_object().unwrap();
    assert_eq!(
        html.matches("data-metric=").count(),
        metrics.len(),
        "{what}"
    );
    for (id, m) in metrics {
        let marker = format!("data-metric=\"{id}\"");
        assert_eq!(
            Decimal::from_str(attr_after(html, &marker, "data-points")).unwrap(),
            dec(&m["points"]),
            "{what} {id}"
        );
        assert_eq!(
            Decimal::from_str(attr_after(html, &marker, "data-max")).unwrap(),
            dec(&m["max_points"]),
            "{what} {id}"
        );
    }
}

#[tokio::test]
async fn the_summary_and_every_area_page_show_the_apis_figures() {
    let s = Server::start(false).await;
    // The partner's first page: every area at a glance.
    let (status, h, html) = s.get(&format!("/partners/{P}?month={M}")).await;
    assert_eq!(status, StatusCode::OK);
    assert!(is_html(&h));
    assert!(html.contains("Contoso Dynamics"));
    let summary = s
        .json(&format!("/api/v1/partners/{P}/summary?month={M}"))
        .await;
    let rows = summary["areas"].as_array().unwrap();
    assert_eq!(rows.len(), 6);
    assert_eq!(html.matches("<tr data-area=").count(), 6, "{html}");
    assert_eq!(
        attr_after(&html, "data-qualified-areas=", "data-qualified-areas"),
        summary["qualified_areas"].to_string()
    );
    for row in rows {
        let area = row["solution_area"].as_str().unwrap();
        let marker = format!("<tr data-area=\"{area}\"");
        assert_eq!(
            Decimal::from_str(attr_after(&html, &marker, "data-total")).unwrap(),
            dec(&row["total_points"]),
            "{area}"
        );
        assert_eq!(
            attr_after(&html, &marker, "data-qualified"),
            row["qualified"].to_string(),
            "{area}"
        );
        assert_eq!(
            Decimal::from_str(attr_after(&html, &marker, "data-to-go")).unwrap(),
            dec(&row["points_to_qualify"]),
            "{area}"
        );
        assert_eq!(
            attr_after(&html, &marker, "data-zero"),
            row["at_zero"].as_array().unwrap().len().to_string(),
            "{area}"
        );
        // The area switch (on every partner page) and the row link to the area's page.
        let href = format!("/partners/{P}/areas/{area}?month={M}");
        assert!(
            html.matches(&format!("href=\"{href}\"")).count() >= 2,
            "{href}"
        );

        // The area's page: its total and metric cards are the API's score.
        let (status, _, page) = s.get(&href).await;
        assert_eq!(status, StatusCode::OK, "{href}: {page}");
        assert!(
            page.contains(&format!("data-area=\"{area}\" aria-current=\"page\"")),
            "{area}: the switch marks the area shown"
        );
        let api = s
            .json(&format!("/api/v1/partners/{P}/score?area={area}&month={M}"))
            .await;
        assert_eq!(
            Decimal::from_str(attr_after(&page, "data-total=", "data-total")).unwrap(),
            dec(&api["total_points"]),
            "{area}"
        );
        assert_cards(&page, &api["metrics"], area);
        // Modern Work: the track switch shows each track's own scorecard.
        if let Some(tracks) = api.get("tracks").and_then(Value::as_object) {
            assert!(page.matches("data-track=").count() >= tracks.len());
            for (t, track) in tracks {
                let (status, _, tp) = s.get(&format!("{href}&track={t}")).await;
                assert_eq!(status, StatusCode::OK, "{area} {t}");
                let shown =
                    format!("aria-label=\"Scorecard\" data-area=\"{area}\" data-track=\"{t}\"");
                assert!(tp.contains(&shown), "{area} {t}: {tp}");
                let after = &tp[tp.find(&shown).unwrap()..];
                assert_eq!(
                    Decimal::from_str(attr_after(after, "data-total=", "data-total")).unwrap(),
                    dec(&track["total_points"]),
                    "{area} {t}"
                );
                assert_cards(after, &track["metrics"], &format!("{area} {t}"));
            }
            let (status, _, _) = s.get(&format!("{href}&track=nope")).await;
            assert_eq!(status, StatusCode::BAD_REQUEST);
        }
        // Security: each side of a metric made of parts.
        for (id, m) in api["metrics"].as_object().unwrap() {
            if let Some(parts) = m.get("parts").and_then(Value::as_object) {
                for (part, p) in parts {
                    let marker = format!("data-part=\"{part}\"");
                    let card = &page[page.find(&format!("data-metric=\"{id}\"")).unwrap()..];
                    assert_eq!(
                        Decimal::from_str(attr_after(card, &marker, "data-points")).unwrap(),
                        dec(&p["points"]),
                        "{area} {id} {part}"
                    );
                }
            }
        }
    }
    // Business Applications' page keeps its scorecard and explanations.
    let (_, _, ba) = s
        .get(&format!(
            "/partners/{P}/areas/business_applications?month={M}"
        ))
        .await;
    assert!(ba.contains(r#"data-qualified="true""#));
    assert!(ba.contains(r#"data-zero="0""#));
    let (status, _, _) = s.get(&format!("/partners/{P}/areas/nope?month={M}")).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn every_page_renders_for_a_partner() {
    let s = Server::start(false).await;
    for page in [
        "",
        "/metrics",
        "/metrics/usage_growth",
        "/customers",
        "/customers?q=adventure",
        "/skilling",
        "/skilling?within=400",
        "/history",
        "/history?months=13",
        "/simulate",
    ] {
        let (path, extra) = page.split_once('?').unwrap_or((page, ""));
        let url = format!("/partners/{P}{path}?month={M}&{extra}");
        let (status, h, html) = s.get(&url).await;
        assert_eq!(status, StatusCode::OK, "{url}: {html}");
        assert!(is_html(&h), "{url}");
        assert!(html.contains("</html>"), "{url}");
    }
    // The history chart has as many bars as months asked for.
    let (_, _, html) = s
        .get(&format!("/partners/{P}/history?month={M}&months=13"))
        .await;
    assert_eq!(html.matches("<g data-month=").count(), 13);
    // By date: the refresh-by-the-20th rule picks the month before on the 19th.
    let (status, _, html) = s.get(&format!("/partners/{P}?date=2023-12-19")).await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("Month <b>2023-11</b>"), "{html}");
    assert!(html.contains("skilling on <b>2023-12-19</b>"));
}

#[tokio::test]
async fn bad_values_and_unknown_partners_are_html_errors() {
    let s = Server::start(false).await;
    for (url, status, text) in [
        (
            format!("/partners/{P}?month=2023-13"),
            StatusCode::BAD_REQUEST,
            "month",
        ),
        (
            format!("/partners/{P}?month=2023-11&date=2023-11-01"),
            StatusCode::BAD_REQUEST,
            "not both",
        ),
        (
            format!("/partners/{P}/history?month={M}&months=x"),
            StatusCode::BAD_REQUEST,
            "months",
        ),
        (
            format!("/partners/{P}/history?month={M}&months=0"),
            StatusCode::BAD_REQUEST,
            "months",
        ),
        (
            format!("/partners/{P}/skilling?month={M}&within=-1"),
            StatusCode::BAD_REQUEST,
            "within",
        ),
        (
            format!("/partners/9999999?month={M}"),
            StatusCode::NOT_FOUND,
            "9999999",
        ),
        (
            format!("/partners/{P}/metrics/nope?month={M}"),
            StatusCode::NOT_FOUND,
            "nope",
        ),
        (
            format!("/partners/{P}/simulate?month={M}&scenario=77"),
            StatusCode::NOT_FOUND,
            "scenario 77",
        ),
    ] {
        let (st, h, html) = s.get(&url).await;
        assert_eq!(st, status, "{url}: {html}");
        assert!(is_html(&h), "{url}");
        assert!(html.contains(r#"role="alert""#), "{url}");
        assert!(html.contains(text), "{url}: {html}");
        assert!(
            html.contains("<nav class=\"tabs\""),
            "{url}: the error is in the layout"
        );
    }
}

#[tokio::test]
async fn the_picker_searches_pages_and_escapes() {
    let s = Server::start(false).await;
    let (status, _, html) = s.get(&format!("/?month={M}")).await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains(r#"data-matches="4""#), "{html}");
    let (_, _, html) = s.get(&format!("/?month={M}&q=fabrikam")).await;
    assert!(html.contains(r#"data-matches="1""#));
    assert!(html.contains("/partners/1000002?month=2023-11"));
    // What the user typed comes back escaped.
    let (_, _, html) = s.get("/?q=%3Cscript%3Ealert(1)%3C%2Fscript%3E").await;
    assert!(!html.contains("<script>alert(1)"), "{html}");
    assert!(html.contains("&lt;script&gt;alert(1)&lt;/script&gt;"));
    // An exact id goes straight to the partner, keeping the month.
    let (status, h, _) = s.get(&format!("/partners?partner={P}&month={M}")).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert_eq!(h[LOCATION], format!("/partners/{P}?month={M}").as_str());
    // Anything else is a search.
    let (status, _, html) = s.get(&format!("/partners?partner=TAIL&month={M}")).await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("Tailspin Toys"));
}

#[tokio::test]
async fn without_a_month_the_pages_show_the_newest_complete_month() {
    let s = Server::start(false).await;
    // The example has a few rows of 2023-11 for two of its partners, and
    // data of 2023-10 for three: 2023-10 is its newest complete month, so
    // pages are for 2023-11, as in the example's README.
    let (status, _, html) = s.get(&format!("/partners/{P}")).await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        html.contains(r#"type="month" name="month" value="2023-11""#),
        "{html}"
    );
    assert!(html.contains("latest month <b>2023-10</b>"));
    assert!(html.contains(r#"data-total="70.84""#));
    // Links carry the month.
    assert!(html.contains(&format!("/partners/{P}/customers?month=2023-11")));
}

#[tokio::test]
async fn the_customer_csv_is_a_download_of_the_report() {
    let s = Server::start(false).await;
    let r = s
        .http
        .get(s.url(&format!("/partners/{P}/customers.csv?month={M}")))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(r.headers()[CONTENT_TYPE], "text/csv; charset=utf-8");
    assert_eq!(
        r.headers()[CONTENT_DISPOSITION],
        "attachment; filename=\"customers-1000001-2023-11.csv\""
    );
    let text = r.text().await.unwrap();
    let mut rd = csv::Reader::from_reader(text.as_bytes());
    assert_eq!(
        rd.headers().unwrap().iter().collect::<Vec<_>>(),
        [
            "tenant_id",
            "customer_name",
            "subscription_id",
            "workload",
            "metric",
            "met",
            "criterion",
            "value",
            "effect",
            "sentence"
        ]
    );
    let rows: Vec<csv::StringRecord> = rd.records().map(Result::unwrap).collect();
    let api = s
        .json(&format!("/api/v1/partners/{P}/customers?month={M}"))
        .await;
    let lines = api["lines"].as_array().unwrap();
    assert_eq!(rows.len(), lines.len());
    assert!(!rows.is_empty());
    for (row, line) in rows.iter().zip(lines) {
        assert_eq!(&row[0], line["tenant_id"].as_str().unwrap());
        assert_eq!(&row[4], line["metric"].as_str().unwrap());
        assert_eq!(&row[5], line["met"].to_string());
        assert_eq!(&row[9], line["sentence"].as_str().unwrap());
    }
    // The search narrows the download too.
    let (_, _, text) = s
        .get(&format!(
            "/partners/{P}/customers.csv?month={M}&q=adventure"
        ))
        .await;
    assert!(
        text.lines().skip(1).all(|l| l.contains("Adventure Works")),
        "{text}"
    );
    assert!(text.lines().count() > 1);
}

#[tokio::test]
async fn the_simulator_form_gives_the_apis_simulation_and_saves_it() {
    let s = Server::start(false).await;
    let csrf = s.csrf(&format!("/partners/{P}/simulate?month={M}")).await;
    let form = [
        ("csrf", csrf.as_str()),
        ("title", "win Adventure Works"),
        ("rev_name_0", "Graphic Design Institute"),
        ("rev_workload_0", "Marketing"),
        ("rev_amount_0", "2500"),
        ("rev_assoc_0", "CSP Tier 1"),
        ("use_name_0", ""),
        ("action", "save"),
        ("save_name", "GDI <marketing>"),
    ];
    let r = s
        .http
        .post(s.url(&format!("/partners/{P}/simulate?month={M}")))
        .form(&form)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let html = r.text().await.unwrap();
    let api: Value = s
        .http
        .post(s.url(&format!("/api/v1/partners/{P}/simulate?month={M}")))
        .json(&json!({
            "title": "win Adventure Works",
            "revenue": [{"customer_name": "Graphic Design Institute", "workload": "Marketing",
                         "revenue_usd": 2500, "association": "CSP Tier 1"}]
        }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let shown = Decimal::from_str(attr_after(
        &html,
        "id=\"simulated-total\"",
        "data-simulated-total",
    ))
    .unwrap();
    assert_eq!(shown, dec(&api["simulated"]["total_points"]));
    for (id, m) in api["simulated"]["metrics"].as_object().unwrap() {
        let marker = format!("<tr data-metric=\"{id}\"");
        assert_eq!(
            Decimal::from_str(attr_after(&html, &marker, "data-simulated")).unwrap(),
            dec(&m["points"]),
            "{id}"
        );
    }
    // Saved in the store, listed (escaped) and loadable.
    assert!(html.contains("Saved as “GDI &lt;marketing&gt;”"), "{html}");
    let saved = s.state.store().scenarios(P).unwrap();
    assert_eq!(saved.len(), 1);
    assert_eq!(saved[0].scenario["revenue"][0]["workload"], "Marketing");
    let (status, _, html) = s
        .get(&format!(
            "/partners/{P}/simulate?month={M}&scenario={}",
            saved[0].id
        ))
        .await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains(r#"value="Graphic Design Institute""#));
    assert_eq!(
        Decimal::from_str(attr_after(
            &html,
            "id=\"simulated-total\"",
            "data-simulated-total"
        ))
        .unwrap(),
        shown
    );
    // Another partner does not see it.
    assert!(s.state.store().scenarios("1000002").unwrap().is_empty());
}

#[tokio::test]
async fn the_plan_loads_into_the_simulator_and_qualifies() {
    let s = Server::start(false).await;
    // Fabrikam Apps is 0.60 points short.
    let (status, _, html) = s
        .get(&format!("/partners/1000002/simulate?month={M}"))
        .await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("<table id=\"plan\""), "{html}");
    assert!(html.contains("Load this plan into the simulator"));
    let plan = s
        .json(&format!("/api/v1/partners/1000002/plan?month={M}"))
        .await;
    let (status, _, html) = s
        .get(&format!("/partners/1000002/simulate?month={M}&use=plan"))
        .await;
    assert_eq!(status, StatusCode::OK);
    let shown = Decimal::from_str(attr_after(
        &html,
        "id=\"simulated-total\"",
        "data-simulated-total",
    ))
    .unwrap();
    assert_eq!(shown, dec(&plan["result"]["total_points"]), "{plan}");
    assert!(shown >= Decimal::from(70));
    assert!(html.contains(r#"data-simulated-qualified="true""#));
}

#[tokio::test]
async fn a_bad_simulator_form_says_what_is_wrong() {
    let s = Server::start(false).await;
    let csrf = s.csrf(&format!("/partners/{P}/simulate?month={M}")).await;
    for (form, text) in [
        (
            vec![("use_name_0", "Litware"), ("use_workload_0", "Power BI")],
            "Usage row 1: the quantity is required",
        ),
        (
            vec![
                ("rev_workload_0", "Sales"),
                ("rev_amount_0", "12,5"),
                ("rev_assoc_0", "PAL"),
            ],
            "is not a decimal number",
        ),
        (
            vec![("cert_cert_0", "no-such-cert")],
            "is not a known certification",
        ),
        (vec![("title", "nothing")], "The scenario is empty"),
    ] {
        let r = s
            .http
            .post(s.url(&format!("/partners/{P}/simulate?month={M}")))
            .form(&[&[("csrf", csrf.as_str())], &form[..]].concat())
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::BAD_REQUEST, "{text}");
        let html = r.text().await.unwrap();
        assert!(html.contains(text), "{text}: {html}");
        assert!(html.contains("id=\"sim-error\""));
        assert!(!html.contains("id=\"simulated-total\""));
    }
    assert!(s.state.store().scenarios(P).unwrap().is_empty());
}

fn multipart(csrf: &str, table: &str, file_name: &str, body: &[u8]) -> (String, Vec<u8>) {
    let boundary = "----pcs-test-boundary-7d9a";
    let mut out = Vec::new();
    out.extend_from_slice(
        format!("--{boundary}\r\nContent-Disposition: form-data; name=\"csrf\"\r\n\r\n{csrf}\r\n")
            .as_bytes(),
    );
    out.extend_from_slice(
        format!(
            "--{boundary}\r\nContent-Disposition: form-data; name=\"table\"\r\n\r\n{table}\r\n"
        )
        .as_bytes(),
    );
    out.extend_from_slice(
        format!(
            "--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{file_name}\"\r\nContent-Type: text/csv\r\n\r\n"
        )
        .as_bytes(),
    );
    out.extend_from_slice(body);
    out.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
    (format!("multipart/form-data; boundary={boundary}"), out)
}

#[tokio::test]
async fn uploads_through_the_page_are_checked_and_applied_at_once() {
    let s = Server::start(false).await;
    let csrf = s.csrf("/upload").await;
    let original = std::fs::read_to_string(s.dir.path().join("certifications.csv")).unwrap();
    // Line 4 gets an impossible date.
    let bad: Vec<String> = original
        .lines()
        .enumerate()
        .map(|(i, l)| {
            if i == 3 {
                let mut f: Vec<&str> = l.split(',').collect();
                f[4] = "2023-02-30";
                f.join(",")
            } else {
                l.to_string()
            }
        })
        .collect();
    let (ct, body) = multipart(
        &csrf,
        "certifications",
        "certs.csv",
        (bad.join("\n") + "\n").as_bytes(),
    );
    let r = s
        .http
        .post(s.url("/upload"))
        .header(CONTENT_TYPE, ct)
        .body(body)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let html = r.text().await.unwrap();
    assert!(html.contains(r#"data-accepted="false""#), "{html}");
    assert!(html.contains(r#"<dd data-detail="line">4</dd>"#), "{html}");
    assert!(html.contains(r#"<dd data-detail="value">2023-02-30</dd>"#));
    assert!(html.contains("nothing was changed"));
    assert_eq!(
        std::fs::read_to_string(s.dir.path().join("certifications.csv")).unwrap(),
        original
    );

    // Without the advanced certifications of 1000001, its score falls at once.
    let before = s
        .json(&format!("/api/v1/partners/{P}/score?month={M}"))
        .await;
    let good: String = original
        .lines()
        .filter(|l| !l.contains("Expert"))
        .map(|l| format!("{l}\n"))
        .collect();
    let (ct, body) = multipart(&csrf, "certifications", "certs.csv", good.as_bytes());
    let r = s
        .http
        .post(s.url(&format!("/upload?month={M}")))
        .header(CONTENT_TYPE, ct)
        .body(body)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let html = r.text().await.unwrap();
    assert!(html.contains(r#"data-accepted="true""#), "{html}");
    let after = s
        .json(&format!("/api/v1/partners/{P}/score?month={M}"))
        .await;
    assert!(
        dec(&after["metrics"]["advanced_certifications"]["points"])
            < dec(&before["metrics"]["advanced_certifications"]["points"])
    );
    let (_, _, page) = s.get(&format!("/partners/{P}?month={M}")).await;
    assert_eq!(
        Decimal::from_str(attr_after(&page, "data-total=", "data-total")).unwrap(),
        dec(&after["total_points"])
    );
    assert_eq!(
        std::fs::read_to_string(s.dir.path().join("certifications.csv")).unwrap(),
        good
    );
    // Both attempts are in the history shown on the page.
    let (_, _, html) = s.get("/upload").await;
    assert_eq!(html.matches("<td>certifications</td>").count(), 3, "{html}");
}

#[tokio::test]
async fn a_partner_token_sees_only_its_partner_in_the_pages() {
    let s = Server::start(true).await;
    // Without credentials a page sends the browser to the login form.
    let (status, h, _) = s.get(&format!("/partners/{P}?month={M}")).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert_eq!(
        h[LOCATION],
        "/login?next=%2Fpartners%2F1000001%3Fmonth%3D2023-11"
    );

    let (token, _) = s
        .state
        .store()
        .create_token(&Scope::Partner("1000002".into()), "reseller")
        .unwrap();
    let get = |path: String| s.http.get(s.url(&path)).bearer_auth(&token).send();
    let r = get(format!("/partners/{P}?month={M}")).await.unwrap();
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    let html = r.text().await.unwrap();
    assert!(!html.contains("Contoso Dynamics"), "{html}");
    for path in [
        "customers.csv",
        "customers",
        "simulate",
        "history",
        "metrics",
    ] {
        let r = get(format!("/partners/{P}/{path}?month={M}"))
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::NOT_FOUND, "{path}");
    }
    let r = get(format!("/partners/1000002?month={M}")).await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let html = r.text().await.unwrap();
    assert!(html.contains("Fabrikam Apps"));
    assert!(
        !html.contains("href=\"/upload"),
        "no upload tab for a reseller"
    );
    // The picker is the partner itself; uploads are for admins.
    let r = get(format!("/?month={M}")).await.unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(
        r.headers()[LOCATION],
        format!("/partners/1000002?month={M}").as_str()
    );
    let r = get(format!("/partners?partner={P}&month={M}"))
        .await
        .unwrap();
    assert_eq!(
        r.headers()[LOCATION],
        format!("/partners/1000002?month={M}").as_str()
    );
    let r = get("/upload".into()).await.unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn assets_are_embedded_and_cacheable() {
    let s = Server::start(false).await;
    let (_, _, html) = s.get(&format!("/partners/{P}?month={M}")).await;
    let css = attr_after(&html, "rel=\"stylesheet\"", "href").to_string();
    assert!(css.starts_with("/assets/style.css?v="));
    let r = s.http.get(s.url(&css)).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(r.headers()[CONTENT_TYPE], "text/css; charset=utf-8");
    let etag = r.headers()["etag"].clone();
    let r = s
        .http
        .get(s.url(&css))
        .header("if-none-match", etag)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::NOT_MODIFIED);
    for path in ["/assets/app.js", "/assets/icon.svg"] {
        let (status, _, body) = s.get(path).await;
        assert_eq!(status, StatusCode::OK, "{path}");
        assert!(!body.is_empty());
    }
    // Nothing on a page is fetched from another site.
    for needle in ["src=\"http", "href=\"http"] {
        assert!(!html.contains(needle), "{needle}");
    }
}

// ---------------------------------------------------------------- cross-site requests

/// A multipart upload of `partners.csv` posted to `/upload` with a cookie,
/// an `Origin`, a `Sec-Fetch-Site` and a token; the status.
async fn post_upload(
    s: &Server,
    cookie: &str,
    origin: Option<&str>,
    site: Option<&str>,
    csrf: &str,
    body: &str,
) -> StatusCode {
    let (ct, body) = multipart(csrf, "partners", "partners.csv", body.as_bytes());
    let mut r = s
        .http
        .post(s.url("/upload"))
        .header("cookie", cookie)
        .header(CONTENT_TYPE, ct);
    if let Some(o) = origin {
        r = r.header("origin", o);
    }
    if let Some(site) = site {
        r = r.header("sec-fetch-site", site);
    }
    r.body(body).send().await.unwrap().status()
}

/// Logs in as a browser does (the login form's token, this origin); the cookie.
async fn browser_login(s: &Server, token: &str) -> String {
    let csrf = s.csrf("/login").await;
    let r = s
        .http
        .post(s.url("/login"))
        .header("origin", &s.base)
        .header("sec-fetch-site", "same-origin")
        .form(&[
            ("csrf", csrf.as_str()),
            ("token", token),
            ("next", "/upload"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let cookie = r.headers()["set-cookie"].to_str().unwrap();
    cookie.split(';').next().unwrap().to_string()
}

#[tokio::test]
async fn a_page_on_another_origin_cannot_post_with_the_admins_session() {
    let s = Server::start(true).await;
    let admin = s
        .state
        .store()
        .create_token(&Scope::All, "admin")
        .unwrap()
        .0;
    let cookie = browser_login(&s, &admin).await;
    let page = s
        .http
        .get(s.url("/upload"))
        .header("cookie", &cookie)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let csrf = csrf_of(&page);
    let original = std::fs::read_to_string(s.dir.path().join("partners.csv")).unwrap();
    let renamed = original.replace("Contoso Dynamics", "Renamed by another origin");
    assert_ne!(renamed, original);
    // The reproduced attack: a page at http://127.0.0.1:OTHERPORT (same
    // site, another origin) posts the upload form with the admin's cookie.
    let other = "http://127.0.0.1:38999";
    let base = s.base.clone();
    for (origin, site, token) in [
        (Some(other), Some("same-site"), ""),
        (Some(other), Some("same-site"), csrf.as_str()),
        (Some(other), None, csrf.as_str()),
        (Some("null"), None, csrf.as_str()),
        (None, Some("cross-site"), csrf.as_str()),
        (Some(base.as_str()), Some("same-site"), csrf.as_str()),
        // This origin but no token, or a wrong one.
        (Some(base.as_str()), Some("same-origin"), ""),
        (Some(base.as_str()), Some("same-origin"), "0123abcd"),
        (None, None, ""),
    ] {
        let status = post_upload(&s, &cookie, origin, site, token, &renamed).await;
        assert_eq!(
            status,
            StatusCode::FORBIDDEN,
            "{origin:?} {site:?} {token:?}"
        );
        assert_eq!(
            std::fs::read_to_string(s.dir.path().join("partners.csv")).unwrap(),
            original,
            "{origin:?} {site:?} {token:?}"
        );
    }
    assert!(s.state.store().uploads(10).unwrap().is_empty());
    // Another session's token does not do either.
    let other_cookie = browser_login(&s, &admin).await;
    assert_ne!(other_cookie, cookie);
    let status = post_upload(
        &s,
        &other_cookie,
        Some(&base),
        Some("same-origin"),
        &csrf,
        &renamed,
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    // The dashboard's own form is applied.
    let status = post_upload(
        &s,
        &cookie,
        Some(&base),
        Some("same-origin"),
        &csrf,
        &renamed,
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        std::fs::read_to_string(s.dir.path().join("partners.csv")).unwrap(),
        renamed
    );

    // The simulator's form and logout: the same checks.
    let sim = format!("/partners/{P}/simulate?month={M}");
    let form = [
        ("csrf", csrf.as_str()),
        ("cert_cert_0", "data-analyst-associate"),
        ("action", "save"),
    ];
    let r = s
        .http
        .post(s.url(&sim))
        .header("cookie", &cookie)
        .header("origin", other)
        .form(&form)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    assert!(is_html(r.headers()));
    let r = s
        .http
        .post(s.url(&sim))
        .header("cookie", &cookie)
        .form(&form[1..])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    assert!(s.state.store().scenarios(P).unwrap().is_empty());
    let r = s
        .http
        .post(s.url("/logout"))
        .header("cookie", &cookie)
        .header("origin", other)
        .form(&[("csrf", csrf.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    let r = s
        .http
        .get(s.url("/upload"))
        .header("cookie", &cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK, "the session still works");

    // The API with the session cookie needs the token in a header; with a
    // bearer token it is as before.
    let scenario = json!({"name": "n", "scenario": {"certification": [{"certification": "data-analyst-associate"}]}});
    let api = format!("/api/v1/partners/{P}/scenarios?month={M}");
    let r = s
        .http
        .post(s.url(&api))
        .header("cookie", &cookie)
        .header("origin", &base)
        .json(&scenario)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["error"]["code"], "csrf");
    let r = s
        .http
        .post(s.url(&api))
        .header("cookie", &cookie)
        .header("origin", &base)
        .header("x-csrf-token", &csrf)
        .json(&scenario)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::CREATED);
    let r = s
        .http
        .post(s.url(&api))
        .bearer_auth(&admin)
        .json(&scenario)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::CREATED);
}

#[tokio::test]
async fn after_login_next_goes_only_to_a_path_of_this_site() {
    // More logins than the default limit of 10 a minute.
    let s = Server::start_with(|c| {
        c.auth = true;
        c.login_per_minute = 0;
    })
    .await;
    let token = s.state.store().create_token(&Scope::All, "t").unwrap().0;
    // The raw form bodies, as a browser would send them.
    for (next, expected) in [
        (
            "%2Fpartners%2F1000001%3Fmonth%3D2023-11",
            "/partners/1000001?month=2023-11",
        ),
        ("/%09/127.0.0.1:38999/pwned.html", "/"),
        ("/%0a", "/"),
        ("%0d%0a", "/"),
        ("/%7f", "/"),
        ("/%00", "/"),
        ("//127.0.0.1:38999/", "/"),
        ("/%5C127.0.0.1:38999/", "/"),
        ("%2F%252F127.0.0.1:38999", "/"),
        ("https://127.0.0.1:38999/", "/"),
        ("/partners/%C3%A9", "/partners/%C3%A9"),
    ] {
        // GET /login shows the form for any next (never a 5xx).
        let r = s
            .http
            .get(s.url(&format!("/login?next={next}")))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::OK, "{next}");
        let csrf = csrf_of(&r.text().await.unwrap());
        let r = s
            .http
            .post(s.url("/login"))
            .header(CONTENT_TYPE, "application/x-www-form-urlencoded")
            .body(format!("csrf={csrf}&token={token}&next={next}"))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::SEE_OTHER, "{next}");
        assert_eq!(r.headers()[LOCATION], expected, "{next}");
    }
}

// ---------------------------------------------------------------- security headers

#[tokio::test]
async fn every_response_carries_the_security_headers_and_pages_nothing_inline() {
    let s = Server::start(false).await;
    let paths = [
        "/".to_string(),
        format!("/partners/{P}?month={M}"),
        format!("/partners/{P}/metrics?month={M}"),
        format!("/partners/{P}/customers?month={M}"),
        format!("/partners/{P}/customers.csv?month={M}"),
        format!("/partners/{P}/skilling?month={M}"),
        format!("/partners/{P}/history?month={M}"),
        format!("/partners/{P}/simulate?month={M}"),
        "/upload".into(),
        "/login".into(),
        "/partners/nobody".into(),
        "/partners?partner=100".into(),
        "/no/such/page".into(),
        format!("/api/v1/partners/{P}/score?month={M}"),
        "/api/v1/partners?limit=abc".into(),
        "/api/v1/openapi.json".into(),
        "/assets/app.js".into(),
        "/assets/style.css".into(),
        "/favicon.ico".into(),
    ];
    for path in &paths {
        let (status, h, body) = s.get(path).await;
        let csp = h
            .get("content-security-policy")
            .unwrap_or_else(|| panic!("{path} ({status}): no CSP"))
            .to_str()
            .unwrap();
        for directive in [
            "default-src 'none'",
            "script-src 'self'",
            "style-src 'self'",
            "frame-ancestors 'none'",
            "form-action 'self'",
            "base-uri 'none'",
        ] {
            assert!(csp.contains(directive), "{path}: {csp}");
        }
        assert!(!csp.contains("unsafe"), "{path}: {csp}");
        assert_eq!(h["x-frame-options"], "DENY", "{path}");
        assert_eq!(h["x-content-type-options"], "nosniff", "{path}");
        assert_eq!(h["referrer-policy"], "same-origin", "{path}");
        assert!(
            h.get("strict-transport-security").is_none(),
            "plain HTTP: {path}"
        );
        if is_html(&h) {
            // What the policy forbids is not in the pages: inline style,
            // inline script, event handler attributes.
            let lower = body.to_ascii_lowercase();
            assert!(!lower.contains(" style="), "{path}: inline style");
            assert!(!lower.contains("<style"), "{path}: style element");
            for handler in [
                " onclick=",
                " onload=",
                " onchange=",
                " onsubmit=",
                " oninput=",
            ] {
                assert!(!lower.contains(handler), "{path}: {handler}");
            }
            for (i, _) in lower.match_indices("<script") {
                let tag = &lower[i..i + lower[i..].find('>').unwrap()];
                assert!(tag.contains(" src="), "{path}: inline script {tag}");
            }
        }
    }
}

#[tokio::test]
async fn the_area_pages_show_the_apis_area_reports() {
    let s = Server::start(false).await;
    for area in ["azure_infrastructure", "modern_work", "security"] {
        // Customers: one row per line of the API's report, the CSV the same lines.
        let api = s
            .json(&format!(
                "/api/v1/partners/{P}/customers?month={M}&area={area}&level=subscription"
            ))
            .await;
        let (status, h, html) = s
            .get(&format!(
                "/partners/{P}/customers?month={M}&area={area}&level=subscription"
            ))
            .await;
        assert_eq!(status, StatusCode::OK, "{area}: {html}");
        assert!(is_html(&h));
        let n = api["lines"].as_array().unwrap().len();
        if n > 0 {
            assert_eq!(
                attr_after(&html, "id=\"area-customers\"", "data-lines"),
                n.to_string(),
                "{area}"
            );
        }
        let r = s
            .http
            .get(s.url(&format!(
                "/partners/{P}/customers.csv?month={M}&area={area}&level=subscription"
            )))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::OK);
        assert_eq!(
            r.headers()[CONTENT_DISPOSITION],
            format!("attachment; filename=\"customers-{P}-{area}-{M}.csv\"").as_str()
        );
        let text = r.text().await.unwrap();
        let mut rd = csv::Reader::from_reader(text.as_bytes());
        assert_eq!(&rd.headers().unwrap()[3], "track");
        assert_eq!(rd.records().count(), n, "{area}");
        // Metrics: every metric's points as the API explains them.
        let e = s
            .json(&format!(
                "/api/v1/partners/{P}/explain?month={M}&area={area}"
            ))
            .await;
        let (status, _, html) = s
            .get(&format!("/partners/{P}/metrics?month={M}&area={area}"))
            .await;
        assert_eq!(status, StatusCode::OK, "{html}");
        for t in e["tracks"].as_array().unwrap() {
            for m in t["metrics"].as_array().unwrap() {
                let marker = format!("data-metric=\"{}\"", m["id"].as_str().unwrap());
                assert!(html.contains(&marker), "{area} {marker}");
            }
        }
        if area == "modern_work" {
            assert!(
                html.contains("data-track=\"enterprise\"") && html.contains("data-track=\"smb\"")
            );
        }
    }
    // Skilling across every area: the API's people per metric, and the CSV.
    let api = s
        .json(&format!("/api/v1/partners/{P}/skilling?month={M}&area=all"))
        .await;
    let (status, _, html) = s
        .get(&format!("/partners/{P}/skilling?month={M}&area=all"))
        .await;
    assert_eq!(status, StatusCode::OK);
    for m in api["metrics"].as_array().unwrap() {
        let marker = format!(
            "data-area=\"{}\" data-metric=\"{}\"",
            m["solution_area"].as_str().unwrap(),
            m["metric"].as_str().unwrap()
        );
        assert_eq!(
            dec(&json!(
                attr_after(&html, &marker, "data-people")
                    .parse::<f64>()
                    .unwrap()
            )),
            dec(&m["people"]),
            "{marker}"
        );
    }
    assert!(html.contains("counts in business_applications, azure_data_ai"));
    let (status, h, text) = s
        .get(&format!("/partners/{P}/skilling.csv?month={M}&area=all"))
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(h[CONTENT_TYPE], "text/csv; charset=utf-8");
    assert!(text.starts_with("person_id,person_name,certification,earned_on"));
    assert!(text.contains(",azure_data_ai,"));
    let (_, _, ba) = s
        .get(&format!("/partners/{P}/skilling.csv?month={M}"))
        .await;
    assert!(ba.starts_with("person_id,person_name,certification,name,metric"));
    // History: each area's totals as the API gives them.
    let api = s
        .json(&format!(
            "/api/v1/partners/{P}/history?month={M}&area=all&months=3"
        ))
        .await;
    let (status, _, html) = s
        .get(&format!(
            "/partners/{P}/history?month={M}&area=all&months=3"
        ))
        .await;
    assert_eq!(status, StatusCode::OK);
    // The page's own sections (the area switch above also names every area).
    let html = &html[html.find("<main").unwrap()..];
    for a in api["areas"].as_array().unwrap() {
        let marker = format!("data-area=\"{}\"", a["solution_area"].as_str().unwrap());
        let last = a["months"].as_array().unwrap().last().unwrap();
        let at = html.find(&marker).unwrap();
        let section = &html[at..];
        assert_eq!(
            attr_after(section, &format!("data-month=\"{M}\""), "data-total"),
            dec(&last["total_points"]).normalize().to_string(),
            "{marker}"
        );
    }
    assert!(html.contains("anniversary date"));
    // A bad area is a page with the API's 400.
    let (status, _, _) = s
        .get(&format!("/partners/{P}/customers?month={M}&area=nope"))
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn the_simulator_works_across_areas_with_acr_and_licence_rows() {
    // No time limit on the joint plan: with one, a slow (debug, loaded)
    // machine stops the page's and the API's searches at different points.
    let s = Server::start_with(|c| c.plan_time = None).await;
    let areas = "modern_work,security";
    let page = format!("/partners/{P}/simulate?month={M}&area={areas}");
    let (status, _, html) = s.get(&page).await;
    assert_eq!(status, StatusCode::OK);
    // The acr and licence rows are offered, and an area's certifications.
    for marker in [
        "data-rows=\"acr\"",
        "data-rows=\"lic\"",
        "value=\"azure-security-engineer\"",
    ] {
        assert!(html.contains(marker), "{marker}");
    }
    // The joint plan is the API's.
    let api_plan: Value = s
        .http
        .get(s.url(&format!("/api/v1/partners/{P}/plan?month={M}&area={areas}")))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    for (i, a) in ["modern_work", "security"].iter().enumerate() {
        let marker = format!("data-plan-area=\"{a}\"");
        assert_eq!(
            Decimal::from_str(attr_after(&html, &marker, "data-result")).unwrap(),
            dec(&api_plan["result"][i]["total_points"]),
            "{a}"
        );
    }
    if !api_plan["actions"].as_array().unwrap().is_empty() {
        assert_eq!(
            Decimal::from_str(attr_after(&html, "id=\"plan-total\"", "data-cost")).unwrap(),
            dec(&api_plan["total_cost"])
        );
    }
    // A licence row and a certification that counts in both areas give the
    // API's simulation in each area.
    let csrf = csrf_of(&html);
    let form = [
        ("csrf", csrf.as_str()),
        ("title", "Intune and an identity admin"),
        ("lic_name_0", "Fabrikam"),
        ("lic_workload_0", "Intune"),
        ("lic_seats_0", "400"),
        ("lic_users_0", "380"),
        ("lic_assoc_0", "CPOR"),
        ("cert_name_0", "New Admin"),
        ("cert_cert_0", "identity-and-access-administrator"),
    ];
    let r = s.http.post(s.url(&page)).form(&form).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let html = r.text().await.unwrap();
    let api: Value = s
        .http
        .post(s.url(&format!(
            "/api/v1/partners/{P}/simulate?month={M}&area={areas}"
        )))
        .json(&json!({
            "title": "Intune and an identity admin",
            "licenses": [{"customer_name": "Fabrikam", "workload": "Intune", "paid_seats": 400,
                          "active_users": 380, "association": "CPOR"}],
            "certification": [{"person_name": "New Admin",
                               "certification": "identity-and-access-administrator"}]
        }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let mut changed = false;
    for a in api["areas"].as_array().unwrap() {
        let area = a["solution_area"].as_str().unwrap();
        let marker = format!("data-result-area=\"{area}\"");
        assert_eq!(
            Decimal::from_str(attr_after(&html, &marker, "data-simulated-total")).unwrap(),
            dec(&a["simulated"]["total_points"]),
            "{area}"
        );
        changed |= a["simulated"]["total_points"] != a["current"]["total_points"];
    }
    assert!(changed, "the scenario changes a score: {api}");
    // Seats that are not a whole number are named, as typed; nothing runs.
    let bad = [
        ("csrf", csrf.as_str()),
        ("lic_workload_0", "Intune"),
        ("lic_seats_0", "4OO"),
        ("lic_users_0", "1"),
        ("lic_assoc_0", "CPOR"),
    ];
    let r = s.http.post(s.url(&page)).form(&bad).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    let html = r.text().await.unwrap();
    assert!(
        html.contains("paid seats: &#39;4OO&#39; is not a whole number")
            || html.contains("paid seats: '4OO' is not a whole number"),
        "{html}"
    );
    // An area's page links to its simulator.
    let (_, _, html) = s
        .get(&format!("/partners/{P}/areas/modern_work?month={M}"))
        .await;
    assert!(
        html.contains(&format!(
            "href=\"/partners/{P}/simulate?month={M}&amp;area=modern_work\""
        )),
        "no simulator link"
    );
    // Without ?area= the page is Business Applications' own, without acr rows.
    let (_, _, html) = s.get(&format!("/partners/{P}/simulate?month={M}")).await;
    assert!(!html.contains("data-rows=\"acr\""));
    // A bad area is a 400.
    let (status, _, _) = s
        .get(&format!("/partners/{P}/simulate?month={M}&area=nope"))
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn a_month_whose_lines_are_not_held_still_shows_each_rows_source_lines() {
    let s = Server::start_over(add_earlier_rows, |_| {}).await;
    let snap = s.state.snapshot();
    let mut shown = 0;
    for month in ["2023-07", "2023-08", "2023-11"] {
        let held = snap.explains(month.parse().unwrap());
        assert_eq!(held, month == "2023-11", "{month}");
        for pid in ["1000001", "1000002", "1000003", "1000004"] {
            let path = format!("/partners/{pid}/metrics?month={month}");
            let (status, _, html) = s.get(&path).await;
            assert_eq!(status, StatusCode::OK, "{path}");
            // Every row of the explanation names its source lines: none
            // is shown without them.
            assert!(
                !html.contains(r#"<td class="src"></td>"#),
                "{path}: a row without its source lines"
            );
            shown += html.matches(r#"<td class="src">revenue.csv: line"#).count()
                + html.matches(r#"<td class="src">usage.csv: line"#).count();
        }
    }
    assert!(shown > 20, "only {shown} rows with source lines");
}
