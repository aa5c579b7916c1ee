# struct_ops links for Linux 6.1: the stages that take a fresh machine to a patched,
# built, booted kernel running test_progs. See README.md.
#
#   make            deps + base + apply + build: the patched kernel and test_progs
#   make test       all of the above, then boot it and run the tests (T=...), then report
#
# Variables: KERNEL_SRC=/path/to/linux-6.1.y (instead of Debian's linux-source-6.1),
# T=test1,test2 (test_progs filter), FLAVOR=debug|fast, CACHE=dir, JOBS=n, VM_TIMEOUT=s.

export KERNEL_SRC T FLAVOR CACHE JOBS VM_TIMEOUT ACCEL FORCE KEEP_BUILDS BOOT_ARGS GUEST_SCRIPT \
	REPEAT ALONE MUT
S := scripts

.PHONY: all deps base apply build vm report test check export fast fast-test \
	test-base per-patch stubs upstream-demo repeat mutate
all: build

deps:
	@$(S)/deps.sh
base: deps
	@$(S)/base.sh
apply: base
	@$(S)/apply.sh
build: apply
	@$(S)/build.sh
vm:
	@$(S)/vm.sh
report:
	@$(S)/report.sh

# The main test: build, boot, run, judge. The closing line is "N passed, N failed, N skipped".
test: build
	@$(S)/vm.sh; rc=$$?; $(S)/report.sh && exit $$rc

# The faster non-debug kernel for the edit loop (CI judges the debug one).
fast:
	@$(MAKE) --no-print-directory build FLAVOR=fast
fast-test:
	@$(MAKE) --no-print-directory test FLAVOR=fast

check: base
	@$(S)/check.sh
export: base
	@$(S)/export.sh

# Not part of .ci/run: the series' tests on the unpatched kernel (they must all FAIL there),
# every patch building on its own, and the !BPF_JIT !INET stubs building.
test-base: build
	@$(S)/test-base.sh
per-patch: base
	@$(S)/per-patch.sh
stubs: apply
	@$(S)/stubs.sh

# Not part of .ci/run: one boot, the tests T run REPEAT (10) more times in a row, then each
# subtest of the series' tests alone; every run must pass, no splat, kmemleak clean.
repeat: build
	@$(S)/repeat.sh

# Not part of .ci/run: every mutations/*.patch (a deliberate break of the series' kernel code)
# must make the series' tests fail; prints the table break -> what caught it, or SURVIVED.
mutate: build
	@$(S)/mutate.sh

# Not part of .ci/run: the same-map fix (upstream/6.12/) on Debian's linux-source-6.12: the
# selftest must fail on stock 6.12 and pass with the fix.
upstream-demo: deps
	@$(S)/upstream-demo.sh
