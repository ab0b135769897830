//! The public score object of interface.md, built from a [`PartnerScore`]
//! or an [`AreaScore`].
//!
//! This is the one place that decides the JSON shape users and the HTTP API
//! rely on; `points` and `total_points` carry at most two decimals.
//!
//! The objects are [`Serialize`] views over borrowed scores ([`ScoreObject`],
//! [`AreaObject`]): `pcs score` writes them straight to its output, and
//! [`score_object`] / [`area_object`] are the same views as a
//! [`serde_json::Value`] for the callers that need one. Numbers are written
//! by [`Num`]; an explanation (`--explain`) is serialised through [`Tidy`],
//! which writes whole floats as integers as [`tidy_numbers`] would.

use rust_decimal::Decimal;
use serde::ser::{
    Serialize, SerializeMap, SerializeSeq, SerializeStruct, SerializeStructVariant, SerializeTuple,
    SerializeTupleStruct, SerializeTupleVariant, Serializer,
};
use serde_json::{Number, Value};

use crate::area::{AreaMetric, AreaScore, TrackScore};
use crate::score::{MetricDetail, MetricScore, PartnerScore, Period};

/// A decimal as a JSON number: an integer when whole, else the shortest
/// binary float that prints back as the same decimal text (the string when
/// there is no such float).
pub fn number(d: Decimal) -> Value {
    serde_json::to_value(Num(d)).expect("a number serialises to a Value")
}

/// A decimal that serialises as [`number`] gives it: `i64` when whole, else
/// the `f64` of its decimal text, else (no finite float) its text.
#[derive(Clone, Copy, Debug)]
pub struct Num(pub Decimal);

impl Serialize for Num {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        // Whole without normalising (trailing zeros divide out); a
        // fraction's float is the same with or without trailing zeros.
        let d = self.0;
        if let Some(i) = whole_i64(d) {
            return s.serialize_i64(i);
        }
        // Only the text, written when no finite float exists, needs the
        // normal form.
        let float = decimal_f64(d);
        match float {
            Some(f) if f.is_finite() => s.serialize_f64(f),
            _ => num_with(d.normalize(), float, s),
        }
    }
}

/// The decimal as an `i64` when it is whole and in range, as
/// `normalize().to_i64()` with a scale of 0 gives it; without 128-bit
/// division when the mantissa fits 64 bits (nearly always).
fn whole_i64(d: Decimal) -> Option<i64> {
    let (m, scale) = (d.mantissa(), d.scale());
    if scale == 0 {
        return i64::try_from(m).ok();
    }
    match (i64::try_from(m), POW10_I64.get(scale as usize)) {
        (Ok(m), Some(&p)) => (m % p == 0).then_some(m / p),
        _ => {
            let n = d.normalize();
            if n.scale() == 0 {
                i64::try_from(n.mantissa()).ok()
            } else {
                None
            }
        }
    }
}

/// Powers of ten that fit an `i64`, for a decimal's scale.
const POW10_I64: [i64; 19] = {
    let mut p = [1i64; 19];
    let mut i = 1;
    while i < 19 {
        p[i] = p[i - 1] * 10;
        i += 1;
    }
    p
};

/// A decimal that is not a whole `i64`: `float` (its text's `f64`) when
/// finite, else the text.
fn num_with<S: Serializer>(d: Decimal, float: Option<f64>, s: S) -> Result<S::Ok, S::Error> {
    match float {
        Some(f) if f.is_finite() => s.serialize_f64(f),
        _ => s.serialize_str(&d.to_string()),
    }
}

/// Powers of ten exactly representable as `f64`.
const POW10: [f64; 23] = [
    1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16,
    1e17, 1e18, 1e19, 1e20, 1e21, 1e22,
];

/// The `f64` nearest to a decimal's text (`d.to_string().parse()`), without
/// the text when the mantissa and the power of ten are both exact floats:
/// then one IEEE division is correctly rounded, as the parse is (Clinger's
/// fast path).
fn decimal_f64(d: Decimal) -> Option<f64> {
    let m = d.mantissa();
    let scale = d.scale() as usize;
    if m.unsigned_abs() < (1u128 << 53) && scale < POW10.len() {
        return Some(m as f64 / POW10[scale]);
    }
    let mut buf = TextBuf::default();
    std::fmt::Write::write_fmt(&mut buf, format_args!("{d}")).ok()?;
    std::str::from_utf8(buf.text()).ok()?.parse().ok()
}

/// A decimal's text on the stack (at most 30 bytes: sign, 28 digits, point).
struct TextBuf {
    bytes: [u8; 64],
    len: usize,
}

impl Default for TextBuf {
    fn default() -> TextBuf {
        TextBuf {
            bytes: [0; 64],
            len: 0,
        }
    }
}

impl TextBuf {
    fn text(&self) -> &[u8] {
        &self.bytes[..self.len]
    }
}

impl std::fmt::Write for TextBuf {
    fn write_str(&mut self, s: &str) -> std::fmt::Result {
        let end = self.len + s.len();
        self.bytes
            .get_mut(self.len..end)
            .ok_or(std::fmt::Error)?
            .copy_from_slice(s.as_bytes());
        self.len = end;
        Ok(())
    }
}

/// Rewrites whole floats (`15.0`) as integers (`15`) throughout a JSON value,
/// so serialized explanations print numbers the way the score object does.
/// [`Tidy`] gives the same bytes without the `Value`.
pub fn tidy_numbers(value: &mut Value) {
    match value {
        Value::Number(n) => {
            if let Some(f) = n.as_f64().filter(|_| n.is_f64())
                && whole(f)
            {
                *n = Number::from(f as i64);
            }
        }
        Value::Array(items) => items.iter_mut().for_each(tidy_numbers),
        Value::Object(map) => map.values_mut().for_each(tidy_numbers),
        _ => {}
    }
}

/// Whether [`tidy_numbers`] writes this float as an integer.
fn whole(f: f64) -> bool {
    f.fract() == 0.0 && f.abs() < 9.0e15
}

