#!/usr/bin/env python3
"""Differential test of the five other areas: `pcs score` against oracle_areas.py.

For each seed a random dataset (acr, licenses, certifications; odd header
spellings, name variants, credits, duplicate rows, offers that do not count,
values exactly at every threshold, 25 months of history) is written, scored by
`pcs score DIR --month M --format jsonl` (every area) and by the oracle, and
the fields of every non-Business-Applications object are compared.

    python3 differential_areas.py --pcs target/debug/pcs [--seeds 0-29] [--keep DIR]
"""

import argparse
import csv
import json
import random
import subprocess
import sys
import tempfile
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
import oracle_areas  # noqa: E402

SERVICES = ["Storage", "Key Vault", "Sentinel", "Virtual Machines", "virtual_machine_licenses",
            "Azure Firewall", "Azure Functions", "AZURE-COSMOS-DB", "Azure Machine Learning",
            "Azure DDOS Protection", "security center"]
ACR_ASSOC = ["CSP Tier 1", "csp_tier_2", "DPOR", "PAL", "Partner Admin Link", "CPOR", "CPOR OSU",
             "Digital Partner of Record"]
OFFERS = ["", "", "Azure plan", "Trial", "support", "Benefit-Program", "Internal", "EA"]
WORKLOADS = ["Teams", "Exchange", "INTUNE", "sharepoint", "Viva Insights", "VivaTopics",
             "Microsoft Defender for Endpoint", "Microsoft Defender for Endpoints",
             "Azure Active Directory Premium", "Microsoft Information Protection", "Yammer"]
LIC_ASSOC = ["CPOR", "DPOR", "CSP Tier 1", "CSP T2", "Claiming Partner of Record",
             "Direct Partner of Record", "CPOR OSU"]
CERTS = ["azure-administrator", "Microsoft Certified: Azure Administrator Associate",
         "azure-solutions-architect", "azure-network-engineer-associate", "azure-stack-hub-operator",
         "windows-server-hybrid-administrator", "azure-virtual-desktop-specialty",
         "azure-for-sap-workloads-specialty", "azure-ai-engineer", "data-analyst-associate",
         "azure-developer", "devops-engineer", "DevOps Engineer Expert", "azure-iot-developer-specialty",
         "microsoft-365-fundamentals", "m365-teams-administrator-associate",
         "Microsoft 365 Certified: Modern Desktop Administrator Associate", "m365-administrator-expert",
         "Teams Meetings and Meeting Rooms Technical Assessment", "azure-security-engineer",
         "security-operations-analyst", "m365-security-administrator", "cybersecurity-architect-expert",
         "identity-and-access-administrator", "information-protection-and-compliance-administrator"]
EDGE_USD = ["1000", "999.99", "1000.00", "100", "99.99", "12000", "11999.99", "0", "-250", "0.01", "1250"]
EDGE_SEATS = [10, 11, 24, 25, 300, 301]


def month_text(i):
    return oracle_areas.month_text(i)


