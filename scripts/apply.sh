#!/usr/bin/env bash
# Stage "apply": git am $PATCHES/*.patch (patches/, unless make upstream-demo) onto the
# base, only when the series changed; before them the prerequisites the base lacks (prereq/),
# after which the tag "series-base" is set: make export writes the commits after it.
# The applied series is recorded (one "sha256 commit" line per patch) so that a changed
# series is re-applied from the first patch that differs, and files whose content ends up
# unchanged get their old mtime back: a no-op re-apply must not rebuild ~300 objects.
# An apply that was stopped half way (Ctrl-C, a crash) left $inflight behind, naming the
# commit the work tree was at when it started (the one the record describes): the next run
# rolls back to it on its own, then applies as usual.
. "$(dirname "$0")/lib.sh"
stage_begin apply
load_base
if [ -n "${KERNEL_TREE:-}" ]; then
	say "KERNEL_TREE: no series applied; the tree is taken as it is"
	stage_end
	exit 0
fi
record=$WT/.git/applied-series
inflight=$WT/.git/apply-in-progress
if [ -f "$WT/.git/mutate.pid" ] && kill -0 "$(cat "$WT/.git/mutate.pid")" 2>/dev/null; then
	die "make mutate is running (pid $(cat "$WT/.git/mutate.pid")) with a mutation in $WT: wait for it"
fi
if [ -f "$WT/.git/mutation" ]; then
	warn "make mutate was stopped with mutation $(cat "$WT/.git/mutation") applied; restoring the work tree"
	git -C "$WT" checkout -q -- .
	rm -f "$WT/.git/mutation"
fi
if [ -f "$inflight" ]; then
	warn "the last apply was interrupted; rolling the work tree back to $(cut -c1-12 "$inflight") (where it started)"
	git -C "$WT" am --abort >/dev/null 2>&1 || true
	git -C "$WT" reset -q --hard "$(cat "$inflight")"
	rm -f "$inflight" "$record.new"
fi

list=$(series_patches)	# the prerequisites the base lacks (prereq/), then the series
mapfile -t patches <<<"$list"
want=()
for p in "${patches[@]}"; do want+=("$(sha256sum "$p" | cut -c1-64)"); done

have=()
[ -f "$record" ] && mapfile -t have < <(cut -d' ' -f1 "$record")
recorded_head=$(tail -n 1 "$record" 2>/dev/null | cut -d' ' -f2 || true)
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
# tag_series_base RECORD: "series-base" names the commit of the last prerequisite, as RECORD
# lists what is applied (or the base when the base needs none); with fewer than all the
# prerequisites applied, there is no tag, and make export refuses to run.
npre=0
for p in "${patches[@]}"; do case $p in "$PREREQ"/*) npre=$((npre + 1)) ;; esac; done
tag_series_base() {
	local c
	if [ "$npre" -eq 0 ]; then
		git -C "$WT" tag -f series-base base >/dev/null
	elif c=$(sed -n "${npre}p" "$1" 2>/dev/null | cut -d' ' -f2) && [ -n "$c" ]; then
		git -C "$WT" tag -f series-base "$c" >/dev/null
	else
		git -C "$WT" tag -d series-base >/dev/null 2>&1 || true
	fi
}
if [ "$keep" -eq "${#want[@]}" ] && [ "$keep" -eq "${#have[@]}" ]; then
	tag_series_base "$record"
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
git -C "$WT" rev-parse HEAD >"$inflight"
# Ctrl-C or SIGTERM: the patch being applied is finished, then the script stops and leaves
# $inflight for the next run. (git am runs in the background, where a non-interactive bash
# leaves it deaf to SIGINT, and the script waits for it: a foreground git am that catches
# the signal would make bash ignore it and go on.)
stop=
trap 'stop=1' INT TERM
stopped() {
	warn "interrupted: the work tree is left half applied; the next run rolls it back to $(cut -c1-12 "$inflight") and applies again"
	exit 130
}
git -C "$WT" am --abort >/dev/null 2>&1 || true
git -C "$WT" tag -d series-base >/dev/null 2>&1 || true	# set again once applied
git -C "$WT" reset -q --hard "$target"
head -n "$keep" "$record" 2>/dev/null >"$record.new" || true
for ((i = keep; i < ${#patches[@]}; i++)); do
	p=${patches[$i]}
	[ -z "$stop" ] || stopped
	am_patch "$WT" "$p" "$LOGS/apply.log" &
	am=$! amrc=0
	wait "$am" || amrc=$?
	if [ -n "$stop" ]; then
		wait "$am" 2>/dev/null || true
		stopped
	fi
	if [ "$amrc" -ne 0 ]; then
		git -C "$WT" am --abort >/dev/null 2>&1 || true
		mv "$record.new" "$record"	# the patches before it stay applied
		rm -f "$inflight"
		tag_series_base "$record"
		# git am also fails when it is interrupted (Ctrl-C reaches it first)
		if git -C "$WT" apply --check "$p" 2>/dev/null; then
			die "git am stopped at ${p##*/}, which applies: interrupted? The patches before it stay applied; the next run applies the rest"
		fi
		cat "$LOGS/apply.log" >&2
		die "patch does not apply: $p"
	fi
	echo "${want[$i]} $(git -C "$WT" rev-parse HEAD)" >>"$record.new"
	say "applied ${p##*/}"
done
[ -z "$stop" ] || stopped
mv "$record.new" "$record"
rm -f "$inflight"
trap - INT TERM
tag_series_base "$record"
[ "$npre" -eq 0 ] || say "prerequisites this base lacks, applied first: $npre (tag series-base: the last of them)"

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
