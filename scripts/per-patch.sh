#!/usr/bin/env bash
# "make per-patch": every patch builds on its own. Applies the series (after the prerequisites
# the base lacks, prereq/) one patch at a time in a work tree of its own and, after each,
# builds vmlinux and modules with the test config (the fast flavor of the guest-sized config,
# see configs/) and, for patches that touch tools/, runs "make -C tools/lib/bpf check" and
# builds test_progs. The results: out/per-patch/summary. Not part of .ci/run.
. "$(dirname "$0")/lib.sh"
series_only per-patch
x86_64_only per-patch
FLAVOR=fast
stage_begin per-patch
load_build
perpatch_wt=$PERPATCH_WT
perpatch_build=$CACHE_BUILD/$BASE_ID-perpatch
perpatch_out=$OUT/per-patch
list=$(series_patches)	# the prerequisites this base lacks, then the series
mapfile -t patches < <(grep . <<<"$list")
[ "${#patches[@]}" -gt 0 ] || die "no patches"
scratch_worktree "$perpatch_wt"
mkdir -p "$perpatch_build/libbpf-check" "$LOGS/per-patch" "$perpatch_out"
setup_llvm_shim
results=()
failed=0 prev_ok=1
for p in "${patches[@]}"; do
	name=${p##*/}
	log=$LOGS/per-patch/${name%.patch}.log
	STAGE="per-patch ${name:0:4}"
	am_patch "$perpatch_wt" "$p" "$log" || die "patch does not apply: $name"
	t=$(date +%s)
	ok=1
	say "building ${name%.patch} (log: $log)"
	# the config is merged again only when the patch can change it (a Kconfig file or the
	# selftests' config) or the last build failed: about 40 s each time
	mapfile -t frags < <(config_fragments "$perpatch_wt")
	merge=1
	if [ -f "$perpatch_build/.config" ] && [ "$p" != "${patches[0]}" ] && [ "$prev_ok" = 1 ] &&
		git -C "$perpatch_wt" diff --quiet HEAD~1 HEAD -- ':(glob)**/Kconfig*' \
			tools/testing/selftests/bpf/config; then
		merge=0
	fi
	if ! { { [ "$merge" = 0 ] || merge_kconfig "$perpatch_wt" "$perpatch_build" "$KCONFIG_BASE" "${frags[@]}"; } &&
		make -C "$perpatch_wt" O="$perpatch_build" -j"$JOBS" "${KMAKE_FLAGS[@]}" vmlinux modules; } >>"$log" 2>&1; then
		ok=0
	fi
	what="vmlinux+modules"
	if [ "$ok" = 1 ] && ! git -C "$perpatch_wt" diff --quiet HEAD~1 HEAD -- tools/; then
		what+=", libbpf check, test_progs"
		if ! { make -C "$perpatch_wt/tools/lib/bpf" OUTPUT="$perpatch_build/libbpf-check/" -j"$JOBS" check &&
			build_test_progs "$perpatch_wt" "$perpatch_build"; } >>"$log" 2>&1; then
			ok=0
		fi
	fi
	if [ "$ok" = 1 ]; then
		results+=("PASS  $name ($what, $(elapsed "$t"))")
	else
		results+=("FAIL  $name ($what; log: $log)")
		failed=$((failed + 1))
		grep -E 'error|Error' "$log" | tail -n 10 >&2 || true
	fi
	say "${results[-1]}"
	prev_ok=$ok
done
STAGE=per-patch
{
	echo "---- patch | result (base $BASE_ID, $(date -u '+%Y-%m-%d %H:%M UTC')) ----"
	printf '%s\n' "${results[@]}"
} | tee "$perpatch_out/summary"
[ "$failed" -eq 0 ] || die "$failed patch(es) do not build on their own"
say "all ${#patches[@]} patches build on their own"
stage_end
