//! Metric detail: each metric explained, with every item that counted and
//! every one that did not, the reason, and the source lines.

use axum::extract::Path;
use axum::response::Response;
use maud::{Markup, html};
use pcs_core::display::{mcv, money};
use pcs_core::facts::Table;
use pcs_core::rulebook::PairSource;
use pcs_core::score::{CertItem, MetricDetail, PairItem};
use pcs_insights::explain::{Change, Explanation, MetricExplanation};

use super::layout::{Tab, empty};
use super::overview::partner_head;
use super::view::{Sel, bar, enc, num, partner_href, pts, source_lines, value_text};
use super::{Page, PageError};
use crate::reports::{blocking, parse_area};

/// The file names of the tables, for source lines.
#[derive(Clone, Debug, Default)]
pub(crate) struct Files {
    /// `revenue.csv` or `revenue.parquet`.
    pub revenue: Option<String>,
    /// The usage file.
    pub usage: Option<String>,
    /// The certifications file.
    pub certifications: Option<String>,
}

impl Files {
    fn of(snap: &crate::state::Snapshot) -> Files {
        let f = |t: Table| snap.table_file(t).map(|i| i.file.clone());
        Files {
            revenue: f(Table::Revenue),
            usage: f(Table::Usage),
            certifications: f(Table::Certifications),
        }
    }
}

/// `GET /partners/{id}/metrics`.
pub(crate) async fn all(p: Page, Path(id): Path<String>) -> Result<Response, PageError> {
    show(p, id, None).await
}

/// `GET /partners/{id}/metrics/{metric}`.
pub(crate) async fn one(
    p: Page,
    Path((id, metric)): Path<(String, String)>,
) -> Result<Response, PageError> {
    show(p, id, Some(metric)).await
}

async fn show(p: Page, id: String, metric: Option<String>) -> Result<Response, PageError> {
    let area = parse_area(p.q("area")).map_err(|e| p.error(e))?;
    let r = p.reports(&id).await?;
    if area != pcs_insights::app::BUSINESS_APPLICATIONS {
        let frame = p.frame(format!("Metrics · {id}"), Tab::Metrics, Some(&r));
        let body = blocking(move || {
            Ok(super::area_pages::metrics(
                &r.area_metrics(area, metric.as_deref())?,
            ))
        })
        .await
        .map_err(|e| p.error(e))?;
        return Ok(p.render(&frame, body));
    }
    pcs_insights::app::check_metric(
        r.rulebook().metrics.iter().map(|m| m.id.as_str()),
        metric.as_deref(),
    )
    .map_err(|e| p.error(e.into()))?;
    let frame = p.frame(format!("Metrics · {id}"), Tab::Metrics, Some(&r));
    let sel = p.sel;
    let body = blocking(move || {
        let e = r.explain(metric.as_deref())?;
        let files = Files::of(r.snapshot());
        Ok(body(&e, metric.as_deref(), &files, sel))
    })
    .await
    .map_err(|e| p.error(e))?;
    Ok(p.render(&frame, body))
}

/// The page body: the metric tabs, then each metric shown.
pub(crate) fn body(e: &Explanation, only: Option<&str>, files: &Files, sel: Sel) -> Markup {
    let s = &e.score;
    html! {
        (partner_head(s, "Metrics"))
        nav.pager aria-label="Metrics" {
            a href=(partner_href(&s.partner_id, "metrics", sel)) aria-current=[only.is_none().then_some("page")] { "All" }
            @for m in &s.metrics {
                " · "
                a href=(partner_href(&s.partner_id, &format!("metrics/{}", enc(&m.id)), sel))
                    aria-current=[(only == Some(m.id.as_str())).then_some("page")] { (m.label) }
            }
        }
        @if only.is_none() {
            section.panel {
                h2 { "Classification" }
                p { (e.classification_summary) }
                (classification_table(e))
            }
        }
        @for m in &e.metrics {
            (metric(m, files))
        }
    }
}

fn classification_table(e: &Explanation) -> Markup {
    let c = &e.score.classification_detail;
    html! {
        @if !c.pairs.is_empty() {
            details.more {
                summary { (c.pairs.len()) " customer workloads with eligible revenue "
                    (c.pair_revenue.comparison.symbol()) " " (money(c.pair_revenue.value)) " in at least one month" }
                div.tablewrap {
                    table {
                        thead { tr { th { "Customer" } th { "Workload" } th.num { "Latest" } th.num { "Baseline" } th { "Counts" } } }
                        tbody {
                            @for p in &c.pairs {
                                tr {
                                    td { (p.customer_name.as_deref().unwrap_or(&p.tenant_id)) }
                                    td { (p.workload) }
                                    td.num { (money(p.latest_amount)) }
                                    td.num { (money(p.baseline_amount)) }
                                    td { @if p.counted { span.yes { "both months" } } @else { span.mut { "one month only" } } }
                                }
                            }
                        }
                    }
                }
            }
        }
    }
}

