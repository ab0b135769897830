//! The simulator: a form to add hypothetical customers (revenue and usage
//! rows) and certified people, or to remove real ones; current against
//! simulated; the recommendations and the cheapest plan; saved scenarios.
//!
//! The form becomes the same JSON scenario that `POST /api/v1/.../simulate`
//! and `pcs simulate --scenario` read, parsed by the same
//! [`Scenario::from_json`], so the three always agree.

use std::collections::HashMap;

use axum::Form;
use axum::extract::Path;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use maud::{Markup, html};
use pcs_core::Decimal;
use pcs_core::rulebook::Rulebook;
use pcs_core::score::PartnerScore;
use pcs_insights::app;
use pcs_insights::plan::joint::{AreaRecommendation, JointPlan};
use pcs_insights::plan::{Costs, Plan};
use pcs_insights::recommend::Recommendation;
use pcs_insights::scenario::{Comparison, Scenario};
use serde_json::{Map, Value, json};

use super::layout::{Tab, empty, layout};
use super::overview::{partner_head, scorecard};
use super::view::{Sel, enc, num, partner_href, pts, signed, value_text};
use super::{Page, PageError, html_response};
use crate::error::ApiError;
use crate::reports::{Reports, WITHIN_DAYS, blocking};
use crate::store::SavedScenario;

/// Empty rows offered per kind when the page works without the script.
const MIN_ROWS: usize = 2;

/// The fields of one kind of row: (form suffix, label, kind of input).
#[derive(Clone, Copy)]
enum Input {
    Text,
    Number,
    Month,
    Date,
    Select(Options),
}

#[derive(Clone, Copy)]
enum Options {
    RevenueWorkloads,
    UsageWorkloads,
    Associations,
    Certifications,
}

const REVENUE: &[Field] = &[
    ("name", "Customer name", Input::Text),
    ("tenant", "Tenant id (optional)", Input::Text),
    (
        "workload",
        "Workload",
        Input::Select(Options::RevenueWorkloads),
    ),
    ("amount", "Revenue (USD)", Input::Number),
    ("assoc", "Association", Input::Select(Options::Associations)),
    ("month", "Month (default: latest)", Input::Month),
];

const USAGE: &[Field] = &[
    ("name", "Customer name", Input::Text),
    ("tenant", "Tenant id (optional)", Input::Text),
    (
        "workload",
        "Workload",
        Input::Select(Options::UsageWorkloads),
    ),
    ("qty", "Quantity (MAU)", Input::Number),
    ("assoc", "Association", Input::Select(Options::Associations)),
    ("month", "Month (default: latest)", Input::Month),
];

const CERTS: &[Field] = &[
    ("name", "Person name", Input::Text),
    ("person", "Person id (optional)", Input::Text),
    (
        "cert",
        "Certification",
        Input::Select(Options::Certifications),
    ),
    (
        "earned",
        "Earned on (default: evaluation date)",
        Input::Date,
    ),
];

const ACR: &[Field] = &[
    ("name", "Customer name", Input::Text),
    ("tenant", "Tenant id (optional)", Input::Text),
    ("service", "Azure service", Input::Text),
    ("amount", "ACR (USD)", Input::Number),
    ("assoc", "Association (e.g. CSP T1, PAL)", Input::Text),
    ("month", "Month (default: latest)", Input::Month),
];

const LICENSES: &[Field] = &[
    ("name", "Customer name", Input::Text),
    ("tenant", "Tenant id (optional)", Input::Text),
    (
        "workload",
        "Microsoft 365 workload (e.g. Intune)",
        Input::Text,
    ),
    ("seats", "Paid seats", Input::Number),
    ("users", "Active users", Input::Number),
    ("assoc", "Association (e.g. CPOR)", Input::Text),
    ("month", "Month (default: latest)", Input::Month),
];

/// A form field: suffix, label, kind of input.
type Field = (&'static str, &'static str, Input);

/// The kinds of rows: form prefix, legend, fields, and whether only the
/// simulator over other areas than Business Applications shows them.
const KINDS: [(&str, &str, &[Field], bool); 5] = [
    (
        "rev",
        "Revenue of a new or existing customer",
        REVENUE,
        false,
    ),
    ("use", "Usage (deployments and usage growth)", USAGE, false),
    ("cert", "Certified people", CERTS, false),
    (
        "acr",
        "Azure consumed revenue (the Azure areas and Security)",
        ACR,
        true,
    ),
    (
        "lic",
        "Licences: paid seats and active users (Modern Work and Security)",
        LICENSES,
        true,
    ),
];

