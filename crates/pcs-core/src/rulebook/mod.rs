//! Rulebooks: every number, list, alias, rate, comparison and window of the
//! scoring rules, as validated data with effective dates.
//!
//! A rulebook file (TOML) describes one *version* of the rules of one
//! solution area. [`Rulebook::from_toml`] parses and validates one version;
//! [`RulebookSet`] holds several versions and picks the one in force on an
//! evaluation date. The versions shipped with pcs are embedded in the binary
//! ([`RulebookSet::builtin`]).
//!
//! ```
//! use pcs_core::rulebook::RulebookSet;
//! let set = RulebookSet::builtin();
//! let date = pcs_core::calendar::parse_date("2023-11-30").unwrap();
//! let rb = set.in_force("business_applications", date).unwrap();
//! assert_eq!(rb.id(), "business_applications/2023-06");
//! ```

mod names;
pub(crate) mod raw;

pub use names::NameKeys;

use std::collections::HashMap;
use std::fmt;

use jiff::civil::Date;
use rust_decimal::Decimal;
use serde::Serialize;

use crate::calendar::parse_date;
use crate::name::normalize;
use raw::{Num, RawClassThreshold, RawMetric, RawPerClass, RawRulebook};

/// The rulebook files shipped with pcs: (path below `rulebooks/`, text).
pub const BUILTIN: &[(&str, &str)] = &[(
    "business-applications/2023-06.toml",
    include_str!("../../../../rulebooks/business-applications/2023-06.toml"),
)];

/// The area rulebook files (format 2) shipped with pcs: (path below
/// `rulebooks/`, text), in the contract's order of solution areas.
pub const AREA_BUILTIN: &[(&str, &str)] = &[
    (
        "azure-infrastructure/2023-06.toml",
        include_str!("../../../../rulebooks/azure-infrastructure/2023-06.toml"),
    ),
    (
        "azure-data-ai/2023-06.toml",
        include_str!("../../../../rulebooks/azure-data-ai/2023-06.toml"),
    ),
    (
        "azure-digital-app-innovation/2023-06.toml",
        include_str!("../../../../rulebooks/azure-digital-app-innovation/2023-06.toml"),
    ),
    (
        "modern-work/2023-06.toml",
        include_str!("../../../../rulebooks/modern-work/2023-06.toml"),
    ),
    (
        "security/2023-06.toml",
        include_str!("../../../../rulebooks/security/2023-06.toml"),
    ),
];

/// The solution areas, in the contract's order.
pub const AREAS: [&str; 6] = [
    "business_applications",
    "azure_infrastructure",
    "azure_data_ai",
    "azure_digital_app_innovation",
    "modern_work",
    "security",
];

/// The `format` of a rulebook text, read before anything else (1: Business
/// Applications' own format; 2: an area rulebook of the shape engine).
pub fn format_of(text: &str, origin: &str) -> Result<u32, RulebookError> {
    #[derive(serde::Deserialize)]
    struct F {
        format: u32,
    }
    let table: toml::Table = toml::from_str(text)
        .map_err(|e| RulebookError::new(origin, e.to_string().trim_end().to_string()))?;
    let f: F = toml::Value::Table(table)
        .try_into()
        .map_err(|e: toml::de::Error| RulebookError::new(origin, e.to_string()))?;
    Ok(f.format)
}

/// The rulebook format this version of pcs reads.
pub const FORMAT: u32 = 1;

/// Why a rulebook could not be loaded.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("rulebook {origin}: {message}")]
pub struct RulebookError {
    origin: String,
    message: String,
}

impl RulebookError {
    pub(crate) fn at(origin: &str, message: impl Into<String>) -> Self {
        RulebookError::new(origin, message)
    }

    fn new(origin: &str, message: impl Into<String>) -> Self {
        RulebookError {
            origin: origin.to_string(),
            message: message.into(),
        }
    }

    /// Where the rulebook came from (a file name, or `builtin:...`).
    pub fn origin(&self) -> &str {
        &self.origin
    }

    /// What is wrong, without the origin.
    pub fn message(&self) -> &str {
        &self.message
    }
}

/// A comparison of a value against a threshold.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub enum Comparison {
    /// `value >= threshold`
    #[serde(rename = ">=")]
    AtLeast,
    /// `value > threshold`
    #[serde(rename = ">")]
    Above,
}

impl Comparison {
    fn parse(text: &str) -> Option<Comparison> {
        match text.trim() {
            ">=" | "≥" => Some(Comparison::AtLeast),
            ">" => Some(Comparison::Above),
            _ => None,
        }
    }

    /// Whether `value` passes against `threshold`.
    pub fn passes(self, value: Decimal, threshold: Decimal) -> bool {
        match self {
            Comparison::AtLeast => value >= threshold,
            Comparison::Above => value > threshold,
        }
    }

