#!/usr/bin/env bash
# Stage "report": judge what the guest left in $OUT/vm. Prints one line per test and
# subtest, the splat scan, and last the closing line "N passed, N failed, N skipped",
# where N counts subtests (a test without subtests counts as one).
. "$(dirname "$0")/lib.sh"
stage_begin report
VMDIR=$OUT/vm
[ -f "$VMDIR/filter" ] || die "no VM results in $VMDIR; run 'make vm'"
fail=()
log=$VMDIR/test_progs.log

if [ ! -f "$VMDIR/finished" ]; then
	fail+=("the guest died before finishing (no summary)")
	echo "---- last console lines ----"
	tail -n 30 "$VMDIR/console.log" 2>/dev/null || true
fi
[ -f "$log" ] || : >"$log"

echo "---- tests (from test_progs) ----"
grep -E "$RESULT_RE" "$log" | sed 's/^#[0-9/]* *//' |
	awk -F: '{printf "  %-4s %s\n", $NF, substr($0, 1, length($0) - length($NF) - 1)}' || true
grep -E '^Summary:' "$log" || fail+=("test_progs printed no summary")

# Counts: subtests; a top-level test with no subtests counts as one.
read -r passed failed skipped < <(
	sed -nE 's/^#([0-9]+)(\/[0-9]+)? +[^ ]+:(OK|FAIL|SKIP)$/\1 x\2 \3/p' "$log" | awk '
	$2 != "x" { sub_of[$1]++; c[$3]++; next }
	{ top[$1] = $3 }
	END {
		for (t in top) if (!(t in sub_of)) c[top[t]]++
		printf "%d %d %d\n", c["OK"], c["FAIL"], c["SKIP"]
	}')

# Every test the filter names must have run, passed and had at least one subtest.
IFS=, read -r -a expected <"$VMDIR/filter"
for t in "${expected[@]}"; do
	case "$t" in *'*'*|*'?'*|*/*) continue ;; esac
	res=$(sed -n -E "s/^#[0-9]+ +$t:(OK|FAIL|SKIP)\$/\\1/p" "$log")
	nsub=$(grep -cE "^#[0-9]+/[0-9]+ +$t/" "$log" || true)
	case "$res" in
	"") fail+=("expected test '$t' did not run") ;;
	SKIP) fail+=("expected test '$t' was skipped") ;;
	FAIL) fail+=("test '$t' failed") ;;
	esac
	if [ -n "$res" ] && [ "$nsub" -eq 0 ]; then fail+=("test '$t' reported zero subtests"); fi
	# a subtest that skips (a missing kernel option) leaves its test OK: name it
	while read -r sub; do
		fail+=("subtest '$sub' was skipped")
	done < <(sed -n -E "s/^#[0-9]+\/[0-9]+ +($t\/[^ ]+):SKIP\$/\1/p" "$log")
done
if [ "$failed" -gt 0 ]; then
	fail+=("$failed subtest(s) failed")
	echo "---- test_progs output of the failures ----"
	grep -vE '^#[0-9/]+ +[^ ]+:(OK|SKIP)$' "$log" | tail -n 80
fi
rc=$(cat "$VMDIR/test_progs.rc" 2>/dev/null || echo missing)
[ "$rc" = 0 ] || fail+=("test_progs exited with $rc")

# Splats printed after the marker, and kmemleak.
echo "---- kernel log since the test marker ----"
marker=$(cat "$VMDIR/marker")
if [ -f "$VMDIR/dmesg.txt" ] && grep -qF "$marker" "$VMDIR/dmesg.txt"; then
	sed -n "/$marker/,\$p" "$VMDIR/dmesg.txt" >"$VMDIR/dmesg-tests.txt"
elif grep -qF "$marker" "$VMDIR/console.log" 2>/dev/null; then
	sed -n "/$marker/,\$p" "$VMDIR/console.log" >"$VMDIR/dmesg-tests.txt"
else
	: >"$VMDIR/dmesg-tests.txt"
	fail+=("no kernel log after the test marker")
fi
nsplat=$(grep -cE "$SPLAT_RE" "$VMDIR/dmesg-tests.txt" || true)
if [ "$nsplat" -gt 0 ]; then
	fail+=("$nsplat splat line(s) in the kernel log during the tests")
	grep -nE -A12 "$SPLAT_RE" "$VMDIR/dmesg-tests.txt" | head -n 80
else
	echo "  no splats ($(wc -l <"$VMDIR/dmesg-tests.txt") lines scanned)"
fi
if [ -f "$VMDIR/kmemleak.txt" ]; then
	# Only what the tests left counts: an object allocated before the marker (jiffies read
	# by the guest just after writing it) was left by the boot.
	t_marker=
	{ read -r t_marker <"$VMDIR/marker.jiffies"; } 2>/dev/null || true
	case "$t_marker" in
	[0-9]*) ;;
	*) fail+=("kmemleak: the guest did not record the jiffies of the marker"); t_marker=0 ;;
	esac
	kmemleak_split "$t_marker" <"$VMDIR/kmemleak.txt" >"$VMDIR/kmemleak-tests.txt" \
		3>"$VMDIR/kmemleak-boot.txt"
	nboot=$(grep -c 'unreferenced object' "$VMDIR/kmemleak-boot.txt" || true)
	nleak=$(grep -c 'unreferenced object' "$VMDIR/kmemleak-tests.txt" || true)
	if [ "$nleak" -gt 0 ]; then
		fail+=("kmemleak: $nleak unreferenced object(s) allocated during the tests")
		head -n 60 "$VMDIR/kmemleak-tests.txt"
	else
		echo "  kmemleak: no leaks from the tests ($nboot left by the boot, not counted: kmemleak-boot.txt)"
	fi
elif [ "$(cat "$VMDIR/flavor" 2>/dev/null)" = debug ]; then
	fail+=("the debug kernel produced no kmemleak report")
fi

echo "---- verdict ----"
if [ "${#fail[@]}" -gt 0 ]; then
	printf '  FAIL: %s\n' "${fail[@]}"
else
	echo "  all expected tests ran and passed; tests: $(echo "${expected[*]}" | tr ' ' ,); boot: $(cat "$VMDIR/preflight" | head -n 1), $(cat "$VMDIR/accel" 2>/dev/null)"
fi
echo "(counts are subtests; a test without subtests counts as one)"
[ "${#fail[@]}" -eq 0 ] || [ "$failed" -gt 0 ] || failed=$((failed + 1))
echo "$passed passed, $failed failed, $skipped skipped"
[ "${#fail[@]}" -eq 0 ] || exit 1
