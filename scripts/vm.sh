#!/usr/bin/env bash
# Stage "vm": boot the built kernel under QEMU (KVM only if a probe shows a guest really
# booting, else TCG), host root read-only over virtio-9p, and run one command in the guest,
# in the selftests directory:
#   make test / make vm     test_progs -a T; the results stay in $OUT/vm for the report stage
#   make vm CMD='...'       that command line; its output is shown as it comes and kept in
#                           $OUT/vm/cmd.log, and its exit status is this script's
#   make shell              an interactive root shell on the console (VM_SHELL=1)
# Boots that come up tainted or with lockdep off are retried (at most 3 boots) and never pass.
. "$(dirname "$0")/lib.sh"
stage_begin vm
load_build
T=${T:-$DEFAULT_TESTS}
VM_TIMEOUT=${VM_TIMEOUT:-1200}
VM_CPUS=${VM_CPUS:-2}
VM_MEM=${VM_MEM:-2G}
CMD=${CMD:-}
VM_SHELL=${VM_SHELL:-}
BOOT_TRIES=${BOOT_TRIES:-3}
VMDIR=$OUT/vm
rm -rf "$VMDIR"; mkdir -p "$VMDIR"	# never leave an older run to be judged
KIMG=${KIMG:-$BUILD/$KIMG_PATH}
SELFTESTS=${VM_SELFTESTS:-$SELFTESTS}	# make regress: the base's own test_progs
[ -f "$KIMG" ] || die "no kernel at $KIMG; run 'make build'"
[ -x "$SELFTESTS/test_progs" ] || die "no test_progs at $SELFTESTS; run 'make build'"
# not_run MESSAGE: stop before or without the tests; the report stage says MESSAGE once
not_run() { echo "$*" >"$VMDIR/not-run"; die "$*"; }

# The guest's root: the host's own on x86_64; a cross-built guest gets a root of its
# architecture (scripts/rootfs.sh) whose PID 1 mounts the host's root and binds the harness
# and the cache at their host paths (the kernel hands harness_root= and harness_cache= to it).
# x86_64: ACPI is there for the CPUs only (configs/guest.config); its PCI interrupt routing
# (_PRT) runs into AML loop timeouts under TCG, a minute of boot, and PnP adds seconds
guest_root=/ init=$ROOT/scripts/guest/init.sh arch_args=(no5lvl acpi=noirq pnpacpi=off)
machine=() host_share=()
if [ "$KARCH" != x86_64 ]; then
	"$ROOT/scripts/rootfs.sh"
	guest_root=$ROOTFS init=/harness-init arch_args=("harness_root=$ROOT" "harness_cache=$CACHE")
	mkdir -p "$ROOTFS$ROOT" "$ROOTFS$CACHE"	# the mount points of the binds
	machine=(-M virt)
	# shellcheck disable=SC2054 # QEMU's options are comma-separated lists
	host_share=(-fsdev local,id=host,path=/,security_model=none,readonly=on,multidevs=remap
		-device virtio-9p-pci,fsdev=host,mount_tag=host)
fi
CMDLINE="console=$CONSOLE,115200 root=/dev/root rootfstype=9p ro
 rootflags=trans=virtio,version=9p2000.L,cache=loose,msize=512000
 init=$init panic=-1 ignore_loglevel
 kasan_multi_shot ${arch_args[*]} ${BOOT_ARGS:-}"
read -ra words <<<"$(tr '\n' ' ' <<<"$CMDLINE")"	# one line, single spaces
CMDLINE="${words[*]}"

# shellcheck disable=SC2054 # QEMU's options are comma-separated lists
QEMU_ARGS=("${machine[@]}" -smp "$VM_CPUS" -m "$VM_MEM" -nographic -no-reboot -kernel "$KIMG"
	-fsdev local,id=root,path="$guest_root",security_model=none,readonly=on,multidevs=remap
	-device virtio-9p-pci,fsdev=root,mount_tag=/dev/root
	-fsdev local,id=res,path="$VMDIR",security_model=none,multidevs=remap
	-device virtio-9p-pci,fsdev=res,mount_tag=results "${host_share[@]}")
# the CPU QEMU emulates: the host's with KVM; under TCG "max", on arm64 with QEMU's own
# pointer authentication algorithm, which TCG emulates much faster than the architected one
qemu_cpu() {	# ACCEL
	if [ "$1" = kvm ]; then echo host
	elif [ "$KARCH" = arm64 ]; then echo max,pauth-impdef=on
	else echo max
	fi
}

