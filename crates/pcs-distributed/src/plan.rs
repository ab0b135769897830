//! The DataFusion plan: each table's text columns, name resolution and the
//! rulebook's filters as expressions, built from the rulebook's data.

use std::ops::Not;
use std::path::Path;

use datafusion::arrow::datatypes::DataType;
use datafusion::functions::expr_fn::{regexp_like, regexp_replace};
use datafusion::functions_window::expr_fn::row_number;
use datafusion::logical_expr::{Expr, ExprFunctionExt, SortExpr, cast, ident, lit, try_cast, when};
use datafusion::prelude::{DataFrame, ParquetReadOptions, SessionContext};
use pcs_core::facts::Table;
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
    /// Scale of `amount` (revenue, usage and acr).
    pub scale: i8,
    /// The seats and users columns (licenses) are typed decimals.
    pub whole_decimals: bool,
}

/// Every character of Unicode's White_Space property (what
/// `char::is_whitespace` and so `str::trim` remove).
const WHITE_SPACE: &str = "\u{9}\u{a}\u{b}\u{c}\u{d}\u{20}\u{85}\u{a0}\u{1680}\u{2000}\u{2001}\u{2002}\u{2003}\u{2004}\u{2005}\u{2006}\u{2007}\u{2008}\u{2009}\u{200a}\u{2028}\u{2029}\u{202f}\u{205f}\u{3000}";

/// Rust's `str::trim`: Unicode white space at both ends (`btrim` with
/// those characters: a scan of the ends, where a regular expression cost a
/// match per value).
fn trim(e: Expr) -> Expr {
    datafusion::functions::expr_fn::trim(vec![e, lit(WHITE_SPACE)])
}

/// Whether a text column matches a regular expression.
pub fn matches(e: Expr, re: &str) -> Expr {
    regexp_like(e, lit(re), None)
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
        Table::Acr => Some("acr_usd"),
        _ => None,
    };
    let mut exprs: Vec<Expr> = Vec::new();
    let mut scale = 0i8;
    let mut whole_decimals = false;
    let mut amount: Option<Expr> = None;
    // Seats and users (licenses) as whole numbers, NULL when not one.
    let mut counts: [Option<Expr>; 2] = [None, None];
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
                            // NULL when not a number: such a row is
                            // invalid and stops the run.
                            try_cast(text.clone(), DataType::Decimal128(38, TEXT_SCALE))
                        }
                    });
                }
                if matches!(spec.name, "paid_seats" | "active_users") {
                    let whole = DataType::Decimal128(38, 0);
                    let k = usize::from(spec.name == "active_users");
                    counts[k] = Some(match ty {
                        DataType::Decimal128(_, _) | DataType::Decimal256(_, _) => {
                            whole_decimals = true;
                            try_cast(ident(name.clone()), whole)
                        }
                        t if t.is_integer() => try_cast(ident(name.clone()), whole),
                        _ => try_cast(
                            regexp_replace(text.clone(), lit(r"^\+"), lit(""), None),
                            whole,
                        ),
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
    if table == Table::Licenses {
        for (c, alias) in counts.into_iter().zip(["paid", "active"]) {
            let none = || {
                cast(
                    lit(datafusion::scalar::ScalarValue::Null),
                    DataType::Decimal128(38, 0),
                )
            };
            exprs.push(c.unwrap_or_else(none).alias(alias));
        }
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
        whole_decimals,
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

/// A whole number of 0 or more as text, as `pcs_data` reads seats and users.
const COUNT_RE: &str = r"^\+?[0-9]+$";
/// A decimal column's text of a whole number of 0 or more.
const WHOLE_DECIMAL_RE: &str = r"^[0-9]+(\.0*)?$";

/// The predicate of a valid row of `f` (the checks of `pcs_data`'s record
/// reader that can be made on a column, as expressions; never NULL). The
/// dates of certifications, partners and licenses are checked by the
/// caller, with the native parser.
pub fn valid_row(f: &TableFrame) -> Expr {
    let month_ok = |m: Expr| matches(m.clone(), MONTH_RE).and(m.not_like(lit("0000-%")));
    let text_amount = f.scale == TEXT_SCALE;
    let amount_ok = |name: &str| {
        let mut ok = matches(ident(name), DECIMAL_RE);
        if text_amount {
            ok = ok.and(matches(ident(name), TEXT_AMOUNT_RE));
        }
        ok
    };
    let ok = match f.table {
        Table::Revenue | Table::Usage => {
            let amount = if f.table == Table::Revenue {
                "revenue_usd"
            } else {
                "quantity"
            };
            let mut ok = filled(ident("partner_id"))
                .and(filled(ident("customer_tenant_id")))
                .and(filled(ident("workload")))
                .and(filled(ident("association")))
                .and(month_ok(ident("month")))
                .and(amount_ok(amount));
            if f.table == Table::Usage {
                ok = ok.and(matches(ident(amount), NEGATIVE_RE).not());
            }
            ok
        }
        Table::Acr => filled(ident("partner_id"))
            .and(filled(ident("customer_tenant_id")))
            .and(filled(ident("service")))
            .and(filled(ident("association")))
            .and(month_ok(ident("month")))
            .and(amount_ok("acr_usd")),
        Table::Licenses => {
            let count_ok = |name: &str, value: &str| {
                let re = if f.whole_decimals {
                    WHOLE_DECIMAL_RE
                } else {
                    COUNT_RE
                };
                matches(ident(name), re).and(ident(value).lt_eq(lit(
                    datafusion::scalar::ScalarValue::Decimal128(Some(i128::from(u64::MAX)), 38, 0),
                )))
            };
            filled(ident("partner_id"))
                .and(filled(ident("customer_tenant_id")))
                .and(filled(ident("workload")))
                .and(filled(ident("association")))
                .and(month_ok(ident("month")))
                .and(count_ok("paid_seats", "paid"))
                .and(count_ok("active_users", "active"))
        }
        Table::Certifications | Table::Partners => filled(ident("partner_id")),
    };
    ok.is_true()
}

#[cfg(test)]
mod tests {
    use super::WHITE_SPACE;

    /// The characters `btrim` removes are exactly those `str::trim` removes.
    #[test]
    fn white_space_is_what_str_trim_removes() {
        let all: String = (0..=0x10FFFFu32)
            .filter_map(char::from_u32)
            .filter(|c| c.is_whitespace())
            .collect();
        assert_eq!(WHITE_SPACE, all);
    }
}
