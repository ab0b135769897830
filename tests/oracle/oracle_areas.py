#!/usr/bin/env python3
"""Reference implementation of the five other Solutions Partner areas.

Written from /work/shared/spec/rules-areas.md (sections 0-6 and the decisions
of section 10) and interface.md ("Every solution area"), in the style of
oracle.py: plain Python, decimal.Decimal everywhere, one function per metric,
no rulebook file read. It reads the acr, licenses and certifications CSV
tables of a dataset and prints one jsonl score object per partner and area:

    python3 oracle_areas.py DATASET_DIR --month YYYY-MM [--area AREA ...]

Inputs are assumed well-formed (the Rust reader's errors are tested
elsewhere). Only the fields the contract fixes are printed.
"""

import argparse
import csv
import json
import sys
from datetime import date
from decimal import ROUND_DOWN, ROUND_HALF_UP, Decimal
from pathlib import Path

AREAS = [
    "azure_infrastructure",
    "azure_data_ai",
    "azure_digital_app_innovation",
    "modern_work",
    "security",
]


def norm(s):
    return (s or "").strip().lower().replace("_", " ").replace("-", " ")


# ---------------------------------------------------------------- names

ASSOC = {}
for canon, names in {
    "cpor": ["CPOR", "Claiming Partner of Record"],
    "dpor": ["DPOR", "Digital Partner of Record", "Direct Partner of Record"],
    "csp1": ["CSP Tier 1", "CSP T1"],
    "csp2": ["CSP Tier 2", "CSP T2"],
    "pal": ["PAL", "Partner Admin Link"],
}.items():
    for n in names:
        ASSOC[norm(n)] = canon

EXCLUDED_OFFERS = {norm(o) for o in ["Support", "Internal", "Benefit Program", "Trial"]}
VM_SERVICES = {norm(s) for s in ["Virtual Machines", "Virtual Machines Licenses", "Virtual Machine Licenses"]}
SECURITY_SERVICES = {norm(s) for s in [
    "Advanced Data Security", "Advanced Threat Protection", "Application Gateway",
    "Azure Active Directory B2C", "Azure Active Directory Domain Services",
    "Azure Active Directory for External Identities", "Azure Bastion", "Azure DDOS Protection",
    "Azure Defender", "Azure Firewall", "Azure Firewall Manager", "Azure Front Door Service",
    "Azure IoT Security", "Key Vault", "Network Watcher", "Security Center", "Sentinel"]}

MW_WORKLOADS = {}
for canon, names in {
    "intune": ["Intune"], "exchange": ["Exchange"], "proplus": ["ProPlus", "Pro Plus"],
    "sharepoint": ["SharePoint"], "teams": ["Teams"], "teams meetings": ["Teams Meetings"],
    "teams phone": ["Teams Phone"], "teams phone calling": ["Teams Phone calling"],
    "teams platform": ["Teams Platform"], "yammer": ["Yammer"],
    "vivainsights": ["VivaInsights", "Viva Insights"], "vivatopics": ["VivaTopics", "Viva Topics"],
    "vivalearning": ["VivaLearning", "Viva Learning"],
    "vivaconnections": ["VivaConnections", "Viva Connections"],
}.items():
    for n in names:
        MW_WORKLOADS[norm(n)] = canon
SEC_WORKLOADS = {}
for canon, names in {
    "aadp": ["Azure Active Directory Premium", "Azure AD Premium"],
    "mdo": ["Microsoft Defender for Office 365"],
    "mde": ["Microsoft Defender for Endpoints", "Microsoft Defender for Endpoint"],
    "mdi": ["Microsoft Defender for Identity"],
    "mip": ["Microsoft Information Protection"],
    "intune": ["Intune"],
}.items():
    for n in names:
        SEC_WORKLOADS[norm(n)] = canon

PREFIXES = [norm("Microsoft Certified:"), norm("Microsoft 365 Certified:")]


def bare(name):
    k = norm(name)
    for p in PREFIXES:
        if k.startswith(p):
            return k[len(p):].strip()
    return k


