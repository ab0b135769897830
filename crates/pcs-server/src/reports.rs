//! One function per report, shared by the JSON API and the HTML pages so
//! the two always agree. Each reads the partner's facts from one snapshot
//! and asks pcs-core / pcs-insights; nothing here implements a rule.
//!
//! ```ignore
//! let r = Reports::open(&state, &access, "1000001", When::Month("2023-11".parse()?))?;
//! let score = r.score();                       // pcs_core::score::PartnerScore
//! let json = pcs_core::contract::score_object(&score);
//! ```

use std::sync::Arc;

use pcs_core::facts::PartnerFacts;
use pcs_core::jiff::ToSpan;
use pcs_core::jiff::civil::Date;
use pcs_core::rulebook::Rulebook;
use pcs_core::score::{Detail, PartnerScore, Period, score_partner, score_partner_with};
use pcs_insights::app::{self, AnyScore, Areas};
use pcs_insights::{areas, customers, explain, history, plan, recommend, scenario, skilling};

use crate::auth::Access;
use crate::error::ApiError;
use crate::state::{AppState, Snapshot, When, evaluation_date};

/// How many days ahead a report looks when a request names none (the
/// CLI's `--within` default).
pub const WITHIN_DAYS: u32 = 90;

/// The most days ahead a request may ask a report to look (`within`).
pub const MAX_WITHIN_DAYS: u32 = 3660;

/// `within` as a request gives it: refused above [`MAX_WITHIN_DAYS`].
pub fn within_days(within: u32) -> Result<u32, ApiError> {
    if within > MAX_WITHIN_DAYS {
        return Err(ApiError::bad_request(format!(
            "within: at most {MAX_WITHIN_DAYS} days"
        )));
    }
    Ok(within)
}

/// A partner's reports for one period, read from one snapshot.
#[derive(Clone)]
pub struct Reports {
    snap: Arc<Snapshot>,
    date: Date,
    period: Period,
    partner: String,
    /// The partner's facts with the source lines of every month, read again
    /// when the snapshot does not hold those of this period.
    lines: Option<Arc<PartnerFacts>>,
    /// The most time each search of a joint plan may take ([`crate::state::Config::plan_time`]).
    plan_time: Option<std::time::Duration>,
}

/// Which source lines the answer of a report shows.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Lines {
    /// Business Applications' (revenue and usage).
    Ba,
    /// Every area's (acr and licenses too): the other areas' explanations,
    /// their customers by subscription.
    All,
}

impl Reports {
    /// Checks access (404 outside the scope or when the partner is not in
    /// the data), resolves the period, and makes sure that every
    /// explanation of the period has its source lines: when the snapshot
    /// keeps only sums for the months this period reads, the partner's
    /// lines are read again from the tables ([`Snapshot::partner_lines`],
    /// off the async workers).
    pub async fn open(
        state: &AppState,
        access: &Access,
        partner: &str,
        when: When,
    ) -> Result<Reports, ApiError> {
        Reports::open_for(state, access, partner, when, Lines::Ba).await
    }

    /// As [`Reports::open`], with the source lines `lines` names.
    pub async fn open_for(
        state: &AppState,
        access: &Access,
        partner: &str,
        when: When,
        lines: Lines,
    ) -> Result<Reports, ApiError> {
        // An upload applied while the lines were read makes them another
        // snapshot's: the request then starts again on the new snapshot
        // (it is swapped in just after the upload's files are in place).
        let mut attempts = 0;
        loop {
            let mut r = Reports::open_sums(state, access, partner, when)?;
            let m = r.period.month;
            let held = r.snap.explains(m) && (lines == Lines::Ba || r.snap.explains_areas(m));
            if held {
                return Ok(r);
            }
            let snap = r.snap.clone();
            let (date, id) = (r.date, r.partner.clone());
            match blocking(move || snap.partner_lines(date, &id)).await {
                Ok(f) => {
                    r.lines = Some(f);
                    return Ok(r);
                }
                Err(e)
                    if e.status() == axum::http::StatusCode::SERVICE_UNAVAILABLE
                        && attempts < 20 =>
                {
                    attempts += 1;
                    tokio::time::sleep(std::time::Duration::from_millis(100)).await;
                }
                Err(e) => return Err(e),
            }
        }
    }

