#!/usr/bin/env bash
# Rehearses the device run here, on the CPU: copies what the device tool would send (tracked and
# untracked-not-ignored files, plus .gpu-carry/) into a temporary folder and runs measure.sh there under `env -i`,
# with a PATH that has no node on it (a copy of /usr/bin as links, less node; /bin and /usr/bin themselves left
# out), so only the carried node can run. Vulkan falls back to SwiftShader.
#   scripts/gpu/rehearse.sh            QUICK=1 (a few minutes)
#   QUICK=0 scripts/gpu/rehearse.sh    the full step list (slow on a CPU)
# Leaves the copy in $SIM and the logs in $SIM_OUT.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
SIM=${SIM:-/tmp/gpu-sim}
SIM_OUT=${SIM_OUT:-/tmp/gpu-sim-out}
[ -f "$ROOT/.gpu-carry/node.xz" ] || { echo "rehearse: no .gpu-carry: run scripts/gpu/pack.sh first" >&2; exit 1; }
rm -rf "$SIM" "$SIM_OUT" && mkdir -p "$SIM/tree" "$SIM/bin" "$SIM_OUT"
(cd "$ROOT" && git ls-files -co --exclude-standard -z | xargs -0 -I{} cp --parents -- {} "$SIM/tree/" 2>/dev/null || true)
cp -r "$ROOT/.gpu-carry" "$SIM/tree/"
for f in /usr/bin/* /usr/sbin/*; do
  case "$(basename "$f")" in node|nodejs|npm|npx|corepack) ;; *) ln -sf "$f" "$SIM/bin/";; esac
done
cd "$SIM/tree"
env -i PATH="$SIM/bin" HOME=/tmp OUT="$SIM_OUT" QUICK="${QUICK:-1}" DEADLINE_S="${DEADLINE_S:-540}" \
  GPU_HOME="$SIM/home" bash scripts/gpu/measure.sh
echo "rehearse: logs in $SIM_OUT: $(ls "$SIM_OUT" | tr '\n' ' ')"
