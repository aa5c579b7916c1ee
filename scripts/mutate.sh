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

judge_mutation() { tests_verdict "$mutate_out" "$1"; }
mutations_run "$mutate_out" judge_mutation "---- mutation | result (T=$T) ----" "the tests miss them"
stage_end
