#!/usr/bin/env python3
"""Benchmark of issue 11: every area against Business Applications alone,
rows read per CPU-second and peak RSS, for one or more pcs binaries.

Usage:
    python3 bench/areas.py [--pcs target/release/pcs] [--pcs OTHER ...]
                           [--ba-baseline OLD_PCS]
                           [--partners 20000] [--profiles default,dense] [--runs 3]
                           [--seed 1] [--month 2024-07] [--data bench/data]

For each profile the dataset is `pcs generate DIR --partners N --profile P
--seed S` (CSV, six tables), made by the first binary unless DIR already
holds one (`DIR/GENERATED`, the generator's summary line, is its marker);
beside it, DIR-ba holds links to the four Business Applications tables.

Each binary, each dataset, --runs times, the binaries and runs alternated
(run 1 of every binary, then run 2, ...), each run its own process with
default threads:
  - `pcs score DIR-ba --area business_applications` (the four tables),
  - `pcs score DIR --area business_applications` (six tables: acr and
    licenses read and validated, not aggregated),
  - `pcs score DIR --area all`,
all with `--month M --format jsonl -q` to /dev/null, timed by
/usr/bin/time (wall, user + system CPU, peak RSS).

`--ba-baseline OLD_PCS` adds a binary timed on the four Business
Applications tables only, given no `--area` (builds from before every area,
such as 8477fa9, the main of the day issue 11 was filed, have no such
option and score Business Applications alone), alternated with the others.

Rows are the data rows of the tables a run reads, from the generator's
summary line (partners, revenue, usage, certification, acr, licenses rows);
the header lines are not counted. The table printed (Markdown) holds the
median CPU time and wall time of the runs, rows per CPU-second from the
median CPU time, and the largest peak RSS.
"""

from __future__ import annotations

import argparse
import re
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
TIME = Path("/usr/bin/time")
BA_TABLES = ("revenue", "usage", "certifications", "partners")
ALL_TABLES = BA_TABLES + ("acr", "licenses")


def log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


def generate(pcs: str, d: Path, partners: int, profile: str, seed: int) -> None:
    if (d / "GENERATED").is_file():
        return
    tmp = d.with_name(d.name + ".tmp")
    subprocess.run(["rm", "-rf", str(tmp)], check=True)
    log(f"generating {d} ...")
    r = subprocess.run([pcs, "generate", str(tmp), "--partners", str(partners),
                        "--profile", profile, "--seed", str(seed)],
                       capture_output=True, text=True)
    if r.returncode != 0:
        raise SystemExit(f"pcs generate failed: {r.stderr}")
    (tmp / "GENERATED").write_text((r.stdout + r.stderr).strip() + "\n")
    tmp.rename(d)


def ba_dir(d: Path) -> Path:
    b = d.with_name(d.name + "-ba")
    if not b.is_dir():
        b.mkdir()
        for t in BA_TABLES:
            (b / f"{t}.csv").symlink_to((d / f"{t}.csv").resolve())
    return b


def rows(d: Path) -> dict[str, int]:
    text = (d / "GENERATED").read_text()
    m = re.search(r"(\d+) partners\): (\d+) revenue, (\d+) usage, (\d+) certification, "
                  r"(\d+) acr, (\d+) licenses", text)
    if not m:
        raise SystemExit(f"{d}/GENERATED: no row counts in {text!r}")
    names = ("partners", "revenue", "usage", "certifications", "acr", "licenses")
    return dict(zip(names, (int(x) for x in m.groups())))


def measure(cmd: list[str]) -> tuple[float, float, int]:
    """(wall s, user + system CPU s, peak RSS KB) of one run."""
    with tempfile.NamedTemporaryFile("r", prefix="pcs-areas-time-") as tf:
        full = [str(TIME), "-f", "%e %U %S %M", "-o", tf.name] + cmd
        r = subprocess.run(full, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        if r.returncode != 0:
            raise SystemExit(f"failed ({r.returncode}): {' '.join(cmd)}\n"
                             f"{r.stderr.decode(errors='replace')[-2000:]}")
        e, u, s, m = Path(tf.name).read_text().split()[-4:]
        return float(e), float(u) + float(s), int(m)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--pcs", action="append", help="a pcs binary (repeat to compare; "
                    "default target/release/pcs)")
    ap.add_argument("--ba-baseline", help="a pcs binary timed on Business Applications' "
                    "four tables only, without --area (an older build)")
    ap.add_argument("--partners", type=int, default=20000)
    ap.add_argument("--profiles", default="default,dense")
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--month", default="2024-07")
    ap.add_argument("--data", type=Path, default=BENCH / "data")
    args = ap.parse_args()
    if not TIME.exists():
        raise SystemExit("needs /usr/bin/time (Debian: apt-get install time)")
    binaries = args.pcs or [str(ROOT / "target" / "release" / "pcs")]
    args.data.mkdir(parents=True, exist_ok=True)

    runs = []  # (profile, dir, dir-ba, rows)
    for profile in args.profiles.split(","):
        d = args.data / f"areas-{profile}-csv-{args.partners}p-seed{args.seed}"
        generate(binaries[0], d, args.partners, profile, args.seed)
        runs.append((profile, d, ba_dir(d), rows(d)))

    common = ["--month", args.month, "--format", "jsonl", "-q"]
    cases = []  # (profile, label, rows, argv tail, binaries)
    base = [args.ba_baseline] if args.ba_baseline else []
    for profile, d, b, n in runs:
        ba_rows = sum(n[t] for t in BA_TABLES)
        all_rows = sum(n[t] for t in ALL_TABLES)
        if base:
            cases.append((profile, "Business Applications, 4 tables (baseline build)", ba_rows,
                          [str(b)], base))
        cases.append((profile, "Business Applications, 4 tables", ba_rows,
                      [str(b), "--area", "business_applications"], binaries))
        cases.append((profile, "Business Applications, 6 tables", all_rows,
                      [str(d), "--area", "business_applications"], binaries))
        cases.append((profile, "every area, 6 tables", all_rows,
                      [str(d), "--area", "all"], binaries))

    results: dict[tuple[int, int], list[tuple[float, float, int]]] = {}
    for r in range(args.runs):
        for ci, (profile, label, _, tail, bins) in enumerate(cases):
            for bi, pcs in enumerate(bins):
                res = measure([pcs, "score"] + tail + common)
                results.setdefault((ci, bi), []).append(res)
                log(f"run {r + 1}: {pcs} {profile} {label}: {res[1]:.2f} s CPU, "
                    f"{res[0]:.2f} s wall, {res[2] / 1024:.0f} MiB")

    print(f"\n{args.partners:,} partners, seed {args.seed}, month {args.month}, CSV; "
          f"{args.runs} alternated runs, medians (peak RSS: the largest)\n")
    print("| profile | run | binary | rows read | CPU s (user + sys) | wall s | "
          "rows per CPU-second | peak RSS MiB |")
    print("| --- | --- | --- | ---: | ---: | ---: | ---: | ---: |")
    for ci, (profile, label, n, _, bins) in enumerate(cases):
        for bi, pcs in enumerate(bins):
            rs = results[(ci, bi)]
            cpu = statistics.median(x[1] for x in rs)
            wall = statistics.median(x[0] for x in rs)
            rss = max(x[2] for x in rs) / 1024
            print(f"| {profile} | {label} | {pcs} | {n:,} | {cpu:.2f} | {wall:.2f} | "
                  f"{n / cpu / 1e6:.2f} M | {rss:.0f} |")


if __name__ == "__main__":
    main()
