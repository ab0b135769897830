//! What-if scenarios: hypothetical records added to (or removed from) a
//! partner's real facts, scored by the same engine.
//!
//! A scenario is TOML or JSON:
//!
//! ```toml
//! # Win a new customer, deploy Power BI at another, certify one person,
//! # and lose customer "fabrikam".
//! [[revenue]]
//! customer_name = "Adventure Works"
//! workload = "Sales"
//! revenue_usd = 1800
//! association = "CSP Tier 1"
//!
//! [[usage]]
//! customer_tenant_id = "litware"
//! workload = "Power BI"
//! quantity = 30
//! association = "PAL"
//!
//! [[certification]]
//! person_name = "Avery Howard"
//! certification = "data-analyst-associate"
//!
//! [remove]
//! customers = ["fabrikam"]
//! people = []
//! ```
//!
//! Omitted months are the period's latest month; omitted tenant and person
//! ids are generated (`whatif-customer-1`, `whatif-person-1`); an omitted
//! `earned_on` is the evaluation date.

use pcs_core::Decimal;
use pcs_core::calendar::{Month, parse_date};
use pcs_core::facts::{
    CertificationRow, DatasetFacts, FactsBuilder, MonthFilter, PartnerFacts, RevenueRow, UsageRow,
};
use pcs_core::rulebook::Rulebook;
use pcs_core::score::{PartnerScore, Period, score_partner};
use serde::{Deserialize, Serialize};

/// A hypothetical revenue record.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RevenueAdd {
    /// Tenant id (generated when absent).
    pub customer_tenant_id: Option<String>,
    /// Customer name.
    pub customer_name: Option<String>,
    /// Performance workload.
    pub workload: String,
    /// Month (default: the latest month).
    pub month: Option<String>,
    /// USD (negative for a credit).
    #[serde(deserialize_with = "pcs_core::num::deserialize")]
    pub revenue_usd: Decimal,
    /// Association type.
    pub association: String,
}

/// A hypothetical usage record.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UsageAdd {
    /// Tenant id (generated when absent).
    pub customer_tenant_id: Option<String>,
    /// Customer name.
    pub customer_name: Option<String>,
    /// Usage workload or product.
    pub workload: String,
    /// Month (default: the latest month).
    pub month: Option<String>,
    /// MAU or profiles (not negative).
    #[serde(deserialize_with = "pcs_core::num::deserialize")]
    pub quantity: Decimal,
    /// Association type.
    pub association: String,
}

/// A hypothetical certification.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CertificationAdd {
    /// Person id (generated when absent).
    pub person_id: Option<String>,
    /// Person name.
    pub person_name: Option<String>,
    /// Certification (id or name).
    pub certification: String,
    /// Earned on (default: the evaluation date).
    pub earned_on: Option<String>,
    /// Expires on.
    pub expires_on: Option<String>,
}

/// Records to remove before adding.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Removals {
    /// Customer tenant ids whose revenue and usage are dropped.
    #[serde(default)]
    pub customers: Vec<String>,
    /// Person ids whose certifications are dropped.
    #[serde(default)]
    pub people: Vec<String>,
}

/// A what-if scenario.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Scenario {
    /// A title for reports.
    pub title: Option<String>,
    /// Revenue to add.
    #[serde(default)]
    pub revenue: Vec<RevenueAdd>,
    /// Usage to add.
    #[serde(default)]
    pub usage: Vec<UsageAdd>,
    /// Certifications to add.
    #[serde(default)]
    pub certification: Vec<CertificationAdd>,
    /// Records to remove.
    #[serde(default)]
    pub remove: Removals,
}

/// Why a scenario cannot be applied.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("scenario: {0}")]
pub struct ScenarioError(String);

impl Scenario {
    /// Parses TOML.
    pub fn from_toml(text: &str) -> Result<Scenario, ScenarioError> {
        toml::from_str(text).map_err(|e| ScenarioError(e.to_string().trim_end().to_string()))
    }

    /// Parses JSON.
    pub fn from_json(text: &str) -> Result<Scenario, ScenarioError> {
        serde_json::from_str(text).map_err(|e| ScenarioError(e.to_string()))
    }

    /// Writes the scenario as TOML.
    pub fn to_toml(&self) -> String {
        toml::to_string(self).expect("a scenario serializes")
    }

    /// Whether the scenario changes nothing.
    pub fn is_empty(&self) -> bool {
        self.revenue.is_empty()
            && self.usage.is_empty()
            && self.certification.is_empty()
            && self.remove.customers.is_empty()
            && self.remove.people.is_empty()
    }

