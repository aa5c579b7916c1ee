# shellcheck shell=bash disable=SC2034 # the settings are used by the scripts that source this
# Common settings and helpers for the harness stages. Sourced, never run.
set -Eeuo pipefail	# -E: the ERR trap below fires inside functions too

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
CACHE=${CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/bpf-struct-ops-link-6.1}
OUT=${OUT:-$ROOT/out}
LOGS=$OUT/logs
JOBS=${JOBS:-$(nproc)}
FLAVOR=${FLAVOR:-debug}		# debug (what make test and CI judge), fast, kcsan (races) or gcov (coverage)

# The base: Debian's linux-source-6.1 at DEB_PIN, the pinned version (with the checksum of
# its .deb) unless DEB_PIN names another the archive offers (make bases tries them all; the
# archive's own SHA256 is checked then), the kernel version the base must be, and the
# series applied to it. make upstream-demo sets all of them for upstream 6.12
# (scripts/upstream-demo.sh).
DEB_PKG=${DEB_PKG:-linux-source-6.1}
DEB_PINNED=6.1.192-2
DEB_PINNED_SHA256=ae95fe63d4c553f8d0e6c86cb1ab566f3894a43743eb19ab585cd97d82f26514
# BASE=vanilla: upstream's 6.1.y instead, as the .orig tarball of Debian's "linux" source
# package at DEB_PIN carries it. Pinned: the newest linux whose .orig the archive served on
# 2026-12-02 (those of 6.1.190 and 6.1.192 were listed, but gave 404).
BASE=${BASE:-debian}
VANILLA_PINNED=6.1.187-1
case $BASE in
debian) DEB_PIN=${DEB_PIN:-$DEB_PINNED} ;;
vanilla) DEB_PIN=${DEB_PIN:-$VANILLA_PINNED} ;;
*) echo "BASE must be debian or vanilla, not '$BASE'" >&2; exit 1 ;;
esac
KVER=${KVER:-6.1}
PATCHES=${PATCHES:-$ROOT/patches}
# Upstream commits the series needs that older bases lack, re-implemented for 6.1 (prereq/):
# applied before the series where the base does not have them yet (series_patches below).
PREREQ=${PREREQ:-$ROOT/prereq}
# Upstream 6.12, Debian's linux-source-6.12: the base of make upstream-demo, and the source of
# the checkpatch.pl that make check runs beside the base's.
UPSTREAM_DEB_PKG=linux-source-6.12 UPSTREAM_DEB_PIN=6.12.117-1~deb12u1
UPSTREAM_DEB_SHA256=e849faf31ca3555757f3a8877cb01af92122f744f75d1f3102734651c4e14703
# build_user_tool NAME SRC OUT [LIBS...]: a user-space program built against the selftests'
# libbpf and skeletons of the loaded build (make bench, make differential); log in LOGS/NAME-build.log
build_user_tool() {
	local name=$1 src=$2 out=$3
	shift 3
	run_logged "$LOGS/$name-build.log" gcc -O2 -Wall -Werror -I"$SELFTESTS" -I"$SELFTESTS/tools/include" \
		-I"$WT/tools/include/uapi" -I"$WT/tools/include" -o "$out" "$src" \
		"$SELFTESTS/tools/build/libbpf/libbpf.a" -lelf -lz "$@"
}
# tcp_tools_build DIR: differential/tcp_trace.c (against the loaded build, as above) and the
# model that checks its traces, differential/tcp_model.c (plain C), into DIR
tcp_tools_build() {
	build_user_tool differential "$ROOT/differential/tcp_trace.c" "$1/tcp_trace"
	run_logged "$LOGS/tcp_model-build.log" gcc -O2 -Wall -Werror -o "$1/tcp_model" \
		"$ROOT/differential/tcp_model.c"
}
# tcp_trace_run DIR NAME [ARGS]: boot the loaded build with "DIR/tcp_trace ARGS" (default:
# SEED SEEDS OPS) as the command and judge the kernel side as make test does. The trace is
# DIR/NAME/vm/cmd.log, the guest's progress DIR/NAME.vm.log; TRACE_FAIL says why the run does
# not count (empty: it does).
tcp_trace_run() {
	local dir=$1 name=$2 args=${3:-$SEED $SEEDS $OPS} rc=0 fail=()
	TRACE_FAIL=
	OUT=$dir/$name CMD="$dir/tcp_trace $args" "$ROOT/scripts/vm.sh" >"$dir/$name.vm.log" 2>&1 || rc=$?
	tail -n 3 "$dir/$name.vm.log"
	if [ "$rc" -ne 0 ]; then
		TRACE_FAIL="the trace did not run to its end (exit $rc): $dir/$name.vm.log"
		return
	fi
	judge_kernel "$dir/$name/vm" >"$dir/$name.judge"
	if [ "${#fail[@]}" -gt 0 ]; then
		cat "$dir/$name.judge"
		TRACE_FAIL=$(IFS=';'; echo "${fail[*]}")
	fi
}
# tcp_model_check DIR NAME: the model of DIR/tcp_model over the trace of tcp_trace_run DIR
# NAME, its report in DIR/NAME.model; MODEL_SAYS is its verdict less the trace's path, and
# the status is the model's (0: every line as it predicts).
tcp_model_check() {
	local rc=0
	"$1/tcp_model" "$1/$2/vm/cmd.log" >"$1/$2.model" || rc=$?
	MODEL_SAYS=$(sed -n "$([ "$rc" -eq 0 ] && echo '$' || echo 1)s/^tcp_model: [^:]*: //p" "$1/$2.model")
	return "$rc"
}
# upstream_env: the settings that make the stages work on upstream 6.12, in a cache of its
# own (make upstream-demo and make differential build there)
upstream_env() {
	export DEB_PKG=$UPSTREAM_DEB_PKG DEB_PIN=$UPSTREAM_DEB_PIN KVER=6.12
	export DEB_PIN_SHA256=$UPSTREAM_DEB_SHA256
	export CACHE=$CACHE/upstream-6.12
	export EXTRA_CONFIG=$ROOT/upstream/6.12/config
}

