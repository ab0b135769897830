//! One query per table, and its groups turned into the facts the native
//! reader builds.
//!
//! Each table is scanned once. Revenue, usage and acr are grouped by the
//! names as written (partner, and for rows of the months kept: tenant,
//! workload or service, association, offer and month); licenses by partner,
//! tenant, workload, association and association date, and by month only
//! for the months the areas keep (rows of other months tell only when an
//! association started: their earliest month and its first row). The same
//! aggregation counts rows, keeps each group's first row
//! and first customer name, and finds the first row that breaks a rule of
//! the record reader. The coarser groupings (partners, warnings by name,
//! pairs by resolved workload) are made here from that small result, with
//! the rulebook's own name resolution. Certifications and partners come
//! back row by row. Only when a row is bad is the table read a second
//! time, to fetch that row and report it as the native reader does.

use std::collections::{BTreeMap, HashMap};
use std::ops::Not;
use std::path::Path;

use datafusion::arrow::array::{Array, AsArray, RecordBatch};
use datafusion::arrow::datatypes::{DataType, Decimal128Type, Int64Type};
use datafusion::datasource::listing::ListingTable;
use datafusion::datasource::source_as_provider;
use datafusion::functions_aggregate::expr_fn::{count, min, sum};
use datafusion::logical_expr::{Expr, ExprFunctionExt, LogicalPlan, cast, ident, lit};
use datafusion::prelude::{DataFrame, SessionContext};
use pcs_core::Decimal;
use pcs_core::calendar::{Month, parse_date};
use pcs_core::facts::grouped::{AcrGroup, ExcludedGroup, LicenseGroup};
use pcs_core::facts::{
    CertificationRow, DatasetFacts, Exclusion, FactsBuilder, MonthFilter, PartnerRow, Table,
    WarningKind, usage_label,
};
use pcs_core::jiff::civil::Date;
use pcs_core::rulebook::{Rulebook, UsageName};
use pcs_core::vocab::Vocabulary;
use pcs_data::{Dataset, Format, columns, parse_decimal};

use crate::error::{Error, ErrorKind};
use crate::plan::{
    TableFrame, by_row, configure, filled, first_where, numbers_its_rows, only_if, read_table,
    valid_row,
};

const NULL_INT: DataType = DataType::Int64;

/// The other solution areas' inputs: the names of every area in the run
/// and the months of acr and licenses to keep (see
/// [`FactsBuilder::with_areas`]).
#[derive(Clone, Copy, Debug)]
pub struct Areas<'v> {
    /// The names of every solution area in the run.
    pub vocabulary: &'v Vocabulary,
    /// The months of acr and licenses whose aggregates are kept.
    pub months: &'v MonthFilter,
}

/// One query the load ran on the cluster, and the table files its plan scans.
#[derive(Clone, Debug, PartialEq)]
pub struct Query {
    /// What it computes.
    pub what: String,
    /// The files its plan scans, once per scan.
    pub scans: Vec<String>,
    /// Seconds from the start of the load until its result was read.
    pub seconds: f64,
    /// Rows of its result (groups, or rows of certifications and partners).
    pub rows: usize,
}

/// The facts, the table files read, and the queries that read them.
#[derive(Debug)]
pub struct Loaded {
    /// The facts (without source lines).
    pub facts: DatasetFacts,
    /// The table files.
    pub dataset: Dataset,
    /// Every query run, in the order they were asked for.
    pub queries: Vec<Query>,
    /// Seconds spent here after the last result arrived (the facts built
    /// from the groups).
    pub assemble_seconds: f64,
}

