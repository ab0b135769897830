//! The public score object of interface.md, built from a [`PartnerScore`].
//!
//! This is the one place that decides the JSON shape users and the HTTP API
//! rely on; `points` and `total_points` carry at most two decimals.

use rust_decimal::Decimal;
use rust_decimal::prelude::ToPrimitive;
use serde_json::{Map, Number, Value};

use crate::score::{MetricDetail, PartnerScore};

/// A decimal as a JSON number: an integer when whole, else the shortest
/// binary float that prints back as the same decimal text.
pub fn number(d: Decimal) -> Value {
    let d = d.normalize();
    if d.scale() == 0
        && let Some(i) = d.to_i64()
    {
        return Value::Number(Number::from(i));
    }
    match d.to_string().parse::<f64>().ok().and_then(Number::from_f64) {
        Some(n) => Value::Number(n),
        None => Value::String(d.to_string()),
    }
}

/// Rewrites whole floats (`15.0`) as integers (`15`) throughout a JSON value,
/// so serialized explanations print numbers the way the score object does.
pub fn tidy_numbers(value: &mut Value) {
    match value {
        Value::Number(n) => {
            if let Some(f) = n.as_f64().filter(|_| n.is_f64())
                && f.fract() == 0.0
                && f.abs() < 9.0e15
            {
                *n = Number::from(f as i64);
            }
        }
        Value::Array(items) => items.iter_mut().for_each(tidy_numbers),
        Value::Object(map) => map.values_mut().for_each(tidy_numbers),
        _ => {}
    }
}

fn opt_number(d: Option<Decimal>) -> Value {
    d.map_or(Value::Null, number)
}

/// The score object: the contract's fields plus `rulebook` and `partner_name`.
///
/// ```
/// # use pcs_core::{facts::PartnerFacts, rulebook::RulebookSet, score::{score_partner, Period}};
/// let set = RulebookSet::builtin();
/// let rb = &set.versions()[0];
/// let period = Period::for_month(rb, "2023-11".parse().unwrap());
/// let s = score_partner(rb, "P1", &PartnerFacts::default(), period);
/// let json = pcs_core::contract::score_object(&s);
/// assert_eq!(json["baseline_month"], "2022-10");
/// assert_eq!(json["metrics"]["usage_growth"]["value"], serde_json::Value::Null);
/// ```
pub fn score_object(s: &PartnerScore) -> Value {
    let mut metrics = Map::new();
    for m in &s.metrics {
        let mut o = Map::new();
        o.insert("value".into(), opt_number(m.value));
        o.insert("points".into(), number(m.points));
        o.insert("max_points".into(), number(m.max_points));
        if let MetricDetail::ConsumptionGrowth {
            latest_mcv,
            baseline_mcv,
            ..
        } = &m.detail
        {
            o.insert("latest_mcv".into(), number(*latest_mcv));
            o.insert("baseline_mcv".into(), number(*baseline_mcv));
        }
        metrics.insert(m.id.clone(), Value::Object(o));
    }
    let mut o = Map::new();
    o.insert("partner_id".into(), s.partner_id.clone().into());
    if let Some(n) = &s.partner_name {
        o.insert("partner_name".into(), n.clone().into());
    }
    o.insert("solution_area".into(), s.solution_area.clone().into());
    o.insert("rulebook".into(), s.rulebook.clone().into());
    o.insert("month".into(), s.period.month.to_string().into());
    o.insert(
        "latest_month".into(),
        s.period.latest_month.to_string().into(),
    );
    o.insert(
        "baseline_month".into(),
        s.period.baseline_month.to_string().into(),
    );
    o.insert(
        "evaluation_date".into(),
        s.period.evaluation_date.to_string().into(),
    );
    o.insert("classification".into(), s.classification.as_str().into());
    o.insert("metrics".into(), Value::Object(metrics));
    o.insert("total_points".into(), number(s.total_points));
    o.insert("qualified".into(), s.qualified.into());
    Value::Object(o)
}

