#!/usr/bin/env bash
# "make repeat": is the result stable? One boot of the built kernel: make test's run of T,
# then (scripts/guest/repeat.sh) T REPEAT more times in a row and every subtest of the
# series' tests (ALONE) by itself, last first. Every run must pass, and the judge of
# make test (splats of all runs, kmemleak after the last) must pass. Not part of .ci/run.
. "$(dirname "$0")/lib.sh"
stage_begin repeat
load_build
REPEAT=${REPEAT:-10}
ALONE=${ALONE:-$SERIES_TESTS}
export T=${T:-$DEFAULT_TESTS}
export VM_TIMEOUT=${VM_TIMEOUT:-$((900 + REPEAT * 300))}
export GUEST_SCRIPT="$ROOT/scripts/guest/repeat.sh $T $REPEAT $ALONE"
rc=0
"$ROOT/scripts/vm.sh" || rc=$?
"$ROOT/scripts/report.sh" || rc=1
log=$OUT/vm/guest-script.log
echo "---- the repeated runs (T=$T) and each subtest of $ALONE alone ----"
cat "$log" 2>/dev/null || true
runs=$(grep -cE '^run [0-9]+:' "$log" 2>/dev/null || true)
alone=$(grep -cE '^alone ' "$log" 2>/dev/null || true)
bad=$(grep -cE '^(run [0-9]+|alone [^ ]+): exit [^0]' "$log" 2>/dev/null || true)
[ "${runs:-0}" -eq "$REPEAT" ] || { warn "only ${runs:-0} of $REPEAT repeated runs finished"; rc=1; }
[ "${alone:-0}" -gt 0 ] || { warn "no subtest ran alone"; rc=1; }
[ "${bad:-0}" -eq 0 ] || { warn "$bad run(s) failed"; rc=1; }
[ "$rc" -eq 0 ] || die "not stable: see above and $OUT/vm"
say "stable: make test's run and $REPEAT more of T passed, and all $alone subtests of $ALONE alone; no splat, kmemleak clean"
stage_end
