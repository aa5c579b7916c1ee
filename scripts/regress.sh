#!/usr/bin/env bash
# "make regress": does the series break anything that worked? The base's whole test_progs on
# the base kernel, and the whole test_progs of base + series on base + series, same config
# (FLAVOR, fast unless given: the whole suite is too slow for the debug kernel under TCG),
# then the difference test by test and subtest by subtest. Fails if one that passes on the
# base fails, skips or is missing with the series. Not part of .ci/run.
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

for side in base series; do
	if [ "$side" = base ]; then
		kimg=$UNPATCHED/$KIMG_PATH st=$UNPATCHED/kselftest/bpf
	else
		kimg=$BUILD/$KIMG_PATH st=$SELFTESTS
	fi
	t=$(date +%s)
	# test_progs exits 1 when any test fails, on both sides: that is what is compared
	OUT=$regress_out/$side KIMG=$kimg VM_SELFTESTS=$st CMD="$TP" STAGE="regress $side" \
		"$ROOT/scripts/vm.sh" >"$regress_out/$side.vm.log" 2>&1 || true
	log=$regress_out/$side/vm/cmd.log
	[ -s "$log" ] || { tail -n 20 "$regress_out/$side.vm.log" >&2; die "the $side run left no test_progs output"; }
	tp_outcomes "$log" | sort -k1,1 >"$regress_out/$side.results"
	nsplat=$({ sed -n "/$(cat "$regress_out/$side/vm/marker")/,\$p" "$regress_out/$side/vm/dmesg.txt" 2>/dev/null || true; } |
		splats -c) || nsplat="?"
	say "$side: $(wc -l <"$regress_out/$side.results") results ($(grep -c ' OK$' "$regress_out/$side.results" || true) OK), $nsplat splat line(s), $(elapsed "$t")"
done

# One line per test or subtest: name, result on the base, result with the series.
join -a 1 -a 2 -e none -o 0,1.2,2.2 "$regress_out/base.results" "$regress_out/series.results" >"$regress_out/diff"
echo "---- base -> series, test by test (counts; tests and subtests) ----"
awk '{ n[$2 " -> " $3]++ } END { for (k in n) printf "  %-16s %d\n", k, n[k] }' "$regress_out/diff" | sort
echo "---- changed ----"
awk '$2 != $3 { printf "  %-60s %s -> %s\n", $1, $2, $3 }' "$regress_out/diff"
regressions=$(awk '$2 == "OK" && $3 != "OK"' "$regress_out/diff" | wc -l)
# The series' own tests (none on the base) must pass in the whole suite too, in its order
# and beside its leftovers: OK, or a SKIP that judge/skip-allow allows on this flavor (a
# subtest, or its test, which 6.1 prints as SKIP then, when no other subtest failed).
allowed=$(skips_allowed "$FLAVOR")
new_bad=$(awk '$2 == "none" && $3 != "OK" { print $1, $3 }' "$regress_out/diff" |
	while read -r name res; do
		if [ "$res" = SKIP ]; then
			grep -qxF -- "$name" <<<"$allowed" && continue
			case $name in
			*/*) ;;
			*) awk -v t="$name/" 'index($1, t) == 1 && $3 != "OK" { print $1 }' \
				"$regress_out/diff" | grep -vqxF -f <(echo "$allowed") || continue ;;
			esac
		fi
		echo "$name $res"
	done)
[ "$regressions" -eq 0 ] || die "$regressions test(s) or subtest(s) pass on the base and not with the series"
[ -z "$new_bad" ] || die "the series' own tests do not pass in the whole suite: $(paste -sd, <<<"$new_bad")"
say "no regression: nothing that passes on the base fails, skips or is missing with the series, whose own tests pass"
stage_end
