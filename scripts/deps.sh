#!/usr/bin/env bash
# Stage "deps": the tools and headers the other stages need. As root on Debian, installs
# what is missing with apt-get; otherwise lists the missing packages and fails.
. "$(dirname "$0")/lib.sh"
stage_begin deps

# "how to detect it" -> Debian package
checks=(
	"cmd:gcc gcc" "cmd:gcc-nm gcc" "cmd:make make" "cmd:git git" "cmd:perl perl" "cmd:python3 python3"
	"cmd:bc bc" "cmd:bison bison" "cmd:flex flex" "cmd:cpio cpio" "cmd:depmod kmod"
	"cmd:rsync rsync" "cmd:xz xz-utils" "cmd:lz4 lz4" "cmd:openssl openssl" "cmd:pkg-config pkg-config"
	"hdr:openssl/ssl.h libssl-dev" "hdr:libelf.h libelf-dev" "hdr:zlib.h zlib1g-dev"
	"hdr:sys/capability.h libcap-dev" "hdr:zstd.h libzstd-dev"
	"cmd:pahole dwarves"
	"cmd:clang-19 clang-19" "cmd:llc-19 llvm-19" "cmd:llvm-strip-19 llvm-19" "cmd:ld.lld-19 lld-19"
	"cmd:qemu-system-x86_64 qemu-system-x86" "cmd:ip iproute2" "cmd:timeout coreutils"
	"py:ply python3-ply" "py:git python3-git"	# checkpatch's spdxcheck.py
	"cmd:shellcheck shellcheck"	# make check
	"cmd:dpkg-gencontrol dpkg-dev"	# make deb
)
# ARCH=arm64: the cross compiler, QEMU's arm64 machines, the guest's root (rootfs.sh), and
# the libraries test_progs, bpftool and sign-file link against, as Debian's arm64 multiarch packages
if [ "$KARCH" = arm64 ]; then
	checks+=("cmd:aarch64-linux-gnu-gcc gcc-aarch64-linux-gnu" "cmd:qemu-system-aarch64 qemu-system-arm"
		"cmd:mmdebstrap mmdebstrap")
	for l in libelf:libelf-dev libz:zlib1g-dev libcap:libcap-dev libzstd:libzstd-dev \
		libcrypto:libssl-dev; do
		checks+=("file:/usr/lib/aarch64-linux-gnu/${l%%:*}.so ${l#*:}:arm64")
	done
fi
missing=()
for c in "${checks[@]}"; do
	what=${c%% *} pkg=${c#* }
	case "$what" in
	cmd:*) command -v "${what#cmd:}" >/dev/null 2>&1 && continue ;;
	hdr:*) [ -e "/usr/include/${what#hdr:}" ] && continue ;;
	py:*) /usr/bin/python3 -c "import ${what#py:}" 2>/dev/null && continue ;;
	file:*) [ -e "${what#file:}" ] && continue ;;
	esac
	missing+=("$pkg")
done
mapfile -t missing < <(printf '%s\n' "${missing[@]}" | sort -u | grep .) || true

if [ "${#missing[@]}" -gt 0 ]; then
	if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
		say "installing: ${missing[*]}"
		export DEBIAN_FRONTEND=noninteractive
		if printf '%s\n' "${missing[@]}" | grep -q ':arm64$' &&
			! dpkg --print-foreign-architectures | grep -qx arm64; then
			say "adding arm64 to dpkg's architectures (multiarch), for the arm64 libraries"
			dpkg --add-architecture arm64
		fi
		run_logged "$LOGS/deps-update.log" apt-get update
		run_logged "$LOGS/deps-install.log" apt-get install -y --no-install-recommends "${missing[@]}"
	else
		die "missing packages: ${missing[*]} (as root: apt-get install ${missing[*]})"
	fi
fi

ver=$(pahole --version 2>/dev/null | tr -d v)
printf '%s\n1.16\n' "$ver" | sort -V -C -r || die "pahole $ver is too old; DEBUG_INFO_BTF needs >= 1.16"
say "all present: gcc $(gcc -dumpversion), clang $(clang-19 -dumpversion), pahole $ver, $($QEMU --version | head -n 1)"
stage_end
