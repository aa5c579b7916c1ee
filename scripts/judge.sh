# shellcheck shell=bash
# The judge of a guest run, in one place: what counts as a kernel splat (the patterns in
# judge/splat-deny minus judge/splat-allow), how test_progs' results are read, which
# subtests may skip on which flavor (judge/skip-allow), and the kmemleak rule. Sourced by
# lib.sh, so by every stage; "make check" runs it on the captured runs in judge/fixtures/
# (scripts/judge-test.sh). Defines functions only.
JUDGE_DIR=${JUDGE_DIR:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../judge" && pwd)}

# A test_progs result line: "#12 test:OK", "#12/3 test/subtest:FAIL".
RESULT_RE='^#[0-9]+(/[0-9]+)? +[^ ]+:(OK|FAIL|SKIP)$'

# The patterns of a judge/ file: no comments, no blank (or blank-looking) lines.
judge_patterns() { grep -vE '^[[:space:]]*(#|$)' "$JUDGE_DIR/$1" || [ $? -eq 1 ]; }

# skips_allowed FLAVOR: the subtests judge/skip-allow lets skip on FLAVOR, one per line.
skips_allowed() {
	[ ! -r "$JUDGE_DIR/skip-allow" ] || judge_patterns skip-allow | awk -v f="$1" '$1 == f { print $2 }'
}

# splats [grep options] [FILE]: the splat lines of a kernel log (stdin or FILE). With -c,
# their count; -n works as with grep. Fails (status 2) when the patterns are missing or
# grep cannot use them, rather than report no splat.
splats() {
	local count=0 args=() a
	for a in "$@"; do
		if [ "$a" = -c ]; then count=1; else args+=("$a"); fi
	done
	if [ ! -r "$JUDGE_DIR/splat-deny" ] || [ ! -r "$JUDGE_DIR/splat-allow" ] ||
		[ -z "$(judge_patterns splat-deny)" ]; then
		echo "judge: no splat patterns in $JUDGE_DIR" >&2
		return 2
	fi
	# grep exits 0 (lines), 1 (none) or 2 (trouble): only trouble fails
	{ grep -E -f <(judge_patterns splat-deny) "${args[@]}" || [ $? -eq 1 ]; } |
		{ grep -vE -f <(judge_patterns splat-allow) || [ $? -eq 1 ]; } |
		if [ "$count" = 1 ]; then wc -l; else cat; fi
}

# tp_results LOG: test_progs' result lines, each once (its closing error summary repeats
# the lines of the tests that failed).
# A test some of whose subtests skipped ends "OK (SKIP: 1/14)": read as OK (the subtest
# lines say which skipped).
tp_results() {
	sed -E 's/:OK \(SKIP: [0-9]+\/[0-9]+\)$/:OK/' "$1" 2>/dev/null | grep -E "$RESULT_RE" |
		awk '!seen[$0]++' || true
}

# tp_outcomes LOG: "NAME RESULT" per test and subtest ("test" or "test/subtest", "OK",
# "FAIL" or "SKIP"), each once, in test_progs' order: what every stage reads of the results.
tp_outcomes() {
	tp_results "$1" | sed -E 's/^#[0-9]+(\/[0-9]+)? +([^ ]+):(OK|FAIL|SKIP)$/\2 \3/'
}

# tp_counts LOG: "passed failed skipped", counting subtests; a test without subtests
# counts as one.
tp_counts() {
	tp_results "$1" | sed -nE 's/^#([0-9]+)(\/[0-9]+)? +[^ ]+:(OK|FAIL|SKIP)$/\1 x\2 \3/p' | awk '
	$2 != "x" { sub_of[$1]++; c[$3]++; next }
	{ top[$1] = $3 }
	END {
		for (t in top) if (!(t in sub_of)) c[top[t]]++
		printf "%d %d %d\n", c["OK"], c["FAIL"], c["SKIP"]
	}'
}

# kmemleak_split JIFFIES <report >tests 3>boot: the objects of a kmemleak report allocated
# at or after JIFFIES (read by the guest right after it wrote the marker) go to stdout, the
# older ones (left by the boot, not by the tests) to fd 3.
kmemleak_split() {
	awk -v m="$1" '
	function flush() { if (blk != "") { if (boot) printf "%s", blk > "/dev/fd/3"; else printf "%s", blk }; blk = "" }
	/^unreferenced object/ { flush(); boot = 0 }
	# "  comm "test_progs", pid 53, jiffies 4294710301 (age 12.340s)"
	/^  comm / && match($0, /, jiffies [0-9]+/) { boot = (substr($0, RSTART + 10, RLENGTH - 10) + 0 < m + 0) }
	{ blk = blk $0 "\n" }
	END { flush() }'
}

# log_since_marker VMDIR: the kernel log from the marker the guest wrote before the tests
# (or the command) on: from its dmesg, or from the console if the guest died before it saved
# dmesg (the console has every level: ignore_loglevel). Returns 1, printing nothing, when
# neither holds the marker.
log_since_marker() {
	local marker
	marker=$(cat "$1/marker" 2>/dev/null) || return 1
	if [ -f "$1/dmesg.txt" ] && grep -qF "$marker" "$1/dmesg.txt"; then
		sed -n "/$marker/,\$p" "$1/dmesg.txt"
	elif grep -qF "$marker" "$1/console.log" 2>/dev/null; then
		sed -n "/$marker/,\$p" "$1/console.log" | tr -d '\r'
	else
		return 1
	fi
}

# kcsan_split: the kernel log on stdin, less the KCSAN reports that name no function of the
# series' code (judge/kcsan-series: a frame of either side, or the title), which go to fd 3
kcsan_split() {
	awk -v pat="(^|[^A-Za-z0-9_])($(judge_patterns kcsan-series | paste -sd'|'))" '
	function flush() { if (blk != "") { if (blk ~ pat) printf "%s", blk; else printf "%s", blk > "/dev/fd/3" }; blk = ""; rep = 0 }
	/BUG: KCSAN:/ { flush(); rep = 1 }
	rep { blk = blk $0 "\n"; if ($0 ~ /====================/) flush(); next }
	{ print }
	END { flush() }'
}

# judge_kernel VMDIR: what the kernel side of a guest run says, for any command the guest
# ran (make test's, or another stage's): the boot was clean, the kernel log since the
# marker has no splat (on the kcsan flavor, KCSAN reports outside the series' code are
# listed apart), kmemleak found nothing allocated after the marker. Prints its findings, and
# appends each reason the run fails to the caller's array "fail" (its local, in bash's scope).
judge_kernel() {
	local VMDIR=$1 flavor nsplat t_marker nboot nleak
	flavor=$(cat "$VMDIR/flavor" 2>/dev/null || echo unknown)
	# a boot that came up tainted or without lockdep judges nothing
	if ! grep -qx ok "$VMDIR/preflight" 2>/dev/null; then
		fail+=("the boot was not clean ($(head -n 1 "$VMDIR/preflight" 2>/dev/null || echo 'no preflight')); it never counts")
	fi
	echo "---- kernel log since the test marker ----"
	if ! log_since_marker "$VMDIR" >"$VMDIR/dmesg-tests.txt"; then
		fail+=("no kernel log after the test marker")
	elif ! grep -qF "$(cat "$VMDIR/marker")" "$VMDIR/dmesg.txt" 2>/dev/null; then
		echo "  (no dmesg from the guest: the console is judged)"
	fi
	if [ "$flavor" = kcsan ]; then
		kcsan_split <"$VMDIR/dmesg-tests.txt" >"$VMDIR/dmesg-tests.kcsan" 3>"$VMDIR/kcsan-elsewhere.txt"
		mv "$VMDIR/dmesg-tests.kcsan" "$VMDIR/dmesg-tests.txt"
		if grep -q 'BUG: KCSAN:' "$VMDIR/kcsan-elsewhere.txt"; then
			echo "  KCSAN reports with no frame in the series' code, not counted (kcsan-elsewhere.txt):"
			grep -o 'BUG: KCSAN: .*' "$VMDIR/kcsan-elsewhere.txt" | sort | uniq -c | sed 's/^/    /'
		fi
	fi
	if ! nsplat=$(splats -c "$VMDIR/dmesg-tests.txt"); then
		fail+=("the kernel log could not be scanned for splats")
		nsplat=0
	fi
	if [ "$nsplat" -gt 0 ]; then
		fail+=("$nsplat splat line(s) in the kernel log during the tests")
		splats -n "$VMDIR/dmesg-tests.txt" | head -n 20
		echo "  (in full: $VMDIR/dmesg-tests.txt)"
	else
		echo "  no splats ($(wc -l <"$VMDIR/dmesg-tests.txt") lines scanned)"
	fi
	if [ -f "$VMDIR/kmemleak.txt" ]; then
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
	elif [ "$flavor" = debug ] && [ -f "$VMDIR/finished" ]; then
		fail+=("the debug kernel produced no kmemleak report")
	fi
}

# judge_run VMDIR: the verdict on what a guest left in VMDIR (make test's run). Prints one
# line per test and subtest, the splat scan, the kmemleak result, the reasons for a FAIL,
# and last "N passed, N failed, N skipped". Returns 1 if the run does not pass.
# A run that vm.sh stopped before the tests could start (VMDIR/not-run: the cause, which
# vm.sh printed) is judged in one line, not in the failures that follow from it.
judge_run() {
	local VMDIR=$1 fail=() log=$1/test_progs.log passed failed skipped t res nsub sub
	local expected=() rc results flavor allowed nskip
	if [ -f "$VMDIR/not-run" ]; then
		echo "---- verdict ----"
		echo "  FAIL: the tests did not run (the vm stage's ERROR says why; kept in $VMDIR/not-run)"
		echo "0 passed, 1 failed, 0 skipped"
		return 1
	fi
	if [ ! -f "$VMDIR/finished" ]; then
		fail+=("the guest died before finishing (no summary)")
		echo "---- last console lines ----"
		tail -n 30 "$VMDIR/console.log" 2>/dev/null || true
	fi
	[ -f "$log" ] || : >"$log"

	echo "---- tests (from test_progs) ----"
	tp_results "$log" | sed 's/^#[0-9/]* *//' |
		awk -F: '{printf "  %-4s %s\n", $NF, substr($0, 1, length($0) - length($NF) - 1)}'
	grep -E '^Summary:' "$log" || fail+=("test_progs printed no summary")
	read -r passed failed skipped < <(tp_counts "$log")
	results=$(tp_results "$log")

	# Every test the filter names must have run, passed, had at least one subtest, and
	# none of its subtests may have skipped (a missing kernel option), but those that
	# judge/skip-allow lets skip on this flavor (6.1's test_progs then prints the test as
	# SKIP).
	flavor=$(cat "$VMDIR/flavor" 2>/dev/null || echo unknown)
	allowed=$(skips_allowed "$flavor")
	IFS=, read -r -a expected <"$VMDIR/filter"
	for t in "${expected[@]}"; do
		case "$t" in *'*'*|*'?'*) continue ;; esac
		case "$t" in */*)	# a subtest: it ran, and passed
			res=$(awk -v t="$t" '{ n = split($2, a, ":"); if (a[1] == t) r = a[n] } END { print r }' <<<"$results")
			case "$res" in
			"") fail+=("expected subtest '$t' did not run") ;;
			SKIP) grep -qxF -- "$t" <<<"$allowed" || fail+=("subtest '$t' was skipped") ;;
			FAIL) fail+=("subtest '$t' failed") ;;
			esac
			continue ;;
		esac
		res=$(sed -n -E "s/^#[0-9]+ +$t:(OK|FAIL|SKIP)\$/\\1/p" <<<"$results")
		nsub=$(grep -cE "^#[0-9]+/[0-9]+ +$t/" <<<"$results" || true)
		nskip=0
		while read -r sub; do
			if grep -qxF -- "$sub" <<<"$allowed"; then
				echo "  (skipped, which judge/skip-allow allows on the $flavor flavor: $sub)"
			else
				fail+=("subtest '$sub' was skipped")
			fi
			nskip=$((nskip + 1))
		done < <(sed -n -E "s/^#[0-9]+\/[0-9]+ +($t\/[^ ]+):SKIP\$/\1/p" <<<"$results")
		case "$res" in
		"") fail+=("expected test '$t' did not run") ;;
		SKIP) [ "$nskip" -gt 0 ] || fail+=("expected test '$t' was skipped") ;;
		FAIL) fail+=("test '$t' failed") ;;
		esac
		if [ -n "$res" ] && [ "$nsub" -eq 0 ]; then fail+=("test '$t' reported zero subtests"); fi
	done
	if [ "$failed" -gt 0 ]; then
		fail+=("$failed subtest(s) failed")
		echo "---- test_progs output of the failures ----"
		grep -vE '^#[0-9/]+ +[^ ]+:(OK|SKIP)$' "$log" | tail -n 80
	fi
	rc=$(cat "$VMDIR/test_progs.rc" 2>/dev/null || echo missing)
	[ "$rc" = 0 ] || fail+=("test_progs exited with $rc")

	judge_kernel "$VMDIR"

	echo "---- verdict ----"
	if [ "${#fail[@]}" -gt 0 ]; then
		printf '  FAIL: %s\n' "${fail[@]}"
	else
		echo "  all expected tests ran and passed; tests: $(IFS=,; echo "${expected[*]}"); boot: $(head -n 1 "$VMDIR/preflight"), $(cat "$VMDIR/accel" 2>/dev/null)"
	fi
	echo "(counts are subtests; a test without subtests counts as one)"
	[ "${#fail[@]}" -eq 0 ] || [ "$failed" -gt 0 ] || failed=$((failed + 1))
	echo "$passed passed, $failed failed, $skipped skipped"
	[ "${#fail[@]}" -eq 0 ]
}
