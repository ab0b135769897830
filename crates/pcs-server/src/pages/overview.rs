//! The partner picker (server-side search with paging, for datasets with
//! thousands of partners) and Business Applications' scorecard (its area
//! page; the partner's first page is the summary of every area, `area.rs`).

use axum::response::{IntoResponse, Redirect, Response};
use maud::{Markup, html};
use pcs_core::score::PartnerScore;
use pcs_insights::explain;

use super::layout::Tab;
use super::view::{
    Sel, bar, class_badge, enc, max_total, num, partner_href, partner_title, pts, qualified_badge,
    value_text,
};
use super::{Page, PageError};
use crate::state::PartnerEntry;

/// Partners per page of the picker.
const PER_PAGE: usize = 60;

/// `GET /`: the partner picker (a partner-scoped caller goes to its partner).
pub(crate) async fn home(p: Page) -> Result<Response, PageError> {
    if let Some(only) = p.access.only_partner() {
        return Ok(Redirect::to(&partner_href(only, "", p.sel)).into_response());
    }
    picker(&p, p.q("q"))
}

/// `GET /partners?partner=X`: straight to X when it is a partner id, else
/// the partners whose id or name contains X.
pub(crate) async fn find(p: Page) -> Result<Response, PageError> {
    let wanted = p.q("partner").or(p.q("q"));
    if let Some(id) = wanted
        && p.access.allows(id)
        && p.state
            .snapshot()
            .partners()
            .binary_search_by(|e| e.partner_id.as_str().cmp(id))
            .is_ok()
    {
        return Ok(Redirect::to(&partner_href(id, "", p.sel)).into_response());
    }
    if let Some(only) = p.access.only_partner() {
        // A reseller sees one partner: nothing to search.
        return Ok(Redirect::to(&partner_href(only, "", p.sel)).into_response());
    }
    picker(&p, wanted)
}

fn picker(p: &Page, q: Option<&str>) -> Result<Response, PageError> {
    let page = p.number("page", 1, u32::MAX)?.max(1) as usize;
    let snap = p.state.snapshot();
    let needle = q.map(str::to_lowercase);
    let all = snap.partners();
    let matches: Vec<&PartnerEntry> = match &needle {
        Some(n) => all.iter().filter(|e| e.matches(n)).collect(),
        None => all.iter().collect(),
    };
    let frame = p.frame("Partners", Tab::Overview, None);
    Ok(p.render(&frame, picker_body(&matches, q, page, p.sel)))
}

/// The partner list: a search form, one page of matches and the pager.
pub(crate) fn picker_body(
    matches: &[&PartnerEntry],
    q: Option<&str>,
    page: usize,
    sel: Sel,
) -> Markup {
    let total = matches.len();
    let pages = total.div_ceil(PER_PAGE).max(1);
    let page = page.min(pages);
    let from = (page - 1) * PER_PAGE;
    let shown = &matches[from.min(total)..(from + PER_PAGE).min(total)];
    let month = match sel {
        Sel::Month(m) => m.to_string(),
        Sel::Date(d) => d.to_string(),
    };
    let link = |n: usize| format!("/?q={}&page={n}&{}", enc(q.unwrap_or("")), sel.query());
    html! {
        h1 { "Partners" }
        p.sub { "Choose a partner to see its scorecard for " b { (month) } "." }
        form.inline method="get" action="/" role="search" {
            label.f {
                "Search by id or name"
                input type="search" name="q" value=(q.unwrap_or("")) autofocus;
            }
            @match sel {
                Sel::Month(m) => { input type="hidden" name="month" value=(m.to_string()); }
                Sel::Date(d) => { input type="hidden" name="date" value=(d.to_string()); }
            }
            button type="submit" { "Search" }
        }
        @if total == 0 {
            div.msg.info {
                @match q {
                    Some(q) => { "No partner's id or name contains “" (q) "”." }
                    None => { "The dataset has no partners yet: upload a table." }
                }
            }
        } @else {
            p.mut data-matches=(total) {
                "Showing " (from + 1) "–" (from + shown.len()) " of " (total)
                @if q.is_some() { " matching partners" } @else { " partners" }
            }
            ul.plist {
                @for e in shown {
                    li {
                        a href=(partner_href(&e.partner_id, "", sel)) {
                            span { (e.name.as_deref().unwrap_or("(no name)")) }
                            span.id { (e.partner_id) }
                        }
                    }
                }
            }
            @if pages > 1 {
                nav.pager aria-label="Pages of partners" {
                    @if page > 1 { a href=(link(page - 1)) rel="prev" { "← Previous" } }
                    span { "Page " (page) " of " (pages) }
                    @if page < pages { a href=(link(page + 1)) rel="next" { "Next →" } }
                }
            }
        }
    }
}

/// The heading of a partner page: name, badges and the period.
pub(crate) fn partner_head(s: &PartnerScore, what: &str) -> Markup {
    html! {
        div.pagehead {
            div {
                h1 { (what) ": " (partner_title(&s.partner_id, s.partner_name.as_deref())) }
                p.sub {
                    "Month " b { (s.period.month) }
                    " · latest month " b { (s.period.latest_month) }
                    " · baseline " b { (s.period.baseline_month) }
                    " · skilling on " b { (s.period.evaluation_date) }
                    " · rulebook " (s.rulebook)
                }
            }
            div { (qualified_badge(s.qualified)) " " (class_badge(s.classification.as_str())) }
        }
    }
}