/// Serialises the value it borrows with whole floats (`15.0`) written as
/// integers (`15`), floats as `f64`: `serde_json::to_writer(w, &Tidy(&t))`
/// writes what `tidy_numbers` on `serde_json::to_value(&t)` then written
/// gives, without building the `Value`. Map keys are left as they are
/// (`tidy_numbers` walks values only).
pub struct Tidy<'a, T: ?Sized>(pub &'a T);

impl<T: Serialize + ?Sized> Serialize for Tidy<'_, T> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.0.serialize(TidySer(s))
    }
}

/// The serializer (or compound) under [`Tidy`]: every call passes through,
/// floats are tidied and nested values wrapped again.
struct TidySer<S>(S);

impl<S: Serializer> Serializer for TidySer<S> {
    type Ok = S::Ok;
    type Error = S::Error;
    type SerializeSeq = TidySer<S::SerializeSeq>;
    type SerializeTuple = TidySer<S::SerializeTuple>;
    type SerializeTupleStruct = TidySer<S::SerializeTupleStruct>;
    type SerializeTupleVariant = TidySer<S::SerializeTupleVariant>;
    type SerializeMap = TidySer<S::SerializeMap>;
    type SerializeStruct = TidySer<S::SerializeStruct>;
    type SerializeStructVariant = TidySer<S::SerializeStructVariant>;

    fn serialize_bool(self, v: bool) -> Result<S::Ok, S::Error> {
        self.0.serialize_bool(v)
    }
    fn serialize_i8(self, v: i8) -> Result<S::Ok, S::Error> {
        self.0.serialize_i8(v)
    }
    fn serialize_i16(self, v: i16) -> Result<S::Ok, S::Error> {
        self.0.serialize_i16(v)
    }
    fn serialize_i32(self, v: i32) -> Result<S::Ok, S::Error> {
        self.0.serialize_i32(v)
    }
    fn serialize_i64(self, v: i64) -> Result<S::Ok, S::Error> {
        self.0.serialize_i64(v)
    }
    fn serialize_i128(self, v: i128) -> Result<S::Ok, S::Error> {
        self.0.serialize_i128(v)
    }
    fn serialize_u8(self, v: u8) -> Result<S::Ok, S::Error> {
        self.0.serialize_u8(v)
    }
    fn serialize_u16(self, v: u16) -> Result<S::Ok, S::Error> {
        self.0.serialize_u16(v)
    }
    fn serialize_u32(self, v: u32) -> Result<S::Ok, S::Error> {
        self.0.serialize_u32(v)
    }
    fn serialize_u64(self, v: u64) -> Result<S::Ok, S::Error> {
        self.0.serialize_u64(v)
    }
    fn serialize_u128(self, v: u128) -> Result<S::Ok, S::Error> {
        self.0.serialize_u128(v)
    }
    // A `Value` holds an `f32` as the `f64` it converts to.
    fn serialize_f32(self, v: f32) -> Result<S::Ok, S::Error> {
        self.serialize_f64(f64::from(v))
    }
    fn serialize_f64(self, v: f64) -> Result<S::Ok, S::Error> {
        if whole(v) {
            self.0.serialize_i64(v as i64)
        } else {
            self.0.serialize_f64(v)
        }
    }
    fn serialize_char(self, v: char) -> Result<S::Ok, S::Error> {
        self.0.serialize_char(v)
    }
    fn serialize_str(self, v: &str) -> Result<S::Ok, S::Error> {
        self.0.serialize_str(v)
    }
    fn serialize_bytes(self, v: &[u8]) -> Result<S::Ok, S::Error> {
        self.0.serialize_bytes(v)
    }
    fn collect_str<T: std::fmt::Display + ?Sized>(self, v: &T) -> Result<S::Ok, S::Error> {
        self.0.collect_str(v)
    }
    fn serialize_none(self) -> Result<S::Ok, S::Error> {
        self.0.serialize_none()
    }
    fn serialize_some<T: Serialize + ?Sized>(self, v: &T) -> Result<S::Ok, S::Error> {
        self.0.serialize_some(&Tidy(v))
    }
    fn serialize_unit(self) -> Result<S::Ok, S::Error> {
        self.0.serialize_unit()
    }
    fn serialize_unit_struct(self, name: &'static str) -> Result<S::Ok, S::Error> {
        self.0.serialize_unit_struct(name)
    }
    fn serialize_unit_variant(
        self,
        name: &'static str,
        index: u32,
        variant: &'static str,
    ) -> Result<S::Ok, S::Error> {
        self.0.serialize_unit_variant(name, index, variant)
    }
    fn serialize_newtype_struct<T: Serialize + ?Sized>(
        self,
        name: &'static str,
        v: &T,
    ) -> Result<S::Ok, S::Error> {
        self.0.serialize_newtype_struct(name, &Tidy(v))
    }
    fn serialize_newtype_variant<T: Serialize + ?Sized>(
        self,
        name: &'static str,
        index: u32,
        variant: &'static str,
        v: &T,
    ) -> Result<S::Ok, S::Error> {
        self.0
            .serialize_newtype_variant(name, index, variant, &Tidy(v))
    }
    fn serialize_seq(self, len: Option<usize>) -> Result<Self::SerializeSeq, S::Error> {
        self.0.serialize_seq(len).map(TidySer)
    }
    fn serialize_tuple(self, len: usize) -> Result<Self::SerializeTuple, S::Error> {
        self.0.serialize_tuple(len).map(TidySer)
    }
    fn serialize_tuple_struct(
        self,
        name: &'static str,
        len: usize,
    ) -> Result<Self::SerializeTupleStruct, S::Error> {
        self.0.serialize_tuple_struct(name, len).map(TidySer)
    }
    fn serialize_tuple_variant(
        self,
        name: &'static str,
        index: u32,
        variant: &'static str,
        len: usize,
    ) -> Result<Self::SerializeTupleVariant, S::Error> {
        self.0
            .serialize_tuple_variant(name, index, variant, len)
            .map(TidySer)
    }
    fn serialize_map(self, len: Option<usize>) -> Result<Self::SerializeMap, S::Error> {
        self.0.serialize_map(len).map(TidySer)
    }
    fn serialize_struct(
        self,
        name: &'static str,
        len: usize,
    ) -> Result<Self::SerializeStruct, S::Error> {
        self.0.serialize_struct(name, len).map(TidySer)
    }
    fn serialize_struct_variant(
        self,
        name: &'static str,
        index: u32,
        variant: &'static str,
        len: usize,
    ) -> Result<Self::SerializeStructVariant, S::Error> {
        self.0
            .serialize_struct_variant(name, index, variant, len)
            .map(TidySer)
    }
    fn is_human_readable(&self) -> bool {
        self.0.is_human_readable()
    }
}

