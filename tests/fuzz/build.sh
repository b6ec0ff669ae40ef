#!/bin/sh
# Builds the libFuzzer harness for the .pt reader (clang, ASan + UBSan):
#   tests/fuzz/build.sh [OUT]          (default /tmp/cyolo-fuzz/fuzz_pt)
# then, for example (corpus/ = a scratch copy of tests/fuzz/corpus):
#   cp -r tests/fuzz/corpus /tmp/cyolo-fuzz/corpus
#   nice -n 19 /tmp/cyolo-fuzz/fuzz_pt -max_len=65536 -rss_limit_mb=2048 -timeout=10 \
#        -dict=tests/fuzz/pickle.dict /tmp/cyolo-fuzz/corpus
# A crash leaves crash-<sha1> beside it: add that file to tests/fuzz/regressions/
# (tests/test_pt_fuzz_corpus.c replays it in CI) and fix the reader.
# COVERAGE=1 adds clang's source coverage: run the binary with -runs=0 over a
# corpus (LLVM_PROFILE_FILE=x.profraw), then llvm-profdata merge and
# llvm-cov report give the lines the corpus reaches.
set -e
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
out=${1:-/tmp/cyolo-fuzz/fuzz_pt}
mkdir -p "$(dirname "$out")"
cov=""
[ "${COVERAGE:-0}" = 1 ] && cov="-fprofile-instr-generate -fcoverage-mapping"
clang -std=gnu17 -g -O1 -fno-omit-frame-pointer -fsanitize=fuzzer,address,undefined $cov \
    -fno-sanitize-recover=undefined -I"$root/src" -I"$root/include" -DCYOLO_SOURCE_DIR="\"$root\"" \
    "$here/fuzz_pt.c" "$root/src/core/status.c" "$root/src/io/pt_read.c" "$root/src/io/pickle_read.c" \
    "$root/src/io/pt_value.c" "$root/src/io/pt_module.c" "$root/src/io/pt_yaml.c" "$root/src/io/yaml.c" \
    "$root/src/engine/checkpoint_import.c" "$root/src/model/model_yaml.c" "$root/src/model/pyrepr.c" \
    -lzip -lyaml -lm -o "$out"
echo "built $out"
