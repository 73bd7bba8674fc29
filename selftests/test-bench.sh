#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# The benchmark's guest side (bench/, Documentation/performance.rst).
# make check runs it short (its defaults) to show that every case works:
# it asserts only that every timed loop called the function it had to
# (each result checked: the original returns x + 1, any replacement
# x + 2), that each engine loads, patches and unpatches, never a time.
# make bench (testbed/bench.sh) runs it long under qemu -icount and reads
# the figures it prints, one line each:
#   tocpatch-bench: loop ENGINE FUNCS CALLER IRQOFF CALLS NS BAD
#   tocpatch-bench: enable ENGINE FUNCS NS KERNEL_NS
#   tocpatch-bench: disable ENGINE FUNCS NS
#   tocpatch-bench: smp ENGINE CPUS CALLS NS BAD
#   tocpatch-bench: mem WHAT ENGINE FUNCS SLAB_BYTES VMALLOC_BYTES PERCPU_BYTES
#   tocpatch-bench: modsize MODULE BYTES
# ENGINE: none (unpatched), ftrace (an empty ftrace_ops), tocpatch,
# livepatch (CONFIG_LIVEPATCH kernels, where tocpatch refuses to load),
# direct (an ftrace direct call to an assembly trampoline, kernels with
# DIRECT_CALLS only); FUNCS: how many functions the engine is on (the loop
# calls the first); CALLER: local (same module) or global (another
# module); NS: guest ktime_get_ns() time (enable: from insmod to done,
# livepatch until its transition reads 0; KERNEL_NS: the enable call
# alone, as the patch module timed it; disable: from the write of 0 to
# enabled until released, livepatch until its transition reads 0).
# Parameters (kernel command line):
#   TOCPATCH_BENCH_N       calls per loop with one function (default 2000);
#                          with FUNCS functions max(N / FUNCS, NMIN)
#   TOCPATCH_BENCH_NMIN    (default 200)
#   TOCPATCH_BENCH_FUNCS   function counts, comma-separated (default 1,10)
#   TOCPATCH_BENCH_SMP     calls per CPU of the concurrent run, 0 for none
#                          (default 2000; needs 2 CPUs)
#   TOCPATCH_BENCH_SMP_REPEAT  how many concurrent runs (default 1)

. "$(dirname "$0")/lib.sh"

N=${TOCPATCH_BENCH_N:-2000}
NMIN=${TOCPATCH_BENCH_NMIN:-200}
FUNCS=$(echo "${TOCPATCH_BENCH_FUNCS:-1,10}" | tr , ' ')
SMP_N=${TOCPATCH_BENCH_SMP:-2000}
SMP_REPEAT=${TOCPATCH_BENCH_SMP_REPEAT:-1}
B=/sys/kernel/debug/tocpatch_bench
LP=/sys/kernel/livepatch
ORIG=1
REPL=2

fig() {
	echo "tocpatch-bench: $*"
}

# now: the guest's ktime_get_ns() into $now (builtins only: no fork).
now() {
	read -r now <"$B/now"
}

nfuncs() {
	echo $FUNCS | wc -w
}

calls_for() { # FUNCS (0: unpatched)
	c=$((N / ($1 > 0 ? $1 : 1)))
	[ "$c" -ge "$NMIN" ] || c=$NMIN
	echo "$c"
}

# loop ENGINE FUNCS CALLER IRQOFF CALLS EXPECT: one timed loop; one test
# (every result was the expected one).
loop() {
	if ! echo "$5 $6 $4" >"$B/$3"; then
		tap_not_ok "$1 on $2: $3 calls, irqoff $4: the run was refused"
		return
	fi
	read -r _ ns _ calls _ bad <"$B/$3"
	fig "loop $1 $2 $3 $4 $calls $ns $bad"
	tap_check "$1 on $2: $calls $3 calls, irqoff $4: $bad result(s) not x + $6" \
		[ "$bad" = 0 -a "$calls" = "$5" ]
}

# loops ENGINE FUNCS EXPECT: the four loops (4 tests).
loops() {
	c=$(calls_for "$2")
	for caller in local global; do
		for irqoff in 0 1; do
			loop "$1" "$2" $caller $irqoff "$c" "$3"
		done
	done
}

