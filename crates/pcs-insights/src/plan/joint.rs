//! `pcs plan --area A --area B …`: the cheapest set of actions that
//! qualifies a partner in every named solution area at once.
//!
//! An action is valued once, whatever the number of areas it helps: one
//! person certified Data Analyst Associate counts in Business Applications
//! and in Azure Data & AI; one customer with Intune seats in Modern Work
//! and in Security. No points are computed here: every candidate is a
//! [`Scenario`] applied to the partner's facts through the same builder as
//! real rows ([`AreaSet::apply`]) and scored by the engines.
//!
//! The actions ([`JointKind`]) are *templates*, each repeated a number of
//! times, with their amounts taken from the rulebooks (thresholds, seat
//! bands) and their costs from [`Costs`]:
//!
//! - one more person holding a certification: certifications that count
//!   in exactly the same metrics and steps of every area in force and cost
//!   the same are one template (the first one listed stands for them);
//! - Business Applications' new customer workload, new deployment and MCV
//!   unit (as in [`super::plan`]);
//! - a new customer with ACR at the highest net-adds amount of the areas,
//!   ACR on one more Azure service, a unit of ACR growth on the partner's
//!   largest eligible (tenant, service);
//! - per Microsoft 365 workload of a seat test, a new customer with the
//!   seats that pass it, every seat active; a unit of active users growth.
//!
//! The templates are derived from every area rulebook in force, whatever
//! the areas named; a plan keeps those that can count in a named area (by
//! the rules' structure: a certification in a metric or prerequisite step
//! of the area, a table the area reads), and of people whose certifications
//! count in exactly the same places of the named areas, the cheapest; a
//! person whose certification counts in a strict superset of another's
//! places at no higher cost replaces the other (one more certified person
//! never lowers a metric, so the other is never needed). So a
//! plan for one area and a joint plan choose among the same actions.
//!
//! **The search.** Each template is searched from 0 to a bound: the count
//! that takes the metrics it feeds from zero to their maximum (people: the
//! largest `full_points_at`, points cap or prerequisite step; new
//! customers: the largest entity metric's count plus the partner's
//! tenants). Growth units (MCV, ACR, active users) are bounded with the
//! engine: doubling until one more doubling changes no named area's points,
//! then bisection; this assumes no plateau before the maximum. First,
//! every template at its bound is scored: an area not qualified then cannot
//! be reached by these actions, and is reported with why (its metrics at
//! zero, or the best total); the plan is made for the other areas. Areas
//! that share no action are planned apart (their costs add). Then, per
//! group of areas, count vectors are visited in order of cost (a uniform-cost search over
//! the lattice of counts, each vector reached once, by raising counts in
//! template order), each applied and scored by the engines: the first one
//! that qualifies every reachable named area is the cheapest within the
//! bounds, so the search is **exact within its bounds** (`exact: true`).
//! `cheapest` gives that answer with much less work (scores remembered
//! per area, subtrees cut, an A* order; see there); a test compares it
//! with the plain search.
//! It stops at its [`Budget`] ([`MAX_JOINT_SCENARIOS`] scored scenarios by
//! default, and optionally a time read from the caller's clock); the plan
//! then says so (`exact: false`, `stopped_by`) and a greedy search, with
//! the same budget again, takes over (`greedy:
//! true`): the units of one template (up to 8), else of two templates at
//! once (1 or 2 each: prerequisite steps score only together), that remove
//! the most shortfall per unit of cost (points below the minimum plus one
//! per metric at zero), until every area qualifies, then every unit that
//! can be taken back is. That plan qualifies (verified like any other) but
//! is not proven cheapest.
//!
//! **Verification.** The winner's scenario is written as TOML, read back,
//! applied and scored again with the full explanation: the plan reports
//! those scores, never a sum of tables.

use std::cmp::Reverse;
use std::collections::{BTreeMap, BinaryHeap, HashMap};

use pcs_core::Decimal;
use pcs_core::area::{
    AreaMetricRule, AreaRulebook, AreaScore, AreaShape, Entity, Filter, Measure, Source,
    score_area, score_area_with,
};
use pcs_core::display::thousands;
use pcs_core::facts::PartnerFacts;
use pcs_core::rulebook::{PairSource, Shape, Threshold};
use pcs_core::score::{Detail, PartnerScore, Period, score_partner, score_partner_with};
use serde::Serialize;

use super::{Actions, Costs, MAX_UNITS, MetricPoints, PlanError, amount_passing, pair_threshold};
use crate::scenario::{AcrAdd, AreaSet, CertificationAdd, LicenseAdd, Scenario, ScenarioError};

/// The joint search scores at most this many scenarios; past it the plan
/// says that it stopped (`exact: false`) instead of guessing.
pub const MAX_JOINT_SCENARIOS: u64 = 20_000;

/// People per certification are searched up to at most this many.
const MAX_PEOPLE: u32 = 50;

/// How much work a joint plan may do: a number of scenarios scored by the
/// engines and, optionally, a time. Each of the two searches (the exact
/// one, then the greedy one if the exact one stopped) gets the whole
/// budget; the verification of the winner is not counted.
///
/// The time is read from a clock the caller passes in (the server's, at
/// its edge): nothing here reads a clock.
#[derive(Clone, Copy)]
pub struct Budget<'c> {
    /// Scenarios scored by the engines, per search.
    pub scenarios: u64,
    /// The time elapsed since the start (a clock of the caller's) and the
    /// most each search may take; `None`: no time limit.
    pub time: Option<(&'c dyn Fn() -> std::time::Duration, std::time::Duration)>,
}

impl Default for Budget<'_> {
    /// [`MAX_JOINT_SCENARIOS`] scenarios, no time limit (`pcs plan`).
    fn default() -> Self {
        Budget {
            scenarios: MAX_JOINT_SCENARIOS,
            time: None,
        }
    }
}

impl std::fmt::Debug for Budget<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Budget")
            .field("scenarios", &self.scenarios)
            .field("time", &self.time.map(|t| t.1))
            .finish()
    }
}

/// What stopped a search before it finished.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Stop {
    /// It scored as many scenarios as its budget allows, or visited
    /// [`VISITS_PER_SCENARIO`] times as many candidates.
    Scenarios,
    /// Its time was up.
    Time,
}

/// A running search's use of its [`Budget`].
struct Meter<'c> {
    budget: Budget<'c>,
    start_scored: u64,
    start_time: std::time::Duration,
}

impl<'c> Meter<'c> {
    fn new(budget: Budget<'c>, scored: u64) -> Meter<'c> {
        Meter {
            budget,
            start_scored: scored,
            start_time: budget.time.map(|(now, _)| now()).unwrap_or_default(),
        }
    }

    /// Whether the search must stop now, and why.
    fn stop(&self, scored: u64) -> Option<Stop> {
        if scored.saturating_sub(self.start_scored) >= self.budget.scenarios {
            return Some(Stop::Scenarios);
        }
        match self.budget.time {
            Some((now, limit)) if now().saturating_sub(self.start_time) >= limit => {
                Some(Stop::Time)
            }
            _ => None,
        }
    }
}

/// A kind of action of a joint plan.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(tag = "action", rename_all = "snake_case")]
pub enum JointKind {
    /// One more person holding this certification.
    Certification {
        /// Its Microsoft Learn id.
        certification: String,
        /// The other certifications that count exactly where it counts.
        #[serde(skip_serializing_if = "Vec::is_empty")]
        equivalent: Vec<String>,
    },
    /// Business Applications: one new customer workload at the net-adds threshold.
    CustomerWorkload,
    /// Business Applications: one new customer deployed at the deployment threshold.
    Deployment,
    /// Business Applications: one unit of MCV in the latest month.
    McvGrowth,
    /// One new customer with ACR at the net customer adds amount.
    AcrCustomer {
        /// The service the ACR is on.
        service: String,
    },
    /// ACR on one more Azure service.
    AcrService,
    /// One unit of ACR in the latest month on the largest eligible pair.
    AcrGrowth,
    /// One new customer with seats of a workload passing a seat test.
    LicenseCustomer {
        /// The workload.
        workload: String,
        /// Paid seats (all active).
        seats: u64,
        /// The association type.
        association: String,
    },
    /// One unit of active users (and paid seats) on a workload.
    ActiveUsers {
        /// The workload.
        workload: String,
    },
}

/// One action of a joint plan, with its count, cost and the areas it helps.
#[derive(Clone, Debug, Serialize)]
pub struct JointAction {
    /// What.
    #[serde(flatten)]
    pub kind: JointKind,
    /// How many.
    pub count: u32,
    /// Cost of one.
    pub unit_cost: Decimal,
    /// `count × unit_cost`, counted once however many areas it helps.
    pub cost: Decimal,
    /// The named areas whose points fall when this action is left out of the plan.
    pub areas: Vec<String>,
    /// A sentence for people.
    pub description: String,
}

/// One area's score in a plan.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct AreaSummary {
    /// The solution area.
    pub solution_area: String,
    /// Its title.
    pub title: String,
    /// Track or classification, if the area has one.
    pub classification: Option<String>,
    /// Total points.
    pub total_points: Decimal,
    /// Whether qualified.
    pub qualified: bool,
    /// The minimum total.
    pub min_total_points: Decimal,
    /// Points per reported metric.
    pub metrics: Vec<MetricPoints>,
}

impl AreaSummary {
    fn of_ba(s: &PartnerScore, title: &str) -> AreaSummary {
        AreaSummary {
            solution_area: s.solution_area.clone(),
            title: title.to_string(),
            classification: Some(s.classification.to_string()),
            total_points: s.total_points,
            qualified: s.qualified,
            min_total_points: s.min_total_points,
            metrics: super::ScoreSummary::from(s).metrics,
        }
    }

