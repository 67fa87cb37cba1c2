#!/usr/bin/env bash
# Run HERE (the Debian 12 build machine), before benchmarks/gpu/run.sh on the GPU machine: unpacks
# the Debian packages the GPU machine lacks (toml++, stb, matio, libdeflate, NIfTI-2) into the
# ignored folder .gpu-vendor/ (headers, libraries, pkg-config files pointing into the folder), and
# exports the published lrm-steering code (the PyTorch peer) beside them, so that the folder
# travels with the working tree (the device tool's `carry`, at most 64 MiB).
# Usage: benchmarks/gpu/vendor.sh [lrm-steering git dir]
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
out=$root/.gpu-vendor
mirror=${1:-${LRM_STEERING:-/work/.mirror/harvard-visionlab+lrm-steering/repo}}
packages=(libtomlplusplus-dev libtomlplusplus3 libstb-dev libstb0 libmatio-dev libmatio11
          libdeflate-dev libdeflate0 libnifti2-dev libnifti2-2 libniftiio-dev libznz-dev libznz3)
debs=$(mktemp -d)
trap 'rm -rf "$debs"' EXIT
rm -rf "$out"
mkdir -p "$out"
chmod 755 "$debs"  # apt's download user writes there
(cd "$debs" && apt-get download "${packages[@]}" >/dev/null 2> >(grep -v "unsandboxed as root" >&2))
for deb in "$debs"/*.deb; do dpkg-deb -x "$deb" "$out"; done
rm -rf "$out/usr/share/doc" "$out/usr/share/lintian" "$out/usr/share/man"
# pkg-config files name /usr: point them at this folder wherever it lands.
# shellcheck disable=SC2016
find "$out" -name '*.pc' -exec sed -i 's|^prefix=/usr$|prefix=${pcfiledir}/../../..|' {} +
# Debian's -dev packages link lib<name>.so to an absolute path; make the links relative.
find "$out" -type l | while IFS= read -r link; do
  target=$(readlink "$link")
  if [[ $target == /* ]]; then ln -sfn "$(basename "$target")" "$link"; fi
done
if git -C "$mirror" rev-parse --git-dir >/dev/null 2>&1; then
  mkdir -p "$out/lrm-steering"
  git -C "$mirror" archive HEAD lrm_models | tar -x -C "$out/lrm-steering"
  git -C "$mirror" rev-parse HEAD > "$out/lrm-steering/COMMIT"
else
  echo "vendor.sh: no lrm-steering mirror at $mirror; the PyTorch peer will be skipped" >&2
fi
du -sh "$out"
size=$(du -sm "$out" | cut -f1)
if (( size > 60 )); then echo "vendor.sh: $out is $size MiB, over the 64 MiB carry limit" >&2; exit 1; fi