    /// As [`Reports::open`], for reports that read sums only (the score's
    /// numbers, the summary, the history): never reads the tables again,
    /// so explanations of a month outside the snapshot's traced months
    /// would lack their lines ([`Reports::has_lines`] says so).
    pub fn open_sums(
        state: &AppState,
        access: &Access,
        partner: &str,
        when: When,
    ) -> Result<Reports, ApiError> {
        access.require(partner)?;
        let snap = state.snapshot();
        let date = evaluation_date(when);
        let period = state.period(&snap, when)?;
        if snap.partner_facts(date, partner).is_none() {
            return Err(ApiError::partner_not_found(partner));
        }
        Ok(Reports {
            snap,
            date,
            period,
            partner: partner.to_string(),
            lines: None,
            plan_time: state.config().plan_time,
        })
    }

    /// Whether Business Applications' explanations of this period have
    /// their source lines.
    pub fn has_lines(&self) -> bool {
        self.lines.is_some() || self.snap.explains(self.period.month)
    }

    /// Whether the other areas' explanations of this period have their
    /// source lines (opened with [`Lines::All`]).
    pub fn has_area_lines(&self) -> bool {
        self.lines.is_some() || self.snap.explains_areas(self.period.month)
    }

    /// Never an explanation that silently lacks its lines: a report that
    /// shows the other areas' lines, asked of reports opened without them,
    /// is a server error.
    fn need_area_lines(&self, what: &str) -> Result<(), ApiError> {
        if self.has_area_lines() {
            return Ok(());
        }
        Err(ApiError::internal(format!(
            "{what} of {} was asked of reports opened without the acr and licenses lines",
            self.period.month
        )))
    }

    /// The snapshot the reports read.
    pub fn snapshot(&self) -> &Snapshot {
        &self.snap
    }

    /// The period (month M, latest, baseline, evaluation date).
    pub fn period(&self) -> Period {
        self.period
    }

    /// The partner id.
    pub fn partner_id(&self) -> &str {
        &self.partner
    }

    /// The rulebook in force.
    pub fn rulebook(&self) -> &Rulebook {
        self.snap.under(self.date).expect("resolved at open").0
    }

    /// The partner's facts (every month; with source lines for this
    /// period's months when opened with [`Reports::open`]).
    pub fn facts(&self) -> &PartnerFacts {
        if let Some(f) = &self.lines {
            return f;
        }
        self.snap
            .partner_facts(self.date, &self.partner)
            .expect("checked at open")
    }

    /// The score with its explanation data (`pcs score`).
    pub fn score(&self) -> PartnerScore {
        debug_assert!(self.has_lines(), "explanations need source lines");
        score_partner(self.rulebook(), &self.partner, self.facts(), self.period)
    }

    /// The score's numbers only (values, points, totals; no explanation
    /// items): all the contract's score object needs, and cheaper.
    pub fn score_totals(&self) -> PartnerScore {
        score_partner_with(
            self.rulebook(),
            &self.partner,
            self.facts(),
            self.period,
            Detail::Totals,
        )
    }

    /// Each metric in words (`pcs explain`); `metric` limits it to one.
    pub fn explain(&self, metric: Option<&str>) -> Result<explain::Explanation, ApiError> {
        let score = self.score();
        app::check_metric(score.metrics.iter().map(|m| m.id.as_str()), metric)?;
        Ok(explain::explain(&score, metric))
    }

