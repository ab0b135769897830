#!/usr/bin/env python3
"""A shape `pcs generate` does not make: few partners with many rows, every
partner's rows interleaved with the others' (as in a file sorted by month,
or shuffled).

    python3 bench/interleave.py SRC DST [--partners 5] [--seed 1]

Copies the CSV tables of SRC (a `pcs generate` dataset) to DST with the
rows of every table shuffled (header kept), and the rows of acr, licenses
and revenue given in turn to the first N partners of partners.csv, so each
of them has hundreds of times the usual rows, interleaved one by one. With
`--partners 0` every row keeps its partner: only the order changes (every
partner's rows spread over the whole file).
Standard library only.
"""

import argparse
import os
import random


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("src")
    ap.add_argument("dst")
    ap.add_argument("--partners", type=int, default=5)
    ap.add_argument("--seed", type=int, default=1)
    a = ap.parse_args()
    rng = random.Random(a.seed)
    os.makedirs(a.dst, exist_ok=True)
    with open(os.path.join(a.src, "partners.csv"), encoding="utf-8") as f:
        ids = [line.split(",", 1)[0] for line in f.read().splitlines()[1:1 + a.partners]]
    for name in sorted(os.listdir(a.src)):
        if not name.endswith(".csv"):
            continue
        with open(os.path.join(a.src, name), encoding="utf-8", newline="") as f:
            lines = f.read().splitlines()
        header, rows = lines[0], lines[1:]
        rng.shuffle(rows)
        if ids and name in ("acr.csv", "licenses.csv", "revenue.csv"):
            rows = [ids[i % len(ids)] + "," + r.split(",", 1)[1] for i, r in enumerate(rows)]
        with open(os.path.join(a.dst, name), "w", encoding="utf-8", newline="") as f:
            f.write("\n".join([header] + rows) + "\n")


if __name__ == "__main__":
    main()
