#!/usr/bin/env python3
"""`pcs score --cluster` on a loopback cluster against the native path.

Starts `pcs cluster scheduler` and two `pcs cluster executor`s on this
machine, then runs, alternated, `pcs score DATA --month M` natively and with
`--cluster df://127.0.0.1:PORT` on the same Parquet dataset; checks that both
print the same bytes; and reports wall, CPU (user + sys; for the cluster the
client's and the scheduler's and executors' CPU during the run) and peak RSS
(the client's; the executors' largest), with the per-query times that
`pcs -v` prints for the last cluster run.

    python3 bench/cluster.py --pcs target/release/pcs --data DIR [--month 2024-07]
        [--runs 3] [--areas business_applications|all] [--slots 2] [--max-mib 14336]

`--max-mib` stops the benchmark (exit 1) when the client's, scheduler's and
executors' resident memory together pass it (sampled every 0.2 s), so that
a scale too large for the machine ends before it takes the machine's memory.

Make the dataset with `pcs generate DIR --partners 320000 --format parquet`
(or `pcs convert` of a CSV one). Linux only (reads /proc). Standard library only.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import resource
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

TICK = os.sysconf("SC_CLK_TCK")


def log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(port: int, proc: subprocess.Popen, what: str) -> None:
    start = time.time()
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            if proc.poll() is not None:
                raise SystemExit(f"{what} ended with {proc.returncode}")
            if time.time() - start > 120:
                raise SystemExit(f"{what}: nothing listens on port {port} after 120 s")
            time.sleep(0.1)


def cpu_seconds(pid: int) -> float:
    """User + system CPU of a live process (and its reaped children)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    # utime, stime, cutime, cstime are fields 14-17 (1-based; 2 consumed by the split).
    return sum(int(x) for x in fields[11:15]) / TICK


def peak_rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return 0.0


def rss_mib(pid: int) -> float:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


def timed(cmd: list[str], servers: list[subprocess.Popen], max_mib: float) -> dict:
    """Runs cmd; wall, its CPU and peak RSS, and each server's CPU meanwhile.
    Stops everything if the client and servers together pass max_mib."""
    before = [cpu_seconds(p.pid) for p in servers]
    ru0 = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    peak_total = [0.0]
    over = threading.Event()

    def watch() -> None:
        while proc.poll() is None:
            total = rss_mib(proc.pid) + sum(rss_mib(p.pid) for p in servers)
            peak_total[0] = max(peak_total[0], total)
            if total > max_mib:
                over.set()
                proc.kill()
                return
            time.sleep(0.2)

    watcher = threading.Thread(target=watch, daemon=True)
    watcher.start()
    out, err = proc.communicate()
    wall = time.perf_counter() - t0
    watcher.join()
    ru1 = resource.getrusage(resource.RUSAGE_CHILDREN)
    if over.is_set():
        raise SystemExit(f"{' '.join(cmd)}: the client and cluster passed {max_mib:.0f} MiB "
                         f"of resident memory together; stopped (use a smaller dataset)")
    if proc.returncode != 0:
        raise SystemExit(f"{' '.join(cmd)} failed:\n{err.decode(errors='replace')}")
    after = [cpu_seconds(p.pid) for p in servers]
    client_cpu = (ru1.ru_utime - ru0.ru_utime) + (ru1.ru_stime - ru0.ru_stime)
    each = [a - b for a, b in zip(after, before)]
    return {
        "wall": wall,
        "client_cpu": client_cpu,
        "server_cpu": sum(each),
        # Per server, in the order given (scheduler, then executors).
        "server_cpus": each,
        # Client and servers together, sampled every 0.2 s.
        "total_mib": peak_total[0],
        # The output itself is not kept (hundreds of MB at 320,000 partners).
        "digest": hashlib.sha256(out).hexdigest(),
        "lines": out.count(b"\n"),
        "stderr": err.decode(errors="replace"),
    }