# upstream_patches VARIANT DIR: DIR (emptied first) gets the patches of a 6.12 variant:
# upstream/6.12/demo/ (what Debian's source needs for test_progs to build at all), then
#   stock    the selftests only
#   widened  the fixes but the one WIDEN_WITHOUT names (a glob), upstream/6.12/widen/ (a
#            delay inside that fix's race window), the selftests
#   fixed    the fixes and the selftests
# The fixes are upstream/6.12/0NNN-*.patch, the selftests 0NNN-selftests-*.patch.
WIDEN_WITHOUT='*-net-tcp-Take-a-new-namespace-*'
upstream_patches() {
	local variant=$1 dir=$2 f fixes tests
	mapfile -t fixes < <(find "$ROOT/upstream/6.12" -maxdepth 1 -name '0*.patch' ! -name '*-selftests-*' | sort)
	mapfile -t tests < <(find "$ROOT/upstream/6.12" -maxdepth 1 -name '0*-selftests-*.patch' | sort)
	if [ "${#fixes[@]}" -eq 0 ] || [ "${#tests[@]}" -eq 0 ]; then
		die "upstream/6.12 must hold the fixes and their selftests (0NNN-selftests-*.patch)"
	fi
	rm -rf "$dir"
	mkdir -p "$dir"
	cp "$ROOT"/upstream/6.12/demo/*.patch "$dir/"
	case $variant in
	stock) ;;
	fixed) cp "${fixes[@]}" "$dir/" ;;
	widened)
		for f in "${fixes[@]}"; do
			# shellcheck disable=SC2254 # WIDEN_WITHOUT is a glob
			case ${f##*/} in $WIDEN_WITHOUT) ;; *) cp "$f" "$dir/" ;; esac
		done
		for f in "$ROOT"/upstream/6.12/widen/*.patch; do cp "$f" "$dir/0099-${f##*/}"; done ;;
	*) die "upstream_patches: no variant '$variant'" ;;
	esac
	cp "${tests[@]}" "$dir/"
}