/// Reads every table of `dir` on the session and builds the facts.
pub async fn load(
    ctx: &SessionContext,
    dir: &Path,
    rb: &Rulebook,
    months: &[Month],
    areas: Option<Areas<'_>>,
) -> Result<Loaded, Error> {
    let started = std::time::Instant::now();
    let dataset = crate::stores::open_dataset(ctx, dir).await?;
    let mut numbered = true;
    for t in dataset.tables() {
        if t.format != Format::Parquet {
            return Err(Error::new(
                ErrorKind::BadInput,
                format!(
                    "{}: a cluster reads Parquet tables only (make them with `pcs convert {} DEST`)",
                    t.path.display(),
                    dir.display()
                ),
            ));
        }
        numbered &= numbers_its_rows(ctx, &t.path).await?;
    }
    configure(ctx, numbered).await?;
    let mut frames = Vec::new();
    for t in dataset.tables() {
        frames.push(read_table(ctx, t.table, &t.path).await?);
    }
    let window = MonthFilter::Only(months.to_vec());
    let mut queries = Vec::new();
    // Every table's query is asked for at once (the cluster runs them side
    // by side); their results are read in table order, so the first bad
    // value of the first table that has one stops the run, as when the
    // native reader streams the tables.
    let mut running = Vec::new();
    for f in &frames {
        let (what, df) = table_query(f, &window, areas)?;
        queries.push(Query {
            what,
            scans: scans_of(df.logical_plan()),
            seconds: 0.0,
            rows: 0,
        });
        running.push(tokio::spawn(async move { df.collect().await }));
    }
    let mut b = FactsBuilder::new(rb, window.clone(), false);
    if let Some(a) = areas {
        b = b.with_areas(a.vocabulary, a.months.clone());
    }
    let mut tenants = Tenants::default();
    let mut pairs: Vec<PairGroup> = Vec::new();
    let mut acr: Vec<(i64, OwnedAcrGroup)> = Vec::new();
    let mut licenses: Vec<OwnedLicenseGroup> = Vec::new();
    let mut names = Resolver::default();
    let mut last_result = started.elapsed();
    for (k, (f, job)) in frames.iter().zip(running).enumerate() {
        let batches = job
            .await
            .map_err(|e| Error::new(ErrorKind::Cluster, format!("a query stopped: {e}")))??;
        last_result = started.elapsed();
        queries[k].seconds = last_result.as_secs_f64();
        queries[k].rows = batches.iter().map(RecordBatch::num_rows).sum();
        match f.table {
            Table::Revenue | Table::Usage => {
                let groups = amount_groups(f, &batches)?;
                first_bad(f, &groups, None, &mut queries).await?;
                pairs_of(f, rb, &groups, &mut names, &mut tenants, &mut b, &mut pairs)?;
            }
            Table::Acr => {
                let groups = amount_groups(f, &batches)?;
                first_bad(f, &groups, None, &mut queries).await?;
                acr_of(f, areas, &groups, &mut tenants, &mut b, &mut acr)?;
            }
            Table::Licenses => {
                let groups = license_groups(&batches)?;
                let date_bad = groups
                    .iter()
                    .filter(|g| g.date.is_err())
                    .map(|g| g.first_row)
                    .min();
                first_bad(f, &groups, date_bad, &mut queries).await?;
                licenses_of(f, areas, groups, &mut tenants, &mut b, &mut licenses)?;
            }
            Table::Certifications => certifications(f, &batches, &mut b)?,
            Table::Partners => partners(f, &batches, &mut b)?,
        }
    }
    tenants.register(&mut b);
    // By first row, so that a pair's products and a partner's services keep
    // their first-seen order.
    pairs.sort_by_key(|g| (g.table, g.first_row));
    for g in &pairs {
        g.add(rb, &mut b);
    }
    acr.sort_by_key(|(first_row, _)| *first_row);
    for (_, g) in &acr {
        b.add_acr_group(&g.borrowed());
    }
    for g in &licenses {
        b.add_license_group(&g.borrowed());
    }
    let facts = b.finish();
    Ok(Loaded {
        facts,
        dataset,
        queries,
        assemble_seconds: (started.elapsed() - last_result).as_secs_f64(),
    })
}

/// The table files a logical plan scans, once per scan.
pub fn scans_of(plan: &LogicalPlan) -> Vec<String> {
    use datafusion::common::tree_node::{TreeNode, TreeNodeRecursion};
    let mut out = Vec::new();
    let _ = plan.apply(|node| {
        if let LogicalPlan::TableScan(scan) = node {
            let name = source_as_provider(&scan.source)
                .ok()
                .and_then(|p| {
                    p.downcast_ref::<ListingTable>().map(|t| {
                        t.table_paths()
                            .iter()
                            .map(|u| u.to_string())
                            .collect::<Vec<_>>()
                            .join(",")
                    })
                })
                .unwrap_or_else(|| scan.table_name.to_string());
            out.push(name);
        }
        Ok(TreeNodeRecursion::Continue)
    });
    out
}

/// `month IN (months)` (true for every month).
fn kept(filter: &MonthFilter) -> Expr {
    match filter {
        MonthFilter::All => lit(true),
        MonthFilter::Only(ms) if ms.is_empty() => lit(false),
        MonthFilter::Only(ms) => ident("month")
            .in_list(ms.iter().map(|m| lit(m.to_string())).collect(), false)
            .is_true(),
    }
}

/// `first_value(value ORDER BY month, row)`: the value of the first row
/// of the earliest month.
fn first_by_month(value: Expr) -> Expr {
    datafusion::functions_aggregate::first_last::first_value_udaf()
        .call(vec![value])
        .order_by(vec![ident("month").sort(true, false), by_row()])
        .build()
        .expect("an aggregate")
}

