#!/usr/bin/env bash
# "make check": the series applies to the base; checkpatch.pl --strict of the base and of
# upstream 6.12 (0 errors, 0 warnings, every CHECK of a type justified below); the
# tools copy of the uapi bpf.h matches; kernel-doc -none on touched headers adds no warning to
# the base's; no template cover letter; shellcheck of the harness; the judge on its fixtures.
. "$(dirname "$0")/lib.sh"
series_only check
stage_begin check
load_base
fail=()
# what applies to this base (the prerequisites it lacks, then the series); checkpatch reads
# every prerequisite, needed here or not, and the series
list=$(series_patches)
mapfile -t applied <<<"$list"
mapfile -t patches < <(for d in "$PREREQ" "$ROOT/patches"; do
	[ ! -d "$d" ] || find "$d" -maxdepth 1 -name '*.patch' | sort
done)
cover=$ROOT/patches/0000-cover-letter.txt
# The CHECK types that stay, and why; any other CHECK fails the check.
declare -A justified=(
	[LINE_SPACING]="libbpf's opts structs end with a size_t :0 padding field after the last one (__last_field convention)"
	[CAMELCASE]="libelf's own type names (Elf_Data; Elf and GElf_* in prereq/0004)"
)

# checkpatch_series NAME DIR CMD...: CMD PATCH in DIR for each patch of the series; a line per
# patch with its findings; errors and warnings fail the check, and so does a CHECK of a type
# that is not justified above.
checkpatch_series() {
	local name=$1 dir=$2 e=0 w=0 c=0 p out pe pw pc t
	shift 2
	for p in "${patches[@]}"; do
		out=$(cd "$dir" && { "$@" "$p" 2>&1 || true; })
		pe=$(grep -c '^ERROR:' <<<"$out" || true)
		pw=$(grep -c '^WARNING:' <<<"$out" || true)
		pc=$(grep -c '^CHECK:' <<<"$out" || true)
		e=$((e + pe)) w=$((w + pw)) c=$((c + pc))
		printf '  %-70s %d errors, %d warnings, %d checks\n' "${p##*/}" "$pe" "$pw" "$pc"
		if [ $((pe + pw + pc)) -gt 0 ]; then
			grep -A3 -E '^(ERROR|WARNING|CHECK):' <<<"$out" | sed 's/^/      /'
		fi
		while read -r t; do
			[ -n "${justified[$t]:-}" ] ||
				fail+=("${p##*/}: $name: CHECK $t is neither fixed nor justified (scripts/check.sh)")
		done < <(grep -oE '^CHECK:[A-Z_]+' <<<"$out" | cut -d: -f2 | sort -u)
	done
	say "$name: $e errors, $w warnings, $c checks"
	[ "$e" -eq 0 ] || fail+=("$name: $e error(s)")
	[ "$w" -eq 0 ] || fail+=("$name: $w warning(s)")
}

# 1. The series applies, in a scratch work tree of its own.
check_wt=$CHECK_WT
scratch_worktree "$check_wt"
for p in "${applied[@]}"; do
	if ! am_patch "$check_wt" "$p" "$LOGS/check-apply.log"; then
		cat "$LOGS/check-apply.log" >&2
		git -C "$check_wt" am --abort >/dev/null 2>&1 || true
		die "patch does not apply: ${p#"$ROOT"/}"
	fi
done
say "series applies: ${#applied[@]} patch(es)"

# 2. checkpatch --strict.
if [ "${#patches[@]}" -gt 0 ]; then
	[ -f "$cover" ] || fail+=("no cover letter at patches/0000-cover-letter.txt")
	if [ -f "$cover" ] && grep -qE '\*\*\* (SUBJECT|BLURB) HERE \*\*\*' "$cover"; then
		fail+=("the cover letter still holds the *** SUBJECT HERE *** / *** BLURB HERE *** template")
	fi
	# Debian's python3 (spdxcheck.py needs its ply and git modules). UNKNOWN_COMMIT_ID is
	# off: the series names upstream commits (Fixes: aef56f2e918b) that a 6.1 tree does
	# not contain, so checkpatch cannot look them up.
	checkpatch_series "checkpatch --strict" "$check_wt" env PATH="/usr/bin:$PATH" \
		./scripts/checkpatch.pl --strict --show-types --ignore UNKNOWN_COMMIT_ID --no-summary-file
fi

# 3. tools/include/uapi/linux/bpf.h is a copy of include/uapi/linux/bpf.h: the series adds
# no difference between the two (6.1.y stable already carries a few of its own).
uapi_diff() {	# REV
	diff <(git -C "$check_wt" show "$1:include/uapi/linux/bpf.h") \
		<(git -C "$check_wt" show "$1:tools/include/uapi/linux/bpf.h") | grep '^[<>]' || true
}
new_diff=$(comm -13 <(uapi_diff base | sort) <(uapi_diff HEAD | sort))
if [ -z "$new_diff" ]; then
	say "uapi bpf.h and its tools copy: the series adds no difference"
