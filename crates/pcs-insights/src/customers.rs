//! `pcs customers`: Partner Center's customer eligibility and customer
//! details. Per customer tenant (and subscription where the data names one),
//! for every customer metric: met or not, the criterion, the value, and the
//! effect on the score.

use pcs_core::Decimal;
use pcs_core::display::{mcv, money};
use pcs_core::facts::Exclusion;
use pcs_core::rulebook::{PairSource, Rulebook};
use pcs_core::score::{MetricDetail, PairItem, PartnerScore, Reason};
use serde::Serialize;

use crate::explain::{Change, pair_changes};

/// The effect of a line on the score.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Effect {
    /// Raises the score.
    Positive,
    /// Lowers the score.
    Negative,
    /// Neither.
    None,
}

impl Effect {
    /// `positive`, `negative` or `none` (as in JSON).
    pub fn as_str(self) -> &'static str {
        match self {
            Effect::Positive => "positive",
            Effect::Negative => "negative",
            Effect::None => "none",
        }
    }
}

/// One customer, one metric (or classification), one workload.
#[derive(Clone, Debug, Serialize)]
pub struct CustomerLine {
    /// Tenant id.
    pub tenant_id: String,
    /// Customer name.
    pub customer_name: Option<String>,
    /// Subscription, when the line is about one.
    pub subscription_id: Option<String>,
    /// Workload.
    pub workload: String,
    /// Metric id, or `classification`.
    pub metric: String,
    /// Whether the criterion is met in the latest month.
    pub met: bool,
    /// The criterion (`revenue ≥ $250`).
    pub criterion: String,
    /// The current value (`$1,620`).
    pub value: String,
    /// The effect on the score.
    pub effect: Effect,
    /// One sentence for people.
    pub sentence: String,
}

impl crate::app::ToCsv for CustomerReport {
    /// The columns of `pcs customers --format csv` and the dashboard's download.
    fn to_csv(&self) -> crate::app::CsvTable {
        let header = vec![
            "tenant_id",
            "customer_name",
            "subscription_id",
            "workload",
            "metric",
            "met",
            "criterion",
            "value",
            "effect",
            "sentence",
        ];
        let rows = self
            .lines
            .iter()
            .map(|x| {
                vec![
                    x.tenant_id.clone(),
                    crate::app::opt(&x.customer_name),
                    crate::app::opt(&x.subscription_id),
                    x.workload.clone(),
                    x.metric.clone(),
                    x.met.to_string(),
                    x.criterion.clone(),
                    x.value.clone(),
                    x.effect.as_str().to_string(),
                    x.sentence.clone(),
                ]
            })
            .collect();
        crate::app::CsvTable { header, rows }
    }
}

/// All lines of a partner's customers.
#[derive(Clone, Debug, Serialize)]
pub struct CustomerReport {
    /// The partner.
    pub partner_id: String,
    /// The month scored.
    pub month: String,
    /// Lines, by customer then metric.
    pub lines: Vec<CustomerLine>,
}

fn who(name: &Option<String>, id: &str) -> String {
    name.clone().unwrap_or_else(|| id.to_string())
}

