//! Customers: search, eligibility per metric, and the CSV download.

use axum::extract::Path;
use axum::response::Response;
use maud::{Markup, html};
use pcs_core::score::PartnerScore;
use pcs_insights::customers::{CustomerLine, CustomerReport, Effect};

use super::area_pages;
use super::layout::Tab;
use super::overview::partner_head;
use super::view::{Sel, enc, partner_href};
use super::{Page, PageError};
use crate::reports::{blocking, parse_area};
use pcs_insights::app::{self, ToCsv};

/// `GET /partners/{id}/customers?q=`.
pub(crate) async fn page(p: Page, Path(id): Path<String>) -> Result<Response, PageError> {
    let area = parse_area(p.q("area")).map_err(|e| p.error(e))?;
    let lines = if area == app::BUSINESS_APPLICATIONS {
        crate::reports::Lines::Ba
    } else {
        let level = area_pages::level(p.q("level")).map_err(|e| p.error(e))?;
        crate::api::lines_for(area, Some(level))
    };
    let r = p.reports_for(&id, lines).await?;
    let frame = p.frame(format!("Customers · {id}"), Tab::Customers, Some(&r));
    let sel = p.sel;
    let q = p.q("q").map(str::to_string);
    if area != app::BUSINESS_APPLICATIONS {
        let level = area_pages::level(p.q("level")).map_err(|e| p.error(e))?;
        let body = blocking(move || {
            let report = r.area_customers(area, q.as_deref(), level)?;
            let title = r.areas()?.title(area, r.period().evaluation_date);
            Ok(area_pages::customers(&report, &title, q.as_deref(), sel))
        })
        .await
        .map_err(|e| p.error(e))?;
        return Ok(p.render(&frame, body));
    }
    let body = blocking(move || {
        let score = r.score();
        let report = pcs_insights::customers::customers(r.rulebook(), &score, q.as_deref());
        Ok(body(&score, &report, q.as_deref(), sel))
    })
    .await
    .map_err(|e| p.error(e))?;
    Ok(p.render(&frame, body))
}

/// `GET /partners/{id}/customers.csv?q=&area=&level=`: the same lines as
/// CSV (the columns of `pcs customers --format csv`, `--area`, `--level`).
pub(crate) async fn download(p: Page, Path(id): Path<String>) -> Result<Response, PageError> {
    let area = parse_area(p.q("area")).map_err(|e| p.error(e))?;
    let level = area_pages::level(p.q("level")).map_err(|e| p.error(e))?;
    let r = p
        .reports_for(&id, crate::api::lines_for(area, Some(level)))
        .await?;
    let q = p.q("q").map(str::to_string);
    let month = r.period().month;
    let name = if area == app::BUSINESS_APPLICATIONS {
        format!("customers-{}-{month}.csv", file_safe(&id))
    } else {
        format!("customers-{}-{area}-{month}.csv", file_safe(&id))
    };
    blocking(move || {
        let table = if area == app::BUSINESS_APPLICATIONS {
            r.customers(q.as_deref()).to_csv()
        } else {
            r.area_customers(area, q.as_deref(), level)?.to_csv()
        };
        area_pages::csv_download(&name, &table)
    })
    .await
    .map_err(|e| p.error(e))
}

/// A partner id as a file name part: letters, digits, `-` and `_` kept,
/// anything else `_`.
pub(crate) fn file_safe(s: &str) -> String {
    s.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '_'
            }
        })
        .collect()
}

/// The CSV text: a header, then one record per line of the report (the
/// application layer's columns).
#[cfg(test)]
pub(crate) fn csv_bytes(r: &CustomerReport) -> Result<Vec<u8>, csv::Error> {
    let t = r.to_csv();
    let mut w = csv::Writer::from_writer(Vec::new());
    w.write_record(&t.header)?;
    for x in &t.rows {
        w.write_record(x)?;
    }
    w.into_inner().map_err(|e| e.into_error().into())
}

/// The customers, in the report's order, each with its lines.
fn grouped(lines: &[CustomerLine]) -> Vec<(&str, Option<&str>, Vec<&CustomerLine>)> {
    let mut out: Vec<(&str, Option<&str>, Vec<&CustomerLine>)> = Vec::new();
    for l in lines {
        match out.last_mut() {
            Some((t, _, v)) if *t == l.tenant_id => v.push(l),
            _ => out.push((&l.tenant_id, l.customer_name.as_deref(), vec![l])),
        }
    }
    out
}

/// Whether any line of a customer for `metric` is met, not met, or none.
fn cell(lines: &[&CustomerLine], metric: &str) -> Option<bool> {
    let mine: Vec<_> = lines.iter().filter(|l| l.metric == metric).collect();
    if mine.is_empty() {
        None
    } else {
        Some(mine.iter().any(|l| l.met))
    }
}

