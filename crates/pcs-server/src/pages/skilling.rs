//! Skilling: people, their certifications, and what stops counting soon.

use axum::extract::Path;
use axum::response::Response;
use maud::{Markup, html};
use pcs_core::score::PartnerScore;
use pcs_insights::skilling::SkillingReport;

use super::area_pages;
use super::layout::{Tab, empty};
use super::overview::partner_head;
use super::view::{Sel, bar, enc, num, pts};
use super::{Page, PageError};
use crate::reports::{MAX_WITHIN_DAYS, WITHIN_DAYS, blocking, parse_areas};
use pcs_insights::app::{self, ToCsv};

/// `GET /partners/{id}/skilling?within=90`.
pub(crate) async fn page(p: Page, Path(id): Path<String>) -> Result<Response, PageError> {
    let within = p.number("within", WITHIN_DAYS, MAX_WITHIN_DAYS)?;
    let areas = parse_areas(p.q("area")).map_err(|e| p.error(e))?;
    let r = p.reports(&id).await?;
    let frame = p.frame(format!("Skilling · {id}"), Tab::Skilling, Some(&r));
    let sel = p.sel;
    if areas != [app::BUSINESS_APPLICATIONS] {
        let body = blocking(move || {
            Ok(area_pages::skilling(
                &r.skilling_across(&areas, within)?,
                sel,
            ))
        })
        .await
        .map_err(|e| p.error(e))?;
        return Ok(p.render(&frame, body));
    }
    let body = blocking(move || {
        let report = r.skilling(within)?;
        let score = r.score();
        Ok(body(&score, &report, within, sel))
    })
    .await
    .map_err(|e| p.error(e))?;
    Ok(p.render(&frame, body))
}

/// `GET /partners/{id}/skilling.csv?area=&within=`: the skilling report as
/// CSV (`pcs skilling --format csv`, with `--area` across areas).
pub(crate) async fn download(p: Page, Path(id): Path<String>) -> Result<Response, PageError> {
    let within = p.number("within", WITHIN_DAYS, MAX_WITHIN_DAYS)?;
    let areas = parse_areas(p.q("area")).map_err(|e| p.error(e))?;
    let r = p.reports(&id).await?;
    let name = format!(
        "skilling-{}-{}.csv",
        super::customers::file_safe(&id),
        r.period().evaluation_date
    );
    blocking(move || {
        let table = if areas == [app::BUSINESS_APPLICATIONS] {
            r.skilling(within)?.to_csv()
        } else {
            r.skilling_across(&areas, within)?.to_csv()
        };
        area_pages::csv_download(&name, &table)
    })
    .await
    .map_err(|e| p.error(e))
}

/// The page body.
pub(crate) fn body(s: &PartnerScore, r: &SkillingReport, within: u32, sel: Sel) -> Markup {
    let label = |id: &str| {
        s.metric(id)
            .map(|m| m.label.clone())
            .unwrap_or_else(|| id.to_string())
    };
    let name_of = |id: &str| {
        r.people
            .iter()
            .find(|p| p.person_id == id)
            .and_then(|p| p.person_name.clone())
            .unwrap_or_else(|| id.to_string())
    };
    let horizon = r
        .evaluation_date
        .checked_add(pcs_core::jiff::Span::new().days(i64::from(within)))
        .map(|d| d.to_string())
        .unwrap_or_default();
    html! {
        (partner_head(s, "Skilling"))
        div.cards.mb {
            @for (id, people, points, max) in &r.metrics {
                div.card data-metric=(id) data-people=(num(*people)) data-points=(num(*points)) {
                    span.name { (label(id)) }
                    span.value { (num(*people)) @if *people == pcs_core::Decimal::ONE { " person" } @else { " people" } }
                    span.pts { b { (pts(*points)) } " of " (num(*max)) " points" }
                    (bar(*points, *max, &label(id)))
                }
            }
        }
        section.panel aria-labelledby="soon-h" {
            h2 #soon-h { "Stops counting within " (within) " days (by " (horizon) ")" }
            form.inline method="get" action=(format!("/partners/{}/skilling", enc(&s.partner_id))) {
                label.f { "Days ahead" input type="number" name="within" min="0" max=(MAX_WITHIN_DAYS) value=(within); }
                @match sel {
                    Sel::Month(m) => { input type="hidden" name="month" value=(m.to_string()); }
                    Sel::Date(d) => { input type="hidden" name="date" value=(d.to_string()); }
                }
                button type="submit" { "Show" }
            }
            @if r.risks.is_empty() {
                p.yes data-risks="0" { "Nothing stops counting before " (horizon) "." }
            } @else {
                ul.plain data-risks=(r.risks.len()) {
                    @for risk in &r.risks {
                        li {
                            "From " b { (risk.date) } ": "
                            @for (k, (metric, person)) in risk.people.iter().enumerate() {
                                @if k > 0 { ", " }
                                (name_of(person)) " (" (label(metric)) ")"
                            }
                            " stop counting: "
                            @if risk.points_lost.is_zero() { span.mut { "no points lost (the metric stays at its maximum)" } }
                            @else { span.neg { "−" (num(risk.points_lost)) @if risk.points_lost == pcs_core::Decimal::ONE { " point" } @else { " points" } } }
                        }
                    }
                }
            }
        }
        section.panel aria-labelledby="people-h" {
            h2 #people-h { (r.people.len()) @if r.people.len() == 1 { " person" } @else { " people" } " on " (r.evaluation_date) }
            @if r.people.is_empty() {
                (empty("No certification is recorded for this partner."))
            } @else {
                div.tablewrap {
                    table {
                        thead { tr { th { "Person" } th { "Certification" } th { "Earned" } th { "Expires" } th { "Counts" } th { "Stops counting" } } }
                        tbody {
                            @for person in &r.people {
                                tr.grp data-person=(person.person_id) {
                                    td colspan="6" {
                                        (person.person_name.as_deref().unwrap_or(&person.person_id))
                                        " " span.mut { "(" (person.person_id) ")" }
                                        " — "
                                        @if person.counts_for.is_empty() { span.mut { "counts for nothing" } }
                                        @else { span.yes { "counts for " (person.counts_for.iter().map(|m| label(m)).collect::<Vec<_>>().join(", ")) } }
                                    }
                                }
                                @for c in &person.certifications {
                                    tr {
                                        td {}
                                        td { (c.name.as_deref().unwrap_or(&c.certification)) @if let Some(m) = &c.metric { br; span.mut { (label(m)) } } }
                                        td.date { (c.earned_on) }
                                        td.date { (c.expires_on.map(|d| d.to_string()).unwrap_or_else(|| "–".into())) }
                                        td {
                                            @if c.counted { span.yes { "yes" } } @else { span.no { "no" } }
                                            @if let Some(reason) = &c.reason { br; span.mut { (reason.describe()) } }
                                        }
                                        td.date { (c.stops_counting_on.map(|d| d.to_string()).unwrap_or_else(|| "–".into())) }
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