/// A compound of serde's under [`TidySer`]: each element (or field) written
/// through [`Tidy`], the rest passed through.
macro_rules! tidy_compound {
    ($trait:ident, $method:ident) => {
        impl<S: $trait> $trait for TidySer<S> {
            type Ok = S::Ok;
            type Error = S::Error;
            fn $method<T: Serialize + ?Sized>(&mut self, v: &T) -> Result<(), S::Error> {
                self.0.$method(&Tidy(v))
            }
            fn end(self) -> Result<S::Ok, S::Error> {
                self.0.end()
            }
        }
    };
    ($trait:ident, $method:ident, keyed) => {
        impl<S: $trait> $trait for TidySer<S> {
            type Ok = S::Ok;
            type Error = S::Error;
            fn $method<T: Serialize + ?Sized>(
                &mut self,
                key: &'static str,
                v: &T,
            ) -> Result<(), S::Error> {
                self.0.$method(key, &Tidy(v))
            }
            fn skip_field(&mut self, key: &'static str) -> Result<(), S::Error> {
                self.0.skip_field(key)
            }
            fn end(self) -> Result<S::Ok, S::Error> {
                self.0.end()
            }
        }
    };
}

tidy_compound!(SerializeSeq, serialize_element);
tidy_compound!(SerializeTuple, serialize_element);
tidy_compound!(SerializeTupleStruct, serialize_field);
tidy_compound!(SerializeTupleVariant, serialize_field);
tidy_compound!(SerializeStruct, serialize_field, keyed);
tidy_compound!(SerializeStructVariant, serialize_field, keyed);

impl<S: SerializeMap> SerializeMap for TidySer<S> {
    type Ok = S::Ok;
    type Error = S::Error;
    fn serialize_key<T: Serialize + ?Sized>(&mut self, k: &T) -> Result<(), S::Error> {
        self.0.serialize_key(k)
    }
    fn serialize_value<T: Serialize + ?Sized>(&mut self, v: &T) -> Result<(), S::Error> {
        self.0.serialize_value(&Tidy(v))
    }
    fn serialize_entry<K: Serialize + ?Sized, V: Serialize + ?Sized>(
        &mut self,
        k: &K,
        v: &V,
    ) -> Result<(), S::Error> {
        self.0.serialize_entry(k, &Tidy(v))
    }
    fn end(self) -> Result<S::Ok, S::Error> {
        self.0.end()
    }
}

/// A date written as its `YYYY-MM-DD` text.
struct DateText(jiff::civil::Date);

impl Serialize for DateText {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        crate::calendar::serialize_date(self.0, s)
    }
}

/// A JSON object of `items`, each under the key `entry` gives it with its
/// value (the metrics by id, the tracks by name).
struct Keyed<'a, T, V> {
    items: &'a [T],
    entry: fn(&'a T) -> (&'a str, V),
}

fn keyed<'a, T, V>(items: &'a [T], entry: fn(&'a T) -> (&'a str, V)) -> Keyed<'a, T, V> {
    Keyed { items, entry }
}

impl<T, V: Serialize> Serialize for Keyed<'_, T, V> {
    fn serialize<S: Serializer>(&self, ser: S) -> Result<S::Ok, S::Error> {
        let mut map = ser.serialize_map(Some(self.items.len()))?;
        for x in self.items {
            let (k, v) = (self.entry)(x);
            map.serialize_entry(k, &v)?;
        }
        map.end()
    }
}

/// `Some` as a [`Num`], `None` as `null`.
fn opt_num(d: Option<Decimal>) -> Option<Num> {
    d.map(Num)
}

/// The fields every score object opens with, in the contract's order.
fn head<M: SerializeMap>(
    o: &mut M,
    partner_id: &str,
    partner_name: Option<&String>,
    solution_area: &str,
    rulebook: &str,
    period: &Period,
) -> Result<(), M::Error> {
    o.serialize_entry("partner_id", partner_id)?;
    if let Some(n) = partner_name {
        o.serialize_entry("partner_name", n)?;
    }
    o.serialize_entry("solution_area", solution_area)?;
    o.serialize_entry("rulebook", rulebook)?;
    o.serialize_entry("month", &period.month)?;
    o.serialize_entry("latest_month", &period.latest_month)?;
    o.serialize_entry("baseline_month", &period.baseline_month)?;
    o.serialize_entry("evaluation_date", &DateText(period.evaluation_date))
}

/// The score object of Business Applications: the contract's fields plus
/// `rulebook` and `partner_name`, and with [`ScoreObject::explained`] the
/// `explanation` that `pcs score --explain` adds (the classification
/// detail and every metric's detail, numbers tidied).
///
/// ```
/// # use pcs_core::{facts::PartnerFacts, rulebook::RulebookSet, score::{score_partner, Period}};
/// # use pcs_core::contract::ScoreObject;
/// let set = RulebookSet::builtin();
/// let rb = &set.versions()[0];
/// let period = Period::for_month(rb, "2023-11".parse().unwrap());
/// let s = score_partner(rb, "P1", &PartnerFacts::default(), period);
/// let line = serde_json::to_string(&ScoreObject::new(&s)).unwrap();
/// assert!(line.starts_with(r#"{"partner_id":"P1","solution_area":"business_applications""#));
/// ```
#[derive(Clone, Copy, Debug)]
pub struct ScoreObject<'a> {
    score: &'a PartnerScore,
    explain: bool,
}