    /// Every area of the snapshot over this partner's facts.
    pub fn areas(&self) -> Result<Areas<'_>, ApiError> {
        let vocab = self.snap.vocabulary(self.date)?;
        Ok(Areas::with_vocabulary(
            self.snap.rulebooks(),
            self.rulebook(),
            vocab,
        ))
    }

    /// The score of `area` (any area) with its explanation data.
    pub fn area_score(&self, area: &str) -> Result<AnyScore, ApiError> {
        Ok(self.areas()?.score(
            area,
            &self.partner,
            self.facts(),
            self.period.month,
            self.date,
        )?)
    }

    fn shape_score(&self, area: &str) -> Result<(pcs_core::area::AreaScore, String), ApiError> {
        let a = self.areas()?;
        match a.score(
            area,
            &self.partner,
            self.facts(),
            self.period.month,
            self.date,
        )? {
            AnyScore::Area(s) => Ok((*s, a.title(area, self.date))),
            AnyScore::Ba(_) => Err(ApiError::bad_request(format!("{area} has its own report"))),
        }
    }

    /// `pcs explain --area AREA` for an area other than Business Applications.
    pub fn area_explain(
        &self,
        area: &str,
        metric: Option<&str>,
    ) -> Result<areas::AreaExplanation, ApiError> {
        self.need_area_lines("an area explanation")?;
        self.area_metrics(area, metric)
    }

    /// [`Reports::area_explain`] for a page that shows no source lines
    /// (the area metrics page): the items' lines, when the snapshot does
    /// not hold them, are left empty and never shown.
    pub fn area_metrics(
        &self,
        area: &str,
        metric: Option<&str>,
    ) -> Result<areas::AreaExplanation, ApiError> {
        let (s, title) = self.shape_score(area)?;
        Ok(areas::explain(&s, &title, metric)?)
    }

    /// `pcs customers --area AREA` for an area other than Business Applications.
    pub fn area_customers(
        &self,
        area: &str,
        search: Option<&str>,
        level: areas::Level,
    ) -> Result<areas::AreaCustomers, ApiError> {
        if level == areas::Level::Subscription {
            self.need_area_lines("an area's customers by subscription")?;
        }
        let (s, _) = self.shape_score(area)?;
        Ok(areas::customers(&s, search, level))
    }

    /// Where each certification counts across `wanted`, and what stops
    /// counting within `within` days (`pcs skilling --area`).
    pub fn skilling_across(
        &self,
        wanted: &[&str],
        within: u32,
    ) -> Result<areas::SkillingAcross, ApiError> {
        let horizon = self.horizon(within)?;
        let scores = wanted
            .iter()
            .map(|a| self.area_score(a))
            .collect::<Result<Vec<_>, _>>()?;
        let mut r = areas::skilling_across(&self.partner, self.period.evaluation_date, &scores);
        r.risks = self.areas()?.skilling_risks(
            wanted,
            &self.partner,
            self.facts(),
            self.period.month,
            self.period.evaluation_date,
            horizon,
        )?;
        Ok(r)
    }

    /// Each area's months and status (`pcs history --area`).
    pub fn history_across(
        &self,
        wanted: &[&str],
        months: u32,
    ) -> Result<areas::HistoryAcross, ApiError> {
        if months == 0 || months > 60 {
            return Err(ApiError::bad_request("months: between 1 and 60"));
        }
        Ok(self.areas()?.history_across(
            wanted,
            &self.partner,
            self.facts(),
            self.period.month,
            months,
        )?)
    }

    /// Per customer and metric: met, criterion, effect (`pcs customers`).
    pub fn customers(&self, search: Option<&str>) -> customers::CustomerReport {
        customers::customers(self.rulebook(), &self.score(), search)
    }

    /// People, certifications and what stops counting within `within` days
    /// (`pcs skilling`).
    pub fn skilling(&self, within: u32) -> Result<skilling::SkillingReport, ApiError> {
        let horizon = self.horizon(within)?;
        Ok(skilling::skilling(
            self.rulebook(),
            &self.partner,
            self.facts(),
            self.period,
            horizon,
        ))
    }

    /// The last `months` months ending with M, and the qualification status
    /// (`pcs history`).
    pub fn history(&self, months: u32) -> Result<history::History, ApiError> {
        if months == 0 || months > 60 {
            return Err(ApiError::bad_request("months: between 1 and 60"));
        }
        Ok(history::history(
            self.rulebook(),
            &self.partner,
            self.facts(),
            self.period.month,
            months,
        ))
    }

    /// Current against simulated (`pcs simulate`), after [`check_scenario`]:
    /// the one validation of a scenario, for the API and the dashboard.
    pub fn simulate(&self, s: &scenario::Scenario) -> Result<scenario::Comparison, ApiError> {
        check_scenario(s)?;
        scenario::simulate(self.rulebook(), &self.partner, self.facts(), self.period, s)
            .map_err(|e| ApiError::bad_request(e.to_string()))
    }

    /// Actions ranked by points gained or protected (`pcs recommend`).
    pub fn recommend(&self, within: u32) -> Result<Vec<recommend::Recommendation>, ApiError> {
        let until = self.horizon(within)?;
        recommend::recommend(
            self.rulebook(),
            &self.partner,
            self.facts(),
            self.period,
            &recommend::RecommendOptions::new(until),
        )
        .map_err(ApiError::internal)
    }

    /// The cheapest plan to qualify (`pcs plan`).
    pub fn plan(&self, costs: &plan::Costs) -> Result<plan::Plan, ApiError> {
        costs
            .check()
            .map_err(|e| ApiError::bad_request(e.to_string()))?;
        plan::plan(
            self.rulebook(),
            &self.partner,
            self.facts(),
            self.period,
            costs,
        )
        .map_err(|e| ApiError::bad_request(e.to_string()))
    }

    /// Current against simulated in every area of `wanted`, from one
    /// application of the scenario (`pcs simulate --area …`): acr and
    /// licenses rows are welcome. The same [`check_scenario`] first.
    pub fn simulate_areas(
        &self,
        wanted: &[&str],
        s: &scenario::Scenario,
    ) -> Result<scenario::AreasComparison, ApiError> {
        check_scenario(s)?;
        let a = self.areas()?;
        a.area_set(wanted, self.period)?
            .simulate(&self.partner, self.facts(), s)
            .map_err(|e| ApiError::bad_request(e.to_string()))
    }

    /// Whether a scenario applies to this partner's data (before it is
    /// saved): after [`check_scenario`], revenue, usage and certifications
    /// through Business Applications' rulebook, as `simulate` reads them; a
    /// scenario with acr or licenses rows with every area's names, as
    /// `simulate_areas` reads it.
    pub fn check_applies(&self, s: &scenario::Scenario) -> Result<(), ApiError> {
        if s.acr.is_empty() && s.licenses.is_empty() {
            return self.simulate(s).map(drop);
        }
        check_scenario(s)?;
        let a = self.areas()?;
        a.area_set(&[], self.period)?
            .apply(s, &self.partner, self.facts())
            .map(drop)
            .map_err(|e| ApiError::bad_request(e.to_string()))
    }

    /// Actions ranked by the points they bring across `wanted`, each valued
    /// once (`pcs recommend --area …`).
    pub fn recommend_areas(
        &self,
        wanted: &[&str],
    ) -> Result<Vec<plan::joint::AreaRecommendation>, ApiError> {
        let a = self.areas()?;
        let set = a.area_set(wanted, self.period)?;
        plan::joint::recommend_areas(
            &set,
            &a.in_force(self.date),
            &self.partner,
            self.facts(),
            &plan::Costs::default(),
        )
        .map_err(|e| ApiError::bad_request(e.to_string()))
    }

    /// The cheapest set of actions that qualifies the partner in every area
    /// of `wanted` at once (`pcs plan --area A --area B`), within
    /// [`crate::state::Config::plan_time`] per search (timed by this server's clock;
    /// [`JOINT_PLAN_TIME`] by default): past it, the plan says it is not
    /// proven cheapest (`search.exact: false`, `search.stopped_by: "time"`).
    pub fn joint_plan(
        &self,
        wanted: &[&str],
        costs: &plan::Costs,
    ) -> Result<plan::joint::JointPlan, ApiError> {
        let a = self.areas()?;
        let set = a.area_set(wanted, self.period)?;
        let start = std::time::Instant::now();
        let elapsed = move || start.elapsed();
        let budget = plan::joint::Budget {
            time: self
                .plan_time
                .map(|limit| (&elapsed as &dyn Fn() -> std::time::Duration, limit)),
            ..plan::joint::Budget::default()
        };
        plan::joint::joint_plan_within(
            &set,
            &a.in_force(self.date),
            &self.partner,
            self.facts(),
            costs,
            &a.title(app::BUSINESS_APPLICATIONS, self.date),
            budget,
        )
        .map_err(|e| ApiError::bad_request(e.to_string()))
    }

    fn horizon(&self, within: u32) -> Result<Date, ApiError> {
        let within = within_days(within)?;
        self.period
            .evaluation_date
            .checked_add((within as i64).days())
            .map_err(|e| ApiError::bad_request(format!("within: {e}")))
    }
}