def peak_from_verbose(stderr: str) -> float | None:
    for line in stderr.splitlines():
        if line.startswith("pcs: done in") and "peak memory" in line:
            return float(line.rsplit("peak memory", 1)[1].split()[0])
    return None


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--pcs", required=True, help="a pcs built with --features distributed")
    ap.add_argument("--data", required=True, type=Path, help="a Parquet dataset")
    ap.add_argument("--month", default="2024-07")
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--areas", default="business_applications", help="--area of pcs score")
    ap.add_argument("--slots", type=int, default=2, help="task slots of each executor")
    ap.add_argument("--max-mib", type=float, default=14336,
                    help="stop when the client and cluster together pass this resident memory")
    args = ap.parse_args()
    pcs = str(Path(args.pcs).resolve())

    procs: list[subprocess.Popen] = []
    work = tempfile.TemporaryDirectory(prefix="pcs-cluster-bench-")
    try:
        port = free_port()
        sched = subprocess.Popen([pcs, "cluster", "scheduler", "--bind", f"127.0.0.1:{port}"],
                                 stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        procs.append(sched)
        wait_for(port, sched, "the scheduler")
        address = f"df://127.0.0.1:{port}"
        for k in range(2):
            flight, grpc = free_port(), free_port()
            d = Path(work.name) / f"executor-{k}"
            d.mkdir()
            e = subprocess.Popen([pcs, "cluster", "executor", "--scheduler", address,
                                  "--flight-port", str(flight), "--grpc-port", str(grpc),
                                  "--slots", str(args.slots), "--work-dir", str(d)],
                                 stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            procs.append(e)
            wait_for(flight, e, f"executor {k}")
        base = [pcs, "score", str(args.data), "--month", args.month, "--format", "jsonl",
                "--area", args.areas, "-v"]
        runs: dict[str, list[dict]] = {"native": [], "cluster": []}
        for i in range(args.runs):
            for name, cmd in (("native", base), ("cluster", base + ["--cluster", address])):
                r = timed(cmd, procs if name == "cluster" else [], args.max_mib)
                r["peak"] = peak_from_verbose(r["stderr"])
                runs[name].append(r)
                split = ""
                if name == "cluster":
                    split = " (scheduler {:.2f}, executors {})".format(
                        r["server_cpus"][0], " + ".join(f"{c:.2f}" for c in r["server_cpus"][1:]))
                log(f"run {i + 1} {name}: {r['wall']:.2f} s wall, {r['client_cpu']:.2f} s client CPU, "
                    f"{r['server_cpu']:.2f} s cluster CPU{split}, peak {r['peak']} MiB, "
                    f"client + cluster RSS at most {r['total_mib']:.0f} MiB")
        digests = {r["digest"] for rs in runs.values() for r in rs}
        if len(digests) != 1:
            raise SystemExit("the native and cluster outputs differ")
        lines = runs["native"][0]["lines"]
        executors_peak = max(peak_rss_mb(p.pid) for p in procs[1:])
        scheduler_peak = peak_rss_mb(procs[0].pid)

        def med(name: str, key: str) -> float:
            return statistics.median(r[key] for r in runs[name])

        print(f"{args.data} ({sum(f.stat().st_size for f in args.data.iterdir()) / 1e6:.0f} MB), "
              f"--month {args.month} --area {args.areas}: {lines} lines, identical on both paths; "
              f"medians of {args.runs} alternated runs\n")
        print("| path | wall s | CPU s (client) | CPU s (scheduler + executors) | peak RSS MiB |")
        print("| --- | ---: | ---: | ---: | ---: |")
        nat_cpu = med("native", "client_cpu")
        print(f"| native | {med('native', 'wall'):.2f} | {nat_cpu:.2f} | | "
              f"{max(r['peak'] or 0 for r in runs['native']):.0f} |")
        print(f"| loopback cluster (2 executors × {args.slots} slots) | {med('cluster', 'wall'):.2f} | "
              f"{med('cluster', 'client_cpu'):.2f} | {med('cluster', 'server_cpu'):.2f} | "
              f"client {max(r['peak'] or 0 for r in runs['cluster']):.0f}, "
              f"executor {executors_peak:.0f}, scheduler {scheduler_peak:.0f} |")
        ratio_wall = med("cluster", "wall") / med("native", "wall")
        ratio_cpu = (med("cluster", "client_cpu") + med("cluster", "server_cpu")) / nat_cpu
        print(f"\ncluster/native: wall {ratio_wall:.2f}, CPU {ratio_cpu:.2f}\n")
        print("Last cluster run (`pcs -v`):\n")
        print("```")
        for line in runs["cluster"][-1]["stderr"].splitlines():
            if line.startswith("pcs:"):
                print(line)
        print("```")
    finally:
        for p in procs:
            p.kill()
            p.wait()
        work.cleanup()


if __name__ == "__main__":
    main()
