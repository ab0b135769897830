//! Scoring a partner's facts under a rulebook, with the explanation of every
//! point.
//!
//! [`score_partner`] is the one entry to the rules: every report (explain,
//! customers, skilling, history, simulate, plan) reads the [`PartnerScore`]
//! it returns rather than recomputing a rule. The rules themselves are
//! computed by the area engine ([`crate::area`]) under the rulebook's
//! shapes; this module tells its result in Business Applications' terms.

use jiff::civil::Date;
use rust_decimal::Decimal;
use serde::Serialize;

use crate::area::{
    AreaDetail, AreaEngine, AreaItem, AreaMetric, AreaReason, AreaScore, score_area_with,
};
use crate::calendar::Month;
use crate::facts::{Exclusion, HashMap, PartnerFacts};
use crate::rulebook::{Classification, Metric, PairSource, Rulebook, Shape, Threshold};

/// When a score is computed: the month M and the evaluation date D.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct Period {
    /// The month the score is for (M).
    pub month: Month,
    /// Latest month (M-1).
    pub latest_month: Month,
    /// Baseline month (M-13).
    pub baseline_month: Month,
    /// The skilling evaluation date.
    pub evaluation_date: Date,
}

impl Period {
    /// The period of month `m`, evaluated on its last day.
    pub fn for_month(rb: &Rulebook, m: Month) -> Period {
        Period::new(rb, m, m.last_day())
    }

    /// The period seen on calendar date `d`: M is d's month from the refresh
    /// day on, else the month before; D is `d`.
    pub fn for_date(rb: &Rulebook, d: Date) -> Period {
        let this = Month::of(d);
        let m = if d.day() >= rb.calendar.data_refresh_day {
            this
        } else {
            this.minus(1)
        };
        Period::new(rb, m, d)
    }

    fn new(rb: &Rulebook, m: Month, d: Date) -> Period {
        Period::with_calendar(&rb.calendar, m, d)
    }

    /// The period of month `m` evaluated on `d`, by a calendar's offsets.
    pub fn with_calendar(cal: &crate::rulebook::CalendarRules, m: Month, d: Date) -> Period {
        Period {
            month: m,
            latest_month: m.minus(cal.latest_month_offset),
            baseline_month: m.minus(cal.baseline_month_offset),
            evaluation_date: d,
        }
    }

    /// The months whose data this period reads.
    pub fn data_months(&self) -> [Month; 2] {
        [self.latest_month, self.baseline_month]
    }
}

/// The score of one partner for one period, with its explanation.
#[derive(Clone, Debug, Serialize)]
pub struct PartnerScore {
    /// The partner.
    pub partner_id: String,
    /// Its name, if known.
    pub partner_name: Option<String>,
    /// The solution area.
    pub solution_area: String,
    /// The rulebook version that produced the score (`area/version`).
    pub rulebook: String,
    /// When.
    #[serde(flatten)]
    pub period: Period,
    /// Enterprise or SMB.
    pub classification: Classification,
    /// Why.
    pub classification_detail: ClassificationDetail,
    /// The metrics, in rulebook order.
    pub metrics: Vec<MetricScore>,
    /// Sum of the metrics' points.
    pub total_points: Decimal,
    /// Whether the partner qualifies this month.
    pub qualified: bool,
    /// The minimum total.
    pub min_total_points: Decimal,
}

impl PartnerScore {
    /// The metric with this id.
    pub fn metric(&self, id: &str) -> Option<&MetricScore> {
        self.metrics.iter().find(|m| m.id == id)
    }

    /// Ids of the metrics that score zero points.
    pub fn zero_metrics(&self) -> Vec<&str> {
        self.metrics
            .iter()
            .filter(|m| m.points.is_zero())
            .map(|m| m.id.as_str())
            .collect()
    }
}

/// The pairs that decided the classification.
#[derive(Clone, Debug, Serialize)]
pub struct ClassificationDetail {
    /// A pair counts when its revenue passes this in both months.
    pub pair_revenue: Threshold,
    /// Enterprise from this many pairs.
    pub enterprise_min_pairs: u32,
    /// Pairs passing in both months.
    pub counted_pairs: u32,
    /// Pairs passing in at least one of the two months.
    pub pairs: Vec<ClassificationPair>,
}

