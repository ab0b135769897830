//! The generalised engine for every solution area (rules-areas.md §8).
//!
//! An *area rulebook* (format 2) describes one version of a solution area's
//! rules as data: association types, Microsoft 365 workloads, offers and
//! certifications with their names; *filters* (a source table, the
//! associations, offers, services or workloads that count); and metrics, each
//! one of a small fixed set of shapes:
//!
//! - `entity_count`: entities (tenants or services) whose measure passes a
//!   test in a window, latest minus baseline (`delta`) or latest only
//!   (`level`);
//! - `certified_people`: distinct people holding an eligible certification,
//!   behind optional prerequisite steps;
//! - `growth`: one total over the customer base, latest against baseline, in
//!   percent or absolute units;
//! - the combinators `best_of` (several options, the highest points) and
//!   `sum_capped` (parts added, then capped).
//!
//! Tracks are an area property: `none`, or `best_track` (every track scored,
//! the better taken). Every number lives in the rulebook; this module knows
//! only the shapes. [`score_area`] scores one partner.

#[cfg(test)]
mod ba_tests;
mod business;
pub(crate) mod raw;
mod score;
#[cfg(test)]
mod tests;

pub use score::{
    AreaDetail, AreaEngine, AreaItem, AreaMetric, AreaReason, AreaScore, ClassifierResult,
    StepResult, TrackScore, score_area, score_area_with, score_areas_with,
};

use std::collections::HashMap;

use jiff::civil::Date;
use rust_decimal::Decimal;
use serde::Serialize;

use crate::calendar::parse_date;
use crate::name::normalize;
use crate::rulebook::raw::Num;
use crate::rulebook::{CalendarRules, Comparison, QualificationRules, RulebookError, Threshold};
use raw::{RawArea, RawAreaMetric, RawPoints, RawTest};

/// The area rulebook format this version of pcs reads.
pub const AREA_FORMAT: u32 = 2;

/// A named entry (association type, workload, offer) with its aliases.
#[derive(Clone, Debug, Serialize)]
pub struct Entry {
    /// Stable id.
    pub id: String,
    /// Display name.
    pub name: String,
    /// Other accepted spellings.
    pub aliases: Vec<String>,
}

/// A certification of an area (keyed by its Microsoft Learn id).
#[derive(Clone, Debug, Serialize)]
pub struct AreaCertification {
    /// The Learn id.
    pub id: String,
    /// The name on the area's page.
    pub name: String,
    /// Other names (Learn's full name, former names).
    pub aliases: Vec<String>,
    /// First evaluation date on which it counts.
    pub eligible_from: Option<Date>,
    /// Last evaluation date on which it counts.
    pub eligible_until: Option<Date>,
    /// Why it has a window.
    pub note: Option<String>,
}

impl AreaCertification {
    /// Whether D is inside its eligibility window.
    pub fn eligible_on(&self, d: Date) -> bool {
        self.eligible_from.is_none_or(|f| d >= f) && self.eligible_until.is_none_or(|u| d <= u)
    }
}

/// The table a filter reads.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Source {
    /// Azure consumed revenue.
    Acr,
    /// Seats and active users.
    Licenses,
    /// Revenue in USD per (tenant, workload, month): the rows the read
    /// kept (the Business Applications rulebook's `[revenue]` workloads and
    /// associations filter while rows stream by).
    Revenue,
    /// Usage per (tenant, rate-card workload, month), measured in MCV =
    /// quantity × the workload's rate (the rate card, product roll-ups and
    /// family associations of the Business Applications rulebook's
    /// `[usage]` apply while rows stream by).
    Usage,
}

impl Source {
    /// Whether the table is one of the (tenant, workload, month) pair tables
    /// that keep only the latest and baseline months.
    pub fn is_pair_table(self) -> bool {
        matches!(self, Source::Revenue | Source::Usage)
    }
}

/// Which rows count: a source table and its association, offer, service or
/// workload sets (ids are the area's own entry ids).
#[derive(Clone, Debug, Serialize)]
pub struct Filter {
    /// Stable id.
    pub id: String,
    /// The table.
    pub source: Source,
    /// Association ids that count.
    pub associations: Vec<String>,
    /// Offer ids that count for nothing (acr).
    pub exclude_offers: Vec<String>,
    /// Normalised service names that count; `None`: any service (acr).
    pub services: Option<Vec<String>>,
    /// Normalised service names that never count (acr).
    pub exclude_services: Vec<String>,
    /// Workload ids that count (licenses).
    pub workloads: Vec<String>,
}

impl Filter {
    /// Every row of `source` counts: no association, offer, service or
    /// workload set (the pair tables, which are filtered while read).
    pub(crate) fn whole(id: &str, source: Source) -> Filter {
        Filter {
            id: id.to_string(),
            source,
            associations: Vec::new(),
            exclude_offers: Vec::new(),
            services: None,
            exclude_services: Vec::new(),
            workloads: Vec::new(),
        }
    }
}

/// The first key of `items` that an earlier item has too.
fn repeated<T>(items: &[T], key: impl Fn(&T) -> &str) -> Option<&str> {
    items
        .iter()
        .enumerate()
        .find(|(i, x)| items[..*i].iter().any(|y| key(y) == key(x)))
        .map(|(_, x)| key(x))
}

/// Windows around a month X.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Window {
    /// X alone.
    Month,
    /// A per-month test true in X or in X-1.
    AnyOf2,
    /// The sum over X-11 … X.
    Ttm,
}

