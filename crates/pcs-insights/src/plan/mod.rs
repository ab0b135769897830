//! `pcs plan`: the cheapest set of actions that makes a partner qualified.
//!
//! The actions, each with a cost per unit ([`Costs`]):
//!
//! - **certify one more person** at a certification level (one new person
//!   holding an eligible certification of that level, earned on the
//!   evaluation date);
//! - **win a new customer workload**: a new tenant with revenue at the net
//!   customer adds threshold in the latest month;
//! - **a new deployment**: a new tenant with one usage pair at the deployment
//!   threshold MCV in the latest month;
//! - **MCV growth**: a unit of MCV (1,000 by default) added to the latest
//!   month on an existing eligible usage pair (the largest one).
//!
//! No points are computed here: every table entry is the score of the
//! partner's facts with a [`Scenario`] applied, by
//! [`pcs_core::score::score_partner`]. The amounts of the hypothetical
//! records (thresholds, rates) come from the rulebook and the score's
//! [`MetricDetail`].
//!
//! The search is exact:
//!
//! 1. **Bounds, from the rulebook.** An action is searched from 0 up to the
//!    count that takes its metric from the value it has to its maximum:
//!    `ceil(max_points / points_per_unit) - value` (or `full_points_at`
//!    people when that is less). A negative value (more pairs in the
//!    baseline than in the latest month) widens the bound. MCV units are
//!    searched up to the fewest units whose simulated usage growth reaches its
//!    maximum (doubling, then bisection, with the engine). Past the deployments
//!    maximum a deployment only adds MCV. So deployments are searched
//!    further (until deployments alone reach the growth maximum) only when
//!    a deployment costs less than the growth units of its MCV.
//! 2. **Tables, from the engine.** Certifications and customer workloads each
//!    move one metric, so each gets a table of points per count. Only the
//!    smallest count of each distinct points level can be in a cheapest
//!    plan: a larger count with the same points costs more for nothing.
//!    These levels are found by bisection over the counts, one scenario per
//!    count tried. Deployments also add MCV, so deployments and MCV units share
//!    one two-dimensional table, scored on demand. Points never fall when
//!    records are added, so the fewest units that qualify are found by
//!    bisection.
//! 3. **Combination.** Every combination of levels is enumerated. For each
//!    number of deployments, the cheapest qualifying number of MCV units is
//!    found. Branch and bound cuts the work, without changing the
//!    result: per key (the other metrics' total, whether they all score),
//!    only the cheapest combination, only those no cheaper one beats (a
//!    Pareto frontier), bounded by the best plan found so far.
//! 4. **Confirmation.** The cheapest candidate's scenario is written as
//!    TOML, read back (as `pcs simulate --scenario` would), applied and
//!    scored. If the engine's score does not qualify (the tables were summed
//!    as if the actions did not interact), the next cheapest is tried,
//!    then every combination without pruning. The plan reports the engine's
//!    score, never the tables' sum.
//!
//! When nothing within the bounds qualifies, the plan says so (`reachable:
//! false`, with the reasons) and shows the best total reachable, at the least
//! cost.

pub mod joint;

use std::collections::{BTreeMap, HashMap};

use pcs_core::Decimal;
use pcs_core::calendar::Month;
use pcs_core::display::{mcv, money, thousands};
use pcs_core::facts::PartnerFacts;
use pcs_core::rulebook::{
    Certification, Classification, PairSource, Rulebook, Shape, Threshold, UsageWorkload,
};
use pcs_core::score::{MetricDetail, MetricScore, PartnerScore, Period, score_partner};
use serde::{Deserialize, Serialize};

use crate::scenario::{CertificationAdd, RevenueAdd, Scenario, ScenarioError, UsageAdd};

/// The cost of each action, in one currency.
///
/// Loadable from TOML; a key left out keeps its default:
///
/// ```toml
/// currency = "USD"
/// customer_workload = 5000   # a new customer workload above the net-adds threshold
/// deployment = 3000          # a new customer deployed at the deployment threshold
/// mcv_unit = 1000            # MCV growth is bought in units of this many MCV
/// mcv_growth = 400           # the cost of one unit of MCV growth
///
/// [certification]            # one more certified person, by level
/// intermediate = 1500
/// advanced = 4000
///
/// # The other solution areas (pcs plan --area …):
/// area_certification = 1500  # one more person with a certification no level prices
/// acr_customer = 5000        # a new customer with ACR at the net-adds amount
/// acr_service = 3000         # ACR on one more Azure service
/// acr_unit = 1000            # ACR growth is bought in units of this many USD
/// acr_growth = 400           # the cost of one unit of ACR growth
/// license_customer = 5000    # a new customer with licences at the seat threshold
/// users_unit = 10            # active users growth is bought in units of this many users
/// users_growth = 200         # the cost of one unit of active users growth
///
/// [person]                   # one more person, by certification id (any area)
/// data-analyst-associate = 1200
/// ```
///
/// The `[certification]` table, when given, replaces the default one: a
/// level without a cost is not planned.
///
/// The defaults ([`Costs::default`]) are rough USD figures for a services
/// partner: an exam voucher plus preparation time (intermediate 1,500,
/// advanced 4,000), the sales effort of a small new customer workload
/// (5,000), a deployment project (3,000), and adoption work per 1,000 MCV
/// (400).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Costs {
    /// The currency the costs are in (shown only).
    pub currency: String,
    /// Cost of one more certified person, by certification level.
    #[serde(deserialize_with = "decimal_map")]
    pub certification: BTreeMap<String, Decimal>,
    /// Cost of one new customer workload with revenue at the net-adds threshold.
    #[serde(deserialize_with = "pcs_core::num::deserialize")]
    pub customer_workload: Decimal,
    /// Cost of one new deployment (a new customer at the deployment threshold MCV).
    #[serde(deserialize_with = "pcs_core::num::deserialize")]
    pub deployment: Decimal,
    /// MCV growth is bought in units of this many MCV.
    #[serde(deserialize_with = "pcs_core::num::deserialize")]
    pub mcv_unit: Decimal,
    /// Cost of one unit of MCV growth.
    #[serde(deserialize_with = "pcs_core::num::deserialize")]
    pub mcv_growth: Decimal,
    /// Cost of one more person holding a certification, by certification id
    /// (any area); it overrides the level's cost.
    #[serde(deserialize_with = "decimal_map")]
    pub person: BTreeMap<String, Decimal>,
    /// Cost of one more person holding a certification that neither
    /// `person` nor a Business Applications level prices.
    #[serde(deserialize_with = "pcs_core::num::deserialize")]
    pub area_certification: Decimal,
    /// Cost of a new customer with ACR at the net customer adds amount.
    #[serde(deserialize_with = "pcs_core::num::deserialize")]
    pub acr_customer: Decimal,
    /// Cost of ACR on one more Azure service (a deployment).
    #[serde(deserialize_with = "pcs_core::num::deserialize")]
    pub acr_service: Decimal,
    /// ACR growth is bought in units of this many USD.
    #[serde(deserialize_with = "pcs_core::num::deserialize")]
    pub acr_unit: Decimal,
    /// Cost of one unit of ACR growth.
    #[serde(deserialize_with = "pcs_core::num::deserialize")]
    pub acr_growth: Decimal,
    /// Cost of a new customer with licences of a workload at the seat
    /// threshold, every seat active.
    #[serde(deserialize_with = "pcs_core::num::deserialize")]
    pub license_customer: Decimal,
    /// Active users growth is bought in units of this many users.
    pub users_unit: u32,
    /// Cost of one unit of active users growth (seats and active users).
    #[serde(deserialize_with = "pcs_core::num::deserialize")]
    pub users_growth: Decimal,
}

impl Default for Costs {
    /// USD: intermediate certification 1,500, advanced 4,000, new customer
    /// workload 5,000, new deployment 3,000, 400 per 1,000 MCV of growth.
    fn default() -> Self {
        Costs {
            currency: "USD".to_string(),
            certification: BTreeMap::from([
                ("intermediate".to_string(), Decimal::from(1500)),
                ("advanced".to_string(), Decimal::from(4000)),
            ]),
            customer_workload: Decimal::from(5000),
            deployment: Decimal::from(3000),
            mcv_unit: Decimal::from(1000),
            mcv_growth: Decimal::from(400),
            person: BTreeMap::new(),
            area_certification: Decimal::from(1500),
            acr_customer: Decimal::from(5000),
            acr_service: Decimal::from(3000),
            acr_unit: Decimal::from(1000),
            acr_growth: Decimal::from(400),
            license_customer: Decimal::from(5000),
            users_unit: 10,
            users_growth: Decimal::from(200),
        }
    }
}

