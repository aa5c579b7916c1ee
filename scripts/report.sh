#!/usr/bin/env bash
# Stage "report": judge what the guest left in $OUT/vm (scripts/judge.sh). Prints one line
# per test and subtest, the splat scan, and last the closing line
# "N passed, N failed, N skipped", where N counts subtests (a test without subtests counts
# as one).
. "$(dirname "$0")/lib.sh"
stage_begin report
[ -f "$OUT/vm/filter" ] || [ -f "$OUT/vm/not-run" ] || die "no results of make test's run in $OUT/vm; run 'make vm'"
judge_run "$OUT/vm" || exit 1
