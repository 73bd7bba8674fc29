#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# `make check`: everything, from whatever the machine has.
#   1. set-up (packages, toolchains, kernel source, busybox),
#   2. host tests (cargo test, the test bed's own tests),
#   3. for each kernel flavour (TOCPATCH_FLAVOURS, default
#      "mprofile ool livepatch"): build the kernel and our modules, boot the
#      guest, run the selftests (TOCPATCH_TESTS, separated by spaces or
#      commas; default all of them); on the livepatch flavour only
#      test-livepatch.sh (tocpatch must refuse to load there) and
#      test-bench.sh (the benchmark's livepatch side, short).
# Ends with a line per flavour, run or skipped and why (a skipped flavour
# also counts as one skipped test), and last "N passed, N failed,
# N skipped" over all of them; exits non-zero if anything failed.
# On ool the selftests run on the direct path (tocpatch's default there);
# further boots run them all again (or TOCPATCH_CALLBACK_TESTS) with
# tocpatch.ko's direct=0, the callback path, the stress test with
# TOCPATCH_CALLBACK_STRESS_CYCLES cycles (default 200: the path's per-call
# code is the same in every cycle; mprofile runs the callback path with
# the full count).
# TOCPATCH_ICOUNT=1 boots the guests with one vCPU under instruction
# counting (run-guest.sh -I), for measurements; tests needing 2 CPUs skip.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

# The flavours a full check runs; TOCPATCH_FLAVOURS may name fewer (then
# the others are reported as skipped) or others (nodebug).
CHECK_FLAVOURS="mprofile ool livepatch"
flavours=${TOCPATCH_FLAVOURS:-$CHECK_FLAVOURS}
t0=$(date +%s)
"$TESTBED_DIR/setup.sh"

passed=0 failed=0 skipped=0
add_counts() { # "x: P passed, F failed, S skipped"
	local p f s
	read -r p f s < <(sed -n 's/.* \([0-9]*\) passed, \([0-9]*\) failed, \([0-9]*\) skipped.*/\1 \2 \3/p' <<<"$1")
	passed=$((passed + ${p:-0})) failed=$((failed + ${f:-0})) skipped=$((skipped + ${s:-0}))
}

log "host tests (cargo test, testbed/tests)"
hostout=$("$TESTBED_DIR/host-test.sh") && hrc=0 || hrc=$?
echo "$hostout" | grep -E '^test result:|FAILED|panicked|^not ok ' | sed 's/^/  | /'
hp=$(sed -n 's/^test result: .* \([0-9]*\) passed; \([0-9]*\) failed.*/\1/p' <<<"$hostout" | paste -sd+ | bc)
hf=$(sed -n 's/^test result: .* \([0-9]*\) passed; \([0-9]*\) failed.*/\2/p' <<<"$hostout" | paste -sd+ | bc)
# The test bed's own tests print TAP.
hp=$((${hp:-0} + $(grep -c '^ok ' <<<"$hostout" || true)))
hf=$((${hf:-0} + $(grep -c '^not ok ' <<<"$hostout" || true)))
[ "$hrc" = 0 ] || { echo "$hostout" | tail -n 30; hf=$((hf + 1)); }
add_counts "host: $hp passed, $hf failed, 0 skipped"
summary=("host: $hp passed, $hf failed")

logs=$LOG_DIR
mkdir -p "$logs"
# skip_flavour FLAVOUR REASON: not run; said in the summary, and counted
# as one skipped test so that the last line shows it too.
skip_flavour() {
	log "flavour $1: skipped ($2)"
	summary+=("flavour $1: skipped ($2)")
	add_counts "x: 0 passed, 0 failed, 1 skipped"
}

# The script that gets a boot of its own (see below).
IDLE_KILL=test-ftrace-kill-idle.sh
# The scripts the ool callback-path boots run (default: all of them).
CALLBACK_TESTS=${TOCPATCH_CALLBACK_TESTS-$(cd "$TOP_DIR/selftests" && echo test-*.sh)}
CALLBACK_STRESS=${TOCPATCH_CALLBACK_STRESS_CYCLES:-200}

# guest_run FLAVOUR KOUT IMAGE LOG EXPECT TESTS_ARG [STRESS]: one boot of
# the guest running the scripts EXPECT (TESTS_ARG: the TOCPATCH_TESTS word,
# if any; STRESS: the stress test's cycles, if not TOCPATCH_STRESS_CYCLES);
# adds its counts and sets v to its verdict.
guest_run() {
	local rc stress=${7:-${TOCPATCH_STRESS_CYCLES:-}}
	"$TESTBED_DIR/run-guest.sh" -k "$2/vmlinux" -i "$3" \
		-l "$logs/$4.log" -s 2 -m 2G -t 1800 -e "$5" \
		${TOCPATCH_ICOUNT:+-I} \
		-a "$6 ${stress:+TOCPATCH_STRESS_CYCLES=$stress} ${TOCPATCH_FAULT_STRIDE:+TOCPATCH_FAULT_STRIDE=$TOCPATCH_FAULT_STRIDE} ${TOCPATCH_MODRACE_ROUNDS:+TOCPATCH_MODRACE_ROUNDS=$TOCPATCH_MODRACE_ROUNDS}" \
		&& rc=0 || rc=$?
	v=$(cat "$logs/$4.log.verdict" 2>/dev/null) || v="guest: 0 passed, 1 failed, 0 skipped"
	add_counts "$v"
	# A failed run without a failed test (timeout, kernel problem, no test)
	# still counts as one failure.
	if [ "$rc" != 0 ] && grep -q ' 0 failed' <<<"$v"; then
		add_counts "x: 0 passed, 1 failed, 0 skipped"
		v="$v, and the run failed"
	fi
}