# upstream_build: apply.sh and build.sh of PATCHES in the 6.12 cache (upstream_env set)
upstream_build() {
	"$ROOT/scripts/apply.sh"
	# test_progs' list of tests is generated into the source tree and not regenerated when
	# a test file goes away (the demo patch removes one)
	rm -f "$CACHE"/src/*/tools/testing/selftests/bpf/prog_tests/tests.h
	# 6.12's selftests write test objects' dependency files with skeleton headers named
	# relative to the output directory, which make then cannot find a rule for once
	# vmlinux is relinked; the explicit prerequisites (the test's .c) are enough here
	rm -f "$CACHE"/build/*/kselftest/bpf/*.test.d
	"$ROOT/scripts/build.sh"
}

# The tests: the series' own (test_progs names), and what make test runs by default (the
# upstream tests of the code the series touches, then the series' own).
SERIES_TESTS=struct_ops_link,tcp_ca_update
DEFAULT_TESTS=bpf_tcp_ca,dummy_st_ops,libbpf_str,$SERIES_TESTS
# FLAVOR=kcsan: the subtests where threads race, and the model
RACE_TESTS=struct_ops_link/detach_races,struct_ops_link/release_under_lock,struct_ops_link/stress
RACE_TESTS+=,struct_ops_link/model,struct_ops_link/model_threads,tcp_ca_update/update_under_load
RACE_TESTS+=,tcp_ca_update/default_netns_churn,tcp_ca_update/default_allowed_race
[ "$FLAVOR" != kcsan ] || DEFAULT_TESTS=$RACE_TESTS

mkdir -p "$CACHE" "$LOGS"

# Everything the harness keeps in $CACHE, in one place:
#   src/<base>            the base as a git work tree (WT), series applied (base.sh, apply.sh)
#   dl/                   downloaded Debian packages
#   apt-src/              the deb-src list and index of BASE=vanilla
#   state/                base-<selector> (which base), kvm-probe (per host boot)
#   llvm-shim/            plain names for the LLVM 19 tools
#   build/<base>[-<arch>]-<flavor>-<config hash>   kernel + test_progs (build.sh); most recent kept
#   build/<that>-unpatched                its unpatched twin (make test-base)
#   build/<base>-perpatch, -stubs, -debian-config   make per-patch, make stubs, make debian-config
#   base-wt/, perpatch-wt/, check-wt/, debian-config-wt/   extra work trees of WT
#   rootfs-arm64/         the arm64 guest's root (rootfs.sh, ARCH=arm64)
#   upstream-6.12/        a cache of the same layout for make upstream-demo
#   build-latest[-<arch>]-<flavor>   a link to the last build of that flavor
CACHE_SRC=$CACHE/src CACHE_DL=$CACHE/dl CACHE_STATE=$CACHE/state CACHE_BUILD=$CACHE/build
BASE_WT=$CACHE/base-wt PERPATCH_WT=$CACHE/perpatch-wt CHECK_WT=$CACHE/check-wt

# The LLVM tools the BPF selftests call by their plain names.
LLVM_SHIM=$CACHE/llvm-shim
setup_llvm_shim() {
	mkdir -p "$LLVM_SHIM"
	local t
	for t in clang llc llvm-strip llvm-objcopy llvm-readelf llvm-objdump llvm-ar ld.lld; do
		ln -sfn "$(command -v "$t-19" || echo "/usr/bin/$t-19")" "$LLVM_SHIM/$t"
	done
	export PATH="$LLVM_SHIM:$PATH"
}

# The judge: splat patterns, test_progs result parsing, the kmemleak rule (judge/).
. "$ROOT/scripts/judge.sh"

STAGE=${STAGE:-harness}
T0=$(date +%s)

elapsed() { local s=$(( $(date +%s) - ${1:-$T0} )); printf '%dm%02ds' $((s / 60)) $((s % 60)); }
say() { printf '[%s %s] %s\n' "$STAGE" "$(elapsed)" "$*"; }
warn() { printf '[%s %s] WARNING: %s\n' "$STAGE" "$(elapsed)" "$*" >&2; }
die() { printf '[%s %s] ERROR: %s\n' "$STAGE" "$(elapsed)" "$*" >&2; exit 1; }
# What failed and where, when a command stops a stage (set -e), in a function too (set -E);
# not for a command in $(...) or <(...), whose failure its caller handles.
trap '[ "$BASH_SUBSHELL" -ne 0 ] || printf "[%s] ERROR: %s:%s: \"%s\" failed\n" "$STAGE" "${BASH_SOURCE[0]##*/}" "$LINENO" "$BASH_COMMAND" >&2' ERR
stage_begin() { STAGE=$1; T0=$(date +%s); say "start"; }
stage_end() { say "done in $(elapsed)"; }

# run_logged LOG CMD...: run CMD with its output in LOG, print a heartbeat every
# minute (elapsed time and the log's last line) and, on failure, the tail of LOG.
run_logged() {
	local log=$1; shift
	local t hb rc=0
	t=$(date +%s)
	say "running: $* (log: $log)"
	(
		while sleep 60; do
			printf '[%s %s] ... %s elapsed; last: %.110s\n' "$STAGE" "$(elapsed)" \
				"$(elapsed "$t")" "$(tail -n 1 "$log" 2>/dev/null)"
		done
	) &
	hb=$!
	"$@" >"$log" 2>&1 || rc=$?
	kill "$hb" 2>/dev/null; wait "$hb" 2>/dev/null || true
	if [ "$rc" -ne 0 ]; then
		printf '[%s %s] FAILED (exit %d) after %s; tail of %s:\n' "$STAGE" "$(elapsed)" "$rc" "$(elapsed "$t")" "$log" >&2
		grep -nE 'error|Error|ERROR|\*\*\*' "$log" | tail -n 15 >&2 || true
		echo '---- last 30 lines ----' >&2
		tail -n 30 "$log" >&2
		return "$rc"
	fi
	say "ok in $(elapsed "$t")"
}

