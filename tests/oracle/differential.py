#!/usr/bin/env python3
"""Differential test: `pcs score` against the independent Python oracle.

Usage:
    python3 differential.py --pcs PATH_TO_PCS [--seeds 0-49] [--keep DIR] [--partners K]
    python3 differential.py --self-test

For each seed, gen_random.py writes a dataset, `PCS score DIR --month M
--format jsonl` and oracle.py score it, and every required field of every
partner's score object is compared (numbers as Decimal, so 15 == 15.0).
Prints the first mismatches and a last line `N passed, M failed` (seeds);
exit status 1 on any mismatch.

--self-test checks the oracle itself against small hand-built datasets whose
expected scores were computed by hand from rules.md.
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
from decimal import Decimal
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import gen_random  # noqa: E402
import oracle  # noqa: E402

TOP_FIELDS = ["solution_area", "month", "latest_month", "baseline_month", "evaluation_date",
              "classification", "total_points", "qualified"]
METRIC_FIELDS = {
    "net_customer_adds": ["value", "points", "max_points"],
    "intermediate_certifications": ["value", "points", "max_points"],
    "advanced_certifications": ["value", "points", "max_points"],
    "usage_growth": ["value", "points", "max_points", "latest_mcv", "baseline_mcv"],
    "deployments": ["value", "points", "max_points"],
}
MISSING = object()


def parse_jsonl(text: str) -> list[dict]:
    out = []
    for i, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        try:
            out.append(json.loads(line, parse_float=Decimal, parse_int=Decimal))
        except json.JSONDecodeError as e:
            raise ValueError(f"line {i} is not JSON: {e}: {line[:200]!r}")
    return out


def same(a, b) -> bool:
    if a is MISSING or b is MISSING:
        return False
    if isinstance(a, bool) or isinstance(b, bool):
        return type(a) is type(b) and a == b
    if a is None or b is None:
        return a is None and b is None
    if isinstance(a, Decimal) and isinstance(b, Decimal):
        return a == b
    return type(a) is type(b) and a == b


def show(v) -> str:
    if v is MISSING:
        return "<missing>"
    if isinstance(v, Decimal):
        return oracle.fmt_decimal(v)
    return json.dumps(v)


def get(obj, *path):
    for p in path:
        if not isinstance(obj, dict) or p not in obj:
            return MISSING
        obj = obj[p]
    return obj


def compare(actual: list[dict], expected: list[dict]) -> list[tuple[str, str, str, str]]:
    """Mismatches as (partner, field, actual, expected)."""
    diffs = []
    a_ids = [get(o, "partner_id") for o in actual]
    e_ids = [o["partner_id"] for o in expected]
    if a_ids != e_ids:
        a_set, e_set = set(map(str, a_ids)), set(e_ids)
        for pid in sorted(e_set - a_set):
            diffs.append((pid, "<partner line>", "<missing>", "present"))
        for pid in sorted(a_set - e_set):
            diffs.append((pid, "<partner line>", "present", "<absent>"))
        a_common = [p for p in a_ids if p in e_set]
        e_common = [p for p in e_ids if p in a_set]
        if a_common != e_common:
            diffs.append(("*", "<partner order>", ",".join(map(str, a_common)), ",".join(e_common)))
        if len(a_ids) != len(set(map(str, a_ids))):
            diffs.append(("*", "<duplicate partner lines>", str(len(a_ids)), str(len(e_ids))))
    by_id = {}
    for o in actual:
        by_id.setdefault(get(o, "partner_id"), o)
    for e in expected:
        pid = e["partner_id"]
        a = by_id.get(pid)
        if a is None:
            continue
        for f in TOP_FIELDS:
            av, ev = get(a, f), get(e, f)
            if not same(av, ev):
                diffs.append((pid, f, show(av), show(ev)))
        for m, fields in METRIC_FIELDS.items():
            for f in fields:
                av, ev = get(a, "metrics", m, f), get(e, "metrics", m, f)
                if not same(av, ev):
                    diffs.append((pid, f"metrics.{m}.{f}", show(av), show(ev)))
    return diffs


def parse_seeds(spec: str) -> list[int]:
    seeds: list[int] = []
    for part in spec.split(","):
        part = part.strip()
        if not part:
            continue
        if "-" in part[1:]:
            lo, hi = part.split("-", 1)
            seeds.extend(range(int(lo), int(hi) + 1))
        else:
            seeds.append(int(part))
    return seeds


def run_seed(pcs: str, seed: int, workdir: Path, partners: int | None):
    """Returns (ok, lines of report)."""
    month = gen_random.generate(workdir, seed, partners)
    cmd = [pcs, "score", str(workdir), "--month", month, "--format", "jsonl",
           "--area", "business_applications"]
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
    except (OSError, subprocess.TimeoutExpired) as e:
        return False, [f"seed {seed}: could not run {' '.join(cmd)}: {e}"]
    expected_text = oracle.score_jsonl(workdir, month)
    (workdir / "oracle.jsonl").write_text(expected_text)
    (workdir / "pcs.jsonl").write_text(proc.stdout)
    (workdir / "pcs.stderr").write_text(proc.stderr)
    if proc.returncode != 0:
        tail = proc.stderr.strip().splitlines()[-5:]
        return False, [f"seed {seed} (month {month}): pcs exited {proc.returncode}"] + \
            [f"    stderr: {t}" for t in tail]
    try:
        actual = parse_jsonl(proc.stdout)
    except ValueError as e:
        return False, [f"seed {seed} (month {month}): pcs output: {e}"]
    expected = parse_jsonl(expected_text)
    diffs = compare(actual, expected)
    if not diffs:
        return True, []
    lines = [f"seed {seed} (month {month}): {len(diffs)} mismatch(es)"]
    for pid, field, av, ev in diffs:
        lines.append(f"    partner {pid}  {field}: pcs={av} oracle={ev}")
    return False, lines


def differential(args) -> int:
    pcs = args.pcs
    if not (Path(pcs).is_file() or shutil.which(pcs)):
        print(f"pcs binary not found: {pcs}", file=sys.stderr)
        return 2
    seeds = parse_seeds(args.seeds)
    passed = failed = 0
    printed = 0
    for seed in seeds:
        if args.keep:
            workdir = Path(args.keep) / f"seed-{seed}"
            if workdir.exists():
                shutil.rmtree(workdir)
            workdir.mkdir(parents=True)
            tmp = None
        else:
            tmp = tempfile.TemporaryDirectory(prefix=f"pcs-diff-{seed}-")
            workdir = Path(tmp.name)
        try:
            ok, lines = run_seed(pcs, seed, workdir, args.partners)
        finally:
            if tmp is not None:
                tmp.cleanup()
        if ok:
            passed += 1
        else:
            failed += 1
            for line in lines:
                if printed < args.max_lines:
                    print(line)
                printed += 1
    if printed > args.max_lines:
        print(f"... {printed - args.max_lines} more report line(s) not shown")
    print(f"{passed} passed, {failed} failed")
    return 0 if failed == 0 else 1


# ---------------------------------------------------------------------------
# Self-test: hand-built datasets, expected values computed by hand.
# ---------------------------------------------------------------------------

DATASET_A = {  # month 2023-11: latest 2023-10, baseline 2022-10, D = 2023-11-30
    "revenue": """\