    /// The symbol, `≥` or `>`.
    pub fn symbol(self) -> &'static str {
        match self {
            Comparison::AtLeast => "≥",
            Comparison::Above => ">",
        }
    }
}

/// A partner's classification, which selects every per-class figure.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Classification {
    /// Five or more large (tenant, workload) pairs in both months.
    Enterprise,
    /// Everyone else.
    Smb,
}

impl Classification {
    /// `"enterprise"` or `"smb"`, as in the score object.
    pub fn as_str(self) -> &'static str {
        match self {
            Classification::Enterprise => "enterprise",
            Classification::Smb => "smb",
        }
    }
}

impl fmt::Display for Classification {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Classification::Enterprise => "Enterprise",
            Classification::Smb => "SMB",
        })
    }
}

/// One figure per classification.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct PerClass<T> {
    /// The Enterprise figure.
    pub enterprise: T,
    /// The SMB figure.
    pub smb: T,
}

impl<T: Copy> PerClass<T> {
    /// The figure for `class`.
    pub fn get(&self, class: Classification) -> T {
        match class {
            Classification::Enterprise => self.enterprise,
            Classification::Smb => self.smb,
        }
    }
}

/// A threshold with its comparison.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct Threshold {
    /// `>=` or `>`.
    pub comparison: Comparison,
    /// The threshold.
    pub value: Decimal,
}

impl Threshold {
    /// Whether `value` passes.
    pub fn passes(&self, value: Decimal) -> bool {
        self.comparison.passes(value, self.value)
    }
}

/// A per-classification threshold with its comparison.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct ClassThreshold {
    /// `>=` or `>`.
    pub comparison: Comparison,
    /// The thresholds.
    pub values: PerClass<Decimal>,
}

impl ClassThreshold {
    /// The threshold in force for `class`.
    pub fn for_class(&self, class: Classification) -> Threshold {
        Threshold {
            comparison: self.comparison,
            value: self.values.get(class),
        }
    }
}

/// Month offsets and the data refresh day.
#[derive(Clone, Debug, Serialize)]
pub struct CalendarRules {
    /// Latest month = M - this.
    pub latest_month_offset: u32,
    /// Baseline month = M - this.
    pub baseline_month_offset: u32,
    /// Performance and customer-success data are refreshed by this day.
    pub data_refresh_day: i8,
}

/// How a partner is classified.
#[derive(Clone, Debug, Serialize)]
pub struct ClassificationRules {
    /// A pair counts when its revenue passes this in both months.
    pub pair_revenue: Threshold,
    /// Enterprise from this many pairs.
    pub enterprise_min_pairs: u32,
}

/// When a partner qualifies.
#[derive(Clone, Debug, Serialize)]
pub struct QualificationRules {
    /// The total must be at least this.
    pub min_total_points: Decimal,
    /// Whether every metric must score above zero.
    pub every_metric_above_zero: bool,
    /// Months (ending with M) in which one qualification suffices.
    pub window_months: u32,
    /// Renewal is judged from this many months before the anniversary month.
    pub renewal_months_before_anniversary: u32,
}

/// Index of an association type in [`Rulebook::associations`].
pub type AssociationId = u16;
/// Index of a performance workload in [`RevenueRules::workloads`].
pub type RevenueWorkloadId = u16;
/// Index of a usage workload in [`UsageRules::workloads`].
pub type UsageWorkloadId = u16;
/// Index of a certification in [`Rulebook::certifications`].
pub type CertificationId = u16;

/// A set of association types.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct AssociationSet(u64);

impl AssociationSet {
    /// Whether the set holds `id`.
    pub fn contains(self, id: AssociationId) -> bool {
        id < 64 && self.0 & (1 << id) != 0
    }
    fn insert(&mut self, id: AssociationId) {
        self.0 |= 1 << id;
    }
    /// The ids in the set, ascending.
    pub fn iter(self) -> impl Iterator<Item = AssociationId> {
        (0..64u16).filter(move |&i| self.contains(i))
    }
}

/// An association type such as `DPOR`.
#[derive(Clone, Debug, Serialize)]
pub struct Association {
    /// Stable id (`dpor`).
    pub id: String,
    /// Display name (`DPOR`).
    pub name: String,
}

/// A named catalogue entry (a performance workload).
#[derive(Clone, Debug, Serialize)]
pub struct Named {
    /// Display name.
    pub name: String,
    /// Other accepted spellings.
    pub aliases: Vec<String>,
}

/// Rules for revenue (the performance category).
#[derive(Clone, Debug)]
pub struct RevenueRules {
    /// Association types whose revenue counts.
    pub associations: AssociationSet,
    /// The performance workloads.
    pub workloads: Vec<Named>,
}

