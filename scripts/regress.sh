#!/usr/bin/env bash
# "make regress": does the series break anything that worked? The base's whole test_progs on
# the base kernel, and the whole test_progs of base + series on base + series, same config
# (FLAVOR, fast unless given: the whole suite is too slow for the debug kernel under TCG),
# then the difference test by test and subtest by subtest. Fails if one that passes on the
# base fails, skips or is missing with the series. A test that passes on the base and fails
# with the series is run again (a failed subtest alone) on each kernel, REGRESS_RETRY (10)
# times in each of REGRESS_RETRY_BOOTS (3) boots, the two kernels' boots alternating: if the
# base fails it too and the series passes it too, it is flaky on 6.1 itself, listed and not
# counted.
# REGRESS_REUSE=1 judges the whole-suite results of the last run again (with new retries)
# instead of running the suite. Not part of .ci/run.
. "$(dirname "$0")/lib.sh"
series_only regress
stage_begin "regress/$FLAVOR"
load_build
[ -x "$SELFTESTS/test_progs" ] || die "no test_progs at $SELFTESTS; run 'make build FLAVOR=$FLAVOR'"
export VM_TIMEOUT=${VM_TIMEOUT:-7200}
TP=${TP_REGRESS:-./test_progs}		# the command line of both runs
regress_out=$ROOT/out/regress
mkdir -p "$regress_out"

# The base side: kernel and modules (bpf_testmod) and the base's own test_progs.
build_unpatched "$LOGS/regress-base-kernel.log" modules
setup_llvm_shim
run_logged "$LOGS/regress-base-selftests.log" build_test_progs "$BASE_WT" "$UNPATCHED"

RETRY=${REGRESS_RETRY:-10} RETRY_BOOTS=${REGRESS_RETRY_BOOTS:-3}

# run_side SIDE TAG CMD: boot SIDE's kernel (base or series) with its test_progs, run CMD;
# the output is left in $regress_out/TAG/vm/cmd.log.
run_side() {
	local kimg=$BUILD/$KIMG_PATH st=$SELFTESTS t
	[ "$1" = series ] || kimg=$UNPATCHED/$KIMG_PATH st=$UNPATCHED/kselftest/bpf
	t=$(date +%s)
	# test_progs exits 1 when any test fails, on both sides: that is what is compared
	OUT=$regress_out/$2 KIMG=$kimg VM_SELFTESTS=$st CMD="$3" STAGE="regress $2" \
		"$ROOT/scripts/vm.sh" >"$regress_out/$2.vm.log" 2>&1 || true
	[ -s "$regress_out/$2/vm/cmd.log" ] ||
		{ tail -n 20 "$regress_out/$2.vm.log" >&2; die "the $2 run left no test_progs output"; }
	nsplat=$({ log_since_marker "$regress_out/$2/vm" || true; } | splats -c) || nsplat="?"
	say "$2: $nsplat splat line(s), $(elapsed "$t")"
}

for side in base series; do
	if [ -n "${REGRESS_REUSE:-}" ]; then
		[ -s "$regress_out/$side.results" ] || die "REGRESS_REUSE: no results of a $side run in $regress_out"
	else
		run_side $side $side "$TP"
		tp_outcomes "$regress_out/$side/vm/cmd.log" | sort -k1,1 >"$regress_out/$side.results"
	fi
	say "$side: $(wc -l <"$regress_out/$side.results") results ($(grep -c ' OK$' "$regress_out/$side.results" || true) OK)"
done

