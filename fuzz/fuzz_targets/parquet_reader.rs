//! Fuzzes the Parquet table reader over arbitrary schemas and values.
//!
//! Each input picks a table, an Arrow type for each of its columns (text of
//! every kind, dictionaries, integers and floats of every width, decimals of
//! any precision and scale, dates, timestamps of every unit with and without
//! a time zone, booleans, nulls), and rows of values (nulls, NaN, odd
//! strings, out-of-range dates, plausible names and months). The file is
//! written with the parquet crate and read through `pcs_data::read_parquet`.
//!
//! Checks:
//! - nothing panics;
//! - a column whose type cannot hold its field is refused before any row,
//!   naming that column and its type, and a file whose types all fit is
//!   never refused for a type;
//! - an error names a column the file has and, when it shows a value, the
//!   rendering of that very cell (computed here independently: text as is,
//!   a float's shortest round-trip text, a decimal with its scale, a date or
//!   timestamp in ISO 8601);
//! - differential: the same rows written as CSV text (what each typed value
//!   means: a date as `YYYY-MM-DD`, a float as its shortest decimal text,
//!   a whole decimal as its digits)
//!   and read with `pcs_data::read_csv` give the same facts, row counts and
//!   warnings (lines shifted by the CSV header), or an error at the same row
//!   and column; the only extra Parquet warnings are the counted times of
//!   day, one per non-midnight timestamp. Where the type makes the CSV form
//!   differ (a decimal with more than 28 places, text with line breaks) the
//!   outcomes are not compared.
//!
//! The read keeps every month, or only some (as a score does), so that row
//! groups of months not kept are read lean (names judged once per value of
//! a dictionary, amounts and tenants unread when the statistics prove them
//! valid): rows are now and then sorted by month (one month per row group,
//! as `pcs convert` writes), names written dictionary-encoded or plain,
//! with or without statistics, columns with no null now and then written
//! as required; the CSV read keeps the same months.
#![no_main]

use std::path::PathBuf;
use std::sync::{Arc, LazyLock};

use arrow_array::types::Int32Type;
use arrow_array::{
    ArrayRef, BooleanArray, Date32Array, Date64Array, Decimal128Array, Decimal256Array,
    DictionaryArray, Float32Array, Float64Array, Int8Array, Int16Array, Int32Array, Int64Array,
    LargeStringArray, NullArray, RecordBatch, StringArray, StringViewArray,
    TimestampMicrosecondArray, TimestampMillisecondArray, TimestampNanosecondArray,
    TimestampSecondArray, UInt8Array, UInt16Array, UInt32Array, UInt64Array,
};
use arrow_buffer::i256;
use arrow_schema::{DataType, Field, Schema, TimeUnit};
use libfuzzer_sys::arbitrary::{Result as ArbResult, Unstructured};
use libfuzzer_sys::fuzz_target;
use parquet::arrow::ArrowWriter;
use parquet::file::properties::{EnabledStatistics, WriterProperties};
use pcs_core::facts::{DatasetFacts, FactsBuilder, MonthFilter, Table, WarningKind};
use pcs_core::jiff::civil::Date;
use pcs_core::rulebook::{Rulebook, RulebookSet};
use pcs_data::{ErrorKind, ValueKind, columns};

static RULEBOOK: LazyLock<Rulebook> =
    LazyLock::new(|| RulebookSet::builtin().versions()[0].clone());

/// This process's scratch file (the reader takes a path).
static SCRATCH: LazyLock<PathBuf> = LazyLock::new(|| {
    std::env::temp_dir().join(format!("pcs-fuzz-parquet-{}.parquet", std::process::id()))
});

/// The column types the fuzzer writes.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Ty {
    Utf8,
    LargeUtf8,
    Utf8View,
    Dict,
    I8,
    I16,
    I32,
    I64,
    U8,
    U16,
    U32,
    U64,
    F32,
    F64,
    Dec128(u8, i8),
    Dec256(u8, i8),
    Date32,
    Date64,
    Ts(TimeUnit, bool),
    Bool,
    Null,
}

const UNITS: [TimeUnit; 4] = [
    TimeUnit::Second,
    TimeUnit::Millisecond,
    TimeUnit::Microsecond,
    TimeUnit::Nanosecond,
];