# Certification id -> names (page name, Learn names) per area.
CERT_NAMES = {
    "azure-administrator": ["Azure Administrator Associate"],
    "azure-solutions-architect": ["Azure Solutions Architect Expert"],
    "azure-network-engineer-associate": ["Azure Network Engineer Associate"],
    "azure-stack-hub-operator": ["Azure Stack Hub Operator Associate"],
    "windows-server-hybrid-administrator": ["Windows Server Hybrid Administrator Associate"],
    "azure-virtual-desktop-specialty": ["Azure Virtual Desktop Specialty"],
    "azure-for-sap-workloads-specialty": ["Azure for SAP Workloads Specialty"],
    "azure-database-administrator-associate": ["Azure Database Administrator Associate"],
    "azure-ai-engineer": ["Azure AI Engineer Associate"],
    "azure-data-scientist": ["Azure Data Scientist Associate"],
    "azure-data-engineer": ["Azure Data Engineer Associate"],
    "data-analyst-associate": ["Data Analyst Associate"],
    "customer-data-platform-specialty": ["Customer Data Platform Specialty"],
    "azure-cosmos-db-developer-specialty": ["Azure Cosmos DB Developer Specialty"],
    "azure-developer": ["Azure Developer Associate"],
    "power-platform-developer-associate": ["Power Platform Developer Associate"],
    "azure-iot-developer-specialty": ["Azure IoT Developer Specialty"],
    "devops-engineer": ["Azure DevOps Engineer Expert", "DevOps Engineer Expert"],
    "power-platform-solution-architect-expert": ["Power Platform Solution Architect Expert"],
    "microsoft-365-fundamentals": ["Microsoft 365 Fundamentals", "Microsoft 365 Certified: Fundamentals"],
    "m365-teams-application-developer-associate": ["Teams Application Developer Associate"],
    "m365-teams-administrator-associate": ["Teams Administrator Associate"],
    "m365-messaging-administrator": ["Messaging Administrator Associate"],
    "identity-and-access-administrator": ["Identity and Access Administrator Associate",
                                          "Microsoft Identity and Access Administrator"],
    "m365-collaboration-communications-systems-engineer": [
        "Collaboration Communications Systems Engineer Associate"],
    "m365-endpoint-administrator": ["Endpoint Administrator Associate",
                                    "Modern Desktop Administrator Associate"],
    "m365-administrator-expert": ["Enterprise Administrator Expert"],
    "teams-meetings-and-meeting-rooms-technical-assessment": [
        "Teams Meetings and Meeting Rooms Technical Assessment"],
    "azure-security-engineer": ["Azure Security Engineer Associate"],
    "security-operations-analyst": ["Microsoft Security Operations Analyst",
                                    "Security Operations Analyst Associate"],
    "m365-security-administrator": ["Microsoft 365 Security Administrator Associate",
                                    "Security Administrator Associate"],
    "cybersecurity-architect-expert": ["Microsoft Cybersecurity Architect Expert",
                                       "Cybersecurity Architect Expert"],
    "information-protection-and-compliance-administrator": [
        "Microsoft Information Protection and Compliance Administrator Associate",
        "Information Protection and Compliance Administrator Associate"],
}
CERT_KEY = {}
for cid, names in CERT_NAMES.items():
    CERT_KEY[bare(cid)] = cid
    for n in names:
        CERT_KEY[bare(n)] = cid

UNTIL = {
    "azure-stack-hub-operator": date(2024, 7, 31),
    "azure-iot-developer-specialty": date(2024, 7, 31),
    "m365-security-administrator": date(2024, 6, 30),
}


# ---------------------------------------------------------------- months


def parse_month(s):
    y, m = s.split("-")
    return int(y) * 12 + int(m) - 1


def month_text(i):
    return f"{i // 12:04d}-{i % 12 + 1:02d}"


def last_day(mi):
    y, m = mi // 12, mi % 12 + 1
    nxt = date(y + (m == 12), m % 12 + 1, 1)
    return date.fromordinal(nxt.toordinal() - 1)


def ttm(x):
    return range(x - 11, x + 1)


# ---------------------------------------------------------------- reading


def read(path):
    if not path.exists():
        return []
    with open(path, newline="", encoding="utf-8-sig") as f:
        r = csv.reader(f)
        header = [norm(h) for h in next(r, [])]
        return [{header[i]: (v.strip() if i < len(header) else "") for i, v in enumerate(row)}
                for row in r if row]


