//! The qualification summary (a partner's first page: every solution area
//! at a glance) and each area's page (its scorecard; Modern Work with a
//! track switch, Security with its two sides). The figures come from
//! [`crate::areas`], the same as the API's `summary` and `score?area=`.

use axum::extract::Path;
use axum::response::Response;
use maud::{Markup, html};
use pcs_core::Decimal;
use pcs_core::area::{AreaMetric, AreaScore};
use pcs_core::display::area_value;
use pcs_core::score::Detail;
use pcs_core::summary::AreaSummary;

use super::layout::{Tab, area_href};
use super::overview::overview_body;
use super::view::{Sel, bar, num, percent_int, pts, qualified_badge};
use super::{Page, PageError};
use crate::areas::{check_area, score, score_all, title};
use crate::error::ApiError;
use crate::reports::blocking;
use pcs_insights::app::AnyScore;

/// `GET /partners/{id}`: the qualification summary of every area.
pub(crate) async fn summary(p: Page, Path(id): Path<String>) -> Result<Response, PageError> {
    let r = p.reports_sums(&id)?;
    let frame = p.frame(
        format!(
            "Summary · {}",
            super::view::partner_title(&id, r.facts().name.as_deref())
        ),
        Tab::Overview,
        Some(&r),
    );
    let sel = p.sel;
    let body = blocking(move || {
        let scores = score_all(&r, Detail::Totals)?;
        let set = r.snapshot().rulebooks();
        let rows: Vec<(String, AreaSummary)> = scores
            .iter()
            .map(|s| {
                let sum = s.summary();
                (title(set, &sum.solution_area), sum)
            })
            .collect();
        let who = super::view::partner_title(r.partner_id(), r.facts().name.as_deref());
        Ok(summary_body(r.partner_id(), &who, &scores, &rows, sel))
    })
    .await
    .map_err(|e| p.error(e))?;
    Ok(p.render(&frame, body))
}

/// `GET /partners/{id}/areas/{area}`: one area's scorecard
/// (`?track=enterprise|smb` in an area with tracks).
pub(crate) async fn page(
    p: Page,
    Path((id, area)): Path<(String, String)>,
) -> Result<Response, PageError> {
    let area = check_area(&area).map_err(|e| p.error(e))?;
    let r = p.reports(&id).await?;
    let area_title = title(r.snapshot().rulebooks(), area);
    let mut frame = p.frame(
        format!(
            "{area_title} · {}",
            super::view::partner_title(&id, r.facts().name.as_deref())
        ),
        Tab::Overview,
        Some(&r),
    );
    frame.area = Some(area);
    let sel = p.sel;
    let track = p.q("track").map(str::to_string);
    let body = blocking(move || match score(&r, area, Detail::Full)? {
        AnyScore::Ba(s) => Ok(overview_body(&s, sel)),
        AnyScore::Area(s) => {
            let shown = match &track {
                None => None,
                Some(t) if s.tracks.iter().any(|x| &x.track == t) => Some(t.as_str()),
                Some(t) => {
                    let known: Vec<&str> = s.tracks.iter().map(|x| x.track.as_str()).collect();
                    return Err(ApiError::bad_request(if known.is_empty() {
                        format!("track: {area_title} has no tracks (asked for '{t}')")
                    } else {
                        format!(
                            "track: '{t}' is not a track of {area_title} (one of {})",
                            known.join(", ")
                        )
                    }));
                }
            };
            Ok(area_body(&s, &area_title, shown, sel))
        }
    })
    .await
    .map_err(|e| p.error(e))?;
    Ok(p.render(&frame, body))
}

fn track_label(t: &str) -> &str {
    match t {
        "enterprise" => "Enterprise",
        "smb" => "SMB",
        other => other,
    }
}

