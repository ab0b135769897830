//! Writing scores: a scorecard table for people, JSON, JSON lines and CSV.
//!
//! `pcs score` writes a header ([`begin`]), one rendering per partner
//! ([`render`]), and a footer ([`end`]). Renderings are independent, so
//! partners are rendered in parallel and written in order.

use std::io::Write;

use pcs_core::Decimal;

use crate::args::ScoreFormat;
use pcs_core::contract::ScoreObject;
use pcs_core::display::thousands;
use pcs_core::rulebook::Rulebook;
use pcs_core::score::{MetricDetail, MetricScore, PartnerScore};

/// A broken pipe (`pcs score ... | head`) is not an error.
pub fn ignore_broken_pipe(e: anyhow::Error) -> anyhow::Result<()> {
    match e.downcast_ref::<std::io::Error>() {
        Some(io) if io.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
        _ => Err(e),
    }
}

/// Writes what comes before the first partner.
pub fn begin(out: &mut impl Write, format: ScoreFormat, rb: &Rulebook) -> anyhow::Result<()> {
    match format {
        ScoreFormat::Json => out.write_all(b"[")?,
        ScoreFormat::Csv => {
            let mut w = ::csv::Writer::from_writer(&mut *out);
            w.write_record(csv_header(rb))?;
            w.flush()?;
        }
        ScoreFormat::Table | ScoreFormat::Jsonl => {}
    }
    Ok(())
}

/// Renders one partner; `first` says whether it is the first one written.
pub fn render(
    format: ScoreFormat,
    rb: &Rulebook,
    s: &PartnerScore,
    explain: bool,
    first: bool,
) -> anyhow::Result<Vec<u8>> {
    let mut out = Vec::with_capacity(1024);
    match format {
        ScoreFormat::Jsonl => {
            pcs_core::json::write_compact(&mut out, &ScoreObject::explained(s, explain))?;
            out.push(b'\n');
        }
        ScoreFormat::Json => {
            out.extend_from_slice(if first { b"\n" } else { b",\n" });
            serde_json::to_writer_pretty(&mut out, &ScoreObject::explained(s, explain))?;
        }
        ScoreFormat::Csv => {
            let mut w = ::csv::Writer::from_writer(&mut out);
            w.write_record(csv_row(s))?;
            w.flush()?;
        }
        ScoreFormat::Table => {
            if !first {
                out.push(b'\n');
            }
            table_one(&mut out, rb, s)?;
        }
    }
    Ok(out)
}

/// Writes what comes after the last partner.
pub fn end(out: &mut impl Write, format: ScoreFormat, any: bool) -> anyhow::Result<()> {
    if format == ScoreFormat::Json {
        out.write_all(if any { b"\n]\n" } else { b"]\n" })?;
    }
    Ok(())
}

fn csv_header(rb: &Rulebook) -> Vec<String> {
    let mut header: Vec<String> = [
        "partner_id",
        "partner_name",
        "month",
        "latest_month",
        "baseline_month",
        "evaluation_date",
        "classification",
    ]
    .map(String::from)
    .to_vec();
    for m in &rb.metrics {
        header.push(format!("{}_value", m.id));
        header.push(format!("{}_points", m.id));
        if matches!(m.shape, pcs_core::rulebook::Shape::ConsumptionGrowth { .. }) {
            header.push(format!("{}_latest_mcv", m.id));
            header.push(format!("{}_baseline_mcv", m.id));
        }
    }
    header.extend(["total_points", "qualified", "rulebook"].map(String::from));
    header
}

fn csv_row(s: &PartnerScore) -> Vec<String> {
    let mut row: Vec<String> = vec![
        s.partner_id.clone(),
        s.partner_name.clone().unwrap_or_default(),
        s.period.month.to_string(),
        s.period.latest_month.to_string(),
        s.period.baseline_month.to_string(),
        s.period.evaluation_date.to_string(),
        s.classification.as_str().to_string(),
    ];
    for m in &s.metrics {
        row.push(
            m.value
                .map(|v| v.normalize().to_string())
                .unwrap_or_default(),
        );
        row.push(m.points.normalize().to_string());
        if let MetricDetail::ConsumptionGrowth {
            latest_mcv,
            baseline_mcv,
            ..
        } = &m.detail
        {
            row.push(latest_mcv.normalize().to_string());
            row.push(baseline_mcv.normalize().to_string());
        }
    }
    row.push(s.total_points.normalize().to_string());
    row.push(s.qualified.to_string());
    row.push(s.rulebook.clone());
    row
}

/// Points with two decimals (`6.42`, `15.00`).
pub(crate) fn points(d: Decimal) -> String {
    let mut d = d;
    d.rescale(2);
    d.to_string()
}

