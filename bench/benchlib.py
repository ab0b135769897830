"""Shared helpers of bench/run.py and bench/check_peer.py (standard library only).

- the virtualenv bench/.venv with the pinned duckdb package (created on demand);
- running the DuckDB peer (bench/peer.py + bench/peer.sql) and `pcs score`;
- comparing two sets of score objects on every field of the contract, numbers
  as decimals (so 15 == 15.00).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
VENV = BENCH / ".venv"
VENV_PYTHON = VENV / "bin" / "python"
PEER_PY = BENCH / "peer.py"
PEER_SQL = BENCH / "peer.sql"
REQUIREMENTS = BENCH / "requirements.txt"

TOP_FIELDS = ["partner_id", "solution_area", "month", "latest_month", "baseline_month",
              "evaluation_date", "classification", "total_points", "qualified"]
METRIC_FIELDS = {
    "net_customer_adds": ["value", "points", "max_points"],
    "intermediate_certifications": ["value", "points", "max_points"],
    "advanced_certifications": ["value", "points", "max_points"],
    "usage_growth": ["value", "points", "max_points", "latest_mcv", "baseline_mcv"],
    "deployments": ["value", "points", "max_points"],
}
MISSING = object()


def log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


# ---------------------------------------------------------------- environment

def ensure_duckdb() -> Path:
    """bench/.venv with duckdb installed (from PyPI, version pinned in
    bench/requirements.txt); returns its python."""
    if VENV_PYTHON.exists():
        ok = subprocess.run([str(VENV_PYTHON), "-c", "import duckdb"],
                            capture_output=True).returncode == 0
        if ok:
            return VENV_PYTHON
    else:
        log(f"creating virtualenv {VENV.relative_to(ROOT)}")
        r = subprocess.run([sys.executable, "-m", "venv", str(VENV)])
        if r.returncode != 0:
            raise SystemExit("could not create bench/.venv (on Debian: apt-get install python3-venv)")
    log(f"installing duckdb into {VENV.relative_to(ROOT)} ({REQUIREMENTS.relative_to(ROOT)})")
    r = subprocess.run([str(VENV_PYTHON), "-m", "pip", "install", "--quiet", "--disable-pip-version-check",
                        "-r", str(REQUIREMENTS)])
    if r.returncode != 0:
        raise SystemExit("pip install of duckdb failed")
    return VENV_PYTHON


def child_env() -> dict[str, str]:
    """The environment of the measured processes: default threads for both
    (no RAYON_NUM_THREADS, no OMP/DuckDB thread caps)."""
    env = dict(os.environ)
    for k in ("RAYON_NUM_THREADS", "OMP_NUM_THREADS"):
        env.pop(k, None)
    return env


def peer_cmd(dataset: Path, month: str, out: Path | str) -> list[str]:
    return [str(VENV_PYTHON), str(PEER_PY), str(dataset), "--month", month, "--out", str(out)]


def pcs_cmd(pcs: Path | str, dataset: Path, month: str) -> list[str]:
    return [str(pcs), "score", str(dataset), "--month", month, "--format", "jsonl", "-q"]


# ---------------------------------------------------------------- comparison

def parse_jsonl(text: str, what: str) -> list[dict]:
    out = []
    for i, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        try:
            out.append(json.loads(line, parse_float=Decimal, parse_int=Decimal))
        except json.JSONDecodeError as e:
            raise ValueError(f"{what}: line {i} is not JSON: {e}: {line[:200]!r}")
    return out


def _get(obj, *path):
    for p in path:
        if not isinstance(obj, dict) or p not in obj:
            return MISSING
        obj = obj[p]
    return obj


def _same(a, b) -> bool:
    if a is MISSING or b is MISSING:
        return False
    if isinstance(a, bool) or isinstance(b, bool):
        return type(a) is type(b) and a == b
    if a is None or b is None:
        return a is None and b is None
    if isinstance(a, Decimal) and isinstance(b, Decimal):
        return a == b
    return type(a) is type(b) and a == b


def _show(v) -> str:
    if v is MISSING:
        return "<missing>"
    if isinstance(v, Decimal):
        return str(v)
    return json.dumps(v)


def compare(pcs_rows: list[dict], peer_rows: list[dict]) -> list[str]:
    """Every difference between the two outputs, as readable lines."""
    diffs: list[str] = []
    p_ids = [_get(o, "partner_id") for o in pcs_rows]
    q_ids = [_get(o, "partner_id") for o in peer_rows]
    if p_ids != q_ids:
        p_set, q_set = set(map(str, p_ids)), set(map(str, q_ids))
        for pid in sorted(q_set - p_set):
            diffs.append(f"partner {pid}: line from the peer only")
        for pid in sorted(p_set - q_set):
            diffs.append(f"partner {pid}: line from pcs only")
        if len(p_ids) != len(p_set):
            diffs.append(f"pcs: {len(p_ids) - len(p_set)} duplicate partner line(s)")
        if len(q_ids) != len(q_set):
            diffs.append(f"peer: {len(q_ids) - len(q_set)} duplicate partner line(s)")
        pc = [p for p in p_ids if p in q_set]
        qc = [p for p in q_ids if p in p_set]
        if pc != qc:
            diffs.append("the partners are not in the same order")
    peer_by_id = {}
    for o in peer_rows:
        peer_by_id.setdefault(_get(o, "partner_id"), o)
    for p in pcs_rows:
        pid = _get(p, "partner_id")
        q = peer_by_id.get(pid)
        if q is None:
            continue
        for f in TOP_FIELDS:
            a, b = _get(p, f), _get(q, f)
            if not _same(a, b):
                diffs.append(f"partner {pid} {f}: pcs={_show(a)} peer={_show(b)}")
        for m, fields in METRIC_FIELDS.items():
            for f in fields:
                a, b = _get(p, "metrics", m, f), _get(q, "metrics", m, f)
                if not _same(a, b):
                    diffs.append(f"partner {pid} metrics.{m}.{f}: pcs={_show(a)} peer={_show(b)}")
    return diffs


def compare_files(pcs_out: Path, peer_out: Path) -> list[str]:
    pcs_rows = parse_jsonl(pcs_out.read_text(encoding="utf-8"), "pcs output")
    peer_rows = parse_jsonl(peer_out.read_text(encoding="utf-8"), "peer output")
    if not pcs_rows and not peer_rows:
        return []
    return compare(pcs_rows, peer_rows)
