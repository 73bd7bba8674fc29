#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# Build a test kernel flavour: testbed/build-kernel.sh FLAVOUR
#   mprofile   bookworm gcc 12: -mprofile-kernel ftrace
#   ool        trixie gcc 14: patchable entries, out-of-line stubs, CALL_OPS
#   livepatch  mprofile plus CONFIG_LIVEPATCH=y (comparison kernel)
#   livepatch-ool  ool plus CONFIG_LIVEPATCH=y (comparison kernel of
#              `make bench` only)
#   nodebug    mprofile without lock/sleep/list debugging (to measure it)
# The build tree is $TOCPATCH_CACHE/build/FLAVOUR-HASH, HASH covering the
# kernel version, our kernel patches, the config fragments and the compiler,
# so any change there builds a new tree. Prints the tree's path on stdout.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

flavour=${1:?usage: build-kernel.sh mprofile|ool|livepatch|livepatch-ool|nodebug}
CC_BIN=$(flavour_cc "$flavour")
[ -x "$CC_BIN" ] || die "compiler $CC_BIN missing: run testbed/setup.sh"

fragments=("$TESTBED_DIR/configs/base.config")
fragments+=("$TESTBED_DIR/configs/$flavour.config")

SRC=$(kernel_src_dir)
[ -f "$SRC/.tocpatch-ready" ] || die "kernel source missing: run testbed/setup.sh"
key=$( { cat "$SRC_ROOT/DEB_VERSION"; cat "${fragments[@]}"; "$CC_BIN" --version | head -n1;
	 basename "$SRC"; rustc --version; bindgen --version; } | sha256sum | cut -c1-12)
OUT=$TOCPATCH_CACHE/build/$flavour-$key
mkdir -p "$OUT"

# Every make call of the test bed, kernel and modules alike, uses these.
kmake() {
	make -C "$SRC" O="$OUT" ARCH=powerpc CROSS_COMPILE="$CROSS" CC="$CC_BIN" \
		BINDGEN="$TOOLS_DIR/bin/bindgen" "$@"
}

if [ -f "$OUT/.tocpatch-built" ]; then
	log "kernel $flavour: up to date ($OUT)"
	echo "$OUT"
	exit 0
fi

BUILD_LOG=$OUT/build.log
: >"$BUILD_LOG"
log "kernel $flavour: configuring ($("$CC_BIN" --version | head -n1))"
cat "${fragments[@]}" >"$OUT/fragment.config"
kmake KCONFIG_ALLCONFIG="$OUT/fragment.config" allnoconfig >>"$BUILD_LOG" 2>&1 ||
	die "allnoconfig failed, see $BUILD_LOG"

# Every option a fragment sets must have survived Kconfig (the last
# fragment to mention an option wins), and the ftrace mode must be the one
# the flavour claims.
bad=0
while IFS= read -r line; do
	grep -qxF "$line" "$OUT/.config" || { log "config: '$line' did not take effect"; bad=1; }
done < <(sed -n 's/^\(CONFIG_[A-Z0-9_]*=.*\)/\1/p; s/^# \(CONFIG_[A-Z0-9_]*\) is not set$/# \1 is not set/p' "${fragments[@]}" |
	awk '{ k = ($1 == "#") ? $2 : substr($0, 1, index($0, "=") - 1); v[k] = $0; o[k] = NR }
	     END { for (k in v) if (v[k] !~ /^#/) print v[k] }')
while read -r _ what opt; do
	case "$what" in
	require) grep -qxF "$opt" "$OUT/.config" || { log "config: flavour $flavour needs $opt"; bad=1; } ;;
	forbid) ! grep -qxF "$opt" "$OUT/.config" || { log "config: flavour $flavour must not have $opt"; bad=1; } ;;
	esac
done < <(grep -h '^#   \(require\|forbid\) ' "${fragments[@]}")
[ $bad = 0 ] || die "kernel $flavour: configuration is not what the fragments ask for ($OUT/.config)"

kmake rustavailable >>"$BUILD_LOG" 2>&1 ||
	die "Rust is not available to the kernel build: see $BUILD_LOG"

log "kernel $flavour: building vmlinux and modules (log: $BUILD_LOG)"
start=$(date +%s)
if ! kmake -j"$(($(nproc) + 1))" vmlinux modules >>"$BUILD_LOG" 2>&1; then
	grep -E 'error|Error' "$BUILD_LOG" | head -n 20 >&2
	die "kernel $flavour: build failed, see $BUILD_LOG"
fi
log "kernel $flavour: built in $(($(date +%s) - start)) s"
touch "$OUT/.tocpatch-built"
echo "$OUT"
