#!/usr/bin/env bash
# "make bases": the series on every 6.1 base its users run: each version of Debian's
# linux-source-6.1 the archive offers (apt-get update first, as root), and vanilla 6.1.y
# (BASE=vanilla, the .orig tarball of Debian's linux at VANILLA_PINNED). For each: the base
# stage (download, checksum, a git work tree in the cache), then the prerequisites it lacks
# (prereq/) and the series applied in a scratch index (git apply --cached, as strict as git am).
# Then "make test" on the bases of BASES_TEST (default: the newest, the pinned and the oldest
# Debian version the series applies to, and vanilla, and the pinned one on arm64 too: a test
# named <base>@arm64 is make test ARCH=arm64), each into out/bases/<test>/. Writes
# out/bases/summary.md and, from it, the bases table of docs/measurements.md (between its
# "make bases" markers). Not part of .ci/run: about 30 minutes per base tested cold.
. "$(dirname "$0")/lib.sh"
series_only bases
[ -z "${KERNEL_SRC:-}" ] || die "make bases tries Debian's and vanilla bases, not KERNEL_SRC"
stage_begin bases
[ "$(id -u)" != 0 ] || run_logged "$LOGS/bases-apt-update.log" apt-get update
mapfile -t versions < <(apt-cache madison "$DEB_PKG" | awk '{ print $3 }' | sort -uV)
[ "${#versions[@]}" -gt 0 ] || die "the archive offers no $DEB_PKG"
say "the archive offers ${#versions[@]} version(s) of $DEB_PKG: ${versions[*]}"
bases=()
for v in "${versions[@]}"; do bases+=("debian-$v"); done
bases+=("vanilla-$VANILLA_PINNED")
bases_out=$OUT/bases
mkdir -p "$bases_out"
# a test result is kept in out/bases/<base>.result with the version of the series it was of
series_id=$(series_id)

