//! Aggregating raw rows into per-partner facts.
//!
//! Readers (CSV, Parquet, a distributed engine) parse rows and hand them to a
//! [`FactsBuilder`], which applies the rulebook's *filters* (which workloads
//! and association types count, product roll-ups) and keeps only aggregates:
//! one sum per (tenant, workload, month) pair, one record per certification.
//! Rows never need to be held. Each distinct name is resolved once.
//!
//! Rows that count for nothing are not dropped silently: they are grouped by
//! reason into [`Excluded`] items (for explanations) and, for names the
//! rulebook does not know, into counted [`Warning`]s.

use std::collections::BTreeMap;
use std::hash::BuildHasher;
use std::sync::{Arc, LazyLock};

/// The hash map of the facts: foldhash is several times faster than the
/// default SipHash on short keys, with per-process random seeds.
pub type HashMap<K, V> = std::collections::HashMap<K, V, foldhash::fast::RandomState>;

use jiff::civil::Date;
use rust_decimal::Decimal;
use serde::Serialize;

use crate::calendar::Month;
use crate::name::normalize;
use crate::rulebook::{AssociationId, CertificationId, Rulebook, UsageName};
use crate::vocab::Vocabulary;

pub mod grouped;
pub mod id;
pub mod sorted;

pub use id::CompactId;
pub use sorted::SortedMap;

/// The tables of a dataset.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Table {
    /// Billed revenue.
    Revenue,
    /// Monthly usage.
    Usage,
    /// People and their certifications.
    Certifications,
    /// Partner names and anniversary dates.
    Partners,
    /// Azure consumed revenue (the Azure areas, Security's Azure side).
    Acr,
    /// Paid seats and active users per Microsoft 365 workload.
    Licenses,
}

impl Table {
    /// All tables, in reading order.
    pub const ALL: [Table; 6] = [
        Table::Revenue,
        Table::Usage,
        Table::Certifications,
        Table::Partners,
        Table::Acr,
        Table::Licenses,
    ];

    /// The table's name (and file stem).
    pub fn name(self) -> &'static str {
        match self {
            Table::Revenue => "revenue",
            Table::Usage => "usage",
            Table::Certifications => "certifications",
            Table::Partners => "partners",
            Table::Acr => "acr",
            Table::Licenses => "licenses",
        }
    }
}

/// One parsed revenue row.
#[derive(Clone, Debug)]
pub struct RevenueRow<'a> {
    /// The partner.
    pub partner_id: &'a str,
    /// The customer tenant.
    pub customer_tenant_id: &'a str,
    /// The customer's name, if given.
    pub customer_name: Option<&'a str>,
    /// The subscription, if given.
    pub subscription_id: Option<&'a str>,
    /// The workload as written.
    pub workload: &'a str,
    /// The billing month.
    pub month: Month,
    /// Revenue in USD (negative for credits).
    pub revenue_usd: Decimal,
    /// The association type as written.
    pub association: &'a str,
    /// The row's line (or row number) in its file, for tracing.
    pub line: u64,
}

/// One parsed usage row.
#[derive(Clone, Debug)]
pub struct UsageRow<'a> {
    /// The partner.
    pub partner_id: &'a str,
    /// The customer tenant.
    pub customer_tenant_id: &'a str,
    /// The customer's name, if given.
    pub customer_name: Option<&'a str>,
    /// The workload or product as written.
    pub workload: &'a str,
    /// The month.
    pub month: Month,
    /// MAU or profiles (never negative: readers reject that).
    pub quantity: Decimal,
    /// The association type as written.
    pub association: &'a str,
    /// The row's line in its file.
    pub line: u64,
}

/// One parsed certification row.
#[derive(Clone, Debug)]
pub struct CertificationRow<'a> {
    /// The partner.
    pub partner_id: &'a str,
    /// The person.
    pub person_id: &'a str,
    /// The person's name, if given.
    pub person_name: Option<&'a str>,
    /// The certification as written (name or id).
    pub certification: &'a str,
    /// When it was earned.
    pub earned_on: Date,
    /// When it expires, if it does.
    pub expires_on: Option<Date>,
    /// The row's line in its file.
    pub line: u64,
}

/// One parsed partners row.
#[derive(Clone, Debug)]
pub struct PartnerRow<'a> {
    /// The partner.
    pub partner_id: &'a str,
    /// Its name, if given.
    pub name: Option<&'a str>,
    /// Its anniversary date, when enrolled.
    pub anniversary_date: Option<Date>,
    /// The row's line in its file.
    pub line: u64,
}

/// One parsed acr row (Azure consumed revenue).
#[derive(Clone, Debug)]
pub struct AcrRow<'a> {
    /// The partner.
    pub partner_id: &'a str,
    /// The customer tenant.
    pub customer_tenant_id: &'a str,
    /// The customer's name, if given.
    pub customer_name: Option<&'a str>,
    /// The subscription, if given.
    pub subscription_id: Option<&'a str>,
    /// The Azure Service Level 2 name as written (an open list).
    pub service: &'a str,
    /// The month.
    pub month: Month,
    /// ACR in USD (negative for credits).
    pub acr_usd: Decimal,
    /// The association type as written.
    pub association: &'a str,
    /// The offer as written, if given.
    pub offer: Option<&'a str>,
    /// The row's line in its file.
    pub line: u64,
}

/// One parsed licenses row (paid seats and active users of a workload).
#[derive(Clone, Debug)]
pub struct LicenseRow<'a> {
    /// The partner.
    pub partner_id: &'a str,
    /// The customer tenant.
    pub customer_tenant_id: &'a str,
    /// The customer's name, if given.
    pub customer_name: Option<&'a str>,
    /// The workload as written.
    pub workload: &'a str,
    /// The month.
    pub month: Month,
    /// The association type as written.
    pub association: &'a str,
    /// Paid seats (PaidAvailableUnits).
    pub paid_seats: u64,
    /// Monthly active users.
    pub active_users: u64,
    /// When this association with the tenant began, if given.
    pub associated_on: Option<Date>,
    /// The row's line in its file.
    pub line: u64,
}

/// Which months a builder keeps aggregates for.
#[derive(Clone, Debug)]
pub enum MonthFilter {
    /// Every month.
    All,
    /// Only these months.
    Only(Vec<Month>),
}

impl MonthFilter {
    /// Whether month `m` is kept.
    pub fn keeps(&self, m: Month) -> bool {
        match self {
            MonthFilter::All => true,
            MonthFilter::Only(ms) => ms.contains(&m),
        }
    }
}

/// Why a row counted for nothing.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Exclusion {
    /// The workload is not in the rulebook for this table.
    UnknownWorkload,
    /// The association type is not in the rulebook.
    UnknownAssociation,
    /// The association type is known but does not count for this workload.
    AssociationNotEligible,
    /// The usage workload is known but has no rate.
    NoRate,
    /// The offer (Support, Trial, ...) counts for nothing.
    OfferExcluded,
}

impl Exclusion {
    /// A sentence for people.
    pub fn describe(self) -> &'static str {
        match self {
            Exclusion::UnknownWorkload => {
                "workload is not eligible for this metric (unknown to the rulebook)"
            }
            Exclusion::UnknownAssociation => "association type is unknown to the rulebook",
            Exclusion::AssociationNotEligible => {
                "association type does not count for this workload"
            }
            Exclusion::NoRate => "workload has no rate on the rate card",
            Exclusion::OfferExcluded => "the offer counts for nothing",
        }
    }
}

/// A group of rows that counted for nothing, for one tenant, workload,
/// association and month.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ExcludedKey {
    /// Revenue or usage.
    pub table: Table,
    /// Tenant index in [`PartnerFacts::tenants`].
    pub tenant: u32,
    /// The workload: its rulebook name when known, else as first written
    /// (trimmed). Shared by every key of a read that names it alike
    /// ([`FactsBuilder`] holds each label once), not a `String` per key.
    pub workload: Arc<str>,
    /// The association: its rulebook name when known, else as first written
    /// (trimmed), shared alike.
    pub association: Arc<str>,
    /// The month.
    pub month: Month,
    /// Why.
    pub reason: Exclusion,
}

/// A sum of rows: 20 bytes, aligned to 4, so that a revenue or usage
/// pair's entry (a 12-byte key and this) is 32 bytes with no padding.
///
/// The lines and subscriptions that only explanations read are not here:
/// when the builder traces, they are an [`AggTrace`] in the partner's
/// [`Traces`], under the same key (a pointer here would cost 8 bytes and
/// its alignment 8 more in every entry, traced or not).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Agg {
    /// Sum of the amounts (USD for revenue, quantity for usage).
    pub amount: Decimal,
    /// How many rows.
    pub rows: u32,
}

/// What a traced aggregate keeps beyond its sum: the lines of its rows and
/// its amounts by subscription ([`Traces`]).
///
/// Most traced aggregates hold one row (one line, one subscription): each
/// list starts with room for exactly one entry (a `Vec` would make room for
/// four at the first push), and grows by doubling from there.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct AggTrace {
    lines: Vec<u64>,
    subscriptions: Vec<(CompactId, Decimal)>,
}

/// The trace of an aggregate that has none.
static NO_TRACE: AggTrace = AggTrace {
    lines: Vec::new(),
    subscriptions: Vec::new(),
};

/// Pushes `item`, making room for exactly one at the first push.
fn push_snug<T>(list: &mut Vec<T>, item: T) {
    if list.capacity() == 0 {
        list.reserve_exact(1);
    }
    list.push(item);
}

impl Agg {
    fn add(&mut self, amount: Decimal) {
        self.amount += amount;
        self.rows += 1;
    }

    fn merge(&mut self, other: Agg) {
        self.amount += other.amount;
        self.rows += other.rows;
    }
}

impl AggTrace {
    /// The rows' lines, in the order they were read.
    pub fn lines(&self) -> &[u64] {
        &self.lines
    }

    /// Amount by subscription, in first-seen order, when rows name one.
    pub fn subscriptions(&self) -> &[(CompactId, Decimal)] {
        &self.subscriptions
    }

    fn add_line(&mut self, line: u64) {
        push_snug(&mut self.lines, line);
    }

    fn add_subscription(&mut self, subscription: Option<&str>, amount: Decimal) {
        let Some(sub) = subscription else { return };
        let subs = &mut self.subscriptions;
        let packed = CompactId::inline(sub);
        let found = match &packed {
            Some(id) => subs.iter_mut().find(|(s, _)| s == id),
            None => subs.iter_mut().find(|(s, _)| s.as_boxed() == Some(sub)),
        };
        match found {
            Some((_, a)) => *a += amount,
            None => {
                let id = packed.unwrap_or_else(|| CompactId::new(sub));
                push_snug(subs, (id, amount));
            }
        }
    }

    fn merge(&mut self, theirs: AggTrace) {
        if self.lines.is_empty() && self.subscriptions.is_empty() {
            *self = theirs;
            return;
        }
        self.lines.extend(theirs.lines);
        for (sub, amount) in theirs.subscriptions {
            match self.subscriptions.iter_mut().find(|(s, _)| *s == sub) {
                Some((_, a)) => *a += amount,
                None => self.subscriptions.push((sub, amount)),
            }
        }
    }

    fn shift_lines(&mut self, by: u64) {
        self.lines.iter_mut().for_each(|l| *l += by);
    }
}

/// The traces of a partner's aggregates ([`AggTrace`]), by the key of the
/// aggregate in its map: held only when the builder traces (explanations),
/// so that untraced aggregates carry nothing for them. An aggregate of a
/// month the builder does not trace ([`FactsBuilder::trace_only`]) has none.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Traces {
    /// Of [`PartnerFacts::revenue`].
    pub revenue: SortedMap<PairKey, AggTrace>,
    /// Of [`PartnerFacts::usage`] (their totals).
    pub usage: SortedMap<PairKey, AggTrace>,
    /// Of [`PartnerFacts::acr`].
    pub acr: SortedMap<AcrKey, AggTrace>,
    /// Of [`PartnerFacts::excluded`].
    pub excluded: SortedMap<ExcludedKey, AggTrace>,
    /// The lines of [`PartnerFacts::licenses`].
    pub licenses: SortedMap<LicenseKey, AggTrace>,
}

impl Traces {
    /// The trace of a revenue pair (empty when it has none).
    pub fn revenue(&self, key: &PairKey) -> &AggTrace {
        self.revenue.get(key).unwrap_or(&NO_TRACE)
    }

    /// The trace of a usage pair's total (empty when it has none).
    pub fn usage(&self, key: &PairKey) -> &AggTrace {
        self.usage.get(key).unwrap_or(&NO_TRACE)
    }

    /// The trace of an acr aggregate (empty when it has none).
    pub fn acr(&self, key: &AcrKey) -> &AggTrace {
        self.acr.get(key).unwrap_or(&NO_TRACE)
    }

    /// The trace of an excluded group (empty when it has none).
    pub fn excluded(&self, key: &ExcludedKey) -> &AggTrace {
        self.excluded.get(key).unwrap_or(&NO_TRACE)
    }

    /// The trace of a licenses aggregate (empty when it has none).
    pub fn licenses(&self, key: &LicenseKey) -> &AggTrace {
        self.licenses.get(key).unwrap_or(&NO_TRACE)
    }

    fn is_empty(&self) -> bool {
        self.revenue.is_empty()
            && self.usage.is_empty()
            && self.acr.is_empty()
            && self.excluded.is_empty()
            && self.licenses.is_empty()
    }

    fn shift_lines(&mut self, by: u64) {
        self.revenue.values_mut().for_each(|t| t.shift_lines(by));
        self.usage.values_mut().for_each(|t| t.shift_lines(by));
        self.acr.values_mut().for_each(|t| t.shift_lines(by));
        self.excluded.values_mut().for_each(|t| t.shift_lines(by));
        self.licenses.values_mut().for_each(|t| t.shift_lines(by));
    }

    fn retain_tenants(&mut self, keep: impl Fn(u32) -> bool) {
        self.revenue.retain(|k, _| keep(k.0));
        self.usage.retain(|k, _| keep(k.0));
        self.acr.retain(|k, _| keep(k.0));
        self.excluded.retain(|k, _| keep(k.tenant));
        self.licenses.retain(|k, _| keep(k.0));
    }
}

/// The traces of a run of staged rows ([`Staged`]), beside their sums.
#[derive(Default)]
struct StagedTraces {
    revenue: Vec<(PairKey, AggTrace)>,
    usage: Vec<(PairKey, AggTrace)>,
    acr: Vec<(AcrKey, AggTrace)>,
    excluded: Vec<(ExcludedKey, AggTrace)>,
    licenses: Vec<(LicenseKey, AggTrace)>,
}

impl StagedTraces {
    fn is_empty(&self) -> bool {
        self.revenue.is_empty()
            && self.usage.is_empty()
            && self.acr.is_empty()
            && self.excluded.is_empty()
            && self.licenses.is_empty()
    }
}

/// A product of a usage workload (`None`: the workload itself) and its quantity.
pub type ProductQuantity = (Option<u16>, Decimal);

/// Usage of one rate-card workload: 20 bytes aligned to 4, so that a usage
/// pair's entry is 32 bytes. Its quantities by product, when a product
/// rolled up into it, are beside it ([`PartnerFacts::by_product`]).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct UsageAgg {
    /// The total quantity and rows.
    pub total: Agg,
}

/// A usage aggregate with its quantities by product, while rows are staged
/// and when maps are merged ([`PartnerFacts::usage`] and
/// [`PartnerFacts::usage_products`] joined, then split again).
#[derive(Clone, Debug, Default)]
pub(crate) struct UsageRun {
    total: Agg,
    /// Quantity by product, boxed: absent (8 bytes, no heap allocation)
    /// while every row named the workload itself, the common case.
    products: Option<Box<Products>>,
}

/// Quantities by product of a [`UsageAgg`]: most lists hold two entries
/// (the workload itself and the one product that rolled up into it), kept
/// in place, so that a list is one 48-byte block (a boxed `Vec` was two
/// blocks, of 24 and 40 bytes); a longer list is a vector.
#[derive(Clone, Debug)]
enum Products {
    /// Up to two entries: `items[..len]`.
    Few {
        len: u8,
        items: [ProductQuantity; 2],
    },
    /// More.
    Many(Vec<ProductQuantity>),
}

impl Products {
    fn of(list: Vec<ProductQuantity>) -> Products {
        match *list.as_slice() {
            [a] => Products::Few {
                len: 1,
                items: [a, (None, Decimal::ZERO)],
            },
            [a, b] => Products::Few {
                len: 2,
                items: [a, b],
            },
            _ => Products::Many(list),
        }
    }

    fn as_slice(&self) -> &[ProductQuantity] {
        match self {
            Products::Few { len, items } => &items[..usize::from(*len)],
            Products::Many(v) => v,
        }
    }

    /// Adds `quantity` to `product`'s entry, pushed when absent.
    fn add(&mut self, product: Option<u16>, quantity: Decimal) {
        let list = match self {
            Products::Few { len, items } => &mut items[..usize::from(*len)],
            Products::Many(v) => v.as_mut_slice(),
        };
        if let Some((_, q)) = list.iter_mut().find(|(p, _)| *p == product) {
            *q += quantity;
            return;
        }
        match self {
            Products::Few { len, items } if *len < 2 => {
                items[usize::from(*len)] = (product, quantity);
                *len += 1;
            }
            Products::Few { items, .. } => {
                let mut v = Vec::with_capacity(4);
                v.extend_from_slice(items);
                v.push((product, quantity));
                *self = Products::Many(v);
            }
            Products::Many(v) => v.push((product, quantity)),
        }
    }
}

/// Equal when they list the same entries.
impl PartialEq for Products {
    fn eq(&self, other: &Products) -> bool {
        self.as_slice() == other.as_slice()
    }
}

