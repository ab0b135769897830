//! The customers, skilling, history and metrics pages of an area other than
//! Business Applications (`?area=`): the application layer's area reports
//! ([`pcs_insights::areas`]), the same data as `/api/v1/...?area=` and the
//! CLI's `--area`.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use maud::{Markup, html};
use pcs_insights::app::CsvTable;
use pcs_insights::areas::{
    self, AreaCustomers, AreaExplanation, HistoryAcross, Level, SkillingAcross,
};
use pcs_insights::customers::Effect;

use super::layout::empty;
use super::view::{Sel, enc, num, partner_href, pts, qualified_badge};
use crate::error::ApiError;

/// `?level=` of the customers page and download (tenant by default).
pub(crate) fn level(q: Option<&str>) -> Result<Level, ApiError> {
    match q {
        None | Some("tenant") => Ok(Level::Tenant),
        Some("customer") => Ok(Level::Customer),
        Some("subscription") => Ok(Level::Subscription),
        Some(other) => Err(ApiError::bad_request(format!(
            "level: '{other}' is not customer, tenant or subscription"
        ))),
    }
}

fn level_word(l: Level) -> &'static str {
    match l {
        Level::Customer => "customer",
        Level::Tenant => "tenant",
        Level::Subscription => "subscription",
    }
}

/// A CSV table of the application layer as a download.
pub(crate) fn csv_download(name: &str, t: &CsvTable) -> Result<Response, ApiError> {
    let mut w = csv::Writer::from_writer(Vec::new());
    w.write_record(&t.header).map_err(ApiError::internal)?;
    for r in &t.rows {
        w.write_record(r).map_err(ApiError::internal)?;
    }
    let bytes = w
        .into_inner()
        .map_err(|e| ApiError::internal(e.into_error()))?;
    let mut resp = (StatusCode::OK, bytes).into_response();
    let h = resp.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/csv; charset=utf-8"),
    );
    if let Ok(v) = HeaderValue::from_str(&format!("attachment; filename=\"{name}\"")) {
        h.insert(header::CONTENT_DISPOSITION, v);
    }
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Ok(resp)
}

fn head(partner: &str, title: &str, what: &str, sub: Markup) -> Markup {
    html! {
        div.pagehead {
            div {
                h1 { (what) " · " (title) ": " (partner) }
                p.sub { (sub) }
            }
        }
    }
}

fn hidden_sel(sel: Sel) -> Markup {
    html! {
        @match sel {
            Sel::Month(m) => { input type="hidden" name="month" value=(m.to_string()); }
            Sel::Date(d) => { input type="hidden" name="date" value=(d.to_string()); }
        }
    }
}

/// The customers page of an area.
pub(crate) fn customers(r: &AreaCustomers, title: &str, q: Option<&str>, sel: Sel) -> Markup {
    let base = partner_href(&r.partner_id, "customers", sel);
    let area_q = format!("&area={}", enc(&r.solution_area));
    let search_q = q.map(|q| format!("&q={}", enc(q))).unwrap_or_default();
    let csv_href = format!(
        "{}{area_q}&level={}{search_q}",
        partner_href(&r.partner_id, "customers.csv", sel),
        level_word(r.level)
    );
    html! {
        (head(&r.partner_id, title, "Customers", html! {
            "Month " b { (r.month) } " · latest month " b { (r.latest_month) } " · baseline " b { (r.baseline_month) }
        }))
        form.inline method="get" action=(format!("/partners/{}/customers", enc(&r.partner_id))) role="search" {
            label.f {
                "Search customers by id or name"
                input type="search" name="q" value=(q.unwrap_or(""));
            }
            input type="hidden" name="area" value=(r.solution_area);
            input type="hidden" name="level" value=(level_word(r.level));
            (hidden_sel(sel))
            button type="submit" { "Search" }
            a.button.secondary href=(csv_href) download { "Download CSV" }
        }
        nav.pager aria-label="Level" {
            @for (i, l) in [Level::Customer, Level::Tenant, Level::Subscription].into_iter().enumerate() {
                @if i > 0 { " · " }
                a href=(format!("{base}{area_q}&level={}{search_q}", level_word(l)))
                    aria-current=[(l == r.level).then_some("page")] { "By " (level_word(l)) }
            }
        }
        @if r.lines.is_empty() {
            (empty("No customer line in this area."))
        } @else {
            div.tablewrap {
                table #area-customers data-area=(r.solution_area) data-lines=(r.lines.len()) {
                    thead { tr {
                        th { "Customer" } th { "Track" } th { "Metric" } th { "Period" }
                        th { "Service / workload" } th.num { "Amount" } th.num { "Seats (active / paid)" }
                        th { "Counted" } th { "Effect" } th { "Why" }
                    } }
                    tbody {
                        @for l in &r.lines {
                            tr data-tenant=(l.tenant_id) data-metric=(l.metric) {
                                td {
                                    (l.customer_name.as_deref().unwrap_or(&l.tenant_id))
                                    @if let Some(sub) = &l.subscription_id { br; span.mut { "subscription " (sub) } }
                                }
                                td { (l.track.as_deref().unwrap_or("")) }
                                td { (l.metric) @if let Some(p) = &l.part { " / " (p) } }
                                td { (l.period.as_deref().unwrap_or("left out")) }
                                td { (l.service.as_deref().or(l.workload.as_deref()).unwrap_or("")) }
                                td.num { (l.amount.map(num).unwrap_or_default()) }
                                td.num { @if let (Some(a), Some(p)) = (l.active_users, l.paid_seats) { (a) " / " (p) } }
                                td { @if l.counted { span.yes { "yes" } } @else { span.no { "no" } } }
                                td { @match l.effect {
                                    Effect::Positive => span.pos { "+ raises" },
                                    Effect::Negative => span.neg { "− lowers" },
                                    Effect::None => span.mut { "none" },
                                } }
                                td { (l.sentence) }
                            }
                        }
                    }
                }
            }
        }
    }
}

