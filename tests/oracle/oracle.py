#!/usr/bin/env python3
"""Independent reference implementation (test oracle) of the Business
Applications partner capability score.

Written from /work/shared/spec/rules.md, /work/shared/spec/interface.md and the
source page only -- never from the Rust code -- so that it can be used to
differential-test `pcs score ... --format jsonl`.

Usage:
    python3 oracle.py DATASET_DIR --month YYYY-MM

Prints one JSON score object per partner (jsonl), sorted by partner_id.
Only CSV tables (revenue.csv, usage.csv, certifications.csv, partners.csv) are
read; a missing table is empty. Inputs are assumed well-formed.

Standard library only. All money / MCV / points arithmetic is decimal.Decimal.
"""

from __future__ import annotations

import argparse
import calendar
import csv
import datetime
import decimal
import json
import sys
from decimal import Decimal
from pathlib import Path

decimal.getcontext().prec = 80

# --------------------------------------------------------------------------
# Name normalisation (project convention): trim, lowercase, ' ' '_' '-' alike.
# Nothing else is normalised.
# --------------------------------------------------------------------------


def norm(text: str) -> str:
    return text.strip().lower().replace(" ", "_").replace("-", "_")


# --------------------------------------------------------------------------
# Rulebook data (Business Applications, June 2023 page)
# --------------------------------------------------------------------------

# Performance (revenue) workloads: canonical name -> accepted spellings.
PERF_WORKLOADS = {
    "AI Builder": [],
    "Business Central": [],
    "CE Bundle": [],
    "Commerce": [],
    "Customer Insights": [],
    "Customer Service": [],
    "F&O Bundle": [],
    "Field Service": [],
    "Finance": [],
    "Fraud Protection": [],
    "HR (Human Resources)": ["HR", "Human Resources"],
    "Intelligent Order Management": [],
    "Marketing": [],
    "Mixed Reality": [],
    "Omni Channel": [],
    "Power Apps": [],
    "Power Automate": [],
    "Power BI": [],
    "Power Pages": [],
    "Power Virtual Agent": ["Power Virtual Agents"],
    "Project Operations": [],
    "Sales": [],
    "Supply Chain": [],
    "Non-workload specific": [],
}
PERF_WORKLOAD_MAP = {}
for _canon, _aliases in PERF_WORKLOADS.items():
    for _n in [_canon] + _aliases:
        PERF_WORKLOAD_MAP[norm(_n)] = _canon

KNOWN_ASSOCIATIONS = [
    "CPOR RevRec", "CPOR OSA", "CPOR RevRec Performance", "CSP Tier 1",
    "CSP Tier 2", "DPOR", "PAL", "CPOR OSU",
]
PERF_ASSOCIATIONS = {norm(a) for a in [
    "CPOR RevRec", "CPOR OSA", "CPOR RevRec Performance", "CSP Tier 1",
    "CSP Tier 2", "DPOR",
]}
D365_USAGE_ASSOCIATIONS = {norm(a) for a in ["CPOR OSU", "DPOR", "CSP Tier 1", "CSP Tier 2"]}
POWER_USAGE_ASSOCIATIONS = {norm(a) for a in ["PAL"]}

# Usage (rate card) workloads: canonical -> (rate or None, family, spellings).
# family "d365" counts with CPOR OSU / DPOR / CSP Tier 1 / CSP Tier 2,
# family "power" (Power Platform + Customer Insights) counts with PAL only.
USAGE_WORKLOADS = {
    "Business Central": (Decimal("1000"), "d365", []),
    "Core HR": (Decimal("1000"), "d365", []),
    "Customer Engagement": (Decimal("200"), "d365", [
        "Common data service (Customer Engagement)",
        # products rolled up into Customer Engagement
        "Sales", "Sales Insights", "Customer Service", "Field Service",
    ]),
    "Customer Insights": (Decimal("0.2"), "power", ["Customer Insights Partner"]),
    "Finance & Operations": (Decimal("100"), "d365", [
        # products rolled up into Finance & Operations
        "Finance", "Project Operations",
    ]),
    "Guides": (Decimal("1000"), "d365", []),
    "Power Apps": (Decimal("200"), "power", ["Power App"]),
    "Power Automate": (Decimal("200"), "power", []),
    "Power BI": (Decimal("200"), "power", []),
    "Remote Assist": (Decimal("1000"), "d365", []),
    "Retail": (Decimal("100"), "d365", []),
    "Talent Attract": (Decimal("1000"), "d365", []),
    "Talent Onboard": (Decimal("1000"), "d365", []),
    # Known, but no rate: rows count for nothing (pcs warns).
    "Portals": (None, "power", []),
}
USAGE_WORKLOAD_MAP = {}
for _canon, (_rate, _fam, _aliases) in USAGE_WORKLOADS.items():
    for _n in [_canon] + _aliases:
        USAGE_WORKLOAD_MAP[norm(_n)] = _canon

