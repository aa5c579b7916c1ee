#!/usr/bin/env bash
# Stage "base": a git work tree in the cache whose first commit, tagged "base", is the
# untouched base: Debian's linux-source-$KVER at DEB_PIN (checksummed), with BASE=vanilla the
# upstream tarball Debian's "linux" source package at DEB_PIN is built from, or KERNEL_SRC.
. "$(dirname "$0")/lib.sh"
stage_begin base
mkdir -p "$CACHE_SRC" "$CACHE_DL" "$CACHE_STATE"

check_kver() {	# DIR: is it a $KVER kernel tree?
	local mk=$1/Makefile v p
	if ! { [ -f "$mk" ] && grep -q '^NAME' "$mk" && [ -f "$1/kernel/bpf/bpf_struct_ops.c" ]; }; then
		die "$1 is not a Linux kernel source tree"
	fi
	v=$(sed -n 's/^VERSION = //p' "$mk"); p=$(sed -n 's/^PATCHLEVEL = //p' "$mk")
	[ "$v.$p" = "$KVER" ] || die "$1 is Linux $v.$p, not $KVER.y"
}

init_git() {	# DIR MESSAGE: commit DIR as it is and tag the commit "base"
	git -C "$1" init -q
	git -C "$1" config user.name "struct_ops link harness"
	git -C "$1" config user.email "harness@localhost"
	git -C "$1" config gc.auto 0
	git -C "$1" add -A -f	# Debian's .gitignore ignores the whole top level
	git -C "$1" commit -q -m "$2"
	git -C "$1" tag base
}

if [ -n "${KERNEL_TREE:-}" ]; then
	check_kver "$KERNEL_TREE"
	[ ! -f "$KERNEL_TREE/.config" ] ||
		die "$KERNEL_TREE has a .config: kbuild cannot build it with O=; 'make mrproper' there first"
	say "KERNEL_TREE: $KERNEL_TREE is built as it is, uncommitted changes included; outputs go to $CACHE_BUILD"
	stage_end
	exit 0
fi

existing() {	# BASE_ID: reuse a prepared work tree
	local wt=$CACHE_SRC/$1
	if [ -d "$wt/.git" ] && git -C "$wt" rev-parse -q --verify base >/dev/null; then
		echo "$1" >"$BASE_STATE"
		say "base $1 already prepared: $wt"
		stage_end
		exit 0
	fi
	rm -rf "$wt" "$wt.tmp"
}

if [ -n "${KERNEL_SRC:-}" ]; then
	[ -d "$KERNEL_SRC" ] || die "KERNEL_SRC=$KERNEL_SRC does not exist"
	KERNEL_SRC=$(realpath "$KERNEL_SRC")
	check_kver "$KERNEL_SRC"
	if git -C "$KERNEL_SRC" rev-parse --git-dir >/dev/null 2>&1; then
		rev=$(git -C "$KERNEL_SRC" rev-parse HEAD)
		id=git-$(git -C "$KERNEL_SRC" describe --tags --always HEAD 2>/dev/null | tr '/' '_')-${rev:0:12}
		existing "$id"
		[ -z "$(git -C "$KERNEL_SRC" status --porcelain -uno)" ] ||
			warn "KERNEL_SRC has uncommitted changes; only its HEAD ($rev) is used"
		say "cloning $KERNEL_SRC at $rev (the source tree is not modified)"
		run_logged "$LOGS/base.log" git clone -q --no-checkout "$KERNEL_SRC" "$CACHE_SRC/$id.tmp"
		git -C "$CACHE_SRC/$id.tmp" checkout -q -B series "$rev"
		git -C "$CACHE_SRC/$id.tmp" config user.name "struct_ops link harness"
		git -C "$CACHE_SRC/$id.tmp" config user.email "harness@localhost"
		git -C "$CACHE_SRC/$id.tmp" tag -f base "$rev" >/dev/null
	else
		id=dir-$(sed -n 's/^SUBLEVEL = //p' "$KERNEL_SRC/Makefile")-$(echo "$KERNEL_SRC" | sha256sum | cut -c1-12)
		existing "$id"
		say "copying $KERNEL_SRC (not a git tree) into the cache"
		run_logged "$LOGS/base.log" rsync -a --exclude=.git "$KERNEL_SRC/" "$CACHE_SRC/$id.tmp/"
		init_git "$CACHE_SRC/$id.tmp" "base: Linux $KVER from $KERNEL_SRC"
	fi
