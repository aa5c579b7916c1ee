#!/usr/bin/env bash
# "make export": regenerate patches/*.patch from the work tree's commits since "series-base"
# (the base, or the last prerequisite make apply put on it) and refresh the shortlog and
# diffstat at the end of patches/0000-cover-letter.txt (the prose above them is written by
# hand). The series is edited as git commits in the work tree.
. "$(dirname "$0")/lib.sh"
series_only export
stage_begin export
load_base
record=$WT/.git/applied-series
# The series starts after the prerequisites that make apply put under it (tag series-base,
# which make apply sets once they are all applied): they must be in HEAD's history, and be
# what the record says was applied from prereq/.
git -C "$WT" rev-parse -q --verify series-base >/dev/null ||
	die "no tag series-base in $WT: the last make apply did not finish; run make apply"
git -C "$WT" merge-base --is-ancestor series-base HEAD ||
	die "series-base is not in the history of $WT's HEAD (were the prerequisites rewritten?)"
from=series-base
pre=$(git -C "$WT" rev-list --count "base..$from")
mapfile -t pre_sums < <(head -n "$pre" "$record" 2>/dev/null | cut -d' ' -f1)
for p in "$PREREQ"/*.patch; do
	[ -f "$p" ] || continue
	sum=$(sha256sum "$p" | cut -c1-64)
	for i in "${!pre_sums[@]}"; do [ "${pre_sums[$i]}" != "$sum" ] || unset 'pre_sums[i]'; done
done
if [ "${#pre_sums[@]}" -ne 0 ] || [ "$(head -n "$pre" "$record" 2>/dev/null | wc -l)" -ne "$pre" ]; then
	die "the $pre commit(s) under series-base are not the prerequisites of prereq/; run make apply"
fi
n=$(git -C "$WT" rev-list --count "$from..HEAD")
[ -z "$(git -C "$WT" status --porcelain -uno)" ] || die "the work tree $WT has uncommitted changes; commit them first"
cover=$ROOT/patches/0000-cover-letter.txt
# The patches carry the cover letter's subject prefix ("PATCH 6.1 v2" of "[PATCH 6.1 v2 00/22]").
prefix=$(sed -n -E 's/^Subject: \[(.*[^ ]) +0+\/[0-9]+\].*/\1/p' "$cover" 2>/dev/null | head -n 1)
rm -f "$ROOT"/patches/*.patch
if [ "$n" -gt 0 ]; then
	git -C "$WT" format-patch -q --zero-commit --no-signature --subject-prefix="${prefix:-PATCH}" \
		-o "$ROOT/patches" "$from..HEAD"
fi

# Record what is applied (the prerequisites as they were, then the series), so that the
# apply stage sees an unchanged series.
head -n "$pre" "$record" >"$record.new" 2>/dev/null || true
mv "$record.new" "$record"
mapfile -t commits < <(git -C "$WT" rev-list --reverse "$from..HEAD")
mapfile -t files < <(find "$ROOT/patches" -maxdepth 1 -name '*.patch' | sort)
for i in "${!files[@]}"; do
	echo "$(sha256sum "${files[$i]}" | cut -c1-64) ${commits[$i]}" >>"$record"
done

if [ "$n" -gt 0 ]; then
	if [ ! -f "$cover" ]; then
		git -C "$WT" format-patch -q --zero-commit --no-signature --cover-letter \
			-o "$ROOT/patches/.tmp" "$from..HEAD"
		mv "$ROOT/patches/.tmp/0000-cover-letter.patch" "$cover"
		rm -rf "$ROOT/patches/.tmp"
		warn "wrote a cover-letter template to $cover: fill in its subject and blurb"
	fi
	# Keep the hand-written part, regenerate the shortlog and the diffstat.
	awk '/^[^ ].* \([0-9]+\):$/ { exit } { print }' "$cover" >"$cover.new"
	{
		git -C "$WT" shortlog "$from..HEAD"
		git -C "$WT" diff --stat --summary "$from..HEAD"
	} >>"$cover.new"
	sed -i -E "s/^(Subject: \[PATCH ([^]]* )?0+\/)[0-9]+\]/\1$n]/" "$cover.new"
	mv "$cover.new" "$cover"
fi
say "exported $n patch(es) to patches/"
stage_end
