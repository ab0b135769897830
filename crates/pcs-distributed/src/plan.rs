//! The DataFusion plan: each table's text columns, name resolution and the
//! rulebook's filters as expressions, built from the rulebook's data.

use std::ops::Not;
use std::path::Path;

use datafusion::arrow::datatypes::DataType;
use datafusion::functions::expr_fn::{lower, regexp_like, regexp_replace};
use datafusion::functions_window::expr_fn::row_number;
use datafusion::logical_expr::{Expr, ExprFunctionExt, SortExpr, case, cast, ident, lit, when};
use datafusion::prelude::{DataFrame, ParquetReadOptions, SessionContext};
use pcs_core::facts::Table;
use pcs_core::rulebook::Rulebook;
use pcs_data::write::ROW_COLUMN;
use pcs_data::{columns, match_header};

use crate::error::{Error, ErrorKind};

/// Scale of amounts given as text: DataFusion sums decimals of a fixed
/// scale, so text amounts are read at this many decimal places.
pub const TEXT_SCALE: i8 = 10;

/// A plain decimal as `pcs_data::parse_decimal` accepts it: optional sign,
/// digits, at most one dot, at least one digit.
const DECIMAL_RE: &str = r"^[+-]?([0-9]+\.?[0-9]*|\.[0-9]+)$";
/// What a text amount may hold on a cluster (at most [`TEXT_SCALE`] decimals).
const TEXT_AMOUNT_RE: &str = r"^[+-]?([0-9]{1,27}(\.[0-9]{0,10})?|\.[0-9]{1,10})$";
/// `YYYY-MM` with a month in 1..=12 (year 0000 is excluded separately).
const MONTH_RE: &str = r"^[0-9]{4}-(0[1-9]|1[0-2])$";
/// A negative, non-zero number as text.
const NEGATIVE_RE: &str = r"^-[0-9.]*[1-9]";

/// A table file registered for the plan: its columns as trimmed text
/// (`""` when absent or null), named canonically, plus `row` (1-based, as
/// the native Parquet reader counts) and, for revenue and usage, `amount`.
pub struct TableFrame {
    /// The table.
    pub table: Table,
    /// The file.
    pub path: std::path::PathBuf,
    /// Each canonical column's 1-based position in the file, if present.
    pub positions: Vec<Option<usize>>,
    /// The frame.
    pub frame: DataFrame,
    /// Scale of `amount` (revenue and usage).
    pub scale: i8,
}

/// Rust's `str::trim`: Unicode white space at both ends.
fn trim(e: Expr) -> Expr {
    regexp_replace(e, lit(r"^\s+|\s+$"), lit(""), Some(lit("g")))
}

/// `pcs_core::name::normalize` of an already trimmed text: lower case,
/// `_` and `-` as spaces.
pub fn normalized(trimmed: Expr) -> Expr {
    regexp_replace(lower(trimmed), lit("[_-]"), lit(" "), Some(lit("g")))
}

/// Whether a text column matches a regular expression.
pub fn matches(e: Expr, re: &str) -> Expr {
    regexp_like(e, lit(re), None)
}

/// `CASE key WHEN k THEN id ... END` (NULL when unknown) over the sorted
/// keys of one rulebook catalogue.
pub fn lookup<T: Copy + Into<i64>>(key: Expr, names: &[(String, T)]) -> Expr {
    if names.is_empty() {
        return cast(lit(datafusion::scalar::ScalarValue::Null), DataType::Int64);
    }
    let mut b = case(key);
    let mut b = {
        let (k, v) = &names[0];
        b.when(lit(k.as_str()), lit((*v).into()))
    };
    for (k, v) in &names[1..] {
        b = b.when(lit(k.as_str()), lit((*v).into()));
    }
    b.otherwise(cast(
        lit(datafusion::scalar::ScalarValue::Null),
        DataType::Int64,
    ))
    .expect("a CASE with branches")
}

/// `e IN (ids)` (false when there is none).
pub fn is_in(e: Expr, ids: impl IntoIterator<Item = i64>) -> Expr {
    let list: Vec<Expr> = ids.into_iter().map(lit).collect();
    if list.is_empty() {
        return lit(false);
    }
    e.in_list(list, false)
}

/// `CASE WHEN cond THEN value END` (NULL otherwise).
pub fn only_if(cond: Expr, value: Expr, null_type: DataType) -> Expr {
    when(cond, value)
        .otherwise(cast(lit(datafusion::scalar::ScalarValue::Null), null_type))
        .expect("one branch")
}

/// Non-empty text.
pub fn filled(e: Expr) -> Expr {
    e.not_eq(lit(""))
}

/// `first_value(value ORDER BY row) FILTER (WHERE cond)`.
pub fn first_where(value: Expr, cond: Expr) -> Expr {
    // The builder replaces the ordering: give both at once.
    datafusion::functions_aggregate::first_last::first_value_udaf()
        .call(vec![value])
        .order_by(vec![by_row()])
        .filter(cond)
        .build()
        .expect("an aggregate")
}

