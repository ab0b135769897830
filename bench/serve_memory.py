#!/usr/bin/env python3
"""Resident memory of `pcs serve` against `pcs score` on the same data, and
across uploads (issue 13: after the read at most twice `pcs score`'s peak;
after each upload within 10 % of the level after the first).

Usage:
    python3 bench/serve_memory.py PCS DATASET PORT [UPLOADS]

Works on a copy of DATASET's CSV files: measures the peak RSS of
`pcs score COPY --month 2024-07 --format jsonl -q`, starts
`pcs serve COPY --addr 127.0.0.1:PORT`, prints its RSS once ready and 5 s
later, then PUTs the partners table UPLOADS times (default 3) and prints
the RSS 1 s and 7 s after each. Loopback only; the copy is removed.
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
    uploads = int(sys.argv[4]) if len(sys.argv) > 4 else 3
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
                print(f"upload {i + 1} ({took:.1f} s): RSS {soon:.0f} MiB after 1 s, {settled:.0f} MiB "
                      f"after 7 s ({settled / first:.3f}x the first, {settled / score:.2f}x pcs score); "
                      f"peak so far {status(s.pid, 'VmHWM'):.0f} MiB", flush=True)
        finally:
            s.terminate()
            s.wait()
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
