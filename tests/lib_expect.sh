# Sourced by the CLI behaviour tests (tests/cli_*.sh, which ctest runs; this
# file is not one of them); they keep the counters
# pass and fail.
# expect <exit: nonzero|0> <text that must appear in stdout/stderr> -- cmd...
# A command killed by a signal always fails.
expect() {
    local want="$1" text="$2"
    shift 3
    local out rc
    out=$("$@" 2>&1)
    rc=$?
    if [ $rc -ge 128 ]; then
        echo "FAIL (crashed, signal $((rc - 128))): $*"; echo "$out"; fail=$((fail + 1)); return
    fi
    if { [ "$want" = nonzero ] && [ $rc -eq 0 ]; } || { [ "$want" = 0 ] && [ $rc -ne 0 ]; }; then
        echo "FAIL (exit $rc): $*"; echo "$out"; fail=$((fail + 1)); return
    fi
    if ! grep -qF -- "$text" <<<"$out"; then
        echo "FAIL (no '$text' in output): $*"; echo "$out"; fail=$((fail + 1)); return
    fi
    pass=$((pass + 1))
}