# The base selected by KERNEL_TREE or KERNEL_SRC (a user's 6.1.y tree) or, by default,
# Debian's package at DEB_PIN (BASE=debian) or the vanilla tarball of its source (BASE=vanilla).
base_selector() {
	if [ -n "${KERNEL_TREE:-}" ]; then
		printf 'tree-%s' "$(realpath -m "$KERNEL_TREE" | sha256sum | cut -c1-12)"
	elif [ -n "${KERNEL_SRC:-}" ]; then
		printf 'src-%s' "$(realpath -m "$KERNEL_SRC" | sha256sum | cut -c1-12)"
	else
		printf '%s-%s' "$BASE" "$DEB_PIN"
	fi
}
BASE_STATE=$CACHE_STATE/base-$(base_selector)

# Sets BASE_ID and WT (the git work tree in the cache); the base stage must have run.
# KERNEL_TREE: a developer's 6.1.y tree, built as it is (uncommitted changes included), with
# no series applied and every output outside it (O=); WT is that tree itself.
load_base() {
	if [ -n "${KERNEL_TREE:-}" ]; then
		BASE_ID=$(base_selector)
		WT=$(realpath "$KERNEL_TREE")
		return
	fi
	[ -f "$BASE_STATE" ] || die "no base prepared for this selection; run 'make base' first"
	BASE_ID=$(cat "$BASE_STATE")
	WT=$CACHE_SRC/$BASE_ID
	[ -d "$WT/.git" ] || die "work tree $WT is missing; run 'make base'"
}

# The kernel config: allnoconfig, then the fragments, in merge order (the last fragment to
# name an option wins), for the current FLAVOR: the kernel core as defconfig shapes it, the
# QEMU guest's devices, the defaults the guest never uses turned off, the selftests' own
# config from the kernel tree $1 and what it needs to survive olddefconfig, then the debug
# options. See configs/.
KCONFIG_BASE=allnoconfig
# The architecture of the kernel, test_progs and the guest (ARCH, as kbuild reads it):
# x86_64, native, or arm64, cross-built with Debian's gcc-aarch64-linux-gnu and booted on
# qemu-system-aarch64's virt machine with an arm64 Debian root of its own (rootfs.sh).
# What QEMU boots: on x86_64 bzImage (the debug vmlinux itself, through the PVH entry point,
# triple-faults at its first instruction under QEMU 7.2 TCG; not yet understood).
# KARCH is the harness's name for it; kbuild and the tools get ARCH and CROSS_COMPILE only
# when cross-building, and build x86_64 as they always did.
case ${ARCH:-x86_64} in
x86_64 | x86)
	unset ARCH CROSS_COMPILE
	KARCH=x86_64 SRCARCH=x86 KIMG_TARGET=bzImage KIMG_PATH=arch/x86/boot/bzImage
	QEMU=qemu-system-x86_64 CONSOLE=ttyS0 ;;
arm64)
	export ARCH=arm64 CROSS_COMPILE=aarch64-linux-gnu-
	KARCH=arm64 SRCARCH=arm64 KIMG_TARGET=Image KIMG_PATH=arch/arm64/boot/Image
	QEMU=qemu-system-aarch64 CONSOLE=ttyAMA0 ;;
*) echo "ARCH must be x86_64 or arm64, not '$ARCH'" >&2; exit 1 ;;
esac
ROOTFS=$CACHE/rootfs-$KARCH		# the guest's root on arm64 (x86_64 boots the host's)
# Added to every kernel make of the harness. gcc's variable tracking only makes the DWARF say
# where local variables live, which neither BTF (types and prototypes) nor ORC stack traces
# use; gcc generates the same code without it, and the debug kernel compiles ~8% faster.
# NM=gcc-nm: kbuild runs nm twice on every object (check-local-export, and the modversions
# check for exported symbols). GNU nm tries each plugin in /usr/lib/bfd-plugins on each file,
# and clang's LLVMgold plugins there (llvm-*-linker-tools) make that ~130 ms an object;
# gcc-nm names gcc's own LTO plugin and takes ~15 ms, with the same output (compared on
# every object and on vmlinux). About 3 minutes of a cold debug build on 2 cores.
KMAKE_FLAGS=(KCFLAGS=-fno-var-tracking-assignments NM="${CROSS_COMPILE:-}gcc-nm")
config_fragments() {
	echo "$ROOT/configs/core.config"
	echo "$ROOT/configs/guest.config"
	echo "$ROOT/configs/trim.config"
	echo "$1/tools/testing/selftests/bpf/config"
	echo "$ROOT/configs/selftests-extra.config"
	case $FLAVOR in
	debug) printf '%s\n' "$ROOT/configs/debug.config" "$ROOT/configs/kasan.config" "$ROOT/configs/fault.config" ;;
	kcsan) printf '%s\n' "$ROOT/configs/debug.config" "$ROOT/configs/kcsan.config" "$ROOT/configs/fault.config" ;;
	gcov) printf '%s\n' "$ROOT/configs/debug.config" "$ROOT/configs/fault.config" "$ROOT/configs/gcov/gcov.config" ;;
	esac
	# a cross-built guest's own: last, it names what its architecture has not
	[ "$KARCH" = x86_64 ] || echo "$ROOT/configs/$KARCH/guest.config"
	if [ -n "${EXTRA_CONFIG:-}" ]; then echo "$EXTRA_CONFIG"; fi	# make upstream-demo
}