    fn of_area(s: &AreaScore, title: &str) -> AreaSummary {
        AreaSummary {
            solution_area: s.solution_area.clone(),
            title: title.to_string(),
            classification: s.classification.clone(),
            total_points: s.total_points,
            qualified: s.qualified,
            min_total_points: s.min_total_points,
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

/// An area the actions cannot qualify, and why.
#[derive(Clone, Debug, Serialize)]
pub struct Unreachable {
    /// The solution area.
    pub solution_area: String,
    /// Why.
    pub reason: String,
}

/// How the search went.
#[derive(Clone, Debug, Serialize)]
pub struct JointSearch {
    /// Whether the search completed: the plan is then proven the cheapest
    /// within the bounds (or, unreachable, proven that none qualifies).
    pub exact: bool,
    /// What stopped the exact search before it finished (its scenario or
    /// time budget), if anything did.
    pub stopped_by: Option<Stop>,
    /// Count vectors scored by the engines (a count vector whose areas'
    /// scores were all known already is not counted).
    pub scenarios_scored: u64,
    /// Count vectors the exact search visited (scored, or answered from
    /// scores already known).
    pub candidates_visited: u64,
    /// Whether the plan comes from the greedy fallback run after the exact
    /// search stopped at its limit: it qualifies (verified like any plan),
    /// but it is not proven cheapest.
    pub greedy: bool,
    /// Action templates searched (after dropping those that help no area).
    pub templates: usize,
    /// Their bounds (`0..=max_count`).
    pub bounds: Vec<(JointKind, u32)>,
}

/// The cheapest way to qualify in every named area at once.
#[derive(Clone, Debug, Serialize)]
pub struct JointPlan {
    /// The partner.
    pub partner_id: String,
    /// The areas named, in order.
    pub areas: Vec<String>,
    /// The currency of the costs.
    pub currency: String,
    /// Whether the plan qualifies every named area.
    pub reachable: bool,
    /// Whether every named area already qualifies (the plan is then empty).
    pub already_qualified: bool,
    /// The actions.
    pub actions: Vec<JointAction>,
    /// The sum of the actions' costs.
    pub total_cost: Decimal,
    /// The records of the plan, for `pcs simulate --scenario`.
    pub scenario: Scenario,
    /// Each area as the data stands.
    pub current: Vec<AreaSummary>,
    /// Each area with the plan applied, as the engines score it.
    pub result: Vec<AreaSummary>,
    /// The areas no plan of these actions qualifies, with why.
    pub unreachable: Vec<Unreachable>,
    /// How the search went.
    pub search: JointSearch,
}

/// One action template.
#[derive(Clone, Debug)]
struct Template {
    kind: JointKind,
    unit_cost: Decimal,
    bound: u32,
    record: Record,
    /// Where it can count, `area` or `area:metric:…` (people: every metric
    /// and prerequisite step of every area the certification counts in).
    feeds: Vec<String>,
}

/// The records one unit of a template adds.
#[derive(Clone, Debug)]
enum Record {
    Person {
        certification: String,
        name: String,
    },
    BaCustomer(Threshold),
    BaDeployment,
    BaMcv,
    Acr(AcrAdd),
    /// ACR on a new service named `{prefix}-service-N` at this tenant.
    AcrService(AcrAdd),
    AcrGrowth(AcrAdd),
    License(LicenseAdd),
    Users(LicenseAdd),
}

/// Every rule of an area in force on D, options and parts included.
fn walk<'r>(m: &'r AreaMetricRule, out: &mut Vec<&'r AreaMetricRule>) {
    out.push(m);
    match &m.shape {
        AreaShape::BestOf { options: v } | AreaShape::SumCapped { parts: v, .. } => {
            v.iter().for_each(|x| walk(x, out))
        }
        _ => {}
    }
}

fn rules_of(rb: &AreaRulebook, d: pcs_core::jiff::civil::Date) -> Vec<&AreaMetricRule> {
    let mut out = Vec::new();
    for m in rb.metrics.iter().filter(|m| m.applies_on(d)) {
        walk(m, &mut out);
    }
    out
}

/// Units of value that take a points function from 0 to its maximum.
fn units_for_max(m: &AreaMetricRule) -> u32 {
    let p = &m.points;
    if p.rate <= Decimal::ZERO {
        return 0;
    }
    let mut n = (p.max * p.per / p.rate).ceil();
    if let Some(f) = p.full_points_at {
        n = n.min(f.ceil());
    }
    u32::try_from(n).unwrap_or(MAX_UNITS).min(MAX_UNITS)
}

/// The smallest whole number passing a test (and at most `at_most`).
fn whole_passing(t: Threshold, at_most: Option<Decimal>) -> Option<u64> {
    let mut n = t.value.ceil().max(Decimal::ZERO);
    if !t.passes(n) {
        n += Decimal::ONE;
    }
    if at_most.is_some_and(|m| n > m) {
        return None;
    }
    u64::try_from(n).ok()
}

struct Ctx<'s, 'a> {
    set: &'s AreaSet<'a>,
    partner_id: &'s str,
    facts: &'s PartnerFacts,
    ba_title: String,
}

/// A count vector to visit: (cost, units, counts, the first template it
/// may still raise).
type Visit = (Decimal, u64, Vec<u32>, usize);

/// One area's score of a candidate: (qualified, total, per-metric points).
type Score1 = (bool, Decimal, Vec<Decimal>);

/// A scored candidate: per area (qualified, total, per-metric points).
type Scores = Vec<Score1>;

/// Each area's scores already computed, by the counts of the templates
/// that can count in that area (an area's score depends on those counts
/// only: the same structural fact that plans areas sharing no action
/// apart, see [`groups`]). A count vector is applied and scored by the
/// engines only when some area it needs is not known yet, and then only
/// those areas are scored.
struct Memo {
    /// Per area, the templates that can count in it.
    touch: Vec<Vec<usize>>,
    /// Per area, its score by the counts of `touch`.
    known: Vec<HashMap<Vec<u32>, Score1>>,
}

impl Memo {
    fn new(ts: &[Template], areas: &[String]) -> Memo {
        let area_of = |f: &str| f.split(':').next().unwrap_or(f).to_string();
        let touch = areas
            .iter()
            .map(|a| {
                (0..ts.len())
                    .filter(|&j| ts[j].feeds.iter().any(|f| area_of(f) == *a))
                    .collect()
            })
            .collect();
        Memo {
            touch,
            known: vec![HashMap::new(); areas.len()],
        }
    }

    fn key(&self, a: usize, counts: &[u32]) -> Vec<u32> {
        self.touch[a].iter().map(|&j| counts[j]).collect()
    }

    /// The scores of the areas `want` at `counts` (`None` for the others).
    /// With `lazy`, as soon as an area is known not to qualify, the areas
    /// not known yet are left unscored (`None`).
    #[allow(clippy::too_many_arguments)]
    fn scores(
        &mut self,
        ctx: &Ctx<'_, '_>,
        emit: &Emit<'_, '_>,
        ts: &[Template],
        counts: &[u32],
        want: &[usize],
        lazy: bool,
        scored: &mut u64,
    ) -> Result<Vec<Option<Score1>>, ScenarioError> {
        let mut out: Vec<Option<Score1>> = vec![None; self.touch.len()];
        let mut missing = Vec::new();
        for &a in want {
            match self.known[a].get(&self.key(a, counts)) {
                Some(s) => out[a] = Some(s.clone()),
                None => missing.push(a),
            }
        }
        let failed = want.iter().any(|&a| out[a].as_ref().is_some_and(|s| !s.0));
        if missing.is_empty() || (lazy && failed) {
            return Ok(out);
        }
        let facts = ctx
            .set
            .apply(&emit.scenario(ts, counts), ctx.partner_id, ctx.facts)?;
        *scored += 1;
        for a in missing {
            let s = ctx.score_one(a, &facts);
            let key = self.key(a, counts);
            self.known[a].insert(key, s.clone());
            out[a] = Some(s);
        }
        Ok(out)
    }

    /// Every area's scores at `counts`: those of `want` scored, the others
    /// taken from `base` (the callers never read them).
    #[allow(clippy::too_many_arguments)]
    fn all(
        &mut self,
        ctx: &Ctx<'_, '_>,
        emit: &Emit<'_, '_>,
        ts: &[Template],
        counts: &[u32],
        want: &[usize],
        base: &Scores,
        scored: &mut u64,
    ) -> Result<Scores, ScenarioError> {
        let got = self.scores(ctx, emit, ts, counts, want, false, scored)?;
        Ok(got
            .into_iter()
            .zip(base)
            .map(|(g, b)| g.unwrap_or_else(|| b.clone()))
            .collect())
    }
}

impl Ctx<'_, '_> {
    fn score(&self, facts: &PartnerFacts) -> Scores {
        (0..self.len()).map(|i| self.score_one(i, facts)).collect()
    }

    /// How many areas (Business Applications first, when named).
    fn len(&self) -> usize {
        usize::from(self.set.ba_period.is_some()) + self.set.engines.len()
    }

    /// The score of area `i` (in the order of [`AreaSet::ids`]).
    fn score_one(&self, i: usize, facts: &PartnerFacts) -> Score1 {
        let i = match self.set.ba_period {
            Some(p) if i == 0 => {
                let s = score_partner_with(self.set.ba, self.partner_id, facts, p, Detail::Totals);
                return (
                    s.qualified,
                    s.total_points,
                    s.metrics.iter().map(|m| m.points).collect(),
                );
            }
            Some(_) => i - 1,
            None => i,
        };
        let (e, p) = &self.set.engines[i];
        let s = score_area_with(e, self.partner_id, facts, *p, Detail::Totals);
        (
            s.qualified,
            s.total_points,
            s.metrics.iter().map(|m| m.points).collect(),
        )
    }

    fn score_scenario(&self, s: &Scenario) -> Result<Scores, ScenarioError> {
        let facts = self.set.apply(s, self.partner_id, self.facts)?;
        Ok(self.score(&facts))
    }

    fn summaries(&self, facts: &PartnerFacts) -> Vec<AreaSummary> {
        let mut out = Vec::new();
        if let Some(p) = self.set.ba_period {
            let s = score_partner(self.set.ba, self.partner_id, facts, p);
            out.push(AreaSummary::of_ba(&s, &self.ba_title));
        }
        for (e, p) in &self.set.engines {
            let s = score_area(e, self.partner_id, facts, *p);
            let title =
                e.rb.title
                    .clone()
                    .unwrap_or_else(|| e.rb.solution_area.clone());
            out.push(AreaSummary::of_area(&s, &title));
        }
        out
    }
}

/// A prefix no tenant, person or service of the partner starts with.
fn free_prefix(facts: &PartnerFacts) -> String {
    (1..)
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
                && !facts.services.iter().any(|x| x.starts_with(&p))
        })
        .expect("some prefix is free")
}