impl Ty {
    fn data_type(self) -> DataType {
        match self {
            Ty::Utf8 => DataType::Utf8,
            Ty::LargeUtf8 => DataType::LargeUtf8,
            Ty::Utf8View => DataType::Utf8View,
            Ty::Dict => DataType::Dictionary(Box::new(DataType::Int32), Box::new(DataType::Utf8)),
            Ty::I8 => DataType::Int8,
            Ty::I16 => DataType::Int16,
            Ty::I32 => DataType::Int32,
            Ty::I64 => DataType::Int64,
            Ty::U8 => DataType::UInt8,
            Ty::U16 => DataType::UInt16,
            Ty::U32 => DataType::UInt32,
            Ty::U64 => DataType::UInt64,
            Ty::F32 => DataType::Float32,
            Ty::F64 => DataType::Float64,
            Ty::Dec128(p, s) => DataType::Decimal128(p, s),
            Ty::Dec256(p, s) => DataType::Decimal256(p, s),
            Ty::Date32 => DataType::Date32,
            Ty::Date64 => DataType::Date64,
            Ty::Ts(unit, zoned) => DataType::Timestamp(unit, zoned.then(|| Arc::from("UTC"))),
            Ty::Bool => DataType::Boolean,
            Ty::Null => DataType::Null,
        }
    }

    fn is_text(self) -> bool {
        matches!(self, Ty::Utf8 | Ty::LargeUtf8 | Ty::Utf8View | Ty::Dict)
    }

    fn is_int(self) -> bool {
        matches!(
            self,
            Ty::I8 | Ty::I16 | Ty::I32 | Ty::I64 | Ty::U8 | Ty::U16 | Ty::U32 | Ty::U64
        )
    }

    fn is_temporal(self) -> bool {
        matches!(self, Ty::Date32 | Ty::Date64 | Ty::Ts(..))
    }

    /// Whether pcs must read this type for a field of `kind` (the
    /// documented matrix, written out again here).
    fn fits(self, kind: ValueKind) -> bool {
        if self.is_text() || self == Ty::Null {
            return true;
        }
        match kind {
            ValueKind::Id | ValueKind::Text => self.is_int(),
            ValueKind::Month | ValueKind::Date => self.is_temporal(),
            ValueKind::Number => {
                self.is_int() || matches!(self, Ty::F32 | Ty::F64 | Ty::Dec128(..) | Ty::Dec256(..))
            }
            _ => false,
        }
    }

    /// Units of the type per day (temporal types).
    fn per_day(self) -> i64 {
        match self {
            Ty::Date32 => 1,
            Ty::Date64 => 86_400_000,
            Ty::Ts(unit, _) => match unit {
                TimeUnit::Second => 86_400,
                TimeUnit::Millisecond => 86_400_000,
                TimeUnit::Microsecond => 86_400_000_000,
                TimeUnit::Nanosecond => 86_400_000_000_000,
            },
            _ => 1,
        }
    }
}

fn any_ty(u: &mut Unstructured) -> ArbResult<Ty> {
    Ok(match u.int_in_range(0..=20u8)? {
        0 => Ty::Utf8,
        1 => Ty::LargeUtf8,
        2 => Ty::Utf8View,
        3 => Ty::Dict,
        4 => Ty::I8,
        5 => Ty::I16,
        6 => Ty::I32,
        7 => Ty::I64,
        8 => Ty::U8,
        9 => Ty::U16,
        10 => Ty::U32,
        11 => Ty::U64,
        12 => Ty::F32,
        13 => Ty::F64,
        14 => decimal_ty(u, false)?,
        15 => decimal_ty(u, true)?,
        16 => Ty::Date32,
        17 => Ty::Date64,
        18 => Ty::Ts(*u.choose(&UNITS)?, u.arbitrary()?),
        19 => Ty::Bool,
        _ => Ty::Null,
    })
}

fn decimal_ty(u: &mut Unstructured, wide: bool) -> ArbResult<Ty> {
    let max = if wide { 76 } else { 38 };
    let p = u.int_in_range(1..=max)?;
    let s = u.int_in_range(-5..=(p as i8).min(40))?;
    Ok(if wide {
        Ty::Dec256(p, s)
    } else {
        Ty::Dec128(p, s)
    })
}

/// A type that fits `kind`, mostly, else any type.
fn ty_for(u: &mut Unstructured, kind: ValueKind) -> ArbResult<Ty> {
    if u.ratio(1, 4)? {
        return any_ty(u);
    }
    for _ in 0..8 {
        let t = any_ty(u)?;
        if t.fits(kind) {
            return Ok(t);
        }
    }
    Ok(Ty::Utf8)
}