/// A form field's scenario key: suffix, JSON key, name in messages, required.
type Key = (&'static str, &'static str, &'static str, bool);

/// What the form holds: field name → value.
#[derive(Clone, Debug, Default, PartialEq)]
pub(crate) struct FormState {
    fields: HashMap<String, String>,
}

impl FormState {
    fn get(&self, name: &str) -> &str {
        self.fields.get(name).map(|s| s.trim()).unwrap_or("")
    }

    fn set(&mut self, name: String, value: impl Into<String>) {
        let v = value.into();
        if !v.trim().is_empty() {
            self.fields.insert(name, v);
        }
    }

    /// Row indexes of a kind present in the form (filled or not), sorted.
    fn rows(&self, prefix: &str) -> Vec<usize> {
        let mut out: Vec<usize> = self
            .fields
            .keys()
            .filter_map(|k| {
                let rest = k.strip_prefix(prefix)?.strip_prefix('_')?;
                let (_, n) = rest.rsplit_once('_')?;
                n.parse().ok()
            })
            .collect();
        out.sort_unstable();
        out.dedup();
        out
    }

    /// Rows to show for a kind: the filled ones, then empty ones.
    fn shown_rows(&self, prefix: &str) -> usize {
        let filled = self.rows(prefix).last().map_or(0, |n| n + 1);
        (filled + 1).max(MIN_ROWS)
    }

    /// Builds the scenario JSON; a message names a missing value.
    pub(crate) fn scenario_json(&self) -> Result<Value, String> {
        let mut root = Map::new();
        if !self.get("title").is_empty() {
            root.insert("title".into(), self.get("title").into());
        }
        let row = |prefix: &str,
                   n: usize,
                   fields: &[Key]|
         -> Result<Option<Map<String, Value>>, String> {
            let mut o = Map::new();
            let mut any = false;
            for (suffix, key, _, _) in fields {
                let v = self.get(&format!("{prefix}_{suffix}_{n}"));
                if !v.is_empty() {
                    any = true;
                    o.insert((*key).into(), v.into());
                }
            }
            if !any {
                return Ok(None);
            }
            for (_, key, label, required) in fields {
                if *required && !o.contains_key(*key) {
                    return Err(format!("{label} is required"));
                }
            }
            Ok(Some(o))
        };
        let kinds: [(&str, &str, &str, &[Key]); 5] = [
            (
                "rev",
                "revenue",
                "Revenue",
                &[
                    ("name", "customer_name", "customer name", false),
                    ("tenant", "customer_tenant_id", "tenant id", false),
                    ("workload", "workload", "the workload", true),
                    ("amount", "revenue_usd", "the revenue", true),
                    ("assoc", "association", "the association", true),
                    ("month", "month", "month", false),
                ],
            ),
            (
                "use",
                "usage",
                "Usage",
                &[
                    ("name", "customer_name", "customer name", false),
                    ("tenant", "customer_tenant_id", "tenant id", false),
                    ("workload", "workload", "the workload", true),
                    ("qty", "quantity", "the quantity", true),
                    ("assoc", "association", "the association", true),
                    ("month", "month", "month", false),
                ],
            ),
            (
                "cert",
                "certification",
                "Certification",
                &[
                    ("name", "person_name", "person name", false),
                    ("person", "person_id", "person id", false),
                    ("cert", "certification", "the certification", true),
                    ("earned", "earned_on", "earned on", false),
                ],
            ),
            (
                "acr",
                "acr",
                "ACR",
                &[
                    ("name", "customer_name", "customer name", false),
                    ("tenant", "customer_tenant_id", "tenant id", false),
                    ("service", "service", "the service", true),
                    ("amount", "acr_usd", "the ACR", true),
                    ("assoc", "association", "the association", true),
                    ("month", "month", "month", false),
                ],
            ),
            (
                "lic",
                "licenses",
                "Licences",
                &[
                    ("name", "customer_name", "customer name", false),
                    ("tenant", "customer_tenant_id", "tenant id", false),
                    ("workload", "workload", "the workload", true),
                    ("seats", "paid_seats", "the paid seats", true),
                    ("users", "active_users", "the active users", true),
                    ("assoc", "association", "the association", true),
                    ("month", "month", "month", false),
                ],
            ),
        ];
        for (prefix, key, label, fields) in kinds {
            let mut list = Vec::new();
            for n in self.rows(prefix) {
                match row(prefix, n, fields).and_then(|o| o.map(counts).transpose()) {
                    Ok(Some(o)) => list.push(Value::Object(o)),
                    Ok(None) => {}
                    Err(e) => return Err(format!("{label} row {}: {e}", list.len() + 1)),
                }
            }
            if !list.is_empty() {
                root.insert(key.into(), Value::Array(list));
            }
        }
        let split = |name: &str| -> Vec<Value> {
            self.get(name)
                .split([',', '\n', ';'])
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(|s| Value::String(s.to_string()))
                .collect()
        };
        let (customers, people) = (split("remove_customers"), split("remove_people"));
        if !customers.is_empty() || !people.is_empty() {
            root.insert(
                "remove".into(),
                json!({ "customers": customers, "people": people }),
            );
        }
        Ok(Value::Object(root))
    }

    /// The form that shows a scenario.
    pub(crate) fn from_scenario(s: &Scenario) -> FormState {
        let mut f = Self::from_ba_rows(s);
        for (n, a) in s.acr.iter().enumerate() {
            f.set(
                format!("acr_name_{n}"),
                a.customer_name.clone().unwrap_or_default(),
            );
            f.set(
                format!("acr_tenant_{n}"),
                a.customer_tenant_id.clone().unwrap_or_default(),
            );
            f.set(format!("acr_service_{n}"), a.service.clone());
            f.set(format!("acr_amount_{n}"), num(a.acr_usd));
            f.set(format!("acr_assoc_{n}"), a.association.clone());
            f.set(
                format!("acr_month_{n}"),
                a.month.clone().unwrap_or_default(),
            );
        }
        for (n, l) in s.licenses.iter().enumerate() {
            f.set(
                format!("lic_name_{n}"),
                l.customer_name.clone().unwrap_or_default(),
            );
            f.set(
                format!("lic_tenant_{n}"),
                l.customer_tenant_id.clone().unwrap_or_default(),
            );
            f.set(format!("lic_workload_{n}"), l.workload.clone());
            f.set(format!("lic_seats_{n}"), l.paid_seats.to_string());
            f.set(format!("lic_users_{n}"), l.active_users.to_string());
            f.set(format!("lic_assoc_{n}"), l.association.clone());
            f.set(
                format!("lic_month_{n}"),
                l.month.clone().unwrap_or_default(),
            );
        }
        f
    }

    /// The revenue, usage, certification and removal fields of a scenario.
    fn from_ba_rows(s: &Scenario) -> FormState {
        let mut f = FormState::default();
        if let Some(t) = &s.title {
            f.set("title".into(), t.clone());
        }
        for (n, r) in s.revenue.iter().enumerate() {
            f.set(
                format!("rev_name_{n}"),
                r.customer_name.clone().unwrap_or_default(),
            );
            f.set(
                format!("rev_tenant_{n}"),
                r.customer_tenant_id.clone().unwrap_or_default(),
            );
            f.set(format!("rev_workload_{n}"), r.workload.clone());
            f.set(format!("rev_amount_{n}"), num(r.revenue_usd));
            f.set(format!("rev_assoc_{n}"), r.association.clone());
            f.set(
                format!("rev_month_{n}"),
                r.month.clone().unwrap_or_default(),
            );
        }
        for (n, u) in s.usage.iter().enumerate() {
            f.set(
                format!("use_name_{n}"),
                u.customer_name.clone().unwrap_or_default(),
            );
            f.set(
                format!("use_tenant_{n}"),
                u.customer_tenant_id.clone().unwrap_or_default(),
            );
            f.set(format!("use_workload_{n}"), u.workload.clone());
            f.set(format!("use_qty_{n}"), num(u.quantity));
            f.set(format!("use_assoc_{n}"), u.association.clone());
            f.set(
                format!("use_month_{n}"),
                u.month.clone().unwrap_or_default(),
            );
        }
        for (n, c) in s.certification.iter().enumerate() {
            f.set(
                format!("cert_name_{n}"),
                c.person_name.clone().unwrap_or_default(),
            );
            f.set(
                format!("cert_person_{n}"),
                c.person_id.clone().unwrap_or_default(),
            );
            f.set(format!("cert_cert_{n}"), c.certification.clone());
            f.set(
                format!("cert_earned_{n}"),
                c.earned_on.clone().unwrap_or_default(),
            );
        }
        f.set("remove_customers".into(), s.remove.customers.join(", "));
        f.set("remove_people".into(), s.remove.people.join(", "));
        f
    }
}

/// Seats and users are whole numbers in a scenario: the form's text becomes
/// one, or a message names the field and the value as typed.
fn counts(mut o: Map<String, Value>) -> Result<Map<String, Value>, String> {
    for (key, label) in [
        ("paid_seats", "paid seats"),
        ("active_users", "active users"),
    ] {
        if let Some(Value::String(t)) = o.get(key) {
            let n: u64 = t
                .parse()
                .map_err(|_| format!("{label}: '{t}' is not a whole number"))?;
            o.insert(key.into(), n.into());
        }
    }
    Ok(o)
}

/// What the simulator page shows.
struct View {
    form: FormState,
    comparison: Option<Comparison>,
    error: Option<String>,
    saved_now: Option<SavedScenario>,
    saved: Vec<SavedScenario>,
    current: PartnerScore,
    recommendations: Result<Vec<Recommendation>, String>,
    plan: Result<Plan, String>,
    csrf: String,
}

/// `GET /partners/{id}/simulate` (`?scenario=ID` loads a saved scenario,
/// `?use=plan` the cheapest plan's).
pub(crate) async fn page(p: Page, Path(id): Path<String>) -> Result<Response, PageError> {
    let r = p.reports(&id).await?;
    if let Some(areas) = areas_of(&p)? {
        return respond_areas(&p, r, areas, FormState::default(), false).await;
    }
    let mut form = FormState::default();
    let mut run = false;
    if let Some(sid) = p.q("scenario") {
        let sid: i64 = sid.parse().map_err(|_| {
            p.error(ApiError::bad_request(format!(
                "scenario: '{sid}' is not a scenario id"
            )))
        })?;
        let saved = p
            .state
            .store()
            .scenario(&id, sid)
            .map_err(|e| p.error(ApiError::internal(e)))?
            .ok_or_else(|| p.error(ApiError::not_found(format!("scenario {sid} not found"))))?;
        let sc = Scenario::from_json(&saved.scenario.to_string())
            .map_err(|e| p.error(ApiError::bad_request(e.to_string())))?;
        form = FormState::from_scenario(&sc);
        run = true;
    }
    let use_plan = p.q("use") == Some("plan");
    respond(&p, r, form, run, use_plan, false).await
}

/// `POST /partners/{id}/simulate` (form fields; `action=save` also saves it).
pub(crate) async fn post(
    p: Page,
    Path(id): Path<String>,
    headers: axum::http::HeaderMap,
    Form(fields): Form<Vec<(String, String)>>,
) -> Result<Response, PageError> {
    let r = p.reports(&id).await?;
    let mut form = FormState::default();
    let mut save = false;
    let mut csrf = None;
    for (k, v) in fields {
        if k == "action" {
            save = v == "save";
        } else if k == crate::csrf::FIELD {
            csrf = Some(v);
        } else {
            form.set(k, v);
        }
    }
    crate::csrf::check(&p.state, &headers, csrf.as_deref()).map_err(|e| p.error(e))?;
    if let Some(areas) = areas_of(&p)? {
        return respond_areas(&p, r, areas, form, true).await;
    }
    respond(&p, r, form, true, false, save).await
}

async fn respond(
    p: &Page,
    r: Reports,
    form: FormState,
    run: bool,
    use_plan: bool,
    save: bool,
) -> Result<Response, PageError> {
    let frame = p.frame(
        format!("Simulator · {}", r.partner_id()),
        Tab::Simulator,
        Some(&r),
    );
    let saved = p
        .state
        .store()
        .scenarios(r.partner_id())
        .map_err(|e| p.error(ApiError::internal(e)))?;
    let store_state = p.state.clone();
    let token = p.access.token_id();
    let sel = p.sel;
    let csrf = p.csrf.clone();
    let (status, body) = blocking(move || {
        let current = r.score();
        let plan = r
            .plan(&Costs::default())
            .map_err(|e| e.message().to_string());
        let mut form = form;
        let mut run = run;
        if use_plan && let Ok(plan) = &plan {
            form = FormState::from_scenario(&plan.scenario);
            run = !plan.scenario.is_empty();
        }
        let mut view = View {
            form,
            comparison: None,
            error: None,
            saved_now: None,
            saved,
            recommendations: r
                .recommend(WITHIN_DAYS)
                .map_err(|e| e.message().to_string()),
            plan,
            current,
            csrf,
        };
        let mut status = StatusCode::OK;
        if run {
            match simulate(&r, &view.form) {
                Ok((json, c)) => {
                    view.comparison = Some(c);
                    if save {
                        let name = match view.form.get("save_name") {
                            "" => match view.form.get("title") {
                                "" => format!("Scenario {}", view.saved.len() + 1),
                                t => t.to_string(),
                            },
                            n => n.to_string(),
                        };
                        let s = store_state
                            .store()
                            .save_scenario(r.partner_id(), &name, &json, token)
                            .map_err(ApiError::internal)?;
                        view.saved.push(s.clone());
                        view.saved_now = Some(s);
                    }
                }
                Err(e) => {
                    status = StatusCode::BAD_REQUEST;
                    view.error = Some(e);
                }
            }
        }
        Ok((status, body(&view, r.rulebook(), sel)))
    })
    .await
    .map_err(|e| p.error(e))?;
    Ok(html_response(status, layout(&frame, body)).into_response())
}

/// `?area=` (areas separated by commas, or `all`) when it names more than
/// Business Applications alone: the simulator over those areas.
fn areas_of(p: &Page) -> Result<Option<Vec<&'static str>>, PageError> {
    match p.q("area") {
        None => Ok(None),
        Some(a) => {
            let v = crate::reports::parse_areas(Some(a)).map_err(|e| p.error(e))?;
            Ok((v != [app::BUSINESS_APPLICATIONS]).then_some(v))
        }
    }
}

