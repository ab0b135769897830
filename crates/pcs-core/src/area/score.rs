//! Scoring one partner in one area: the shapes and combinators of
//! rules-areas.md §8, driven by an [`AreaRulebook`].

use std::collections::{BTreeMap, HashSet};

use jiff::civil::Date;
use rust_decimal::Decimal;
use serde::Serialize;

use super::{
    AreaMetricRule, AreaRulebook, AreaShape, Classifier, Combine, Entity, GrowthKind, Measure,
    Mode, RatioScope, Source, TrackRule, Window,
};
use crate::calendar::Month;
use crate::facts::{
    AcrKey, Agg, AggTrace, CompactId, Exclusion, HashMap, LicenseAgg, LicenseKey, LicenseStart,
    LicenseStartKey, NO_OFFER, PartnerFacts, SortedMap, Table,
};
use crate::rulebook::{Comparison, Rulebook, Threshold};
use crate::score::{Detail, Period};
use crate::vocab::Vocabulary;

/// Why an item did not count (or what it is).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "reason", rename_all = "snake_case")]
pub enum AreaReason {
    /// The measure does not pass the test.
    BelowThreshold,
    /// The tenant has no workload in the seat band.
    OutsideBand,
    /// Active users / paid seats below the test (or no paid seats).
    RatioBelow,
    /// Associated in the last 12 months and already above the ratio then.
    NewAssociationAlreadyActive {
        /// The month the association started.
        start: Month,
    },
    /// The association type does not count for this metric.
    AssociationNotEligible,
    /// The offer counts for nothing.
    OfferExcluded,
    /// The service is excluded or not in the metric's list.
    ServiceNotEligible,
    /// The workload does not count for this metric.
    WorkloadNotEligible,
    /// The association type is unknown.
    UnknownAssociation,
    /// The workload is unknown.
    UnknownWorkload,
    /// The certification is not one of this area.
    UnknownCertification,
    /// The certification is in neither the scoring set nor a step.
    NotInSet,
    /// Earned after D.
    EarnedAfterDate,
    /// Expired before D.
    Expired,
    /// D is after its eligibility window.
    Retired {
        /// Last day it counted.
        eligible_until: Date,
    },
    /// D is before its eligibility window.
    NotYetEligible {
        /// First day it counts.
        eligible_from: Date,
    },
    /// The person already counts in this step or set.
    PersonAlreadyCounted,
    /// A prerequisite step is not met: the metric earns no points.
    PrerequisiteNotMet,
    /// The baseline is below the prerequisite.
    BaselineBelowMinimum,
    /// Rows the read of the revenue or usage table left out (the Business
    /// Applications rulebook's filters).
    Excluded {
        /// Which filter.
        exclusion: Exclusion,
    },
}

impl AreaReason {
    /// A sentence for people.
    pub fn describe(&self) -> String {
        match self {
            AreaReason::BelowThreshold => "below the threshold".into(),
            AreaReason::OutsideBand => "no workload in the seat band".into(),
            AreaReason::RatioBelow => "too few of the paid seats are active".into(),
            AreaReason::NewAssociationAlreadyActive { start } => format!(
                "associated in {start}, already above the active ratio then: not a new deployment"
            ),
            AreaReason::AssociationNotEligible => {
                "association type does not count for this metric".into()
            }
            AreaReason::OfferExcluded => "the offer counts for nothing".into(),
            AreaReason::ServiceNotEligible => "service does not count for this metric".into(),
            AreaReason::WorkloadNotEligible => "workload does not count for this metric".into(),
            AreaReason::UnknownAssociation => "association type is unknown".into(),
            AreaReason::UnknownWorkload => "workload is unknown".into(),
            AreaReason::UnknownCertification => {
                "certification is not eligible for this solution area".into()
            }
            AreaReason::NotInSet => "certification does not count for this metric".into(),
            AreaReason::EarnedAfterDate => "earned after the evaluation date".into(),
            AreaReason::Expired => "expired before the evaluation date".into(),
            AreaReason::Retired { eligible_until } => {
                format!("retired: counted through {eligible_until}")
            }
            AreaReason::NotYetEligible { eligible_from } => {
                format!("counts only from {eligible_from}")
            }
            AreaReason::PersonAlreadyCounted => {
                "the person already counts with another certification".into()
            }
            AreaReason::PrerequisiteNotMet => "a prerequisite step is not met".into(),
            AreaReason::BaselineBelowMinimum => "the baseline is below the prerequisite".into(),
            AreaReason::Excluded { exclusion } => exclusion.describe().into(),
        }
    }
}

/// One explained item: an entity in a window, a row group, or a
/// certification row. Fields that do not apply are absent.
#[derive(Clone, Debug, Default, Serialize)]
pub struct AreaItem {
    /// `latest` or `baseline` (or `start` for an association's first month).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub period: Option<&'static str>,
    /// Tenant id.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tenant_id: Option<String>,
    /// Customer name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub customer_name: Option<String>,
    /// Azure service.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub service: Option<String>,
    /// Microsoft 365 workload.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub workload: Option<String>,
    /// Association type.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub association: Option<String>,
    /// Offer, when it excluded the rows.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub offer: Option<String>,
    /// First month of the window (or the month).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub from_month: Option<Month>,
    /// Last month of the window (or the month).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub month: Option<Month>,
    /// USD (acr) or users (growth of users).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub amount: Option<Decimal>,
    /// Usage quantity before the rate (usage table).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub quantity: Option<Decimal>,
    /// Products rolled up into the usage workload, with their quantities
    /// (usage table, when traced and some product rolled up).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub products: Vec<(String, Decimal)>,
    /// Paid seats.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub paid_seats: Option<u64>,
    /// Active users.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub active_users: Option<u64>,
    /// Person id.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub person_id: Option<String>,
    /// Person name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub person_name: Option<String>,
    /// Certification (area id, or as written when unknown).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub certification: Option<String>,
    /// Earned on.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub earned_on: Option<Date>,
    /// Expires on.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub expires_on: Option<Date>,
    /// Prerequisite step (1-based), or none for the scoring set.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub step: Option<usize>,
    /// Whether it counted.
    pub counted: bool,
    /// Why not (or why it is special).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<AreaReason>,
    /// Source rows.
    #[serde(skip_serializing_if = "is_zero")]
    pub rows: u32,
    /// Source lines (when traced).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub lines: Vec<u64>,
    /// ACR by subscription, when the rows name subscriptions (when traced;
    /// the amounts add up to `amount` except for an either-of-two-months
    /// window, where they are the better month's).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub subscriptions: Vec<(String, Decimal)>,
}

/// Adds `from`'s amounts per subscription into `into`.
fn merge_subscriptions(
    into: &mut Vec<(String, Decimal)>,
    from: impl IntoIterator<Item = (String, Decimal)>,
) {
    for (sub, amount) in from {
        match into.iter_mut().find(|(s, _)| *s == sub) {
            Some((_, a)) => *a += amount,
            None => into.push((sub, amount)),
        }
    }
}

/// Why a filter leaves an acr aggregate out (its association, its offer or
/// its service, `services` being [`Ctx::acr_services`]), or `None` when it
/// counts.
fn acr_exclusion(b: &Bound, services: &[bool], key: &AcrKey) -> Option<AreaReason> {
    let &(_, s, _, a, o) = key;
    if !b.assocs.get(a as usize).copied().unwrap_or(false) {
        Some(AreaReason::AssociationNotEligible)
    } else if o != NO_OFFER && b.excluded_offers.get(o as usize).copied().unwrap_or(false) {
        Some(AreaReason::OfferExcluded)
    } else if !services[s as usize] {
        Some(AreaReason::ServiceNotEligible)
    } else {
        None
    }
}

/// An aggregate's amounts by subscription, the ids as written.
fn subscription_texts(trace: &AggTrace) -> impl Iterator<Item = (String, Decimal)> + '_ {
    trace
        .subscriptions()
        .iter()
        .map(|(s, a)| (s.to_string(), *a))
}

/// Eligible ACR of one entity in one month (or revenue, or MCV with its
/// usage quantity and rolled-up products).
#[derive(Default)]
struct AcrSum {
    amount: Decimal,
    rows: u32,
    lines: Vec<u64>,
    subscriptions: Vec<(String, Decimal)>,
    quantity: Option<Decimal>,
    products: Vec<(String, Decimal)>,
}

fn is_zero(n: &u32) -> bool {
    *n == 0
}

/// A prerequisite step as judged on D.
#[derive(Clone, Debug, Serialize)]
pub struct StepResult {
    /// 1-based step number.
    pub step: usize,
    /// Its certifications.
    pub certifications: Vec<String>,
    /// People needed.
    pub min_people: u32,
    /// People found.
    pub people: u32,
    /// Whether it is met.
    pub met: bool,
}

/// The explanation of an area metric, by shape.
#[derive(Clone, Debug, Serialize)]
#[serde(tag = "shape", rename_all = "snake_case")]
pub enum AreaDetail {
    /// Entities passing a test.
    EntityCount {
        /// Entities passing in the latest window.
        latest_count: u32,
        /// Entities passing in the baseline window (`None` for a level).
        baseline_count: Option<u32>,
        /// Latest entities dropped as associated in the last 12 months.
        excluded_new: u32,
        /// Every entity of either window, and every row group left out.
        items: Vec<AreaItem>,
    },
    /// Distinct certified people behind prerequisite steps.
    CertifiedPeople {
        /// The steps.
        steps: Vec<StepResult>,
        /// Whether every step is met.
        prerequisites_met: bool,
        /// Every certification row, counted or not.
        items: Vec<AreaItem>,
    },
    /// Growth of one total.
    Growth {
        /// The latest total.
        latest: Decimal,
        /// The baseline total.
        baseline: Decimal,
        /// The prerequisite on the baseline, if any.
        baseline_minimum: Option<Threshold>,
        /// Whether it is met (true when there is none).
        prerequisite_met: bool,
        /// Contributions per tenant and period, and row groups left out.
        items: Vec<AreaItem>,
    },
    /// Options or parts (their details are in the metric's `options` / `parts`).
    Combined,
}

/// One metric's result in an area.
#[derive(Clone, Debug, Serialize)]
pub struct AreaMetric {
    /// Key.
    pub id: String,
    /// Label.
    pub label: String,
    /// Category.
    pub category: String,
    /// The value (`None`: undefined, or parts of different units).
    pub value: Option<Decimal>,
    /// Points.
    pub points: Decimal,
    /// The cap.
    pub max_points: Decimal,
    /// Named figures (`latest_acr`, `baseline_acr`, ...).
    pub figures: Vec<(String, Decimal)>,
    /// The options of a best-of metric, each scored alone.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub options: Vec<AreaMetric>,
    /// The winning option's id.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub chosen_option: Option<String>,
    /// The parts of a summed metric.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub parts: Vec<AreaMetric>,
    /// How the value and points came about.
    pub detail: AreaDetail,
    #[serde(skip)]
    unrounded: Decimal,
}

/// One track's metrics and total.
#[derive(Clone, Debug, Serialize)]
pub struct TrackScore {
    /// Track id (`enterprise`).
    pub track: String,
    /// Its metrics.
    pub metrics: Vec<AreaMetric>,
    /// Sum of points.
    pub total_points: Decimal,
    /// Whether it qualifies.
    pub qualified: bool,
}