/// A group of usage workloads sharing an association filter.
#[derive(Clone, Debug)]
pub struct Family {
    /// Stable id.
    pub id: String,
    /// Display name.
    pub name: String,
    /// Association types whose usage counts.
    pub associations: AssociationSet,
}

/// A rate-card workload.
#[derive(Clone, Debug)]
pub struct UsageWorkload {
    /// Display name.
    pub name: String,
    /// Other accepted spellings.
    pub aliases: Vec<String>,
    /// Index into [`UsageRules::families`].
    pub family: usize,
    /// MCV per unit; `None` when the rate card has no rate.
    pub rate: Option<Decimal>,
    /// Usage unit (MAU, profiles).
    pub unit: Option<String>,
    /// Products whose usage rolls up into this workload.
    pub includes: Vec<String>,
}

/// Rules for usage (the customer success category).
#[derive(Clone, Debug)]
pub struct UsageRules {
    /// Association families.
    pub families: Vec<Family>,
    /// The rate card.
    pub workloads: Vec<UsageWorkload>,
}

/// A certification that may count for skilling.
#[derive(Clone, Debug, Serialize)]
pub struct Certification {
    /// The last part of its Microsoft Learn link.
    pub id: String,
    /// Full name.
    pub name: String,
    /// Level (matches a `certified_people` metric's level).
    pub level: String,
    /// First evaluation date on which it counts.
    pub eligible_from: Option<Date>,
    /// Last evaluation date on which it counts.
    pub eligible_until: Option<Date>,
    /// Why it has a window.
    pub note: Option<String>,
}

impl Certification {
    /// Whether it is eligible on `date` (inside its window).
    pub fn eligible_on(&self, date: Date) -> bool {
        self.eligible_from.is_none_or(|f| date >= f)
            && self.eligible_until.is_none_or(|u| date <= u)
    }
}

/// Where the items of a `pair_growth` metric come from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum PairSource {
    /// Revenue in USD per (tenant, performance workload, month).
    Revenue,
    /// MCV per (tenant, usage workload, month).
    Usage,
}

/// The shape of a metric: what the engine computes; the numbers are data.
#[derive(Clone, Debug, PartialEq)]
pub enum Shape {
    /// Pairs passing a threshold in the latest month minus in the baseline month.
    PairGrowth {
        /// Revenue or usage.
        source: PairSource,
        /// The per-class threshold a pair's amount or MCV must pass.
        threshold: ClassThreshold,
    },
    /// Distinct people with an eligible certification of a level.
    CertifiedPeople {
        /// The certification level.
        level: String,
        /// From this many people on, the maximum points.
        full_points_at: Option<PerClass<u32>>,
    },
    /// Growth in percent of total MCV, with a baseline prerequisite.
    ConsumptionGrowth {
        /// The baseline total MCV must pass this.
        baseline_minimum: ClassThreshold,
        /// Decimal places kept (truncated) in value and points.
        decimals: u32,
    },
}

/// One metric of the score.
#[derive(Clone, Debug)]
pub struct Metric {
    /// Key in the score object (`net_customer_adds`).
    pub id: String,
    /// Display label.
    pub label: String,
    /// Category (`performance`, `skilling`, `customer_success`).
    pub category: String,
    /// The cap.
    pub max_points: Decimal,
    /// Points per unit of value, per class.
    pub points_per_unit: PerClass<Decimal>,
    /// What is computed.
    pub shape: Shape,
}

/// How a usage workload name resolved.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct UsageName {
    /// The rate-card workload.
    pub workload: UsageWorkloadId,
    /// The product that rolled up into it, as an index into its `includes`.
    pub product: Option<u16>,
}

/// One validated version of the rules of a solution area.
#[derive(Clone, Debug)]
pub struct Rulebook {
    /// Solution area (`business_applications`).
    pub solution_area: String,
    /// Version (`2023-06`).
    pub version: String,
    /// Title.
    pub title: Option<String>,
    /// Where the rules come from.
    pub source: Option<String>,
    /// First evaluation date in force.
    pub effective_from: Date,
    /// Last evaluation date in force, if the file says so.
    pub effective_until: Option<Date>,
    /// Months and refresh.
    pub calendar: CalendarRules,
    /// Classification.
    pub classification: ClassificationRules,
    /// Qualification.
    pub qualification: QualificationRules,
    /// Association types.
    pub associations: Vec<Association>,
    /// Revenue rules.
    pub revenue: RevenueRules,
    /// Usage rules.
    pub usage: UsageRules,
    /// Certifications.
    pub certifications: Vec<Certification>,
    /// The metrics, in score order.
    pub metrics: Vec<Metric>,
    /// Where the rulebook was loaded from.
    pub origin: String,
    index: NameIndex,
    /// The same rules in the area engine's shapes, derived at load
    /// ([`crate::area::AreaRulebook::from_business_applications`]).
    shapes: Option<std::sync::Arc<crate::area::AreaRulebook>>,
}

