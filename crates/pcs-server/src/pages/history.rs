//! History: the last months as a chart with the qualification window
//! marked, a table of the same numbers, and the status.

use axum::extract::Path;
use axum::response::Response;
use maud::{Markup, html};
use pcs_core::calendar::Month;
use pcs_core::rulebook::Rulebook;
use pcs_insights::history::{History, Status};

use super::chart::{Bar, Chart};
use super::layout::Tab;
use super::view::{Sel, enc, num, partner_title, pts};
use super::{Page, PageError};
use crate::reports::{blocking, parse_areas};

/// Months shown by default (the issue's "last 6 months").
pub(crate) const MONTHS: u32 = 6;

/// `GET /partners/{id}/history?months=6`.
pub(crate) async fn page(p: Page, Path(id): Path<String>) -> Result<Response, PageError> {
    let months = p.number("months", MONTHS, 60)?;
    let areas = parse_areas(p.q("area")).map_err(|e| p.error(e))?;
    let r = p.reports_sums(&id)?;
    let frame = p.frame(format!("History · {id}"), Tab::History, Some(&r));
    let sel = p.sel;
    if areas != [pcs_insights::app::BUSINESS_APPLICATIONS] {
        let body = blocking(move || {
            Ok(super::area_pages::history(
                &r.history_across(&areas, months.max(1))?,
                sel,
            ))
        })
        .await
        .map_err(|e| p.error(e))?;
        return Ok(p.render(&frame, body));
    }
    let body = blocking(move || {
        let h = r.history(months)?;
        let name = r.facts().name.clone();
        Ok(body(&h, r.rulebook(), name.as_deref(), months, sel))
    })
    .await
    .map_err(|e| p.error(e))?;
    Ok(p.render(&frame, body))
}

fn months_text(m: &[Month]) -> String {
    if m.is_empty() {
        "none".to_string()
    } else {
        m.iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join(", ")
    }
}

/// The window that decides the status, and the status in words.
pub(crate) fn status(s: &Status) -> (Option<(Month, Month, String)>, &'static str, String) {
    match s {
        Status::Qualified {
            window_from,
            window_to,
            qualified_in,
        } => (
            Some((*window_from, *window_to, "qualification window".into())),
            "good",
            format!(
                "Qualified: a qualifying month within {window_from} – {window_to} ({}).",
                months_text(qualified_in)
            ),
        ),
        Status::InProgress {
            window_from,
            window_to,
        } => (
            Some((*window_from, *window_to, "qualification window".into())),
            "warn",
            format!("In progress: no qualifying month within {window_from} – {window_to} yet."),
        ),
        Status::Enrolled {
            anniversary_date,
            renewal_from,
            renewal_to,
        } => (
            Some((*renewal_from, *renewal_to, "renewal window".into())),
            "good",
            format!(
                "Enrolled until {anniversary_date}; the renewal is judged on {renewal_from} – {renewal_to}."
            ),
        ),
        Status::RenewalDue {
            anniversary_date,
            renewal_from,
            renewal_to,
            qualified_in,
        } => (
            Some((*renewal_from, *renewal_to, "renewal window".into())),
            if qualified_in.is_empty() {
                "warn"
            } else {
                "good"
            },
            format!(
                "Renewal due by {anniversary_date} (window {renewal_from} – {renewal_to}): {}.",
                if qualified_in.is_empty() {
                    "no qualifying month yet".to_string()
                } else {
                    format!("on track, qualified in {}", months_text(qualified_in))
                }
            ),
        ),
        Status::RenewalJudged {
            anniversary_date,
            renewal_from,
            renewal_to,
            renewed,
            qualified_in,
        } => (
            Some((*renewal_from, *renewal_to, "renewal window".into())),
            if *renewed { "good" } else { "bad" },
            format!(
                "{} on {anniversary_date} (window {renewal_from} – {renewal_to}; qualifying months: {}).",
                if *renewed { "Renewed" } else { "Not renewed" },
                months_text(qualified_in)
            ),
        ),
    }
}

/// The chart of a history.
pub(crate) fn chart(h: &History, rb: &Rulebook) -> Chart {
    let (window, _, _) = status(&h.status);
    Chart {
        bars: h
            .months
            .iter()
            .map(|m| Bar {
                month: m.month,
                total: m.total_points,
                qualified: m.qualified,
            })
            .collect(),
        max: rb.metrics.iter().map(|m| m.max_points).sum(),
        min_total: rb.qualification.min_total_points,
        window,
    }
}

