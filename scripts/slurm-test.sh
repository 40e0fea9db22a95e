#!/usr/bin/env bash
# Against a real single-node Slurm (scripts/local-slurm.sh): a small `--fast` figures plan and a small
# `markov sweep` submitted through `--slurm` give the same figures, verdicts and sweep.csv as the same
# commands run locally; a task that fails is reported by its index, its siblings' results are kept,
# and the drawing job does not run. Run from .ci/run (needs root: it installs and starts Slurm, and
# stops it on exit). Usage: scripts/slurm-test.sh [XTASK_BIN ATTNLAB_BIN]
set -euo pipefail
cd "$(dirname "$0")/.."
xtask="$(realpath "${1:-target/debug/xtask}")"
attnlab="$(realpath "${2:-target/debug/attnlab}")"
[ -x "$xtask" ] && [ -x "$attnlab" ] || { echo "slurm-test: build first (cargo build -p xtask -p attnlab-cli)"; exit 1; }

work="$(mktemp -d)"
export SLURM_STATE="$work/slurm"
trap 'scripts/local-slurm.sh stop >/dev/null 2>&1 || true' EXIT
scripts/local-slurm.sh start
export SLURM_CONF="$SLURM_STATE/slurm.conf"

fail() { echo "slurm-test: FAIL: $*"; exit 1; }

# Submits DIR/submit.sh and waits (at most 10 minutes) until both jobs have left the queue; prints
# the final job's state.
submit_and_wait() {
  local dir="$1"
  bash "$dir/submit.sh" >&2
  read -r array final < "$dir/jobs"
  local i=0
  while squeue -h -j "$array,$final" 2>/dev/null | grep -q .; do
    i=$((i + 1)); [ "$i" -le 600 ] || fail "jobs $array/$final still queued after 10 min"
    sleep 1
  done
  scontrol show job "$final" 2>/dev/null | grep -o 'JobState=[A-Z_]*' | cut -d= -f2 || echo GONE
}

figures=(--fast --only markov.train.tying --only exchangeable.f1 --only icar.pe-only)

echo "== figures: local run"
"$xtask" figures "${figures[@]}" --out "$work/local" > /dev/null 2>&1 || fail "local figures run"

echo "== figures: the same plan through Slurm"
"$xtask" figures "${figures[@]}" --out "$work/slurm-out" --slurm "$work/fig-job"
state="$(submit_and_wait "$work/fig-job")"
[ "$state" = COMPLETED ] || { cat "$work/fig-job/logs/"*.out || true; fail "figures drawing job ended $state"; }
n=0
for f in "$work/local"/*.svg "$work/local"/*.png "$work/local/verdicts.json" "$work/local"/results/*.csv; do
  b="${f#"$work/local/"}"
  cmp -s "$f" "$work/slurm-out/$b" || fail "$b differs between the local and the Slurm run"
  n=$((n + 1))
done
[ "$n" -ge 10 ] || fail "only $n files compared"
echo "   $n files identical (SVG, PNG, verdicts.json, the figures' CSVs)"

sweep=(markov sweep --model theory --p 0.2:0.8:3 --q 0.3,0.7 --tying both --seeds 2 --seq-len 32 --iters 40)

echo "== sweep: local run"
"$attnlab" "${sweep[@]}" --out "$work/sweep-local" > /dev/null 2>&1 || fail "local sweep"

echo "== sweep: the same grid through Slurm"
"$attnlab" "${sweep[@]}" --out "$work/sweep-slurm" --slurm "$work/sweep-job" > /dev/null
state="$(submit_and_wait "$work/sweep-job")"
[ "$state" = COMPLETED ] || { cat "$work/sweep-job/logs/"*.out || true; fail "sweep final job ended $state"; }
for b in sweep.csv sweep.svg sweep.png; do
  cmp -s "$work/sweep-local/$b" "$work/sweep-slurm/$b" || fail "$b differs between the local and the Slurm sweep"
done
echo "   sweep.csv ($(($(wc -l < "$work/sweep-local/sweep.csv") - 1)) runs), sweep.svg, sweep.png identical"

echo "== a failing task: reported by index, siblings kept, no final job"
"$attnlab" "${sweep[@]}" --seed 100 --out "$work/sweep-bad" --slurm "$work/bad-job" > /dev/null
# Task 1 claims to come from another build of attnlab: run-task must refuse it.
sed -i '2s/"code_version":"[^"]*"/"code_version":"0.0.0-another-build"/' "$work/bad-job/tasks.jsonl"
state="$(submit_and_wait "$work/bad-job")"
[ "$state" != COMPLETED ] || fail "the final job ran although task 1 failed"
[ -s "$work/bad-job/failed/1.txt" ] || fail "no failed/1.txt naming the failed task"
grep -q "another-build" "$work/bad-job/failed/1.txt" || fail "failed/1.txt does not say why"
total=$(wc -l < "$work/bad-job/tasks.jsonl")
kept=$(find "$work/sweep-bad/.cache" -maxdepth 1 -name '*.json' | wc -l)
[ "$kept" -eq $((total - 1)) ] || fail "expected $((total - 1)) sibling results in the cache, found $kept"
[ "$(ls "$work/bad-job/failed" | wc -l)" -eq 1 ] || fail "more than one task reported failed"
echo "   task 1 reported ($(head -n 1 "$work/bad-job/failed/1.txt" | cut -c1-60)…), $kept of $total results kept, final job $state"

scripts/local-slurm.sh stop >/dev/null
trap - EXIT
rm -rf "$work"
echo "slurm-test: OK"