/// The most time each search of a joint plan (the exact one, then the
/// greedy one if the exact one stopped) may take in a request.
pub const JOINT_PLAN_TIME: std::time::Duration = std::time::Duration::from_secs(3);

/// The message of an empty scenario.
pub const EMPTY_SCENARIO: &str =
    "The scenario is empty: fill in at least one row, or a customer or person to remove.";

/// A scenario from its JSON (the `pcs simulate --scenario` format), read by
/// the same parser as the CLI's; 400 when it is not one.
pub fn parse_scenario(v: &serde_json::Value) -> Result<scenario::Scenario, ApiError> {
    scenario::Scenario::from_json(&v.to_string())
        .map_err(|e| ApiError::bad_request(format!("scenario: {e}")))
}

/// What every scenario must be before it is simulated or saved, by the
/// API or the dashboard: not empty (what it names is checked against the
/// partner's data by [`Reports::simulate`]).
pub fn check_scenario(s: &scenario::Scenario) -> Result<(), ApiError> {
    if s.is_empty() {
        return Err(ApiError::bad_request(EMPTY_SCENARIO));
    }
    Ok(())
}

/// Parses `month` / `date` query values (at most one) into a [`When`];
/// neither is `today` (the server's [`AppState::today`]).
pub fn parse_when(month: Option<&str>, date: Option<&str>, today: Date) -> Result<When, ApiError> {
    Ok(When::parse(month, date, today)?)
}