/// A value as the fuzzer draws it, before it takes its column's type.
#[derive(Clone, Debug)]
enum Val {
    Null,
    /// A plausible value for the column's kind.
    Pick(u8),
    Text(String),
    Int(i64),
    Float(f64),
}

fn any_val(u: &mut Unstructured) -> ArbResult<Val> {
    Ok(match u.int_in_range(0..=9u8)? {
        0 => Val::Null,
        1 => Val::Text(u.arbitrary()?),
        2 => Val::Int(u.arbitrary()?),
        3 => Val::Float(*u.choose(&[
            f64::NAN,
            f64::INFINITY,
            f64::NEG_INFINITY,
            -0.0,
            0.1,
            1e300,
            1e-30,
            1000001.0,
            -2.5,
        ])?),
        4 => Val::Float(u.arbitrary()?),
        _ => Val::Pick(u.arbitrary()?),
    })
}

const IDS: &[&str] = &["1000001", "P2", " P3 ", "1000001", "t1", "t2", ""];
const MONTHS: &[&str] = &[
    "2023-10",
    "2023-11",
    "2022-11",
    "2023-09",
    "2023-13",
    "2023-10-01",
];
const DATES: &[&str] = &["2023-05-01", "2022-11-30", "2024-02-29", "2023-02-29", ""];
const NUMBERS: &[&str] = &["12.50", "-3", "0", "1500", "-0", "1e3", "0.001"];
const NAMES: &[&str] = &[
    "Sales",
    "Power BI",
    "Customer Service",
    "Finance",
    "Azure",
    "CSP Tier 1",
    "DPOR",
    "PAL",
    "CPOR RevRec",
    "bogus",
    "d365-functional-consultant-sales",
    "Microsoft Certified: Power Platform Solution Architect Expert",
    "",
];
/// Days near the example's months (2022-10 to 2023-12).
const DAYS: &[i64] = &[
    19_631, 19_662, 19_266, 19_400, 19_600, 19_692, 2_932_897, -719_163,
];

/// One column of the file: its name, type, field kind and the cells.
struct Col {
    name: String,
    ty: Ty,
    kind: ValueKind,
    cells: Vec<Cell>,
}

/// A cell as written: the typed value, or null.
#[derive(Clone, Debug)]
enum Cell {
    Null,
    Text(String),
    Int(i128),
    Float(f64, bool),
    /// Mantissa (text, for 256 bits) and scale.
    Decimal(String, i8),
    /// Units since the epoch.
    Instant(i64),
    Bool(bool),
}

/// `v` as a cell of type `ty` in a column of `kind`.
fn cell(v: &Val, ty: Ty, kind: ValueKind) -> Cell {
    if matches!(v, Val::Null) || ty == Ty::Null {
        return Cell::Null;
    }
    if ty.is_text() {
        return Cell::Text(match v {
            Val::Pick(p) => {
                let list = match kind {
                    ValueKind::Id => IDS,
                    ValueKind::Month => MONTHS,
                    ValueKind::Date => DATES,
                    ValueKind::Number => NUMBERS,
                    _ => NAMES,
                };
                list[usize::from(*p) % list.len()].to_string()
            }
            Val::Text(s) => s.clone(),
            Val::Int(i) => i.to_string(),
            Val::Float(f) => f.to_string(),
            Val::Null => unreachable!(),
        });
    }
    let int = match v {
        Val::Pick(p) => i64::from(*p % 7),
        Val::Int(i) => *i,
        Val::Float(f) => *f as i64,
        Val::Text(s) => s.len() as i64,
        Val::Null => 0,
    };
    match ty {
        Ty::I8 => Cell::Int(i128::from(int as i8)),
        Ty::I16 => Cell::Int(i128::from(int as i16)),
        Ty::I32 => Cell::Int(i128::from(int as i32)),
        Ty::I64 => Cell::Int(i128::from(int)),
        Ty::U8 => Cell::Int(i128::from(int as u8)),
        Ty::U16 => Cell::Int(i128::from(int as u16)),
        Ty::U32 => Cell::Int(i128::from(int as u32)),
        Ty::U64 => Cell::Int(i128::from(int as u64)),
        Ty::F32 | Ty::F64 => {
            let f = match v {
                Val::Pick(p) => [12.5, 0.1, 3.0, -0.0, 1e-7, 40.0, 0.3][usize::from(*p) % 7],
                Val::Float(f) => *f,
                _ => int as f64,
            };
            Cell::Float(f, ty == Ty::F32)
        }
        Ty::Dec128(p, s) | Ty::Dec256(p, s) => {
            let m: i128 = match v {
                Val::Pick(x) => i128::from(*x) * 125 - 1000,
                Val::Float(f) => *f as i128,
                _ => i128::from(int) * i128::from(int),
            };
            // Within the precision, as a valid file holds it.
            let limit = 10i128
                .checked_pow(u32::from(p).min(38))
                .unwrap_or(i128::MAX);
            let m = m % limit;
            let digits = if matches!(ty, Ty::Dec256(..)) && p > 38 && int % 3 == 0 {
                // A 256-bit mantissa beyond 128 bits (no leading zero).
                let nines = "9".repeat(usize::from(p) - 39);
                if m == 0 && !nines.is_empty() {
                    nines
                } else {
                    format!("{m}{nines}")
                }
            } else {
                m.to_string()
            };
            Cell::Decimal(digits, s)
        }
        Ty::Date32 | Ty::Date64 | Ty::Ts(..) => {
            let per_day = ty.per_day();
            let value = match v {
                Val::Pick(p) => {
                    let day = DAYS[usize::from(*p) % DAYS.len()];
                    // Now and then a time of day (an hour, or a unit).
                    let within = match p % 5 {
                        3 => per_day / 24,
                        4 => (per_day > 1) as i64,
                        _ => 0,
                    };
                    day.saturating_mul(per_day).saturating_add(within)
                }
                _ => int,
            };
            let value = if ty == Ty::Date32 {
                i64::from(value as i32)
            } else {
                value
            };
            Cell::Instant(value)
        }
        Ty::Bool => Cell::Bool(int % 2 == 0),
        _ => Cell::Null,
    }
}