/// The one query of a table.
fn table_query(
    f: &TableFrame,
    window: &MonthFilter,
    areas: Option<Areas<'_>>,
) -> Result<(String, DataFrame), Error> {
    let text = |e: Expr| cast(e, DataType::Utf8);
    let bad_row = || {
        min(ident("row"))
            .filter(valid_row(f).not())
            .build()
            .expect("an aggregate")
    };
    let named = |keep: Expr| filled(ident("customer_name")).and(keep);
    let name_aggs = |keep: Expr| {
        vec![
            first_where(ident("customer_name"), named(keep.clone())).alias("name"),
            min(ident("row"))
                .filter(named(keep))
                .build()
                .expect("an aggregate")
                .alias("name_row"),
        ]
    };
    let null_text = || cast(lit(datafusion::scalar::ScalarValue::Null), DataType::Utf8);
    // Whether the table's names matter: acr and licenses only with areas.
    let with_names = match f.table {
        Table::Acr | Table::Licenses => areas.is_some(),
        _ => true,
    };
    let (what, df) = match f.table {
        Table::Revenue | Table::Usage | Table::Acr if with_names => {
            let keep = match (f.table, areas) {
                (Table::Acr, Some(a)) => kept(a.months),
                _ => kept(window),
            };
            let (name_col, offer) = match f.table {
                Table::Acr => (
                    "service",
                    only_if(keep.clone(), ident("offer"), DataType::Utf8),
                ),
                _ => ("workload", null_text()),
            };
            // Services are an open list with no warning: only the months
            // kept need them. Workloads are named by warnings in every month.
            let name = match f.table {
                Table::Acr => only_if(keep.clone(), ident(name_col), DataType::Utf8),
                _ => ident(name_col),
            };
            let mut aggs = vec![
                sum(ident("amount")).alias("amount"),
                count(lit(1i64)).alias("rows"),
                min(ident("row")).alias("first_row"),
                bad_row().alias("bad_row"),
            ];
            aggs.extend(name_aggs(keep.clone()));
            let df = f
                .frame
                .clone()
                .aggregate(
                    vec![
                        ident("partner_id"),
                        only_if(keep.clone(), ident("customer_tenant_id"), DataType::Utf8)
                            .alias("tenant"),
                        name.alias("name_key"),
                        ident("association"),
                        only_if(keep, ident("month"), DataType::Utf8).alias("month_key"),
                        offer.alias("offer"),
                    ],
                    aggs,
                )?
                .select(vec![
                    text(ident("partner_id")),
                    text(ident("tenant")),
                    text(ident("name_key")),
                    text(ident("association")),
                    text(ident("month_key")),
                    text(ident("offer")),
                    cast(ident("amount"), DataType::Decimal128(38, f.scale)),
                    cast(ident("rows"), NULL_INT),
                    cast(ident("first_row"), NULL_INT),
                    cast(ident("bad_row"), NULL_INT),
                    text(ident("name")),
                    cast(ident("name_row"), NULL_INT),
                ])?;
            ("groups by partner, tenant, name, association, month", df)
        }
        Table::Licenses if with_names => {
            // Rows of the months kept are grouped per month; the others only
            // tell when an association started (its earliest month and that
            // month's first row) and name tenants and warnings, so they are
            // grouped without their month.
            let keep = areas.map_or(lit(true), |a| kept(a.months));
            let whole = DataType::Decimal128(38, 0);
            let mut aggs = vec![
                sum(ident("paid")).alias("paid"),
                sum(ident("active")).alias("active"),
                count(lit(1i64)).alias("rows"),
                min(ident("row")).alias("first_row"),
                bad_row().alias("bad_row"),
            ];
            aggs.extend(name_aggs(lit(true)));
            aggs.extend([
                min(ident("month")).alias("first_month"),
                first_by_month(ident("row")).alias("start_row"),
            ]);
            let keys = vec![
                ident("partner_id"),
                ident("customer_tenant_id"),
                ident("workload"),
                ident("association"),
                only_if(keep, ident("month"), DataType::Utf8).alias("month_key"),
                ident("associated_on"),
            ];
            let out: Vec<Expr> = [
                "partner_id",
                "customer_tenant_id",
                "workload",
                "association",
                "month_key",
                "associated_on",
            ]
            .into_iter()
            .map(|k| text(ident(k)))
            .chain([
                cast(ident("paid"), whole.clone()),
                cast(ident("active"), whole),
                cast(ident("rows"), NULL_INT),
                cast(ident("first_row"), NULL_INT),
                cast(ident("bad_row"), NULL_INT),
                text(ident("name")),
                cast(ident("name_row"), NULL_INT),
                text(ident("first_month")),
                cast(ident("start_row"), NULL_INT),
            ])
            .collect();
            let df = f.frame.clone().aggregate(keys, aggs)?.select(out)?;
            (
                "groups by partner, tenant, workload, association, month kept, date",
                df,
            )
        }
        Table::Revenue | Table::Usage | Table::Acr | Table::Licenses => {
            // Acr and licenses without the other areas: their rows only make
            // their partner known, and are checked.
            let df = f
                .frame
                .clone()
                .aggregate(vec![ident("partner_id")], vec![bad_row().alias("bad_row")])?
                .select(vec![
                    text(ident("partner_id")),
                    cast(ident("bad_row"), NULL_INT),
                ])?;
            ("partners", df)
        }
        Table::Certifications => {
            let df = f
                .frame
                .clone()
                .select(vec![
                    text(ident("partner_id")),
                    text(ident("person_id")),
                    text(ident("person_name")),
                    text(ident("certification")),
                    text(ident("earned_on")),
                    text(ident("expires_on")),
                    ident("row"),
                ])?
                .sort(vec![by_row()])?;
            ("rows", df)
        }
        Table::Partners => {
            let df = f
                .frame
                .clone()
                .select(vec![
                    text(ident("partner_id")),
                    text(ident("name")),
                    text(ident("anniversary_date")),
                    ident("row"),
                ])?
                .sort(vec![by_row()])?;
            ("rows", df)
        }
    };
    Ok((format!("{}: {what}", f.path.display()), df))
}

/// Column accessors of one batch whose columns the plan cast to Utf8,
/// Int64 and Decimal128.
struct Cols<'a>(&'a RecordBatch);