/// Builds the templates from every area in force (`all`) and, when Business
/// Applications is named, its actions.
fn templates(
    set: &AreaSet<'_>,
    all: &[&AreaRulebook],
    actions: Option<&Actions<'_>>,
    facts: &PartnerFacts,
    costs: &Costs,
    prefix: &str,
) -> Vec<Template> {
    let d = set.period.evaluation_date;
    let latest = set.period.latest_month.to_string();
    let v = set.vocabulary;
    let ba = set.ba;
    let mut out: Vec<Template> = Vec::new();

    // People: one template per class of certifications that count in the
    // same places at the same cost.
    let mut certs: Vec<(String, String)> = Vec::new(); // (id, name)
    for c in ba.certifications.iter().filter(|c| c.eligible_on(d)) {
        if !certs.iter().any(|(i, _)| *i == c.id) {
            certs.push((c.id.clone(), c.name.clone()));
        }
    }
    for rb in all {
        for c in rb.certifications.iter().filter(|c| c.eligible_on(d)) {
            if !certs.iter().any(|(i, _)| *i == c.id) {
                certs.push((c.id.clone(), c.name.clone()));
            }
        }
    }
    let mut bound_of: HashMap<String, u32> = HashMap::new();
    let signature = |id: &str, bound_of: &mut HashMap<String, u32>| -> Vec<String> {
        let mut sig = Vec::new();
        if let Some(c) = ba.certification(id).map(|i| &ba.certifications[i as usize])
            && c.eligible_on(d)
        {
            sig.push(format!("{}:{}", ba.solution_area, c.level));
            for m in &ba.metrics {
                if let Shape::CertifiedPeople {
                    level,
                    full_points_at,
                } = &m.shape
                    && *level == c.level
                {
                    let per = m
                        .points_per_unit
                        .enterprise
                        .min(m.points_per_unit.smb)
                        .max(Decimal::new(1, 2));
                    let mut n = (m.max_points / per).ceil();
                    if let Some(f) = full_points_at {
                        n = n.min(Decimal::from(f.enterprise.max(f.smb)));
                    }
                    let n = u32::try_from(n).unwrap_or(MAX_PEOPLE).min(MAX_PEOPLE);
                    let b = bound_of.entry(id.to_string()).or_default();
                    *b = (*b).max(n);
                }
            }
        }
        for rb in all {
            let Some(ci) = rb.certification(id) else {
                continue;
            };
            if !rb.certifications[ci].eligible_on(d) {
                continue;
            }
            for m in rules_of(rb, d) {
                if let AreaShape::CertifiedPeople {
                    certifications,
                    prerequisites,
                } = &m.shape
                {
                    let key = format!("{}:{}:{:?}", rb.solution_area, m.id, m.track);
                    if certifications
                        .iter()
                        .any(|c| rb.certification(c) == Some(ci))
                    {
                        sig.push(format!("{key}:score"));
                        let b = bound_of.entry(id.to_string()).or_default();
                        *b = (*b).max(units_for_max(m).min(MAX_PEOPLE));
                    }
                    for (k, step) in prerequisites.iter().enumerate() {
                        if step
                            .certifications
                            .iter()
                            .any(|c| rb.certification(c) == Some(ci))
                        {
                            sig.push(format!("{key}:step{k}"));
                            let b = bound_of.entry(id.to_string()).or_default();
                            *b = (*b).max(step.min_people.min(MAX_PEOPLE));
                        }
                    }
                }
            }
        }
        sig.sort();
        sig.dedup();
        sig
    };
    let person_cost = |id: &str| -> Decimal {
        if let Some(c) = costs.person.get(id) {
            return *c;
        }
        if let Some(i) = ba.certification(id) {
            let level = &ba.certifications[i as usize].level;
            if let Some(c) = costs.certification.get(level) {
                return *c;
            }
        }
        costs.area_certification
    };
    let mut classes: Vec<(Vec<String>, Decimal, usize)> = Vec::new();
    for (id, name) in &certs {
        let sig = signature(id, &mut bound_of);
        if sig.is_empty() {
            continue;
        }
        let cost = person_cost(id);
        if let Some((_, _, t)) = classes.iter().find(|(s, c, _)| *s == sig && *c == cost) {
            if let JointKind::Certification { equivalent, .. } = &mut out[*t].kind {
                equivalent.push(id.clone());
            }
            continue;
        }
        classes.push((sig, cost, out.len()));
        out.push(Template {
            kind: JointKind::Certification {
                certification: id.clone(),
                equivalent: Vec::new(),
            },
            unit_cost: cost,
            bound: bound_of.get(id).copied().unwrap_or(1).max(1),
            record: Record::Person {
                certification: id.clone(),
                name: name.clone(),
            },
            feeds: classes.last().map(|c| c.0.clone()).unwrap_or_default(),
        });
    }

    // Business Applications' revenue and usage actions.
    if let Some(a) = actions {
        for (m, ms) in ba.metrics.iter().zip(&a.current.metrics) {
            let bound = super::units_to_max(ms).max(
                u32::try_from((m.max_points / ms.points_per_unit.max(Decimal::new(1, 2))).ceil())
                    .unwrap_or(MAX_UNITS)
                    .min(MAX_UNITS),
            );
            match &m.shape {
                Shape::PairGrowth {
                    source: PairSource::Revenue,
                    ..
                } => {
                    if let (Some(_), Some(t)) = (a.revenue_choice(), pair_threshold(ms)) {
                        out.push(Template {
                            kind: JointKind::CustomerWorkload,
                            unit_cost: costs.customer_workload,
                            bound,
                            record: Record::BaCustomer(t),
                            feeds: vec![ba.solution_area.clone()],
                        });
                    }
                }
                Shape::PairGrowth {
                    source: PairSource::Usage,
                    ..
                } => {
                    if a.deployment().is_some() {
                        out.push(Template {
                            kind: JointKind::Deployment,
                            unit_cost: costs.deployment,
                            bound,
                            record: Record::BaDeployment,
                            feeds: vec![ba.solution_area.clone()],
                        });
                    }
                }
                Shape::ConsumptionGrowth { .. } => {
                    if a.growth_pair().is_some() {
                        out.push(Template {
                            kind: JointKind::McvGrowth,
                            unit_cost: costs.mcv_growth,
                            bound: 0, // found with the engine
                            record: Record::BaMcv,
                            feeds: vec![ba.solution_area.clone()],
                        });
                    }
                }
                Shape::CertifiedPeople { .. } => {}
            }
        }
    }

    // ACR and licences, from every area in force.
    let assoc_name = |f: &Filter| -> Option<String> {
        let id = v.association_catalogue.id_of(f.associations.first()?)?;
        Some(v.association_catalogue.names[id as usize].clone())
    };
    let counts_service = |f: &Filter, s: &str| {
        let k = pcs_core::name::normalize(s);
        f.services.as_ref().is_none_or(|l| l.contains(&k)) && !f.exclude_services.contains(&k)
    };
    // The partner's ACR by (tenant, service) in the latest month, largest first.
    let mut pairs: BTreeMap<(u32, u32), Decimal> = BTreeMap::new();
    for ((t, s, m, _, _), agg) in &facts.acr {
        if *m == set.period.latest_month {
            *pairs.entry((*t, *s)).or_default() += agg.amount;
        }
    }
    let mut ranked: Vec<((u32, u32), Decimal)> = pairs.into_iter().collect();
    ranked.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    let mut acr_amount: Option<Threshold> = None;
    let mut acr_filter: Option<&Filter> = None;
    let mut service_amount: Option<(Threshold, &Filter)> = None;
    let mut acr_growth_filter: Option<&Filter> = None;
    let mut seat_tests: Vec<(String, u64, String, u32)> = Vec::new(); // workload, seats, association, bound
    let mut user_workloads: Vec<(String, String)> = Vec::new();
    let mut workload_uses: BTreeMap<String, u32> = BTreeMap::new();
    for rb in all {
        for m in rules_of(rb, d) {
            match &m.shape {
                AreaShape::EntityCount { filter, .. } | AreaShape::Growth { filter, .. } => {
                    let f = &rb.filters[*filter];
                    if f.source == Source::Licenses {
                        for w in &f.workloads {
                            *workload_uses.entry(w.clone()).or_default() += 1;
                        }
                    }
                }
                _ => {}
            }
        }
    }
    let workload_name = |id: &str| -> Option<String> {
        let i = v.workload_catalogue.id_of(id)?;
        Some(v.workload_catalogue.names[i as usize].clone())
    };
    for rb in all {
        for m in rules_of(rb, d) {
            match &m.shape {
                AreaShape::EntityCount {
                    filter,
                    entity,
                    amount,
                    seats,
                    seats_at_most,
                    measure_associations,
                    ..
                } => {
                    let f = &rb.filters[*filter];
                    match (f.source, entity) {
                        (Source::Acr, Entity::Tenant) => {
                            if let Some(t) = amount
                                && acr_amount.is_none_or(|a| amount_passing(*t) > amount_passing(a))
                            {
                                acr_amount = Some(*t);
                                acr_filter = Some(f);
                            }
                        }
                        (Source::Acr, Entity::Service) => {
                            if let Some(t) = amount
                                && service_amount
                                    .is_none_or(|(a, _)| amount_passing(*t) > amount_passing(a))
                            {
                                service_amount = Some((*t, f));
                            }
                        }
                        // Business Applications' pair tables: its own actions.
                        (Source::Revenue | Source::Usage, _) => {}
                        (Source::Acr, Entity::TenantWorkload) => {}
                        (Source::Licenses, _) => {
                            // The workload most filters count (shared
                            // between areas), first listed on a tie.
                            let Some(w) = f
                                .workloads
                                .iter()
                                .max_by_key(|w| {
                                    (
                                        workload_uses.get(*w).copied().unwrap_or(0),
                                        Reverse(f.workloads.iter().position(|x| x == *w)),
                                    )
                                })
                                .and_then(|w| workload_name(w))
                            else {
                                continue;
                            };
                            let Some(n) = seats.and_then(|t| whole_passing(t, *seats_at_most))
                            else {
                                continue;
                            };
                            let assoc = measure_associations
                                .as_ref()
                                .and_then(|a| a.first())
                                .or(f.associations.first())
                                .and_then(|id| v.association_catalogue.id_of(id))
                                .map(|i| v.association_catalogue.names[i as usize].clone());
                            let Some(assoc) = assoc else { continue };
                            let bound = units_for_max(m).saturating_add(
                                u32::try_from(facts.tenants.len()).unwrap_or(MAX_UNITS),
                            );
                            if let Some(e) = seat_tests
                                .iter_mut()
                                .find(|(x, s, a, _)| *x == w && *s == n && *a == assoc)
                            {
                                e.3 = e.3.max(bound);
                            } else {
                                seat_tests.push((w, n, assoc, bound.min(MAX_UNITS)));
                            }
                        }
                    }
                }
                AreaShape::Growth {
                    filter,
                    measure,
                    measure_associations,
                    ..
                } => {
                    let f = &rb.filters[*filter];
                    match measure {
                        Measure::Acr => {
                            acr_growth_filter.get_or_insert(f);
                        }
                        Measure::ActiveUsers | Measure::ProtectedUsers => {
                            let w = f
                                .workloads
                                .iter()
                                .max_by_key(|w| {
                                    (
                                        workload_uses.get(*w).copied().unwrap_or(0),
                                        Reverse(f.workloads.iter().position(|x| x == *w)),
                                    )
                                })
                                .and_then(|w| workload_name(w));
                            let assoc = measure_associations
                                .as_ref()
                                .and_then(|a| a.first())
                                .or(f.associations.first())
                                .and_then(|id| v.association_catalogue.id_of(id))
                                .map(|i| v.association_catalogue.names[i as usize].clone());
                            if let (Some(w), Some(a)) = (w, assoc)
                                && !user_workloads.contains(&(w.clone(), a.clone()))
                            {
                                user_workloads.push((w, a));
                            }
                        }
                        // Business Applications' pair tables: its own actions.
                        Measure::Revenue | Measure::Mcv => {}
                    }
                }
                _ => {}
            }
        }
    }
    let existing = |f: &Filter| {
        ranked
            .iter()
            .find(|((_, s), _)| counts_service(f, &facts.services[*s as usize]))
            .map(|((t, s), _)| (*t, *s))
    };
    if let (Some(t), Some(f)) = (acr_amount, acr_filter)
        && let Some(assoc) = assoc_name(f)
    {
        let service = match (existing(f), &f.services) {
            (Some((_, s)), _) => facts.services[s as usize].clone(),
            (None, Some(list)) if !list.is_empty() => list[0].clone(),
            _ => format!("{prefix}-service"),
        };
        out.push(Template {
            kind: JointKind::AcrCustomer {
                service: service.clone(),
            },
            unit_cost: costs.acr_customer,
            bound: 0, // set below from the metrics it feeds
            record: Record::Acr(AcrAdd {
                service,
                acr_usd: amount_passing(t),
                association: assoc,
                month: Some(latest.clone()),
                ..AcrAdd::default()
            }),
            feeds: Vec::new(),
        });
    }
    if let Some((t, f)) = service_amount
        && f.services.is_none()
        && let Some(assoc) = assoc_name(f)
    {
        let tenant = existing(f).map(|(t, _)| facts.tenants[t as usize].id.to_string());
        out.push(Template {
            kind: JointKind::AcrService,
            unit_cost: costs.acr_service,
            bound: 0,
            record: Record::AcrService(AcrAdd {
                customer_tenant_id: Some(tenant.unwrap_or_else(|| format!("{prefix}-services"))),
                acr_usd: amount_passing(t),
                association: assoc,
                month: Some(latest.clone()),
                ..AcrAdd::default()
            }),
            feeds: Vec::new(),
        });
    }
    if let Some(f) = acr_growth_filter
        && let Some(assoc) = assoc_name(f)
    {
        let (tenant, service) = match existing(f) {
            Some((t, s)) => (
                facts.tenants[t as usize].id.to_string(),
                facts.services[s as usize].clone(),
            ),
            None => (format!("{prefix}-acr-growth"), format!("{prefix}-service")),
        };
        out.push(Template {
            kind: JointKind::AcrGrowth,
            unit_cost: costs.acr_growth,
            bound: 0,
            record: Record::AcrGrowth(AcrAdd {
                customer_tenant_id: Some(tenant),
                service,
                acr_usd: costs.acr_unit,
                association: assoc,
                month: Some(latest.clone()),
                ..AcrAdd::default()
            }),
            feeds: Vec::new(),
        });
    }
    for (w, seats, assoc, bound) in seat_tests {
        out.push(Template {
            kind: JointKind::LicenseCustomer {
                workload: w.clone(),
                seats,
                association: assoc.clone(),
            },
            unit_cost: costs.license_customer,
            bound,
            record: Record::License(LicenseAdd {
                workload: w,
                association: assoc,
                paid_seats: seats,
                active_users: seats,
                month: Some(latest.clone()),
                associated_on: Some(d.to_string()),
                ..LicenseAdd::default()
            }),
            feeds: Vec::new(),
        });
    }
    for (w, assoc) in user_workloads {
        // The partner's largest (tenant) of this workload and association.
        let wid = v.workload(&w);
        let aid = v.association(&assoc);
        let tenant = facts
            .licenses
            .iter()
            .filter(|((_, lw, m, la), _)| {
                Some(*lw) == wid && Some(*la) == aid && *m == set.period.latest_month
            })
            .max_by(|a, b| {
                (a.1.active_users, Reverse(a.0.0)).cmp(&(b.1.active_users, Reverse(b.0.0)))
            })
            .map(|((t, _, _, _), _)| facts.tenants[*t as usize].id.to_string());
        let Some(tenant) = tenant else { continue };
        out.push(Template {
            kind: JointKind::ActiveUsers {
                workload: w.clone(),
            },
            unit_cost: costs.users_growth,
            bound: 0,
            record: Record::Users(LicenseAdd {
                customer_tenant_id: Some(tenant),
                workload: w,
                association: assoc,
                paid_seats: u64::from(costs.users_unit),
                active_users: u64::from(costs.users_unit),
                month: Some(latest.clone()),
                ..LicenseAdd::default()
            }),
            feeds: Vec::new(),
        });
    }
    // ACR customers and services: bounded by the largest entity metric.
    let entity_bound = all
        .iter()
        .flat_map(|rb| rules_of(rb, d))
        .filter(|m| matches!(m.shape, AreaShape::EntityCount { .. }))
        .map(units_for_max)
        .max()
        .unwrap_or(0)
        .saturating_add(u32::try_from(facts.tenants.len()).unwrap_or(MAX_UNITS))
        .min(MAX_UNITS);
    for t in &mut out {
        if matches!(
            t.kind,
            JointKind::AcrCustomer { .. } | JointKind::AcrService
        ) {
            t.bound = entity_bound;
        }
        let workload = match &t.record {
            Record::Acr(_) | Record::AcrService(_) | Record::AcrGrowth(_) => None,
            Record::License(r) | Record::Users(r) => Some(v.workload(&r.workload)),
            _ => continue,
        };
        for rb in all {
            let feeds = rb.filters.iter().any(|f| match workload {
                None => f.source == Source::Acr,
                Some(w) => {
                    f.source == Source::Licenses
                        && f.workloads.iter().any(|x| {
                            v.workload_catalogue.id_of(x).is_some()
                                && v.workload_catalogue.id_of(x) == w
                        })
                }
            });
            if feeds && !t.feeds.contains(&rb.solution_area) {
                t.feeds.push(rb.solution_area.clone());
            }
        }
    }
    out
}

