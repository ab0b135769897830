//! Scoring a partner's facts under a rulebook, with the explanation of every
//! point.
//!
//! [`score_partner`] is the one implementation of the rules: every report
//! (explain, customers, skilling, history, simulate, plan) reads the
//! [`PartnerScore`] it returns rather than recomputing a rule.

use jiff::civil::Date;
use rust_decimal::Decimal;
use serde::Serialize;

use crate::calendar::Month;
use crate::facts::{Exclusion, HashMap, PartnerFacts, Table};
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

fn clamp_points(raw: Decimal, max: Decimal) -> Decimal {
    raw.max(Decimal::ZERO).min(max).normalize()
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

struct Ctx<'a> {
    rb: &'a Rulebook,
    facts: &'a PartnerFacts,
    period: Period,
    full: bool,
}

impl Ctx<'_> {
    /// The tenant's id and name, for the explanation (empty with [`Detail::Totals`]).
    fn tenant(&self, t: u32) -> (String, Option<String>) {
        if !self.full {
            return (String::new(), None);
        }
        let t = &self.facts.tenants[t as usize];
        (t.id.clone(), t.name.clone())
    }

    /// A name for the explanation (empty with [`Detail::Totals`]).
    fn label(&self, name: &str) -> String {
        if self.full {
            name.to_string()
        } else {
            String::new()
        }
    }

    /// A list for the explanation (empty with [`Detail::Totals`]).
    fn listed<T: Clone>(&self, items: &[T]) -> Vec<T> {
        if self.full {
            items.to_vec()
        } else {
            Vec::new()
        }
    }

    /// Eligible revenue per (tenant, workload) in a month.
    fn revenue_in(&self, month: Month) -> HashMap<(u32, u16), Decimal> {
        self.facts
            .revenue
            .iter()
            .filter(|((_, _, m), _)| *m == month)
            .map(|(&(t, w, _), agg)| ((t, w), agg.amount))
            .collect()
    }

    fn classify(&self) -> (Classification, ClassificationDetail) {
        let rule = &self.rb.classification;
        let latest = self.revenue_in(self.period.latest_month);
        let baseline = self.revenue_in(self.period.baseline_month);
        let mut keys: Vec<(u32, u16)> = latest.keys().chain(baseline.keys()).copied().collect();
        keys.sort_unstable();
        keys.dedup();
        let mut pairs = Vec::new();
        let mut counted_pairs = 0u32;
        for key in keys {
            let l = latest.get(&key).copied().unwrap_or_default();
            let b = baseline.get(&key).copied().unwrap_or_default();
            let (lp, bp) = (rule.pair_revenue.passes(l), rule.pair_revenue.passes(b));
            if !(lp || bp) {
                continue;
            }
            let counted = lp && bp;
            counted_pairs += u32::from(counted);
            if !self.full {
                continue;
            }
            let (tenant_id, customer_name) = self.tenant(key.0);
            pairs.push(ClassificationPair {
                tenant_id,
                customer_name,
                workload: self.rb.revenue.workloads[key.1 as usize].name.clone(),
                latest_amount: l,
                baseline_amount: b,
                counted,
            });
        }
        pairs.sort_by(|a, b| {
            (!a.counted, &a.tenant_id, &a.workload).cmp(&(!b.counted, &b.tenant_id, &b.workload))
        });
        let class = if counted_pairs >= rule.enterprise_min_pairs {
            Classification::Enterprise
        } else {
            Classification::Smb
        };
        (
            class,
            ClassificationDetail {
                pair_revenue: rule.pair_revenue,
                enterprise_min_pairs: rule.enterprise_min_pairs,
                counted_pairs,
                pairs,
            },
        )
    }

    fn in_period(&self, m: Month) -> bool {
        m == self.period.latest_month || m == self.period.baseline_month
    }

    /// Eligible pairs of a source in the two months, amounts in USD or MCV.
    fn pair_items(&self, source: PairSource) -> Vec<PairItem> {
        let mut items = Vec::new();
        match source {
            PairSource::Revenue => {
                for (&(t, w, m), agg) in &self.facts.revenue {
                    if !self.in_period(m) {
                        continue;
                    }
                    let (tenant_id, customer_name) = self.tenant(t);
                    items.push(PairItem {
                        tenant_id,
                        customer_name,
                        workload: self.label(&self.rb.revenue.workloads[w as usize].name),
                        association: None,
                        month: m,
                        amount: agg.amount.normalize(),
                        quantity: None,
                        products: Vec::new(),
                        counted: false,
                        reason: None,
                        rows: agg.rows,
                        lines: self.listed(agg.lines()),
                        subscriptions: self.listed(agg.subscriptions()),
                    });
                }
            }
            PairSource::Usage => {
                for (&(t, w, m), agg) in &self.facts.usage {
                    if !self.in_period(m) {
                        continue;
                    }
                    let wl = &self.rb.usage.workloads[w as usize];
                    let rate = wl.rate.expect("only workloads with a rate are aggregated");
                    let (tenant_id, customer_name) = self.tenant(t);
                    let products = if self.full && agg.by_product.iter().any(|(p, _)| p.is_some()) {
                        agg.by_product
                            .iter()
                            .map(|(p, q)| {
                                let name = match p {
                                    Some(i) => wl.includes[*i as usize].clone(),
                                    None => wl.name.clone(),
                                };
                                (name, q.normalize())
                            })
                            .collect()
                    } else {
                        Vec::new()
                    };
                    items.push(PairItem {
                        tenant_id,
                        customer_name,
                        workload: self.label(&wl.name),
                        association: None,
                        month: m,
                        amount: (agg.total.amount * rate).normalize(),
                        quantity: Some(agg.total.amount.normalize()),
                        products,
                        counted: false,
                        reason: None,
                        rows: agg.total.rows,
                        lines: self.listed(agg.total.lines()),
                        subscriptions: Vec::new(),
                    });
                }
            }
        }
        if self.full {
            items.sort_by(|a, b| {
                (b.month, &a.tenant_id, &a.workload).cmp(&(a.month, &b.tenant_id, &b.workload))
            });
        }
        items
    }

    /// Row groups of `table` excluded by a filter (none with [`Detail::Totals`]).
    fn excluded_items(&self, table: Table) -> Vec<PairItem> {
        if !self.full {
            return Vec::new();
        }
        let mut items: Vec<PairItem> = self
            .facts
            .excluded
            .iter()
            .filter(|(k, _)| k.table == table && self.in_period(k.month))
            .map(|(k, agg)| {
                let (tenant_id, customer_name) = self.tenant(k.tenant);
                PairItem {
                    tenant_id,
                    customer_name,
                    workload: k.workload.clone(),
                    association: Some(k.association.clone()),
                    month: k.month,
                    amount: agg.amount.normalize(),
                    quantity: None,
                    products: Vec::new(),
                    counted: false,
                    reason: Some(Reason::Excluded {
                        exclusion: k.reason,
                    }),
                    rows: agg.rows,
                    lines: agg.lines().to_vec(),
                    subscriptions: agg.subscriptions().to_vec(),
                }
            })
            .collect();
        items.sort_by(|a, b| {
            (b.month, &a.tenant_id, &a.workload, &a.association).cmp(&(
                a.month,
                &b.tenant_id,
                &b.workload,
                &b.association,
            ))
        });
        items
    }

    fn metric(&self, metric: &Metric, class: Classification) -> MetricScore {
        let ppu = metric.points_per_unit.get(class);
        let max = metric.max_points;
        let (value, points, detail) = match &metric.shape {
            Shape::PairGrowth { source, threshold } => {
                let threshold = threshold.for_class(class);
                let mut items = self.pair_items(*source);
                let (mut latest_count, mut baseline_count) = (0u32, 0u32);
                for item in &mut items {
                    item.counted = threshold.passes(item.amount);
                    if !item.counted {
                        item.reason = Some(Reason::BelowThreshold);
                    } else if item.month == self.period.latest_month {
                        latest_count += 1;
                    } else {
                        baseline_count += 1;
                    }
                }
                let value = Decimal::from(latest_count) - Decimal::from(baseline_count);
                if !self.full {
                    items.clear();
                }
                let table = match source {
                    PairSource::Revenue => Table::Revenue,
                    PairSource::Usage => Table::Usage,
                };
                (
                    Some(value),
                    clamp_points(value * ppu, max),
                    MetricDetail::PairGrowth {
                        source: *source,
                        threshold,
                        latest_count,
                        baseline_count,
                        items,
                        excluded: self.excluded_items(table),
                    },
                )
            }
            Shape::CertifiedPeople {
                level,
                full_points_at,
            } => {
                let full = full_points_at.map(|f| f.get(class));
                let mut items = self.cert_items(level);
                let people = items.iter().filter(|i| i.counted).count() as u32;
                if !self.full {
                    items.clear();
                }
                let value = Decimal::from(people);
                let points = if full.is_some_and(|f| people >= f) {
                    max
                } else {
                    clamp_points(value * ppu, max)
                };
                (
                    Some(value),
                    points.normalize(),
                    MetricDetail::CertifiedPeople {
                        level: level.clone(),
                        full_points_at: full,
                        items,
                    },
                )
            }
            Shape::ConsumptionGrowth {
                baseline_minimum,
                decimals,
            } => {
                let minimum = baseline_minimum.for_class(class);
                let mut items = self.pair_items(PairSource::Usage);
                let (mut latest_mcv, mut baseline_mcv) = (Decimal::ZERO, Decimal::ZERO);
                for item in &mut items {
                    item.counted = true;
                    if item.month == self.period.latest_month {
                        latest_mcv += item.amount;
                    } else {
                        baseline_mcv += item.amount;
                    }
                }
                let prerequisite_met = minimum.passes(baseline_mcv);
                if !self.full {
                    items.clear();
                }
                let value = percent_growth(latest_mcv, baseline_mcv, *decimals);
                let points = match value {
                    Some(v) if prerequisite_met => {
                        clamp_points((v * ppu).trunc_with_scale(*decimals), max)
                    }
                    _ => Decimal::ZERO,
                };
                (
                    value,
                    points,
                    MetricDetail::ConsumptionGrowth {
                        latest_mcv: latest_mcv.normalize(),
                        baseline_mcv: baseline_mcv.normalize(),
                        baseline_minimum: minimum,
                        prerequisite_met,
                        items,
                        excluded: self.excluded_items(Table::Usage),
                    },
                )
            }
        };
        MetricScore {
            id: metric.id.clone(),
            label: metric.label.clone(),
            category: metric.category.clone(),
            value,
            points,
            max_points: max,
            points_per_unit: ppu.normalize(),
            detail,
        }
    }

    /// Judges every certification row of `level` (and every unknown one) on D.
    fn cert_items(&self, level: &str) -> Vec<CertItem> {
        let d = self.period.evaluation_date;
        // Each item with its person's index in the facts (people are unique
        // by id there), which decides "one person counts once".
        let mut items: Vec<(u32, CertItem)> = Vec::new();
        for rec in &self.facts.certifications {
            let person = &self.facts.people[rec.person as usize];
            let (certification, certification_name, reason) = match &rec.certification {
                Err(raw) => (self.label(raw), None, Some(Reason::UnknownCertification)),
                Ok(c) => {
                    let cert = &self.rb.certifications[*c as usize];
                    if cert.level != level {
                        continue;
                    }
                    let reason = if rec.earned_on > d {
                        Some(Reason::EarnedAfterDate)
                    } else if rec.expires_on.is_some_and(|e| e < d) {
                        Some(Reason::Expired)
                    } else if !cert.eligible_on(d) {
                        match (cert.eligible_from, cert.eligible_until) {
                            (Some(from), _) if d < from => Some(Reason::NotYetEligible {
                                eligible_from: from,
                            }),
                            (_, Some(until)) => Some(Reason::Retired {
                                eligible_until: until,
                            }),
                            _ => unreachable!("a certification outside its window has a bound"),
                        }
                    } else {
                        None
                    };
                    let name = self.full.then(|| cert.name.clone());
                    (self.label(&cert.id), name, reason)
                }
            };
            let person_id = self.label(&person.id);
            let person_name = person.name.as_ref().filter(|_| self.full).cloned();
            items.push((
                rec.person,
                CertItem {
                    person_id,
                    person_name,
                    certification,
                    certification_name,
                    earned_on: rec.earned_on,
                    expires_on: rec.expires_on,
                    counted: reason.is_none(),
                    reason,
                    line: rec.line,
                },
            ));
        }
        // One person counts once: rows sort counted-first per person, so the
        // first eligible row of a person counts and the others are marked.
        // (Without names, which row of a person counts does not change the
        // number of people, so the order is by index.)
        if self.full {
            items.sort_by(|(_, a), (_, b)| {
                (
                    &a.person_id,
                    !a.counted,
                    &a.certification,
                    a.earned_on,
                    a.line,
                )
                    .cmp(&(
                        &b.person_id,
                        !b.counted,
                        &b.certification,
                        b.earned_on,
                        b.line,
                    ))
            });
        } else {
            items.sort_by_key(|(p, item)| (*p, !item.counted));
        }
        let mut seen = std::collections::HashSet::new();
        for (person, item) in &mut items {
            if item.counted && !seen.insert(*person) {
                item.counted = false;
                item.reason = Some(Reason::PersonAlreadyCounted);
            }
        }
        items.into_iter().map(|(_, item)| item).collect()
    }
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
pub fn score_partner_with(
    rb: &Rulebook,
    partner_id: &str,
    facts: &PartnerFacts,
    period: Period,
    detail: Detail,
) -> PartnerScore {
    let ctx = Ctx {
        rb,
        facts,
        period,
        full: detail == Detail::Full,
    };
    let (classification, classification_detail) = ctx.classify();
    let metrics: Vec<MetricScore> = rb
        .metrics
        .iter()
        .map(|m| ctx.metric(m, classification))
        .collect();
    let total_points: Decimal = metrics
        .iter()
        .map(|m| m.points)
        .sum::<Decimal>()
        .normalize();
    let q = &rb.qualification;
    let qualified = total_points >= q.min_total_points
        && (!q.every_metric_above_zero || metrics.iter().all(|m| m.points > Decimal::ZERO));
    PartnerScore {
        partner_id: partner_id.to_string(),
        partner_name: facts.name.clone(),
        solution_area: rb.solution_area.clone(),
        rulebook: rb.id(),
        period,
        classification,
        classification_detail,
        metrics,
        total_points,
        qualified,
        min_total_points: q.min_total_points,
    }
}

