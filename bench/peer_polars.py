#!/usr/bin/env python3
"""The Polars peer of `pcs score` (Business Applications), beside the DuckDB one.

Usage (with the polars Python package, e.g. bench/.venv/bin/python):
    python bench/peer_polars.py DATASET_DIR --month YYYY-MM [--out FILE]

Written from /work/shared/spec/rules.md and interface.md, independently of pcs,
the way an analyst fluent in Polars would, and kept to the same conventions as
bench/peer.sql (headers and names trimmed, case-folded, ' ' '_' '-' alike; ids
trimmed; exact decimals):

- each table is a lazy scan (`scan_csv` with every column as text, or
  `scan_parquet`) of the columns it needs, picked by normalised header name;
- the month column is trimmed and the rows of the latest and baseline months
  are kept first: only their amounts and quantities are parsed (as
  `Decimal(38, 6)`), and they are summed per partner, tenant, workload,
  association and month on the raw text; every partner id of the table is
  collected in the same plan (`collect_all` shares the scan), so that every
  partner in any row of any table gets a line;
- workload, association and certification names are normalised once per
  distinct text (a few hundred) and mapped with the rulebook's tables below;
- the five metrics, the classification, total and qualification per partner
  in Python's `decimal` (the usage growth percentage an exact integer division
  truncated toward zero), written as JSON lines sorted by partner id.

Does less than pcs (and than peer.sql): no warnings, no explanation, and the
amounts of rows outside the two months are not parsed (so not checked).
Polars runs with its defaults (all cores).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import re
import sys
from decimal import Decimal
from pathlib import Path

import polars as pl

WS = " \t\r\n"
MONEY = pl.Decimal(38, 6)

# ------------------------------------------------------------------ rulebook data
# Per classification: (nca threshold, nca per pair, nca max, intermediate per
# person, intermediate max, advanced per person, advanced full at, advanced
# max, growth baseline minimum, growth max, deployment threshold, deployment
# per pair, deployment max).
RULES = {
    "enterprise": dict(nca_thr=1500, nca_per=3, nca_max=15, int_per=Decimal("1.00"), int_max=20,
                       adv_per=Decimal("2.14"), adv_full=7, adv_max=15, growth_min=50000,
                       growth_max=30, dep_thr=10000, dep_per=4, dep_max=20),
    "smb": dict(nca_thr=250, nca_per=3, nca_max=15, int_per=Decimal("4.00"), int_max=20,
                adv_per=Decimal("7.50"), adv_full=2, adv_max=15, growth_min=25000,
                growth_max=30, dep_thr=5000, dep_per=4, dep_max=20),
}
PAIR_REVENUE_ABOVE = 5000
ENTERPRISE_MIN_PAIRS = 5
MIN_TOTAL = 70

ASSOCIATIONS = {
    "CPOR RevRec": ["CPOR RevRec"],
    "CPOR OSA": ["CPOR OSA"],
    "CPOR RevRec Performance": ["CPOR RevRec Performance"],
    "CSP Tier 1": ["CSP Tier 1"],
    "CSP Tier 2": ["CSP Tier 2"],
    "DPOR": ["DPOR", "Digital Partner of Record"],
    "PAL": ["PAL", "Partner Admin Link"],
    "CPOR OSU": ["CPOR OSU"],
}
PERF_WORKLOADS = {
    "AI Builder": [], "Business Central": [], "CE Bundle": [], "Commerce": [],
    "Customer Insights": [], "Customer Service": [], "F&O Bundle": [], "Field Service": [],
    "Finance": [], "Fraud Protection": [], "HR (Human Resources)": ["HR", "Human Resources"],
    "Intelligent Order Management": [], "Marketing": [], "Mixed Reality": [],
    "Omni Channel": [], "Power Apps": [], "Power Automate": [], "Power BI": [],
    "Power Pages": [], "Power Virtual Agent": ["Power Virtual Agents"],
    "Project Operations": [], "Sales": [], "Supply Chain": [], "Non-workload specific": [],
}
PERF_ASSOCIATIONS = {"CPOR RevRec", "CPOR OSA", "CPOR RevRec Performance", "CSP Tier 1",
                     "CSP Tier 2", "DPOR"}
D365, PPCI = "dynamics_365", "power_platform_and_customer_insights"
# name: (family, rate per unit or None: known, no rate, other spellings and roll-ups)
USAGE_WORKLOADS = {
    "Business Central": (D365, "1000.0", []),
    "Core HR": (D365, "1000.0", []),
    "Customer Engagement": (D365, "200.0", ["Common data service (Customer Engagement)",
                                            "Sales", "Sales Insights", "Customer Service",
                                            "Field Service"]),
    "Customer Insights": (PPCI, "0.2", ["Customer Insights Partner"]),
    "Finance & Operations": (D365, "100.0", ["Finance", "Project Operations"]),
    "Guides": (D365, "1000.0", []),
    "Portals": (PPCI, None, []),
    "Power Apps": (PPCI, "200.0", ["Power App"]),
    "Power Automate": (PPCI, "200.0", []),
    "Power BI": (PPCI, "200.0", []),
    "Remote Assist": (D365, "1000.0", []),
    "Retail": (D365, "100.0", []),
    "Talent Attract": (D365, "1000.0", []),
    "Talent Onboard": (D365, "1000.0", []),
}
FAMILY_ASSOCIATIONS = {
    D365: {"CPOR OSU", "DPOR", "CSP Tier 1", "CSP Tier 2"},
    PPCI: {"PAL"},
}
# (Learn id, full name without the optional prefix, level, last eligible day)
CERTIFICATIONS = [
    ("d365-functional-consultant-financials", "Dynamics 365 Finance Functional Consultant Associate", "intermediate", None),
    ("d365-functional-consultant-commerce", "Dynamics 365 Commerce Functional Consultant Associate", "intermediate", None),
    ("d365-finance-and-operations-apps-developer-associate", "Dynamics 365: Finance and Operations Apps Developer Associate", "intermediate", None),
    ("d365-functional-consultant-supply-chain-management", "Dynamics 365 Supply Chain Management Functional Consultant Associate", "intermediate", None),
    ("d365-functional-consultant-manufacturing", "Dynamics 365 Supply Chain Management, Manufacturing Functional Consultant Associate", "intermediate", None),
    ("d365-functional-consultant-customer-service", "Dynamics 365 Customer Service Functional Consultant Associate", "intermediate", "2024-06-30"),
    ("d365-functional-consultant-sales", "Dynamics 365 Sales Functional Consultant Associate", "intermediate", None),
    ("d365-functional-consultant-field-service", "Dynamics 365 Field Service Functional Consultant Associate", "intermediate", None),
    ("d365-business-central-functional-consultant-associate", "Dynamics 365 Business Central Functional Consultant Associate", "intermediate", None),
    ("d365-functional-consultant-marketing", "Dynamics 365 Marketing Functional Consultant Associate", "intermediate", None),
    ("power-platform-app-maker", "Power Platform App Maker Associate", "intermediate", "2023-11-30"),
    ("data-analyst-associate", "Data Analyst Associate", "intermediate", None),
    ("power-platform-functional-consultant-associate", "Power Platform Functional Consultant Associate", "intermediate", None),
    ("power-platform-developer-associate", "Power Platform Developer Associate", "intermediate", None),
    ("customer-data-platform-specialty", "Customer Data Platform Specialty", "intermediate", None),
    ("azure-enterprise-data-analyst-associate", "Azure Enterprise Data Analyst Associate", "intermediate", None),
    ("power-automate-rpa-developer-associate", "Power Automate RPA Developer Associate", "intermediate", None),
    ("d365-supply-chain-management-functional-consultant-expert", "Dynamics 365 Supply Chain Management Functional Consultant Expert", "advanced", None),
    ("d365-finance-and-operations-apps-solution-architect-expert", "Dynamics 365: Finance and Operations Apps Solution Architect Expert", "advanced", None),
    ("power-apps-and-d365-solution-architect-expert", "Dynamics 365 + Power Platform Solution Architect Expert", "advanced", "2023-06-30"),
    ("power-platform-solution-architect-expert", "Power Platform Solution Architect Expert", "advanced", None),
]

TABLES = {
    "revenue": (["partner_id", "customer_tenant_id", "workload", "month", "revenue_usd", "association"], []),
    "usage": (["partner_id", "customer_tenant_id", "workload", "month", "quantity", "association"], []),
    "certifications": (["partner_id", "person_id", "certification", "earned_on"], ["expires_on"]),
    "partners": (["partner_id"], []),
}


def norm_name(text: str | None) -> str | None:
    """Trimmed, case-folded, '_' and '-' as ' ' (headers and names)."""
    if text is None:
        return None
    return text.strip(WS).lower().replace("_", " ").replace("-", " ")


def keyed(table: dict[str, list[str]]) -> dict[str, str]:
    out = {}
    for name, spellings in table.items():
        for s in [name, *spellings]:
            out[norm_name(s)] = name
    return out


ASSOCIATION_KEY = keyed(ASSOCIATIONS)
PERF_KEY = keyed(PERF_WORKLOADS)
USAGE_KEY = keyed({n: v[2] for n, v in USAGE_WORKLOADS.items()})
CERT_KEY = {}
for _id, _name, _level, _until in CERTIFICATIONS:
    for _s in (_id, _name, "Microsoft Certified: " + _name):
        CERT_KEY[norm_name(_s)] = (_level, dt.date.fromisoformat(_until) if _until else None)


# ------------------------------------------------------------------ the tables

def scan(dataset: Path, table: str) -> pl.LazyFrame | None:
    """The table's needed columns under their canonical names (None when absent).
    CSV columns are text; Parquet columns keep the file's types."""
    required, optional = TABLES[table]
    csv_path, pq_path = dataset / f"{table}.csv", dataset / f"{table}.parquet"
    if csv_path.is_file():
        lf = pl.scan_csv(csv_path, infer_schema=False, quote_char='"', encoding="utf8")
    elif pq_path.is_file():
        lf = pl.scan_parquet(pq_path)
    else:
        return None
    by_norm = {}
    for c in lf.collect_schema().names():
        by_norm.setdefault(norm_name(c), c)
    cols = []
    for want in required + optional:
        have = by_norm.get(want.replace("_", " "))
        if have is None:
            if want in optional:
                cols.append(pl.lit(None, dtype=pl.String).alias(want))
                continue
            raise SystemExit(f"{table}: no column {want!r}")
        cols.append(pl.col(have).alias(want))
    return lf.select(cols)


