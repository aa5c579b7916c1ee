#!/usr/bin/env bash
# "make mutate": would the tests notice a broken kernel? Every mutations/*.patch is a mutation,
# a small deliberate break of the series' kernel code (its first line says which). For each: apply
# it to the work tree (uncommitted), rebuild the kernel, run the series' tests (T) judged as
# make test, and restore the tree. Prints one line per mutation: the subtests that failed (or
# the splat, or the guest's death), or SURVIVED. A survivor is a missing test. MUT=glob[,glob]
# picks mutations. Not part of .ci/run: ~4 min per mutation. The kernel is rebuilt clean at the end.
. "$(dirname "$0")/lib.sh"
series_only mutate
stage_begin mutate
load_build
export T=${T:-$SERIES_TESTS}
export VM_TIMEOUT=${VM_TIMEOUT:-900}
[ -x "$SELFTESTS/test_progs" ] || die "build first (make build)"
mutation_files
mutate_out=$ROOT/out/mutate
rm -rf "$mutate_out"; mkdir -p "$mutate_out"
# whatever happens, the tree goes back to the series, and the next build rebuilds the kernel
mutation_begin

# the verdict on the tests' run of the kernel of mutation $1
judge_mutation() {
	local name=$1 failed splat first verdict
	OUT=$mutate_out/$name "$ROOT/scripts/vm.sh" >"$mutate_out/$name.vm.log" 2>&1 || true
	OUT=$mutate_out/$name "$ROOT/scripts/report.sh" >"$mutate_out/$name.report" 2>&1 || true
	failed=$(tp_outcomes "$mutate_out/$name/vm/test_progs.log" |
		awk '$1 ~ /\// && $2 == "FAIL" { print $1 }' | paste -sd, -)
	splat=$(splats "$mutate_out/$name/vm/dmesg-tests.txt" 2>/dev/null | sed -n 1p |
		sed -E 's/^\[ *[0-9.]+\] //' | cut -c1-70)	# sed reads all: no SIGPIPE
	grep -q '^  FAIL: kmemleak' "$mutate_out/$name.report" && splat+="${splat:+, }kmemleak report"
	# the first assertion that failed: the contract row that caught it
	first=$(grep -m1 -E '^[A-Za-z_0-9]+:FAIL:' "$mutate_out/$name/vm/test_progs.log" 2>/dev/null |
		sed -E 's/^[A-Za-z_0-9]+:FAIL:(.*) unexpected .*/\1/' | cut -c1-60 || true)
	if [ -n "$failed" ]; then
		verdict="caught: $failed${first:+ (first: $first)}"
	elif grep -q 'timed out' "$mutate_out/$name.vm.log"; then
		verdict="caught: guest timed out"
	elif grep -qE '^  FAIL' "$mutate_out/$name.report"; then
		verdict="caught: $(grep -m1 -E '^  FAIL' "$mutate_out/$name.report" | sed 's/^ *FAIL: *//' | cut -c1-80)"
	else
		echo SURVIVED
		return
	fi
	[ -z "$splat" ] || verdict+=" (+ $splat)"
	echo "$verdict"
}
mutations_run "$mutate_out" judge_mutation "---- mutation | result (T=$T) ----" "the tests miss them"
stage_end
