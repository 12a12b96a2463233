#!/usr/bin/env bash
# The one entry point for a fresh Debian 12 machine (run as root, from the repository):
#   bash scripts/dev.sh demo    install what is missing, build, run `volley demo`
#   bash scripts/dev.sh test    install what is missing, check the formatting, build, run
#                               every test (also under ASan/UBSan, and TSan for the tests
#                               labelled tsan) and fuzz each decoder briefly
#   bash scripts/dev.sh format  list the C++ files clang-format would change (fails if any)
#   bash scripts/dev.sh build   install and build only
# Idempotent: packages already installed and an up-to-date build are not redone.
set -euo pipefail
cd "$(dirname "$0")/.."

BUILD_PKGS=(ca-certificates cmake ninja-build g++ pkg-config libssl-dev libyaml-cpp-dev
  libcli11-dev libspdlog-dev libfmt-dev libexpected-dev nlohmann-json3-dev libre2-dev
  libboost1.81-dev libcurl4-openssl-dev zlib1g-dev libgtest-dev libgmock-dev libbenchmark-dev libsimdjson-dev
  libprotobuf-dev protobuf-compiler libsnappy-dev libsqlite3-dev ccache
  libgrpc++-dev protobuf-compiler-grpc libraft-dev libuv1-dev)
# Tests also use real peers: OpenSSL's CLI for certificates, Prometheus (server and
# promtool) for the exposition, clang's libFuzzer for the
# fuzz smoke run.
TEST_PKGS=(openssl clang libclang-rt-14-dev curl prometheus nftables iproute2)

# ccache keeps compiles across build directories and fresh clones of the repository (CI runs
# in a new clone on the same machine): the cache is keyed on the preprocessed source, not on
# the directory it was compiled in.
export CCACHE_NOHASHDIR=1 CCACHE_BASEDIR=$PWD CCACHE_MAXSIZE=${CCACHE_MAXSIZE:-8G}

log() { printf '\033[1m== %s\033[0m\n' "$*" >&2; }