notes,PARTNER-ID,Customer Tenant ID,Workload,Month,revenue_USD,Association,Channel
x,1000001,tA,Sales,2023-10,6000,CPOR RevRec,EA
x,1000001,tA,Sales,2022-10,6000.00,CPOR RevRec,EA
"a, b",1000001,tB,power_bi,2023-10,5000.01,csp_tier_1,CSP
,1000001,tB,POWER-BI,2022-10,3000,DPOR,Web Direct
,1000001,tB,Power BI,2022-10,2000.01,DPOR,Web Direct
,1000001,tC,Finance,2023-10,7000,CPOR OSA,
,1000001,tC,Finance,2022-10,7000,CPOR OSA,
,1000001,tD,HR,2023-10,5500,cpor revrec performance,
,1000001,tD,Human Resources,2022-10,5500,DPOR,
,1000001,tE,Power Virtual Agents,2023-10,8000,CSP Tier 2,
,1000001,tE,power virtual agent,2022-10,8000,CSP-Tier-2,
,1000001,tF,Marketing,2023-10,1500,DPOR,
,1000001,tF,Marketing,2022-10,1499.99,DPOR,
,1000001,tG,Commerce,2023-10,1000,DPOR,
,1000001,tG,Commerce,2023-10,600,DPOR,
,1000001,tG,Commerce,2023-10,-100.01,DPOR,
,1000001,tH,Sales,2023-10,9000,PAL,
,1000001,tH,Azure,2023-10,9000,DPOR,
,1000001,tI,Supply Chain,2023-11,9000,DPOR,
,2000002,t1,Sales,2023-10,5000.01,CPOR RevRec,
,2000002,t1,Sales,2022-10,5000.01,CPOR RevRec,
,2000002,t2,Marketing,2023-10,5000.01,CPOR RevRec,
,2000002,t2,Marketing,2022-10,5000.01,CPOR RevRec,
,2000002,t3,Commerce,2023-10,6000,CPOR RevRec,
,2000002,t3,Commerce,2022-10,6000,CPOR RevRec,
,2000002,t4,AI Builder,2023-10,7000,CPOR RevRec,
,2000002,t4,AI Builder,2022-10,7000,CPOR RevRec,
,2000002,t5,Field Service,2023-10,2500,CPOR RevRec,
,2000002,t5,Field Service,2023-10,2500.00,CPOR RevRec,
,2000002,t5,Field Service,2022-10,6000,DPOR,
,2000002,t11,Supply Chain,2023-10,6000,DPOR,
,2000002,t11,Supply Chain,2022-10,4000,DPOR,
,2000002,t11,Supply Chain,2022-10,1000,DPOR,
,2000002,t6,Power Apps,2023-10,250,DPOR,
,2000002,t6,Power Apps,2022-10,249.99,DPOR,
,2000002,t7,HR,2023-10,100,DPOR,
,2000002,t7,Human Resources,2023-10,150,DPOR,
,2000002,t7,HR (Human Resources),2023-10,0,DPOR,
,2000002,t8,power virtual agents,2023-10,400,DPOR,
,2000002,t9,Non-workload specific,2023-10,250,DPOR,
,2000002,t10,F&O Bundle,2023-10,300,CSP Tier 2,
,5000005,tq,Sales,2023-09,9000,DPOR,
,6000006,tz,Sales,2022-10,300,DPOR,
""",
    "usage": """\
