#!/usr/bin/env bash
# The two quick-start commands, and what they share:
#   ./dev.sh tour   install what is missing, build, run the lesson tour on an embedded cluster
#   ./dev.sh test   install what is missing, build, run the whole test suite
# Options through the environment: BUILD_DIR (default build), LUMEN_SANITIZE
# ('' | address | thread), JOBS (default: the machine's cores).
set -euo pipefail
cd "$(dirname "$0")"

BUILD_DIR=${BUILD_DIR:-build}
JOBS=${JOBS:-$(nproc)}
PACKAGES=(g++ cmake ninja-build pkg-config libssl-dev
  libcaf-dev librocksdb-dev capnproto libcapnp-dev libboost-dev libgtest-dev libcli11-dev nlohmann-json3-dev
  libcpp-httplib-dev chromium chromium-driver)  # the last two: the dashboard's browser test

install_missing() {
  local missing=()
  for p in "${PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
  if ((${#missing[@]})); then
    echo "== installing: ${missing[*]}"
    local sudo=""; [ "$(id -u)" -eq 0 ] || sudo=sudo
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
  fi
}

build() {
  cmake -S . -B "$BUILD_DIR" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
    -DLUMEN_SANITIZE="${LUMEN_SANITIZE:-}" >/dev/null
  cmake --build "$BUILD_DIR" -j "$JOBS"
}

case "${1:-}" in
  tour)
    install_missing; build
    # The lessons in order, each on its own cluster (05 starts daemons and stops them).
    for lesson in "$BUILD_DIR"/lessons/0[0-9]_*; do
      [ -x "$lesson" ] || continue
      echo; echo "======== $(basename "$lesson") ========"
      "$lesson"
    done ;;
  test)
    install_missing; build
    ctest --test-dir "$BUILD_DIR" -j 2 --output-on-failure --timeout 300 ;;
  *)
    echo "usage: $0 tour|test" >&2; exit 2 ;;
esac
