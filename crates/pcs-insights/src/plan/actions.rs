//! The hypothetical records of each action of `pcs plan` (and of
//! `pcs recommend`): workloads, association types and amounts from the
//! rulebook and the partner's own data.

use std::collections::{BTreeMap, HashMap};

use pcs_core::Decimal;
use pcs_core::calendar::Month;
use pcs_core::facts::PartnerFacts;
use pcs_core::rulebook::{Certification, PairSource, Rulebook, Shape, Threshold, UsageWorkload};
use pcs_core::score::{MetricDetail, MetricScore, PartnerScore, Period, score_partner};

use super::MAX_UNITS;
use crate::scenario::{CertificationAdd, RevenueAdd, Scenario, ScenarioError, UsageAdd};

/// Builds the hypothetical records of each action for one partner and period.
/// Shared with [`crate::recommend`].
pub(crate) struct Actions<'a> {
    /// The rules.
    pub rb: &'a Rulebook,
    /// The partner.
    pub partner_id: &'a str,
    /// Its facts as the data stands.
    pub facts: &'a PartnerFacts,
    /// The period.
    pub period: Period,
    /// The score as the data stands.
    pub current: PartnerScore,
    pub(super) prefix: String,
    pub(super) revenue: Option<(String, String)>,
    pub(super) deployment: Option<UsageChoice>,
    pub(super) growth: Option<UsagePair>,
}

/// A usage workload and an association that counts for it.
#[derive(Clone, Debug)]
pub(crate) struct UsageChoice {
    /// The rate-card workload.
    pub workload: String,
    /// An association type that counts for it.
    pub association: String,
    /// Its rate (MCV per unit).
    pub rate: Decimal,
    /// Its unit (MAU, profiles).
    pub unit: Option<String>,
    /// Quantity of one deployment.
    pub quantity: Decimal,
    /// Its MCV.
    pub mcv: Decimal,
}

/// Where MCV is added: an existing (tenant, workload) pair, or a new tenant.
#[derive(Clone, Debug)]
pub(crate) struct UsagePair {
    /// The tenant.
    pub tenant_id: String,
    /// Its name.
    pub customer_name: Option<String>,
    /// Whether the pair is in the data (else a new tenant).
    pub existing: bool,
    /// The rate-card workload.
    pub workload: String,
    /// An association type that counts for it.
    pub association: String,
    /// Its rate (MCV per unit).
    pub rate: Decimal,
    /// Its unit (MAU, profiles).
    pub unit: Option<String>,
}

impl UsagePair {
    /// The customer for people.
    pub fn customer(&self) -> String {
        customer_label(&self.tenant_id, self.customer_name.as_deref())
    }
}

/// `Contoso (contoso-tenant)` or the id alone.
pub(crate) fn customer_label(tenant_id: &str, name: Option<&str>) -> String {
    match name {
        Some(n) if n != tenant_id => format!("{n} ({tenant_id})"),
        _ => tenant_id.to_string(),
    }
}

/// The first association type (rulebook order) that counts for a usage workload.
pub(super) fn usage_association(rb: &Rulebook, wl: &UsageWorkload) -> Option<String> {
    let a = rb.usage.families[wl.family].associations.iter().next()?;
    Some(rb.associations[a as usize].name.clone())
}

/// The smallest whole quantity whose MCV (quantity × rate) passes `threshold`.
pub(super) fn whole_quantity_passing(threshold: Threshold, rate: Decimal) -> Decimal {
    let mut q = (threshold.value / rate).ceil();
    while !threshold.passes(q * rate) {
        q += Decimal::ONE;
    }
    q.normalize()
}

/// The quantity whose MCV is `target`: exact when `target / rate` has at
/// most six decimals, else rounded up to two decimals.
pub(crate) fn quantity_for_mcv(target: Decimal, rate: Decimal) -> Decimal {
    let q = target / rate;
    if q * rate == target && q.normalize().scale() <= 6 {
        return q.normalize();
    }
    let hundred = Decimal::ONE_HUNDRED;
    let mut q = (q * hundred).ceil() / hundred;
    while q * rate < target {
        q += Decimal::new(1, 2);
    }
    q.normalize()
}

/// A money amount that passes `threshold`: the threshold itself, or one
/// cent more when the comparison is strict.
pub(crate) fn amount_passing(threshold: Threshold) -> Decimal {
    if threshold.passes(threshold.value) {
        threshold.value
    } else {
        threshold.value + Decimal::new(1, 2)
    }
}

/// The highest amount (in cents) that fails `threshold`.
pub(crate) fn amount_failing(threshold: Threshold) -> Decimal {
    if threshold.passes(threshold.value) {
        threshold.value - Decimal::new(1, 2)
    } else {
        threshold.value
    }
}

/// The pair threshold a `pair_growth` metric applied for the partner's class.
pub(crate) fn pair_threshold(m: &MetricScore) -> Option<Threshold> {
    match &m.detail {
        MetricDetail::PairGrowth { threshold, .. } => Some(*threshold),
        _ => None,
    }
}