impl UsageRun {
    fn add(&mut self, product: Option<u16>, quantity: Decimal) {
        self.add_product(product, quantity);
        self.total.add(quantity);
    }

    /// Adds `quantity` of `product` to the quantities by product; call
    /// before adding it to the total.
    fn add_product(&mut self, product: Option<u16>, quantity: Decimal) {
        if product.is_none() && self.products.is_none() {
            return;
        }
        self.spell_out().add(product, quantity);
    }

    /// Adds a group of `rows` rows of `product` summed elsewhere.
    pub(crate) fn add_group(&mut self, product: Option<u16>, quantity: Decimal, rows: u32) {
        self.add_product(product, quantity);
        self.total.amount += quantity;
        self.total.rows += rows;
    }

    /// The quantities by product, the implicit entry of the workload itself
    /// (the total so far, when rows were added) written out first when the
    /// list is absent.
    fn spell_out(&mut self) -> &mut Products {
        let (rows, amount) = (self.total.rows, self.total.amount);
        self.products.get_or_insert_with(|| {
            Box::new(Products::Few {
                len: u8::from(rows > 0),
                items: [(None, amount), (None, Decimal::ZERO)],
            })
        })
    }

    fn merge(&mut self, mut other: UsageRun) {
        if other.products.is_some() {
            self.spell_out();
        }
        if self.products.is_some() {
            other.spell_out();
        }
        self.total.merge(other.total);
        let Some(theirs) = other.products else { return };
        let mine = self.spell_out();
        for &(p, q) in theirs.as_slice() {
            mine.add(p, q);
        }
    }
}

/// The usage aggregates and their quantities by product joined again, in
/// key order (the product lists' keys are among the aggregates').
fn join_usage(
    usage: SortedMap<PairKey, UsageAgg>,
    products: SortedMap<PairKey, Products>,
) -> Vec<(PairKey, UsageRun)> {
    let mut products = products.into_entries().into_iter().peekable();
    usage
        .into_entries()
        .into_iter()
        .map(|(k, u)| {
            let products = products
                .next_if(|(pk, _)| *pk == k)
                .map(|(_, p)| Box::new(p));
            (
                k,
                UsageRun {
                    total: u.total,
                    products,
                },
            )
        })
        .collect()
}

/// Adds a run of usage aggregates (in any order of keys) to a partner's
/// usage and product lists, as [`SortedMap::add_run`] does: the maps are
/// joined, the run merged in, and split again (when the maps are empty,
/// the run alone is sorted and split).
fn add_usage_run(
    usage: &mut SortedMap<PairKey, UsageAgg>,
    products: &mut SortedMap<PairKey, Products>,
    run: &mut Vec<(PairKey, UsageRun)>,
) {
    if run.is_empty() {
        return;
    }
    let mut joined =
        SortedMap::from_entries(join_usage(std::mem::take(usage), std::mem::take(products)));
    joined.add_run(run, UsageRun::merge);
    let joined = joined.into_entries();
    let mut totals = Vec::with_capacity(joined.len());
    let mut lists = Vec::new();
    for (k, u) in joined {
        totals.push((k, UsageAgg { total: u.total }));
        if let Some(p) = u.products {
            lists.push((k, *p));
        }
    }
    lists.shrink_to_fit();
    *usage = SortedMap::from_entries(totals);
    *products = SortedMap::from_entries(lists);
}

/// A customer tenant of a partner (48 bytes, and no heap when its id is
/// a canonical GUID and its name short: [`CompactId`]).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Tenant {
    /// The tenant id.
    pub id: CompactId,
    /// The first non-empty customer name seen for it.
    pub name: Option<CompactId>,
}

/// A person linked to a partner (48 bytes, and no heap when its id and
/// name are short: [`CompactId`]).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Person {
    /// The person id.
    pub id: CompactId,
    /// The first non-empty name seen.
    pub name: Option<CompactId>,
}

/// One certification row of a person: 24 bytes (a million records hold
/// 23 MiB), as the certification is a 4-byte reference and the line 6
/// bytes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CertRecord {
    /// Index in [`PartnerFacts::people`].
    pub person: u32,
    /// The certification: a rulebook id, or an index into the read's
    /// names of certifications the rulebook does not know
    /// ([`PartnerFacts::certification`] reads it).
    certification: CertRef,
    /// When earned.
    pub earned_on: Date,
    /// When it expires.
    pub expires_on: Option<Date>,
    /// Its line, low 32 bits.
    line_low: u32,
    /// Its line, high 16 bits.
    line_high: u16,
}

impl CertRecord {
    /// The largest line a record holds (2^48 - 1): a file would need more
    /// than 256 TiB, one byte a line, to go past it, and a read of that many
    /// rows would take weeks; a larger line is held as this.
    pub const MAX_LINE: u64 = (1 << 48) - 1;

    fn new(
        person: u32,
        certification: CertRef,
        earned_on: Date,
        expires_on: Option<Date>,
        line: u64,
    ) -> Self {
        let mut c = CertRecord {
            person,
            certification,
            earned_on,
            expires_on,
            line_low: 0,
            line_high: 0,
        };
        c.set_line(line);
        c
    }

    /// Its line in the file (CSV) or row (Parquet).
    pub fn line(&self) -> u64 {
        u64::from(self.line_low) | u64::from(self.line_high) << 32
    }

    fn set_line(&mut self, line: u64) {
        let line = line.min(Self::MAX_LINE);
        self.line_low = line as u32;
        self.line_high = (line >> 32) as u16;
    }
}

/// A certification record's certification: a rulebook id ([`CertificationId`]
/// is 16 bits), or, with the top bit set, an index into the read's
/// [`UnknownCertifications`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct CertRef(u32);

impl CertRef {
    const UNKNOWN: u32 = 1 << 31;

    fn known(id: CertificationId) -> Self {
        CertRef(u32::from(id))
    }

    fn unknown(index: u32) -> Self {
        assert!(
            index < Self::UNKNOWN,
            "more than 2^31 unknown certification names"
        );
        CertRef(index | Self::UNKNOWN)
    }

    fn get(self) -> Result<CertificationId, u32> {
        if self.0 & Self::UNKNOWN == 0 {
            Ok(self.0 as CertificationId)
        } else {
            Err(self.0 & !Self::UNKNOWN)
        }
    }
}

/// The names of certifications the rulebook does not know, of one read
/// (every partner's records), each once (trimmed, as written), with an
/// index by name and by spelling as written: a handful of names that many
/// records share (in a dataset of every area, most of Business
/// Applications' records name another area's certifications).
#[derive(Clone, Debug, Default)]
struct UnknownCertifications {
    names: Vec<Arc<str>>,
    index: HashMap<Arc<str>, u32>,
    /// Spellings as written (untrimmed) seen so far.
    spellings: HashMap<Box<str>, u32>,
}

impl UnknownCertifications {
    /// The index of the name written `raw` (added when new).
    fn of(&mut self, raw: &str) -> u32 {
        if let Some(&i) = self.spellings.get(raw) {
            return i;
        }
        let i = self.of_name(raw.trim());
        self.spellings.insert(raw.into(), i);
        i
    }

    /// The index of a trimmed `name` (added when new).
    fn of_name(&mut self, name: &str) -> u32 {
        if let Some(&i) = self.index.get(name) {
            return i;
        }
        let i = self.names.len() as u32;
        let name: Arc<str> = name.into();
        self.names.push(Arc::clone(&name));
        self.index.insert(name, i);
        i
    }

    /// Where each of `names` is in this table (added when new).
    fn map_from(&mut self, names: &[Arc<str>]) -> Vec<u32> {
        names.iter().map(|n| self.of_name(n)).collect()
    }
}

/// A finished read's names of certifications the rulebook does not know,
/// shared by its partners' facts.
pub(crate) type UnknownNames = Arc<UnknownNameTable>;

/// The names of [`UnknownNames`], and their normalised keys, worked out
/// once for the whole read when first asked for (each area's rulebook
/// looks the names up by key, for every partner).
#[derive(Debug, Default)]
pub(crate) struct UnknownNameTable {
    names: Box<[Arc<str>]>,
    keys: std::sync::OnceLock<Box<[String]>>,
}

impl From<Vec<Arc<str>>> for UnknownNameTable {
    fn from(names: Vec<Arc<str>>) -> Self {
        UnknownNameTable {
            names: names.into(),
            keys: std::sync::OnceLock::new(),
        }
    }
}

/// Gives a partner's records that refer to an unknown name their index in
/// another table (`map`: old index to new; the caller skips a map that
/// changes nothing, once per map rather than once per partner).
fn remap_unknown(records: &mut [CertRecord], map: &[u32]) {
    for c in records {
        if let Err(i) = c.certification.get() {
            c.certification = CertRef::unknown(map[i as usize]);
        }
    }
}

/// Positions of ids in a vector that holds them (tenants, people): a hash
/// table of `u32` positions, so that each id is stored once (a map keyed by
/// the id would hold every id a second time, with its own allocation).
/// Each position is held with its id's [`id_hash`]: the table grows
/// without reading an id again (a GUID held as 16 bytes would be written
/// out as text to be hashed), and a lookup compares ids only when their
/// hashes agree.
#[derive(Clone, Debug, Default)]
struct IdIndex(hashbrown::HashTable<(u32, u32)>);

impl IdIndex {
    /// The position of the id of hash `hash` for which `is` holds.
    fn find(&self, hash: u32, is: impl Fn(u32) -> bool) -> Option<u32> {
        self.0
            .find(table_hash(hash), |&(i, h)| h == hash && is(i))
            .map(|&(i, _)| i)
    }

    /// Adds position `i` of an id of hash `hash` that the index lacks.
    fn insert(&mut self, hash: u32, i: u32) {
        self.0
            .insert_unique(table_hash(hash), (i, hash), |&(_, h)| table_hash(h));
    }
}

/// The hash of an id in an [`IdIndex`]: foldhash with a per-process random
/// seed, as the facts' hash maps, kept to 32 bits.
fn id_hash(id: &str) -> u32 {
    static STATE: LazyLock<foldhash::fast::RandomState> = LazyLock::new(Default::default);
    STATE.hash_one(id) as u32
}

/// The table's 64-bit hash of an id's [`id_hash`] (the hash table takes
/// its top bits as a tag and its low bits as a position: a multiply by an
/// odd constant spreads the 32 bits over both).
fn table_hash(h: u32) -> u64 {
    u64::from(h).wrapping_mul(0x9E37_79B9_7F4A_7C15)
}

/// An entry of a list an [`IdIndex`] indexes: an id and the first
/// non-empty name seen for it ([`Tenant`], [`Person`]).
trait Named {
    fn new(id: CompactId, name: Option<CompactId>) -> Self;
    fn id(&self) -> &CompactId;
    fn name(&self) -> Option<&CompactId>;
    fn name_mut(&mut self) -> &mut Option<CompactId>;
}

/// [`Named`] for a struct of an `id` and a `name`.
macro_rules! named {
    ($t:ident) => {
        impl Named for $t {
            fn new(id: CompactId, name: Option<CompactId>) -> Self {
                $t { id, name }
            }
            fn id(&self) -> &CompactId {
                &self.id
            }
            fn name(&self) -> Option<&CompactId> {
                self.name.as_ref()
            }
            fn name_mut(&mut self) -> &mut Option<CompactId> {
                &mut self.name
            }
        }
    };
}

named!(Tenant);
named!(Person);

/// The position of `id` in `list` (added when new); a name fills the
/// entry's name when it has none yet.
fn intern<E: Named>(list: &mut Vec<E>, index: &mut IdIndex, id: &str, name: Option<&str>) -> u32 {
    let name = name.filter(|n| !n.is_empty());
    let hash = id_hash(id);
    if let Some(i) = index.find(hash, |i| list[i as usize].id().is(id)) {
        let slot = list[i as usize].name_mut();
        if slot.is_none()
            && let Some(n) = name
        {
            *slot = Some(CompactId::new(n));
        }
        return i;
    }
    let i = list.len() as u32;
    list.push(E::new(id.into(), name.map(CompactId::new)));
    index.insert(hash, i);
    i
}

/// Adds another part's list (with its index) to `list`; the position in
/// `list` of each of `theirs`, in order. A `list` still empty takes theirs
/// and its index as they are (not made again one by one, with room to
/// spare).
fn absorb<E: Named>(
    list: &mut Vec<E>,
    index: &mut IdIndex,
    theirs: Vec<E>,
    their_index: IdIndex,
) -> Vec<u32> {
    if list.is_empty() {
        *list = theirs;
        *index = their_index;
        return (0..list.len() as u32).collect();
    }
    // Their ids' hashes, by position, from their index (ids are equal
    // exactly when their compact forms are: one id text has one form).
    let mut hashes = vec![0u32; theirs.len()];
    for &(i, h) in their_index.0.iter() {
        hashes[i as usize] = h;
    }
    theirs
        .into_iter()
        .zip(hashes)
        .map(|(e, hash)| {
            if let Some(i) = index.find(hash, |i| list[i as usize].id() == e.id()) {
                let slot = list[i as usize].name_mut();
                if slot.is_none() {
                    *slot = e.name().cloned();
                }
                return i;
            }
            let i = list.len() as u32;
            list.push(e);
            index.insert(hash, i);
            i
        })
        .collect()
}

/// Key of a revenue or usage pair: (tenant index, workload index, month).
pub type PairKey = (u32, u16, Month);

/// Everything pcs keeps about one partner: aggregates, never raw rows.
#[derive(Clone, Debug, Default)]
pub struct PartnerFacts {
    /// The partner's name (partners table).
    pub name: Option<String>,
    /// The anniversary date, when enrolled.
    pub anniversary_date: Option<Date>,
    /// Customer tenants; pair keys index into this.
    pub tenants: Vec<Tenant>,
    /// Positions in `tenants` by id (each id is stored once, in `tenants`).
    tenant_index: IdIndex,
    /// Eligible revenue per (tenant, performance workload, month).
    pub revenue: SortedMap<PairKey, Agg>,
    /// Eligible usage per (tenant, rate-card workload, month).
    pub usage: SortedMap<PairKey, UsageAgg>,
    /// The quantities by product of the usage aggregates that a product
    /// rolled up into ([`PartnerFacts::by_product`]).
    usage_products: SortedMap<PairKey, Products>,
    /// Rows that counted for nothing, grouped.
    pub excluded: SortedMap<ExcludedKey, Agg>,
    /// People; certification records index into this.
    pub people: Vec<Person>,
    /// Positions in `people` by id.
    person_index: IdIndex,
    /// Certification rows.
    pub certifications: Vec<CertRecord>,
    /// The names of certifications that the rulebook does not know, that
    /// records refer to: the read's table, shared by its partners (set
    /// when the builder finishes; while it reads, the builder holds it).
    unknown_names: Option<UnknownNames>,
    /// Azure services named in the acr table (display name as first written);
    /// [`AcrKey`]s index into this.
    pub services: Vec<String>,
    service_index: HashMap<String, u32>,
    /// ACR per (tenant, service, month, association, offer).
    pub acr: SortedMap<AcrKey, Agg>,
    /// Seats and active users per (tenant, workload, month, association).
    pub licenses: SortedMap<LicenseKey, LicenseAgg>,
    /// When each (tenant, workload, association) of the licenses table
    /// began, over every month of the table (not only the months kept).
    pub license_starts: SortedMap<LicenseStartKey, LicenseStart>,
    /// The lines and subscriptions of the aggregates above, when the
    /// builder traces (boxed: absent, 8 bytes, when it does not).
    traces: Option<Box<Traces>>,
}

/// Two partners' facts are equal when everything they hold is: the private
/// indexes are derived from the public fields and left out. (Tests compare
/// a partner read again with a full read through this.)
impl PartialEq for PartnerFacts {
    fn eq(&self, other: &Self) -> bool {
        self.name == other.name
            && self.anniversary_date == other.anniversary_date
            && self.tenants == other.tenants
            && self.revenue == other.revenue
            && self.usage == other.usage
            && self.usage_products == other.usage_products
            && self.excluded == other.excluded
            && self.people == other.people
            && self.certifications.len() == other.certifications.len()
            && self
                .certifications
                .iter()
                .zip(&other.certifications)
                .all(|(a, b)| {
                    a.person == b.person
                        && self.certification(a) == other.certification(b)
                        && a.earned_on == b.earned_on
                        && a.expires_on == b.expires_on
                        && a.line() == b.line()
                })
            && self.services == other.services
            && self.acr == other.acr
            && self.licenses == other.licenses
            && self.license_starts == other.license_starts
            && self.traces() == other.traces()
    }
}

/// Key of an ACR aggregate: tenant index, service index (into
/// [`PartnerFacts::services`]), month, association (a [`crate::vocab::Vocabulary`]
/// id) and offer (a vocabulary offer id, or [`NO_OFFER`] for an offer that
/// the vocabulary does not list, which always counts).
pub type AcrKey = (u32, u32, Month, u16, u16);

/// Key of a licenses aggregate: tenant index, workload and association
/// (vocabulary ids), month.
pub type LicenseKey = (u32, u16, Month, u16);

/// Key of a [`LicenseStart`]: tenant index, workload and association
/// (vocabulary ids).
pub type LicenseStartKey = (u32, u16, u16);

/// The offer id of an acr row whose offer is missing or not listed.
pub const NO_OFFER: u16 = u16::MAX;

/// Seats and active users of a (tenant, workload, month, association): 24
/// bytes (its lines, when the builder traces, are in [`Traces::licenses`]).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct LicenseAgg {
    /// Paid seats, summed over rows.
    pub paid_seats: u64,
    /// Active users, summed over rows.
    pub active_users: u64,
    /// How many rows.
    pub rows: u32,
}