#[derive(Clone, Debug, Default)]
struct NameIndex {
    associations: HashMap<String, AssociationId>,
    revenue_workloads: HashMap<String, RevenueWorkloadId>,
    usage_workloads: HashMap<String, UsageName>,
    certifications: HashMap<String, CertificationId>,
}

impl Rulebook {
    /// `solution_area/version`, the name every score carries.
    pub fn id(&self) -> String {
        format!("{}/{}", self.solution_area, self.version)
    }

    /// Resolves an association type name.
    pub fn association(&self, name: &str) -> Option<AssociationId> {
        self.index.associations.get(&normalize(name)).copied()
    }

    /// Resolves a performance workload name.
    pub fn revenue_workload(&self, name: &str) -> Option<RevenueWorkloadId> {
        self.index.revenue_workloads.get(&normalize(name)).copied()
    }

    /// Resolves a usage workload or product name.
    pub fn usage_workload(&self, name: &str) -> Option<UsageName> {
        self.index.usage_workloads.get(&normalize(name)).copied()
    }

    /// Resolves a certification by full name (prefix optional) or id.
    pub fn certification(&self, name: &str) -> Option<CertificationId> {
        self.index.certifications.get(&normalize(name)).copied()
    }

    /// The metric with this id.
    pub fn metric(&self, id: &str) -> Option<&Metric> {
        self.metrics.iter().find(|m| m.id == id)
    }

    /// These rules in the area engine's shapes, derived when the rulebook
    /// was loaded: what [`crate::score::score_partner`] scores with.
    pub fn shapes(&self) -> &crate::area::AreaRulebook {
        self.shapes
            .as_deref()
            .expect("a validated rulebook has its shapes (derived at load)")
    }

    /// Parses and validates one rulebook version. `origin` names it in errors.
    pub fn from_toml(text: &str, origin: &str) -> Result<Rulebook, RulebookError> {
        let raw: RawRulebook = toml::from_str(text)
            .map_err(|e| RulebookError::new(origin, e.to_string().trim_end().to_string()))?;
        Validator { origin }.build(raw)
    }
}

struct Validator<'a> {
    origin: &'a str,
}

