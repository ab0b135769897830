//! `pcs skilling`: each person, their certifications, which count for which
//! metric, and which stop counting soon with the points that would cost.

use std::collections::BTreeMap;

use pcs_core::Decimal;
use pcs_core::facts::PartnerFacts;
use pcs_core::jiff::civil::Date;
use pcs_core::rulebook::{Certification, Rulebook};
use pcs_core::score::{CertItem, MetricDetail, PartnerScore, Period, Reason, score_partner};
use serde::Serialize;

/// Why a certification stops counting.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum StopReason {
    /// It expires.
    Expires,
    /// Its eligibility window ends (a retired certification).
    EligibilityEnds,
}

/// When a certification row that is held and eligible today stops counting.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Stop {
    /// The last day it counts: the earlier of its expiry and the end of its
    /// eligibility window.
    pub last_day: Date,
    /// The first day it no longer counts.
    pub on: Date,
    /// Which of the two ends it.
    pub reason: StopReason,
}

/// When `item` stops counting: `None` when it does not count today (and is
/// not a second certification of a counted person, which may take over), or
/// when neither an expiry nor an eligibility window ends it. The one
/// definition used by the skilling report and the recommendations.
pub fn stop(item: &CertItem, cert: Option<&Certification>) -> Option<Stop> {
    if !(item.counted || item.reason == Some(Reason::PersonAlreadyCounted)) {
        return None;
    }
    let ends = [
        item.expires_on.map(|e| (e, StopReason::Expires)),
        cert.and_then(|c| c.eligible_until)
            .map(|u| (u, StopReason::EligibilityEnds)),
    ];
    let (last_day, reason) = ends.into_iter().flatten().min()?;
    let on = last_day.tomorrow().ok()?;
    Some(Stop {
        last_day,
        on,
        reason,
    })
}

/// One certification row of a person.
#[derive(Clone, Debug, Serialize)]
pub struct CertLine {
    /// Certification id (or the name as written when unknown).
    pub certification: String,
    /// Full name when known.
    pub name: Option<String>,
    /// The skilling metric it belongs to (none when unknown).
    pub metric: Option<String>,
    /// Earned on.
    pub earned_on: Date,
    /// Expires on.
    pub expires_on: Option<Date>,
    /// Whether this row makes the person count.
    pub counted: bool,
    /// Why not.
    pub reason: Option<Reason>,
    /// The first day it no longer counts, when that is known.
    pub stops_counting_on: Option<Date>,
}

/// A person and what they bring.
#[derive(Clone, Debug, Serialize)]
pub struct Person {
    /// Person id.
    pub person_id: String,
    /// Name.
    pub person_name: Option<String>,
    /// The metrics the person counts for.
    pub counts_for: Vec<String>,
    /// Their certification rows.
    pub certifications: Vec<CertLine>,
}

/// Points lost on a day when certifications stop counting.
#[derive(Clone, Debug, Serialize)]
pub struct Risk {
    /// The first day without them.
    pub date: Date,
    /// People who stop counting that day, per metric.
    pub people: Vec<(String, String)>,
    /// Skilling points lost that day (positive number).
    pub points_lost: Decimal,
}

/// The skilling report.
#[derive(Clone, Debug, Serialize)]
pub struct SkillingReport {
    /// The partner.
    pub partner_id: String,
    /// The evaluation date.
    pub evaluation_date: Date,
    /// The classification used (it sets points per person).
    pub classification: String,
    /// (metric id, people, points, max) per skilling metric.
    pub metrics: Vec<(String, Decimal, Decimal, Decimal)>,
    /// People, by id.
    pub people: Vec<Person>,
    /// Upcoming losses up to the horizon, by date.
    pub risks: Vec<Risk>,
}

impl crate::app::ToCsv for SkillingReport {
    /// One record per person and certification row (`pcs skilling --format csv`).
    fn to_csv(&self) -> crate::app::CsvTable {
        use crate::app::opt;
        let header = vec![
            "person_id",
            "person_name",
            "certification",
            "name",
            "metric",
            "earned_on",
            "expires_on",
            "counted",
            "reason",
            "stops_counting_on",
        ];
        let mut rows = Vec::new();
        for p in &self.people {
            for c in &p.certifications {
                rows.push(vec![
                    p.person_id.clone(),
                    opt(&p.person_name),
                    c.certification.clone(),
                    opt(&c.name),
                    opt(&c.metric),
                    c.earned_on.to_string(),
                    opt(&c.expires_on),
                    c.counted.to_string(),
                    c.reason.as_ref().map(|r| r.describe()).unwrap_or_default(),
                    opt(&c.stops_counting_on),
                ]);
            }
        }
        crate::app::CsvTable { header, rows }
    }
}

fn skilling_points(s: &PartnerScore) -> Decimal {
    s.metrics
        .iter()
        .filter(|m| matches!(m.detail, MetricDetail::CertifiedPeople { .. }))
        .map(|m| m.points)
        .sum()
}

