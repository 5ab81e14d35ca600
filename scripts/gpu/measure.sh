#!/usr/bin/env bash
# The one script to run on the GPU machine (no Node, no network), after scripts/gpu/pack.sh here:
#   device run: carry [".gpu-carry"], command "bash scripts/gpu/measure.sh", timeout_s 600
# Every step has a timeout and none stops the script; all steps together end by DEADLINE_S (default 540 s),
# so the logs are complete before the device call's limit. Logs go to $OUT (at most 8 files come back):
#   setup.log (unpacking, GPU, adapter, doctor)  torch.log  sweep.log  bench.log  summary.txt (rc and seconds
#   per step)  runs.sqlite (the sweep's database)
# QUICK=1 shrinks every step, for a rehearsal on a CPU (SwiftShader) machine.
OUT=${OUT:-/tmp/gpu-out}
mkdir -p "$OUT" && rm -f "$OUT"/{setup,torch,sweep,bench,levers}.log "$OUT"/{summary,levers}.txt
DEADLINE_S=${DEADLINE_S:-540}
START=$SECONDS
export PYTHONUNBUFFERED=1

source "$(dirname "${BASH_SOURCE[0]}")/setup.sh" >> "$OUT/setup.log" 2>&1
cat "$OUT/setup.log"
printf '%-16s %-8s %7ss\n' setup "$([ "$PWD" = "$GPU_HOME/app" ] && echo ok || echo FAILED)" "${GPU_SETUP_SECONDS:-?}" >> "$OUT/summary.txt"

# step LOG TIMEOUT_S NAME "COMMAND": runs COMMAND (a bash line, in the app root) under a timeout, shows its output
# and appends it to $OUT/LOG.log, and records its exit status and time in summary.txt.
step() {
  local log=$OUT/$1.log limit=$2 name=$3 cmd=$4 left t0 rc
  left=$((DEADLINE_S - (SECONDS - START) - 5))
  if [ "$left" -lt 10 ]; then
    echo "=== $name: SKIPPED, past the deadline" | tee -a "$log"
    printf '%-16s SKIPPED (deadline)\n' "$name" >> "$OUT/summary.txt"
    return
  fi
  [ "$limit" -gt "$left" ] && limit=$left
  echo "=== $name: $cmd   (timeout ${limit}s)" | tee -a "$log"
  t0=$(date +%s%N)
  timeout -k 10 "$limit" bash -c "$cmd" < /dev/null 2>&1 | tee -a "$log"
  rc=${PIPESTATUS[0]}
  local secs
  secs=$(awk -v a="$t0" -v b="$(date +%s%N)" 'BEGIN {printf "%.1f", (b-a)/1e9}')
  echo "=== $name: rc=$rc in ${secs}s" | tee -a "$log"
  printf '%-16s rc=%-4s %7ss %s\n' "$name" "$rc" "$secs" "$([ "$rc" = 124 ] && echo TIMEOUT)" >> "$OUT/summary.txt"
}

# lever NAME "ENV": one profiled step at batch 128 under ENV (VAR=value words); its unprofiled ms per step goes to
# $OUT/levers.txt for best_lever.
lever() {
  step levers 20 "lever-$1" "env $2 node dist/bench/profile-step.js webgpu 128"
  local ms
  ms=$(sed -n "/=== lever-$1:/,/=== lever-$1: rc/p" "$OUT/levers.log" | sed -n 's/.*batch 128: \([0-9.]*\) ms per step.*/\1/p' | tail -1)
  [ -n "$ms" ] && printf '%s %s %s\n' "$1" "$ms" "$2" >> "$OUT/levers.txt"
}
# The fastest lever, when it beats the faster of the two default runs by 10%: the bench's batch-128 and 512 rows
# again under it.
best_lever() {
  [ -f "$OUT/levers.txt" ] || return 0
  cat "$OUT/levers.txt" | tee -a "$OUT/summary.txt"
  local base best
  base=$(awk '$1 ~ /^base/ {print $2}' "$OUT/levers.txt" | sort -g | head -1)
  best=$(awk '$1 !~ /^base/ && NF > 2' "$OUT/levers.txt" | sort -k2 -g | head -1)
  [ -n "$base" ] && [ -n "$best" ] || return 0
  if awk -v b="$base" -v l="$(cut -d' ' -f2 <<< "$best")" 'BEGIN {exit !(l < 0.9 * b)}'; then
    echo "best lever: $best (base $base ms)" | tee -a "$OUT/summary.txt"
    step bench 90 "bench-$(cut -d' ' -f1 <<< "$best")" "env $(cut -d' ' -f3- <<< "$best") BENCH_WEBGPU_SAMPLES=30000 BENCH_WEBGPU_BATCHES=128,512 BENCH_WEBGPU_PARALLEL= BENCH_WEBGPU_OVERHEAD_TRIALS=0 PEER_TORCH=none node dist/bench/index.js --webgpu-only"
  else
    echo "no lever beats the default by 10% (base $base ms)" | tee -a "$OUT/summary.txt"
  fi
}

