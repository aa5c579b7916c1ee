#!/bin/bash
# PID 1 of the test VM: the host root is mounted read-only over virtio-9p, the "results"
# share is writable. Runs test_progs and leaves everything the host judges in results/.
export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
# Every fork and exec costs a quarter to a whole second in the debug guest under TCG: the
# script uses builtins wherever it can ("up" sets UP, no $(...) subshell).
up() { local rest; read -r UP rest </proc/uptime; }
# field FILE KEY: sets VAL to what follows KEY, the first word of a line of FILE. The file is
# read whole first: line by line, bash seeks back after each line, and a seq_file whose
# contents change between reads (timer_list, lockdep_stats) then gives torn lines.
field() {
	local all key val
	VAL=
	IFS= read -r -d '' all <"$1"
	while read -r key val; do
		[ "$key" = "$2" ] && { VAL=$val; return 0; }
	done <<<"$all"
	return 1
}
t_init=$EPOCHREALTIME
mount -a -T "${0%/*}/fstab"
RESULTS=/mnt/results
t_mount=$EPOCHREALTIME
ip link set lo up
t_ip=$EPOCHREALTIME
echo "HARNESS: userspace: mounts took $(( (${t_mount/./} - ${t_init/./}) / 1000 )) ms, ip $(( (${t_ip/./} - ${t_mount/./}) / 1000 )) ms"
ulimit -l unlimited
ulimit -n 65536

off() {	# the kernel has no ACPI to power off with: reboot, and QEMU (-no-reboot) stops
	sync
	echo b >/proc/sysrq-trigger
	sleep 30
	exit 1	# PID 1 exits: panic, and QEMU stops all the same
}
# shellcheck source=/dev/null # written by the host for each run
. $RESULTS/params || { echo "HARNESS: no params"; off; }
# make model's parameters of the subtest struct_ops_link/model
[ -z "${STRUCT_OPS_MODEL:-}" ] || export STRUCT_OPS_MODEL

up
echo "HARNESS: booted in ${UP}s"
# A boot that is already tainted or has lost lockdep cannot judge anything, nor one that
# runs on fewer CPUs than QEMU was given (the race tests need them).
read -r tainted </proc/sys/kernel/tainted
debug_locks=
[ -r /proc/lockdep_stats ] && field /proc/lockdep_stats debug_locks: && debug_locks=$VAL
cpus=0
IFS=, read -ra ranges </sys/devices/system/cpu/online
for r in "${ranges[@]}"; do cpus=$((cpus + ${r#*-} - ${r%-*} + 1)); done
echo "tainted=$tainted debug_locks=${debug_locks:-none} cpus=$cpus" >$RESULTS/preflight
if [ "$tainted" != 0 ] || { [ "$FLAVOR" != fast ] && [ "$debug_locks" != 1 ]; } ||
	[ "$cpus" != "${VM_CPUS:-$cpus}" ]; then
	echo "HARNESS: preflight failed: tainted=$tainted debug_locks=${debug_locks:-none} cpus=$cpus of ${VM_CPUS:-?}"
	dmesg >$RESULTS/dmesg.txt
	off
fi
echo ok >>$RESULTS/preflight

# kmemleak: its own scan thread stays off (a scan is one long stay in the kernel that holds
# up RCU Tasks grace periods, and so the freeing of struct_ops maps). No scan before the
# tests either: the one scan after them reports each object with the jiffies it was
# allocated at, and the host tells what the boot left (before the marker, not ours) from
# what the tests left.
KML=/sys/kernel/debug/kmemleak
[ -w $KML ] && echo scan=off >$KML
echo "$MARKER" >/dev/kmsg
field /proc/timer_list jiffies:
echo "$VAL" >$RESULTS/marker.jiffies
up
echo "HARNESS: tests start at ${UP}s"
cd "$SELFTESTS" || { echo "HARNESS: no $SELFTESTS"; off; }
if [ -n "$VM_SHELL" ]; then
	# make shell: the console is a terminal; the shell gets it as its controlling tty
	echo "HARNESS: root shell in $SELFTESTS; exit or Ctrl-D powers the guest off"
	setsid -w -c bash -i <>"/dev/$CONSOLE" >&0 2>&1
	dmesg >$RESULTS/dmesg.txt
	off
fi
# CMD: make test's test_progs line (T quoted by the host), or make vm's command line.
# Line-buffered, so that the host sees each line as it comes.
stdbuf -oL -eL bash -c "$CMD" >"$RESULTS/$LOG" 2>&1
rc=$?
echo "$rc" >"$RESULTS/${LOG%.log}.rc"
up
echo "HARNESS: command done at ${UP}s, exit $rc"
# GUEST_SCRIPT (make vm for experiments; make coverage): a command line run after the tests,
# in the selftests directory; its output goes to guest-script.log. Its splats count.
if [ -n "${GUEST_SCRIPT:-}" ]; then
	bash -c "$GUEST_SCRIPT" >$RESULTS/guest-script.log 2>&1
	echo "HARNESS: GUEST_SCRIPT exit $?"
fi
if [ -w $KML ]; then
	sleep 6		# what the tests leaked at their very end is old enough now
	echo scan >$KML
	cat $KML >$RESULTS/kmemleak.txt
else
	echo "kmemleak not available" >$RESULTS/kmemleak.na
fi
dmesg >$RESULTS/dmesg.txt
echo "done" >$RESULTS/finished
echo "HARNESS: finished"
off
