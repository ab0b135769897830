//! `pcs recommend` and `pcs plan`: what next.

use anyhow::{Context as _, anyhow};
use pcs_core::jiff::ToSpan;
use pcs_insights::{plan, recommend};

use crate::args::{PlanArgs, RecommendArgs};
use crate::failure::Failure;
use crate::reports::{d, emit, header, load, period_months};
use pcs_core::display::thousands;

// ------------------------------------------------------------------ recommend

/// `pcs recommend`.
pub fn run_recommend(args: &RecommendArgs) -> Result<(), Failure> {
    if !args.areas.is_empty() {
        return run_recommend_areas(args);
    }
    let l = load(&args.common, period_months)?;
    let until = l
        .period
        .evaluation_date
        .checked_add((args.within as i64).days())
        .map_err(|e| Failure::Other(anyhow!("--within: {e}")))?;
    let score = l.score();
    let recs = recommend::recommend(
        &l.rb,
        &l.partner,
        l.partner(),
        l.period,
        &recommend::RecommendOptions::new(until),
    )
    .map_err(|e| Failure::Other(e.into()))?;
    emit(
        args.common.format,
        &recs,
        || {
            let header = ["rank", "kind", "metric", "points", "title"]
                .map(String::from)
                .to_vec();
            let rows = recs
                .iter()
                .enumerate()
                .map(|(i, r)| {
                    vec![
                        (i + 1).to_string(),
                        serde_json::to_value(r.kind)
                            .ok()
                            .and_then(|v| v.as_str().map(String::from))
                            .unwrap_or_default(),
                        r.metric.clone().unwrap_or_default(),
                        d(r.points),
                        r.title.clone(),
                    ]
                })
                .collect();
            (header, rows)
        },
        |out| {
            header(out, &score, "Recommendations")?;
            writeln!(out)?;
            if recs.is_empty() {
                writeln!(
                    out,
                    "Nothing to recommend: every metric is at its maximum and nothing is at risk."
                )?;
            }
            for (i, r) in recs.iter().enumerate() {
                writeln!(
                    out,
                    "{:>3}. [{:+}] {}",
                    i + 1,
                    r.points.normalize(),
                    r.title
                )?;
            }
            Ok(())
        },
    )
}

/// `pcs recommend --area …`: actions ranked by the points they bring across
/// the named areas, each valued once.
fn run_recommend_areas(args: &RecommendArgs) -> Result<(), Failure> {
    let costs = plan::Costs::default();
    crate::area_load::with_areas(&args.common, &args.areas, |run| {
        let recs =
            plan::joint::recommend_areas(run.set, run.in_force, run.partner, run.facts, &costs)
                .map_err(|e| Failure::Other(e.into()))?;
        emit(
            args.common.format,
            &recs,
            || {
                let mut header = vec!["rank".to_string(), "action".into(), "count".into()];
                let areas: Vec<String> = recs
                    .first()
                    .map(|r| r.points.iter().map(|p| p.0.clone()).collect())
                    .unwrap_or_default();
                header.extend(areas.iter().cloned());
                header.extend(["total_points".to_string(), "qualifies".into()]);
                let rows = recs
                    .iter()
                    .enumerate()
                    .map(|(i, r)| {
                        let mut row = vec![
                            (i + 1).to_string(),
                            r.description.clone(),
                            r.count.to_string(),
                        ];
                        row.extend(r.points.iter().map(|p| d(p.1)));
                        row.push(d(r.total_points));
                        row.push(r.qualifies.join(" "));
                        row
                    })
                    .collect();
                (header, rows)
            },
            |out| {
                writeln!(
                    out,
                    "Recommendations across areas · partner {} · {}",
                    run.partner,
                    run.set.ids().join(", ")
                )?;
                writeln!(out)?;
                if recs.is_empty() {
                    writeln!(out, "No action changes a named area's points.")?;
                }
                for (i, r) in recs.iter().enumerate() {
                    let per: Vec<String> = r
                        .points
                        .iter()
                        .filter(|p| !p.1.is_zero())
                        .map(|p| format!("{} {:+}", p.0, p.1.normalize()))
                        .collect();
                    writeln!(
                        out,
                        "{:>3}. [{:+}] {}  ({}){}",
                        i + 1,
                        r.total_points.normalize(),
                        r.description,
                        per.join(", "),
                        if r.qualifies.is_empty() {
                            String::new()
                        } else {
                            format!(" — qualifies {}", r.qualifies.join(", "))
                        }
                    )?;
                }
                Ok(())
            },
        )
    })
}

// ------------------------------------------------------------------ plan