def load(d):
    partners = set()
    acr, lic, certs = {}, {}, {}
    for name in ["revenue", "usage", "certifications", "partners", "acr", "licenses"]:
        for row in read(d / f"{name}.csv"):
            partners.add(row["partner id"])
    for row in read(d / "acr.csv"):
        acr.setdefault(row["partner id"], []).append({
            "tenant": row["customer tenant id"], "service": norm(row["service"]),
            "month": parse_month(row["month"]), "usd": Decimal(row["acr usd"]),
            "assoc": ASSOC.get(norm(row["association"])), "offer": norm(row.get("offer", "")),
        })
    for row in read(d / "licenses.csv"):
        on = row.get("associated on", "")
        lic.setdefault(row["partner id"], []).append({
            "tenant": row["customer tenant id"], "workload": norm(row["workload"]),
            "month": parse_month(row["month"]), "assoc": ASSOC.get(norm(row["association"])),
            "paid": int(row["paid seats"]), "active": int(row["active users"]),
            "on": date.fromisoformat(on) if on else None,
        })
    for row in read(d / "certifications.csv"):
        exp = row.get("expires on", "")
        certs.setdefault(row["partner id"], []).append({
            "person": row["person id"], "cert": CERT_KEY.get(bare(row["certification"])),
            "earned": date.fromisoformat(row["earned on"]),
            "expires": date.fromisoformat(exp) if exp else None,
        })
    return partners, acr, lic, certs


# ---------------------------------------------------------------- helpers

T2 = Decimal("0.01")


def trunc2(x):
    return x.quantize(T2, rounding=ROUND_DOWN)


def half2(x):
    return x.quantize(T2, rounding=ROUND_HALF_UP)


def clamp(x, hi):
    return max(Decimal(0), min(Decimal(hi), x))


def holders(certs, ids, d):
    out = set()
    for c in certs:
        if c["cert"] not in ids or c["earned"] > d:
            continue
        if c["expires"] is not None and c["expires"] < d:
            continue
        if c["cert"] in UNTIL and d > UNTIL[c["cert"]]:
            continue
        out.add(c["person"])
    return out


def gated(certs, d, steps, scoring, rate, per, cap, rounding, full_at=None):
    for ids, n in steps:
        if len(holders(certs, ids, d)) < n:
            value = len(holders(certs, scoring, d))
            return value, Decimal(0)
    value = len(holders(certs, scoring, d))
    if full_at is not None and value >= full_at:
        return value, Decimal(cap)
    pts = clamp(Decimal(value) * Decimal(rate) / Decimal(per), cap)
    return value, (half2(pts) if rounding == "half" else trunc2(pts))


def azure_rows(acr, assocs, services=None, exclude=()):
    for r in acr:
        if r["assoc"] not in assocs or r["offer"] in EXCLUDED_OFFERS:
            continue
        if services is not None and r["service"] not in services:
            continue
        if r["service"] in exclude:
            continue
        yield r


def sums(rows, key):
    out = {}
    for r in rows:
        k = (key(r), r["month"])
        out[k] = out.get(k, Decimal(0)) + r["usd"]
    return out


# ---------------------------------------------------------------- Azure

AZ_ASSOC = {"csp1", "csp2", "dpor", "pal"}


def azure_common(acr, L, B):
    s = sums(azure_rows(acr, AZ_ASSOC), lambda r: r["tenant"])
    tenants = {t for t, _ in s}

    def eligible(x):
        return sum(1 for t in tenants
                   if s.get((t, x), Decimal(0)) >= 1000 or s.get((t, x - 1), Decimal(0)) >= 1000)

    adds = eligible(L) - eligible(B)
    adds_pts = clamp(Decimal(10 * adds), 30)
    latest = sum((v for (t, m), v in s.items() if m in ttm(L)), Decimal(0))
    base = sum((v for (t, m), v in s.items() if m in ttm(B)), Decimal(0))
    if base <= 0:
        growth, g_pts = None, Decimal(0)
    else:
        growth = trunc2((latest - base) * 100 / base)
        g_pts = trunc2(clamp(growth, 20)) if base >= 1000 else Decimal(0)
    svc = sums(azure_rows(acr, AZ_ASSOC, exclude=VM_SERVICES), lambda r: r["service"])
    per = {}
    for (sv, m), v in svc.items():
        if m in ttm(L):
            per[sv] = per.get(sv, Decimal(0)) + v
    deps = sum(1 for v in per.values() if v > 0)
    return {
        "net_customer_adds": (Decimal(adds), adds_pts, {}),
        "usage_growth": (growth, g_pts, {"latest_acr": latest, "baseline_acr": base}),
        "deployments": (Decimal(deps), clamp(Decimal(2 * deps), 10), {}),
    }