/// The simulator over several areas: the form with acr and licences rows,
/// each area's current against simulated score (the contract's objects, as
/// `POST /api/v1/.../simulate?area=` answers), the recommendations across
/// the areas and the joint plan.
async fn respond_areas(
    p: &Page,
    r: Reports,
    areas: Vec<&'static str>,
    form: FormState,
    run: bool,
) -> Result<Response, PageError> {
    let mut frame = p.frame(
        format!("Simulator · {}", r.partner_id()),
        Tab::Simulator,
        Some(&r),
    );
    if let [one] = areas[..] {
        frame.area = Some(one);
    }
    let sel = p.sel;
    let csrf = p.csrf.clone();
    let (status, body) = blocking(move || {
        let mut status = StatusCode::OK;
        let mut error = None;
        let mut result = None;
        if run {
            let sim = form.scenario_json().and_then(|json| {
                let sc =
                    crate::reports::parse_scenario(&json).map_err(|e| e.message().to_string())?;
                r.simulate_areas(&areas, &sc)
                    .map_err(|e| e.message().to_string())
            });
            match sim {
                Ok(c) => {
                    let mut v = c.object();
                    pcs_core::contract::tidy_numbers(&mut v);
                    result = Some(v);
                }
                Err(e) => {
                    status = StatusCode::BAD_REQUEST;
                    error = Some(e);
                }
            }
        }
        let plan = r
            .joint_plan(&areas, &Costs::default())
            .map_err(|e| e.message().to_string());
        let recs = r
            .recommend_areas(&areas)
            .map_err(|e| e.message().to_string());
        let partner = r.partner_id();
        let action = simulate_href(partner, sel, Some(&areas));
        // The certifications of every area in force, after Business
        // Applications' own.
        let mut certs: Vec<(String, String)> = Vec::new();
        for rb in r.areas()?.in_force(r.period().evaluation_date) {
            for c in &rb.certifications {
                if !certs.iter().any(|x| x.0 == c.id) {
                    certs.push((c.id.clone(), format!("{} ({})", c.name, rb.solution_area)));
                }
            }
        }
        let body = html! {
            h1 { "Simulator · " (areas.join(", ")) }
            @if let Some(e) = &error { div.msg.err role="alert" #sim-error { (e) } }
            @if let Some(v) = &result { (areas_result(v)) }
            section.panel aria-labelledby="form-h" {
                h2 #form-h { "What if" }
                (form_of(&form, &csrf, &r.period(), (r.rulebook(), &certs), &action, Some(&areas)))
            }
            (recommendations_across(&recs))
            (joint_plan(&plan))
            p.hint { "The same simulation as JSON: POST the scenario to " code { "/api/v1/partners/" (enc(partner)) "/simulate?area=" (areas.join(",")) } "." }
        };
        Ok((status, body))
    })
    .await
    .map_err(|e| p.error(e))?;
    Ok(html_response(status, layout(&frame, body)).into_response())
}

/// Each area's current against simulated score, from the API's JSON.
fn areas_result(v: &Value) -> Markup {
    let empty = Vec::new();
    html! {
        section.panel #result aria-labelledby="result-h" {
            h2 #result-h { "Current against simulated" @if let Some(t) = v["title"].as_str() { ": " (t) } }
            @for a in v["areas"].as_array().unwrap_or(&empty) {
                @let (cur, sim) = (&a["current"], &a["simulated"]);
                @let area = a["solution_area"].as_str().unwrap_or("");
                div.tablewrap data-result-area=(area) {
                    table.compare {
                        caption { (area) }
                        thead { tr { th { "Metric" } th.num { "Current" } th.num { "Simulated" } th.num { "Change" } } }
                        tbody {
                            @if let Some(ms) = sim["metrics"].as_object() {
                                @for (id, m) in ms {
                                    @let before = dec_of(&cur["metrics"][id]["points"]);
                                    @let after = dec_of(&m["points"]);
                                    tr data-metric=(id) data-current=(num(before)) data-simulated=(num(after)) {
                                        td { (id) }
                                        td.num { (pts(before)) }
                                        td.num { b { (pts(after)) } }
                                        td.num.delta class=(delta_class(after - before)) { (signed(after - before)) }
                                    }
                                }
                            }
                            @let (before, after) = (dec_of(&cur["total_points"]), dec_of(&sim["total_points"]));
                            tr {
                                td { b { "Total" } }
                                td.num data-current-total=(num(before)) { b { (pts(before)) } }
                                td.num data-simulated-total=(num(after)) { b { (pts(after)) } }
                                td.num.delta class=(delta_class(after - before)) { (signed(after - before)) }
                            }
                        }
                    }
                }
                p { "Qualified: " (yes_no(cur["qualified"] == true)) " → " b data-simulated-qualified=(sim["qualified"] == true) { (yes_no(sim["qualified"] == true)) } "." }
            }
        }
    }
}

