#!/usr/bin/env bash
# "make upstream-demo" (not part of .ci/run): the fixes in upstream/6.12/ on upstream 6.12,
# Debian's linux-source-6.12. upstream/6.12/ holds the fixes and their selftests as they
# would be sent upstream (patches named "selftests-..." are the tests, the others the
# fixes). Two variants of the usual stages, in a cache of their own:
#   stock  6.12 + the selftests only: each new subtest, alone in a boot of its own, must
#          fail (the kernel may hang or splat instead; each boot is bounded by VM_TIMEOUT,
#          400 s here unless set)
#   widened  6.12 + the fixes but the one of tcp_sk_init() + upstream/6.12/widen/ (a delay
#          inside that function's race window) + the selftests: the subtest that the race
#          breaks must fail, in every run (the window without the delay is too small to
#          hit on demand)
#   fixed  6.12 + the fixes + the selftests: all new subtests, in one boot, must pass, with
#          no splat
# The demo passes when every run does what it must; each run's report is in
# out/upstream-6.12-<variant>[-<subtest>]/report.txt.
. "$(dirname "$0")/lib.sh"
stage_begin upstream-demo

upstream_env
export VM_TIMEOUT=${VM_TIMEOUT:-400} FORCE=1
# the subtests the selftests patches add
SUBTESTS=${SUBTESTS:-bpf_tcp_ca/update_same_map bpf_tcp_ca/update_same_map_not_last bpf_tcp_ca/update_allowed bpf_tcp_ca/update_default bpf_tcp_ca/update_map_no_link bpf_tcp_ca/update_default_netns_churn bpf_tcp_ca/update_default_allowed}
# the widened variant's subtest (upstream_patches: the fix it leaves out)
WIDEN_SUBTEST=bpf_tcp_ca/update_default_netns_churn
mkdir -p "$CACHE"

OUT=$ROOT/out/upstream-6.12 "$ROOT/scripts/base.sh"

# run VARIANT NAME T: boot the kernel of VARIANT with the tests T; the verdict is the
# report's (the guest's exit status and the judge); sets RUN_RC
run() {
	local name=$2
	export OUT=$ROOT/out/upstream-6.12-$name T=$3
	RUN_RC=0
	"$ROOT/scripts/vm.sh" || RUN_RC=$?
	if ! "$ROOT/scripts/report.sh" >"$OUT/report.txt" 2>&1; then
		[ "$RUN_RC" != 0 ] || RUN_RC=1
	fi
	sed 's/^/    /' "$OUT/report.txt"
}

failed=()
for variant in stock widened fixed; do
	export PATCHES=$CACHE/series-$variant OUT=$ROOT/out/upstream-6.12-$variant
	upstream_patches "$variant" "$PATCHES"
	say "$variant: 6.12 + $(cd "$PATCHES" && echo *.patch)"
	upstream_build
	if [ "$variant" = stock ]; then
		for t in $SUBTESTS; do
			run stock "stock-${t##*/}" "$t"
			if [ "$RUN_RC" != 0 ]; then
				say "stock 6.12, $t: FAILED, as it must"
			else
				say "stock 6.12, $t: PASSED: the demo shows nothing for it"
				failed+=("stock $t")
			fi
		done
	elif [ "$variant" = widened ]; then
		run widened widened "$WIDEN_SUBTEST"
		if [ "$RUN_RC" != 0 ]; then
			say "6.12 + the fixes but $WIDEN_WITHOUT, window widened, $WIDEN_SUBTEST: FAILED, as it must"
		else
			say "6.12 + the fixes but $WIDEN_WITHOUT, window widened, $WIDEN_SUBTEST: PASSED: the demo shows nothing for it"
			failed+=("widened $WIDEN_SUBTEST")
		fi
	else
		run fixed fixed "${SUBTESTS// /,}"
		if [ "$RUN_RC" = 0 ]; then
			say "fixed 6.12, $SUBTESTS: PASSED, as they must"
		else
			say "fixed 6.12: FAILED"
			failed+=("fixed")
		fi
	fi
done
[ "${#failed[@]}" = 0 ] || die "the demonstration did not come out as expected: ${failed[*]}"
stage_end
