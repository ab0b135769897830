#!/usr/bin/env bash
# Checks that two pcs binaries write byte-identical `pcs score` output (and
# the same exit status and stderr) on the shipped example and on generated
# datasets, in every format, with and without --explain, for every area and
# for Business Applications alone.
#
#   bench/same_output.sh OLD_PCS NEW_PCS WORKDIR
#
# WORKDIR receives the generated datasets (made once, by OLD_PCS) and, on a
# difference, both outputs. Prints one line per difference and a count.
set -u
old=$1 new=$2 work=$3
here=$(cd "$(dirname "$0")/.." && pwd)
mkdir -p "$work"
gen() { # name, generate flags...
  local dir=$work/$1; shift
  [ -d "$dir" ] || "$old" generate "$dir" --partners 2000 -q "$@"
}
gen d-seed1 --seed 1
gen d-seed7 --seed 7
gen dense-seed3 --seed 3 --profile dense
[ -d "$work/d-seed1-pq" ] || "$old" convert "$work/d-seed1" "$work/d-seed1-pq" -q
datasets=("$here/examples/contoso 2023-11 1000004"
  "$work/d-seed1 2024-07 P000042"
  "$work/d-seed7 2024-07 P000007"
  "$work/dense-seed3 2024-07 P000003"
  "$work/d-seed1-pq 2024-07 P000042"
  "$work/d-seed1 2023-12 P000042")
runs=0 diffs=0
for ds in "${datasets[@]}"; do
  read -r dir month partner <<<"$ds"
  for area in all business_applications; do
    for fmt in jsonl json csv table; do
      for extra in "" "--explain" "--partner $partner" "--partner $partner --explain"; do
        args=(score "$dir" --month "$month" --area "$area" --format "$fmt" $extra)
        # Digests, not files: with --explain an output reaches a gigabyte.
        a="$("$old" "${args[@]}" 2>"$work/old.err" | sha256sum; echo "exit ${PIPESTATUS[0]}")"
        b="$("$new" "${args[@]}" 2>"$work/new.err" | sha256sum; echo "exit ${PIPESTATUS[0]}")"
        runs=$((runs + 1))
        if [ "$a" != "$b" ] || ! cmp -s "$work/old.err" "$work/new.err"; then
          diffs=$((diffs + 1))
          echo "DIFFERS ($a / $b): pcs ${args[*]}"
        fi
      done
    done
  done
done
echo "$runs runs, $diffs differ"
[ $diffs = 0 ]