/// How a `classify` area chose its track.
#[derive(Clone, Debug, Serialize)]
pub struct ClassifierResult {
    /// The chosen track.
    pub track: String,
    /// An entity counts when its measure passes this in both months.
    pub amount: Threshold,
    /// The first track from this many entities on.
    pub min_entities: u32,
    /// Entities passing in both months.
    pub counted: u32,
    /// Each entity passing in at least one of the two months, per month
    /// (`counted`: it passes in both).
    pub items: Vec<AreaItem>,
}

/// The score of one partner in one area.
#[derive(Clone, Debug, Serialize)]
pub struct AreaScore {
    /// The partner.
    pub partner_id: String,
    /// Its name.
    pub partner_name: Option<String>,
    /// The area.
    pub solution_area: String,
    /// `area/version`.
    pub rulebook: String,
    /// When.
    #[serde(flatten)]
    pub period: Period,
    /// The reported track (`None`: the area has no tracks).
    pub classification: Option<String>,
    /// How the track was chosen (`track_rule = "classify"` only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub classifier: Option<ClassifierResult>,
    /// Every track (empty: no tracks).
    pub tracks: Vec<TrackScore>,
    /// The reported metrics.
    pub metrics: Vec<AreaMetric>,
    /// Their total.
    pub total_points: Decimal,
    /// Qualified (under best_track: when any track qualifies).
    pub qualified: bool,
    /// The minimum total.
    pub min_total_points: Decimal,
}

impl AreaScore {
    /// The reported metric with this id.
    pub fn metric(&self, id: &str) -> Option<&AreaMetric> {
        self.metrics.iter().find(|m| m.id == id)
    }

    /// The lowest-scoring metric relative to its cap (the weakest).
    pub fn weakest_metric(&self) -> Option<&AreaMetric> {
        self.metrics.iter().min_by(|a, b| {
            let ra = if a.max_points.is_zero() {
                Decimal::ONE
            } else {
                a.points / a.max_points
            };
            let rb = if b.max_points.is_zero() {
                Decimal::ONE
            } else {
                b.points / b.max_points
            };
            ra.cmp(&rb)
        })
    }
}

/// An area rulebook bound to the run's vocabulary and the Business
/// Applications rulebook that resolved certification names: built once per
/// run, used for every partner.
pub struct AreaEngine<'a> {
    /// The rules.
    pub rb: &'a AreaRulebook,
    vocab: &'a Vocabulary,
    ba: &'a Rulebook,
    ba_certs: Vec<Option<usize>>,
    filters: Vec<Bound>,
    measure_sets: HashMap<Vec<String>, Vec<bool>>,
    /// Per metric of `rb.metrics`: what decides its result besides the
    /// facts and the period (the rule and the filters it reads), when it
    /// reads no certification; equal keys in two engines of one vocabulary
    /// give equal results ([`score_areas_with`] computes them once).
    shared_keys: Vec<Option<String>>,
    /// `rb.id()`, written once for every score.
    rulebook_id: String,
    /// Each certification set of the rules' certified-people metrics and
    /// their steps (known by where the rulebook holds it, and its length),
    /// with which of `rb.certifications` it holds: marked once per engine,
    /// not once per partner and metric.
    members: Vec<((usize, usize), Vec<bool>)>,
    /// What the names of a read's table of certifications unknown to
    /// Business Applications resolve to in `rb`, by their index in it:
    /// looked up once per run, not once per partner (the table is held,
    /// so that another table is never taken for it).
    unknown_certs: std::sync::OnceLock<(crate::facts::UnknownNames, Vec<Option<usize>>)>,
}

struct Bound {
    source: Source,
    assocs: Vec<bool>,
    excluded_offers: Vec<bool>,
    workloads: Vec<bool>,
    services: Option<Vec<String>>,
    exclude_services: Vec<String>,
}

impl Bound {
    /// Whether a licenses entry of workload `w` and association `a`, with
    /// `paid_seats`, is of the filter and in the seat band: the one test of
    /// [`Ctx::license_tenants`] and [`Ctx::in_seat_band`].
    fn passes_seat_band(&self, band: &SeatBand, w: u16, a: u16, paid_seats: u64) -> bool {
        self.workloads.get(w as usize).copied().unwrap_or(false)
            && self.assocs.get(a as usize).copied().unwrap_or(false)
            && band.contains(paid_seats)
    }
}

/// The vocabulary of an engine that reads no acr or licenses row.
static NO_VOCABULARY: std::sync::LazyLock<Vocabulary> =
    std::sync::LazyLock::new(Vocabulary::default);

impl<'a> AreaEngine<'a> {
    /// Binds `rb` to the vocabulary the facts were read with.
    pub fn new(rb: &'a AreaRulebook, vocab: &'a Vocabulary, ba: &'a Rulebook) -> AreaEngine<'a> {
        let mut e = AreaEngine::bind(rb, vocab, ba);
        fn reads_certifications(m: &AreaMetricRule) -> bool {
            match &m.shape {
                AreaShape::CertifiedPeople { .. } => true,
                AreaShape::BestOf { options: v } | AreaShape::SumCapped { parts: v, .. } => {
                    v.iter().any(reads_certifications)
                }
                _ => false,
            }
        }
        e.shared_keys = rb
            .metrics
            .iter()
            .map(|m| {
                (!reads_certifications(m))
                    .then(|| serde_json::to_string(&(m, &rb.filters)).ok())
                    .flatten()
            })
            .collect();
        e
    }

    /// Business Applications' engine: its rules in the shapes
    /// ([`Rulebook::shapes`], derived at load), reading only the revenue,
    /// usage and certification facts that `ba` resolved. Cheap enough to
    /// build for each partner.
    pub fn business_applications(ba: &'a Rulebook) -> AreaEngine<'a> {
        AreaEngine::bind(ba.shapes(), &NO_VOCABULARY, ba)
    }

    /// The engine without shared metric keys (each metric computed alone).
    fn bind(rb: &'a AreaRulebook, vocab: &'a Vocabulary, ba: &'a Rulebook) -> AreaEngine<'a> {
        let set = |ids: &[String], cat: &crate::vocab::Catalogue| {
            let mut v = vec![false; cat.len()];
            for id in ids {
                if let Some(i) = cat.id_of(id) {
                    v[i as usize] = true;
                }
            }
            v
        };
        let filters = rb
            .filters
            .iter()
            .map(|f| Bound {
                source: f.source,
                assocs: set(&f.associations, &vocab.association_catalogue),
                excluded_offers: set(&f.exclude_offers, &vocab.offer_catalogue),
                workloads: set(&f.workloads, &vocab.workload_catalogue),
                services: f.services.clone(),
                exclude_services: f.exclude_services.clone(),
            })
            .collect();
        let mut measure_sets = HashMap::default();
        fn collect(m: &AreaMetricRule, out: &mut Vec<Vec<String>>) {
            match &m.shape {
                AreaShape::EntityCount {
                    measure_associations: Some(a),
                    ..
                }
                | AreaShape::Growth {
                    measure_associations: Some(a),
                    ..
                } => out.push(a.clone()),
                AreaShape::BestOf { options: v } | AreaShape::SumCapped { parts: v, .. } => {
                    v.iter().for_each(|x| collect(x, out))
                }
                _ => {}
            }
        }
        let mut all = Vec::new();
        rb.metrics.iter().for_each(|m| collect(m, &mut all));
        for ids in all {
            let s = set(&ids, &vocab.association_catalogue);
            measure_sets.insert(ids, s);
        }
        let ba_certs = if std::ptr::eq(rb, ba.shapes()) {
            // Derived from `ba`: the same certifications in the same order.
            (0..ba.certifications.len()).map(Some).collect()
        } else {
            ba.certifications
                .iter()
                .map(|c| rb.certification(&c.id))
                .collect()
        };
        AreaEngine {
            rb,
            vocab,
            ba,
            ba_certs,
            filters,
            measure_sets,
            shared_keys: vec![None; rb.metrics.len()],
            rulebook_id: rb.id(),
            members: certification_sets(rb),
            unknown_certs: std::sync::OnceLock::new(),
        }
    }
}

/// [`AreaEngine`]'s `members`: every set of certifications that a
/// certified-people metric (an option or part included) or one of its
/// steps names, marked over the rulebook's certifications.
fn certification_sets(rb: &AreaRulebook) -> Vec<((usize, usize), Vec<bool>)> {
    fn walk<'r>(m: &'r AreaMetricRule, out: &mut Vec<&'r [String]>) {
        match &m.shape {
            AreaShape::CertifiedPeople {
                certifications,
                prerequisites,
            } => {
                out.push(certifications);
                out.extend(prerequisites.iter().map(|s| &s.certifications[..]));
            }
            AreaShape::BestOf { options } => options.iter().for_each(|o| walk(o, out)),
            AreaShape::SumCapped { parts, .. } => parts.iter().for_each(|p| walk(p, out)),
            _ => {}
        }
    }
    let mut sets = Vec::new();
    rb.metrics.iter().for_each(|m| walk(m, &mut sets));
    sets.into_iter()
        .map(|ids| (set_key(ids), mark(rb, ids)))
        .collect()
}

/// Which of the rulebook's certifications the set `ids` holds.
fn mark(rb: &AreaRulebook, ids: &[String]) -> Vec<bool> {
    rb.certifications
        .iter()
        .map(|c| ids.contains(&c.id))
        .collect()
}

/// Where a rulebook holds a set of certification ids, and its length.
fn set_key(ids: &[String]) -> (usize, usize) {
    (ids.as_ptr() as usize, ids.len())
}

/// Scores one partner in one area with the full explanation.
pub fn score_area(
    engine: &AreaEngine<'_>,
    partner_id: &str,
    facts: &PartnerFacts,
    period: Period,
) -> AreaScore {
    score_area_with(engine, partner_id, facts, period, Detail::Full)
}

/// Scores one partner in one area; `detail` decides only how much of the
/// explanation is built, never a number.
pub fn score_area_with(
    engine: &AreaEngine<'_>,
    partner_id: &str,
    facts: &PartnerFacts,
    period: Period,
    detail: Detail,
) -> AreaScore {
    let keys = if std::ptr::eq(engine.rb, engine.ba.shapes()) {
        // Business Applications' own shapes read no service, and resolve
        // certification names as the facts' rulebook did.
        Keys {
            services: Vec::new(),
            resolves_unknown: false,
            acr: ByMonth::empty(),
            licenses: ByMonth::empty(),
        }
    } else {
        Keys::of(facts)
    };
    score_one(engine, partner_id, facts, period, detail, &keys, None)
}

/// Scores one partner in several areas (engines of one vocabulary, each
/// with its period), in order. Gives what [`score_area_with`] gives for
/// each, but a metric that several areas define alike (the three Azure
/// areas' net customer adds, usage growth and deployments) is computed
/// once per period, and service names are normalised once.
pub fn score_areas_with(
    engines: &[(AreaEngine<'_>, Period)],
    partner_id: &str,
    facts: &PartnerFacts,
    detail: Detail,
) -> Vec<AreaScore> {
    let keys = Keys::of(facts);
    let memo = Memo::for_engines(engines);
    engines
        .iter()
        .map(|(e, p)| score_one(e, partner_id, facts, *p, detail, &keys, Some(&memo)))
        .collect()
}

/// A partner's names normalised once for every area (its services, and its
/// certification records' names that Business Applications does not know),
/// and its acr and licenses aggregates by month, so that a metric reads the
/// months it needs, not the whole table, once per option and area.
struct Keys<'f> {
    services: Vec<std::borrow::Cow<'f, str>>,
    /// Whether the names of certifications the facts' rulebook does not
    /// know are looked up in the area's (not by Business Applications' own
    /// shapes, which know what the facts' rulebook knows).
    resolves_unknown: bool,
    acr: ByMonth<'f, AcrKey, Agg>,
    licenses: ByMonth<'f, LicenseKey, LicenseAgg>,
}

impl<'f> Keys<'f> {
    fn of(facts: &'f PartnerFacts) -> Keys<'f> {
        Keys {
            services: facts.service_keys(),
            resolves_unknown: true,
            acr: ByMonth::new(&facts.acr, |k| k.2),
            licenses: ByMonth::new(&facts.licenses, |k| k.2),
        }
    }
}

/// The entries of a sorted map of aggregates grouped by month, months
/// ascending, each month's entries in the map's key order (so that the
/// entries of one month that share the key's first field, the tenant, lie
/// together: [`Ctx::license_tenants`] merges them as they come; and one
/// entry of a month is found by a binary search).
struct ByMonth<'f, K, V> {
    entries: Vec<(K, &'f V)>,
    /// Each month present and its range of `entries`, months ascending.
    months: Vec<(Month, std::ops::Range<usize>)>,
}

impl<'f, K: Copy, V> ByMonth<'f, K, V> {
    /// No entries (a rulebook that reads neither acr nor licenses).
    fn empty() -> Self {
        ByMonth {
            entries: Vec::new(),
            months: Vec::new(),
        }
    }

    fn new(map: &'f SortedMap<K, V>, month: fn(&K) -> Month) -> Self
    where
        K: Ord,
    {
        // The months of a partner's aggregates lie close together (the
        // months a read keeps): a counting sort by month, in two passes
        // over the map, straight into one vector.
        let span = map
            .iter()
            .map(|(k, _)| month(k))
            .fold(None, |r: Option<(Month, Month)>, m| match r {
                None => Some((m, m)),
                Some((lo, hi)) => Some((lo.min(m), hi.max(m))),
            });
        let entries: Vec<(K, &'f V)> = match (span, map.iter().next()) {
            (Some((lo, hi)), Some((k0, v0))) if hi.months_since(lo) < 64 => {
                let mut counts = [0usize; 64];
                for (k, _) in map.iter() {
                    counts[month(k).months_since(lo) as usize] += 1;
                }
                let mut start = [0usize; 64];
                let mut at = 0;
                for (s, c) in start.iter_mut().zip(counts) {
                    *s = at;
                    at += c;
                }
                let mut sorted = vec![(*k0, v0); map.len()];
                for (k, v) in map.iter() {
                    let slot = &mut start[month(k).months_since(lo) as usize];
                    sorted[*slot] = (*k, v);
                    *slot += 1;
                }
                sorted
            }
            _ => {
                let mut entries: Vec<(K, &'f V)> = map.iter().map(|(k, v)| (*k, v)).collect();
                // Stable: the map's key order kept within a month.
                entries.sort_by_key(|(k, _)| month(k));
                entries
            }
        };
        let mut months: Vec<(Month, std::ops::Range<usize>)> = Vec::new();
        for (i, (k, _)) in entries.iter().enumerate() {
            let m = month(k);
            match months.last_mut() {
                Some((last, r)) if *last == m => r.end = i + 1,
                _ => months.push((m, i..i + 1)),
            }
        }
        ByMonth { entries, months }
    }

    /// The entries of the months in `set`.
    fn of_months<'s>(&'s self, set: &'s MonthSet) -> impl Iterator<Item = (&'s K, &'f V)> + 's {
        self.months
            .iter()
            .filter(move |(m, _)| set.contains(m))
            .flat_map(move |(_, r)| self.entries[r.clone()].iter().map(|(k, v)| (k, *v)))
    }

    /// How many entries the months in `set` hold (room for what is
    /// gathered from them, taken once).
    fn len_of_months(&self, set: &MonthSet) -> usize {
        self.months
            .iter()
            .filter(|(m, _)| set.contains(m))
            .map(|(_, r)| r.len())
            .sum()
    }

    /// The entries of month `m`.
    fn of_month(&self, m: Month) -> &[(K, &'f V)] {
        match self.months.binary_search_by_key(&m, |(x, _)| *x) {
            Ok(i) => &self.entries[self.months[i].1.clone()],
            Err(_) => &[],
        }
    }
}

/// Association starts looked up in the order a month's licenses entries
/// come in ((tenant, workload, association) ascending, as the starts are
/// sorted): a cursor that moves forward, not a search per entry; a key
/// that comes before the previous one is searched for.
struct StartCursor<'f> {
    starts: &'f [(LicenseStartKey, LicenseStart)],
    at: usize,
    last: Option<LicenseStartKey>,
}

impl<'f> StartCursor<'f> {
    fn new(starts: &'f [(LicenseStartKey, LicenseStart)]) -> Self {
        StartCursor {
            starts,
            at: 0,
            last: None,
        }
    }

    /// The start of `key`, if any.
    fn find(&mut self, key: LicenseStartKey) -> Option<&'f LicenseStart> {
        if self.last.is_some_and(|l| key < l) {
            self.at = 0;
        }
        self.last = Some(key);
        let rest = &self.starts[self.at..];
        // Most keys are a few entries ahead: step, then search the rest.
        let ahead = rest.iter().take(8).take_while(|(k, _)| *k < key).count();
        self.at += if ahead < 8 {
            ahead
        } else {
            rest.partition_point(|(k, _)| *k < key)
        };
        self.starts
            .get(self.at)
            .filter(|(k, _)| *k == key)
            .map(|(_, v)| v)
    }
}

/// Metrics shared by several areas, for one partner: per (shared key,
/// period), the result once computed and how many of the engines' metrics
/// have yet to ask for it (the last one takes the result instead of a copy).
struct Memo<'k>(std::cell::RefCell<Vec<MemoEntry<'k>>>);

/// One entry of a [`Memo`].
struct MemoEntry<'k> {
    key: &'k str,
    period: Period,
    done: Option<AreaMetric>,
    /// The engines' metrics of this key and period not yet scored (a
    /// metric its track leaves out never asks: its entry keeps a copy).
    left: usize,
}

impl<'k> Memo<'k> {
    /// An entry per shared key and period of `engines`, none computed.
    fn for_engines(engines: &'k [(AreaEngine<'_>, Period)]) -> Memo<'k> {
        let mut entries: Vec<MemoEntry<'k>> = Vec::new();
        for (e, p) in engines {
            for key in e.shared_keys.iter().flatten() {
                match entries.iter_mut().find(|x| x.key == key && x.period == *p) {
                    Some(x) => x.left += 1,
                    None => entries.push(MemoEntry {
                        key,
                        period: *p,
                        done: None,
                        left: 1,
                    }),
                }
            }
        }
        Memo(std::cell::RefCell::new(entries))
    }