def text(col: str) -> pl.Expr:
    return pl.col(col).cast(pl.String)


def trimmed(col: str) -> pl.Expr:
    return pl.col(col).cast(pl.String).str.strip_chars(WS)


def decimal(col: str, schema: pl.Schema) -> pl.Expr:
    if schema[col] == pl.String:
        return pl.col(col).str.strip_chars(WS).str.to_decimal(scale=6).cast(MONEY)
    return pl.col(col).cast(MONEY, strict=True)


def date(col: str, schema: pl.Schema) -> pl.Expr:
    if schema[col] in (pl.String, pl.Null):
        s = pl.col(col).cast(pl.String).str.strip_chars(WS)
        return pl.when(s == "").then(None).otherwise(s).str.to_date("%Y-%m-%d", strict=True)
    return pl.col(col).cast(pl.Date)


def pairs_plan(lf: pl.LazyFrame, amount: str, months: list[str]) -> tuple[pl.LazyFrame, pl.LazyFrame]:
    """(sums of the two months' rows per raw partner, tenant, workload,
    association and month; every partner id of the table)."""
    schema = lf.collect_schema()
    month = trimmed("month")
    groups = (
        lf.filter(month.is_in(months))
        .group_by(text("partner_id"), text("customer_tenant_id"), text("workload"),
                  text("association"), month)
        .agg(decimal(amount, schema).sum().alias("amount"))
    )
    parts = lf.select(trimmed("partner_id").alias("partner_id")).unique()
    return groups, parts