/// Builds the report; `search` keeps customers whose id or name contains it
/// (case-insensitive).
pub fn customers(rb: &Rulebook, score: &PartnerScore, search: Option<&str>) -> CustomerReport {
    let (latest, baseline) = (score.period.latest_month, score.period.baseline_month);
    let mut lines = Vec::new();
    for m in &score.metrics {
        match &m.detail {
            MetricDetail::PairGrowth {
                source,
                threshold,
                items,
                excluded,
                ..
            } => {
                let unit = |d: Decimal| match source {
                    PairSource::Revenue => money(d),
                    PairSource::Usage => mcv(d),
                };
                let what = match source {
                    PairSource::Revenue => "revenue",
                    PairSource::Usage => "usage",
                };
                let criterion = format!(
                    "{what} {} {}",
                    threshold.comparison.symbol(),
                    unit(threshold.value)
                );
                for p in pair_changes(items, latest, baseline) {
                    let (effect, consequence) = match p.change {
                        Change::Added => (
                            Effect::Positive,
                            format!("counts for {} (+1)", m.label.to_lowercase()),
                        ),
                        Change::Lost => (
                            Effect::Negative,
                            format!(
                                "counted in {baseline} but not in {latest}: -1 for {}",
                                m.label.to_lowercase()
                            ),
                        ),
                        Change::Kept => (
                            Effect::None,
                            format!("counts in both {latest} and {baseline}: no net change"),
                        ),
                        Change::NotCounted => (Effect::None, "does not count".to_string()),
                    };
                    let value = p.latest.unwrap_or_default();
                    let sentence = format!(
                        "{} / {} {what} {} {} {}: {consequence}",
                        who(&p.customer_name, &p.tenant_id),
                        p.workload,
                        unit(value),
                        if p.latest_counted {
                            threshold.comparison.symbol()
                        } else {
                            "<"
                        },
                        unit(threshold.value),
                    );
                    lines.push(CustomerLine {
                        tenant_id: p.tenant_id.clone(),
                        customer_name: p.customer_name.clone(),
                        subscription_id: None,
                        workload: p.workload.clone(),
                        metric: m.id.clone(),
                        met: p.latest_counted,
                        criterion: criterion.clone(),
                        value: unit(value),
                        effect,
                        sentence,
                    });
                    // Revenue by subscription, when the data names them.
                    if let Some(item) = items.iter().find(|i| {
                        i.month == latest && i.tenant_id == p.tenant_id && i.workload == p.workload
                    }) {
                        for (sub, amount) in &item.subscriptions {
                            lines.push(CustomerLine {
                                tenant_id: p.tenant_id.clone(),
                                customer_name: p.customer_name.clone(),
                                subscription_id: Some(sub.clone()),
                                workload: p.workload.clone(),
                                metric: m.id.clone(),
                                met: p.latest_counted,
                                criterion: criterion.clone(),
                                value: unit(*amount),
                                effect: Effect::None,
                                sentence: format!(
                                    "{} / {} subscription {sub}: {} of the pair's {}",
                                    who(&p.customer_name, &p.tenant_id),
                                    p.workload,
                                    unit(*amount),
                                    unit(value)
                                ),
                            });
                        }
                    }
                }
                lines.extend(excluded_lines(rb, *source, &m.id, excluded, latest));
            }
            MetricDetail::ConsumptionGrowth {
                items, excluded, ..
            } => {
                for p in pair_changes(items, latest, baseline) {
                    let (l, b) = (p.latest.unwrap_or_default(), p.baseline.unwrap_or_default());
                    let effect = match l.cmp(&b) {
                        std::cmp::Ordering::Greater => Effect::Positive,
                        std::cmp::Ordering::Less => Effect::Negative,
                        std::cmp::Ordering::Equal => Effect::None,
                    };
                    lines.push(CustomerLine {
                        tenant_id: p.tenant_id.clone(),
                        customer_name: p.customer_name.clone(),
                        subscription_id: None,
                        workload: p.workload.clone(),
                        metric: m.id.clone(),
                        met: true,
                        criterion: "eligible workload and association".to_string(),
                        value: mcv(l),
                        effect,
                        sentence: format!(
                            "{} / {} usage {} in {latest} against {} in {baseline}: {} {}",
                            who(&p.customer_name, &p.tenant_id),
                            p.workload,
                            mcv(l),
                            mcv(b),
                            if l >= b {
                                "grows total MCV by"
                            } else {
                                "shrinks total MCV by"
                            },
                            mcv((l - b).abs())
                        ),
                    });
                }
                lines.extend(excluded_lines(
                    rb,
                    PairSource::Usage,
                    &m.id,
                    excluded,
                    latest,
                ));
            }
            MetricDetail::CertifiedPeople { .. } => {}
        }
    }
    for pair in &score.classification_detail.pairs {
        let t = &score.classification_detail.pair_revenue;
        lines.push(CustomerLine {
            tenant_id: pair.tenant_id.clone(),
            customer_name: pair.customer_name.clone(),
            subscription_id: None,
            workload: pair.workload.clone(),
            metric: "classification".to_string(),
            met: pair.counted,
            criterion: format!(
                "revenue {} {} in both months",
                t.comparison.symbol(),
                money(t.value)
            ),
            value: format!(
                "{} / {}",
                money(pair.latest_amount),
                money(pair.baseline_amount)
            ),
            effect: Effect::None,
            sentence: format!(
                "{} / {} revenue {} in {latest} and {} in {baseline}: {}",
                who(&pair.customer_name, &pair.tenant_id),
                pair.workload,
                money(pair.latest_amount),
                money(pair.baseline_amount),
                if pair.counted {
                    "counts toward Enterprise classification"
                } else {
                    "above the classification threshold in one month only"
                }
            ),
        });
    }
    if let Some(q) = search.map(str::to_lowercase).filter(|q| !q.is_empty()) {
        lines.retain(|l| {
            l.tenant_id.to_lowercase().contains(&q)
                || l.customer_name
                    .as_deref()
                    .is_some_and(|n| n.to_lowercase().contains(&q))
        });
    }
    lines.sort_by(|a, b| {
        (who(&a.customer_name, &a.tenant_id), &a.tenant_id)
            .cmp(&(who(&b.customer_name, &b.tenant_id), &b.tenant_id))
    });
    CustomerReport {
        partner_id: score.partner_id.clone(),
        month: score.period.month.to_string(),
        lines,
    }
}