/// The page body: search, the eligibility matrix and every line.
pub(crate) fn body(s: &PartnerScore, r: &CustomerReport, q: Option<&str>, sel: Sel) -> Markup {
    let groups = grouped(&r.lines);
    let mut columns: Vec<(String, String)> =
        vec![("classification".into(), "Classification".into())];
    columns.extend(s.metrics.iter().map(|m| (m.id.clone(), m.label.clone())));
    columns.retain(|(id, _)| r.lines.iter().any(|l| &l.metric == id));
    let csv_href = format!(
        "{}{}",
        partner_href(&s.partner_id, "customers.csv", sel),
        q.map(|q| format!("&q={}", enc(q))).unwrap_or_default()
    );
    html! {
        (partner_head(s, "Customers"))
        form.inline method="get" action=(format!("/partners/{}/customers", enc(&s.partner_id))) role="search" {
            label.f {
                "Search customers by id or name"
                input type="search" name="q" value=(q.unwrap_or(""));
            }
            @match sel {
                Sel::Month(m) => { input type="hidden" name="month" value=(m.to_string()); }
                Sel::Date(d) => { input type="hidden" name="date" value=(d.to_string()); }
            }
            button type="submit" { "Search" }
            a.button.secondary href=(csv_href) download { "Download CSV" }
        }
        @if groups.is_empty() {
            div.msg.info { @if let Some(q) = q { "No customer's id or name contains “" (q) "”." } @else { "No customer has revenue or usage in the latest or the baseline month." } }
        } @else {
            section.panel aria-labelledby="elig-h" {
                h2 #elig-h { "Eligibility per metric in " (s.period.latest_month) }
                p.hint { "✓ a criterion is met, ✗ a line of the customer misses it, – nothing of the customer concerns the metric." }
                div.tablewrap {
                    table #eligibility {
                        thead { tr {
                            th { "Customer" }
                            @for (_, label) in &columns { th { (label) } }
                        } }
                        tbody {
                            @for (tenant, name, lines) in &groups {
                                tr data-tenant=(tenant) {
                                    td { a href=(format!("#c-{}", enc(tenant))) { (name.unwrap_or(tenant)) } }
                                    @for (id, _) in &columns {
                                        @match cell(lines, id) {
                                            Some(true) => td.yes title="met" { "✓" },
                                            Some(false) => td.no title="not met" { "✗" },
                                            None => td.mut { "–" },
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
            }
            section.panel aria-labelledby="lines-h" {
                h2 #lines-h { (groups.len()) @if groups.len() == 1 { " customer" } @else { " customers" } ", line by line" }
                div.tablewrap {
                    table {
                        thead { tr { th { "Metric" } th { "Workload" } th { "Met" } th { "Criterion" } th.num { "Value" } th { "Effect" } th { "Why" } } }
                        tbody {
                            @for (tenant, name, lines) in &groups {
                                tr.grp id=(format!("c-{}", enc(tenant))) { td colspan="7" { (name.unwrap_or(tenant)) " " span.mut { "(" (tenant) ")" } } }
                                @for l in lines {
                                    tr {
                                        td { (l.metric) }
                                        td { (l.workload) @if let Some(sub) = &l.subscription_id { br; span.mut { (sub) } } }
                                        td { @if l.met { span.yes { "met" } } @else { span.no { "not met" } } }
                                        td { (l.criterion) }
                                        td.num { (l.value) }
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
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn line(t: &str, name: &str, metric: &str, met: bool) -> CustomerLine {
        CustomerLine {
            tenant_id: t.into(),
            customer_name: Some(name.into()),
            subscription_id: None,
            workload: "Sales".into(),
            metric: metric.into(),
            met,
            criterion: "revenue ≥ $250".into(),
            value: "$1,000".into(),
            effect: if met { Effect::Positive } else { Effect::None },
            sentence: "a, \"quoted\"\nsentence".into(),
        }
    }

    #[test]
    fn csv_quotes_what_needs_quoting() {
        let r = CustomerReport {
            partner_id: "P".into(),
            month: "2023-11".into(),
            lines: vec![line("t1", "Contoso, Ltd", "net_customer_adds", true)],
        };
        let text = String::from_utf8(csv_bytes(&r).unwrap()).unwrap();
        let mut rd = csv::Reader::from_reader(text.as_bytes());
        let rec = rd.records().next().unwrap().unwrap();
        assert_eq!(&rec[1], "Contoso, Ltd");
        assert_eq!(&rec[5], "true");
        assert_eq!(&rec[8], "positive");
        assert_eq!(&rec[9], "a, \"quoted\"\nsentence");
        assert!(text.starts_with("tenant_id,customer_name,subscription_id,workload,metric,met,"));
    }

    #[test]
    fn customers_group_and_cells_summarise_a_metric() {
        let lines = vec![
            line("t1", "A", "net_customer_adds", false),
            line("t1", "A", "net_customer_adds", true),
            line("t2", "B <script>", "deployments", false),
        ];
        let g = grouped(&lines);
        assert_eq!(g.len(), 2);
        assert_eq!(cell(&g[0].2, "net_customer_adds"), Some(true));
        assert_eq!(cell(&g[0].2, "deployments"), None);
        assert_eq!(cell(&g[1].2, "deployments"), Some(false));
        assert_eq!(file_safe("a/b c"), "a_b_c");
    }
}
