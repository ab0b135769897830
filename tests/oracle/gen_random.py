#!/usr/bin/env python3
"""Random, deterministic CSV datasets for differential testing of `pcs`.

Usage:
    python3 gen_random.py OUT_DIR --seed N [--partners K]

Writes OUT_DIR/{revenue,usage,certifications,partners}.csv (some tables are
sometimes omitted) and OUT_DIR/MONTH holding the target month (YYYY-MM, within
2023-07..2024-12), which is also printed on stdout.

The data is built to sit on the rule boundaries: revenue pair sums of exactly
250 / 249.99 / 1500 / 1499.99 / 5000 / 5000.01 (split over several rows, with
credits), usage pairs of exactly 5,000 / 10,000 MCV, baseline totals of exactly
25,000 / 50,000, certifications expiring on D or earned the day after, retired
certifications on the last day of their window, odd header and name spellings,
unknown names, quoted fields with commas, duplicate rows, rows of other months.

Every value is well-formed: months YYYY-MM, dates YYYY-MM-DD, revenue with at
most 2 decimals, quantities >= 0 with at most 3 decimals, non-empty ids.
"""

from __future__ import annotations

import argparse
import calendar
import csv
import datetime
import random
import sys
from decimal import Decimal
from pathlib import Path

# ---------------------------------------------------------------- name data

PERF_WORKLOADS = [
    "AI Builder", "Business Central", "CE Bundle", "Commerce", "Customer Insights",
    "Customer Service", "F&O Bundle", "Field Service", "Finance", "Fraud Protection",
    "HR (Human Resources)", "Intelligent Order Management", "Marketing", "Mixed Reality",
    "Omni Channel", "Power Apps", "Power Automate", "Power BI", "Power Pages",
    "Power Virtual Agent", "Project Operations", "Sales", "Supply Chain",
    "Non-workload specific",
]
PERF_ALIASES = {
    "HR (Human Resources)": ["HR (Human Resources)", "HR", "Human Resources"],
    "Power Virtual Agent": ["Power Virtual Agent", "Power Virtual Agents"],
}
UNKNOWN_PERF_WORKLOADS = ["Azure", "Office 365", "Dynamics 365 Sales", "PowerBI",
                          "Power  BI", "Teams, Phone System", "HR(Human Resources)"]

PERF_ASSOC = ["CPOR RevRec", "CPOR OSA", "CPOR RevRec Performance", "CSP Tier 1",
              "CSP Tier 2", "DPOR"]
NON_PERF_ASSOC = ["PAL", "CPOR OSU", "Some Partner Link", "CPORRevRec", "CSP Tier 3", "Tier 1"]

D365_USAGE_ASSOC = ["CPOR OSU", "DPOR", "CSP Tier 1", "CSP Tier 2"]
POWER_USAGE_ASSOC = ["PAL"]

# canonical usage workload -> (rate, family, spellings usable for its rows)
USAGE = {
    "Business Central": (Decimal(1000), "d365", ["Business Central"]),
    "Core HR": (Decimal(1000), "d365", ["Core HR"]),
    "Customer Engagement": (Decimal(200), "d365", [
        "Customer Engagement", "Common data service (Customer Engagement)",
        "Sales", "Sales Insights", "Customer Service", "Field Service"]),
    "Customer Insights": (Decimal("0.2"), "power", ["Customer Insights", "Customer Insights Partner"]),
    "Finance & Operations": (Decimal(100), "d365", ["Finance & Operations", "Finance", "Project Operations"]),
    "Guides": (Decimal(1000), "d365", ["Guides"]),
    "Power Apps": (Decimal(200), "power", ["Power Apps", "Power App"]),
    "Power Automate": (Decimal(200), "power", ["Power Automate"]),
    "Power BI": (Decimal(200), "power", ["Power BI"]),
    "Remote Assist": (Decimal(1000), "d365", ["Remote Assist"]),
    "Retail": (Decimal(100), "d365", ["Retail"]),
    "Talent Attract": (Decimal(1000), "d365", ["Talent Attract"]),
    "Talent Onboard": (Decimal(1000), "d365", ["Talent Onboard"]),
}
UNKNOWN_USAGE_WORKLOADS = ["Azure", "Office 365", "Teams", "Marketing", "PowerBI",
                           "Finance and Operations", "Dynamics 365, Sales"]

