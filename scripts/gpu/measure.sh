#!/usr/bin/env bash
# The one script to run on the GPU machine (no Node, no network), after scripts/gpu/pack.sh here:
#   device run: carry [".gpu-carry"], command "bash scripts/gpu/measure.sh", timeout_s 600
# Every step has a timeout and none stops the script; all steps together end by DEADLINE_S (default 540 s),
# so the logs are complete before the device call's limit. Logs go to $OUT (at most 8 files come back):
#   setup.log (unpacking, GPU, adapter, doctor)  torch.log  sweep.log  bench.log  summary.txt (rc and seconds
#   per step)  runs.sqlite (the sweep's database)
# QUICK=1 shrinks every step, for a rehearsal on a CPU (SwiftShader) machine.
OUT=${OUT:-/tmp/gpu-out}
mkdir -p "$OUT"
DEADLINE_S=${DEADLINE_S:-540}
START=$SECONDS
export PYTHONUNBUFFERED=1

source "$(dirname "${BASH_SOURCE[0]}")/setup.sh" >> "$OUT/setup.log" 2>&1
cat "$OUT/setup.log"

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

# ------------------------------------------------------------------ knobs
DB=/tmp/runs.sqlite
SWEEP_ARGS=""                # e.g. "--backend webgpu"
# >>> bench options go here. --webgpu-only: the webgpu rows (they come first) and stop; the CPU rows (wasm, cpu,
# sweep overhead) need no GPU, and their cpu row alone takes minutes. "" runs the whole bench. <<<
BENCH_ARGS="--webgpu-only"
TORCH_SAMPLES=60000
TORCH_BATCHES="32 128 512"
QUICK=${QUICK:-0}
if [ "$QUICK" = 1 ]; then
  SWEEP_ARGS="$SWEEP_ARGS --set data.trainLimit=600 --set data.testLimit=1000 --set train.epochs=1"
  TORCH_SAMPLES=600
  # The bench's webgpu rows run only on a GPU adapter unless BENCH_WEBGPU is set: here they exercise the bundle.
  export BENCH_SAMPLES=600 BENCH_WEBGPU=1 BENCH_WEBGPU_SAMPLES=256
fi
ADAPTER_JS="const {create, globals} = await import('webgpu'); Object.assign(globalThis, globals);
const a = await create([]).requestAdapter({powerPreference: 'high-performance'});
console.log(a ? JSON.stringify({...Object.fromEntries(['vendor','architecture','device','description'].map(k => [k, a.info[k]])), maxBufferSize: a.limits.maxBufferSize}) : 'Dawn: no adapter');"

# ------------------------------------------------------------------ steps: step LOG TIMEOUT_S NAME "COMMAND"
step setup 30  gpu      "nvidia-smi -L; nvidia-smi --query-gpu=name,driver_version,memory.total,memory.used --format=csv"
step setup 20  machine  "uname -srm; nproc; free -g | head -2; which node; node -p process.execPath; ldd node_modules/webgpu/dist/linux-x64/dawn.node | grep 'not found'; ldconfig -p | grep -i 'vulkan\|GLX_nvidia'"
step setup 60  adapter  "node --input-type=module -e \"$ADAPTER_JS\""
step setup 90  doctor   "node dist/src/cli.js doctor"
for b in $TORCH_BATCHES; do
  step torch 120 "torch-b$b" "python3 $PEER_TORCH 1 $TORCH_SAMPLES 16 $b cuda"
done
step sweep 300 sweep    "node dist/src/cli.js sweep experiments/quick.yaml --db $DB $SWEEP_ARGS"
[ "$QUICK" = 1 ] &&       # a rehearsal on a CPU: auto picks wasm there, so run the webgpu backend too
step sweep 300 sweep-webgpu "node dist/src/cli.js sweep experiments/quick.yaml --db $DB $SWEEP_ARGS --backend webgpu --force"
step sweep 30  report   "node dist/src/cli.js report --top 5 --db $DB"
step bench 400 bench    "node dist/bench/index.js $BENCH_ARGS"
# step bench 120 kernels  "node dist/bench/webgpu-kernels.js 128 512"   # the runner's Conv2DBackpropFilter vs stock

# ------------------------------------------------------------------ results
[ -f "$DB" ] && cp "$DB" "$OUT/runs.sqlite"
echo; echo "=== summary ($((SECONDS - START)) s in all; logs in $OUT: $(cd "$OUT" && ls | tr '\n' ' '))"
cat "$OUT/summary.txt"
