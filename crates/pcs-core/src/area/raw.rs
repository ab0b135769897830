//! An area rulebook file (format 2) as written, before validation. Every
//! struct denies unknown keys.

use serde::Deserialize;

use crate::rulebook::raw::{Num, RawAssociation, RawCalendar, RawQualification};

#[derive(Deserialize, Debug)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawArea {
    pub format: u32,
    pub solution_area: String,
    pub version: String,
    pub title: Option<String>,
    pub source: Option<String>,
    pub effective_from: String,
    pub effective_until: Option<String>,
    #[serde(default)]
    pub tracks: Vec<String>,
    pub track_rule: Option<String>,
    pub classifier: Option<RawClassifier>,
    pub calendar: RawCalendar,
    pub qualification: RawQualification,
    #[serde(default)]
    pub association: Vec<RawAssociation>,
    #[serde(default)]
    pub workload: Vec<RawAssociation>,
    #[serde(default)]
    pub offer: Vec<RawAssociation>,
    pub certifications: Option<RawCertNames>,
    #[serde(default)]
    pub certification: Vec<RawAreaCert>,
    #[serde(default)]
    pub filter: Vec<RawFilter>,
    #[serde(default)]
    pub metric: Vec<RawAreaMetric>,
}

#[derive(Deserialize, Debug)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawCertNames {
    #[serde(default)]
    pub optional_prefixes: Vec<String>,
}

#[derive(Deserialize, Debug)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawAreaCert {
    pub id: String,
    pub name: String,
    #[serde(default)]
    pub aliases: Vec<String>,
    pub eligible_from: Option<String>,
    pub eligible_until: Option<String>,
    pub note: Option<String>,
}

#[derive(Deserialize, Debug)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawFilter {
    pub id: String,
    pub table: String,
    #[serde(default)]
    pub associations: Vec<String>,
    #[serde(default)]
    pub exclude_offers: Vec<String>,
    pub services: Option<Vec<String>>,
    #[serde(default)]
    pub exclude_services: Vec<String>,
    pub workloads: Option<Vec<String>>,
}

/// `track_rule = "classify"`: entities passing a test in both the latest
/// and the baseline month; from `min_entities` on the first track, else the
/// second.
#[derive(Deserialize, Debug)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawClassifier {
    pub filter: String,
    pub entity: Option<String>,
    pub amount: RawTest,
    pub min_entities: u32,
}

#[derive(Deserialize, Debug)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawTest {
    pub comparison: String,
    pub value: Num,
}

#[derive(Deserialize, Debug)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawPoints {
    pub rate: Num,
    pub per: Option<Num>,
    pub full_points_at: Option<Num>,
    pub rounding: Option<String>,
}

#[derive(Deserialize, Debug)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawStep {
    pub certifications: Vec<String>,
    pub min_people: u32,
}

#[derive(Deserialize, Debug)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawAreaMetric {
    pub id: String,
    pub label: Option<String>,
    pub category: Option<String>,
    pub shape: String,
    pub max_points: Option<Num>,
    pub points: Option<RawPoints>,
    pub track: Option<String>,
    pub effective_from: Option<String>,
    pub effective_until: Option<String>,
    // entity_count and growth
    pub filter: Option<String>,
    pub window: Option<String>,
    // entity_count
    pub entity: Option<String>,
    pub mode: Option<String>,
    pub amount: Option<RawTest>,
    pub seats: Option<RawTest>,
    pub seats_at_most: Option<Num>,
    pub active_ratio: Option<RawTest>,
    pub ratio_scope: Option<String>,
    pub exclude_new_above: Option<RawTest>,
    // entity_count (ratio) and growth (measure): the option's associations
    pub measure_associations: Option<Vec<String>>,
    // growth
    pub measure: Option<String>,
    pub kind: Option<String>,
    pub baseline_minimum: Option<RawTest>,
    pub baseline: Option<String>,
    // certified_people
    pub certifications: Option<Vec<String>>,
    #[serde(default)]
    pub prerequisite: Vec<RawStep>,
    // best_of, sum_capped
    #[serde(default)]
    pub option: Vec<RawAreaMetric>,
    #[serde(default)]
    pub part: Vec<RawAreaMetric>,
    pub combine: Option<String>,
}