def azure_area(area, acr, certs, L, B, d):
    c = azure_common(acr, L, B)
    m = {"net_customer_adds": c["net_customer_adds"]}
    A, S = "azure-administrator", "azure-solutions-architect"
    if area == "azure_infrastructure":
        iv, ip = gated(certs, d, [({A}, 2)], {"azure-network-engineer-associate",
                                             "azure-stack-hub-operator",
                                             "windows-server-hybrid-administrator"}, 4, 1, 20, "trunc")
        av, ap = gated(certs, d, [({S}, 2)], {"azure-virtual-desktop-specialty",
                                             "azure-for-sap-workloads-specialty"}, 4, 1, 20, "trunc")
    elif area == "azure_data_ai":
        iv, ip = gated(certs, d, [({S}, 2), ({A}, 2)], {
            "azure-database-administrator-associate", "azure-ai-engineer", "azure-data-scientist",
            "azure-data-engineer", "data-analyst-associate", "customer-data-platform-specialty",
            "azure-cosmos-db-developer-specialty"}, 4, 1, 40, "trunc")
        av = None
    else:
        iv, ip = gated(certs, d, [({A}, 2)], {"azure-developer",
                                             "power-platform-developer-associate"}, 4, 1, 20, "trunc")
        av, ap = gated(certs, d, [({S}, 2)], {"azure-iot-developer-specialty", "devops-engineer",
                                             "power-platform-solution-architect-expert"}, 4, 1, 20, "trunc")
    m["intermediate_certifications"] = (Decimal(iv), ip, {})
    if av is not None:
        m["advanced_certifications"] = (Decimal(av), ap, {})
    m["usage_growth"] = c["usage_growth"]
    m["deployments"] = c["deployments"]
    return m


# ---------------------------------------------------------------- Modern Work

MW_INT = {"microsoft-365-fundamentals", "m365-teams-application-developer-associate",
          "m365-teams-administrator-associate", "m365-messaging-administrator",
          "identity-and-access-administrator", "m365-collaboration-communications-systems-engineer",
          "m365-endpoint-administrator"}
MW_ADV = {"m365-administrator-expert", "teams-meetings-and-meeting-rooms-technical-assessment"}
TRACKS = {
    "enterprise": {"assoc": {"cpor", "dpor"}, "band": lambda s: s > 300, "adds": 4,
                   "int": Decimal("2.5"), "adv": Decimal("7.5"),
                   "options": [("cpor", {"cpor"}, 1000, 5), ("dpor", {"dpor"}, 4000, Decimal("2.5"))]},
    "smb": {"assoc": {"cpor", "csp1", "csp2"}, "band": lambda s: 11 <= s <= 300, "adds": 2,
            "int": Decimal(5), "adv": Decimal(15),
            "options": [("cpor", {"cpor"}, 500, 5), ("csp", {"csp1", "csp2"}, 2000, Decimal("2.5"))]},
}


