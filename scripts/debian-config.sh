#!/usr/bin/env bash
# "make debian-config": the series compiled with the configuration Debian 12 builds its amd64
# kernel with (linux-config-6.1's config.amd64_none_amd64, the newest the archive offers),
# not the guest-sized one. The config is brought to the patched tree with olddefconfig, so the
# series' new options take their defaults, as in Debian's next build: the toy struct_ops types
# (BPF_TEST_STRUCT_OPS) stay off. Then every object of the kernel the series touches is
# compiled as Debian's build compiles it, in a work tree of its own at the series' last commit;
# a warning in a file the series touches fails it (the base has none there). The whole kernel
# of that config (hours on 2 cores) is not built.
. "$(dirname "$0")/lib.sh"
series_only debian-config
x86_64_only debian-config
stage_begin debian-config
load_base
deb_wt=$CACHE/debian-config-wt
deb_build=$CACHE_BUILD/$BASE_ID-debian-config
mkdir -p "$deb_build" "$CACHE_DL"

# Debian's config: from linux-config-6.1, checked against the archive's signed index
cfg_ver=$(apt-cache madison "linux-config-$KVER" | awk '{ print $3 }' | sort -V | tail -n 1)
[ -n "$cfg_ver" ] || die "the archive offers no linux-config-$KVER"
cfg_deb=$CACHE_DL/linux-config-${KVER}_${cfg_ver}_amd64.deb
if [ ! -f "$cfg_deb" ]; then
	(cd "$CACHE_DL" && run_logged "$LOGS/debian-config-download.log" apt-get download "linux-config-$KVER=$cfg_ver")
fi
dpkg-deb --fsys-tarfile "$cfg_deb" | tar -xO --wildcards '*/config.amd64_none_amd64.xz' | xz -dc >"$deb_build/debian.config"
say "Debian's config.amd64_none_amd64 of linux-config-$KVER $cfg_ver: $(grep -c '=' "$deb_build/debian.config") options set"

# the series' last commit, in a work tree of its own (make mutate may be using WT's files)
head=$(git -C "$WT" rev-parse HEAD)
scratch_worktree "$deb_wt"
git -C "$deb_wt" checkout -q --detach "$head"

# Debian's config, less what needs Debian's build environment (its signing certificates)
cp "$deb_build/debian.config" "$deb_build/.config"
"$deb_wt/scripts/config" --file "$deb_build/.config" --set-str SYSTEM_TRUSTED_KEYS "" \
	--set-str SYSTEM_REVOCATION_KEYS "" --disable MODULE_SIG_ALL --set-str MODULE_SIG_KEY "certs/signing_key.pem"
run_logged "$LOGS/debian-config-olddefconfig.log" make -C "$deb_wt" O="$deb_build" olddefconfig
for opt in BPF_SYSCALL BPF_JIT DEBUG_INFO_BTF NET_ACT_BPF; do
	grep -q "^CONFIG_$opt=[ym]" "$deb_build/.config" || die "Debian's config lost CONFIG_$opt"
done
if grep -q '^CONFIG_BPF_TEST_STRUCT_OPS=y' "$deb_build/.config"; then
	die "the toy struct_ops types are on in Debian's config"
fi
say "config: Debian's, with the series' options at their defaults (BPF_TEST_STRUCT_OPS off)"
run_logged "$LOGS/debian-config-prepare.log" make -C "$deb_wt" O="$deb_build" -j"$JOBS" "${KMAKE_FLAGS[@]}" prepare

# every kernel .c the series adds or changes (not tools/)
mapfile -t files < <(git -C "$deb_wt" diff --name-only --diff-filter=d base HEAD -- '*.c' ':!tools')
# the CONFIG_ symbol that the Makefile line of FILE.o names, if any
obj_config() {
	grep -E "[[:space:]=]$(basename "$1")([[:space:]]|$)" "$deb_wt/$(dirname "$1")/Makefile" |
		grep -oE 'CONFIG_[A-Z0-9_]+' | head -n 1 || true
}
built=() off=() failed=()
for f in "${files[@]}"; do
	o=${f%.c}.o log=$LOGS/debian-config-${f//\//_}.log
	sym=$(obj_config "$o")
	if [ -n "$sym" ] && ! grep -qE "^$sym=[ym]" "$deb_build/.config"; then
		off+=("$o ($sym is off in Debian's config; compiled on its own all the same)")
	fi
	if make -C "$deb_wt" O="$deb_build" -j"$JOBS" "${KMAKE_FLAGS[@]}" "$o" >"$log" 2>&1; then
		# gcc names the file by the absolute path kbuild gives it (srctree with O=)
		wre="(^|/)${f//./\\.}:[0-9]+:[0-9]+: warning"
		if grep -qE "$wre" "$log"; then
			grep -E "$wre" "$log" | head -n 5 >&2
			failed+=("$o (warnings)")
		else
			built+=("$o")
		fi
	else
		tail -n 15 "$log" >&2
		failed+=("$o")
	fi
done
printf '  compiled, no warning: %s\n' "${built[@]}"
[ "${#off[@]}" -eq 0 ] || printf '  not in the kernel:    %s\n' "${off[@]}"
[ "${#failed[@]}" -eq 0 ] || { printf '  FAILED: %s\n' "${failed[@]}" >&2; die "${#failed[@]} object(s) do not build cleanly with Debian's config"; }
say "${#built[@]} object(s) the series touches compile with Debian's config, no warning"
stage_end