# ------------------------------------------------------------------ knobs
DB=/tmp/runs.sqlite
rm -f "$DB" "$DB"-*           # a fresh database: a rerun on the same machine would skip every trial
SWEEP_ARGS=""                # e.g. "--backend webgpu" (auto already picks webgpu where there is a GPU adapter)
QUICK=${QUICK:-0}
# PLAN=figures: the README's H200 figures (bench rows, profile, quick sweep, seed-cnn to the deadline).
# PLAN=levers: one profiled step per tfjs flag / Dawn toggle worth trying, the PyTorch peer, then the full
# 10-epoch seed-cnn run (about 3.5 minutes at batch 32): give it DEADLINE_S=480.
# PLAN=bars: what issue 12's done-when asks for, in the order that matters (see the branch above).
PLAN=${PLAN:-figures}

# ------------------------------------------------------------------ steps: step LOG TIMEOUT_S NAME "COMMAND"
step setup 15  gpu      "nvidia-smi -L; nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv"
step setup 20  doctor   "node dist/src/cli.js doctor"
if [ "$QUICK" = 1 ]; then
  # A rehearsal on a CPU (SwiftShader): one small webgpu trial and the bench's worker on webgpu.
  step sweep 240 sweep-webgpu "node dist/src/cli.js sweep experiments/quick.yaml --db $DB --set 'sweep={}' --set data.trainLimit=64 --set data.testLimit=100 --set train.epochs=1 --backend webgpu"
  step bench 240 bench-worker "node dist/bench/throughput-worker.js webgpu 64 1 32"
elif [ "$PLAN" = bars ]; then
  # Issue 12's done-when in one call: quick.yaml on auto, the bench's webgpu rows at batch 32/128/512 beside the
  # PyTorch CUDA peer, a profiled step, then seed-cnn (one seed, full data) to the deadline: give it DEADLINE_S=540.
  step sweep 60  quick      "node dist/src/cli.js sweep experiments/quick.yaml --db $DB $SWEEP_ARGS"
  step sweep 10  report     "node dist/src/cli.js report --top 5 --db $DB"
  step bench 150 bench      "BENCH_WEBGPU_SAMPLES=30000 BENCH_WEBGPU_BATCHES=32,128,512 BENCH_WEBGPU_PARALLEL=2,4 BENCH_WEBGPU_OVERHEAD_TRIALS=4 PEER_TORCH=$PEER_TORCH node dist/bench/index.js --webgpu-only"
  step bench 20  profile    "node dist/bench/profile-step.js webgpu 128"
  step bench 20  profile512 "node dist/bench/profile-step.js webgpu 512"
  step sweep 300 seed-cnn   "node dist/src/cli.js sweep experiments/seed-cnn.yaml --set repeat=1 --db $DB"
  step sweep 10  seed-report "node dist/src/cli.js report --db $DB"
  # Then the levers, one unprofiled step time each at batch 128 (median of 7 blocks of 32 steps); the fastest, if it
  # beats the default by 10%, reruns the bench's batch-128 and batch-512 rows.
  lever base        ""
  lever submit-64   "RUNNER_TFJS_FLAGS=WEBGPU_DEFERRED_SUBMIT_BATCH_SIZE=64"
  lever skip-valid  "RUNNER_DAWN_FLAGS=enable-dawn-features=skip_validation"
  lever no-robust   "RUNNER_DAWN_FLAGS=enable-dawn-features=disable_robustness"
  lever no-cpu-fwd  "RUNNER_TFJS_FLAGS=WEBGPU_CPU_FORWARD=false"
  lever base-again  ""
  best_lever