impl Cols<'_> {
    fn text(&self, c: usize, i: usize) -> Option<&str> {
        let a = self.0.column(c).as_string::<i32>();
        (!a.is_null(i)).then(|| a.value(i))
    }
    fn int(&self, c: usize, i: usize) -> Option<i64> {
        let a = self.0.column(c).as_primitive::<Int64Type>();
        (!a.is_null(i)).then(|| a.value(i))
    }
    fn decimal(&self, c: usize, i: usize, scale: i8) -> Result<Decimal, Error> {
        let a = self.0.column(c).as_primitive::<Decimal128Type>();
        if a.is_null(i) {
            return Ok(Decimal::ZERO);
        }
        Decimal::try_from_i128_with_scale(a.value(i), scale as u32).map_err(|e| {
            Error::new(
                ErrorKind::BadInput,
                format!("a sum does not fit a decimal: {e}"),
            )
        })
    }
    fn whole(&self, c: usize, i: usize) -> u64 {
        let a = self.0.column(c).as_primitive::<Decimal128Type>();
        if a.is_null(i) {
            return 0;
        }
        u64::try_from(a.value(i)).unwrap_or(u64::MAX)
    }
}

/// Something that knows the first bad row among its groups.
trait BadRow {
    fn bad_row(&self) -> Option<i64>;
}

/// Stops the run at the first bad row of the table (`also`: one found
/// here, such as a bad date), fetched with a second query and reported as
/// the native reader reports it.
async fn first_bad<G: BadRow>(
    f: &TableFrame,
    groups: &[G],
    also: Option<i64>,
    queries: &mut Vec<Query>,
) -> Result<(), Error> {
    let Some(row) = groups.iter().filter_map(BadRow::bad_row).chain(also).min() else {
        return Ok(());
    };
    let specs = columns(f.table);
    let cols: Vec<Expr> = specs
        .iter()
        .map(|s| cast(ident(s.name), DataType::Utf8))
        .chain([ident("row")])
        .collect();
    let df = f
        .frame
        .clone()
        .filter(ident("row").eq(lit(row)))?
        .select(cols)?
        .limit(0, Some(1))?;
    queries.push(Query {
        what: format!("{}: the bad row {row}", f.path.display()),
        scans: scans_of(df.logical_plan()),
        seconds: 0.0,
        rows: 1,
    });
    let batches = df.collect().await?;
    let Some(batch) = batches.iter().find(|b| b.num_rows() > 0) else {
        return Err(Error::new(
            ErrorKind::Cluster,
            format!("{}: row {row} was not found again", f.path.display()),
        ));
    };
    let c = Cols(batch);
    let values: Vec<&str> = (0..specs.len())
        .map(|k| c.text(k, 0).unwrap_or(""))
        .collect();
    Err(check(f, row as u64, &values))
}

/// The native reader's checks of one row, in its order: the error of the
/// first that fails.
fn check(f: &TableFrame, row: u64, values: &[&str]) -> Error {
    let at = |k: usize, why: &str| value_error(f, row, k, values[k], why);
    let idx = |n: &str| column_index(f.table, n);
    let id = |n: &str| (values[idx(n)].is_empty()).then(|| at(idx(n), "empty id"));
    let required = |n: &str| {
        (values[idx(n)].is_empty()).then(|| at(idx(n), "empty value in a required column"))
    };
    let month = |n: &str| {
        Month::parse_strict(values[idx(n)])
            .is_err()
            .then(|| at(idx(n), "not a month (YYYY-MM)"))
    };
    let number = |n: &str| {
        parse_decimal(values[idx(n)])
            .is_none()
            .then(|| at(idx(n), "not a number"))
    };
    let whole = |n: &str| {
        let v = values[idx(n)];
        if f.whole_decimals {
            return match parse_decimal(v) {
                Some(d) if d.fract().is_zero() && !d.is_sign_negative() => u64::try_from(d)
                    .is_err()
                    .then(|| at(idx(n), "number out of range")),
                _ => Some(at(idx(n), "not a whole number of 0 or more")),
            };
        }
        let digits = v.strip_prefix('+').unwrap_or(v);
        if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
            return Some(at(idx(n), "not a whole number of 0 or more"));
        }
        digits
            .parse::<u64>()
            .is_err()
            .then(|| at(idx(n), "number out of range"))
    };
    let date = |n: &str| {
        let v = values[idx(n)];
        (!v.is_empty() && parse_date(v).is_err()).then(|| at(idx(n), "not a date (YYYY-MM-DD)"))
    };
    let found = match f.table {
        Table::Revenue => id("partner_id")
            .or_else(|| id("customer_tenant_id"))
            .or_else(|| required("workload"))
            .or_else(|| month("month"))
            .or_else(|| number("revenue_usd"))
            .or_else(|| required("association")),
        Table::Usage => number("quantity")
            .or_else(|| {
                let q = parse_decimal(values[idx("quantity")]).unwrap_or_default();
                (q.is_sign_negative() && !q.is_zero())
                    .then(|| at(idx("quantity"), "negative usage quantity"))
            })
            .or_else(|| id("partner_id"))
            .or_else(|| id("customer_tenant_id"))
            .or_else(|| required("workload"))
            .or_else(|| month("month"))
            .or_else(|| required("association")),
        Table::Acr => id("partner_id")
            .or_else(|| id("customer_tenant_id"))
            .or_else(|| required("service"))
            .or_else(|| month("month"))
            .or_else(|| number("acr_usd"))
            .or_else(|| required("association")),
        Table::Licenses => id("partner_id")
            .or_else(|| id("customer_tenant_id"))
            .or_else(|| required("workload"))
            .or_else(|| month("month"))
            .or_else(|| required("association"))
            .or_else(|| whole("paid_seats"))
            .or_else(|| whole("active_users"))
            .or_else(|| date("associated_on")),
        Table::Certifications | Table::Partners => id("partner_id"),
    };
    found.unwrap_or_else(|| {
        let k = match f.table {
            Table::Revenue => idx("revenue_usd"),
            Table::Usage => idx("quantity"),
            Table::Acr => idx("acr_usd"),
            _ => 0,
        };
        at(
            k,
            "a text amount read on a cluster has at most 10 decimal places and 27 digits before the point",
        )
    })
}