fn decimal_map<'de, D: serde::Deserializer<'de>>(
    d: D,
) -> Result<BTreeMap<String, Decimal>, D::Error> {
    #[derive(Deserialize)]
    #[serde(transparent)]
    struct Num(#[serde(deserialize_with = "pcs_core::num::deserialize")] Decimal);
    let raw: BTreeMap<String, Num> = BTreeMap::deserialize(d)?;
    Ok(raw.into_iter().map(|(k, v)| (k, v.0)).collect())
}

impl Costs {
    /// Parses and checks costs from TOML.
    pub fn from_toml(text: &str) -> Result<Costs, PlanError> {
        let costs: Costs = toml::from_str(text)
            .map_err(|e| PlanError::Costs(e.to_string().trim_end().to_string()))?;
        costs.check()?;
        Ok(costs)
    }

    /// Checks that no cost is negative and the MCV unit is positive.
    pub fn check(&self) -> Result<(), PlanError> {
        let negative = |d: Decimal| d.is_sign_negative() && !d.is_zero();
        for (level, c) in &self.certification {
            if negative(*c) {
                return Err(PlanError::Costs(format!(
                    "certification cost of level '{level}' is {c}: a cost may not be negative"
                )));
            }
        }
        for (id, c) in &self.person {
            if negative(*c) {
                return Err(PlanError::Costs(format!(
                    "person cost of '{id}' is {c}: a cost may not be negative"
                )));
            }
        }
        for (what, c) in [
            ("customer_workload", self.customer_workload),
            ("deployment", self.deployment),
            ("mcv_growth", self.mcv_growth),
            ("area_certification", self.area_certification),
            ("acr_customer", self.acr_customer),
            ("acr_service", self.acr_service),
            ("acr_growth", self.acr_growth),
            ("license_customer", self.license_customer),
            ("users_growth", self.users_growth),
        ] {
            if negative(c) {
                return Err(PlanError::Costs(format!(
                    "{what} is {c}: a cost may not be negative"
                )));
            }
        }
        if self.acr_unit <= Decimal::ZERO {
            return Err(PlanError::Costs(format!(
                "acr_unit is {}: it must be positive",
                self.acr_unit
            )));
        }
        if self.users_unit == 0 {
            return Err(PlanError::Costs(
                "users_unit is 0: it must be positive".into(),
            ));
        }
        if self.mcv_unit <= Decimal::ZERO {
            return Err(PlanError::Costs(format!(
                "mcv_unit is {}: it must be positive",
                self.mcv_unit
            )));
        }
        Ok(())
    }
}

/// Why a plan could not be made.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum PlanError {
    /// The costs are invalid.
    #[error("costs: {0}")]
    Costs(String),
    /// A planned scenario could not be applied (a bug: its names come from the rulebook).
    #[error(transparent)]
    Scenario(#[from] ScenarioError),
    /// The bounds multiply to more combinations than the planner enumerates.
    #[error(
        "plan: {0} combinations of actions are more than the planner enumerates ({MAX_COMBINATIONS})"
    )]
    TooManyCombinations(u128),
}

/// No action is planned more than this many times (a guard against a
/// rulebook with tiny points per unit; the built-in one needs at most 25).
pub const MAX_UNITS: u32 = 10_000;

/// MCV growth units are searched by bisection, never enumerated: up to this many.
pub const MAX_MCV_UNITS: u32 = 1_000_000_000;

/// The planner enumerates at most this many combinations.
pub const MAX_COMBINATIONS: u128 = 20_000_000;

/// At most this many candidate combinations are confirmed with the engine
/// before the planner gives up on the tables.
const MAX_VERIFICATIONS: usize = 256;

/// A kind of action.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(tag = "action", rename_all = "snake_case")]
pub enum ActionKind {
    /// Certify one more person at this level.
    Certification {
        /// The certification level.
        level: String,
    },
    /// Win one new customer workload at the net-adds threshold.
    CustomerWorkload,
    /// Deploy one new customer at the deployment threshold.
    Deployment,
    /// Add one unit of MCV to the latest month.
    McvGrowth,
}

/// One planned action with its count and cost.
#[derive(Clone, Debug, Serialize)]
pub struct PlannedAction {
    /// What.
    #[serde(flatten)]
    pub kind: ActionKind,
    /// The metric it is planned for.
    pub metric: String,
    /// How many (people, customer workloads, deployments, MCV units).
    pub count: u32,
    /// Cost of one.
    pub unit_cost: Decimal,
    /// `count × unit_cost`.
    pub cost: Decimal,
    /// A sentence for people.
    pub description: String,
}

/// How far the planner searched one action, and why there.
#[derive(Clone, Debug, Serialize)]
pub struct SearchBound {
    /// The action.
    #[serde(flatten)]
    pub kind: ActionKind,
    /// The metric it serves.
    pub metric: String,
    /// Counts 0..=max_count were considered.
    pub max_count: u32,
    /// Where the bound comes from.
    pub reason: String,
}

/// A metric's points in a score summary.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct MetricPoints {
    /// Metric id.
    pub id: String,
    /// Label.
    pub label: String,
    /// Value.
    pub value: Option<Decimal>,
    /// Points.
    pub points: Decimal,
    /// The cap.
    pub max_points: Decimal,
}

/// The parts of a [`PartnerScore`] a plan shows.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ScoreSummary {
    /// Enterprise or SMB.
    pub classification: Classification,
    /// Total points.
    pub total_points: Decimal,
    /// Whether qualified.
    pub qualified: bool,
    /// Points per metric, in rulebook order.
    pub metrics: Vec<MetricPoints>,
}

impl From<&PartnerScore> for ScoreSummary {
    fn from(s: &PartnerScore) -> Self {
        ScoreSummary {
            classification: s.classification,
            total_points: s.total_points,
            qualified: s.qualified,
            metrics: s
                .metrics
                .iter()
                .map(|m| MetricPoints {
                    id: m.id.clone(),
                    label: m.label.clone(),
                    value: m.value,
                    points: m.points,
                    max_points: m.max_points,
                })
                .collect(),
        }
    }
}

/// The cheapest way to qualify (or, when none is reachable, the best total).
#[derive(Clone, Debug, Serialize)]
pub struct Plan {
    /// The partner.
    pub partner_id: String,
    /// The period planned for.
    pub period: Period,
    /// The rulebook (`area/version`).
    pub rulebook: String,
    /// The currency of the costs.
    pub currency: String,
    /// Whether the plan qualifies the partner.
    pub reachable: bool,
    /// Whether the partner already qualifies (the plan is then empty).
    pub already_qualified: bool,
    /// The actions, in rulebook metric order.
    pub actions: Vec<PlannedAction>,
    /// The sum of the actions' costs.
    pub total_cost: Decimal,
    /// The records of the plan, for `pcs simulate --scenario`.
    pub scenario: Scenario,
    /// The score as the data stands.
    pub current: ScoreSummary,
    /// The score with the plan applied, as the engine computes it.
    pub result: ScoreSummary,
    /// How far each action was searched.
    pub bounds: Vec<SearchBound>,
    /// Remarks: why a target is unreachable, actions not available.
    pub notes: Vec<String>,
    /// Combinations of action counts enumerated.
    pub combinations: u64,
    /// Distinct scenarios scored by the engine.
    pub scenarios_scored: u64,
    /// The full simulated score (for reports).
    #[serde(skip)]
    pub simulated: PartnerScore,
}

// ---------------------------------------------------------------- records of the actions

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
    prefix: String,
    revenue: Option<(String, String)>,
    deployment: Option<UsageChoice>,
    growth: Option<UsagePair>,
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
fn usage_association(rb: &Rulebook, wl: &UsageWorkload) -> Option<String> {
    let a = rb.usage.families[wl.family].associations.iter().next()?;
    Some(rb.associations[a as usize].name.clone())
}