/// The templates that can count in `areas`; people whose certifications
/// count in the same places of those areas are one template (the cheapest,
/// the first listed on a tie).
fn relevant(ts: Vec<Template>, areas: &[String]) -> Vec<Template> {
    let area_of = |f: &str| f.split(':').next().unwrap_or(f).to_string();
    let mut out: Vec<Template> = Vec::new();
    for mut t in ts {
        t.feeds.retain(|f| areas.contains(&area_of(f)));
        if t.feeds.is_empty() {
            continue;
        }
        if let JointKind::Certification { certification, .. } = &t.kind {
            let same = out.iter().position(|o| {
                matches!(o.kind, JointKind::Certification { .. }) && o.feeds == t.feeds
            });
            if let Some(i) = same {
                let id = certification.clone();
                let keep_new = t.unit_cost < out[i].unit_cost;
                let bound = out[i].bound.max(t.bound);
                if keep_new {
                    let old = std::mem::replace(&mut out[i], t);
                    if let (
                        JointKind::Certification { equivalent, .. },
                        JointKind::Certification {
                            certification: old_id,
                            equivalent: old_eq,
                        },
                    ) = (&mut out[i].kind, old.kind)
                    {
                        equivalent.push(old_id);
                        equivalent.extend(old_eq);
                    }
                } else if let JointKind::Certification { equivalent, .. } = &mut out[i].kind {
                    equivalent.push(id);
                    if let JointKind::Certification { equivalent: e2, .. } = t.kind {
                        equivalent.extend(e2);
                    }
                }
                out[i].bound = bound;
                continue;
            }
        }
        out.push(t);
    }
    // A person whose certification counts wherever another's does, and
    // more, at no higher cost, is never worse: the other is not searched
    // (one more certified person never lowers a metric).
    let people: Vec<usize> = (0..out.len())
        .filter(|&i| matches!(out[i].kind, JointKind::Certification { .. }))
        .collect();
    let mut dominated = vec![false; out.len()];
    for &y in &people {
        for &x in &people {
            if x != y
                && !dominated[x]
                && out[x].unit_cost <= out[y].unit_cost
                && out[y].feeds.iter().all(|f| out[x].feeds.contains(f))
                && out[x].feeds.len() > out[y].feeds.len()
            {
                dominated[y] = true;
                out[x].bound = out[x].bound.max(out[y].bound);
                break;
            }
        }
    }
    out.into_iter()
        .zip(dominated)
        .filter(|(_, d)| !d)
        .map(|(t, _)| t)
        .collect()
}

/// What the records of the templates need besides the template.
struct Emit<'x, 'a> {
    actions: Option<&'x Actions<'a>>,
    costs: &'x Costs,
    prefix: &'x str,
    period: Period,
}

impl Emit<'_, '_> {
    /// Adds `n` units of template `t` to `s`.
    fn push(&self, t: &Template, s: &mut Scenario, n: u32) {
        if n == 0 {
            return;
        }
        let (actions, prefix, period) = (self.actions, self.prefix, self.period);
        match &t.record {
            Record::Person { certification, .. } => {
                for i in 1..=n {
                    s.certification.push(CertificationAdd {
                        person_id: Some(format!("{prefix}-{certification}-{i}")),
                        person_name: None,
                        certification: certification.clone(),
                        earned_on: Some(period.evaluation_date.to_string()),
                        expires_on: None,
                    });
                }
            }
            Record::BaCustomer(t) => {
                if let Some(a) = actions {
                    a.push_customer_workloads(s, *t, n)
                }
            }
            Record::BaDeployment => {
                if let Some(a) = actions {
                    a.push_deployments(s, n)
                }
            }
            Record::BaMcv => {
                if let Some(a) = actions {
                    a.push_mcv(
                        s,
                        self.costs.mcv_unit * Decimal::from(n),
                        a.period.latest_month,
                    );
                }
            }
            Record::Acr(r) => {
                let k0 = s.acr.len();
                for i in 1..=n {
                    let mut r = r.clone();
                    r.customer_tenant_id =
                        Some(format!("{prefix}-acr-customer-{}", k0 + i as usize));
                    s.acr.push(r);
                }
            }
            Record::AcrService(r) => {
                for i in 1..=n {
                    let mut r = r.clone();
                    r.service = format!("{prefix}-service-{i}");
                    s.acr.push(r);
                }
            }
            Record::AcrGrowth(r) => {
                let mut r = r.clone();
                r.acr_usd *= Decimal::from(n);
                s.acr.push(r);
            }
            Record::License(r) => {
                let k0 = s.licenses.len();
                for i in 1..=n {
                    let mut r = r.clone();
                    r.customer_tenant_id =
                        Some(format!("{prefix}-license-customer-{}", k0 + i as usize));
                    s.licenses.push(r);
                }
            }
            Record::Users(r) => {
                let mut r = r.clone();
                r.paid_seats *= u64::from(n);
                r.active_users *= u64::from(n);
                s.licenses.push(r);
            }
        }
    }

    /// `n` units of template `t` in words.
    fn describe(&self, t: &Template, n: u32) -> String {
        let (costs, actions) = (self.costs, self.actions);
        match (&t.kind, &t.record) {
            (
                _,
                Record::Person {
                    certification,
                    name,
                },
            ) => {
                format!(
                    "certify {n} more {}: {name} ({certification})",
                    if n == 1 { "person" } else { "people" }
                )
            }
            (JointKind::CustomerWorkload, Record::BaCustomer(t)) => {
                let w = actions
                    .and_then(|a| a.revenue_choice())
                    .map(|(w, a)| format!("{w}, {a}"))
                    .unwrap_or_default();
                format!(
                    "win {n} new customer workload(s) ({w}) with {} USD in the latest month",
                    thousands(amount_passing(*t))
                )
            }
            (JointKind::Deployment, _) => {
                format!("deploy {n} new customer(s) at the deployment threshold")
            }
            (JointKind::McvGrowth, _) => format!(
                "grow MCV by {} in the latest month",
                thousands(costs.mcv_unit * Decimal::from(n))
            ),
            (_, Record::Acr(r)) => format!(
                "win {n} new customer(s) with {} USD ACR on {} ({}) in the latest month",
                thousands(r.acr_usd),
                r.service,
                r.association
            ),
            (_, Record::AcrService(r)) => format!(
                "add ACR ({} USD) on {n} Azure service(s) the partner does not use yet",
                thousands(r.acr_usd)
            ),
            (_, Record::AcrGrowth(r)) => format!(
                "grow ACR by {} USD at {} ({}) in the latest month",
                thousands(r.acr_usd * Decimal::from(n)),
                r.customer_tenant_id.as_deref().unwrap_or(""),
                r.service
            ),
            (_, Record::License(r)) => format!(
                "win {n} new customer(s) with {} {} seats, all active ({})",
                r.paid_seats, r.workload, r.association
            ),
            (_, Record::Users(r)) => format!(
                "add {} active users of {} at {} ({})",
                r.active_users * u64::from(n),
                r.workload,
                r.customer_tenant_id.as_deref().unwrap_or(""),
                r.association
            ),
            _ => format!("{n} × {:?}", t.kind),
        }
    }
    /// The scenario of a count vector.
    fn scenario(&self, ts: &[Template], counts: &[u32]) -> Scenario {
        let mut s = Scenario::default();
        for (t, n) in ts.iter().zip(counts) {
            self.push(t, &mut s, *n);
        }
        s
    }
}