fn change_text(c: Change) -> (&'static str, &'static str) {
    match c {
        Change::Added => ("added (+1)", "pos"),
        Change::Lost => ("lost (−1)", "neg"),
        Change::Kept => ("kept", "mut"),
        Change::NotCounted => ("below the threshold", "mut"),
    }
}

/// One metric: its numbers, its sentence and its items.
pub(crate) fn metric(m: &MetricExplanation, files: &Files) -> Markup {
    let ms = &m.metric;
    html! {
        section.panel id=(format!("m-{}", m.id)) data-metric=(m.id) aria-labelledby=(format!("h-{}", m.id)) {
            div.pagehead {
                h2.mt0 id=(format!("h-{}", m.id)) { (m.label) }
                div { span.badge.plain { (ms.category) } }
            }
            p {
                "Value " b { (value_text(ms)) } " · "
                b data-points=(num(ms.points)) { (pts(ms.points)) } " of " (num(ms.max_points)) " points"
                " · " (num(ms.points_per_unit)) " points per unit"
            }
            (bar(ms.points, ms.max_points, &m.label))
            p { (m.summary) }
            @match &ms.detail {
                MetricDetail::PairGrowth { source, items, excluded, .. } => {
                    (pairs_table(m, *source == PairSource::Usage))
                    (items_table("Items of the two months", items, *source, files))
                    (excluded_table(excluded, *source, files))
                }
                MetricDetail::ConsumptionGrowth { items, excluded, .. } => {
                    (items_table("Usage of the two months (every item counts toward the totals)", items, PairSource::Usage, files))
                    (excluded_table(excluded, PairSource::Usage, files))
                }
                MetricDetail::CertifiedPeople { items, .. } => {
                    (certs_table(items, files.certifications.as_deref()))
                }
            }
        }
    }
}

fn amount(x: Option<pcs_core::Decimal>, usage: bool) -> String {
    match x {
        None => "–".to_string(),
        Some(v) if usage => mcv(v),
        Some(v) => money(v),
    }
}

fn pairs_table(m: &MetricExplanation, usage: bool) -> Markup {
    html! {
        @if !m.pairs.is_empty() {
            h3 { "Customer workloads, latest against baseline month" }
            div.tablewrap {
                table {
                    thead { tr { th { "Change" } th { "Customer" } th { "Workload" } th.num { "Latest" } th.num { "Baseline" } } }
                    tbody {
                        @for p in &m.pairs {
                            @let (text, cls) = change_text(p.change);
                            tr data-change=(format!("{:?}", p.change).to_lowercase()) {
                                td class=(cls) { (text) }
                                td { (p.customer_name.as_deref().unwrap_or(&p.tenant_id)) br; span.mut { (p.tenant_id) } }
                                td { (p.workload) }
                                td.num { (amount(p.latest, usage)) @if p.latest_counted { " ✓" } }
                                td.num { (amount(p.baseline, usage)) @if p.baseline_counted { " ✓" } }
                            }
                        }
                    }
                }
            }
        }
    }
}

fn file_of(source: PairSource, files: &Files) -> Option<&str> {
    match source {
        PairSource::Revenue => files.revenue.as_deref(),
        PairSource::Usage => files.usage.as_deref(),
    }
}