/// Latest minus baseline, or latest alone.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Mode {
    /// Count in the latest window minus count in the baseline window.
    Delta,
    /// Count in the latest window.
    Level,
}

/// What an entity count counts.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Entity {
    /// Customer tenants.
    Tenant,
    /// Distinct Azure services.
    Service,
    /// (tenant, workload) pairs of the revenue or usage table.
    TenantWorkload,
}

/// Where an active-to-paid ratio is taken.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum RatioScope {
    /// Over the tenant's workloads pooled (with the measured associations).
    Tenant,
    /// On the same (workload, association) as the seat test.
    Workload,
}

/// What a growth metric totals.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Measure {
    /// ACR in USD.
    Acr,
    /// Active users.
    ActiveUsers,
    /// min(active users, paid seats) per (tenant, workload, association).
    ProtectedUsers,
    /// Revenue in USD (revenue table).
    Revenue,
    /// Monthly consumption value: quantity × rate (usage table).
    Mcv,
}

/// Growth in percent of the baseline or in units.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum GrowthKind {
    /// (latest − baseline) × 100 / baseline, truncated to 2 decimals.
    Percent,
    /// latest − baseline.
    Absolute,
}

/// How points are rounded to [`PointsFn::decimals`] places.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Rounding {
    /// Toward zero.
    Truncate,
    /// Half away from zero.
    HalfUp,
    /// Not rounded: the exact product (`rounding = "none"`; Business
    /// Applications' counts, whose rates have at most two decimals anyway).
    Exact,
}

/// The one points function: clamp(value × rate / per, 0, max), the maximum
/// from `full_points_at` on, rounded to `decimals` places (2 in area
/// rulebooks; Business Applications' `decimals` of usage growth).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct PointsFn {
    /// Points per `per` units.
    pub rate: Decimal,
    /// Units the rate is for (1 unless the page gives a fraction).
    pub per: Decimal,
    /// From this value on, the maximum.
    pub full_points_at: Option<Decimal>,
    /// The cap.
    pub max: Decimal,
    /// Rounding.
    pub rounding: Rounding,
    /// Decimal places kept by the rounding.
    pub decimals: u32,
}

impl PointsFn {
    /// Points before rounding: clamped to [0, max].
    pub fn unrounded(&self, value: Decimal) -> Decimal {
        if self.full_points_at.is_some_and(|n| value >= n) {
            return self.max;
        }
        (value * self.rate / self.per)
            .max(Decimal::ZERO)
            .min(self.max)
    }

    /// Rounds a number of points to [`PointsFn::decimals`] places.
    pub fn round(&self, points: Decimal) -> Decimal {
        let r = match self.rounding {
            Rounding::Truncate => points.trunc_with_scale(self.decimals),
            Rounding::HalfUp => points.round_dp_with_strategy(
                self.decimals,
                rust_decimal::RoundingStrategy::MidpointAwayFromZero,
            ),
            Rounding::Exact => points,
        };
        r.normalize()
    }

    /// The points of `value`.
    pub fn points(&self, value: Decimal) -> Decimal {
        self.round(self.unrounded(value))
    }
}

/// A prerequisite step of a skilling metric.
#[derive(Clone, Debug, Serialize)]
pub struct Step {
    /// Certification ids of the step.
    pub certifications: Vec<String>,
    /// Distinct people needed.
    pub min_people: u32,
}

/// How `sum_capped` adds its parts.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Combine {
    /// Each part's value floored at 0, added; the metric's points function.
    Values,
    /// The parts' unrounded points added, capped, rounded.
    Points,
}

/// What a metric computes.
#[derive(Clone, Debug, Serialize)]
#[serde(tag = "shape", rename_all = "snake_case")]
pub enum AreaShape {
    /// Entities passing a test.
    EntityCount {
        /// The filter id.
        filter: usize,
        /// Tenants or services.
        entity: Entity,
        /// The window.
        window: Window,
        /// Delta or level.
        mode: Mode,
        /// Test on the ACR sum (acr).
        amount: Option<Threshold>,
        /// Test on one (workload, association)'s paid seats (licenses).
        seats: Option<Threshold>,
        /// Upper bound (inclusive) of the seats band.
        seats_at_most: Option<Decimal>,
        /// Test on active users / paid seats.
        active_ratio: Option<Threshold>,
        /// Where the ratio is taken.
        ratio_scope: RatioScope,
        /// Associations of the ratio (default: the filter's).
        measure_associations: Option<Vec<String>>,
        /// Drop from the latest count tenants associated in the last 12
        /// months whose ratio in the start month passed this.
        exclude_new_above: Option<Threshold>,
    },
    /// Distinct certified people.
    CertifiedPeople {
        /// The scoring set.
        certifications: Vec<String>,
        /// Prerequisite steps.
        prerequisites: Vec<Step>,
    },
    /// Growth of one total.
    Growth {
        /// The filter id.
        filter: usize,
        /// What is totalled.
        measure: Measure,
        /// Month or TTM.
        window: Window,
        /// Percent or absolute.
        kind: GrowthKind,
        /// Decimal places a percentage is truncated to (2 in area
        /// rulebooks; Business Applications' `decimals`).
        decimals: u32,
        /// Associations measured (default: the filter's); the filter's
        /// associations and seat band decide band eligibility.
        measure_associations: Option<Vec<String>>,
        /// Seats band a tenant must be in (licenses).
        seats: Option<Threshold>,
        /// Upper bound of the band.
        seats_at_most: Option<Decimal>,
        /// Prerequisite on the baseline total.
        baseline_minimum: Option<Threshold>,
        /// New associations take their start month as baseline.
        association_start_baseline: bool,
    },
    /// Options scored alone, the highest points kept (first on a tie).
    BestOf {
        /// The options.
        options: Vec<AreaMetricRule>,
    },
    /// Parts added and capped.
    SumCapped {
        /// The parts.
        parts: Vec<AreaMetricRule>,
        /// How they add.
        combine: Combine,
    },
}