impl<'a> ScoreObject<'a> {
    /// The score object.
    pub fn new(score: &'a PartnerScore) -> Self {
        ScoreObject {
            score,
            explain: false,
        }
    }

    /// The score object, with its `explanation` when `explain` is set.
    pub fn explained(score: &'a PartnerScore, explain: bool) -> Self {
        ScoreObject { score, explain }
    }
}

impl Serialize for ScoreObject<'_> {
    fn serialize<S: Serializer>(&self, ser: S) -> Result<S::Ok, S::Error> {
        let s = self.score;
        let mut o = ser.serialize_map(None)?;
        head(
            &mut o,
            &s.partner_id,
            s.partner_name.as_ref(),
            &s.solution_area,
            &s.rulebook,
            &s.period,
        )?;
        o.serialize_entry("classification", s.classification.as_str())?;
        o.serialize_entry(
            "metrics",
            &keyed(&s.metrics, |m| (m.id.as_str(), BaMetric(m))),
        )?;
        o.serialize_entry("total_points", &Num(s.total_points))?;
        o.serialize_entry("qualified", &s.qualified)?;
        if self.explain {
            o.serialize_entry("explanation", &Tidy(&BaExplanation(s)))?;
        }
        o.end()
    }
}

/// One metric of the score object.
struct BaMetric<'a>(&'a MetricScore);

impl Serialize for BaMetric<'_> {
    fn serialize<S: Serializer>(&self, ser: S) -> Result<S::Ok, S::Error> {
        let m = self.0;
        let mut o = ser.serialize_map(None)?;
        o.serialize_entry("value", &opt_num(m.value))?;
        o.serialize_entry("points", &Num(m.points))?;
        o.serialize_entry("max_points", &Num(m.max_points))?;
        if let MetricDetail::ConsumptionGrowth {
            latest_mcv,
            baseline_mcv,
            ..
        } = &m.detail
        {
            o.serialize_entry("latest_mcv", &Num(*latest_mcv))?;
            o.serialize_entry("baseline_mcv", &Num(*baseline_mcv))?;
        }
        o.end()
    }
}

/// `--explain`'s explanation of a Business Applications score: the
/// classification detail and each metric as serialised, by id.
struct BaExplanation<'a>(&'a PartnerScore);

impl Serialize for BaExplanation<'_> {
    fn serialize<S: Serializer>(&self, ser: S) -> Result<S::Ok, S::Error> {
        let mut o = ser.serialize_map(Some(2))?;
        o.serialize_entry("classification", &self.0.classification_detail)?;
        o.serialize_entry("metrics", &keyed(&self.0.metrics, |m| (m.id.as_str(), m)))?;
        o.end()
    }
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
    serde_json::to_value(ScoreObject::new(s)).expect("a score object serialises to a Value")
}

/// The score object of a solution area scored by the shape engine
/// (interface.md, "Every solution area"): the same fields as
/// [`ScoreObject`]; `classification` is `null` without tracks, else the
/// reported track, with every track under `tracks`. With
/// [`AreaObject::explained`], the `explanation` of `pcs score --explain`:
/// each metric as serialised, by id (by `track.id` when the area has tracks,
/// every track's metrics).
#[derive(Clone, Copy, Debug)]
pub struct AreaObject<'a> {
    score: &'a AreaScore,
    explain: bool,
}

impl<'a> AreaObject<'a> {
    /// The score object.
    pub fn new(score: &'a AreaScore) -> Self {
        AreaObject {
            score,
            explain: false,
        }
    }

    /// The score object, with its `explanation` when `explain` is set.
    pub fn explained(score: &'a AreaScore, explain: bool) -> Self {
        AreaObject { score, explain }
    }
}

impl Serialize for AreaObject<'_> {
    fn serialize<S: Serializer>(&self, ser: S) -> Result<S::Ok, S::Error> {
        let s = self.score;
        let mut o = ser.serialize_map(None)?;
        head(
            &mut o,
            &s.partner_id,
            s.partner_name.as_ref(),
            &s.solution_area,
            &s.rulebook,
            &s.period,
        )?;
        o.serialize_entry("classification", &s.classification)?;
        o.serialize_entry("metrics", &area_metrics(&s.metrics))?;
        if !s.tracks.is_empty() {
            struct Track<'a>(&'a TrackScore);
            impl Serialize for Track<'_> {
                fn serialize<S: Serializer>(&self, ser: S) -> Result<S::Ok, S::Error> {
                    let mut o = ser.serialize_map(Some(3))?;
                    o.serialize_entry("metrics", &area_metrics(&self.0.metrics))?;
                    o.serialize_entry("total_points", &Num(self.0.total_points))?;
                    o.serialize_entry("qualified", &self.0.qualified)?;
                    o.end()
                }
            }
            o.serialize_entry(
                "tracks",
                &keyed(&s.tracks, |t| (t.track.as_str(), Track(t))),
            )?;
        }
        o.serialize_entry("total_points", &Num(s.total_points))?;
        o.serialize_entry("qualified", &s.qualified)?;
        if self.explain {
            o.serialize_entry("explanation", &Tidy(&AreaExplanation(s)))?;
        }
        o.end()
    }
}

/// An area's metrics, by id.
fn area_metrics(metrics: &[AreaMetric]) -> impl Serialize + '_ {
    keyed(metrics, |m| (m.id.as_str(), AreaMetricObject(m)))
}

/// One metric of an area's score object: value, points, cap, its figures,
/// then its parts or its options (and the option chosen).
struct AreaMetricObject<'a>(&'a AreaMetric);