pub(crate) fn bar(points: Decimal, max: Decimal, width: usize) -> String {
    let filled = if max.is_zero() {
        0
    } else {
        let ratio = (points / max).min(Decimal::ONE).max(Decimal::ZERO);
        let cells = (ratio * Decimal::from(width as u64)).round();
        usize::try_from(cells.mantissa() / 10i128.pow(cells.scale())).unwrap_or(0)
    };
    format!("{}{}", "█".repeat(filled), "░".repeat(width - filled))
}

fn value_text(m: &MetricScore) -> String {
    match (&m.detail, m.value) {
        (MetricDetail::ConsumptionGrowth { .. }, Some(v)) => format!("{} %", v.normalize()),
        (MetricDetail::ConsumptionGrowth { .. }, None) => "n/a".to_string(),
        (_, Some(v)) => v.normalize().to_string(),
        (_, None) => "n/a".to_string(),
    }
}

/// One partner's scorecard.
pub(crate) fn table_one(
    out: &mut impl Write,
    rb: &Rulebook,
    s: &PartnerScore,
) -> anyhow::Result<()> {
    let max_total: Decimal = rb.metrics.iter().map(|m| m.max_points).sum();
    {
        let who = match &s.partner_name {
            Some(n) => format!("{n} ({})", s.partner_id),
            None => s.partner_id.clone(),
        };
        writeln!(out, "{who}")?;
        writeln!(
            out,
            "  {} · month {} (latest {}, baseline {}) · skilling on {}",
            rb.title.as_deref().unwrap_or(&s.solution_area),
            s.period.month,
            s.period.latest_month,
            s.period.baseline_month,
            s.period.evaluation_date
        )?;
        let c = &s.classification_detail;
        writeln!(
            out,
            "  Classification: {} ({} customer workloads {} ${} in both months; Enterprise from {})",
            s.classification,
            c.counted_pairs,
            c.pair_revenue.comparison.symbol(),
            thousands(c.pair_revenue.value),
            c.enterprise_min_pairs
        )?;
        writeln!(out)?;
        let label_w = s
            .metrics
            .iter()
            .map(|m| m.label.chars().count())
            .max()
            .unwrap_or(6)
            .max(6);
        writeln!(
            out,
            "  {:<label_w$}  {:>10}  {:>13}",
            "Metric", "Value", "Points"
        )?;
        for m in &s.metrics {
            writeln!(
                out,
                "  {:<label_w$}  {:>10}  {:>13}  {}",
                m.label,
                value_text(m),
                format!("{} / {}", points(m.points), m.max_points.normalize()),
                bar(m.points, m.max_points, 20)
            )?;
        }
        writeln!(
            out,
            "  {:<label_w$}  {:>10}  {:>13}  {}",
            "Total",
            "",
            format!("{} / {}", points(s.total_points), max_total.normalize()),
            bar(s.total_points, max_total, 20)
        )?;
        writeln!(out)?;
        let zero = s.zero_metrics();
        if s.qualified {
            writeln!(
                out,
                "  QUALIFIED: {} points ≥ {} and every metric above zero",
                points(s.total_points),
                s.min_total_points
            )?;
        } else {
            let mut why = Vec::new();
            if s.total_points < s.min_total_points {
                why.push(format!(
                    "{} more points to reach {}",
                    points(s.min_total_points - s.total_points),
                    s.min_total_points
                ));
            }
            if !zero.is_empty() {
                why.push(format!("{} at zero", zero.len()));
            }
            writeln!(out, "  NOT QUALIFIED: {}", why.join("; "))?;
        }
        let zero_labels: Vec<&str> = s
            .metrics
            .iter()
            .filter(|m| m.points.is_zero())
            .map(|m| m.label.as_str())
            .collect();
        writeln!(
            out,
            "  At zero: {}",
            if zero_labels.is_empty() {
                "none".to_string()
            } else {
                zero_labels.join(", ")
            }
        )?;
        for m in &s.metrics {
            writeln!(
                out,
                "    {}: {}",
                m.label,
                pcs_insights::explain::summary(s, m)
            )?;
        }
        writeln!(out, "  Rulebook: {}", s.rulebook)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bars_are_proportional_and_bounded() {
        let d = |s: &str| s.parse::<Decimal>().unwrap();
        assert_eq!(bar(d("0"), d("15"), 10), "░░░░░░░░░░");
        assert_eq!(bar(d("15"), d("15"), 10), "██████████");
        assert_eq!(bar(d("7.5"), d("15"), 10), "█████░░░░░");
        assert_eq!(bar(d("99"), d("15"), 4), "████");
    }
}
