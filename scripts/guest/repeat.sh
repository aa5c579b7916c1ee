#!/bin/bash
# Runs in the guest, for "make repeat" (as its GUEST_SCRIPT, in the selftests directory, after
# the first run of make test's tests): test_progs -a T, REPEAT more times in a row, then every
# subtest of the tests ALONE by itself, last first. One line per run for the host:
#   run N: exit RC, Summary: ..., S s
#   alone TEST/SUBTEST: exit RC, S s
# followed by the failing lines of a run that failed.
T=$1 REPEAT=$2 ALONE=$3
# shellcheck source=scripts/judge.sh
. "${0%/*}/../judge.sh"	# tp_outcomes
log=/tmp/repeat.log

one() {	# LABEL FILTER
	local s=$SECONDS rc
	./test_progs -a "$2" >$log 2>&1
	rc=$?
	echo "$1: exit $rc, $(grep -E '^Summary' $log | tail -n 1), $((SECONDS - s)) s"
	[ "$rc" = 0 ] || grep -E ':FAIL' $log | head -n 20 | sed 's/^/    /'
}

set -f
for i in $(seq 1 "$REPEAT"); do
	one "run $i" "$T"
done
# The subtests, from the results of the last run with only ALONE in the filter
./test_progs -a "$ALONE" >$log 2>&1
subtests=$(tp_outcomes $log | awk '$1 ~ /\// { print $1 }' | tac)
for st in $subtests; do
	one "alone $st" "$st"
done