# QEMU runs under timeout(1), which puts it in a process group of its own, away from the
# terminal's Ctrl-C: it is started in the background and waited for, so that the INT/TERM
# trap below can stop it.
qpid=
qemu() {	# ACCEL LOG SECONDS [extra -append words]
	local accel=$1 log=$2 secs=$3 rc=0
	timeout --kill-after=10 "$secs" "$QEMU" -accel "$accel" -cpu "$(qemu_cpu "$accel")" \
		"${QEMU_ARGS[@]}" -monitor none -serial stdio -append "$CMDLINE ${4:-}" \
		</dev/null >"$log" 2>&1 &
	qpid=$!
	echo "$qpid" >"$VMDIR/qemu.pid"	# for follow(), which may stop it
	wait "$qpid" || rc=$?
	qpid=
	return "$rc"
}

# follow T0: while the guest runs, print its milestones, splats and each test result as they
# appear in the console and in test_progs' output (the full console stays in console.log).
# A guest whose kernel oopsed (x86 reports a general protection fault without "Oops:"),
# panicked or found memory corrupted (KASAN) and then printed nothing for OOPS_GRACE seconds
# will not finish: it is stopped then, rather than at VM_TIMEOUT (after a KASAN report the
# tests may wait for what the corruption lost). A kernel that reported an RCU stall or a soft
# lockup repeats the report for as long as it is stuck, so it is never silent: it is stopped
# once the tests print nothing for STALL_GRACE seconds after its first report. Either way the
# run has failed already: the splat fails it; stopping early only saves the wait.
OOPS_RE='Oops: |general protection fault|Kernel panic|kernel BUG at|BUG: KASAN: '
OOPS_GRACE=${OOPS_GRACE:-60}
STALL_RE='self-detected stall on CPU|detected stalls on CPUs|soft lockup - CPU#'
STALL_GRACE=${STALL_GRACE:-120}
follow() {
	local t0=$1 c=0 r=0 nc nr quiet=0 out oopsed=0 silent=0 stalled=0 tsilent=0 console
	lines() { { wc -l <"$1"; } 2>/dev/null || echo 0; }
	stop_guest() {	# WHY: say why, then stop QEMU
		printf '[vm %s]   guest stopped: %s\n' "$(elapsed "$t0")" "$1"
		kill -TERM "$(cat "$VMDIR/qemu.pid")" 2>/dev/null || true
	}
	while sleep 1; do
		nc=$(lines "$VMDIR/console.log")
		nr=$(lines "$VMDIR/$LOG")
		console=	# the console lines that are new since the last round
		[ "$nc" -le "$c" ] || console=$(sed -n "$((c + 1)),${nc}p" "$VMDIR/console.log" 2>/dev/null | tr -d '\r')
		out=$(
			[ -z "$console" ] || grep -E -e '^HARNESS:' -f <(judge_patterns splat-deny) <<<"$console" |
				grep -vE -f <(judge_patterns splat-allow) | sed -E 's/^\[ *[0-9.]+\] //' | cut -c1-150 |
				sed "s/^/[vm $(elapsed "$t0")]   guest: /" || true
			[ "$nr" -le "$r" ] || sed -n "$((r + 1)),${nr}p" "$VMDIR/$LOG" 2>/dev/null | grep -E "$SHOW_RE" |
				sed "s/^/[vm $(elapsed "$t0")]   $SHOW: /" || true
		)
		[ "$oopsed" = 1 ] || ! grep -qE "$OOPS_RE" <<<"$console" || oopsed=1
		[ "$nc" -gt "$c" ] || [ "$nr" -gt "$r" ] && silent=0 || silent=$((silent + 1))
		if [ "$oopsed" = 1 ] && [ "$silent" -ge "$OOPS_GRACE" ]; then
			stop_guest "its kernel oopsed (or KASAN reported), then printed nothing for $OOPS_GRACE s"
			return
		fi
		[ "$nr" -gt "$r" ] && tsilent=0 || tsilent=$((tsilent + 1))
		if [ "$stalled" = 0 ] && grep -qE "$STALL_RE" <<<"$console"; then
			stalled=1
			tsilent=0
		fi
		if [ "$stalled" = 1 ] && [ "$tsilent" -ge "$STALL_GRACE" ]; then
			stop_guest "its kernel reported a stall (or soft lockup), then the tests printed nothing for $STALL_GRACE s"
			return
		fi
		c=$nc
		r=$nr
		if [ -n "$out" ]; then
			echo "$out"
			quiet=0
		elif [ $((quiet += 1)) -ge 30 ]; then
			printf '[vm %s]   ... guest running, nothing new for 30 s\n' "$(elapsed "$t0")"
			quiet=0
		fi
	done
}

