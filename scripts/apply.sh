#!/usr/bin/env bash
# Stage "apply": git am $PATCHES/*.patch (patches/, unless make upstream-demo) onto the
# base, only when the series changed.
# The applied series is recorded (one "sha256 commit" line per patch) so that a changed
# series is re-applied from the first patch that differs, and files whose content ends up
# unchanged get their old mtime back: a no-op re-apply must not rebuild ~300 objects.
. "$(dirname "$0")/lib.sh"
stage_begin apply
load_base
record=$WT/.git/applied-series

mapfile -t patches < <(find "$PATCHES" -maxdepth 1 -name '*.patch' | sort)
want=()
for p in "${patches[@]}"; do want+=("$(sha256sum "$p" | cut -c1-64)"); done

have=()
[ -f "$record" ] && mapfile -t have < <(cut -d' ' -f1 "$record")
recorded_head=$(cat "$record" 2>/dev/null | tail -n 1 | cut -d' ' -f2 || true)
[ -n "$recorded_head" ] || recorded_head=$(git -C "$WT" rev-parse base)
head=$(git -C "$WT" rev-parse HEAD)
if [ "$head" != "$recorded_head" ] || [ -n "$(git -C "$WT" status --porcelain -uno)" ]; then
	if [ -z "${FORCE:-}" ]; then
		die "the work tree $WT has commits or changes that are not in patches/; run 'make export' to keep them, or FORCE=1 to discard them"
	fi
	warn "FORCE=1: discarding unexported work in $WT"
	have=()
	git -C "$WT" reset -q --hard "$recorded_head" 2>/dev/null || git -C "$WT" reset -q --hard base
fi

# Length of the common prefix of the applied and the wanted series.
keep=0
while [ "$keep" -lt "${#want[@]}" ] && [ "$keep" -lt "${#have[@]}" ] &&
	[ "${want[$keep]}" = "${have[$keep]}" ]; do
	keep=$((keep + 1))
done
if [ "$keep" -eq "${#want[@]}" ] && [ "$keep" -eq "${#have[@]}" ]; then
	say "series unchanged (${#want[@]} patches applied); nothing to do"
	stage_end
	exit 0
fi

# Remember blob and mtime of every file the old series touched.
stamp=$(mktemp)
trap 'rm -f "$stamp"' EXIT
git -C "$WT" diff --name-only base HEAD | while read -r f; do
	[ -f "$WT/$f" ] && printf '%s %s %s\n' "$(git -C "$WT" rev-parse "HEAD:$f")" \
		"$(stat -c %Y "$WT/$f")" "$f"
done >"$stamp"

if [ "$keep" -gt 0 ]; then
	target=$(sed -n "${keep}p" "$record" | cut -d' ' -f2)
else
	target=$(git -C "$WT" rev-parse base)
fi
say "keeping $keep applied patch(es); applying $(( ${#want[@]} - keep )) of ${#want[@]}"
git -C "$WT" am --abort >/dev/null 2>&1 || true
git -C "$WT" reset -q --hard "$target"
head -n "$keep" "$record" 2>/dev/null >"$record.new" || true
for ((i = keep; i < ${#patches[@]}; i++)); do
	p=${patches[$i]}
	if ! git -C "$WT" am -q --keep-cr "$p" >"$LOGS/apply.log" 2>&1; then
		cat "$LOGS/apply.log" >&2
		git -C "$WT" am --abort >/dev/null 2>&1 || true
		mv "$record.new" "$record"	# the patches before it stay applied
		die "patch does not apply: $p"
	fi
	echo "${want[$i]} $(git -C "$WT" rev-parse HEAD)" >>"$record.new"
	say "applied ${p##*/}"
done
mv "$record.new" "$record"

# Files whose content is what it was before keep their old mtime.
restored=0
while read -r blob mtime f; do
	if [ -f "$WT/$f" ] && [ "$(git -C "$WT" rev-parse "HEAD:$f" 2>/dev/null)" = "$blob" ]; then
		touch -d "@$mtime" "$WT/$f"
		restored=$((restored + 1))
	fi
done <"$stamp"
say "series applied: $(git -C "$WT" rev-list --count base..HEAD) commits on base; $restored unchanged file(s) kept their mtime"
stage_end
