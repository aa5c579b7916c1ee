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
[ -z "$(git -C "$WT" status --porcelain -uno)" ] || die "the work tree $WT has uncommitted changes"
# MUT='29-*,0[4-9]-*': several globs, tried in that order (each glob's in name order)
IFS=, read -ra globs <<<"${MUT:-*}"
mutations=()
for g in "${globs[@]}"; do
	mapfile -t found < <(find "$ROOT/mutations" -maxdepth 1 -name "$g.patch" | sort)
	[ "${#found[@]}" -gt 0 ] || die "MUT: no mutations/$g.patch"
	mutations+=("${found[@]}")
done
mapfile -t mutations < <(printf '%s\n' "${mutations[@]}" | awk '!seen[$0]++')
[ "${#mutations[@]}" -gt 0 ] || die "no mutations/${MUT:-*}.patch"
mutate_out=$ROOT/out/mutate
rm -rf "$mutate_out"; mkdir -p "$mutate_out"

# Whatever happens, the tree goes back to the series, and the next build rebuilds the kernel.
# A mutation is applied only while $WT/.git/mutation names it; if this script is killed before
# it restores the tree, the next "make apply" finds the file and restores it.
rm -f "$BUILD/.harness-stamp"
restore() { { git -C "$WT" checkout -q -- . && rm -f "$WT/.git/mutation" "$WT/.git/mutate.pid"; } 2>/dev/null || true; }
kernel() { make -C "$WT" O="$BUILD" -j"$JOBS" "${KMAKE_FLAGS[@]}" "$KIMG_TARGET" modules; }
trap restore EXIT
echo $$ >"$WT/.git/mutate.pid"	# make apply leaves the tree alone while this runs

table=()
survived=0
for p in "${mutations[@]}"; do
	name=${p##*/}; name=${name%.patch}
	desc=$(sed -n '1s/^Mutation: //p' "$p")
	STAGE="mutate $name"
	say "$desc"
	echo "$name" >"$WT/.git/mutation"
	if ! git -C "$WT" apply "$p" 2>"$mutate_out/$name.apply"; then
		table+=("$name | does not apply")
		continue
	fi
	verdict=
	if ! run_logged "$mutate_out/$name.build.log" kernel; then
		verdict="BUILD FAILED (not a valid mutation)"
	else
		OUT=$mutate_out/$name "$ROOT/scripts/vm.sh" >"$mutate_out/$name.vm.log" 2>&1 || true
		OUT=$mutate_out/$name "$ROOT/scripts/report.sh" >"$mutate_out/$name.report" 2>&1 || true
		failed=$(tp_outcomes "$mutate_out/$name/vm/test_progs.log" |
			awk '$1 ~ /\// && $2 == "FAIL" { print $1 }' | paste -sd, -)
		splat=$(splats "$mutate_out/$name/vm/dmesg-tests.txt" 2>/dev/null | sed -n 1p |
			sed -E 's/^\[ *[0-9.]+\] //' | cut -c1-70)	# sed reads all: no SIGPIPE
		grep -q '^  FAIL: kmemleak' "$mutate_out/$name.report" && splat+="${splat:+, }kmemleak report"
		# the first assertion that failed: the contract row that caught it
		first=$(grep -m1 -E '^[A-Za-z_0-9]+:FAIL:' "$mutate_out/$name/vm/test_progs.log" 2>/dev/null |
			sed -E 's/^[A-Za-z_0-9]+:FAIL:(.*) unexpected .*/\1/' | cut -c1-60 || true)
		if [ -n "$failed" ]; then
			verdict="caught: $failed${first:+ (first: $first)}"
		elif grep -q 'timed out' "$mutate_out/$name.vm.log"; then
			verdict="caught: guest timed out"
		elif grep -qE '^  FAIL' "$mutate_out/$name.report"; then
			verdict="caught: $(grep -m1 -E '^  FAIL' "$mutate_out/$name.report" | sed 's/^ *FAIL: *//' | cut -c1-80)"
		else
			verdict="SURVIVED"
			survived=$((survived + 1))
		fi
		[ -z "$splat" ] || [ "$verdict" = SURVIVED ] || verdict+=" (+ $splat)"
	fi
	restore
	table+=("$name | $verdict")
	say "$name: $verdict"
done
STAGE=mutate
say "restoring the kernel of the series"
run_logged "$LOGS/kernel.log" kernel
{
	echo "---- mutation | result (T=$T) ----"
	printf '%s\n' "${table[@]}"
} | tee "$mutate_out/summary"
[ "$survived" -eq 0 ] || die "$survived mutation(s) SURVIVED: the tests miss them"
say "all ${#mutations[@]} mutations caught"
stage_end
