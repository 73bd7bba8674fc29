#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# Make the guest's initramfs: mkinitramfs.sh OUT.cpio MODULE_DIR SCRIPT
#   MODULE_DIR  where build_modules put the .ko files (all are copied to
#               /tocpatch/modules, flat)
#   SCRIPT      what /init runs after mounting the pseudo filesystems:
#               testbed/guest/run-selftests.sh or testbed/guest/demo.sh
# The selftests/ directory is copied to /tocpatch/selftests, with its user
# program test_call_getpid built there (static, no C library: the cross
# compiler has none). The image is an uncompressed newc cpio; the kernel's
# built-in initramfs supplies /dev/console.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

out=${1:?usage: mkinitramfs.sh OUT.cpio MODULE_DIR SCRIPT}
moddir=${2:?module directory}
script=${3:?guest script}
[ -x "$BUSYBOX" ] || die "busybox missing: run testbed/setup.sh"

stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT
mkdir -p "$stage"/{bin,sbin,proc,sys,dev,tmp,root,etc} "$stage"/tocpatch/modules
cp "$BUSYBOX" "$stage/bin/busybox"
cp "$TESTBED_DIR/guest/init" "$stage/init"
cp "$script" "$stage/tocpatch/main.sh"
cp -r "$TOP_DIR/selftests" "$stage/tocpatch/selftests"
"${CROSS}gcc" -static -nostdlib -ffreestanding -fno-stack-protector -O2 -Wall -Werror \
	-o "$stage/tocpatch/selftests/test_call_getpid" "$TOP_DIR/selftests/test_call_getpid.c" ||
	die "cannot build selftests/test_call_getpid.c"
find "$moddir" -name '*.ko' -exec cp {} "$stage/tocpatch/modules/" \;
chmod +x "$stage/init" "$stage/tocpatch/main.sh"
(cd "$stage" && find . -print0 | sort -z | cpio --null -o -H newc --owner=0:0 --quiet) >"$out"
