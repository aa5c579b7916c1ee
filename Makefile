# struct_ops links for Linux 6.1: the stages that take a fresh machine to a patched,
# built, booted kernel running test_progs. See README.md; "make help" lists the targets
# (the "#:" lines) and the variables (the "#=" lines).

#= DEB_PIN=6.1.x-n	the version of Debian's linux-source-6.1 to use as the base (default: the pinned one)
#= BASE=vanilla		vanilla 6.1.y instead: the .orig tarball of Debian's linux source package at DEB_PIN
#= ARCH=arm64		cross-build for arm64 and boot qemu-system-aarch64 (virt, TCG) with an arm64 Debian root
#= KERNEL_SRC=dir	a 6.1.y git tree to use instead of Debian's linux-source-6.1 (cloned, never modified)
#= KERNEL_TREE=dir	a 6.1.y tree built and tested as it is (uncommitted changes included, no series applied, outputs in CACHE)
#= T=a,b		test_progs -a filter of make test / make vm (globs allowed, passed quoted)
#= CMD='...'		make vm: the command line to run in the guest instead of the tests
#= FLAVOR=debug|fast|kcsan	the kernel: debug (what make test and CI judge), fast, or kcsan (KCSAN, the race subtests)
#= VM_CPUS=2 VM_MEM=2G	guest CPUs and memory; VM_TIMEOUT=1200 seconds per boot
#= CACHE=dir		builds and downloads (default ~/.cache/bpf-struct-ops-link-6.1)
#= JOBS=n		make -j for the builds (default: nproc)
#= ACCEL=kvm|tcg	skip the KVM probe; BOOT_ARGS='...' more kernel command line
#= REPEAT=10 ALONE=a,b	make repeat: runs of T, and the tests whose subtests run alone
#= BENCH_ARGS='...'	make bench: -r rounds -n switches -t connecting threads -c calls
#= MUT='glob,glob'	make mutate, make model, make differential: which mutations/*.patch to try
#= SEED=1 SEEDS=20 OPS=1000	make model, make differential: the first seed, how many seeds, operations per seed
#= BASES_TEST=a,b	make bases: the bases to test (debian-6.1.x-n, vanilla-6.1.x-n, either with @arm64; default: newest, pinned, oldest, vanilla, pinned@arm64; none: none)
#= FORCE=1		discard work-tree commits that were not exported
#= KEEP_BUILDS=n	build directories kept in the cache (default 2)

export DEB_PIN BASE BASES_TEST KERNEL_SRC KERNEL_TREE T FLAVOR CACHE JOBS VM_TIMEOUT ACCEL FORCE KEEP_BUILDS BOOT_ARGS GUEST_SCRIPT \
	REPEAT ALONE MUT CMD VM_CPUS VM_MEM BENCH_ARGS SEED SEEDS OPS
SCRIPTS := scripts

.PHONY: all help deps base apply build vm shell report id test check export fast fast-test \
	test-base per-patch stubs upstream-demo differential repeat mutate model coverage regress bench bases debian-config deb
#: all		deps + base + apply + build: the patched kernel and test_progs (the default)
all: build

#: help		this list
help:
	@echo "Targets:"
	@awk -F'\t+' '/^#: /{ sub(/^#: /, ""); printf "  make %-14s %s\n", $$1, $$2 }' Makefile
	@echo "Variables (make VAR=value target):"
	@awk -F'\t+' '/^#= /{ sub(/^#= /, ""); printf "  %-22s %s\n", $$1, $$2 }' Makefile

#: deps		install what is missing (apt-get, as root)
deps:
	@$(SCRIPTS)/deps.sh
#: base		Debian's linux-source-6.1 at DEB_PIN (BASE=vanilla, KERNEL_SRC) as a git work tree in the cache
base: deps
	@$(SCRIPTS)/base.sh
#: apply		git am of prereq/ (where the base lacks it) and patches/ onto the base (when they changed)
apply: base
	@$(SCRIPTS)/apply.sh
#: build		the kernel (FLAVOR) and test_progs, under O= in the cache
build: apply
	@$(SCRIPTS)/build.sh
#: vm		boot the built kernel and run the tests T, or CMD='...' (fails as CMD does)
vm:
	@$(SCRIPTS)/vm.sh
#: shell		boot the built kernel with a root shell on this terminal (Ctrl-A X stops QEMU)
shell:
	@VM_SHELL=1 $(SCRIPTS)/vm.sh
#: report		judge the last guest run: results, splats, kmemleak
report:
	@$(SCRIPTS)/report.sh
#: id		the series id that docs/measurements.md gives each figure (a hash of the diffs)
id:
	@bash -c '. $(SCRIPTS)/lib.sh && series_id'

# The main test: build, boot, run, judge. The closing line is "N passed, N failed, N skipped".
#: test		build, boot, run the tests T, judge (what .ci/run runs)
test: build
	@CMD= $(SCRIPTS)/vm.sh; rc=$$?; $(SCRIPTS)/report.sh && exit $$rc

