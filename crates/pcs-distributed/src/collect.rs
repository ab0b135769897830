//! Running the plan's queries and turning their batches into the facts the
//! native reader builds.

use std::collections::BTreeMap;
use std::ops::Not;
use std::path::Path;

use datafusion::arrow::array::{Array, AsArray, RecordBatch};
use datafusion::arrow::datatypes::{DataType, Decimal128Type, Int64Type};
use datafusion::functions_aggregate::expr_fn::{count, min, sum};
use datafusion::logical_expr::{Expr, ExprFunctionExt, cast, ident, lit, when};
use datafusion::prelude::{DataFrame, SessionContext};
use pcs_core::Decimal;
use pcs_core::calendar::{Month, parse_date};
use pcs_core::facts::grouped::ExcludedGroup;
use pcs_core::facts::{
    DatasetFacts, Exclusion, FactsBuilder, MonthFilter, Table, WarningKind, usage_label,
};
use pcs_core::jiff::civil::Date;
use pcs_core::rulebook::{Rulebook, UsageName};
use pcs_data::{Dataset, Format, columns, parse_decimal};

use crate::error::{Error, ErrorKind};
use crate::plan::{
    Names, TEXT_SCALE, TableFrame, by_row, configure, filled, first_where, normalized,
    numbers_its_rows, only_if, read_table, valid_row,
};

const NULL_INT: DataType = DataType::Int64;

/// Reads every table of `dir` on the session and builds the facts.
pub async fn load(
    ctx: &SessionContext,
    dir: &Path,
    rb: &Rulebook,
    months: &[Month],
) -> Result<(DatasetFacts, Dataset), Error> {
    let dataset = crate::stores::open_dataset(ctx, dir).await?;
    let mut numbered = true;
    for t in dataset.tables() {
        // The acr and licenses tables feed the other solution areas, which
        // the cluster does not score: they are not read here.
        if matches!(t.table, Table::Acr | Table::Licenses) {
            continue;
        }
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
        if matches!(t.table, Table::Acr | Table::Licenses) {
            continue;
        }
        frames.push(read_table(ctx, t.table, &t.path).await?);
    }
    // Every value is checked before anything is summed, in reading order,
    // so the first bad value stops the run as the native reader would.
    for f in &frames {
        check(f).await?;
    }
    let names = Names::new(rb);
    let mut b = FactsBuilder::new(rb, MonthFilter::Only(months.to_vec()), false);
    let mut tenants = Tenants::default();
    let mut pairs: Vec<PairGroup> = Vec::new();
    for f in &frames {
        let ids = f
            .frame
            .clone()
            .select(vec![cast(ident("partner_id"), DataType::Utf8)])?
            .distinct()?;
        for p in strings(&collect(ids).await?, 0) {
            b.add_partner_id(&p);
        }
        warnings(f, &names, &mut b).await?;
        match f.table {
            Table::Revenue | Table::Usage => {
                pairs.extend(pair_groups(f, &names, months, &mut tenants).await?);
            }
            Table::Certifications => certifications(f, &names, &mut b).await?,
            Table::Partners => partners(f, &mut b).await?,
            Table::Acr | Table::Licenses => unreachable!("not read"),
        }
    }
    tenants.register(&mut b);
    // By first row, so that a pair's products keep their first-seen order.
    pairs.sort_by_key(|g| (g.table, g.first_row));
    for g in &pairs {
        g.add(rb, &mut b);
    }
    Ok((b.finish(), dataset))
}

async fn collect(df: DataFrame) -> Result<Vec<RecordBatch>, Error> {
    Ok(df.collect().await?)
}

fn strings(batches: &[RecordBatch], col: usize) -> Vec<String> {
    let mut out = Vec::new();
    for batch in batches {
        let a = batch.column(col).as_string::<i32>();
        for i in 0..a.len() {
            out.push(a.value(i).to_string());
        }
    }
    out
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
        Decimal::try_from_i128_with_scale(a.value(i), scale as u32).map_err(|e| {
            Error::new(
                ErrorKind::BadInput,
                format!("a sum does not fit a decimal: {e}"),
            )
        })
    }
}

