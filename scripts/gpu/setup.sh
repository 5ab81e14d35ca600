# Sourced on the GPU machine (no Node, no network): `source scripts/gpu/setup.sh` from anywhere.
# Unpacks .gpu-carry/ (made here by scripts/gpu/pack.sh) into $GPU_HOME (default /tmp/gpu), points the Vulkan
# loader at the NVIDIA driver (SwiftShader on a machine without one, with a loud note), puts the carried node on
# PATH, sets FASHION_MNIST_DIR and PEER_TORCH, and cds into the app root so `node dist/src/cli.js ...` works.
# Returns non-zero only when node or the app could not be unpacked. Assumes nothing about Node being present.
# Sets: GPU_HOME GPU_REPO GPU_CARRY GPU_SOFTWARE (1 when the adapter is a CPU one) and the exports below.

_gpu_t0=$(date +%s%N)
GPU_REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
GPU_CARRY=${GPU_CARRY:-$GPU_REPO/.gpu-carry}
GPU_HOME=${GPU_HOME:-/tmp/gpu}
GPU_SOFTWARE=0
_gpu_say() { echo "setup: $*"; }
_gpu_loud() { echo "setup: !!!!!!!! $* !!!!!!!!"; }
_gpu_secs() { awk -v a="$_gpu_t0" -v b="$(date +%s%N)" 'BEGIN {printf "%.1f", (b-a)/1e9}'; }
# xz -d to stdout, with Python's lzma where xz is missing.
_gpu_unxz() {
  if command -v xz > /dev/null; then xz -dc -T0 "$1"
  else python3 -c 'import lzma,shutil,sys; shutil.copyfileobj(lzma.open(sys.argv[1]), sys.stdout.buffer, 1 << 20)' "$1"; fi
}
_gpu_ldconfig() { if command -v ldconfig > /dev/null; then ldconfig "$@"; else /sbin/ldconfig "$@"; fi; }
_gpu_gzip() { if command -v gzip > /dev/null; then gzip -1; else python3 -c 'import gzip,shutil,sys; shutil.copyfileobj(sys.stdin.buffer, gzip.GzipFile(fileobj=sys.stdout.buffer, mode="wb", compresslevel=1), 1 << 20)'; fi; }