/// The calendar date `days` after 1970-01-01, in years 1 to 9999.
fn date_of(days: i64) -> Option<Date> {
    let epoch = Date::new(1970, 1, 1).unwrap();
    let d = epoch
        .checked_add(pcs_core::jiff::Span::new().days(days.clamp(-4_000_000, 4_000_000)))
        .ok()?;
    (1..=9999).contains(&d.year()).then_some(d)
}

/// `digits` with `scale` decimal places (negative: trailing zeros).
fn point(digits: &str, scale: i8) -> String {
    let (sign, digits) = match digits.strip_prefix('-') {
        Some(d) => ("-", d),
        None => ("", digits),
    };
    if scale <= 0 {
        let zeros = if digits == "0" {
            0
        } else {
            usize::from(scale.unsigned_abs())
        };
        return format!("{sign}{digits}{}", "0".repeat(zeros));
    }
    let s = scale as usize;
    let padded = format!("{digits:0>w$}", w = s + 1);
    let (i, f) = padded.split_at(padded.len() - s);
    format!("{sign}{i}.{f}")
}

/// How an error must show the cell (the value as the file holds it).
fn shown(cell: &Cell, ty: Ty) -> Option<String> {
    Some(match cell {
        Cell::Null => return None,
        Cell::Text(s) => s.clone(),
        Cell::Int(i) => i.to_string(),
        Cell::Float(f, single) => {
            if *single {
                format!("{:?}", *f as f32)
            } else {
                format!("{f:?}")
            }
        }
        Cell::Decimal(m, s) => point(m, *s),
        Cell::Instant(v) => {
            let per_day = ty.per_day();
            let Some(date) = date_of(v.div_euclid(per_day)) else {
                return Some(match ty {
                    Ty::Date32 => format!("{v} days after 1970-01-01"),
                    Ty::Date64 => format!("{v} ms after 1970-01-01T00:00:00"),
                    Ty::Ts(unit, _) => {
                        let u = match unit {
                            TimeUnit::Second => "s",
                            TimeUnit::Millisecond => "ms",
                            TimeUnit::Microsecond => "µs",
                            TimeUnit::Nanosecond => "ns",
                        };
                        format!("{v} {u} after 1970-01-01T00:00:00")
                    }
                    _ => unreachable!(),
                });
            };
            if ty == Ty::Date32 {
                return Some(date.to_string());
            }
            // jiff's RFC 3339 text of the instant (fraction trimmed), with
            // the `Z` only where the column has a time zone.
            let within = v.rem_euclid(per_day);
            let nanos = i128::from(within) * (86_400_000_000_000 / i128::from(per_day));
            let day = v.div_euclid(per_day);
            let ts = pcs_core::jiff::Timestamp::from_second(day * 86_400).expect("in range")
                + pcs_core::jiff::SignedDuration::from_nanos(nanos as i64);
            let text = ts.to_string();
            let zoned = matches!(ty, Ty::Ts(_, true));
            if zoned {
                text
            } else {
                text.trim_end_matches('Z').to_string()
            }
        }
        Cell::Bool(b) => b.to_string(),
    })
}

