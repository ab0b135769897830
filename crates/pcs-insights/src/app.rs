//! The application layer: rulebooks + "when" + solution area + a partner's
//! facts in, every report out as typed data. The CLI (flags in; table, JSON,
//! CSV out) and the server (HTTP in; HTML, JSON, CSV out) are thin adapters
//! over it: neither resolves a month, picks a rulebook, names an area,
//! checks a metric name or defines a CSV column by itself.
//!
//! "Today" is an argument ([`When::Today`] carries the date): this crate
//! reads no clock.
//!
//! ```
//! use pcs_core::rulebook::RulebookSet;
//! use pcs_insights::app::{When, resolve, area};
//! let set = RulebookSet::builtin();
//! let when = When::parse(Some("2023-11"), None, "2026-01-01".parse().unwrap()).unwrap();
//! let (rb, period) = resolve(&set, when).unwrap();
//! assert_eq!(period.latest_month.to_string(), "2023-10");
//! assert_eq!(rb.solution_area, "business_applications");
//! assert_eq!(area("Modern Work").unwrap(), "modern_work");
//! ```

use std::borrow::Cow;

use pcs_core::area::{AreaEngine, AreaRulebook, AreaScore, score_area};
use pcs_core::calendar::Month;
use pcs_core::facts::PartnerFacts;
use pcs_core::jiff::civil::Date;
use pcs_core::rulebook::{AREAS, Rulebook, RulebookSet};
use pcs_core::score::{PartnerScore, Period, score_partner};
use pcs_core::vocab::Vocabulary;

use crate::scenario::AreaSet;

/// The Business Applications area id (scored by its own engine).
pub const BUSINESS_APPLICATIONS: &str = "business_applications";

/// What went wrong, and whether it is the caller's input (CLI exit 2, HTTP
/// 400) or something asked for that does not exist (CLI exit 1, HTTP 404).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum AppError {
    /// A malformed or contradictory request.
    #[error("{0}")]
    Invalid(String),
    /// A metric, rulebook or partner that is not there.
    #[error("{0}")]
    NotFound(String),
}

/// When a report is for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum When {
    /// Month M, evaluated on its last day.
    Month(Month),
    /// As the dashboard shows it on this day: M is this month from the
    /// data refresh day on, else the month before; skilling on this date.
    Date(Date),
    /// As the dashboard shows it today (the date is passed in: the caller
    /// owns the clock).
    Today(Date),
}

impl When {
    /// From typed flags: a month, a date, or (neither) today.
    pub fn of(month: Option<Month>, date: Option<Date>, today: Date) -> When {
        match (month, date) {
            (Some(m), _) => When::Month(m),
            (None, Some(d)) => When::Date(d),
            (None, None) => When::Today(today),
        }
    }

    /// From text (query values): at most one of `month` (`YYYY-MM`) and
    /// `date` (`YYYY-MM-DD`); today when neither.
    pub fn parse(month: Option<&str>, date: Option<&str>, today: Date) -> Result<When, AppError> {
        match (month, date) {
            (Some(_), Some(_)) => Err(AppError::Invalid("give month or date, not both".into())),
            (Some(m), None) => Month::parse_strict(m)
                .map(When::Month)
                .map_err(|e| AppError::Invalid(format!("month: {e}"))),
            (None, Some(d)) => pcs_core::calendar::parse_date(d)
                .map(When::Date)
                .map_err(|e| AppError::Invalid(format!("date: {e}"))),
            (None, None) => Ok(When::Today(today)),
        }
    }

    /// The date whose rulebooks apply: a month's last day, or the date.
    pub fn evaluation_date(self) -> Date {
        match self {
            When::Month(m) => m.last_day(),
            When::Date(d) | When::Today(d) => d,
        }
    }

    /// The period under `rb`'s calendar.
    pub fn period(self, rb: &Rulebook) -> Period {
        match self {
            When::Month(m) => Period::for_month(rb, m),
            When::Date(d) | When::Today(d) => Period::for_date(rb, d),
        }
    }
}

/// The Business Applications rulebook in force on `when`'s evaluation date
/// and the period (the one resolver of "when").
pub fn resolve(set: &RulebookSet, when: When) -> Result<(&Rulebook, Period), AppError> {
    let rb = set
        .in_force(BUSINESS_APPLICATIONS, when.evaluation_date())
        .map_err(|e| AppError::NotFound(e.to_string()))?;
    Ok((rb, when.period(rb)))
}