/// A (tenant, workload) pair considered for classification.
#[derive(Clone, Debug, Serialize)]
pub struct ClassificationPair {
    /// Tenant id.
    pub tenant_id: String,
    /// Customer name.
    pub customer_name: Option<String>,
    /// Workload.
    pub workload: String,
    /// Eligible revenue in the latest month.
    pub latest_amount: Decimal,
    /// Eligible revenue in the baseline month.
    pub baseline_amount: Decimal,
    /// Whether it passes in both.
    pub counted: bool,
}

/// One metric's result.
#[derive(Clone, Debug, Serialize)]
pub struct MetricScore {
    /// Key (`net_customer_adds`).
    pub id: String,
    /// Label.
    pub label: String,
    /// Category.
    pub category: String,
    /// The metric's value (`None`: undefined, e.g. growth on a zero baseline).
    pub value: Option<Decimal>,
    /// Points earned.
    pub points: Decimal,
    /// The cap.
    pub max_points: Decimal,
    /// Points per unit of value for the partner's classification.
    pub points_per_unit: Decimal,
    /// How the value and points came about.
    pub detail: MetricDetail,
}

/// Why a pair, row group or certification did not count.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "reason", rename_all = "snake_case")]
pub enum Reason {
    /// Rows excluded by a filter (workload, association, rate).
    Excluded {
        /// Which filter.
        exclusion: Exclusion,
    },
    /// The pair's amount or MCV is below the threshold.
    BelowThreshold,
    /// The certification is not in the rulebook.
    UnknownCertification,
    /// Earned after the evaluation date.
    EarnedAfterDate,
    /// Expired before the evaluation date.
    Expired,
    /// The evaluation date is after the certification's eligibility window.
    Retired {
        /// Last day it counted.
        eligible_until: Date,
    },
    /// The evaluation date is before the certification's eligibility window.
    NotYetEligible {
        /// First day it counts.
        eligible_from: Date,
    },
    /// The person already counts through another certification.
    PersonAlreadyCounted,
}

impl Reason {
    /// A sentence for people.
    pub fn describe(&self) -> String {
        match self {
            Reason::Excluded { exclusion } => exclusion.describe().to_string(),
            Reason::BelowThreshold => "below the threshold".to_string(),
            Reason::UnknownCertification => {
                "certification is not eligible for this solution area".to_string()
            }
            Reason::EarnedAfterDate => "earned after the evaluation date".to_string(),
            Reason::Expired => "expired before the evaluation date".to_string(),
            Reason::Retired { eligible_until } => {
                format!("retired: counted through {eligible_until}")
            }
            Reason::NotYetEligible { eligible_from } => format!("counts only from {eligible_from}"),
            Reason::PersonAlreadyCounted => {
                "the person already counts with another certification".to_string()
            }
        }
    }
}

/// A (tenant, workload, month) item: revenue in USD or usage in MCV.
#[derive(Clone, Debug, Serialize)]
pub struct PairItem {
    /// Tenant id.
    pub tenant_id: String,
    /// Customer name.
    pub customer_name: Option<String>,
    /// Workload.
    pub workload: String,
    /// Association type (only for excluded rows).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub association: Option<String>,
    /// Month.
    pub month: Month,
    /// USD (revenue) or MCV (usage).
    pub amount: Decimal,
    /// Usage quantity before the rate (usage only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub quantity: Option<Decimal>,
    /// Products rolled up into the workload, with their quantities.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub products: Vec<(String, Decimal)>,
    /// Whether it counted for the metric.
    pub counted: bool,
    /// Why not.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<Reason>,
    /// Source rows.
    pub rows: u32,
    /// Source lines (when traced).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub lines: Vec<u64>,
    /// Revenue by subscription (when traced and the data names them).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub subscriptions: Vec<(String, Decimal)>,
}

/// A certification row as judged on the evaluation date.
#[derive(Clone, Debug, Serialize)]
pub struct CertItem {
    /// Person id.
    pub person_id: String,
    /// Person name.
    pub person_name: Option<String>,
    /// Certification id (rulebook) or the name as written.
    pub certification: String,
    /// Full name when known.
    pub certification_name: Option<String>,
    /// Earned on.
    pub earned_on: Date,
    /// Expires on.
    pub expires_on: Option<Date>,
    /// Whether this row made the person count.
    pub counted: bool,
    /// Why not.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<Reason>,
    /// Source line.
    pub line: u64,
}