impl Validator<'_> {
    fn err(&self, message: impl Into<String>) -> RulebookError {
        RulebookError::new(self.origin, message)
    }

    fn date(&self, what: &str, text: &str) -> Result<Date, RulebookError> {
        parse_date(text).map_err(|e| self.err(format!("{what}: {e}")))
    }

    fn non_negative(&self, what: &str, n: Num) -> Result<Decimal, RulebookError> {
        if n.0.is_sign_negative() && !n.0.is_zero() {
            return Err(self.err(format!("{what} is {}, but it may not be negative", n.0)));
        }
        Ok(n.0.normalize())
    }

    fn comparison(&self, what: &str, text: &str) -> Result<Comparison, RulebookError> {
        Comparison::parse(text)
            .ok_or_else(|| self.err(format!("{what}: comparison '{text}' is not '>=' or '>'")))
    }

    fn per_class(&self, what: &str, raw: &RawPerClass) -> Result<PerClass<Decimal>, RulebookError> {
        Ok(PerClass {
            enterprise: self.non_negative(&format!("{what}.enterprise"), raw.enterprise)?,
            smb: self.non_negative(&format!("{what}.smb"), raw.smb)?,
        })
    }

    fn class_threshold(
        &self,
        what: &str,
        raw: &RawClassThreshold,
    ) -> Result<ClassThreshold, RulebookError> {
        Ok(ClassThreshold {
            comparison: self.comparison(what, &raw.comparison)?,
            values: PerClass {
                enterprise: self.non_negative(&format!("{what}.enterprise"), raw.enterprise)?,
                smb: self.non_negative(&format!("{what}.smb"), raw.smb)?,
            },
        })
    }

    fn insert_name<T: Copy + PartialEq>(
        &self,
        map: &mut HashMap<String, T>,
        table: &str,
        name: &str,
        value: T,
        describe: impl Fn(T) -> String,
    ) -> Result<(), RulebookError> {
        let key = normalize(name);
        if key.is_empty() {
            return Err(self.err(format!("{table}: empty name")));
        }
        match map.get(&key) {
            Some(&existing) if existing != value => Err(self.err(format!(
                "{table}: name '{name}' is ambiguous: it means both {} and {}",
                describe(existing),
                describe(value)
            ))),
            _ => {
                map.insert(key, value);
                Ok(())
            }
        }
    }

    fn build(&self, raw: RawRulebook) -> Result<Rulebook, RulebookError> {
        if raw.format != FORMAT {
            return Err(self.err(format!(
                "format {} is not supported (this pcs reads format {FORMAT})",
                raw.format
            )));
        }
        if raw.solution_area.trim().is_empty() || raw.version.trim().is_empty() {
            return Err(self.err("solution_area and version may not be empty"));
        }
        let effective_from = self.date("effective_from", &raw.effective_from)?;
        let effective_until = match &raw.effective_until {
            Some(t) => {
                let d = self.date("effective_until", t)?;
                if d < effective_from {
                    return Err(self.err(format!(
                        "effective_until {d} is before effective_from {effective_from}"
                    )));
                }
                Some(d)
            }
            None => None,
        };

        let cal = &raw.calendar;
        if !(1..=28).contains(&cal.data_refresh_day) {
            return Err(self.err(format!(
                "calendar.data_refresh_day is {}, it must be a day from 1 to 28",
                cal.data_refresh_day
            )));
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

        let classification = ClassificationRules {
            pair_revenue: Threshold {
                comparison: self.comparison(
                    "classification.pair_revenue",
                    &raw.classification.pair_revenue.comparison,
                )?,
                value: self.non_negative(
                    "classification.pair_revenue.value",
                    raw.classification.pair_revenue.value,
                )?,
            },
            enterprise_min_pairs: raw.classification.enterprise_min_pairs,
        };
        let q = &raw.qualification;
        if q.window_months == 0 {
            return Err(self.err("qualification.window_months must be at least 1"));
        }
        let qualification = QualificationRules {
            min_total_points: self
                .non_negative("qualification.min_total_points", q.min_total_points)?,
            every_metric_above_zero: q.every_metric_above_zero,
            window_months: q.window_months,
            renewal_months_before_anniversary: q.renewal_months_before_anniversary,
        };

        let mut index = NameIndex::default();

        // Association types.
        if raw.association.len() > 64 {
            return Err(self.err("at most 64 association types are supported"));
        }
        let mut associations = Vec::new();
        let mut assoc_ids: HashMap<String, AssociationId> = HashMap::new();
        for (i, a) in raw.association.iter().enumerate() {
            let id = i as AssociationId;
            if assoc_ids.insert(a.id.clone(), id).is_some() {
                return Err(self.err(format!("association id '{}' is defined twice", a.id)));
            }
            let names: Vec<&String> = std::iter::once(&a.name).chain(&a.aliases).collect();
            for n in names {
                self.insert_name(&mut index.associations, "association", n, id, |x| {
                    raw.association[x as usize].name.clone()
                })?;
            }
            associations.push(Association {
                id: a.id.clone(),
                name: a.name.clone(),
            });
        }
        let assoc_set = |what: &str, ids: &[String]| -> Result<AssociationSet, RulebookError> {
            let mut set = AssociationSet::default();
            for id in ids {
                let Some(&i) = assoc_ids.get(id) else {
                    return Err(self.err(format!("{what}: unknown association id '{id}'")));
                };
                set.insert(i);
            }
            Ok(set)
        };

        // Revenue.
        let revenue = RevenueRules {
            associations: assoc_set("revenue.associations", &raw.revenue.associations)?,
            workloads: raw
                .revenue
                .workloads
                .iter()
                .map(|w| Named {
                    name: w.name.clone(),
                    aliases: w.aliases.clone(),
                })
                .collect(),
        };
        for (i, w) in raw.revenue.workloads.iter().enumerate() {
            for n in std::iter::once(&w.name).chain(&w.aliases) {
                self.insert_name(
                    &mut index.revenue_workloads,
                    "revenue.workloads",
                    n,
                    i as u16,
                    |x| raw.revenue.workloads[x as usize].name.clone(),
                )?;
            }
        }

        // Usage.
        let mut families = Vec::new();
        for f in &raw.usage.family {
            if families.iter().any(|x: &Family| x.id == f.id) {
                return Err(self.err(format!("usage family '{}' is defined twice", f.id)));
            }
            families.push(Family {
                id: f.id.clone(),
                name: f.name.clone(),
                associations: assoc_set(&format!("usage.family '{}'", f.id), &f.associations)?,
            });
        }
        let mut usage_workloads = Vec::new();
        for (i, w) in raw.usage.workload.iter().enumerate() {
            let Some(family) = families.iter().position(|f| f.id == w.family) else {
                return Err(self.err(format!(
                    "usage workload '{}': unknown family '{}'",
                    w.name, w.family
                )));
            };
            let rate = match w.rate {
                Some(r) => {
                    Some(self.non_negative(&format!("usage workload '{}' rate", w.name), r)?)
                }
                None => None,
            };
            let describe = |x: UsageName| {
                let wl = &raw.usage.workload[x.workload as usize];
                match x.product {
                    Some(p) => format!("{} (rolled up into {})", wl.includes[p as usize], wl.name),
                    None => wl.name.clone(),
                }
            };
            let whole = UsageName {
                workload: i as u16,
                product: None,
            };
            for n in std::iter::once(&w.name).chain(&w.aliases) {
                self.insert_name(
                    &mut index.usage_workloads,
                    "usage.workload",
                    n,
                    whole,
                    describe,
                )?;
            }
            for (p, product) in w.includes.iter().enumerate() {
                let name = UsageName {
                    workload: i as u16,
                    product: Some(p as u16),
                };
                self.insert_name(
                    &mut index.usage_workloads,
                    "usage.workload includes",
                    product,
                    name,
                    describe,
                )?;
            }
            usage_workloads.push(UsageWorkload {
                name: w.name.clone(),
                aliases: w.aliases.clone(),
                family,
                rate,
                unit: w.unit.clone(),
                includes: w.includes.clone(),
            });
        }
        let usage = UsageRules {
            families,
            workloads: usage_workloads,
        };

        // Certifications.
        let prefix = raw
            .certifications
            .as_ref()
            .and_then(|c| c.optional_prefix.clone())
            .unwrap_or_default();
        let prefix_key = normalize(&prefix);
        let mut certifications = Vec::new();
        for (i, c) in raw.certification.iter().enumerate() {
            let what = format!("certification '{}'", c.id);
            let eligible_from = c
                .eligible_from
                .as_deref()
                .map(|t| self.date(&format!("{what} eligible_from"), t))
                .transpose()?;
            let eligible_until = c
                .eligible_until
                .as_deref()
                .map(|t| self.date(&format!("{what} eligible_until"), t))
                .transpose()?;
            if let (Some(f), Some(u)) = (eligible_from, eligible_until)
                && u < f
            {
                return Err(self.err(format!(
                    "{what}: eligible_until {u} is before eligible_from {f}"
                )));
            }
            let describe = |x: CertificationId| raw.certification[x as usize].id.clone();
            let id = i as CertificationId;
            let mut names: Vec<String> = vec![c.id.clone(), c.name.clone()];
            names.extend(c.aliases.iter().cloned());
            for n in &names {
                self.insert_name(&mut index.certifications, "certification", n, id, describe)?;
                let key = normalize(n);
                if !prefix_key.is_empty()
                    && let Some(rest) = key.strip_prefix(&prefix_key)
                {
                    self.insert_name(
                        &mut index.certifications,
                        "certification",
                        rest,
                        id,
                        describe,
                    )?;
                }
            }
            certifications.push(Certification {
                id: c.id.clone(),
                name: c.name.clone(),
                level: c.level.clone(),
                eligible_from,
                eligible_until,
                note: c.note.clone(),
            });
        }

        // Metrics.
        if raw.metric.is_empty() {
            return Err(self.err("a rulebook needs at least one [[metric]]"));
        }
        let mut metrics: Vec<Metric> = Vec::new();
        for m in &raw.metric {
            if metrics.iter().any(|x| x.id == m.id) {
                return Err(self.err(format!("metric '{}' is defined twice", m.id)));
            }
            metrics.push(self.metric(m, &certifications)?);
        }

        let mut rb = Rulebook {
            solution_area: raw.solution_area,
            version: raw.version,
            title: raw.title,
            source: raw.source,
            effective_from,
            effective_until,
            calendar,
            classification,
            qualification,
            associations,
            revenue,
            usage,
            certifications,
            metrics,
            origin: self.origin.to_string(),
            index,
            shapes: None,
        };
        rb.shapes = Some(std::sync::Arc::new(
            crate::area::AreaRulebook::from_business_applications(&rb)?,
        ));
        Ok(rb)
    }

    fn metric(&self, m: &RawMetric, certs: &[Certification]) -> Result<Metric, RulebookError> {
        let what = format!("metric '{}'", m.id);
        let Some(max) = m.max_points else {
            return Err(self.err(format!(
                "{what} has no max_points: every metric needs a cap"
            )));
        };
        let max_points = self.non_negative(&format!("{what} max_points"), max)?;
        let Some(ppu) = &m.points_per_unit else {
            return Err(self.err(format!("{what} has no points_per_unit")));
        };
        let points_per_unit = self.per_class(&format!("{what} points_per_unit"), ppu)?;
        let forbid = |present: bool, key: &str| -> Result<(), RulebookError> {
            if present {
                Err(self.err(format!(
                    "{what}: '{key}' does not apply to shape '{}'",
                    m.shape
                )))
            } else {
                Ok(())
            }
        };
        let shape = match m.shape.as_str() {
            "pair_growth" => {
                forbid(m.level.is_some(), "level")?;
                forbid(m.full_points_at.is_some(), "full_points_at")?;
                forbid(m.baseline_minimum.is_some(), "baseline_minimum")?;
                forbid(m.decimals.is_some(), "decimals")?;
                let source = match m.source.as_deref() {
                    Some("revenue") => PairSource::Revenue,
                    Some("usage") => PairSource::Usage,
                    Some(other) => {
                        return Err(self.err(format!(
                            "{what}: source '{other}' is not 'revenue' or 'usage'"
                        )));
                    }
                    None => {
                        return Err(self.err(format!("{what}: shape 'pair_growth' needs a source")));
                    }
                };
                let Some(t) = &m.pair_threshold else {
                    return Err(self.err(format!(
                        "{what}: shape 'pair_growth' needs a pair_threshold"
                    )));
                };
                Shape::PairGrowth {
                    source,
                    threshold: self.class_threshold(&format!("{what} pair_threshold"), t)?,
                }
            }
            "certified_people" => {
                forbid(m.source.is_some(), "source")?;
                forbid(m.pair_threshold.is_some(), "pair_threshold")?;
                forbid(m.baseline_minimum.is_some(), "baseline_minimum")?;
                forbid(m.decimals.is_some(), "decimals")?;
                let Some(level) = m.level.clone() else {
                    return Err(self.err(format!("{what}: shape 'certified_people' needs a level")));
                };
                if !certs.iter().any(|c| c.level == level) {
                    return Err(self.err(format!("{what}: no certification has level '{level}'")));
                }
                let full_points_at = match &m.full_points_at {
                    Some(f) => {
                        let pc = self.per_class(&format!("{what} full_points_at"), f)?;
                        let whole = |d: Decimal| -> Result<u32, RulebookError> {
                            if d.fract().is_zero() && d > Decimal::ZERO {
                                u32::try_from(d.mantissa() / 10i128.pow(d.scale())).map_err(|_| {
                                    self.err(format!("{what}: full_points_at {d} is too large"))
                                })
                            } else {
                                Err(self.err(format!(
                                    "{what}: full_points_at {d} is not a positive whole number"
                                )))
                            }
                        };
                        Some(PerClass {
                            enterprise: whole(pc.enterprise)?,
                            smb: whole(pc.smb)?,
                        })
                    }
                    None => None,
                };
                Shape::CertifiedPeople {
                    level,
                    full_points_at,
                }
            }
            "consumption_growth" => {
                forbid(m.source.is_some(), "source")?;
                forbid(m.pair_threshold.is_some(), "pair_threshold")?;
                forbid(m.level.is_some(), "level")?;
                forbid(m.full_points_at.is_some(), "full_points_at")?;
                let Some(b) = &m.baseline_minimum else {
                    return Err(self.err(format!(
                        "{what}: shape 'consumption_growth' needs a baseline_minimum"
                    )));
                };
                let decimals = m.decimals.unwrap_or(2);
                if decimals > 6 {
                    return Err(self.err(format!("{what}: decimals {decimals} is more than 6")));
                }
                Shape::ConsumptionGrowth {
                    baseline_minimum: self
                        .class_threshold(&format!("{what} baseline_minimum"), b)?,
                    decimals,
                }
            }
            other => {
                return Err(self.err(format!(
                    "{what}: unknown shape '{other}' (known: pair_growth, certified_people, consumption_growth)"
                )));
            }
        };
        Ok(Metric {
            id: m.id.clone(),
            label: m.label.clone().unwrap_or_else(|| m.id.clone()),
            category: m.category.clone().unwrap_or_default(),
            max_points,
            points_per_unit,
            shape,
        })
    }
}