# KVM only when a guest really boots with it: on some machines here /dev/kvm exists but
# nested guests hang or QEMU aborts. The answer holds until the host reboots: it is kept,
# keyed by the host's boot id, so that only the first run of a host boot pays the probe.
kvm_probe() {	# prints "kvm" or "tcg <why>"
	local rc=0 why
	[ -w /dev/kvm ] || { echo "tcg /dev/kvm is missing or not writable"; return; }
	( qemu kvm "$VMDIR/kvm-probe.log" 20 "init=/bin/true" ) 2>/dev/null || rc=$?
	if grep -q 'Run /bin/true as init process' "$VMDIR/kvm-probe.log"; then
		echo kvm
		return
	fi
	why=$(grep -m1 -iE 'qemu-system|error|kvm' "$VMDIR/kvm-probe.log" 2>/dev/null | cut -c1-100 || true)
	case "$rc" in
	124|137) echo "tcg a KVM guest printed nothing within 20 s (nested guests hang)" ;;
	0) echo "tcg the KVM guest stopped before init${why:+: $why}" ;;
	*) echo "tcg QEMU with KVM exited with status $rc${why:+: $why}" ;;
	esac
}
ACCEL=${ACCEL:-}
if [ -z "$ACCEL" ] && [ "$KARCH" != x86_64 ]; then
	ACCEL=tcg
	say "a $KARCH guest on an x86_64 host: TCG"
elif [ -z "$ACCEL" ]; then
	probed=$CACHE_STATE/kvm-probe
	boot_id=$(cat /proc/sys/kernel/random/boot_id)
	mkdir -p "$CACHE_STATE"
	if [ "$(head -n 1 "$probed" 2>/dev/null)" != "$boot_id" ]; then
		say "probing KVM (20 s at most)"
		printf '%s\n%s\n' "$boot_id" "$(kvm_probe)" >"$probed"
	fi
	read -r ACCEL why < <(sed -n 2p "$probed")
	[ "$ACCEL" = kvm ] || say "KVM not used, TCG instead: $why"
fi

# What the guest runs, and where its output goes. make test's command quotes T, so that
# no shell in the guest expands a glob in it against the selftests directory.
if [ -n "$CMD" ]; then
	LOG=cmd.log SHOW=out SHOW_RE=''