impl LicenseAgg {
    fn merge(&mut self, other: LicenseAgg) {
        self.paid_seats += other.paid_seats;
        self.active_users += other.active_users;
        self.rows += other.rows;
    }
}

/// When a (tenant, workload, association) of the licenses table began.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LicenseStart {
    /// The earliest `associated_on` over its rows, if any row gives one.
    pub associated_on: Option<Date>,
    /// The month of its earliest row in the whole table.
    pub first_month: Month,
    /// The line of that row.
    pub first_line: u64,
}

impl LicenseStart {
    /// The month the association started: the earliest date's month, else
    /// the month of the earliest row (rules-areas.md §10.2).
    pub fn month(&self) -> Month {
        match self.associated_on {
            Some(d) => Month::of(d),
            None => self.first_month,
        }
    }

    fn merge(&mut self, other: LicenseStart) {
        self.associated_on = match (self.associated_on, other.associated_on) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
        if (other.first_month, other.first_line) < (self.first_month, self.first_line) {
            self.first_month = other.first_month;
            self.first_line = other.first_line;
        }
    }
}

impl PartnerFacts {
    fn service(&mut self, name: &str) -> u32 {
        self.service_keyed(&normalize(name), name)
    }

    /// The index of a service whose normalised name is `key`.
    fn service_keyed(&mut self, key: &str, name: &str) -> u32 {
        if let Some(&i) = self.service_index.get(key) {
            return i;
        }
        let i = self.services.len() as u32;
        self.services.push(name.trim().to_string());
        self.service_index.insert(key.to_string(), i);
        i
    }

    /// The normalised name of each of [`PartnerFacts::services`], in order:
    /// the keys the builder merged service names by (a service pushed
    /// without one is normalised here).
    pub fn service_keys(&self) -> Vec<std::borrow::Cow<'_, str>> {
        let mut keys: Vec<Option<&str>> = vec![None; self.services.len()];
        for (k, &i) in &self.service_index {
            if let Some(slot) = keys.get_mut(i as usize) {
                *slot = Some(k);
            }
        }
        keys.into_iter()
            .zip(&self.services)
            .map(|(k, s)| match k {
                Some(k) => std::borrow::Cow::Borrowed(k),
                None => std::borrow::Cow::Owned(normalize(s)),
            })
            .collect()
    }

    fn tenant(&mut self, id: &str, name: Option<&str>) -> u32 {
        intern(&mut self.tenants, &mut self.tenant_index, id, name)
    }

    fn person(&mut self, id: &str, name: Option<&str>) -> u32 {
        intern(&mut self.people, &mut self.person_index, id, name)
    }

    fn person_of(&self, id: &str) -> Option<u32> {
        self.person_index
            .find(id_hash(id), |i| self.people[i as usize].id.is(id))
    }

    /// Adds eligible revenue directly (for engines that aggregate elsewhere).
    pub fn add_revenue_pair(
        &mut self,
        tenant: &str,
        workload: u16,
        month: Month,
        amount: Decimal,
        rows: u32,
    ) {
        let t = self.tenant(tenant, None);
        let agg = self.revenue.entry_or_default((t, workload, month));
        agg.amount += amount;
        agg.rows += rows;
    }

    /// Adds eligible usage quantity directly (for engines that aggregate elsewhere).
    pub fn add_usage_pair(
        &mut self,
        tenant: &str,
        workload: u16,
        month: Month,
        quantity: Decimal,
        rows: u32,
    ) {
        let t = self.tenant(tenant, None);
        let key = (t, workload, month);
        let agg = &mut self.usage.entry_or_default(key).total;
        agg.amount += quantity;
        agg.rows += rows;
        if let Some(list) = self.usage_products.get_mut(&key) {
            list.add(None, quantity);
        }
    }

    /// Quantity by product (`None`: the workload itself) of the usage
    /// aggregate of `key`, in first-seen order; **empty while every row
    /// named the workload itself**, the total then being the workload's own
    /// quantity.
    pub fn by_product(&self, key: &PairKey) -> &[ProductQuantity] {
        self.usage_products.get(key).map_or(&[], Products::as_slice)
    }

    /// Sets the quantities by product of the usage aggregate of `key` (for
    /// what-if changes to a total; an empty list: every row named the
    /// workload itself). Returns false, and sets nothing, when there is no
    /// usage aggregate of `key`.
    pub fn set_by_product(&mut self, key: PairKey, by_product: Vec<ProductQuantity>) -> bool {
        if !self.usage.contains_key(&key) {
            return false;
        }
        if by_product.is_empty() {
            self.usage_products.retain(|k, _| *k != key);
        } else {
            self.usage_products.insert(key, Products::of(by_product));
        }
        true
    }

    /// Forgets everything about a customer tenant (for what-if scenarios).
    /// Returns whether the tenant was known.
    pub fn remove_tenant(&mut self, id: &str) -> bool {
        let Some(t) = self.tenant_index(id) else {
            return false;
        };
        self.revenue.retain(|k, _| k.0 != t);
        self.usage.retain(|k, _| k.0 != t);
        self.usage_products.retain(|k, _| k.0 != t);
        self.excluded.retain(|k, _| k.tenant != t);
        self.acr.retain(|k, _| k.0 != t);
        self.licenses.retain(|k, _| k.0 != t);
        self.license_starts.retain(|k, _| k.0 != t);
        if let Some(traces) = &mut self.traces {
            traces.retain_tenants(|k| k != t);
        }
        true
    }

    /// A record's certification: its rulebook id, or its name as written
    /// (trimmed) when the rulebook does not know it.
    pub fn certification(&self, record: &CertRecord) -> Result<CertificationId, &str> {
        record
            .certification
            .get()
            .map_err(|i| &*self.unknown_certification_names()[i as usize])
    }

    /// The names of certifications that the rulebook does not know that
    /// this partner's records refer to, by
    /// [`PartnerFacts::unknown_certification`] (a table shared by the
    /// partners of one read: it may hold names of other partners too).
    pub fn unknown_certification_names(&self) -> &[Arc<str>] {
        self.unknown_names.as_deref().map_or(&[], |t| &t.names)
    }

    /// The normalised key ([`normalize`]) of each of
    /// [`PartnerFacts::unknown_certification_names`], in order: worked out
    /// once per read, whichever partner asks first.
    pub fn unknown_certification_keys(&self) -> &[String] {
        self.unknown_names.as_deref().map_or(&[], |t| {
            t.keys
                .get_or_init(|| t.names.iter().map(|n| normalize(n)).collect())
        })
    }

    /// The read's table of [`PartnerFacts::unknown_certification_names`]
    /// (shared by its partners), for a cache of what its names resolve to.
    pub(crate) fn unknown_table(&self) -> Option<&UnknownNames> {
        self.unknown_names.as_ref()
    }

    /// The index in [`PartnerFacts::unknown_certification_names`] of a
    /// record whose certification the rulebook does not know.
    pub fn unknown_certification(record: &CertRecord) -> Option<u32> {
        record.certification.get().err()
    }

    /// Forgets every certification of a person (for what-if scenarios).
    /// Returns whether the person was known.
    pub fn remove_person(&mut self, id: &str) -> bool {
        let Some(p) = self.person_of(id) else {
            return false;
        };
        self.certifications.retain(|c| c.person != p);
        true
    }

    /// The lines and subscriptions of the partner's aggregates (every
    /// trace empty when the builder did not trace).
    pub fn traces(&self) -> &Traces {
        static NONE: LazyLock<Traces> = LazyLock::new(Traces::default);
        match &self.traces {
            Some(t) if !t.is_empty() => t,
            _ => &NONE,
        }
    }

    /// The index of a tenant id, if known.
    pub fn tenant_index(&self, id: &str) -> Option<u32> {
        self.tenant_index
            .find(id_hash(id), |i| self.tenants[i as usize].id.is(id))
    }

    /// Merges another partial aggregate of the same partner into this one:
    /// both finished ([`FactsBuilder::finish`]), or both of one builder.
    pub fn merge(&mut self, mut other: PartnerFacts) {
        // Finished facts' records refer to their read's table of unknown
        // names: the other's are given indexes in a table of both.
        if let Some(theirs) = &other.unknown_names
            && !self
                .unknown_names
                .as_ref()
                .is_some_and(|mine| Arc::ptr_eq(mine, theirs))
        {
            let mut table = UnknownCertifications::default();
            table.map_from(self.unknown_certification_names());
            let map = table.map_from(&theirs.names);
            if !is_identity(&map) {
                remap_unknown(&mut other.certifications, &map);
            }
            self.unknown_names = Some(Arc::new(table.names.into()));
        }
        if self.name.is_none() {
            self.name = other.name.take();
        }
        if self.anniversary_date.is_none() {
            self.anniversary_date = other.anniversary_date;
        }
        let tenant_map = absorb(
            &mut self.tenants,
            &mut self.tenant_index,
            std::mem::take(&mut other.tenants),
            std::mem::take(&mut other.tenant_index),
        );
        // Parts of a read usually hold each partner's rows of one table
        // whole: a map of this partner that is still empty takes the part's
        // as it is when no tenant changes index, else is sized once.
        let same_tenants = is_identity(&tenant_map);
        let tenant = |t: u32| tenant_map[t as usize];
        self.revenue.merge_rekeyed(
            other.revenue,
            same_tenants,
            |(t, w, m)| (tenant(t), w, m),
            Agg::merge,
        );
        if self.usage.is_empty() && same_tenants {
            self.usage = other.usage;
            self.usage_products = other.usage_products;
        } else {
            let mut run = join_usage(other.usage, other.usage_products);
            if !same_tenants {
                run.iter_mut().for_each(|(k, _)| k.0 = tenant(k.0));
            }
            add_usage_run(&mut self.usage, &mut self.usage_products, &mut run);
        }
        self.excluded.merge_rekeyed(
            other.excluded,
            same_tenants,
            |mut key| {
                key.tenant = tenant(key.tenant);
                key
            },
            Agg::merge,
        );
        let service_map: Vec<u32> = other.services.iter().map(|s| self.service(s)).collect();
        let same_services = same_tenants && is_identity(&service_map);
        let acr_key = |(t, s, m, a, o): AcrKey| (tenant(t), service_map[s as usize], m, a, o);
        self.acr
            .merge_rekeyed(other.acr, same_services, acr_key, Agg::merge);
        self.licenses.merge_rekeyed(
            other.licenses,
            same_tenants,
            |(t, w, m, a)| (tenant(t), w, m, a),
            LicenseAgg::merge,
        );
        self.license_starts.merge_rekeyed(
            other.license_starts,
            same_tenants,
            |(t, w, a)| (tenant(t), w, a),
            LicenseStart::merge,
        );
        if let Some(theirs) = other.traces {
            let theirs = *theirs;
            let mine = self.traces.get_or_insert_with(Box::default);
            let merge = AggTrace::merge;
            let pair_key = |(t, w, m): PairKey| (tenant(t), w, m);
            mine.revenue
                .merge_rekeyed(theirs.revenue, same_tenants, pair_key, merge);
            mine.usage
                .merge_rekeyed(theirs.usage, same_tenants, pair_key, merge);
            mine.acr
                .merge_rekeyed(theirs.acr, same_services, acr_key, merge);
            mine.excluded.merge_rekeyed(
                theirs.excluded,
                same_tenants,
                |mut key| {
                    key.tenant = tenant(key.tenant);
                    key
                },
                merge,
            );
            mine.licenses.merge_rekeyed(
                theirs.licenses,
                same_tenants,
                |(t, w, m, a)| (tenant(t), w, m, a),
                merge,
            );
        }
        let person_map = absorb(
            &mut self.people,
            &mut self.person_index,
            std::mem::take(&mut other.people),
            std::mem::take(&mut other.person_index),
        );
        let mut certifications = other.certifications;
        for c in &mut certifications {
            c.person = person_map[c.person as usize];
        }
        if self.certifications.is_empty() {
            self.certifications = certifications;
        } else {
            self.certifications.append(&mut certifications);
        }
    }
}

/// Gives back a vector's room to spare when it is more than a quarter of
/// what it holds.
fn trim<T>(v: &mut Vec<T>) {
    if v.capacity() - v.len() > v.len() / 4 {
        v.shrink_to_fit();
    }
}

/// Merges `theirs[i]`, where present, into the facts of `mine[i]`, on up to
/// `threads` threads taking slices of partners in turn.
fn merge_partners(
    mine: &mut [(String, Box<PartnerFacts>)],
    theirs: &mut [Option<Box<PartnerFacts>>],
    threads: usize,
) {
    let merge = |mine: &mut [(String, Box<PartnerFacts>)],
                 theirs: &mut [Option<Box<PartnerFacts>>]| {
        for ((_, m), t) in mine.iter_mut().zip(theirs) {
            if let Some(t) = t.take() {
                m.merge(*t);
            }
        }
    };
    let n = theirs.len().min(mine.len());
    if threads <= 1 || n < 2 * threads {
        merge(&mut mine[..n], &mut theirs[..n]);
        return;
    }
    // Several slices a thread, so that one slice of large partners does
    // not leave the other threads waiting.
    let size = n.div_ceil(8 * threads);
    let slices =
        std::sync::Mutex::new(mine[..n].chunks_mut(size).zip(theirs[..n].chunks_mut(size)));
    std::thread::scope(|s| {
        for _ in 0..threads {
            s.spawn(|| {
                loop {
                    let next = slices.lock().expect("no thread panics holding it").next();
                    let Some((m, t)) = next else { break };
                    merge(m, t);
                }
            });
        }
    });
}

/// Whether an index map sends every index to itself.
fn is_identity(map: &[u32]) -> bool {
    map.iter().enumerate().all(|(i, &j)| j as usize == i)
}

/// What kind of warning.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum WarningKind {
    /// A workload the rulebook does not know for this table.
    UnknownWorkload,
    /// An association type the rulebook does not know.
    UnknownAssociation,
    /// A certification the rulebook does not list.
    UnknownCertification,
    /// A usage workload with no rate.
    NoRate,
    /// A licenses row without `associated_on`: its association's start is
    /// taken from its earliest row.
    MissingAssociationDate,
    /// A typed file's timestamp with a time of day other than midnight in
    /// a month or date column (the name is the column): the calendar date
    /// in UTC is used.
    TimeOfDay,
}

/// A counted warning: rows with the same unknown name in one table.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Warning {
    /// The table.
    pub table: Table,
    /// What is wrong.
    pub kind: WarningKind,
    /// The name as first written.
    pub name: String,
    /// How many rows.
    pub rows: u64,
    /// The first row's line.
    pub first_line: u64,
}

impl Warning {
    /// A warning first met at `first_line`, named as written there (trimmed).
    fn first(table: Table, kind: WarningKind, name: &str, rows: u64, first_line: u64) -> Self {
        Warning {
            table,
            kind,
            name: name.trim().to_string(),
            rows,
            first_line,
        }
    }

    /// A sentence such as `12 rows: workload 'Azure' is not a Business Applications workload`.
    pub fn describe(&self, area_title: &str) -> String {
        let rows = if self.rows == 1 {
            "1 row".to_string()
        } else {
            format!("{} rows", self.rows)
        };
        let what = match (self.kind, self.table) {
            (WarningKind::UnknownWorkload, Table::Licenses) => {
                format!(
                    "workload '{}' is not a Microsoft 365 workload of any solution area",
                    self.name
                )
            }
            (WarningKind::UnknownWorkload, Table::Revenue) => {
                format!(
                    "workload '{}' is not a {area_title} performance workload",
                    self.name
                )
            }
            (WarningKind::UnknownWorkload, _) => {
                format!(
                    "workload '{}' is not a {area_title} customer success workload",
                    self.name
                )
            }
            (WarningKind::UnknownAssociation, _) => {
                format!("association type '{}' is unknown", self.name)
            }
            (WarningKind::UnknownCertification, _) => {
                format!(
                    "certification '{}' is not eligible for {area_title}",
                    self.name
                )
            }
            (WarningKind::MissingAssociationDate, _) => format!(
                "no associated_on for workload '{}': the association's start is its earliest row's month",
                self.name
            ),
            (WarningKind::NoRate, _) => format!(
                "workload '{}' has no rate on the rate card: rows skipped",
                self.name
            ),
            (WarningKind::TimeOfDay, _) => format!(
                "column '{}' holds a time of day other than midnight: read as the calendar date in UTC",
                self.name
            ),
        };
        format!("{rows}: {what} (first at line {})", self.first_line)
    }
}

/// Everything read from a dataset: facts per partner, sorted by partner id,
/// and the warnings.
#[derive(Clone, Debug, Default)]
pub struct DatasetFacts {
    /// Facts per partner id.
    pub partners: BTreeMap<String, PartnerFacts>,
    /// Warnings, by table, kind and name.
    pub warnings: Vec<Warning>,
}

/// Warnings by (table, kind, normalised name).
type WarningMap =
    hashbrown::HashMap<(Table, WarningKind, String), Warning, foldhash::fast::RandomState>;

#[derive(Default)]
struct Warnings {
    /// Warnings by (table, kind, normalised name): a hashbrown map, so
    /// that a warning is found by a borrowed key ([`WarningKey`]). Holds
    /// the spellings' counts once [`Warnings::settle`] has folded them in.
    map: WarningMap,
    /// Rows and first line per (table, kind, spelling as written), not yet
    /// in `map`: a row whose name was met before costs one lookup of the
    /// name as it is, not a normalisation and a second lookup (most of a
    /// read's warnings are one name repeated over many rows).
    spellings:
        hashbrown::HashMap<(Table, WarningKind, String), (u64, u64), foldhash::fast::RandomState>,
}

