#!/usr/bin/env bash
# "make test-base": the patched test_progs on the unpatched base kernel. A test that cannot
# fail is a defect: every subtest of the series' own tests must FAIL there (not skip, not
# pass, not be missing). Not part of .ci/run.
. "$(dirname "$0")/lib.sh"
series_only test-base
stage_begin test-base
load_build
T=${T_NEW:-$SERIES_TESTS}
[ -x "$SELFTESTS/test_progs" ] || die "build the patched kernel and test_progs first (make build)"

# The unpatched kernel: same config, built from a work tree at "base".
build_unpatched "$LOGS/test-base-kernel.log"

# Boot it with the patched test_progs; the results go to out/test-base/vm.
rc=0
OUT=$ROOT/out/test-base KIMG=$UNPATCHED/$KIMG_PATH T=$T STAGE=test-base \
	"$ROOT/scripts/vm.sh" || rc=$?
raw=$ROOT/out/test-base/vm/test_progs.log
[ -f "$raw" ] || die "the guest left no test_progs output (vm exit $rc)"
log=$ROOT/out/test-base/vm/results.txt
tp_outcomes "$raw" >"$log"	# "name result", each once

echo "---- the series' tests on the unpatched base ----"
bad=()
IFS=, read -r -a tests <<<"$T"
for t in "${tests[@]}"; do
	# the test's own line and its subtests' lines
	awk -v t="$t" '$1 == t || index($1, t "/") == 1 { print "  " $1 ":" $2 }' "$log"
	n=$(awk -v t="$t" 'index($1, t "/") == 1' "$log" | wc -l)
	[ "$n" -gt 0 ] || bad+=("$t: no subtests ran")
	while read -r line; do
		bad+=("$line")
	done < <(awk -v t="$t" 'index($1, t "/") == 1 && $2 != "FAIL" { print $1 ":" $2 }' "$log")
done
nfail=$(awk '$1 ~ /\// && $2 == "FAIL"' "$log" | wc -l)
if [ "${#bad[@]}" -gt 0 ]; then
	printf '  NOT FAILING on the base: %s\n' "${bad[@]}"
	die "${#bad[@]} subtest(s) of the series do not fail on the unpatched kernel"
fi
say "all $nfail subtests of $T FAIL on the unpatched base, as they must"
stage_end