/// The explanation of a metric, by shape.
#[derive(Clone, Debug, Serialize)]
#[serde(tag = "shape", rename_all = "snake_case")]
pub enum MetricDetail {
    /// Pairs at or above a threshold, latest minus baseline.
    PairGrowth {
        /// Revenue or usage.
        source: PairSource,
        /// The threshold for the partner's class.
        threshold: Threshold,
        /// Qualifying pairs in the latest month.
        latest_count: u32,
        /// Qualifying pairs in the baseline month.
        baseline_count: u32,
        /// Every eligible pair of the two months, counted or not.
        items: Vec<PairItem>,
        /// Row groups excluded by a filter.
        excluded: Vec<PairItem>,
    },
    /// Distinct certified people.
    CertifiedPeople {
        /// The level.
        level: String,
        /// From this many people on, the maximum.
        full_points_at: Option<u32>,
        /// Every certification row of the level (or unknown), counted or not.
        items: Vec<CertItem>,
    },
    /// Growth of total MCV.
    ConsumptionGrowth {
        /// Total MCV of the latest month.
        latest_mcv: Decimal,
        /// Total MCV of the baseline month.
        baseline_mcv: Decimal,
        /// The prerequisite on the baseline.
        baseline_minimum: Threshold,
        /// Whether it is met.
        prerequisite_met: bool,
        /// Every eligible pair of the two months (all count toward the totals).
        items: Vec<PairItem>,
        /// Row groups excluded by a filter.
        excluded: Vec<PairItem>,
    },
}

/// Truncates `a / b × 100` toward zero to `decimals` places, exactly.
pub(crate) fn percent_growth(latest: Decimal, baseline: Decimal, decimals: u32) -> Option<Decimal> {
    if baseline.is_zero() {
        return None;
    }
    let diff = latest - baseline;
    // Exact integer arithmetic: scale both to the same exponent, then divide.
    let exact = (|| {
        let scale = diff.scale().max(baseline.scale());
        let num = rescale_mantissa(diff, scale)?;
        let den = rescale_mantissa(baseline, scale)?;
        let num = num
            .checked_mul(100)?
            .checked_mul(10i128.checked_pow(decimals)?)?;
        let q = num / den; // truncates toward zero
        Some(Decimal::from_i128_with_scale(q, decimals))
    })();
    Some(
        exact
            .unwrap_or_else(|| (diff / baseline * Decimal::ONE_HUNDRED).trunc_with_scale(decimals))
            .normalize(),
    )
}

fn rescale_mantissa(d: Decimal, scale: u32) -> Option<i128> {
    d.mantissa()
        .checked_mul(10i128.checked_pow(scale - d.scale())?)
}

/// How much of the explanation [`score_partner_with`] builds.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum Detail {
    /// Every item, counted or not, with its names, rows and lines.
    #[default]
    Full,
    /// Values, points, counts and totals only: every `items`, `excluded` and
    /// classification `pairs` list is empty. The rules run the same code as
    /// with [`Detail::Full`] and give the same numbers; only the copying of
    /// names into the explanation is skipped (a large part of the time when
    /// scoring thousands of partners).
    Totals,
}

/// Scores one partner for a period, with the full explanation. Pure: the
/// same inputs give the same score.
pub fn score_partner(
    rb: &Rulebook,
    partner_id: &str,
    facts: &PartnerFacts,
    period: Period,
) -> PartnerScore {
    score_partner_with(rb, partner_id, facts, period, Detail::Full)
}

/// Scores one partner for a period with as much explanation as `detail`
/// asks for; the numbers are the same whatever `detail` is.
///
/// The rules are scored by the area engine under the rulebook's shapes
/// ([`Rulebook::shapes`], derived from the format-1 file at load), and its
/// result is told in Business Applications' own terms (classification,
/// pairs, certification rows, MCV totals): [`PartnerScore`].
pub fn score_partner_with(
    rb: &Rulebook,
    partner_id: &str,
    facts: &PartnerFacts,
    period: Period,
    detail: Detail,
) -> PartnerScore {
    BaEngine::new(rb).score(partner_id, facts, period, detail)
}