def mw_track(tr, rows, certs, L, B, d):
    t = TRACKS[tr]
    rows = [r for r in rows if r["workload"] in MW_WORKLOADS]
    # seats per (tenant, workload, month, association)
    seats = {}
    for r in rows:
        if r["assoc"] in t["assoc"]:
            k = (r["tenant"], r["workload"], r["month"], r["assoc"])
            seats[k] = seats.get(k, 0) + r["paid"]

    def in_band(tenant, x):
        return any(t["band"](v) for (tt, w, m, a), v in seats.items() if tt == tenant and m == x)

    tenants = {r["tenant"] for r in rows}

    def band_count(x):
        return sum(1 for tn in tenants if in_band(tn, x))

    m = {}
    adds = band_count(L) - band_count(B)
    m["net_customer_adds"] = (Decimal(adds), clamp(Decimal(t["adds"] * adds), 20), {})
    iv = len(holders(certs, MW_INT, d))
    av = len(holders(certs, MW_ADV, d))
    m["intermediate_certifications"] = (Decimal(iv), trunc2(clamp(t["int"] * iv, 10)), {})
    m["advanced_certifications"] = (Decimal(av), trunc2(clamp(t["adv"] * av, 15)), {})

    # starts per (tenant, workload, association), over every row
    starts = {}
    for r in rows:
        k = (r["tenant"], r["workload"], r["assoc"])
        s = starts.setdefault(k, {"on": None, "first": r["month"]})
        if r["on"] is not None and (s["on"] is None or r["on"] < s["on"]):
            s["on"] = r["on"]
        s["first"] = min(s["first"], r["month"])

    def start_month(k):
        s = starts[k]
        return s["on"].year * 12 + s["on"].month - 1 if s["on"] else s["first"]

    best_g = None
    best_d = None
    for oid, oassoc, full, rate in t["options"]:
        # usage growth (absolute users)
        au = {}
        for r in rows:
            if r["assoc"] in oassoc:
                k = (r["tenant"], r["workload"], r["assoc"], r["month"])
                au[k] = au.get(k, 0) + r["active"]
        latest = sum(v for (tn, w, a, mm), v in au.items() if mm == L and in_band(tn, L))
        base = 0
        for (tn, w, a) in {(k[0], k[1], k[2]) for k in au}:
            sm = start_month((tn, w, a))
            x = sm if L - 11 <= sm <= L else B
            if in_band(tn, x):
                base += au.get((tn, w, a, x), 0)
        g = latest - base
        gp = trunc2(clamp(Decimal(g) * 30 / Decimal(full), 30))
        if best_g is None or gp > best_g[1]:
            best_g = (Decimal(g), gp)

        # deployments
        def ratio(tn, x):
            a = sum(r["active"] for r in rows if r["tenant"] == tn and r["month"] == x and r["assoc"] in oassoc)
            p = sum(r["paid"] for r in rows if r["tenant"] == tn and r["month"] == x and r["assoc"] in oassoc)
            return None if p == 0 else Decimal(a) / Decimal(p)

        def deployed(tn, x):
            rt = ratio(tn, x)
            return in_band(tn, x) and rt is not None and rt >= Decimal("0.40")

        lat = 0
        for tn in tenants:
            if not deployed(tn, L):
                continue
            ks = [k for k in starts if k[0] == tn and k[2] in oassoc]
            if ks:
                sm = min(start_month(k) for k in ks)
                if L - 11 <= sm <= L:
                    rt = ratio(tn, sm)
                    if rt is not None and rt > Decimal("0.40"):
                        continue
            lat += 1
        bas = sum(1 for tn in tenants if deployed(tn, B))
        dv = lat - bas
        dp = trunc2(clamp(Decimal(dv) * Decimal(rate), 25))
        if best_d is None or dp > best_d[1]:
            best_d = (Decimal(dv), dp)
    m["usage_growth"] = (best_g[0], best_g[1], {})
    m["deployments"] = (best_d[0], best_d[1], {})
    return m


# ---------------------------------------------------------------- Security

SEC_SCORE_OLD = {"cybersecurity-architect-expert", "security-operations-analyst",
                 "identity-and-access-administrator", "information-protection-and-compliance-administrator"}
SEC_SCORE_NEW = SEC_SCORE_OLD - {"security-operations-analyst"}