/// The CSV text meaning the same as the cell for a field of `kind`.
fn as_csv(cell: &Cell, ty: Ty, kind: ValueKind) -> String {
    match cell {
        Cell::Null => String::new(),
        Cell::Float(f, single) => {
            if *single {
                (*f as f32).to_string()
            } else {
                f.to_string()
            }
        }
        Cell::Instant(v) => match date_of(v.div_euclid(ty.per_day())) {
            Some(d) if kind == ValueKind::Month => d.strftime("%Y-%m").to_string(),
            Some(d) => d.to_string(),
            None => shown(cell, ty).unwrap(),
        },
        // A whole decimal means its digits (`200.0` at scale 1 is 200), as
        // a whole float does and as the xlsx reader writes a whole number:
        // a count column reads the typed value, so its text must be whole.
        Cell::Decimal(m, s) if *s > 0 => match whole(m, *s) {
            Some(digits) => digits,
            None => shown(cell, ty).unwrap(),
        },
        other => shown(other, ty).unwrap(),
    }
}

/// The digits of the mantissa `m` at a positive scale `s` when it has no
/// fraction (its last `s` digits are zeros), else `None`.
fn whole(m: &str, s: i8) -> Option<String> {
    let s = usize::from(s.unsigned_abs());
    let digits = m.trim_start_matches('-');
    if !digits.bytes().rev().take(s).all(|b| b == b'0') {
        return None;
    }
    // The sign stays: only zeros after it are cut.
    Some(if digits.len() > s {
        m[..m.len() - s].to_string()
    } else {
        "0".to_string()
    })
}

/// The column as an Arrow array (`None`: a type Arrow refuses to build).
fn array(col: &Col) -> Option<ArrayRef> {
    let c = &col.cells;
    let texts = || -> Vec<Option<String>> {
        c.iter()
            .map(|x| match x {
                Cell::Text(s) => Some(s.clone()),
                _ => None,
            })
            .collect()
    };
    let ints = || -> Vec<Option<i128>> {
        c.iter()
            .map(|x| match x {
                Cell::Int(i) => Some(*i),
                _ => None,
            })
            .collect()
    };
    let instants = || -> Vec<Option<i64>> {
        c.iter()
            .map(|x| match x {
                Cell::Instant(v) => Some(*v),
                _ => None,
            })
            .collect()
    };
    macro_rules! ints {
        ($arr:ty, $t:ty) => {
            Arc::new(<$arr>::from(
                ints()
                    .into_iter()
                    .map(|v| v.map(|i| i as $t))
                    .collect::<Vec<_>>(),
            )) as ArrayRef
        };
    }
    Some(match col.ty {
        Ty::Utf8 => Arc::new(StringArray::from(texts())),
        Ty::LargeUtf8 => Arc::new(LargeStringArray::from(texts())),
        Ty::Utf8View => Arc::new(StringViewArray::from(texts())),
        Ty::Dict => {
            let t = texts();
            let d: DictionaryArray<Int32Type> = t.iter().map(|s| s.as_deref()).collect();
            Arc::new(d)
        }
        Ty::I8 => ints!(Int8Array, i8),
        Ty::I16 => ints!(Int16Array, i16),
        Ty::I32 => ints!(Int32Array, i32),
        Ty::I64 => ints!(Int64Array, i64),
        Ty::U8 => ints!(UInt8Array, u8),
        Ty::U16 => ints!(UInt16Array, u16),
        Ty::U32 => ints!(UInt32Array, u32),
        Ty::U64 => ints!(UInt64Array, u64),
        Ty::F32 => Arc::new(Float32Array::from(
            c.iter()
                .map(|x| match x {
                    Cell::Float(f, _) => Some(*f as f32),
                    _ => None,
                })
                .collect::<Vec<_>>(),
        )),
        Ty::F64 => Arc::new(Float64Array::from(
            c.iter()
                .map(|x| match x {
                    Cell::Float(f, _) => Some(*f),
                    _ => None,
                })
                .collect::<Vec<_>>(),
        )),
        Ty::Dec128(p, s) => Arc::new(
            Decimal128Array::from(
                c.iter()
                    .map(|x| match x {
                        Cell::Decimal(m, _) => Some(m.parse::<i128>().unwrap()),
                        _ => None,
                    })
                    .collect::<Vec<_>>(),
            )
            .with_precision_and_scale(p, s)
            .ok()?,
        ),
        Ty::Dec256(p, s) => Arc::new(
            Decimal256Array::from(
                c.iter()
                    .map(|x| match x {
                        Cell::Decimal(m, _) => Some(i256::from_string(m).unwrap()),
                        _ => None,
                    })
                    .collect::<Vec<_>>(),
            )
            .with_precision_and_scale(p, s)
            .ok()?,
        ),
        Ty::Date32 => Arc::new(Date32Array::from(
            instants()
                .into_iter()
                .map(|v| v.map(|d| d as i32))
                .collect::<Vec<_>>(),
        )),
        Ty::Date64 => Arc::new(Date64Array::from(instants())),
        Ty::Ts(unit, zoned) => {
            let v = instants();
            let zone = zoned.then_some("UTC");
            match unit {
                TimeUnit::Second => {
                    Arc::new(TimestampSecondArray::from(v).with_timezone_opt(zone)) as ArrayRef
                }
                TimeUnit::Millisecond => {
                    Arc::new(TimestampMillisecondArray::from(v).with_timezone_opt(zone))
                }
                TimeUnit::Microsecond => {
                    Arc::new(TimestampMicrosecondArray::from(v).with_timezone_opt(zone))
                }
                TimeUnit::Nanosecond => {
                    Arc::new(TimestampNanosecondArray::from(v).with_timezone_opt(zone))
                }
            }
        }
        Ty::Bool => Arc::new(BooleanArray::from(
            c.iter()
                .map(|x| match x {
                    Cell::Bool(b) => Some(*b),
                    _ => None,
                })
                .collect::<Vec<_>>(),
        )),
        Ty::Null => Arc::new(NullArray::new(c.len())),
    })
}

