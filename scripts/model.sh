#!/usr/bin/env bash
# "make model" (not part of .ci/run): the model-based checks of struct_ops links, with more
# seeds and operations than make test gives them, or one seed again: SEED (first seed, default
# 1), SEEDS (how many), OPS (operations per seed).
# - The toys: the subtests struct_ops_link/model and model_threads (model_threads runs 4
#   rounds of 4 threads of OPS operations per seed). A mismatch prints the seed, the
#   operation and the operations before it; the run is judged as make test's (results,
#   splats, kmemleak).
# - TCP congestion control: differential/tcp_trace.c's seeded operations (libbpf's and the
#   uapi's calls, the sysctls, connections, namespaces), judged as make test's kernel side,
#   and its trace checked line by line by the model of differential/tcp_model.c. Then its
#   threads (tcp_trace --threads, OPS/200 rounds a seed): a link's updates race namespaces
#   being made and writes of the default; after each round, what must hold under any
#   interleaving (each namespace's default runs the link's map, the default is allowed...).
# Results in out/model/.
# MUT=glob[,glob]: the models against make mutate's breaks, which they were not written for:
# each break is built (FLAVOR's kernel), both models run on it, and out/model/summary says
# which caught it (a mismatch, a failed run, a splat) or that it SURVIVED.
. "$(dirname "$0")/lib.sh"
stage_begin model
load_build
SEED=${SEED:-1} SEEDS=${SEEDS:-20} OPS=${OPS:-1000}
export STRUCT_OPS_MODEL="seed=$SEED seeds=$SEEDS ops=$OPS"
export T=struct_ops_link/model,struct_ops_link/model_threads TP_ARGS=-v
export VM_TIMEOUT=${VM_TIMEOUT:-3600}
mout=$ROOT/out/model
rm -rf "$mout"; mkdir -p "$mout"
tcp_tools_build "$mout"

# tcp_model_run NAME: the TCP trace of the kernel built now, into $mout/NAME, and the model
# over it; TCP_FAIL says what failed (empty: the model predicted every line)
tcp_model_run() {
	local t
	t=$(date +%s)
	TCP_FAIL=
	say "$FLAVOR kernel, TCP congestion control: tcp_trace $SEED $SEEDS $OPS"
	tcp_trace_run "$mout" "$1"
	if [ -n "$TRACE_FAIL" ]; then
		TCP_FAIL=$TRACE_FAIL
	elif ! tcp_model_check "$mout" "$1"; then
		TCP_FAIL="the model, $MODEL_SAYS"
	else
		say "tcp_model: $MODEL_SAYS, traced in $(elapsed "$t"), no splat, no kmemleak report"
	fi
}

# tcp_threads_run NAME: tcp_trace --threads (a link flipped between two maps while threads make
# namespaces and write the default; the rules that hold under any interleaving, checked after
# each round) on the kernel built now, into $mout/NAME; THREADS_FAIL says what broke (empty:
# every rule held), THREADS_SAYS what ran
ROUNDS=$((OPS / 200 > 0 ? OPS / 200 : 1))
tcp_threads_run() {
	local log=$mout/$1/vm/cmd.log
	THREADS_FAIL=
	say "$FLAVOR kernel, TCP congestion control, threads: tcp_trace --threads $SEED $SEEDS $ROUNDS"
	tcp_trace_run "$mout" "$1" "--threads $SEED $SEEDS $ROUNDS"
	if [ -n "$TRACE_FAIL" ]; then
		THREADS_FAIL=$(grep -m1 '^BROKEN: ' "$log" 2>/dev/null || echo "$TRACE_FAIL")
		return
	fi
	THREADS_SAYS=$(awk '/^threads seed/ { r++; u += $6; w += $8; n += $11 }
		END { printf "%d rounds, %d updates, %d default writes, %d namespaces", r, u, w, n }' "$log")
	say "tcp_trace --threads: $THREADS_SAYS; every rule held, no splat, no kmemleak report"
}

if [ -z "${MUT:-}" ]; then
	say "$FLAVOR kernel, the toys: STRUCT_OPS_MODEL=\"$STRUCT_OPS_MODEL\""
	rc=0
	OUT=$mout "$ROOT/scripts/vm.sh" || rc=$?
	OUT=$mout "$ROOT/scripts/report.sh" || rc=1
	grep -h '^model' "$mout/vm/test_progs.log" 2>/dev/null | tee "$mout/summary" || true
	tcp_model_run tcp
	if [ -n "$TCP_FAIL" ]; then
		say "$TCP_FAIL"
		cat "$mout/tcp.model" 2>/dev/null || true
		rc=1
	else
		echo "tcp_model: $MODEL_SAYS" >>"$mout/summary"
	fi
	tcp_threads_run tcp-threads
	if [ -n "$THREADS_FAIL" ]; then
		say "tcp_trace --threads: $THREADS_FAIL"
		rc=1
	else
		echo "tcp_trace --threads: $THREADS_SAYS; every rule held" >>"$mout/summary"
	fi
	[ "$rc" -eq 0 ] || die "the model found a mismatch, or the run failed: see above and $mout"
	stage_end
	exit 0
fi

# MUT=...: each break, its toys' run judged as make test's, then its TCP trace and model
series_only "model MUT=..."
mutation_files
mutation_begin
model_mutation() {
	local by=() toys
	say "$FLAVOR kernel, the toys: STRUCT_OPS_MODEL=\"$STRUCT_OPS_MODEL\"" >&2
	toys=$(tests_verdict "$mout" "$1")
	[ "$toys" = SURVIVED ] || by+=("the toys' model, ${toys#caught: }")
	tcp_model_run "$1-tcp" >&2
	[ -z "$TCP_FAIL" ] || by+=("the TCP model, $TCP_FAIL")
	tcp_threads_run "$1-tcp-threads" >&2
	[ -z "$THREADS_FAIL" ] || by+=("the TCP threads' rules, $THREADS_FAIL")
	caught_by "${by[@]}"
}
mutations_run "$mout" model_mutation \
	"---- mutation | the models (seeds $SEED to $((SEED + SEEDS - 1)), $OPS operations each) ----" \
	"the models miss them"
stage_end