# after ENGINE FUNCS: the originals run again (2 tests; figures under
# ENGINE-off).
after() {
	loop "$1-off" "$2" local 0 100 $ORIG
	loop "$1-off" "$2" global 0 100 $ORIG
}

# smp ENGINE EXPECT: both CPUs call tp_bench_fn_000 at once, SMP_REPEAT
# times (1 test: every result right in every run).
smp() {
	if [ "$SMP_N" = 0 ] || [ "$(nproc)" -lt 2 ]; then
		tap_skip "$1: 2 CPUs calling at once" "needs 2 CPUs and TOCPATCH_BENCH_SMP > 0"
		return
	fi
	r=0 allbad=0 cpus=0
	while [ $r -lt "$SMP_REPEAT" ]; do
		if ! echo "$SMP_N $2" >"$B/smp"; then
			tap_not_ok "$1: 2 CPUs calling at once: the run was refused"
			return
		fi
		read -r _ ns _ calls _ bad _ cpus <"$B/smp"
		fig "smp $1 $cpus $calls $ns $bad"
		allbad=$((allbad + bad))
		r=$((r + 1))
	done
	tap_check "$1: $cpus CPUs x $SMP_N calls at once, $SMP_REPEAT time(s): $allbad result(s) not x + $2" \
		[ "$allbad" = 0 -a "$cpus" -ge 2 ]
}

# mem_mark, mem_fig WHAT ENGINE FUNCS: the growth of the kernel's slab,
# vmalloc and per-CPU memory (Slab:, VmallocUsed:, Percpu: of
# /proc/meminfo) since the mark.
meminfo_kb() {
	v=$(sed -n "s/^$1: *\([0-9]*\) kB/\1/p" /proc/meminfo)
	echo "${v:-0}"
}
mem_mark() {
	m_slab=$(meminfo_kb Slab) m_vm=$(meminfo_kb VmallocUsed)
	m_pcpu=$(meminfo_kb Percpu)
}
mem_fig() {
	fig "mem $1 $2 $3 $((($(meminfo_kb Slab) - m_slab) * 1024))" \
		"$((($(meminfo_kb VmallocUsed) - m_vm) * 1024))" \
		"$((($(meminfo_kb Percpu) - m_pcpu) * 1024))"
}

# Which engines this kernel has.
have_klp=0 have_direct=0
[ -d "$LP" ] && have_klp=1
[ -f "$MODDIR/tocpatch_bench_direct.ko" ] && have_direct=1
nf=$(nfuncs)
# load 1, unload 1; none 4 + smp 1; ftrace per count 6; tocpatch 1 + per count 9 + smp 1;
# livepatch per count 9 + smp 1; direct 8; tocpatch's callback path on a
# kernel with direct calls (tocpatch-cb): reload 2 + 9 + smp 1.
plan=$((1 + 4 + 1 + 6 * nf + 1))
if [ $have_klp = 1 ]; then
	plan=$((plan + 9 * nf + 1))
else
	plan=$((plan + 1 + 9 * nf + 1))
fi
[ $have_direct = 1 ] && plan=$((plan + 8))
[ $have_direct = 1 ] && [ $have_klp = 0 ] && plan=$((plan + 12))
tap_plan $plan

out=$(load_mod tocpatch_bench_target) && out=$(load_mod tocpatch_bench_caller)
tap_check "bench modules load: ${out:-ok}" [ -z "$out" ]

loops none 0 $ORIG
smp none $ORIG

for k in $FUNCS; do
	now
	t0=$now
	out=$(load_mod tocpatch_bench_ftrace nfuncs="$k")
	now
	tap_check "ftrace ops on $k functions: ${out:-ok}" [ -z "$out" ]
	fig "enable ftrace $k $((now - t0)) 0"
	loops ftrace "$k" $ORIG
	now
	t0=$now
	out=$(unload_mod tocpatch_bench_ftrace)
	now
	tap_check "ftrace ops off: ${out:-ok}" [ -z "$out" ]
	fig "disable ftrace $k $((now - t0))"
done