/// `ORDER BY row`.
pub fn by_row() -> SortExpr {
    ident("row").sort(true, false)
}

async fn scan(ctx: &SessionContext, path: &Path) -> Result<DataFrame, Error> {
    let url = path.to_str().ok_or_else(|| {
        Error::new(
            ErrorKind::BadInput,
            format!("{}: the path is not UTF-8", path.display()),
        )
    })?;
    ctx.read_parquet(url, ParquetReadOptions::default())
        .await
        .map_err(|e| {
            Error::new(
                ErrorKind::BadInput,
                format!("{}: not a readable Parquet file: {e}", path.display()),
            )
        })
}

/// Whether the file numbers its rows ([`ROW_COLUMN`], as pcs writes it).
pub async fn numbers_its_rows(ctx: &SessionContext, path: &Path) -> Result<bool, Error> {
    let df = scan(ctx, path).await?;
    Ok(df
        .schema()
        .fields()
        .iter()
        .any(|f| f.name() == ROW_COLUMN && f.data_type().is_integer()))
}

/// Sets how the session splits scans, before any table is read: in parallel
/// when every file numbers its rows, else one partition per scan, so that
/// `row_number() OVER ()` follows the file's order.
pub async fn configure(ctx: &SessionContext, parallel: bool) -> Result<(), Error> {
    let partitions = if parallel {
        datafusion::prelude::SessionConfig::new().target_partitions()
    } else {
        1
    };
    for set in [
        format!("SET datafusion.execution.target_partitions = {partitions}"),
        format!("SET datafusion.optimizer.repartition_file_scans = {parallel}"),
    ] {
        ctx.sql(&set).await.map_err(|e| {
            Error::new(
                ErrorKind::Cluster,
                format!("cannot configure the session ({set}): {e}"),
            )
        })?;
    }
    Ok(())
}

/// Registers a Parquet table file and projects its text columns. Call
/// [`configure`] first.
pub async fn read_table(
    ctx: &SessionContext,
    table: Table,
    path: &Path,
) -> Result<TableFrame, Error> {
    let df = scan(ctx, path).await?;
    let fields: Vec<(String, DataType)> = df
        .schema()
        .fields()
        .iter()
        .map(|f| (f.name().clone(), f.data_type().clone()))
        .collect();
    let header: Vec<&str> = fields.iter().map(|(n, _)| n.as_str()).collect();
    let map = match_header(table, &header).map_err(|p| {
        let why = p.describe(table, &header, "columns");
        Error::new(ErrorKind::BadInput, format!("{}: {why}", path.display()))
    })?;
    let specs = columns(table);
    let amount_col = match table {
        Table::Revenue => Some("revenue_usd"),
        Table::Usage => Some("quantity"),
        _ => None,
    };
    let mut exprs: Vec<Expr> = Vec::new();
    let mut scale = 0i8;
    let mut amount: Option<Expr> = None;
    for (spec, idx) in specs.iter().zip(&map.index) {
        let text = match idx {
            Some(i) => {
                let (name, ty) = &fields[*i];
                if !readable(ty) {
                    return Err(Error::new(
                        ErrorKind::BadInput,
                        format!(
                            "{}: column '{name}' has type {ty}, which pcs does not read (use text, a number or a date)",
                            path.display()
                        ),
                    ));
                }
                let text = trim(cast(ident(name.clone()), DataType::Utf8));
                if Some(spec.name) == amount_col {
                    amount = Some(match ty {
                        DataType::Decimal128(_, s) | DataType::Decimal256(_, s) if *s >= 0 => {
                            scale = *s;
                            cast(ident(name.clone()), DataType::Decimal128(38, *s))
                        }
                        t if t.is_integer() => {
                            cast(ident(name.clone()), DataType::Decimal128(38, 0))
                        }
                        _ => {
                            scale = TEXT_SCALE;
                            // Validated before any sum is asked for.
                            cast(text.clone(), DataType::Decimal128(38, TEXT_SCALE))
                        }
                    });
                }
                datafusion::functions::expr_fn::coalesce(vec![text, lit("")])
            }
            None => lit(""),
        };
        exprs.push(text.alias(spec.name));
    }
    if let Some(a) = amount {
        exprs.push(a.alias("amount"));
    }
    let numbered = fields
        .iter()
        .any(|(n, t)| n == ROW_COLUMN && t.is_integer());
    let frame = if numbered {
        exprs.push(cast(ident(ROW_COLUMN), DataType::Int64).alias("row"));
        df.select(exprs)?
    } else {
        // Row numbers in file order: `row_number() OVER ()` over the scan,
        // which `configure` keeps to one partition. DataFusion's
        // `file_row_index()` would be exact without that, but Ballista 55
        // does not carry it to its executors.
        exprs.push(cast(ident("__pcs_row_index"), DataType::Int64).alias("row"));
        let mut scan: Vec<Expr> = fields.iter().map(|(n, _)| ident(n.clone())).collect();
        scan.push(row_number().alias("__pcs_row_index"));
        df.select(scan)?.select(exprs)?
    };
    Ok(TableFrame {
        table,
        path: path.to_path_buf(),
        positions: map.index.iter().map(|i| i.map(|i| i + 1)).collect(),
        frame,
        scale,
    })
}