# in_base NAME CMD...: CMD with BASE and DEB_PIN of the base NAME (debian-V, vanilla-V)
in_base() { local name=$1; shift; BASE=${name%%-*} DEB_PIN=${name#*-} "$@"; }

# applies NAME: the prerequisites that base lacks and the series, in a scratch index of its
# work tree; prints "yes", "yes, with <prerequisites>" or "no: <patch> fails (<where>)"
applies() {
	local p idx pre=() err rc=0 list
	if ! in_base "$1" env OUT="$bases_out/$1" "$ROOT/scripts/base.sh" >"$bases_out/$1.base.log" 2>&1; then
		echo "no base: $(grep -m1 ERROR "$bases_out/$1.base.log")"
		return
	fi
	WT=$CACHE_SRC/$(cat "$CACHE_STATE/base-$1") || { echo "no base: no state file"; return; }
	list=$(series_patches) || { echo "no: cannot list what applies (see above)"; return; }
	idx=$(mktemp)
	GIT_INDEX_FILE=$idx git -C "$WT" read-tree base
	while read -r p; do
		if ! err=$(GIT_INDEX_FILE=$idx git -C "$WT" apply --cached "$p" 2>&1); then
			rc=1
			echo "no: ${p#"$ROOT"/} fails ($(sed -n 's/^error: patch failed: //p' <<<"$err" | head -n 1))"
			break
		fi
		case $p in "$PREREQ"/*) pre+=("prereq/$(basename "$p" | cut -c1-4)") ;; esac
	done <<<"$list"
	rm -f "$idx"
	[ "$rc" = 0 ] || return 0
	if [ "${#pre[@]}" -gt 0 ]; then echo "yes, with ${pre[*]}"; else echo yes; fi
}

declare -A verdict=()
ok=()
for b in "${bases[@]}"; do
	STAGE="bases $b"
	verdict[$b]=$(applies "$b")
	say "applies: ${verdict[$b]}"
	case $b:${verdict[$b]} in debian-*:yes*) ok+=("$b") ;; esac
done
STAGE=bases

# make test on the newest, the pinned and the oldest Debian bases that apply, vanilla if it
# applies, and the pinned base on arm64; BASES_TEST=a,b names others, BASES_TEST=none tests none
tests=()
if [ "${BASES_TEST:-}" = none ]; then
	:
elif [ -n "${BASES_TEST:-}" ]; then
	read -ra tests <<<"${BASES_TEST//,/ }"
else
	if [ "${#ok[@]}" -gt 0 ]; then
		tests=("${ok[-1]}")
		case " ${ok[*]} " in *" debian-$DEB_PINNED "*) tests+=("debian-$DEB_PINNED") ;; esac
		tests+=("${ok[0]}")
	fi
	case ${verdict[vanilla-$VANILLA_PINNED]} in yes*) tests+=("vanilla-$VANILLA_PINNED") ;; esac
	case " ${ok[*]} " in *" debian-$DEB_PINNED "*) tests+=("debian-$DEB_PINNED@arm64") ;; esac
	mapfile -t tests < <(printf '%s\n' "${tests[@]}" | grep . | awk '!seen[$0]++')
fi
# every tested base keeps its build while the others are built
export KEEP_BUILDS=${KEEP_BUILDS:-$((${#tests[@]} + 2))}
declare -A result=()
for b in "${tests[@]}"; do
	STAGE="bases $b"
	log=$bases_out/$b.test.log
	# ARCH goes on make's command line, and so to kbuild: x86, kbuild's own name on x86_64
	base=${b%@*} arch=x86
	[ "$base" = "$b" ] || arch=${b#*@}
	case $arch in x86 | arm64) ;; *) die "BASES_TEST: $b: the architecture after @ is arm64" ;; esac
	shown=${arch/#x86/x86_64}
	say "make test on $base, $shown (log: $log)"
	t=$(date +%s)
	rc=0
	# the base on make's command line: it overrides what the outer make's command line set
	OUT=$bases_out/$b make -C "$ROOT" --no-print-directory test BASE="${base%%-*}" DEB_PIN="${base#*-}" \
		ARCH="$arch" KERNEL_SRC= KERNEL_TREE= >"$log" 2>&1 || rc=$?
	line=$(grep -E '^[0-9]+ passed, [0-9]+ failed, [0-9]+ skipped' "$log" | tail -n 1 || true)
	if [ "$rc" = 0 ]; then
		result[$b]="pass: ${line:-?} ($shown, $FLAVOR kernel; $(elapsed "$t"))"
	else
		result[$b]="FAIL: ${line:-no summary, see out/bases/$b.test.log} ($shown, $FLAVOR kernel)"
		tail -n 20 "$log" >&2
	fi
	echo "$series_id ${result[$b]}" >"$bases_out/$b.result"
	say "${result[$b]}"
done
STAGE=bases
# for the tests not run now, the result of the last run if it was of this version of the
# series (a result of another version is not shown)
for b in "${bases[@]}" "${bases[@]/%/@arm64}"; do
	[ -z "${result[$b]:-}" ] || continue
	r=$(cat "$bases_out/$b.result" 2>/dev/null || true)
	[ "${r%% *}" = "$series_id" ] || continue
	result[$b]=${r#* }
done

{
	echo "| base | the series applies | make test |"
	echo "|---|---|---|"
	for b in "${bases[@]}"; do
		case $b in
		"debian-$DEB_PINNED") name="Debian $DEB_PKG ${b#debian-} (pinned)" ;;
		debian-*) name="Debian $DEB_PKG ${b#debian-}" ;;
		vanilla-*) name="vanilla $(sed 's/^vanilla-//' "$CACHE_STATE/base-$b" 2>/dev/null) (.orig of Debian's linux ${b#vanilla-})" ;;
		esac
		echo "| $name | ${verdict[$b]} | ${result[$b]:--} |"
		[ -z "${result[$b@arm64]:-}" ] || echo "| $name, arm64 | ${verdict[$b]} | ${result[$b@arm64]} |"
	done
	echo
	echo "Written by \`make bases\` on $(date -u +%Y-%m-%d) ($(uname -m), $(nproc) CPUs; series $series_id)."
} >"$bases_out/summary.md"
cat "$bases_out/summary.md"

# docs/measurements.md's table: the lines between the markers, replaced by the summary
figures=$ROOT/docs/measurements.md
if grep -q '^<!-- make bases: begin -->$' "$figures" && grep -q '^<!-- make bases: end -->$' "$figures"; then
	awk -v table="$bases_out/summary.md" '
		/^<!-- make bases: end -->$/ { while ((getline l < table) > 0) print l; skip = 0 }
		!skip { print }
		/^<!-- make bases: begin -->$/ { skip = 1 }' "$figures" >"$figures.new"
	mv "$figures.new" "$figures"
	say "docs/measurements.md: the bases table is rewritten from out/bases/summary.md"
fi
failed=0
for b in "${tests[@]}"; do case ${result[$b]} in pass*) ;; *) failed=$((failed + 1)) ;; esac; done
[ "$failed" = 0 ] || die "make test failed on $failed base(s)"
[ "${#ok[@]}" -gt 0 ] || die "the series applies to none of the Debian versions offered"
stage_end
