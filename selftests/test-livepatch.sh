#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# On a kernel with CONFIG_LIVEPATCH_64, the kernel's livepatch_handler
# would take over every call whose nip an ftrace callback changes, so
# tocpatch must refuse to load there: -EOPNOTSUPP and one log line.
# (make check-livepatch runs this on the livepatch flavour; elsewhere it
# has nothing to check and says so.)

. "$(dirname "$0")/lib.sh"

tap_plan 3
if [ ! -d /sys/kernel/livepatch ]; then
	tap_skip "refused on a LIVEPATCH kernel" "kernel without CONFIG_LIVEPATCH"
	tap_skip "one log line" "kernel without CONFIG_LIVEPATCH"
	tap_skip "not loaded" "kernel without CONFIG_LIVEPATCH"
	tap_done
fi
log_mark
out=$(load_mod tocpatch) && rc=0 || rc=$?
tap_check "insmod is refused: ${out##*: } (want EOPNOTSUPP)" \
	refused_with "$rc" "$out" "$(insmod_errno_text EOPNOTSUPP)"
lines=$(log_since | grep 'tocpatch: ' | grep -v 'taints kernel' | sed 's/^\[[ 0-9.]*\] //' | sort -u)
tap_check "one log line: $lines" [ "$(printf '%s\n' "$lines" | grep -c .)" = 1 ]
tap_check "not loaded" mod_absent tocpatch
tap_done