    /// The result of the metric of `key` in `period`, computed by `compute`
    /// the first time; a copy for all but the last metric that asks.
    fn get(&self, key: &str, period: Period, compute: impl FnOnce() -> AreaMetric) -> AreaMetric {
        let mut entries = self.0.borrow_mut();
        let Some(i) = entries
            .iter()
            .position(|x| x.period == period && crate::facts::same(x.key, key))
        else {
            drop(entries);
            return compute();
        };
        let x = &mut entries[i];
        x.left = x.left.saturating_sub(1);
        match (&x.done, x.left) {
            (Some(_), 0) => return x.done.take().expect("present"),
            (Some(done), _) => return done.clone(),
            (None, _) => {}
        }
        drop(entries);
        // (Entries are never added or removed: `i` still holds.)
        let done = compute();
        let x = &mut self.0.borrow_mut()[i];
        if x.left > 0 {
            x.done = Some(done.clone());
        }
        done
    }
}

fn score_one<'k>(
    engine: &'k AreaEngine<'_>,
    partner_id: &str,
    facts: &PartnerFacts,
    period: Period,
    detail: Detail,
    keys: &Keys<'_>,
    memo: Option<&Memo<'k>>,
) -> AreaScore {
    let ctx = Ctx {
        e: engine,
        facts,
        period,
        full: detail == Detail::Full,
        service_keys: &keys.services,
        resolves_unknown: keys.resolves_unknown,
        acr: &keys.acr,
        licenses: &keys.licenses,
        judged: std::cell::OnceCell::new(),
    };
    // A top-level metric through the memo when its definition is shared.
    let top = |m: &AreaMetricRule| -> AreaMetric {
        let key = memo.and_then(|_| {
            engine
                .rb
                .metrics
                .iter()
                .position(|x| std::ptr::eq(x, m))
                .and_then(|i| engine.shared_keys[i].as_deref())
        });
        let (Some(memo), Some(key)) = (memo, key) else {
            return ctx.metric(m);
        };
        memo.get(key, period, || ctx.metric(m))
    };
    let rb = engine.rb;
    let d = period.evaluation_date;
    let q = &rb.qualification;
    let judge = |metrics: &[AreaMetric]| {
        let total: Decimal = metrics
            .iter()
            .map(|m| m.points)
            .sum::<Decimal>()
            .normalize();
        let qualified = total >= q.min_total_points
            && (!q.every_metric_above_zero || metrics.iter().all(|m| m.points > Decimal::ZERO));
        (total, qualified)
    };
    let mut classifier = None;
    let (classification, tracks, metrics, total_points, qualified) = match rb.track_rule {
        TrackRule::None => {
            let metrics: Vec<AreaMetric> = rb.metrics_on(None, d).into_iter().map(top).collect();
            let (total, qualified) = judge(&metrics);
            (None, Vec::new(), metrics, total, qualified)
        }
        TrackRule::Classify => {
            let c = rb
                .classifier
                .as_ref()
                .expect("validated: classify has a classifier");
            let result = ctx.classify(c);
            let metrics: Vec<AreaMetric> = rb
                .metrics_on(Some(&result.track), d)
                .into_iter()
                .map(top)
                .collect();
            let (total, qualified) = judge(&metrics);
            let track = result.track.clone();
            classifier = Some(result);
            (Some(track), Vec::new(), metrics, total, qualified)
        }
        TrackRule::BestTrack => {
            let tracks: Vec<TrackScore> = rb
                .tracks
                .iter()
                .map(|t| {
                    let metrics: Vec<AreaMetric> =
                        rb.metrics_on(Some(t), d).into_iter().map(top).collect();
                    let (total_points, qualified) = judge(&metrics);
                    TrackScore {
                        track: t.clone(),
                        metrics,
                        total_points,
                        qualified,
                    }
                })
                .collect();
            // The qualifying track with the higher total, else the higher
            // total; on a tie the first track listed.
            let mut best = 0;
            for (i, t) in tracks.iter().enumerate().skip(1) {
                let b = &tracks[best];
                if (t.qualified, t.total_points) > (b.qualified, b.total_points) {
                    best = i;
                }
            }
            let any = tracks.iter().any(|t| t.qualified);
            let chosen = &tracks[best];
            let (track, metrics, total) = (
                chosen.track.clone(),
                chosen.metrics.clone(),
                chosen.total_points,
            );
            (Some(track), tracks, metrics, total, any)
        }
    };
    AreaScore {
        partner_id: partner_id.to_string(),
        partner_name: facts.name.clone(),
        solution_area: rb.solution_area.clone(),
        rulebook: engine.rulebook_id.clone(),
        period,
        classification,
        classifier,
        tracks,
        metrics,
        total_points,
        qualified,
        min_total_points: q.min_total_points,
    }
}