elif [ "$PLAN" = final ]; then
  # Issue 12's bars after the data path and bind-group changes, in one call of about 350 s (DEADLINE_S=350): the quick
  # sweep on auto, the bench's webgpu rows beside the PyTorch peer and sharing the GPU, the rows at 128 and 512 again,
  # the levers (the fastest reruns the rows when it beats the default by 10%), the kernel tables, then seed-cnn.
  step sweep 60  quick      "node dist/src/cli.js sweep experiments/quick.yaml --db $DB $SWEEP_ARGS"
  step sweep 10  report     "node dist/src/cli.js report --top 5 --db $DB"
  step bench 130 bench      "BENCH_WEBGPU_SAMPLES=30000 BENCH_WEBGPU_BATCHES=32,128,512 BENCH_WEBGPU_PARALLEL=2,4 BENCH_WEBGPU_OVERHEAD_TRIALS=4 PEER_TORCH=$PEER_TORCH node dist/bench/index.js --webgpu-only"
  step bench 40  bench-again "BENCH_WEBGPU_SAMPLES=30000 BENCH_WEBGPU_BATCHES=128,512 BENCH_WEBGPU_PARALLEL= BENCH_WEBGPU_OVERHEAD_TRIALS=0 PEER_TORCH=none node dist/bench/index.js --webgpu-only"
  lever base        ""
  lever bind-create "RUNNER_BIND_GROUPS=create"
  lever submit-8    "RUNNER_TFJS_FLAGS=WEBGPU_DEFERRED_SUBMIT_BATCH_SIZE=8"
  lever submit-4    "RUNNER_TFJS_FLAGS=WEBGPU_DEFERRED_SUBMIT_BATCH_SIZE=4"
  lever skip-valid  "RUNNER_DAWN_FLAGS=enable-dawn-features=skip_validation"
  lever base-again  ""
  best_lever
  step bench 15  profile512 "node dist/bench/profile-step.js webgpu 512"
  step sweep 300 seed-cnn   "node dist/src/cli.js sweep experiments/seed-cnn.yaml --set repeat=1 --db $DB"
  step sweep 10  seed-report "node dist/src/cli.js report --db $DB"
elif [ "$PLAN" = confirm ]; then
  # A short rerun after PLAN=final (about 90 s): the quick sweep, the bench rows, four trials sharing, seed-cnn.
  step sweep 60  quick      "node dist/src/cli.js sweep experiments/quick.yaml --db $DB $SWEEP_ARGS"
  step bench 60  bench      "BENCH_WEBGPU_SAMPLES=30000 BENCH_WEBGPU_BATCHES=32,128,512 BENCH_WEBGPU_PARALLEL=4 BENCH_WEBGPU_OVERHEAD_TRIALS=0 PEER_TORCH=none node dist/bench/index.js --webgpu-only"
  step sweep 120 seed-cnn   "node dist/src/cli.js sweep experiments/seed-cnn.yaml --set repeat=1 --db $DB"
  step sweep 10  seed-report "node dist/src/cli.js report --db $DB"
