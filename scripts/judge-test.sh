#!/usr/bin/env bash
# The judge's own test (part of make check): scripts/judge.sh on the guest runs kept in
# judge/fixtures/<case>/vm, each with the verdict it must get in judge/fixtures/<case>/expect
# (a comment, then "exit N", then strings the judge's output must contain). Prints one line
# per case; fails if any case gets another verdict.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
. "$ROOT/scripts/judge.sh"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
bad=0 n=0
for c in "$ROOT"/judge/fixtures/*/; do
	c=${c%/}; name=${c##*/}; n=$((n + 1))
	cp -r "$c/vm" "$tmp/$name"
	rc=0
	# a fixture may bring its own judge/ patterns
	jd=$ROOT/judge
	[ ! -d "$c/judge" ] || jd=$c/judge
	(JUDGE_DIR=$jd judge_run "$tmp/$name") >"$tmp/$name.out" 2>&1 || rc=$?
	want=$(sed -n 's/^exit //p' "$c/expect")
	why=()
	[ "$rc" = "$want" ] || why+=("exit $rc, not $want")
	while IFS= read -r s; do
		grep -qF -- "$s" "$tmp/$name.out" || why+=("no '$s'")
	done < <(grep -vE '^(#|exit [0-9]+$)' "$c/expect")
	if [ "${#why[@]}" -eq 0 ]; then
		printf '  ok    %-20s exit %s  %s\n' "$name" "$rc" "$(sed -n '1s/^# //p' "$c/expect")"
	else
		bad=$((bad + 1))
		printf '  WRONG %-20s %s\n' "$name" "$(IFS=';'; echo "${why[*]}")"
		sed 's/^/        | /' "$tmp/$name.out" | tail -n 25
	fi
done
[ "$bad" -eq 0 ] || { echo "judge: $bad of $n fixtures get the wrong verdict"; exit 1; }
echo "judge: all $n fixtures get their verdict"
