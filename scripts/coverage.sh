#!/usr/bin/env bash
# "make coverage" (not part of .ci/run): which lines that the series adds to the kernel does
# the suite run? The gcov flavour (configs/gcov.config: the debug checkers without KASAN, fault
# injection, gcov on each kernel object the series changes) runs the tests T (make test's),
# judged as make test; the guest then copies its gcov data (debugfs) to the results. On the
# host gcov annotates each profiled source, git blame names the patch that added each line,
# and the summary gives per patch the executable lines it adds and how many of them ran;
# out/coverage/not-run lists the others (patch, file:line, code).
. "$(dirname "$0")/lib.sh"
series_only coverage
stage_begin coverage
[ "$FLAVOR" = gcov ] || die "make coverage runs with FLAVOR=gcov (the Makefile target sets it)"
load_build
[ -x "$SELFTESTS/test_progs" ] || die "build first (make build FLAVOR=gcov)"
cov_out=$ROOT/out/coverage
rm -rf "$cov_out"; mkdir -p "$cov_out"
export OUT=$cov_out VM_TIMEOUT=${VM_TIMEOUT:-1800} T=${T:-$DEFAULT_TESTS}
# the gcov data after the tests: debugfs's .gcda files are read with cat (their size reads 0)
# shellcheck disable=SC2016 # expanded in the guest
export GUEST_SCRIPT='cd /sys/kernel/debug/gcov && find . -name "*.gcda" | while read -r f; do
	mkdir -p "/mnt/results/gcov/${f%/*}" && cat "$f" >"/mnt/results/gcov/$f"; done'
rc=0
"$ROOT/scripts/vm.sh" || rc=$?
"$ROOT/scripts/report.sh" || rc=1
[ "$rc" -eq 0 ] || die "the tests did not pass on the gcov kernel: see above and $cov_out/vm"
[ -d "$cov_out/vm/gcov" ] || die "the guest left no gcov data ($cov_out/vm/guest-script.log)"

# gcov: each profiled object's .gcno (build directory) beside its .gcda (guest), then every
# source it was built from (the .c and the headers it inlines), line by line with its count
say "gcov of $(find "$cov_out/vm/gcov" -name '*.gcda' | wc -l) object(s)"
work=$cov_out/gcov
while read -r gcda; do
	rel=${gcda#*"$BUILD"/}
	[ "$rel" != "$gcda" ] || die "a .gcda outside the build directory: $gcda"
	mkdir -p "$work/${rel%/*}"
	cp "$gcda" "$work/$rel"
	cp "$BUILD/${rel%.gcda}.gcno" "$work/${rel%.gcda}.gcno"
	(cd "$WT" && gcov -t -o "$work/${rel%/*}" "${rel%.gcda}.c" 2>>"$LOGS/coverage-gcov.log")
done < <(find "$cov_out/vm/gcov" -name '*.gcda') |
	# "FILE LINE COUNT" for each executable line (COUNT 0: not run); a header line seen from
	# several objects counts what all of them ran
	awk '/^ *-: *0:Source:/ { sub(/^ *-: *0:Source:/, ""); f = $0; sub("^" root "/", "", f); next }
		match($0, /^ *[0-9#=]+\*?: *[0-9]+:/) {
			split(substr($0, 1, RLENGTH), a, ":"); c = a[1]; gsub(/[ *]/, "", c)
			n = a[2] + 0; if (c ~ /^[#=]+$/) c = 0
			k = f " " n; if (!(k in cnt) || c + 0 > cnt[k]) cnt[k] = c + 0
		}
		END { for (k in cnt) print k, cnt[k] }' root="$WT" | sort -k1,1 -k2,2n >"$cov_out/lines"

# git blame: the patch that added each line of each profiled file (boundary lines are the base's)
mapfile -t commits < <(git -C "$WT" rev-list --reverse series-base..HEAD)
declare -A patchno=()
for i in "${!commits[@]}"; do patchno[${commits[$i]}]=$((i + 1)); done
: >"$cov_out/added"
cut -d' ' -f1 "$cov_out/lines" | sort -u | while read -r f; do
	[ -f "$WT/$f" ] || continue
	git -C "$WT" blame -s -l series-base..HEAD -- "$f" |
		sed -nE 's/^([0-9a-f]{40}) +([0-9]+)\) ?(.*)$/\1 \2 \3/p' |
		while read -r sha n code; do
			[ -n "${patchno[$sha]:-}" ] || continue
			printf '%s %s %s %s\n' "${patchno[$sha]}" "$f" "$n" "$code"
		done >>"$cov_out/added"
done
# the added lines that gcov calls executable, with their counts: "PATCH FILE LINE COUNT CODE"
awk 'NR == FNR { cnt[$1 " " $2] = $3; next }
	($2 " " $3) in cnt { c = cnt[$2 " " $3]; code = $0; sub(/^[^ ]+ [^ ]+ [^ ]+ ?/, "", code)
		print $1, $2, $3, c, code }' "$cov_out/lines" "$cov_out/added" | sort -k1,1n -k2,2 -k3,3n >"$cov_out/exec"
awk '$4 == 0 { printf "%02d %s:%s: %s\n", $1, $2, $3, substr($0, index($0, $5)) }' "$cov_out/exec" >"$cov_out/not-run"
{
	printf '%-5s %-66s %9s %6s %6s\n' patch subject added ran "%"
	for i in "${!commits[@]}"; do
		p=$((i + 1))
		read -r total ran < <(awk -v p="$p" '$1 == p { t++; if ($4 > 0) r++ } END { print t + 0, r + 0 }' "$cov_out/exec")
		[ "$total" -gt 0 ] || continue
		printf '%-5s %-66s %9d %6d %5d%%\n' "$p" "$(git -C "$WT" log -1 --format=%s "${commits[$i]}" | cut -c1-66)" \
			"$total" "$ran" $((ran * 100 / total))
	done
	read -r total ran < <(awk '{ t++; if ($4 > 0) r++ } END { print t + 0, r + 0 }' "$cov_out/exec")
	printf '%-5s %-66s %9d %6d %5d%%\n' all "the series' executable kernel lines (gcov)" "$total" "$ran" $((ran * 100 / (total > 0 ? total : 1)))
	echo "series $(series_id), $FLAVOR kernel, tests $T; lines not run: out/coverage/not-run"
} | tee "$cov_out/summary"
stage_end
