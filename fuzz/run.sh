#!/usr/bin/env bash
# Build the libFuzzer harnesses (build-fuzz/, clang, -DOXVAC_FUZZ=ON), seed each
# corpus from the repository's inputs, run each fuzzer for FUZZ_SECONDS (60)
# and fail, printing the reproducer, on any crash, leak, timeout or OOM.
#   fuzz/run.sh [fuzz_config fuzz_csv fuzz_checkpoint]
# FUZZ_SECONDS=N: run time per fuzzer; FUZZ_WORK=DIR: corpora and artifacts
# (default build-fuzz/work). Reproduce a finding: build-fuzz/fuzz/NAME FILE
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
secs=${FUZZ_SECONDS:-60}
work=${FUZZ_WORK:-$root/build-fuzz/work}
targets=("$@"); [ ${#targets[@]} -gt 0 ] || targets=(fuzz_config fuzz_csv fuzz_checkpoint)

if ! command -v clang >/dev/null; then
  apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends clang
fi
t0=$SECONDS
cmake -S . -B build-fuzz -DOXVAC_FUZZ=ON -DCMAKE_C_COMPILER=clang -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build-fuzz -j "$(nproc)" --target "${targets[@]}" >/dev/null
echo "fuzz: built ${targets[*]} in $((SECONDS - t0)) s"

# Seeds, fresh each run (the corpora grow in $work/corpus_NAME between runs).
seeds=$work/seeds
rm -rf "$seeds"; mkdir -p "$seeds"/{config,csv,checkpoint}
shopt -s nullglob globstar
for f in inputs/*.cfg tests/bad_inputs/*.cfg tests/bad_inputs/h5/*.cfg tests/data/**/*.cfg tests/bad_inputs/fuzz/config-*; do
  cp "$f" "$seeds/config/$(echo "$f" | tr / _)"
done
for f in validation/**/*.csv tests/data/**/*.csv tests/bad_inputs/csv/*.csv tests/bad_inputs/fuzz/csv-*; do
  cp "$f" "$seeds/csv/$(echo "$f" | tr / _)"
done
cp fuzz/seeds/csv/* "$seeds/csv/"
for f in tests/bad_inputs/fuzz/checkpoint-* tests/bad_inputs/h5/ckpt_*.h5; do cp "$f" "$seeds/checkpoint/"; done
/usr/bin/python3 fuzz/make_h5_seeds.py "$seeds/checkpoint"

status=0
for t in "${targets[@]}"; do
  kind=${t#fuzz_}
  corpus=$work/corpus_$t; art=$work/artifacts_$t/
  mkdir -p "$corpus" "$art"
  log=$work/$t.log
  t1=$SECONDS
  # -max_len: configs and CSVs are small text; HDF5 seeds are a few KB.
  # allocator_may_return_null: an allocation past ASan's 1 TB limit returns
  # NULL as glibc's malloc does in a run (HDF5 then fails the open, and the
  # run refuses the file: tests/bad_inputs/h5/ckpt_continuation_huge.cfg);
  # anything up to it still counts against -malloc_limit_mb (= the RSS limit).
  rc=0
  (cd "$work" && LSAN_OPTIONS="suppressions=$root/fuzz/lsan.supp:print_suppressions=0" ASAN_OPTIONS="fast_unwind_on_malloc=0:malloc_context_size=30:allocator_may_return_null=1" UBSAN_OPTIONS="halt_on_error=1:print_stacktrace=1" "$root/build-fuzz/fuzz/$t" -max_total_time="$secs" -rss_limit_mb=2048 -timeout=10 \
     -max_len=16384 -print_final_stats=1 -artifact_prefix="$art" "$corpus" "$seeds/$kind") >"$log" 2>&1 || rc=$?
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
  echo "fuzz: $t: rc $rc, ${execs:-?} executions in $((SECONDS - t1)) s, corpus $(ls "$corpus" | wc -l) files"
  if [ "$rc" -ne 0 ]; then
    status=1
    grep -E "^==[0-9]+==ERROR|SUMMARY|runtime error|Test unit written" "$log" | head -20 || true
    for a in "$art"*; do echo "fuzz: $t: FINDING, reproduce with: build-fuzz/fuzz/$t $a"; done
    echo "fuzz: $t: full log $log"
  fi
done
exit $status