fn area_metric_object(m: &crate::area::AreaMetric) -> Value {
    let mut o = Map::new();
    o.insert("value".into(), opt_number(m.value));
    o.insert("points".into(), number(m.points));
    o.insert("max_points".into(), number(m.max_points));
    for (k, v) in &m.figures {
        o.insert(k.clone(), number(*v));
    }
    let sub = |items: &[crate::area::AreaMetric]| {
        let mut map = Map::new();
        for p in items {
            let mut x = Map::new();
            x.insert("value".into(), opt_number(p.value));
            x.insert("points".into(), number(p.points));
            for (k, v) in &p.figures {
                x.insert(k.clone(), number(*v));
            }
            map.insert(p.id.clone(), Value::Object(x));
        }
        Value::Object(map)
    };
    if !m.parts.is_empty() {
        o.insert("parts".into(), sub(&m.parts));
    }
    if !m.options.is_empty() {
        o.insert("options".into(), sub(&m.options));
        if let Some(c) = &m.chosen_option {
            o.insert("option".into(), c.clone().into());
        }
    }
    Value::Object(o)
}

fn area_metrics_object(metrics: &[crate::area::AreaMetric]) -> Value {
    let mut map = Map::new();
    for m in metrics {
        map.insert(m.id.clone(), area_metric_object(m));
    }
    Value::Object(map)
}

/// The score object of a solution area scored by the shape engine
/// (interface.md, "Every solution area"): the same fields as
/// [`score_object`]; `classification` is `null` without tracks, else the
/// reported track, with every track under `tracks`.
pub fn area_object(s: &crate::area::AreaScore) -> Value {
    let mut o = Map::new();
    o.insert("partner_id".into(), s.partner_id.clone().into());
    if let Some(n) = &s.partner_name {
        o.insert("partner_name".into(), n.clone().into());
    }
    o.insert("solution_area".into(), s.solution_area.clone().into());
    o.insert("rulebook".into(), s.rulebook.clone().into());
    o.insert("month".into(), s.period.month.to_string().into());
    o.insert(
        "latest_month".into(),
        s.period.latest_month.to_string().into(),
    );
    o.insert(
        "baseline_month".into(),
        s.period.baseline_month.to_string().into(),
    );
    o.insert(
        "evaluation_date".into(),
        s.period.evaluation_date.to_string().into(),
    );
    o.insert(
        "classification".into(),
        s.classification.clone().map_or(Value::Null, Value::from),
    );
    o.insert("metrics".into(), area_metrics_object(&s.metrics));
    if !s.tracks.is_empty() {
        let mut tracks = Map::new();
        for t in &s.tracks {
            let mut x = Map::new();
            x.insert("metrics".into(), area_metrics_object(&t.metrics));
            x.insert("total_points".into(), number(t.total_points));
            x.insert("qualified".into(), t.qualified.into());
            tracks.insert(t.track.clone(), Value::Object(x));
        }
        o.insert("tracks".into(), Value::Object(tracks));
    }
    o.insert("total_points".into(), number(s.total_points));
    o.insert("qualified".into(), s.qualified.into());
    Value::Object(o)
}

#[cfg(test)]
mod tests {
    use super::number;
    use serde_json::json;

    #[test]
    fn numbers_keep_their_decimal_text() {
        let d = |s: &str| s.parse().unwrap();
        assert_eq!(number(d("15")).to_string(), "15");
        assert_eq!(number(d("15.00")).to_string(), "15");
        assert_eq!(number(d("6.42")).to_string(), "6.42");
        assert_eq!(number(d("17.25")).to_string(), "17.25");
        assert_eq!(number(d("-3")), json!(-3));
        assert_eq!(number(d("70350.0")).to_string(), "70350");
        assert_eq!(number(d("0.2")).to_string(), "0.2");
    }

    #[test]
    fn tidy_numbers_turns_whole_floats_into_integers() {
        let mut v = json!({"a": 15.0, "b": [1.5, -2.0], "c": {"d": 3}});
        super::tidy_numbers(&mut v);
        assert_eq!(v.to_string(), r#"{"a":15,"b":[1.5,-2],"c":{"d":3}}"#);
    }
}