else
	# exact names (globs allowed), comma-separated; TP_ARGS: more options (make model: -v)
	# a name that the built test_progs does not have is said now, not after a boot (the
	# binary lists its tests on the host when it is of the host's architecture)
	if [ "$KARCH" = "$(uname -m)" ]; then
		IFS=, read -ra names <<<"$T"
		for n in "${names[@]}"; do
			[ -n "$("$SELFTESTS/test_progs" -l -a "${n%%/*}" 2>/dev/null)" ] ||
				not_run "T: test_progs has no test '${n%%/*}' (./test_progs -l in $SELFTESTS lists them)"
		done
	fi
	CMD="./test_progs ${TP_ARGS:+$TP_ARGS }-a $(printf %q "$T")"
	LOG=test_progs.log SHOW=test SHOW_RE=$RESULT_RE
	echo "$T" >"$VMDIR/filter"
fi
MARKER="HARNESS-TESTS-START-$$-$(date +%s)"
# the one file that hands parameters to the guest (sourced by scripts/guest/init.sh)
for v in SELFTESTS CMD LOG FLAVOR MARKER VM_SHELL GUEST_SCRIPT CONSOLE STRUCT_OPS_MODEL VM_CPUS; do
	printf '%s=%q\n' "$v" "${!v:-}"
done >"$VMDIR/params"
echo "$FLAVOR" >"$VMDIR/flavor"
echo "$MARKER" >"$VMDIR/marker"
vng="vng --run $KIMG --cpus $VM_CPUS --memory $VM_MEM --user root --cwd $SELFTESTS"
vng+=" --append 'kasan_multi_shot no5lvl${BOOT_ARGS:+ $BOOT_ARGS}'"
[ "$ACCEL" = kvm ] || vng+=" --disable-kvm"
[ -n "$VM_SHELL" ] || vng+=" --exec $(printf %q "$CMD")"
[ "$KARCH" != x86_64 ] || say "the same with virtme-ng (not needed here): $vng"

if [ -n "$VM_SHELL" ]; then
	# QEMU on this terminal; the guest's console is the shell's. Ctrl-A X stops QEMU.
	say "root shell in the guest ($ACCEL); 'exit' powers it off, Ctrl-A X stops QEMU"
	rc=0
	"$QEMU" -accel "$ACCEL" -cpu "$(qemu_cpu "$ACCEL")" "${QEMU_ARGS[@]}" -serial mon:stdio \
		-append "$CMDLINE" || rc=$?
	say "guest gone (QEMU exit $rc); its kernel log: $VMDIR/dmesg.txt"
	exit "$rc"
fi

fpid=
trap '[ -z "$fpid" ] || kill "$fpid" 2>/dev/null || true' EXIT
interrupted() {
	trap - INT TERM
	[ -z "$qpid" ] || kill -TERM "$qpid" 2>/dev/null	# timeout passes it on to QEMU
	[ -z "$qpid" ] || wait "$qpid" 2>/dev/null || true
	warn "interrupted: QEMU stopped${qpid:+ (timeout pid $qpid)}; partial results in $VMDIR"
	exit 130
}
trap interrupted INT TERM
for try in $(seq 1 "$BOOT_TRIES"); do
	rm -f "$VMDIR"/{preflight,"$LOG","${LOG%.log}.rc",kmemleak.txt,marker.jiffies,dmesg.txt,finished,guest-script.log}
	say "boot $try/$BOOT_TRIES ($ACCEL, $VM_CPUS CPUs, $VM_MEM, timeout ${VM_TIMEOUT}s): $CMD"
	t=$(date +%s)
	rc=0
	: >"$VMDIR/console.log"
	follow "$t" &
	fpid=$!
	qemu "$ACCEL" "$VMDIR/console.log" "$VM_TIMEOUT" || rc=$?
	sleep 1.2	# the follower's last round
	kill "$fpid" 2>/dev/null || true	# the follower may be gone already
	wait "$fpid" 2>/dev/null || true
	fpid=
	# QEMU that could not start the guest at all (no binary, a bad option, no kernel image):
	# its own error, at once; another try would fail the same way
	if [ "$rc" != 0 ] && ! grep -q 'Linux version' "$VMDIR/console.log"; then
		echo "---- QEMU's output ----" >&2
		tail -n 15 "$VMDIR/console.log" >&2
		not_run "QEMU exited with status $rc before the guest kernel started"
	fi
	if [ "$rc" = 124 ] || [ "$rc" = 137 ]; then
		echo "---- last console lines ----" >&2
		tail -n 25 "$VMDIR/console.log" >&2
		die "guest timed out after ${VM_TIMEOUT}s"
	fi
	if grep -q '^ok$' "$VMDIR/preflight" 2>/dev/null; then
		say "guest ran in $(elapsed "$t") ($(head -n 1 "$VMDIR/preflight"))"
		break
	fi
	# a guest that does not see its CPUs will not see them on the next boot either
	if grep -qE "cpus=[0-9]+$" "$VMDIR/preflight" 2>/dev/null &&
		! grep -q "cpus=$VM_CPUS\$" "$VMDIR/preflight"; then
		not_run "the guest runs on $(sed -nE '1s/.*cpus=([0-9]+)$/\1/p' "$VMDIR/preflight") CPU(s), not the $VM_CPUS QEMU was given"
	fi
	warn "boot $try is not clean ($(head -n 1 "$VMDIR/preflight" 2>/dev/null || echo 'no preflight result')); it cannot count"
	splats -n "$VMDIR/console.log" | head -n 5 >&2
	[ "$try" -lt "$BOOT_TRIES" ] || not_run "no clean boot in $BOOT_TRIES tries"
done
echo "$ACCEL" >"$VMDIR/accel"
if [ "$LOG" = cmd.log ]; then
	rc=$(cat "$VMDIR/cmd.rc" 2>/dev/null || echo 255)
	n=$({ log_since_marker "$VMDIR" || true; } | splats -c) || n=0
	[ "${n:-0}" -eq 0 ] || warn "$n kernel log line(s) since the command started look like a splat: see $VMDIR/dmesg.txt"
	say "command exit $rc (output: $VMDIR/cmd.log)"
	stage_end
	exit "$rc"
fi
stage_end