/// Several rulebook versions; picks the one in force on a date.
#[derive(Clone, Debug)]
pub struct RulebookSet {
    versions: Vec<Rulebook>,
    areas: Vec<crate::area::AreaRulebook>,
}

/// No rulebook version is in force on the evaluation date.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("no {area} rulebook is in force on {date}{known}")]
pub struct NotInForce {
    area: String,
    date: Date,
    known: String,
}

impl RulebookSet {
    /// The versions shipped with pcs.
    pub fn builtin() -> RulebookSet {
        let versions = BUILTIN
            .iter()
            .map(|(path, text)| {
                Rulebook::from_toml(text, &format!("builtin:{path}"))
                    .expect("built-in rulebooks are valid (tested)")
            })
            .collect();
        let areas = AREA_BUILTIN
            .iter()
            .map(|(path, text)| {
                crate::area::AreaRulebook::from_toml(text, &format!("builtin:{path}"))
                    .expect("built-in area rulebooks are valid (tested)")
            })
            .collect();
        RulebookSet::new(versions)
            .and_then(|s| s.with_areas(areas))
            .expect("built-in rulebooks do not overlap (tested)")
    }

    /// Adds area rulebooks (format 2), rejecting overlapping versions of one
    /// area and areas that Business Applications' versions already name.
    pub fn with_areas(
        mut self,
        mut areas: Vec<crate::area::AreaRulebook>,
    ) -> Result<RulebookSet, RulebookError> {
        areas.sort_by(|a, b| {
            (&a.solution_area, a.effective_from).cmp(&(&b.solution_area, b.effective_from))
        });
        for pair in areas.windows(2) {
            let (a, b) = (&pair[0], &pair[1]);
            if a.solution_area == b.solution_area
                && (a.effective_from == b.effective_from
                    || a.effective_until.is_some_and(|u| u >= b.effective_from))
            {
                return Err(RulebookError::new(
                    &b.origin,
                    format!(
                        "version {} (from {}) overlaps version {} of {}",
                        b.version, b.effective_from, a.version, a.origin
                    ),
                ));
            }
        }
        for a in &areas {
            if self
                .versions
                .iter()
                .any(|v| v.solution_area == a.solution_area)
            {
                return Err(RulebookError::new(
                    &a.origin,
                    format!(
                        "{} is given both as format 1 and as an area rulebook",
                        a.solution_area
                    ),
                ));
            }
        }
        self.areas = areas;
        Ok(self)
    }