/// A solution area's id from a name as a person types it (`Modern Work`,
/// `modern-work`, `modern_work`).
pub fn area(name: &str) -> Result<&'static str, AppError> {
    let key = pcs_core::name::normalize(name).replace(' ', "_");
    AREAS.iter().copied().find(|a| *a == key).ok_or_else(|| {
        AppError::Invalid(format!(
            "{name}: not a solution area (one of {}, or all)",
            AREAS.join(", ")
        ))
    })
}

/// The areas named (each as [`area`] reads it, or `all`), in the
/// contract's order; `default` when none is named.
pub fn areas(given: &[String], default: &[&'static str]) -> Result<Vec<&'static str>, AppError> {
    if given.is_empty() {
        return Ok(default.to_vec());
    }
    let mut want = Vec::new();
    let mut all = false;
    for g in given {
        if pcs_core::name::normalize(g) == "all" {
            all = true;
        } else {
            want.push(area(g)?);
        }
    }
    Ok(AREAS
        .iter()
        .copied()
        .filter(|a| all || want.contains(a))
        .collect())
}

/// "Solutions Partner for Business Applications (June 2023)" → "Business Applications".
pub fn short_title(title: &str) -> &str {
    let t = title
        .strip_prefix("Solutions Partner for ")
        .unwrap_or(title);
    t.split(" (").next().unwrap_or(t)
}

/// Checks an optional metric name against the metrics a report knows
/// (404 / exit 1 with the known names when it is not one).
pub fn check_metric<'a>(
    known: impl IntoIterator<Item = &'a str>,
    metric: Option<&str>,
) -> Result<(), AppError> {
    let Some(m) = metric else { return Ok(()) };
    let known: Vec<&str> = known.into_iter().collect();
    if known.contains(&m) {
        return Ok(());
    }
    Err(AppError::NotFound(format!(
        "unknown metric '{m}' (known: {})",
        known.join(", ")
    )))
}

/// CSV as data: the header and the records, defined once per report and
/// written by whichever adapter serves it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CsvTable {
    /// Column names.
    pub header: Vec<&'static str>,
    /// Records, each as long as the header.
    pub rows: Vec<Vec<String>>,
}

/// A report that has a CSV form.
pub trait ToCsv {
    /// The report as CSV records.
    fn to_csv(&self) -> CsvTable;
}

/// A decimal as CSV and table text (no trailing zeros).
pub fn dec(x: pcs_core::Decimal) -> String {
    x.normalize().to_string()
}

pub(crate) fn opt<T: ToString>(x: &Option<T>) -> String {
    x.as_ref().map(ToString::to_string).unwrap_or_default()
}

/// Everything a run needs to score any area: the rulebook set, the
/// Business Applications rulebook the facts are read under (it resolves
/// certification names), and the merged vocabulary of every area version
/// (so that a history crossing a version change reads one set of facts).
pub struct Areas<'s> {
    /// The rulebooks.
    pub set: &'s RulebookSet,
    /// The Business Applications rulebook of the facts.
    pub ba: &'s Rulebook,
    /// The names of every rulebook of the set.
    pub vocab: Cow<'s, Vocabulary>,
}

/// The vocabulary the facts of every area are read with under `ba`: the
/// names of `ba` and of every area version of the set (so that a history
/// crossing a version change reads one set of facts).
pub fn vocabulary(set: &RulebookSet, ba: &Rulebook) -> Result<Vocabulary, AppError> {
    let all: Vec<&AreaRulebook> = set.area_versions().iter().collect();
    Vocabulary::new(&[ba], &all).map_err(|e| AppError::Invalid(e.to_string()))
}