# klp_settle: wait until livepatch's transition reads 0 (or the patch is
# gone), looking every 2 ms (which adds up to 2 ms to livepatch's time).
# The wait sleeps between looks: a poller that spun would compete for the
# one vCPU with livepatch's work and, never switching voluntarily, could
# hold up RCU-tasks grace periods on that path. (Measured both ways, the
# figures were the same.) The look itself is builtins only.
klp_settle() {
	while [ -e "$LP/tocpatch_bench_klp" ] &&
		read -r tr <"$LP/tocpatch_bench_klp/transition" && [ "$tr" != 0 ]; do
		usleep 2000
	done
}

# enable_patch ENGINE K: load ENGINE's patch module of K functions, timed
# until the patch is in place (1 test).
enable_patch() {
	log_mark
	now
	t0=$now
	if [ "${1%-cb}" = tocpatch ]; then
		out=$(load_mod tocpatch_bench_patch nfuncs="$2")
	else
		out=$(load_mod tocpatch_bench_klp nfuncs="$2")
		[ -n "$out" ] || klp_settle
	fi
	now
	kns=$(log_since | sed -n 's/.* enable of [0-9]* functions: \([0-9]*\) ns.*/\1/p' | tail -n 1)
	tap_check "$1: enable of $2 functions: ${out:-ok}" [ -z "$out" ]
	fig "enable $1 $2 $((now - t0)) ${kns:-0}"
}

# disable_patch ENGINE K: disable and unload it, timed until released
# (2 tests, and the 2 of after between them).
disable_patch() {
	now
	t0=$now
	if [ "${1%-cb}" = tocpatch ]; then
		echo 0 >"$SYSFS/tocpatch_bench_patch/enabled" && rc=0 || rc=$?
		m=tocpatch_bench_patch
	else
		echo 0 >"$LP/tocpatch_bench_klp/enabled" && rc=0 || rc=$?
		klp_settle
		m=tocpatch_bench_klp
	fi
	now
	tap_check "$1: disable of $2 functions (status $rc)" [ "$rc" = 0 ]
	fig "disable $1 $2 $((now - t0))"
	after "$1" "$2"
	# livepatch frees its patch (and drops the module) in a work item.
	i=0
	while ! out=$(unload_mod $m) && [ $i -lt 100 ]; do
		sleep 0.1
		i=$((i + 1))
	done
	tap_check "$1: patch module unloads: ${out:-ok}" mod_absent $m
}

if [ $have_klp = 1 ]; then
	engine=livepatch
else
	engine=tocpatch
	mem_mark
	out=$(load_mod tocpatch)
	tap_check "tocpatch loads: ${out:-ok}" [ -z "$out" ]
	mem_fig load tocpatch 0
	fig "modsize tocpatch $(awk '$1 == "tocpatch" { print $2 }' /proc/modules)"
fi
for k in $FUNCS; do
	mem_mark
	enable_patch $engine "$k"
	mem_fig enable $engine "$k"
	loops $engine "$k" $REPL
	[ "$k" = "$(echo $FUNCS | cut -d' ' -f1)" ] && smp $engine $REPL
	disable_patch $engine "$k"
done

# On a kernel with direct calls tocpatch took the direct path above; its
# callback path (direct=0) too, on one function, as engine tocpatch-cb.
if [ $have_direct = 1 ] && [ $have_klp = 0 ]; then
	log_mark
	out=$(unload_mod tocpatch; load_mod tocpatch direct=0)
	tap_check "tocpatch reloads with direct=0: ${out:-ok}" [ -z "$out" ]
	tap_check "  and hooks through callbacks" log_has 'hooks through ftrace callbacks'
	enable_patch tocpatch-cb 1
	loops tocpatch-cb 1 $REPL
	smp tocpatch-cb $REPL
	disable_patch tocpatch-cb 1
fi

if [ $have_direct = 1 ]; then
	out=$(load_mod tocpatch_bench_direct)
	tap_check "direct call on 1 function: ${out:-ok}" [ -z "$out" ]
	loops direct 1 $REPL
	out=$(unload_mod tocpatch_bench_direct)
	tap_check "direct call off: ${out:-ok}" [ -z "$out" ]
	after direct 1
fi
unload_mod tocpatch_bench_caller >/dev/null
unload_mod tocpatch_bench_target >/dev/null
[ $have_klp = 1 ] || unload_mod tocpatch >/dev/null
tap_check "bench modules unload" mod_absent tocpatch_bench_target
tap_done