# merge_kconfig TREE OUTDIR TARGET FRAGMENT...: the config TARGET (allnoconfig,
# tinyconfig) of TREE in OUTDIR, with the fragments merged in and olddefconfig run.
merge_kconfig() {
	local tree=$1 out=$2 target=$3
	shift 3
	make -C "$tree" O="$out" "$target" &&
		(cd "$tree" && scripts/kconfig/merge_config.sh -m -O "$out" "$out/.config" "$@") &&
		make -C "$tree" O="$out" olddefconfig
}

# vmlinux_h_types FILE: a hash of the type definitions in a vmlinux.h as a set. bpftool
# writes them in BTF order, which pahole -j makes differ from one link to the next, with
# ___N suffixes on duplicate names and forward declarations where that order needs them.
vmlinux_h_types() {
	sed -E '/^(struct|union) [A-Za-z_0-9]+;$/d; s/___[0-9]+\b//g' "$1" |
		awk 'BEGIN { RS = ""; ORS = "\0" } { print }' | sort -z | sha256sum
}

# build_test_progs TREE KBUILD: test_progs (and bpf_testmod.ko) of the kernel tree TREE,
# against the kernel built in KBUILD, into KBUILD/kselftest/bpf.
build_test_progs() {
	local tree=$1 build_dir=$2
	local vh=$build_dir/kselftest/bpf/tools/include/vmlinux.h bpftool=$build_dir/kselftest/bpf/tools/sbin/bpftool
	# Cross-built, the selftests build the bpftool that generates the skeletons in host-tools/,
	# and clang builds the urandom_read programs for the target: 6.1's Makefile gives clang
	# the target only when CC is clang itself.
	local cross=()
	if [ -n "${CROSS_COMPILE:-}" ]; then
		bpftool=$build_dir/kselftest/bpf/host-tools/sbin/bpftool
		cross=(CLANG="clang --target=${CROSS_COMPILE%-}")
	fi
	mkdir -p "$build_dir/kselftest/bpf"
	# Every BPF object depends on vmlinux.h, and every skeleton on bpftool; the selftests
	# regenerate the one, and rebuild the other (its own skeletons use vmlinux), whenever
	# vmlinux is newer. After a kernel rebuild that changed no type the header would come
	# out the same: tell make both are up to date (-o), unless bpftool's or libbpf's
	# sources changed, instead of rebuilding every BPF object and every test.
	local old=()
	if [ -f "$vh" ] && [ -x "$bpftool" ] && [ "$build_dir/vmlinux" -nt "$vh" ]; then
		if "$bpftool" btf dump file "$build_dir/vmlinux" format c >"$vh.new" &&
			[ "$(vmlinux_h_types "$vh")" = "$(vmlinux_h_types "$vh.new")" ] &&
			[ -z "$(find "$tree/tools/bpf/bpftool" "$tree/tools/lib/bpf" -type f -newer "$bpftool" -print -quit)" ]; then
			old=(-o "$vh" -o "$bpftool")
			echo "vmlinux.h: no type changed in vmlinux, the BPF objects and skeletons stay"
		fi
		rm -f "$vh.new"
	fi
	# 6.1's selftests build a few things in the source directory whatever OUTPUT says:
	# bpf_testmod.ko with its kbuild files, prog_tests/tests.h, and the urandom_read link
	# below. A KERNEL_TREE gets back the files it had, no more (its own in-tree
	# selftests build, if it has one, is rebuilt in place).
	local st=$tree/tools/testing/selftests/bpf before=
	[ -z "${KERNEL_TREE:-}" ] || before=$(find "$st" \( -type f -o -type l \) | sort)
	# 6.1's selftests Makefile links urandom_read against "liburandom_read.so" relative
	# to the source directory, not to OUTPUT: point that name at this build's library.
	ln -sfn "$build_dir/kselftest/bpf/liburandom_read.so" "$st/liburandom_read.so"
	# (called after || or in an if, where set -e is off: the status is passed on by hand)
	local rc=0
	make -C "$st" -j"$JOBS" O="$build_dir" KDIR="$build_dir" \
		OUTPUT="$build_dir/kselftest/bpf" VMLINUX_BTF="$build_dir/vmlinux" "${cross[@]}" "${old[@]}" \
		test_progs || rc=$?
	# Cross-built, 6.1's selftests build bpftool for the host only (host-tools/, for the
	# skeletons); the tests that run bpftool in the guest (./tools/sbin/bpftool) get one
	# built for the guest's architecture.
	if [ "$rc" = 0 ] && [ -n "${CROSS_COMPILE:-}" ]; then
		mkdir -p "$build_dir/kselftest/bpf/tools/build/bpftool-$KARCH"
		make -C "$tree/tools/bpf/bpftool" -j"$JOBS" \
			OUTPUT="$build_dir/kselftest/bpf/tools/build/bpftool-$KARCH/" \
			DESTDIR="$build_dir/kselftest/bpf/tools" prefix= install-bin || rc=$?
	fi
	if [ -n "${KERNEL_TREE:-}" ]; then
		comm -13 <(printf '%s\n' "$before") <(find "$st" \( -type f -o -type l \) | sort) |
			xargs -r -d '\n' rm -f --
	fi
	return "$rc"
}