CERT_PREFIX = "Microsoft Certified: "
INTERMEDIATE = [
    ("Dynamics 365 Finance Functional Consultant Associate", "d365-functional-consultant-financials"),
    ("Dynamics 365 Commerce Functional Consultant Associate", "d365-functional-consultant-commerce"),
    ("Dynamics 365: Finance and Operations Apps Developer Associate", "d365-finance-and-operations-apps-developer-associate"),
    ("Dynamics 365 Supply Chain Management Functional Consultant Associate", "d365-functional-consultant-supply-chain-management"),
    ("Dynamics 365 Supply Chain Management, Manufacturing Functional Consultant Associate", "d365-functional-consultant-manufacturing"),
    ("Dynamics 365 Customer Service Functional Consultant Associate", "d365-functional-consultant-customer-service"),
    ("Dynamics 365 Sales Functional Consultant Associate", "d365-functional-consultant-sales"),
    ("Dynamics 365 Field Service Functional Consultant Associate", "d365-functional-consultant-field-service"),
    ("Dynamics 365 Business Central Functional Consultant Associate", "d365-business-central-functional-consultant-associate"),
    ("Dynamics 365 Marketing Functional Consultant Associate", "d365-functional-consultant-marketing"),
    ("Power Platform App Maker Associate", "power-platform-app-maker"),
    ("Data Analyst Associate", "data-analyst-associate"),
    ("Power Platform Functional Consultant Associate", "power-platform-functional-consultant-associate"),
    ("Power Platform Developer Associate", "power-platform-developer-associate"),
    ("Customer Data Platform Specialty", "customer-data-platform-specialty"),
    ("Azure Enterprise Data Analyst Associate", "azure-enterprise-data-analyst-associate"),
    ("Power Automate RPA Developer Associate", "power-automate-rpa-developer-associate"),
]
ADVANCED = [
    ("Dynamics 365 Supply Chain Management Functional Consultant Expert", "d365-supply-chain-management-functional-consultant-expert"),
    ("Dynamics 365: Finance and Operations Apps Solution Architect Expert", "d365-finance-and-operations-apps-solution-architect-expert"),
    ("Dynamics 365 + Power Platform Solution Architect Expert", "power-apps-and-d365-solution-architect-expert"),
    ("Power Platform Solution Architect Expert", "power-platform-solution-architect-expert"),
]
RETIRED = {  # name -> last eligible day
    "Dynamics 365 Customer Service Functional Consultant Associate": datetime.date(2024, 6, 30),
    "Power Platform App Maker Associate": datetime.date(2023, 11, 30),
    "Dynamics 365 + Power Platform Solution Architect Expert": datetime.date(2023, 6, 30),
}
UNKNOWN_CERTS = [
    "AZ-900 Fundamentals", "Microsoft Certified: Azure Fundamentals", "az-104",
    "Microsoft Certified: Azure Administrator Associate", "Power Platform Fundamentals",
    "Microsoft Certified:Data Analyst Associate", "Data  Analyst Associate",
    "d365 functional consultant sales associate",
]

CUSTOMER_NAMES = ["Contoso, Ltd.", "Fabrikam Inc", "Northwind Traders", "Adventure Works, LLC",
                  "Tailspin \"Toys\"", "Wide World Importers", "Litware, Inc.", "Proseware"]
PARTNER_NAMES = ["Alpine Ski House", "Coho Winery, S.A.", "Woodgrove Bank", "Trey Research",
                 "Lucerne Publishing", "Margie's Travel", "Blue Yonder, Airlines"]

MONTH_CHOICES = (
    ["2023-07", "2023-08", "2023-09", "2023-10", "2023-11", "2023-12", "2024-01",
     "2024-02", "2024-03", "2024-04", "2024-05", "2024-06", "2024-07", "2024-08",
     "2024-09", "2024-10", "2024-11", "2024-12"]
    # boundary months weighted up: App Maker last month, Customer Service last
    # month, the months after, and January (year wrap).
    + ["2023-11", "2023-12", "2024-06", "2024-07", "2024-01"] * 2
)

# ---------------------------------------------------------------- helpers


def shift_month(month: str, delta: int) -> str:
    y, m = int(month[:4]), int(month[5:7])
    idx = y * 12 + m - 1 + delta
    return f"{idx // 12:04d}-{idx % 12 + 1:02d}"


def last_day(month: str) -> datetime.date:
    y, m = int(month[:4]), int(month[5:7])
    return datetime.date(y, m, calendar.monthrange(y, m)[1])