/// `(table, kind, name)` with a borrowed name: hashes and compares as the
/// key `(Table, WarningKind, String)` of [`Warnings::map`].
struct WarningKey<'a>(Table, WarningKind, &'a str);

impl std::hash::Hash for WarningKey<'_> {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        // As the tuple's: each field in order, the String as its str.
        self.0.hash(state);
        self.1.hash(state);
        self.2.hash(state);
    }
}

impl hashbrown::Equivalent<(Table, WarningKind, String)> for WarningKey<'_> {
    fn equivalent(&self, key: &(Table, WarningKind, String)) -> bool {
        self.0 == key.0 && self.1 == key.1 && self.2 == key.2
    }
}

impl Warnings {
    fn add(&mut self, table: Table, kind: WarningKind, name: &str, line: u64) {
        if let Some((rows, first_line)) = self.spellings.get_mut(&WarningKey(table, kind, name)) {
            *rows += 1;
            *first_line = (*first_line).min(line);
            return;
        }
        self.spellings
            .insert((table, kind, name.to_string()), (1, line));
    }

    /// Folds the spellings' counts into `map` (by normalised name), first
    /// lines first: a warning keeps the spelling of its first row, as if
    /// each row had been added to `map` in order.
    fn settle(&mut self) -> &mut WarningMap {
        let mut spellings: Vec<_> = self.spellings.drain().collect();
        spellings.sort_unstable_by(|a, b| (a.1.1, &a.0).cmp(&(b.1.1, &b.0)));
        for ((table, kind, name), (rows, first_line)) in spellings {
            let key = normalize(&name);
            if let Some(w) = self.map.get_mut(&WarningKey(table, kind, &key)) {
                w.rows += rows;
                w.first_line = w.first_line.min(first_line);
                continue;
            }
            self.map.insert(
                (table, kind, key),
                Warning::first(table, kind, &name, rows, first_line),
            );
        }
        &mut self.map
    }
}

/// Streams rows into per-partner facts, applying the rulebook's filters.
///
/// ```
/// use pcs_core::facts::{FactsBuilder, MonthFilter, RevenueRow};
/// use pcs_core::rulebook::RulebookSet;
/// let set = RulebookSet::builtin();
/// let rb = &set.versions()[0];
/// let mut b = FactsBuilder::new(rb, MonthFilter::All, false);
/// b.add_revenue(&RevenueRow {
///     partner_id: "P1", customer_tenant_id: "T1", customer_name: None,
///     subscription_id: None, workload: "power_bi", month: "2023-10".parse().unwrap(),
///     revenue_usd: "300".parse().unwrap(), association: "CSP Tier 1", line: 2,
/// });
/// let facts = b.finish();
/// assert_eq!(facts.partners["P1"].revenue.len(), 1);
/// ```
pub struct FactsBuilder<'r> {
    rulebook: &'r Rulebook,
    months: MonthFilter,
    trace: bool,
    /// Partners in order of first appearance, with their ids. The facts
    /// are boxed: a vector's room to spare (up to half of it while it
    /// grows, in every part of a parallel read) is then 32 bytes a slot,
    /// not a whole `PartnerFacts`.
    partners: Vec<(String, Box<PartnerFacts>)>,
    /// Index into `partners` by id. Keys are [`CompactId`]s: a partner id
    /// of up to 22 bytes (or a GUID) is compared inside the table, with no
    /// pointer to a cold heap block, which matters when the rows of
    /// partners interleave and nearly every row looks its partner up.
    partner_index: HashMap<CompactId, u32>,
    /// The partner of the previous row (index and id): files usually hold a
    /// partner's rows together, so most rows skip the hash lookup. The id is
    /// kept here, not read from `partners`, whose large entries are cold; its
    /// buffer is reused, so rows of partners interleaved one by one cost no
    /// allocation.
    last_partner: Option<(u32, String)>,
    revenue_workloads: Names<Option<u16>>,
    usage_workloads: Names<Option<UsageName>>,
    associations: Names<Option<AssociationId>>,
    certifications: Names<Option<CertificationId>>,
    /// Names of certifications the rulebook does not know; records refer
    /// to them by index.
    unknown_certifications: UnknownCertifications,
    /// The workload and association labels of excluded groups, each held once.
    labels: Labels,
    warnings: Warnings,
    /// The names of the acr and licenses tables; without it their rows only
    /// make their partner known.
    vocabulary: Option<&'r Vocabulary>,
    area_months: MonthFilter,
    /// With `trace`: the revenue and usage months, and the acr and licenses
    /// months, whose aggregates keep their source lines ([`FactsBuilder::trace_only`]).
    trace_months: MonthFilter,
    trace_area_months: MonthFilter,
    vocab_associations: Names<Option<u16>>,
    vocab_workloads: Names<Option<u16>>,
    vocab_offers: Names<u16>,
    /// Service names as written → normalised (the service list is open).
    service_keys: HashMap<String, Box<str>>,
    /// The service of the previous acr row (its index in the partner's services).
    last_service: Last<u32>,
    /// The tenant of the previous row.
    last_tenant: LastTenant,
    /// Acr and licenses aggregates not yet in their partner's maps.
    staged: Staged,
    /// Staged rows of partners whose run of rows ended before they were a
    /// fair part of the partner's maps ([`FactsBuilder::park`]), indexed by
    /// slot (empty for a partner with none; the vector grows to the last
    /// slot parked): with rows of partners interleaved one by one, a row
    /// parks one run and takes up another, by position, with no hashing.
    parked: Vec<Staged>,
    /// With [`FactsBuilder::only_partner`]: the one partner whose rows are
    /// kept; every other row is skipped unread.
    only: Option<Box<str>>,
    /// Whether rows that count for nothing are grouped into
    /// [`PartnerFacts::excluded`] ([`FactsBuilder::without_excluded`]).
    keep_excluded: bool,
}

/// What the previous row's name resolved to, in the partner slot it was
/// resolved in: consecutive rows usually repeat a name, which is then
/// compared, not hashed. The name's buffer is reused from row to row.
struct Last<T> {
    slot: usize,
    name: String,
    value: Option<T>,
}

impl<T> Default for Last<T> {
    fn default() -> Self {
        Last {
            slot: 0,
            name: String::new(),
            value: None,
        }
    }
}

impl<T: Copy> Last<T> {
    /// The value of `name` in `slot`, when it was the last one set.
    #[inline(always)]
    fn get(&self, slot: usize, name: &str) -> Option<T> {
        if self.slot == slot && same(&self.name, name) {
            self.value
        } else {
            None
        }
    }

    fn set(&mut self, slot: usize, name: &str, value: T) {
        self.slot = slot;
        self.name.clear();
        self.name.push_str(name);
        self.value = Some(value);
    }
}

/// Names as written and what they resolve to, each spelling resolved once
/// (the last one asked for kept aside: [`Last`], in slot 0, as a name
/// resolves alike for every partner).
struct Names<T> {
    map: HashMap<String, T>,
    last: Last<T>,
}

impl<T> Default for Names<T> {
    fn default() -> Self {
        Names {
            map: HashMap::default(),
            last: Last::default(),
        }
    }
}

/// Whether two texts are equal, compared in place: the names and ids a
/// row is checked against its previous row's are short, and a call to
/// `memcmp` for each cost more than the comparison (texts of 4 to 16
/// bytes: two overlapping words each; longer ones, such as GUIDs, are
/// compared by `memcmp`).
#[inline(always)]
pub(crate) fn same(a: &str, b: &str) -> bool {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    let n = a.len();
    if n != b.len() {
        return false;
    }
    let w8 = |s: &[u8], i: usize| u64::from_le_bytes(s[i..i + 8].try_into().expect("8 bytes"));
    let w4 = |s: &[u8], i: usize| u32::from_le_bytes(s[i..i + 4].try_into().expect("4 bytes"));
    match n {
        0 => true,
        1..=3 => a[0] == b[0] && a[n / 2] == b[n / 2] && a[n - 1] == b[n - 1],
        4..=7 => w4(a, 0) == w4(b, 0) && w4(a, n - 4) == w4(b, n - 4),
        8..=16 => w8(a, 0) == w8(b, 0) && w8(a, n - 8) == w8(b, n - 8),
        _ => a == b,
    }
}

fn cached<T: Copy>(cache: &mut Names<T>, raw: &str, resolve: impl FnOnce(&str) -> T) -> T {
    if let Some(v) = cache.last.get(0, raw) {
        return v;
    }
    let v = match cache.map.get(raw) {
        Some(&v) => v,
        None => {
            let v = resolve(raw);
            cache.map.insert(raw.to_string(), v);
            v
        }
    };
    cache.last.set(0, raw, v);
    v
}

/// Labels of excluded groups ([`ExcludedKey`]), each text held once and
/// shared by every key that names it.
#[derive(Default)]
struct Labels {
    texts: std::collections::HashSet<Arc<str>, foldhash::fast::RandomState>,
    /// The label of each resolved usage name met ([`usage_label`]).
    usage: HashMap<(u16, Option<u16>), Arc<str>>,
}

impl Labels {
    /// The shared label `text`.
    fn get(&mut self, text: &str) -> Arc<str> {
        if let Some(l) = self.texts.get(text) {
            return Arc::clone(l);
        }
        let l: Arc<str> = text.into();
        self.texts.insert(Arc::clone(&l));
        l
    }

    /// The shared label of a resolved usage name.
    fn usage(&mut self, rb: &Rulebook, u: UsageName) -> Arc<str> {
        if let Some(l) = self.usage.get(&(u.workload, u.product)) {
            return Arc::clone(l);
        }
        let l = self.get(&usage_label(rb, u));
        self.usage.insert((u.workload, u.product), Arc::clone(&l));
        l
    }
}

/// `raw`'s normalised name, kept in `keys` so that a spelling seen before
/// normalises (allocates) nothing.
fn normalized<'k>(keys: &'k mut HashMap<String, Box<str>>, raw: &str) -> &'k str {
    if !keys.contains_key(raw) {
        keys.insert(raw.to_string(), normalize(raw).into());
    }
    &keys[raw]
}

/// The entry of `key` at the end of `staged`, pushed when the previous row
/// had another key.
fn staged_entry<K: PartialEq, V: Default>(staged: &mut Vec<(K, V)>, key: K) -> &mut V {
    if staged.last().is_none_or(|(k, _)| *k != key) {
        staged.push((key, V::default()));
    }
    &mut staged.last_mut().expect("pushed").1
}

/// The tenant of the previous row: a partner's rows usually hold a
/// tenant's rows together, so most rows find their tenant by comparing its
/// id, not hashing it.
#[derive(Default)]
struct LastTenant(Last<u32>);

impl LastTenant {
    /// [`PartnerFacts::tenant`] of the partner in `slot`, through the last one.
    fn tenant(&mut self, slot: usize, p: &mut PartnerFacts, id: &str, name: Option<&str>) -> u32 {
        if let Some(t) = self.0.get(slot, id) {
            let tenant = &mut p.tenants[t as usize];
            if tenant.name.is_none()
                && let Some(n) = name.filter(|n| !n.is_empty())
            {
                tenant.name = Some(CompactId::new(n));
            }
            return t;
        }
        let t = p.tenant(id, name);
        self.0.set(slot, id, t);
        t
    }
}

/// The revenue, usage, acr and licenses aggregates (and the licenses'
/// association starts, and the certification records) of the rows of one partner read since its previous row of another
/// partner, in row order, added to the partner's maps when its run of rows
/// ends ([`FactsBuilder::flush_staged`]): each [`SortedMap`] then takes the
/// run sorted in one pass, and holds its entries with no room to spare.
#[derive(Default)]
struct Staged {
    /// The partner's slot, when rows are staged.
    slot: Option<usize>,
    revenue: Vec<(PairKey, Agg)>,
    usage: Vec<(PairKey, UsageRun)>,
    acr: Vec<(AcrKey, Agg)>,
    licenses: Vec<(LicenseKey, LicenseAgg)>,
    license_starts: Vec<(LicenseStartKey, LicenseStart)>,
    excluded: Vec<(ExcludedKey, Agg)>,
    certifications: Vec<CertRecord>,
    /// The traces of the staged aggregates, when the builder traces.
    traces: StagedTraces,
}

impl Staged {
    /// How many entries and records are staged.
    fn len(&self) -> usize {
        self.revenue.len()
            + self.usage.len()
            + self.acr.len()
            + self.licenses.len()
            + self.license_starts.len()
            + self.excluded.len()
            + self.certifications.len()
    }

    /// Stages a row of an excluded group (and its line, with `trace`).
    fn excluded_row(&mut self, key: ExcludedKey, amount: Decimal, line: u64, trace: bool) {
        if trace {
            staged_entry(&mut self.traces.excluded, key.clone()).add_line(line);
        }
        staged_entry(&mut self.excluded, key).add(amount);
    }

    /// Stages the start of a (tenant, workload, association) seen on a
    /// row: merged into the previous row's when it has the same key.
    fn start(&mut self, key: LicenseStartKey, start: LicenseStart) {
        match self.license_starts.last_mut() {
            Some((k, s)) if *k == key => s.merge(start),
            _ => self.license_starts.push((key, start)),
        }
    }
}

impl<'r> FactsBuilder<'r> {
    /// A builder that keeps aggregates for `months`; with `trace`, every
    /// aggregate also keeps its source lines.
    pub fn new(rulebook: &'r Rulebook, months: MonthFilter, trace: bool) -> Self {
        FactsBuilder {
            rulebook,
            months,
            trace,
            partners: Vec::new(),
            partner_index: HashMap::default(),
            last_partner: None,
            revenue_workloads: Names::default(),
            usage_workloads: Names::default(),
            associations: Names::default(),
            certifications: Names::default(),
            unknown_certifications: UnknownCertifications::default(),
            labels: Labels::default(),
            warnings: Warnings::default(),
            vocabulary: None,
            area_months: MonthFilter::All,
            trace_months: MonthFilter::All,
            trace_area_months: MonthFilter::All,
            vocab_associations: Names::default(),
            vocab_workloads: Names::default(),
            vocab_offers: Names::default(),
            service_keys: HashMap::default(),
            last_service: Last::default(),
            last_tenant: LastTenant::default(),
            staged: Staged::default(),
            parked: Vec::new(),
            only: None,
            keep_excluded: true,
        }
    }

    /// Keeps no groups of rows that counted for nothing
    /// ([`PartnerFacts::excluded`] stays empty): for a caller that explains
    /// nothing, as only explanations read them ([`crate::score::Detail::Full`]).
    /// Warnings, every sum and every tenant are as without it.
    pub fn without_excluded(mut self) -> Self {
        self.keep_excluded = false;
        self
    }

    /// Keeps the rows of `partner` only (every other row is skipped before
    /// its names are resolved, so it adds no warning either): one partner's
    /// facts, with source lines in every month, read without holding
    /// anyone else's (a server's explanation of a month it keeps sums for).
    pub fn only_partner(mut self, partner: &str) -> Self {
        self.only = Some(partner.into());
        self
    }

    /// The revenue and usage months this builder keeps aggregates for. Of
    /// a revenue or usage row of another month it reads the partner, the
    /// workload, the association and the month only (a reader may leave
    /// the other columns unread when they cannot be malformed).
    pub fn months(&self) -> &MonthFilter {
        &self.months
    }

    /// Whether a row of `partner` is skipped ([`FactsBuilder::only_partner`]).
    #[inline]
    fn skips(&self, partner: &str) -> bool {
        self.only.as_deref().is_some_and(|p| p != partner)
    }

    /// With tracing, keeps source lines (and amounts by subscription) only
    /// in aggregates of revenue and usage rows of `months` and of acr and
    /// licenses rows of `area_months`; the others keep their sums only (a
    /// server's explanations need the lines of a few months, its history
    /// the sums of all).
    pub fn trace_only(mut self, months: MonthFilter, area_months: MonthFilter) -> Self {
        self.trace_months = months;
        self.trace_area_months = area_months;
        self
    }

    /// Reads the acr and licenses tables with `vocabulary` (the names of
    /// every solution area in the run), keeping their aggregates for
    /// `months` (the Azure areas read 24 months).
    pub fn with_areas(mut self, vocabulary: &'r Vocabulary, months: MonthFilter) -> Self {
        self.vocabulary = Some(vocabulary);
        self.area_months = months;
        self
    }

    fn partner(&mut self, id: &str) -> &mut PartnerFacts {
        let i = self.partner_slot(id);
        &mut self.partners[i].1
    }

    /// The index of a partner in `partners`, added when new.
    fn partner_slot(&mut self, id: &str) -> usize {
        if let Some((i, last)) = &self.last_partner
            && same(last, id)
        {
            return *i as usize;
        }
        let i = match self.partner_index.get(&CompactId::new(id)) {
            Some(&i) => i,
            None => self.insert_partner(id.to_string(), Box::default()),
        };
        match &mut self.last_partner {
            Some((j, buf)) => {
                *j = i;
                buf.clear();
                buf.push_str(id);
            }
            last => *last = Some((i, id.to_string())),
        }
        i as usize
    }

    fn insert_partner(&mut self, id: String, facts: Box<PartnerFacts>) -> u32 {
        let i = self.partners.len() as u32;
        self.partner_index.insert(CompactId::new(&id), i);
        self.partners.push((id, facts));
        i
    }

    /// A row of a staged table (acr, licenses): its partner's slot, whose
    /// rows are now the staged ones ([`FactsBuilder::stage_for`]), and the
    /// index of its tenant.
    fn staged_row(&mut self, partner: &str, tenant: &str, name: Option<&str>) -> (usize, u32) {
        let slot = self.partner_slot(partner);
        self.stage_for(slot);
        let t = self
            .last_tenant
            .tenant(slot, &mut self.partners[slot].1, tenant, name);
        (slot, t)
    }