# What shapes a build besides the tree and the config: the scripts that run it and the tools
# (gcc and binutils for the kernel, clang/LLVM 19 for the BPF objects, pahole for BTF).
# Part of the build stamp and of the config-merge inputs.
harness_hash() {
	{ cat "$ROOT/scripts/build.sh" "$ROOT/scripts/lib.sh"
		gcc --version | head -n 1; ld --version | head -n 1; pahole --version
		clang-19 --version 2>/dev/null | head -n 1 || true
	} | sha256sum | cut -c1-16
}

# Mutations: mutations/*.patch, each a small deliberate break of the series' kernel code (its
# first line, "Mutation: ...", says which), for make mutate and make differential MUT=.
# mutation_files: MUTATIONS, the patches MUT names ('29-*,0[4-9]-*': globs, in that order, each
# glob's in name order; all without MUT). mutation_begin: from here the work tree is the
# stage's (make apply waits), it goes back to the series when the stage exits, and the next
# build rebuilds the kernel. mutation_apply PATCH: applies one to $WT, uncommitted, named in
# $WT/.git/mutation (a stage killed with it applied: make apply restores the tree).
# mutation_restore: the series again. mutation_kernel: the kernel of the tree as it is.
mutation_files() {
	local globs g found
	MUTATIONS=()
	IFS=, read -ra globs <<<"${MUT:-*}"
	for g in "${globs[@]}"; do
		mapfile -t found < <(find "$ROOT/mutations" -maxdepth 1 -name "$g.patch" | sort)
		[ "${#found[@]}" -gt 0 ] || die "MUT: no mutations/$g.patch"
		MUTATIONS+=("${found[@]}")
	done
	mapfile -t MUTATIONS < <(printf '%s\n' "${MUTATIONS[@]}" | awk '!seen[$0]++')
}
mutation_restore() {
	{ git -C "$WT" checkout -q -- . && rm -f "$WT/.git/mutation"; } 2>/dev/null || true
}
mutation_begin() {
	[ -z "$(git -C "$WT" status --porcelain -uno)" ] || die "the work tree $WT has uncommitted changes"
	rm -f "$BUILD/.harness-stamp"
	trap 'mutation_restore; rm -f "$WT/.git/mutate.pid"' EXIT
	echo $$ >"$WT/.git/mutate.pid"
}
mutation_apply() {
	basename "$1" .patch >"$WT/.git/mutation"
	git -C "$WT" apply "$1"
}
mutation_kernel() { make -C "$WT" O="$BUILD" -j"$JOBS" "${KMAKE_FLAGS[@]}" "$KIMG_TARGET" modules; }