impl<'a> Actions<'a> {
    /// Scores the partner as the data stands and picks the records of each
    /// action: workloads, association types, the pair MCV growth goes to.
    pub fn new(
        rb: &'a Rulebook,
        partner_id: &'a str,
        facts: &'a PartnerFacts,
        period: Period,
    ) -> Actions<'a> {
        let current = score_partner(rb, partner_id, facts, period);
        let prefix = (1..)
            .map(|i| {
                if i == 1 {
                    "plan".to_string()
                } else {
                    format!("plan{i}")
                }
            })
            .find(|p| {
                let p = format!("{p}-");
                !facts.tenants.iter().any(|t| t.id.starts_with(&p))
                    && !facts.people.iter().any(|x| x.id.starts_with(&p))
            })
            .expect("some prefix is free");

        // Revenue: the partner's most frequent performance workload in the
        // latest month (else the rulebook's first), with the first
        // association type that counts.
        let mut freq: BTreeMap<u16, u32> = BTreeMap::new();
        for (_, w, m) in facts.revenue.keys() {
            if *m == period.latest_month {
                *freq.entry(*w).or_default() += 1;
            }
        }
        let revenue_workload = freq
            .iter()
            .max_by_key(|(w, n)| (**n, std::cmp::Reverse(**w)))
            .map(|(w, _)| *w as usize)
            .or((!rb.revenue.workloads.is_empty()).then_some(0));
        let revenue = match (revenue_workload, rb.revenue.associations.iter().next()) {
            (Some(w), Some(a)) => Some((
                rb.revenue.workloads[w].name.clone(),
                rb.associations[a as usize].name.clone(),
            )),
            _ => None,
        };

        // Deployments: a workload with a rate and an association; the
        // quantity reaching the threshold with the least MCV above it, then
        // the partner's most used workload, then rulebook order.
        let deployment = current
            .metrics
            .iter()
            .zip(&rb.metrics)
            .find(|(_, m)| {
                matches!(
                    m.shape,
                    Shape::PairGrowth {
                        source: PairSource::Usage,
                        ..
                    }
                )
            })
            .and_then(|(ms, _)| pair_threshold(ms))
            .and_then(|threshold| {
                let mut used: HashMap<u16, u32> = HashMap::new();
                for (_, w, _) in facts.usage.keys() {
                    *used.entry(*w).or_default() += 1;
                }
                rb.usage
                    .workloads
                    .iter()
                    .enumerate()
                    .filter_map(|(i, wl)| {
                        let rate = wl.rate.filter(|r| *r > Decimal::ZERO)?;
                        let association = usage_association(rb, wl)?;
                        let quantity = whole_quantity_passing(threshold, rate);
                        let mcv = quantity * rate;
                        let rank = (
                            mcv - threshold.value,
                            std::cmp::Reverse(used.get(&(i as u16)).copied().unwrap_or(0)),
                            i,
                        );
                        Some((
                            rank,
                            UsageChoice {
                                workload: wl.name.clone(),
                                association,
                                rate,
                                unit: wl.unit.clone(),
                                quantity,
                                mcv: mcv.normalize(),
                            },
                        ))
                    })
                    .min_by(|a, b| a.0.cmp(&b.0))
                    .map(|(_, c)| c)
            });

        // MCV growth: the largest eligible pair of the latest month (else of
        // the baseline month), else a new tenant with the deployment workload.
        let items = current.metrics.iter().find_map(|m| match &m.detail {
            MetricDetail::ConsumptionGrowth { items, .. } => Some(items),
            _ => None,
        });
        let mut growth = items.and_then(|items| {
            [period.latest_month, period.baseline_month]
                .into_iter()
                .find_map(|month| {
                    let item = items.iter().filter(|i| i.month == month).max_by(|a, b| {
                        (a.amount, &b.tenant_id, &b.workload).cmp(&(
                            b.amount,
                            &a.tenant_id,
                            &a.workload,
                        ))
                    })?;
                    let u = rb.usage_workload(&item.workload)?;
                    let wl = &rb.usage.workloads[u.workload as usize];
                    Some(UsagePair {
                        tenant_id: item.tenant_id.clone(),
                        customer_name: item.customer_name.clone(),
                        existing: true,
                        workload: wl.name.clone(),
                        association: usage_association(rb, wl)?,
                        rate: wl.rate.filter(|r| *r > Decimal::ZERO)?,
                        unit: wl.unit.clone(),
                    })
                })
        });
        if growth.is_none()
            && let Some(d) = &deployment
        {
            growth = Some(UsagePair {
                tenant_id: format!("{prefix}-growth-customer"),
                customer_name: None,
                existing: false,
                workload: d.workload.clone(),
                association: d.association.clone(),
                rate: d.rate,
                unit: d.unit.clone(),
            });
        }