def generate(d: Path, seed: int, partners: int = 12) -> str:
    rng = random.Random(seed)
    M = oracle_areas.parse_month("2023-06") + rng.randrange(0, 18)
    months = list(range(M - 25, M + 1))
    acr_rows, lic_rows, cert_rows = [], [], []
    for p in range(partners):
        pid = f"P{p:03d}"
        for t in range(rng.randrange(0, 6)):
            tid = f"{pid}-T{t}"
            for _ in range(rng.randrange(1, 4)):
                svc = rng.choice(SERVICES)
                assoc = rng.choice(ACR_ASSOC)
                offer = rng.choice(OFFERS)
                base = rng.choice([50, 400, 900, 1500, 5000])
                for m in rng.sample(months, rng.randrange(1, 10)):
                    usd = rng.choice(EDGE_USD) if rng.random() < 0.3 else f"{base * rng.uniform(0.5, 1.5):.2f}"
                    row = [pid, tid, svc, month_text(m), usd, assoc, offer]
                    acr_rows.append(row)
                    if rng.random() < 0.05:
                        acr_rows.append(row)
        for t in range(rng.randrange(0, 8)):
            tid = f"{pid}-L{t}"
            start = rng.choice(months[-16:])
            on = "" if rng.random() < 0.2 else f"{month_text(start)}-{rng.randrange(1, 28):02d}"
            for _ in range(rng.randrange(1, 3)):
                wl = rng.choice(WORKLOADS)
                assoc = rng.choice(LIC_ASSOC)
                seats = rng.choice(EDGE_SEATS) if rng.random() < 0.4 else rng.randrange(1, 2000)
                for m in months[-15:]:
                    if m < start or rng.random() < 0.3:
                        continue
                    share = rng.choice([0.15, 0.4, 0.41, 0.39, rng.random()])
                    active = int(seats * share) if rng.random() < 0.9 else seats + 5
                    lic_rows.append([pid, tid, wl, month_text(m), assoc, str(seats), str(active), on])
        for person in range(rng.randrange(0, 9)):
            for _ in range(rng.randrange(1, 4)):
                cert = rng.choice(CERTS)
                earned = f"{rng.choice([2022, 2023])}-{rng.randrange(1, 13):02d}-{rng.randrange(1, 29):02d}"
                exp = "" if rng.random() < 0.6 else f"{rng.choice([2023, 2024, 2025])}-{rng.randrange(1, 13):02d}-01"
                cert_rows.append([pid, f"{pid}-p{person}", cert, earned, exp])
    d.mkdir(parents=True, exist_ok=True)
    with open(d / "acr.csv", "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["Partner ID", "customer_tenant_id", "SERVICE", "Month", "ACR USD", "association", "Offer"])
        w.writerows(acr_rows)
    with open(d / "licenses.csv", "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["partner_id", "Customer Tenant ID", "workload", "month", "Association",
                    "paid-seats", "Active Users", "associated_on"])
        w.writerows(lic_rows)
    with open(d / "certifications.csv", "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["partner_id", "person_id", "certification", "earned_on", "expires_on"])
        w.writerows(cert_rows)
    return month_text(M)


def same(a, b):
    if a is None or b is None:
        return a is None and b is None
    if isinstance(a, bool) or isinstance(b, bool) or isinstance(a, str) or isinstance(b, str):
        return a == b
    return Decimal(str(a)) == Decimal(str(b))


def compare(got, want, where):
    bad = []
    for k in ["solution_area", "month", "latest_month", "baseline_month", "evaluation_date",
              "classification", "total_points", "qualified"]:
        if not same(got.get(k), want.get(k)):
            bad.append(f"{where}: {k}: pcs {got.get(k)!r} oracle {want.get(k)!r}")
    if set(got["metrics"]) != set(want["metrics"]):
        bad.append(f"{where}: metric ids {sorted(got['metrics'])} vs {sorted(want['metrics'])}")
        return bad
    for mid, wm in want["metrics"].items():
        gm = got["metrics"][mid]
        for k, v in wm.items():
            if k == "parts":
                for pk, pv in v.items():
                    if not same(gm["parts"][pk]["value"], pv["value"]):
                        bad.append(f"{where}: {mid}.parts.{pk}.value: pcs {gm['parts'][pk]['value']} oracle {pv['value']}")
            elif not same(gm.get(k), v):
                bad.append(f"{where}: {mid}.{k}: pcs {gm.get(k)!r} oracle {v!r}")
    if "tracks" in want:
        for tr, tv in want["tracks"].items():
            for k in ["total_points", "qualified"]:
                if not same(got["tracks"][tr][k], tv[k]):
                    bad.append(f"{where}: tracks.{tr}.{k}: pcs {got['tracks'][tr][k]} oracle {tv[k]}")
    return bad


def run(pcs, seed, workdir):
    month = generate(workdir, seed)
    proc = subprocess.run([pcs, "score", str(workdir), "--month", month, "--format", "jsonl", "-q"],
                          capture_output=True, text=True, timeout=300)
    if proc.returncode != 0:
        return [f"seed {seed}: pcs failed ({proc.returncode}): {proc.stderr}"]
    got = [json.loads(l) for l in proc.stdout.splitlines()]
    got = {(o["partner_id"], o["solution_area"]): o for o in got if o["solution_area"] != "business_applications"}
    want = {(o["partner_id"], o["solution_area"]): o for o in oracle_areas.score(workdir, month)}
    bad = []
    if set(got) != set(want):
        bad.append(f"seed {seed}: partners/areas differ: {sorted(set(got) ^ set(want))[:5]}")
    for k in sorted(set(got) & set(want)):
        bad += compare(got[k], want[k], f"seed {seed} {k[0]} {k[1]}")
    return bad


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--pcs", required=True)
    ap.add_argument("--seeds", default="0-29")
    ap.add_argument("--keep")
    args = ap.parse_args()
    lo, hi = (int(x) for x in args.seeds.split("-"))
    failed = 0
    for seed in range(lo, hi + 1):
        if args.keep:
            wd = Path(args.keep) / f"seed-{seed}"
            bad = run(args.pcs, seed, wd)
        else:
            with tempfile.TemporaryDirectory() as t:
                bad = run(args.pcs, seed, Path(t))
        if bad:
            failed += 1
            print("\n".join(bad[:15]))
    print(f"{hi - lo + 1 - failed} passed, {failed} failed")
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