MONTH,quantity,Workload,ASSOCIATION,partner id,Customer_Tenant_ID,customer name
2022-10,50,Business Central,DPOR,1000001,tA,"Contoso, Ltd."
2023-10,36.173,business central,CSP Tier 1,1000001,tA,"Contoso, Ltd."
2023-10,50,Power BI,PAL,1000001,tB,x
2023-10,20,Sales,CPOR OSU,1000001,tC,x
2023-10,29.999,Customer Service,csp-tier-2,1000001,tC,x
2023-10,100,Power BI,DPOR,1000001,tD,x
2023-10,1000,Portals,PAL,1000001,tE,x
2023-10,10,Azure,DPOR,1000001,tE,x
2023-11,100,Business Central,DPOR,1000001,tA,x
2022-10,25,Business Central,DPOR,2000002,t1,x
2023-10,25,BUSINESS_CENTRAL,dpor,2000002,t1,x
2023-10,25000,Customer Insights Partner,PAL,2000002,t2,x
2023-10,24.999,Power App,pal,2000002,t3,x
2022-10,124.999,Power BI,PAL,999,u1,x
2023-10,150,power-bi,PAL,999,u1,x
2022-10,30,Business Central,DPOR,6000006,tz,x
2023-10,263.457,Retail,CPOR OSU,6000006,tz,x
""",
    "certifications": """\