impl Serialize for AreaMetricObject<'_> {
    fn serialize<S: Serializer>(&self, ser: S) -> Result<S::Ok, S::Error> {
        let m = self.0;
        let mut o = ser.serialize_map(None)?;
        o.serialize_entry("value", &opt_num(m.value))?;
        o.serialize_entry("points", &Num(m.points))?;
        o.serialize_entry("max_points", &Num(m.max_points))?;
        for (k, v) in &m.figures {
            o.serialize_entry(k, &Num(*v))?;
        }
        if !m.parts.is_empty() {
            o.serialize_entry("parts", &sub_metrics(&m.parts))?;
        }
        if !m.options.is_empty() {
            o.serialize_entry("options", &sub_metrics(&m.options))?;
            if let Some(c) = &m.chosen_option {
                o.serialize_entry("option", c)?;
            }
        }
        o.end()
    }
}

/// The parts or options of a metric, by id: value, points, figures.
fn sub_metrics(items: &[AreaMetric]) -> impl Serialize + '_ {
    struct Sub<'a>(&'a AreaMetric);
    impl Serialize for Sub<'_> {
        fn serialize<S: Serializer>(&self, ser: S) -> Result<S::Ok, S::Error> {
            let p = self.0;
            let mut x = ser.serialize_map(None)?;
            x.serialize_entry("value", &opt_num(p.value))?;
            x.serialize_entry("points", &Num(p.points))?;
            for (k, v) in &p.figures {
                x.serialize_entry(k, &Num(*v))?;
            }
            x.end()
        }
    }
    keyed(items, |p| (p.id.as_str(), Sub(p)))
}

/// `--explain`'s explanation of an area score: each metric as serialised,
/// by id, or by `track.id` for every track's metrics.
struct AreaExplanation<'a>(&'a AreaScore);

impl Serialize for AreaExplanation<'_> {
    fn serialize<S: Serializer>(&self, ser: S) -> Result<S::Ok, S::Error> {
        struct ByKey<'a>(&'a AreaScore);
        impl Serialize for ByKey<'_> {
            fn serialize<S: Serializer>(&self, ser: S) -> Result<S::Ok, S::Error> {
                let a = self.0;
                let mut map = ser.serialize_map(None)?;
                if a.tracks.is_empty() {
                    for m in &a.metrics {
                        map.serialize_entry(&m.id, m)?;
                    }
                } else {
                    for t in &a.tracks {
                        for m in &t.metrics {
                            map.serialize_entry(&format!("{}.{}", t.track, m.id), m)?;
                        }
                    }
                }
                map.end()
            }
        }
        let mut o = ser.serialize_map(Some(1))?;
        o.serialize_entry("metrics", &ByKey(self.0))?;
        o.end()
    }
}

/// The score object of an area as a `Value` ([`AreaObject`]).
pub fn area_object(s: &AreaScore) -> Value {
    serde_json::to_value(AreaObject::new(s)).expect("a score object serialises to a Value")
}

#[cfg(test)]
mod tests {
    //! Every view against the `Value` path it replaced: the same bytes,
    //! compact and pretty, with and without explanations.

    use super::*;
    use crate::area::{AreaEngine, AreaRulebook, score_area_with};
    use crate::calendar::{Month, parse_date};
    use crate::facts::{AcrRow, CertificationRow, FactsBuilder, LicenseRow, MonthFilter};
    use crate::facts::{RevenueRow, UsageRow};
    use crate::rulebook::RulebookSet;
    use crate::score::{Detail, score_partner_with};
    use crate::vocab::Vocabulary;
    use proptest::prelude::*;
    use serde_json::{Map, json};

    // ------------------------------------------------ the Value path, as it was