fn cost_of(ts: &[Template], counts: &[u32]) -> Decimal {
    ts.iter()
        .zip(counts)
        .map(|(t, n)| t.unit_cost * Decimal::from(*n))
        .sum()
}

/// The outcome of one search.
enum Found {
    /// The cheapest counts within the bounds.
    Plan(Vec<u32>),
    /// No counts within the bounds qualify.
    Exhausted,
    /// The search stopped at its budget.
    Limit(Stop),
}

/// The named areas (indices into `areas`, of `keep`) joined by the actions
/// they share, each group with the templates that can count in it.
fn groups(ts: &[Template], areas: &[String], keep: &[usize]) -> Vec<(Vec<usize>, Vec<usize>)> {
    let area_of = |f: &str| f.split(':').next().unwrap_or(f).to_string();
    let touches = |t: &Template, a: usize| t.feeds.iter().any(|f| area_of(f) == areas[a]);
    // Union-find over the kept areas, joined by each template.
    let mut parent: Vec<usize> = (0..areas.len()).collect();
    fn root(p: &mut [usize], mut x: usize) -> usize {
        while p[x] != x {
            p[x] = p[p[x]];
            x = p[x];
        }
        x
    }
    for t in ts {
        let hit: Vec<usize> = keep.iter().copied().filter(|&a| touches(t, a)).collect();
        for w in hit.windows(2) {
            let (a, b) = (root(&mut parent, w[0]), root(&mut parent, w[1]));
            parent[a] = b;
        }
    }
    let mut out: Vec<(Vec<usize>, Vec<usize>)> = Vec::new();
    let mut roots: Vec<usize> = Vec::new();
    for &a in keep {
        let r = root(&mut parent, a);
        match roots.iter().position(|x| *x == r) {
            Some(i) => out[i].1.push(a),
            None => {
                roots.push(r);
                out.push((Vec::new(), vec![a]));
            }
        }
    }
    for (i, t) in ts.iter().enumerate() {
        if let Some(g) = out.iter_mut().find(|g| g.1.iter().any(|&a| touches(t, a))) {
            g.0.push(i);
        }
    }
    out
}

/// Count vectors visited (popped), scored or answered from the memo, at
/// most this many times the scenario budget.
pub const VISITS_PER_SCENARIO: u64 = 5;

/// What the exact search knows of each area's qualification, by the
/// counts of the templates that can count in it ([`Memo::touch`]): the
/// counts scored, and, since raising a count never lowers a score, the
/// least counts known to qualify (anything above them qualifies) and the
/// greatest known not to (anything below them does not).
struct Known {
    touch: Vec<Vec<usize>>,
    exact: Vec<HashMap<Vec<u32>, bool>>,
    up: Vec<Vec<Vec<u32>>>,
    down: Vec<Vec<Vec<u32>>>,
    /// The areas in the order they are tried: the last to fail first.
    order: Vec<usize>,
}

/// `a ≤ b` in every count (a plain loop: it runs for every vector visited).
fn le(a: &[u32], b: &[u32]) -> bool {
    let mut i = 0;
    while i < a.len() && i < b.len() {
        if a[i] > b[i] {
            return false;
        }
        i += 1;
    }
    true
}

impl Known {
    fn new(ts: &[Template], areas: &[String], goal: &[usize]) -> Known {
        let touch = Memo::new(ts, areas).touch;
        let n = touch.len();
        Known {
            touch,
            exact: vec![HashMap::new(); n],
            up: vec![Vec::new(); n],
            down: vec![Vec::new(); n],
            order: goal.to_vec(),
        }
    }

    fn key(&self, a: usize, counts: &[u32]) -> Vec<u32> {
        self.touch[a].iter().map(|&j| counts[j]).collect()
    }

    /// Whether area `a` qualifies at `key`, if known; `exact`: only from
    /// a score of exactly these counts.
    fn get(&self, a: usize, key: &[u32], exact: bool) -> Option<bool> {
        if let Some(q) = self.exact[a].get(key) {
            return Some(*q);
        }
        if exact {
            return None;
        }
        if self.down[a].iter().any(|d| le(key, d)) {
            return Some(false);
        }
        if self.up[a].iter().any(|u| le(u, key)) {
            return Some(true);
        }
        None
    }

    fn learn(&mut self, a: usize, key: Vec<u32>, q: bool) {
        if q {
            if !self.up[a].iter().any(|u| le(u, &key)) {
                self.up[a].retain(|u| !le(&key, u));
                self.up[a].push(key.clone());
            }
        } else if !self.down[a].iter().any(|d| le(&key, d)) {
            self.down[a].retain(|d| !le(d, &key));
            self.down[a].push(key.clone());
        }
        self.exact[a].insert(key, q);
    }

    /// The areas of the goal that `counts` does not qualify: all those
    /// known without scoring, else the first one the engines find (areas
    /// are scored one by one from one application of the scenario, in
    /// `order`, until one fails). Empty: every area qualifies. With
    /// `exact`, a qualification is taken only from a score of exactly
    /// these counts (a candidate plan), a failure from anything known.
    #[allow(clippy::too_many_arguments)]
    fn failing(
        &mut self,
        ctx: &Ctx<'_, '_>,
        emit: &Emit<'_, '_>,
        ts: &[Template],
        counts: &[u32],
        exact: bool,
        scored: &mut u64,
    ) -> Result<Vec<usize>, ScenarioError> {
        let mut fail = Vec::new();
        let mut unknown = Vec::new();
        for &a in &self.order {
            let key = self.key(a, counts);
            match self.get(a, &key, false) {
                Some(false) => fail.push(a),
                Some(true) if !exact || self.get(a, &key, true).is_some() => {}
                _ => unknown.push((a, key)),
            }
        }
        if !fail.is_empty() || unknown.is_empty() {
            return Ok(fail);
        }
        let facts = ctx
            .set
            .apply(&emit.scenario(ts, counts), ctx.partner_id, ctx.facts)?;
        *scored += 1;
        for (a, key) in unknown {
            let q = ctx.score_one(a, &facts).0;
            self.learn(a, key, q);
            if !q {
                let i = self.order.iter().position(|x| *x == a).unwrap_or(0);
                self.order[..=i].rotate_right(1);
                return Ok(vec![a]);
            }
        }
        Ok(Vec::new())
    }
}

/// The cheapest count vector of `ts` that qualifies every area of `goal`:
/// the one with the least (cost, units, counts), which a uniform-cost
/// search over count vectors, each reached once (a successor raises the
/// last raised template or a later one), finds first.
///
/// The same order of visits, with less work and fewer visits, without
/// changing the answer:
///
/// - each area's qualification is remembered by the counts of the
///   templates that can count in it, and, as raising a count never lowers
///   a score, counts above some that qualify qualify and counts below some
///   that do not do not ([`Known`]); a vector is applied and scored only
///   for the areas not known, one by one until one fails;
/// - **bound**: below a vector, the templates before the last one raised
///   keep their counts; if, with that one and every later template at its
///   bound, some area does not qualify, nothing below it does, and it is
///   not expanded (the test that, with every template at its bound, tells
///   which areas are reachable at all, at every vector);
/// - **no useless unit**: a successor raising a template that counts only
///   in areas that already qualify is not visited: whatever qualifies
///   below it, the same counts without that unit qualify too, for less;
/// - **order**: vectors are visited by cost plus a lower bound of the cost
///   still to add (A*). Each template has a fewest units that qualify with
///   every other template at its bound (found by bisection): every
///   qualifying vector has at least those, so the units still missing are
///   a cost to add, and a successor that leaves a template before `j`
///   below them is dropped. And a successor that raises template `j` leaves every
///   area `j` cannot count in as it was; if such an area did not qualify,
///   some later template that can count in it must still be raised (at
///   least its unit cost), and if there is none the successor is dropped.
///   A qualifying vector has bound 0 and every vector on the way to one a
///   bound no more than the cost still to add, so the first qualifying
///   vector visited still has the least (cost, units, counts).
fn cheapest(
    ctx: &Ctx<'_, '_>,
    emit: &Emit<'_, '_>,
    ts: &[Template],
    goal: &[usize],
    scored: &mut u64,
    visited: &mut u64,
    meter: &Meter<'_>,
) -> Result<Found, ScenarioError> {
    let n = ts.len();
    let mut known = Known::new(ts, &ctx.set.ids(), goal);
    let touches: Vec<Vec<bool>> = known
        .touch
        .iter()
        .map(|t| (0..n).map(|j| t.contains(&j)).collect())
        .collect();
    let max_visits = meter.budget.scenarios.saturating_mul(VISITS_PER_SCENARIO);
    let first_visit = *visited;
    let bounds: Vec<u32> = ts.iter().map(|t| t.bound).collect();
    // The fewest units of each template that qualify with every other
    // template at its bound: every qualifying vector has at least these.
    let mut need = vec![0u32; n];
    for k in 0..n {
        let mut v = bounds.clone();
        if !known.failing(ctx, emit, ts, &v, false, scored)?.is_empty() {
            return Ok(Found::Exhausted);
        }
        v[k] = 0;
        if known.failing(ctx, emit, ts, &v, false, scored)?.is_empty() {
            continue;
        }
        let (mut lo, mut hi) = (0, bounds[k]);
        while lo + 1 < hi {
            let mid = lo + (hi - lo) / 2;
            v[k] = mid;
            if known.failing(ctx, emit, ts, &v, false, scored)?.is_empty() {
                hi = mid;
            } else {
                lo = mid;
            }
        }
        need[k] = hi;
    }
    let mut heap: BinaryHeap<Reverse<Visit>> = BinaryHeap::new();
    heap.push(Reverse((Decimal::ZERO, 0, vec![0; n], 0)));
    while let Some(Reverse((_, units, counts, from))) = heap.pop() {
        if let Some(stop) = meter.stop(*scored) {
            return Ok(Found::Limit(stop));
        }
        if *visited - first_visit >= max_visits {
            return Ok(Found::Limit(Stop::Scenarios));
        }
        *visited += 1;
        let failing = known.failing(ctx, emit, ts, &counts, true, scored)?;
        if failing.is_empty() {
            return Ok(Found::Plan(counts));
        }
        let mut top = counts.clone();
        top[from..].copy_from_slice(&bounds[from..]);
        if !known
            .failing(ctx, emit, ts, &top, false, scored)?
            .is_empty()
        {
            continue;
        }
        // The areas known to qualify here: raising a template that counts
        // only in those is never needed (the same vector without that
        // unit qualifies too, and costs less).
        let qualified: Vec<bool> = (0..known.touch.len())
            .map(|a| {
                goal.contains(&a) && {
                    let key = known.key(a, &counts);
                    known.get(a, &key, false) == Some(true)
                }
            })
            .collect();
        let cost = cost_of(ts, &counts);
        'next: for j in from..n {
            if counts[j] >= ts[j].bound {
                continue;
            }
            if goal.iter().all(|&a| !touches[a][j] || qualified[a]) {
                continue;
            }
            let mut c = counts.clone();
            c[j] += 1;
            if (0..j).any(|k| c[k] < need[k]) {
                continue;
            }
            let mut rest: Decimal = (j..n)
                .map(|k| ts[k].unit_cost * Decimal::from(need[k].saturating_sub(c[k])))
                .sum();
            for &a in &failing {
                if touches[a][j] {
                    continue;
                }
                let least = (j..n)
                    .filter(|&k| touches[a][k] && c[k] < ts[k].bound)
                    .map(|k| ts[k].unit_cost)
                    .min();
                match least {
                    Some(m) => rest = rest.max(m),
                    None => continue 'next,
                }
            }
            heap.push(Reverse((cost + ts[j].unit_cost + rest, units + 1, c, j)));
        }
    }
    Ok(Found::Exhausted)
}