/// A JSON number (or its text) as a decimal; zero when absent.
fn dec_of(v: &Value) -> Decimal {
    match v {
        Value::Number(n) => n.to_string().parse().unwrap_or(Decimal::ZERO),
        Value::String(s) => s.parse().unwrap_or(Decimal::ZERO),
        _ => Decimal::ZERO,
    }
}

fn recommendations_across(recs: &Result<Vec<AreaRecommendation>, String>) -> Markup {
    html! {
        section.panel aria-labelledby="recs-h" {
            h2 #recs-h { "Recommendations across the areas" }
            @match recs {
                Err(e) => { div.msg.err { (e) } }
                Ok(list) if list.is_empty() => { (empty("No action changes a named area's points.")) }
                Ok(list) => {
                    ol #recommendations {
                        @for r in list {
                            li data-points=(num(r.total_points)) {
                                span.badge.good title="points across the areas" { (signed(r.total_points)) }
                                " " (r.description)
                                @let per: Vec<String> = r.points.iter().filter(|p| !p.1.is_zero()).map(|p| format!("{} {}", p.0, signed(p.1))).collect();
                                @if !per.is_empty() { " " span.mut { "(" (per.join(", ")) ")" } }
                                @if !r.qualifies.is_empty() { " — qualifies " (r.qualifies.join(", ")) }
                            }
                        }
                    }
                }
            }
        }
    }
}

