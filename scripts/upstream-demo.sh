#!/usr/bin/env bash
# "make upstream-demo" (not part of .ci/run): the same-map fix on upstream 6.12, Debian's
# linux-source-6.12. upstream/6.12/ holds the fix and its selftest as they would be sent
# upstream. Two runs of the usual stages, in a cache of their own:
#   stock  6.12 + the selftest only: must fail (the kernel may hang or splat instead; the
#          guest is bounded by VM_TIMEOUT, 400 s here unless set)
#   fixed  6.12 + the fix + the selftest: must pass, with no splat
# The demo passes when both do what they must; each run's report is in out/upstream-6.12-*.
. "$(dirname "$0")/lib.sh"
stage_begin upstream-demo

export DEB_PKG=linux-source-6.12 DEB_PIN=6.12.117-1~deb12u1 KVER=6.12
export DEB_PIN_SHA256=e849faf31ca3555757f3a8877cb01af92122f744f75d1f3102734651c4e14703
export CACHE=$CACHE/upstream-6.12
export EXTRA_CONFIG=$ROOT/upstream/6.12/config
export T=${T:-bpf_tcp_ca/update_same_map} VM_TIMEOUT=${VM_TIMEOUT:-400} FORCE=1
mkdir -p "$CACHE"

fix=$(find "$ROOT/upstream/6.12" -name '0001-*.patch')
selftest=$(find "$ROOT/upstream/6.12" -name '0002-*.patch')
[ -f "$fix" ] && [ -f "$selftest" ] || die "upstream/6.12 must hold the fix (0001) and its selftest (0002)"

OUT=$ROOT/out/upstream-6.12 "$ROOT/scripts/base.sh"

declare -A verdict
for variant in stock fixed; do
	export PATCHES=$CACHE/series-$variant OUT=$ROOT/out/upstream-6.12-$variant
	rm -rf "$PATCHES"
	mkdir -p "$PATCHES"
	# upstream/6.12/demo/: what the Debian source needs for test_progs to build at all
	cp "$ROOT"/upstream/6.12/demo/*.patch "$PATCHES/"
	[ "$variant" = stock ] || cp "$fix" "$PATCHES/"
	cp "$selftest" "$PATCHES/"
	say "$variant: 6.12 + $(cd "$PATCHES" && echo *.patch)"
	"$ROOT/scripts/apply.sh"
	# test_progs' list of tests is generated into the source tree and not regenerated when
	# a test file goes away (the demo patch removes one)
	rm -f "$CACHE"/src/*/tools/testing/selftests/bpf/prog_tests/tests.h
	# 6.12's selftests write test objects' dependency files with skeleton headers named
	# relative to the output directory, which make then cannot find a rule for once
	# vmlinux is relinked; the explicit prerequisites (the test's .c) are enough here
	rm -f "$CACHE"/build/*/kselftest/bpf/*.test.d
	"$ROOT/scripts/build.sh"
	rc=0
	"$ROOT/scripts/vm.sh" || rc=$?
	if ! "$ROOT/scripts/report.sh" >"$OUT/report.txt" 2>&1; then
		[ "$rc" != 0 ] || rc=1
	fi
	sed 's/^/    /' "$OUT/report.txt"
	verdict[$variant]=$rc
done

say "stock 6.12: $( [ "${verdict[stock]}" != 0 ] && echo "FAILED, as it must" || echo "PASSED: the demo shows nothing")"
say "fixed 6.12: $( [ "${verdict[fixed]}" = 0 ] && echo "PASSED, as it must" || echo "FAILED")"
[ "${verdict[stock]}" != 0 ] && [ "${verdict[fixed]}" = 0 ] || die "the demonstration did not come out as expected"
stage_end