CERT_PREFIX = "Microsoft Certified: "
# (name without prefix, Learn id, level, last eligible day or None)
CERTIFICATIONS = [
    ("Dynamics 365 Finance Functional Consultant Associate", "d365-functional-consultant-financials", "intermediate", None),
    ("Dynamics 365 Commerce Functional Consultant Associate", "d365-functional-consultant-commerce", "intermediate", None),
    ("Dynamics 365: Finance and Operations Apps Developer Associate", "d365-finance-and-operations-apps-developer-associate", "intermediate", None),
    ("Dynamics 365 Supply Chain Management Functional Consultant Associate", "d365-functional-consultant-supply-chain-management", "intermediate", None),
    ("Dynamics 365 Supply Chain Management, Manufacturing Functional Consultant Associate", "d365-functional-consultant-manufacturing", "intermediate", None),
    ("Dynamics 365 Customer Service Functional Consultant Associate", "d365-functional-consultant-customer-service", "intermediate", datetime.date(2024, 6, 30)),
    ("Dynamics 365 Sales Functional Consultant Associate", "d365-functional-consultant-sales", "intermediate", None),
    ("Dynamics 365 Field Service Functional Consultant Associate", "d365-functional-consultant-field-service", "intermediate", None),
    ("Dynamics 365 Business Central Functional Consultant Associate", "d365-business-central-functional-consultant-associate", "intermediate", None),
    ("Dynamics 365 Marketing Functional Consultant Associate", "d365-functional-consultant-marketing", "intermediate", None),
    ("Power Platform App Maker Associate", "power-platform-app-maker", "intermediate", datetime.date(2023, 11, 30)),
    ("Data Analyst Associate", "data-analyst-associate", "intermediate", None),
    ("Power Platform Functional Consultant Associate", "power-platform-functional-consultant-associate", "intermediate", None),
    ("Power Platform Developer Associate", "power-platform-developer-associate", "intermediate", None),
    ("Customer Data Platform Specialty", "customer-data-platform-specialty", "intermediate", None),
    ("Azure Enterprise Data Analyst Associate", "azure-enterprise-data-analyst-associate", "intermediate", None),
    ("Power Automate RPA Developer Associate", "power-automate-rpa-developer-associate", "intermediate", None),
    ("Dynamics 365 Supply Chain Management Functional Consultant Expert", "d365-supply-chain-management-functional-consultant-expert", "advanced", None),
    ("Dynamics 365: Finance and Operations Apps Solution Architect Expert", "d365-finance-and-operations-apps-solution-architect-expert", "advanced", None),
    ("Dynamics 365 + Power Platform Solution Architect Expert", "power-apps-and-d365-solution-architect-expert", "advanced", datetime.date(2023, 6, 30)),
    ("Power Platform Solution Architect Expert", "power-platform-solution-architect-expert", "advanced", None),
]
CERT_MAP = {}
for _cert in CERTIFICATIONS:
    _name, _id = _cert[0], _cert[1]
    for _n in (_name, CERT_PREFIX + _name, _id):
        CERT_MAP[norm(_n)] = _cert

