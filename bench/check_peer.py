#!/usr/bin/env python3
"""Correctness check of the benchmark's peers (DuckDB: bench/peer.sql; Polars:
bench/peer_polars.py) against pcs.

Usage:
    python3 bench/check_peer.py --pcs PATH_TO_PCS [--partners 300] [--seeds 0-9]
                                [--peers duckdb,polars] [--keep DIR]

Cases, for each peer (each passes when the peer's scores equal pcs's on every
field of the contract, numbers compared as decimals):
  - `pcs generate --partners N` as CSV, scored for 2024-07;
  - the same as Parquet;
  - `pcs generate --partners N --profile dense` as CSV;
  - one random edge-case dataset of the oracle per seed
    (tests/oracle/gen_random.py DIR --seed S; the month is in DIR/MONTH).

duckdb and polars are installed into bench/.venv when missing. Prints the first
differences and a last line `N passed, M failed`; exit status 1 on any
mismatch (2 when the check itself cannot run).
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from benchlib import (PEERS, ROOT, child_env, compare_files, differential, ensure_duckdb, log, pcs_cmd,
                      peer_cmd)

GEN_RANDOM = ROOT / "tests" / "oracle" / "gen_random.py"


def run_case(name: str, pcs: str, dataset: Path, month: str, peers: list[str]) -> dict[str, list[str]]:
    """Per peer, the differences (or failures) for one dataset; [] when identical."""
    pcs_out = dataset / "pcs.jsonl"
    with open(pcs_out, "w") as fh:
        p = subprocess.run(pcs_cmd(pcs, dataset, month), stdout=fh, stderr=subprocess.PIPE,
                           text=True, env=child_env())
    if p.returncode != 0:
        return {peer: [f"pcs exited {p.returncode}: {p.stderr.strip()[-500:]}"] for peer in peers}
    out = {}
    for peer in peers:
        peer_out = dataset / f"{peer}.jsonl"
        q = subprocess.run(peer_cmd(dataset, month, peer_out, peer), capture_output=True, text=True,
                           env=child_env())
        if q.returncode != 0:
            out[peer] = [f"peer exited {q.returncode}: {q.stderr.strip()[-1500:]}"]
            continue
        try:
            out[peer] = compare_files(pcs_out, peer_out)
        except ValueError as e:
            out[peer] = [str(e)]
    return out


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--pcs", required=True, help="the pcs binary")
    ap.add_argument("--partners", type=int, default=300, help="partners of the generated dataset")
    ap.add_argument("--seeds", default="0-9", help="oracle random datasets, e.g. 0-9 or 3,7")
    ap.add_argument("--keep", help="keep the datasets and outputs in this directory")
    ap.add_argument("--max-lines", type=int, default=30, help="differences shown per case")
    ap.add_argument("--peers", default=",".join(PEERS), help="peers to check (default: all)")
    args = ap.parse_args(argv)
    peers = [p for p in args.peers.split(",") if p]
    if not peers or any(p not in PEERS for p in peers):
        log(f"--peers: each of {', '.join(PEERS)}")
        return 2

    pcs = args.pcs
    if not (Path(pcs).is_file() or shutil.which(pcs)):
        log(f"pcs binary not found: {pcs}")
        return 2
    pcs = str(Path(pcs).resolve()) if Path(pcs).is_file() else pcs
    ensure_duckdb()

    if args.keep:
        work = Path(args.keep)
        if work.exists():
            shutil.rmtree(work)
        work.mkdir(parents=True)
        tmp = None
    else:
        tmp = tempfile.TemporaryDirectory(prefix="pcs-check-peer-")
        work = Path(tmp.name)

    cases: list[tuple[str, Path, str]] = []
    for fmt, profile in (("csv", "default"), ("parquet", "default"), ("csv", "dense")):
        d = work / f"generated-{profile}-{fmt}"
        r = subprocess.run([pcs, "generate", str(d), "--partners", str(args.partners),
                            "--format", fmt, "--profile", profile, "--seed", "7"],
                           capture_output=True, text=True)
        if r.returncode != 0:
            log(f"pcs generate failed: {r.stderr.strip()}")
            return 2
        cases.append((f"pcs generate --partners {args.partners} --format {fmt} --profile {profile}",
                      d, "2024-07"))
    for seed in differential.parse_seeds(args.seeds):
        d = work / f"oracle-seed-{seed}"
        r = subprocess.run([sys.executable, str(GEN_RANDOM), str(d), "--seed", str(seed)],
                           capture_output=True, text=True)
        if r.returncode != 0:
            log(f"gen_random.py --seed {seed} failed: {r.stderr.strip()}")
            return 2
        month = (d / "MONTH").read_text().strip()
        cases.append((f"oracle dataset seed {seed} (month {month})", d, month))

    passed = failed = 0
    try:
        for name, dataset, month in cases:
            for peer, diffs in run_case(name, pcs, dataset, month, peers).items():
                if not diffs:
                    passed += 1
                    print(f"ok    {peer:7} {name}")
                    continue
                failed += 1
                where = dataset if tmp is None else "(rerun with --keep DIR to keep the data)"
                print(f"FAIL  {peer:7} {name}: {len(diffs)} difference(s) {where}")
                for line in diffs[:args.max_lines]:
                    print(f"      {line}")
                if len(diffs) > args.max_lines:
                    print(f"      ... {len(diffs) - args.max_lines} more")
    finally:
        if tmp is not None:
            tmp.cleanup()
    print(f"{passed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