def variant(rng: random.Random, name: str, pad: bool = True) -> str:
    """A case / separator variant of a name that must still match."""
    k = rng.random()
    if k < 0.35:
        out = name
    elif k < 0.45:
        out = name.lower()
    elif k < 0.55:
        out = name.upper()
    elif k < 0.65:
        out = name.replace(" ", "_")
    elif k < 0.72:
        out = name.lower().replace(" ", "-")
    elif k < 0.80:
        out = name.upper().replace(" ", "_").replace("-", "_")
    elif k < 0.90:
        out = "".join(rng.choice([" ", "_", "-"]) if c in " _-" else c for c in name)
    else:
        out = "".join(c.upper() if rng.random() < 0.5 else c.lower() for c in name)
    if pad and rng.random() < 0.08:
        out = rng.choice([" ", "  ", "\t"]) + out + rng.choice(["", " "])
    return out


def header_variant(rng: random.Random, col: str) -> str:
    words = col.split("_")
    style = rng.random()
    if style < 0.3:
        words = [w for w in words]
    elif style < 0.5:
        words = [w.upper() for w in words]
    elif style < 0.75:
        words = [w.capitalize() for w in words]
        if col == "customer_tenant_id" and rng.random() < 0.5:
            words[-1] = "ID"
        if col == "revenue_usd" and rng.random() < 0.5:
            words[-1] = "USD"
    else:
        words = [w.upper() if rng.random() < 0.4 else w for w in words]
    out = words[0]
    for w in words[1:]:
        out += rng.choice([" ", "_", "-"]) + w
    if rng.random() < 0.08:
        out = " " + out + " "
    return out


def fmt_cents(rng: random.Random, cents: int) -> str:
    sign = "-" if cents < 0 else ""
    a = abs(cents)
    whole, frac = divmod(a, 100)
    if frac == 0:
        tail = rng.choice(["", "", ".0", ".00"])
    elif frac % 10 == 0:
        tail = rng.choice([f".{frac // 10}", f".{frac:02d}"])
    else:
        tail = f".{frac:02d}"
    return f"{sign}{whole}{tail}"


def fmt_milli(rng: random.Random, milli: int) -> str:
    whole, frac = divmod(milli, 1000)
    if frac == 0:
        tail = rng.choice(["", "", "", ".0", ".000"])
    else:
        s = f"{frac:03d}"
        tail = "." + (s.rstrip("0") if rng.random() < 0.7 else s)
    return f"{whole}{tail}"


def split_int(rng: random.Random, total: int, parts: int, allow_credit: bool) -> list[int]:
    """Split an integer amount into `parts` pieces (pieces may be 0), and
    maybe add a credit (a negative piece compensated elsewhere)."""
    if parts <= 1 or total <= 0:
        pieces = [total]
    else:
        cuts = sorted(rng.randint(0, total) for _ in range(parts - 1))
        pieces = [b - a for a, b in zip([0] + cuts, cuts + [total])]
    if allow_credit and rng.random() < 0.35:
        credit = rng.choice([1, 100, 10001, rng.randint(1, 500000)])
        pieces[0] += credit
        pieces.append(-credit)
    rng.shuffle(pieces)
    return pieces


def tenant_id(rng: random.Random) -> str:
    b = rng.getrandbits(128)
    h = f"{b:032x}"
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


def partner_ids(rng: random.Random, k: int) -> list[str]:
    out: list[str] = []
    while len(out) < k:
        style = rng.random()
        if style < 0.6:
            pid = str(rng.randint(1000000, 9999999))
        elif style < 0.8:
            pid = str(rng.randint(100000, 999999))
        elif style < 0.9:
            pid = "00" + str(rng.randint(10000, 99999))
        else:
            pid = str(rng.randint(10000000, 99999999))
        if pid not in out:
            out.append(pid)
    return out


# ---------------------------------------------------------------- table writer


