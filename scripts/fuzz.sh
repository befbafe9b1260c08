#!/usr/bin/env bash
# Coverage-guided fuzzing (libFuzzer) of the parsers that read untrusted
# bytes: builds the fuzz package (fuzz/) once with -sanitize=fuzzer,address,
# then runs every fuzz target for a bounded time on a scratch copy of its
# seed corpus (fuzz/corpus/<target>, never written to). Prints, per target,
# libFuzzer's final line (executions, coverage, exec/s); exits non-zero when
# a target crashes, breaks an invariant or times out, printing the path of
# the input that did it. Linux only (libFuzzer ships with the Linux toolchain).
#
#   scripts/fuzz.sh [seconds-per-target] [target...]
#
# FUZZ_CONFIG=debug builds unoptimised targets (quicker to build, 3 to 15
# times slower to run); FUZZ_BUILD_FLAGS adds swift build flags (e.g. "-j 1").
# docs/security.md, "Fuzzing", explains longer runs and crash triage.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD

seconds=${1:-20}
shift || true
config=${FUZZ_CONFIG:-release}

if [ "$(uname -s)" != "Linux" ]; then
  echo "fuzz: libFuzzer needs the Linux Swift toolchain; skipped on $(uname -s)"
  exit 0
fi

targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
  for dir in fuzz/Sources/Fuzz*; do
    name=$(basename "$dir")
    [ "$name" = FuzzSupport ] || targets+=("$name")
  done
fi

build_start=$(date +%s)
mkdir -p fuzz/.build
build_log=fuzz/.build/fuzz-build.log
if ! (cd fuzz && swift build -c "$config" ${FUZZ_BUILD_FLAGS:-} -Xswiftc -sanitize=fuzzer,address -Xswiftc -parse-as-library) > "$build_log" 2>&1; then
  grep -E "error:" "$build_log" | head -40 || true
  tail -20 "$build_log"
  echo "fuzz: the fuzz package does not build (see $build_log)"
  exit 1
fi
# As for the main package: a warning in the fuzz targets' own files fails.
if grep -E "^$root/fuzz/Sources/[^ ]*: warning: " "$build_log" | sort -u | grep .; then
  echo "fuzz: the build above has warnings in fuzz/Sources; fix them (see $build_log)"
  exit 1
fi
bin=$(cd fuzz && swift build -c "$config" --show-bin-path)
echo "fuzz: built ($config) in $(( $(date +%s) - build_start ))s"

# Crashing inputs stay here after the run; scratch corpora are removed.
artifacts="$root/fuzz/.build/artifacts"
mkdir -p "$artifacts"
scratch=$(mktemp -d /tmp/dcr-shim-fuzz-XXXXXX)
trap 'rm -rf "$scratch"' EXIT

failed=()
for target in "${targets[@]}"; do
  case "$target" in
    FuzzConfig) dict=yaml ;;
    FuzzRedirectURI|FuzzForm) dict=uri ;;
    *) dict=json ;;
  esac
  corpus="$scratch/$target"
  mkdir -p "$corpus"
  [ -d "fuzz/corpus/$target" ] && cp fuzz/corpus/"$target"/* "$corpus"/
  log="$scratch/$target.log"
  set +e
  # detect_leaks=0: the Swift runtime's caches (type metadata, string
  # breadcrumbs) look like leaks to LeakSanitizer; memory safety is ASan's.
  # The Swift backtracer trips ASan while reading the crashed process;
  # libFuzzer prints the stack itself.
  (cd "$scratch" && SWIFT_BACKTRACE=enable=no "$bin/$target" -max_total_time="$seconds" -rss_limit_mb=2048 -timeout=5 \
    -detect_leaks=0 -print_final_stats=1 -dict="$root/fuzz/dictionaries/$dict.dict" \
    -artifact_prefix="$artifacts/$target-" "$corpus") > "$log" 2>&1
  rc=$?
  set -e
  if [ "$rc" -eq 0 ]; then
    line=$(grep -E "^#[0-9]+[[:space:]]+DONE" "$log" | tail -1)
    printf '%-20s %s\n' "$target" "${line:-"(no final line; see below)"}"
  else
    failed+=("$target")
    echo "$target: FAILED (exit $rc)"
    grep -E "invariant broken|Fatal error|ERROR: (AddressSanitizer|libFuzzer)|SUMMARY|Test unit written to|Base64:" "$log" | head -20 || true
    cp "$log" "$artifacts/$target.log"
    echo "  log: $artifacts/$target.log"
    echo "  replay: $bin/$target <the input written above>"
  fi
done

if [ ${#failed[@]} -gt 0 ]; then
  echo "fuzz: ${#failed[@]} target(s) failed: ${failed[*]}"
  exit 1
fi
echo "fuzz: ${#targets[@]} targets, ${seconds}s each, no crash"