struct Ctx<'a> {
    e: &'a AreaEngine<'a>,
    facts: &'a PartnerFacts,
    period: Period,
    full: bool,
    service_keys: &'a [std::borrow::Cow<'a, str>],
    /// [`Keys`]'s `resolves_unknown`.
    resolves_unknown: bool,
    acr: &'a ByMonth<'a, AcrKey, Agg>,
    licenses: &'a ByMonth<'a, LicenseKey, LicenseAgg>,
    /// The certification records judged on D ([`Ctx::judged`]).
    judged: std::cell::OnceCell<Vec<Judged>>,
}

/// A certification record judged: person, area certification, why it does
/// not count (none: it does), index in the facts' records.
type Judged = (u32, Option<usize>, Option<AreaReason>, usize);

/// A set of months close together (the months of some windows): a bit per
/// month counted back from the newest, a list for months more than 64
/// months older. Cheaper to ask than a hashed set, once per row of a table.
#[derive(Default)]
struct MonthSet {
    newest: Option<Month>,
    bits: u64,
    far: Vec<Month>,
}

impl MonthSet {
    fn contains(&self, m: &Month) -> bool {
        let Some(n) = self.newest else {
            return false;
        };
        let d = n.months_since(*m);
        if (0..64).contains(&d) {
            self.bits >> d & 1 == 1
        } else {
            self.far.contains(m)
        }
    }
}

impl FromIterator<Month> for MonthSet {
    fn from_iter<I: IntoIterator<Item = Month>>(it: I) -> Self {
        let all: Vec<Month> = it.into_iter().collect();
        let Some(&newest) = all.iter().max() else {
            return MonthSet::default();
        };
        let mut set = MonthSet {
            newest: Some(newest),
            ..MonthSet::default()
        };
        for m in all {
            let d = newest.months_since(m);
            if d < 64 {
                set.bits |= 1 << d;
            } else {
                set.far.push(m);
            }
        }
        set
    }
}

/// The months of a window ending in X.
fn window_months(w: Window, x: Month) -> Vec<Month> {
    match w {
        Window::Month => vec![x],
        Window::AnyOf2 => vec![x.minus(1), x],
        Window::Ttm => (0..12).rev().map(|k| x.minus(k)).collect(),
    }
}

#[cfg(test)]
fn passes_band(seats: u64, t: &Threshold, at_most: Option<Decimal>) -> bool {
    let s = Decimal::from(seats);
    t.passes(s) && at_most.is_none_or(|m| s <= m)
}

/// A seat band as whole numbers, `min..=max`: what [`passes_band`] decides
/// for a count of seats, with the threshold's decimals worked out once
/// instead of per aggregate.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct SeatBand {
    min: u64,
    max: u64,
}

impl SeatBand {
    fn new(t: &Threshold, at_most: Option<Decimal>) -> SeatBand {
        // The least whole number that passes `t` (`>= v`: v rounded up;
        // `> v`: v rounded down, plus one), and the greatest at most
        // `at_most` (rounded down); beyond u64 nothing passes.
        let clamp = |d: Decimal| -> Option<u64> {
            // (A decimal rounded to zero may keep its sign.)
            if d <= Decimal::ZERO {
                Some(0)
            } else {
                u64::try_from(d).ok()
            }
        };
        let min = match t.comparison {
            Comparison::AtLeast => clamp(t.value.ceil()),
            Comparison::Above => clamp(t.value.floor()).and_then(|v| {
                if t.value < Decimal::ZERO {
                    Some(0)
                } else {
                    v.checked_add(1)
                }
            }),
        };
        let max = match at_most {
            None => Some(u64::MAX),
            Some(m) if m < Decimal::ZERO => None,
            Some(m) => Some(u64::try_from(m.floor()).unwrap_or(u64::MAX)),
        };
        match (min, max) {
            (Some(min), Some(max)) => SeatBand { min, max },
            // Nothing passes.
            _ => SeatBand { min: 1, max: 0 },
        }
    }

    fn contains(&self, seats: u64) -> bool {
        (self.min..=self.max).contains(&seats)
    }
}

fn ratio_passes(active: u64, paid: u64, t: &Threshold) -> bool {
    paid > 0 && t.passes(Decimal::from(active) / Decimal::from(paid))
}

/// Truncates `(latest − baseline) × 100 / baseline` to `decimals` places;
/// `None` when the baseline is not positive (an MCV baseline is never
/// negative: usage quantities and rates are not).
pub(crate) fn percent(latest: Decimal, baseline: Decimal, decimals: u32) -> Option<Decimal> {
    if baseline <= Decimal::ZERO {
        return None;
    }
    crate::score::percent_growth(latest, baseline, decimals)
}

struct Outcome {
    value: Option<Decimal>,
    points: Decimal,
    unrounded: Decimal,
    figures: Vec<(String, Decimal)>,
    detail: AreaDetail,
    options: Vec<AreaMetric>,
    chosen: Option<String>,
    parts: Vec<AreaMetric>,
}