impl<'s> Areas<'s> {
    /// Binds the set to the Business Applications rulebook the facts are
    /// read under, with the [`vocabulary`] of the set.
    pub fn new(set: &'s RulebookSet, ba: &'s Rulebook) -> Result<Areas<'s>, AppError> {
        Ok(Areas {
            set,
            ba,
            vocab: Cow::Owned(vocabulary(set, ba)?),
        })
    }

    /// As [`Areas::new`], with the vocabulary the facts were read with
    /// (kept by whoever read them).
    pub fn with_vocabulary(
        set: &'s RulebookSet,
        ba: &'s Rulebook,
        vocab: &'s Vocabulary,
    ) -> Areas<'s> {
        Areas {
            set,
            ba,
            vocab: Cow::Borrowed(vocab),
        }
    }

    /// The area rulebook of `area` in force on `date`.
    pub fn rulebook(&self, area: &str, date: Date) -> Result<&'s AreaRulebook, AppError> {
        self.set
            .area_in_force(area, date)
            .map_err(|e| AppError::NotFound(e.to_string()))
    }

    /// The engine of `rb` over this run's vocabulary.
    pub fn engine<'a>(&'a self, rb: &'a AreaRulebook) -> AreaEngine<'a> {
        AreaEngine::new(rb, &self.vocab, self.ba)
    }

    /// The months of acr and licenses data that scoring `area` in each of
    /// `months` (evaluated on their last days) reads.
    pub fn data_months(&self, area: &str, months: &[Month]) -> Vec<Month> {
        let mut out: Vec<Month> = months
            .iter()
            .filter_map(|m| self.rulebook(area, m.last_day()).ok().map(|rb| (rb, *m)))
            .flat_map(|(rb, m)| rb.data_months(m))
            .collect();
        out.sort_unstable();
        out.dedup();
        out
    }

    /// One partner's score in any area (Business Applications included),
    /// for month `m` evaluated on `date`.
    pub fn score(
        &self,
        area: &str,
        partner: &str,
        facts: &PartnerFacts,
        m: Month,
        date: Date,
    ) -> Result<AnyScore, AppError> {
        if area == BUSINESS_APPLICATIONS {
            let rb = self
                .set
                .in_force(BUSINESS_APPLICATIONS, date)
                .map_err(|e| AppError::NotFound(e.to_string()))?;
            let period = Period::with_calendar(&rb.calendar, m, date);
            return Ok(AnyScore::Ba(Box::new(score_partner(
                rb, partner, facts, period,
            ))));
        }
        let rb = self.rulebook(area, date)?;
        let period = Period::with_calendar(&rb.calendar, m, date);
        Ok(AnyScore::Area(Box::new(score_area(
            &self.engine(rb),
            partner,
            facts,
            period,
        ))))
    }

    /// Every area rulebook in force on `date` (a joint plan's actions and
    /// recommendations across areas come from all of them).
    pub fn in_force(&self, date: Date) -> Vec<&'s AreaRulebook> {
        self.set.areas_in_force(date)
    }

    /// The [`AreaSet`] of `wanted` (area ids, Business Applications among
    /// them or not) for Business Applications' `period`: what `simulate`,
    /// `recommend` and `plan` over several areas work in. 404 when an
    /// area has no rulebook in force on the evaluation date.
    pub fn area_set(&self, wanted: &[&str], period: Period) -> Result<AreaSet<'_>, AppError> {
        let d = period.evaluation_date;
        let mut engines = Vec::new();
        for a in wanted.iter().filter(|a| **a != BUSINESS_APPLICATIONS) {
            let rb = self.rulebook(a, d)?;
            engines.push((
                self.engine(rb),
                Period::with_calendar(&rb.calendar, period.month, d),
            ));
        }
        Ok(AreaSet {
            ba: self.ba,
            vocabulary: &self.vocab,
            ba_period: wanted.contains(&BUSINESS_APPLICATIONS).then_some(period),
            engines,
            period,
        })
    }

    /// The title of an area ("Modern Work").
    pub fn title(&self, area: &str, date: Date) -> String {
        let t = if area == BUSINESS_APPLICATIONS {
            self.set
                .in_force(area, date)
                .ok()
                .and_then(|r| r.title.clone())
        } else {
            self.rulebook(area, date).ok().and_then(|r| r.title.clone())
        };
        t.as_deref().map(short_title).unwrap_or(area).to_string()
    }
}

/// A score from either engine.
#[derive(Clone, Debug)]
pub enum AnyScore {
    /// Business Applications.
    Ba(Box<PartnerScore>),
    /// Any other area.
    Area(Box<AreaScore>),
}

impl AnyScore {
    /// The total.
    pub fn total_points(&self) -> pcs_core::Decimal {
        match self {
            AnyScore::Ba(s) => s.total_points,
            AnyScore::Area(s) => s.total_points,
        }
    }

    /// Qualified.
    pub fn qualified(&self) -> bool {
        match self {
            AnyScore::Ba(s) => s.qualified,
            AnyScore::Area(s) => s.qualified,
        }
    }

    /// The minimum total to qualify.
    pub fn min_total_points(&self) -> pcs_core::Decimal {
        match self {
            AnyScore::Ba(s) => s.min_total_points,
            AnyScore::Area(s) => s.min_total_points,
        }
    }

    /// The qualification summary (total against the minimum, the metrics
    /// at zero, the weakest metric, the next step): the CLI's summary table
    /// and the dashboard's first page.
    pub fn summary(&self) -> pcs_core::summary::AreaSummary {
        match self {
            AnyScore::Ba(s) => pcs_core::summary::AreaSummary::of_ba(s),
            AnyScore::Area(s) => pcs_core::summary::AreaSummary::of_area(s),
        }
    }