/// The index of the table's column `name` among [`columns`].
fn column_index(table: Table, name: &str) -> usize {
    columns(table)
        .iter()
        .position(|s| s.name == name)
        .expect("a column of the table")
}

fn value_error(f: &TableFrame, row: u64, k: usize, value: &str, why: &str) -> Error {
    let spec = columns(f.table)[k];
    let column = match f.positions[k] {
        Some(p) => format!(", column {p} ({})", spec.name),
        None => String::new(),
    };
    Error::new(
        ErrorKind::BadInput,
        format!(
            "{}, row {row}{column}, value '{}': {why}",
            f.path.display(),
            value.escape_debug()
        ),
    )
}

/// The first appearance of each tenant of each partner, and its first name,
/// across the tables in reading order.
#[derive(Default)]
struct Tenants {
    /// (partner, tenant) -> where it first appears, and its first name.
    seen: BTreeMap<(String, String), TenantSeen>,
}

/// A place in the dataset: table, then row (tables are read in this order).
type At = (Table, i64);

/// Where a tenant first appears, and its first non-empty name with its place.
struct TenantSeen {
    first: At,
    name: Option<(At, String)>,
}

impl Tenants {
    fn see(&mut self, partner: &str, tenant: &str, at: At, name: Option<(At, &str)>) {
        let e = self
            .seen
            .entry((partner.to_string(), tenant.to_string()))
            .or_insert(TenantSeen {
                first: at,
                name: None,
            });
        e.first = e.first.min(at);
        if let Some((nat, n)) = name
            && e.name.as_ref().is_none_or(|(old, _)| nat < *old)
        {
            e.name = Some((nat, n.to_string()));
        }
    }

    fn register(self, b: &mut FactsBuilder<'_>) {
        let mut all: Vec<_> = self.seen.into_iter().collect();
        all.sort_by_key(|(_, seen)| seen.first);
        for ((p, t), TenantSeen { name, .. }) in &all {
            b.add_tenant(p, t, name.as_ref().map(|(_, n)| n.as_str()));
        }
    }
}

/// One group of a revenue, usage or acr query.
struct AmountGroup {
    partner: String,
    /// Only for rows of the months kept.
    tenant: Option<String>,
    name: Option<String>,
    association: Option<String>,
    month: Option<Month>,
    offer: Option<String>,
    amount: Decimal,
    rows: u64,
    first_row: i64,
    bad_row: Option<i64>,
    customer: Option<(i64, String)>,
}

impl BadRow for AmountGroup {
    fn bad_row(&self) -> Option<i64> {
        self.bad_row
    }
}

fn month_of(text: Option<&str>) -> Result<Option<Month>, Error> {
    text.map(|t| {
        Month::parse_strict(t).map_err(|e| {
            Error::new(
                ErrorKind::Cluster,
                format!("the cluster returned a bad month: {e}"),
            )
        })
    })
    .transpose()
}

/// The groups of a revenue, usage or acr query (or its partners alone).
fn amount_groups(f: &TableFrame, batches: &[RecordBatch]) -> Result<Vec<AmountGroup>, Error> {
    let mut out = Vec::new();
    for batch in batches {
        let c = Cols(batch);
        let partners_only = batch.num_columns() == 2;
        for i in 0..batch.num_rows() {
            let partner = c.text(0, i).unwrap_or("").to_string();
            if partners_only {
                out.push(AmountGroup {
                    partner,
                    tenant: None,
                    name: None,
                    association: None,
                    month: None,
                    offer: None,
                    amount: Decimal::ZERO,
                    rows: 0,
                    first_row: 0,
                    bad_row: c.int(1, i),
                    customer: None,
                });
                continue;
            }
            let s = |k: usize| c.text(k, i).map(str::to_string);
            out.push(AmountGroup {
                partner,
                tenant: s(1),
                name: s(2),
                association: s(3),
                month: month_of(c.text(4, i)).or_else(|e| {
                    // A bad month of a bad row is reported as such.
                    if c.int(9, i).is_some() {
                        Ok(None)
                    } else {
                        Err(e)
                    }
                })?,
                offer: s(5).filter(|o| !o.is_empty()),
                amount: c.decimal(6, i, f.scale)?,
                rows: c.int(7, i).unwrap_or(0) as u64,
                first_row: c.int(8, i).unwrap_or(0),
                bad_row: c.int(9, i),
                customer: match (c.text(10, i), c.int(11, i)) {
                    (Some(n), Some(r)) => Some((r, n.to_string())),
                    _ => None,
                },
            });
        }
    }
    Ok(out)
}