fn counted_people(s: &PartnerScore) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for m in &s.metrics {
        if let MetricDetail::CertifiedPeople { items, .. } = &m.detail {
            out.extend(
                items
                    .iter()
                    .filter(|i| i.counted)
                    .map(|i| (m.id.clone(), i.person_id.clone())),
            );
        }
    }
    out
}

/// Builds the report at the period's evaluation date, with risks up to `horizon`.
pub fn skilling(
    rb: &Rulebook,
    partner_id: &str,
    facts: &PartnerFacts,
    period: Period,
    horizon: Date,
) -> SkillingReport {
    let score = score_partner(rb, partner_id, facts, period);
    let mut people: BTreeMap<String, Person> = BTreeMap::new();
    let mut stop_dates: Vec<Date> = Vec::new();
    for m in &score.metrics {
        let MetricDetail::CertifiedPeople { items, .. } = &m.detail else {
            continue;
        };
        for i in items {
            let cert = rb
                .certification(&i.certification)
                .map(|c| &rb.certifications[c as usize]);
            // Unknown certifications appear under every skilling metric: list them once.
            let person = people.entry(i.person_id.clone()).or_insert_with(|| Person {
                person_id: i.person_id.clone(),
                person_name: i.person_name.clone(),
                counts_for: Vec::new(),
                certifications: Vec::new(),
            });
            if cert.is_none()
                && person
                    .certifications
                    .iter()
                    .any(|c| c.certification == i.certification && c.earned_on == i.earned_on)
            {
                continue;
            }
            let stops = stop(i, cert).map(|s| s.on);
            if let Some(d) = stops
                && d <= horizon
                && i.counted
            {
                stop_dates.push(d);
            }
            if i.counted {
                person.counts_for.push(m.id.clone());
            }
            person.certifications.push(CertLine {
                certification: i.certification.clone(),
                name: i.certification_name.clone(),
                metric: cert.map(|_| m.id.clone()),
                earned_on: i.earned_on,
                expires_on: i.expires_on,
                counted: i.counted,
                reason: i.reason.clone(),
                stops_counting_on: stops,
            });
        }
    }
    stop_dates.sort_unstable();
    stop_dates.dedup();
    let now_points = skilling_points(&score);
    let now_people = counted_people(&score);
    let mut risks = Vec::new();
    let mut previous = now_points;
    let mut previous_people = now_people;
    for d in stop_dates {
        let later = score_partner(
            rb,
            partner_id,
            facts,
            Period {
                evaluation_date: d,
                ..period
            },
        );
        let points = skilling_points(&later);
        let people_then = counted_people(&later);
        let gone: Vec<(String, String)> = previous_people
            .iter()
            .filter(|p| !people_then.contains(p))
            .cloned()
            .collect();
        if points < previous || !gone.is_empty() {
            risks.push(Risk {
                date: d,
                people: gone,
                points_lost: (previous - points).max(Decimal::ZERO),
            });
        }
        previous = points;
        previous_people = people_then;
    }
    SkillingReport {
        partner_id: partner_id.to_string(),
        evaluation_date: period.evaluation_date,
        classification: score.classification.as_str().to_string(),
        metrics: score
            .metrics
            .iter()
            .filter(|m| matches!(m.detail, MetricDetail::CertifiedPeople { .. }))
            .map(|m| {
                (
                    m.id.clone(),
                    m.value.unwrap_or_default(),
                    m.points,
                    m.max_points,
                )
            })
            .collect(),
        people: people.into_values().collect(),
        risks,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::Case;
    use pcs_core::calendar::parse_date;

    #[test]
    fn expiring_certifications_are_risks_with_their_cost() {
        let c = Case::new()
            .cert(
                "ana",
                "data-analyst-associate",
                "2023-01-01",
                Some("2023-12-15"),
            )
            .cert("bo", "data-analyst-associate", "2023-01-01", None)
            .cert("bo", "power-platform-app-maker", "2022-01-01", None)
            .cert("cy", "power-platform-app-maker", "2022-01-01", None);
        let period = c.period("2023-11");
        let r = skilling(
            &c.rb,
            "P",
            &c.facts(),
            period,
            parse_date("2024-01-31").unwrap(),
        );
        assert_eq!(r.metrics[0].1, Decimal::from(3));
        // App Maker stops counting on 2023-12-01: cy is lost (bo still counts
        // with Data Analyst); ana's expires on 2023-12-16.
        let dates: Vec<String> = r.risks.iter().map(|x| x.date.to_string()).collect();
        assert_eq!(dates, vec!["2023-12-01", "2023-12-16"]);
        assert_eq!(r.risks[0].points_lost, Decimal::from(4));
        assert_eq!(
            r.risks[0].people,
            vec![("intermediate_certifications".to_string(), "cy".to_string())]
        );
        assert_eq!(r.risks[1].points_lost, Decimal::from(4));
        let bo = r.people.iter().find(|p| p.person_id == "bo").unwrap();
        assert_eq!(bo.counts_for, vec!["intermediate_certifications"]);
        assert_eq!(bo.certifications.len(), 2);
    }
}
