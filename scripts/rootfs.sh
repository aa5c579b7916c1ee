#!/usr/bin/env bash
# Stage "rootfs" (ARCH=arm64): the guest's root file system. The x86_64 guest boots the
# host's own root over 9p; a cross-built guest cannot run the host's programs, so it gets a
# Debian root of its own architecture in $ROOTFS: the packages below, unpacked (mmdebstrap
# --variant=extract: no maintainer script runs, so nothing of the guest's architecture runs
# on the host), and /harness-init, its PID 1: it mounts the host's root read-only at /host,
# binds the harness ($ROOT) and the cache ($CACHE: kernel, test_progs) at their host paths,
# and runs scripts/guest/init.sh as the x86_64 guest does. Made once per package list.
. "$(dirname "$0")/lib.sh"
stage_begin "rootfs/$KARCH"
[ "$KARCH" != x86_64 ] || { say "x86_64 boots the host's root: nothing to do"; stage_end; exit 0; }
# what init.sh and the tests run: bash, sh (popen(3) of bpftool), mount(8), ip, stdbuf, dmesg,
# setsid, sysctl, modprobe, and the libraries of test_progs, bpftool and sign-file
PKGS=bash,dash,coreutils,util-linux,mount,iproute2,procps,kmod,libelf1,zlib1g,libzstd1,libcap2,libssl3
stamp="$PKGS $(sha256sum <"$0" | cut -c1-16)"
if [ "$(cat "$ROOTFS/.harness-stamp" 2>/dev/null)" = "$stamp" ]; then
	say "up to date: $ROOTFS"
	stage_end
	exit 0
fi
rm -rf "$ROOTFS" "$ROOTFS.tmp"
run_logged "$LOGS/rootfs.log" mmdebstrap --variant=extract --architectures="$KARCH" \
	--include="$PKGS" bookworm "$ROOTFS.tmp" http://deb.debian.org/debian
cat >"$ROOTFS.tmp/harness-init" <<'INIT'
#!/bin/bash
# PID 1 of a cross-built guest (scripts/rootfs.sh): the harness and the cache come from the
# host's root; the kernel passes harness_root= and harness_cache= from its command line.
export PATH=/usr/sbin:/usr/bin:/sbin:/bin
mount -t proc proc /proc
mount -t 9p -o ro,trans=virtio,version=9p2000.L,msize=512000 host /host || echo "HARNESS: no host share"
for d in "$harness_root" "$harness_cache"; do
	mount --bind "/host$d" "$d" || echo "HARNESS: cannot bind $d"
done
exec "$harness_root/scripts/guest/init.sh"
INIT
chmod +x "$ROOTFS.tmp/harness-init"
# dash's postinst, which does not run here, would make /bin/sh
[ -e "$ROOTFS.tmp/bin/sh" ] || ln -s dash "$ROOTFS.tmp/bin/sh"
# mount points: the host's root, and those of init.sh's fstab
mkdir -p "$ROOTFS.tmp"/{host,proc,sys,dev/pts,dev/shm,tmp,run,var/tmp,mnt}
echo "$stamp" >"$ROOTFS.tmp/.harness-stamp"
mv "$ROOTFS.tmp" "$ROOTFS"
say "$KARCH root: $ROOTFS ($(du -sh "$ROOTFS" | cut -f1))"
stage_end
