"""Shared helpers of bench/run.py and bench/check_peer.py (standard library only).

- the virtualenv bench/.venv with the pinned duckdb and polars packages
  (created on demand);
- running the peers (DuckDB: bench/peer.py + bench/peer.sql; Polars:
  bench/peer_polars.py) and `pcs score`;
- comparing two sets of score objects on every field of the contract, numbers
  as decimals (so 15 == 15.00).
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
VENV = BENCH / ".venv"
VENV_PYTHON = VENV / "bin" / "python"
PEER_PY = BENCH / "peer.py"
PEER_SQL = BENCH / "peer.sql"
PEER_POLARS = BENCH / "peer_polars.py"
# The peers, by name: each is a Python script run by the virtualenv's python
# as SCRIPT DATASET --month M --out FILE.
PEERS = {"duckdb": PEER_PY, "polars": PEER_POLARS}
REQUIREMENTS = BENCH / "requirements.txt"

# The field-by-field comparison of score objects is the oracle's
# (tests/oracle/differential.py): one definition of "the same scores".
sys.path.insert(0, str(ROOT / "tests" / "oracle"))
import differential  # noqa: E402


def log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


# ---------------------------------------------------------------- environment

def ensure_duckdb() -> Path:
    """bench/.venv with duckdb and polars installed (from PyPI, versions
    pinned in bench/requirements.txt); returns its python."""
    if VENV_PYTHON.exists():
        ok = subprocess.run([str(VENV_PYTHON), "-c", "import duckdb, polars"],
                            capture_output=True).returncode == 0
        if ok:
            return VENV_PYTHON
    else:
        log(f"creating virtualenv {VENV.relative_to(ROOT)}")
        r = subprocess.run([sys.executable, "-m", "venv", str(VENV)])
        if r.returncode != 0:
            raise SystemExit("could not create bench/.venv (on Debian: apt-get install python3-venv)")
    log(f"installing duckdb and polars into {VENV.relative_to(ROOT)} ({REQUIREMENTS.relative_to(ROOT)})")
    r = subprocess.run([str(VENV_PYTHON), "-m", "pip", "install", "--quiet", "--disable-pip-version-check",
                        "-r", str(REQUIREMENTS)])
    if r.returncode != 0:
        raise SystemExit("pip install of duckdb and polars failed")
    return VENV_PYTHON


def child_env() -> dict[str, str]:
    """The environment of the measured processes: default threads for both
    (no RAYON_NUM_THREADS, no OMP/DuckDB thread caps)."""
    env = dict(os.environ)
    for k in ("RAYON_NUM_THREADS", "OMP_NUM_THREADS"):
        env.pop(k, None)
    return env


def peer_cmd(dataset: Path, month: str, out: Path | str, peer: str = "duckdb") -> list[str]:
    return [str(VENV_PYTHON), str(PEERS[peer]), str(dataset), "--month", month, "--out", str(out)]


def pcs_cmd(pcs: Path | str, dataset: Path, month: str) -> list[str]:
    # The DuckDB peer implements Business Applications: pcs scores that area.
    return [str(pcs), "score", str(dataset), "--month", month, "--format", "jsonl", "-q",
            "--area", "business_applications"]


# ---------------------------------------------------------------- comparison

def parse_jsonl(text: str, what: str) -> list[dict]:
    try:
        return differential.parse_jsonl(text)
    except ValueError as e:
        raise ValueError(f"{what}: {e}")


def compare(pcs_rows: list[dict], peer_rows: list[dict]) -> list[str]:
    """Every difference between the two outputs, as readable lines."""
    return [
        f"partner {pid} {field}: pcs={a} peer={b}"
        for pid, field, a, b in differential.compare(pcs_rows, peer_rows)
    ]


def compare_files(pcs_out: Path, peer_out: Path) -> list[str]:
    pcs_rows = parse_jsonl(pcs_out.read_text(encoding="utf-8"), "pcs output")
    peer_rows = parse_jsonl(peer_out.read_text(encoding="utf-8"), "peer output")
    if not pcs_rows and not peer_rows:
        return []
    return compare(pcs_rows, peer_rows)
