#!/usr/bin/env python3
"""Resident memory of `pcs serve` against `pcs score` on the same data, and
across uploads (issue 13: after the read at most twice `pcs score`'s peak;
after each upload within 10 % of the level after the first).

Usage:
    python3 bench/serve_memory.py PCS DATASET PORT [UPLOADS]

Works on a copy of DATASET's CSV files: measures the peak RSS of
`pcs score COPY --month 2024-07 --format jsonl -q` (every solution area:
what the server scores), starts `pcs serve COPY --addr 127.0.0.1:PORT`,
prints its RSS once ready and 5 s later, then PUTs the partners table
UPLOADS times in a row (default 20) and prints the RSS 1 s and 7 s after
each, and the peak so far. Ends with the two ratios of issue 13 and
whether each is met (exit status 1 when one is not). Loopback only; the
copy is removed.
"""

import os
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.request


def status(pid: int, key: str) -> float:
    for line in open(f"/proc/{pid}/status"):
        if line.startswith(key + ":"):
            return int(line.split()[1]) / 1024
    return float("nan")


def main() -> None:
    if len(sys.argv) < 4:
        raise SystemExit(__doc__)
    pcs, data, port = sys.argv[1], sys.argv[2], sys.argv[3]
    uploads = int(sys.argv[4]) if len(sys.argv) > 4 else 20
    work = tempfile.mkdtemp(prefix="pcs-memory-")
    try:
        for f in os.listdir(data):
            if f.endswith(".csv"):
                shutil.copy(os.path.join(data, f), work)
        t = time.time()
        p = subprocess.Popen([pcs, "score", work, "--month", "2024-07", "--format", "jsonl", "-q"],
                             stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        _, st, ru = os.wait4(p.pid, 0)
        if st != 0:
            raise SystemExit(f"pcs score failed: {p.stderr.read().decode()}")
        score = ru.ru_maxrss / 1024
        print(f"pcs score: peak {score:.0f} MiB in {time.time() - t:.1f} s", flush=True)
        t = time.time()
        s = subprocess.Popen([pcs, "serve", work, "--addr", f"127.0.0.1:{port}"],
                             stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        try:
            for line in s.stderr:
                if "listening on" in line:
                    break
            ready = status(s.pid, "VmRSS")
            print(f"pcs serve: ready in {time.time() - t:.1f} s, RSS {ready:.0f} MiB "
                  f"({ready / score:.2f}x pcs score)", flush=True)
            time.sleep(5)
            print(f"5 s later: RSS {status(s.pid, 'VmRSS'):.0f} MiB", flush=True)
            body = open(os.path.join(work, "partners.csv"), "rb").read()
            first = None
            levels = []
            for i in range(uploads):
                req = urllib.request.Request(f"http://127.0.0.1:{port}/api/v1/tables/partners",
                                             data=body, method="PUT")
                req.add_header("Content-Type", "text/csv")
                t = time.time()
                with urllib.request.urlopen(req, timeout=1800) as r:
                    r.read()
                took = time.time() - t
                time.sleep(1)
                soon = status(s.pid, "VmRSS")
                time.sleep(6)
                settled = status(s.pid, "VmRSS")
                first = first or settled
                levels.append(settled)
                print(f"upload {i + 1} ({took:.1f} s): RSS {soon:.0f} MiB after 1 s, {settled:.0f} MiB "
                      f"after 7 s ({settled / first:.3f}x the first, {settled / score:.2f}x pcs score); "
                      f"peak so far {status(s.pid, 'VmHWM'):.0f} MiB", flush=True)
            peak = status(s.pid, "VmHWM")
        finally:
            s.terminate()
            s.wait()
    finally:
        shutil.rmtree(work, ignore_errors=True)
    ok = ready <= 2 * score
    print(f"ready: {ready:.0f} MiB = {ready / score:.2f}x pcs score's peak (target <= 2): "
          f"{'met' if ok else 'NOT met'}")
    if levels:
        worst = max(abs(x / first - 1) for x in levels)
        ok2 = worst <= 0.10
        ok = ok and ok2
        print(f"after {len(levels)} uploads: {min(levels):.0f} to {max(levels):.0f} MiB, at most "
              f"{worst * 100:.1f} % from the level after the first (target <= 10 %): "
              f"{'met' if ok2 else 'NOT met'}; peak {peak:.0f} MiB")
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