else
	echo "$new_diff" | head -n 20 | sed 's/^/      /'
	fail+=("the series makes tools/include/uapi/linux/bpf.h differ from include/uapi/linux/bpf.h")
fi

# 4. kernel-doc on every header the series touches: no warning the base does not have.
base_header=$(mktemp --suffix=.h)
trap 'rm -f "$base_header"' EXIT
for h in $(git -C "$check_wt" diff --name-only base HEAD -- '*.h'); do
	[ -f "$check_wt/$h" ] || continue
	after=$(cd "$check_wt" && ./scripts/kernel-doc -none "$h" 2>&1 | sed -E 's/:[0-9]+:/:/' | sort -u)
	before=
	if git -C "$check_wt" show "base:$h" >"$base_header" 2>/dev/null; then	# a header the series adds has none
		before=$(cd "$check_wt" && ./scripts/kernel-doc -none "$base_header" 2>&1 |
			sed -E "s|$base_header|$h|; s/:[0-9]+:/:/" | sort -u)
	fi
	new=$(comm -23 <(echo "$after") <(echo "$before") | grep . || true)
	if [ -n "$new" ]; then
		# shellcheck disable=SC2001 # a prefix on every line
		sed 's/^/      /' <<<"$new"
		fail+=("kernel-doc: new warnings in $h")
	else
		say "kernel-doc $h: no new warnings"
	fi
done

# 5. checkpatch.pl --strict of upstream 6.12, --no-tree (from a directory that is not a git
# tree: no history holds the upstream commits the messages name, so UNKNOWN_COMMIT_ID is off;
# GIT_COMMIT_ID still checks their form). Its three files come from Debian's linux-source-6.12,
# downloaded once into the cache make upstream-demo uses.
cp612=$CACHE/checkpatch-6.12
if [ ! -f "$cp612/scripts/checkpatch.pl" ]; then
	dl=$CACHE/upstream-6.12/dl deb=$CACHE/upstream-6.12/dl/${UPSTREAM_DEB_PKG}_${UPSTREAM_DEB_PIN}_all.deb
	mkdir -p "$dl" "$cp612.tmp"
	if ! echo "$UPSTREAM_DEB_SHA256  $deb" | sha256sum -c --quiet >/dev/null 2>&1; then
		say "downloading $UPSTREAM_DEB_PKG $UPSTREAM_DEB_PIN for its checkpatch.pl"
		(cd "$dl" && run_logged "$LOGS/check-download.log" apt-get download "$UPSTREAM_DEB_PKG=$UPSTREAM_DEB_PIN")
		echo "$UPSTREAM_DEB_SHA256  $deb" | sha256sum -c --quiet || die "checksum mismatch for $deb"
	fi
	dpkg-deb --fsys-tarfile "$deb" | tar -xO --wildcards "*/$UPSTREAM_DEB_PKG.tar.xz" |
		tar -xJ -C "$cp612.tmp" --strip-components=1 --wildcards \
			'*/scripts/checkpatch.pl' '*/scripts/spelling.txt' '*/scripts/const_structs.checkpatch'
	rm -rf "$cp612"
	mv "$cp612.tmp" "$cp612"
fi
checkpatch_series "checkpatch --strict of 6.12" "$cp612" \
	perl scripts/checkpatch.pl --no-tree --strict --show-types --ignore UNKNOWN_COMMIT_ID

# 6. shellcheck of the harness's scripts (each disable says why, where it is).
if shellcheck -x -P "$ROOT/scripts" "$ROOT"/scripts/*.sh "$ROOT"/scripts/guest/*.sh \
	"$ROOT/.ci/run" "$ROOT"/upstream/6.12/*.sh >"$LOGS/shellcheck.log" 2>&1; then
	say "shellcheck: clean"
else
	grep -E '^In |SC[0-9]+' "$LOGS/shellcheck.log" | head -n 20 | sed 's/^/      /'
	fail+=("shellcheck: see $LOGS/shellcheck.log")
fi

# 7. The judge of make test on its captured guest runs (judge/fixtures/).
if "$ROOT/scripts/judge-test.sh"; then
	say "judge: every fixture gets its verdict"
else
	fail+=("the judge gives a fixture the wrong verdict")
fi

if [ "${#fail[@]}" -gt 0 ]; then
	printf '  FAIL: %s\n' "${fail[@]}" >&2
	die "make check found ${#fail[@]} problem(s)"
fi
say "all checks passed"
stage_end