/// The total and the five metric cards.
pub(crate) fn scorecard(s: &PartnerScore, sel: Sel) -> Markup {
    let max = max_total(s);
    let short = s.min_total_points - s.total_points;
    html! {
        section.score aria-label="Scorecard" data-area=(s.solution_area) {
            div class=(if s.qualified { "total good" } else { "total warn" }) {
                span.label { "Total" }
                span.big data-total=(num(s.total_points)) {
                    (pts(s.total_points)) " " small { "of " (num(max)) }
                }
                div.bar role="img"
                    aria-label=(format!("Total: {} of {}, {} needed", pts(s.total_points), num(max), num(s.min_total_points))) {
                    span class=(format!("w-{}", super::view::percent_int(s.total_points, max))) {}
                    i class=(format!("l-{}", super::view::percent_int(s.min_total_points, max))) title=(format!("{} to qualify", num(s.min_total_points))) {}
                }
                span.need {
                    @if s.qualified {
                        (pts(s.total_points)) " ≥ " (num(s.min_total_points)) " and every metric above zero."
                    } @else if short > pcs_core::Decimal::ZERO {
                        (pts(short)) " more points to reach " (num(s.min_total_points)) "."
                    } @else {
                        "Enough points, but a metric is at zero."
                    }
                }
            }
            div.cards {
                @for m in &s.metrics {
                    @let cls = if m.points.is_zero() { "card zero" } else if m.points >= m.max_points { "card full" } else { "card" };
                    a class=(cls) href=(partner_href(&s.partner_id, &format!("metrics/{}", enc(&m.id)), sel))
                        data-metric=(m.id) data-points=(num(m.points)) data-max=(num(m.max_points))
                        data-value=(m.value.map(num).unwrap_or_default()) {
                        span.name { (m.label) }
                        span.value { (value_text(m)) }
                        span.pts { b { (pts(m.points)) } " of " (num(m.max_points)) " points" }
                        (bar(m.points, m.max_points, &m.label))
                    }
                }
            }
        }
    }
}

/// The overview page's body.
pub(crate) fn overview_body(s: &PartnerScore, sel: Sel) -> Markup {
    let e = explain::explain(s, None);
    let zero: Vec<_> = e
        .metrics
        .iter()
        .filter(|m| m.metric.points.is_zero())
        .collect();
    html! {
        (partner_head(s, "Overview"))
        (scorecard(s, sel))
        div.grid2.mt {
            section.panel #zero aria-labelledby="zero-h" {
                h2 #zero-h { "At zero" }
                @if zero.is_empty() {
                    p.yes data-zero="0" { "No metric is at zero." }
                } @else {
                    p data-zero=(zero.len()) {
                        (zero.len()) @if zero.len() == 1 { " metric scores" } @else { " metrics score" }
                        " nothing"
                        @if s.qualified { "." } @else { ": a partner qualifies only with every metric above zero." }
                    }
                    ul.plain.zero-list {
                        @for m in &zero {
                            li {
                                b { a href=(partner_href(&s.partner_id, &format!("metrics/{}", enc(&m.id)), sel)) { (m.label) } }
                                ": " (m.summary)
                            }
                        }
                    }
                }
            }
            section.panel aria-labelledby="class-h" {
                h2 #class-h { "Classification" }
                p { (e.classification_summary) }
                p.hint { "The classification sets the points per unit of each metric." }
            }
        }
        section.panel aria-labelledby="why-h" {
            h2 #why-h { "Each metric in one sentence" }
            ul.plain {
                @for m in &e.metrics {
                    li { b { (m.label) } ": " (m.summary) }
                }
            }
            p { a href=(partner_href(&s.partner_id, "metrics", sel)) { "Every counted and not counted item →" } }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use pcs_core::facts::PartnerFacts;
    use pcs_core::rulebook::RulebookSet;
    use pcs_core::score::{Period, score_partner};

    fn empty_score(id: &str) -> PartnerScore {
        let set = RulebookSet::builtin();
        let rb = &set.versions()[0];
        let period = Period::for_month(rb, "2023-11".parse().unwrap());
        score_partner(rb, id, &PartnerFacts::default(), period)
    }

    #[test]
    fn the_scorecard_carries_each_metric_and_the_total() {
        let s = empty_score("P<1>");
        let html = scorecard(&s, Sel::Month("2023-11".parse().unwrap())).into_string();
        for m in &s.metrics {
            assert!(
                html.contains(&format!(
                    r#"data-metric="{}" data-points="0" data-max="{}""#,
                    m.id,
                    num(m.max_points)
                )),
                "{html}"
            );
        }
        assert_eq!(html.matches("data-metric=").count(), 5);
        assert!(html.contains(r#"data-total="0""#));
        assert!(html.contains("70.00 more points to reach 70."), "{html}");
        // The partner id is escaped in links.
        assert!(html.contains("/partners/P%3C1%3E/metrics/net_customer_adds?month=2023-11"));
    }

    #[test]
    fn zero_metrics_are_listed() {
        let s = empty_score("P1");
        let html = overview_body(&s, Sel::Month("2023-11".parse().unwrap())).into_string();
        assert!(html.contains(r#"data-zero="5""#), "{html}");
        assert!(html.contains("Not qualified"));
    }

    #[test]
    fn the_picker_pages_and_escapes() {
        let entries: Vec<PartnerEntry> = Vec::new();
        let refs: Vec<&PartnerEntry> = entries.iter().collect();
        let html = picker_body(
            &refs,
            Some("<x>"),
            1,
            Sel::Month("2023-11".parse().unwrap()),
        )
        .into_string();
        assert!(
            html.contains("No partner's id or name contains “&lt;x&gt;”."),
            "{html}"
        );
    }
}
