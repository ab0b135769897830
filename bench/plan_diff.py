#!/usr/bin/env python3
"""Differential check of `pcs plan --area …` between two builds.

Usage: plan_diff.py run BINARY OUTDIR DATASET MONTH   (runs every partner x
       area combination: each area alone, every pair, and `all`; writes one
       JSON per run and times.tsv)
       plan_diff.py compare OLDDIR NEWDIR             (compares the answers)

An answer is the plan without `search.scenarios_scored` (and the search
statistics that only say how the search went). A plan the old build proved
(`search.exact`) must be identical in the new one; a plan the old build left
greedy must, in the new one, be exact and cost no more, or stay greedy.
"""
import csv, itertools, json, os, subprocess, sys, time

AREAS = ["business_applications", "azure_infrastructure", "azure_data_ai",
         "azure_digital_app_innovation", "modern_work", "security"]


def combos():
    for a in AREAS:
        yield [a]
    for a, b in itertools.combinations(AREAS, 2):
        yield [a, b]
    yield ["all"]


def run(binary, outdir, dataset, month):
    os.makedirs(outdir, exist_ok=True)
    with open(os.path.join(dataset, "partners.csv")) as f:
        partners = [r["partner_id"] for r in csv.DictReader(f)]
    with open(os.path.join(outdir, "times.tsv"), "a") as times:
        for p in partners:
            for c in combos():
                name = f"{p}-{'+'.join(c)}.json"
                path = os.path.join(outdir, name)
                if os.path.exists(path):
                    continue
                args = [binary, "plan", dataset, "--partner", p, "--month", month,
                        "--format", "json", "-q"]
                for a in c:
                    args += ["--area", a]
                t = time.monotonic()
                r = subprocess.run(args, capture_output=True, text=True)
                dt = time.monotonic() - t
                out = r.stdout if r.returncode == 0 else json.dumps(
                    {"error": r.returncode, "stderr": r.stderr})
                with open(path + ".tmp", "w") as f:
                    f.write(out)
                os.rename(path + ".tmp", path)
                times.write(f"{name}\t{dt:.2f}\n")
                times.flush()


def answer(d):
    d = json.loads(json.dumps(d))
    s = d.get("search")
    if s:
        for k in ("scenarios_scored", "candidates_visited", "stopped_by"):
            s.pop(k, None)
    return d


def compare(old, new):
    same = proven_same = now_exact = still_greedy = differ = 0
    problems = []
    for name in sorted(os.listdir(old)):
        if not name.endswith(".json"):
            continue
        if not os.path.exists(os.path.join(new, name)):
            continue
        a = json.load(open(os.path.join(old, name)))
        b = json.load(open(os.path.join(new, name)))
        if "error" in a or "error" in b:
            if a != b:
                problems.append(f"{name}: error {a.get('error')} vs {b.get('error')}")
            else:
                same += 1
            continue
        sa, sb = a["search"], b["search"]
        if sa["exact"]:
            if answer(a) == answer(b):
                proven_same += 1
            else:
                differ += 1
                problems.append(f"{name}: a proven answer changed")
        else:
            if sb["exact"]:
                now_exact += 1
                print(f"{name}: greedy {a['total_cost']} -> exact {b['total_cost']}")
                if a["reachable"] and b["reachable"] and float(b["total_cost"]) > float(a["total_cost"]):
                    problems.append(f"{name}: exact costs more than greedy")
            else:
                still_greedy += 1
                print(f"{name}: still not exact ({a['total_cost']} -> {b['total_cost']})")
    print(f"proven answers identical: {proven_same}; errors identical: {same}; "
          f"greedy before, exact now: {now_exact}; still not exact: {still_greedy}; "
          f"proven answers changed: {differ}")
    for p in problems:
        print("PROBLEM:", p)
    return 1 if problems else 0


if __name__ == "__main__":
    if sys.argv[1] == "run":
        run(*sys.argv[2:6])
    else:
        sys.exit(compare(*sys.argv[2:4]))