/// The summary page's body: the period, then one row per area.
pub(crate) fn summary_body(
    partner: &str,
    who: &str,
    scores: &[AnyScore],
    rows: &[(String, AreaSummary)],
    sel: Sel,
) -> Markup {
    let qualified = rows.iter().filter(|(_, s)| s.qualified).count();
    let period = scores.first().map(AnyScore::period);
    html! {
        div.pagehead {
            div {
                h1 { "Qualification summary: " (who) }
                @if let Some(p) = period {
                    p.sub {
                        "Month " b { (p.month) }
                        " · latest month " b { (p.latest_month) }
                        " · baseline " b { (p.baseline_month) }
                        " · skilling on " b { (p.evaluation_date) }
                    }
                }
            }
            div {
                span.badge.plain data-qualified-areas=(qualified) {
                    (qualified) " of " (rows.len()) " areas qualified"
                }
            }
        }
        section.panel aria-labelledby="areas-h" {
            h2 #areas-h { "Every solution area" }
            p.hint { "A partner qualifies in an area with at least 70 points of 100 and every metric above zero." }
            div.tablewrap {
                table.summary {
                    thead {
                        tr {
                            th scope="col" { "Solution area" }
                            th scope="col" { "Track" }
                            th scope="col" { "Total" }
                            th scope="col" { "Qualified" }
                            th scope="col" { "At zero" }
                            th scope="col" { "To 70" }
                            th scope="col" { "Next step" }
                        }
                    }
                    tbody {
                        @for (t, s) in rows {
                            @let zero: Vec<&str> = s.at_zero().map(|m| m.label.as_str()).collect();
                            tr data-area=(s.solution_area) data-total=(num(s.total_points))
                                data-qualified=(s.qualified) data-to-go=(num(s.points_to_qualify()))
                                data-zero=(zero.len()) {
                                th scope="row" { a href=(area_href(partner, &s.solution_area, sel)) { (t) } }
                                td { (s.classification.as_deref().map(track_label).unwrap_or("—")) }
                                td.num {
                                    b { (pts(s.total_points)) } " of " (num(s.max_total_points()))
                                    div.bar role="img"
                                        aria-label=(format!("{t}: {} of {}, {} needed", pts(s.total_points), num(s.max_total_points()), num(s.min_total_points))) {
                                        span class=(format!("w-{}", percent_int(s.total_points, s.max_total_points()))) {}
                                    }
                                }
                                td { (qualified_badge(s.qualified)) }
                                td {
                                    @if zero.is_empty() { "none" } @else { (zero.join(", ")) }
                                }
                                td.num {
                                    @if s.points_to_qualify().is_zero() { "—" } @else { (pts(s.points_to_qualify())) }
                                }
                                td { (s.next_step()) }
                            }
                        }
                    }
                }
            }
        }
    }
}