impl Ctx<'_> {
    fn latest(&self) -> Month {
        self.period.latest_month
    }
    fn baseline(&self) -> Month {
        self.period.baseline_month
    }

    fn tenant(&self, t: u32) -> (Option<String>, Option<String>) {
        if !self.full {
            return (None, None);
        }
        let t = &self.facts.tenants[t as usize];
        (
            Some(t.id.to_string()),
            t.name.as_ref().map(CompactId::to_string),
        )
    }

    fn service_ok(&self, b: &Bound, s: u32) -> bool {
        let key: &str = &self.service_keys[s as usize];
        !b.exclude_services.iter().any(|x| x == key)
            && b.services
                .as_ref()
                .is_none_or(|l| l.iter().any(|x| x == key))
    }

    fn measure_set<'s>(&'s self, b: &'s Bound, ids: &Option<Vec<String>>) -> &'s [bool] {
        match ids {
            Some(ids) => &self.e.measure_sets[ids],
            None => &b.assocs,
        }
    }

    fn metric(&self, m: &AreaMetricRule) -> AreaMetric {
        let mut o = self.outcome(m);
        if self.full {
            match &mut o.detail {
                AreaDetail::EntityCount { items, .. } | AreaDetail::Growth { items, .. } => {
                    tidy(items)
                }
                AreaDetail::CertifiedPeople { .. } | AreaDetail::Combined => {}
            }
        }
        AreaMetric {
            id: m.id.clone(),
            label: m.label.clone(),
            category: m.category.clone(),
            value: o.value,
            points: o.points,
            max_points: m.points.max,
            figures: o.figures,
            options: o.options,
            chosen_option: o.chosen,
            parts: o.parts,
            detail: o.detail,
            unrounded: o.unrounded,
        }
    }

    fn outcome(&self, m: &AreaMetricRule) -> Outcome {
        let pf = &m.points;
        let plain = |value: Option<Decimal>, detail: AreaDetail, figures| {
            let unrounded = value.map_or(Decimal::ZERO, |v| pf.unrounded(v));
            Outcome {
                value,
                points: pf.round(unrounded),
                unrounded,
                figures,
                detail,
                options: Vec::new(),
                chosen: None,
                parts: Vec::new(),
            }
        };
        match &m.shape {
            AreaShape::EntityCount { .. } => {
                let (value, detail) = self.entity_count(m);
                plain(Some(value), detail, Vec::new())
            }
            AreaShape::CertifiedPeople {
                certifications,
                prerequisites,
            } => {
                let (value, detail, met) = self.certified(certifications, prerequisites);
                let mut o = plain(Some(value), detail, Vec::new());
                if !met {
                    o.points = Decimal::ZERO;
                    o.unrounded = Decimal::ZERO;
                }
                o
            }
            AreaShape::Growth { .. } => {
                let (value, met, detail, figures) = self.growth(m);
                let mut o = plain(value, detail, figures);
                if !met {
                    o.points = Decimal::ZERO;
                    o.unrounded = Decimal::ZERO;
                }
                o
            }
            AreaShape::BestOf { options } => {
                let scored: Vec<AreaMetric> = options.iter().map(|o| self.metric(o)).collect();
                let mut best = 0;
                for (i, o) in scored.iter().enumerate().skip(1) {
                    if o.points > scored[best].points {
                        best = i;
                    }
                }
                let w = &scored[best];
                Outcome {
                    value: w.value,
                    points: w.points.min(pf.max),
                    unrounded: w.unrounded.min(pf.max),
                    figures: Vec::new(),
                    detail: AreaDetail::Combined,
                    chosen: Some(w.id.clone()),
                    options: scored,
                    parts: Vec::new(),
                }
            }
            AreaShape::SumCapped { parts, combine } => {
                let scored: Vec<AreaMetric> = parts.iter().map(|p| self.metric(p)).collect();
                let (value, unrounded) = match combine {
                    Combine::Values => {
                        let n: Decimal = scored
                            .iter()
                            .map(|p| p.value.unwrap_or_default().max(Decimal::ZERO))
                            .sum();
                        (Some(n.normalize()), pf.unrounded(n))
                    }
                    Combine::Points => {
                        let s: Decimal = scored.iter().map(|p| p.unrounded).sum();
                        (None, s.max(Decimal::ZERO).min(pf.max))
                    }
                };
                Outcome {
                    value,
                    points: pf.round(unrounded),
                    unrounded,
                    figures: Vec::new(),
                    detail: AreaDetail::Combined,
                    options: Vec::new(),
                    chosen: None,
                    parts: scored,
                }
            }
        }
    }

    /// Whether each of the partner's services is eligible under the
    /// filter: judged once, not once per entry.
    fn acr_services(&self, b: &Bound) -> Vec<bool> {
        (0..self.service_keys.len() as u32)
            .map(|s| self.service_ok(b, s))
            .collect()
    }

    /// Eligible ACR of a filter per (entity, month), for the months given,
    /// entities ascending, then months; and the row groups the filter left
    /// out (explanations only).
    fn acr_sums(
        &self,
        b: &Bound,
        entity: Entity,
        months: &MonthSet,
        excluded: &mut Vec<AreaItem>,
    ) -> Vec<((u32, Month), AcrSum)> {
        // Each eligible entry under its (entity, month), in the order read;
        // then sorted by (entity, month), stably (an entity's entries of a
        // month merge in the order read), and merged.
        let mut counted: Vec<((u32, Month), AcrKey, &Agg)> =
            Vec::with_capacity(self.acr.len_of_months(months));
        let services = self.acr_services(b);
        for (&key, agg) in self.acr.of_months(months) {
            let (t, s, m, a, o) = key;
            if let Some(reason) = acr_exclusion(b, &services, &key) {
                if self.full {
                    let (tenant_id, customer_name) = self.tenant(t);
                    excluded.push(AreaItem {
                        tenant_id,
                        customer_name,
                        service: Some(self.facts.services[s as usize].clone()),
                        association: Some(self.e.vocab.associations[a as usize].clone()),
                        offer: (o != NO_OFFER)
                            .then(|| self.e.vocab.offer_catalogue.names[o as usize].clone()),
                        month: Some(m),
                        amount: Some(agg.amount.normalize()),
                        counted: false,
                        reason: Some(reason),
                        rows: agg.rows,
                        lines: self.facts.traces().acr(&key).lines().to_vec(),
                        ..AreaItem::default()
                    });
                }
                continue;
            }
            let entity_key = match entity {
                // Validated: an acr count keys by tenant or service.
                Entity::Tenant | Entity::TenantWorkload => t,
                Entity::Service => s,
            };
            counted.push(((entity_key, m), key, agg));
        }
        counted.sort_by_key(|(k, _, _)| *k);
        let mut sums: Vec<((u32, Month), AcrSum)> = Vec::new();
        for (k, key, agg) in counted {
            if sums.last().is_none_or(|(last, _)| *last != k) {
                sums.push((k, AcrSum::default()));
            }
            let e = &mut sums.last_mut().expect("pushed").1;
            e.amount += agg.amount;
            e.rows += agg.rows;
            if self.full {
                let trace = self.facts.traces().acr(&key);
                e.lines.extend(trace.lines());
                merge_subscriptions(&mut e.subscriptions, subscription_texts(trace));
            }
        }
        excluded.extend(self.unknown_groups(Table::Acr, months));
        sums
    }

    /// Row groups with an unknown name in `table` (explanations only).
    fn unknown_groups(&self, table: Table, months: &MonthSet) -> Vec<AreaItem> {
        if !self.full {
            return Vec::new();
        }
        self.facts
            .excluded
            .iter()
            .filter(|(k, _)| k.table == table && months.contains(&k.month))
            .map(|(k, agg)| {
                let (tenant_id, customer_name) = self.tenant(k.tenant);
                let (service, workload) = match table {
                    Table::Acr => (Some(k.workload.to_string()), None),
                    _ => (None, Some(k.workload.to_string())),
                };
                AreaItem {
                    tenant_id,
                    customer_name,
                    service,
                    workload,
                    association: Some(k.association.to_string()),
                    month: Some(k.month),
                    amount: (table == Table::Acr).then(|| agg.amount.normalize()),
                    counted: false,
                    reason: Some(match k.reason {
                        crate::facts::Exclusion::UnknownWorkload => AreaReason::UnknownWorkload,
                        _ => AreaReason::UnknownAssociation,
                    }),
                    rows: agg.rows,
                    lines: self.facts.traces().excluded(k).lines().to_vec(),
                    ..AreaItem::default()
                }
            })
            .collect()
    }

    /// Amounts of a pair table (revenue in USD, usage in MCV = quantity ×
    /// rate) per (tenant, workload, month) of the latest and baseline
    /// months; per (tenant, [`u16::MAX`], month) for [`Entity::Tenant`].
    fn pair_sums(&self, source: Source, entity: Entity) -> HashMap<(u32, u16, Month), AcrSum> {
        let (l, bl) = (self.latest(), self.baseline());
        let mut sums: HashMap<(u32, u16, Month), AcrSum> = HashMap::default();
        let full = self.full;
        let mut add = |t: u32,
                       w: u16,
                       m: Month,
                       amount: Decimal,
                       agg: &crate::facts::Agg,
                       trace: Option<&AggTrace>,
                       usage: Option<(
            &crate::rulebook::UsageWorkload,
            &crate::facts::UsageAgg,
            &[crate::facts::ProductQuantity],
        )>| {
            if m != l && m != bl {
                return;
            }
            let w = if entity == Entity::Tenant {
                u16::MAX
            } else {
                w
            };
            let e = sums.entry((t, w, m)).or_default();
            e.amount += amount;
            e.rows += agg.rows;
            let Some(trace) = trace else { return };
            e.lines.extend(trace.lines());
            merge_subscriptions(&mut e.subscriptions, subscription_texts(trace));
            if let Some((wl, u, by_product)) = usage {
                *e.quantity.get_or_insert(Decimal::ZERO) += u.total.amount;
                if by_product.iter().any(|(p, _)| p.is_some()) {
                    for (p, q) in by_product {
                        let name = match p {
                            Some(i) => &wl.includes[*i as usize],
                            None => &wl.name,
                        };
                        e.products.push((name.clone(), *q));
                    }
                }
            }
        };
        match source {
            Source::Revenue => {
                let traces = full.then(|| self.facts.traces());
                for (&(t, w, m), agg) in &self.facts.revenue {
                    let trace = traces.map(|x| x.revenue(&(t, w, m)));
                    add(t, w, m, agg.amount, agg, trace, None);
                }
            }
            Source::Usage => {
                let traces = full.then(|| self.facts.traces());
                for (&(t, w, m), agg) in &self.facts.usage {
                    let wl = &self.e.ba.usage.workloads[w as usize];
                    let rate = wl.rate.expect("only workloads with a rate are aggregated");
                    add(
                        t,
                        w,
                        m,
                        agg.total.amount * rate,
                        &agg.total,
                        traces.map(|x| x.usage(&(t, w, m))),
                        Some((
                            wl,
                            agg,
                            traces.map_or(&[][..], |_| self.facts.by_product(&(t, w, m))),
                        )),
                    );
                }
            }
            Source::Acr | Source::Licenses => unreachable!("pair tables only"),
        }
        sums
    }

    /// The name of workload `w` of a pair table.
    fn pair_workload(&self, source: Source, w: u16) -> Option<String> {
        let ba = self.e.ba;
        match (source, w) {
            (_, u16::MAX) => None,
            (Source::Revenue, w) => Some(ba.revenue.workloads[w as usize].name.clone()),
            (_, w) => Some(ba.usage.workloads[w as usize].name.clone()),
        }
    }

    /// One explained (entity, month) of a pair table.
    #[allow(clippy::too_many_arguments)]
    fn pair_item(
        &self,
        source: Source,
        period: &'static str,
        t: u32,
        w: u16,
        m: Month,
        v: AcrSum,
        counted: bool,
    ) -> AreaItem {
        let (tenant_id, customer_name) = self.tenant(t);
        AreaItem {
            period: Some(period),
            tenant_id,
            customer_name,
            workload: self.pair_workload(source, w),
            month: Some(m),
            amount: Some(v.amount.normalize()),
            quantity: v.quantity.map(|q| q.normalize()),
            products: v
                .products
                .into_iter()
                .map(|(p, q)| (p, q.normalize()))
                .collect(),
            counted,
            reason: (!counted).then_some(AreaReason::BelowThreshold),
            rows: v.rows,
            lines: v.lines,
            subscriptions: v.subscriptions,
            ..AreaItem::default()
        }
    }

    /// Row groups of a pair table that its read left out (explanations only).
    fn pair_left_out(&self, source: Source, months: &MonthSet) -> Vec<AreaItem> {
        if !self.full {
            return Vec::new();
        }
        let table = match source {
            Source::Revenue => Table::Revenue,
            _ => Table::Usage,
        };
        self.facts
            .excluded
            .iter()
            .filter(|(k, _)| k.table == table && months.contains(&k.month))
            .map(|(k, agg)| {
                let (tenant_id, customer_name) = self.tenant(k.tenant);
                AreaItem {
                    tenant_id,
                    customer_name,
                    workload: Some(k.workload.to_string()),
                    association: Some(k.association.to_string()),
                    month: Some(k.month),
                    amount: Some(agg.amount.normalize()),
                    counted: false,
                    reason: Some(AreaReason::Excluded {
                        exclusion: k.reason,
                    }),
                    rows: agg.rows,
                    lines: self.facts.traces().excluded(k).lines().to_vec(),
                    subscriptions: subscription_texts(self.facts.traces().excluded(k)).collect(),
                    ..AreaItem::default()
                }
            })
            .collect()
    }

    /// Each amount of a pair table (revenue in USD, usage in MCV) per
    /// (tenant, workload, month) of the latest and baseline months, without
    /// gathering them (the sums of [`Ctx::pair_sums`] for
    /// [`Entity::TenantWorkload`], when no explanation is built).
    fn each_pair(&self, source: Source, mut f: impl FnMut(u32, u16, Month, Decimal)) {
        let (l, bl) = (self.latest(), self.baseline());
        match source {
            Source::Revenue => {
                for (&(t, w, m), agg) in &self.facts.revenue {
                    if m == l || m == bl {
                        f(t, w, m, agg.amount);
                    }
                }
            }
            Source::Usage => {
                for (&(t, w, m), agg) in &self.facts.usage {
                    if m == l || m == bl {
                        let rate = self.e.ba.usage.workloads[w as usize]
                            .rate
                            .expect("only workloads with a rate are aggregated");
                        f(t, w, m, agg.total.amount * rate);
                    }
                }
            }
            Source::Acr | Source::Licenses => unreachable!("pair tables only"),
        }
    }

    /// Chooses the track of a `classify` area.
    fn classify(&self, c: &Classifier) -> ClassifierResult {
        let source = self.e.rb.filters[c.filter].source;
        let (l, bl) = (self.latest(), self.baseline());
        let rb = self.e.rb;
        let track = |counted: u32| {
            if counted >= c.min_entities {
                rb.tracks[0].clone()
            } else {
                rb.tracks[1].clone()
            }
        };
        if !self.full {
            // Counts only: (latest, baseline) per entity.
            let mut both: HashMap<(u32, u16), [Decimal; 2]> = HashMap::default();
            self.each_pair(source, |t, w, m, amount| {
                let w = if c.entity == Entity::Tenant {
                    u16::MAX
                } else {
                    w
                };
                both.entry((t, w)).or_default()[usize::from(m != l)] += amount;
            });
            let counted = both
                .values()
                .filter(|[a, b]| c.amount.passes(*a) && c.amount.passes(*b))
                .count() as u32;
            return ClassifierResult {
                track: track(counted),
                amount: c.amount,
                min_entities: c.min_entities,
                counted,
                items: Vec::new(),
            };
        }
        let mut sums = self.pair_sums(source, c.entity);
        let mut counted = 0u32;
        let mut items = Vec::new();
        let keys: std::collections::BTreeSet<(u32, u16)> =
            sums.keys().map(|&(t, w, _)| (t, w)).collect();
        for (t, w) in keys {
            // Each (pair, month) sum is one item at most: moved into it.
            let latest = sums.remove(&(t, w, l)).unwrap_or_default();
            let base = sums.remove(&(t, w, bl)).unwrap_or_default();
            let (lp, bp) = (c.amount.passes(latest.amount), c.amount.passes(base.amount));
            counted += u32::from(lp && bp);
            if self.full && (lp || bp) {
                for (period, mm, v, passed) in
                    [("latest", l, latest, lp), ("baseline", bl, base, bp)]
                {
                    let mut item = self.pair_item(source, period, t, w, mm, v, lp && bp);
                    // The month that passed is not below the threshold: the
                    // pair fails in the other month.
                    item.reason = (!passed).then_some(AreaReason::BelowThreshold);
                    items.push(item);
                }
            }
        }
        tidy(&mut items);
        ClassifierResult {
            track: track(counted),
            amount: c.amount,
            min_entities: c.min_entities,
            counted,
            items,
        }
    }

    fn entity_count(&self, m: &AreaMetricRule) -> (Decimal, AreaDetail) {
        let AreaShape::EntityCount {
            filter,
            entity,
            window,
            mode,
            amount,
            seats,
            seats_at_most,
            active_ratio,
            ratio_scope,
            measure_associations,
            exclude_new_above,
        } = &m.shape
        else {
            unreachable!("entity_count")
        };
        let b = &self.e.filters[*filter];
        let (l, bl) = (self.latest(), self.baseline());
        let periods: Vec<(&'static str, Month)> = match mode {
            Mode::Delta => vec![("latest", l), ("baseline", bl)],
            Mode::Level => vec![("latest", l)],
        };
        let mut items = Vec::new();
        let mut counts = [0u32; 2];
        let mut excluded_new = 0u32;
        match b.source {
            Source::Revenue | Source::Usage if !self.full && *entity == Entity::TenantWorkload => {
                let threshold = amount.expect("validated: a pair table tests an amount");
                self.each_pair(b.source, |_, _, mm, v| {
                    if let Some(pi) = periods.iter().position(|(_, x)| *x == mm) {
                        counts[pi] += u32::from(threshold.passes(v));
                    }
                });
            }
            Source::Revenue | Source::Usage => {
                let threshold = amount.expect("validated: a pair table tests an amount");
                let sums = self.pair_sums(b.source, *entity);
                for ((t, w, mm), v) in sums {
                    let Some(pi) = periods.iter().position(|(_, x)| *x == mm) else {
                        continue;
                    };
                    let passed = threshold.passes(v.amount);
                    counts[pi] += u32::from(passed);
                    if self.full {
                        items.push(self.pair_item(b.source, periods[pi].0, t, w, mm, v, passed));
                    }
                }
                let months: MonthSet = periods.iter().map(|(_, x)| *x).collect();
                items.extend(self.pair_left_out(b.source, &months));
            }
            Source::Acr => {
                let threshold = amount.expect("validated: acr tests an amount");
                let months: MonthSet = periods
                    .iter()
                    .flat_map(|(_, x)| window_months(*window, *x))
                    .collect();
                let mut excluded = Vec::new();
                let sums = self.acr_sums(b, *entity, &months, &mut excluded);
                for (pi, (label, x)) in periods.iter().enumerate() {
                    let ms = window_months(*window, *x);
                    // Entities ascending, each one's months ascending.
                    for run in sums.chunk_by(|a, b| a.0.0 == b.0.0) {
                        let ent = run[0].0.0;
                        let get = |m: Month| {
                            run.binary_search_by_key(&m, |((_, mm), _)| *mm)
                                .ok()
                                .map(|i| &run[i].1)
                        };
                        let (amount, passed, rows, lines, subscriptions) = match window {
                            Window::Month | Window::Ttm => {
                                let mut total = Decimal::ZERO;
                                let mut rows = 0;
                                let mut lines = Vec::new();
                                let mut subs = Vec::new();
                                let mut any = false;
                                for &mm in &ms {
                                    if let Some(v) = get(mm) {
                                        total += v.amount;
                                        rows += v.rows;
                                        lines.extend(&v.lines);
                                        merge_subscriptions(
                                            &mut subs,
                                            v.subscriptions.iter().cloned(),
                                        );
                                        any = true;
                                    }
                                }
                                if !any {
                                    continue;
                                }
                                (total, threshold.passes(total), rows, lines, subs)
                            }
                            Window::AnyOf2 => {
                                let a1 = get(*x);
                                let a0 = get(x.minus(1));
                                if a1.is_none() && a0.is_none() {
                                    continue;
                                }
                                let v1 = a1.map_or(Decimal::ZERO, |v| v.amount);
                                let v0 = a0.map_or(Decimal::ZERO, |v| v.amount);
                                let passed = threshold.passes(v1) || threshold.passes(v0);
                                let mut lines = Vec::new();
                                let mut rows = 0;
                                for v in [a0, a1].into_iter().flatten() {
                                    rows += v.rows;
                                    lines.extend(&v.lines);
                                }
                                // The amount shown is the better month's.
                                let better = if v1 >= v0 { a1 } else { a0 };
                                let subs =
                                    better.map(|v| v.subscriptions.clone()).unwrap_or_default();
                                (v1.max(v0), passed, rows, lines, subs)
                            }
                        };
                        if passed {
                            counts[pi] += 1;
                        }
                        if self.full {
                            let mut item = AreaItem {
                                period: Some(label),
                                from_month: Some(window_months(*window, *x)[0]),
                                month: Some(*x),
                                amount: Some(amount.normalize()),
                                counted: passed,
                                reason: (!passed).then_some(AreaReason::BelowThreshold),
                                rows,
                                lines,
                                subscriptions,
                                ..AreaItem::default()
                            };
                            match entity {
                                Entity::Tenant | Entity::TenantWorkload => {
                                    (item.tenant_id, item.customer_name) = self.tenant(ent)
                                }
                                Entity::Service => {
                                    item.service = Some(self.facts.services[ent as usize].clone())
                                }
                            }
                            items.push(item);
                        }
                    }
                }
                items.extend(excluded);
            }
            Source::Licenses => {
                let seat_test = seats.expect("validated: licenses tests seats");
                let ratio_set = self.measure_set(b, measure_associations);
                // Per (tenant, month): band passed, and the pooled ratio sums.
                let months: MonthSet = periods.iter().map(|(_, x)| *x).collect();
                let tenants = self.license_tenants(
                    b,
                    &seat_test,
                    *seats_at_most,
                    active_ratio
                        .as_ref()
                        .filter(|_| *ratio_scope == RatioScope::Workload),
                    ratio_set,
                    &months,
                );
                let starts = if exclude_new_above.is_some() {
                    self.option_starts(b, ratio_set)
                } else {
                    HashMap::default()
                };
                for (pi, (label, x)) in periods.iter().enumerate() {
                    // In no order: counts do not depend on it, and
                    // explained items are sorted by tenant ([`tidy`]).
                    for &((t, mm), ref tm) in &tenants {
                        if mm != *x {
                            continue;
                        }
                        let mut reason = None;
                        if !tm.band {
                            reason = Some(AreaReason::OutsideBand);
                        } else if let Some(r) =
                            active_ratio.filter(|_| *ratio_scope == RatioScope::Tenant)
                            && !ratio_passes(tm.active, tm.paid, &r)
                        {
                            reason = Some(AreaReason::RatioBelow);
                        }
                        if reason.is_none()
                            && *label == "latest"
                            && let Some(ex) = exclude_new_above
                            && let Some(&start) = starts.get(&t)
                            && start >= l.minus(11)
                            && start <= l
                        {
                            let (a, p) = self.pooled(b, ratio_set, t, start);
                            if p > 0 && ex.passes(Decimal::from(a) / Decimal::from(p)) {
                                reason = Some(AreaReason::NewAssociationAlreadyActive { start });
                                excluded_new += 1;
                            }
                        }
                        let counted = reason.is_none();
                        if counted {
                            counts[pi] += 1;
                        }
                        if self.full {
                            let (tenant_id, customer_name) = self.tenant(t);
                            items.push(AreaItem {
                                period: Some(label),
                                tenant_id,
                                customer_name,
                                month: Some(*x),
                                paid_seats: Some(tm.paid),
                                active_users: Some(tm.active),
                                counted,
                                reason,
                                rows: tm.rows,
                                lines: tm.lines.clone(),
                                ..AreaItem::default()
                            });
                        }
                    }
                }
                items.extend(self.license_left_out(b, &months));
            }
        }
        let value = match mode {
            Mode::Delta => Decimal::from(counts[0]) - Decimal::from(counts[1]),
            Mode::Level => Decimal::from(counts[0]),
        };
        (
            value,
            AreaDetail::EntityCount {
                latest_count: counts[0],
                baseline_count: (*mode == Mode::Delta).then_some(counts[1]),
                excluded_new,
                items,
            },
        )
    }

    /// Per (tenant, month) of `months`: whether some (workload, association)
    /// of the filter is in the seat band (and, with `workload_ratio`, has
    /// that share active), and active users and paid seats pooled over the
    /// filter's workloads with the `ratio_set` associations; months
    /// ascending, then tenants.
    fn license_tenants(
        &self,
        b: &Bound,
        seats: &Threshold,
        at_most: Option<Decimal>,
        workload_ratio: Option<&Threshold>,
        ratio_set: &[bool],
        months: &MonthSet,
    ) -> Vec<((u32, Month), TenantMonth)> {
        let mut out: Vec<((u32, Month), TenantMonth)> = Vec::new();
        let band = SeatBand::new(seats, at_most);
        // Months ascending, each month's entries by tenant first
        // ([`ByMonth`]): a (tenant, month)'s entries come one after another,
        // so each is merged into the last pair or starts a new one.
        for (&key, agg) in self.licenses.of_months(months) {
            let (t, w, m, a) = key;
            if !b.workloads.get(w as usize).copied().unwrap_or(false) {
                continue;
            }
            let in_filter = b.assocs.get(a as usize).copied().unwrap_or(false);
            let in_ratio = ratio_set.get(a as usize).copied().unwrap_or(false);
            if !in_filter && !in_ratio {
                continue;
            }
            if out.last().is_none_or(|(k, _)| *k != (t, m)) {
                debug_assert!(out.last().is_none_or(|(k, _)| (k.1, k.0) < (m, t)));
                out.push(((t, m), TenantMonth::default()));
            }
            let tm = &mut out.last_mut().expect("pushed").1;
            if b.passes_seat_band(&band, w, a, agg.paid_seats)
                && workload_ratio.is_none_or(|r| ratio_passes(agg.active_users, agg.paid_seats, r))
            {
                tm.band = true;
            }
            if in_ratio {
                tm.active += agg.active_users;
                tm.paid += agg.paid_seats;
            }
            tm.rows += agg.rows;
            if self.full {
                tm.lines.extend(self.facts.traces().licenses(&key).lines());
            }
        }
        out
    }

    /// Whether the tenant `t` is in the seat band of `b` in month `m`, a
    /// month from the baseline to the latest: as [`Ctx::license_tenants`]
    /// decides it for that (tenant, month) without a ratio, some entry of
    /// the filter's workloads and associations having its paid seats in the
    /// band. A month's entries are in key order, tenant first ([`ByMonth`]):
    /// the tenant's are found by a binary search.
    fn in_seat_band(&self, b: &Bound, band: &SeatBand, t: u32, m: Month) -> bool {
        if m < self.baseline() || m > self.latest() {
            return false;
        }
        let month = self.licenses.of_month(m);
        let from = month.partition_point(|(k, _)| k.0 < t);
        month[from..]
            .iter()
            .take_while(|(k, _)| k.0 == t)
            .any(|&((_, w, _, a), agg)| b.passes_seat_band(band, w, a, agg.paid_seats))
    }

    /// Active users and paid seats of a tenant in a month, pooled over the
    /// filter's workloads with the given associations.
    fn pooled(&self, b: &Bound, set: &[bool], t: u32, m: Month) -> (u64, u64) {
        let (mut a, mut p) = (0, 0);
        for &((tt, w, _, aa), agg) in self.licenses.of_month(m) {
            if tt == t
                && b.workloads.get(w as usize).copied().unwrap_or(false)
                && set.get(aa as usize).copied().unwrap_or(false)
            {
                a += agg.active_users;
                p += agg.paid_seats;
            }
        }
        (a, p)
    }

    /// The earliest association start per tenant over the filter's
    /// workloads with the given associations.
    fn option_starts(&self, b: &Bound, set: &[bool]) -> HashMap<u32, Month> {
        let mut out: HashMap<u32, Month> = HashMap::default();
        for (&(t, w, a), s) in &self.facts.license_starts {
            if b.workloads.get(w as usize).copied().unwrap_or(false)
                && set.get(a as usize).copied().unwrap_or(false)
            {
                let m = s.month();
                out.entry(t).and_modify(|x| *x = (*x).min(m)).or_insert(m);
            }
        }
        out
    }

    /// Licenses row groups of the months that the filter left out.
    fn license_left_out(&self, b: &Bound, months: &MonthSet) -> Vec<AreaItem> {
        if !self.full {
            return Vec::new();
        }
        let mut items = Vec::new();
        for (&key, agg) in self.licenses.of_months(months) {
            let (t, w, m, a) = key;
            let reason = if !b.workloads.get(w as usize).copied().unwrap_or(false) {
                AreaReason::WorkloadNotEligible
            } else if !b.assocs.get(a as usize).copied().unwrap_or(false) {
                AreaReason::AssociationNotEligible
            } else {
                continue;
            };
            let (tenant_id, customer_name) = self.tenant(t);
            items.push(AreaItem {
                tenant_id,
                customer_name,
                workload: Some(self.e.vocab.workloads[w as usize].clone()),
                association: Some(self.e.vocab.associations[a as usize].clone()),
                month: Some(m),
                paid_seats: Some(agg.paid_seats),
                active_users: Some(agg.active_users),
                counted: false,
                reason: Some(reason),
                rows: agg.rows,
                lines: self.facts.traces().licenses(&key).lines().to_vec(),
                ..AreaItem::default()
            });
        }
        items.extend(self.unknown_groups(Table::Licenses, months));
        items
    }

    #[allow(clippy::type_complexity)]
    fn growth(
        &self,
        m: &AreaMetricRule,
    ) -> (Option<Decimal>, bool, AreaDetail, Vec<(String, Decimal)>) {
        let AreaShape::Growth {
            filter,
            measure,
            window,
            kind,
            decimals,
            measure_associations,
            seats,
            seats_at_most,
            baseline_minimum,
            association_start_baseline,
        } = &m.shape
        else {
            unreachable!("growth")
        };
        let b = &self.e.filters[*filter];
        let (l, bl) = (self.latest(), self.baseline());
        let mut items = Vec::new();
        let (latest, baseline) = match b.source {
            Source::Revenue | Source::Usage if !self.full => {
                let (mut lt, mut bt) = (Decimal::ZERO, Decimal::ZERO);
                self.each_pair(b.source, |_, _, mm, v| {
                    if mm == l {
                        lt += v;
                    } else {
                        bt += v;
                    }
                });
                (lt, bt)
            }
            Source::Revenue | Source::Usage => {
                let sums = self.pair_sums(b.source, Entity::TenantWorkload);
                let (mut lt, mut bt) = (Decimal::ZERO, Decimal::ZERO);
                for ((t, w, mm), v) in sums {
                    let role = if mm == l {
                        lt += v.amount;
                        "latest"
                    } else {
                        bt += v.amount;
                        "baseline"
                    };
                    if self.full {
                        items.push(self.pair_item(b.source, role, t, w, mm, v, true));
                    }
                }
                let months: MonthSet = [l, bl].into_iter().collect();
                items.extend(self.pair_left_out(b.source, &months));
                (lt, bt)
            }
            Source::Acr if !self.full => {
                // The two sums alone: each eligible aggregate added to the
                // window (or both windows) its month is in.
                let (lw, bw) = (window_months(*window, l), window_months(*window, bl));
                let lm: MonthSet = lw.iter().copied().collect();
                let bm: MonthSet = bw.iter().copied().collect();
                let months: MonthSet = lw.into_iter().chain(bw).collect();
                let services = self.acr_services(b);
                let (mut lt, mut bt) = (Decimal::ZERO, Decimal::ZERO);
                for (key, agg) in self.acr.of_months(&months) {
                    if acr_exclusion(b, &services, key).is_some() {
                        continue;
                    }
                    if lm.contains(&key.2) {
                        lt += agg.amount;
                    }
                    if bm.contains(&key.2) {
                        bt += agg.amount;
                    }
                }
                (lt, bt)
            }
            Source::Acr => {
                let lm = window_months(*window, l);
                let bm = window_months(*window, bl);
                let months: MonthSet = lm.iter().chain(&bm).copied().collect();
                let mut excluded = Vec::new();
                let sums = self.acr_sums(b, Entity::Tenant, &months, &mut excluded);
                let mut per_tenant: BTreeMap<(u32, usize), AcrSum> = BTreeMap::new();
                let (mut lt, mut bt) = (Decimal::ZERO, Decimal::ZERO);
                for &((t, mm), ref v) in &sums {
                    for (pi, set) in [&lm, &bm].into_iter().enumerate() {
                        if set.contains(&mm) {
                            if pi == 0 {
                                lt += v.amount;
                            } else {
                                bt += v.amount;
                            }
                            if self.full {
                                let e = per_tenant.entry((t, pi)).or_default();
                                e.amount += v.amount;
                                e.rows += v.rows;
                                e.lines.extend(&v.lines);
                                merge_subscriptions(
                                    &mut e.subscriptions,
                                    v.subscriptions.iter().cloned(),
                                );
                            }
                        }
                    }
                }
                for ((t, pi), v) in per_tenant {
                    let (tenant_id, customer_name) = self.tenant(t);
                    let x = if pi == 0 { l } else { bl };
                    items.push(AreaItem {
                        period: Some(if pi == 0 { "latest" } else { "baseline" }),
                        tenant_id,
                        customer_name,
                        from_month: Some(window_months(*window, x)[0]),
                        month: Some(x),
                        amount: Some(v.amount.normalize()),
                        counted: true,
                        rows: v.rows,
                        lines: v.lines,
                        subscriptions: v.subscriptions,
                        ..AreaItem::default()
                    });
                }
                items.extend(excluded);
                (lt, bt)
            }
            Source::Licenses => {
                let set = self.measure_set(b, measure_associations);
                let value_of = |agg: &crate::facts::LicenseAgg| match measure {
                    Measure::ProtectedUsers => agg.active_users.min(agg.paid_seats),
                    _ => agg.active_users,
                };
                // Band eligibility of (tenant, month), when the metric has a band.
                let band = seats.map(|s| SeatBand::new(&s, *seats_at_most));
                let in_band = |t: u32, mm: Month| {
                    band.as_ref()
                        .is_none_or(|band| self.in_seat_band(b, band, t, mm))
                };
                let (mut lt, mut bt) = (0u64, 0u64);
                let eligible = |w: u16, a: u16| {
                    b.workloads.get(w as usize).copied().unwrap_or(false)
                        && set.get(a as usize).copied().unwrap_or(false)
                };
                let new_since = l.minus(11);
                // One role of an entry: summed (when in the band) and
                // explained.
                let mut take = |role: &'static str,
                                (t, w, mm, a): LicenseKey,
                                agg: &crate::facts::LicenseAgg| {
                    let ok = in_band(t, mm);
                    let v = value_of(agg);
                    if ok {
                        if role == "latest" {
                            lt += v;
                        } else {
                            bt += v;
                        }
                    }
                    if self.full {
                        let (tenant_id, customer_name) = self.tenant(t);
                        items.push(AreaItem {
                            period: Some(role),
                            tenant_id,
                            customer_name,
                            workload: Some(self.e.vocab.workloads[w as usize].clone()),
                            association: Some(self.e.vocab.associations[a as usize].clone()),
                            month: Some(mm),
                            amount: Some(Decimal::from(v)),
                            paid_seats: Some(agg.paid_seats),
                            active_users: Some(agg.active_users),
                            counted: ok,
                            reason: (!ok).then_some(AreaReason::OutsideBand),
                            rows: agg.rows,
                            lines: self
                                .facts
                                .traces()
                                .licenses(&(t, w, mm, a))
                                .lines()
                                .to_vec(),
                            ..AreaItem::default()
                        });
                    }
                };
                // Only the latest and baseline months, and the month an
                // association that started in the last 12 months starts in,
                // have a role: the entries of the latest and baseline months
                // first, then each such association's start month's (the
                // others).
                let ends: MonthSet = [l, bl].into_iter().collect();
                let mut starts = StartCursor::new(self.facts.license_starts.as_slice());
                for (&(t, w, mm, a), agg) in self.licenses.of_months(&ends) {
                    if !eligible(w, a) {
                        continue;
                    }
                    let start = association_start_baseline
                        .then(|| starts.find((t, w, a)).map(|s| s.month()))
                        .flatten();
                    let is_new = start.is_some_and(|s| s >= new_since && s <= l);
                    // At most two roles (latest, and start or baseline),
                    // without a vector per row.
                    let first = (mm == l).then_some("latest");
                    let second = if is_new {
                        (Some(mm) == start).then_some("start")
                    } else {
                        (mm == bl).then_some("baseline")
                    };
                    for role in first.into_iter().chain(second) {
                        take(role, (t, w, mm, a), agg);
                    }
                }
                if *association_start_baseline {
                    for &((t, w, a), ref s) in self.facts.license_starts.as_slice() {
                        let sm = s.month();
                        if sm < new_since || sm > l || ends.contains(&sm) || !eligible(w, a) {
                            continue;
                        }
                        // A month's entries are in key order ([`ByMonth`]).
                        let month = self.licenses.of_month(sm);
                        if let Ok(i) = month.binary_search_by(|(k, _)| k.cmp(&(t, w, sm, a))) {
                            take("start", (t, w, sm, a), month[i].1);
                        }
                    }
                }
                let months: MonthSet = [l, bl].into_iter().collect();
                items.extend(self.license_left_out(b, &months));
                (Decimal::from(lt), Decimal::from(bt))
            }
        };
        let met = baseline_minimum.is_none_or(|t| t.passes(baseline));
        let value = match kind {
            GrowthKind::Percent => percent(latest, baseline, *decimals),
            GrowthKind::Absolute => Some((latest - baseline).normalize()),
        };
        // The figures' names: latest_ and baseline_ and the unit.
        let unit = match measure {
            Measure::Acr => ("latest_acr", "baseline_acr"),
            Measure::ActiveUsers => ("latest_active_users", "baseline_active_users"),
            Measure::ProtectedUsers => ("latest_protected_users", "baseline_protected_users"),
            Measure::Revenue => ("latest_revenue", "baseline_revenue"),
            Measure::Mcv => ("latest_mcv", "baseline_mcv"),
        };
        if self.full {
            items.sort_by(|a, b| {
                (a.period, &a.tenant_id, &a.workload, a.month).cmp(&(
                    b.period,
                    &b.tenant_id,
                    &b.workload,
                    b.month,
                ))
            });
        }
        let figures = vec![
            (unit.0.to_string(), latest.normalize()),
            (unit.1.to_string(), baseline.normalize()),
        ];
        (
            value,
            met,
            AreaDetail::Growth {
                latest: latest.normalize(),
                baseline: baseline.normalize(),
                baseline_minimum: *baseline_minimum,
                prerequisite_met: met,
                items,
            },
            figures,
        )
    }

    /// Each certification record judged once per area and period: the
    /// person, its area certification, why it does not count on D, and its
    /// index in the facts' records (every certified-people metric and
    /// option of the area reads the same judgements).
    fn judged(&self) -> &[Judged] {
        self.judged.get_or_init(|| {
            let rb = self.e.rb;
            let d = self.period.evaluation_date;
            // A name Business Applications does not know, resolved once
            // per name of the read's table (or, for facts whose table is
            // another, once per distinct name of their records), not once
            // per record.
            let keys = self.facts.unknown_certification_keys();
            let by_table: Option<&[Option<usize>]> = self.facts.unknown_table().and_then(|t| {
                let (held, resolved) = self.e.unknown_certs.get_or_init(|| {
                    (
                        t.clone(),
                        keys.iter().map(|n| rb.certification_by_key(n)).collect(),
                    )
                });
                std::sync::Arc::ptr_eq(held, t).then_some(&resolved[..])
            });
            let mut by_name: HashMap<u32, Option<usize>> = HashMap::default();
            self.facts
                .certifications
                .iter()
                .enumerate()
                .map(|(ri, rec)| {
                    let cert = match self.facts.certification(rec) {
                        Ok(c) => self.e.ba_certs[c as usize],
                        Err(_) if !self.resolves_unknown => None,
                        Err(_) => {
                            PartnerFacts::unknown_certification(rec).and_then(|i| match by_table {
                                Some(resolved) => resolved[i as usize],
                                None => *by_name
                                    .entry(i)
                                    .or_insert_with(|| rb.certification_by_key(&keys[i as usize])),
                            })
                        }
                    };
                    let reason = match cert {
                        None => Some(AreaReason::UnknownCertification),
                        Some(ci) => {
                            let c = &rb.certifications[ci];
                            if rec.earned_on > d {
                                Some(AreaReason::EarnedAfterDate)
                            } else if rec.expires_on.is_some_and(|e| e < d) {
                                Some(AreaReason::Expired)
                            } else if !c.eligible_on(d) {
                                match (c.eligible_from, c.eligible_until) {
                                    (Some(f), _) if d < f => {
                                        Some(AreaReason::NotYetEligible { eligible_from: f })
                                    }
                                    (_, Some(u)) => Some(AreaReason::Retired { eligible_until: u }),
                                    _ => Some(AreaReason::Expired),
                                }
                            } else {
                                None
                            }
                        }
                    };
                    (rec.person, cert, reason, ri)
                })
                .collect()
        })
    }

    fn certified(&self, set: &[String], steps: &[super::Step]) -> (Decimal, AreaDetail, bool) {
        let rb = self.e.rb;
        let judged = self.judged();
        // Distinct people holding, on D, one of `ids`: the area's
        // certifications marked once, the people counted sorted.
        let holders = |ids: &[String]| -> usize {
            let marked;
            let member: &[bool] = match self.e.members.iter().find(|(k, _)| *k == set_key(ids)) {
                Some((_, m)) => m,
                None => {
                    marked = mark(rb, ids);
                    &marked
                }
            };
            let mut people: Vec<u32> = judged
                .iter()
                .filter(|(_, c, r, _)| r.is_none() && c.is_some_and(|ci| member[ci]))
                .map(|(p, ..)| *p)
                .collect();
            people.sort_unstable();
            people.dedup();
            people.len()
        };
        let mut results = Vec::new();
        let mut met = true;
        for (i, s) in steps.iter().enumerate() {
            let people = holders(&s.certifications) as u32;
            let ok = people >= s.min_people;
            met &= ok;
            results.push(StepResult {
                step: i + 1,
                certifications: s.certifications.clone(),
                min_people: s.min_people,
                people,
                met: ok,
            });
        }
        let value = holders(set) as u32;
        let mut items = Vec::new();
        if self.full {
            // Scoring set first (step none), then each step; a person counts
            // once per group.
            let mut groups: Vec<(Option<usize>, &[String])> = vec![(None, set)];
            for (i, s) in steps.iter().enumerate() {
                groups.push((Some(i + 1), &s.certifications));
            }
            for (step, ids) in groups {
                let mut rows: Vec<AreaItem> = Vec::new();
                let mut keyed: Vec<(u32, AreaItem)> = Vec::new();
                for (p, cert, reason, ri) in judged {
                    let in_group = cert.is_some_and(|ci| ids.contains(&rb.certifications[ci].id));
                    if !(in_group || step.is_none() && cert.is_none()) {
                        continue;
                    }
                    let rec = &self.facts.certifications[*ri];
                    let person = &self.facts.people[*p as usize];
                    let reason = reason.clone();
                    keyed.push((
                        *p,
                        AreaItem {
                            person_id: Some(person.id.to_string()),
                            person_name: person.name.as_ref().map(CompactId::to_string),
                            certification: Some(match cert {
                                Some(ci) => rb.certifications[*ci].id.clone(),
                                None => match self.facts.certification(rec) {
                                    Ok(c) => self.e.ba.certifications[c as usize].id.clone(),
                                    Err(raw) => raw.to_string(),
                                },
                            }),
                            earned_on: Some(rec.earned_on),
                            expires_on: rec.expires_on,
                            step,
                            counted: reason.is_none(),
                            reason,
                            lines: vec![rec.line()],
                            ..AreaItem::default()
                        },
                    ));
                }
                keyed.sort_by(|(_, a), (_, b)| {
                    (
                        &a.person_id,
                        !a.counted,
                        &a.certification,
                        a.earned_on,
                        &a.lines,
                    )
                        .cmp(&(
                            &b.person_id,
                            !b.counted,
                            &b.certification,
                            b.earned_on,
                            &b.lines,
                        ))
                });
                let mut seen = HashSet::new();
                for (p, mut item) in keyed {
                    if item.counted && !seen.insert(p) {
                        item.counted = false;
                        item.reason = Some(AreaReason::PersonAlreadyCounted);
                    }
                    rows.push(item);
                }
                items.extend(rows);
            }
        }
        (
            Decimal::from(value),
            AreaDetail::CertifiedPeople {
                steps: results,
                prerequisites_met: met,
                items,
            },
            met,
        )
    }
}

