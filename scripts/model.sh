#!/usr/bin/env bash
# "make model" (not part of .ci/run): the model-based check of struct_ops links, the subtests
# struct_ops_link/model and model_threads, with more seeds and operations than make test gives
# them, or one seed again: SEED (first seed, default 1), SEEDS (how many), OPS (operations per
# seed; model_threads runs 4 rounds of 4 threads of OPS operations per seed). A mismatch
# prints the seed, the operation and the operations before it; the run is judged as make
# test's (results, splats, kmemleak). Results in out/model/.
. "$(dirname "$0")/lib.sh"
stage_begin model
load_build
export STRUCT_OPS_MODEL="seed=${SEED:-1} seeds=${SEEDS:-20} ops=${OPS:-1000}"
export T=struct_ops_link/model,struct_ops_link/model_threads OUT=$ROOT/out/model TP_ARGS=-v
export VM_TIMEOUT=${VM_TIMEOUT:-3600}
say "$FLAVOR kernel: STRUCT_OPS_MODEL=\"$STRUCT_OPS_MODEL\""
rc=0
"$ROOT/scripts/vm.sh" || rc=$?
"$ROOT/scripts/report.sh" || rc=1
grep -h '^model' "$OUT/vm/test_progs.log" 2>/dev/null | tee "$OUT/summary" || true
[ "$rc" -eq 0 ] || die "the model found a mismatch, or the run failed: see above and $OUT/vm"
stage_end