    /// The area rulebooks (format 2), by solution area and date.
    pub fn area_versions(&self) -> &[crate::area::AreaRulebook] {
        &self.areas
    }

    /// Every area rulebook in force on `date` (any area).
    pub fn areas_in_force(&self, date: Date) -> Vec<&crate::area::AreaRulebook> {
        self.areas
            .iter()
            .filter(|r| r.effective_from <= date && r.effective_until.is_none_or(|u| date <= u))
            .collect()
    }

    /// The area rulebook of `area` in force on `date`.
    pub fn area_in_force(
        &self,
        area: &str,
        date: Date,
    ) -> Result<&crate::area::AreaRulebook, NotInForce> {
        let found = self
            .areas
            .iter()
            .rfind(|r| r.solution_area == area && r.effective_from <= date)
            .filter(|r| r.effective_until.is_none_or(|u| date <= u));
        found.ok_or_else(|| {
            let known: Vec<String> = self
                .areas
                .iter()
                .filter(|r| r.solution_area == area)
                .map(|r| format!("{} from {}", r.version, r.effective_from))
                .collect();
            NotInForce {
                area: area.to_string(),
                date,
                known: if known.is_empty() {
                    " (no version of it is loaded)".to_string()
                } else {
                    format!(" (loaded: {})", known.join(", "))
                },
            }
        })
    }