/// The smallest whole quantity whose MCV (quantity × rate) passes `threshold`.
fn whole_quantity_passing(threshold: Threshold, rate: Decimal) -> Decimal {
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

// ---------------------------------------------------------------- the search

/// A dimension searched alone.
struct Dim {
    kind: ActionKind,
    metric: usize,
    unit_cost: Decimal,
    threshold: Option<Threshold>,
    /// Counts 0..=bound are searched.
    bound: u32,
    /// The smallest count of each distinct points vector, with the vector
    /// (per-metric points). A larger count with the same points costs more
    /// for nothing, so only these are combined.
    levels: Vec<Level>,
}

/// A count and its per-metric points.
type Level = (u32, Vec<Decimal>);

/// A combination of the separable actions: cost, counts, per-metric points.
type Entry = (Decimal, Vec<u32>, Vec<Decimal>);

/// The smallest count of each distinct points vector in `0..=bound`, by
/// bisection: points never fall when records are added, so the counts
/// scoring like a given count form one run.
fn levels(
    bound: u32,
    base: &[Decimal],
    score: &mut dyn FnMut(u32) -> Result<Vec<Decimal>, ScenarioError>,
) -> Result<(Vec<Level>, u64), ScenarioError> {
    let mut memo: HashMap<u32, Vec<Decimal>> = HashMap::from([(0, base.to_vec())]);
    let mut get = |n: u32| -> Result<Vec<Decimal>, ScenarioError> {
        if let Some(v) = memo.get(&n) {
            return Ok(v.clone());
        }
        let v = score(n)?;
        memo.insert(n, v.clone());
        Ok(v)
    };
    let top = get(bound)?;
    let mut out = vec![(0u32, base.to_vec())];
    loop {
        let (c, cur) = out.last().expect("starts with count 0").clone();
        if cur == top || c == bound {
            break;
        }
        let (mut lo, mut hi) = (c, bound);
        while lo + 1 < hi {
            let mid = lo + (hi - lo) / 2;
            if get(mid)? != cur {
                hi = mid;
            } else {
                lo = mid;
            }
        }
        out.push((hi, get(hi)?));
    }
    Ok((out, memo.len() as u64 - 1))
}

fn points(s: &PartnerScore) -> Vec<Decimal> {
    s.metrics.iter().map(|m| m.points).collect()
}

/// The qualification test on predicted per-metric points. Only a filter for
/// the search: every plan is confirmed by the engine's own `qualified`.
fn predicted_qualified(rb: &Rulebook, v: &[Decimal]) -> bool {
    let q = &rb.qualification;
    v.iter().copied().sum::<Decimal>() >= q.min_total_points
        && (!q.every_metric_above_zero || v.iter().all(|p| *p > Decimal::ZERO))
}

/// Deployments and MCV growth: points per (deployments, MCV units), scored on demand.
struct UsageTable<'x, 'a> {
    actions: &'x Actions<'a>,
    unit: Decimal,
    /// Per number of deployments, the scored MCV unit counts.
    memo: HashMap<u32, BTreeMap<u32, Vec<Decimal>>>,
    error: Option<ScenarioError>,
}

/// `d` new deployments and `k` units of MCV growth.
fn usage_scenario(actions: &Actions, unit: Decimal, d: u32, k: u32) -> Scenario {
    let mut s = Scenario::default();
    actions.push_deployments(&mut s, d);
    if k > 0 {
        actions.push_mcv(&mut s, unit * Decimal::from(k), actions.period.latest_month);
    }
    s
}

/// The smallest `n` in `0..=hi` with `ok(n)`, given `ok(hi)` and a
/// predicate that stays true once true (bisection).
pub(crate) fn first_true(hi: u32, ok: &mut impl FnMut(u32) -> bool) -> u32 {
    if ok(0) {
        return 0;
    }
    let (mut lo, mut hi) = (0u32, hi);
    while lo + 1 < hi {
        let mid = lo + (hi - lo) / 2;
        if ok(mid) {
            hi = mid;
        } else {
            lo = mid;
        }
    }
    hi
}

/// The smallest `n` in `from..=cap` with `reached(n)`, for a predicate that
/// stays true once true (doubling, then bisection); `None` when even `cap`
/// does not reach.
fn first_reaching(from: u32, cap: u32, mut reached: impl FnMut(u32) -> bool) -> Option<u32> {
    if reached(from) {
        return Some(from);
    }
    let (mut lo, mut step) = (from, 1u32);
    let mut hi = loop {
        let next = lo.saturating_add(step).min(cap);
        if reached(next) {
            break next;
        }
        if next == cap {
            return None;
        }
        lo = next;
        step = step.saturating_mul(2);
    };
    while lo + 1 < hi {
        let mid = lo + (hi - lo) / 2;
        if reached(mid) {
            hi = mid;
        } else {
            lo = mid;
        }
    }
    Some(hi)
}

impl UsageTable<'_, '_> {
    fn get(&mut self, d: u32, k: u32) -> &[Decimal] {
        let known = self.memo.get(&d).is_some_and(|row| row.contains_key(&k));
        if !known {
            let v = match self
                .actions
                .score(&usage_scenario(self.actions, self.unit, d, k))
            {
                Ok(s) => points(&s),
                Err(e) => {
                    self.error.get_or_insert(e);
                    points(&self.actions.current)
                }
            };
            self.memo.entry(d).or_default().insert(k, v);
        }
        &self.memo[&d][&k]
    }

    /// The fewest MCV units in `0..=cap` with `ok` on the points, with `d`
    /// deployments (`ok` stays true once true). Bisection starts from the
    /// tightest bracket the units already scored give, so the searches of
    /// one row share their probes.
    fn min_k(&mut self, d: u32, cap: u32, ok: &dyn Fn(&[Decimal]) -> bool) -> Option<u32> {
        let (mut lo, mut hi): (Option<u32>, Option<u32>) = (None, None);
        if let Some(row) = self.memo.get(&d) {
            for (k, v) in row.range(..=cap) {
                if ok(v) {
                    hi = Some(*k);
                    break;
                }
                lo = Some(*k);
            }
        }
        let mut hi = match hi {
            Some(h) => h,
            None if lo == Some(cap) => return None,
            None if ok(self.get(d, cap)) => cap,
            None => return None,
        };
        let mut lo = match lo {
            Some(l) => l,
            None if ok(self.get(d, 0)) => return Some(0),
            None => 0,
        };
        while lo + 1 < hi {
            let mid = lo + (hi - lo) / 2;
            if ok(self.get(d, mid)) {
                hi = mid;
            } else {
                lo = mid;
            }
        }
        Some(hi)
    }
}

#[derive(Clone, Debug)]
struct Candidate {
    cost: Decimal,
    predicted: Vec<Decimal>,
    counts: Vec<u32>,
    d: u32,
    k: u32,
}

impl Candidate {
    fn total(&self) -> Decimal {
        self.predicted.iter().copied().sum()
    }
    fn units(&self) -> u64 {
        self.counts.iter().map(|c| u64::from(*c)).sum::<u64>() + u64::from(self.d + self.k)
    }
}

/// Finds the cheapest set of actions that qualifies the partner for the period.
///
/// ```
/// use pcs_core::facts::PartnerFacts;
/// use pcs_core::rulebook::RulebookSet;
/// use pcs_core::score::Period;
/// use pcs_insights::plan::{plan, Costs};
///
/// let set = RulebookSet::builtin();
/// let rb = &set.versions()[0];
/// let period = Period::for_month(rb, "2023-11".parse().unwrap());
/// // No usage in the baseline month: usage growth cannot score, so no plan qualifies.
/// let p = plan(rb, "P1", &PartnerFacts::default(), period, &Costs::default()).unwrap();
/// assert!(!p.reachable);
/// ```
pub fn plan(
    rb: &Rulebook,
    partner_id: &str,
    facts: &PartnerFacts,
    period: Period,
    costs: &Costs,
) -> Result<Plan, PlanError> {
    plan_search(rb, partner_id, facts, period, costs, false)
}

/// [`plan`], optionally without any pruning (every count of every action
/// within the bounds is combined: for tests of the pruning).
fn plan_search(
    rb: &Rulebook,
    partner_id: &str,
    facts: &PartnerFacts,
    period: Period,
    costs: &Costs,
    exhaustive_only: bool,
) -> Result<Plan, PlanError> {
    costs.check()?;
    let actions = Actions::new(rb, partner_id, facts, period);
    let current = actions.current.clone();
    let base = points(&current);
    let mut plan = Plan {
        partner_id: partner_id.to_string(),
        period,
        rulebook: rb.id(),
        currency: costs.currency.clone(),
        reachable: true,
        already_qualified: current.qualified,
        actions: Vec::new(),
        total_cost: Decimal::ZERO,
        scenario: Scenario::default(),
        current: ScoreSummary::from(&current),
        result: ScoreSummary::from(&current),
        bounds: Vec::new(),
        notes: Vec::new(),
        combinations: 0,
        scenarios_scored: 0,
        simulated: current.clone(),
    };
    if current.qualified {
        return Ok(plan);
    }
    let mut scored = 0u64;

    // The dimensions and their bounds.
    let mut dims: Vec<Dim> = Vec::new();
    let mut deployments: Option<usize> = None;
    let mut growth: Option<usize> = None;
    for (mi, (metric, ms)) in rb.metrics.iter().zip(&current.metrics).enumerate() {
        match &metric.shape {
            Shape::CertifiedPeople { level, .. } => {
                let kind = ActionKind::Certification {
                    level: level.clone(),
                };
                let (max, reason) = match (
                    costs.certification.get(level),
                    actions.certification_for(level),
                ) {
                    (None, _) => (0, format!("no cost is given for level '{level}'")),
                    (_, None) => (
                        0,
                        format!(
                            "no {level} certification is eligible on {}",
                            period.evaluation_date
                        ),
                    ),
                    (Some(_), Some(_)) => (units_to_max(ms), reach_reason(ms)),
                };
                let unit_cost = costs.certification.get(level).copied().unwrap_or_default();
                plan.bounds.push(SearchBound {
                    kind: kind.clone(),
                    metric: metric.id.clone(),
                    max_count: max,
                    reason,
                });
                dims.push(Dim {
                    kind,
                    metric: mi,
                    unit_cost,
                    threshold: None,
                    bound: max,
                    levels: Vec::new(),
                });
            }
            Shape::PairGrowth {
                source: PairSource::Revenue,
                ..
            } => {
                let threshold = pair_threshold(ms);
                let (max, reason) = match (actions.revenue_choice(), threshold) {
                    (Some(_), Some(_)) => (units_to_max(ms), reach_reason(ms)),
                    _ => (
                        0,
                        "the rulebook has no performance workload or association".to_string(),
                    ),
                };
                plan.bounds.push(SearchBound {
                    kind: ActionKind::CustomerWorkload,
                    metric: metric.id.clone(),
                    max_count: max,
                    reason,
                });
                dims.push(Dim {
                    kind: ActionKind::CustomerWorkload,
                    metric: mi,
                    unit_cost: costs.customer_workload,
                    threshold,
                    bound: max,
                    levels: Vec::new(),
                });
            }
            Shape::PairGrowth {
                source: PairSource::Usage,
                ..
            } => {
                if deployments.is_none() {
                    deployments = Some(mi);
                } else {
                    plan.notes.push(format!(
                        "metric '{}': only the first usage pair_growth metric is planned for",
                        metric.id
                    ));
                }
            }
            Shape::ConsumptionGrowth { .. } => {
                if growth.is_none() {
                    growth = Some(mi);
                } else {
                    plan.notes.push(format!(
                        "metric '{}': only the first consumption_growth metric is planned for",
                        metric.id
                    ));
                }
            }
        }
    }

    // Separable tables: one scenario per count tried.
    for dim in &mut dims {
        let (kind, threshold) = (dim.kind.clone(), dim.threshold);
        let mut score = |c: u32| -> Result<Vec<Decimal>, ScenarioError> {
            let mut s = Scenario::default();
            match &kind {
                ActionKind::Certification { level } => actions.push_people(&mut s, level, c),
                ActionKind::CustomerWorkload => actions.push_customer_workloads(
                    &mut s,
                    threshold.expect("a customer workload has a threshold"),
                    c,
                ),
                _ => unreachable!("usage actions are searched jointly"),
            }
            Ok(points(&actions.score(&s)?))
        };
        if exhaustive_only {
            dim.levels = (0..=dim.bound)
                .map(|c| Ok((c, score(c)?)))
                .collect::<Result<_, ScenarioError>>()?;
            scored += u64::from(dim.bound);
        } else {
            let (found, n) = levels(dim.bound, &base, &mut score)?;
            dim.levels = found;
            scored += n;
        }
    }

    // The usage table's bounds.
    let mut usage = UsageTable {
        actions: &actions,
        unit: costs.mcv_unit,
        memo: HashMap::new(),
        error: None,
    };
    usage.memo.entry(0).or_default().insert(0, base.clone());
    let mut d_max = 0u32;
    let mut every_d = false;
    if let Some(mi) = deployments {
        let ms = &current.metrics[mi];
        let (max, mut reason) = match actions.deployment() {
            Some(_) => (units_to_max(ms), reach_reason(ms)),
            None => (
                0,
                "no usage workload has a rate and an association type".to_string(),
            ),
        };
        d_max = max;
        // A deployment that adds no deployment points only adds MCV, which
        // is never cheaper than the same MCV bought as growth units unless a
        // deployment costs less than those units. Only then are all counts
        // combined, and searched further, until deployments alone also
        // reach the growth maximum; otherwise only the smallest count of each
        // deployments-points level.
        if let (Some(dep), Some(gi)) = (actions.deployment(), growth)
            && max > 0
        {
            let units = (dep.mcv / costs.mcv_unit).ceil();
            let gm = &current.metrics[gi];
            let growth_can_score = matches!(
                &gm.detail,
                MetricDetail::ConsumptionGrowth {
                    prerequisite_met: true,
                    ..
                }
            ) && gm.points < gm.max_points;
            let cheaper_mcv =
                actions.growth_pair().is_none() || costs.deployment < units * costs.mcv_growth;
            if growth_can_score && cheaper_mcv {
                every_d = true;
                d_max = first_reaching(d_max, MAX_UNITS, |d| usage.get(d, 0)[gi] >= gm.max_points)
                    .unwrap_or(MAX_UNITS);
                reason = format!(
                    "{reason}; a deployment ({}) costs less than its {} as growth, so \
                     deployments are searched until they alone reach the maximum of '{}'",
                    money(costs.deployment),
                    mcv(dep.mcv),
                    current.metrics[gi].id
                );
            }
        }
        plan.bounds.push(SearchBound {
            kind: ActionKind::Deployment,
            metric: ms.id.clone(),
            max_count: d_max,
            reason,
        });
    }
    let mut k_max = 0u32;
    if let Some(gi) = growth {
        let ms = &current.metrics[gi];
        let prerequisite_met = matches!(
            &ms.detail,
            MetricDetail::ConsumptionGrowth {
                prerequisite_met: true,
                ..
            }
        );
        let reason = if actions.growth_pair().is_none() {
            "no usage pair or workload to add MCV to".to_string()
        } else if !prerequisite_met {
            "the baseline prerequisite is not met: MCV growth cannot score".to_string()
        } else if ms.points >= ms.max_points {
            "the metric is at its maximum".to_string()
        } else {
            // The fewest units whose simulated growth reaches the maximum:
            // doubling, then bisection, with the engine.
            k_max = first_reaching(0, MAX_MCV_UNITS, |k| usage.get(0, k)[gi] >= ms.max_points)
                .unwrap_or(MAX_MCV_UNITS);
            format!(
                "{} units of {} reach the maximum of {} points (simulated)",
                k_max,
                mcv(costs.mcv_unit),
                thousands(ms.max_points)
            )
        };
        plan.bounds.push(SearchBound {
            kind: ActionKind::McvGrowth,
            metric: ms.id.clone(),
            max_count: k_max,
            reason,
        });
    }
    let usage_metrics: Vec<usize> = deployments.iter().chain(growth.iter()).copied().collect();
    // The numbers of deployments combined: all of them, or (when extra
    // deployments are dearer MCV than growth units) the smallest count of
    // each deployments-points level. MCV growth goes to one pair, which may
    // itself cross the deployment threshold, once: so the levels are taken
    // both without MCV growth and with the most.
    let ds: Vec<u32> = match deployments {
        Some(mi) if !every_d && !exhaustive_only => {
            let mut ds = Vec::new();
            for k in [0, k_max] {
                let (found, _) = levels(d_max, &[usage.get(0, k)[mi]], &mut |d| {
                    Ok(vec![usage.get(d, k)[mi]])
                })?;
                ds.extend(found.into_iter().map(|(d, _)| d));
            }
            ds.sort_unstable();
            ds.dedup();
            ds
        }
        _ => (0..=d_max).collect(),
    };

    // Enumerate.
    let sizes: Vec<usize> = dims.iter().map(|d| d.levels.len()).collect();
    let total: u128 = sizes.iter().map(|s| *s as u128).product::<u128>() * ds.len() as u128;
    if total > MAX_COMBINATIONS {
        return Err(PlanError::TooManyCombinations(total));
    }
    plan.combinations = total as u64;
    let cost_of = |counts: &[u32], d: u32, k: u32| -> Decimal {
        dims.iter()
            .zip(counts)
            .map(|(dim, c)| dim.unit_cost * Decimal::from(*c))
            .sum::<Decimal>()
            + costs.deployment * Decimal::from(d)
            + costs.mcv_growth * Decimal::from(k)
    };
    let combine = |sep: &[Decimal], u: &[Decimal]| -> Vec<Decimal> {
        sep.iter()
            .zip(u)
            .zip(&base)
            .map(|((s, u), b)| s + u - b)
            .collect()
    };
    let for_each_separable = |f: &mut dyn FnMut(&[u32], &[Decimal])| {
        let mut at = vec![0usize; dims.len()];
        loop {
            let mut v = base.clone();
            let mut counts = Vec::with_capacity(dims.len());
            for (dim, l) in dims.iter().zip(&at) {
                let (count, table) = &dim.levels[*l];
                counts.push(*count);
                for (i, p) in table.iter().enumerate() {
                    v[i] += p - base[i];
                }
            }
            f(&counts, &v);
            let mut i = 0;
            loop {
                if i == at.len() {
                    return;
                }
                at[i] += 1;
                if at[i] < sizes[i] {
                    break;
                }
                at[i] = 0;
                i += 1;
            }
        }
    };

    // What the qualification test depends on besides the usage table: the
    // other metrics' total, whether they are all positive, and the usage
    // metrics' points (unchanged by the separable actions).
    let key_of = |sep: &[Decimal]| -> Vec<Decimal> {
        let mut key = vec![
            sep.iter()
                .enumerate()
                .filter(|(i, _)| !usage_metrics.contains(i))
                .map(|(_, p)| *p)
                .sum(),
            Decimal::from(u8::from(
                sep.iter()
                    .enumerate()
                    .all(|(i, p)| usage_metrics.contains(&i) || *p > Decimal::ZERO),
            )),
        ];
        key.extend(usage_metrics.iter().map(|i| sep[*i]));
        key
    };
    let by_cost = |a: &Candidate, b: &Candidate| {
        (
            a.cost,
            std::cmp::Reverse(a.total()),
            a.units(),
            &a.counts,
            a.d,
            a.k,
        )
            .cmp(&(
                b.cost,
                std::cmp::Reverse(b.total()),
                b.units(),
                &b.counts,
                b.d,
                b.k,
            ))
    };

    // Branch and bound. Only the cheapest combination of each key can be
    // the cheapest plan, and of those only the ones no cheaper combination
    // beats on the other metrics' total (the Pareto frontier); a combination
    // leaving a metric at zero never qualifies. For each number of
    // deployments the frontier is visited by cost, the MCV units bisected up
    // to what could still beat the best plan found; the visit stops when even
    // no MCV could.
    let must_score = rb.qualification.every_metric_above_zero;
    let mut cheapest: HashMap<Vec<Decimal>, Entry> = HashMap::new();
    for_each_separable(&mut |counts, sep| {
        let key = key_of(sep);
        if must_score && key[1].is_zero() {
            return;
        }
        let cost = cost_of(counts, 0, 0);
        let entry = cheapest
            .entry(key)
            .or_insert_with(|| (cost, counts.to_vec(), sep.to_vec()));
        if (cost, counts) < (entry.0, entry.1.as_slice()) {
            *entry = (cost, counts.to_vec(), sep.to_vec());
        }
    });
    let mut entries: Vec<(Vec<Decimal>, Entry)> = cheapest.into_iter().collect();
    entries.sort_by(|a, b| (a.1.0, &a.1.1).cmp(&(b.1.0, &b.1.1)));
    let mut frontier: Vec<Entry> = Vec::new();
    let mut best_total: HashMap<Vec<Decimal>, Decimal> = HashMap::new();
    for (key, entry) in entries {
        // Dominated: a cheaper (or equal) combination with the same usage
        // points has at least this total.
        let rest = key[2..].to_vec();
        if best_total.get(&rest).is_some_and(|t| *t >= key[0]) {
            continue;
        }
        best_total.insert(rest, key[0]);
        frontier.push(entry);
    }
    let cheapest_entry = frontier.first().map(|e| e.0);
    let mut candidates: Vec<Candidate> = Vec::new();
    let mut best: Option<Decimal> = None;
    for &d in &ds {
        let d_cost = costs.deployment * Decimal::from(d);
        if let (Some(b), Some(c)) = (best, cheapest_entry)
            && c + d_cost > b
        {
            break;
        }
        for (sep_cost, counts, sep) in &frontier {
            let bound = sep_cost + d_cost;
            if best.is_some_and(|b| bound > b) {
                break;
            }
            let cap = match best {
                Some(b) if costs.mcv_growth > Decimal::ZERO => {
                    u32::try_from(((b - bound) / costs.mcv_growth).floor())
                        .unwrap_or(k_max)
                        .min(k_max)
                }
                _ => k_max,
            };
            let ok = |u: &[Decimal]| predicted_qualified(rb, &combine(sep, u));
            let Some(k) = usage.min_k(d, cap, &ok) else {
                continue;
            };
            let c = Candidate {
                cost: cost_of(counts, d, k),
                predicted: combine(sep, usage.get(d, k)),
                counts: counts.clone(),
                d,
                k,
            };
            best = Some(best.map_or(c.cost, |b| b.min(c.cost)));
            candidates.push(c);
        }
    }
    candidates.sort_by(by_cost);

    // Every combination, with the fewest MCV units that qualify on the
    // tables: only needed when the engine disagrees with the tables.
    let exhaustive = |usage: &mut UsageTable| -> Vec<Candidate> {
        let mut all: Vec<Candidate> = Vec::new();
        let mut min_k: HashMap<(u32, Vec<Decimal>), Option<u32>> = HashMap::new();
        for_each_separable(&mut |counts, sep| {
            for &d in &ds {
                let k = *min_k.entry((d, key_of(sep))).or_insert_with(|| {
                    let ok = |u: &[Decimal]| predicted_qualified(rb, &combine(sep, u));
                    usage.min_k(d, k_max, &ok)
                });
                if let Some(k) = k {
                    all.push(Candidate {
                        cost: cost_of(counts, d, k),
                        predicted: combine(sep, usage.get(d, k)),
                        counts: counts.to_vec(),
                        d,
                        k,
                    });
                }
            }
        });
        all.sort_by(by_cost);
        all
    };

    let build = |c: &Candidate| -> Scenario {
        let mut s = usage_scenario(&actions, costs.mcv_unit, c.d, c.k);
        for (dim, n) in dims.iter().zip(&c.counts) {
            match &dim.kind {
                ActionKind::Certification { level } => actions.push_people(&mut s, level, *n),
                ActionKind::CustomerWorkload => actions.push_customer_workloads(
                    &mut s,
                    dim.threshold.expect("a customer workload has a threshold"),
                    *n,
                ),
                _ => {}
            }
        }
        s
    };
    // Confirms a candidate: the scenario as `pcs simulate --scenario` reads
    // it back, applied and scored.
    let confirm = |c: &Candidate| -> Result<(Scenario, PartnerScore), PlanError> {
        let mut s = build(c);
        s.title = Some(format!(
            "pcs plan for {partner_id}, {}: {}",
            period.month,
            money(c.cost)
        ));
        let s = Scenario::from_toml(&s.to_toml())?;
        let score = actions.score(&s)?;
        Ok((s, score))
    };

    // The cheapest candidate whose real score qualifies.
    let mut chosen: Option<(Candidate, Scenario, PartnerScore)> = None;
    let mut rejected: Vec<(Decimal, Decimal, Decimal)> = Vec::new();
    let mut tried: Vec<(Vec<u32>, u32, u32)> = Vec::new();
    let mut searched_all = false;
    if exhaustive_only {
        candidates = exhaustive(&mut usage);
        searched_all = true;
    }
    loop {
        for c in &candidates {
            if rejected.len() >= MAX_VERIFICATIONS {
                break;
            }
            if tried.contains(&(c.counts.clone(), c.d, c.k)) {
                continue;
            }
            tried.push((c.counts.clone(), c.d, c.k));
            let (s, score) = confirm(c)?;
            scored += 1;
            if score.qualified {
                if points(&score) != c.predicted {
                    plan.notes.push(format!(
                        "the chosen combination scores {} points, not the {} the tables \
                         predicted; it qualifies all the same",
                        thousands(score.total_points),
                        thousands(c.total())
                    ));
                }
                chosen = Some((c.clone(), s, score));
                break;
            }
            rejected.push((c.cost, c.total(), score.total_points));
        }
        if chosen.is_some() || rejected.is_empty() || searched_all {
            break;
        }
        // The tables were wrong somewhere: consider every combination.
        candidates = exhaustive(&mut usage);
        searched_all = true;
    }
    if let Some((cost, predicted, real)) = rejected.first() {
        plan.notes.push(format!(
            "{} cheaper {} qualified on the tables but not when scored (the first, at {}, \
             was predicted {} points and scores {}): the next cheapest was tried each time",
            rejected.len(),
            if rejected.len() == 1 {
                "combination"
            } else {
                "combinations"
            },
            money(*cost),
            thousands(*predicted),
            thousands(*real)
        ));
    }
    if chosen.is_none() && rejected.len() >= MAX_VERIFICATIONS {
        plan.notes.push(format!(
            "the {MAX_VERIFICATIONS} cheapest combinations did not qualify when scored; \
             the search stopped there"
        ));
    }

    let (best, scenario, score) = match chosen {
        Some(x) => x,
        None => {
            // Unreachable: the best total within the bounds, at the least cost.
            plan.reachable = false;
            // Per number of deployments, the fewest units with the most usage points.
            let mut k_sat: HashMap<u32, u32> = HashMap::new();
            for &d in &ds {
                let mut sum = |k: u32| -> Decimal {
                    let v = usage.get(d, k);
                    usage_metrics.iter().map(|i| v[*i]).sum()
                };
                let top = sum(k_max);
                k_sat.insert(d, first_true(k_max, &mut |k| sum(k) >= top));
            }
            let mut best: Option<Candidate> = None;
            for_each_separable(&mut |counts, sep| {
                for &d in &ds {
                    let k = k_sat[&d];
                    let c = Candidate {
                        cost: cost_of(counts, d, k),
                        predicted: combine(sep, usage.get(d, k)),
                        counts: counts.to_vec(),
                        d,
                        k,
                    };
                    let better = match &best {
                        None => true,
                        Some(b) => {
                            (std::cmp::Reverse(c.total()), c.cost, c.units())
                                < (std::cmp::Reverse(b.total()), b.cost, b.units())
                        }
                    };
                    if better {
                        best = Some(c);
                    }
                }
            });
            let best = best.expect("the empty combination is a candidate");
            let (s, score) = confirm(&best)?;
            scored += 1;
            plan.notes.extend(unreachable_notes(rb, &current, &score));
            (best, s, score)
        }
    };
    if let Some(e) = usage.error {
        return Err(e.into());
    }
    scored += usage.memo.values().map(|r| r.len() as u64).sum::<u64>() - 1;

    // The plan.
    if best.units() == 0 {
        plan.scenario = Scenario::default();
    } else {
        plan.scenario = scenario;
    }
    for (dim, n) in dims.iter().zip(&best.counts) {
        if *n > 0 {
            plan.actions.push(planned(&actions, dim, *n));
        }
    }
    if best.d > 0
        && let (Some(mi), Some(dep)) = (deployments, actions.deployment())
    {
        plan.actions.push(PlannedAction {
            kind: ActionKind::Deployment,
            metric: rb.metrics[mi].id.clone(),
            count: best.d,
            unit_cost: costs.deployment,
            cost: costs.deployment * Decimal::from(best.d),
            description: format!(
                "deploy {} new {} at {} each ({} {} of {}, {}) in {}",
                best.d,
                if best.d == 1 { "customer" } else { "customers" },
                mcv(dep.mcv),
                thousands(dep.quantity),
                dep.unit.as_deref().unwrap_or("units"),
                dep.workload,
                dep.association,
                period.latest_month
            ),
        });
    }
    if best.k > 0
        && let (Some(mi), Some(g)) = (growth, actions.growth_pair())
    {
        let target = costs.mcv_unit * Decimal::from(best.k);
        let quantity = quantity_for_mcv(target, g.rate);
        plan.actions.push(PlannedAction {
            kind: ActionKind::McvGrowth,
            metric: rb.metrics[mi].id.clone(),
            count: best.k,
            unit_cost: costs.mcv_growth,
            cost: costs.mcv_growth * Decimal::from(best.k),
            description: format!(
                "add {} in {} ({} more {} of {} at {}{})",
                mcv(quantity * g.rate),
                period.latest_month,
                thousands(quantity),
                g.unit.as_deref().unwrap_or("units"),
                g.workload,
                g.customer(),
                if g.existing { "" } else { ", a new customer" }
            ),
        });
    }
    plan.actions.sort_by_key(|a| {
        rb.metrics
            .iter()
            .position(|m| m.id == a.metric)
            .unwrap_or(usize::MAX)
    });
    plan.total_cost = best.cost;
    plan.result = ScoreSummary::from(&score);
    plan.simulated = score;
    plan.scenarios_scored = scored;
    Ok(plan)
}

fn reach_reason(ms: &MetricScore) -> String {
    if ms.points >= ms.max_points {
        return "the metric is at its maximum".to_string();
    }
    if ms.points_per_unit <= Decimal::ZERO {
        return "the metric gives no points per unit".to_string();
    }
    let mut text = format!(
        "from value {} to the {} points maximum at {} per unit",
        thousands(ms.value.unwrap_or_default()),
        thousands(ms.max_points),
        thousands(ms.points_per_unit)
    );
    if let MetricDetail::CertifiedPeople {
        full_points_at: Some(f),
        ..
    } = &ms.detail
    {
        text.push_str(&format!(" (full points from {f} people)"));
    }
    text
}

fn planned(actions: &Actions, dim: &Dim, n: u32) -> PlannedAction {
    let metric = actions.rb.metrics[dim.metric].id.clone();
    let description = match &dim.kind {
        ActionKind::Certification { level } => {
            let cert = actions
                .certification_for(level)
                .map(|c| c.name.clone())
                .unwrap_or_default();
            format!(
                "certify {n} more {} at level {level} (e.g. {cert})",
                if n == 1 { "person" } else { "people" }
            )
        }
        ActionKind::CustomerWorkload => {
            let (workload, association) = actions.revenue_choice().cloned().unwrap_or_default();
            let amount = dim.threshold.map(amount_passing).unwrap_or_default();
            format!(
                "win {n} new customer {} of {} each (e.g. {workload}, {association}) in {}",
                if n == 1 { "workload" } else { "workloads" },
                money(amount),
                actions.period.latest_month
            )
        }
        _ => String::new(),
    };
    PlannedAction {
        kind: dim.kind.clone(),
        metric,
        count: n,
        unit_cost: dim.unit_cost,
        cost: dim.unit_cost * Decimal::from(n),
        description,
    }
}

/// Why the best reachable score does not qualify.
fn unreachable_notes(rb: &Rulebook, current: &PartnerScore, best: &PartnerScore) -> Vec<String> {
    let mut notes = Vec::new();
    for (m, cur) in best.metrics.iter().zip(&current.metrics) {
        if !m.points.is_zero() || !rb.qualification.every_metric_above_zero {
            continue;
        }
        match &cur.detail {
            MetricDetail::ConsumptionGrowth {
                baseline_mcv,
                baseline_minimum,
                prerequisite_met: false,
                ..
            } => notes.push(format!(
                "{} scores 0: baseline MCV {} (in {}) is not {} {}, and a plan only \
                 changes the latest month",
                m.label,
                thousands(*baseline_mcv),
                current.period.baseline_month,
                baseline_minimum.comparison.symbol(),
                thousands(baseline_minimum.value)
            )),
            _ => notes.push(format!(
                "{} still scores 0 with every planned action at its bound",
                m.label
            )),
        }
    }
    if best.total_points < rb.qualification.min_total_points {
        notes.push(format!(
            "the best total within the bounds is {} points, below the {} required",
            thousands(best.total_points),
            thousands(rb.qualification.min_total_points)
        ));
    } else if !best.qualified {
        notes.push(format!(
            "the best total within the bounds is {} points, but not every metric scores",
            thousands(best.total_points)
        ));
    }
    notes
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scenario::simulate;
    use crate::testing::Case;

    fn d(s: &str) -> Decimal {
        s.parse().unwrap()
    }

    /// An SMB partner scoring 0 everywhere, but with 25,000 MCV of Power BI
    /// in both months: the usage growth prerequisite is met.
    fn zero_smb() -> Case {
        Case::new()
            .usage("base", "Power BI", "2023-10", "125")
            .usage("base", "Power BI", "2022-10", "125")
    }

    fn counts(p: &Plan) -> Vec<(String, u32)> {
        p.actions
            .iter()
            .map(|a| {
                let k = match &a.kind {
                    ActionKind::Certification { level } => level.clone(),
                    ActionKind::CustomerWorkload => "customer_workload".into(),
                    ActionKind::Deployment => "deployment".into(),
                    ActionKind::McvGrowth => "mcv_growth".into(),
                };
                (k, a.count)
            })
            .collect()
    }

    fn run(c: &Case, costs: &Costs) -> Plan {
        plan(&c.rb, "P", &c.facts(), c.period("2023-11"), costs).unwrap()
    }

    /// The plan's scenario, read back from TOML and simulated, gives the
    /// plan's promised score.
    fn assert_reproduced(c: &Case, p: &Plan) {
        let s = Scenario::from_toml(&p.scenario.to_toml()).unwrap();
        let cmp = simulate(&c.rb, "P", &c.facts(), c.period("2023-11"), &s).unwrap();
        assert_eq!(ScoreSummary::from(&cmp.simulated), p.result);
        assert_eq!(
            p.total_cost,
            p.actions.iter().map(|a| a.cost).sum::<Decimal>()
        );
    }

    #[test]
    fn zero_smb_partner_gets_the_hand_computed_cheapest_plan() {
        // By hand (SMB, defaults): every metric needs one action: 1 customer
        // workload (5,000, 3 pts), 1 deployment (3,000: 4 pts and 5,000 MCV,
        // i.e. 20% growth = 20 pts), 1 intermediate (1,500, 4 pts), 1
        // advanced (4,000, 7.5 pts): 38.5 points for 13,500. The cheapest
        // points after that: MCV growth at 4 points per 400 (1,000 MCV = 4%)
        // up to the 30-point cap (2 units: +8; a third gives only +2), then
        // intermediate people at 4 per 1,500 (4 more: +16), then a second
        // advanced (+7.5 for 4,000) -> 28 + 4 + 3 + 20 + 15 = 70 for 24,300.
        let c = zero_smb();
        let p = run(&c, &Costs::default());
        assert!(p.reachable && !p.already_qualified);
        assert_eq!(
            counts(&p),
            vec![
                ("customer_workload".to_string(), 1),
                ("intermediate".to_string(), 5),
                ("advanced".to_string(), 2),
                ("mcv_growth".to_string(), 2),
                ("deployment".to_string(), 1),
            ]
        );
        assert_eq!(p.total_cost, d("24300"));
        assert_eq!(p.result.total_points, d("70"));
        assert!(p.result.qualified);
        assert_eq!(p.result.classification, Classification::Smb);
        let pts: Vec<String> = p
            .result
            .metrics
            .iter()
            .map(|m| m.points.to_string())
            .collect();
        assert_eq!(pts, ["3", "20", "15", "28", "4"]);
        assert_reproduced(&c, &p);
    }

    #[test]
    fn plan_bounds_come_from_the_rulebook() {
        let p = run(&zero_smb(), &Costs::default());
        let b: Vec<(String, u32)> = p
            .bounds
            .iter()
            .map(|b| (b.metric.clone(), b.max_count))
            .collect();
        // 15/3, 20/4, min(15/7.5, full at 2), 20/4, 7,500 MCV / 1,000.
        assert_eq!(
            b,
            [
                ("net_customer_adds".to_string(), 5),
                ("intermediate_certifications".to_string(), 5),
                ("advanced_certifications".to_string(), 2),
                ("deployments".to_string(), 5),
                ("usage_growth".to_string(), 8),
            ]
        );
    }

    #[test]
    fn already_qualified_gives_an_empty_plan() {
        let c = zero_smb();
        let p = run(&c, &Costs::default());
        // Apply the plan to the data, then plan again: nothing to do.
        let facts = p
            .scenario
            .apply(&c.rb, "P", &c.facts(), c.period("2023-11"))
            .unwrap();
        let again = plan(&c.rb, "P", &facts, c.period("2023-11"), &Costs::default()).unwrap();
        assert!(again.reachable && again.already_qualified);
        assert!(again.actions.is_empty() && again.scenario.is_empty());
        assert_eq!(again.total_cost, Decimal::ZERO);
        assert_eq!(again.result.total_points, d("70"));
    }

    #[test]
    fn no_baseline_usage_is_unreachable_and_says_why() {
        // Usage growth needs baseline MCV; a plan only adds to the latest month.
        let c = Case::new();
        let p = run(&c, &Costs::default());
        assert!(!p.reachable && !p.result.qualified);
        assert!(
            p.notes
                .iter()
                .any(|n| n.contains("baseline MCV 0 (in 2022-10) is not ≥ 25,000")),
            "{:?}",
            p.notes
        );
        // The best total within the bounds: every other metric at its
        // maximum, at the least cost: 5 customer workloads (25,000), 5
        // intermediate (7,500), 2 advanced (8,000), 5 deployments (15,000).
        assert_eq!(p.result.total_points, d("70"));
        assert_eq!(p.total_cost, d("55500"), "{:?}", counts(&p));
        assert_reproduced(&c, &p);
    }

    #[test]
    fn a_minimum_above_the_sum_of_the_caps_is_unreachable() {
        let text = pcs_core::rulebook::BUILTIN[0]
            .1
            .replace("min_total_points = 70", "min_total_points = 101");
        let mut c = zero_smb();
        c.rb = Rulebook::from_toml(&text, "edited").unwrap();
        let p = run(&c, &Costs::default());
        assert!(!p.reachable);
        assert_eq!(p.result.total_points, d("100"));
        assert!(
            p.notes
                .iter()
                .any(|n| n.contains("best total within the bounds is 100"))
        );
        assert_reproduced(&c, &p);
    }

    #[test]
    fn a_level_without_a_cost_is_not_planned() {
        let costs = Costs::from_toml("[certification]\nintermediate = 1500\n").unwrap();
        assert_eq!(
            costs.deployment,
            d("3000"),
            "other keys keep their defaults"
        );
        let p = run(&zero_smb(), &costs);
        assert!(!p.reachable);
        let adv = p
            .bounds
            .iter()
            .find(|b| b.metric == "advanced_certifications");
        assert_eq!(adv.unwrap().max_count, 0);
        assert!(
            p.notes
                .iter()
                .any(|n| n.contains("Advanced certifications still scores 0"))
        );
    }

    #[test]
    fn costs_are_checked() {
        assert!(Costs::from_toml("deployment = -1").is_err());
        assert!(Costs::from_toml("mcv_unit = 0").is_err());
        assert!(Costs::from_toml("bogus = 1").is_err());
        let c = Costs::from_toml("mcv_growth = 0.5\ncurrency = \"EUR\"").unwrap();
        assert_eq!((c.mcv_growth, c.currency.as_str()), (d("0.5"), "EUR"));
    }

    #[test]
    fn expensive_growth_makes_deployments_search_further() {
        // 1,000 MCV at 2,000: a deployment (3,000 for 5,000 MCV) is cheaper
        // MCV, so more deployments than the deployments cap are considered.
        let costs = Costs {
            mcv_growth: d("2000"),
            ..Costs::default()
        };
        let c = zero_smb();
        let p = run(&c, &costs);
        let dep = p.bounds.iter().find(|b| b.metric == "deployments").unwrap();
        assert_eq!(dep.max_count, 5);
        assert!(p.reachable);
        assert!(p.total_cost <= greedy(&c, &costs).unwrap().0);
        assert_reproduced(&c, &p);
        let costs = Costs {
            deployment: d("1000"),
            ..Costs::default()
        };
        let p = run(&c, &costs);
        let dep = p.bounds.iter().find(|b| b.metric == "deployments").unwrap();
        assert!(dep.reason.contains("costs less"), "{}", dep.reason);
        assert!(p.total_cost <= greedy(&c, &costs).unwrap().0);
        assert_reproduced(&c, &p);
    }

    #[test]
    fn a_combination_the_engine_disagrees_with_is_skipped() {
        // A second revenue metric with a higher threshold: a customer at its
        // threshold also counts for net customer adds, so the separable
        // tables double-count past net customer adds' cap. Each plan is
        // still the engine's score, and qualifies.
        let extra = r#"
[[metric]]
id = "big_customer_adds"
label = "Big customer adds"
category = "performance"
shape = "pair_growth"
source = "revenue"
max_points = 15
points_per_unit = { enterprise = 3, smb = 3 }
pair_threshold = { comparison = ">=", enterprise = 3000, smb = 1000 }
"#;
        let text = format!("{}{extra}", pcs_core::rulebook::BUILTIN[0].1)
            .replace("min_total_points = 70", "min_total_points = 95");
        let mut c = zero_smb();
        c.rb = Rulebook::from_toml(&text, "edited").unwrap();
        let costs = Costs {
            customer_workload: d("100"),
            ..Costs::default()
        };
        let p = run(&c, &costs);
        assert!(p.reachable && p.result.qualified, "{:#?}", p.notes);
        assert!(
            p.notes
                .iter()
                .any(|n| n.contains("the next cheapest was tried")),
            "{:#?}",
            p.notes
        );
        assert_reproduced(&c, &p);
    }

    #[test]
    fn growth_that_makes_a_deployment_is_found() {
        // Found by `pruning_loses_nothing`: 25,000 MCV in the baseline month
        // only (one deployment lost), and free MCV growth. Growth goes to that
        // pair, which then counts as a deployment again: with one new
        // deployment, the deployments value is 1.
        let c = Case::new()
            .usage("u0", "Power BI", "2022-10", "125")
            .rev("r0", "Sales", "2022-10", "300");
        let costs = Costs {
            certification: BTreeMap::from([
                ("intermediate".to_string(), d("500")),
                ("advanced".to_string(), d("500")),
            ]),
            customer_workload: d("500"),
            deployment: d("1000"),
            mcv_growth: Decimal::ZERO,
            ..Costs::default()
        };
        let period = c.period("2023-11");
        let fast = run(&c, &costs);
        let all = plan_search(&c.rb, "P", &c.facts(), period, &costs, true).unwrap();
        assert_eq!(fast.total_cost, all.total_cost);
        let deployments = fast
            .actions
            .iter()
            .find(|a| a.kind == ActionKind::Deployment);
        assert_eq!(deployments.map(|a| a.count), Some(1), "{:?}", counts(&fast));
        assert_reproduced(&c, &fast);
    }

    /// A greedy planner: first one action for each metric at zero, then the
    /// action with the most points per unit of cost, until qualified.
    fn greedy(c: &Case, costs: &Costs) -> Option<(Decimal, PartnerScore)> {
        let facts = c.facts();
        let period = c.period("2023-11");
        let actions = Actions::new(&c.rb, "P", &facts, period);
        let threshold = pair_threshold(actions.current.metric("net_customer_adds").unwrap());
        let unit = [
            costs.certification["intermediate"],
            costs.certification["advanced"],
            costs.customer_workload,
            costs.deployment,
            costs.mcv_growth,
        ];
        let build = |n: &[u32; 5]| {
            let mut s = Scenario::default();
            actions.push_people(&mut s, "intermediate", n[0]);
            actions.push_people(&mut s, "advanced", n[1]);
            if let Some(t) = threshold {
                actions.push_customer_workloads(&mut s, t, n[2]);
            }
            actions.push_deployments(&mut s, n[3]);
            if n[4] > 0 {
                actions.push_mcv(
                    &mut s,
                    costs.mcv_unit * Decimal::from(n[4]),
                    period.latest_month,
                );
            }
            s
        };
        let cost = |n: &[u32; 5]| -> Decimal {
            n.iter().zip(unit).map(|(n, u)| u * Decimal::from(*n)).sum()
        };
        let mut n = [0u32; 5];
        for _ in 0..100 {
            let now = actions.score(&build(&n)).unwrap();
            if now.qualified {
                return Some((cost(&n), now));
            }
            let zeros = now.zero_metrics().len();
            let mut best: Option<(usize, Decimal, usize)> = None;
            for i in 0..5 {
                let mut m = n;
                m[i] += 1;
                let s = actions.score(&build(&m)).unwrap();
                let fixed = zeros.saturating_sub(s.zero_metrics().len());
                let gain = s.total_points - now.total_points;
                if fixed == 0 && gain <= Decimal::ZERO {
                    continue;
                }
                let ratio = if unit[i].is_zero() {
                    Decimal::MAX
                } else {
                    gain / unit[i]
                };
                if best.is_none_or(|(f, r, _)| (fixed, ratio) > (f, r)) {
                    best = Some((fixed, ratio, i));
                }
            }
            n[best?.2] += 1;
        }
        None
    }

    #[test]
    fn the_plan_is_never_dearer_than_greedy() {
        let c = zero_smb();
        let p = run(&c, &Costs::default());
        let (g, score) = greedy(&c, &Costs::default()).unwrap();
        assert!(score.qualified);
        assert!(p.total_cost <= g, "plan {} greedy {g}", p.total_cost);
        // Greedy buys the growth cap first, then pays for the cheap points.
        assert!(p.total_cost < g, "plan {} greedy {g}", p.total_cost);
    }

    mod random {
        use super::*;
        use proptest::prelude::*;

        const USAGE: [&str; 4] = ["Power BI", "Business Central", "Sales", "Customer Insights"];
        const REVENUE: [&str; 3] = ["Sales", "Finance", "Power BI"];
        const CERTS: [&str; 5] = [
            "data-analyst-associate",
            "power-platform-app-maker",
            "power-platform-solution-architect-expert",
            "power-apps-and-d365-solution-architect-expert",
            "d365-functional-consultant-sales",
        ];

        #[derive(Clone, Debug)]
        struct Partner {
            usage: Vec<(u8, usize, bool, u32)>,
            revenue: Vec<(u8, usize, bool, u32)>,
            certs: Vec<(u8, usize, bool)>,
        }

        fn partner() -> impl Strategy<Value = Partner> {
            (
                prop::collection::vec((0u8..4, 0..USAGE.len(), any::<bool>(), 0u32..200), 0..6),
                prop::collection::vec((0u8..7, 0..REVENUE.len(), any::<bool>(), 0u32..80), 0..12),
                prop::collection::vec((0u8..5, 0..CERTS.len(), any::<bool>()), 0..5),
            )
                .prop_map(|(usage, revenue, certs)| Partner {
                    usage,
                    revenue,
                    certs,
                })
        }

        /// Five pairs above $5,000 in both months: Enterprise.
        fn large_pairs(mut c: Case) -> Case {
            for i in 0..5 {
                let t = format!("E{i}");
                c = c
                    .rev(&t, "Finance", "2023-10", "6000")
                    .rev(&t, "Finance", "2022-10", "6000");
            }
            c
        }

        fn case(p: &Partner) -> Case {
            let month = |latest: bool| if latest { "2023-10" } else { "2022-10" };
            let mut c = Case::new();
            for (t, w, latest, q) in &p.usage {
                // Quantities in steps that give MCV in steps of 1,000 or so.
                let q = match USAGE[*w] {
                    "Business Central" => q / 4,
                    "Customer Insights" => q * 1000,
                    _ => q * 5,
                };
                c = c.usage(&format!("u{t}"), USAGE[*w], month(*latest), &q.to_string());
            }
            for (t, w, latest, a) in &p.revenue {
                c = c.rev(
                    &format!("r{t}"),
                    REVENUE[*w],
                    month(*latest),
                    &(a * 100).to_string(),
                );
            }
            for (person, cert, expires) in &p.certs {
                c = c.cert(
                    &format!("p{person}"),
                    CERTS[*cert],
                    "2022-01-01",
                    expires.then_some("2023-06-30"),
                );
            }
            c
        }

        fn costs() -> impl Strategy<Value = Costs> {
            (1u32..8, 1u32..12, 1u32..12, 1u32..8, 0u32..12).prop_map(|(i, a, c, dep, m)| Costs {
                certification: BTreeMap::from([
                    ("intermediate".to_string(), Decimal::from(i * 500)),
                    ("advanced".to_string(), Decimal::from(a * 500)),
                ]),
                customer_workload: Decimal::from(c * 500),
                deployment: Decimal::from(dep * 500),
                mcv_growth: Decimal::from(m * 100),
                ..Costs::default()
            })
        }

        proptest! {
            #![proptest_config(ProptestConfig::with_cases(32))]

            /// Branch and bound finds the cost of the exhaustive search.
            #[test]
            fn pruning_loses_nothing(p in partner(), costs in costs(), enterprise in any::<bool>()) {
                let mut c = case(&p);
                if enterprise {
                    c = large_pairs(c);
                }
                let period = c.period("2023-11");
                let fast = plan(&c.rb, "P", &c.facts(), period, &costs).unwrap();
                let all = plan_search(&c.rb, "P", &c.facts(), period, &costs, true).unwrap();
                prop_assert_eq!(fast.reachable, all.reachable);
                if fast.reachable {
                    prop_assert_eq!(fast.total_cost, all.total_cost);
                    prop_assert!(fast.result.qualified);
                }
                assert_reproduced(&c, &fast);
            }

            /// The plan's scenario reproduces the promised score, and the
            /// plan costs no more than the greedy one.
            #[test]
            fn plans_are_reproducible_and_beat_greedy(p in partner(), enterprise in any::<bool>()) {
                let mut c = case(&p);
                if enterprise {
                    c = large_pairs(c);
                }
                let costs = Costs::default();
                let plan = run(&c, &costs);
                assert_reproduced(&c, &plan);
                if plan.reachable {
                    prop_assert!(plan.result.qualified);
                } else {
                    prop_assert!(!plan.result.qualified);
                }
                if let Some((g, _)) = greedy(&c, &costs) {
                    prop_assert!(plan.reachable);
                    prop_assert!(plan.total_cost <= g, "plan {} greedy {}", plan.total_cost, g);
                }
            }
        }
    }
}