elif [ "$BASE" = vanilla ]; then
	# Vanilla 6.1.y: the .orig.tar.xz of Debian's "linux" source package (upstream's tarball,
	# less the few files Debian's DFSG rules drop), fetched by apt's source download with a
	# deb-src list and index of its own in the cache; apt checks it against the signed index.
	command -v apt-get >/dev/null || die "apt-get not found: set KERNEL_SRC=/path/to/linux-6.1.y"
	up=${DEB_PIN%-*}
	id=vanilla-$up
	existing "$id"
	aptdir=$CACHE/apt-src
	mkdir -p "$aptdir/lists/partial" "$aptdir/cache/archives/partial"
	printf 'deb-src http://deb.debian.org/debian bookworm main\ndeb-src http://deb.debian.org/debian-security bookworm-security main\n' >"$aptdir/sources.list"
	apt=(-o "Dir::Etc::SourceList=$aptdir/sources.list" -o Dir::Etc::SourceParts=/dev/null
		-o "Dir::State::Lists=$aptdir/lists" -o "Dir::Cache=$aptdir/cache" -o APT::Sandbox::User=root)
	orig=$CACHE_DL/linux_$up.orig.tar.xz
	if [ ! -f "$orig" ]; then
		run_logged "$LOGS/base-apt-src.log" apt-get "${apt[@]}" update
		say "downloading the sources of Debian's linux $DEB_PIN (its .orig tarball is vanilla $up)"
		(cd "$CACHE_DL" && run_logged "$LOGS/base-download.log" \
			apt-get "${apt[@]}" source --download-only "linux=$DEB_PIN")
	fi
	[ -f "$orig" ] || die "apt did not fetch $orig"
	tmp=$CACHE_SRC/$id.tmp
	mkdir -p "$tmp"
	say "unpacking vanilla $up"
	run_logged "$LOGS/base-unpack.log" tar -C "$tmp" --strip-components=1 -xf "$orig"
	check_kver "$tmp"
	say "committing the untouched base"
	init_git "$tmp" "base: Linux $up (the .orig tarball of Debian's linux $DEB_PIN)"
else
	command -v apt-get >/dev/null || die "apt-get not found: set KERNEL_SRC=/path/to/linux-6.1.y"
	ver=$DEB_PIN
	if [ -d "$CACHE_SRC/deb-$ver/.git" ]; then existing "deb-$ver"; fi
	if ! apt-cache show "$DEB_PKG=$ver" >/dev/null 2>&1; then
		if [ "$(id -u)" = 0 ]; then apt-get update -qq >/dev/null 2>&1 || true; fi
	fi
	# the .deb's SHA256: pinned for the pinned version, else the one in the archive's
	# signed index (apt-get download checks it too)
	archive_sha() { apt-cache show "$DEB_PKG=$1" | sed -n 's/^SHA256: //p' | head -n 1; }
	if [ -n "${DEB_PIN_SHA256:-}" ]; then
		sha=$DEB_PIN_SHA256
	elif [ "$ver" = "$DEB_PINNED" ]; then
		sha=$DEB_PINNED_SHA256
	else
		sha=$(archive_sha "$ver" || true)
		[ -n "$sha" ] || die "the archive does not offer $DEB_PKG $ver ('apt-cache madison $DEB_PKG' lists what it does)"
	fi
	if ! apt-cache show "$DEB_PKG=$ver" >/dev/null 2>&1; then
		newest=$(apt-cache madison "$DEB_PKG" | awk '{print $3}' | sort -V | tail -n 1)
		[ -n "$newest" ] || die "the archive offers no $DEB_PKG at all; set KERNEL_SRC=/path/to/linux-6.1.y"
		cat >&2 <<MSG
########################################################################
# WARNING: the pinned $DEB_PKG $DEB_PIN is no longer in the archive.
# Using the newest it offers, $newest, checked against the archive's own
# SHA256. The series is known to apply to $DEB_PIN; update DEB_PINNED
# in scripts/lib.sh once $newest has been tested (make bases).
########################################################################
MSG
		ver=$newest
		sha=$(archive_sha "$ver")
	fi
	id=deb-$ver
	existing "$id"
	deb=$CACHE_DL/${DEB_PKG}_${ver}_all.deb
	if ! echo "$sha  $deb" | sha256sum -c --quiet >/dev/null 2>&1; then
		rm -f "$deb"
		say "downloading $DEB_PKG $ver"
		(cd "$CACHE_DL" && run_logged "$LOGS/base-download.log" apt-get download "$DEB_PKG=$ver")
		echo "$sha  $deb" | sha256sum -c --quiet || die "checksum mismatch for $deb (expected $sha)"
	fi
	say "checksum ok: $sha"
	tmp=$CACHE_SRC/$id.tmp
	mkdir -p "$tmp/deb"
	dpkg-deb -x "$deb" "$tmp/deb"
	say "unpacking the kernel source"
	run_logged "$LOGS/base-unpack.log" tar -C "$tmp" --strip-components=1 -xf \
		"$tmp/deb/usr/src/$DEB_PKG.tar.xz"
	rm -rf "$tmp/deb"
	check_kver "$tmp"
	say "committing the untouched base"
	init_git "$tmp" "base: Debian $DEB_PKG $ver"
fi
mv "$CACHE_SRC/$id.tmp" "$CACHE_SRC/$id"
echo "$id" >"$BASE_STATE"
say "base $id ready: $CACHE_SRC/$id (tag 'base')"
stage_end