/// Name resolution with the rulebook's own functions, once per spelling.
#[derive(Default)]
struct Resolver {
    revenue: HashMap<String, Option<u16>>,
    usage: HashMap<String, Option<UsageName>>,
    association: HashMap<String, Option<u16>>,
}

impl Resolver {
    fn revenue_workload(&mut self, rb: &Rulebook, raw: &str) -> Option<u16> {
        *self
            .revenue
            .entry(raw.to_string())
            .or_insert_with(|| rb.revenue_workload(raw))
    }
    fn usage_workload(&mut self, rb: &Rulebook, raw: &str) -> Option<UsageName> {
        *self
            .usage
            .entry(raw.to_string())
            .or_insert_with(|| rb.usage_workload(raw))
    }
    fn association(&mut self, rb: &Rulebook, raw: &str) -> Option<u16> {
        *self
            .association
            .entry(raw.to_string())
            .or_insert_with(|| rb.association(raw))
    }
}

fn rows_u32(rows: u64) -> u32 {
    u32::try_from(rows).unwrap_or(u32::MAX)
}

/// One group of revenue or usage rows of the months in the window.
struct PairGroup {
    table: Table,
    partner: String,
    tenant: String,
    workload: Option<u16>,
    product: Option<u16>,
    workload_raw: String,
    association: Option<u16>,
    association_raw: String,
    month: Month,
    reason: Option<Exclusion>,
    amount: Decimal,
    rows: u32,
    first_row: i64,
}

impl PairGroup {
    fn add(&self, rb: &Rulebook, b: &mut FactsBuilder<'_>) {
        match (self.reason, self.workload) {
            (None, Some(w)) if self.table == Table::Revenue => b.add_revenue_group(
                &self.partner,
                &self.tenant,
                w,
                self.month,
                self.amount,
                self.rows,
            ),
            (None, Some(w)) => b.add_usage_group(
                &self.partner,
                &self.tenant,
                UsageName {
                    workload: w,
                    product: self.product,
                },
                self.month,
                self.amount,
                self.rows,
            ),
            (reason, workload) => {
                let workload = match (workload, self.table) {
                    (Some(w), Table::Revenue) => rb.revenue.workloads[w as usize].name.clone(),
                    (Some(w), _) => usage_label(
                        rb,
                        UsageName {
                            workload: w,
                            product: self.product,
                        },
                    ),
                    (None, _) => self.workload_raw.clone(),
                };
                let association = match self.association {
                    Some(a) => rb.associations[a as usize].name.clone(),
                    None => self.association_raw.clone(),
                };
                b.add_excluded_group(&ExcludedGroup {
                    table: self.table,
                    partner_id: &self.partner,
                    customer_tenant_id: &self.tenant,
                    workload: &workload,
                    association: &association,
                    month: self.month,
                    reason: reason.unwrap_or(Exclusion::UnknownWorkload),
                    amount: self.amount,
                    rows: self.rows,
                });
            }
        }
    }
}

/// Partners, warnings, tenants and pairs of the revenue or usage groups,
/// resolved and filtered as `FactsBuilder::add_revenue` and `add_usage` do.
fn pairs_of(
    f: &TableFrame,
    rb: &Rulebook,
    groups: &[AmountGroup],
    names: &mut Resolver,
    tenants: &mut Tenants,
    b: &mut FactsBuilder<'_>,
    pairs: &mut Vec<PairGroup>,
) -> Result<(), Error> {
    let usage = f.table == Table::Usage;
    for g in groups {
        b.add_partner_id(&g.partner);
        let raw = g.name.as_deref().unwrap_or("");
        let assoc_raw = g.association.as_deref().unwrap_or("");
        let a = names.association(rb, assoc_raw);
        let mut warn = |kind: WarningKind, name: &str| {
            b.add_warning_group(f.table, kind, name, g.rows, g.first_row as u64);
        };
        let (workload, product, reason) = if usage {
            match names.usage_workload(rb, raw) {
                None => {
                    warn(WarningKind::UnknownWorkload, raw);
                    (None, None, Some(Exclusion::UnknownWorkload))
                }
                Some(u) => {
                    let wl = &rb.usage.workloads[u.workload as usize];
                    let reason = if wl.rate.is_none() {
                        warn(WarningKind::NoRate, raw);
                        Some(Exclusion::NoRate)
                    } else {
                        match a {
                            None => Some(Exclusion::UnknownAssociation),
                            Some(a) if !rb.usage.families[wl.family].associations.contains(a) => {
                                Some(Exclusion::AssociationNotEligible)
                            }
                            Some(_) => None,
                        }
                    };
                    (Some(u.workload), u.product, reason)
                }
            }
        } else {
            let w = names.revenue_workload(rb, raw);
            if w.is_none() {
                warn(WarningKind::UnknownWorkload, raw);
            }
            let reason = match (w, a) {
                (None, _) => Some(Exclusion::UnknownWorkload),
                (_, None) => Some(Exclusion::UnknownAssociation),
                (Some(_), Some(a)) if !rb.revenue.associations.contains(a) => {
                    Some(Exclusion::AssociationNotEligible)
                }
                _ => None,
            };
            (w, None, reason)
        };
        if a.is_none() {
            warn(WarningKind::UnknownAssociation, assoc_raw);
        }
        let (Some(month), Some(tenant)) = (g.month, g.tenant.as_ref()) else {
            continue;
        };
        tenants.see(
            &g.partner,
            tenant,
            (f.table, g.first_row),
            g.customer
                .as_ref()
                .map(|(r, n)| ((f.table, *r), n.as_str())),
        );
        pairs.push(PairGroup {
            table: f.table,
            partner: g.partner.clone(),
            tenant: tenant.clone(),
            workload,
            product,
            workload_raw: raw.to_string(),
            association: a,
            association_raw: assoc_raw.to_string(),
            month,
            reason,
            amount: g.amount,
            rows: rows_u32(g.rows),
            first_row: g.first_row,
        });
    }
    Ok(())
}