/// Business Applications' rules bound once ([`AreaEngine::business_applications`])
/// for scoring many partners: [`score_partner_with`] without binding the
/// rules again for every partner.
///
/// ```
/// # use pcs_core::{facts::PartnerFacts, rulebook::RulebookSet, score::{BaEngine, Detail, Period}};
/// let set = RulebookSet::builtin();
/// let rb = &set.versions()[0];
/// let engine = BaEngine::new(rb);
/// let period = Period::for_month(rb, "2023-11".parse().unwrap());
/// let s = engine.score("P1", &PartnerFacts::default(), period, Detail::Totals);
/// assert_eq!(s.total_points, rust_decimal::Decimal::ZERO);
/// ```
pub struct BaEngine<'a> {
    rb: &'a Rulebook,
    engine: AreaEngine<'a>,
}

impl<'a> BaEngine<'a> {
    /// Binds `rb`'s rules.
    pub fn new(rb: &'a Rulebook) -> BaEngine<'a> {
        BaEngine {
            rb,
            engine: AreaEngine::business_applications(rb),
        }
    }

    /// Scores one partner, as [`score_partner_with`] does.
    pub fn score(
        &self,
        partner_id: &str,
        facts: &PartnerFacts,
        period: Period,
        detail: Detail,
    ) -> PartnerScore {
        let area = score_area_with(&self.engine, partner_id, facts, period, detail);
        from_shapes(self.rb, area)
    }
}

/// A Business Applications [`AreaScore`] as a [`PartnerScore`].
fn from_shapes(rb: &Rulebook, s: AreaScore) -> PartnerScore {
    let enterprise = Classification::Enterprise.as_str();
    let classification = if s.classification.as_deref() == Some(enterprise) {
        Classification::Enterprise
    } else {
        Classification::Smb
    };
    let c = s
        .classifier
        .expect("Business Applications' shapes classify (track_rule = classify)");
    let classification_detail = ClassificationDetail {
        pair_revenue: c.amount,
        enterprise_min_pairs: c.min_entities,
        counted_pairs: c.counted,
        pairs: classification_pairs(c.items),
    };
    let metrics = rb
        .metrics
        .iter()
        .zip(s.metrics)
        .map(|(rule, m)| metric_score(rb, rule, classification, m))
        .collect();
    PartnerScore {
        partner_id: s.partner_id,
        partner_name: s.partner_name,
        solution_area: rb.solution_area.clone(),
        rulebook: rb.id(),
        period: s.period,
        classification,
        classification_detail,
        metrics,
        total_points: s.total_points,
        qualified: s.qualified,
        min_total_points: s.min_total_points,
    }
}

/// The classifier's items (one per pair and month) as pairs, counted
/// first, then by tenant and workload.
fn classification_pairs(items: Vec<AreaItem>) -> Vec<ClassificationPair> {
    let mut pairs: Vec<ClassificationPair> = Vec::new();
    let mut at: HashMap<(String, String), usize> = HashMap::default();
    for i in items {
        let tenant_id = i.tenant_id.unwrap_or_default();
        let workload = i.workload.unwrap_or_default();
        let amount = i.amount.unwrap_or_default();
        let latest = i.period == Some("latest");
        let k = *at
            .entry((tenant_id.clone(), workload.clone()))
            .or_insert_with(|| {
                pairs.push(ClassificationPair {
                    tenant_id,
                    customer_name: i.customer_name,
                    workload,
                    latest_amount: Decimal::ZERO,
                    baseline_amount: Decimal::ZERO,
                    counted: i.counted,
                });
                pairs.len() - 1
            });
        if latest {
            pairs[k].latest_amount = amount;
        } else {
            pairs[k].baseline_amount = amount;
        }
    }
    pairs.sort_by(|a, b| {
        (!a.counted, &a.tenant_id, &a.workload).cmp(&(!b.counted, &b.tenant_id, &b.workload))
    });
    pairs
}

/// Why an item did not count, in Business Applications' terms.
fn reason(r: AreaReason) -> Reason {
    match r {
        AreaReason::Excluded { exclusion } => Reason::Excluded { exclusion },
        AreaReason::BelowThreshold => Reason::BelowThreshold,
        AreaReason::UnknownCertification => Reason::UnknownCertification,
        AreaReason::EarnedAfterDate => Reason::EarnedAfterDate,
        AreaReason::Expired => Reason::Expired,
        AreaReason::Retired { eligible_until } => Reason::Retired { eligible_until },
        AreaReason::NotYetEligible { eligible_from } => Reason::NotYetEligible { eligible_from },
        AreaReason::PersonAlreadyCounted => Reason::PersonAlreadyCounted,
        other => unreachable!("Business Applications' shapes give no {other:?}"),
    }
}

/// A pair table's items: the pairs (latest month first, then by tenant and
/// workload) and the row groups the read left out.
fn pair_items(items: Vec<AreaItem>) -> (Vec<PairItem>, Vec<PairItem>) {
    let (mut counted, mut excluded): (Vec<PairItem>, Vec<PairItem>) = items
        .into_iter()
        .map(|i| PairItem {
            tenant_id: i.tenant_id.unwrap_or_default(),
            customer_name: i.customer_name,
            workload: i.workload.unwrap_or_default(),
            association: i.association,
            month: i.month.expect("a pair item has its month"),
            amount: i.amount.unwrap_or_default(),
            quantity: i.quantity,
            products: i.products,
            counted: i.counted,
            reason: i.reason.map(reason),
            rows: i.rows,
            lines: i.lines,
            subscriptions: i.subscriptions,
        })
        .partition(|i| !matches!(i.reason, Some(Reason::Excluded { .. })));
    counted.sort_by(|a, b| {
        (b.month, &a.tenant_id, &a.workload).cmp(&(a.month, &b.tenant_id, &b.workload))
    });
    excluded.sort_by(|a, b| {
        (b.month, &a.tenant_id, &a.workload, &a.association).cmp(&(
            a.month,
            &b.tenant_id,
            &b.workload,
            &b.association,
        ))
    });
    (counted, excluded)
}

/// One metric of the shapes as a [`MetricScore`] of the format-1 `rule`.
fn metric_score(rb: &Rulebook, rule: &Metric, class: Classification, m: AreaMetric) -> MetricScore {
    let detail = match (&rule.shape, m.detail) {
        (
            Shape::PairGrowth { source, threshold },
            AreaDetail::EntityCount {
                latest_count,
                baseline_count,
                items,
                ..
            },
        ) => {
            let (items, excluded) = pair_items(items);
            MetricDetail::PairGrowth {
                source: *source,
                threshold: threshold.for_class(class),
                latest_count,
                baseline_count: baseline_count.unwrap_or_default(),
                items,
                excluded,
            }
        }
        (
            Shape::CertifiedPeople {
                level,
                full_points_at,
            },
            AreaDetail::CertifiedPeople { items, .. },
        ) => MetricDetail::CertifiedPeople {
            level: level.clone(),
            full_points_at: full_points_at.map(|f| f.get(class)),
            items: items
                .into_iter()
                .map(|i| {
                    let certification = i.certification.unwrap_or_default();
                    let known = i.reason != Some(AreaReason::UnknownCertification);
                    CertItem {
                        person_id: i.person_id.unwrap_or_default(),
                        person_name: i.person_name,
                        certification_name: known
                            .then(|| {
                                rb.certifications
                                    .iter()
                                    .find(|c| c.id == certification)
                                    .map(|c| c.name.clone())
                            })
                            .flatten(),
                        certification,
                        earned_on: i.earned_on.expect("a certification row has its date"),
                        expires_on: i.expires_on,
                        counted: i.counted,
                        reason: i.reason.map(reason),
                        line: i.lines.first().copied().unwrap_or_default(),
                    }
                })
                .collect(),
        },
        (
            Shape::ConsumptionGrowth {
                baseline_minimum, ..
            },
            AreaDetail::Growth {
                latest,
                baseline,
                prerequisite_met,
                items,
                ..
            },
        ) => {
            let (items, excluded) = pair_items(items);
            MetricDetail::ConsumptionGrowth {
                latest_mcv: latest,
                baseline_mcv: baseline,
                baseline_minimum: baseline_minimum.for_class(class),
                prerequisite_met,
                items,
                excluded,
            }
        }
        _ => unreachable!("the derived shapes give metric '{}' its shape", rule.id),
    };
    MetricScore {
        id: m.id,
        label: m.label,
        category: m.category,
        value: m.value,
        points: m.points,
        max_points: m.max_points,
        points_per_unit: rule.points_per_unit.get(class).normalize(),
        detail,
    }
}

#[cfg(test)]
mod tests;
