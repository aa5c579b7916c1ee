#!/usr/bin/env bash
# "make deb": the patched kernel as Debian packages, with the kernel's own bindeb-pkg (the
# linux-image, linux-headers and linux-libc-dev .debs), from the build of make build (FLAVOR,
# the guest-sized config), into out/deb/. Then what a user of the packages does with them: the
# image package is unpacked and its kernel booted to run the tests T, judged as make test, and
# an out-of-tree module (the selftests' bpf_testmod) is built against the headers package.
. "$(dirname "$0")/lib.sh"
series_only deb
x86_64_only deb
stage_begin deb
load_build
[ -f "$BUILD/$KIMG_PATH" ] || die "no kernel at $BUILD/$KIMG_PATH; run 'make build'"
deb_out=$OUT/deb
rm -rf "$deb_out"
mkdir -p "$deb_out"

# bindeb-pkg writes the packages into the directory above the build directory
parent=$(dirname "$BUILD")
rm -f "$parent"/linux-*.deb "$parent"/linux-*.buildinfo "$parent"/linux-*.changes
run_logged "$LOGS/deb.log" make -C "$WT" O="$BUILD" -j"$JOBS" "${KMAKE_FLAGS[@]}" \
	KDEB_COMPRESS=gzip bindeb-pkg
mv "$parent"/linux-*.deb "$parent"/linux-*.buildinfo "$parent"/linux-*.changes "$deb_out/"
for d in "$deb_out"/*.deb; do
	say "$(basename "$d"): $(du -h "$d" | cut -f1), $(dpkg-deb -f "$d" Package Version | paste -sd' ')"
done
image=$(find "$deb_out" -maxdepth 1 -name 'linux-image-*.deb' ! -name '*-dbg_*' | head -n 1)
headers=$(find "$deb_out" -maxdepth 1 -name 'linux-headers-*.deb' | head -n 1)
if [ -z "$image" ] || [ -z "$headers" ]; then
	die "bindeb-pkg made no linux-image or linux-headers package"
fi

# the image package, unpacked as dpkg would install it
root=$deb_out/root
dpkg-deb -x "$image" "$root"
dpkg-deb -x "$headers" "$root"
krel=$(cat "$BUILD/include/config/kernel.release")
kimg=$root/boot/vmlinuz-$krel
[ -f "$kimg" ] || die "the image package has no /boot/vmlinuz-$krel"
[ -d "$root/lib/modules/$krel" ] || die "the image package has no /lib/modules/$krel"

# an out-of-tree module against the headers package, as DKMS would build one
hdr=$root/usr/src/linux-headers-$krel
mod=$deb_out/bpf_testmod
mkdir -p "$mod"	# its sources only: the selftests' build leaves objects beside them
git -C "$WT" archive HEAD tools/testing/selftests/bpf/bpf_testmod | tar -x -C "$mod" --strip-components=5
run_logged "$LOGS/deb-module.log" make -C "$hdr" M="$mod" modules
[ -f "$mod/bpf_testmod.ko" ] || die "no bpf_testmod.ko built against the headers package"
modver=$(modinfo -F vermagic "$mod/bpf_testmod.ko" | cut -d' ' -f1)
[ "$modver" = "$krel" ] || die "bpf_testmod.ko is for $modver, the kernel is $krel"
say "bpf_testmod.ko built against the headers package (vermagic $modver)"

# the packaged kernel boots and passes the tests, judged as make test
say "booting the packaged kernel: /boot/vmlinuz-$krel"
rc=0
KIMG=$kimg OUT=$deb_out "$ROOT/scripts/vm.sh" || rc=$?
OUT=$deb_out "$ROOT/scripts/report.sh" || exit 1
[ "$rc" = 0 ] || exit "$rc"
stage_end