/// How far an area is from qualifying: points short of the minimum plus
/// one for each metric at zero (a metric at zero blocks qualification).
fn shortfall(scores: &Scores, areas: &[usize], min: &[Decimal]) -> Decimal {
    areas
        .iter()
        .map(|&a| {
            let (q, total, points) = &scores[a];
            if *q {
                return Decimal::ZERO;
            }
            let zero = points.iter().filter(|p| p.is_zero()).count();
            (min[a] - *total).max(Decimal::ZERO) + Decimal::from(zero)
        })
        .sum()
}

/// Most shortfall removed per unit of cost, a few units of one template at
/// a time, then every unit that can be taken back is: a plan that
/// qualifies, not proven cheapest. Within its own budget (`meter`); the
/// scores come through a [`Memo`].
fn greedy(
    ctx: &Ctx<'_, '_>,
    emit: &Emit<'_, '_>,
    ts: &[Template],
    areas: &[usize],
    scored: &mut u64,
    meter: &Meter<'_>,
) -> Result<Option<Vec<u32>>, ScenarioError> {
    const STEP: u32 = 8;
    let min: Vec<Decimal> = ctx
        .summaries(ctx.facts)
        .iter()
        .map(|a| a.min_total_points)
        .collect();
    let mut memo = Memo::new(ts, &ctx.set.ids());
    let mut counts = vec![0u32; ts.len()];
    let start = ctx.score(ctx.facts);
    *scored += 1;
    let mut now = memo.all(ctx, emit, ts, &counts, areas, &start, scored)?;
    while !areas.iter().all(|&a| now[a].0) {
        let base = shortfall(&now, areas, &min);
        // (gain per cost, template, units, scores)
        let mut pick: Option<(Decimal, usize, u32, Scores)> = None;
        for (j, t) in ts.iter().enumerate() {
            for n in 1..=STEP.min(t.bound - counts[j]) {
                if meter.stop(*scored).is_some() {
                    return Ok(None);
                }
                let mut c = counts.clone();
                c[j] += n;
                let got = memo.all(ctx, emit, ts, &c, areas, &start, scored)?;
                let gain = base - shortfall(&got, areas, &min);
                if gain <= Decimal::ZERO {
                    continue;
                }
                let cost = t.unit_cost * Decimal::from(n);
                let rate = if cost.is_zero() {
                    Decimal::MAX
                } else {
                    gain / cost
                };
                if pick.as_ref().is_none_or(|p| rate > p.0) {
                    pick = Some((rate, j, n, got));
                }
            }
        }
        if let Some((_, j, n, got)) = pick {
            counts[j] += n;
            now = got;
            continue;
        }
        // Nothing alone helps (prerequisite steps score only together):
        // two templates at once, one or two units each.
        let mut pick: Option<(Decimal, Vec<u32>, Scores)> = None;
        for j in 0..ts.len() {
            for k in j + 1..ts.len() {
                for (a, b) in [(1, 1), (1, 2), (2, 1), (2, 2)] {
                    if counts[j] + a > ts[j].bound || counts[k] + b > ts[k].bound {
                        continue;
                    }
                    if meter.stop(*scored).is_some() {
                        return Ok(None);
                    }
                    let mut c = counts.clone();
                    c[j] += a;
                    c[k] += b;
                    let got = memo.all(ctx, emit, ts, &c, areas, &start, scored)?;
                    let gain = base - shortfall(&got, areas, &min);
                    if gain <= Decimal::ZERO {
                        continue;
                    }
                    let cost = cost_of(ts, &c) - cost_of(ts, &counts);
                    let rate = if cost.is_zero() {
                        Decimal::MAX
                    } else {
                        gain / cost
                    };
                    if pick.as_ref().is_none_or(|p| rate > p.0) {
                        pick = Some((rate, c, got));
                    }
                }
            }
        }
        let Some((_, c, got)) = pick else {
            return Ok(None);
        };
        counts = c;
        now = got;
    }
    // Take back every unit that is not needed, dearest templates first.
    let mut order: Vec<usize> = (0..ts.len()).collect();
    order.sort_by(|a, b| ts[*b].unit_cost.cmp(&ts[*a].unit_cost));
    for j in order {
        while counts[j] > 0 {
            let mut c = counts.clone();
            c[j] -= 1;
            let got = memo.all(ctx, emit, ts, &c, areas, &start, scored)?;
            if areas.iter().all(|&a| got[a].0) {
                counts = c;
            } else {
                break;
            }
        }
    }
    Ok(Some(counts))
}

/// Finds the cheapest set of actions that qualifies the partner in every
/// area of `set` at once. `all` are the area rulebooks in force (the
/// templates come from all of them); `ba_title` names Business Applications.
/// The search's budget is [`Budget::default`].
pub fn joint_plan(
    set: &AreaSet<'_>,
    all: &[&AreaRulebook],
    partner_id: &str,
    facts: &PartnerFacts,
    costs: &Costs,
    ba_title: &str,
) -> Result<JointPlan, PlanError> {
    joint_plan_within(
        set,
        all,
        partner_id,
        facts,
        costs,
        ba_title,
        Budget::default(),
    )
}

/// [`joint_plan`] within a [`Budget`]: past it, the exact search stops and
/// the plan says so (`search.exact: false`, `search.stopped_by`), and the
/// greedy search (within the same budget again) gives a plan that
/// qualifies but is not proven cheapest.
pub fn joint_plan_within(
    set: &AreaSet<'_>,
    all: &[&AreaRulebook],
    partner_id: &str,
    facts: &PartnerFacts,
    costs: &Costs,
    ba_title: &str,
    budget: Budget<'_>,
) -> Result<JointPlan, PlanError> {
    costs.check()?;
    let ctx = Ctx {
        set,
        partner_id,
        facts,
        ba_title: ba_title.to_string(),
    };
    let current = ctx.summaries(facts);
    let areas: Vec<String> = set.ids();
    let mut plan = JointPlan {
        partner_id: partner_id.to_string(),
        areas: areas.clone(),
        currency: costs.currency.clone(),
        reachable: true,
        already_qualified: current.iter().all(|a| a.qualified),
        actions: Vec::new(),
        total_cost: Decimal::ZERO,
        scenario: Scenario::default(),
        current: current.clone(),
        result: current.clone(),
        unreachable: Vec::new(),
        search: JointSearch {
            exact: true,
            stopped_by: None,
            greedy: false,
            scenarios_scored: 0,
            candidates_visited: 0,
            templates: 0,
            bounds: Vec::new(),
        },
    };
    if plan.already_qualified {
        return Ok(plan);
    }
    let actions = set
        .ba_period
        .map(|p| Actions::new(set.ba, partner_id, facts, p));
    let prefix = free_prefix(facts);
    let emit = Emit {
        actions: actions.as_ref(),
        costs,
        prefix: &prefix,
        period: set.period,
    };
    let mut ts = relevant(
        templates(set, all, actions.as_ref(), facts, costs, &prefix),
        &areas,
    );
    let mut scored = 0u64;

    // Growth units: the fewest that stop raising any area's points alone.
    for i in 0..ts.len() {
        if ts[i].bound != 0 {
            continue;
        }
        let mut counts = vec![0u32; ts.len()];
        let mut last: Option<Scores> = None;
        let mut n = 1u32;
        loop {
            counts[i] = n;
            let s = emit.scenario(&ts, &counts);
            let got = ctx.score_scenario(&s)?;
            scored += 1;
            if last.as_ref() == Some(&got) || n >= MAX_UNITS {
                break;
            }
            last = Some(got);
            n = n.saturating_mul(2).min(MAX_UNITS);
        }
        // Between n/2 and n nothing more changed: bisect the first count
        // whose points equal those at n.
        let target = last.clone();
        let (mut lo, mut hi) = (n / 2, n);
        while lo + 1 < hi {
            let mid = lo + (hi - lo) / 2;
            counts[i] = mid;
            let s = emit.scenario(&ts, &counts);
            let got = ctx.score_scenario(&s)?;
            scored += 1;
            if Some(&got) == target.as_ref() {
                hi = mid;
            } else {
                lo = mid;
            }
        }
        ts[i].bound = hi.max(1);
    }

    // Everything at once: which areas can these actions reach?
    let tops: Vec<u32> = ts.iter().map(|t| t.bound).collect();
    let top_scenario = emit.scenario(&ts, &tops);
    let top_facts = set.apply(&top_scenario, partner_id, facts)?;
    let top = ctx.score(&top_facts);
    let top_summary = ctx.summaries(&top_facts);
    scored += 1;
    let mut wanted: Vec<bool> = Vec::new();
    for (i, (q, _, _)) in top.iter().enumerate() {
        wanted.push(*q || current[i].qualified);
        if !*q {
            let s = &top_summary[i];
            let zero: Vec<&str> = s
                .metrics
                .iter()
                .filter(|m| m.points.is_zero())
                .map(|m| m.label.as_str())
                .collect();
            let reason = if !zero.is_empty() {
                format!(
                    "{} stays at 0 points with every action at its bound (a metric at 0 \
                     never qualifies; the best total is {}, {} needed)",
                    zero.join(", "),
                    s.total_points.normalize(),
                    s.min_total_points.normalize()
                )
            } else {
                format!(
                    "at most {} of {} points with every action at its bound",
                    s.total_points.normalize(),
                    s.min_total_points.normalize()
                )
            };
            plan.unreachable.push(Unreachable {
                solution_area: s.solution_area.clone(),
                reason,
            });
        }
    }
    plan.reachable = plan.unreachable.is_empty();
    let goal_open = (0..wanted.len()).any(|i| wanted[i] && !current[i].qualified);
    let keep_areas: Vec<usize> = (0..wanted.len()).filter(|&i| wanted[i]).collect();

    plan.search.templates = ts.len();
    plan.search.bounds = ts.iter().map(|t| (t.kind.clone(), t.bound)).collect();

    // Areas that share no action are planned apart (their costs add), each
    // group by its own uniform-cost search.
    let mut best: Option<Vec<u32>> = None;
    let mut visited = 0u64;
    let meter = Meter::new(budget, scored);
    if goal_open {
        let mut counts = vec![0u32; ts.len()];
        let mut found = true;
        for (tids, aids) in groups(&ts, &areas, &keep_areas) {
            if aids.iter().all(|&a| current[a].qualified) {
                continue;
            }
            let sub: Vec<Template> = tids.iter().map(|&i| ts[i].clone()).collect();
            #[cfg(test)]
            let outcome = if tests::PLAIN.with(|p| p.get()) {
                tests::plain(&ctx, &emit, &sub, &aids, &mut scored)?
            } else {
                cheapest(&ctx, &emit, &sub, &aids, &mut scored, &mut visited, &meter)?
            };
            #[cfg(not(test))]
            let outcome = cheapest(&ctx, &emit, &sub, &aids, &mut scored, &mut visited, &meter)?;
            match outcome {
                Found::Plan(c) => {
                    for (k, &i) in tids.iter().enumerate() {
                        counts[i] = c[k];
                    }
                }
                Found::Exhausted => {
                    found = false;
                    break;
                }
                Found::Limit(stop) => {
                    plan.search.exact = false;
                    plan.search.stopped_by = Some(stop);
                    found = false;
                    break;
                }
            }
        }
        if found {
            best = Some(counts);
        }
    }
    if best.is_none() && !plan.search.exact {
        let meter = Meter::new(budget, scored);
        best = greedy(&ctx, &emit, &ts, &keep_areas, &mut scored, &meter)?;
        plan.search.greedy = best.is_some();
    }
    plan.search.scenarios_scored = scored;
    plan.search.candidates_visited = visited;
    let Some(counts) = best else {
        plan.reachable = false;
        if plan.search.exact && plan.unreachable.is_empty() {
            plan.unreachable.push(Unreachable {
                solution_area: areas.join(", "),
                reason:
                    "no combination of the actions within their bounds qualifies every area at once"
                        .into(),
            });
        }
        return Ok(plan);
    };

    // Verification: the scenario as a file would carry it, scored again.
    let scenario = emit.scenario(&ts, &counts);
    let reread = Scenario::from_toml(&scenario.to_toml())?;
    let result_facts = set.apply(&reread, partner_id, facts)?;
    let result = ctx.summaries(&result_facts);
    let full = ctx.score(&result_facts);
    for (i, t) in ts.iter().enumerate() {
        if counts[i] == 0 {
            continue;
        }
        let mut without = counts.clone();
        without[i] = 0;
        let s = emit.scenario(&ts, &without);
        let got = ctx.score_scenario(&s)?;
        let helped: Vec<String> = (0..areas.len())
            .filter(|&a| got[a].1 < full[a].1 || got[a].2 != full[a].2)
            .map(|a| areas[a].clone())
            .collect();
        plan.actions.push(JointAction {
            kind: t.kind.clone(),
            count: counts[i],
            unit_cost: t.unit_cost,
            cost: t.unit_cost * Decimal::from(counts[i]),
            areas: helped,
            description: emit.describe(t, counts[i]),
        });
    }
    plan.total_cost = plan.actions.iter().map(|a| a.cost).sum();
    plan.scenario = reread;
    plan.result = result;
    debug_assert!(keep_areas.iter().all(|&a| plan.result[a].qualified));
    Ok(plan)
}