Partner Id,Person_ID,Certification,Earned-On,EXPIRES ON,person_name
1000001,a1,Power Platform Solution Architect Expert,2022-01-01,,"Lee, Ann"
1000001,a2,power-platform-solution-architect-expert,2023-01-01,2024-01-01,
1000001,a3,Microsoft Certified: Dynamics 365: Finance and Operations Apps Solution Architect Expert,2021-05-05,,
1000001,a4,d365-supply-chain-management-functional-consultant-expert,2023-11-30,,
1000001,a5,DYNAMICS 365 SUPPLY CHAIN MANAGEMENT FUNCTIONAL CONSULTANT EXPERT,2020-01-01,2023-11-30,
1000001,a6,power_platform_solution_architect_expert,2022-02-02,,
1000001,a7,Power Platform Solution Architect Expert,2022-02-02,,
1000001,a7,d365-finance-and-operations-apps-solution-architect-expert,2022-02-02,,
1000001,a8,power-apps-and-d365-solution-architect-expert,2022-01-01,,
1000001,a9,Power Platform Solution Architect Expert,2023-12-01,,
1000001,i1,data-analyst-associate,2022-01-01,,
1000001,i2,Microsoft Certified: Power Platform Developer Associate,2022-01-01,,
1000001,a1,Dynamics 365 Sales Functional Consultant Associate,2022-01-01,,
1000001,i3,Power Platform App Maker Associate,2022-01-01,,
1000001,i4,Data Analyst Associate,2021-01-01,2023-11-29,
1000001,i5,AZ-900 Fundamentals,2022-01-01,,
1000001,i6,Microsoft Certified:Data Analyst Associate,2022-01-01,,
2000002,b1,Dynamics 365 Customer Service Functional Consultant Associate,2022-05-01,,
2000002,b2,power-platform-app-maker,2023-01-01,,
2000002,b3,"Microsoft Certified: Dynamics 365 Supply Chain Management, Manufacturing Functional Consultant Associate",2023-02-02,,
2000002,c1,d365-finance-and-operations-apps-solution-architect-expert,2023-01-01,,
2000002,c2,Dynamics 365 Supply Chain Management Functional Consultant Expert,2023-01-01,,
2000002,c3,power-apps-and-d365-solution-architect-expert,2023-01-01,,
4000004,z1,Power Platform Functional Consultant Associate,2023-12-01,,
4000004,z2,data analyst associate,2020-01-01,2023-11-29,
""",
    "partners": """\
