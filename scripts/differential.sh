#!/usr/bin/env bash
# "make differential" (evidence, not part of .ci/run): the same seeded sequences of BPF TCP
# congestion control link operations (differential/tcp_trace.c: calls, errnos, and what
# each leaves visible) on 6.1 with the series (FLAVOR, debug unless given) and on upstream
# 6.12 with upstream/6.12/'s fixes (make upstream-demo's "fixed" variant, built in its
# cache with the same FLAVOR's options; a build make upstream-demo left is reused). One
# binary, built against this series' libbpf and tcp_ca_update skeleton, runs on both
# kernels. The traces must be identical but for the lines differential/intended lists (each
# with its reason); both runs must be free of splats. SEED, SEEDS, OPS as make model's.
# Results in out/differential/.
# MUT=glob[,glob]: make mutate's breaks, each on the 6.1 side; every one must make the 6.1
# run differ from 6.12's trace or splat (the table in out/differential/summary).
. "$(dirname "$0")/lib.sh"
series_only differential
stage_begin differential
load_build
[ -x "$SELFTESTS/test_progs" ] || die "no build at $BUILD; run 'make build FLAVOR=$FLAVOR'"
SEED=${SEED:-1} SEEDS=${SEEDS:-10} OPS=${OPS:-200}
dout=$ROOT/out/differential
rm -rf "$dout"; mkdir -p "$dout"
build_user_tool differential "$ROOT/differential/tcp_trace.c" "$dout/tcp_trace"

# trace NAME: boot the kernel built now with the trace as the command, judge the kernel side
# as make test does; the trace to $dout/NAME.trace, and in TRACE_FAIL why the run does not
# count (empty: it does)
trace() {
	local name=$1 rc=0 vmdir=$dout/$1/vm fail=()
	TRACE_FAIL=
	OUT=$dout/$name CMD="$dout/tcp_trace $SEED $SEEDS $OPS" "$ROOT/scripts/vm.sh" >"$dout/$name.vm.log" 2>&1 || rc=$?
	tail -n 3 "$dout/$name.vm.log"
	if [ "$rc" -ne 0 ]; then
		TRACE_FAIL="the trace did not run to its end (exit $rc): $dout/$name.vm.log"
		return
	fi
	judge_kernel "$vmdir" >"$dout/$name.judge"
	if [ "${#fail[@]}" -gt 0 ]; then
		cat "$dout/$name.judge"
		TRACE_FAIL=$(IFS=';'; echo "${fail[*]}")
		return
	fi
	# the trace is what the command printed; the intended differences are left out
	grep -vEf <(grep -vE '^[[:space:]]*(#|$)' "$ROOT/differential/intended" || true) "$vmdir/cmd.log" \
		>"$dout/$name.trace" || true
	say "$name: $(grep -c '^[0-9]' "$dout/$name.trace") operations traced, no splat, no kmemleak report"
}

# MUT=: the mutations, and the work tree, taken before the 6.12 part (a bad MUT fails at once)
if [ -n "${MUT:-}" ]; then
	mutation_files
	mutation_begin
fi

# 6.12 with upstream/6.12/'s fixes: make upstream-demo's fixed variant, in the same work tree
# and build cache (a build it left of this FLAVOR is reused)
(
	upstream_env
	export PATCHES=$CACHE/series-fixed FORCE=1
	upstream_patches fixed "$PATCHES"
	say "6.12: the fixed variant of make upstream-demo ($(cd "$PATCHES" && echo *.patch | wc -w) patches, FLAVOR=$FLAVOR)"
	# each stage prints its progress and keeps its log, and says what failed
	OUT=$dout/6.12-base "$ROOT/scripts/base.sh"
	upstream_build
	trace 6.12
	[ -z "$TRACE_FAIL" ] || die "6.12: $TRACE_FAIL"
)

if [ -z "${MUT:-}" ]; then
	trace 6.1
	[ -z "$TRACE_FAIL" ] || die "6.1: $TRACE_FAIL"
	if diff -u "$dout/6.1.trace" "$dout/6.12.trace" >"$dout/diff.txt"; then
		say "the traces are identical: $(grep -c '^[0-9]' "$dout/6.1.trace") operations, seeds $SEED to $((SEED + SEEDS - 1)), $OPS each (but the lines differential/intended lists)"
	else
		head -n 60 "$dout/diff.txt"
		die "the traces differ ($(grep -c '^[-+][^-+]' "$dout/diff.txt") lines): $dout/diff.txt"
	fi
	stage_end
	exit 0
fi

# MUT=...: the oracle against breaks nobody wrote it for. Each mutation (make mutate's) on the
# 6.1 side must make its run count as broken: a trace that differs from 6.12's, or a splat.
trace_mutation() {
	trace "6.1-$1" >&2
	if [ -n "$TRACE_FAIL" ]; then
		echo "caught: $TRACE_FAIL"
	elif ! diff -u "$dout/6.12.trace" "$dout/6.1-$1.trace" >"$dout/$1.diff"; then
		echo "caught: $(grep -c '^[-+][^-+]' "$dout/$1.diff") lines differ, first: $(grep -m1 '^+[^+]' "$dout/$1.diff" | cut -c2-90)"
	else
		echo SURVIVED
	fi
}
mutations_run "$dout" trace_mutation \
	"---- mutation | the 6.1 trace against 6.12's (seeds $SEED to $((SEED + SEEDS - 1)), $OPS each) ----" \
	"their traces are 6.12's"
stage_end