elif [ "$PLAN" = diagnose ]; then
  # Where the training loop's time goes beyond the step's: a CPU profile of the loop at batch 128 and 512 (the
  # .cpuprofile files come back in $OUT), the upload A/B (RUNNER_UPLOAD=stock is tfjs's own), the step alone.
  W="dist/bench/throughput-worker.js webgpu 30000 2"
  P="node --cpu-prof --cpu-prof-interval 100 --cpu-prof-dir=$OUT"
  step bench 40 prof-512 "$P --cpu-prof-name=loop-512.cpuprofile $W 512"
  step bench 40 prof-128 "$P --cpu-prof-name=loop-128.cpuprofile $W 128"
  step bench 30 prof-step-512 "$P --cpu-prof-name=step-512.cpuprofile dist/bench/profile-step.js webgpu 512 | head -1"
  for round in 1 2; do
    for b in 512 128; do
      step bench 30 "stock-$b-$round"  "RUNNER_UPLOAD=stock node $W $b | grep -o '\"samplesPerSecond\":[0-9]*'"
      step bench 30 "webgpu-$b-$round" "node $W $b | grep -o '\"samplesPerSecond\":[0-9]*'"
    done
  done
  step bench 20 step-32  "node dist/bench/profile-step.js webgpu 32 | head -1"
  step bench 20 step-512 "node dist/bench/profile-step.js webgpu 512 | head -1"
elif [ "$PLAN" = levers ]; then
  step bench 15 base        "node dist/bench/profile-step.js webgpu 128"
  step bench 15 submit-64   "RUNNER_TFJS_FLAGS=WEBGPU_DEFERRED_SUBMIT_BATCH_SIZE=64 node dist/bench/profile-step.js webgpu 128"
  step bench 15 no-cpu-fwd  "RUNNER_TFJS_FLAGS=WEBGPU_CPU_FORWARD=false node dist/bench/profile-step.js webgpu 128"
  step bench 15 skip-valid  "RUNNER_DAWN_FLAGS='enable-dawn-features=skip_validation' node dist/bench/profile-step.js webgpu 128"
  step bench 15 no-robust   "RUNNER_DAWN_FLAGS='enable-dawn-features=disable_robustness' node dist/bench/profile-step.js webgpu 128"
  step bench 15 base-512    "node dist/bench/profile-step.js webgpu 512"
  for b in 32 128 512; do step torch 30 "torch-b$b" "python3 $PEER_TORCH 1 60000 16 $b cuda"; done
  step sweep 400 seed-cnn   "node dist/src/cli.js sweep experiments/seed-cnn.yaml --set repeat=1 --db $DB"
  step sweep 10 report      "node dist/src/cli.js report --db $DB"
else
  # The webgpu rows of npm run bench: batch 128 and 512, then 2 and 4 trials sharing the GPU (batch 32 comes from
  # the seed-cnn run below, whose epochs are batch 32 on the full training set).
  step bench 80 bench "BENCH_WEBGPU_SAMPLES=30000 BENCH_WEBGPU_BATCHES=128,512 BENCH_WEBGPU_PARALLEL=2,4 BENCH_WEBGPU_OVERHEAD_TRIALS=0 PEER_TORCH=none node dist/bench/index.js --webgpu-only"
  step bench 25 profile "node dist/bench/profile-step.js webgpu 128"
  # seed-cnn (one seed, full data, 10 epochs at batch 32) runs beside the quick sweep and then alone to the deadline.
  node dist/src/cli.js sweep experiments/seed-cnn.yaml --set repeat=1 --db $DB > "$OUT/seed.log" 2>&1 &
  SEED_PID=$!
  step sweep 60 sweep  "node dist/src/cli.js sweep experiments/quick.yaml --db $DB $SWEEP_ARGS"
  step sweep 10 report "node dist/src/cli.js report --top 5 --db $DB"
  while kill -0 $SEED_PID 2>/dev/null && [ $((DEADLINE_S - (SECONDS - START))) -gt 12 ]; do sleep 1; done
  kill -INT $SEED_PID 2>/dev/null; wait $SEED_PID; echo "seed-cnn: rc=$?" >> "$OUT/seed.log"
fi

# ------------------------------------------------------------------ results
[ -f "$DB" ] && cp "$DB" "$OUT/runs.sqlite"
echo; echo "=== summary ($((SECONDS - START)) s in all; logs in $OUT: $(cd "$OUT" && ls | tr '\n' ' '))"
cat "$OUT/summary.txt"