/// What an input builds: the table, its columns as written, and the rows.
struct Case {
    table: Table,
    cols: Vec<Col>,
    rows: usize,
    row_group: usize,
    trace: bool,
    /// The months the read keeps.
    months: MonthFilter,
    /// Whether columns are written dictionary-encoded.
    dictionary: bool,
    /// Whether the writer writes statistics.
    statistics: bool,
    /// Whether a column with no null is written as required.
    tight: bool,
}

fn case(u: &mut Unstructured) -> ArbResult<Case> {
    // Revenue and usage (whose groups of months not kept are read lean)
    // half the time.
    let table = if u.arbitrary()? {
        *u.choose(&[Table::Revenue, Table::Usage])?
    } else {
        *u.choose(&Table::ALL)?
    };
    let mut cols = Vec::new();
    for spec in columns(table) {
        // Required columns nearly always, optional ones half the time.
        let present = if spec.required {
            !u.ratio(1, 40)?
        } else {
            u.arbitrary()?
        };
        if present {
            let name = match u.int_in_range(0..=3u8)? {
                0 => spec.name.to_uppercase(),
                1 => spec.name.replace('_', " "),
                _ => spec.name.to_string(),
            };
            cols.push(Col {
                name,
                ty: ty_for(u, spec.kind())?,
                kind: spec.kind(),
                cells: Vec::new(),
            });
        }
    }
    if u.ratio(1, 4)? {
        // An extra column, of any type: ignored.
        let ty = any_ty(u)?;
        cols.push(Col {
            name: "extra".into(),
            ty,
            kind: ValueKind::Text,
            cells: Vec::new(),
        });
    }
    // Shuffle a little: columns in any order.
    let turn = if cols.is_empty() {
        0
    } else {
        u.int_in_range(0..=cols.len() - 1)?
    };
    cols.rotate_left(turn);
    let rows = u.int_in_range(0..=40usize)?;
    for _ in 0..rows {
        for col in &mut cols {
            let v = if u.ratio(1, 12)? {
                any_val(u)?
            } else {
                Val::Pick(u.arbitrary()?)
            };
            col.cells.push(cell(&v, col.ty, col.kind));
        }
    }
    if u.arbitrary()? {
        // Sorted by month, as `pcs convert` writes: row groups of one month.
        let month = cols.iter().position(|c| c.kind == ValueKind::Month);
        if let Some(m) = month {
            let mut order: Vec<usize> = (0..rows).collect();
            order.sort_by_key(|&r| format!("{:?}", cols[m].cells[r]));
            for col in &mut cols {
                col.cells = order.iter().map(|&r| col.cells[r].clone()).collect();
            }
        }
    }
    let months = match u.int_in_range(0..=3u8)? {
        0 => MonthFilter::All,
        1 => MonthFilter::Only(vec!["2023-10".parse().unwrap()]),
        2 => MonthFilter::Only(vec!["2023-11".parse().unwrap(), "2022-11".parse().unwrap()]),
        _ => MonthFilter::Only(vec!["2023-10".parse().unwrap(), "2022-10".parse().unwrap()]),
    };
    Ok(Case {
        table,
        cols,
        rows,
        row_group: u.int_in_range(1..=16usize)?,
        trace: u.arbitrary()?,
        months,
        dictionary: u.arbitrary()?,
        statistics: !u.ratio(1, 5)?,
        tight: u.arbitrary()?,
    })
}