/// The skilling page across areas.
pub(crate) fn skilling(r: &SkillingAcross, sel: Sel) -> Markup {
    let area_q = r.areas.join(",");
    let csv_href = format!(
        "{}&area={}",
        partner_href(&r.partner_id, "skilling.csv", sel),
        enc(&area_q)
    );
    html! {
        (head(&r.partner_id, &r.areas.join(", "), "Skilling", html! {
            "Evaluated on " b { (r.evaluation_date) }
        }))
        p { a.button.secondary href=(csv_href) download { "Download CSV" } }
        section.panel aria-labelledby="m-h" {
            h2 #m-h { "Skilling metrics" }
            div.tablewrap {
                table #skill-metrics {
                    thead { tr { th { "Area" } th { "Track" } th { "Metric" } th.num { "People" } th.num { "Points" } th { "Prerequisites" } } }
                    tbody {
                        @for m in &r.metrics {
                            tr data-area=(m.solution_area) data-metric=(m.metric) data-people=(num(m.people)) data-points=(num(m.points)) {
                                td { (m.solution_area) }
                                td { (m.track.as_deref().unwrap_or("")) }
                                td { (m.label) @if let Some(p) = &m.part { " (" (p) ")" } }
                                td.num { (num(m.people)) }
                                td.num { (pts(m.points)) " / " (num(m.max_points)) }
                                td { @if m.prerequisites_met { span.yes { "met" } } @else { span.no { "not met" } } }
                            }
                        }
                    }
                }
            }
        }
        section.panel aria-labelledby="soon-h" {
            h2 #soon-h { "Stops counting ahead" }
            @if r.risks.is_empty() {
                p.yes data-risks="0" { "Nothing stops counting within the horizon." }
            } @else {
                ul.plain data-risks=(r.risks.len()) {
                    @for risk in &r.risks {
                        li data-area=(risk.solution_area) {
                            (risk.solution_area) ": from " b { (risk.date) } " "
                            (risk.people.iter().map(|(m, p)| format!("{p} ({m})")).collect::<Vec<_>>().join(", "))
                            " stop counting: "
                            @if risk.points_lost.is_zero() { span.mut { "no points lost" } }
                            @else { span.neg { "−" (num(risk.points_lost)) " points" } }
                        }
                    }
                }
            }
        }
        section.panel aria-labelledby="p-h" {
            h2 #p-h { (r.people.len()) " people: where each certification counts" }
            @if r.people.is_empty() {
                (empty("No certification is recorded for this partner."))
            } @else {
                div.tablewrap {
                    table #skill-people {
                        thead { tr { th { "Person" } th { "Certification" } th { "Earned" } th { "Counts in" } th { "Does not count in" } } }
                        tbody {
                            @for p in &r.people {
                                tr.grp data-person=(p.person_id) {
                                    td colspan="5" {
                                        (p.person_name.as_deref().unwrap_or(&p.person_id)) " " span.mut { "(" (p.person_id) ")" }
                                        " — "
                                        @if p.areas.is_empty() { span.mut { "counts in no area" } }
                                        @else { span.yes { "counts in " (p.areas.join(", ")) } }
                                    }
                                }
                                @for c in &p.certifications {
                                    tr data-certification=(c.certification) data-counts=(c.counts_in.len()) {
                                        td {}
                                        td { (c.certification) }
                                        td.date { (c.earned_on) }
                                        td { @for x in &c.counts_in { span.yes { (x.describe()) } br; } }
                                        td { @for n in &c.not_counted { span.mut { (n.place.describe()) ": " (n.reason) } br; } }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
    }
}

/// The history page of one or more areas.
pub(crate) fn history(h: &HistoryAcross, hidden: Sel) -> Markup {
    html! {
        (head(&h.partner_id, &h.areas.iter().map(|a| a.title.clone()).collect::<Vec<_>>().join(", "), "History", html! {
            "To " b { (h.month) } " · anniversary date "
            b { (h.anniversary_date.map(|d| d.to_string()).unwrap_or_else(|| "none (not enrolled)".into())) }
        }))
        form.inline method="get" action=(format!("/partners/{}/history", enc(&h.partner_id))) {
            input type="hidden" name="area" value=(h.areas.iter().map(|a| a.solution_area.clone()).collect::<Vec<_>>().join(","));
            (hidden_sel(hidden))
            label.f { "Months" input type="number" name="months" min="1" max="60" value=(h.areas.first().map_or(0, |a| a.months.len())); }
            button type="submit" { "Show" }
        }
        @for a in &h.areas {
            section.panel data-area=(a.solution_area) {
                h2 { (a.title) }
                p data-status=(serde_json::to_value(&a.status).ok().and_then(|v| v["status"].as_str().map(str::to_string)).unwrap_or_default()) {
                    (a.status.describe())
                }
                div.tablewrap {
                    table {
                        thead { tr { th { "Month" } th { "Track / class" } th.num { "Total" } th { "Qualified" } th { "Tracks" } } }
                        tbody {
                            @for m in &a.months {
                                tr data-month=(m.month.to_string()) data-total=(num(m.total_points)) {
                                    td { (m.month) }
                                    td { (m.classification.as_deref().unwrap_or("–")) }
                                    td.num { (pts(m.total_points)) }
                                    td { (qualified_badge(m.qualified)) }
                                    td { (m.tracks.iter().map(|(t, p, q)| format!("{t} {}{}", pts(*p), if *q { " ✓" } else { "" })).collect::<Vec<_>>().join(", ")) }
                                }
                            }
                        }
                    }
                }
            }
        }
    }
}

/// The metrics page of an area: each metric (both tracks in Modern Work)
/// with every item, counted or not, and why.
pub(crate) fn metrics(e: &AreaExplanation) -> Markup {
    html! {
        (head(&e.partner_id, &e.title, "Metrics", html! {
            "Month " b { (e.period.month) } " · latest month " b { (e.period.latest_month) }
            " · baseline " b { (e.period.baseline_month) } " · skilling on " b { (e.period.evaluation_date) }
            " · rulebook " (e.rulebook) " · total " b { (pts(e.total_points)) }
        }))
        @for t in &e.tracks {
            @if let Some(track) = &t.track {
                h2 data-track=(track) {
                    (track) " track: " (pts(t.total_points)) " points"
                    @if t.reported { " (reported)" }
                    " " (qualified_badge(t.qualified))
                }
            }
            @for m in &t.metrics {
                (metric(&m.metric, &m.summary, &e.period))
            }
        }
    }
}

fn metric(
    m: &pcs_core::area::AreaMetric,
    summary: &str,
    period: &pcs_core::score::Period,
) -> Markup {
    html! {
        section.panel data-metric=(m.id) data-points=(num(m.points)) {
            h3 { (m.label) " — " (pts(m.points)) " of " (num(m.max_points)) " points" }
            p { (summary) }
            @let items = areas::items(&m.detail);
            @if !items.is_empty() {
                ul.plain {
                    @for i in items {
                        li { @if i.counted { span.yes { "✓ " } } @else { span.no { "✗ " } } (areas::describe_item(i)) }
                    }
                }
            }
            @for sub in m.options.iter().chain(&m.parts) {
                (metric(sub, &areas::summary(sub, period), period))
            }
        }
    }
}