# Thresholds and points
CLASSIFICATION_PAIR_REVENUE = Decimal("5000")  # strictly more than, in both months
CLASSIFICATION_MIN_PAIRS = 5
NCA_THRESHOLD = {"enterprise": Decimal("1500"), "smb": Decimal("250")}  # at least
INTERMEDIATE_PER_PERSON = {"enterprise": Decimal("1"), "smb": Decimal("4")}
ADVANCED_PER_PERSON = {"enterprise": Decimal("2.14"), "smb": Decimal("7.5")}
ADVANCED_FULL_AT = {"enterprise": 7, "smb": 2}
GROWTH_PREREQ = {"enterprise": Decimal("50000"), "smb": Decimal("25000")}  # at least
DEPLOYMENT_THRESHOLD = {"enterprise": Decimal("10000"), "smb": Decimal("5000")}  # at least
MAX_POINTS = {
    "net_customer_adds": Decimal(15),
    "intermediate_certifications": Decimal(20),
    "advanced_certifications": Decimal(15),
    "usage_growth": Decimal(30),
    "deployments": Decimal(20),
}
QUALIFY_TOTAL = Decimal(70)

# --------------------------------------------------------------------------
# Reading tables
# --------------------------------------------------------------------------

TABLE_COLUMNS = {
    "revenue": ["partner_id", "customer_tenant_id", "workload", "month", "revenue_usd", "association"],
    "usage": ["partner_id", "customer_tenant_id", "workload", "month", "quantity", "association"],
    "certifications": ["partner_id", "person_id", "certification", "earned_on", "expires_on"],
    "partners": ["partner_id"],
}


def read_table(dataset_dir: Path, name: str) -> list[dict[str, str]]:
    """Rows of NAME.csv as dicts keyed by normalised column name (only the
    columns the oracle uses). Values are trimmed. Missing file -> []."""
    path = Path(dataset_dir) / f"{name}.csv"
    if not path.is_file():
        return []
    with open(path, encoding="utf-8-sig", newline="") as fh:
        reader = csv.reader(fh)
        try:
            header = next(reader)
        except StopIteration:
            return []
        index: dict[str, int] = {}
        for i, col in enumerate(header):
            key = norm(col)
            index.setdefault(key, i)  # first occurrence wins (never generated)
        wanted = TABLE_COLUMNS[name]
        rows = []
        for raw in reader:
            if not raw:
                continue  # blank line
            row = {}
            for col in wanted:
                i = index.get(col)
                row[col] = raw[i].strip() if i is not None and i < len(raw) else ""
            rows.append(row)
        return rows


# --------------------------------------------------------------------------
# Months and dates
# --------------------------------------------------------------------------


def parse_month(text: str) -> tuple[int, int]:
    y, m = text.strip().split("-")
    y, m = int(y), int(m)
    if len(text.strip()) != 7 or not 1 <= m <= 12:
        raise ValueError(f"bad month {text!r}")
    return y, m


def shift_month(ym: tuple[int, int], delta: int) -> tuple[int, int]:
    idx = ym[0] * 12 + (ym[1] - 1) + delta
    return idx // 12, idx % 12 + 1


def fmt_month(ym: tuple[int, int]) -> str:
    return f"{ym[0]:04d}-{ym[1]:02d}"


def last_day(ym: tuple[int, int]) -> datetime.date:
    return datetime.date(ym[0], ym[1], calendar.monthrange(ym[0], ym[1])[1])


# --------------------------------------------------------------------------
# Scoring
# --------------------------------------------------------------------------


def clamp(x: Decimal, lo: Decimal, hi: Decimal) -> Decimal:
    return max(lo, min(hi, x))


def trunc2(x: Decimal) -> Decimal:
    """Truncate toward zero to 2 decimals (exact)."""
    return x.quantize(Decimal("0.01"), rounding=decimal.ROUND_DOWN)


def growth_percent(latest: Decimal, baseline: Decimal) -> Decimal:
    """(latest - baseline) / baseline * 100 truncated toward zero to 2
    decimals, computed exactly (integer division of the exact quotient)."""
    q = ((latest - baseline) * 10000) // baseline  # Decimal // truncates toward 0, exact
    return q / Decimal(100)


