#!/usr/bin/env python3
"""Instructions per row: every area against Business Applications alone,
counted by valgrind's callgrind, for one or more pcs binaries.

Usage:
    python3 bench/instructions.py [--pcs target/release/pcs] [--pcs OTHER ...]
                                  [--partners 2000] [--profile default]
                                  [--seed 1] [--month 2024-07] [--data bench/data]

CPU seconds on a shared two-core machine move by 15 % or more between runs
of one binary (bench/README.md); the instructions a run executes do not
depend on the load. This counts them, as a second measure beside
`bench/areas.py`'s times (not instead of them: an instruction is not a
cycle, a cache miss costs none here).

The dataset is `pcs generate DIR --partners N --profile P --seed S` (CSV,
six tables; `bench/areas.py` makes and names it the same way), and DIR-ba
links to its four Business Applications tables. Each binary runs, once,
under `valgrind --tool=callgrind`:
  - `pcs score DIR-ba --area business_applications` (four tables),
  - `pcs score DIR --area business_applications` (six tables: acr and
    licenses read and validated, not aggregated),
  - `pcs score DIR --area all`,
all with `--month M --format jsonl -q` to /dev/null. Printed per run: the
instructions, per data row read, and the instructions inside
scoring (`score_partner_with`, `score_areas_with`) and in writing the
score objects (`render`), from `callgrind_annotate --inclusive=yes` (the
largest count listed for each function: an approximate split).
The standard output of each run is compared between binaries (the same
bytes, or the script stops).
"""

from __future__ import annotations

import argparse
import hashlib
import re
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import areas  # noqa: E402  (the dataset helpers, shared)

ROOT = areas.ROOT

# Each phase: the functions whose inclusive counts add up to it (none calls
# another): scoring a partner (Business Applications' own engine, the other
# areas together) and writing its score objects (`pcs score --area
# business_applications` and `--area all` go through different writers).
PHASES = {
    "scoring": [r"pcs_core::area::score::score_areas_with(\s|$)",
                r"pcs_core::score::score_partner_with(\s|$)"],
    "output": [r"pcs::areas_cmd::render(\s|$)", r"pcs::output::render(\s|$)"],
}


def callgrind(cmd: list[str]) -> tuple[int, dict[str, int], str]:
    """(instructions, {phase: inclusive instructions}, sha256 of stdout)."""
    with tempfile.TemporaryDirectory(prefix="pcs-instr-") as tmp:
        out = Path(tmp) / "cg.out"
        stdout = Path(tmp) / "stdout"
        with stdout.open("wb") as so:
            r = subprocess.run(["valgrind", "--tool=callgrind", f"--callgrind-out-file={out}"]
                               + cmd, stdout=so, stderr=subprocess.PIPE, text=True)
        if r.returncode != 0:
            raise SystemExit(f"failed ({r.returncode}): {' '.join(cmd)}\n{r.stderr[-2000:]}")
        m = re.search(r"Collected : (\d+)", r.stderr)
        if not m:
            raise SystemExit(f"no instruction count from callgrind:\n{r.stderr[-2000:]}")
        total = int(m.group(1))
        ann = subprocess.run(["callgrind_annotate", "--inclusive=yes", str(out)],
                             capture_output=True, text=True, check=True).stdout
        phases = {}
        for name, patterns in PHASES.items():
            phases[name] = 0
            for pattern in patterns:
                counts = [int(x.group(1).replace(",", "")) for x in re.finditer(
                    r"^\s*([\d,]+) \(\s*[\d.]+%\)\s+\S*" + pattern, ann, re.M)]
                phases[name] += max(counts, default=0)
        digest = hashlib.sha256(stdout.read_bytes()).hexdigest()
        return total, phases, digest


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--pcs", action="append", help="a pcs binary (repeat to compare; "
                    "default target/release/pcs)")
    ap.add_argument("--partners", type=int, default=2000)
    ap.add_argument("--profile", default="default")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--month", default="2024-07")
    ap.add_argument("--data", type=Path, default=areas.BENCH / "data")
    args = ap.parse_args()
    for tool in ("valgrind", "callgrind_annotate"):
        if subprocess.run(["which", tool], capture_output=True).returncode != 0:
            raise SystemExit(f"needs {tool} (Debian: apt-get install valgrind)")
    binaries = args.pcs or [str(ROOT / "target" / "release" / "pcs")]
    args.data.mkdir(parents=True, exist_ok=True)
    d = args.data / f"areas-{args.profile}-csv-{args.partners}p-seed{args.seed}"
    areas.generate(binaries[0], d, args.partners, args.profile, args.seed)
    b = areas.ba_dir(d)
    n = areas.rows(d)
    ba_rows = sum(n[t] for t in areas.BA_TABLES)
    all_rows = sum(n[t] for t in areas.ALL_TABLES)
    common = ["--month", args.month, "--format", "jsonl", "-q"]
    cases = [
        ("Business Applications, 4 tables", ba_rows, [str(b), "--area", "business_applications"]),
        ("Business Applications, 6 tables", all_rows, [str(d), "--area", "business_applications"]),
        ("every area, 6 tables", all_rows, [str(d), "--area", "all"]),
    ]
    print(f"\n{args.partners:,} partners, {args.profile} profile, seed {args.seed}, "
          f"month {args.month}, CSV; one callgrind run each (instructions, not time)\n")
    print("| run | binary | rows read | instructions | per row | scoring | output |")
    print("| --- | --- | ---: | ---: | ---: | ---: | ---: |")
    per_row: dict[tuple[str, str], float] = {}
    for label, rows, tail in cases:
        digests = set()
        for pcs in binaries:
            total, phases, digest = callgrind([pcs, "score"] + tail + common)
            digests.add(digest)
            per_row[(label, pcs)] = total / rows
            print(f"| {label} | {pcs} | {rows:,} | {total / 1e9:.3f} G | {total / rows:,.0f} | "
                  f"{phases['scoring'] / 1e9:.3f} G | {phases['output'] / 1e9:.3f} G |",
                  flush=True)
        if len(digests) > 1:
            raise SystemExit(f"{label}: the binaries' outputs differ")
    print()
    for pcs in binaries:
        ratio = per_row[("Business Applications, 4 tables", pcs)] / \
            per_row[("every area, 6 tables", pcs)]
        print(f"{pcs}: every area ÷ Business Applications, rows per instruction: {ratio:.2f}")


if __name__ == "__main__":
    main()
