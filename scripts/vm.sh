#!/usr/bin/env bash
# Stage "vm": boot the built kernel under QEMU (KVM only if a probe shows a guest really
# booting, else TCG), host root read-only over virtio-9p, run test_progs with the filter T,
# and leave the results in $OUT/vm for the report stage. Boots that come up tainted or with
# lockdep off are retried (at most 3 boots) and never pass.
. "$(dirname "$0")/lib.sh"
stage_begin vm
load_build
T=${T:-bpf_tcp_ca,dummy_st_ops,libbpf_str,struct_ops_link,tcp_ca_update}
VM_TIMEOUT=${VM_TIMEOUT:-1200}
BOOT_TRIES=${BOOT_TRIES:-3}
KIMG=${KIMG:-$BUILD/arch/x86/boot/bzImage}
[ -f "$KIMG" ] || die "no kernel at $KIMG; run 'make build'"
[ -x "$SELFTESTS/test_progs" ] || die "no test_progs at $SELFTESTS; run 'make build'"
VMDIR=$OUT/vm
rm -rf "$VMDIR"; mkdir -p "$VMDIR"

CMDLINE="console=ttyS0,115200 root=/dev/root rootfstype=9p ro
 rootflags=trans=virtio,version=9p2000.L,cache=loose,msize=512000
 init=$ROOT/scripts/guest-init.sh panic=-1 loglevel=4
 kasan_multi_shot no5lvl pci=noacpi"
CMDLINE=$(echo $CMDLINE)

qemu() {	# ACCEL LOG SECONDS [extra -append words]
	local accel=$1 log=$2 secs=$3 cpu=max
	[ "$accel" = kvm ] && cpu=host
	timeout --kill-after=10 "$secs" qemu-system-x86_64 -accel "$accel" -cpu "$cpu" \
		-smp 2 -m 2G -nographic -no-reboot -monitor none -serial stdio \
		-kernel "$KIMG" -append "$CMDLINE ${4:-}" \
		-fsdev local,id=root,path=/,security_model=none,readonly=on,multidevs=remap \
		-device virtio-9p-pci,fsdev=root,mount_tag=/dev/root \
		-fsdev local,id=res,path="$VMDIR",security_model=none,multidevs=remap \
		-device virtio-9p-pci,fsdev=res,mount_tag=results \
		</dev/null >"$log" 2>&1
}

# KVM only when a guest really boots with it: here /dev/kvm exists but nested guests hang.
ACCEL=${ACCEL:-}
if [ -z "$ACCEL" ]; then
	ACCEL=tcg
	if [ -w /dev/kvm ]; then
		say "probing KVM (20 s at most)"
		qemu kvm "$VMDIR/kvm-probe.log" 20 "init=/bin/true" || true
		if grep -q 'Run /bin/true as init process' "$VMDIR/kvm-probe.log"; then
			ACCEL=kvm
		else
			say "KVM guest did not boot within 20 s; using TCG"
		fi
	fi
fi

TP_ARGS="-a $T"		# exact names (globs allowed), comma-separated
MARKER="HARNESS-TESTS-START-$$-$(date +%s)"
cat >"$VMDIR/params" <<P
SELFTESTS='$SELFTESTS'
TP_ARGS='$TP_ARGS'
FLAVOR='$FLAVOR'
MARKER='$MARKER'
P
echo "$T" >"$VMDIR/filter"
echo "$FLAVOR" >"$VMDIR/flavor"
echo "$MARKER" >"$VMDIR/marker"

for try in $(seq 1 "$BOOT_TRIES"); do
	rm -f "$VMDIR"/{preflight,test_progs.log,test_progs.rc,kmemleak.txt,dmesg.txt,finished}
	say "boot $try/$BOOT_TRIES ($ACCEL, timeout ${VM_TIMEOUT}s): test_progs $TP_ARGS"
	t=$(date +%s)
	rc=0
	qemu "$ACCEL" "$VMDIR/console.log" "$VM_TIMEOUT" || rc=$?
	grep '^HARNESS:' "$VMDIR/console.log" | sed "s/^/[vm $(elapsed)]   guest: /" || true
	if [ "$rc" = 124 ] || [ "$rc" = 137 ]; then
		echo "---- last console lines ----" >&2
		tail -n 25 "$VMDIR/console.log" >&2
		die "guest timed out after ${VM_TIMEOUT}s"
	fi
	if grep -q '^ok$' "$VMDIR/preflight" 2>/dev/null; then
		say "guest ran in $(elapsed "$t") ($(cat "$VMDIR/preflight" | head -n 1))"
		break
	fi
	warn "boot $try is not clean ($(head -n 1 "$VMDIR/preflight" 2>/dev/null || echo 'no preflight result')); it cannot count"
	grep -nE 'BUG:|WARNING:|Call Trace' "$VMDIR/console.log" | head -n 5 >&2 || true
	[ "$try" -lt "$BOOT_TRIES" ] || die "no clean boot in $BOOT_TRIES tries"
done
echo "$ACCEL" >"$VMDIR/accel"
stage_end
