#!/usr/bin/env bash
# Stage "build": the guest-sized config (allnoconfig + configs/ + the selftests' config, see
# lib.sh), verified, then bzImage + modules (gcc) and test_progs (BPF objects with clang-19),
# all under O=$BUILD.
. "$(dirname "$0")/lib.sh"
stage_begin "build/$FLAVOR"
load_build
KEEP_BUILDS=${KEEP_BUILDS:-2}

# Evict build directories (each ~5 GB; the kinds are listed in lib.sh): of the debug and fast
# kernel and test_progs builds the KEEP_BUILDS most recent stay (never the current one), each
# with its unpatched twin (a kcsan or gcov build, evidence only, is never evicted); per-patch
# and stubs builds stay while their base is in the cache. A directory of an unknown kind is
# named, not removed.
mkdir -p "$CACHE_BUILD"
# the current build counts among the KEEP_BUILDS only if it is of their kinds: a kcsan or gcov
# build evicts no debug or fast one to make room for itself
keep_from=$KEEP_BUILDS
case "$FLAVOR" in debug|fast) ;; *) keep_from=$((KEEP_BUILDS + 1)) ;; esac
# shellcheck disable=SC2012 # ls -t: newest first; the names are the harness's own, no spaces
ls -1dt "$CACHE_BUILD"/*-debug-*/ "$CACHE_BUILD"/*-fast-*/ 2>/dev/null | sed 's:/$::' |
	grep -v -- '-unpatched$' | grep -vxF "$BUILD" |
	tail -n +"$keep_from" | while read -r old; do
		say "evicting old build cache $old"
		rm -rf "$old" "$old-unpatched"
	done || true
for d in "$CACHE_BUILD"/*; do
	[ -d "$d" ] || continue
	n=${d##*/}
	case "$n" in
	*-debug-*-unpatched | *-fast-*-unpatched | *-kcsan-*-unpatched | *-gcov-*-unpatched)
		[ -d "${d%-unpatched}" ] || { say "evicting $d (its patched build is gone)"; rm -rf "$d"; } ;;
	*-debug-* | *-fast-* | *-kcsan-* | *-gcov-*) ;;
	*-perpatch | *-stubs | *-debian-config)
		b=${n%-perpatch} b=${b%-stubs} b=${b%-debian-config}
		[ -d "$CACHE_SRC/$b" ] || { say "evicting $d (its base is gone from the cache)"; rm -rf "$d"; } ;;
	*) warn "unknown directory in the build cache, left alone: $d" ;;
	esac
done

need_gb=3
[ -f "$BUILD/vmlinux" ] || need_gb=$([ "$FLAVOR" = debug ] && echo 12 || echo 6)
free_gb=$(df -Pk "$CACHE" | awk 'NR==2 {print int($4 / 1048576)}')
[ "$free_gb" -ge "$need_gb" ] ||
	die "only ${free_gb} GB free under $CACHE; this build needs about ${need_gb} GB (KEEP_BUILDS=1 evicts more)"
mkdir -p "$BUILD"
touch "$BUILD"		# most recently used, for eviction

# --- config: merged in a scratch directory, copied only when it changed (no needless rebuild)
cfg=$BUILD/.cfgwork
mkdir -p "$cfg"
mapfile -t frags < <(config_fragments "$WT")
# The merge takes a dozen seconds; skip it when its inputs are those of the last one: the
# fragments, the tree's Kconfig files, the compilers and pahole that Kconfig probes, the harness.
kconfigs() {	# the tree's Kconfig files: their blobs, or for KERNEL_TREE their mtimes
	if [ -n "${KERNEL_TREE:-}" ]; then
		find "$WT" -name 'Kconfig*' -not -path '*/.git/*' -printf '%P %T@\n' | sort
	else
		git -C "$WT" ls-files -s -- '*Kconfig*'
	fi
}
cfg_in=$( { cat "${frags[@]}"; echo "$KCONFIG_BASE"; kconfigs
	gcc --version | head -n 1; pahole --version; harness_hash
	} | sha256sum | cut -c1-16)
