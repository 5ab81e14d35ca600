#!/usr/bin/env bash
# Builds .gpu-carry/: everything a GPU machine with no network and no Node needs to run the runner.
#   scripts/gpu/pack.sh            build (tsc), bundle, pack; reuses the slow parts (node, dawn, data) when unchanged
#   NO_BUILD=1 scripts/gpu/pack.sh  pack the dist/ that is there
#   NO_STRIP=1 scripts/gpu/pack.sh  ship node and the addons with their symbols (about 2.5 MB more)
# Then rehearse here (scripts/gpu/rehearse.sh) and run on the device: see scripts/gpu/README.md.
#
# .gpu-carry/ holds:
#   node.xz            this machine's Node (stripped), xz
#   dawn.node.xz       webgpu's dist/linux-x64/dawn.node (stripped), xz
#   app.tar.xz         app/: package.json, schemas/, experiments/, the rolldown bundle at dist/src/cli.js,
#                      dist/src/trial/worker.js, dist/bench/*.js (+ dist/chunks/), and node_modules/ with webgpu
#                      (less dawn.node), better-sqlite3 + bindings + file-uri-to-path, tfjs-backend-wasm's .wasm
#   fashion-mnist/*.xz the four IDX files, raw then xz -9e (setup.sh makes them .gz again)
#   debs/*.deb         Vulkan loader + glvnd (amd64)
#   torch_cnn.py       the PyTorch peer
#   MANIFEST           what was packed, from which commit, and a hash of the sources it was built from
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$ROOT"
C=$ROOT/.gpu-carry
LIMIT_MIB=${LIMIT_MIB:-60}
ROLLDOWN_VERSION=1.2.19
DATA_SRC=${DATA_SRC:-/usr/share/datasets/fashion-mnist}
PEER_SRC=${PEER_SRC:-$ROOT/../shared/peers/torch_cnn.py}
NODE_SRC=${NODE_SRC:-$(command -v node)}
DEBS="libvulkan1 libegl1 libglvnd0 libopengl0 libgl1 libglx0 libgles2"
XZ="xz -T0 -9"
t0=$SECONDS
say() { echo "pack: $*"; }
die() { echo "pack: ERROR: $*" >&2; exit 1; }

grep -qxF '/.gpu-carry/' .git/info/exclude 2>/dev/null || echo '/.gpu-carry/' >> .git/info/exclude
mkdir -p "$C"
STAGE=$(mktemp -d /tmp/gpu-pack.XXXXXX)
trap 'rm -rf "$STAGE"' EXIT

# A copy of an ELF file, stripped unless NO_STRIP=1.
stripped() { if [ -n "${NO_STRIP:-}" ]; then cp "$1" "$2"; else strip -o "$2" "$1"; fi; }

# Compresses $1 to $2 with xz unless $2 was already made from the same $1 (its sha256 is kept in $2.src).
xz_cached() {
  local src=$1 dst=$2 sum
  sum="$(sha256sum "$src" | cut -d' ' -f1) strip=${NO_STRIP:-yes}"
  if [ -f "$dst" ] && [ "$(cat "$dst.src" 2>/dev/null)" = "$sum" ]; then say "$(basename "$dst"): unchanged"; return; fi
  say "$(basename "$dst"): compressing $src (slow: about a minute per 100 MB on two cores)"
  stripped "$src" "$STAGE/elf"
  $XZ -c "$STAGE/elf" > "$dst.tmp" && mv "$dst.tmp" "$dst" && echo "$sum" > "$dst.src"
  rm -f "$STAGE/elf"
}

# 1. Build.
if [ -z "${NO_BUILD:-}" ]; then say "tsc"; node_modules/.bin/tsc -p tsconfig.json || die "tsc failed (NO_BUILD=1 packs the dist/ that is there)"; fi
[ -f dist/src/cli.js ] || die "no dist/src/cli.js: build first"

# 2. Bundle with rolldown, installed beside the project (never into its package.json).
ROLLDOWN=${ROLLDOWN:-${XDG_CACHE_HOME:-$HOME/.cache}/runner-gpu-pack/rolldown-$ROLLDOWN_VERSION}
if [ ! -x "$ROLLDOWN/node_modules/.bin/rolldown" ]; then
  say "installing rolldown@$ROLLDOWN_VERSION into $ROLLDOWN"
  mkdir -p "$ROLLDOWN"
  npm install --prefix "$ROLLDOWN" --no-save --no-audit --no-fund --loglevel=error "rolldown@$ROLLDOWN_VERSION" >/dev/null
fi
APP=$STAGE/app
say "bundling"
GPU_PACK_APP=$APP "$ROLLDOWN/node_modules/.bin/rolldown" -c scripts/gpu/rolldown.config.mjs > "$STAGE/rolldown.log" 2>&1 || { cat "$STAGE/rolldown.log"; die "rolldown failed"; }
grep -v '│ size:\|Finished in\|^\s*$' "$STAGE/rolldown.log" | head -20 || true   # warnings, if any