        Actions {
            rb,
            partner_id,
            facts,
            period,
            current,
            prefix,
            revenue,
            deployment,
            growth,
        }
    }

    /// The certification planned for a level: eligible on the evaluation
    /// date, preferably without an end of eligibility, else the one that
    /// counts longest.
    pub fn certification_for(&self, level: &str) -> Option<&'a Certification> {
        let d = self.period.evaluation_date;
        self.rb
            .certifications
            .iter()
            .filter(|c| c.level == level && c.eligible_on(d))
            .enumerate()
            .max_by_key(|(i, c)| {
                (
                    c.eligible_until.is_none(),
                    c.eligible_until,
                    std::cmp::Reverse(*i),
                )
            })
            .map(|(_, c)| c)
    }

    /// A tenant id unknown to the data (`plan-NAME`).
    pub fn fresh_tenant(&self, name: &str) -> String {
        format!("{}-{name}", self.prefix)
    }

    /// The (workload, association type) of a new customer workload.
    pub fn revenue_choice(&self) -> Option<&(String, String)> {
        self.revenue.as_ref()
    }

    /// The workload, association type and quantity of a new deployment.
    pub fn deployment(&self) -> Option<&UsageChoice> {
        self.deployment.as_ref()
    }

    /// The pair MCV growth is added to.
    pub fn growth_pair(&self) -> Option<&UsagePair> {
        self.growth.as_ref()
    }

    /// Adds `n` new people certified at `level`.
    pub fn push_people(&self, s: &mut Scenario, level: &str, n: u32) {
        let Some(cert) = self.certification_for(level) else {
            return;
        };
        for i in 1..=n {
            s.certification.push(CertificationAdd {
                person_id: Some(format!("{}-{level}-person-{i}", self.prefix)),
                person_name: None,
                certification: cert.id.clone(),
                earned_on: Some(self.period.evaluation_date.to_string()),
                expires_on: None,
            });
        }
    }

    /// Adds `n` new customer workloads at `threshold` in the latest month.
    pub fn push_customer_workloads(&self, s: &mut Scenario, threshold: Threshold, n: u32) {
        let Some((workload, association)) = &self.revenue else {
            return;
        };
        let start = s.revenue.len() as u32;
        for i in 1..=n {
            let k = start + i;
            s.revenue.push(RevenueAdd {
                customer_tenant_id: Some(format!("{}-customer-{k}", self.prefix)),
                customer_name: Some(format!("New customer {k}")),
                workload: workload.clone(),
                month: Some(self.period.latest_month.to_string()),
                revenue_usd: amount_passing(threshold),
                association: association.clone(),
            });
        }
    }

    /// Adds `n` new deployments in the latest month.
    pub fn push_deployments(&self, s: &mut Scenario, n: u32) {
        let Some(d) = &self.deployment else { return };
        for i in 1..=n {
            s.usage.push(UsageAdd {
                customer_tenant_id: Some(format!("{}-deployment-{i}", self.prefix)),
                customer_name: Some(format!("New deployment {i}")),
                workload: d.workload.clone(),
                month: Some(self.period.latest_month.to_string()),
                quantity: d.quantity,
                association: d.association.clone(),
            });
        }
    }

    /// Adds `mcv` MCV on the growth pair in `month`; returns the quantity.
    pub fn push_mcv(&self, s: &mut Scenario, target: Decimal, month: Month) -> Option<Decimal> {
        let g = self.growth.as_ref()?;
        let quantity = quantity_for_mcv(target, g.rate);
        s.usage.push(UsageAdd {
            customer_tenant_id: Some(g.tenant_id.clone()),
            customer_name: g.customer_name.clone(),
            workload: g.workload.clone(),
            month: Some(month.to_string()),
            quantity,
            association: g.association.clone(),
        });
        Some(quantity)
    }

    /// Scores the facts with a scenario applied.
    pub fn score(&self, s: &Scenario) -> Result<PartnerScore, ScenarioError> {
        let facts = s.apply(self.rb, self.partner_id, self.facts, self.period)?;
        Ok(score_partner(self.rb, self.partner_id, &facts, self.period))
    }
}

/// Units of a metric's value that reach its maximum from where it stands:
/// `ceil(max_points / points_per_unit)` (or `full_points_at` when smaller)
/// minus the current value; 0 at the maximum or with no points per unit.
pub(crate) fn units_to_max(m: &MetricScore) -> u32 {
    if m.points >= m.max_points || m.points_per_unit <= Decimal::ZERO {
        return 0;
    }
    let mut need = (m.max_points / m.points_per_unit).ceil();
    if let MetricDetail::CertifiedPeople {
        full_points_at: Some(f),
        ..
    } = &m.detail
    {
        need = need.min(Decimal::from(*f));
    }
    let units = (need - m.value.unwrap_or_default()).max(Decimal::ZERO);
    u32::try_from(units).unwrap_or(MAX_UNITS).min(MAX_UNITS)
}