def score_dataset(dataset_dir, month: str) -> list[dict]:
    m = parse_month(month)
    latest_ym = shift_month(m, -1)
    baseline_ym = shift_month(m, -13)
    latest, baseline = fmt_month(latest_ym), fmt_month(baseline_ym)
    eval_date = last_day(m)

    revenue = read_table(dataset_dir, "revenue")
    usage = read_table(dataset_dir, "usage")
    certs = read_table(dataset_dir, "certifications")
    partners_rows = read_table(dataset_dir, "partners")

    partners: set[str] = set()
    for table in (revenue, usage, certs, partners_rows):
        for r in table:
            partners.add(r["partner_id"])

    # Revenue per partner -> (tenant, workload, month) -> sum
    rev: dict[str, dict[tuple, Decimal]] = {}
    for r in revenue:
        wl = PERF_WORKLOAD_MAP.get(norm(r["workload"]))
        if wl is None or norm(r["association"]) not in PERF_ASSOCIATIONS:
            continue
        mo = fmt_month(parse_month(r["month"]))
        if mo not in (latest, baseline):
            continue
        key = (r["customer_tenant_id"], wl, mo)
        d = rev.setdefault(r["partner_id"], {})
        d[key] = d.get(key, Decimal(0)) + Decimal(r["revenue_usd"])

    # Usage per partner -> (tenant, rolled-up workload, month) -> quantity sum
    qty: dict[str, dict[tuple, Decimal]] = {}
    for r in usage:
        wl = USAGE_WORKLOAD_MAP.get(norm(r["workload"]))
        if wl is None:
            continue
        rate, family, _ = USAGE_WORKLOADS[wl]
        if rate is None:
            continue  # Portals: known, no rate
        assoc = norm(r["association"])
        allowed = D365_USAGE_ASSOCIATIONS if family == "d365" else POWER_USAGE_ASSOCIATIONS
        if assoc not in allowed:
            continue
        mo = fmt_month(parse_month(r["month"]))
        if mo not in (latest, baseline):
            continue
        key = (r["customer_tenant_id"], wl, mo)
        d = qty.setdefault(r["partner_id"], {})
        d[key] = d.get(key, Decimal(0)) + Decimal(r["quantity"])

    # Certifications held and eligible on D: partner -> level -> set(person)
    people: dict[str, dict[str, set]] = {}
    for r in certs:
        cert = CERT_MAP.get(norm(r["certification"]))
        if cert is None:
            continue
        _name, _id, level, window_end = cert
        earned = datetime.date.fromisoformat(r["earned_on"])
        expires = datetime.date.fromisoformat(r["expires_on"]) if r["expires_on"] else None
        if earned > eval_date:
            continue
        if expires is not None and expires < eval_date:
            continue
        if window_end is not None and eval_date > window_end:
            continue
        people.setdefault(r["partner_id"], {"intermediate": set(), "advanced": set()})[level].add(r["person_id"])

    out = []
    for pid in sorted(partners):
        prev = rev.get(pid, {})
        # classification
        big_pairs = 0
        pair_keys = {(t, w) for (t, w, _mo) in prev}
        for (t, w) in pair_keys:
            if (prev.get((t, w, latest), Decimal(0)) > CLASSIFICATION_PAIR_REVENUE
                    and prev.get((t, w, baseline), Decimal(0)) > CLASSIFICATION_PAIR_REVENUE):
                big_pairs += 1
        cls = "enterprise" if big_pairs >= CLASSIFICATION_MIN_PAIRS else "smb"

        # net customer adds
        thr = NCA_THRESHOLD[cls]
        q_latest = sum(1 for (t, w, mo), v in prev.items() if mo == latest and v >= thr)
        q_base = sum(1 for (t, w, mo), v in prev.items() if mo == baseline and v >= thr)
        nca_value = Decimal(q_latest - q_base)
        nca_points = clamp(3 * nca_value, Decimal(0), MAX_POINTS["net_customer_adds"])

        # skilling
        pp = people.get(pid, {"intermediate": set(), "advanced": set()})
        n_int = len(pp["intermediate"])
        n_adv = len(pp["advanced"])
        int_points = min(INTERMEDIATE_PER_PERSON[cls] * n_int, MAX_POINTS["intermediate_certifications"])
        if n_adv >= ADVANCED_FULL_AT[cls]:
            adv_points = MAX_POINTS["advanced_certifications"]
        else:
            adv_points = min(ADVANCED_PER_PERSON[cls] * n_adv, MAX_POINTS["advanced_certifications"])

        # customer success
        pq = qty.get(pid, {})
        mcv = {k: v * USAGE_WORKLOADS[k[1]][0] for k, v in pq.items()}
        latest_mcv = sum((v for (t, w, mo), v in mcv.items() if mo == latest), Decimal(0))
        baseline_mcv = sum((v for (t, w, mo), v in mcv.items() if mo == baseline), Decimal(0))
        if baseline_mcv == 0:
            growth_value = None
        else:
            growth_value = growth_percent(latest_mcv, baseline_mcv)
        if growth_value is None or baseline_mcv < GROWTH_PREREQ[cls]:
            growth_points = Decimal(0)
        else:
            growth_points = clamp(trunc2(growth_value), Decimal(0), MAX_POINTS["usage_growth"])

        dthr = DEPLOYMENT_THRESHOLD[cls]
        d_latest = sum(1 for (t, w, mo), v in mcv.items() if mo == latest and v >= dthr)
        d_base = sum(1 for (t, w, mo), v in mcv.items() if mo == baseline and v >= dthr)
        dep_value = Decimal(d_latest - d_base)
        dep_points = clamp(4 * dep_value, Decimal(0), MAX_POINTS["deployments"])

        all_points = [nca_points, int_points, adv_points, growth_points, dep_points]
        total = sum(all_points, Decimal(0))
        qualified = total >= QUALIFY_TOTAL and all(p > 0 for p in all_points)

        out.append({
            "partner_id": pid,
            "solution_area": "business_applications",
            "month": fmt_month(m),
            "latest_month": latest,
            "baseline_month": baseline,
            "evaluation_date": eval_date.isoformat(),
            "classification": cls,
            "metrics": {
                "net_customer_adds": {"value": nca_value, "points": nca_points,
                                      "max_points": MAX_POINTS["net_customer_adds"]},
                "intermediate_certifications": {"value": Decimal(n_int), "points": int_points,
                                                "max_points": MAX_POINTS["intermediate_certifications"]},
                "advanced_certifications": {"value": Decimal(n_adv), "points": adv_points,
                                            "max_points": MAX_POINTS["advanced_certifications"]},
                "usage_growth": {"value": growth_value, "points": growth_points,
                                 "max_points": MAX_POINTS["usage_growth"],
                                 "latest_mcv": latest_mcv, "baseline_mcv": baseline_mcv},
                "deployments": {"value": dep_value, "points": dep_points,
                                "max_points": MAX_POINTS["deployments"]},
            },
            "total_points": total,
            "qualified": qualified,
        })
    return out