    /// Stages rows of the partner in `slot`: the rows staged for another
    /// partner are parked or go to their maps ([`FactsBuilder::park`]), and
    /// rows of this partner parked earlier are staged again (they came
    /// first, so row order is kept).
    fn stage_for(&mut self, slot: usize) {
        if self.staged.slot != Some(slot) {
            self.park();
            if let Some(earlier) = self.parked.get_mut(slot)
                && earlier.len() > 0
            {
                self.staged = std::mem::take(earlier);
            }
            self.staged.slot = Some(slot);
        }
    }

    /// Ends the run of the staged partner's rows. Adding a run to a
    /// partner's [`SortedMap`]s rewrites them whole, so a run is added only
    /// once it holds at least half as many entries as the partner's maps
    /// (or the maps are empty); a shorter one is parked until the
    /// partner's next run makes it long enough, or until the read ends.
    /// Rows of partners interleaved one by one (a file sorted by month, or
    /// shuffled) then cost each aggregate a bounded number of moves on
    /// average, not one per later row of its partner; rows in runs are added
    /// at once as before. Parked entries are at most half as many as their
    /// partner's aggregates.
    fn park(&mut self) {
        let Some(slot) = self.staged.slot else { return };
        let p = &self.partners[slot].1;
        let held = p.revenue.len()
            + p.usage.len()
            + p.acr.len()
            + p.licenses.len()
            + p.license_starts.len()
            + p.excluded.len()
            + p.certifications.len();
        if 2 * self.staged.len() >= held {
            self.flush_current();
        } else {
            // The slot's own entry is empty: its rows were taken up when
            // they were staged again.
            if self.parked.len() <= slot {
                self.parked.resize_with(slot + 1, Staged::default);
            }
            self.parked[slot] = std::mem::take(&mut self.staged);
        }
    }

    /// Adds every staged and parked aggregate to its partner's maps
    /// (before anything reads those maps).
    pub(crate) fn flush_staged(&mut self) {
        self.flush_current();
        for (slot, run) in std::mem::take(&mut self.parked).into_iter().enumerate() {
            if run.len() > 0 {
                self.staged = run;
                self.staged.slot = Some(slot);
                self.flush_current();
            }
        }
    }

    /// Adds the staged aggregates of the staged partner to its maps.
    fn flush_current(&mut self) {
        let Some(slot) = self.staged.slot.take() else {
            return;
        };
        let p = &mut self.partners[slot].1;
        p.revenue.add_run(&mut self.staged.revenue, Agg::merge);
        add_usage_run(&mut p.usage, &mut p.usage_products, &mut self.staged.usage);
        p.acr.add_run(&mut self.staged.acr, Agg::merge);
        p.licenses
            .add_run(&mut self.staged.licenses, LicenseAgg::merge);
        p.license_starts
            .add_run(&mut self.staged.license_starts, LicenseStart::merge);
        p.excluded.add_run(&mut self.staged.excluded, Agg::merge);
        let staged = &mut self.staged.traces;
        if !staged.is_empty() {
            let traces = p.traces.get_or_insert_with(Box::default);
            traces.revenue.add_run(&mut staged.revenue, AggTrace::merge);
            traces.usage.add_run(&mut staged.usage, AggTrace::merge);
            traces.acr.add_run(&mut staged.acr, AggTrace::merge);
            traces
                .excluded
                .add_run(&mut staged.excluded, AggTrace::merge);
            traces
                .licenses
                .add_run(&mut staged.licenses, AggTrace::merge);
        }
        // A partner's records come in one run, usually: held with no room
        // to spare (a later run grows the vector as usual).
        if p.certifications.is_empty() {
            p.certifications
                .reserve_exact(self.staged.certifications.len());
        }
        p.certifications.append(&mut self.staged.certifications);
        // The run's new tenants and people are held without much room to
        // spare (a flush adds at least half as many entries as the partner
        // held, so trimming costs a bounded number of moves per entry).
        trim(&mut p.tenants);
        trim(&mut p.people);
    }

    fn association(&mut self, table: Table, raw: &str, line: u64) -> Option<AssociationId> {
        let (a, warning) = self.association_of(raw);
        if let Some(kind) = warning {
            self.warnings.add(table, kind, raw, line);
        }
        a
    }

    /// A revenue or usage row's association (`raw` as written) and the
    /// warning the row counts for it: an unknown association. The one
    /// decision for full rows ([`FactsBuilder::add_revenue`],
    /// [`FactsBuilder::add_usage`]) and lean ones
    /// ([`FactsBuilder::association_warning`]).
    fn association_of(&mut self, raw: &str) -> (Option<AssociationId>, Option<WarningKind>) {
        let rb = self.rulebook;
        let a = cached(&mut self.associations, raw, |r| rb.association(r));
        (a, a.is_none().then_some(WarningKind::UnknownAssociation))
    }

    /// A revenue row's workload (`raw` as written) and the warning the row
    /// counts for it: an unknown workload.
    fn revenue_workload_of(&mut self, raw: &str) -> (Option<u16>, Option<WarningKind>) {
        let rb = self.rulebook;
        let w = cached(&mut self.revenue_workloads, raw, |r| rb.revenue_workload(r));
        (w, w.is_none().then_some(WarningKind::UnknownWorkload))
    }

    /// A usage row's workload (`raw` as written) and the warning the row
    /// counts for it: an unknown workload, or one with no rate.
    fn usage_workload_of(&mut self, raw: &str) -> (Option<UsageName>, Option<WarningKind>) {
        let rb = self.rulebook;
        let u = cached(&mut self.usage_workloads, raw, |r| rb.usage_workload(r));
        let warning = match u {
            None => Some(WarningKind::UnknownWorkload),
            Some(u) if rb.usage.workloads[u.workload as usize].rate.is_none() => {
                Some(WarningKind::NoRate)
            }
            Some(_) => None,
        };
        (u, warning)
    }

    fn association_label(&mut self, id: Option<AssociationId>, raw: &str) -> Arc<str> {
        match id {
            Some(i) => self
                .labels
                .get(&self.rulebook.associations[i as usize].name),
            None => self.labels.get(raw.trim()),
        }
    }

    /// A builder that continues from facts read earlier (to add what-if
    /// rows to a real dataset).
    pub fn from_facts(
        rulebook: &'r Rulebook,
        months: MonthFilter,
        trace: bool,
        facts: DatasetFacts,
    ) -> Self {
        let mut b = FactsBuilder::new(rulebook, months, trace);
        // The partners' records are given indexes in the builder's table
        // of unknown names (one map per distinct table: usually one).
        // The map is `None` when it changes nothing.
        let mut last: Option<(UnknownNames, Option<Vec<u32>>)> = None;
        for (id, mut p) in facts.partners {
            if let Some(names) = p.unknown_names.take() {
                let map = match &last {
                    Some((t, map)) if Arc::ptr_eq(t, &names) => map,
                    _ => {
                        let map = b.unknown_certifications.map_from(&names.names);
                        &last.insert((names, (!is_identity(&map)).then_some(map))).1
                    }
                };
                if let Some(map) = map {
                    remap_unknown(&mut p.certifications, map);
                }
            }
            b.insert_partner(id, Box::new(p));
        }
        for w in facts.warnings {
            b.warnings
                .map
                .insert((w.table, w.kind, normalize(&w.name)), w);
        }
        b
    }

    /// Adds one revenue row.
    pub fn add_revenue(&mut self, row: &RevenueRow<'_>) {
        if self.skips(row.partner_id) {
            return;
        }
        let rb = self.rulebook;
        let (workload, warning) = self.revenue_workload_of(row.workload);
        if let Some(kind) = warning {
            self.warnings
                .add(Table::Revenue, kind, row.workload, row.line);
        }
        let association = self.association(Table::Revenue, row.association, row.line);
        let keep = self.months.keeps(row.month);
        let trace = self.trace && self.trace_months.keeps(row.month);
        let reason = match (workload, association) {
            (None, _) => Some(Exclusion::UnknownWorkload),
            (_, None) => Some(Exclusion::UnknownAssociation),
            (Some(_), Some(a)) if !rb.revenue.associations.contains(a) => {
                Some(Exclusion::AssociationNotEligible)
            }
            _ => None,
        };
        let excluded_labels = match (keep && self.keep_excluded, reason) {
            (true, Some(_)) => Some((
                match workload {
                    Some(w) => self.labels.get(&rb.revenue.workloads[w as usize].name),
                    None => self.labels.get(row.workload.trim()),
                },
                self.association_label(association, row.association),
            )),
            _ => None,
        };
        let slot = self.partner_slot(row.partner_id);
        if !keep {
            return;
        }
        self.stage_for(slot);
        let p = &mut self.partners[slot].1;
        let t = p.tenant(row.customer_tenant_id, row.customer_name);
        match (reason, workload, excluded_labels) {
            (None, Some(w), _) => {
                let key = (t, w, row.month);
                staged_entry(&mut self.staged.revenue, key).add(row.revenue_usd);
                if trace {
                    let tr = staged_entry(&mut self.staged.traces.revenue, key);
                    tr.add_line(row.line);
                    tr.add_subscription(row.subscription_id, row.revenue_usd);
                }
            }
            (Some(reason), _, Some((workload, association))) => {
                let key = ExcludedKey {
                    table: Table::Revenue,
                    tenant: t,
                    workload,
                    association,
                    month: row.month,
                    reason,
                };
                self.staged
                    .excluded_row(key, row.revenue_usd, row.line, trace);
            }
            (Some(_), _, None) if !self.keep_excluded => {}
            _ => unreachable!("an eligible row has a workload; an excluded kept row has labels"),
        }
    }

    /// Adds one usage row.
    pub fn add_usage(&mut self, row: &UsageRow<'_>) {
        if self.skips(row.partner_id) {
            return;
        }
        let rb = self.rulebook;
        let (workload, warning) = self.usage_workload_of(row.workload);
        if let Some(kind) = warning {
            self.warnings
                .add(Table::Usage, kind, row.workload, row.line);
        }
        let association = self.association(Table::Usage, row.association, row.line);
        let reason = match (workload, warning) {
            (None, _) => Some(Exclusion::UnknownWorkload),
            (Some(_), Some(_)) => Some(Exclusion::NoRate),
            (Some(u), None) => {
                let wl = &rb.usage.workloads[u.workload as usize];
                match association {
                    None => Some(Exclusion::UnknownAssociation),
                    Some(a) if !rb.usage.families[wl.family].associations.contains(a) => {
                        Some(Exclusion::AssociationNotEligible)
                    }
                    Some(_) => None,
                }
            }
        };
        let keep = self.months.keeps(row.month);
        let trace = self.trace && self.trace_months.keeps(row.month);
        let excluded_labels = match (keep && self.keep_excluded, reason) {
            (true, Some(_)) => Some((
                match workload {
                    Some(u) => self.labels.usage(rb, u),
                    None => self.labels.get(row.workload.trim()),
                },
                self.association_label(association, row.association),
            )),
            _ => None,
        };
        let slot = self.partner_slot(row.partner_id);
        if !keep {
            return;
        }
        self.stage_for(slot);
        let p = &mut self.partners[slot].1;
        let t = p.tenant(row.customer_tenant_id, row.customer_name);
        match (reason, workload, excluded_labels) {
            (None, Some(u), _) => {
                let key = (t, u.workload, row.month);
                staged_entry(&mut self.staged.usage, key).add(u.product, row.quantity);
                if trace {
                    staged_entry(&mut self.staged.traces.usage, key).add_line(row.line);
                }
            }
            (Some(reason), _, Some((workload, association))) => {
                let key = ExcludedKey {
                    table: Table::Usage,
                    tenant: t,
                    workload,
                    association,
                    month: row.month,
                    reason,
                };
                self.staged.excluded_row(key, row.quantity, row.line, trace);
            }
            (Some(_), _, None) if !self.keep_excluded => {}
            _ => unreachable!("an eligible row has a workload; an excluded kept row has labels"),
        }
    }

    /// Adds one certification row.
    pub fn add_certification(&mut self, row: &CertificationRow<'_>) {
        if self.skips(row.partner_id) {
            return;
        }
        let rb = self.rulebook;
        let cert = cached(&mut self.certifications, row.certification, |r| {
            rb.certification(r)
        });
        if cert.is_none() {
            self.warnings.add(
                Table::Certifications,
                WarningKind::UnknownCertification,
                row.certification,
                row.line,
            );
        }
        self.add_resolved_certification(
            row.partner_id,
            row.person_id,
            row.person_name,
            cert.ok_or(row.certification),
            row.earned_on,
            row.expires_on,
            row.line,
        );
    }

    fn vocab_association(&mut self, table: Table, raw: &str, line: u64) -> Option<u16> {
        let v = self.vocabulary?;
        let a = cached(&mut self.vocab_associations, raw, |r| v.association(r));
        if a.is_none() {
            self.warnings
                .add(table, WarningKind::UnknownAssociation, raw, line);
        }
        a
    }

    /// Adds one acr row: ACR per (tenant, service, month, association,
    /// offer). The service list is open (no warning for a new service).
    pub fn add_acr(&mut self, row: &AcrRow<'_>) {
        if self.skips(row.partner_id) {
            return;
        }
        let Some(v) = self.vocabulary else {
            self.partner(row.partner_id);
            return;
        };
        let association = self.vocab_association(Table::Acr, row.association, row.line);
        let offer = match row.offer {
            Some(o) => cached(&mut self.vocab_offers, o, |r| {
                v.offer(r).unwrap_or(NO_OFFER)
            }),
            None => NO_OFFER,
        };
        let keep = self.area_months.keeps(row.month);
        let trace = self.trace && self.trace_area_months.keeps(row.month);
        if !keep {
            self.partner(row.partner_id);
            return;
        }
        let (slot, t) = self.staged_row(row.partner_id, row.customer_tenant_id, row.customer_name);
        let p = &mut self.partners[slot].1;
        let s = match self.last_service.get(slot, row.service) {
            Some(s) => s,
            None => {
                let s =
                    p.service_keyed(normalized(&mut self.service_keys, row.service), row.service);
                self.last_service.set(slot, row.service, s);
                s
            }
        };
        match association {
            Some(a) => {
                let key = (t, s, row.month, a, offer);
                staged_entry(&mut self.staged.acr, key).add(row.acr_usd);
                if trace {
                    let tr = staged_entry(&mut self.staged.traces.acr, key);
                    tr.add_line(row.line);
                    tr.add_subscription(row.subscription_id, row.acr_usd);
                }
            }
            None if !self.keep_excluded => {}
            None => {
                let key = ExcludedKey {
                    table: Table::Acr,
                    tenant: t,
                    workload: self.labels.get(&p.services[s as usize]),
                    association: self.labels.get(row.association.trim()),
                    month: row.month,
                    reason: Exclusion::UnknownAssociation,
                };
                self.staged.excluded_row(key, row.acr_usd, row.line, trace);
            }
        }
    }

    /// Adds one licenses row: seats and active users per (tenant, workload,
    /// month, association), and the start of the association.
    pub fn add_license(&mut self, row: &LicenseRow<'_>) {
        if self.skips(row.partner_id) {
            return;
        }
        let Some(v) = self.vocabulary else {
            self.partner(row.partner_id);
            return;
        };
        let workload = cached(&mut self.vocab_workloads, row.workload, |r| v.workload(r));
        if workload.is_none() {
            self.warnings.add(
                Table::Licenses,
                WarningKind::UnknownWorkload,
                row.workload,
                row.line,
            );
        }
        let association = self.vocab_association(Table::Licenses, row.association, row.line);
        let keep = self.area_months.keeps(row.month);
        let trace = self.trace && self.trace_area_months.keeps(row.month);
        if row.associated_on.is_none()
            && let (Some(w), Some(_)) = (workload, association)
        {
            self.warnings.add(
                Table::Licenses,
                WarningKind::MissingAssociationDate,
                &v.workloads[w as usize],
                row.line,
            );
        }
        let (_, t) = self.staged_row(row.partner_id, row.customer_tenant_id, row.customer_name);
        match (workload, association) {
            (Some(w), Some(a)) => {
                let start = LicenseStart {
                    associated_on: row.associated_on,
                    first_month: row.month,
                    first_line: row.line,
                };
                self.staged.start((t, w, a), start);
                if keep {
                    let key = (t, w, row.month, a);
                    let agg = staged_entry(&mut self.staged.licenses, key);
                    agg.paid_seats += row.paid_seats;
                    agg.active_users += row.active_users;
                    agg.rows += 1;
                    if trace {
                        staged_entry(&mut self.staged.traces.licenses, key).add_line(row.line);
                    }
                }
            }
            _ if keep && self.keep_excluded => {
                let key = ExcludedKey {
                    table: Table::Licenses,
                    tenant: t,
                    workload: match workload {
                        Some(w) => self.labels.get(&v.workloads[w as usize]),
                        None => self.labels.get(row.workload.trim()),
                    },
                    association: match association {
                        Some(a) => self.labels.get(&v.associations[a as usize]),
                        None => self.labels.get(row.association.trim()),
                    },
                    month: row.month,
                    reason: if workload.is_none() {
                        Exclusion::UnknownWorkload
                    } else {
                        Exclusion::UnknownAssociation
                    },
                };
                self.staged
                    .excluded_row(key, Decimal::from(row.paid_seats), row.line, trace);
            }
            _ => {}
        }
    }

    /// Adds one partners row.
    pub fn add_partner(&mut self, row: &PartnerRow<'_>) {
        if self.skips(row.partner_id) {
            return;
        }
        let p = self.partner(row.partner_id);
        if let Some(n) = row.name.filter(|n| !n.is_empty()) {
            p.name.get_or_insert_with(|| n.to_string());
        }
        if row.anniversary_date.is_some() {
            p.anniversary_date = row.anniversary_date;
        }
    }