fn write_parquet(case: &Case) -> bool {
    let Some(arrays) = case
        .cols
        .iter()
        .map(array)
        .collect::<Option<Vec<ArrayRef>>>()
    else {
        return false;
    };
    if arrays.is_empty() {
        return false;
    }
    // A column with no null is written as required when `tight`.
    let schema = Arc::new(Schema::new(
        case.cols
            .iter()
            .zip(&arrays)
            .map(|(c, a)| {
                let nullable =
                    !case.tight || a.null_count() > 0 || matches!(a.data_type(), DataType::Null);
                Field::new(&c.name, c.ty.data_type(), nullable)
            })
            .collect::<Vec<_>>(),
    ));
    let batch = RecordBatch::try_new(schema.clone(), arrays).expect("a batch");
    let file = std::fs::File::create(&*SCRATCH).expect("the scratch file");
    let props = WriterProperties::builder()
        .set_max_row_group_row_count(Some(case.row_group))
        .set_dictionary_enabled(case.dictionary)
        .set_statistics_enabled(if case.statistics {
            EnabledStatistics::Chunk
        } else {
            EnabledStatistics::None
        })
        .build();
    // The parquet crate refuses some types (a negative decimal scale):
    // then there is no file to read.
    let Ok(mut w) = ArrowWriter::try_new(file, schema, Some(props)) else {
        return false;
    };
    w.write(&batch).is_ok() && w.close().is_ok()
}

fn write_csv(case: &Case) -> Vec<u8> {
    let mut w = csv_writer();
    let names: Vec<&str> = case.cols.iter().map(|c| c.name.as_str()).collect();
    w.write_record(&names).unwrap();
    for r in 0..case.rows {
        let rec: Vec<String> = case
            .cols
            .iter()
            .map(|c| as_csv(&c.cells[r], c.ty, c.kind))
            .collect();
        w.write_record(&rec).unwrap();
    }
    w.into_inner().unwrap()
}

fn csv_writer() -> csv::Writer<Vec<u8>> {
    csv::WriterBuilder::new()
        .quote_style(csv::QuoteStyle::Necessary)
        .from_writer(Vec::new())
}

/// Panics unless the two loads hold the same facts.
fn same_facts(pq: &DatasetFacts, csv: &DatasetFacts) {
    assert_eq!(
        pq.partners.keys().collect::<Vec<_>>(),
        csv.partners.keys().collect::<Vec<_>>()
    );
    for (id, a) in &pq.partners {
        let b = &csv.partners[id];
        assert_eq!(a.name, b.name, "{id}");
        assert_eq!(a.anniversary_date, b.anniversary_date, "{id}");
        assert_eq!(a.tenants, b.tenants, "{id}");
        assert_eq!(a.revenue, b.revenue, "{id}");
        assert_eq!(a.usage, b.usage, "{id}");
        assert_eq!(a.excluded, b.excluded, "{id}");
        assert_eq!(a.people, b.people, "{id}");
        assert_eq!(a.certifications, b.certifications, "{id}");
    }
}