install_missing() {
  local missing=()
  for p in "$@"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing+=("$p")
  done
  if ((${#missing[@]})); then
    log "installing ${missing[*]}"
    if [[ $(id -u) -ne 0 ]]; then
      echo "dev.sh: need root to install packages (${missing[*]}); re-run as root" >&2
      exit 1
    fi
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  fi
}

# ninja quietly: on failure, show everything but the progress lines and fail.
run_ninja() {
  local dir=$1
  shift
  if ! ninja -C "$dir" "$@" >"$dir/ninja.log" 2>&1; then
    grep -v '^\[' "$dir/ninja.log" >&2
    return 1
  fi
}

build() {
  local dir=${1:-build}
  shift || true
  install_missing "${BUILD_PKGS[@]}"
  if [[ ! -f $dir/build.ninja ]]; then
    log "configuring $dir"
    cmake -S . -B "$dir" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DVOLLEY_WERROR=ON \
      -DCMAKE_CXX_COMPILER_LAUNCHER=ccache "$@" >/dev/null
  fi
  log "building $dir"
  run_ninja "$dir"
}

fuzz_smoke() {
  # Each fuzz target runs over its seed corpus and then fuzzes for a bounded time.
  local dir=build-fuzz seconds=${FUZZ_SECONDS:-10}
  if [[ ! -f $dir/build.ninja ]]; then
    CC=clang CXX=clang++ cmake -S . -B "$dir" -G Ninja -DCMAKE_CXX_COMPILER_LAUNCHER=ccache -DVOLLEY_FUZZ=ON -DVOLLEY_TESTS=OFF \
      -DVOLLEY_BENCH=OFF >/dev/null
  fi
  local targets
  targets=$(ninja -C "$dir" -t targets all | sed -n 's/^\([a-z0-9_]*_fuzz\): .*/\1/p' | sort -u)
  # shellcheck disable=SC2086  # a list of target names
  run_ninja "$dir" $targets
  local failed=0 ran=0
  for bin in "$dir"/fuzz/*_fuzz; do
    [[ -x $bin ]] || continue
    local name corpus work
    name=$(basename "$bin" _fuzz)
    corpus=fuzz/corpus/$name
    work=$(mktemp -d)
    log "fuzzing $name for ${seconds}s"
    if "$bin" -max_total_time="$seconds" -rss_limit_mb=1024 -print_final_stats=0 \
        "$work" "$corpus" >"$work.log" 2>&1; then
      ran=$((ran + 1))
    else
      tail -40 "$work.log" >&2
      failed=$((failed + 1))
    fi
    rm -rf "$work" "$work.log"
  done
  echo "fuzz: $ran passed, $failed failed"
  ((failed == 0))
}

# The independent OTLP decoder of the tests: the OpenTelemetry JavaScript project's generated
# protobuf code, pinned in test/otlp_receiver/package-lock.json.
install_otlp_receiver() {
  if ! command -v npm >/dev/null; then install_missing nodejs npm; fi
  if [[ ! -d test/otlp_receiver/node_modules ]]; then
    log "installing the OTLP test receiver (npm)"
    (cd test/otlp_receiver && npm ci --no-audit --no-fund --loglevel=error >/dev/null)
  fi
}

sanitized_tests() {
  # ASan+UBSan over every test; TSan over the tests that run threads (CTest label tsan),
  # building only those. Benchmarks are not built there.
  log "ASan+UBSan build and tests"
  # -O1 with line tables only: half the compile time of RelWithDebInfo, and the sanitizers
  # still report file:line.
  build build-asan -DVOLLEY_SANITIZE=address,undefined -DVOLLEY_BENCH=OFF \
    -DCMAKE_BUILD_TYPE=Debug "-DCMAKE_CXX_FLAGS_DEBUG=-O1 -g1"
  (cd build-asan && UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
    ctest --output-on-failure -j2 --timeout 600)
  log "TSan build and tests"
  if [[ ! -f build-tsan/build.ninja ]]; then
    cmake -S . -B build-tsan -G Ninja -DCMAKE_CXX_COMPILER_LAUNCHER=ccache -DCMAKE_BUILD_TYPE=Debug "-DCMAKE_CXX_FLAGS_DEBUG=-O1 -g1" \
      -DVOLLEY_WERROR=ON -DVOLLEY_SANITIZE=thread -DVOLLEY_BENCH=OFF >/dev/null
  fi
  # The tests that run threads carry the CTest label `tsan` (LABELS in their volley_test);
  # build only those (a test's name is its target's name).
  local tsan
  mapfile -t tsan < <(cd build-tsan && ctest -N -L tsan | sed -n 's/^ *Test *#[0-9]*: //p')
  if ((${#tsan[@]} == 0)); then
    echo "dev.sh: no test carries the label tsan" >&2
    return 1
  fi
  run_ninja build-tsan "${tsan[@]}"
  (cd build-tsan && TSAN_OPTIONS="halt_on_error=1:second_deadlock_stack=1:suppressions=$PWD/../test/tsan.supp" \
    ctest --output-on-failure -j2 --timeout 600 -L tsan)
}

# The C++ sources that differ from what clang-format (.clang-format: Google, 100 columns)
# makes of them, one per line; fails when there is any. Generated and third-party code is
# not ours to format.
format_check() {
  if ! command -v clang-format >/dev/null; then install_missing clang-format; fi
  local differ=()
  while IFS= read -r -d '' f; do
    if ! clang-format --style=file "$f" | cmp -s - "$f"; then differ+=("$f"); fi
  done < <(git ls-files -z -- '*.cc' '*.h' ':!:third_party/**')
  if ((${#differ[@]})); then
    log "clang-format would change ${#differ[@]} files (clang-format -i FILE to fix):"
    printf '  %s\n' "${differ[@]}" >&2
    return 1
  fi
  echo "format: every C++ file is formatted"
}

case "${1:-}" in
  demo)
    build build
    ./build/volley demo
    ;;
  build)
    build build
    ;;
  format)
    format_check
    ;;
  test)
    install_missing "${TEST_PKGS[@]}"
    install_otlp_receiver
    format_check
    build build
    log "unit and integration tests"
    (cd build && ctest --output-on-failure -j2 --timeout 600)
    fuzz_smoke
    sanitized_tests
    ;;
  *)
    echo "usage: bash scripts/dev.sh demo|test|build|format" >&2
    exit 2
    ;;
esac