# 3. The mini package root around the bundle.
cp package.json "$APP/"
cp -r schemas experiments "$APP/"
M=$APP/node_modules
mkdir -p "$M/webgpu/dist/linux-x64" "$M/better-sqlite3/build/Release" "$M/@tensorflow/tfjs-backend-wasm/dist"
cp node_modules/webgpu/{index.js,package.json} "$M/webgpu/"
cp -r node_modules/better-sqlite3/{package.json,lib} "$M/better-sqlite3/"
stripped node_modules/better-sqlite3/build/Release/better_sqlite3.node "$M/better-sqlite3/build/Release/better_sqlite3.node"
cp -r node_modules/bindings node_modules/file-uri-to-path "$M/"   # better-sqlite3's runtime dependencies
cp node_modules/@tensorflow/tfjs-backend-wasm/package.json "$M/@tensorflow/tfjs-backend-wasm/"
cp node_modules/@tensorflow/tfjs-backend-wasm/dist/*.wasm "$M/@tensorflow/tfjs-backend-wasm/dist/"
grep -q '/usr/bin/node' -r "$APP/dist" && say "warning: the bundle names /usr/bin/node"

# Smoke test here, from outside the repository so nothing resolves into its node_modules (dawn.node
# is linked in for it, then left out of the tarball: it travels as dawn.node.xz).
ln -s "$ROOT/node_modules/webgpu/dist/linux-x64/dawn.node" "$M/webgpu/dist/linux-x64/dawn.node"
(cd "$APP" && node dist/src/cli.js validate experiments/quick.yaml > "$STAGE/smoke.log" 2>&1 \
  && node --input-type=module -e "import D from 'better-sqlite3'; new D(':memory:').exec('select 1'); await import('webgpu');" >> "$STAGE/smoke.log" 2>&1) \
  || { cat "$STAGE/smoke.log"; die "the bundled app fails its smoke test (validate, better-sqlite3, webgpu)"; }
rm "$M/webgpu/dist/linux-x64/dawn.node"
say "bundle: $(du -sh "$APP/dist" | cut -f1) of JavaScript; smoke test passed"
tar -C "$STAGE" -cf - app | xz -T0 -9 > "$C/app.tar.xz"

# 4. The slow, rarely changing parts.
xz_cached "$NODE_SRC" "$C/node.xz"
xz_cached node_modules/webgpu/dist/linux-x64/dawn.node "$C/dawn.node.xz"
mkdir -p "$C/fashion-mnist"
for f in "$DATA_SRC"/*-ubyte.gz; do
  b=$(basename "$f" .gz)
  # Raw IDX under xz -9e is about 12% smaller than the gzip files; setup.sh re-gzips (the loaders read .gz).
  if [ "$(cat "$C/fashion-mnist/$b.xz.src" 2>/dev/null)" != "$(sha256sum "$f" | cut -d' ' -f1)" ]; then
    say "fashion-mnist/$b.xz: compressing"
    gunzip -c "$f" | xz -T0 -9e > "$C/fashion-mnist/$b.xz"
    sha256sum "$f" | cut -d' ' -f1 > "$C/fashion-mnist/$b.xz.src"
  fi
done
[ "$(ls "$C"/fashion-mnist/*.xz | wc -l)" = 4 ] || die "expected four Fashion-MNIST files in $DATA_SRC"

mkdir -p "$C/debs"
if [ "$(ls "$C"/debs/*.deb 2>/dev/null | wc -l)" -lt 7 ]; then
  say "downloading $DEBS (amd64)"
  mkdir -p /tmp/gpu-pack-apt/partial
  o='-oAPT::Architecture=amd64 -oAPT::Architectures=amd64 -oDir::State::Lists=/tmp/gpu-pack-apt'
  apt-get $o update > /dev/null 2>&1 || true
  (cd "$C/debs" && apt-get $o download $DEBS 2>&1 | grep -v '^Get:\|unsandboxed' || true)
fi
[ "$(ls "$C"/debs/*.deb | wc -l)" -ge 7 ] || die "apt-get download of the Vulkan/glvnd .debs failed"

if [ -f "$PEER_SRC" ]; then cp "$PEER_SRC" "$C/torch_cnn.py"; else say "warning: no PyTorch peer at $PEER_SRC"; fi

# 5. Manifest: setup.sh compares the source hash with the tree it runs beside, and warns when they differ.
src_hash=$(git ls-files -co --exclude-standard -- src bench schemas package.json | LC_ALL=C sort | xargs sha256sum | sha256sum | cut -c1-16)
{
  echo "packed: $(date -u +%FT%TZ) on $(hostname)"
  echo "commit: $(git rev-parse --short HEAD)$(git diff --quiet HEAD -- src bench schemas package.json || echo ' + uncommitted changes')"
  echo "source-hash: $src_hash"
  echo "node: $("$NODE_SRC" --version)"
  echo "entries: $(cd "$APP" && find dist/src dist/bench -name '*.js' | sort | tr '\n' ' ')"
} > "$C/MANIFEST"

# 6. Sizes: what travels is the working tree (tracked + untracked-not-ignored) plus .gpu-carry.
carry=$(find "$C" -type f -printf '%s\n' | awk '{s+=$1} END {print s+0}')
tree=$(git ls-files -co --exclude-standard -z | xargs -0 stat -c %s 2>/dev/null | awk '{s+=$1} END {print s+0}')
mib() { awk -v b="$1" 'BEGIN {printf "%.1f MiB", b/1048576}'; }
(cd "$C" && ls -l node.xz dawn.node.xz app.tar.xz fashion-mnist/*.xz torch_cnn.py 2>/dev/null | awk '{printf "  %10d  %s\n", $5, $NF}')
say "carry $(mib "$carry") + working tree $(mib "$tree") = $(mib $((carry + tree))) (limit ${LIMIT_MIB} MiB; the device takes 64) in $((SECONDS - t0)) s"
[ $((carry + tree)) -le $((LIMIT_MIB * 1048576)) ] || die "over ${LIMIT_MIB} MiB: what travels must stay under the device's 64 MiB"