    fn old_number(d: Decimal) -> Value {
        use rust_decimal::prelude::ToPrimitive;
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

    fn old_opt(d: Option<Decimal>) -> Value {
        d.map_or(Value::Null, old_number)
    }

    fn old_head(
        o: &mut Map<String, Value>,
        id: &str,
        name: &Option<String>,
        area: &str,
        rulebook: &str,
        p: &Period,
    ) {
        o.insert("partner_id".into(), id.into());
        if let Some(n) = name {
            o.insert("partner_name".into(), n.clone().into());
        }
        o.insert("solution_area".into(), area.into());
        o.insert("rulebook".into(), rulebook.into());
        o.insert("month".into(), p.month.to_string().into());
        o.insert("latest_month".into(), p.latest_month.to_string().into());
        o.insert("baseline_month".into(), p.baseline_month.to_string().into());
        o.insert(
            "evaluation_date".into(),
            p.evaluation_date.to_string().into(),
        );
    }

    fn old_score_object(s: &PartnerScore, explain: bool) -> Value {
        let mut metrics = Map::new();
        for m in &s.metrics {
            let mut o = Map::new();
            o.insert("value".into(), old_opt(m.value));
            o.insert("points".into(), old_number(m.points));
            o.insert("max_points".into(), old_number(m.max_points));
            if let MetricDetail::ConsumptionGrowth {
                latest_mcv,
                baseline_mcv,
                ..
            } = &m.detail
            {
                o.insert("latest_mcv".into(), old_number(*latest_mcv));
                o.insert("baseline_mcv".into(), old_number(*baseline_mcv));
            }
            metrics.insert(m.id.clone(), Value::Object(o));
        }
        let mut o = Map::new();
        old_head(
            &mut o,
            &s.partner_id,
            &s.partner_name,
            &s.solution_area,
            &s.rulebook,
            &s.period,
        );
        o.insert("classification".into(), s.classification.as_str().into());
        o.insert("metrics".into(), Value::Object(metrics));
        o.insert("total_points".into(), old_number(s.total_points));
        o.insert("qualified".into(), s.qualified.into());
        let mut o = Value::Object(o);
        if explain {
            let mut metrics = Map::new();
            for m in &s.metrics {
                metrics.insert(m.id.clone(), serde_json::to_value(m).unwrap());
            }
            let mut e = json!({
                "classification": serde_json::to_value(&s.classification_detail).unwrap(),
                "metrics": metrics,
            });
            tidy_numbers(&mut e);
            o["explanation"] = e;
        }
        o
    }

    fn old_area_metric(m: &AreaMetric) -> Value {
        let mut o = Map::new();
        o.insert("value".into(), old_opt(m.value));
        o.insert("points".into(), old_number(m.points));
        o.insert("max_points".into(), old_number(m.max_points));
        for (k, v) in &m.figures {
            o.insert(k.clone(), old_number(*v));
        }
        let sub = |items: &[AreaMetric]| {
            let mut map = Map::new();
            for p in items {
                let mut x = Map::new();
                x.insert("value".into(), old_opt(p.value));
                x.insert("points".into(), old_number(p.points));
                for (k, v) in &p.figures {
                    x.insert(k.clone(), old_number(*v));
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

    fn old_area_metrics(metrics: &[AreaMetric]) -> Value {
        Value::Object(
            metrics
                .iter()
                .map(|m| (m.id.clone(), old_area_metric(m)))
                .collect(),
        )
    }

    fn old_area_object(s: &AreaScore, explain: bool) -> Value {
        let mut o = Map::new();
        old_head(
            &mut o,
            &s.partner_id,
            &s.partner_name,
            &s.solution_area,
            &s.rulebook,
            &s.period,
        );
        o.insert(
            "classification".into(),
            s.classification.clone().map_or(Value::Null, Value::from),
        );
        o.insert("metrics".into(), old_area_metrics(&s.metrics));
        if !s.tracks.is_empty() {
            let mut tracks = Map::new();
            for t in &s.tracks {
                let mut x = Map::new();
                x.insert("metrics".into(), old_area_metrics(&t.metrics));
                x.insert("total_points".into(), old_number(t.total_points));
                x.insert("qualified".into(), t.qualified.into());
                tracks.insert(t.track.clone(), Value::Object(x));
            }
            o.insert("tracks".into(), Value::Object(tracks));
        }
        o.insert("total_points".into(), old_number(s.total_points));
        o.insert("qualified".into(), s.qualified.into());
        let mut o = Value::Object(o);
        if explain {
            let mut metrics = Map::new();
            if s.tracks.is_empty() {
                for m in &s.metrics {
                    metrics.insert(m.id.clone(), serde_json::to_value(m).unwrap());
                }
            } else {
                for t in &s.tracks {
                    for m in &t.metrics {
                        metrics.insert(
                            format!("{}.{}", t.track, m.id),
                            serde_json::to_value(m).unwrap(),
                        );
                    }
                }
            }
            let mut e = json!({ "metrics": metrics });
            tidy_numbers(&mut e);
            o["explanation"] = e;
        }
        o
    }

    /// The bytes of `new` equal those of `old`, compact (by serde_json and
    /// by [`crate::json::write_compact`]) and pretty.
    fn same_bytes(new: &impl Serialize, old: &Value) {
        assert_eq!(
            serde_json::to_string(new).unwrap(),
            serde_json::to_string(old).unwrap()
        );
        let mut compact = Vec::new();
        crate::json::write_compact(&mut compact, new).unwrap();
        assert_eq!(
            String::from_utf8(compact).unwrap(),
            serde_json::to_string(old).unwrap()
        );
        assert_eq!(
            serde_json::to_string_pretty(new).unwrap(),
            serde_json::to_string_pretty(old).unwrap()
        );
    }

    // ------------------------------------------------------------- numbers

    fn d(s: &str) -> Decimal {
        s.parse().unwrap()
    }

    /// Whole, fractional, large and negative decimals, and fractions that
    /// round to a whole float.
    const DECIMALS: [&str; 22] = [
        "0",
        "-0",
        "15",
        "15.00",
        "70350.0",
        "-3",
        "6.42",
        "-17.25",
        "0.2",
        "0.1",
        "0.0000000000000000000000000001",
        "9007199254740993",
        "9007199254740993.5",
        "9223372036854775807",
        "9223372036854775808",
        "-9223372036854775809",
        "12345678901234567890.123",
        "79228162514264337593543950335",
        "-79228162514264337593543950335",
        "1.0000000000000000001",
        "123456.7890123456789",
        "8999999999999999.5",
    ];

    #[test]
    fn numbers_keep_their_decimal_text() {
        assert_eq!(number(d("15")).to_string(), "15");
        assert_eq!(number(d("15.00")).to_string(), "15");
        assert_eq!(number(d("6.42")).to_string(), "6.42");
        assert_eq!(number(d("17.25")).to_string(), "17.25");
        assert_eq!(number(d("-3")), json!(-3));
        assert_eq!(number(d("70350.0")).to_string(), "70350");
        assert_eq!(number(d("0.2")).to_string(), "0.2");
        // Not whole, but no float tells it from 1: the float, as before.
        assert_eq!(number(d("1.0000000000000000001")).to_string(), "1.0");
        assert_eq!(
            number(d("9223372036854775808")).to_string(),
            "9.223372036854776e+18"
        );
    }

    #[test]
    fn num_writes_what_the_value_path_wrote() {
        for s in DECIMALS {
            let x = d(s);
            assert_eq!(
                serde_json::to_string(&Num(x)).unwrap(),
                old_number(x).to_string(),
                "{s}"
            );
            assert_eq!(number(x), old_number(x), "{s}");
        }
    }

    #[test]
    fn a_decimal_without_a_finite_float_is_its_text() {
        // No `Decimal` reaches it (the largest is 7.9e28); the branch is
        // taken as `number` took it, by what the float turns out to be.
        let x = d("-12.5");
        for f in [None, Some(f64::INFINITY), Some(f64::NAN)] {
            let mut out = Vec::new();
            num_with(x, f, &mut serde_json::Serializer::new(&mut out)).unwrap();
            assert_eq!(String::from_utf8(out).unwrap(), r#""-12.5""#);
        }
        assert_eq!(
            serde_json::to_value(Num(d("12.5"))).unwrap(),
            json!(12.5),
            "a finite float is a number"
        );
    }

    proptest! {
        #[test]
        fn num_is_the_float_of_the_decimal_text(
            m in any::<i128>(),
            scale in 0u32..=28,
        ) {
            let m = m % 79_228_162_514_264_337_593_543_950_335i128;
            let x = Decimal::from_i128_with_scale(m, scale);
            prop_assert_eq!(serde_json::to_string(&Num(x)).unwrap(), old_number(x).to_string());
            // Mantissas past 2^53 (the text path) and within it (the fast path).
            for bits in [60, 54, 53, 40, 20] {
                let small = Decimal::from_i128_with_scale(m % (1i128 << bits), scale);
                prop_assert_eq!(
                    serde_json::to_string(&Num(small)).unwrap(),
                    old_number(small).to_string()
                );
            }
            // Whole values written with trailing zeros (`1500.000`), in and
            // past the range of an `i64`.
            for bits in [20, 40, 62, 63, 64, 70] {
                // A mantissa within 2^95, as a decimal's must be.
                let zeros = scale.min((95 - bits) * 3 / 10);
                let whole = Decimal::from_i128_with_scale(
                    (m % (1i128 << bits)) * 10i128.pow(zeros),
                    zeros,
                );
                prop_assert_eq!(
                    serde_json::to_string(&Num(whole)).unwrap(),
                    old_number(whole).to_string()
                );
            }
        }

        #[test]
        fn tidy_writes_what_tidy_numbers_wrote(
            fs in proptest::collection::vec(prop_oneof![
                any::<f64>(),
                (-1i64 << 60..1i64 << 60).prop_map(|i| i as f64),
                (-1_000_000i64..1_000_000).prop_map(|i| i as f64 / 4.0),
                Just(9.0e15), Just(-9.0e15), Just(8.999999999999999e15), Just(-0.0),
            ], 0..8),
            f32s in proptest::collection::vec(any::<f32>(), 0..3),
        ) {
            let v = json!({"a": fs, "b": {"c": fs.first(), "d": [fs.last()]}, "e": f32s});
            let mut tidied = v.clone();
            tidy_numbers(&mut tidied);
            prop_assert_eq!(serde_json::to_string(&Tidy(&v)).unwrap(), tidied.to_string());
            // Serialised from the typed values, not from a Value.
            let typed = (fs.clone(), f32s.clone(), Some(fs.clone()));
            let mut tidied = serde_json::to_value(&typed).unwrap();
            tidy_numbers(&mut tidied);
            prop_assert_eq!(serde_json::to_string(&Tidy(&typed)).unwrap(), tidied.to_string());
        }
    }

    #[test]
    fn tidy_turns_whole_floats_into_integers_and_leaves_keys() {
        let mut v = json!({"a": 15.0, "b": [1.5, -2.0], "c": {"d": 3}, "e": -0.0, "f": 9.0e15, "g": 8.0e15});
        let direct = serde_json::to_string(&Tidy(&v)).unwrap();
        tidy_numbers(&mut v);
        assert_eq!(
            v.to_string(),
            r#"{"a":15,"b":[1.5,-2],"c":{"d":3},"e":0,"f":9000000000000000.0,"g":8000000000000000}"#
        );
        assert_eq!(direct, v.to_string());
        let keyed: std::collections::BTreeMap<i64, f64> = [(1, 2.0), (3, 4.5)].into();
        assert_eq!(
            serde_json::to_string(&Tidy(&keyed)).unwrap(),
            r#"{"1":2,"3":4.5}"#
        );
        #[derive(serde::Serialize)]
        enum E {
            N(f64),
            T(f64, f32),
            S { x: f64 },
        }
        assert_eq!(
            serde_json::to_string(&Tidy(&[E::N(1.0), E::T(2.0, 0.5), E::S { x: 3.0 }])).unwrap(),
            r#"[{"N":1},{"T":[2,0.5]},{"S":{"x":3}}]"#
        );
    }

    // -------------------------------------------------------------- scores

    fn ba_score(month: &str) -> PartnerScore {
        let set = RulebookSet::builtin();
        let rb = &set.versions()[0];
        let mut b = FactsBuilder::new(rb, MonthFilter::All, true);
        let months = ["2023-10", "2022-10", "2023-09"];
        let workloads = ["Sales", "Customer Service", "Finance", "Power BI"];
        let assoc = ["DPOR", "CSP Tier 1", "PAL", "Other"];
        let mut line = 1;
        for t in 0..12u32 {
            for (i, m) in months.iter().enumerate() {
                line += 1;
                let tenant = format!("T{t}");
                let name = format!("Customer \"{t}\" é");
                b.add_revenue(&RevenueRow {
                    partner_id: "P",
                    customer_tenant_id: &tenant,
                    customer_name: Some(&name),
                    subscription_id: Some(if t % 2 == 0 { "S1" } else { "S2" }),
                    workload: workloads[(t as usize + i) % 4],
                    month: m.parse().unwrap(),
                    revenue_usd: Decimal::new(i64::from(t) * 70_001 + 1_000 * i as i64, 2),
                    association: assoc[t as usize % 4],
                    line,
                });
                line += 1;
                b.add_usage(&UsageRow {
                    partner_id: "P",
                    customer_tenant_id: &tenant,
                    customer_name: None,
                    workload: ["Sales", "Power BI", "Portals", "Finance"][t as usize % 4],
                    month: m.parse().unwrap(),
                    quantity: Decimal::new(i64::from(t) * 1234 + 7 * i as i64, 1),
                    association: assoc[(t as usize + 1) % 4],
                    line,
                });
            }
        }
        let certs = [
            "data-analyst-associate",
            "power-platform-solution-architect-expert",
            "d365-functional-consultant-customer-service",
            "AZ-900",
        ];
        for p in 0..9usize {
            line += 1;
            b.add_certification(&CertificationRow {
                partner_id: "P",
                person_id: &format!("person{p}"),
                person_name: Some("A. Person"),
                certification: certs[p % 4],
                earned_on: parse_date(["2022-03-01", "2023-08-15", "2024-09-01"][p % 3]).unwrap(),
                expires_on: (p % 2 == 0).then(|| parse_date("2024-01-31").unwrap()),
                line,
            });
        }
        let facts = b.finish();
        let mut f = facts.partners["P"].clone();
        f.name = Some("Partner \u{1F600}".into());
        score_partner_with(
            rb,
            "P",
            &f,
            Period::for_month(rb, month.parse::<Month>().unwrap()),
            Detail::Full,
        )
    }

    fn area_scores(month: &str, date: &str) -> Vec<AreaScore> {
        let set = RulebookSet::builtin();
        let ba = &set.versions()[0];
        let date = parse_date(date).unwrap();
        let areas: Vec<&AreaRulebook> = set.area_versions().iter().collect();
        let vocab = Vocabulary::new(&[ba], &areas).unwrap();
        let mut b =
            FactsBuilder::new(ba, MonthFilter::All, true).with_areas(&vocab, MonthFilter::All);
        let services = [
            "Storage",
            "Key Vault",
            "Sentinel",
            "Virtual Machines",
            "Unknown Thing",
        ];
        let workloads = [
            "Teams",
            "Exchange",
            "SharePoint",
            "Azure Active Directory Premium",
            "Defender",
        ];
        let assoc = ["PAL", "CPOR", "CSP Tier 1", "DPOR"];
        let mut line = 1;
        for t in 0..10u32 {
            let tenant = format!("T{t}");
            for k in 0..24u32 {
                let m = Month::new(2022, 2).unwrap().plus(k);
                line += 1;
                b.add_acr(&AcrRow {
                    partner_id: "P",
                    customer_tenant_id: &tenant,
                    customer_name: Some("C"),
                    subscription_id: Some(["S1", "S2"][(t + k) as usize % 2]),
                    service: services[(t + k) as usize % 5],
                    month: m,
                    acr_usd: Decimal::new(i64::from(t * 40_000 + k * 1_733), 2),
                    association: assoc[t as usize % 4],
                    offer: (k % 7 == 0).then_some("Trial"),
                    line,
                });
                line += 1;
                b.add_license(&LicenseRow {
                    partner_id: "P",
                    customer_tenant_id: &tenant,
                    customer_name: None,
                    workload: workloads[t as usize % 5],
                    month: m,
                    association: assoc[(t + 1) as usize % 4],
                    paid_seats: u64::from(t * 37 + k),
                    active_users: u64::from(t * 15 + k * 2),
                    associated_on: Some(
                        parse_date(["2020-01-01", "2023-03-05"][t as usize % 2]).unwrap(),
                    ),
                    line,
                });
            }
        }
        let certs = [
            "azure-solutions-architect",
            "azure-administrator",
            "azure-ai-engineer",
            "security-operations-analyst",
            "teams-administrator",
            "modern-desktop-administrator",
        ];
        for p in 0..14usize {
            line += 1;
            b.add_certification(&CertificationRow {
                partner_id: "P",
                person_id: &format!("p{p}"),
                person_name: None,
                certification: certs[p % 6],
                earned_on: parse_date("2023-01-01").unwrap(),
                expires_on: None,
                line,
            });
        }
        let facts = b.finish();
        let pf = &facts.partners["P"];
        let m: Month = month.parse().unwrap();
        set.areas_in_force(date)
            .into_iter()
            .map(|rb| {
                let engine = AreaEngine::new(rb, &vocab, ba);
                let period = Period::with_calendar(&rb.calendar, m, date);
                score_area_with(&engine, "P", pf, period, Detail::Full)
            })
            .collect()
    }

    #[test]
    fn the_score_object_writes_what_the_value_path_wrote() {
        for month in ["2023-11", "2024-07"] {
            let mut s = ba_score(month);
            assert!(s.metrics.iter().any(|m| !m.points.is_zero()));
            for explain in [false, true] {
                same_bytes(
                    &ScoreObject::explained(&s, explain),
                    &old_score_object(&s, explain),
                );
            }
            assert_eq!(score_object(&s), old_score_object(&s, false));
            // Every kind of number in every numeric field.
            s.partner_name = None;
            for (i, x) in DECIMALS.iter().enumerate() {
                let x = d(x);
                s.total_points = x;
                for m in &mut s.metrics {
                    m.points = x;
                    m.max_points = -x;
                    m.value = (i % 3 != 0).then_some(x);
                    if let MetricDetail::ConsumptionGrowth { latest_mcv, .. } = &mut m.detail {
                        *latest_mcv = x;
                    }
                }
                for explain in [false, true] {
                    same_bytes(
                        &ScoreObject::explained(&s, explain),
                        &old_score_object(&s, explain),
                    );
                }
            }
        }
    }

    #[test]
    fn the_area_object_writes_what_the_value_path_wrote() {
        let mut seen = (false, false, false);
        for (month, date) in [
            ("2024-01", "2024-01-31"),
            ("2023-11", "2023-11-30"),
            ("2024-07", "2024-07-31"),
        ] {
            for mut s in area_scores(month, date) {
                seen.0 |= !s.tracks.is_empty();
                seen.1 |= s.metrics.iter().any(|m| !m.parts.is_empty());
                seen.2 |= s
                    .tracks
                    .iter()
                    .any(|t| t.metrics.iter().any(|m| !m.options.is_empty()));
                for explain in [false, true] {
                    same_bytes(
                        &AreaObject::explained(&s, explain),
                        &old_area_object(&s, explain),
                    );
                }
                assert_eq!(area_object(&s), old_area_object(&s, false));
                s.partner_name = Some("Ünïcode \"quoted\"".into());
                for x in DECIMALS {
                    let x = d(x);
                    s.total_points = x;
                    let set = |m: &mut AreaMetric| {
                        m.points = x;
                        m.value = Some(-x);
                        for f in &mut m.figures {
                            f.1 = x;
                        }
                    };
                    for m in &mut s.metrics {
                        set(m);
                        m.parts.iter_mut().for_each(set);
                        m.options.iter_mut().for_each(set);
                    }
                    for t in &mut s.tracks {
                        t.total_points = -x;
                        t.metrics.iter_mut().for_each(set);
                    }
                    for explain in [false, true] {
                        same_bytes(
                            &AreaObject::explained(&s, explain),
                            &old_area_object(&s, explain),
                        );
                    }
                }
            }
        }
        assert_eq!(
            seen,
            (true, true, true),
            "tracks, parts and options were written"
        );
    }
}