# mutations_run OUT CHECK HEADER MISSED: for each of MUTATIONS, apply it, rebuild the kernel,
# print the verdict "CHECK NAME" prints on stdout ("caught: ..." or SURVIVED; its other output
# goes to stderr or to OUT), restore the tree. Then the series' kernel again, and the table
# "NAME | verdict" under HEADER in OUT/summary; fails, saying MISSED, if any survived.
mutations_run() {
	local out=$1 check=$2 header=$3 missed=$4 stage=$STAGE p name verdict table=() survived=0
	for p in "${MUTATIONS[@]}"; do
		name=${p##*/}; name=${name%.patch}
		STAGE="$stage $name"
		say "$(sed -n '1s/^Mutation: //p' "$p")"
		if ! mutation_apply "$p" 2>"$out/$name.apply"; then
			verdict="does not apply"
		elif ! run_logged "$out/$name.build.log" mutation_kernel; then
			verdict="BUILD FAILED (not a valid mutation)"
		else
			verdict=$("$check" "$name")
			[ "$verdict" != SURVIVED ] || survived=$((survived + 1))
		fi
		mutation_restore
		table+=("$name | $verdict")
		say "$name: $verdict"
	done
	STAGE=$stage
	say "restoring the kernel of the series"
	run_logged "$LOGS/kernel.log" mutation_kernel
	{ echo "$header"; printf '%s\n' "${table[@]}"; } | tee "$out/summary"
	[ "$survived" -eq 0 ] || die "$survived mutation(s) SURVIVED: $missed"
	say "all ${#MUTATIONS[@]} mutations caught"
}

# tests_verdict DIR NAME: T's run on the kernel built now (vm.sh, then report.sh, into
# DIR/NAME), judged as make test: prints "caught: " and the subtests that failed (the first
# assertion, any splat), the guest's timeout or the report's first FAIL; or SURVIVED.
tests_verdict() {
	local dir=$1 name=$2 failed splat first verdict
	OUT=$dir/$name "$ROOT/scripts/vm.sh" >"$dir/$name.vm.log" 2>&1 || true
	OUT=$dir/$name "$ROOT/scripts/report.sh" >"$dir/$name.report" 2>&1 || true
	failed=$(tp_outcomes "$dir/$name/vm/test_progs.log" |
		awk '$1 ~ /\// && $2 == "FAIL" { print $1 }' | paste -sd, -)
	splat=$(splats "$dir/$name/vm/dmesg-tests.txt" 2>/dev/null | sed -n 1p |
		sed -E 's/^\[ *[0-9.]+\] //' | cut -c1-70)	# sed reads all: no SIGPIPE
	grep -q '^  FAIL: kmemleak' "$dir/$name.report" && splat+="${splat:+, }kmemleak report"
	# the first assertion that failed: the contract row that caught it
	first=$(grep -m1 -E '^[A-Za-z_0-9]+:FAIL:' "$dir/$name/vm/test_progs.log" 2>/dev/null |
		sed -E 's/^[A-Za-z_0-9]+:FAIL:(.*) unexpected .*/\1/' | cut -c1-60 || true)
	if [ -n "$failed" ]; then
		verdict="caught: $failed${first:+ (first: $first)}"
	elif grep -q 'timed out' "$dir/$name.vm.log"; then
		verdict="caught: guest timed out"
	elif grep -qE '^  FAIL' "$dir/$name.report"; then
		verdict="caught: $(grep -m1 -E '^  FAIL' "$dir/$name.report" | sed 's/^ *FAIL: *//' | cut -c1-80)"
	else
		echo SURVIVED
		return
	fi
	[ -z "$splat" ] || verdict+=" (+ $splat)"
	echo "$verdict"
}
# caught_by WHAT...: the verdict of the checkers that caught a break, "caught by A; by B", or
# SURVIVED when none did
caught_by() {
	[ "$#" -gt 0 ] || { echo SURVIVED; return; }
	printf 'caught by %s' "$1"
	shift
	[ "$#" -eq 0 ] || printf '; by %s' "$@"
	echo
}

# series_only NAME: stages that work on the series refuse KERNEL_TREE.
series_only() {
	[ -z "${KERNEL_TREE:-}" ] || die "make $1 works on the series in the cache, not on KERNEL_TREE"
}

# x86_64_only NAME: stages with build directories and configs of x86_64 alone (per-patch,
# stubs, debian-config: Debian's amd64 config; deb: amd64 packages) refuse ARCH=arm64.
x86_64_only() {
	[ "$KARCH" = x86_64 ] || die "make $1 is for x86_64 only, not ARCH=$KARCH"
}

# scratch_worktree DIR: a work tree of WT's repository at DIR (created when missing), clean
# and detached at "base". make check, make per-patch, make test-base and make debian-config
# have one each.
# One path serves every base: a work tree of another base's repository is made again.
# series_id: the version of the series' code, as docs/measurements.md names it: a hash of
# the diffs of patches/ and of the kernel prerequisites (prereq/ that touch more than
# tools/testing/selftests/: those only let an older base build its own selftests), without
# the commit messages.
series_id() {
	local p
	for p in "$PREREQ"/*.patch "$ROOT"/patches/*.patch; do
		[ -f "$p" ] || continue
		case $p in "$PREREQ"/*)
			grep '^diff --git ' "$p" | grep -qv ' a/tools/testing/selftests/' || continue ;;
		esac
		sed -n '/^diff --git /,$p' "$p"
	done | sha256sum | cut -c1-12
}

scratch_worktree() {
	local common
	common=$(git -C "$1" rev-parse --path-format=absolute --git-common-dir 2>/dev/null || true)
	if [ ! -e "$1/.git" ] || [ "$common" != "$(git -C "$WT" rev-parse --path-format=absolute --git-common-dir)" ]; then
		[ -z "$common" ] || git -C "$1" worktree remove --force "$1" 2>/dev/null || true
		rm -rf "$1"
		git -C "$WT" worktree prune
		git -C "$WT" worktree add -q --detach "$1" base
	fi
	git -C "$1" am --abort >/dev/null 2>&1 || true
	git -C "$1" checkout -q -f --detach base
}

# am_patch TREE PATCH LOG: git am of one patch of the series, as every stage applies them
am_patch() { git -C "$1" am -q --keep-cr "$2" >"$3" 2>&1; }

# prereq_needed PATCH: does the base of WT lack the prerequisite PATCH (it applies there)? A
# base where it does not apply is taken to carry it, as 6.1.y's own backport, which differs in
# its comments; a base that has neither makes the series fail to apply.
prereq_needed() {
	local idx rc=0
	idx=$(mktemp)
	GIT_INDEX_FILE=$idx git -C "$WT" read-tree base || { rm -f "$idx"; die "cannot read the base of $WT"; }
	GIT_INDEX_FILE=$idx git -C "$WT" apply --cached --check "$1" 2>/dev/null || rc=$?
	rm -f "$idx"
	return "$rc"
}

# series_patches: what is applied to the base of WT, in order: the prerequisites it lacks,
# then the series ($PATCHES). Called as list=$(series_patches): a failure stops the caller.
series_patches() {
	local p
	if [ "$PATCHES" = "$ROOT/patches" ] && [ -d "$PREREQ" ]; then
		for p in "$PREREQ"/*.patch; do
			[ ! -f "$p" ] || ! prereq_needed "$p" || echo "$p"
		done
	fi
	find "$PATCHES" -maxdepth 1 -name '*.patch' | sort
}

# build_unpatched LOG [TARGET...]: the base kernel ($KIMG_TARGET and TARGETs) with the config
# of $BUILD, in UNPATCHED=$BUILD-unpatched, from the work tree $BASE_WT at "base" (make
# test-base, make regress). Not rebuilt while the base, the config and the targets stay.
build_unpatched() {
	local log=$1 base stamp
	shift
	UNPATCHED=$BUILD-unpatched
	base=$(git -C "$WT" rev-parse base)
	stamp="base=$base config=$(sha256sum <"$BUILD/.config" | cut -c1-16) targets=$KIMG_TARGET $*"
	if [ "$(cat "$UNPATCHED/.stamp" 2>/dev/null)" = "$stamp" ] && [ -f "$UNPATCHED/$KIMG_PATH" ]; then
		say "unpatched kernel up to date: $UNPATCHED"
		return
	fi
	scratch_worktree "$BASE_WT"
	mkdir -p "$UNPATCHED"
	cmp -s "$BUILD/.config" "$UNPATCHED/.config" || cp "$BUILD/.config" "$UNPATCHED/.config"
	rm -f "$UNPATCHED/.stamp"
	run_logged "$log" make -C "$BASE_WT" O="$UNPATCHED" -j"$JOBS" "${KMAKE_FLAGS[@]}" \
		olddefconfig "$KIMG_TARGET" "$@"
	echo "$stamp" >"$UNPATCHED/.stamp"
}

# The build output directory, keyed by base and by the harness' config fragments.
# The selftests' own config comes from the (patched) tree and is merged incrementally.
load_build() {
	load_base
	case "$FLAVOR" in debug|fast|kcsan|gcov) ;; *) die "FLAVOR must be debug, fast, kcsan or gcov, not '$FLAVOR'";; esac
	local h
	BUILD_ARCH=	# x86_64 keeps the names it had before there was an ARCH
	[ "$KARCH" = x86_64 ] || BUILD_ARCH=-$KARCH
	# configs/gcov/ is outside the glob: only the gcov flavour's key has it
	h=$( (grep -h '^[^#]\|is not set' "$ROOT"/configs/*.config ${EXTRA_CONFIG:+"$EXTRA_CONFIG"}
		[ "$FLAVOR" != gcov ] || grep -h '^[^#]\|is not set' "$ROOT"/configs/gcov/*.config
		[ -z "$BUILD_ARCH" ] || grep -h '^[^#]\|is not set' "$ROOT/configs/$KARCH"/*.config
		echo "flavor=$FLAVOR base=$KCONFIG_BASE") |
		sha256sum | cut -c1-12)
	BUILD=$CACHE_BUILD/$BASE_ID$BUILD_ARCH-$FLAVOR-$h
	SELFTESTS=$BUILD/kselftest/bpf
	# FLAVOR=gcov: kbuild profiles each kernel object the series changes (the .c files it
	# touches outside tools/), named on its command line
	if [ "$FLAVOR" = gcov ] && [ -z "${KERNEL_TREE:-}" ]; then
		local f
		while read -r f; do
			KMAKE_FLAGS+=("GCOV_PROFILE_$(basename "${f%.c}").o=y")
		done < <(git -C "$WT" diff --name-only series-base HEAD -- '*.c' ':!tools' 2>/dev/null)
	fi
}