/// Puts explained items in one order whatever the order the hash maps of
/// the facts gave them in: latest, baseline, start, then the rows left
/// out; within each by tenant, service, workload, association, offer and
/// month; source lines and subscriptions sorted.
fn tidy(items: &mut [AreaItem]) {
    for i in items.iter_mut() {
        i.lines.sort_unstable();
        // A revenue pair's subscriptions (items with a workload) come from
        // one aggregate and keep the order the read first saw them in.
        if i.workload.is_none() {
            i.subscriptions.sort_by(|a, b| a.0.cmp(&b.0));
        }
    }
    let rank = |p: Option<&str>| match p {
        Some("latest") => 0,
        Some("baseline") => 1,
        Some(_) => 2,
        None => 3,
    };
    items.sort_by(|a, b| {
        (
            rank(a.period),
            &a.tenant_id,
            &a.service,
            &a.workload,
            &a.association,
            &a.offer,
            a.month,
            &a.lines,
        )
            .cmp(&(
                rank(b.period),
                &b.tenant_id,
                &b.service,
                &b.workload,
                &b.association,
                &b.offer,
                b.month,
                &b.lines,
            ))
    });
}

#[derive(Default)]
struct TenantMonth {
    band: bool,
    active: u64,
    paid: u64,
    rows: u32,
    lines: Vec<u64>,
}