/// One metric (or option, or part) of an area.
#[derive(Clone, Debug, Serialize)]
pub struct AreaMetricRule {
    /// Key (`net_customer_adds`).
    pub id: String,
    /// Label.
    pub label: String,
    /// Category.
    pub category: String,
    /// The track it belongs to, under `best_track`.
    pub track: Option<String>,
    /// First evaluation date it applies to.
    pub effective_from: Option<Date>,
    /// Last evaluation date it applies to.
    pub effective_until: Option<Date>,
    /// Points.
    pub points: PointsFn,
    /// The shape.
    pub shape: AreaShape,
}

impl AreaMetricRule {
    /// Whether it applies on evaluation date D.
    pub fn applies_on(&self, d: Date) -> bool {
        self.effective_from.is_none_or(|f| d >= f) && self.effective_until.is_none_or(|u| d <= u)
    }
}

/// How tracks are handled.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum TrackRule {
    /// No tracks.
    None,
    /// Every track scored; the better total reported.
    BestTrack,
    /// One track chosen by the area's [`Classifier`] and scored alone.
    Classify,
}

/// How `track_rule = "classify"` chooses the track: entities of a filter
/// whose measure passes a test in both the latest and the baseline month;
/// `min_entities` or more choose the first track, fewer the second.
#[derive(Clone, Debug, Serialize)]
pub struct Classifier {
    /// The filter id (an index into the rulebook's filters).
    pub filter: usize,
    /// What is counted.
    pub entity: Entity,
    /// The test, in each of the two months.
    pub amount: Threshold,
    /// The first track from this many entities on.
    pub min_entities: u32,
}

/// One validated version of a solution area's rules (format 2).
#[derive(Clone, Debug)]
pub struct AreaRulebook {
    /// Solution area (`modern_work`).
    pub solution_area: String,
    /// Version.
    pub version: String,
    /// Title.
    pub title: Option<String>,
    /// Source.
    pub source: Option<String>,
    /// First evaluation date in force.
    pub effective_from: Date,
    /// Last evaluation date in force.
    pub effective_until: Option<Date>,
    /// Track ids, in order (empty: no tracks).
    pub tracks: Vec<String>,
    /// How tracks combine.
    pub track_rule: TrackRule,
    /// The track classifier (`track_rule = "classify"` only).
    pub classifier: Option<Classifier>,
    /// Months and refresh.
    pub calendar: CalendarRules,
    /// Qualification.
    pub qualification: QualificationRules,
    /// Association types.
    pub associations: Vec<Entry>,
    /// Microsoft 365 workloads (licenses).
    pub workloads: Vec<Entry>,
    /// Offers named by filters.
    pub offers: Vec<Entry>,
    /// Prefixes a certification name may carry.
    pub optional_prefixes: Vec<String>,
    /// Certifications.
    pub certifications: Vec<AreaCertification>,
    /// Filters.
    pub filters: Vec<Filter>,
    /// Metrics in score order (several entries may share an id when their
    /// date ranges or tracks differ).
    pub metrics: Vec<AreaMetricRule>,
    /// Where it was loaded from.
    pub origin: String,
    /// Normalised names → index, hashed with foldhash (looked up once per
    /// distinct certification name of every partner scored).
    cert_index: crate::facts::HashMap<String, usize>,
}

impl AreaRulebook {
    /// `solution_area/version`.
    pub fn id(&self) -> String {
        format!("{}/{}", self.solution_area, self.version)
    }

    /// Resolves a certification name or id to its index.
    pub fn certification(&self, name: &str) -> Option<usize> {
        self.cert_index.get(&normalize(name)).copied()
    }

    /// Resolves a name already normalised ([`normalize`]) to its index.
    pub(crate) fn certification_by_key(&self, key: &str) -> Option<usize> {
        self.cert_index.get(key).copied()
    }

    /// Every normalised name of every certification, with its index.
    pub fn certification_keys(&self) -> impl Iterator<Item = (&str, usize)> {
        self.cert_index.iter().map(|(k, v)| (k.as_str(), *v))
    }

    /// The metric ids of the area, in order, once each.
    pub fn metric_ids(&self) -> Vec<&str> {
        let mut ids: Vec<&str> = Vec::new();
        for m in &self.metrics {
            if !ids.contains(&m.id.as_str()) {
                ids.push(&m.id);
            }
        }
        ids
    }

    /// The metrics of a track (or of the area, `None`) that apply on D.
    pub fn metrics_on(&self, track: Option<&str>, d: Date) -> Vec<&AreaMetricRule> {
        self.metrics
            .iter()
            .filter(|m| m.track.as_deref() == track && m.applies_on(d))
            .collect()
    }

    /// Parses and validates one area rulebook (format 2).
    pub fn from_toml(text: &str, origin: &str) -> Result<AreaRulebook, RulebookError> {
        let raw: RawArea = toml::from_str(text)
            .map_err(|e| RulebookError::at(origin, e.to_string().trim_end().to_string()))?;
        V { origin }.build(raw)
    }