fn readable(ty: &DataType) -> bool {
    matches!(
        ty,
        DataType::Utf8
            | DataType::Utf8View
            | DataType::LargeUtf8
            | DataType::Int8
            | DataType::Int16
            | DataType::Int32
            | DataType::Int64
            | DataType::UInt8
            | DataType::UInt16
            | DataType::UInt32
            | DataType::UInt64
            | DataType::Float32
            | DataType::Float64
            | DataType::Decimal128(_, _)
            | DataType::Decimal256(_, _)
            | DataType::Date32
            | DataType::Dictionary(_, _)
    )
}

/// The predicate of a valid revenue or usage row (the checks of
/// `pcs_data`'s record reader, as expressions). `text_amount`: the amount
/// column is text and must fit [`TEXT_SCALE`].
pub fn valid_row(table: Table, text_amount: bool) -> Expr {
    let amount = match table {
        Table::Revenue => "revenue_usd",
        _ => "quantity",
    };
    let month = ident("month");
    let mut ok = filled(ident("partner_id"))
        .and(filled(ident("customer_tenant_id")))
        .and(filled(ident("workload")))
        .and(filled(ident("association")))
        .and(matches(month.clone(), MONTH_RE))
        .and(month.not_like(lit("0000-%")))
        .and(matches(ident(amount), DECIMAL_RE));
    if text_amount {
        ok = ok.and(matches(ident(amount), TEXT_AMOUNT_RE));
    }
    if table == Table::Usage {
        ok = ok.and(matches(ident(amount), NEGATIVE_RE).not());
    }
    ok
}

/// Resolution of the names of one table to rulebook ids, as expressions.
pub struct Names<'r> {
    rb: &'r Rulebook,
    keys: pcs_core::rulebook::NameKeys,
}

impl<'r> Names<'r> {
    /// The expressions of a rulebook.
    pub fn new(rb: &'r Rulebook) -> Self {
        Names {
            rb,
            keys: rb.name_keys(),
        }
    }

    /// The association id of column `association` (NULL when unknown).
    pub fn association(&self) -> Expr {
        lookup(normalized(ident("association")), &self.keys.associations)
    }

    /// The performance workload id of column `workload`.
    pub fn revenue_workload(&self) -> Expr {
        lookup(normalized(ident("workload")), &self.keys.revenue_workloads)
    }

    /// The rate-card workload id of column `workload`.
    pub fn usage_workload(&self) -> Expr {
        let w: Vec<(String, u16)> = self
            .keys
            .usage_workloads
            .iter()
            .map(|(k, u)| (k.clone(), u.workload))
            .collect();
        lookup(normalized(ident("workload")), &w)
    }

    /// The rolled-up product of column `workload` (NULL: the workload itself).
    pub fn usage_product(&self) -> Expr {
        let p: Vec<(String, u16)> = self
            .keys
            .usage_workloads
            .iter()
            .filter_map(|(k, u)| u.product.map(|p| (k.clone(), p)))
            .collect();
        lookup(normalized(ident("workload")), &p)
    }

    /// The certification id of column `certification`.
    pub fn certification(&self) -> Expr {
        lookup(
            normalized(ident("certification")),
            &self.keys.certifications,
        )
    }

    /// Whether association `assoc` counts for revenue.
    pub fn revenue_association_counts(&self, assoc: Expr) -> Expr {
        is_in(assoc, self.rb.revenue.associations.iter().map(i64::from))
    }

    /// Rate-card workloads that have a rate.
    pub fn rated(&self, workload: Expr) -> Expr {
        is_in(
            workload,
            self.rb
                .usage
                .workloads
                .iter()
                .enumerate()
                .filter(|(_, w)| w.rate.is_some())
                .map(|(i, _)| i as i64),
        )
    }

    /// Whether association `assoc` counts for usage of `workload` (its
    /// family's association types).
    pub fn usage_association_counts(&self, workload: Expr, assoc: Expr) -> Expr {
        let mut b: Option<datafusion::logical_expr::conditional_expressions::CaseBuilder> = None;
        for (i, w) in self.rb.usage.workloads.iter().enumerate() {
            let set = is_in(
                assoc.clone(),
                self.rb.usage.families[w.family]
                    .associations
                    .iter()
                    .map(i64::from),
            );
            let cond = workload.clone().eq(lit(i as i64));
            b = Some(match b {
                None => when(cond, set),
                Some(mut b) => b.when(cond, set),
            });
        }
        match b {
            Some(mut b) => b.otherwise(lit(false)).expect("branches"),
            None => lit(false),
        }
    }
}