/// The `area` query value of a single-area report: one area's id (as
/// people type it); Business Applications when absent.
pub fn parse_area(area: Option<&str>) -> Result<&'static str, ApiError> {
    match area.map(str::trim).filter(|a| !a.is_empty()) {
        None => Ok(app::BUSINESS_APPLICATIONS),
        Some(a) => Ok(app::area(a).map_err(|e| ApiError::bad_request(format!("area: {e}")))?),
    }
}

/// The `area` query value of a report across areas: areas separated by
/// commas, or `all`; Business Applications when absent.
pub fn parse_areas(area: Option<&str>) -> Result<Vec<&'static str>, ApiError> {
    let given = area.map(area_list).unwrap_or_default();
    app::areas(&given, &[app::BUSINESS_APPLICATIONS])
        .map_err(|e| ApiError::bad_request(format!("area: {e}")))
}

/// The names of a comma-separated `?area=` list, trimmed, empty ones left out.
pub fn area_list(text: &str) -> Vec<String> {
    text.split(',')
        .map(|x| x.trim().to_string())
        .filter(|x| !x.is_empty())
        .collect()
}

/// Runs CPU-heavy report work off the async workers.
pub async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> Result<T, ApiError> + Send + 'static,
) -> Result<T, ApiError> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(ApiError::internal)?
}