#[cfg(test)]
mod band_tests {
    use super::*;
    use proptest::prelude::*;

    fn threshold(above: bool, value: Decimal) -> Threshold {
        Threshold {
            comparison: if above {
                Comparison::Above
            } else {
                Comparison::AtLeast
            },
            value,
        }
    }

    #[test]
    fn seat_bands_at_their_edges() {
        let d = |s: &str| s.parse::<Decimal>().unwrap();
        let b = SeatBand::new(&threshold(false, d("11")), Some(d("300")));
        assert_eq!(b, SeatBand { min: 11, max: 300 });
        assert!(!b.contains(10) && b.contains(11) && b.contains(300) && !b.contains(301));
        assert_eq!(SeatBand::new(&threshold(true, d("300")), None).min, 301);
        assert_eq!(SeatBand::new(&threshold(true, d("10.5")), None).min, 11);
        assert_eq!(SeatBand::new(&threshold(false, d("10.5")), None).min, 11);
        assert_eq!(SeatBand::new(&threshold(true, d("-1")), None).min, 0);
        assert!(!SeatBand::new(&threshold(false, d("1")), Some(d("-1"))).contains(0));
        assert!(!SeatBand::new(&threshold(false, d("1e20")), None).contains(u64::MAX));
    }

    proptest! {
        /// The whole-number band decides what the decimal test decides.
        #[test]
        fn seat_bands_decide_as_the_decimal_test(
            seats in prop_oneof![0u64..1000, any::<u64>()],
            above in any::<bool>(),
            value in -2000i64..2000,
            value_scale in 0u32..3,
            at_most in proptest::option::of((-10i64..3000, 0u32..3)),
        ) {
            let t = threshold(above, Decimal::new(value, value_scale));
            let m = at_most.map(|(v, s)| Decimal::new(v, s));
            prop_assert_eq!(SeatBand::new(&t, m).contains(seats), passes_band(seats, &t, m));
        }
    }
}

