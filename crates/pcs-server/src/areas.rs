//! Every solution area for one partner: the score object of an area (the
//! API's `score?area=`), the qualification summary of all six (the API's
//! `summary` and the dashboard's first page) and the area pages. Business
//! Applications is scored by `score_partner`, the other five by the area
//! engine, exactly as `pcs score --area` does; nothing here is a rule.

use pcs_core::area::{AreaEngine, score_area_with};
use pcs_core::jiff::civil::Date;
use pcs_core::rulebook::{AREAS, RulebookSet};
use pcs_core::score::{Detail, Period, score_partner_with};
use pcs_core::summary::short_title;
use pcs_insights::app::AnyScore;
use serde_json::Value;

use crate::error::ApiError;
use crate::reports::Reports;
use crate::state::SOLUTION_AREA;

/// `area` if it is one of the six solution areas; 400 naming them otherwise.
pub fn check_area(area: &str) -> Result<&'static str, ApiError> {
    AREAS.iter().find(|a| **a == area).copied().ok_or_else(|| {
        ApiError::bad_request(format!(
            "area: '{area}' is not a solution area (one of {})",
            AREAS.join(", ")
        ))
    })
}

/// The partner's score in `area` (already checked with [`check_area`]):
/// 404 when no rulebook of the area is in force on the evaluation date.
pub fn score(r: &Reports, area: &str, detail: Detail) -> Result<AnyScore, ApiError> {
    let period = r.period();
    if area == SOLUTION_AREA && matches!(detail, Detail::Full) && !r.has_lines() {
        // Never an explanation that silently lacks its source lines.
        return Err(ApiError::internal(format!(
            "the {area} explanation of {} was asked of reports opened with sums only",
            period.month
        )));
    }
    if area == SOLUTION_AREA {
        return Ok(AnyScore::Ba(Box::new(score_partner_with(
            r.rulebook(),
            r.partner_id(),
            r.facts(),
            period,
            detail,
        ))));
    }
    let snap = r.snapshot();
    let rb = snap
        .rulebooks()
        .area_in_force(area, period.evaluation_date)
        .map_err(|e| ApiError::not_found(e.to_string()))?;
    let engine = AreaEngine::new(rb, snap.vocabulary(period.evaluation_date)?, r.rulebook());
    let p = Period::with_calendar(&rb.calendar, period.month, period.evaluation_date);
    Ok(AnyScore::Area(Box::new(score_area_with(
        &engine,
        r.partner_id(),
        r.facts(),
        p,
        detail,
    ))))
}

/// Every area with a rulebook in force, in the contract's order.
pub fn score_all(r: &Reports, detail: Detail) -> Result<Vec<AnyScore>, ApiError> {
    let d = r.period().evaluation_date;
    AREAS
        .iter()
        .filter(|a| in_force(r.snapshot().rulebooks(), a, d))
        .map(|a| score(r, a, detail))
        .collect()
}

fn in_force(set: &RulebookSet, area: &str, d: Date) -> bool {
    if area == SOLUTION_AREA {
        set.in_force(area, d).is_ok()
    } else {
        set.area_in_force(area, d).is_ok()
    }
}

/// The short title of an area ("Modern Work"), from its newest rulebook.
pub fn title(set: &RulebookSet, area: &str) -> String {
    let t = if area == SOLUTION_AREA {
        set.versions()
            .iter()
            .rfind(|r| r.solution_area == area)
            .and_then(|r| r.title.clone())
    } else {
        set.area_versions()
            .iter()
            .rfind(|r| r.solution_area == area)
            .and_then(|r| r.title.clone())
    };
    t.as_deref().map(short_title).unwrap_or(area).to_string()
}

/// The six areas with their titles, in the contract's order.
pub fn titles(set: &RulebookSet) -> Vec<(&'static str, String)> {
    AREAS.iter().map(|a| (*a, title(set, a))).collect()
}

/// The summary of every area as JSON: the period, then one entry per area.
pub fn summary_json(r: &Reports, scores: &[AnyScore]) -> Value {
    let p = r.period();
    let set = r.snapshot().rulebooks();
    let areas: Vec<Value> = scores
        .iter()
        .map(|s| {
            let mut o = s.summary().to_json();
            o["title"] = title(set, o["solution_area"].as_str().unwrap_or("")).into();
            o
        })
        .collect();
    serde_json::json!({
        "partner_id": r.partner_id(),
        "partner_name": r.facts().name,
        "month": p.month.to_string(),
        "latest_month": p.latest_month.to_string(),
        "baseline_month": p.baseline_month.to_string(),
        "evaluation_date": p.evaluation_date.to_string(),
        "qualified_areas": scores.iter().filter(|s| s.summary().qualified).count(),
        "areas": areas,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_six_areas_are_areas() {
        for a in AREAS {
            assert_eq!(check_area(a).unwrap(), a);
        }
        let e = check_area("azure").unwrap_err();
        assert_eq!(e.status(), axum::http::StatusCode::BAD_REQUEST);
        assert!(e.message().contains("modern_work"), "{}", e.message());
    }

    #[test]
    fn every_builtin_area_has_a_short_title() {
        let set = RulebookSet::builtin();
        let t = titles(&set);
        assert_eq!(t.len(), 6);
        assert_eq!(
            t[0],
            ("business_applications", "Business Applications".into())
        );
        for (id, title) in &t {
            assert_ne!(*id, title.as_str(), "{id} has a title");
            assert!(!title.starts_with("Solutions Partner"), "{title}");
        }
    }
}
