#!/usr/bin/env python3
"""Peak memory of `pcs score`: two binaries, alternated, on the bench's datasets.

    python3 bench/mem_peak.py OLD_PCS NEW_PCS [--runs 3] [--data bench/data]

For Business Applications alone (`DIR-ba`, `--area business_applications`)
and every area (`DIR`, the default `--area all`), default and dense profiles,
CSV and Parquet, it runs `pcs score DIR --month 2024-07 --format jsonl -q`
with each binary in turn (old, new, old, new, ...), output to a digest that
must be the same, and prints per case the peak RSS over the runs (GNU
time's %M, in MB of 1024 KiB as bench/run.py prints it) and the median wall
and CPU (user + sys) seconds. Datasets are those `bench/run.py
--keep-data` leaves: `{profile}-{format}-20000p-seed1[-ba]`.
"""
import argparse
import hashlib
import os
import statistics
import subprocess
import sys
import tempfile


def run(pcs, data_dir, area):
    with tempfile.NamedTemporaryFile("r") as t:
        cmd = ["/usr/bin/time", "-o", t.name, "-f", "%M %e %U %S", pcs, "score", data_dir,
               "--month", "2024-07", "--format", "jsonl", "-q", "--area", area]
        p = subprocess.Popen(cmd, stdout=subprocess.PIPE)
        h = hashlib.sha256()
        for chunk in iter(lambda: p.stdout.read(1 << 20), b""):
            h.update(chunk)
        if p.wait() != 0:
            sys.exit(f"failed: {' '.join(cmd)}")
        rss, wall, user, sys_ = t.read().split()[-4:]
        return int(rss) / 1024, float(wall), float(user) + float(sys_), h.hexdigest()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("old")
    ap.add_argument("new")
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--data", default=os.path.join(os.path.dirname(__file__), "data"))
    a = ap.parse_args()
    print(f"load average at the start: {os.getloadavg()}")
    print("| case | profile | format | binary | peak RSS MB | wall s | CPU s |")
    print("| --- | --- | --- | --- | ---: | ---: | ---: |")
    for case, suffix, area in [("BA alone", "-ba", "business_applications"), ("all areas", "", "all")]:
        for profile in ["default", "dense"]:
            for fmt in ["csv", "parquet"]:
                d = os.path.join(a.data, f"{profile}-{fmt}-20000p-seed1{suffix}")
                res = {"old": [], "new": []}
                digests = set()
                for _ in range(a.runs):
                    for which in ["old", "new"]:
                        rss, wall, cpu, digest = run(getattr(a, which), d, area)
                        res[which].append((rss, wall, cpu))
                        digests.add(digest)
                if len(digests) != 1:
                    sys.exit(f"outputs differ on {d}")
                for which in ["old", "new"]:
                    r = res[which]
                    med = lambda i: statistics.median(x[i] for x in r)
                    print(f"| {case} | {profile} | {fmt} | {which} | {max(x[0] for x in r):.0f} | {med(1):.2f} | {med(2):.2f} |",
                          flush=True)
    print(f"load average at the end: {os.getloadavg()}")


if __name__ == "__main__":
    main()