/// One area's page body: heading, the track switch (areas with tracks),
/// the total and the metric cards of the track shown (the reported one
/// unless `track` names another), the metrics at zero.
pub(crate) fn area_body(s: &AreaScore, title: &str, track: Option<&str>, sel: Sel) -> Markup {
    let reported = s.classification.as_deref();
    let shown = track.or(reported);
    let shown_track = shown.and_then(|t| s.tracks.iter().find(|x| x.track == t));
    let (metrics, total, qualified) = match shown_track {
        Some(t) => (&t.metrics[..], t.total_points, t.qualified),
        None => (&s.metrics[..], s.total_points, s.qualified),
    };
    let max: Decimal = metrics.iter().map(|m| m.max_points).sum();
    let short = s.min_total_points - total;
    let base = area_href(&s.partner_id, &s.solution_area, sel);
    let zero: Vec<&AreaMetric> = metrics.iter().filter(|m| m.points.is_zero()).collect();
    html! {
        div.pagehead {
            div {
                h1 { (title) ": " (super::view::partner_title(&s.partner_id, s.partner_name.as_deref())) }
                p.sub {
                    "Month " b { (s.period.month) }
                    " · latest month " b { (s.period.latest_month) }
                    " · baseline " b { (s.period.baseline_month) }
                    " · skilling on " b { (s.period.evaluation_date) }
                    " · rulebook " (s.rulebook)
                }
            }
            div {
                (qualified_badge(s.qualified))
                @if let Some(c) = reported {
                    " " span.badge.plain data-classification=(c) { (track_label(c)) " track reported" }
                }
                " " a.button.secondary #simulate-area
                    href=(format!("{}&area={}", super::view::partner_href(&s.partner_id, "simulate", sel), super::view::enc(&s.solution_area))) {
                    "Simulate in this area"
                }
            }
        }
        @if !s.tracks.is_empty() {
            nav.trackswitch aria-label="Tracks" {
                span { "Track:" }
                @for t in &s.tracks {
                    a href=(format!("{base}&track={}", super::view::enc(&t.track)))
                        data-track=(t.track) data-total=(num(t.total_points)) data-qualified=(t.qualified)
                        aria-current=[(shown == Some(t.track.as_str())).then_some("page")] {
                        (track_label(&t.track)) " · " (pts(t.total_points))
                        @if t.qualified { " · qualifies" }
                        @if reported == Some(t.track.as_str()) { " (reported)" }
                    }
                }
            }
        }
        section.score aria-label="Scorecard" data-area=(s.solution_area) data-track=[shown] {
            div class=(if qualified { "total good" } else { "total warn" }) {
                span.label { @if let Some(t) = shown { (track_label(t)) " track total" } @else { "Total" } }
                span.big data-total=(num(total)) {
                    (pts(total)) " " small { "of " (num(max)) }
                }
                div.bar role="img"
                    aria-label=(format!("Total: {} of {}, {} needed", pts(total), num(max), num(s.min_total_points))) {
                    span class=(format!("w-{}", percent_int(total, max))) {}
                    i class=(format!("l-{}", percent_int(s.min_total_points, max))) title=(format!("{} to qualify", num(s.min_total_points))) {}
                }
                span.need {
                    @if qualified {
                        (pts(total)) " ≥ " (num(s.min_total_points)) " and every metric above zero."
                    } @else if short > Decimal::ZERO {
                        (pts(short)) " more points to reach " (num(s.min_total_points)) "."
                    } @else {
                        "Enough points, but a metric is at zero."
                    }
                }
            }
            div.cards {
                @for m in metrics {
                    @let cls = if m.points.is_zero() { "card zero" } else if m.points >= m.max_points { "card full" } else { "card" };
                    div class=(cls) data-metric=(m.id) data-points=(num(m.points)) data-max=(num(m.max_points))
                        data-value=(m.value.map(num).unwrap_or_default()) {
                        span.name { (m.label) }
                        span.value { (area_value(m)) }
                        span.pts { b { (pts(m.points)) } " of " (num(m.max_points)) " points" }
                        (bar(m.points, m.max_points, &m.label))
                        @if !m.parts.is_empty() {
                            ul.plain.parts {
                                @for part in &m.parts {
                                    li data-part=(part.id) data-points=(num(part.points))
                                        data-value=(part.value.map(num).unwrap_or_default()) {
                                        (part.label) ": " (area_value(part)) " · " (pts(part.points)) " points"
                                    }
                                }
                            }
                        }
                        @if !m.options.is_empty() {
                            ul.plain.parts {
                                @for o in &m.options {
                                    @let chosen = m.chosen_option.as_deref() == Some(o.id.as_str());
                                    li data-option=(o.id) data-points=(num(o.points)) data-chosen=(chosen) {
                                        (o.label) ": " (area_value(o)) " · " (pts(o.points)) " points"
                                        @if chosen { " (counts)" }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
        section.panel #zero aria-labelledby="zero-h" {
            h2 #zero-h { "At zero" }
            @if zero.is_empty() {
                p.yes data-zero="0" { "No metric is at zero." }
            } @else {
                p data-zero=(zero.len()) {
                    (zero.len()) @if zero.len() == 1 { " metric scores" } @else { " metrics score" }
                    " nothing: a partner qualifies only with every metric above zero."
                }
                ul.plain.zero-list {
                    @for m in &zero { li { b { (m.label) } } }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use pcs_core::area::{AreaEngine, score_area};
    use pcs_core::facts::PartnerFacts;
    use pcs_core::rulebook::RulebookSet;
    use pcs_core::score::Period;
    use pcs_core::vocab::Vocabulary;

    fn empty_area(area: &str) -> AreaScore {
        let set = RulebookSet::builtin();
        let ba = &set.versions()[0];
        let rb = set
            .area_in_force(area, "2024-06-30".parse().unwrap())
            .unwrap();
        let vocab = Vocabulary::new(&[ba], &[rb]).unwrap();
        let engine = AreaEngine::new(rb, &vocab, ba);
        let period = Period::with_calendar(
            &rb.calendar,
            "2024-06".parse().unwrap(),
            "2024-06-30".parse().unwrap(),
        );
        score_area(&engine, "P<1>", &PartnerFacts::default(), period)
    }

    #[test]
    fn modern_work_shows_both_tracks_and_the_one_asked_for() {
        let s = empty_area("modern_work");
        assert_eq!(s.tracks.len(), 2);
        let sel = Sel::Month("2024-06".parse().unwrap());
        let html = area_body(&s, "Modern Work", Some("smb"), sel).into_string();
        for t in &s.tracks {
            assert!(
                html.contains(&format!(r#"data-track="{}""#, t.track)),
                "{html}"
            );
        }
        assert!(
            html.contains(
                r#"href="/partners/P%3C1%3E/areas/modern_work?month=2024-06&amp;track=smb""#
            ),
            "{html}"
        );
        let smb = s.tracks.iter().find(|t| t.track == "smb").unwrap();
        assert_eq!(
            html.matches("data-metric=").count(),
            smb.metrics.len(),
            "the smb track's cards"
        );
        assert!(
            html.contains(r#"aria-label="Scorecard" data-area="modern_work" data-track="smb""#),
            "{html}"
        );
    }

    #[test]
    fn security_shows_the_parts_of_its_metrics() {
        let s = empty_area("security");
        let html =
            area_body(&s, "Security", None, Sel::Month("2024-06".parse().unwrap())).into_string();
        let parts: usize = s.metrics.iter().map(|m| m.parts.len()).sum();
        assert!(parts > 0, "Security has metrics made of parts");
        assert_eq!(html.matches("data-part=").count(), parts, "{html}");
        assert!(html.contains(&format!(r#"data-zero="{}""#, s.metrics.len())));
    }
}
