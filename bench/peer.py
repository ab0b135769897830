#!/usr/bin/env python3
"""Run bench/peer.sql (the DuckDB peer of `pcs score`) on a dataset.

Usage (with the duckdb Python package, e.g. bench/.venv/bin/python):
    python bench/peer.py DATASET_DIR --month YYYY-MM [--out FILE] [--sql FILE]

Fills in the script's table placeholders ({{revenue}}, {{usage}},
{{certifications}}, {{partners}}) with read_csv(...) for NAME.csv,
read_parquet(...) for NAME.parquet, or an empty relation with the required
columns when the table is missing; sets the DuckDB variable `month`; runs the
script's statements and writes the rows of its last statement (the scores) as
JSON lines with DuckDB's own writer (COPY ... (FORMAT json)) to --out
(default: standard output). DuckDB runs with its defaults (all cores).
"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

import duckdb

HERE = Path(__file__).resolve().parent

TABLES = {
    "revenue": ["partner_id", "customer_tenant_id", "workload", "month", "revenue_usd", "association"],
    "usage": ["partner_id", "customer_tenant_id", "workload", "month", "quantity", "association"],
    "certifications": ["partner_id", "person_id", "certification", "earned_on", "expires_on"],
    "partners": ["partner_id"],
}


def sql_string(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def source(dataset: Path, table: str) -> str:
    csv_path = dataset / f"{table}.csv"
    parquet_path = dataset / f"{table}.parquet"
    if csv_path.is_file():
        return (f"read_csv({sql_string(str(csv_path))}, header = true, all_varchar = true, "
                f"delim = ',', quote = '\"', escape = '\"')")
    if parquet_path.is_file():
        return f"read_parquet({sql_string(str(parquet_path))})"
    cols = ", ".join(f"CAST(NULL AS VARCHAR) AS {c}" for c in TABLES[table])
    return f"(SELECT {cols} WHERE false)"


def render(sql_text: str, dataset: Path) -> str:
    def repl(m: re.Match) -> str:
        name = m.group(1)
        if name not in TABLES:
            raise SystemExit(f"peer.sql: unknown placeholder {{{{{name}}}}}")
        return source(dataset, name)
    return re.sub(r"\{\{(\w+)\}\}", repl, sql_text)


def run(dataset: Path, month: str, out: str, sql_file: Path) -> None:
    if not re.fullmatch(r"\d{4}-(0[1-9]|1[0-2])", month):
        raise SystemExit(f"--month: not YYYY-MM: {month!r}")
    sql_text = render(sql_file.read_text(encoding="utf-8"), dataset)
    con = duckdb.connect()
    con.execute(f"SET VARIABLE month = {sql_string(month)}")
    statements = duckdb.extract_statements(sql_text)
    for st in statements[:-1]:
        con.execute(st.query)
    last = statements[-1].query.strip().rstrip(";")
    con.execute(f"COPY ({last}) TO {sql_string(out)} (FORMAT json)")
    con.close()


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("dataset")
    ap.add_argument("--month", required=True)
    ap.add_argument("--out", default="/dev/stdout", help="the JSON-lines output file (default: stdout)")
    ap.add_argument("--sql", default=str(HERE / "peer.sql"))
    args = ap.parse_args(argv)
    run(Path(args.dataset), args.month, args.out, Path(args.sql))
    return 0


if __name__ == "__main__":
    sys.exit(main())