fn items_table(title: &str, items: &[PairItem], source: PairSource, files: &Files) -> Markup {
    let usage = source == PairSource::Usage;
    let file = file_of(source, files);
    html! {
        h3 { (title) }
        @if items.is_empty() {
            (empty("No eligible items in these months."))
        } @else {
            div.tablewrap {
                table {
                    thead { tr {
                        th { "Month" } th { "Customer" } th { "Workload" }
                        @if usage { th.num { "Quantity" } }
                        th.num { @if usage { "MCV" } @else { "Revenue" } }
                        th { "Counted" } th { "Source" }
                    } }
                    tbody {
                        @for i in items {
                            tr data-counted=(i.counted) {
                                td { (i.month) }
                                td { (i.customer_name.as_deref().unwrap_or(&i.tenant_id)) }
                                td {
                                    (i.workload)
                                    @if !i.products.is_empty() {
                                        br;
                                        span.mut { @for (k, (name, q)) in i.products.iter().enumerate() { @if k > 0 { ", " } (name) " " (num(*q)) } }
                                    }
                                }
                                @if usage { td.num { (i.quantity.map(num).unwrap_or_default()) } }
                                td.num { (amount(Some(i.amount), usage)) }
                                td {
                                    @if i.counted { span.yes { "yes" } }
                                    @else { span.no { "no" } }
                                    @if let Some(r) = &i.reason { br; span.mut { (r.describe()) } }
                                }
                                td.src { (source_lines(file, &i.lines)) }
                            }
                        }
                    }
                }
            }
        }
    }
}

fn excluded_table(items: &[PairItem], source: PairSource, files: &Files) -> Markup {
    let usage = source == PairSource::Usage;
    let file = file_of(source, files);
    html! {
        @if !items.is_empty() {
            h3 { "Rows that did not count" }
            div.tablewrap {
                table {
                    thead { tr {
                        th { "Month" } th { "Customer" } th { "Workload" } th { "Association" }
                        th.num { @if usage { "Quantity" } @else { "Revenue" } }
                        th { "Why not" } th { "Source" }
                    } }
                    tbody {
                        @for x in items {
                            tr data-counted="false" {
                                td { (x.month) }
                                td { (x.customer_name.as_deref().unwrap_or(&x.tenant_id)) }
                                td { (x.workload) }
                                td { (x.association.as_deref().unwrap_or("")) }
                                td.num { (if usage { x.quantity.map(num).unwrap_or_else(|| num(x.amount)) } else { money(x.amount) }) }
                                td { (x.reason.as_ref().map(|r| r.describe()).unwrap_or_default()) }
                                td.src { (x.rows) @if x.rows == 1 { " row" } @else { " rows" } @if !x.lines.is_empty() { "; " (source_lines(file, &x.lines)) } }
                            }
                        }
                    }
                }
            }
        }
    }
}

fn certs_table(items: &[CertItem], file: Option<&str>) -> Markup {
    html! {
        h3 { "Certifications" }
        @if items.is_empty() {
            (empty("No certification of this level."))
        } @else {
            div.tablewrap {
                table {
                    thead { tr { th { "Person" } th { "Certification" } th { "Earned" } th { "Expires" } th { "Counted" } th { "Source" } } }
                    tbody {
                        @for i in items {
                            tr data-counted=(i.counted) {
                                td { (i.person_name.as_deref().unwrap_or(&i.person_id)) br; span.mut { (i.person_id) } }
                                td { (i.certification_name.as_deref().unwrap_or(&i.certification)) }
                                td.date { (i.earned_on) }
                                td.date { (i.expires_on.map(|d| d.to_string()).unwrap_or_else(|| "–".into())) }
                                td {
                                    @if i.counted { span.yes { "yes" } } @else { span.no { "no" } }
                                    @if let Some(r) = &i.reason { br; span.mut { (r.describe()) } }
                                }
                                td.src { (source_lines(file, &[i.line])) }
                            }
                        }
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use pcs_core::facts::PartnerFacts;
    use pcs_core::rulebook::RulebookSet;
    use pcs_core::score::{Period, score_partner};

    #[test]
    fn every_metric_has_a_section_and_one_can_be_chosen() {
        let set = RulebookSet::builtin();
        let rb = &set.versions()[0];
        let s = score_partner(
            rb,
            "P1",
            &PartnerFacts::default(),
            Period::for_month(rb, "2023-11".parse().unwrap()),
        );
        let sel = Sel::Month("2023-11".parse().unwrap());
        let e = pcs_insights::explain::explain(&s, None);
        let html = body(&e, None, &Files::default(), sel).into_string();
        assert_eq!(
            html.matches("<section class=\"panel\" id=\"m-").count(),
            5,
            "{html}"
        );
        assert!(html.contains("No eligible items in these months."));
        assert!(html.contains("No certification of this level."));
        let e = pcs_insights::explain::explain(&s, Some("deployments"));
        let html = body(&e, Some("deployments"), &Files::default(), sel).into_string();
        assert_eq!(html.matches("<section class=\"panel\" id=\"m-").count(), 1);
        assert!(
            html.contains(
                r#"href="/partners/P1/metrics/deployments?month=2023-11" aria-current="page""#
            ),
            "{html}"
        );
    }
}
