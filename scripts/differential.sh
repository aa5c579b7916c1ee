#!/usr/bin/env bash
# "make differential" (evidence, not part of .ci/run): the same seeded sequences of BPF TCP
# congestion control link operations (differential/tcp_trace.c: calls, errnos, and what
# each leaves visible) on 6.1 with the series (FLAVOR, debug unless given) and on upstream
# 6.12 with upstream/6.12/'s fixes (make upstream-demo's "fixed" variant, built in its
# cache with the same FLAVOR's options; a build make upstream-demo left is reused). One
# binary, built against this series' libbpf and tcp_ca_update skeleton, runs on both
# kernels. The traces must be identical but for the lines differential/intended lists (each
# with its reason); both runs must be free of splats; the model of differential/tcp_model.c
# must predict each trace, line by line. SEED, SEEDS, OPS as make model's.
# Results in out/differential/.
# MUT=glob[,glob]: make mutate's breaks, each on the 6.1 side; every one must make the 6.1
# run differ from 6.12's trace, or from the model's prediction, or splat (the table in
# out/differential/summary says which).
. "$(dirname "$0")/lib.sh"
series_only differential
stage_begin differential
load_build
[ -x "$SELFTESTS/test_progs" ] || die "no build at $BUILD; run 'make build FLAVOR=$FLAVOR'"
SEED=${SEED:-1} SEEDS=${SEEDS:-10} OPS=${OPS:-200}
dout=$ROOT/out/differential
rm -rf "$dout"; mkdir -p "$dout"
tcp_tools_build "$dout"

# trace NAME: the trace of the kernel built now (tcp_trace_run), to $dout/NAME.trace less the
# intended differences; the model checks the whole trace, into $dout/NAME.model (MODEL_FAIL
# says how it failed, empty: it held)
trace() {
	local name=$1
	MODEL_FAIL=
	tcp_trace_run "$dout" "$name"
	[ -z "$TRACE_FAIL" ] || return 0
	grep -vEf <(grep -vE '^[[:space:]]*(#|$)' "$ROOT/differential/intended" || true) \
		"$dout/$name/vm/cmd.log" >"$dout/$name.trace" || true
	say "$name: $(grep -c '^[0-9]' "$dout/$name.trace") operations traced, no splat, no kmemleak report"
	if tcp_model_check "$dout" "$name"; then
		say "$name: $MODEL_SAYS"
	else
		MODEL_FAIL=$MODEL_SAYS
	fi
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
	[ -z "$MODEL_FAIL" ] || { cat "$dout/6.12.model"; die "6.12: the model: $MODEL_FAIL"; }
)

if [ -z "${MUT:-}" ]; then
	trace 6.1
	[ -z "$TRACE_FAIL" ] || die "6.1: $TRACE_FAIL"
	[ -z "$MODEL_FAIL" ] || { cat "$dout/6.1.model"; die "6.1: the model: $MODEL_FAIL"; }
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
# The model's verdict is given beside the trace's: it is the model's account of the breaks it
# was not written for.
trace_mutation() {
	local by=()
	trace "6.1-$1" >&2
	if [ -n "$TRACE_FAIL" ]; then
		echo "caught: $TRACE_FAIL"
		return
	fi
	if ! diff -u "$dout/6.12.trace" "$dout/6.1-$1.trace" >"$dout/$1.diff"; then
		by+=("the trace, $(grep -c '^[-+][^-+]' "$dout/$1.diff") lines differ, first: $(grep -m1 '^+[^+]' "$dout/$1.diff" | cut -c2-90)")
	fi
	[ -z "$MODEL_FAIL" ] || by+=("the model, $MODEL_FAIL")
	caught_by "${by[@]}"
}
mutations_run "$dout" trace_mutation \
	"---- mutation | the 6.1 trace against 6.12's (seeds $SEED to $((SEED + SEEDS - 1)), $OPS each) ----" \
	"their traces are 6.12's"
stage_end
