//! `pcs recommend` and `pcs plan`: what next.

use std::io::Write;

use anyhow::{Context as _, anyhow};
use pcs_core::jiff::ToSpan;
use pcs_insights::{plan, recommend};

use crate::args::{PlanArgs, RecommendArgs};
use crate::failure::Failure;
use pcs_core::display::thousands;
use crate::reports::{d, emit, header, load, period_months};

// ------------------------------------------------------------------ recommend

/// `pcs recommend`.
pub fn run_recommend(args: &RecommendArgs) -> Result<(), Failure> {
    let l = load(&args.common, period_months)?;
    let until = l
        .period
        .evaluation_date
        .checked_add((args.within as i64).days())
        .map_err(|e| Failure::Other(anyhow!("--within: {e}")))?;
    let score = l.score();
    let recs = recommend::recommend(&l.rb, &l.partner, l.partner(), l.period, until);
    emit(
        args.common.format,
        &recs,
        || {
            let header = ["rank", "kind", "metric", "points", "title", "detail"].map(String::from).to_vec();
            let rows = recs
                .iter()
                .enumerate()
                .map(|(i, r)| {
                    vec![
                        (i + 1).to_string(),
                        serde_json::to_value(r.kind).ok().and_then(|v| v.as_str().map(String::from)).unwrap_or_default(),
                        r.metric.clone().unwrap_or_default(),
                        d(r.points),
                        r.title.clone(),
                        r.detail.clone(),
                    ]
                })
                .collect();
            (header, rows)
        },
        |out| {
            header(out, &score, "Recommendations")?;
            writeln!(out)?;
            if recs.is_empty() {
                writeln!(out, "Nothing to recommend: every metric is at its maximum and nothing is at risk.")?;
            }
            for (i, r) in recs.iter().enumerate() {
                writeln!(out, "{:>3}. [{:+}] {}", i + 1, r.points.normalize(), r.title)?;
                if !r.detail.is_empty() {
                    writeln!(out, "       {}", r.detail)?;
                }
            }
            Ok(())
        },
    )
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
            plan::Costs::from_toml(&text).map_err(|e| Failure::BadInput(anyhow!("{}: {e}", path.display())))?
        }
    };
    let l = load(&args.common, period_months)?;
    let score = l.score();
    let p = plan::plan(&l.rb, &l.partner, l.partner(), l.period, &costs);
    if let Some(path) = &args.write_scenario {
        crate::atomic::write(path, p.scenario.to_toml().as_bytes()).map_err(Failure::Other)?;
    }
    emit(
        args.common.format,
        &p,
        || {
            let header = ["action", "count", "unit_cost", "cost"].map(String::from).to_vec();
            let mut rows: Vec<Vec<String>> = p
                .actions
                .iter()
                .map(|a| vec![a.description.clone(), a.count.to_string(), d(a.unit_cost), d(a.cost)])
                .collect();
            rows.push(vec!["total".into(), String::new(), String::new(), d(p.total_cost)]);
            (header, rows)
        },
        |out| {
            header(out, &score, "Plan")?;
            writeln!(out)?;
            if score.qualified {
                writeln!(out, "Already qualified: nothing to do.")?;
                return Ok(());
            }
            if !p.reachable {
                writeln!(out, "No plan within the search bounds reaches qualification.")?;
            }
            for a in &p.actions {
                writeln!(out, "  {:>3} × {:<55} {:>12}", a.count, a.description, format!("${}", thousands(a.cost)))?;
            }
            writeln!(out, "  {:>3}   {:<55} {:>12}", "", "total cost", format!("${}", thousands(p.total_cost)))?;
            writeln!(
                out,
                "\n  Resulting score: {} ({}){}",
                d(p.total_points),
                p.classification,
                if p.qualified { ", qualified" } else { ", not qualified" }
            )?;
            for (id, pts) in &p.points {
                writeln!(out, "    {id}: {}", d(*pts))?;
            }
            Ok(())
        },
    )
}