    /// The months of acr and licenses data a score for month M reads:
    /// M-1 back to the start of the baseline's trailing year (and the month
    /// before it, for two-month windows).
    pub fn data_months(&self, m: crate::calendar::Month) -> Vec<crate::calendar::Month> {
        let deepest = self.calendar.baseline_month_offset + 12;
        (self.calendar.latest_month_offset..=deepest)
            .map(|k| m.minus(k))
            .collect()
    }
}

struct V<'a> {
    origin: &'a str,
}

fn index_of(entries: &[Entry], id: &str) -> Option<usize> {
    entries.iter().position(|e| e.id == id)
}

impl V<'_> {
    fn err(&self, m: impl Into<String>) -> RulebookError {
        RulebookError::at(self.origin, m)
    }

    fn date(&self, what: &str, t: &str) -> Result<Date, RulebookError> {
        parse_date(t).map_err(|e| self.err(format!("{what}: {e}")))
    }

    fn nonneg(&self, what: &str, n: Num) -> Result<Decimal, RulebookError> {
        if n.0.is_sign_negative() && !n.0.is_zero() {
            return Err(self.err(format!("{what} is {}, but it may not be negative", n.0)));
        }
        Ok(n.0.normalize())
    }

    fn test(&self, what: &str, t: &RawTest) -> Result<Threshold, RulebookError> {
        let comparison = match t.comparison.trim() {
            ">=" | "≥" => Comparison::AtLeast,
            ">" => Comparison::Above,
            other => {
                return Err(self.err(format!("{what}: comparison '{other}' is not '>=' or '>'")));
            }
        };
        Ok(Threshold {
            comparison,
            value: self.nonneg(what, t.value)?,
        })
    }

    fn entries(
        &self,
        what: &str,
        raw: &[crate::rulebook::raw::RawAssociation],
    ) -> Result<Vec<Entry>, RulebookError> {
        let mut out: Vec<Entry> = Vec::new();
        let mut names: HashMap<String, String> = HashMap::new();
        for e in raw {
            if out.iter().any(|x| x.id == e.id) {
                return Err(self.err(format!("{what} id '{}' is defined twice", e.id)));
            }
            for n in std::iter::once(&e.name).chain(&e.aliases) {
                let key = normalize(n);
                if key.is_empty() {
                    return Err(self.err(format!("{what} '{}': empty name", e.id)));
                }
                if let Some(other) = names.insert(key, e.id.clone())
                    && other != e.id
                {
                    return Err(self.err(format!(
                        "{what}: name '{n}' is ambiguous: it means both {other} and {}",
                        e.id
                    )));
                }
            }
            out.push(Entry {
                id: e.id.clone(),
                name: e.name.clone(),
                aliases: e.aliases.clone(),
            });
        }
        Ok(out)
    }

    fn ids(
        &self,
        what: &str,
        ids: &[String],
        entries: &[Entry],
        kind: &str,
    ) -> Result<Vec<String>, RulebookError> {
        for id in ids {
            if index_of(entries, id).is_none() {
                return Err(self.err(format!("{what}: unknown {kind} id '{id}'")));
            }
        }
        Ok(ids.to_vec())
    }

    fn build(&self, raw: RawArea) -> Result<AreaRulebook, RulebookError> {
        if raw.format != AREA_FORMAT {
            return Err(self.err(format!(
                "format {} is not an area rulebook (format {AREA_FORMAT})",
                raw.format
            )));
        }
        if raw.solution_area.trim().is_empty() || raw.version.trim().is_empty() {
            return Err(self.err("solution_area and version may not be empty"));
        }
        let effective_from = self.date("effective_from", &raw.effective_from)?;
        let effective_until = raw
            .effective_until
            .as_deref()
            .map(|t| self.date("effective_until", t))
            .transpose()?;
        if effective_until.is_some_and(|u| u < effective_from) {
            return Err(self.err("effective_until is before effective_from"));
        }
        let cal = &raw.calendar;
        if !(1..=28).contains(&cal.data_refresh_day) {
            return Err(self.err("calendar.data_refresh_day must be a day from 1 to 28"));
        }
        if cal.latest_month_offset >= cal.baseline_month_offset {
            return Err(
                self.err("calendar.latest_month_offset must be smaller than baseline_month_offset")
            );
        }
        let calendar = CalendarRules {
            latest_month_offset: cal.latest_month_offset,
            baseline_month_offset: cal.baseline_month_offset,
            data_refresh_day: cal.data_refresh_day as i8,
        };
        let q = &raw.qualification;
        if q.window_months == 0 {
            return Err(self.err("qualification.window_months must be at least 1"));
        }
        let qualification = QualificationRules {
            min_total_points: self.nonneg("qualification.min_total_points", q.min_total_points)?,
            every_metric_above_zero: q.every_metric_above_zero,
            window_months: q.window_months,
            renewal_months_before_anniversary: q.renewal_months_before_anniversary,
        };
        let track_rule = match raw.track_rule.as_deref().unwrap_or("none") {
            "none" => TrackRule::None,
            "best_track" => TrackRule::BestTrack,
            "classify" => TrackRule::Classify,
            other => {
                return Err(self.err(format!(
                    "track_rule '{other}' is not 'none', 'best_track' or 'classify'"
                )));
            }
        };
        match track_rule {
            TrackRule::None if !raw.tracks.is_empty() => {
                return Err(self.err("tracks are listed but track_rule is 'none'"));
            }
            TrackRule::BestTrack if raw.tracks.len() < 2 => {
                return Err(self.err("track_rule 'best_track' needs at least two tracks"));
            }
            TrackRule::Classify if raw.tracks.len() != 2 => {
                return Err(self.err("track_rule 'classify' needs exactly two tracks"));
            }
            _ => {}
        }
        // Track ids key the score object's `tracks`: each once.
        if let Some(t) = repeated(&raw.tracks, |t| t.as_str()) {
            return Err(self.err(format!("track '{t}' is listed twice")));
        }
        if (track_rule == TrackRule::Classify) != raw.classifier.is_some() {
            return Err(self.err("a [classifier] is given exactly when track_rule is 'classify'"));
        }
        let associations = self.entries("association", &raw.association)?;
        let workloads = self.entries("workload", &raw.workload)?;
        let offers = self.entries("offer", &raw.offer)?;

        let optional_prefixes = raw
            .certifications
            .as_ref()
            .map(|c| c.optional_prefixes.clone())
            .unwrap_or_default();
        let prefix_keys: Vec<String> = optional_prefixes.iter().map(|p| normalize(p)).collect();
        let mut certifications = Vec::new();
        let mut cert_index: crate::facts::HashMap<String, usize> = crate::facts::HashMap::default();
        for (i, c) in raw.certification.iter().enumerate() {
            let what = format!("certification '{}'", c.id);
            let eligible_from = c
                .eligible_from
                .as_deref()
                .map(|t| self.date(&what, t))
                .transpose()?;
            let eligible_until = c
                .eligible_until
                .as_deref()
                .map(|t| self.date(&what, t))
                .transpose()?;
            if let (Some(f), Some(u)) = (eligible_from, eligible_until)
                && u < f
            {
                return Err(self.err(format!("{what}: eligible_until is before eligible_from")));
            }
            let mut keys = Vec::new();
            for n in [&c.id, &c.name].into_iter().chain(&c.aliases) {
                let key = normalize(n);
                keys.push(key.clone());
                // With or without any optional prefix.
                let bare = prefix_keys
                    .iter()
                    .find_map(|p| {
                        key.strip_prefix(p.as_str())
                            .map(str::trim)
                            .filter(|r| !r.is_empty())
                    })
                    .unwrap_or(&key)
                    .to_string();
                keys.push(bare.clone());
                for p in &prefix_keys {
                    keys.push(normalize(&format!("{p} {bare}")));
                }
            }
            for key in keys {
                if let Some(other) = cert_index.insert(key.clone(), i)
                    && other != i
                {
                    return Err(self.err(format!(
                        "certification name '{key}' means both {} and {}",
                        raw.certification[other].id, c.id
                    )));
                }
            }
            certifications.push(AreaCertification {
                id: c.id.clone(),
                name: c.name.clone(),
                aliases: c.aliases.clone(),
                eligible_from,
                eligible_until,
                note: c.note.clone(),
            });
        }

        let mut filters: Vec<Filter> = Vec::new();
        for f in &raw.filter {
            let what = format!("filter '{}'", f.id);
            if filters.iter().any(|x| x.id == f.id) {
                return Err(self.err(format!("{what} is defined twice")));
            }
            let source = match f.table.as_str() {
                "acr" => Source::Acr,
                "licenses" => Source::Licenses,
                "revenue" => Source::Revenue,
                "usage" => Source::Usage,
                other => {
                    return Err(self.err(format!(
                        "{what}: table '{other}' is not 'acr', 'licenses', 'revenue' or 'usage'"
                    )));
                }
            };
            if source.is_pair_table() {
                if !f.associations.is_empty()
                    || f.workloads.is_some()
                    || f.services.is_some()
                    || !f.exclude_services.is_empty()
                    || !f.exclude_offers.is_empty()
                {
                    return Err(self.err(format!(
                        "{what}: the {} table is filtered while it is read (the Business Applications rulebook's [{}] section); the filter lists nothing",
                        f.table, f.table
                    )));
                }
                filters.push(Filter::whole(&f.id, source));
                continue;
            }
            let associations_ids =
                self.ids(&what, &f.associations, &associations, "association")?;
            if associations_ids.is_empty() {
                return Err(self.err(format!("{what}: no association counts")));
            }
            let exclude_offers = self.ids(&what, &f.exclude_offers, &offers, "offer")?;
            let workload_ids = match (&f.workloads, source) {
                (Some(w), Source::Licenses) => self.ids(&what, w, &workloads, "workload")?,
                (None, Source::Licenses) => {
                    return Err(self.err(format!("{what}: a licenses filter lists its workloads")));
                }
                (Some(_), Source::Acr) => {
                    return Err(
                        self.err(format!("{what}: an acr filter has services, not workloads"))
                    );
                }
                (None, Source::Acr) => Vec::new(),
                (_, Source::Revenue | Source::Usage) => unreachable!("handled above"),
            };
            if source == Source::Licenses
                && (f.services.is_some()
                    || !f.exclude_services.is_empty()
                    || !f.exclude_offers.is_empty())
            {
                return Err(self.err(format!(
                    "{what}: services and offers apply to the acr table only"
                )));
            }
            filters.push(Filter {
                id: f.id.clone(),
                source,
                associations: associations_ids,
                exclude_offers,
                services: f
                    .services
                    .as_ref()
                    .map(|s| s.iter().map(|n| normalize(n)).collect()),
                exclude_services: f.exclude_services.iter().map(|n| normalize(n)).collect(),
                workloads: workload_ids,
            });
        }

        let classifier = match &raw.classifier {
            None => None,
            Some(c) => {
                let what = "classifier";
                let Some(fi) = filters.iter().position(|f| f.id == c.filter) else {
                    return Err(self.err(format!("{what}: unknown filter '{}'", c.filter)));
                };
                let source = filters[fi].source;
                if !source.is_pair_table() {
                    return Err(self.err(format!(
                        "{what}: filter '{}' must read the revenue or usage table",
                        c.filter
                    )));
                }
                let entity = match c.entity.as_deref().unwrap_or("tenant_workload") {
                    "tenant" => Entity::Tenant,
                    "tenant_workload" => Entity::TenantWorkload,
                    other => {
                        return Err(self.err(format!(
                            "{what}: entity '{other}' is not tenant or tenant_workload"
                        )));
                    }
                };
                if c.min_entities == 0 {
                    return Err(self.err(format!("{what}: min_entities must be at least 1")));
                }
                Some(Classifier {
                    filter: fi,
                    entity,
                    amount: self.test("classifier amount", &c.amount)?,
                    min_entities: c.min_entities,
                })
            }
        };

        let ctx = Ctx {
            filters: &filters,
            associations: &associations,
            certs: &certifications,
        };
        let mut metrics = Vec::new();
        for m in &raw.metric {
            let rule = self.metric(m, &ctx, None)?;
            match (&rule.track, track_rule) {
                (Some(t), TrackRule::BestTrack | TrackRule::Classify)
                    if !raw.tracks.contains(t) =>
                {
                    return Err(self.err(format!("metric '{}': unknown track '{t}'", rule.id)));
                }
                (None, TrackRule::BestTrack | TrackRule::Classify) => {
                    return Err(self.err(format!(
                        "metric '{}': every metric names its track when the area has tracks",
                        rule.id
                    )));
                }
                (Some(_), TrackRule::None) => {
                    return Err(self.err(format!(
                        "metric '{}': a track is named but the area has none",
                        rule.id
                    )));
                }
                _ => {}
            }
            metrics.push(rule);
        }
        if metrics.is_empty() {
            return Err(self.err("an area rulebook needs at least one [[metric]]"));
        }
        // Same-id entries of one track must not overlap in time.
        for (i, a) in metrics.iter().enumerate() {
            for b in &metrics[i + 1..] {
                if a.id == b.id && a.track == b.track {
                    let a_end = a.effective_until;
                    let b_start = b.effective_from;
                    let disjoint = match (a_end, b_start) {
                        (Some(e), Some(s)) => e < s,
                        _ => false,
                    };
                    if !disjoint {
                        return Err(self.err(format!(
                            "metric '{}' is defined twice for overlapping dates",
                            a.id
                        )));
                    }
                }
            }
        }
        // With tracks, every track has the same metric ids.
        if track_rule != TrackRule::None {
            let ids_of = |t: &str| {
                let mut v: Vec<&str> = metrics
                    .iter()
                    .filter(|m| m.track.as_deref() == Some(t))
                    .map(|m| m.id.as_str())
                    .collect();
                v.dedup();
                v
            };
            let first = ids_of(&raw.tracks[0]);
            for t in &raw.tracks[1..] {
                if ids_of(t) != first {
                    return Err(self.err(format!(
                        "track '{t}' does not have the same metrics as '{}'",
                        raw.tracks[0]
                    )));
                }
            }
        }

        Ok(AreaRulebook {
            solution_area: raw.solution_area,
            version: raw.version,
            title: raw.title,
            source: raw.source,
            effective_from,
            effective_until,
            tracks: raw.tracks,
            track_rule,
            classifier,
            calendar,
            qualification,
            associations,
            workloads,
            offers,
            optional_prefixes,
            certifications,
            filters,
            metrics,
            origin: self.origin.to_string(),
            cert_index,
        })
    }

    fn points(
        &self,
        what: &str,
        p: Option<&RawPoints>,
        max: Decimal,
    ) -> Result<PointsFn, RulebookError> {
        let Some(p) = p else {
            return Err(self.err(format!("{what}: no points = {{ rate = … }}")));
        };
        let per = match p.per {
            Some(n) => self.nonneg(&format!("{what} points.per"), n)?,
            None => Decimal::ONE,
        };
        if per.is_zero() {
            return Err(self.err(format!("{what}: points.per may not be 0")));
        }
        Ok(PointsFn {
            rate: self.nonneg(&format!("{what} points.rate"), p.rate)?,
            per,
            full_points_at: p
                .full_points_at
                .map(|n| self.nonneg(&format!("{what} points.full_points_at"), n))
                .transpose()?,
            max,
            rounding: match p.rounding.as_deref().unwrap_or("truncate") {
                "truncate" => Rounding::Truncate,
                "half_up" => Rounding::HalfUp,
                "none" => Rounding::Exact,
                other => {
                    return Err(self.err(format!(
                        "{what}: rounding '{other}' is not 'truncate', 'half_up' or 'none'"
                    )));
                }
            },
            decimals: 2,
        })
    }

    /// The options or parts of a metric key its `options` / `parts` in
    /// the score object: each id once.
    fn distinct_ids(
        &self,
        what: &str,
        kind: &str,
        items: &[RawAreaMetric],
    ) -> Result<(), RulebookError> {
        match repeated(items, |m| m.id.as_str()) {
            Some(id) => Err(self.err(format!("{what}: {kind} '{id}' is defined twice"))),
            None => Ok(()),
        }
    }

    fn metric(
        &self,
        m: &RawAreaMetric,
        ctx: &Ctx<'_>,
        parent: Option<&str>,
    ) -> Result<AreaMetricRule, RulebookError> {
        let what = match parent {
            Some(p) => format!("metric '{p}' option/part '{}'", m.id),
            None => format!("metric '{}'", m.id),
        };
        let Some(max) = m.max_points else {
            return Err(self.err(format!("{what} has no max_points")));
        };
        let max = self.nonneg(&format!("{what} max_points"), max)?;
        let filter =
            |name: &Option<String>, want: Option<Source>| -> Result<usize, RulebookError> {
                let Some(name) = name else {
                    return Err(self.err(format!("{what}: shape '{}' needs a filter", m.shape)));
                };
                let Some(i) = ctx.filters.iter().position(|f| &f.id == name) else {
                    return Err(self.err(format!("{what}: unknown filter '{name}'")));
                };
                if let Some(s) = want
                    && ctx.filters[i].source != s
                {
                    return Err(self.err(format!("{what}: filter '{name}' reads the wrong table")));
                }
                Ok(i)
            };
        let window = |w: &Option<String>| -> Result<Window, RulebookError> {
            match w.as_deref().unwrap_or("month") {
                "month" => Ok(Window::Month),
                "any_of_2" => Ok(Window::AnyOf2),
                "ttm" => Ok(Window::Ttm),
                other => Err(self.err(format!(
                    "{what}: window '{other}' is not month, any_of_2 or ttm"
                ))),
            }
        };
        let test = |t: &Option<RawTest>, key: &str| -> Result<Option<Threshold>, RulebookError> {
            t.as_ref()
                .map(|t| self.test(&format!("{what} {key}"), t))
                .transpose()
        };
        let measure_assocs = |f: usize| -> Result<Option<Vec<String>>, RulebookError> {
            match &m.measure_associations {
                None => Ok(None),
                Some(ids) => {
                    let ids = self.ids(&what, ids, ctx.associations, "association")?;
                    for id in &ids {
                        if !ctx.filters[f].associations.contains(id) {
                            return Err(self.err(format!(
                                "{what}: measure association '{id}' is not in filter '{}'",
                                ctx.filters[f].id
                            )));
                        }
                    }
                    Ok(Some(ids))
                }
            }
        };
        let needs_points = !matches!(m.shape.as_str(), "best_of");
        let points = if needs_points || m.points.is_some() {
            self.points(&what, m.points.as_ref(), max)?
        } else {
            PointsFn {
                rate: Decimal::ONE,
                per: Decimal::ONE,
                full_points_at: None,
                max,
                rounding: Rounding::Truncate,
                decimals: 2,
            }
        };
        let shape = match m.shape.as_str() {
            "entity_count" => {
                let f = filter(&m.filter, None)?;
                let source = ctx.filters[f].source;
                let entity = match m.entity.as_deref().unwrap_or("tenant") {
                    "tenant" => Entity::Tenant,
                    "service" if source == Source::Acr => Entity::Service,
                    "tenant_workload" if source.is_pair_table() => Entity::TenantWorkload,
                    other => {
                        return Err(self.err(format!(
                            "{what}: entity '{other}' is not tenant (or service on acr, tenant_workload on revenue or usage)"
                        )));
                    }
                };
                let mode = match m.mode.as_deref().unwrap_or("delta") {
                    "delta" => Mode::Delta,
                    "level" => Mode::Level,
                    other => {
                        return Err(
                            self.err(format!("{what}: mode '{other}' is not delta or level"))
                        );
                    }
                };
                let amount = test(&m.amount, "amount")?;
                let seats = test(&m.seats, "seats")?;
                let active_ratio = test(&m.active_ratio, "active_ratio")?;
                match source {
                    Source::Acr
                        if amount.is_none() || seats.is_some() || active_ratio.is_some() =>
                    {
                        return Err(self.err(format!(
                            "{what}: an acr entity count tests an amount (and no seats)"
                        )));
                    }
                    Source::Licenses if seats.is_none() || amount.is_some() => {
                        return Err(self.err(format!(
                            "{what}: a licenses entity count tests seats (and no amount)"
                        )));
                    }
                    Source::Revenue | Source::Usage => {
                        if amount.is_none()
                            || seats.is_some()
                            || active_ratio.is_some()
                            || m.seats_at_most.is_some()
                            || m.exclude_new_above.is_some()
                            || m.measure_associations.is_some()
                        {
                            return Err(self.err(format!(
                                "{what}: a revenue or usage entity count tests an amount (USD or MCV) and nothing else"
                            )));
                        }
                        if window(&m.window)? != Window::Month {
                            return Err(self.err(format!(
                                "{what}: the revenue and usage tables keep the latest and baseline months only: window must be 'month'"
                            )));
                        }
                    }
                    _ => {}
                }
                let ratio_scope = match m.ratio_scope.as_deref().unwrap_or("tenant") {
                    "tenant" => RatioScope::Tenant,
                    "workload" => RatioScope::Workload,
                    other => {
                        return Err(self.err(format!(
                            "{what}: ratio_scope '{other}' is not tenant or workload"
                        )));
                    }
                };
                AreaShape::EntityCount {
                    filter: f,
                    entity,
                    window: window(&m.window)?,
                    mode,
                    amount,
                    seats,
                    seats_at_most: m.seats_at_most.map(|n| self.nonneg(&what, n)).transpose()?,
                    active_ratio,
                    ratio_scope,
                    measure_associations: measure_assocs(f)?,
                    exclude_new_above: test(&m.exclude_new_above, "exclude_new_above")?,
                }
            }
            "certified_people" => {
                let check = |ids: &[String]| -> Result<Vec<String>, RulebookError> {
                    for id in ids {
                        if !ctx.certs.iter().any(|c| &c.id == id) {
                            return Err(self.err(format!("{what}: unknown certification '{id}'")));
                        }
                    }
                    Ok(ids.to_vec())
                };
                let Some(set) = &m.certifications else {
                    return Err(self.err(format!("{what}: certified_people needs certifications")));
                };
                let certifications = check(set)?;
                let mut prerequisites = Vec::new();
                for s in &m.prerequisite {
                    if s.min_people == 0 {
                        return Err(
                            self.err(format!("{what}: a prerequisite needs min_people ≥ 1"))
                        );
                    }
                    prerequisites.push(Step {
                        certifications: check(&s.certifications)?,
                        min_people: s.min_people,
                    });
                }
                AreaShape::CertifiedPeople {
                    certifications,
                    prerequisites,
                }
            }
            "growth" => {
                let f = filter(&m.filter, None)?;
                let source = ctx.filters[f].source;
                let measure = match (m.measure.as_deref(), source) {
                    (Some("acr"), Source::Acr) => Measure::Acr,
                    (Some("active_users"), Source::Licenses) => Measure::ActiveUsers,
                    (Some("protected_users"), Source::Licenses) => Measure::ProtectedUsers,
                    (Some("revenue"), Source::Revenue) => Measure::Revenue,
                    (Some("mcv"), Source::Usage) => Measure::Mcv,
                    (other, _) => {
                        return Err(self.err(format!(
                            "{what}: measure {other:?} does not fit filter '{}'",
                            ctx.filters[f].id
                        )));
                    }
                };
                let kind = match m.kind.as_deref() {
                    Some("percent") => GrowthKind::Percent,
                    Some("absolute") => GrowthKind::Absolute,
                    other => {
                        return Err(
                            self.err(format!("{what}: kind {other:?} is not percent or absolute"))
                        );
                    }
                };
                if source.is_pair_table()
                    && (window(&m.window)? != Window::Month
                        || m.seats.is_some()
                        || m.seats_at_most.is_some()
                        || m.measure_associations.is_some())
                {
                    return Err(self.err(format!(
                        "{what}: growth on the revenue or usage table is over one month and has no seats or associations"
                    )));
                }
                let association_start_baseline = match m.baseline.as_deref() {
                    None => false,
                    Some("association_start") if source == Source::Licenses => true,
                    Some(other) => {
                        return Err(self.err(format!("{what}: baseline '{other}' is not known")));
                    }
                };
                AreaShape::Growth {
                    filter: f,
                    measure,
                    window: window(&m.window)?,
                    kind,
                    decimals: 2,
                    measure_associations: measure_assocs(f)?,
                    seats: test(&m.seats, "seats")?,
                    seats_at_most: m.seats_at_most.map(|n| self.nonneg(&what, n)).transpose()?,
                    baseline_minimum: test(&m.baseline_minimum, "baseline_minimum")?,
                    association_start_baseline,
                }
            }
            "best_of" => {
                if m.option.len() < 2 {
                    return Err(self.err(format!("{what}: best_of needs two options or more")));
                }
                self.distinct_ids(&what, "option", &m.option)?;
                AreaShape::BestOf {
                    options: m
                        .option
                        .iter()
                        .map(|o| self.metric(o, ctx, Some(&m.id)))
                        .collect::<Result<_, _>>()?,
                }
            }
            "sum_capped" => {
                if m.part.len() < 2 {
                    return Err(self.err(format!("{what}: sum_capped needs two parts or more")));
                }
                self.distinct_ids(&what, "part", &m.part)?;
                let combine = match m.combine.as_deref() {
                    Some("values") => Combine::Values,
                    Some("points") => Combine::Points,
                    other => {
                        return Err(
                            self.err(format!("{what}: combine {other:?} is not values or points"))
                        );
                    }
                };
                AreaShape::SumCapped {
                    parts: m
                        .part
                        .iter()
                        .map(|o| self.metric(o, ctx, Some(&m.id)))
                        .collect::<Result<_, _>>()?,
                    combine,
                }
            }
            other => {
                return Err(self.err(format!(
                    "{what}: unknown shape '{other}' (known: entity_count, certified_people, growth, best_of, sum_capped)"
                )));
            }
        };
        Ok(AreaMetricRule {
            id: m.id.clone(),
            label: m.label.clone().unwrap_or_else(|| m.id.clone()),
            category: m.category.clone().unwrap_or_default(),
            track: m.track.clone(),
            effective_from: m
                .effective_from
                .as_deref()
                .map(|t| self.date(&what, t))
                .transpose()?,
            effective_until: m
                .effective_until
                .as_deref()
                .map(|t| self.date(&what, t))
                .transpose()?,
            points,
            shape,
        })
    }
}

struct Ctx<'a> {
    filters: &'a [Filter],
    associations: &'a [Entry],
    certs: &'a [AreaCertification],
}