/// `pcs plan`.
pub fn run_plan(args: &PlanArgs) -> Result<(), Failure> {
    let costs = match &args.costs {
        None => plan::Costs::default(),
        Some(path) => {
            let text = std::fs::read_to_string(path)
                .with_context(|| format!("cannot read costs {}", path.display()))
                .map_err(Failure::BadInput)?;
            plan::Costs::from_toml(&text)
                .map_err(|e| Failure::BadInput(anyhow!("{}: {e}", path.display())))?
        }
    };
    if !args.areas.is_empty() {
        return run_joint_plan(args, &costs);
    }
    let l = load(&args.common, period_months)?;
    let score = l.score();
    let p = plan::plan(&l.rb, &l.partner, l.partner(), l.period, &costs)
        .map_err(|e| Failure::Other(e.into()))?;
    if let Some(path) = &args.write_scenario {
        crate::atomic::write(path, p.scenario.to_toml().as_bytes()).map_err(Failure::Other)?;
    }
    emit(
        args.common.format,
        &p,
        || {
            let header = ["action", "count", "unit_cost", "cost"]
                .map(String::from)
                .to_vec();
            let mut rows: Vec<Vec<String>> = p
                .actions
                .iter()
                .map(|a| {
                    vec![
                        a.description.clone(),
                        a.count.to_string(),
                        d(a.unit_cost),
                        d(a.cost),
                    ]
                })
                .collect();
            rows.push(vec![
                "total".into(),
                String::new(),
                String::new(),
                d(p.total_cost),
            ]);
            (header, rows)
        },
        |out| {
            header(out, &score, "Plan")?;
            writeln!(out)?;
            if p.already_qualified {
                writeln!(out, "Already qualified: nothing to do.")?;
                return Ok(());
            }
            if !p.reachable {
                writeln!(
                    out,
                    "No plan within the search bounds reaches qualification; the best found:"
                )?;
            }
            for a in &p.actions {
                writeln!(
                    out,
                    "  {:>5} × {:<60} {:>14}",
                    a.count,
                    a.description,
                    format!("{} {}", thousands(a.cost), p.currency)
                )?;
            }
            writeln!(
                out,
                "  {:>5}   {:<60} {:>14}",
                "",
                "total cost",
                format!("{} {}", thousands(p.total_cost), p.currency)
            )?;
            writeln!(
                out,
                "\n  Resulting score (simulated): {} → {} ({}){}",
                d(p.current.total_points),
                d(p.result.total_points),
                p.result.classification,
                if p.result.qualified {
                    ", qualified"
                } else {
                    ", not qualified"
                }
            )?;
            for (before, after) in p.current.metrics.iter().zip(&p.result.metrics) {
                writeln!(
                    out,
                    "    {:<30} {:>6} → {:>6} of {}",
                    after.label,
                    d(before.points),
                    d(after.points),
                    d(after.max_points)
                )?;
            }
            for n in &p.notes {
                writeln!(out, "  note: {n}")?;
            }
            writeln!(
                out,
                "\n  Searched {} combinations exactly ({} scenarios scored by the engine).",
                p.combinations, p.scenarios_scored
            )?;
            Ok(())
        },
    )
}

/// `pcs plan --area …`: one plan for every named area at once.
fn run_joint_plan(args: &PlanArgs, costs: &plan::Costs) -> Result<(), Failure> {
    crate::area_load::with_areas(&args.common, &args.areas, |run| {
        let p = plan::joint::joint_plan(
            run.set,
            run.in_force,
            run.partner,
            run.facts,
            costs,
            run.ba_title,
        )
        .map_err(|e| Failure::Other(e.into()))?;
        if let Some(path) = &args.write_scenario {
            crate::atomic::write(path, p.scenario.to_toml().as_bytes()).map_err(Failure::Other)?;
        }
        emit(
            args.common.format,
            &p,
            || {
                let header = ["action", "count", "unit_cost", "cost", "areas"]
                    .map(String::from)
                    .to_vec();
                let mut rows: Vec<Vec<String>> = p
                    .actions
                    .iter()
                    .map(|a| {
                        vec![
                            a.description.clone(),
                            a.count.to_string(),
                            d(a.unit_cost),
                            d(a.cost),
                            a.areas.join(" "),
                        ]
                    })
                    .collect();
                rows.push(vec![
                    "total".into(),
                    String::new(),
                    String::new(),
                    d(p.total_cost),
                    String::new(),
                ]);
                (header, rows)
            },
            |out| {
                writeln!(
                    out,
                    "Joint plan · partner {} · {}",
                    p.partner_id,
                    p.areas.join(", ")
                )?;
                writeln!(out)?;
                if p.already_qualified {
                    writeln!(out, "Already qualified in every named area: nothing to do.")?;
                    return Ok(());
                }
                for u in &p.unreachable {
                    writeln!(
                        out,
                        "  cannot be reached: {} — {}",
                        u.solution_area, u.reason
                    )?;
                }
                let limit = match p.search.stopped_by {
                    Some(plan::joint::Stop::Time) => "its time limit",
                    _ => "its scenario limit",
                };
                if p.actions.is_empty() && !p.reachable {
                    if !p.search.exact {
                        writeln!(
                            out,
                            "  The search stopped after {} scenarios without a plan ({limit}).",
                            p.search.scenarios_scored
                        )?;
                    }
                    return Ok(());
                }
                if !p.unreachable.is_empty() {
                    writeln!(out, "  Plan for the other areas:")?;
                }
                for a in &p.actions {
                    writeln!(
                        out,
                        "  {:>5} × {:<70} {:>14}  {}",
                        a.count,
                        a.description,
                        format!("{} {}", thousands(a.cost), p.currency),
                        a.areas.join(", ")
                    )?;
                }
                writeln!(
                    out,
                    "  {:>5}   {:<70} {:>14}",
                    "",
                    "total cost (each action counted once)",
                    format!("{} {}", thousands(p.total_cost), p.currency)
                )?;
                writeln!(out, "\n  Resulting scores (simulated):")?;
                for (before, after) in p.current.iter().zip(&p.result) {
                    writeln!(
                        out,
                        "    {:<40} {:>6} → {:>6}{}",
                        crate::score_cmd::short_title(&after.title),
                        d(before.total_points),
                        d(after.total_points),
                        if after.qualified {
                            ", qualified"
                        } else {
                            ", not qualified"
                        }
                    )?;
                }
                writeln!(
                    out,
                    "\n  Searched {} action templates in order of cost, {} scenarios scored by the engines{}.",
                    p.search.templates,
                    p.search.scenarios_scored,
                    if p.search.exact {
                        "; the cheapest plan within the bounds".to_string()
                    } else if p.search.greedy {
                        format!(
                            "; the exact search stopped at {limit}: this plan is a greedy one, verified but not proven cheapest"
                        )
                    } else {
                        format!("; stopped at {limit}")
                    }
                )?;
                Ok(())
            },
        )
    })
}