for fl in $CHECK_FLAVOURS; do
	case " $flavours " in
	*" $fl "*) ;;
	*) skip_flavour "$fl" "TOCPATCH_FLAVOURS=\"$flavours\"" ;;
	esac
done
for fl in $flavours; do
	tests=${TOCPATCH_TESTS:-}
	tests=$(echo ${tests//,/ })
	if [ "$fl" = livepatch ]; then
		# Its tests: tocpatch refuses to load on CONFIG_LIVEPATCH_64;
		# the benchmark's short run (its livepatch side).
		lt=""
		case " $tests " in "  " | *" test-livepatch.sh "*) lt=test-livepatch.sh ;; esac
		case " $tests " in "  " | *" test-bench.sh "*) lt="$lt test-bench.sh" ;; esac
		if [ -z "$lt" ]; then
			skip_flavour "$fl" "TOCPATCH_TESTS=\"$tests\" has neither test-livepatch.sh nor test-bench.sh, its only tests"
			continue
		fi
		tests=$(echo $lt)
	fi
	kout=$("$TESTBED_DIR/build-kernel.sh" "$fl")
	mo=$(build_modules "$fl" "$kout")
	objs=""
	if [ "$fl" != livepatch ]; then
		log "object checks ($fl)"
		objout=$("$TESTBED_DIR/object-checks.sh" "$mo") || true
		sed 's/^/  | /' <<<"$objout"
		op=$(grep -c '^ok ' <<<"$objout") || true
		of=$(grep -c '^not ok ' <<<"$objout") || true
		objs="x: $op passed, $of failed, 0 skipped"
		add_counts "$objs"
		objs=", object checks ${objs#x: }"
	fi
	img=$mo/initramfs-check.cpio
	"$TESTBED_DIR/mkinitramfs.sh" "$img" "$mo" "$TESTBED_DIR/guest/run-selftests.sh"
	# The scripts that must run: the guest gets them comma-separated (one
	# word of the kernel command line); the verdict fails any that did not.
	expect=$(echo ${tests:-$(cd "$TOP_DIR/selftests" && echo test-*.sh)})
	# test-ftrace-kill-idle.sh kills ftrace with no patch enabled, and
	# test-ftrace-kill.sh needs ftrace alive until it kills it with a
	# patch: the first gets a boot of its own.
	solo=""
	case " $expect " in
	*" $IDLE_KILL "*)
		solo=$IDLE_KILL
		expect=$(echo $(echo " $expect " | sed "s/ $IDLE_KILL / /"))
		;;
	esac
	if [ -n "$expect" ]; then
		guest_run "$fl" "$kout" "$img" "check-$fl" "$expect" "${tests:+TOCPATCH_TESTS=${expect// /,}}"
		ran=${tests:+$expect}
		summary+=("flavour $fl: ran ${ran:-all tests}: $v$objs")
		objs=""
	fi
	if [ -n "$solo" ]; then
		guest_run "$fl" "$kout" "$img" "check-$fl-idle" "$solo" "TOCPATCH_TESTS=$solo"
		summary+=("flavour $fl, a boot of its own: ran $solo: $v$objs")
	fi
	# ool: the callback path too, on the scripts of CALLBACK_TESTS that
	# this run selected, the idle ftrace kill again in a boot of its own.
	cb="" cbsolo=""
	if [ "$fl" = ool ]; then
		for t in $CALLBACK_TESTS; do
			case " ${tests:-$t} " in *" $t "*) ;; *) continue ;; esac
			case $t in
			"$IDLE_KILL") cbsolo=$t ;;
			*) cb="$cb $t" ;;
			esac
		done
		cb=$(echo $cb)
	fi
	if [ -n "$cb" ]; then
		guest_run "$fl" "$kout" "$img" "check-$fl-callbacks" "$cb" "TOCPATCH_TESTS=${cb// /,} TOCPATCH_PARAMS=direct=0" "$CALLBACK_STRESS"
		cbran="all tests"
		if [ -n "$tests" ] || [ -n "${TOCPATCH_CALLBACK_TESTS+set}" ]; then
			cbran=$cb
		fi
		summary+=("flavour $fl, callback path (direct=0): ran $cbran: $v")
	fi
	if [ -n "$cbsolo" ]; then
		guest_run "$fl" "$kout" "$img" "check-$fl-callbacks-idle" "$cbsolo" "TOCPATCH_TESTS=$cbsolo TOCPATCH_PARAMS=direct=0"
		summary+=("flavour $fl, callback path (direct=0), a boot of its own: ran $cbsolo: $v")
	fi
done

log "all done in $(($(date +%s) - t0)) s"
printf '%s\n' "${summary[@]}"
echo "$passed passed, $failed failed, $skipped skipped"
[ "$failed" = 0 ]
