#!/usr/bin/env bash
# "make bench": what struct_ops links buy a running system (bench/cc_switch.c), on the
# patched kernel of FLAVOR (fast unless given: the debug options would dominate the numbers).
# Builds the bench against the selftests' libbpf and skeletons of that build, runs it in the
# guest (make vm's runner) and prints its table with the date, the machine and the flavor.
# BENCH_ARGS passes options (-r rounds, -n switches, -t connecting threads, -c calls).
# Not part of .ci/run.
. "$(dirname "$0")/lib.sh"
stage_begin "bench/$FLAVOR"
load_build
[ -x "$SELFTESTS/test_progs" ] || die "no build at $BUILD; run 'make build FLAVOR=$FLAVOR'"
bench_out=$OUT/bench
mkdir -p "$bench_out"
build_user_tool bench "$ROOT/bench/cc_switch.c" "$bench_out/cc_switch" -lpthread
# Latencies need a clock finer than a jiffy. The guest has no HPET or PM timer: under TCG
# its TSC calibration against the PIT fails now and then, and the clocksource watchdog,
# with only jiffies to compare against, marks the TSC unstable; either way the guest falls
# back to refined-jiffies, 1 ms steps. Under TCG the guest's TSC is the host's, so its
# frequency is given (tsc_early_khz) and the watchdog told to trust it (tsc=reliable).
khz=$(awk '/^cpu MHz/ { printf "%d", $4 * 1000; exit }' /proc/cpuinfo)
rc=0
OUT=$bench_out CMD="cat /sys/devices/system/clocksource/clocksource0/current_clocksource >&2; $bench_out/cc_switch ${BENCH_ARGS:-}" \
	BOOT_ARGS="${BOOT_ARGS:-} tsc=reliable${khz:+ tsc_early_khz=$khz}" STAGE=bench "$ROOT/scripts/vm.sh" || rc=$?
clock=$(head -n 1 "$bench_out/vm/cmd.log" 2>/dev/null || true)
# tsc-early reads the TSC too: it stays when the refined calibration gives up (a busy host)
case $clock in
tsc | tsc-early) ;;
*) warn "the guest's clocksource is ${clock:-unknown}, not the TSC: latencies come in jiffies" ;;
esac
[ "$rc" -eq 0 ] || die "the bench failed in the guest (exit $rc); see $bench_out/vm/cmd.log"
{
	echo "make bench, $(date -u '+%Y-%m-%d %H:%M UTC'); host: $(sed -n 's/^model name\s*: //p' /proc/cpuinfo | head -n 1), $(nproc) cores; guest: $(cat "$bench_out/vm/accel"), ${VM_CPUS:-2} vCPUs, clocksource ${clock:-unknown}, kernel $(cat "$BUILD/include/config/kernel.release") ($FLAVOR flavor: $([ "$FLAVOR" = debug ] && echo 'KASAN, lockdep, kmemleak' || echo 'no debug options'))"
	sed 1d "$bench_out/vm/cmd.log" | grep -v '^round \|^  6.1 way: '
} | tee "$bench_out/table.txt"
say "table: $bench_out/table.txt"
stage_end
