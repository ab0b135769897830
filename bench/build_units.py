#!/usr/bin/env python3
"""How many compile units each step of the quick start and of `.ci/test`
compiles, in one target directory, from cargo's unit graph (nothing is
built; needs a nightly cargo for `--unit-graph`: `rustup toolchain install
nightly`). A unit is compiled again when it, or a unit it depends on,
differs in package, target, profile settings, features, mode or platform;
that is what a feature mismatch between `cargo build` and `cargo test`
costs.

    python3 bench/build_units.py [SOURCE_DIR]

The README's numbers (quick start: 361 then 82 units; before
crates/pcs-workspace-hack: 322 then 157, 57 crates compiled twice) come
from this script.
"""
import json
import subprocess
import sys

QUICK_START = [
    ("cargo build --bin pcs", ["build", "--bin", "pcs"]),
    ("cargo test (its build)", ["test", "--no-run"]),
    ("crash test (feature fault-injection)",
     ["test", "--no-run", "-p", "pcs-cli", "--features", "fault-injection", "--test", "crash"]),
    ("cargo build -p pcs-cli (schemathesis, peer check)", ["build", "-p", "pcs-cli"]),
]


def units(src, args):
    """A key per unit of `cargo ARGS` (its identity for reuse) -> package id."""
    out = subprocess.run(
        ["cargo", "+nightly", *args, "--unit-graph", "-Z", "unstable-options"],
        cwd=src, capture_output=True, text=True)
    if out.returncode != 0:
        sys.exit(f"cargo {' '.join(args)} --unit-graph failed:\n{out.stderr}")
    graph = json.loads(out.stdout)["units"]
    memo = {}

    def key(i):
        if i not in memo:
            u = graph[i]
            profile = dict(u["profile"])
            profile.pop("name", None)  # `test` and `dev` give the same artifacts
            memo[i] = hash((
                u["pkg_id"], u["target"]["name"], tuple(u["target"]["kind"]),
                json.dumps(profile, sort_keys=True), tuple(sorted(u["features"])),
                u["mode"], u.get("platform"),
                tuple(sorted(key(d["index"]) for d in u["dependencies"]))))
        return memo[i]

    return {key(i): graph[i]["pkg_id"] for i in range(len(graph))}


def main():
    src = sys.argv[1] if len(sys.argv) > 1 else "."
    seen = {}
    first = None
    for name, args in QUICK_START:
        step = units(src, args)
        new = {k: v for k, v in step.items() if k not in seen}
        third = sum(1 for v in new.values() if not v.startswith("path+"))
        print(f"{name}: {len(step)} units, {len(new)} compiled "
              f"({third} third-party, {len(new) - third} of the workspace)")
        if first is None:
            first = step
        elif name.startswith("cargo test"):
            built = set(first.values())
            again = sorted({v.split("#")[-1] for k, v in step.items()
                            if k not in first and v in built and not v.startswith("path+")})
            print(f"  crates of `cargo build` compiled again (other features): {len(again)}"
                  + (f": {', '.join(again)}" if again else ""))
        seen.update(step)


if __name__ == "__main__":
    main()