def write_table(rng: random.Random, path: Path, columns: list[str], optional: list[str],
                rows: list[dict[str, str]], extra_cols: bool = True) -> None:
    cols = list(columns)
    for c in optional:
        if rng.random() < 0.6:
            cols.append(c)
    extras = []
    if extra_cols and rng.random() < 0.6:
        extras = rng.sample(["notes", "Region", "source system", "Revenue USD (local)",
                             "workload_category", "Person Email"], rng.randint(1, 2))
    all_cols = cols + extras
    rng.shuffle(all_cols)
    header = [header_variant(rng, c) if c in cols else c for c in all_cols]
    quoting = csv.QUOTE_ALL if rng.random() < 0.15 else csv.QUOTE_MINIMAL
    terminator = rng.choice(["\r\n", "\n"])
    with open(path, "w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh, quoting=quoting, lineterminator=terminator)
        w.writerow(header)
        for r in rows:
            line = []
            for c in all_cols:
                if c in r:
                    line.append(r[c])
                elif c in extras:
                    line.append(rng.choice(["", "x", "a, b", "note \"quoted\", with comma", "42"]))
                else:
                    line.append("")
            w.writerow(line)


# ---------------------------------------------------------------- generator


class Gen:
    def __init__(self, seed: int, n_partners: int | None):
        self.rng = random.Random(seed)
        rng = self.rng
        self.month = rng.choice(MONTH_CHOICES)
        self.latest = shift_month(self.month, -1)
        self.baseline = shift_month(self.month, -13)
        self.d = last_day(self.month)
        self.other_months = [self.month, shift_month(self.month, -2), shift_month(self.month, -12),
                             shift_month(self.month, -14), shift_month(self.month, -25),
                             shift_month(self.month, 1)]
        k = n_partners if n_partners is not None else rng.randint(4, 9)
        self.partners = partner_ids(rng, k)
        self.revenue: list[dict] = []
        self.usage: list[dict] = []
        self.certs: list[dict] = []

    # ---- revenue
    def perf_name(self, canon: str) -> str:
        return variant(self.rng, self.rng.choice(PERF_ALIASES.get(canon, [canon])))

    def rev_row(self, pid, tenant, workload_text, month, cents, assoc_text):
        rng = self.rng
        r = {"partner_id": pid, "customer_tenant_id": tenant, "workload": workload_text,
             "month": month, "revenue_usd": fmt_cents(rng, cents), "association": assoc_text,
             "customer_name": rng.choice(CUSTOMER_NAMES),
             "subscription_id": f"sub-{rng.randint(1, 99999)}",
             "channel": rng.choice(["EA", "CSP", "Web Direct", "web direct", ""])}
        self.revenue.append(r)

    def rev_pair(self, pid, tenant, canon, month, cents):
        """Eligible rows summing to exactly `cents` for (tenant, canon, month)."""
        rng = self.rng
        pieces = split_int(rng, cents, rng.choice([1, 1, 2, 3, 4]), allow_credit=True) if cents > 0 else [cents]
        for p in pieces:
            self.rev_row(pid, tenant, self.perf_name(canon), month, p,
                         variant(rng, rng.choice(PERF_ASSOC)))

    def gen_revenue(self, pid: str, profile: str, star: bool = False):
        rng = self.rng
        tenants = [tenant_id(rng) for _ in range(rng.randint(2, 8))]
        used = set()

        def new_pair():
            for _ in range(100):
                t, w = rng.choice(tenants), rng.choice(PERF_WORKLOADS)
                if (t, w) not in used:
                    used.add((t, w))
                    return t, w
            t = tenant_id(rng)
            tenants.append(t)
            w = rng.choice(PERF_WORKLOADS)
            used.add((t, w))
            return t, w

        big = [500001, 600000, 1234567, 500100, 999999]
        if profile == "enterprise":
            n_big = rng.choice([5, 5, 6, 7])
            for _ in range(n_big):
                t, w = new_pair()
                self.rev_pair(pid, t, w, self.latest, rng.choice(big))
                self.rev_pair(pid, t, w, self.baseline, rng.choice(big))
        elif profile == "borderline":
            for _ in range(4):
                t, w = new_pair()
                self.rev_pair(pid, t, w, self.latest, rng.choice(big))
                self.rev_pair(pid, t, w, self.baseline, rng.choice(big))
            # fifth pair decides: exactly 5000 (not more than) or 5000.01
            t, w = new_pair()
            a, b = rng.choice([(500000, 500001), (500001, 500000), (500000, 500000),
                               (500001, 500001), (499999, 600000)])
            self.rev_pair(pid, t, w, self.latest, a)
            self.rev_pair(pid, t, w, self.baseline, b)
        else:
            for _ in range(rng.randint(0, 3)):
                t, w = new_pair()
                self.rev_pair(pid, t, w, self.latest, rng.choice(big))
                self.rev_pair(pid, t, w, self.baseline, rng.choice(big))

        if star:
            for _ in range(rng.randint(4, 7)):
                t, w = new_pair()
                self.rev_pair(pid, t, w, self.latest, rng.choice([150000, 150001, 200000, 25000, 30000]))

        boundary = [25000, 24999, 25001, 150000, 149999, 150001, 500000, 500001, 0,
                    10000, 80000, 300000, 1]
        for _ in range(rng.randint(2, 10)):
            t, w = new_pair()
            months = rng.choice([[self.latest], [self.baseline], [self.latest, self.baseline]])
            for mo in months:
                c = rng.choice(boundary) if rng.random() < 0.8 else rng.randint(0, 2000000)
                self.rev_pair(pid, t, w, mo, c)

        # pair pulled below a threshold by a credit
        if rng.random() < 0.6:
            t, w = new_pair()
            mo = rng.choice([self.latest, self.baseline])
            target = rng.choice([149999, 24999, 500000])
            over = rng.choice([1, 100, 50001])
            self.rev_row(pid, t, self.perf_name(w), mo, target + over, variant(rng, rng.choice(PERF_ASSOC)))
            self.rev_row(pid, t, self.perf_name(w), mo, -over, variant(rng, rng.choice(PERF_ASSOC)))

        # noise: ineligible association / unknown workload / other months
        for _ in range(rng.randint(0, 5)):
            kind = rng.random()
            t = rng.choice(tenants)
            if kind < 0.35:
                self.rev_row(pid, t, self.perf_name(rng.choice(PERF_WORKLOADS)),
                             rng.choice([self.latest, self.baseline]), rng.choice([600000, 150000]),
                             variant(rng, rng.choice(NON_PERF_ASSOC)))
            elif kind < 0.6:
                self.rev_row(pid, t, rng.choice(UNKNOWN_PERF_WORKLOADS),
                             rng.choice([self.latest, self.baseline]), rng.choice([600000, 150000]),
                             variant(rng, rng.choice(PERF_ASSOC)))
            else:
                self.rev_row(pid, t, self.perf_name(rng.choice(PERF_WORKLOADS)),
                             rng.choice(self.other_months), rng.choice([600000, 150000, 25000]),
                             variant(rng, rng.choice(PERF_ASSOC)))

    # ---- usage
    def usage_row(self, pid, tenant, workload_text, month, milli, assoc_text):
        rng = self.rng
        self.usage.append({"partner_id": pid, "customer_tenant_id": tenant,
                           "workload": workload_text, "month": month,
                           "quantity": fmt_milli(rng, milli), "association": assoc_text,
                           "customer_name": rng.choice(CUSTOMER_NAMES)})

    def usage_pair(self, pid, tenant, canon, month, milli):
        """Eligible rows whose quantities sum to exactly milli/1000."""
        rng = self.rng
        rate, family, spellings = USAGE[canon]
        pieces = split_int(rng, milli, rng.choice([1, 1, 2, 3]), allow_credit=False)
        assoc = D365_USAGE_ASSOC if family == "d365" else POWER_USAGE_ASSOC
        for p in pieces:
            self.usage_row(pid, tenant, variant(rng, rng.choice(spellings)), month, p,
                           variant(rng, rng.choice(assoc)))

    @staticmethod
    def milli_for(canon: str, mcv: Decimal) -> int | None:
        """Quantity in thousandths giving exactly `mcv`, or None."""
        rate = USAGE[canon][0]
        q = mcv * 1000 / rate
        return int(q) if q == q.to_integral_value() else None

    def gen_month_usage(self, pid, tenants, month, total: Decimal | None, thresholds, n=None):
        """Pairs near the deployment thresholds; if `total` is given, a last
        pair absorbs the remainder so the month's MCV is exactly `total`."""
        rng = self.rng
        used = set()
        acc = Decimal(0)
        n = rng.randint(1, 5) if n is None else n
        for _ in range(n):
            canon = rng.choice(list(USAGE))
            t = rng.choice(tenants)
            if (t, canon) in used:
                continue
            if rng.random() < 0.75:
                base = rng.choice(thresholds)
                mcv = base + rng.choice([Decimal(0), Decimal(0), Decimal(-1), Decimal(1),
                                          Decimal("-0.2"), Decimal("0.2")])
            else:
                mcv = Decimal(rng.randint(0, 20000))
            milli = self.milli_for(canon, mcv)
            if milli is None or milli < 0:
                continue
            if total is not None and acc + mcv > total:
                continue
            used.add((t, canon))
            acc += mcv
            self.usage_pair(pid, t, canon, month, milli)
        if total is not None and total - acc > 0:
            rem = total - acc
            options = [c for c in USAGE if self.milli_for(c, rem) is not None]
            if not options:
                return
            for _ in range(50):
                canon, t = rng.choice(options), rng.choice(tenants)
                if (t, canon) not in used:
                    break
            else:
                t = tenant_id(rng)
                tenants.append(t)
            self.usage_pair(pid, t, canon, month, self.milli_for(canon, rem))

    def gen_usage(self, pid: str, cls_hint: str, star: bool = False):
        rng = self.rng
        tenants = [tenant_id(rng) for _ in range(rng.randint(1, 6))]
        thresholds = [Decimal(5000), Decimal(10000)]
        prereq = rng.choice([Decimal(25000), Decimal(50000)]) if cls_hint == "any" else (
            Decimal(50000) if cls_hint == "enterprise" else Decimal(25000))
        if star:
            tenants += [tenant_id(rng) for _ in range(4)]
            b_total = prereq + rng.choice([Decimal(0), Decimal(rng.randint(0, 9000))])
            self.gen_month_usage(pid, tenants, self.baseline, b_total, thresholds, n=1)
            l_total = b_total * rng.choice([Decimal("1.3"), Decimal("1.2"), Decimal("1.45")]) + Decimal(40000)
            self.gen_month_usage(pid, tenants, self.latest, l_total, thresholds, n=8)
            return
        b_choice = rng.random()
        if b_choice < 0.35:
            b_total = prereq
        elif b_choice < 0.5:
            b_total = prereq - rng.choice([Decimal("0.2"), Decimal(1), Decimal(100)])
        elif b_choice < 0.6:
            b_total = Decimal(0)
        elif b_choice < 0.85:
            b_total = prereq + Decimal(rng.randint(0, 40000))
        else:
            b_total = None
        if b_total is not None and b_total > 0:
            self.gen_month_usage(pid, tenants, self.baseline, b_total, thresholds)
        elif b_total is None:
            self.gen_month_usage(pid, tenants, self.baseline, None, thresholds)
        l_choice = rng.random()
        base_for_growth = b_total if b_total else prereq
        if l_choice < 0.2:
            l_total = base_for_growth * Decimal("1.3")
        elif l_choice < 0.3:
            l_total = base_for_growth * Decimal("1.3") - Decimal("0.2")
        elif l_choice < 0.4:
            l_total = base_for_growth
        elif l_choice < 0.5:
            l_total = base_for_growth * Decimal("0.9")
        elif l_choice < 0.6:
            l_total = None
        else:
            l_total = base_for_growth + Decimal(rng.randint(-20000, 30000)) + Decimal(rng.randint(0, 9)) / 10
        if l_total is not None:
            l_total = max(l_total, Decimal(0))
        if l_total is None or l_total > 0:
            self.gen_month_usage(pid, tenants, self.latest, l_total, thresholds)

        # noise: wrong family association, Portals, unknown workloads, other months, zeros
        for _ in range(rng.randint(0, 5)):
            kind = rng.random()
            t = rng.choice(tenants)
            if kind < 0.25:
                canon = rng.choice(list(USAGE))
                fam = USAGE[canon][1]
                wrong = POWER_USAGE_ASSOC + ["Some Partner Link", "CPOR RevRec"] if fam == "d365" \
                    else D365_USAGE_ASSOC + ["Some Partner Link"]
                self.usage_row(pid, t, variant(rng, rng.choice(USAGE[canon][2])),
                               rng.choice([self.latest, self.baseline]), 60000,
                               variant(rng, rng.choice(wrong)))
            elif kind < 0.45:
                self.usage_row(pid, t, variant(rng, "Portals"), rng.choice([self.latest, self.baseline]),
                               rng.choice([100000, 5000000]), variant(rng, "PAL"))
            elif kind < 0.6:
                self.usage_row(pid, t, rng.choice(UNKNOWN_USAGE_WORKLOADS),
                               rng.choice([self.latest, self.baseline]), 100000,
                               variant(rng, rng.choice(D365_USAGE_ASSOC + POWER_USAGE_ASSOC)))
            elif kind < 0.8:
                canon = rng.choice(list(USAGE))
                fam = USAGE[canon][1]
                assoc = D365_USAGE_ASSOC if fam == "d365" else POWER_USAGE_ASSOC
                self.usage_row(pid, t, variant(rng, rng.choice(USAGE[canon][2])),
                               rng.choice(self.other_months), 100000, variant(rng, rng.choice(assoc)))
            else:
                canon = rng.choice(list(USAGE))
                fam = USAGE[canon][1]
                assoc = D365_USAGE_ASSOC if fam == "d365" else POWER_USAGE_ASSOC
                self.usage_row(pid, t, variant(rng, rng.choice(USAGE[canon][2])),
                               rng.choice([self.latest, self.baseline]), 0, variant(rng, rng.choice(assoc)))

    # ---- certifications
    def cert_text(self, name: str, cid: str) -> str:
        rng = self.rng
        k = rng.random()
        if k < 0.35:
            base = CERT_PREFIX + name
        elif k < 0.65:
            base = name
        else:
            base = cid
        return variant(rng, base)

    def cert_row(self, pid, person, text, earned: datetime.date, expires: datetime.date | None):
        self.certs.append({"partner_id": pid, "person_id": person, "certification": text,
                           "earned_on": earned.isoformat(),
                           "expires_on": expires.isoformat() if expires else "",
                           "person_name": self.rng.choice(["Ann Lee", "Lee, Ann", "Bo", "", "Zoë Ng"])})

    def held_dates(self):
        """(earned, expires) that make a certification held on D."""
        rng, d = self.rng, self.d
        earned = d - datetime.timedelta(days=rng.choice([0, 1, 30, 200, 700]))
        expires = rng.choice([None, None, d, d + datetime.timedelta(days=rng.choice([1, 365]))])
        return earned, expires

    def edge_dates(self):
        """(earned, expires) around D, held or not."""
        rng, d = self.rng, self.d
        k = rng.random()
        day = datetime.timedelta(days=1)
        if k < 0.2:
            return d, None                          # earned on D: held
        if k < 0.4:
            return d + day, None                    # earned the day after: not held
        if k < 0.55:
            return d - 400 * day, d                 # expires on D: held
        if k < 0.7:
            return d - 400 * day, d - day           # expired the day before: not held
        if k < 0.8:
            return d + 20 * day, d + 400 * day      # future
        return self.held_dates()

    def gen_certs(self, pid: str, profile: str):
        rng = self.rng
        if profile == "enterprise":
            n_int, n_adv = rng.randint(0, 24), rng.choice([5, 6, 7, 7, 8, 9])
        else:
            n_int, n_adv = rng.randint(0, 7), rng.choice([0, 1, 1, 2, 2, 3])
        persons = [f"{pid}-p{i}" if rng.random() < 0.5 else f"user{i}@example.com"
                   for i in range(n_int + n_adv + 3)]
        rng.shuffle(persons)
        people_int = persons[:n_int]
        people_adv = persons[n_int:n_int + n_adv]
        # some advanced people also hold intermediate ones
        for p in people_adv:
            if rng.random() < 0.3:
                people_int.append(p)
        for p in people_int:
            name, cid = rng.choice(INTERMEDIATE)
            e, x = self.held_dates() if rng.random() < 0.7 else self.edge_dates()
            self.cert_row(pid, p, self.cert_text(name, cid), e, x)
            if rng.random() < 0.2:  # second certification, or the same row twice
                if rng.random() < 0.5:
                    self.certs.append(dict(self.certs[-1]))
                else:
                    name, cid = rng.choice(INTERMEDIATE)
                    e, x = self.edge_dates()
                    self.cert_row(pid, p, self.cert_text(name, cid), e, x)
        for p in people_adv:
            name, cid = rng.choice(ADVANCED)
            e, x = self.held_dates() if rng.random() < 0.75 else self.edge_dates()
            self.cert_row(pid, p, self.cert_text(name, cid), e, x)
            if rng.random() < 0.25:
                name, cid = rng.choice(ADVANCED)
                e, x = self.held_dates()
                self.cert_row(pid, p, self.cert_text(name, cid), e, x)
        # retired certifications, held on D
        for name, _last in RETIRED.items():
            if rng.random() < 0.4:
                cid = dict(INTERMEDIATE + ADVANCED)[name]
                e, x = self.held_dates()
                self.cert_row(pid, rng.choice(persons), self.cert_text(name, cid), e, x)
        # unknown certifications
        for _ in range(rng.randint(0, 3)):
            e, x = self.held_dates()
            self.cert_row(pid, rng.choice(persons), rng.choice(UNKNOWN_CERTS), e, x)

    def gen_exact70(self, pid: str):
        """An SMB partner whose total is exactly 70 (qualified), 69.99, or 70
        with one metric at 0 (not qualified)."""
        rng = self.rng
        kind = rng.choice(["70", "69.99", "70-zero-deployments"])
        # net customer adds: 5 pairs of exactly $250 in the latest month -> 15
        t = [tenant_id(rng) for _ in range(5)]
        ws = rng.sample(PERF_WORKLOADS, 5)
        for i in range(5):
            self.rev_pair(pid, t[i], ws[i], self.latest, 25000)
        # skilling: 5 intermediate (20) and 2 advanced (15) people
        for i in range(7):
            name, cid = rng.choice(INTERMEDIATE if i < 5 else ADVANCED[:2] + ADVANCED[3:])
            while name in RETIRED:
                name, cid = rng.choice(INTERMEDIATE)
            e, x = self.held_dates()
            self.cert_row(pid, f"{pid}-x{i}", self.cert_text(name, cid), e, x)
        # usage: baseline exactly 25,000 in one deployment
        ut = [tenant_id(rng) for _ in range(3)]
        self.usage_pair(pid, ut[0], "Business Central", self.baseline, 25000)
        if kind == "70":            # growth 16 -> 16 points, deployments +1 -> 4
            self.usage_pair(pid, ut[0], "Business Central", self.latest, 5000)
            self.usage_pair(pid, ut[1], "Power BI", self.latest, 120000)
        elif kind == "69.99":       # growth 15.99
            self.usage_pair(pid, ut[0], "Business Central", self.latest, 5000)
            self.usage_pair(pid, ut[1], "Finance & Operations", self.latest, 239975)
        else:                       # growth 20, deployments 0
            self.usage_pair(pid, ut[0], "Business Central", self.latest, 30000)

    # ---- whole dataset
    def build(self, out: Path) -> str:
        rng = self.rng
        out.mkdir(parents=True, exist_ok=True)
        for pid in self.partners:
            profile = rng.choice(["enterprise", "enterprise", "borderline", "smb", "smb", "tiny",
                                  "star", "star-enterprise", "exact70"])
            if profile == "exact70":
                self.gen_exact70(pid)
                continue
            star = profile.startswith("star")
            profile = {"star": "smb", "star-enterprise": "enterprise"}.get(profile, profile)
            cls_hint = {"enterprise": "enterprise", "smb": "smb"}.get(profile, "any")
            what = rng.random()
            if profile == "tiny":
                # rows that all count for nothing, or only one kind of table
                k = rng.random()
                if k < 0.3:
                    self.rev_row(pid, tenant_id(rng), "Azure", self.latest, 100000, "DPOR")
                elif k < 0.6:
                    self.usage_row(pid, tenant_id(rng), "Portals", self.baseline, 900000, "PAL")
                elif k < 0.8:
                    self.rev_row(pid, tenant_id(rng), "Sales", self.month, 900000, "DPOR")
                else:
                    self.gen_certs(pid, "smb")
                continue
            if star:
                self.gen_revenue(pid, profile, star=True)
                self.gen_usage(pid, cls_hint, star=True)
                self.gen_certs(pid, profile)
                continue
            if what < 0.9:
                self.gen_revenue(pid, profile)
            if what > 0.05:
                self.gen_usage(pid, cls_hint)
            if rng.random() < 0.85:
                self.gen_certs(pid, profile)

        # duplicate rows
        for table in (self.revenue, self.usage):
            for _ in range(rng.randint(0, 3)):
                if table:
                    table.insert(rng.randrange(len(table) + 1), dict(rng.choice(table)))
        for table in (self.revenue, self.usage, self.certs):
            rng.shuffle(table)

        if rng.random() > 0.1:
            write_table(rng, out / "revenue.csv",
                        ["partner_id", "customer_tenant_id", "workload", "month", "revenue_usd", "association"],
                        ["customer_name", "subscription_id", "channel"], self.revenue)
        if rng.random() > 0.1:
            write_table(rng, out / "usage.csv",
                        ["partner_id", "customer_tenant_id", "workload", "month", "quantity", "association"],
                        ["customer_name"], self.usage)
        if rng.random() > 0.1:
            cert_optional = ["person_name"]
            if any(r["expires_on"] for r in self.certs) or rng.random() < 0.7:
                cols = ["partner_id", "person_id", "certification", "earned_on", "expires_on"]
            else:
                cols = ["partner_id", "person_id", "certification", "earned_on"]
            write_table(rng, out / "certifications.csv", cols, cert_optional, self.certs)
        if rng.random() < 0.5:
            listed = rng.sample(self.partners, rng.randint(0, len(self.partners)))
            extra = partner_ids(rng, len(self.partners) + 1)
            extra = [p for p in extra if p not in self.partners][:1]
            rows = []
            for p in listed + extra:
                ann = ""
                if rng.random() < 0.4:
                    ann = (self.d + datetime.timedelta(days=rng.randint(-300, 300))).isoformat()
                rows.append({"partner_id": p, "name": rng.choice(PARTNER_NAMES), "anniversary_date": ann})
            write_table(rng, out / "partners.csv", ["partner_id"], ["name", "anniversary_date"], rows)

        (out / "MONTH").write_text(self.month + "\n")
        return self.month


def generate(out_dir, seed: int, partners: int | None = None) -> str:
    """Write the dataset for `seed` into out_dir; return its target month."""
    return Gen(seed, partners).build(Path(out_dir))


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description="Generate a random edge-case dataset for pcs.")
    ap.add_argument("out_dir")
    ap.add_argument("--seed", type=int, required=True)
    ap.add_argument("--partners", type=int, default=None)
    args = ap.parse_args(argv)
    print(generate(args.out_dir, args.seed, args.partners))
    return 0


if __name__ == "__main__":
    sys.exit(main())