fuzz_target!(|data: &[u8]| {
    let mut u = Unstructured::new(data);
    let Ok(case) = case(&mut u) else { return };
    if !write_parquet(&case) {
        return;
    }
    let table = case.table;
    let mut pq_builder = FactsBuilder::new(&RULEBOOK, case.months.clone(), case.trace);
    let pq = pcs_data::read_parquet(table, &SCRATCH, &mut pq_builder);

    // The needed columns whose type cannot hold their field.
    let misfits: Vec<usize> = case
        .cols
        .iter()
        .enumerate()
        .filter(|(_, c)| c.name != "extra" && !c.ty.fits(c.kind))
        .map(|(i, _)| i)
        .collect();
    let header_ok = pcs_data::match_header(
        table,
        &case.cols.iter().map(|c| &c.name).collect::<Vec<_>>(),
    )
    .is_ok();

    let pq = match pq {
        Err(e) => {
            assert_eq!(e.file(), SCRATCH.as_path());
            let text = e.to_string();
            if let Some((i, name)) = e.column() {
                let col = case
                    .cols
                    .get(i - 1)
                    .unwrap_or_else(|| panic!("no column {i}: {text}"));
                assert!(
                    columns(table).iter().any(|s| s.name == name)
                        && pcs_core::name::normalize(&col.name) == pcs_core::name::normalize(name),
                    "column {i} ({name}) is not the file's {:?}: {text}",
                    col.name
                );
            }
            match e.kind() {
                ErrorKind::Header if header_ok => {
                    let (i, _) = e.column().expect("a type error names its column");
                    assert!(
                        misfits.contains(&(i - 1)),
                        "refused a type that fits: {text}"
                    );
                    let ty = case.cols[i - 1].ty.data_type();
                    assert!(text.contains(&format!("type {ty}")), "{text}");
                    return;
                }
                ErrorKind::Header => return,
                ErrorKind::Value => {
                    assert!(misfits.is_empty(), "a misfit type was read: {text}");
                    let row = e.line().expect("a value error names its row") as usize;
                    let (i, _) = e.column().expect("a value error names its column");
                    let col = &case.cols[i - 1];
                    let cell = &col.cells[row - 1];
                    match e.value() {
                        Some(v) => assert_eq!(
                            Some(v.to_string()),
                            shown(cell, col.ty),
                            "row {row} of {:?} ({:?}): {text}",
                            col.name,
                            col.ty
                        ),
                        None => assert!(matches!(cell, Cell::Null), "no value shown: {text}"),
                    }
                }
                _ => panic!("unexpected error: {text}"),
            }
            Err(e)
        }
        Ok(rows) => {
            assert!(header_ok && misfits.is_empty());
            assert_eq!(rows as usize, case.rows);
            Ok(rows)
        }
    };

    // Differential against the same rows as CSV text.
    let comparable = case.cols.iter().all(|c| {
        c.cells.iter().all(|cell| match cell {
            Cell::Text(s) => !s.contains(['\n', '\r']),
            // rust_decimal rounds text beyond 28 digits; Parquet decimals are exact.
            Cell::Decimal(m, s) => *s <= 28 && m.trim_start_matches('-').len() <= 28,
            _ => true,
        })
    });
    if !comparable {
        return;
    }
    let csv = write_csv(&case);
    let mut csv_builder = FactsBuilder::new(&RULEBOOK, case.months.clone(), case.trace);
    let from_csv = pcs_data::read_csv(table, "fuzz.csv".as_ref(), csv.as_slice(), &mut csv_builder);
    match (pq, from_csv) {
        (Ok(a), Ok(b)) => {
            assert_eq!(a, b);
            pq_builder.shift_lines(1);
            let pq_facts = pq_builder.finish();
            let csv_facts = csv_builder.finish();
            same_facts(&pq_facts, &csv_facts);
            let (times, others): (Vec<_>, Vec<_>) = pq_facts
                .warnings
                .iter()
                .cloned()
                .partition(|w| w.kind == WarningKind::TimeOfDay);
            assert_eq!(others, csv_facts.warnings);
            for col in &case.cols {
                if col.name == "extra" || !col.ty.is_temporal() {
                    continue;
                }
                let n = col
                    .cells
                    .iter()
                    .filter(
                        |c| matches!(c, Cell::Instant(v) if v.rem_euclid(col.ty.per_day()) != 0),
                    )
                    .count() as u64;
                let spec = columns(table)
                    .iter()
                    .find(|s| {
                        pcs_core::name::normalize(s.name) == pcs_core::name::normalize(&col.name)
                    })
                    .unwrap();
                let counted = times
                    .iter()
                    .find(|w| w.name == spec.name)
                    .map_or(0, |w| w.rows);
                assert_eq!(counted, n, "times of day in {}", spec.name);
            }
        }
        (Err(a), Err(b)) => {
            if a.kind() == ErrorKind::Value && b.kind() == ErrorKind::Value {
                assert_eq!(a.line().map(|l| l + 1), b.line(), "{a} / {b}");
                assert_eq!(a.column(), b.column(), "{a} / {b}");
            }
        }
        (a, b) => panic!("Parquet {a:?} but CSV {b:?}"),
    }
});
