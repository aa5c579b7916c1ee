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
#   and its trace checked line by line by the model of differential/tcp_model.c.
# Results in out/model/.
. "$(dirname "$0")/lib.sh"
stage_begin model
load_build
SEED=${SEED:-1} SEEDS=${SEEDS:-20} OPS=${OPS:-1000}
export STRUCT_OPS_MODEL="seed=$SEED seeds=$SEEDS ops=$OPS"
export T=struct_ops_link/model,struct_ops_link/model_threads OUT=$ROOT/out/model TP_ARGS=-v
export VM_TIMEOUT=${VM_TIMEOUT:-3600}
rm -rf "$OUT"; mkdir -p "$OUT"
say "$FLAVOR kernel, the toys: STRUCT_OPS_MODEL=\"$STRUCT_OPS_MODEL\""
rc=0
"$ROOT/scripts/vm.sh" || rc=$?
"$ROOT/scripts/report.sh" || rc=1
grep -h '^model' "$OUT/vm/test_progs.log" 2>/dev/null | tee "$OUT/summary" || true

say "$FLAVOR kernel, TCP congestion control: tcp_trace $SEED $SEEDS $OPS"
tcp_tools_build "$OUT"
t=$(date +%s)
tcp_trace_run "$OUT" tcp
if [ -n "$TRACE_FAIL" ]; then
	say "$TRACE_FAIL"
	rc=1
elif ! tcp_model_check "$OUT" tcp; then
	cat "$OUT/tcp.model"
	rc=1
else
	say "tcp_model: $MODEL_SAYS, traced in $(elapsed "$t"), no splat, no kmemleak report"
	echo "tcp_model: $MODEL_SAYS" >>"$OUT/summary"
fi
[ "$rc" -eq 0 ] || die "the model found a mismatch, or the run failed: see above and $OUT"
stage_end