/// Why an association type does not count, naming the ones that do:
/// "Power Platform and Customer Insights counts PAL only".
fn association_reason(rb: &Rulebook, item: &PairItem, source: PairSource) -> Option<String> {
    let names = |set: pcs_core::rulebook::AssociationSet| -> String {
        let names: Vec<&str> = set
            .iter()
            .map(|a| rb.associations[a as usize].name.as_str())
            .collect();
        match names.as_slice() {
            [one] => format!("{one} only"),
            many => many.join(", "),
        }
    };
    if source == PairSource::Revenue {
        return Some(format!(
            "performance revenue counts with {}",
            names(rb.revenue.associations)
        ));
    }
    // A rolled-up product is labelled "Sales (in Customer Engagement)".
    let name = item
        .workload
        .split(" (in ")
        .next()
        .unwrap_or(&item.workload);
    let u = rb.usage_workload(name)?;
    let family = &rb.usage.families[rb.usage.workloads[u.workload as usize].family];
    Some(format!(
        "{} usage counts with {}",
        family.name,
        names(family.associations)
    ))
}

fn excluded_lines<'a>(
    rb: &'a Rulebook,
    source: PairSource,
    metric: &'a str,
    excluded: &'a [PairItem],
    latest: pcs_core::calendar::Month,
) -> impl Iterator<Item = CustomerLine> + 'a {
    excluded
        .iter()
        .filter(move |i| i.month == latest)
        .map(move |i| {
            let reason = match &i.reason {
                Some(Reason::Excluded {
                    exclusion: Exclusion::AssociationNotEligible,
                }) => association_reason(rb, i, source)
                    .unwrap_or_else(|| Exclusion::AssociationNotEligible.describe().to_string()),
                Some(r) => r.describe(),
                None => String::new(),
            };
            CustomerLine {
                tenant_id: i.tenant_id.clone(),
                customer_name: i.customer_name.clone(),
                subscription_id: None,
                workload: i.workload.clone(),
                metric: metric.to_string(),
                met: false,
                criterion: "eligible workload and association".to_string(),
                value: i.amount.normalize().to_string(),
                effect: Effect::None,
                sentence: format!(
                    "{} / {} ({}): not counted, {reason}",
                    who(&i.customer_name, &i.tenant_id),
                    i.workload,
                    i.association.as_deref().unwrap_or("")
                ),
            }
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::Case;

    #[test]
    fn lines_say_met_criterion_and_effect() {
        let case = Case::new()
            .rev("contoso", "Sales", "2023-10", "1620")
            .rev("fabrikam", "Sales", "2022-10", "400");
        let s = case.score("2023-11");
        let r = customers(&case.rb, &s, None);
        let c = r
            .lines
            .iter()
            .find(|l| l.tenant_id == "contoso" && l.metric == "net_customer_adds")
            .unwrap();
        assert!(c.met);
        assert_eq!(c.effect, Effect::Positive);
        assert_eq!(
            c.sentence,
            "contoso / Sales revenue $1,620 ≥ $250: counts for net customer adds (+1)"
        );
        let f = r.lines.iter().find(|l| l.tenant_id == "fabrikam").unwrap();
        assert_eq!(f.effect, Effect::Negative);
        assert_eq!(customers(&case.rb, &s, Some("FABRI")).lines.len(), 1);
    }

    #[test]
    fn a_wrong_association_names_the_ones_that_count() {
        let case = Case::new()
            .usage_with("Fabrikam", "Power BI", "2023-10", "30", "DPOR")
            .usage_with("Litware", "Sales", "2023-10", "30", "PAL")
            .rev_with("Contoso", "Sales", "2023-10", "300", "PAL");
        let s = case.score("2023-11");
        let r = customers(&case.rb, &s, None);
        let sentence = |t: &str, m: &str| {
            r.lines
                .iter()
                .find(|l| l.tenant_id == t && l.metric == m)
                .map(|l| l.sentence.clone())
                .unwrap()
        };
        assert_eq!(
            sentence("Fabrikam", "usage_growth"),
            "Fabrikam / Power BI (DPOR): not counted, Power Platform and Customer Insights usage counts with PAL only"
        );
        assert_eq!(
            sentence("Litware", "deployments"),
            "Litware / Sales (in Customer Engagement) (PAL): not counted, Dynamics 365 usage counts with CSP Tier 1, CSP Tier 2, DPOR, CPOR OSU"
        );
        assert!(sentence("Contoso", "net_customer_adds").ends_with(
            "not counted, performance revenue counts with CPOR RevRec, CPOR OSA, CPOR RevRec Performance, CSP Tier 1, CSP Tier 2, DPOR"
        ));
    }
}
