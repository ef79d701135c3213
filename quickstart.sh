#!/usr/bin/env bash
# Install what is missing (Debian 12 packages), build oxvac, run inputs/demo.cfg.
# Usage: ./quickstart.sh [--no-demo]
set -euo pipefail
cd "$(dirname "$0")"

pkgs=(cmake make gcc pkg-config petsc-dev libsundials-dev libhdf5-mpi-dev libconfig-dev
      openmpi-bin libopenmpi-dev python3-h5py python3-numpy python3-scipy python3-matplotlib)
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  sudo=""; [ "$(id -u)" -ne 0 ] && sudo="sudo"
  echo "installing: ${missing[*]}"
  $sudo apt-get update
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y --no-install-recommends "${missing[@]}"
fi

cmake -S . -B build -DCMAKE_BUILD_TYPE=Release
cmake --build build -j "$(nproc)"

if [ "${1:-}" != "--no-demo" ]; then
  [ "$(id -u)" -eq 0 ] && export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
  mpiexec -n "$(nproc)" build/oxvac run inputs/demo.cfg -o results/demo.h5
fi