/// Where a Business Applications score of [`score_partner`] and one of the
/// area engine under the Business Applications area rulebook
/// ([`crate::rulebook::BA_SHAPES_BUILTIN`]) disagree: classification, the
/// classifier's count, each metric's id, label, category, value, points and
/// cap, its counts (pairs per month, total MCV, prerequisite), the total,
/// qualification; and, when both were built with [`Detail::Full`], every
/// explained item (pair or certification row: counted or not, why, amount,
/// rows, lines). Empty when they agree. The differential tests use it as
/// the oracle while Business Applications has two engines.
pub fn shape_differences(old: &PartnerScore, new: &crate::area::AreaScore) -> Vec<String> {
    use crate::area::AreaDetail;
    let mut out = Vec::new();
    let mut check = |what: String, a: String, b: String| {
        if a != b {
            out.push(format!("{what}: {a} (score_partner) ≠ {b} (shapes)"));
        }
    };
    let p = old.partner_id.as_str();
    check(
        format!("{p} classification"),
        old.classification.as_str().to_string(),
        new.classification.clone().unwrap_or_default(),
    );
    if let Some(c) = &new.classifier {
        check(
            format!("{p} classification pairs"),
            old.classification_detail.counted_pairs.to_string(),
            c.counted.to_string(),
        );
        let pairs = |counted: bool| -> Vec<String> {
            let mut v: Vec<String> = old
                .classification_detail
                .pairs
                .iter()
                .filter(|x| x.counted == counted)
                .map(|x| {
                    format!(
                        "{} {} {} {}",
                        x.tenant_id,
                        x.workload,
                        x.latest_amount.normalize(),
                        x.baseline_amount.normalize()
                    )
                })
                .collect();
            v.sort();
            v
        };
        let items = |counted: bool| -> Vec<String> {
            let mut by_pair: std::collections::BTreeMap<(&str, &str), [Decimal; 2]> =
                Default::default();
            for i in c.items.iter().filter(|i| i.counted == counted) {
                let key = (
                    i.tenant_id.as_deref().unwrap_or(""),
                    i.workload.as_deref().unwrap_or(""),
                );
                let slot = usize::from(i.period != Some("latest"));
                by_pair.entry(key).or_default()[slot] = i.amount.unwrap_or_default().normalize();
            }
            let mut v: Vec<String> = by_pair
                .into_iter()
                .map(|((t, w), [l, b])| format!("{t} {w} {l} {b}"))
                .collect();
            v.sort();
            v
        };
        for counted in [true, false] {
            check(
                format!("{p} classification pairs (counted: {counted})"),
                pairs(counted).join("; "),
                items(counted).join("; "),
            );
        }
    }
    check(
        format!("{p} metrics"),
        old.metrics
            .iter()
            .map(|m| m.id.as_str())
            .collect::<Vec<_>>()
            .join(","),
        new.metrics
            .iter()
            .map(|m| m.id.as_str())
            .collect::<Vec<_>>()
            .join(","),
    );
    for (a, b) in old.metrics.iter().zip(&new.metrics) {
        let id = format!("{p} {}", a.id);
        let num = |d: Option<Decimal>| d.map_or("none".to_string(), |d| d.normalize().to_string());
        check(format!("{id} label"), a.label.clone(), b.label.clone());
        check(
            format!("{id} category"),
            a.category.clone(),
            b.category.clone(),
        );
        check(format!("{id} value"), num(a.value), num(b.value));
        check(
            format!("{id} points"),
            num(Some(a.points)),
            num(Some(b.points)),
        );
        check(
            format!("{id} max"),
            num(Some(a.max_points)),
            num(Some(b.max_points)),
        );
        // Items as comparable lines: (tenant, workload, month, amount,
        // counted, reason, rows, lines) or (person, certification, counted,
        // reason, line).
        let pair_line = |t: &str,
                         w: &str,
                         assoc: &str,
                         m: String,
                         amount: Decimal,
                         counted: bool,
                         why: String,
                         rows: u32,
                         lines: &[u64]| {
            let mut lines = lines.to_vec();
            lines.sort_unstable();
            format!(
                "{t}|{w}|{assoc}|{m}|{}|{counted}|{why}|{rows}|{lines:?}",
                amount.normalize()
            )
        };
        let old_items: Vec<String> = match &a.detail {
            MetricDetail::PairGrowth {
                items, excluded, ..
            }
            | MetricDetail::ConsumptionGrowth {
                items, excluded, ..
            } => items
                .iter()
                .chain(excluded)
                .map(|i| {
                    pair_line(
                        &i.tenant_id,
                        &i.workload,
                        i.association.as_deref().unwrap_or(""),
                        i.month.to_string(),
                        i.amount,
                        i.counted,
                        i.reason.as_ref().map(Reason::describe).unwrap_or_default(),
                        i.rows,
                        &i.lines,
                    )
                })
                .collect(),
            MetricDetail::CertifiedPeople { items, .. } => items
                .iter()
                .map(|i| {
                    format!(
                        "{}|{}|{}|{}|{}",
                        i.person_id,
                        i.certification,
                        i.counted,
                        i.reason.as_ref().map(Reason::describe).unwrap_or_default(),
                        i.line
                    )
                })
                .collect(),
        };
        let new_items: Vec<String> = match &b.detail {
            AreaDetail::EntityCount { items, .. } | AreaDetail::Growth { items, .. } => items
                .iter()
                .map(|i| {
                    pair_line(
                        i.tenant_id.as_deref().unwrap_or(""),
                        i.workload.as_deref().unwrap_or(""),
                        i.association.as_deref().unwrap_or(""),
                        i.month.map(|m| m.to_string()).unwrap_or_default(),
                        i.amount.unwrap_or_default(),
                        i.counted,
                        i.reason.as_ref().map(|r| r.describe()).unwrap_or_default(),
                        i.rows,
                        &i.lines,
                    )
                })
                .collect(),
            AreaDetail::CertifiedPeople { items, .. } => items
                .iter()
                .map(|i| {
                    format!(
                        "{}|{}|{}|{}|{}",
                        i.person_id.as_deref().unwrap_or(""),
                        i.certification.as_deref().unwrap_or(""),
                        i.counted,
                        i.reason.as_ref().map(|r| r.describe()).unwrap_or_default(),
                        i.lines.first().copied().unwrap_or_default()
                    )
                })
                .collect(),
            AreaDetail::Combined => Vec::new(),
        };
        let sorted = |mut v: Vec<String>| {
            v.sort();
            v.join("\n  ")
        };
        check(format!("{id} items"), sorted(old_items), sorted(new_items));
        match (&a.detail, &b.detail) {
            (
                MetricDetail::PairGrowth {
                    latest_count,
                    baseline_count,
                    ..
                },
                AreaDetail::EntityCount {
                    latest_count: l,
                    baseline_count: bl,
                    ..
                },
            ) => check(
                format!("{id} counts"),
                format!("{latest_count} {baseline_count}"),
                format!("{l} {}", bl.unwrap_or_default()),
            ),
            (
                MetricDetail::ConsumptionGrowth {
                    latest_mcv,
                    baseline_mcv,
                    prerequisite_met,
                    ..
                },
                AreaDetail::Growth {
                    latest,
                    baseline,
                    prerequisite_met: met,
                    ..
                },
            ) => check(
                format!("{id} totals"),
                format!("{latest_mcv} {baseline_mcv} {prerequisite_met}"),
                format!("{latest} {baseline} {met}"),
            ),
            (MetricDetail::CertifiedPeople { .. }, AreaDetail::CertifiedPeople { .. }) => {}
            _ => check(format!("{id} shape"), "one shape".into(), "another".into()),
        }
    }
    check(
        format!("{p} total"),
        old.total_points.normalize().to_string(),
        new.total_points.normalize().to_string(),
    );
    check(
        format!("{p} qualified"),
        old.qualified.to_string(),
        new.qualified.to_string(),
    );
    out
}

#[cfg(test)]
mod tests;