/// Finds the first row that breaks a rule of the record reader and reports
/// it as the native reader does: file, row, column, value, reason.
async fn check(f: &TableFrame) -> Result<(), Error> {
    let specs = columns(f.table);
    let text_amount = f.scale == TEXT_SCALE;
    let bad_rows = match f.table {
        Table::Revenue | Table::Usage => f
            .frame
            .clone()
            .filter(valid_row(f.table, text_amount).not())?,
        // Certifications and partners come back row by row: their dates are
        // checked here, with the native parser, on every row.
        Table::Certifications | Table::Partners => return Ok(()),
        Table::Acr | Table::Licenses => unreachable!("not read"),
    };
    let cols: Vec<Expr> = specs
        .iter()
        .map(|s| ident(s.name))
        .chain([ident("row")])
        .collect();
    let first = collect(
        bad_rows
            .select(cols)?
            .sort(vec![by_row()])?
            .limit(0, Some(1))?,
    )
    .await?;
    let Some(batch) = first.iter().find(|b| b.num_rows() > 0) else {
        return Ok(());
    };
    let c = Cols(batch);
    let values: Vec<&str> = (0..specs.len())
        .map(|k| c.text(k, 0).unwrap_or(""))
        .collect();
    let row = c.int(specs.len(), 0).unwrap_or(0) as u64;
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
    let found = match f.table {
        Table::Revenue => id("partner_id")
            .or_else(|| id("customer_tenant_id"))
            .or_else(|| required("workload"))
            .or_else(|| month("month"))
            .or_else(|| number("revenue_usd"))
            .or_else(|| required("association")),
        _ => number("quantity")
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
    };
    Err(found.unwrap_or_else(|| {
        let k = idx(if f.table == Table::Revenue {
            "revenue_usd"
        } else {
            "quantity"
        });
        at(
            k,
            "a text amount read on a cluster has at most 10 decimal places and 27 digits before the point",
        )
    }))
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

/// Counted warnings: rows whose workload, association type or
/// certification the rulebook does not know (every month), grouped by
/// normalised name, with their first row and first spelling.
async fn warnings(
    f: &TableFrame,
    names: &Names<'_>,
    b: &mut FactsBuilder<'_>,
) -> Result<(), Error> {
    let kind_code = |k: WarningKind| lit(k as i64);
    let unknown = |column: &str, kind: WarningKind, id: Expr| -> Result<DataFrame, Error> {
        Ok(f.frame.clone().filter(id.is_null())?.select(vec![
            kind_code(kind).alias("kind"),
            normalized(ident(column)).alias("key"),
            ident(column).alias("raw"),
            ident("row"),
        ])?)
    };
    let parts: Vec<DataFrame> = match f.table {
        Table::Revenue => vec![
            unknown(
                "workload",
                WarningKind::UnknownWorkload,
                names.revenue_workload(),
            )?,
            unknown(
                "association",
                WarningKind::UnknownAssociation,
                names.association(),
            )?,
        ],
        Table::Usage => {
            let w = names.usage_workload();
            let no_rate = f
                .frame
                .clone()
                .filter(w.clone().is_not_null().and(names.rated(w).not()))?
                .select(vec![
                    kind_code(WarningKind::NoRate).alias("kind"),
                    normalized(ident("workload")).alias("key"),
                    ident("workload").alias("raw"),
                    ident("row"),
                ])?;
            vec![
                unknown(
                    "workload",
                    WarningKind::UnknownWorkload,
                    names.usage_workload(),
                )?,
                no_rate,
                unknown(
                    "association",
                    WarningKind::UnknownAssociation,
                    names.association(),
                )?,
            ]
        }
        Table::Certifications => vec![unknown(
            "certification",
            WarningKind::UnknownCertification,
            names.certification(),
        )?],
        Table::Partners => return Ok(()),
        Table::Acr | Table::Licenses => unreachable!("not read"),
    };
    // One query per part: Ballista 55 runs a UNION ALL of several parts of
    // one scan with some parts counted two or three times, so the parts are
    // never unioned (each has its own kind, so no group spans two parts).
    for part in parts {
        warning_groups(part, b, f.table).await?;
    }
    Ok(())
}

/// Groups one part of the warnings by kind and key and hands them to `b`.
async fn warning_groups(
    part: DataFrame,
    b: &mut FactsBuilder<'_>,
    table: Table,
) -> Result<(), Error> {
    let df = part
        .aggregate(
            vec![ident("kind"), ident("key")],
            vec![
                count(lit(1i64)).alias("rows"),
                min(ident("row")).alias("first_row"),
                datafusion::functions_aggregate::expr_fn::first_value(ident("raw"), vec![by_row()])
                    .alias("raw"),
            ],
        )?
        .select(vec![
            cast(ident("kind"), DataType::Int64),
            cast(ident("rows"), DataType::Int64),
            cast(ident("first_row"), DataType::Int64),
            cast(ident("raw"), DataType::Utf8),
        ])?;
    for batch in collect(df).await? {
        let c = Cols(&batch);
        for i in 0..batch.num_rows() {
            let kind = match c.int(0, i) {
                Some(k) if k == WarningKind::UnknownWorkload as i64 => WarningKind::UnknownWorkload,
                Some(k) if k == WarningKind::UnknownAssociation as i64 => {
                    WarningKind::UnknownAssociation
                }
                Some(k) if k == WarningKind::UnknownCertification as i64 => {
                    WarningKind::UnknownCertification
                }
                _ => WarningKind::NoRate,
            };
            b.add_warning_group(
                table,
                kind,
                c.text(3, i).unwrap_or(""),
                c.int(1, i).unwrap_or(0) as u64,
                c.int(2, i).unwrap_or(0) as u64,
            );
        }
    }
    Ok(())
}

/// The first appearance of each tenant of each partner, and its first name,
/// across revenue and usage (in that order, as the native reader reads).
#[derive(Default)]
struct Tenants {
    /// (partner, tenant) -> where it first appears, and its first name.
    seen: BTreeMap<(String, String), TenantSeen>,
}

/// A place in the dataset: table, then row (revenue is read before usage).
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

const REASONS: [Exclusion; 4] = [
    Exclusion::UnknownWorkload,
    Exclusion::UnknownAssociation,
    Exclusion::AssociationNotEligible,
    Exclusion::NoRate,
];

fn reason_code(r: Exclusion) -> i64 {
    REASONS.iter().position(|x| *x == r).expect("listed") as i64
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

/// Revenue or usage of the window, grouped by partner, tenant, resolved
/// workload (and product), month and, for rows that count for nothing, the
/// reason and the names as written.
async fn pair_groups(
    f: &TableFrame,
    names: &Names<'_>,
    months: &[Month],
    tenants: &mut Tenants,
) -> Result<Vec<PairGroup>, Error> {
    let window: Vec<Expr> = months.iter().map(|m| lit(m.to_string())).collect();
    let usage = f.table == Table::Usage;
    let (w, p) = if usage {
        (names.usage_workload(), names.usage_product())
    } else {
        (
            names.revenue_workload(),
            cast(lit(datafusion::scalar::ScalarValue::Null), NULL_INT),
        )
    };
    let resolved = f
        .frame
        .clone()
        .filter(ident("month").in_list(window, false))?
        .select(vec![
            ident("partner_id"),
            ident("customer_tenant_id"),
            ident("customer_name"),
            ident("workload"),
            ident("association"),
            ident("month"),
            ident("amount"),
            ident("row"),
            w.alias("w"),
            p.alias("p"),
            names.association().alias("a"),
        ])?;
    let code = |r: Exclusion| lit(reason_code(r));
    let (w, a) = (ident("w"), ident("a"));
    let reason = if usage {
        when(w.clone().is_null(), code(Exclusion::UnknownWorkload))
            .when(names.rated(w.clone()).not(), code(Exclusion::NoRate))
            .when(a.clone().is_null(), code(Exclusion::UnknownAssociation))
            .when(
                names.usage_association_counts(w.clone(), a.clone()).not(),
                code(Exclusion::AssociationNotEligible),
            )
            .otherwise(cast(lit(datafusion::scalar::ScalarValue::Null), NULL_INT))?
    } else {
        when(w.clone().is_null(), code(Exclusion::UnknownWorkload))
            .when(a.clone().is_null(), code(Exclusion::UnknownAssociation))
            .when(
                names.revenue_association_counts(a.clone()).not(),
                code(Exclusion::AssociationNotEligible),
            )
            .otherwise(cast(lit(datafusion::scalar::ScalarValue::Null), NULL_INT))?
    };
    let keyed = resolved
        .with_column(
            "w_raw",
            only_if(w.clone().is_null(), ident("workload"), DataType::Utf8),
        )?
        .with_column("reason", reason)?
        // The association matters only for rows that count for nothing.
        .with_column(
            "a_key",
            only_if(ident("reason").is_not_null(), a.clone(), NULL_INT),
        )?
        .with_column(
            "a_raw",
            only_if(
                ident("reason").is_not_null().and(a.is_null()),
                ident("association"),
                DataType::Utf8,
            ),
        )?;
    let named = filled(ident("customer_name"));
    let grouped = keyed
        .aggregate(
            vec![
                ident("partner_id"),
                ident("customer_tenant_id"),
                ident("w"),
                ident("p"),
                ident("w_raw"),
                ident("a_key"),
                ident("a_raw"),
                ident("month"),
                ident("reason"),
            ],
            vec![
                sum(ident("amount")).alias("amount"),
                count(lit(1i64)).alias("rows"),
                min(ident("row")).alias("first_row"),
                first_where(ident("customer_name"), named.clone()).alias("name"),
                min(ident("row"))
                    .filter(named)
                    .build()
                    .expect("an aggregate")
                    .alias("name_row"),
            ],
        )?
        .select(vec![
            cast(ident("partner_id"), DataType::Utf8),
            cast(ident("customer_tenant_id"), DataType::Utf8),
            cast(ident("w"), NULL_INT),
            cast(ident("p"), NULL_INT),
            cast(ident("w_raw"), DataType::Utf8),
            cast(ident("a_key"), NULL_INT),
            cast(ident("a_raw"), DataType::Utf8),
            cast(ident("month"), DataType::Utf8),
            cast(ident("reason"), NULL_INT),
            cast(ident("amount"), DataType::Decimal128(38, f.scale)),
            cast(ident("rows"), NULL_INT),
            cast(ident("first_row"), NULL_INT),
            cast(ident("name"), DataType::Utf8),
            cast(ident("name_row"), NULL_INT),
        ])?;
    let mut out = Vec::new();
    for batch in collect(grouped).await? {
        let c = Cols(&batch);
        for i in 0..batch.num_rows() {
            let partner = c.text(0, i).unwrap_or("").to_string();
            let tenant = c.text(1, i).unwrap_or("").to_string();
            let first_row = c.int(11, i).unwrap_or(0);
            let name = match (c.text(12, i), c.int(13, i)) {
                (Some(n), Some(r)) => Some(((f.table, r), n)),
                _ => None,
            };
            tenants.see(&partner, &tenant, (f.table, first_row), name);
            let month_text = c.text(7, i).unwrap_or("");
            let month = Month::parse_strict(month_text).map_err(|e| {
                Error::new(
                    ErrorKind::Cluster,
                    format!("the cluster returned a bad month: {e}"),
                )
            })?;
            let id = |k: usize| c.int(k, i).and_then(|v| u16::try_from(v).ok());
            out.push(PairGroup {
                table: f.table,
                partner,
                tenant,
                workload: id(2),
                product: id(3),
                workload_raw: c.text(4, i).unwrap_or("").to_string(),
                association: id(5),
                association_raw: c.text(6, i).unwrap_or("").to_string(),
                month,
                reason: c.int(8, i).and_then(|r| REASONS.get(r as usize).copied()),
                amount: c.decimal(9, i, f.scale)?,
                rows: u32::try_from(c.int(10, i).unwrap_or(0)).unwrap_or(u32::MAX),
                first_row,
            });
        }
    }
    Ok(out)
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

/// Certification rows, with their names resolved in the plan, in file order.
async fn certifications(
    f: &TableFrame,
    names: &Names<'_>,
    b: &mut FactsBuilder<'_>,
) -> Result<(), Error> {
    let df = f
        .frame
        .clone()
        .select(vec![
            cast(ident("partner_id"), DataType::Utf8),
            cast(ident("person_id"), DataType::Utf8),
            cast(ident("person_name"), DataType::Utf8),
            cast(ident("certification"), DataType::Utf8),
            cast(ident("earned_on"), DataType::Utf8),
            cast(ident("expires_on"), DataType::Utf8),
            ident("row"),
            cast(names.certification(), NULL_INT).alias("c"),
        ])?
        .sort(vec![by_row()])?;
    for batch in collect(df).await? {
        let c = Cols(&batch);
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
            let cert = match c.int(7, i).and_then(|v| u16::try_from(v).ok()) {
                Some(id) => Ok(id),
                None => Err(t(3)),
            };
            b.add_resolved_certification(
                t(0),
                t(1),
                Some(t(2)).filter(|n| !n.is_empty()),
                cert,
                earned,
                expires,
                row,
            );
        }
    }
    Ok(())
}

/// Partner rows, in file order (the first name and the last anniversary
/// date stay, as when streaming).
async fn partners(f: &TableFrame, b: &mut FactsBuilder<'_>) -> Result<(), Error> {
    let df = f
        .frame
        .clone()
        .select(vec![
            cast(ident("partner_id"), DataType::Utf8),
            cast(ident("name"), DataType::Utf8),
            cast(ident("anniversary_date"), DataType::Utf8),
            ident("row"),
        ])?
        .sort(vec![by_row()])?;
    for batch in collect(df).await? {
        let c = Cols(&batch);
        for i in 0..batch.num_rows() {
            let t = |k| c.text(k, i).unwrap_or("");
            let row = c.int(3, i).unwrap_or(0) as u64;
            empty_at(f, row, "partner_id", t(0), "empty id")?;
            let anniversary = date_at(f, row, "anniversary_date", t(2), true)?;
            b.add_partner(&pcs_core::facts::PartnerRow {
                partner_id: t(0),
                name: Some(t(1)).filter(|n| !n.is_empty()),
                anniversary_date: anniversary,
                line: row,
            });
        }
    }
    Ok(())
}