fn joint_plan(p: &Result<JointPlan, String>) -> Markup {
    html! {
        section.panel aria-labelledby="plan-h" {
            h2 #plan-h { "The cheapest plan to qualify in every area at once" }
            @match p {
                Err(e) => { div.msg.err { (e) } }
                Ok(p) if p.already_qualified => { p.yes { "Already qualified in every area: nothing to do." } }
                Ok(p) => {
                    @for u in &p.unreachable {
                        div.msg.info data-unreachable=(u.solution_area) { "Cannot be reached: " (u.solution_area) " — " (u.reason) }
                    }
                    @if !p.actions.is_empty() {
                        div.tablewrap {
                            table #plan {
                                thead { tr { th.num { "Count" } th { "Action" } th.num { "Cost" } th { "Counts in" } } }
                                tbody {
                                    @for a in &p.actions {
                                        tr { td.num { (a.count) } td { (a.description) } td.num { (pcs_core::display::thousands(a.cost)) " " (p.currency) } td { (a.areas.join(", ")) } }
                                    }
                                    tr { td {} td { b { "Total cost (each action counted once)" } } td.num #plan-total data-cost=(num(p.total_cost)) { b { (pcs_core::display::thousands(p.total_cost)) " " (p.currency) } } td {} }
                                }
                            }
                        }
                    }
                    ul.plain {
                        @for (before, after) in p.current.iter().zip(&p.result) {
                            li data-plan-area=(after.solution_area) data-result=(num(after.total_points)) {
                                (after.title) ": " (pts(before.total_points)) " → " b { (pts(after.total_points)) }
                                @if after.qualified { ", qualified" } @else { ", not qualified" }
                            }
                        }
                    }
                    @if !p.search.exact {
                        p.hint data-exact="false" { "The exact search stopped at its " (if p.search.stopped_by == Some(pcs_insights::plan::joint::Stop::Time) { "time" } else { "scenario" }) " limit: this plan qualifies but is not proven the cheapest." }
                    }
                }
            }
        }
    }
}