# The faster non-debug kernel for the edit loop (CI judges the debug one).
#: fast		build with FLAVOR=fast (no KASAN, lockdep, kmemleak)
fast:
	@$(MAKE) --no-print-directory build FLAVOR=fast
#: fast-test	test with FLAVOR=fast
fast-test:
	@$(MAKE) --no-print-directory test FLAVOR=fast

#: check		the series applies; checkpatch --strict; uapi header copies; kernel-doc
check: base
	@$(SCRIPTS)/check.sh
#: export		git format-patch of the work tree's series into patches/
export: base
	@$(SCRIPTS)/export.sh

# Not part of .ci/run: the series' tests on the unpatched kernel (they must all FAIL there),
# every patch building on its own, and the !BPF_JIT !INET stubs building.
#: test-base	the series' tests on the unpatched kernel: every one must FAIL
test-base: build
	@$(SCRIPTS)/test-base.sh
#: per-patch	every patch applied and built on its own
per-patch: base
	@$(SCRIPTS)/per-patch.sh
#: stubs		the series builds with BPF_JIT=n and INET=n
stubs: apply
	@$(SCRIPTS)/stubs.sh
#: debian-config	the objects the series touches compile with Debian's own amd64 config
debian-config: apply
	@$(SCRIPTS)/debian-config.sh
#: deb		bindeb-pkg: linux-image/-headers .debs in out/deb/; boot the packaged kernel, run T
deb: build
	@$(SCRIPTS)/deb.sh

# Not part of .ci/run: one boot, the tests T run REPEAT (10) more times in a row, then each
# subtest of the series' tests alone; every run must pass, no splat, kmemleak clean.
#: repeat		one boot: T REPEAT more times, then each subtest alone; all must pass
repeat: build
	@$(SCRIPTS)/repeat.sh

# Not part of .ci/run: every mutations/*.patch (a deliberate break of the series' kernel code)
# must make the series' tests fail; prints the table break -> what caught it, or SURVIVED.
#: mutate		each mutations/*.patch must make the tests fail (table; not in CI)
mutate: build
	@$(SCRIPTS)/mutate.sh

# Not part of .ci/run: the model-based checks (struct_ops_link/model, model_threads): SEEDS seeds of OPS
# operations from SEED, or one seed again; every operation's result and effects against the model.
# MUT=: the models against make mutate's breaks instead, each built and checked in turn.
#: model		the model-based check of struct_ops links: SEED, SEEDS, OPS, MUT (not in CI)
model: build
	@$(SCRIPTS)/model.sh

# Not part of .ci/run: the gcov flavour runs the tests T; per patch, the kernel lines it adds
# that the tests ran (git blame names the patch of each line), and a list of the others.
#: coverage	per patch, the added kernel lines the tests run (gcov; not in CI)
coverage:
	@$(MAKE) --no-print-directory build FLAVOR=gcov
	@FLAVOR=gcov $(SCRIPTS)/coverage.sh

# Not part of .ci/run: the whole test_progs of the base on the base kernel and of the series on
# the series' kernel, same config (fast unless FLAVOR is given), compared test by test.
#: regress	whole test_progs, base vs base + series (FLAVOR=fast): nothing may regress
regress:
	@$(MAKE) --no-print-directory build FLAVOR=$(or $(FLAVOR),fast)
	@FLAVOR=$(or $(FLAVOR),fast) $(SCRIPTS)/regress.sh

# Not part of .ci/run: CC switching under connection churn, link update vs the 6.1 way, and
# the latency of the link calls (bench/cc_switch.c), on the fast kernel unless FLAVOR is given.
#: bench		struct_ops link benchmarks in the guest (FLAVOR=fast; BENCH_ARGS=...)
bench:
	@$(MAKE) --no-print-directory build FLAVOR=$(or $(FLAVOR),fast)
	@FLAVOR=$(or $(FLAVOR),fast) $(SCRIPTS)/bench.sh

# Not part of .ci/run: the fixes for upstream (upstream/6.12/) on Debian's linux-source-6.12:
# each of their selftests must fail on stock 6.12, and all must pass with the fixes.
#: upstream-demo	the upstream fixes on Debian's linux-source-6.12: fail stock, pass fixed
upstream-demo: deps
	@$(SCRIPTS)/upstream-demo.sh
#: differential	TCP congestion control link traces, 6.1 + series against 6.12 + upstream/6.12 (not in CI)
differential: build
	@$(SCRIPTS)/differential.sh

# Not part of .ci/run: every 6.1 base the archive offers (Debian's linux-source-6.1 versions
# and vanilla 6.1.y): does the series apply (with the prerequisites of prereq/ where the base
# lacks them); make test on the newest, the pinned and the oldest, and on vanilla.
#: bases		the series on every Debian 6.1 and on vanilla 6.1.y; the bases table of docs/measurements.md
bases: deps
	@$(SCRIPTS)/bases.sh