    /// The reported metric furthest from its cap, by share of the cap
    /// (the first on a tie): label, points, cap.
    pub fn weakest(&self) -> Option<(String, pcs_core::Decimal, pcs_core::Decimal)> {
        self.summary()
            .weakest()
            .map(|m| (m.label.clone(), m.points, m.max_points))
    }

    /// The period.
    pub fn period(&self) -> Period {
        match self {
            AnyScore::Ba(s) => s.period,
            AnyScore::Area(s) => s.period,
        }
    }

    /// The classification or reported track (`None` for an area without tracks).
    pub fn classification(&self) -> Option<String> {
        match self {
            AnyScore::Ba(s) => Some(s.classification.as_str().to_string()),
            AnyScore::Area(s) => s.classification.clone(),
        }
    }

    /// (metric id, points) of the reported metrics.
    pub fn points(&self) -> Vec<(String, pcs_core::Decimal)> {
        match self {
            AnyScore::Ba(s) => s.metrics.iter().map(|m| (m.id.clone(), m.points)).collect(),
            AnyScore::Area(s) => s.metrics.iter().map(|m| (m.id.clone(), m.points)).collect(),
        }
    }

    /// The contract's score object.
    pub fn object(&self) -> serde_json::Value {
        match self {
            AnyScore::Ba(s) => pcs_core::contract::score_object(s),
            AnyScore::Area(s) => pcs_core::contract::area_object(s),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(s: &str) -> Date {
        pcs_core::calendar::parse_date(s).unwrap()
    }

    #[test]
    fn when_reads_month_date_or_today_and_never_both() {
        let today = day("2024-01-25");
        assert_eq!(When::parse(None, None, today).unwrap(), When::Today(today));
        assert!(matches!(
            When::parse(Some("2023-11"), Some("2023-11-01"), today),
            Err(AppError::Invalid(_))
        ));
        assert!(matches!(
            When::parse(Some("2023-1"), None, today),
            Err(AppError::Invalid(m)) if m.starts_with("month: ")
        ));
        let set = RulebookSet::builtin();
        // Before the 20th the dashboard still shows the month before.
        let (_, p) = resolve(&set, When::parse(None, Some("2024-01-19"), today).unwrap()).unwrap();
        assert_eq!(p.month.to_string(), "2023-12");
        let (_, p) = resolve(&set, When::Today(today)).unwrap();
        assert_eq!(p.month.to_string(), "2024-01");
        assert_eq!(p.evaluation_date, today);
        let (_, p) = resolve(&set, When::Month("2023-11".parse().unwrap())).unwrap();
        assert_eq!(p.evaluation_date, day("2023-11-30"));
    }

    #[test]
    fn area_names_as_people_type_them() {
        assert_eq!(area("Modern Work").unwrap(), "modern_work");
        assert_eq!(area("azure-data-ai").unwrap(), "azure_data_ai");
        assert!(matches!(area("azure"), Err(AppError::Invalid(_))));
        let all = areas(&["ALL".to_string()], &[]).unwrap();
        assert_eq!(all.len(), 6);
        // Every name is checked, `all` or not.
        assert!(areas(&["all".to_string(), "nope".to_string()], &[]).is_err());
        let two = areas(
            &["security".to_string(), "business applications".to_string()],
            &[],
        )
        .unwrap();
        assert_eq!(two, vec!["business_applications", "security"]);
        assert_eq!(
            areas(&[], &[BUSINESS_APPLICATIONS]).unwrap(),
            vec![BUSINESS_APPLICATIONS]
        );
    }

    #[test]
    fn an_unknown_metric_names_the_known_ones() {
        assert!(check_metric(["a", "b"], Some("a")).is_ok());
        assert!(check_metric(["a", "b"], None).is_ok());
        assert_eq!(
            check_metric(["a", "b"], Some("c")),
            Err(AppError::NotFound(
                "unknown metric 'c' (known: a, b)".into()
            ))
        );
    }

    #[test]
    fn every_area_version_shares_one_vocabulary() {
        let set = RulebookSet::builtin();
        let (ba, _) = resolve(&set, When::Month("2023-11".parse().unwrap())).unwrap();
        let a = Areas::new(&set, ba).unwrap();
        for area in AREAS.iter().filter(|a| **a != BUSINESS_APPLICATIONS) {
            assert!(a.rulebook(area, day("2023-11-30")).is_ok(), "{area}");
            assert!(
                !a.title(area, day("2023-11-30"))
                    .contains("Solutions Partner")
            );
        }
    }
}
