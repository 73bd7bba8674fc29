#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# `make check`: everything, from whatever the machine has.
#   1. set-up (packages, toolchains, kernel source, busybox),
#   2. host tests (cargo test),
#   3. for each ftrace flavour (TOCPATCH_FLAVOURS, default "mprofile ool"):
#      build the kernel and our modules, boot the guest, run the selftests.
# Ends with "N passed, N failed, N skipped" over all of them; exits non-zero
# if anything failed.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

flavours=${TOCPATCH_FLAVOURS:-mprofile ool}
t0=$(date +%s)
"$TESTBED_DIR/setup.sh"

passed=0 failed=0 skipped=0
add_counts() { # "x: P passed, F failed, S skipped"
	local p f s
	read -r p f s < <(sed -n 's/.* \([0-9]*\) passed, \([0-9]*\) failed, \([0-9]*\) skipped.*/\1 \2 \3/p' <<<"$1")
	passed=$((passed + ${p:-0})) failed=$((failed + ${f:-0})) skipped=$((skipped + ${s:-0}))
}

log "host tests (cargo test)"
hostout=$("$TESTBED_DIR/host-test.sh") && hrc=0 || hrc=$?
echo "$hostout" | grep -E '^test result:|FAILED|panicked' | sed 's/^/  | /'
hp=$(sed -n 's/^test result: .* \([0-9]*\) passed; \([0-9]*\) failed.*/\1/p' <<<"$hostout" | paste -sd+ | bc)
hf=$(sed -n 's/^test result: .* \([0-9]*\) passed; \([0-9]*\) failed.*/\2/p' <<<"$hostout" | paste -sd+ | bc)
[ "$hrc" = 0 ] || { echo "$hostout" | tail -n 30; hf=$((${hf:-0} + 1)); }
add_counts "host: ${hp:-0} passed, ${hf:-0} failed, 0 skipped"

logs=$LOG_DIR
mkdir -p "$logs"
for fl in $flavours; do
	kout=$("$TESTBED_DIR/build-kernel.sh" "$fl")
	mo=$(build_modules "$fl" "$kout")
	log "object checks ($fl)"
	objout=$("$TESTBED_DIR/object-checks.sh" "$mo") || true
	sed 's/^/  | /' <<<"$objout"
	add_counts "x: $(grep -c '^ok ' <<<"$objout") passed, $(grep -c '^not ok ' <<<"$objout") failed, 0 skipped"
	img=$mo/initramfs-check.cpio
	"$TESTBED_DIR/mkinitramfs.sh" "$img" "$mo" "$TESTBED_DIR/guest/run-selftests.sh"
	"$TESTBED_DIR/run-guest.sh" -k "$kout/vmlinux" -i "$img" \
		-l "$logs/check-$fl.log" -s 2 -m 2G -t 1800 \
		-a "${TOCPATCH_TESTS:+TOCPATCH_TESTS=$(echo $TOCPATCH_TESTS | tr " " ,)} ${TOCPATCH_STRESS_CYCLES:+TOCPATCH_STRESS_CYCLES=$TOCPATCH_STRESS_CYCLES}" \
		&& rc=0 || rc=$?
	v=$(cat "$logs/check-$fl.log.verdict" 2>/dev/null) || v="guest: 0 passed, 1 failed, 0 skipped"
	add_counts "$v"
	# A failed run without a failed test (timeout, kernel problem, no test)
	# still counts as one failure.
	if [ "$rc" != 0 ] && grep -q ' 0 failed' <<<"$v"; then
		add_counts "x: 0 passed, 1 failed, 0 skipped"
	fi
done

log "all done in $(($(date +%s) - t0)) s"
echo "$passed passed, $failed failed, $skipped skipped"
[ "$failed" = 0 ]
