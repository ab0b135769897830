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

use std::collections::BTreeMap;

use pcs_core::Decimal;
use pcs_core::facts::PartnerFacts;
use pcs_core::rulebook::{Classification, Rulebook};
use pcs_core::score::{PartnerScore, Period};
use serde::{Deserialize, Serialize};

use crate::scenario::{Scenario, ScenarioError};

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

mod actions;
mod combine;
mod tables;
mod verify;

pub(crate) use actions::{
    Actions, amount_failing, amount_passing, customer_label, pair_threshold, quantity_for_mcv,
    units_to_max,
};
pub(crate) use tables::first_true;

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

    // 1. Bounds and point tables, from the rulebook and the engine.
    let (t, mut usage) = tables::tables(&actions, costs, exhaustive_only, &mut plan, &mut scored)?;
    // 2. Combination with pruning.
    let candidates = combine::candidates(&t, &mut usage, rb, costs, &mut plan)?;
    // 3. Confirmation by the engine.
    let chosen = verify::choose(
        &t,
        &mut usage,
        &actions,
        costs,
        candidates,
        exhaustive_only,
        &mut plan,
        &mut scored,
    )?;
    let chosen = match chosen {
        Some(c) => c,
        None => {
            plan.reachable = false;
            verify::best_within_bounds(&t, &mut usage, &actions, costs, &mut plan, &mut scored)?
        }
    };
    if let Some(e) = usage.error {
        return Err(e.into());
    }
    scored += usage.memo.values().map(|r| r.len() as u64).sum::<u64>() - 1;
    verify::write(&mut plan, &t, &actions, costs, chosen, scored);
    Ok(plan)
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