    /// Adds `by` to every line number held so far: for a reader that parses
    /// a part of a file before it knows how many lines come before that part.
    pub fn shift_lines(&mut self, by: u64) {
        if by == 0 {
            return;
        }
        self.flush_staged();
        for (_, p) in &mut self.partners {
            if let Some(t) = &mut p.traces {
                t.shift_lines(by);
            }
            p.certifications
                .iter_mut()
                .for_each(|c| c.set_line(c.line() + by));
            p.license_starts
                .values_mut()
                .for_each(|s| s.first_line += by);
        }
        for w in self.warnings.settle().values_mut() {
            w.first_line += by;
        }
    }

    /// An empty builder with the same rulebook, months and tracing, for
    /// reading another part of the data in parallel (then [`FactsBuilder::merge`]).
    pub fn empty_like(&self) -> FactsBuilder<'r> {
        let mut b = FactsBuilder::new(self.rulebook, self.months.clone(), self.trace)
            .trace_only(self.trace_months.clone(), self.trace_area_months.clone());
        b.only = self.only.clone();
        b.keep_excluded = self.keep_excluded;
        match self.vocabulary {
            Some(v) => b.with_areas(v, self.area_months.clone()),
            None => b,
        }
    }

    /// Counts a row of `table` whose `column` (a month or date) holds a
    /// timestamp with a time of day other than midnight, read as its date.
    pub fn warn_time_of_day(&mut self, table: Table, column: &str, line: u64) {
        self.warnings
            .add(table, WarningKind::TimeOfDay, column, line);
    }

    /// For a reader that resolves each distinct value of a column once: of
    /// a revenue or usage row of a month this builder does not keep
    /// ([`FactsBuilder::months`]), with partner `id` (trimmed, not empty),
    /// adds the partner when new, as [`FactsBuilder::add_revenue`] and
    /// [`FactsBuilder::add_usage`] do. Returns false when the builder skips
    /// that partner's rows ([`FactsBuilder::only_partner`]): such a row then
    /// counts no warning either.
    pub fn note_partner(&mut self, id: &str) -> bool {
        if self.skips(id) {
            return false;
        }
        self.partner_slot(id);
        true
    }

    /// The warning a row of `table` (revenue or usage) counts for its
    /// workload `raw` (trimmed), as [`FactsBuilder::add_revenue`] and
    /// [`FactsBuilder::add_usage`] count it: an unknown workload, or for
    /// usage one with no rate. Count it per row with
    /// [`FactsBuilder::count_warning`].
    pub fn workload_warning(&mut self, table: Table, raw: &str) -> Option<WarningKind> {
        match table {
            Table::Revenue => self.revenue_workload_of(raw).1,
            Table::Usage => self.usage_workload_of(raw).1,
            _ => None,
        }
    }

    /// The warning a revenue or usage row counts for its association `raw`
    /// (trimmed): an unknown association, as [`FactsBuilder::add_revenue`]
    /// and [`FactsBuilder::add_usage`] count it.
    pub fn association_warning(&mut self, raw: &str) -> Option<WarningKind> {
        self.association_of(raw).1
    }

    /// Counts one row of `table` at `line` with warning `kind` about the
    /// name `raw` (from [`FactsBuilder::workload_warning`] or
    /// [`FactsBuilder::association_warning`]).
    pub fn count_warning(&mut self, table: Table, kind: WarningKind, raw: &str, line: u64) {
        self.warnings.add(table, kind, raw, line);
    }

    /// Merges another builder's partial facts (from another part of the data).
    pub fn merge(&mut self, other: FactsBuilder<'_>) {
        self.merge_on(other, 1);
    }

    /// [`FactsBuilder::merge`] on up to `threads` threads: the two
    /// builders' staged rows flushed at the same time, and the partners both
    /// hold merged in parallel (each partner's facts by one thread, as
    /// [`PartnerFacts::merge`] merges them); the partners only `other` holds
    /// are added after, in its order. The result is the same whatever
    /// `threads` is.
    pub fn merge_on(&mut self, mut other: FactsBuilder<'_>, threads: usize) {
        if threads > 1 {
            std::thread::scope(|s| {
                s.spawn(|| other.flush_staged());
                self.flush_staged();
            });
        } else {
            self.flush_staged();
            other.flush_staged();
        }
        let unknown = self
            .unknown_certifications
            .map_from(&other.unknown_certifications.names);
        let same_unknown = is_identity(&unknown);
        // The other's facts of each partner both hold, by slot; the
        // partners new to this builder, in the other's order.
        let mut theirs: Vec<Option<Box<PartnerFacts>>> = Vec::new();
        let mut new = Vec::new();
        for (id, mut facts) in other.partners {
            if !same_unknown {
                remap_unknown(&mut facts.certifications, &unknown);
            }
            match self.partner_index.get(&CompactId::new(&id)) {
                Some(&i) => {
                    if theirs.is_empty() {
                        theirs.resize_with(self.partners.len(), || None);
                    }
                    theirs[i as usize] = Some(facts);
                }
                None => new.push((id, facts)),
            }
        }
        merge_partners(&mut self.partners, &mut theirs, threads);
        for (id, facts) in new {
            self.insert_partner(id, facts);
        }
        // Parts are merged once per table: the partners (large entries)
        // are then held without much room to spare.
        trim(&mut self.partners);
        other.warnings.settle();
        let map = self.warnings.settle();
        for (key, w) in other.warnings.map {
            match map.get_mut(&key) {
                Some(mine) => {
                    mine.rows += w.rows;
                    mine.first_line = mine.first_line.min(w.first_line);
                }
                None => {
                    map.insert(key, w);
                }
            }
        }
    }

    /// The facts, partners sorted by id, warnings sorted by table, kind and name.
    pub fn finish(mut self) -> DatasetFacts {
        self.flush_staged();
        // Every partner refers to the one table (8 bytes each).
        let names: UnknownNames =
            Arc::new(std::mem::take(&mut self.unknown_certifications.names).into());
        for (_, p) in &mut self.partners {
            p.unknown_names = Some(Arc::clone(&names));
        }
        self.warnings.settle();
        let mut warnings: Vec<Warning> = self.warnings.map.into_values().collect();
        warnings.sort_by(|a, b| {
            (a.table, a.kind, normalize(&a.name)).cmp(&(b.table, b.kind, normalize(&b.name)))
        });
        DatasetFacts {
            partners: self.partners.into_iter().map(|(id, p)| (id, *p)).collect(),
            warnings,
        }
    }
}

/// The display name of a resolved usage name (`Sales → Customer Engagement`).
pub fn usage_label(rb: &Rulebook, u: UsageName) -> String {
    let wl = &rb.usage.workloads[u.workload as usize];
    match u.product {
        Some(p) => format!("{} (in {})", wl.includes[p as usize], wl.name),
        None => wl.name.clone(),
    }
}

#[cfg(test)]
mod trace_tests {
    use super::*;

    #[test]
    fn trace_only_keeps_lines_of_the_months_asked_for_and_every_sum() {
        let set = crate::rulebook::RulebookSet::builtin();
        let rb = &set.versions()[0];
        let m = |s: &str| -> Month { s.parse().unwrap() };
        let build = |only: MonthFilter| {
            let mut b =
                FactsBuilder::new(rb, MonthFilter::All, true).trace_only(only, MonthFilter::All);
            for (line, month) in [(2, "2023-09"), (3, "2023-10"), (4, "2023-10")] {
                b.add_revenue(&RevenueRow {
                    partner_id: "P1",
                    customer_tenant_id: "T1",
                    customer_name: None,
                    subscription_id: Some("S1"),
                    workload: "Sales",
                    month: month.parse().unwrap(),
                    revenue_usd: Decimal::ONE_HUNDRED,
                    association: "CSP Tier 1",
                    line,
                });
            }
            b.finish()
        };
        let all = build(MonthFilter::All);
        let some = build(MonthFilter::Only(vec![m("2023-10")]));
        let (a, s) = (&all.partners["P1"], &some.partners["P1"]);
        assert_eq!(a.revenue.len(), 2);
        for (k, agg) in &a.revenue {
            let kept = &s.revenue[k];
            assert_eq!((kept.amount, kept.rows), (agg.amount, agg.rows), "{k:?}");
            let (all_trace, kept_trace) = (a.traces().revenue(k), s.traces().revenue(k));
            if k.2 == m("2023-10") {
                assert_eq!(kept_trace.lines(), &[3, 4]);
                assert_eq!(kept_trace.subscriptions(), all_trace.subscriptions());
            } else {
                assert!(kept_trace.lines().is_empty() && kept_trace.subscriptions().is_empty());
                assert!(!s.traces().revenue.contains_key(k));
                assert_eq!(all_trace.lines(), &[2]);
            }
        }
        // Parts read in parallel trace the same months.
        let b = FactsBuilder::new(rb, MonthFilter::All, true)
            .trace_only(MonthFilter::Only(vec![m("2023-10")]), MonthFilter::All);
        let part = b.empty_like();
        assert!(part.trace_months.keeps(m("2023-10")) && !part.trace_months.keeps(m("2023-09")));
    }

    #[test]
    fn only_partner_keeps_that_partners_rows_and_nothing_else() {
        let set = crate::rulebook::RulebookSet::builtin();
        let rb = &set.versions()[0];
        let build = |only: Option<&str>| {
            let mut b = FactsBuilder::new(rb, MonthFilter::All, true);
            if let Some(p) = only {
                b = b.only_partner(p);
            }
            // Parts read in parallel keep the filter.
            let mut part = b.empty_like();
            for (line, partner, workload) in [
                (2, "P1", "Sales"),
                (3, "P2", "Sales"),
                (4, "P1", "Sales"),
                (5, "P2", "No such workload"),
            ] {
                part.add_revenue(&RevenueRow {
                    partner_id: partner,
                    customer_tenant_id: "T1",
                    customer_name: None,
                    subscription_id: Some("S1"),
                    workload,
                    month: "2023-10".parse().unwrap(),
                    revenue_usd: Decimal::ONE_HUNDRED,
                    association: "CSP Tier 1",
                    line,
                });
            }
            part.add_partner(&PartnerRow {
                partner_id: "P2",
                name: Some("Two"),
                anniversary_date: None,
                line: 2,
            });
            b.merge(part);
            b.finish()
        };
        let all = build(None);
        let one = build(Some("P1"));
        assert_eq!(all.partners.len(), 2);
        assert_eq!(one.partners.keys().collect::<Vec<_>>(), ["P1"]);
        // P2's unknown workload is not P1's business.
        assert_eq!(all.warnings.len(), 1);
        assert!(one.warnings.is_empty());
        let (a, o) = (&all.partners["P1"], &one.partners["P1"]);
        assert_eq!(a.revenue, o.revenue);
        let k = o.revenue.keys().next().unwrap();
        assert_eq!(o.traces().revenue(k).lines(), &[2, 4]);
    }

    #[test]
    fn a_warning_counts_every_spelling_of_a_name_and_keeps_its_first_rows() {
        let set = crate::rulebook::RulebookSet::builtin();
        let rb = &set.versions()[0];
        let cert = |b: &mut FactsBuilder<'_>, line: u64, certification: &str| {
            b.add_certification(&CertificationRow {
                partner_id: "P1",
                person_id: "E1",
                person_name: None,
                certification,
                earned_on: jiff::civil::date(2023, 1, 1),
                expires_on: None,
                line,
            });
        };
        // Two spellings of one unknown name, and another name, in one
        // part and the next (whose lines come after).
        let mut b = FactsBuilder::new(rb, MonthFilter::All, false);
        let mut part = b.empty_like();
        cert(&mut b, 4, " No_Such-Cert");
        cert(&mut b, 5, "no such cert");
        cert(&mut b, 6, " No_Such-Cert");
        cert(&mut b, 7, "Other cert");
        cert(&mut part, 2, "NO SUCH CERT");
        cert(&mut part, 3, "Other cert");
        part.shift_lines(6);
        b.merge(part);
        let w = b.finish().warnings;
        let got: Vec<_> = w
            .iter()
            .map(|w| (w.name.as_str(), w.rows, w.first_line))
            .collect();
        assert_eq!(got, [("No_Such-Cert", 4, 4), ("Other cert", 2, 7)]);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rulebook::RulebookSet;

    fn usage_rows(b: &mut FactsBuilder<'_>, rows: &[(u64, &str, &str)]) {
        for &(line, workload, quantity) in rows {
            b.add_usage(&UsageRow {
                partner_id: "P1",
                customer_tenant_id: "T1",
                customer_name: None,
                workload,
                month: "2023-10".parse().unwrap(),
                quantity: quantity.parse().unwrap(),
                association: "CSP Tier 1",
                line,
            });
        }
    }

    /// A reader's per-value resolution of rows of months not kept
    /// (`note_partner`, `workload_warning`, `association_warning`,
    /// `count_warning`) leaves the builder as `add_revenue` and `add_usage`
    /// leave it: the same partners, in the same order, and warnings.
    #[test]
    fn resolved_rows_of_months_not_kept_count_as_added_rows() {
        let set = RulebookSet::builtin();
        let rb = &set.versions()[0];
        let kept = MonthFilter::Only(vec!["2024-07".parse().unwrap()]);
        let rows: &[(&str, &str, &str)] = &[
            ("P2", "Sales", "CSP Tier 1"),
            ("P1", "No such workload", "DPOR"),
            ("P3", "Portals", "Nope"),
            ("P1", "Power Apps", "PAL"),
            ("P2", "No such workload", "Nope"),
        ];
        for only in [None, Some("P1")] {
            let new = || {
                let b = FactsBuilder::new(rb, kept.clone(), false);
                match only {
                    Some(p) => b.only_partner(p),
                    None => b,
                }
            };
            let (mut added, mut resolved) = (new(), new());
            for (i, &(partner, workload, association)) in rows.iter().enumerate() {
                let line = i as u64 + 2;
                let month = "2023-01".parse().unwrap();
                added.add_revenue(&RevenueRow {
                    partner_id: partner,
                    customer_tenant_id: "T1",
                    customer_name: None,
                    subscription_id: None,
                    workload,
                    month,
                    revenue_usd: Decimal::ONE,
                    association,
                    line,
                });
                added.add_usage(&UsageRow {
                    partner_id: partner,
                    customer_tenant_id: "T1",
                    customer_name: None,
                    workload,
                    month,
                    quantity: Decimal::ONE,
                    association,
                    line,
                });
                for table in [Table::Revenue, Table::Usage] {
                    if resolved.note_partner(partner) {
                        if let Some(k) = resolved.workload_warning(table, workload) {
                            resolved.count_warning(table, k, workload, line);
                        }
                        if let Some(k) = resolved.association_warning(association) {
                            resolved.count_warning(table, k, association, line);
                        }
                    }
                }
            }
            let (a, b) = (added.finish(), resolved.finish());
            assert_eq!(a.warnings, b.warnings, "{only:?}");
            assert!(a.warnings.iter().any(|w| w.kind == WarningKind::NoRate) == only.is_none());
            assert_eq!(
                a.partners.keys().collect::<Vec<_>>(),
                b.partners.keys().collect::<Vec<_>>()
            );
        }
    }

    #[test]
    fn products_are_listed_only_when_a_product_is_named_whatever_the_parts() {
        let set = RulebookSet::builtin();
        let rb = &set.versions()[0];
        let rows: &[(u64, &str, &str)] = &[
            (2, "Customer Engagement", "1.5"),
            (3, "Sales", "2"),
            (4, "Customer Engagement", "3"),
            (5, "Customer Service", "0.25"),
            (6, "Sales", "1"),
        ];
        let usage = |facts: &DatasetFacts| {
            let p = &facts.partners["P1"];
            assert_eq!(p.usage.len(), 1);
            let (k, u) = p.usage.iter().next().unwrap();
            (u.clone(), p.by_product(k).to_vec())
        };
        let mut whole = FactsBuilder::new(rb, MonthFilter::All, false);
        usage_rows(&mut whole, rows);
        let whole = usage(&whole.finish());
        let d = |s: &str| s.parse::<Decimal>().unwrap();
        let ce = rb.usage_workload("Customer Engagement").unwrap();
        let sales = rb.usage_workload("Sales").unwrap().product;
        let service = rb.usage_workload("Customer Service").unwrap().product;
        assert!(ce.product.is_none() && sales.is_some() && service.is_some());
        assert_eq!(
            whole.1,
            &[(None, d("4.5")), (sales, d("3")), (service, d("0.25"))]
        );
        assert_eq!((whole.0.total.amount, whole.0.total.rows), (d("7.75"), 5));
        // Split into parts anywhere (as a parallel read does): the same.
        for cut in 0..=rows.len() {
            let mut b = FactsBuilder::new(rb, MonthFilter::All, false);
            let mut first = b.empty_like();
            let mut second = b.empty_like();
            usage_rows(&mut first, &rows[..cut]);
            usage_rows(&mut second, &rows[cut..]);
            b.merge(first);
            b.merge(second);
            assert_eq!(usage(&b.finish()), whole, "cut at {cut}");
        }
        // Each row a run of its own (another partner's row between), so
        // that every run is joined with the lists held and split again.
        let mut b = FactsBuilder::new(rb, MonthFilter::All, false);
        for (i, row) in rows.iter().enumerate() {
            usage_rows(&mut b, std::slice::from_ref(row));
            b.add_usage(&UsageRow {
                partner_id: "Q",
                customer_tenant_id: "T1",
                customer_name: None,
                workload: "Sales",
                month: "2023-10".parse().unwrap(),
                quantity: Decimal::ONE,
                association: "CSP Tier 1",
                line: 100 + i as u64,
            });
        }
        assert_eq!(usage(&b.finish()), whole, "one run per row");
        // A total changed by a what-if keeps its list beside it.
        let mut b = FactsBuilder::new(rb, MonthFilter::All, false);
        usage_rows(&mut b, rows);
        let mut facts = b.finish();
        let p = facts.partners.get_mut("P1").unwrap();
        let key = *p.usage.keys().next().unwrap();
        p.add_usage_pair("T1", key.1, key.2, d("1"), 1);
        assert_eq!(
            p.by_product(&key),
            &[(None, d("5.5")), (sales, d("3")), (service, d("0.25"))]
        );
        assert!(p.set_by_product(key, Vec::new()));
        assert!(p.by_product(&key).is_empty());
        let elsewhere = (key.0, key.1, key.2.minus(1));
        assert!(!p.set_by_product(elsewhere, vec![(None, d("1"))]));
        assert!(p.by_product(&elsewhere).is_empty());
        assert!(p.remove_tenant("T1") && p.usage.is_empty());
        // Rows of the workload itself only: no list, the total is its own.
        let mut b = FactsBuilder::new(rb, MonthFilter::All, false);
        usage_rows(
            &mut b,
            &[
                (2, "Customer Engagement", "1"),
                (3, "Customer Engagement", "2"),
            ],
        );
        let only = usage(&b.finish());
        assert!(only.1.is_empty());
        assert_eq!(only.0.total.amount, d("3"));
    }

