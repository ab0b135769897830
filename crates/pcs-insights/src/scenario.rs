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
//! [[acr]]                       # the other solution areas' tables
//! customer_tenant_id = "litware"
//! service = "Azure Cosmos DB"
//! acr_usd = 1000
//! association = "CSP Tier 1"
//!
//! [[licenses]]
//! customer_name = "Proseware"
//! workload = "Intune"
//! association = "CPOR"
//! paid_seats = 40
//! active_users = 40
//!
//! [remove]
//! customers = ["fabrikam"]
//! people = []
//! ```
//!
//! The `acr` and `licenses` records have the columns of those tables
//! (interface.md); they need the vocabulary of the area rulebooks
//! ([`Scenario::apply_areas`]). Omitted months are the period's latest
//! month; omitted tenant and person ids are generated (`whatif-customer-1`,
//! `whatif-person-1`); an omitted `earned_on` is the evaluation date.

use pcs_core::Decimal;
use pcs_core::area::{AreaEngine, AreaScore, score_area};
use pcs_core::calendar::{Month, parse_date};
use pcs_core::facts::{
    AcrRow, CertificationRow, DatasetFacts, FactsBuilder, LicenseRow, MonthFilter, PartnerFacts,
    RevenueRow, UsageRow,
};
use pcs_core::rulebook::Rulebook;
use pcs_core::score::{PartnerScore, Period, score_partner};
use pcs_core::vocab::Vocabulary;
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

/// A hypothetical acr record (Azure consumed revenue).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AcrAdd {
    /// Tenant id (generated when absent).
    pub customer_tenant_id: Option<String>,
    /// Customer name.
    pub customer_name: Option<String>,
    /// Subscription id.
    pub subscription_id: Option<String>,
    /// Azure Service Level 2 name (an open list).
    pub service: String,
    /// Month (default: the latest month).
    pub month: Option<String>,
    /// USD (negative for a credit).
    #[serde(deserialize_with = "pcs_core::num::deserialize")]
    pub acr_usd: Decimal,
    /// Association type.
    pub association: String,
    /// Offer (Support, Internal, Benefit Program, Trial count for nothing).
    pub offer: Option<String>,
}