    /// Applies the scenario to a partner's facts. Every name must be known to
    /// the rulebook (a what-if with an unknown workload is a typo, not data).
    pub fn apply(
        &self,
        rb: &Rulebook,
        partner_id: &str,
        facts: &PartnerFacts,
        period: Period,
    ) -> Result<PartnerFacts, ScenarioError> {
        let err = |what: String| ScenarioError(what);
        let mut base = facts.clone();
        for c in &self.remove.customers {
            if !base.remove_tenant(c) {
                return Err(err(format!("remove: customer '{c}' is not in the data")));
            }
        }
        for p in &self.remove.people {
            if !base.remove_person(p) {
                return Err(err(format!("remove: person '{p}' is not in the data")));
            }
        }
        let mut ds = DatasetFacts::default();
        ds.partners.insert(partner_id.to_string(), base);
        let mut b = FactsBuilder::from_facts(rb, MonthFilter::All, true, ds);
        let month = |m: &Option<String>, what: &str| -> Result<Month, ScenarioError> {
            match m {
                None => Ok(period.latest_month),
                Some(t) => Month::parse_strict(t).map_err(|e| err(format!("{what}: {e}"))),
            }
        };
        let ids: Vec<String> = (1..=self.revenue.len() + self.usage.len())
            .map(|i| format!("whatif-customer-{i}"))
            .collect();
        for (i, r) in self.revenue.iter().enumerate() {
            let what = format!("revenue #{}", i + 1);
            if rb.revenue_workload(&r.workload).is_none() {
                return Err(err(format!(
                    "{what}: '{}' is not a performance workload",
                    r.workload
                )));
            }
            if rb.association(&r.association).is_none() {
                return Err(err(format!(
                    "{what}: association type '{}' is unknown",
                    r.association
                )));
            }
            b.add_revenue(&RevenueRow {
                partner_id,
                customer_tenant_id: r.customer_tenant_id.as_deref().unwrap_or(&ids[i]),
                customer_name: r.customer_name.as_deref(),
                subscription_id: None,
                workload: &r.workload,
                month: month(&r.month, &what)?,
                revenue_usd: r.revenue_usd,
                association: &r.association,
                line: 0,
            });
        }
        for (i, u) in self.usage.iter().enumerate() {
            let what = format!("usage #{}", i + 1);
            if rb.usage_workload(&u.workload).is_none() {
                return Err(err(format!(
                    "{what}: '{}' is not a usage workload",
                    u.workload
                )));
            }
            if rb.association(&u.association).is_none() {
                return Err(err(format!(
                    "{what}: association type '{}' is unknown",
                    u.association
                )));
            }
            if u.quantity.is_sign_negative() && !u.quantity.is_zero() {
                return Err(err(format!("{what}: quantity may not be negative")));
            }
            b.add_usage(&UsageRow {
                partner_id,
                customer_tenant_id: u
                    .customer_tenant_id
                    .as_deref()
                    .unwrap_or(&ids[self.revenue.len() + i]),
                customer_name: u.customer_name.as_deref(),
                workload: &u.workload,
                month: month(&u.month, &what)?,
                quantity: u.quantity,
                association: &u.association,
                line: 0,
            });
        }
        for (i, c) in self.certification.iter().enumerate() {
            let what = format!("certification #{}", i + 1);
            if rb.certification(&c.certification).is_none() {
                return Err(err(format!(
                    "{what}: '{}' is not a known certification",
                    c.certification
                )));
            }
            let date = |t: &str| parse_date(t).map_err(|e| err(format!("{what}: {e}")));
            let earned_on = match &c.earned_on {
                Some(t) => date(t)?,
                None => period.evaluation_date,
            };
            let expires_on = c.expires_on.as_deref().map(date).transpose()?;
            let person = c
                .person_id
                .clone()
                .unwrap_or_else(|| format!("whatif-person-{}", i + 1));
            b.add_certification(&CertificationRow {
                partner_id,
                person_id: &person,
                person_name: c.person_name.as_deref(),
                certification: &c.certification,
                earned_on,
                expires_on,
                line: 0,
            });
        }
        let mut out = b.finish();
        Ok(out
            .partners
            .remove(partner_id)
            .expect("the partner was inserted"))
    }
}

/// Current against simulated, metric by metric.
#[derive(Clone, Debug, Serialize)]
pub struct Comparison {
    /// The scenario's title.
    pub title: Option<String>,
    /// The score as the data stands.
    pub current: PartnerScore,
    /// The score with the scenario applied.
    pub simulated: PartnerScore,
}

impl Comparison {
    /// Points difference per metric id, in rulebook order.
    pub fn differences(&self) -> Vec<(String, Decimal)> {
        self.current
            .metrics
            .iter()
            .zip(&self.simulated.metrics)
            .map(|(c, s)| (c.id.clone(), s.points - c.points))
            .collect()
    }
}

/// Scores a partner with and without a scenario.
pub fn simulate(
    rb: &Rulebook,
    partner_id: &str,
    facts: &PartnerFacts,
    period: Period,
    scenario: &Scenario,
) -> Result<Comparison, ScenarioError> {
    let current = score_partner(rb, partner_id, facts, period);
    let changed = scenario.apply(rb, partner_id, facts, period)?;
    let simulated = score_partner(rb, partner_id, &changed, period);
    Ok(Comparison {
        title: scenario.title.clone(),
        current,
        simulated,
    })
}