partner_id,name,anniversary_date
3000003,"Trey Research, Inc.",2024-03-01
1000001,Alpha,
""",
}

CERTS_BC = """\
partner_id,person_id,certification,earned_on,expires_on
P1,p1,d365-functional-consultant-customer-service,2022-01-01,
P1,p2,power-platform-app-maker,2022-01-01,
P1,p3,Data Analyst Associate,2022-01-01,2024-07-31
P1,p4,Power Platform Solution Architect Expert,2024-07-31,
"""


def _dataset_d() -> dict:
    rev = ["partner_id,customer_tenant_id,workload,month,revenue_usd,association"]
    for i in range(1, 6):
        rev.append(f"E2,e{i},Sales,2023-12,5000.01,DPOR")
        rev.append(f"E2,e{i},Sales,2022-12,5000.01,DPOR")
    rev.append("E2,e6,Marketing,2023-12,9000,DPOR")
    rev.append("E2,e6,Marketing,2022-12,4000,DPOR")
    for i in range(1, 7):
        rev.append(f"E2,k{i},Power Apps,2023-12,1500,CSP Tier 1")
    rev.append("P2,t,Sales,2023-12,250,DPOR")
    use = ["partner_id,customer_tenant_id,workload,month,quantity,association"]
    for i in range(1, 7):
        use.append(f"E2,f{i},Finance & Operations,2022-12,99.999,DPOR")
        use.append(f"E2,g{i},Business Central,2023-12,13,DPOR")
    cert = ["partner_id,person_id,certification,earned_on,expires_on"]
    for i in range(25):
        cert.append(f"E2,int{i},data-analyst-associate,2020-01-01,")
    for i in range(6):
        cert.append(f"E2,adv{i},Power Platform Solution Architect Expert,2020-01-01,")
    for i in range(6):
        cert.append(f"P2,int{i},Power Platform Developer Associate,2020-01-01,")
    cert.append("P2,adv0,Power Platform Solution Architect Expert,2020-01-01,")
    for p in ("a", "b", "c"):
        cert.append(f"P3,{p},power-platform-solution-architect-expert,2020-01-01,")
    return {"revenue": "\n".join(rev) + "\n", "usage": "\n".join(use) + "\n",
            "certifications": "\n".join(cert) + "\n"}


def _exp(pid, month, latest, baseline, d, cls, nca, inter, adv, growth, dep, total, qualified):
    D = lambda x: None if x is None else Decimal(str(x))  # noqa: E731
    return {
        "partner_id": pid, "solution_area": "business_applications", "month": month,
        "latest_month": latest, "baseline_month": baseline, "evaluation_date": d,
        "classification": cls,
        "metrics": {
            "net_customer_adds": {"value": D(nca[0]), "points": D(nca[1]), "max_points": D(15)},
            "intermediate_certifications": {"value": D(inter[0]), "points": D(inter[1]), "max_points": D(20)},
            "advanced_certifications": {"value": D(adv[0]), "points": D(adv[1]), "max_points": D(15)},
            "usage_growth": {"value": D(growth[0]), "points": D(growth[1]), "max_points": D(30),
                             "latest_mcv": D(growth[2]), "baseline_mcv": D(growth[3])},
            "deployments": {"value": D(dep[0]), "points": D(dep[1]), "max_points": D(20)},
        },
        "total_points": D(total), "qualified": qualified,
    }


def _zero(pid, month, latest, baseline, d, nca=(0, 0), growth=(None, 0, 0, 0)):
    return _exp(pid, month, latest, baseline, d, "smb", nca, (0, 0), (0, 0), growth, (0, 0), 0, False)


def self_test_cases():
    A = ("2023-11", "2023-10", "2022-10", "2023-11-30")
    B = ("2024-07", "2024-06", "2023-06", "2024-07-31")
    C = ("2024-06", "2024-05", "2023-05", "2024-06-30")
    D = ("2024-01", "2023-12", "2022-12", "2024-01-31")
    return [
        ("A: enterprise/SMB, boundaries, aliases, credits, cert dates (2023-11)", DATASET_A, A[0], [
            # Enterprise: 5 pairs > $5,000 both months (HR/Human Resources and
            # Power Virtual Agent(s) are one workload each). NCA: latest 6
            # (tF at exactly 1500; tG 1000+600-100.01 = 1499.99 does not),
            # baseline 5 -> +1 -> 3 points. Advanced: a1-a7 (a4 earned on D,
            # a5 expires on D; a8 retired, a9 earned after D) -> 7 -> 15.
            # Intermediate: i1, i2, a1, i3 (App Maker on its last day) -> 4.
            # Usage: baseline 50,000 (exactly the Enterprise prerequisite);
            # latest 36,173 + 10,000 + CE (20+29.999)*200 = 9,999.8 -> 56,172.8;
            # growth 12.3456 -> 12.34 (truncated). Deployments >= 10,000:
            # latest 2 (10,000 exactly counts), baseline 1 -> 4 points.
            _exp("1000001", *A, "enterprise", (1, 3), (4, 4), (7, 15),
                 ("12.34", "12.34", "56172.8", 50000), (1, 4), "38.34", False),
            # SMB: 4 pairs > $5,000 in both months; t5 (exactly 5000 latest,
            # 6000 baseline) and t11 (6000 latest, 4000+1000 = 5000 baseline)
            # are not more than $5,000 in both -> SMB.
            # NCA >= 250: latest t1..t11 = 11 (t6 250, t7 100+150+0);
            # baseline t1..t5, t11 = 6 (t6 249.99 not) -> 5 -> 15.
            # Intermediate 3 (b1 Customer Service still eligible, b2 App Maker
            # on its last day, b3 with a comma) -> 12. Advanced 2 -> 15.
            # Usage: baseline 25,000 exactly (SMB prerequisite met); latest
            # 25,000 + 25,000*0.2 + 24.999*200 = 34,999.8 -> 39.9992 -> 39.99,
            # points 30. Deployments >= 5,000: latest 2, baseline 1 -> 4.
            _exp("2000002", *A, "smb", (5, 15), (3, 12), (2, 15),
                 ("39.99", 30, "34999.8", 25000), (1, 4), 76, True),
            _zero("3000003", *A),  # only in partners.csv
            _zero("4000004", *A),  # earned after D / expired before D
            _zero("5000005", *A),  # revenue only in another month
            # baseline 30,000, latest 263.457*100 = 26,345.7 -> -12.181 -> -12.18
            # (toward zero); NCA baseline 1 latest 0 -> -1 -> 0 points.
            _zero("6000006", *A, nca=(-1, 0), growth=("-12.18", 0, "26345.7", 30000)),
            # baseline 124.999*200 = 24,999.8 < 25,000: no growth points;
            # value 5000.2/24999.8*100 = 20.0009... -> 20. Deployments 1 - 1 = 0.
            _zero("999", *A, growth=(20, 0, 30000, "24999.8")),
        ]),
        ("B: retired certifications the month after their window (2024-07)",
         {"certifications": CERTS_BC}, B[0], [
             # p1 Customer Service (ended 2024-06-30) and p2 App Maker do not
             # count; p3 expires on D counts; p4 earned on D counts.
             _exp("P1", *B, "smb", (0, 0), (1, 4), (1, "7.5"), (None, 0, 0, 0), (0, 0), "11.5", False),
         ]),
        ("C: Customer Service on its last eligible day (2024-06)",
         {"certifications": CERTS_BC}, C[0], [
             # p1 counts (D = 2024-06-30), p3 counts, p2 not, p4 earned after D.
             _exp("P1", *C, "smb", (0, 0), (2, 8), (0, 0), (None, 0, 0, 0), (0, 0), 8, False),
         ]),
        ("D: caps and year wrap (2024-01)", _dataset_d(), D[0], [
            # Enterprise (5 pairs at 5,000.01 both months). NCA latest 12,
            # baseline 6 -> 6 -> 18 -> 15. Intermediate 25 -> capped 20.
            # Advanced 6 x 2.14 = 12.84. Usage baseline 6 x 9,999.9 = 59,999.4
            # (no deployment), latest 6 x 13,000 = 78,000 -> 30.0013 -> 30.
            # Deployments 6 - 0 -> 24 -> 20. Total 97.84, qualified.
            _exp("E2", *D, "enterprise", (6, 15), (25, 20), (6, "12.84"),
                 (30, 30, 78000, "59999.4"), (6, 20), "97.84", True),
            # SMB: 6 intermediate -> 24 -> 20, 1 advanced -> 7.5, NCA +1 -> 3.
            _exp("P2", *D, "smb", (1, 3), (6, 20), (1, "7.5"), (None, 0, 0, 0), (0, 0), "30.5", False),
            # SMB: 3 advanced -> 15 (cap).
            _exp("P3", *D, "smb", (0, 0), (0, 0), (3, 15), (None, 0, 0, 0), (0, 0), 15, False),
        ]),
    ]


def self_test() -> int:
    failures = 0
    checks = 0
    for title, tables, month, expected in self_test_cases():
        with tempfile.TemporaryDirectory(prefix="oracle-selftest-") as tmp:
            for name, text in tables.items():
                (Path(tmp) / f"{name}.csv").write_text(text, encoding="utf-8")
            actual = parse_jsonl(oracle.score_jsonl(tmp, month))
        diffs = compare(actual, expected)
        n = len(expected) * (len(TOP_FIELDS) + sum(len(f) for f in METRIC_FIELDS.values()) + 1)
        checks += n
        failures += len(diffs)
        print(f"{'ok  ' if not diffs else 'FAIL'} {title} ({len(expected)} partners, {n} field checks)")
        for pid, field, av, ev in diffs:
            print(f"    partner {pid}  {field}: oracle={av} expected={ev}")
    # formatting of numbers in the output
    fmt_cases = [("15.00", "15"), ("6.420", "6.42"), ("-0.00", "0"), ("70350.0", "70350"),
                 ("0.0002", "0.0002"), ("-12.18", "-12.18")]
    for src, want in fmt_cases:
        checks += 1
        got = oracle.fmt_decimal(Decimal(src))
        if got != want:
            failures += 1
            print(f"FAIL fmt_decimal({src}) = {got}, expected {want}")
    # generator determinism
    checks += 1
    with tempfile.TemporaryDirectory() as t1, tempfile.TemporaryDirectory() as t2:
        gen_random.generate(t1, 7)
        gen_random.generate(t2, 7)
        for f in sorted(Path(t1).iterdir()):
            if f.read_bytes() != (Path(t2) / f.name).read_bytes():
                failures += 1
                print(f"FAIL generator not deterministic: {f.name}")
                break
    print(f"self-test: {checks - failures} of {checks} checks passed, {failures} failed")
    return 0 if failures == 0 else 1


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description="Differential test of pcs against the Python oracle.")
    ap.add_argument("--pcs", help="path to the pcs binary")
    ap.add_argument("--seeds", default="0-49", help="e.g. 0-49 or 1,5,9-12 (default 0-49)")
    ap.add_argument("--keep", metavar="DIR", help="keep each dataset and both outputs in DIR/seed-N")
    ap.add_argument("--partners", type=int, default=None, help="partners per dataset (default: random 4-9)")
    ap.add_argument("--max-lines", type=int, default=60, help="report lines to print (default 60)")
    ap.add_argument("--self-test", action="store_true", help="check the oracle on hand-built datasets")
    args = ap.parse_args(argv)
    if args.self_test:
        return self_test()
    if not args.pcs:
        ap.error("--pcs is required (or use --self-test)")
    return differential(args)


if __name__ == "__main__":
    sys.exit(main())
