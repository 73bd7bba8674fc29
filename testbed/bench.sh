#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# `make bench`: measure tocpatch against kernel livepatch, ftrace alone
# and an ftrace direct call (Documentation/performance.rst).
#   1. builds what it lacks: the kernels of TOCPATCH_BENCH_FLAVOURS
#      (default "mprofile livepatch ool livepatch-ool": tocpatch on each
#      ftrace mode and livepatch on the same one, tocpatch refusing to load
#      on a LIVEPATCH kernel), our modules and the bench modules (bench/);
#   2. boots each under qemu -icount shift=0,sleep=off (run-guest.sh -I:
#      single-threaded TCG, one vCPU; the guest clock advances one ns per
#      guest instruction and jumps over idle time, so a guest ktime_get_ns()
#      difference is an instruction count: exact, repeatable, free of host
#      load, which matters on a shared machine) and runs
#      selftests/test-bench.sh long: per-call loops with 1, 10, 100, 1000
#      functions patched, enable and disable of as many;
#   3. boots the ftrace flavours again without -icount, 2 vCPUs, for the
#      concurrent runs (host time: icount needs one vCPU), repeated;
#   4. prints the tables (bench/report.py) and writes them with the plot to
#      $TOCPATCH_CACHE/work/<checkout>/bench/ (the logs next to them);
#      TOCPATCH_BENCH_DOC=1 also copies the plot and the tables to
#      Documentation/ (performance.svg, performance-results.txt).
# Knobs: TOCPATCH_BENCH_N (calls per loop, default 100000),
# TOCPATCH_BENCH_FUNCS (default 1,10,100,1000), TOCPATCH_BENCH_SMP (calls
# per CPU, default 200000), TOCPATCH_BENCH_SMP_REPEAT (default 7),
# TOCPATCH_BENCH_SMP_FLAVOURS (default: the same four; "" for none).
# Every loop checks its results; a wrong result fails the run (exit 1),
# whatever the times.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

flavours=${TOCPATCH_BENCH_FLAVOURS:-mprofile livepatch ool livepatch-ool}
smp_flavours=${TOCPATCH_BENCH_SMP_FLAVOURS-mprofile livepatch ool livepatch-ool}
N=${TOCPATCH_BENCH_N:-100000}
FUNCS=${TOCPATCH_BENCH_FUNCS:-1,10,100,1000}
SMP_N=${TOCPATCH_BENCH_SMP:-200000}
SMP_REPEAT=${TOCPATCH_BENCH_SMP_REPEAT:-7}
out=$WORK_DIR/bench
# A 1000-function disable is minutes of guest time with a quiet console
# (mostly skipped idle time under -icount, but not on a slow host).
export TOCPATCH_STALL=${TOCPATCH_STALL:-900}
t0=$(date +%s)
"$TESTBED_DIR/setup.sh"
mkdir -p "$out" "$LOG_DIR"

fail=0
# run FLAVOUR KIND RUN-GUEST-ARGS...: build, boot, run test-bench.sh.
run() {
	local fl=$1 kind=$2 kout mo img
	shift 2
	kout=$("$TESTBED_DIR/build-kernel.sh" "$fl")
	mo=$(build_modules "$fl" "$kout")
	img=$mo/initramfs-bench.cpio
	"$TESTBED_DIR/mkinitramfs.sh" "$img" "$mo" "$TESTBED_DIR/guest/run-selftests.sh"
	log "bench $fl ($kind)"
	"$TESTBED_DIR/run-guest.sh" -k "$kout/vmlinux" -i "$img" -l "$out/bench-$kind-$fl.log" \
		-m 2G -t 7200 -e test-bench.sh "$@" || fail=1
}

logs=()
for fl in $flavours; do
	run "$fl" icount -I -a "TOCPATCH_TESTS=test-bench.sh TOCPATCH_BENCH_N=$N TOCPATCH_BENCH_NMIN=500 TOCPATCH_BENCH_FUNCS=$FUNCS TOCPATCH_BENCH_SMP=0"
	logs+=("$out/bench-icount-$fl.log")
done
for fl in $smp_flavours; do
	run "$fl" smp -s 2 -a "TOCPATCH_TESTS=test-bench.sh TOCPATCH_BENCH_N=1000 TOCPATCH_BENCH_FUNCS=1 TOCPATCH_BENCH_SMP=$SMP_N TOCPATCH_BENCH_SMP_REPEAT=$SMP_REPEAT"
	logs+=("$out/bench-smp-$fl.log")
done

commit=$(git -C "$TOP_DIR" describe --always --dirty 2>/dev/null || echo unknown)
python3 "$TOP_DIR/bench/report.py" --svg "$out/performance.svg" \
	--commit "$commit" "${logs[@]}" >"$out/performance-results.txt" || fail=1
cat "$out/performance-results.txt"
log "bench: results in $out (plot performance.svg, tables performance-results.txt)"
log "bench: done in $(($(date +%s) - t0)) s"
[ "$fail" = 0 ] || die "bench: a guest run failed or a loop got a wrong result: see the logs in $out (nothing copied to Documentation/)"
if [ "${TOCPATCH_BENCH_DOC:-0}" = 1 ]; then
	cp "$out/performance.svg" "$out/performance-results.txt" "$TOP_DIR/Documentation/"
	log "copied the plot and the tables to Documentation/"
fi