    proptest::proptest! {
        /// Texts compared in place are equal exactly when they are.
        #[test]
        fn same_is_equality(
            a in "[ab]{0,70}|\\PC{0,40}",
            b in "[ab]{0,70}|\\PC{0,40}",
            flip in 0usize..70,
        ) {
            proptest::prop_assert_eq!(same(&a, &b), a == b);
            proptest::prop_assert!(same(&a, &a));
            // One byte changed anywhere (each length's every position).
            let mut c = a.clone().into_bytes();
            if let Some(x) = c.get_mut(flip) {
                *x ^= 1;
                if let Ok(c) = String::from_utf8(c) {
                    proptest::prop_assert!(!same(&a, &c));
                }
            }
        }
    }

    #[test]
    fn tenants_and_people_are_found_by_id_after_merging() {
        let set = RulebookSet::builtin();
        let rb = &set.versions()[0];
        let mut b = FactsBuilder::new(rb, MonthFilter::All, false);
        let mut part = b.empty_like();
        // GUIDs are held as 16 bytes: found again as written, in either
        // case, and a name first seen in a later part fills the entry.
        let guid = "41fe43dd-f276-44a7-8c91-f079e99017b2";
        let upper = "41FE43DD-F276-44A7-8C91-F079E99017B2";
        for (i, tenant) in ["T1", "T2", "T1", "T3", guid].iter().enumerate() {
            part.add_revenue(&RevenueRow {
                partner_id: "P1",
                customer_tenant_id: tenant,
                customer_name: (i == 2).then_some("Name of T1"),
                subscription_id: None,
                workload: "Power BI",
                month: "2023-10".parse().unwrap(),
                revenue_usd: Decimal::ONE,
                association: "CSP Tier 1",
                line: i as u64 + 2,
            });
        }
        let mut other = b.empty_like();
        for tenant in ["T4", "T2", guid, upper] {
            other.add_revenue(&RevenueRow {
                partner_id: "P1",
                customer_tenant_id: tenant,
                customer_name: (tenant == guid).then_some("Name of the GUID"),
                subscription_id: None,
                workload: "Power BI",
                month: "2023-10".parse().unwrap(),
                revenue_usd: Decimal::ONE,
                association: "CSP Tier 1",
                line: 9,
            });
        }
        b.merge(part);
        b.merge(other);
        let mut facts = b.finish().partners.remove("P1").unwrap();
        let ids: Vec<String> = facts.tenants.iter().map(|t| t.id.to_string()).collect();
        assert_eq!(ids, ["T1", "T2", "T3", guid, "T4", upper]);
        assert!(
            facts.tenants[0]
                .name
                .as_ref()
                .is_some_and(|n| n.is("Name of T1"))
        );
        for (i, id) in ids.iter().enumerate() {
            assert_eq!(facts.tenant_index(id), Some(i as u32));
        }
        assert!(
            facts.tenants[3]
                .name
                .as_ref()
                .is_some_and(|n| n.is("Name of the GUID"))
        );
        assert!(facts.tenants[5].name.is_none());
        assert_eq!(facts.tenant_index("T5"), None);
        assert_eq!(facts.tenant_index(&guid.replace('4', "5")), None);
        assert_eq!(facts.revenue.len(), 6);
        assert!(facts.remove_tenant("T2"));
        assert!(!facts.remove_tenant("T9"));
        assert_eq!(facts.revenue.len(), 5);
        assert!(!facts.remove_person("nobody"));
    }

    /// Acr and licenses rows staged per run of a partner's rows give what
    /// adding them one at a time gives, whatever the order of partners:
    /// sums, lines in row order, services and tenants (names seen later
    /// too), and a map of many rows of one key stays small.
    #[test]
    fn staged_rows_give_the_facts_of_rows_added_one_by_one() {
        use crate::vocab::Vocabulary;
        let set = RulebookSet::builtin();
        let rb = &set.versions()[0];
        let d = jiff::civil::Date::constant(2024, 7, 31);
        let vocab = Vocabulary::new(&[rb], &set.areas_in_force(d)).unwrap();
        let m = |s: &str| -> Month { s.parse().unwrap() };
        type Row = (
            &'static str,
            &'static str,
            Option<&'static str>,
            &'static str,
            &'static str,
        );
        // (partner, tenant, customer name, service or workload, month)
        let rows: Vec<Row> = vec![
            ("P1", "T1", None, "Storage", "2024-05"),
            ("P1", "T1", Some("One"), "storage", "2024-06"),
            ("P2", "T1", None, "Storage", "2024-06"),
            ("P1", "T1", None, "Storage", "2024-05"),
            ("P1", "T2", None, "Virtual Machines", "2024-06"),
            ("P2", "T9", Some("Nine"), "Virtual Machines", "2024-06"),
            ("P1", "T1", None, "Storage", "2024-06"),
        ];
        let build = |order: &[usize]| {
            let mut b =
                FactsBuilder::new(rb, MonthFilter::All, true).with_areas(&vocab, MonthFilter::All);
            for &i in order {
                let (partner, tenant, name, service, month) = rows[i];
                let line = i as u64 + 2;
                b.add_acr(&AcrRow {
                    partner_id: partner,
                    customer_tenant_id: tenant,
                    customer_name: name,
                    subscription_id: Some("S"),
                    service,
                    month: m(month),
                    acr_usd: Decimal::from(line),
                    association: "CSP Tier 1",
                    offer: None,
                    line,
                });
                let workload = if service.starts_with('V') {
                    "Teams"
                } else {
                    "Exchange"
                };
                b.add_license(&LicenseRow {
                    partner_id: partner,
                    customer_tenant_id: tenant,
                    customer_name: name,
                    workload,
                    month: m(month),
                    association: "CPOR",
                    paid_seats: line,
                    active_users: 1,
                    associated_on: None,
                    line,
                });
            }
            b.finish()
        };
        // Each row its own run (partners alternate) against runs of rows.
        let alternating = build(&[0, 2, 1, 5, 3, 4, 6]);
        let runs = build(&[0, 1, 3, 4, 6, 2, 5]);
        for id in ["P1", "P2"] {
            assert_eq!(alternating.partners[id], runs.partners[id], "{id}");
        }
        let p1 = &runs.partners["P1"];
        assert_eq!(p1.services, ["Storage", "Virtual Machines"]);
        assert!(p1.tenants[0].name.as_ref().is_some_and(|n| n.is("One")));
        assert!(
            runs.partners["P2"].tenants[1]
                .name
                .as_ref()
                .is_some_and(|n| n.is("Nine"))
        );
        let t1 = p1.tenant_index("T1").unwrap();
        let csp = vocab.association("CSP Tier 1").unwrap();
        let may_key = (t1, 0, m("2024-05"), csp, NO_OFFER);
        let may = &p1.acr[&may_key];
        assert_eq!(
            (may.amount, may.rows, p1.traces().acr(&may_key).lines()),
            (Decimal::from(7), 2, &[2, 5][..])
        );
        let june_key = (
            t1,
            vocab.workload("Exchange").unwrap(),
            m("2024-06"),
            vocab.association("CPOR").unwrap(),
        );
        let june = &p1.licenses[&june_key];
        assert_eq!(
            (
                june.paid_seats,
                june.rows,
                p1.traces().licenses(&june_key).lines()
            ),
            (11, 2, &[3, 8][..])
        );

        // Many rows of one key: one aggregate, and a map of its size.
        let mut b =
            FactsBuilder::new(rb, MonthFilter::All, false).with_areas(&vocab, MonthFilter::All);
        for line in 0..1000 {
            b.add_acr(&AcrRow {
                partner_id: "P1",
                customer_tenant_id: "T1",
                customer_name: None,
                subscription_id: None,
                service: "Storage",
                month: m("2024-06"),
                acr_usd: Decimal::ONE,
                association: "CSP Tier 1",
                offer: None,
                line,
            });
        }
        let facts = b.finish();
        let acr = &facts.partners["P1"].acr;
        assert_eq!(acr.len(), 1);
        assert_eq!(acr.values().next().unwrap().amount, Decimal::from(1000));
        assert_eq!(acr.capacity(), 1);
    }

    #[test]
    fn untraced_aggregates_are_compact() {
        // The sum and the row count, nothing for the lines (kept aside,
        // only when tracing): memory follows aggregates, not rows, and a
        // pair's entry is 32 bytes with no padding.
        assert_eq!(std::mem::size_of::<Agg>(), 20);
        assert_eq!(std::mem::align_of::<Agg>(), 4);
        assert_eq!(std::mem::size_of::<(PairKey, Agg)>(), 32);
        assert_eq!(std::mem::size_of::<(PairKey, UsageAgg)>(), 32);
        assert!(std::mem::size_of::<LicenseAgg>() <= 24);
        // A certification record is 24 bytes (its certification a 4-byte
        // reference, its line 6 bytes); a person and a tenant hold no spare
        // capacity (ids and short names inline, [`CompactId`]); the maps'
        // entries are held once, in order ([`SortedMap`]); an excluded
        // group's labels are shared.
        assert_eq!(std::mem::size_of::<CertRecord>(), 24);
        assert!(std::mem::size_of::<Person>() <= 48);
        assert!(std::mem::size_of::<Tenant>() <= 48);
        assert!(std::mem::size_of::<ExcludedKey>() <= 48);
        assert!(std::mem::size_of::<(AcrKey, Agg)>() <= 36);
        assert!(std::mem::size_of::<(LicenseKey, LicenseAgg)>() <= 40);
    }

    #[test]
    fn a_certification_record_keeps_its_line_to_48_bits() {
        let d = jiff::civil::date(2024, 1, 1);
        for line in [
            0,
            1,
            u64::from(u32::MAX),
            u64::from(u32::MAX) + 1,
            CertRecord::MAX_LINE,
        ] {
            let c = CertRecord::new(0, CertRef::known(3), d, None, line);
            assert_eq!(c.line(), line);
        }
        let c = CertRecord::new(0, CertRef::known(3), d, None, u64::MAX);
        assert_eq!(c.line(), CertRecord::MAX_LINE);
        let mut c = CertRecord::new(0, CertRef::known(3), d, None, u64::from(u32::MAX));
        c.set_line(c.line() + 2);
        assert_eq!(c.line(), u64::from(u32::MAX) + 2);
    }

    #[test]
    fn a_certification_reference_is_a_rulebook_id_or_an_unknown_name() {
        for id in [0, 1, CertificationId::MAX] {
            assert_eq!(CertRef::known(id).get(), Ok(id));
        }
        for i in [0, 1, CertRef::UNKNOWN - 1] {
            assert_eq!(CertRef::unknown(i).get(), Err(i));
        }
    }

    #[test]
    fn unknown_certification_names_are_held_once_per_read_and_merged_by_name() {
        let set = RulebookSet::builtin();
        let rb = &set.versions()[0];
        let cert = |b: &mut FactsBuilder<'_>, line: u64, partner: &str, name: &str| {
            b.add_certification(&CertificationRow {
                partner_id: partner,
                person_id: "U1",
                person_name: None,
                certification: name,
                earned_on: jiff::civil::date(2024, 1, 1),
                expires_on: None,
                line,
            })
        };
        let names = |f: &PartnerFacts| -> Vec<String> {
            f.certifications
                .iter()
                .map(|c| match f.certification(c) {
                    Ok(i) => rb.certifications[i as usize].id.clone(),
                    Err(n) => format!("?{n}"),
                })
                .collect()
        };
        // One read: " X " and "X" are held once, as "X"; the partners
        // share one table.
        let mut b = FactsBuilder::new(rb, MonthFilter::All, false);
        cert(&mut b, 2, "P1", " X ");
        cert(&mut b, 3, "P1", "d365-functional-consultant-financials");
        cert(&mut b, 4, "P1", "Y");
        cert(&mut b, 5, "P1", "X");
        cert(&mut b, 6, "P2", "Y");
        let whole = b.finish();
        let p1 = &whole.partners["P1"];
        assert_eq!(
            names(p1),
            ["?X", "d365-functional-consultant-financials", "?Y", "?X"]
        );
        let held: Vec<&str> = p1
            .unknown_certification_names()
            .iter()
            .map(|n| &**n)
            .collect();
        assert_eq!(held, ["X", "Y"]);
        assert_eq!(names(&whole.partners["P2"]), ["?Y"]);
        // Their normalised keys, made once for the read: P2 sees P1's.
        let keys = p1.unknown_certification_keys();
        assert_eq!(keys, ["x", "y"]);
        assert!(std::ptr::eq(
            keys,
            whole.partners["P2"].unknown_certification_keys()
        ));
        // The same rows read in two parts, the second with names in
        // another order, merge into the same facts.
        let mut a = FactsBuilder::new(rb, MonthFilter::All, false);
        cert(&mut a, 2, "P1", " X ");
        cert(&mut a, 3, "P1", "d365-functional-consultant-financials");
        let mut c = a.empty_like();
        cert(&mut c, 4, "P1", "Y");
        cert(&mut c, 5, "P1", "X");
        cert(&mut c, 6, "P2", "Y");
        a.merge(c);
        let merged = a.finish();
        assert_eq!(names(&merged.partners["P1"]), names(p1));
        assert!(merged.partners["P1"] == *p1);
        assert!(merged.partners["P2"] == whole.partners["P2"]);
        // Finished facts of two reads, whose tables differ, merge by name.
        let mut first = FactsBuilder::new(rb, MonthFilter::All, false);
        cert(&mut first, 2, "P1", "Z");
        cert(&mut first, 3, "P1", "X");
        let mut p = first.finish().partners.remove("P1").unwrap();
        p.merge(whole.partners["P1"].clone());
        assert_eq!(
            names(&p),
            [
                "?Z",
                "?X",
                "?X",
                "d365-functional-consultant-financials",
                "?Y",
                "?X"
            ]
        );
        // A builder that continues from finished facts keeps their names
        // and adds its own.
        let mut more = FactsBuilder::from_facts(rb, MonthFilter::All, false, whole.clone());
        cert(&mut more, 7, "P2", "W");
        cert(&mut more, 8, "P1", "Y");
        let more = more.finish();
        assert_eq!(
            names(&more.partners["P1"]),
            [
                "?X",
                "d365-functional-consultant-financials",
                "?Y",
                "?X",
                "?Y"
            ]
        );
        assert_eq!(names(&more.partners["P2"]), ["?Y", "?W"]);
    }

    fn revenue(b: &mut FactsBuilder<'_>, line: u64, sub: Option<&str>, amount: &str) {
        b.add_revenue(&RevenueRow {
            partner_id: "P1",
            customer_tenant_id: "T1",
            customer_name: None,
            subscription_id: sub,
            workload: "Power BI",
            month: "2023-10".parse().unwrap(),
            revenue_usd: amount.parse().unwrap(),
            association: "CSP Tier 1",
            line,
        });
    }

    #[test]
    fn tracing_keeps_lines_and_subscriptions_and_the_same_sums() {
        let set = RulebookSet::builtin();
        let rb = &set.versions()[0];
        let build = |trace: bool, parts: &[&[(u64, Option<&str>, &str)]]| {
            let mut b = FactsBuilder::new(rb, MonthFilter::All, trace);
            for (k, rows) in parts.iter().enumerate() {
                let mut part = b.empty_like();
                for (line, sub, amount) in rows.iter() {
                    revenue(&mut part, *line, *sub, amount);
                }
                part.shift_lines(10 * k as u64);
                b.merge(part);
            }
            b.finish()
        };
        let rows: &[&[(u64, Option<&str>, &str)]] = &[
            &[(2, Some("S1"), "100"), (3, None, "5.5")],
            &[(1, Some("S2"), "1"), (2, Some("S1"), "-20")],
        ];
        let plain = build(false, rows);
        let traced = build(true, rows);
        let (a, b) = (&plain.partners["P1"], &traced.partners["P1"]);
        assert_eq!(a.revenue.len(), 1);
        let (x, y) = (
            a.revenue.values().next().unwrap(),
            b.revenue.values().next().unwrap(),
        );
        assert_eq!((x.amount, x.rows), (y.amount, y.rows));
        assert_eq!(x.amount, "86.5".parse::<Decimal>().unwrap());
        let k = a.revenue.keys().next().unwrap();
        let (x, y) = (a.traces().revenue(k), b.traces().revenue(k));
        assert!(x.lines().is_empty() && x.subscriptions().is_empty());
        assert_eq!(y.lines(), &[2, 3, 11, 12]);
        assert_eq!(
            y.subscriptions(),
            &[
                (CompactId::new("S1"), "80".parse().unwrap()),
                (CompactId::new("S2"), "1".parse().unwrap())
            ]
        );
        // The traces are part of the facts.
        assert_ne!(a, b);
    }
}