/// The page body.
pub(crate) fn body(
    h: &History,
    rb: &Rulebook,
    name: Option<&str>,
    months: u32,
    sel: Sel,
) -> Markup {
    let (window, tone, text) = status(&h.status);
    let ch = chart(h, rb);
    let labels: Vec<(String, String)> = rb
        .metrics
        .iter()
        .map(|m| (m.id.clone(), m.label.clone()))
        .collect();
    html! {
        div.pagehead {
            div {
                h1 { "History: " (partner_title(&h.partner_id, name)) }
                p.sub { "The last " (h.months.len()) " months to " b { (h.month) } ", each scored on its last day." }
            }
            div { span class=(format!("badge {tone}")) data-status=(status_code(&h.status)) { (status_code(&h.status).replace('_', " ")) } }
        }
        div class=(format!("msg {}", if tone == "good" { "ok" } else if tone == "bad" { "err" } else { "info" })) { (text) }
        section.panel aria-labelledby="chart-h" {
            h2 #chart-h { "Total points" }
            form.inline method="get" action=(format!("/partners/{}/history", enc(&h.partner_id))) {
                label.f { "Months" input type="number" name="months" min="1" max="60" value=(months); }
                @match sel {
                    Sel::Month(m) => { input type="hidden" name="month" value=(m.to_string()); }
                    Sel::Date(d) => { input type="hidden" name="date" value=(d.to_string()); }
                }
                button type="submit" { "Show" }
            }
            figure.chart {
                (ch.render("history-chart"))
                figcaption {
                    div.legend {
                        span { i.key-q {} "qualified month" }
                        span { i.key-n {} "not qualified" }
                        span { i.key-w {} (window.as_ref().map(|w| w.2.as_str()).unwrap_or("window")) }
                        span { i.key-t {} (num(rb.qualification.min_total_points)) " to qualify" }
                    }
                    "The table below gives the same numbers."
                }
            }
        }
        section.panel aria-labelledby="table-h" {
            h2 #table-h { "Month by month" }
            div.tablewrap {
                table #history-table {
                    caption.hint { "Months inside the " (window.as_ref().map(|w| w.2.as_str()).unwrap_or("window")) " are marked in blue." }
                    thead { tr {
                        th { "Month" } th { "Class" }
                        @for (_, l) in &labels { th.num { (l) } }
                        th.num { "Total" } th { "Qualified" } th.num { "Latest MCV" }
                    } }
                    tbody {
                        @for m in &h.months {
                            @let in_window = window.as_ref().is_some_and(|(f, t, _)| m.month >= *f && m.month <= *t);
                            tr.inwin[in_window] data-month=(m.month.to_string()) data-total=(num(m.total_points)) {
                                td.date { (m.month) @if in_window { span.sr { " (inside the window)" } } }
                                td { (m.classification) }
                                @for (id, _) in &labels {
                                    td.num { (m.points.iter().find(|(k, _)| k == id).map(|(_, p)| pts(*p)).unwrap_or_default()) }
                                }
                                td.num { b { (pts(m.total_points)) } }
                                td { @if m.qualified { span.yes { "yes" } } @else { span.no { "no" } } }
                                td.num { (m.latest_mcv.map(pcs_core::display::thousands).unwrap_or_default()) }
                            }
                        }
                    }
                }
            }
        }
    }
}

fn status_code(s: &Status) -> &'static str {
    match s {
        Status::Qualified { .. } => "qualified",
        Status::InProgress { .. } => "in_progress",
        Status::Enrolled { .. } => "enrolled",
        Status::RenewalDue { .. } => "renewal_due",
        Status::RenewalJudged { renewed: true, .. } => "renewed",
        Status::RenewalJudged { renewed: false, .. } => "not_renewed",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use pcs_core::Decimal;
    use pcs_core::facts::PartnerFacts;
    use pcs_core::rulebook::RulebookSet;

    #[test]
    fn an_empty_history_is_in_progress_with_its_window_marked() {
        let set = RulebookSet::builtin();
        let rb = &set.versions()[0];
        let h = pcs_insights::history::history(
            rb,
            "P1",
            &PartnerFacts::default(),
            "2023-11".parse().unwrap(),
            6,
        );
        let html = body(&h, rb, None, 6, Sel::Month("2023-11".parse().unwrap())).into_string();
        assert!(html.contains(r#"data-status="in_progress""#), "{html}");
        // Six rows in the table, six bars in the chart.
        assert_eq!(html.matches(" data-month=\"").count(), 12, "{html}");
        assert!(html.contains("<svg"));
        assert!(html.contains("qualification window"));
        let ch = chart(&h, rb);
        assert_eq!(ch.min_total, rb.qualification.min_total_points);
        assert_eq!(ch.max, Decimal::ONE_HUNDRED);
        assert!(ch.geometry().window.is_some());
    }
}