/// An acr group kept for after the tenants are registered.
struct OwnedAcrGroup {
    partner: String,
    tenant: String,
    service: String,
    month: Month,
    association: String,
    offer: Option<String>,
    amount: Decimal,
    rows: u32,
}

impl OwnedAcrGroup {
    fn borrowed(&self) -> AcrGroup<'_> {
        AcrGroup {
            partner_id: &self.partner,
            customer_tenant_id: &self.tenant,
            service: &self.service,
            month: self.month,
            association: &self.association,
            offer: self.offer.as_deref(),
            amount: self.amount,
            rows: self.rows,
        }
    }
}

/// Partners, warnings, tenants and groups of the acr query.
fn acr_of(
    f: &TableFrame,
    areas: Option<Areas<'_>>,
    groups: &[AmountGroup],
    tenants: &mut Tenants,
    b: &mut FactsBuilder<'_>,
    out: &mut Vec<(i64, OwnedAcrGroup)>,
) -> Result<(), Error> {
    for g in groups {
        b.add_partner_id(&g.partner);
        let Some(areas) = areas else { continue };
        let assoc_raw = g.association.as_deref().unwrap_or("");
        if areas.vocabulary.association(assoc_raw).is_none() {
            b.add_warning_group(
                f.table,
                WarningKind::UnknownAssociation,
                assoc_raw,
                g.rows,
                g.first_row as u64,
            );
        }
        let (Some(month), Some(tenant)) = (g.month, g.tenant.as_ref()) else {
            continue;
        };
        tenants.see(
            &g.partner,
            tenant,
            (f.table, g.first_row),
            g.customer
                .as_ref()
                .map(|(r, n)| ((f.table, *r), n.as_str())),
        );
        out.push((
            g.first_row,
            OwnedAcrGroup {
                partner: g.partner.clone(),
                tenant: tenant.clone(),
                service: g.name.clone().unwrap_or_default(),
                month,
                association: assoc_raw.to_string(),
                offer: g.offer.clone(),
                amount: g.amount,
                rows: rows_u32(g.rows),
            },
        ));
    }
    Ok(())
}

/// One group of the licenses query.
struct LicenseRows {
    partner: String,
    tenant: String,
    workload: String,
    association: String,
    month: Option<Month>,
    /// The association date as parsed (`Err`: not a date).
    date: Result<Option<Date>, ()>,
    paid: u64,
    active: u64,
    rows: u64,
    first_row: i64,
    /// The first row of the group's earliest month.
    start_row: i64,
    bad_row: Option<i64>,
    customer: Option<(i64, String)>,
}

impl BadRow for LicenseRows {
    fn bad_row(&self) -> Option<i64> {
        self.bad_row
    }
}

/// The groups of a licenses query (or its partners alone).
fn license_groups(batches: &[RecordBatch]) -> Result<Vec<LicenseRows>, Error> {
    let mut out = Vec::new();
    for batch in batches {
        let c = Cols(batch);
        let partners_only = batch.num_columns() == 2;
        for i in 0..batch.num_rows() {
            let partner = c.text(0, i).unwrap_or("").to_string();
            if partners_only {
                out.push(LicenseRows {
                    partner,
                    tenant: String::new(),
                    workload: String::new(),
                    association: String::new(),
                    month: None,
                    date: Ok(None),
                    paid: 0,
                    active: 0,
                    rows: 0,
                    first_row: 0,
                    start_row: 0,
                    bad_row: c.int(1, i),
                    customer: None,
                });
                continue;
            }
            let bad_row = c.int(10, i);
            // A month kept, else (rows of other months) the earliest.
            let month_text = c.text(4, i).or_else(|| c.text(13, i));
            let s = |k: usize| c.text(k, i).unwrap_or("").to_string();
            let date_text = c.text(5, i).unwrap_or("");
            out.push(LicenseRows {
                partner,
                tenant: s(1),
                workload: s(2),
                association: s(3),
                month: if bad_row.is_some() {
                    Month::parse_strict(month_text.unwrap_or("")).ok()
                } else {
                    month_of(month_text)?
                },
                date: if date_text.is_empty() {
                    Ok(None)
                } else {
                    parse_date(date_text).map(Some).map_err(|_| ())
                },
                paid: c.whole(6, i),
                active: c.whole(7, i),
                rows: c.int(8, i).unwrap_or(0) as u64,
                first_row: c.int(9, i).unwrap_or(0),
                start_row: c.int(14, i).unwrap_or(0),
                bad_row,
                customer: match (c.text(11, i), c.int(12, i)) {
                    (Some(n), Some(r)) => Some((r, n.to_string())),
                    _ => None,
                },
            });
        }
    }
    Ok(out)
}