/// The facts a builder holds (sorted maps of staged runs, records staged
/// per run) against the plain reading they replace: every row added in
/// turn to an ordered map keyed by names, sums and lines in row order.
#[cfg(test)]
mod compact_tests {
    use super::*;
    use crate::rulebook::RulebookSet;
    use crate::vocab::Vocabulary;
    use proptest::prelude::*;
    use std::collections::BTreeMap;

    /// (table 0..4, partner, tenant, name, month, amount in cents)
    type Row = (u8, u8, u8, u8, u8, i64);

    const MONTHS: [&str; 3] = ["2024-04", "2024-05", "2024-06"];
    const SERVICES: [&str; 3] = ["Storage", "Virtual Machines", "Azure SQL"];
    const SEATS: [&str; 3] = ["Teams", "Exchange", "SharePoint"];
    const CERTS: [&str; 3] = ["PL-200", "No such certification", "MB-210"];

    fn feed(b: &mut FactsBuilder<'_>, rows: &[Row], lines: &[u64]) {
        for (&(table, p, t, n, m, cents), &line) in rows.iter().zip(lines) {
            let partner = format!("P{p}");
            let tenant = format!("T{t}");
            let month: Month = MONTHS[m as usize].parse().unwrap();
            let amount = Decimal::new(cents, 2);
            match table {
                0 => b.add_revenue(&RevenueRow {
                    partner_id: &partner,
                    customer_tenant_id: &tenant,
                    customer_name: None,
                    subscription_id: Some(["S1", "S2", "S3"][n as usize]),
                    workload: "Power BI",
                    month,
                    revenue_usd: amount,
                    association: "CSP Tier 1",
                    line,
                }),
                1 => b.add_acr(&AcrRow {
                    partner_id: &partner,
                    customer_tenant_id: &tenant,
                    customer_name: None,
                    subscription_id: None,
                    service: SERVICES[n as usize],
                    month,
                    acr_usd: amount,
                    association: "CSP Tier 1",
                    offer: None,
                    line,
                }),
                2 => b.add_license(&LicenseRow {
                    partner_id: &partner,
                    customer_tenant_id: &tenant,
                    customer_name: None,
                    workload: SEATS[n as usize],
                    month,
                    association: "CPOR",
                    paid_seats: cents.unsigned_abs(),
                    active_users: u64::from(n),
                    associated_on: None,
                    line,
                }),
                _ => b.add_certification(&CertificationRow {
                    partner_id: &partner,
                    person_id: &tenant,
                    person_name: None,
                    certification: CERTS[n as usize],
                    earned_on: jiff::civil::Date::constant(2024, 1, 1),
                    expires_on: None,
                    line,
                }),
            }
        }
    }

    /// Per (table, partner, tenant, name, month): the sum, the rows' other
    /// sum (active users) and the lines, each row added in turn.
    type Model = BTreeMap<(u8, String, String, String, String), (Decimal, u64, Vec<u64>)>;

    fn model(rows: &[Row], lines: &[u64]) -> Model {
        let mut out = Model::new();
        for (&(table, p, t, n, m, cents), &line) in rows.iter().zip(lines) {
            let name = match table {
                0 => "Power BI".to_string(),
                1 => SERVICES[n as usize].to_string(),
                2 => SEATS[n as usize].to_string(),
                _ => CERTS[n as usize].to_string(),
            };
            let month = if table == 3 { "" } else { MONTHS[m as usize] };
            let e = out
                .entry((table, format!("P{p}"), format!("T{t}"), name, month.into()))
                .or_default();
            e.0 += match table {
                2 => Decimal::from(cents.unsigned_abs()),
                3 => Decimal::ONE,
                _ => Decimal::new(cents, 2),
            };
            e.1 += if table == 2 { u64::from(n) } else { 0 };
            e.2.push(line);
        }
        out
    }

    /// The same view of a builder's facts.
    fn view(facts: &DatasetFacts, rb: &Rulebook, vocab: &Vocabulary) -> Model {
        let mut out = Model::new();
        for (id, p) in &facts.partners {
            let tenant = |t: u32| p.tenants[t as usize].id.to_string();
            for (&(t, w, m), a) in &p.revenue {
                let name = rb.revenue.workloads[w as usize].name.clone();
                let key = (0, id.clone(), tenant(t), name, m.to_string());
                let lines = p.traces().revenue(&(t, w, m)).lines().to_vec();
                out.insert(key, (a.amount, 0, lines));
            }
            for (k, a) in &p.acr {
                let &(t, s, m, _, _) = k;
                let key = (
                    1,
                    id.clone(),
                    tenant(t),
                    p.services[s as usize].clone(),
                    m.to_string(),
                );
                out.insert(key, (a.amount, 0, p.traces().acr(k).lines().to_vec()));
            }
            for (k, a) in &p.licenses {
                let &(t, w, m, _) = k;
                let name = vocab.workloads[w as usize].clone();
                let key = (2, id.clone(), tenant(t), name, m.to_string());
                let value = (
                    Decimal::from(a.paid_seats),
                    a.active_users,
                    p.traces().licenses(k).lines().to_vec(),
                );
                out.insert(key, value);
            }
            for c in &p.certifications {
                let name = match p.certification(c) {
                    Ok(i) => rb.certifications[i as usize].id.clone(),
                    Err(raw) => raw.to_string(),
                };
                let person = p.people[c.person as usize].id.to_string();
                let e = out
                    .entry((3, id.clone(), person, name, String::new()))
                    .or_default();
                e.0 += Decimal::ONE;
                e.2.push(c.line());
            }
        }
        out
    }

    proptest! {
        /// A product list (two entries in place, then a vector) reads as
        /// the plain vector it replaces: entries in first-seen order, each
        /// product's quantities summed; made from a list, it reads as it.
        #[test]
        fn product_lists_read_as_a_plain_vector(
            adds in prop::collection::vec((prop::option::of(0u16..4), -1000i64..1000), 0..12),
        ) {
            let mut list = Products::Few { len: 0, items: [(None, Decimal::ZERO); 2] };
            let mut plain: Vec<ProductQuantity> = Vec::new();
            for &(p, q) in &adds {
                let q = Decimal::new(q, 1);
                list.add(p, q);
                match plain.iter_mut().find(|(x, _)| *x == p) {
                    Some((_, s)) => *s += q,
                    None => plain.push((p, q)),
                }
                prop_assert_eq!(list.as_slice(), plain.as_slice());
                prop_assert_eq!(matches!(list, Products::Few { .. }), plain.len() <= 2);
            }
            let made = Products::of(plain.clone());
            prop_assert_eq!(made.as_slice(), plain.as_slice());
        }
    }

    #[test]
    fn a_product_list_of_two_is_one_block_of_48_bytes() {
        assert!(std::mem::size_of::<Products>() <= 48);
        for n in 0..=3u16 {
            let list: Vec<ProductQuantity> = (0..n).map(|p| (Some(p), Decimal::from(p))).collect();
            let p = Products::of(list.clone());
            assert_eq!(p.as_slice(), list.as_slice());
            assert_eq!(
                matches!(p, Products::Few { .. }),
                (1..=2).contains(&n),
                "{n}"
            );
        }
    }

    /// Workload and association spellings of revenue rows: known, known
    /// in another spelling, unknown (with spaces around), not eligible.
    const WORKLOADS: [&str; 4] = [
        "Power BI",
        " power bi ",
        "  No such workload ",
        "Dynamics 365 Sales",
    ];
    const ASSOCIATIONS: [&str; 4] = [
        "CSP Tier 1",
        "Nonsense",
        " nonsense",
        "Unknown association ",
    ];

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]
        /// An excluded group's labels read as the `String`s they replace
        /// (the rulebook's name when known, else the first spelling trimmed),
        /// and every key that names a label alike shares one text.
        #[test]
        fn excluded_labels_read_as_written_and_are_shared(
            rows in prop::collection::vec((0u8..3, 0u8..4, 0u8..4, 0u8..3), 0..40),
        ) {
            let set = RulebookSet::builtin();
            let rb = &set.versions()[0];
            let feed = |b: &mut FactsBuilder<'_>| {
                for (line, &(t, w, a, m)) in rows.iter().enumerate() {
                    b.add_revenue(&RevenueRow {
                        partner_id: "P1",
                        customer_tenant_id: &format!("T{t}"),
                        customer_name: None,
                        subscription_id: None,
                        workload: WORKLOADS[w as usize],
                        month: MONTHS[m as usize].parse().unwrap(),
                        revenue_usd: Decimal::ONE,
                        association: ASSOCIATIONS[a as usize],
                        line: line as u64 + 2,
                    });
                }
            };
            let mut b = FactsBuilder::new(rb, MonthFilter::All, false);
            feed(&mut b);
            let facts = b.finish();
            // Without the excluded groups (read in a part, as a parallel
            // reader does): everything else the same.
            let mut without = FactsBuilder::new(rb, MonthFilter::All, false).without_excluded();
            let mut part = without.empty_like();
            feed(&mut part);
            without.merge(part);
            let without = without.finish();
            prop_assert_eq!(&without.warnings, &facts.warnings);
            prop_assert_eq!(without.partners.len(), facts.partners.len());
            for (id, p) in &facts.partners {
                let mut p = p.clone();
                p.excluded = SortedMap::default();
                prop_assert_eq!(&without.partners[id], &p);
            }
            let Some(p) = facts.partners.get("P1") else { return Ok(()) };
            let mut seen: Vec<Arc<str>> = Vec::new();
            for k in p.excluded.keys() {
                for (label, raw) in [(&k.workload, WORKLOADS.as_slice()), (&k.association, ASSOCIATIONS.as_slice())] {
                    // The old reading: the rulebook's name, or a spelling trimmed.
                    let old = raw.iter().find_map(|r| {
                        let known = rb.revenue_workload(r).map(|w| rb.revenue.workloads[w as usize].name.clone())
                            .or_else(|| rb.association(r).map(|a| rb.associations[a as usize].name.clone()));
                        let text = known.unwrap_or_else(|| r.trim().to_string());
                        (*text == **label).then_some(text)
                    });
                    prop_assert!(old.is_some(), "{label:?}");
                    match seen.iter().find(|s| ***s == **label) {
                        Some(s) => prop_assert!(Arc::ptr_eq(s, label), "{label:?} held twice"),
                        None => seen.push(Arc::clone(label)),
                    }
                }
            }
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]
        /// Rows in any order of partners (each row its own run, or runs),
        /// read whole or in two parts merged, give the plain reading.
        #[test]
        fn compact_facts_equal_the_plain_reading(
            rows in prop::collection::vec(
                (0u8..4, 0u8..3, 0u8..4, 0u8..3, 0u8..3, -50_000i64..50_000), 0..60),
            cut in 0usize..60,
        ) {
            let set = RulebookSet::builtin();
            let rb = &set.versions()[0];
            let d = jiff::civil::Date::constant(2024, 7, 31);
            let vocab = Vocabulary::new(&[rb], &set.areas_in_force(d)).unwrap();
            // The certifications' names in the model as the rulebook has them.
            let rows: Vec<Row> = rows;
            let lines: Vec<u64> = (2..rows.len() as u64 + 2).collect();
            let new = || {
                FactsBuilder::new(rb, MonthFilter::All, true)
                    .with_areas(&vocab, MonthFilter::All)
            };
            let mut whole = new();
            feed(&mut whole, &rows, &lines);
            let whole = whole.finish();
            let cut = cut.min(rows.len());
            let mut b = new();
            let mut first = b.empty_like();
            let mut second = b.empty_like();
            feed(&mut first, &rows[..cut], &lines[..cut]);
            feed(&mut second, &rows[cut..], &lines[cut..]);
            b.merge(first);
            b.merge(second);
            let parts = b.finish();
            for (id, p) in &whole.partners {
                prop_assert_eq!(p, &parts.partners[id], "{}", id);
            }
            let mut want = model(&rows, &lines);
            // Certification names as the rulebook spells the known ones.
            want = want
                .into_iter()
                .map(|((t, p, x, n, m), v)| {
                    let n = match (t, rb.certification(&n)) {
                        (3, Some(i)) => rb.certifications[i as usize].id.clone(),
                        _ => n,
                    };
                    ((t, p, x, n, m), v)
                })
                .collect();
            prop_assert_eq!(view(&whole, rb, &vocab), want);
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(48))]
        /// Parts merged on several threads give what one thread gives:
        /// partners the builder holds already (merged in parallel) and
        /// partners new to it (added in the part's order).
        #[test]
        fn parts_merged_on_threads_equal_parts_merged_on_one(
            rows in prop::collection::vec(
                (0u8..4, 0u8..3, 0u8..4, 0u8..3, 0u8..3, -50_000i64..50_000), 0..120),
            partners in prop::collection::vec(0u8..24, 120),
            cuts in (0usize..120, 0usize..120),
            threads in 2usize..5,
        ) {
            let set = RulebookSet::builtin();
            let rb = &set.versions()[0];
            let d = jiff::civil::Date::constant(2024, 7, 31);
            let vocab = Vocabulary::new(&[rb], &set.areas_in_force(d)).unwrap();
            // Up to 24 partners, so that the parallel merge has slices.
            let rows: Vec<Row> = rows
                .iter()
                .zip(&partners)
                .map(|(&(t, _, x, n, m, c), &p)| (t, p, x, n, m, c))
                .collect();
            let lines: Vec<u64> = (2..rows.len() as u64 + 2).collect();
            let (a, b) = (cuts.0.min(rows.len()), cuts.1.min(rows.len()));
            let (a, b) = (a.min(b), a.max(b));
            let read = |threads: usize| {
                let mut whole = FactsBuilder::new(rb, MonthFilter::All, true)
                    .with_areas(&vocab, MonthFilter::All);
                let mut first = whole.empty_like();
                let mut second = whole.empty_like();
                feed(&mut whole, &rows[..a], &lines[..a]);
                feed(&mut first, &rows[a..b], &lines[a..b]);
                feed(&mut second, &rows[b..], &lines[b..]);
                whole.merge_on(first, threads);
                whole.merge_on(second, threads);
                whole.finish()
            };
            let (one, many) = (read(1), read(threads));
            prop_assert_eq!(one.partners.len(), many.partners.len());
            for (id, p) in &one.partners {
                prop_assert_eq!(p, &many.partners[id], "{}", id);
            }
            prop_assert_eq!(format!("{:?}", one.warnings), format!("{:?}", many.warnings));
        }
    }

    /// Usage rows of two partners: (partner, tenant, workload or product
    /// 0..3, quantity in hundredths).
    type UsageRowSpec = (u8, u8, u8, i64);

    const USAGE_NAMES: [&str; 3] = ["Customer Engagement", "Sales", "Customer Service"];

    fn feed_usage(b: &mut FactsBuilder<'_>, rows: &[UsageRowSpec]) {
        for (i, &(p, t, w, q)) in rows.iter().enumerate() {
            b.add_usage(&UsageRow {
                partner_id: &format!("P{p}"),
                customer_tenant_id: &format!("T{t}"),
                customer_name: None,
                workload: USAGE_NAMES[w as usize],
                month: "2023-10".parse().unwrap(),
                quantity: Decimal::new(q, 2),
                association: "CSP Tier 1",
                line: i as u64 + 2,
            });
        }
    }

    proptest! {
        /// A usage aggregate's total and quantities by product (held beside
        /// it and joined while runs and parts merge) equal the rows summed
        /// per product in first-seen order, however the rows are split
        /// into runs (partners interleaved) and parts.
        #[test]
        fn usage_totals_and_lists_equal_the_rows_grouped(
            rows in prop::collection::vec((0u8..2, 0u8..2, 0u8..3, 0i64..100_000), 0..50),
            cut in 0usize..50,
        ) {
            let set = RulebookSet::builtin();
            let rb = &set.versions()[0];
            let product = |w: u8| rb.usage_workload(USAGE_NAMES[w as usize]).unwrap().product;
            let mut want: BTreeMap<(String, String), (Decimal, u32, Vec<ProductQuantity>)> =
                BTreeMap::new();
            for &(p, t, w, q) in &rows {
                let e = want.entry((format!("P{p}"), format!("T{t}"))).or_default();
                e.0 += Decimal::new(q, 2);
                e.1 += 1;
                match e.2.iter_mut().find(|(x, _)| *x == product(w)) {
                    Some((_, s)) => *s += Decimal::new(q, 2),
                    None => e.2.push((product(w), Decimal::new(q, 2))),
                }
            }
            for e in want.values_mut() {
                if e.2.iter().all(|(x, _)| x.is_none()) {
                    e.2.clear();
                }
            }
            let cut = cut.min(rows.len());
            let mut whole = FactsBuilder::new(rb, MonthFilter::All, false);
            feed_usage(&mut whole, &rows);
            let mut b = FactsBuilder::new(rb, MonthFilter::All, false);
            let (mut first, mut second) = (b.empty_like(), b.empty_like());
            feed_usage(&mut first, &rows[..cut]);
            feed_usage(&mut second, &rows[cut..]);
            b.merge(first);
            b.merge(second);
            for facts in [whole.finish(), b.finish()] {
                let mut got = BTreeMap::new();
                for (id, p) in &facts.partners {
                    for (k, u) in &p.usage {
                        let t = p.tenants[k.0 as usize].id.to_string();
                        let value = (u.total.amount, u.total.rows, p.by_product(k).to_vec());
                        got.insert((id.clone(), t), value);
                    }
                }
                prop_assert_eq!(&got, &want);
            }
        }
    }
}