/// The form's scenario, simulated; a message for people otherwise.
fn simulate(r: &Reports, form: &FormState) -> Result<(Value, Comparison), String> {
    let json = form.scenario_json()?;
    let sc = crate::reports::parse_scenario(&json).map_err(|e| e.message().to_string())?;
    let c = r.simulate(&sc).map_err(|e| e.message().to_string())?;
    Ok((json, c))
}

fn options(rb: &Rulebook, which: Options) -> Vec<(String, String)> {
    match which {
        Options::RevenueWorkloads => rb
            .revenue
            .workloads
            .iter()
            .map(|w| (w.name.clone(), w.name.clone()))
            .collect(),
        Options::UsageWorkloads => rb
            .usage
            .workloads
            .iter()
            .filter(|w| w.rate.is_some())
            .map(|w| {
                let label = match &w.unit {
                    Some(u) => format!("{} ({u})", w.name),
                    None => w.name.clone(),
                };
                (w.name.clone(), label)
            })
            .collect(),
        Options::Associations => rb
            .associations
            .iter()
            .map(|a| (a.name.clone(), a.name.clone()))
            .collect(),
        Options::Certifications => rb
            .certifications
            .iter()
            .map(|c| (c.id.clone(), format!("{} ({})", c.name, c.level)))
            .collect(),
    }
}

/// The options of a select; certifications add `extra_certs` (the other
/// areas') after the rulebook's own.
fn options_with(
    rb: &Rulebook,
    which: Options,
    extra_certs: &[(String, String)],
) -> Vec<(String, String)> {
    let mut opts = options(rb, which);
    if matches!(which, Options::Certifications) {
        for c in extra_certs {
            if !opts.iter().any(|o| o.0 == c.0) {
                opts.push(c.clone());
            }
        }
    }
    opts
}

fn field(
    rb: &Rulebook,
    extra_certs: &[(String, String)],
    name: &str,
    label: &str,
    input: Input,
    value: &str,
) -> Markup {
    html! {
        label.f for=(name) {
            (label)
            @match input {
                Input::Text => { input id=(name) name=(name) type="text" value=(value); }
                Input::Number => { input id=(name) name=(name) type="text" inputmode="decimal" value=(value) size="10"; }
                Input::Month => { input id=(name) name=(name) type="month" value=(value); }
                Input::Date => { input id=(name) name=(name) type="date" value=(value); }
                Input::Select(which) => {
                    @let opts = options_with(rb, which, extra_certs);
                    select id=(name) name=(name) {
                        option value="" { "—" }
                        @if !value.is_empty() && !opts.iter().any(|(v, _)| v == value) {
                            option value=(value) selected { (value) }
                        }
                        @for (v, l) in &opts {
                            option value=(v) selected[v == value] { (l) }
                        }
                    }
                }
            }
        }
    }
}

fn form(v: &View, rb: &Rulebook, partner: &str, sel: Sel) -> Markup {
    form_of(
        &v.form,
        &v.csrf,
        &v.current.period,
        (rb, &[]),
        &simulate_href(partner, sel, None),
        None,
    )
}

/// The simulator's link, with the areas asked for (`?area=a,b`).
fn simulate_href(partner: &str, sel: Sel, areas: Option<&[&str]>) -> String {
    let base = partner_href(partner, "simulate", sel);
    match areas {
        Some(a) => format!("{base}&area={}", enc(&a.join(","))),
        None => base,
    }
}

/// The form; `areas` (the simulator over several areas) adds the acr and
/// licences rows and leaves saving out.
fn form_of(
    f: &FormState,
    csrf: &str,
    period: &pcs_core::score::Period,
    (rb, extra_certs): (&Rulebook, &[(String, String)]),
    action: &str,
    areas: Option<&[&str]>,
) -> Markup {
    html! {
        form #simulator method="post" action=(action) {
            input type="hidden" name=(crate::csrf::FIELD) value=(csrf);
            label.f {
                "Title"
                input name="title" type="text" value=(f.get("title")) placeholder="e.g. win Adventure Works, certify Avery";
            }
            p.hint { "Rows you leave empty are ignored. Months default to the latest month (" (period.latest_month) "), earned-on dates to the evaluation date (" (period.evaluation_date) ")." }
            @for (prefix, legend, fields, only_areas) in KINDS {
                @if !only_areas || areas.is_some() {
                fieldset data-rows=(prefix) {
                    legend { (legend) }
                    div.rows {
                        @for n in 0..f.shown_rows(prefix) {
                            div.row data-row=(n) {
                                @for (suffix, label, input) in fields {
                                    @let name = format!("{prefix}_{suffix}_{n}");
                                    (field(rb, extra_certs, &name, label, *input, f.get(&name)))
                                }
                            }
                        }
                    }
                }
                }
            }
            fieldset {
                legend { "Remove real records" }
                div.row {
                    label.f { "Customer tenant ids (comma-separated)" input name="remove_customers" type="text" value=(f.get("remove_customers")) size="40"; }
                    label.f { "Person ids (comma-separated)" input name="remove_people" type="text" value=(f.get("remove_people")) size="30"; }
                }
            }
            div.row {
                button #simulate type="submit" name="action" value="simulate" { "Simulate" }
                @if areas.is_none() {
                    label.f { "Save as" input name="save_name" type="text" value=(f.get("save_name")) placeholder="scenario name"; }
                    button.secondary type="submit" name="action" value="save" { "Simulate and save" }
                }
            }
        }
    }
}