def security(acr, lic, certs, L, B, d):
    az = sums(azure_rows(acr, {"pal"}, services=SECURITY_SERVICES), lambda r: r["tenant"])
    az_t = {t for t, _ in az}

    def az_ttm(tn, x):
        return sum((az.get((tn, mm), Decimal(0)) for mm in ttm(x)), Decimal(0))

    rows = [r for r in lic if r["workload"] in SEC_WORKLOADS and r["assoc"] == "cpor"]
    per = {}
    for r in rows:
        k = (r["tenant"], r["workload"], r["month"])
        a, p = per.get(k, (0, 0))
        per[k] = (a + r["active"], p + r["paid"])
    m_t = {r["tenant"] for r in rows}

    def m_adds(x):
        return sum(1 for tn in m_t if any(v[1] >= 25 for (tt, w, mm), v in per.items() if tt == tn and mm == x))

    def m_deps(x):
        return sum(1 for tn in m_t if any(v[1] >= 25 and Decimal(v[0]) / Decimal(v[1]) >= Decimal("0.15")
                                         for (tt, w, mm), v in per.items() if tt == tn and mm == x))

    res = {}
    a_add = sum(1 for t in az_t if az_ttm(t, L) >= 100) - sum(1 for t in az_t if az_ttm(t, B) >= 100)
    m_add = m_adds(L) - m_adds(B)
    n = max(0, a_add) + max(0, m_add)
    res["net_customer_adds"] = (Decimal(n), clamp(Decimal(2 * n), 20),
                                {"parts": {"azure": a_add, "microsoft_365": m_add}})
    if d < date(2023, 12, 1):
        steps = [({"azure-security-engineer"}, 1), ({"security-operations-analyst", "m365-security-administrator"}, 1)]
        scoring = SEC_SCORE_OLD
    else:
        steps = [({"azure-security-engineer"}, 2), ({"security-operations-analyst", "m365-security-administrator"}, 2)]
        scoring = SEC_SCORE_NEW
    iv, ip = gated(certs, d, steps, scoring, 40, 6, 40, "half", full_at=6)
    res["intermediate_certifications"] = (Decimal(iv), ip, {})
    a_dep = sum(1 for t in az_t if az_ttm(t, L) >= 12000) - sum(1 for t in az_t if az_ttm(t, B) >= 12000)
    m_dep = m_deps(L) - m_deps(B)
    n = max(0, a_dep) + max(0, m_dep)
    dp = Decimal(20) if n >= 6 else half2(clamp(Decimal(n) * 20 / 6, 20))
    res["deployments"] = (Decimal(n), dp, {"parts": {"azure": a_dep, "microsoft_365": m_dep}})
    g_az = sum((az_ttm(t, L) for t in az_t), Decimal(0)) - sum((az_ttm(t, B) for t in az_t), Decimal(0))

    def pu(x):
        return sum(min(v[0], v[1]) for (tt, w, mm), v in per.items() if mm == x)

    g_m = pu(L) - pu(B)
    p_az = clamp(g_az / 1250, 20)
    p_m = clamp(Decimal(g_m) / 125, 20)
    res["usage_growth"] = (None, trunc2(clamp(p_az + p_m, 20)), {"parts": {"azure": g_az, "microsoft_365": g_m}})
    return res


# ---------------------------------------------------------------- output


def num(x):
    if x is None:
        return None
    x = Decimal(x).normalize()
    if x == x.to_integral_value():
        return int(x)
    return float(str(x))


def score(d, month):
    M = parse_month(month)
    L, B = M - 1, M - 13
    D = last_day(M)
    partners, acr, lic, certs = load(Path(d))
    out = []
    for p in sorted(partners):
        a, li, c = acr.get(p, []), lic.get(p, []), certs.get(p, [])
        for area in AREAS:
            cls = None
            tracks = None
            if area.startswith("azure_"):
                metrics = azure_area(area, a, c, L, B, D)
            elif area == "security":
                metrics = security(a, li, c, L, B, D)
            else:
                tracks = {}
                for tr in ["enterprise", "smb"]:
                    ms = mw_track(tr, li, c, L, B, D)
                    total = sum(v[1] for v in ms.values())
                    q = total >= 70 and all(v[1] > 0 for v in ms.values())
                    tracks[tr] = (ms, total, q)
                e, s = tracks["enterprise"], tracks["smb"]
                cls = "smb" if (s[2], s[1]) > (e[2], e[1]) else "enterprise"
                metrics = tracks[cls][0]
            total = sum(v[1] for v in metrics.values())
            qualified = total >= 70 and all(v[1] > 0 for v in metrics.values())
            if tracks is not None:
                qualified = any(t[2] for t in tracks.values())
            o = {
                "partner_id": p, "solution_area": area, "month": month_text(M),
                "latest_month": month_text(L), "baseline_month": month_text(B),
                "evaluation_date": D.isoformat(), "classification": cls,
                "metrics": {k: {"value": num(v[0]), "points": num(v[1]),
                                **{kk: num(vv) for kk, vv in v[2].items() if kk != "parts"},
                                **({"parts": {pk: {"value": num(pv)} for pk, pv in v[2]["parts"].items()}}
                                   if "parts" in v[2] else {})}
                            for k, v in metrics.items()},
                "total_points": num(total), "qualified": qualified,
            }
            if tracks is not None:
                o["tracks"] = {tr: {"total_points": num(t[1]), "qualified": t[2]} for tr, t in tracks.items()}
            out.append(o)
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("dataset")
    ap.add_argument("--month", required=True)
    args = ap.parse_args()
    for o in score(args.dataset, args.month):
        sys.stdout.write(json.dumps(o) + "\n")


if __name__ == "__main__":
    main()
