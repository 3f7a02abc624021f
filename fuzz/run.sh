#!/usr/bin/env bash
# Fuzzes the whole pipeline (fuzz_targets/pipeline.rs), seeding the corpus with every `.nn`
# file the tests and examples hold. Extra arguments go to libFuzzer, e.g.
#   fuzz/run.sh -max_total_time=600
# Needs `cargo install cargo-fuzz`; on a stable toolchain RUSTC_BOOTSTRAP=1 lets it use the
# nightly-only sanitizer flags. Findings land in fuzz/artifacts/pipeline/.
set -euo pipefail
cd "$(dirname "$0")"
target=pipeline
corpus="corpus/$target"
mkdir -p "$corpus"
for file in ../tests/corpus/ok/*.nn ../tests/corpus/err/*.nn ../examples/nets/*.nn; do
    cp "$file" "$corpus/seed_$(basename "$(dirname "$file")")_$(basename "$file")"
done
export RUSTC_BOOTSTRAP="${RUSTC_BOOTSTRAP:-1}"
# -timeout: one input taking longer than this is a "big input hangs" finding.
# -rss_limit_mb: one input using more memory than this is a finding too.
exec cargo fuzz run "$target" "$corpus" -- \
    -timeout=10 -rss_limit_mb=2048 -max_len=8192 "$@"