fn comparison(c: &Comparison) -> Markup {
    let (a, b) = (&c.current, &c.simulated);
    let diff = b.total_points - a.total_points;
    html! {
        section.panel #result aria-labelledby="result-h" {
            h2 #result-h { "Current against simulated" @if let Some(t) = &c.title { ": " (t) } }
            div.tablewrap {
                table.compare {
                    thead { tr { th { "Metric" } th.num { "Current" } th.num { "Simulated" } th.num { "Change" } } }
                    tbody {
                        @for (x, y) in a.metrics.iter().zip(&b.metrics) {
                            @let d = y.points - x.points;
                            tr data-metric=(x.id) data-current=(num(x.points)) data-simulated=(num(y.points)) {
                                td { (x.label) }
                                td.num { (pts(x.points)) " " span.mut { "(" (value_text(x)) ")" } }
                                td.num { b { (pts(y.points)) } " " span.mut { "(" (value_text(y)) ")" } }
                                td.num.delta class=(delta_class(d)) { (signed(d)) }
                            }
                        }
                        tr {
                            td { b { "Total" } }
                            td.num data-current-total=(num(a.total_points)) { b { (pts(a.total_points)) } }
                            td.num #simulated-total data-simulated-total=(num(b.total_points)) { b { (pts(b.total_points)) } }
                            td.num.delta class=(delta_class(diff)) { (signed(diff)) }
                        }
                    }
                }
            }
            p {
                "Classification: " (a.classification.as_str()) " → " b { (b.classification.as_str()) } ". "
                "Qualified: " (yes_no(a.qualified)) " → " b data-simulated-qualified=(b.qualified) { (yes_no(b.qualified)) } "."
            }
        }
    }
}

fn yes_no(b: bool) -> &'static str {
    if b { "yes" } else { "no" }
}

fn delta_class(d: Decimal) -> &'static str {
    if d > Decimal::ZERO {
        "pos"
    } else if d < Decimal::ZERO {
        "neg"
    } else {
        "mut"
    }
}

fn recommendations(recs: &Result<Vec<Recommendation>, String>) -> Markup {
    html! {
        section.panel aria-labelledby="recs-h" {
            h2 #recs-h { "Recommendations" }
            @match recs {
                Err(e) => { div.msg.err { (e) } }
                Ok(list) if list.is_empty() => { (empty("Nothing to recommend: every metric is at its maximum and nothing is at risk.")) }
                Ok(list) => {
                    ol #recommendations {
                        @for r in list {
                            @let gain = matches!(r.kind, pcs_insights::recommend::RecommendationKind::NextThreshold);
                            li data-kind=(serde_json::to_value(r.kind).ok().and_then(|v| v.as_str().map(String::from)).unwrap_or_default()) {
                                @if gain { span.badge.good title="points to gain" { (signed(r.points)) } }
                                @else { span.badge.warn title="points at risk" { (num(r.points)) " at risk" } }
                                " " (r.title)
                            }
                        }
                    }
                }
            }
        }
    }
}

fn plan(p: &Result<Plan, String>, partner: &str, sel: Sel) -> Markup {
    html! {
        section.panel aria-labelledby="plan-h" {
            h2 #plan-h { "The cheapest plan to qualify" }
            @match p {
                Err(e) => { div.msg.err { (e) } }
                Ok(p) if p.already_qualified => { p.yes { "Already qualified: nothing to do." } }
                Ok(p) => {
                    @if !p.reachable {
                        div.msg.info { "No plan within the search bounds reaches qualification; the best found:" }
                    }
                    div.tablewrap {
                        table #plan {
                            thead { tr { th.num { "Count" } th { "Action" } th.num { "Cost" } } }
                            tbody {
                                @for a in &p.actions {
                                    tr { td.num { (a.count) } td { (a.description) } td.num { (pcs_core::display::thousands(a.cost)) " " (p.currency) } }
                                }
                                tr { td {} td { b { "Total cost" } } td.num { b { (pcs_core::display::thousands(p.total_cost)) " " (p.currency) } } }
                            }
                        }
                    }
                    p {
                        "Resulting score (simulated): " (pts(p.current.total_points)) " → " b { (pts(p.result.total_points)) }
                        " (" (p.result.classification.as_str()) @if p.result.qualified { ", qualified" } @else { ", not qualified" } ")."
                    }
                    @for n in &p.notes { p.hint { (n) } }
                    p.hint { "Searched " (p.combinations) " combinations exactly (" (p.scenarios_scored) " scenarios scored by the engine)." }
                    @if !p.scenario.is_empty() {
                        p { a.button.secondary href=(format!("{}&use=plan", partner_href(partner, "simulate", sel))) { "Load this plan into the simulator" } }
                    }
                }
            }
        }
    }
}

fn saved_list(v: &View, partner: &str, sel: Sel) -> Markup {
    html! {
        section.panel aria-labelledby="saved-h" {
            h2 #saved-h { "Saved scenarios" }
            @if let Some(s) = &v.saved_now {
                div.msg.ok role="status" { "Saved as “" (s.name) "” (scenario " (s.id) ")." }
            }
            @if v.saved.is_empty() {
                (empty("None yet: simulate, then “Simulate and save”."))
            } @else {
                ul.plain #saved {
                    @for s in &v.saved {
                        li {
                            a href=(format!("{}&scenario={}", partner_href(partner, "simulate", sel), s.id)) { (s.name) }
                            " " span.mut { "saved " (s.created_at) }
                        }
                    }
                }
            }
        }
    }
}

