#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# `make demo`: set up, build the kernel (TOCPATCH_FLAVOUR, default
# mprofile) and our modules, boot the guest and run guest/demo.sh there,
# showing its whole console.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

fl=${TOCPATCH_FLAVOUR:-mprofile}
"$TESTBED_DIR/setup.sh"
kout=$("$TESTBED_DIR/build-kernel.sh" "$fl")
mo=$(build_modules "$fl" "$kout")
img=$mo/initramfs-demo.cpio
"$TESTBED_DIR/mkinitramfs.sh" "$img" "$mo" "$TESTBED_DIR/guest/demo.sh"
mkdir -p "$LOG_DIR"
"$TESTBED_DIR/run-guest.sh" -v -k "$kout/vmlinux" -i "$img" \
	-l "$LOG_DIR/demo-$fl.log" -s 2 -m 1G -t 300 -a quiet