# --------------------------------------------------------------------------
# JSON output: Decimals as JSON numbers (integral -> int, else plain text)
# --------------------------------------------------------------------------


def fmt_decimal(d: Decimal) -> str:
    if d == d.to_integral_value():
        return str(int(d))
    return format(d.normalize(), "f")


def dumps(o) -> str:
    if o is None:
        return "null"
    if o is True:
        return "true"
    if o is False:
        return "false"
    if isinstance(o, Decimal):
        return fmt_decimal(o)
    if isinstance(o, int):
        return str(o)
    if isinstance(o, str):
        return json.dumps(o, ensure_ascii=False)
    if isinstance(o, dict):
        return "{" + ", ".join(json.dumps(k) + ": " + dumps(v) for k, v in o.items()) + "}"
    if isinstance(o, (list, tuple)):
        return "[" + ", ".join(dumps(v) for v in o) + "]"
    raise TypeError(type(o))


def score_jsonl(dataset_dir, month: str) -> str:
    return "".join(dumps(obj) + "\n" for obj in score_dataset(dataset_dir, month))


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("dataset_dir")
    ap.add_argument("--month", required=True, help="YYYY-MM")
    args = ap.parse_args(argv)
    sys.stdout.write(score_jsonl(Path(args.dataset_dir), args.month))
    return 0


if __name__ == "__main__":
    sys.exit(main())