/// A hypothetical licenses record (paid seats and active users).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LicenseAdd {
    /// Tenant id (generated when absent).
    pub customer_tenant_id: Option<String>,
    /// Customer name.
    pub customer_name: Option<String>,
    /// Microsoft 365 workload.
    pub workload: String,
    /// Month (default: the latest month).
    pub month: Option<String>,
    /// Association type.
    pub association: String,
    /// Paid seats.
    pub paid_seats: u64,
    /// Monthly active users.
    pub active_users: u64,
    /// When the association with the tenant began (`YYYY-MM-DD`).
    pub associated_on: Option<String>,
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
    /// ACR records to add (the Azure areas and Security).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub acr: Vec<AcrAdd>,
    /// Licenses records to add (Modern Work and Security).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub licenses: Vec<LicenseAdd>,
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
            && self.acr.is_empty()
            && self.licenses.is_empty()
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
        self.apply_with(rb, None, partner_id, facts, period)
    }

    /// Applies the scenario, `acr` and `licenses` records included, through
    /// a builder that reads those tables with `vocabulary` (the names of
    /// every area rulebook of the run, as the facts were read with).
    pub fn apply_areas(
        &self,
        rb: &Rulebook,
        vocabulary: &Vocabulary,
        partner_id: &str,
        facts: &PartnerFacts,
        period: Period,
    ) -> Result<PartnerFacts, ScenarioError> {
        self.apply_with(rb, Some(vocabulary), partner_id, facts, period)
    }

    fn apply_with(
        &self,
        rb: &Rulebook,
        vocabulary: Option<&Vocabulary>,
        partner_id: &str,
        facts: &PartnerFacts,
        period: Period,
    ) -> Result<PartnerFacts, ScenarioError> {
        let err = |what: String| ScenarioError(what);
        if vocabulary.is_none() && !(self.acr.is_empty() && self.licenses.is_empty()) {
            return Err(err(
                "acr and licenses records count in the other solution areas: \
                 simulate them with --area"
                    .to_string(),
            ));
        }
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
        if let Some(v) = vocabulary {
            b = b.with_areas(v, MonthFilter::All);
        }
        let month = |m: &Option<String>, what: &str| -> Result<Month, ScenarioError> {
            match m {
                None => Ok(period.latest_month),
                Some(t) => Month::parse_strict(t).map_err(|e| err(format!("{what}: {e}"))),
            }
        };
        let ids: Vec<String> =
            (1..=self.revenue.len() + self.usage.len() + self.acr.len() + self.licenses.len())
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
            let known = rb.certification(&c.certification).is_some()
                || vocabulary.is_some_and(|v| v.certification(&c.certification).is_some());
            if !known {
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
        if let Some(v) = vocabulary {
            let first = self.revenue.len() + self.usage.len();
            for (i, a) in self.acr.iter().enumerate() {
                let what = format!("acr #{}", i + 1);
                if a.service.trim().is_empty() {
                    return Err(err(format!("{what}: the service is empty")));
                }
                if v.association(&a.association).is_none() {
                    return Err(err(format!(
                        "{what}: association type '{}' is unknown",
                        a.association
                    )));
                }
                b.add_acr(&AcrRow {
                    partner_id,
                    customer_tenant_id: a.customer_tenant_id.as_deref().unwrap_or(&ids[first + i]),
                    customer_name: a.customer_name.as_deref(),
                    subscription_id: a.subscription_id.as_deref(),
                    service: &a.service,
                    month: month(&a.month, &what)?,
                    acr_usd: a.acr_usd,
                    association: &a.association,
                    offer: a.offer.as_deref(),
                    line: 0,
                });
            }
            let first = first + self.acr.len();
            for (i, l) in self.licenses.iter().enumerate() {
                let what = format!("licenses #{}", i + 1);
                if v.workload(&l.workload).is_none() {
                    return Err(err(format!(
                        "{what}: '{}' is not a Microsoft 365 workload",
                        l.workload
                    )));
                }
                if v.association(&l.association).is_none() {
                    return Err(err(format!(
                        "{what}: association type '{}' is unknown",
                        l.association
                    )));
                }
                let associated_on = l
                    .associated_on
                    .as_deref()
                    .map(|t| parse_date(t).map_err(|e| err(format!("{what}: {e}"))))
                    .transpose()?;
                b.add_license(&LicenseRow {
                    partner_id,
                    customer_tenant_id: l.customer_tenant_id.as_deref().unwrap_or(&ids[first + i]),
                    customer_name: l.customer_name.as_deref(),
                    workload: &l.workload,
                    month: month(&l.month, &what)?,
                    association: &l.association,
                    paid_seats: l.paid_seats,
                    active_users: l.active_users,
                    associated_on,
                    line: 0,
                });
            }
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
    /// The JSON of `pcs simulate --format json` and of the API's
    /// `POST .../simulate`: the title and two of the contract's score objects.
    pub fn object(&self) -> serde_json::Value {
        serde_json::json!({
            "title": self.title,
            "current": pcs_core::contract::score_object(&self.current),
            "simulated": pcs_core::contract::score_object(&self.simulated),
        })
    }

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

/// Current against simulated in one solution area scored by the shape engine.
#[derive(Clone, Debug, Serialize)]
pub struct AreaComparison {
    /// The score as the data stands.
    pub current: AreaScore,
    /// The score with the scenario applied.
    pub simulated: AreaScore,
}

impl AreaComparison {
    /// Points difference per reported metric id. Under `best_track` the two
    /// scores may report different tracks: metrics are matched by id.
    pub fn differences(&self) -> Vec<(String, Decimal)> {
        self.simulated
            .metrics
            .iter()
            .map(|s| {
                let before = self
                    .current
                    .metric(&s.id)
                    .map_or(Decimal::ZERO, |c| c.points);
                (s.id.clone(), s.points - before)
            })
            .collect()
    }
}

/// A scenario's effect in several solution areas: Business Applications
/// (when asked for) and every area engine of the set, from one application
/// of the scenario to the partner's facts.
#[derive(Clone, Debug, Serialize)]
pub struct AreasComparison {
    /// The scenario's title.
    pub title: Option<String>,
    /// Business Applications, when asked for.
    pub business_applications: Option<Comparison>,
    /// The other areas, in the order of the set.
    pub areas: Vec<AreaComparison>,
}

impl AreasComparison {
    /// The JSON of `pcs simulate --area … --format json` and of the API's
    /// `POST .../simulate?area=…`: the title, then per area (Business
    /// Applications first) its id and two of the contract's score objects.
    pub fn object(&self) -> serde_json::Value {
        use pcs_core::contract::{area_object, score_object};
        let mut areas = Vec::new();
        if let Some(b) = &self.business_applications {
            areas.push(serde_json::json!({
                "solution_area": b.current.solution_area,
                "current": score_object(&b.current),
                "simulated": score_object(&b.simulated),
            }));
        }
        for a in &self.areas {
            areas.push(serde_json::json!({
                "solution_area": a.current.solution_area,
                "current": area_object(&a.current),
                "simulated": area_object(&a.simulated),
            }));
        }
        serde_json::json!({ "title": self.title, "areas": areas })
    }
}

/// The solution areas a report works in: Business Applications (its
/// rulebook always resolves names; scored when `ba_period` is given) and
/// the area engines, each with its own period, all bound to the vocabulary
/// the facts were read with.
pub struct AreaSet<'a> {
    /// The Business Applications rulebook.
    pub ba: &'a Rulebook,
    /// The names of every area rulebook of the run.
    pub vocabulary: &'a Vocabulary,
    /// Business Applications' period, when it is one of the areas.
    pub ba_period: Option<Period>,
    /// The other areas, in the order asked for.
    pub engines: Vec<(AreaEngine<'a>, Period)>,
    /// The period a scenario's defaults come from (latest month,
    /// evaluation date).
    pub period: Period,
}

impl AreaSet<'_> {
    /// The ids of the areas, in order (Business Applications first).
    pub fn ids(&self) -> Vec<String> {
        let mut out = Vec::new();
        if self.ba_period.is_some() {
            out.push(self.ba.solution_area.clone());
        }
        out.extend(self.engines.iter().map(|(e, _)| e.rb.solution_area.clone()));
        out
    }

    /// Applies a scenario (every table's records) to a partner's facts.
    pub fn apply(
        &self,
        scenario: &Scenario,
        partner_id: &str,
        facts: &PartnerFacts,
    ) -> Result<PartnerFacts, ScenarioError> {
        scenario.apply_areas(self.ba, self.vocabulary, partner_id, facts, self.period)
    }

    /// Scores a partner with and without a scenario in every area of the set.
    pub fn simulate(
        &self,
        partner_id: &str,
        facts: &PartnerFacts,
        scenario: &Scenario,
    ) -> Result<AreasComparison, ScenarioError> {
        let changed = self.apply(scenario, partner_id, facts)?;
        let business_applications = self.ba_period.map(|p| Comparison {
            title: scenario.title.clone(),
            current: score_partner(self.ba, partner_id, facts, p),
            simulated: score_partner(self.ba, partner_id, &changed, p),
        });
        let areas = self
            .engines
            .iter()
            .map(|(e, p)| AreaComparison {
                current: score_area(e, partner_id, facts, *p),
                simulated: score_area(e, partner_id, &changed, *p),
            })
            .collect();
        Ok(AreasComparison {
            title: scenario.title.clone(),
            business_applications,
            areas,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use pcs_core::area::AreaRulebook;
    use pcs_core::rulebook::RulebookSet;

    fn world() -> (RulebookSet, Period) {
        let set = RulebookSet::builtin();
        let period = Period::for_month(&set.versions()[0], "2023-11".parse().unwrap());
        (set, period)
    }

    #[test]
    fn acr_and_licenses_records_go_through_the_builder() {
        let (set, period) = world();
        let ba = &set.versions()[0];
        let areas: Vec<&AreaRulebook> = set.area_versions().iter().collect();
        let vocab = Vocabulary::new(&[ba], &areas).unwrap();
        let s = Scenario::from_toml(
            "[[acr]]\nservice = \"Azure Cosmos DB\"\nacr_usd = 1000\nassociation = \"CSP T1\"\n\
             [[acr]]\ncustomer_tenant_id = \"t\"\nservice = \"Functions\"\nacr_usd = 5\nassociation = \"PAL\"\noffer = \"Trial\"\nmonth = \"2023-09\"\n\
             [[licenses]]\ncustomer_tenant_id = \"t\"\nworkload = \"intune\"\nassociation = \"CPOR\"\npaid_seats = 40\nactive_users = 30\nassociated_on = \"2022-01-05\"\n\
             [[certification]]\ncertification = \"azure-security-engineer\"\n",
        )
        .unwrap();
        let f = s
            .apply_areas(ba, &vocab, "P", &PartnerFacts::default(), period)
            .unwrap();
        assert_eq!(f.acr.len(), 2);
        let total: Decimal = f.acr.values().map(|a| a.amount).sum();
        assert_eq!(total, Decimal::from(1005));
        // The generated tenant and the named one; the default month is the latest.
        assert!(f.tenant_index("whatif-customer-1").is_some());
        assert!(f.acr.keys().any(|k| k.2 == period.latest_month));
        assert!(f.acr.keys().any(|k| k.2 == "2023-09".parse().unwrap()));
        let (_, lic) = f.licenses.iter().next().unwrap();
        assert_eq!((lic.paid_seats, lic.active_users), (40, 30));
        let start = f.license_starts.values().next().unwrap();
        assert_eq!(start.associated_on, Some(parse_date("2022-01-05").unwrap()));
        // A certification only an area knows is accepted with the vocabulary.
        assert_eq!(f.certifications.len(), 1);
        // Without it, area records and area certifications are refused.
        let e = s
            .apply(ba, "P", &PartnerFacts::default(), period)
            .unwrap_err();
        assert!(e.to_string().contains("--area"), "{e}");
    }

    #[test]
    fn bad_area_records_are_refused_with_their_place() {
        let (set, period) = world();
        let ba = &set.versions()[0];
        let areas: Vec<&AreaRulebook> = set.area_versions().iter().collect();
        let vocab = Vocabulary::new(&[ba], &areas).unwrap();
        let cases = [
            (
                "[[acr]]\nservice = \"X\"\nacr_usd = 1\nassociation = \"Nobody\"\n",
                "acr #1: association type 'Nobody' is unknown",
            ),
            (
                "[[acr]]\nservice = \" \"\nacr_usd = 1\nassociation = \"PAL\"\n",
                "acr #1: the service is empty",
            ),
            (
                "[[licenses]]\nworkload = \"Intunes\"\nassociation = \"CPOR\"\npaid_seats = 1\nactive_users = 1\n",
                "licenses #1: 'Intunes' is not a Microsoft 365 workload",
            ),
            (
                "[[licenses]]\nworkload = \"Intune\"\nassociation = \"CPOR\"\npaid_seats = 1\nactive_users = 1\nassociated_on = \"2023-02-30\"\n",
                "licenses #1:",
            ),
            (
                "[[acr]]\nservice = \"X\"\nacr_usd = 1\nassociation = \"PAL\"\nmonth = \"2023-13\"\n",
                "acr #1:",
            ),
        ];
        for (text, want) in cases {
            let s = Scenario::from_toml(text).unwrap();
            let e = s
                .apply_areas(ba, &vocab, "P", &PartnerFacts::default(), period)
                .unwrap_err();
            assert!(e.to_string().contains(want), "{text}: {e}");
        }
        // Negative seats are not a number of seats.
        assert!(
            Scenario::from_toml(
                "[[licenses]]\nworkload = \"Intune\"\nassociation = \"CPOR\"\npaid_seats = -1\nactive_users = 1\n"
            )
            .is_err()
        );
    }
}