if [ -f "$cfg/.config" ] && [ "$(cat "$cfg/.inputs" 2>/dev/null)" = "$cfg_in" ]; then
	say "config inputs unchanged since the last merge: not merged again"
else
	rm -f "$cfg/.inputs"
	run_logged "$LOGS/config.log" merge_kconfig "$WT" "$cfg" "$KCONFIG_BASE" "${frags[@]}" ||
		die "config generation failed"
	[ -f "$cfg/.config" ] || die "config generation failed; see $LOGS/config.log"
	echo "$cfg_in" >"$cfg/.inputs"
fi

# Every option the fragments ask for (the last fragment to name an option wins, as in
# merge_config.sh) must really be set after olddefconfig; "=m" is met by "=y".
declare -A want=()
order=()
while IFS= read -r line; do
	case "$line" in
	CONFIG_*=*) opt=${line%%=*}; val=${line#*=} ;;
	"# CONFIG_"*" is not set") opt=${line#\# }; opt=${opt%% *}; val=n ;;
	*) continue ;;
	esac
	[ -n "${want[$opt]+x}" ] || order+=("$opt")
	want[$opt]=$val
done < <(cat "${frags[@]}")
declare -A have=()
while IFS='=' read -r opt val; do have[$opt]=$val; done < <(grep '^CONFIG_' "$cfg/.config")
missing=()
for opt in "${order[@]}"; do
	w=${want[$opt]} h=${have[$opt]:-n}
	if [ "$h" != "$w" ] && ! { [ "$w" = m ] && [ "$h" = y ]; }; then
		missing+=("$opt: wanted $w, got $h")
	fi
done
if [ "${#missing[@]}" -gt 0 ]; then
	printf '  %s\n' "${missing[@]}" >&2
	die "${#missing[@]} config option(s) asked for by the fragments are not set after olddefconfig"
fi
if cmp -s "$cfg/.config" "$BUILD/.config"; then
	say "config unchanged ($(grep -c '=' "$BUILD/.config") options set, all fragment options verified)"
else
	cp "$cfg/.config" "$BUILD/.config"
	say "config written: $BUILD/.config (all fragment options verified)"
fi

# Nothing to do when the tree (clean, same commit), the config and the harness are those
# of the last successful build: even a no-op kbuild walk takes a minute on 2 cores. A
# KERNEL_TREE is always handed to kbuild, which knows what changed.
stamp=
[ -n "${KERNEL_TREE:-}" ] ||
	stamp="head=$(git -C "$WT" rev-parse HEAD) config=$(sha256sum <"$BUILD/.config" | cut -c1-16) harness=$(harness_hash)"
if [ -n "$stamp" ] && [ -z "$(git -C "$WT" status --porcelain -uno)" ] && [ "$(cat "$BUILD/.harness-stamp" 2>/dev/null)" = "$stamp" ] &&
	[ -f "$BUILD/$KIMG_PATH" ] && [ -x "$SELFTESTS/test_progs" ]; then
	say "up to date (tree, config and harness unchanged since the last build): nothing to build"
	say "kernel:     $BUILD/$KIMG_PATH"
	say "test_progs: $SELFTESTS/test_progs"
	stage_end
	exit 0
fi
rm -f "$BUILD/.harness-stamp"

# --- kernel
run_logged "$LOGS/kernel.log" make -C "$WT" O="$BUILD" -j"$JOBS" "${KMAKE_FLAGS[@]}" "$KIMG_TARGET" modules

# --- test_progs (and bpf_testmod.ko, built against $BUILD/Module.symvers)
setup_llvm_shim
run_logged "$LOGS/selftests.log" build_test_progs "$WT" "$BUILD"

echo "$stamp" >"$BUILD/.harness-stamp"
ln -sfn "$BUILD" "$CACHE/build-latest$BUILD_ARCH-$FLAVOR"
say "kernel:     $BUILD/$KIMG_PATH ($(cat "$BUILD/include/config/kernel.release" 2>/dev/null))"
say "test_progs: $SELFTESTS/test_progs"
stage_end