/// One action of `pcs recommend --area …`: what it brings in each named
/// area, valued once.
#[derive(Clone, Debug, Serialize)]
pub struct AreaRecommendation {
    /// What.
    #[serde(flatten)]
    pub kind: JointKind,
    /// How many units (the fewest that change a named area's points).
    pub count: u32,
    /// Their cost.
    pub cost: Decimal,
    /// Points gained per named area (simulated), in the areas' order.
    pub points: Vec<(String, Decimal)>,
    /// Their sum: the action is valued once, its points added over areas.
    pub total_points: Decimal,
    /// Areas it makes qualify.
    pub qualifies: Vec<String>,
    /// A sentence for people.
    pub description: String,
}

/// Ranks the actions of the joint plan by the points they bring across the
/// named areas (each action simulated alone, at the fewest units, up to 4,
/// that change some area's points), most points first, then cheapest.
pub fn recommend_areas(
    set: &AreaSet<'_>,
    all: &[&AreaRulebook],
    partner_id: &str,
    facts: &PartnerFacts,
    costs: &Costs,
) -> Result<Vec<AreaRecommendation>, PlanError> {
    const MAX_STEP: u32 = 4;
    costs.check()?;
    let ctx = Ctx {
        set,
        partner_id,
        facts,
        ba_title: String::new(),
    };
    let areas = set.ids();
    let current = ctx.score(facts);
    let actions = set
        .ba_period
        .map(|p| Actions::new(set.ba, partner_id, facts, p));
    let prefix = free_prefix(facts);
    let emit = Emit {
        actions: actions.as_ref(),
        costs,
        prefix: &prefix,
        period: set.period,
    };
    let ts = relevant(
        templates(set, all, actions.as_ref(), facts, costs, &prefix),
        &areas,
    );
    let mut out = Vec::new();
    for t in &ts {
        let top = if t.bound == 0 {
            MAX_STEP
        } else {
            t.bound.min(MAX_STEP)
        };
        for n in 1..=top {
            let s = emit.scenario(std::slice::from_ref(t), &[n]);
            let got = ctx.score_scenario(&s)?;
            let points: Vec<(String, Decimal)> = areas
                .iter()
                .zip(got.iter().zip(&current))
                .map(|(a, (g, c))| (a.clone(), (g.1 - c.1).normalize()))
                .collect();
            let total: Decimal = points.iter().map(|p| p.1).sum();
            if points.iter().all(|p| p.1.is_zero()) && got == current {
                continue;
            }
            let qualifies = areas
                .iter()
                .zip(got.iter().zip(&current))
                .filter(|(_, (g, c))| g.0 && !c.0)
                .map(|(a, _)| a.clone())
                .collect();
            out.push(AreaRecommendation {
                kind: t.kind.clone(),
                count: n,
                cost: t.unit_cost * Decimal::from(n),
                points,
                total_points: total.normalize(),
                qualifies,
                description: emit.describe(t, n),
            });
            break;
        }
    }
    out.sort_by(|a, b| {
        (Reverse(a.qualifies.len()), Reverse(a.total_points), a.cost).cmp(&(
            Reverse(b.qualifies.len()),
            Reverse(b.total_points),
            b.cost,
        ))
    });
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use pcs_core::area::AreaEngine;
    use pcs_core::calendar::parse_date;
    use pcs_core::facts::{AcrRow, CertificationRow, FactsBuilder, MonthFilter};
    use pcs_core::rulebook::{Rulebook, RulebookSet};
    use pcs_core::vocab::Vocabulary;
    use proptest::prelude::*;

    const AZURE: [&str; 3] = [
        "azure_infrastructure",
        "azure_data_ai",
        "azure_digital_app_innovation",
    ];

    /// A partner whose ACR gives every Azure area its performance and
    /// customer success maximum (net adds 3, growth 100 %, 5 services), so
    /// that only skilling decides; `people` are (certification, how many).
    fn facts(rb: &Rulebook, vocab: &Vocabulary, people: &[(&str, u32)]) -> PartnerFacts {
        let mut b =
            FactsBuilder::new(rb, MonthFilter::All, true).with_areas(vocab, MonthFilter::All);
        let acr = [
            ("old", "Storage", "2022-10", "2000"),
            ("t1", "App Service", "2023-10", "1000"),
            ("t1", "Storage", "2023-10", "10"),
            ("t2", "Azure Cosmos DB", "2023-10", "1000"),
            ("t3", "Functions", "2023-10", "1000"),
            ("t4", "SQL Database", "2023-10", "1000"),
        ];
        for (i, (t, s, m, usd)) in acr.iter().enumerate() {
            b.add_acr(&AcrRow {
                partner_id: "P",
                customer_tenant_id: t,
                customer_name: None,
                subscription_id: None,
                service: s,
                month: m.parse().unwrap(),
                acr_usd: usd.parse().unwrap(),
                association: "CSP Tier 1",
                offer: None,
                line: i as u64 + 2,
            });
        }
        let mut n = 0;
        for (cert, k) in people {
            for _ in 0..*k {
                n += 1;
                b.add_certification(&CertificationRow {
                    partner_id: "P",
                    person_id: &format!("p{n}"),
                    person_name: None,
                    certification: cert,
                    earned_on: parse_date("2023-01-01").unwrap(),
                    expires_on: None,
                    line: n,
                });
            }
        }
        b.finish().partners.remove("P").unwrap()
    }

    struct World {
        set: RulebookSet,
    }

    impl World {
        fn new() -> World {
            World {
                set: RulebookSet::builtin(),
            }
        }

        fn run(&self, people: &[(&str, u32)], areas: &[&str], costs: &Costs) -> JointPlan {
            self.run_within(people, areas, costs, Budget::default())
        }

        fn run_within(
            &self,
            people: &[(&str, u32)],
            areas: &[&str],
            costs: &Costs,
            budget: Budget<'_>,
        ) -> JointPlan {
            let ba = &self.set.versions()[0];
            let d = parse_date("2023-11-30").unwrap();
            let all: Vec<&AreaRulebook> = self.set.area_versions().iter().collect();
            let vocab = Vocabulary::new(&[ba], &all).unwrap();
            let f = facts(ba, &vocab, people);
            let period = Period::for_month(ba, "2023-11".parse().unwrap());
            let engines = areas
                .iter()
                .map(|a| {
                    let rb = self.set.area_in_force(a, d).unwrap();
                    (
                        AreaEngine::new(rb, &vocab, ba),
                        Period::with_calendar(&rb.calendar, period.month, d),
                    )
                })
                .collect();
            let set = AreaSet {
                ba,
                vocabulary: &vocab,
                ba_period: None,
                engines,
                period,
            };
            let p = joint_plan_within(&set, &all, "P", &f, costs, "Business Applications", budget)
                .unwrap();
            // Whatever the plan, its scenario gives its scores.
            let applied = set.apply(&p.scenario, "P", &f).unwrap();
            for ((e, per), r) in set.engines.iter().zip(&p.result) {
                assert_eq!(
                    score_area(e, "P", &applied, *per).total_points,
                    r.total_points
                );
            }
            p
        }

        /// Whether two plans' scenarios applied together qualify every area.
        fn union_qualifies(&self, people: &[(&str, u32)], a: &JointPlan, b: &JointPlan) -> bool {
            let ba = &self.set.versions()[0];
            let d = parse_date("2023-11-30").unwrap();
            let all: Vec<&AreaRulebook> = self.set.area_versions().iter().collect();
            let vocab = Vocabulary::new(&[ba], &all).unwrap();
            let f = facts(ba, &vocab, people);
            let period = Period::for_month(ba, "2023-11".parse().unwrap());
            let mut s = a.scenario.clone();
            for c in &b.scenario.certification {
                let mut c = c.clone();
                c.person_id = c.person_id.map(|p| format!("b-{p}"));
                s.certification.push(c);
            }
            for r in &b.scenario.acr {
                let mut r = r.clone();
                r.customer_tenant_id = r.customer_tenant_id.map(|t| format!("b-{t}"));
                s.acr.push(r);
            }
            let areas: Vec<&String> = a.areas.iter().chain(&b.areas).collect();
            let applied = s.apply_areas(ba, &vocab, "P", &f, period).unwrap();
            areas.iter().all(|x| {
                let rb = self.set.area_in_force(x, d).unwrap();
                let e = AreaEngine::new(rb, &vocab, ba);
                score_area(
                    &e,
                    "P",
                    &applied,
                    Period::with_calendar(&rb.calendar, period.month, d),
                )
                .qualified
            })
        }
    }

    fn cost(p: &JointPlan) -> Decimal {
        p.total_cost
    }

    thread_local! {
        /// Whether [`joint_plan`] searches with [`plain`] (this thread only).
        pub(super) static PLAIN: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
    }

    /// [`plain`] stops after this many scenarios (the test then skips the case).
    const PLAIN_LIMIT: u64 = 1500;

    /// The search as it was before the memo, the bounds and the A* order:
    /// a uniform-cost search that applies and scores every vector. The
    /// answer [`cheapest`] must give.
    pub(super) fn plain(
        ctx: &Ctx<'_, '_>,
        emit: &Emit<'_, '_>,
        ts: &[Template],
        goal: &[usize],
        scored: &mut u64,
    ) -> Result<Found, ScenarioError> {
        let mut heap: BinaryHeap<Reverse<Visit>> = BinaryHeap::new();
        heap.push(Reverse((Decimal::ZERO, 0, vec![0; ts.len()], 0)));
        while let Some(Reverse((_, _, counts, from))) = heap.pop() {
            if *scored >= PLAIN_LIMIT {
                return Ok(Found::Limit(Stop::Scenarios));
            }
            let got = ctx.score_scenario(&emit.scenario(ts, &counts))?;
            *scored += 1;
            if goal.iter().all(|&a| got[a].0) {
                return Ok(Found::Plan(counts));
            }
            for j in from..ts.len() {
                if counts[j] < ts[j].bound {
                    let mut c = counts.clone();
                    c[j] += 1;
                    let units: u64 = c.iter().map(|x| u64::from(*x)).sum();
                    heap.push(Reverse((cost_of(ts, &c), units, c, j)));
                }
            }
        }
        Ok(Found::Exhausted)
    }

    /// A plan without the search's statistics.
    fn answer(p: &JointPlan) -> String {
        let mut v = serde_json::to_value(p).unwrap();
        let s = v["search"].as_object_mut().unwrap();
        s.remove("scenarios_scored");
        s.remove("candidates_visited");
        v.to_string()
    }

    #[test]
    fn a_shared_prerequisite_is_paid_once() {
        let w = World::new();
        // One administrator and two architects: every Azure area is one
        // administrator short of its prerequisite steps.
        let people = [
            ("azure-administrator", 1),
            ("azure-solutions-architect", 2),
            ("azure-network-engineer-associate", 2),
            ("azure-virtual-desktop-specialty", 2),
            ("data-analyst-associate", 3),
        ];
        let costs = Costs::default();
        let infra = w.run(&people, &["azure_infrastructure"], &costs);
        let data = w.run(&people, &["azure_data_ai"], &costs);
        let joint = w.run(&people, &["azure_infrastructure", "azure_data_ai"], &costs);
        for p in [&infra, &data, &joint] {
            assert!(p.reachable && p.search.exact, "{p:?}");
        }
        assert_eq!(cost(&infra), Decimal::from(1500));
        assert_eq!(cost(&data), Decimal::from(1500));
        assert_eq!(cost(&joint), Decimal::from(1500));
        assert_eq!(joint.actions.len(), 1);
        assert_eq!(
            joint.actions[0].kind,
            JointKind::Certification {
                certification: "azure-administrator".into(),
                equivalent: vec![]
            }
        );
        assert_eq!(
            joint.actions[0].areas,
            vec!["azure_infrastructure", "azure_data_ai"]
        );
    }

    #[test]
    fn a_person_cost_by_certification_is_used() {
        let w = World::new();
        let people = [
            ("azure-administrator", 2),
            ("azure-solutions-architect", 2),
            ("data-analyst-associate", 2),
        ];
        // Data & AI: 60 + 8 points; one more intermediate person is 4.
        let mut costs = Costs::default();
        costs
            .person
            .insert("azure-data-engineer".into(), Decimal::from(700));
        let p = w.run(&people, &["azure_data_ai"], &costs);
        assert!(p.reachable && p.search.exact);
        assert_eq!(p.total_cost, Decimal::from(700));
        assert!(matches!(&p.actions[0].kind,
            JointKind::Certification { certification, .. } if certification == "azure-data-engineer"));
        // Already qualified: nothing to do.
        let people = [
            ("azure-administrator", 2),
            ("azure-solutions-architect", 2),
            ("data-analyst-associate", 3),
        ];
        let p = w.run(&people, &["azure_data_ai"], &costs);
        assert!(p.already_qualified && p.actions.is_empty());
    }

    #[test]
    fn costs_of_the_areas_are_checked() {
        let e = Costs::from_toml("acr_unit = 0\n").unwrap_err();
        assert!(e.to_string().contains("acr_unit"), "{e}");
        let e = Costs::from_toml("[person]\nx = -1\n").unwrap_err();
        assert!(e.to_string().contains("may not be negative"), "{e}");
        let c = Costs::from_toml("[person]\ndata-analyst-associate = 1200\n").unwrap();
        assert_eq!(c.person["data-analyst-associate"], Decimal::from(1200));
    }

    fn people() -> impl Strategy<Value = Vec<(&'static str, u32)>> {
        (0..3u32, 0..3u32, 0..3u32, 0..2u32, 0..2u32, 0..2u32).prop_map(|(a, s, d, n, v, dev)| {
            vec![
                ("azure-administrator", a),
                ("azure-solutions-architect", s),
                ("data-analyst-associate", d),
                ("azure-network-engineer-associate", n),
                ("azure-virtual-desktop-specialty", v),
                ("azure-developer", dev),
            ]
        })
    }

    fn costs() -> impl Strategy<Value = Costs> {
        (1..40u32, 1..40u32, 1..40u32).prop_map(|(a, b, c)| {
            let mut costs = Costs {
                area_certification: Decimal::from(a * 100),
                ..Costs::default()
            };
            costs
                .person
                .insert("azure-administrator".into(), Decimal::from(b * 100));
            costs
                .person
                .insert("data-analyst-associate".into(), Decimal::from(c * 100));
            costs
        })
    }

    #[test]
    fn the_search_gives_the_plain_search_answer_for_two_areas() {
        let w = World::new();
        let mut most = 0;
        for (people, areas) in [
            (
                &[("azure-administrator", 2), ("azure-solutions-architect", 2)][..],
                &["azure_data_ai"][..],
            ),
            (
                &[("azure-administrator", 2), ("azure-solutions-architect", 2)][..],
                &["azure_data_ai", "azure_infrastructure"][..],
            ),
            (
                &[("azure-administrator", 1), ("data-analyst-associate", 1)][..],
                &["azure_data_ai"][..],
            ),
            (
                &[("azure-administrator", 1), ("azure-solutions-architect", 2)][..],
                &["azure_infrastructure", "azure_digital_app_innovation"][..],
            ),
        ] {
            let fast = w.run(people, areas, &Costs::default());
            PLAIN.with(|p| p.set(true));
            let slow = w.run(people, areas, &Costs::default());
            PLAIN.with(|p| p.set(false));
            assert!(fast.search.exact, "{people:?}");
            if slow.search.exact {
                assert_eq!(answer(&fast), answer(&slow), "{people:?}");
                most = most.max(slow.search.scenarios_scored);
            }
        }
        // Some case needed a search of many vectors (1,063 when written).
        assert!(most > 500, "{most}");
    }

    #[test]
    fn a_search_past_its_budget_says_why_and_the_greedy_plan_qualifies() {
        let w = World::new();
        let people = [("azure-solutions-architect", 1)];
        let areas = ["azure_infrastructure", "azure_data_ai"];
        let exact = w.run(&people, &areas, &Costs::default());
        assert!(exact.search.exact && exact.search.stopped_by.is_none());
        assert!(exact.reachable);
        // One scenario: the exact search stops at once.
        let p = w.run_within(
            &people,
            &areas,
            &Costs::default(),
            Budget {
                scenarios: 1,
                time: None,
            },
        );
        assert!(!p.search.exact, "{:?}", p.search);
        assert_eq!(p.search.stopped_by, Some(Stop::Scenarios));
        // Time: a clock that says the time is up.
        let late = || std::time::Duration::from_secs(10);
        let p = w.run_within(
            &people,
            &areas,
            &Costs::default(),
            Budget {
                scenarios: MAX_JOINT_SCENARIOS,
                time: Some((&late, std::time::Duration::ZERO)),
            },
        );
        assert!(!p.search.exact);
        assert_eq!(p.search.stopped_by, Some(Stop::Time));
        assert!(!p.search.greedy && p.actions.is_empty() && !p.reachable);
        // A budget the search fits in changes nothing.
        let p = w.run_within(
            &people,
            &areas,
            &Costs::default(),
            Budget {
                scenarios: exact.search.scenarios_scored + 1000,
                time: None,
            },
        );
        assert_eq!(answer(&p), answer(&exact));
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 12, ..ProptestConfig::default() })]

        /// The search gives exactly the answer of a uniform-cost search
        /// that scores every vector (the search before the memo, bounds
        /// and order).
        #[test]
        fn the_search_gives_the_plain_search_answer(
            people in people(),
            costs in costs(),
            pick in 0..7usize,
        ) {
            let w = World::new();
            let areas: Vec<&str> = match pick {
                0..=2 => vec![AZURE[pick]],
                3..=5 => vec![AZURE[pick - 3], AZURE[(pick - 2) % 3]],
                _ => AZURE.to_vec(),
            };
            let fast = w.run(&people, &areas, &costs);
            PLAIN.with(|p| p.set(true));
            let slow = w.run(&people, &areas, &costs);
            PLAIN.with(|p| p.set(false));
            prop_assert!(fast.search.exact);
            prop_assume!(slow.search.exact);
            prop_assert_eq!(answer(&fast), answer(&slow));
        }

        /// The joint plan never costs less than the dearest single-area
        /// plan, and never more than the two plans added up whenever
        /// applying them together qualifies both areas.
        #[test]
        fn joint_plans_lie_between_the_dearest_and_the_sum(
            people in people(),
            costs in costs(),
            pair in 0..3usize,
        ) {
            let w = World::new();
            let (a, b) = (AZURE[pair], AZURE[(pair + 1) % 3]);
            let pa = w.run(&people, &[a], &costs);
            let pb = w.run(&people, &[b], &costs);
            let j = w.run(&people, &[a, b], &costs);
            prop_assume!(pa.search.exact && pb.search.exact && j.search.exact);
            if pa.reachable && pb.reachable {
                prop_assert!(j.reachable);
                prop_assert!(j.result.iter().all(|r| r.qualified));
                prop_assert!(cost(&j) >= cost(&pa).max(cost(&pb)), "{} < {} / {}", cost(&j), cost(&pa), cost(&pb));
                if w.union_qualifies(&people, &pa, &pb) {
                    prop_assert!(cost(&j) <= cost(&pa) + cost(&pb));
                }
            }
            if j.reachable {
                prop_assert!(pa.reachable && pb.reachable);
            }
        }
    }
}