_gpu_setup() {
  if [ ! -f "$GPU_CARRY/node.xz" ] || [ ! -f "$GPU_CARRY/app.tar.xz" ]; then
    _gpu_loud "no $GPU_CARRY/{node.xz,app.tar.xz}: run scripts/gpu/pack.sh here and name .gpu-carry in carry"
    return 1
  fi
  sed 's/^/setup: carry /' "$GPU_CARRY/MANIFEST" 2>/dev/null
  # A carried build older than the sources beside it runs old code: say so (pack.sh hashes the same files).
  local packed now
  packed=$(sed -n 's/^source-hash: //p' "$GPU_CARRY/MANIFEST" 2>/dev/null)
  now=$(cd "$GPU_REPO" && find src bench schemas package.json -type f 2>/dev/null | LC_ALL=C sort | xargs sha256sum 2>/dev/null | sha256sum | cut -c1-16)
  [ "$packed" = "$now" ] || _gpu_loud "the carried build (source-hash $packed) is not the src/ beside it ($now): rerun scripts/gpu/pack.sh"

  rm -rf "$GPU_HOME" && mkdir -p "$GPU_HOME/bin" "$GPU_HOME/fashion-mnist" "$GPU_HOME/shared/peers" "$GPU_HOME/xdg" || return 1
  chmod 700 "$GPU_HOME/xdg"

  # 1. Unpack everything at once (16 cores there): node, the app, dawn.node (into the app), the data (re-gzipped:
  #    the runner and the PyTorch peer read the .gz files).
  local pids=() f
  _gpu_unxz "$GPU_CARRY/node.xz" > "$GPU_HOME/bin/node" & pids+=($!)
  ( _gpu_unxz "$GPU_CARRY/app.tar.xz" | tar -xf - -C "$GPU_HOME" \
    && _gpu_unxz "$GPU_CARRY/dawn.node.xz" > "$GPU_HOME/app/node_modules/webgpu/dist/linux-x64/dawn.node" ) & pids+=($!)
  for f in "$GPU_CARRY"/fashion-mnist/*.xz; do
    ( _gpu_unxz "$f" | _gpu_gzip > "$GPU_HOME/fashion-mnist/$(basename "$f" .xz).gz" ) & pids+=($!)
  done

  # 2. Meanwhile: the Vulkan loader and glvnd, over / as the device README says (root there), unless all present.
  local libs='libvulkan.so.1 libGLX.so.0 libEGL.so.1 libGLdispatch.so.0 libOpenGL.so.0 libGL.so.1 libGLESv2.so.2' lib missing= have
  have=$(_gpu_ldconfig -p 2>/dev/null | awk '{print $1}')
  for lib in $libs; do grep -qxF "$lib" <<< "$have" || missing="$missing $lib"; done
  if [ -z "$missing" ] && [ -z "${GPU_FORCE_DEBS:-}" ]; then
    _gpu_say "Vulkan loader and glvnd already installed"
  elif [ "$(id -u)" = 0 ] && [ -z "${GPU_SYSROOT:-}" ]; then
    _gpu_say "missing:$missing; unpacking $(ls "$GPU_CARRY"/debs/*.deb | wc -l) .debs over /"
    for f in "$GPU_CARRY"/debs/*.deb; do dpkg -x "$f" / || _gpu_loud "dpkg -x $f failed"; done
    _gpu_ldconfig
  else
    # Not root (or GPU_SYSROOT given): unpack beside, and point the dynamic loader there.
    local root=${GPU_SYSROOT:-$GPU_HOME/sysroot}
    _gpu_say "missing:$missing; unpacking the .debs into $root (LD_LIBRARY_PATH)"
    for f in "$GPU_CARRY"/debs/*.deb; do dpkg -x "$f" "$root"; done
    export LD_LIBRARY_PATH="$root/usr/lib/x86_64-linux-gnu${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
  fi

  # 3. The driver: NVIDIA's Vulkan ICD, else SwiftShader (a CPU: correct, slow, useless for timings).
  local icd=/usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json egl=/usr/local/nvidia/share/glvnd/egl_vendor.d/10_nvidia.json
  [ -f "$icd" ] || icd=$(find /etc/vulkan /usr/share/vulkan /usr/local/share/vulkan /usr/local/nvidia -name 'nvidia_icd*.json' 2>/dev/null | head -1)
  # The whole disk (20 s at most) only where there is an NVIDIA GPU to find a driver for.
  if [ -z "$icd" ] && { [ -e /dev/nvidia0 ] || command -v nvidia-smi > /dev/null; }; then
    icd=$(timeout 20 find / -xdev \( -path /proc -o -path /sys -o -path "$GPU_HOME" \) -prune -o -name 'nvidia_icd*.json' -print 2>/dev/null | head -1)
  fi
  if [ -n "$icd" ]; then
    _gpu_say "NVIDIA Vulkan ICD: $icd"
    [ -f "$egl" ] || egl=$(timeout 20 find / -xdev \( -path /proc -o -path /sys \) -prune -o -name '10_nvidia.json' -print 2>/dev/null | head -1)
    [ -n "$egl" ] && export __EGL_VENDOR_LIBRARY_FILENAMES=$egl
    # The ICD names libGLX_nvidia.so.0 without a path: make sure the dynamic loader finds it.
    if ! _gpu_ldconfig -p | grep -q 'libGLX_nvidia.so.0'; then
      local glx
      glx=$(timeout 20 find /usr/local/nvidia /usr/lib /usr/lib64 /lib -name 'libGLX_nvidia.so.0' 2>/dev/null | head -1)
      if [ -n "$glx" ]; then export LD_LIBRARY_PATH="$(dirname "$glx")${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"; _gpu_say "libGLX_nvidia.so.0 in $(dirname "$glx")"
      else _gpu_loud "libGLX_nvidia.so.0 not found: Dawn will likely see no NVIDIA adapter"; fi
    fi
  elif [ -f /usr/lib/chromium/vk_swiftshader_icd.json ]; then
    icd=/usr/lib/chromium/vk_swiftshader_icd.json GPU_SOFTWARE=1
    _gpu_loud "NO NVIDIA VULKAN DRIVER: using SwiftShader ($icd), a CPU. WebGPU numbers from this run are NOT GPU numbers"
  else
    _gpu_loud "NO VULKAN DRIVER AT ALL: the webgpu backend will find no adapter (wasm and cpu still work)"
  fi
  [ -n "$icd" ] && export VK_ICD_FILENAMES=$icd VK_DRIVER_FILES=$icd
  export XDG_RUNTIME_DIR=$GPU_HOME/xdg

  # 4. Wait for the unpacking.
  local pid bad=0
  for pid in "${pids[@]}"; do wait "$pid" || bad=1; done
  [ "$bad" = 0 ] || _gpu_loud "some unpacking failed (see above)"
  chmod +x "$GPU_HOME/bin/node"
  export PATH="$GPU_HOME/bin:$PATH"
  export FASHION_MNIST_DIR=$GPU_HOME/fashion-mnist
  if [ -f "$GPU_CARRY/torch_cnn.py" ]; then
    cp "$GPU_CARRY/torch_cnn.py" "$GPU_HOME/torch_cnn.py"
    cp "$GPU_CARRY/torch_cnn.py" "$GPU_HOME/shared/peers/"   # where bench/index.ts looks: <app>/../shared/peers
    export PEER_TORCH=$GPU_HOME/torch_cnn.py
  fi
  # Experiments: the ones in the tree beside (edits made after packing count), over the packed ones.
  [ -d "$GPU_REPO/experiments" ] && cp -r "$GPU_REPO/experiments/." "$GPU_HOME/app/experiments/"
  cd "$GPU_HOME/app" || return 1
  local v
  v=$(node --version 2>&1) || { _gpu_loud "the carried node does not run: $v"; return 1; }
  [ "$(command -v node)" = "$GPU_HOME/bin/node" ] || _gpu_loud "node on PATH is $(command -v node), not the carried one"
  _gpu_say "node $v at $(command -v node); app in $PWD; data in $FASHION_MNIST_DIR ($(ls "$FASHION_MNIST_DIR" | wc -l) files)"
  _gpu_say "VK_ICD_FILENAMES=${VK_ICD_FILENAMES:-} LD_LIBRARY_PATH=${LD_LIBRARY_PATH:-} XDG_RUNTIME_DIR=$XDG_RUNTIME_DIR"
  GPU_SETUP_SECONDS=$(_gpu_secs)
  _gpu_say "done in $GPU_SETUP_SECONDS s"
}
_gpu_setup
