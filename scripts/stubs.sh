#!/usr/bin/env bash
# "make stubs": the patched tree builds with a small config that has BPF_SYSCALL but neither
# BPF_JIT nor INET, so that the !CONFIG_BPF_JIT stubs and the TCP-less paths are compiled.
. "$(dirname "$0")/lib.sh"
series_only stubs
x86_64_only stubs
stage_begin stubs
load_base
stubs_build=$CACHE_BUILD/$BASE_ID-stubs
mkdir -p "$stubs_build"
frag=$stubs_build/stubs.config
cat >"$frag" <<'CFG'
CONFIG_64BIT=y
CONFIG_NET=y
# CONFIG_INET is not set
CONFIG_BPF_SYSCALL=y
# CONFIG_BPF_JIT is not set
CONFIG_PRINTK=y
CFG
run_logged "$LOGS/stubs-config.log" merge_kconfig "$WT" "$stubs_build" tinyconfig "$frag"
grep -qx 'CONFIG_BPF_SYSCALL=y' "$stubs_build/.config" || die "the small config lost BPF_SYSCALL"
grep -q '^CONFIG_BPF_JIT=y' "$stubs_build/.config" && die "the small config has BPF_JIT"
grep -q '^CONFIG_INET=y' "$stubs_build/.config" && die "the small config has INET"
run_logged "$LOGS/stubs-build.log" make -C "$WT" O="$stubs_build" -j"$JOBS" "${KMAKE_FLAGS[@]}" vmlinux
say "the patched tree builds with BPF_SYSCALL=y, BPF_JIT=n, INET=n ($(grep -c '=y' "$stubs_build/.config") options set)"
stage_end