# One line per test or subtest: name, result on the base, result with the series.
join -a 1 -a 2 -e none -o 0,1.2,2.2 "$regress_out/base.results" "$regress_out/series.results" >"$regress_out/diff"
# rows BASE SERIES: the diff's lines "NAME BASE SERIES" whose two results match BASE and
# SERIES, each an extended regular expression matched whole, or !ERE for anything else.
matches() { case $2 in '!'*) ! [[ $1 =~ ^(${2#!})$ ]] ;; *) [[ $1 =~ ^($2)$ ]] ;; esac; }
rows() {
	local name rb rs
	while read -r name rb rs; do
		if matches "$rb" "$1" && matches "$rs" "$2"; then
			echo "$name $rb $rs"
		fi
	done <"$regress_out/diff"
}
echo "---- base -> series, test by test (counts; tests and subtests) ----"
cut -d' ' -f2,3 "$regress_out/diff" | sort | uniq -c | sed 's/ \([A-Z]*\)$/ -> \1/'
echo "---- changed ----"
while read -r name rb rs; do
	[ "$rb" = "$rs" ] || printf '  %-60s %s -> %s\n' "$name" "$rb" "$rs"
done <"$regress_out/diff"

# Each test that passed on the base and failed with the series, again on both kernels.
mapfile -t failing < <(rows OK FAIL | cut -d' ' -f1)
rm -rf "$regress_out/retry"
mkdir -p "$regress_out/retry"
: >"$regress_out/flaky"
if [ "${#failing[@]}" -gt 0 ] && [ "$RETRY" -gt 0 ]; then
	# the subtests that failed, and the tests none of whose subtests did: test_progs
	# prints a test's line when one of its subtests is selected
	names=$(for n in "${failing[@]}"; do
		case $n in */*) ;; *) printf '%s\n' "${failing[@]}" | cut -s -d/ -f1 | grep -qxF -- "$n" && continue ;; esac
		echo "$n"
	done | paste -sd, -)
	say "retrying $names: $RETRY times in each of $RETRY_BOOTS boots of each kernel"
	for b in $(seq "$RETRY_BOOTS"); do
		for side in base series; do
			run_side $side "retry/$side-$b" "for i in \$(seq $RETRY); do echo \"regress-retry: run \$i\"; $TP -a $(printf %q "$names"); done; true"
			# one file per run: run.01, run.02...
			csplit -s -z -f "$regress_out/retry/$side-$b/run." "$regress_out/retry/$side-$b/vm/cmd.log" \
				'/^regress-retry: run [0-9]*$/' '{*}'
		done
	done
	# each run's "NAME OK|FAIL|SKIP" lines, of all runs on each kernel
	for side in base series; do
		for f in "$regress_out/retry/$side"-*/run.*; do tp_outcomes "$f"; done >"$regress_out/retry/$side.outcomes"
	done
	echo "---- retried: runs OK/FAIL on the base, with the series ----"
	# flaky on 6.1 itself: the base fails it too and the series passes it too
	for n in "${failing[@]}"; do
		bo=$(grep -cxF -- "$n OK" "$regress_out/retry/base.outcomes" || true)
		bf=$(grep -cxF -- "$n FAIL" "$regress_out/retry/base.outcomes" || true)
		so=$(grep -cxF -- "$n OK" "$regress_out/retry/series.outcomes" || true)
		sf=$(grep -cxF -- "$n FAIL" "$regress_out/retry/series.outcomes" || true)
		if [ "$bf" -gt 0 ] && [ "$so" -gt 0 ]; then
			verdict="flaky on the base, not counted"
			echo "$n" >>"$regress_out/flaky"
		else
			verdict=regression
		fi
		printf '  %-40s base %d/%d, series %d/%d: %s\n' "$n" "$bo" "$bf" "$so" "$sf" "$verdict"
	done
fi
regressions=$(rows OK '!OK' | cut -d' ' -f1 | grep -cvxF -f "$regress_out/flaky" || true)
# The series' own tests (none on the base) must pass in the whole suite too, in its order
# and beside its leftovers: OK, or a SKIP that judge/skip-allow allows on this flavor (a
# subtest, or its test, which 6.1 prints as SKIP then, when no other subtest failed).
allowed=$(skips_allowed "$FLAVOR")
new_bad=$(rows none '!OK' | while read -r name _ res; do
		if [ "$res" = SKIP ]; then
			grep -qxF -- "$name" <<<"$allowed" && continue
			case $name in
			*/*) ;;
			*) rows '.*' '!OK' | cut -d' ' -f1 | grep "^$name/" |
				grep -vqxF -f <(echo "$allowed") || continue ;;
			esac
		fi
		echo "$name $res"
	done)
[ "$regressions" -eq 0 ] || die "$regressions test(s) or subtest(s) pass on the base and not with the series"
[ -z "$new_bad" ] || die "the series' own tests do not pass in the whole suite: $(paste -sd, <<<"$new_bad")"
[ ! -s "$regress_out/flaky" ] ||
	say "flaky on 6.1 itself (failed on the base too when run again), not counted: $(paste -sd, "$regress_out/flaky")"
say "no regression: nothing that passes on the base fails, skips or is missing with the series, whose own tests pass"
stage_end