def name_map(values: pl.Series, lookup) -> dict[str, object]:
    """Each distinct raw text mapped once through the rulebook's keys."""
    out = {}
    for v in values.unique().to_list():
        if v is not None:
            hit = lookup(norm_name(v))
            if hit is not None:
                out[v] = hit
    return out


# ------------------------------------------------------------------ the score

def previous(month: str, back: int) -> str:
    y, m = int(month[:4]), int(month[5:7])
    k = y * 12 + (m - 1) - back
    return f"{k // 12:04d}-{k % 12 + 1:02d}"


def growth(latest: Decimal, baseline: Decimal) -> Decimal | None:
    """(latest - baseline) / baseline * 100, truncated toward zero to 2 decimals."""
    if baseline == 0:
        return None
    num = int((latest - baseline) * 10_000_000) * 10_000
    den = int(baseline * 10_000_000)
    q = abs(num) // abs(den)
    if (num < 0) != (den < 0):
        q = -q
    return Decimal(q) / 100


def num(d) -> str:
    """A number as JSON text (decimals in positional notation, never 1E+1)."""
    return format(d, "f") if isinstance(d, Decimal) else str(d)


def clamp(v, lo, hi):
    return max(lo, min(hi, v))


def score(dataset: Path, month: str) -> list[str]:
    latest, baseline = previous(month, 1), previous(month, 13)
    y, m = int(month[:4]), int(month[5:7])
    eval_date = (dt.date(y + (m == 12), m % 12 + 1, 1) - dt.timedelta(days=1))
    months = [latest, baseline]

    plans: list[pl.LazyFrame] = []
    rev, use, cer, par = (scan(dataset, t) for t in TABLES)
    if rev is not None:
        plans += pairs_plan(rev, "revenue_usd", months)
    if use is not None:
        plans += pairs_plan(use, "quantity", months)
    if cer is not None:
        schema = cer.collect_schema()
        earned, expires = date("earned_on", schema), date("expires_on", schema)
        held = (earned <= eval_date) & (expires.is_null() | (expires >= eval_date))
        plans.append(cer.filter(held).select(trimmed("partner_id").alias("partner_id"),
                                             trimmed("person_id").alias("person_id"),
                                             text("certification")).unique())
        plans.append(cer.select(trimmed("partner_id").alias("partner_id")).unique())
    if par is not None:
        plans.append(par.select(trimmed("partner_id").alias("partner_id")).unique())
    frames = iter(pl.collect_all(plans))

    partners: set[str] = set()
    nca_counts: dict[str, dict] = {}
    if rev is not None:
        groups, parts = next(frames), next(frames)
        partners.update(parts["partner_id"].drop_nulls().to_list())
        wmap = name_map(groups["workload"], PERF_KEY.get)
        amap = name_map(groups["association"],
                        lambda k: ASSOCIATION_KEY.get(k) if ASSOCIATION_KEY.get(k) in PERF_ASSOCIATIONS else None)
        big = pl.lit(PAIR_REVENUE_ABOVE)
        by_pair = (
            groups.lazy()
            .with_columns(pl.col("workload").replace_strict(wmap, default=None, return_dtype=pl.String),
                          pl.col("association").replace_strict(amap, default=None, return_dtype=pl.String))
            .filter(pl.col("workload").is_not_null() & pl.col("association").is_not_null())
            .with_columns(trimmed("partner_id"), trimmed("customer_tenant_id"))
            .group_by("partner_id", "customer_tenant_id", "workload")
            .agg(latest=pl.col("amount").filter(pl.col("month") == latest).sum(),
                 baseline=pl.col("amount").filter(pl.col("month") == baseline).sum())
            .group_by("partner_id")
            .agg(big=((pl.col("latest") > big) & (pl.col("baseline") > big)).sum(),
                 **{f"{w}_{c}": (pl.col(w) >= RULES[c]["nca_thr"]).sum()
                    for w in ("latest", "baseline") for c in RULES})
            .collect()
        )
        nca_counts = {r["partner_id"]: r for r in by_pair.iter_rows(named=True)}

    usage: dict[str, dict] = {}
    if use is not None:
        groups, parts = next(frames), next(frames)
        partners.update(parts["partner_id"].drop_nulls().to_list())
        wmap = name_map(groups["workload"], lambda k: USAGE_KEY.get(k))
        amap = name_map(groups["association"], ASSOCIATION_KEY.get)
        ok = {(w, a) for w in wmap.values() for a in amap.values()
              if USAGE_WORKLOADS[w][1] is not None and a in FAMILY_ASSOCIATIONS[USAGE_WORKLOADS[w][0]]}
        rates = {w: Decimal(v[1]) for w, v in USAGE_WORKLOADS.items() if v[1] is not None}
        rate_frame = pl.DataFrame({"workload": list(rates), "rate": [str(r) for r in rates.values()]}) \
            .with_columns(pl.col("rate").str.to_decimal(scale=1))
        ok_frame = pl.DataFrame({"workload": [w for w, _ in ok], "association": [a for _, a in ok]},
                                schema={"workload": pl.String, "association": pl.String})
        per_month = (
            groups.lazy()
            .with_columns(pl.col("workload").replace_strict(wmap, default=None, return_dtype=pl.String),
                          pl.col("association").replace_strict(amap, default=None, return_dtype=pl.String))
            .join(ok_frame.lazy(), on=["workload", "association"], how="inner")
            .with_columns(trimmed("partner_id"), trimmed("customer_tenant_id"))
            .group_by("partner_id", "customer_tenant_id", "workload", "month")
            .agg(pl.col("amount").sum().alias("quantity"))
            .join(rate_frame.lazy(), on="workload", how="inner")
            .with_columns(mcv=pl.col("quantity") * pl.col("rate"))
        )
        agg = {}
        for c in RULES:
            thr = pl.col("mcv") >= RULES[c]["dep_thr"]
            agg[f"dep_{c}"] = ((pl.col("month") == latest) & thr).sum().cast(pl.Int64) \
                - ((pl.col("month") == baseline) & thr).sum().cast(pl.Int64)
        agg["latest_mcv"] = pl.col("mcv").filter(pl.col("month") == latest).sum()
        agg["baseline_mcv"] = pl.col("mcv").filter(pl.col("month") == baseline).sum()
        frame = per_month.group_by("partner_id").agg(**agg).collect()
        usage = {r["partner_id"]: r for r in frame.iter_rows(named=True)}

    people: dict[str, dict[str, set]] = {}
    if cer is not None:
        held_rows, parts = next(frames), next(frames)
        partners.update(parts["partner_id"].drop_nulls().to_list())
        cmap = name_map(held_rows["certification"], CERT_KEY.get)
        for pid, person, cert in held_rows.iter_rows():
            hit = cmap.get(cert)
            if hit is None:
                continue
            level, until = hit
            if until is not None and eval_date > until:
                continue
            people.setdefault(pid, {}).setdefault(level, set()).add(person)
    if par is not None:
        partners.update(next(frames)["partner_id"].drop_nulls().to_list())

    lines = []
    zero = Decimal(0)
    for pid in sorted(partners):
        n = nca_counts.get(pid)
        cls = "enterprise" if n is not None and n["big"] >= ENTERPRISE_MIN_PAIRS else "smb"
        r = RULES[cls]
        nca = (n[f"latest_{cls}"] - n[f"baseline_{cls}"]) if n is not None else 0
        held = people.get(pid, {})
        n_int, n_adv = len(held.get("intermediate", ())), len(held.get("advanced", ()))
        u = usage.get(pid)
        latest_mcv = (u["latest_mcv"] or zero) if u else zero
        baseline_mcv = (u["baseline_mcv"] or zero) if u else zero
        dep = u[f"dep_{cls}"] if u else 0
        g = growth(latest_mcv, baseline_mcv)
        pts = {
            "nca": Decimal(clamp(nca * r["nca_per"], 0, r["nca_max"])),
            "int": min(Decimal(r["int_max"]), n_int * r["int_per"]),
            "adv": Decimal(r["adv_max"]) if n_adv >= r["adv_full"] else min(Decimal(r["adv_max"]), n_adv * r["adv_per"]),
            "growth": zero if g is None or baseline_mcv < r["growth_min"] else clamp(g, zero, Decimal(r["growth_max"])),
            "dep": Decimal(clamp(dep * r["dep_per"], 0, r["dep_max"])),
        }
        pts = {k: v.quantize(Decimal("0.01")) for k, v in pts.items()}
        total = sum(pts.values(), zero)
        qualified = total >= MIN_TOTAL and all(v > 0 for v in pts.values())
        metrics = (
            f'{{"net_customer_adds":{{"value":{nca},"points":{num(pts["nca"])},"max_points":{r["nca_max"]}}},'
            f'"intermediate_certifications":{{"value":{n_int},"points":{num(pts["int"])},"max_points":{r["int_max"]}}},'
            f'"advanced_certifications":{{"value":{n_adv},"points":{num(pts["adv"])},"max_points":{r["adv_max"]}}},'
            f'"usage_growth":{{"value":{"null" if g is None else num(g)},"points":{num(pts["growth"])},'
            f'"max_points":{r["growth_max"]},"latest_mcv":{num(latest_mcv)},"baseline_mcv":{num(baseline_mcv)}}},'
            f'"deployments":{{"value":{dep},"points":{num(pts["dep"])},"max_points":{r["dep_max"]}}}}}'
        )
        lines.append(
            f'{{"partner_id":{json.dumps(pid)},"solution_area":"business_applications",'
            f'"month":"{month}","latest_month":"{latest}","baseline_month":"{baseline}",'
            f'"evaluation_date":"{eval_date.isoformat()}","classification":"{cls}",'
            f'"metrics":{metrics},"total_points":{num(total)},"qualified":{"true" if qualified else "false"}}}'
        )
    return lines


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("dataset")
    ap.add_argument("--month", required=True)
    ap.add_argument("--out", default="-", help="the JSON-lines output file (default: stdout)")
    args = ap.parse_args(argv)
    if not re.fullmatch(r"\d{4}-(0[1-9]|1[0-2])", args.month):
        raise SystemExit(f"--month: not YYYY-MM: {args.month!r}")
    lines = score(Path(args.dataset), args.month)
    body = "".join(line + "\n" for line in lines)
    if args.out == "-":
        sys.stdout.write(body)
    else:
        Path(args.out).write_text(body, encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