/// The page body.
fn body(v: &View, rb: &Rulebook, sel: Sel) -> Markup {
    let partner = v.current.partner_id.as_str();
    html! {
        (partner_head(&v.current, "Simulator"))
        @if let Some(e) = &v.error {
            div.msg.err role="alert" #sim-error { (e) }
        }
        @match &v.comparison {
            Some(c) => { (comparison(c)) }
            None => {
                section.mb aria-labelledby="now-h" {
                    h2.mt0 #now-h { "The score as the data stands" }
                    (scorecard(&v.current, sel))
                }
            }
        }
        section.panel aria-labelledby="form-h" {
            h2 #form-h { "What if" }
            (form(v, rb, partner, sel))
        }
        div.grid2 {
            (recommendations(&v.recommendations))
            (saved_list(v, partner, sel))
        }
        (plan(&v.plan, partner, sel))
        p.hint { "The same simulation as JSON: POST the scenario to " code { "/api/v1/partners/" (enc(partner)) "/simulate" } "." }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn form(pairs: &[(&str, &str)]) -> FormState {
        let mut f = FormState::default();
        for (k, v) in pairs {
            f.set(k.to_string(), *v);
        }
        f
    }

    #[test]
    fn filled_rows_become_the_scenario_and_empty_rows_are_ignored() {
        let f = form(&[
            ("title", "win <AW>"),
            ("rev_name_0", "Adventure Works"),
            ("rev_workload_0", "Sales"),
            ("rev_amount_0", "1800"),
            ("rev_assoc_0", "CSP Tier 1"),
            ("rev_name_1", ""),
            ("cert_name_3", "Avery"),
            ("cert_cert_3", "data-analyst-associate"),
            ("remove_customers", "a, b;c"),
        ]);
        let j = f.scenario_json().unwrap();
        assert_eq!(
            j,
            json!({
                "title": "win <AW>",
                "revenue": [{"customer_name": "Adventure Works", "workload": "Sales", "revenue_usd": "1800", "association": "CSP Tier 1"}],
                "certification": [{"person_name": "Avery", "certification": "data-analyst-associate"}],
                "remove": {"customers": ["a", "b", "c"], "people": []}
            })
        );
        let sc = Scenario::from_json(&j.to_string()).unwrap();
        assert_eq!(sc.revenue[0].revenue_usd, Decimal::from(1800));
        // And back: the form shows the scenario it made.
        let back = FormState::from_scenario(&sc);
        assert_eq!(back.scenario_json().unwrap(), j);
    }

    #[test]
    fn acr_and_licence_rows_become_the_scenario_and_back() {
        let f = form(&[
            ("acr_name_0", "Fabrikam"),
            ("acr_service_0", "Azure Cosmos DB"),
            ("acr_amount_0", "2500"),
            ("acr_assoc_0", "CSP T1"),
            ("lic_workload_1", "Intune"),
            ("lic_seats_1", "400"),
            ("lic_users_1", "380"),
            ("lic_assoc_1", "CPOR"),
            ("lic_month_1", "2023-10"),
        ]);
        let j = f.scenario_json().unwrap();
        assert_eq!(
            j,
            json!({
                "acr": [{"customer_name": "Fabrikam", "service": "Azure Cosmos DB", "acr_usd": "2500", "association": "CSP T1"}],
                "licenses": [{"workload": "Intune", "paid_seats": 400, "active_users": 380, "association": "CPOR", "month": "2023-10"}]
            })
        );
        let sc = Scenario::from_json(&j.to_string()).unwrap();
        assert_eq!(sc.acr[0].acr_usd, Decimal::from(2500));
        assert_eq!(sc.licenses[0].paid_seats, 400);
        let back = FormState::from_scenario(&sc);
        // Rows are renumbered from 0; the scenario is the same.
        assert_eq!(back.scenario_json().unwrap(), j);
        // A count that is not a whole number is named, as typed.
        let bad = form(&[
            ("lic_workload_0", "Intune"),
            ("lic_seats_0", "12.5"),
            ("lic_users_0", "1"),
            ("lic_assoc_0", "CPOR"),
        ]);
        assert_eq!(
            bad.scenario_json().unwrap_err(),
            "Licences row 1: paid seats: '12.5' is not a whole number"
        );
        let missing = form(&[("acr_service_0", "Functions"), ("acr_amount_0", "5")]);
        assert_eq!(
            missing.scenario_json().unwrap_err(),
            "ACR row 1: the association is required"
        );
    }

    #[test]
    fn a_row_missing_a_required_value_is_named() {
        let f = form(&[("use_name_0", "Litware"), ("use_workload_0", "Power BI")]);
        assert_eq!(
            f.scenario_json().unwrap_err(),
            "Usage row 1: the quantity is required"
        );
        let f = form(&[
            ("rev_amount_0", "abc"),
            ("rev_workload_0", "Sales"),
            ("rev_assoc_0", "PAL"),
        ]);
        let err = Scenario::from_json(&f.scenario_json().unwrap().to_string()).unwrap_err();
        assert!(
            err.to_string().contains("'abc' is not a decimal number"),
            "{err}"
        );
    }

    #[test]
    fn rows_shown_grow_with_the_filled_ones() {
        assert_eq!(FormState::default().shown_rows("rev"), MIN_ROWS);
        let f = form(&[("rev_name_4", "x")]);
        assert_eq!(f.rows("rev"), vec![4]);
        assert_eq!(f.shown_rows("rev"), 6);
    }
}
