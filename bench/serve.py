#!/usr/bin/env python3
"""Load test of `pcs serve`: requests per second and p50 / p99 latency of the
overview page and of the score endpoint, over loopback.

Usage:
    python3 bench/serve.py [--partners 20000] [--dataset DIR] [--duration 20]
                           [--connections 16] [--threads 2] [--month 2024-07]
                           [--port 18473] [--no-build]

1. builds pcs in release (`cargo build --release -p pcs-cli`) unless --no-build
   (CARGO_TARGET_DIR is honoured);
2. generates the dataset with `pcs generate DIR --partners N` unless DIR
   already holds one (default DIR: bench/data/serve-N, kept for the next run);
3. starts `pcs serve DIR --addr 127.0.0.1:PORT` and records how long the read
   took and the server's resident memory;
4. installs Debian's `wrk` when it is missing (apt-get, as root) and runs it
   against each target: first a short warm-up, then --duration seconds with
   --connections connections on --threads threads. Each request picks one of
   2,000 partners spread over the whole dataset (a Lua script), so no single
   partner's answer is served from a warm cache line;
5. prints one row per target: requests/s, p50, p99, max latency and non-2xx
   answers, then stops the server.

Only 127.0.0.1 is ever contacted; every run is bounded by --duration.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from pathlib import Path

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent

LUA = r"""
local ids = {}
for line in io.lines("%(ids)s") do ids[#ids + 1] = line end
local template = "%(template)s"
math.randomseed(%(seed)d)
request = function()
  local id = ids[math.random(#ids)]
  return wrk.format("GET", (template:gsub("{id}", id)))
end
done = function(summary, latency, requests)
  local non2xx = summary.errors.status
  io.write(string.format(
    "RESULT {\"requests\": %%d, \"duration_us\": %%d, \"p50_us\": %%d, \"p90_us\": %%d, \"p99_us\": %%d, \"max_us\": %%d, \"non2xx\": %%d, \"socket_errors\": %%d}\n",
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(90),
    latency:percentile(99), latency.max, non2xx,
    summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout))
end
"""


def log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


def target_dir() -> Path:
    return Path(os.environ.get("CARGO_TARGET_DIR", ROOT / "target"))


def build() -> Path:
    log("building pcs (release) ...")
    r = subprocess.run(["cargo", "build", "--release", "-p", "pcs-cli"], cwd=ROOT)
    if r.returncode != 0:
        raise SystemExit("cargo build failed")
    return target_dir() / "release" / "pcs"


def ensure_wrk() -> str:
    found = shutil.which("wrk")
    if found:
        return found
    if os.geteuid() != 0:
        raise SystemExit("wrk is missing: apt-get install wrk (as root)")
    log("installing wrk (Debian package) ...")
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    subprocess.run(["apt-get", "update", "-qq"], env=env, check=False)
    r = subprocess.run(["apt-get", "install", "-y", "-qq", "wrk"], env=env)
    if r.returncode != 0 or not shutil.which("wrk"):
        raise SystemExit("could not install wrk")
    return shutil.which("wrk")


def rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def get_json(url: str):
    with urllib.request.urlopen(url, timeout=30) as r:
        return json.load(r)


def start_server(pcs: Path, dataset: Path, port: int):
    cmd = [str(pcs), "serve", str(dataset), "--addr", f"127.0.0.1:{port}"]
    log("$ " + " ".join(cmd))
    started = time.monotonic()
    p = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    lines = []
    for line in p.stderr:
        lines.append(line.rstrip())
        log("  " + line.rstrip())
        if "listening on" in line:
            break
    else:
        raise SystemExit("pcs serve stopped:\n" + "\n".join(lines))
    ready = time.monotonic() - started
    # Drain stderr so the server never blocks on it.
    threading.Thread(target=lambda: [None for _ in p.stderr], daemon=True).start()
    return p, ready


def run_wrk(wrk: str, url_base: str, template: str, ids: Path, args, seconds: int) -> dict:
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as f:
        f.write(LUA % {"ids": ids, "template": template, "seed": args.seed})
        script = f.name
    try:
        cmd = [wrk, "-t", str(args.threads), "-c", str(args.connections), "-d", f"{seconds}s",
               "--timeout", "10s", "-s", script, url_base]
        r = subprocess.run(cmd, capture_output=True, text=True, timeout=seconds + 60)
        for line in r.stdout.splitlines():
            if line.startswith("RESULT "):
                return json.loads(line[len("RESULT "):])
        raise SystemExit(f"wrk gave no result:\n{r.stdout}\n{r.stderr}")
    finally:
        os.unlink(script)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--partners", type=int, default=20000)
    ap.add_argument("--dataset", type=Path)
    ap.add_argument("--month", default="2024-07", help="the month scored (the generator's data ends 2024-06)")
    ap.add_argument("--duration", type=int, default=20, help="seconds per target")
    ap.add_argument("--connections", type=int, default=16)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--port", type=int, default=18473)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--no-build", action="store_true")
    args = ap.parse_args()

    pcs = target_dir() / "release" / "pcs" if args.no_build else build()
    if not pcs.exists():
        raise SystemExit(f"{pcs} is missing: build it or drop --no-build")
    dataset = args.dataset or BENCH / "data" / f"serve-{args.partners}"
    if not any(dataset.glob("*.csv")) and not any(dataset.glob("*.parquet")):
        log(f"generating {args.partners} partners into {dataset} ...")
        subprocess.run([str(pcs), "generate", str(dataset), "--partners", str(args.partners), "--force"],
                       check=True)
    wrk = ensure_wrk()

    server, ready = start_server(pcs, dataset, args.port)
    try:
        base = f"http://127.0.0.1:{args.port}"
        rss_loaded = rss_mib(server.pid)
        ids: list[str] = []
        offset = 0
        while True:
            page = get_json(f"{base}/api/v1/partners?offset={offset}&limit=1000")
            ids += [p["partner_id"] for p in page["partners"]]
            offset += 1000
            if offset >= page["total"]:
                break
        rng = random.Random(args.seed)
        sample = sorted(rng.sample(ids, min(2000, len(ids))))
        with tempfile.NamedTemporaryFile("w", suffix=".ids", delete=False) as f:
            f.write("\n".join(sample) + "\n")
            ids_file = Path(f.name)
        targets = [
            ("overview page", f"/partners/{{id}}?month={args.month}"),
            ("score API", f"/api/v1/partners/{{id}}/score?month={args.month}"),
        ]
        # Every target answers 200 before it is timed.
        for name, t in targets:
            url = base + t.replace("{id}", sample[0])
            with urllib.request.urlopen(url, timeout=30) as r:
                if r.status != 200:
                    raise SystemExit(f"{name}: {url} answered {r.status}")
        results = []
        for name, t in targets:
            log(f"{name}: warm-up 3 s, then {args.duration} s ...")
            run_wrk(wrk, base, t, ids_file, args, 3)
            res = run_wrk(wrk, base, t, ids_file, args, args.duration)
            results.append((name, t, res))
        rss_after = rss_mib(server.pid)
        os.unlink(ids_file)
    finally:
        server.terminate()
        server.wait(timeout=30)

    print(f"pcs serve on {len(ids)} partners ({dataset}), month {args.month}; "
          f"ready in {ready:.1f} s, resident memory {rss_loaded:.0f} MiB after the read, "
          f"{rss_after:.0f} MiB after the load test")
    print(f"wrk: {args.threads} threads, {args.connections} connections, {args.duration} s per target, "
          f"{len(sample)} partners picked at random per request; {os.cpu_count()} CPUs shared by wrk and the server")
    print(f"{'target':<14} {'requests/s':>11} {'p50 ms':>8} {'p90 ms':>8} {'p99 ms':>8} {'max ms':>8} {'non-2xx':>8} {'errors':>7}")
    for name, _, r in results:
        rps = r["requests"] / (r["duration_us"] / 1e6)
        print(f"{name:<14} {rps:>11.0f} {r['p50_us'] / 1000:>8.2f} {r['p90_us'] / 1000:>8.2f} "
              f"{r['p99_us'] / 1000:>8.2f} {r['max_us'] / 1000:>8.2f} {r['non2xx']:>8} {r['socket_errors']:>7}")
    for name, t, _ in results:
        print(f"  {name}: GET {t}")
    bad = [n for n, _, r in results if r["non2xx"] or r["socket_errors"]]
    if bad:
        raise SystemExit(f"errors during the load test: {', '.join(bad)}")


if __name__ == "__main__":
    main()