    /// Builds a set, rejecting versions of one solution area whose periods overlap.
    pub fn new(mut versions: Vec<Rulebook>) -> Result<RulebookSet, RulebookError> {
        versions.sort_by(|a, b| {
            (&a.solution_area, a.effective_from).cmp(&(&b.solution_area, b.effective_from))
        });
        for pair in versions.windows(2) {
            let (a, b) = (&pair[0], &pair[1]);
            if a.solution_area != b.solution_area {
                continue;
            }
            let overlaps = a.effective_from == b.effective_from
                || a.effective_until.is_some_and(|u| u >= b.effective_from);
            if overlaps {
                return Err(RulebookError::new(
                    &b.origin,
                    format!(
                        "version {} (from {}) overlaps version {} of {} (from {}{})",
                        b.version,
                        b.effective_from,
                        a.version,
                        a.origin,
                        a.effective_from,
                        a.effective_until
                            .map(|u| format!(" until {u}"))
                            .unwrap_or_default()
                    ),
                ));
            }
        }
        Ok(RulebookSet {
            versions,
            areas: Vec::new(),
        })
    }

    /// All versions, by solution area and effective date.
    pub fn versions(&self) -> &[Rulebook] {
        &self.versions
    }

    /// The version of `area` in force on `date`: the latest one that started
    /// on or before it and has not ended.
    pub fn in_force(&self, area: &str, date: Date) -> Result<&Rulebook, NotInForce> {
        let found = self
            .versions
            .iter()
            .rfind(|r| r.solution_area == area && r.effective_from <= date)
            .filter(|r| r.effective_until.is_none_or(|u| date <= u));
        found.ok_or_else(|| {
            let known: Vec<String> = self
                .versions
                .iter()
                .filter(|r| r.solution_area == area)
                .map(|r| {
                    format!(
                        "{} from {}{}",
                        r.version,
                        r.effective_from,
                        r.effective_until
                            .map(|u| format!(" until {u}"))
                            .unwrap_or_default()
                    )
                })
                .collect();
            NotInForce {
                area: area.to_string(),
                date,
                known: if known.is_empty() {
                    " (no version of it is loaded)".to_string()
                } else {
                    format!(" (loaded: {})", known.join(", "))
                },
            }
        })
    }
}

#[cfg(test)]
mod tests;
