//! The rulebook file as written (TOML), before validation.
//!
//! Every struct denies unknown keys so that a misspelt key is an error, not a
//! silently ignored rule.

use rust_decimal::Decimal;
use serde::Deserialize;

/// A number in a rulebook: a TOML integer, float or string, read exactly.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) struct Num(pub(crate) Decimal);

impl<'de> Deserialize<'de> for Num {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        crate::num::deserialize(d).map(Num)
    }
}

#[derive(Deserialize, Debug)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawRulebook {
    pub format: u32,
    pub solution_area: String,
    pub version: String,
    pub title: Option<String>,
    pub source: Option<String>,
    pub effective_from: String,
    pub effective_until: Option<String>,
    pub calendar: RawCalendar,
    pub classification: RawClassification,
    pub qualification: RawQualification,
    #[serde(default)]
    pub association: Vec<RawAssociation>,
    pub revenue: RawRevenue,
    pub usage: RawUsage,
    pub certifications: Option<RawCertSettings>,
    #[serde(default)]
    pub certification: Vec<RawCertification>,
    #[serde(default)]
    pub metric: Vec<RawMetric>,
}

#[derive(Deserialize, Debug)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawCalendar {
    pub latest_month_offset: u32,
    pub baseline_month_offset: u32,
    pub data_refresh_day: u32,
}

#[derive(Deserialize, Debug)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawThreshold {
    pub comparison: String,
    pub value: Num,
}

#[derive(Deserialize, Debug)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawClassThreshold {
    pub comparison: String,
    pub enterprise: Num,
    pub smb: Num,
}

#[derive(Deserialize, Debug)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawPerClass {
    pub enterprise: Num,
    pub smb: Num,
}

#[derive(Deserialize, Debug)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawClassification {
    pub pair_revenue: RawThreshold,
    pub enterprise_min_pairs: u32,
}

#[derive(Deserialize, Debug)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawQualification {
    pub min_total_points: Num,
    pub every_metric_above_zero: bool,
    pub window_months: u32,
    pub renewal_months_before_anniversary: u32,
}

#[derive(Deserialize, Debug)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawAssociation {
    pub id: String,
    pub name: String,
    #[serde(default)]
    pub aliases: Vec<String>,
}

#[derive(Deserialize, Debug)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawNamed {
    pub name: String,
    #[serde(default)]
    pub aliases: Vec<String>,
}

#[derive(Deserialize, Debug)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawRevenue {
    pub associations: Vec<String>,
    pub workloads: Vec<RawNamed>,
}

#[derive(Deserialize, Debug)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawUsage {
    #[serde(default)]
    pub family: Vec<RawFamily>,
    #[serde(default)]
    pub workload: Vec<RawUsageWorkload>,
}

#[derive(Deserialize, Debug)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawFamily {
    pub id: String,
    pub name: String,
    pub associations: Vec<String>,
}

#[derive(Deserialize, Debug)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawUsageWorkload {
    pub name: String,
    #[serde(default)]
    pub aliases: Vec<String>,
    pub family: String,
    pub rate: Option<Num>,
    pub unit: Option<String>,
    #[serde(default)]
    pub includes: Vec<String>,
}

#[derive(Deserialize, Debug)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawCertSettings {
    pub optional_prefix: Option<String>,
}

#[derive(Deserialize, Debug)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawCertification {
    pub id: String,
    pub name: String,
    pub level: String,
    #[serde(default)]
    pub aliases: Vec<String>,
    pub eligible_from: Option<String>,
    pub eligible_until: Option<String>,
    pub note: Option<String>,
}

#[derive(Deserialize, Debug)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawMetric {
    pub id: String,
    pub label: Option<String>,
    pub category: Option<String>,
    pub shape: String,
    pub max_points: Option<Num>,
    pub points_per_unit: Option<RawPerClass>,
    // pair_growth
    pub source: Option<String>,
    pub pair_threshold: Option<RawClassThreshold>,
    // certified_people
    pub level: Option<String>,
    pub full_points_at: Option<RawPerClass>,
    // consumption_growth
    pub baseline_minimum: Option<RawClassThreshold>,
    pub decimals: Option<u32>,
}