#[cfg(test)]
mod memo_tests {
    use super::*;

    fn metric(value: u32) -> AreaMetric {
        AreaMetric {
            id: "m".into(),
            label: String::new(),
            category: String::new(),
            value: Some(Decimal::from(value)),
            points: Decimal::ZERO,
            max_points: Decimal::ZERO,
            figures: Vec::new(),
            options: Vec::new(),
            chosen_option: None,
            parts: Vec::new(),
            detail: AreaDetail::Combined,
            unrounded: Decimal::ZERO,
        }
    }

    fn memo(left: usize, period: Period) -> Memo<'static> {
        Memo(std::cell::RefCell::new(vec![MemoEntry {
            key: "k",
            period,
            done: None,
            left,
        }]))
    }

    #[test]
    fn a_shared_metric_is_computed_once_and_its_last_user_takes_it() {
        let m: Month = "2024-07".parse().unwrap();
        let period = Period {
            month: m,
            latest_month: m.minus(1),
            baseline_month: m.minus(13),
            evaluation_date: m.last_day(),
        };
        let computed = std::cell::Cell::new(0);
        let compute = || {
            computed.set(computed.get() + 1);
            metric(computed.get())
        };
        // Three users: one computation, a copy kept for the second, none
        // after the third.
        let three = memo(3, period);
        for _ in 0..3 {
            assert_eq!(three.get("k", period, compute).value, Some(Decimal::ONE));
        }
        assert_eq!(computed.get(), 1);
        assert!(three.0.borrow()[0].done.is_none());
        // A fourth user (more than counted) has it computed again.
        assert_eq!(three.get("k", period, compute).value, Some(Decimal::TWO));
        // Another key or period is not in the memo: computed each time.
        let other = Period {
            month: m.minus(1),
            ..period
        };
        assert_eq!(three.get("k", other, compute).value, Some(Decimal::from(3)));
        assert_eq!(
            three.get("j", period, compute).value,
            Some(Decimal::from(4))
        );
        // One user: computed, nothing kept.
        let one = memo(1, period);
        one.get("k", period, compute);
        assert!(one.0.borrow()[0].done.is_none());
        assert_eq!(computed.get(), 5);
    }
}

#[cfg(test)]
mod cursor_tests {
    use super::*;

    proptest::proptest! {
        /// The cursor finds what a search of the starts finds, for keys in
        /// runs that ascend and for keys that go back.
        #[test]
        fn the_start_cursor_finds_what_a_search_finds(
            keys in proptest::collection::btree_set((0u32..30, 0u16..3, 0u16..2), 0..40),
            asked in proptest::collection::vec((0u32..32, 0u16..3, 0u16..2), 0..60),
            runs in proptest::bool::ANY,
        ) {
            let m: Month = "2024-01".parse().unwrap();
            let starts: Vec<(LicenseStartKey, LicenseStart)> = keys
                .iter()
                .enumerate()
                .map(|(i, &k)| {
                    (k, LicenseStart { associated_on: None, first_month: m, first_line: i as u64 })
                })
                .collect();
            let mut asked = asked;
            if runs {
                // Ascending runs, as a month's entries come.
                for chunk in asked.chunks_mut(10) {
                    chunk.sort_unstable();
                }
            }
            let mut cursor = StartCursor::new(&starts);
            for key in asked {
                let want = starts
                    .binary_search_by_key(&key, |(k, _)| *k)
                    .ok()
                    .map(|i| starts[i].1.first_line);
                proptest::prop_assert_eq!(cursor.find(key).map(|s| s.first_line), want);
            }
        }
    }
}