/// A licenses group kept for after the tenants are registered.
struct OwnedLicenseGroup {
    partner: String,
    tenant: String,
    workload: String,
    month: Month,
    association: String,
    associated_on: Option<Date>,
    paid: u64,
    active: u64,
    rows: u32,
    /// The first row of `month` (the group's earliest month).
    start_row: u64,
}

impl OwnedLicenseGroup {
    fn borrowed(&self) -> LicenseGroup<'_> {
        LicenseGroup {
            partner_id: &self.partner,
            customer_tenant_id: &self.tenant,
            workload: &self.workload,
            month: self.month,
            association: &self.association,
            associated_on: self.associated_on,
            paid_seats: self.paid,
            active_users: self.active,
            rows: self.rows,
            first_line: self.start_row,
        }
    }
}

/// Partners, warnings, tenants and groups of the licenses query.
fn licenses_of(
    f: &TableFrame,
    areas: Option<Areas<'_>>,
    groups: Vec<LicenseRows>,
    tenants: &mut Tenants,
    b: &mut FactsBuilder<'_>,
    out: &mut Vec<OwnedLicenseGroup>,
) -> Result<(), Error> {
    for g in groups {
        b.add_partner_id(&g.partner);
        let Some(areas) = areas else { continue };
        let v = areas.vocabulary;
        let (rows, first) = (g.rows, g.first_row as u64);
        let w = v.workload(&g.workload);
        let a = v.association(&g.association);
        if w.is_none() {
            b.add_warning_group(
                f.table,
                WarningKind::UnknownWorkload,
                &g.workload,
                rows,
                first,
            );
        }
        if a.is_none() {
            b.add_warning_group(
                f.table,
                WarningKind::UnknownAssociation,
                &g.association,
                rows,
                first,
            );
        }
        let associated_on = g.date.unwrap_or(None);
        if associated_on.is_none()
            && let (Some(w), Some(_)) = (w, a)
        {
            b.add_warning_group(
                f.table,
                WarningKind::MissingAssociationDate,
                &v.workloads[w as usize],
                rows,
                first,
            );
        }
        let Some(month) = g.month else { continue };
        tenants.see(
            &g.partner,
            &g.tenant,
            (f.table, g.first_row),
            g.customer
                .as_ref()
                .map(|(r, n)| ((f.table, *r), n.as_str())),
        );
        out.push(OwnedLicenseGroup {
            partner: g.partner,
            tenant: g.tenant,
            workload: g.workload,
            month,
            association: g.association,
            associated_on,
            paid: g.paid,
            active: g.active,
            rows: rows_u32(rows),
            start_row: g.start_row as u64,
        });
    }
    Ok(())
}

fn date_at(
    f: &TableFrame,
    row: u64,
    column: &str,
    text: &str,
    optional: bool,
) -> Result<Option<Date>, Error> {
    if optional && text.is_empty() {
        return Ok(None);
    }
    let k = column_index(f.table, column);
    parse_date(text)
        .map(Some)
        .map_err(|_| value_error(f, row, k, text, "not a date (YYYY-MM-DD)"))
}

fn empty_at(f: &TableFrame, row: u64, column: &str, text: &str, why: &str) -> Result<(), Error> {
    if !text.is_empty() {
        return Ok(());
    }
    Err(value_error(
        f,
        row,
        column_index(f.table, column),
        text,
        why,
    ))
}

/// Certification rows in file order, through the native entry point.
fn certifications(
    f: &TableFrame,
    batches: &[RecordBatch],
    b: &mut FactsBuilder<'_>,
) -> Result<(), Error> {
    for batch in batches {
        let c = Cols(batch);
        for i in 0..batch.num_rows() {
            let t = |k| c.text(k, i).unwrap_or("");
            let row = c.int(6, i).unwrap_or(0) as u64;
            empty_at(f, row, "partner_id", t(0), "empty id")?;
            empty_at(f, row, "person_id", t(1), "empty id")?;
            empty_at(
                f,
                row,
                "certification",
                t(3),
                "empty value in a required column",
            )?;
            let earned = date_at(f, row, "earned_on", t(4), false)?.expect("required");
            let expires = date_at(f, row, "expires_on", t(5), true)?;
            b.add_certification(&CertificationRow {
                partner_id: t(0),
                person_id: t(1),
                person_name: Some(t(2)).filter(|n| !n.is_empty()),
                certification: t(3),
                earned_on: earned,
                expires_on: expires,
                line: row,
            });
        }
    }
    Ok(())
}

/// Partner rows, in file order (the first name and the last anniversary
/// date stay, as when streaming).
fn partners(
    f: &TableFrame,
    batches: &[RecordBatch],
    b: &mut FactsBuilder<'_>,
) -> Result<(), Error> {
    for batch in batches {
        let c = Cols(batch);
        for i in 0..batch.num_rows() {
            let t = |k| c.text(k, i).unwrap_or("");
            let row = c.int(3, i).unwrap_or(0) as u64;
            empty_at(f, row, "partner_id", t(0), "empty id")?;
            let anniversary = date_at(f, row, "anniversary_date", t(2), true)?;
            b.add_partner(&PartnerRow {
                partner_id: t(0),
                name: Some(t(1)).filter(|n| !n.is_empty()),
                anniversary_date: anniversary,
                line: row,
            });
        }
    }
    Ok(())
}
