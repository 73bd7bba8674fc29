# SPDX-License-Identifier: GPL-2.0
# Shared settings of the tocpatch test bed. Sourced, never run.
#
# Everything downloaded or built lives below $TOCPATCH_CACHE, outside the
# checkout, keyed by version and configuration so that a change rebuilds and
# an unchanged input is reused. Removing the cache is always safe: the same
# commands rebuild it from nothing.

TOCPATCH_CACHE=${TOCPATCH_CACHE:-$HOME/.cache/tocpatch}
TESTBED_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
TOP_DIR=$(cd "$TESTBED_DIR/.." && pwd)

# Pinned inputs. The kernel package follows whatever 7.3.x Debian serves;
# the version actually used is recorded in $TOCPATCH_CACHE/src/VERSION.
KERNEL_PKG=linux-source-7.3
KERNEL_MIN=7.3
BINDGEN_VERSION=0.73.2
LLVM_VERSION=19
CROSS=powerpc64le-linux-gnu-

APT_TRIXIE=$TOCPATCH_CACHE/apt-trixie
APT_PPC64EL=$TOCPATCH_CACHE/apt-ppc64el
TOOLS_DIR=$TOCPATCH_CACHE/tools
GCC14_DIR=$TOCPATCH_CACHE/toolchain/gcc14
BUSYBOX=$TOCPATCH_CACHE/busybox/busybox
SRC_ROOT=$TOCPATCH_CACHE/src
# Module builds and guest logs of this checkout: several checkouts (git
# worktrees) can share one cache and run at the same time.
CHECKOUT_KEY=$(printf '%s' "$TOP_DIR" | sha256sum | cut -c1-8)
WORK_DIR=$TOCPATCH_CACHE/work/$CHECKOUT_KEY
LOG_DIR=$WORK_DIR/logs

export PATH="$TOOLS_DIR/bin:$HOME/.cargo/bin:$PATH"
export LIBCLANG_PATH=/usr/lib/llvm-$LLVM_VERSION/lib

log() { printf '[testbed] %s\n' "$*" >&2; }
die() { printf '[testbed] error: %s\n' "$*" >&2; exit 1; }

# A hash of files' contents, to key cache entries.
content_hash() {
	local f
	for f in "$@"; do [ -e "$f" ] && cat "$f"; done | sha256sum | cut -c1-12
}

# The kernel source directory of this checkout: the Debian source with our
# patches applied, keyed by both.
kernel_src_dir() {
	local ver
	ver=$(cat "$SRC_ROOT/VERSION" 2>/dev/null) || die "kernel source not fetched: run testbed/setup.sh"
	echo "$SRC_ROOT/linux-$ver-$(content_hash "$TESTBED_DIR"/patches/*.patch)"
}

# Arguments for apt-get/apt-cache that use a private configuration in $1
# (sources.list, lists, cache) and leave the system's apt state alone.
apt_private() {
	local d=$1 arch=$2
	echo "-oDir::Etc::SourceList=$d/sources.list -oDir::Etc::SourceParts=/dev/null" \
	     "-oDir::State::Lists=$d/lists -oDir::Cache=$d/cache" \
	     "-oDir::State::status=/dev/null -oAPT::Architecture=$arch" \
	     "-oAPT::Architectures=$arch -oAPT::Sandbox::User=root"
}

# The compiler of a kernel flavour.
flavour_cc() {
	case "$1" in
	mprofile|livepatch|nodebug) echo "/usr/bin/${CROSS}gcc" ;;
	ool|livepatch-ool) echo "$GCC14_DIR/bin/${CROSS}gcc" ;;
	*) die "unknown kernel flavour '$1' (mprofile, ool, livepatch, livepatch-ool or nodebug)" ;;
	esac
}

# Build tocpatch.ko, the samples and the selftest modules (Rust through
# clippy, CLIPPY=1: any warning of ours fails the build) against the
# kernel build tree $2 of flavour $1, into $WORK_DIR/modules/$1
# (out of the checkout, so that flavours do not overwrite each other).
# Prints the output directory.
build_modules() {
	local flavour=$1 kout=$2
	local mo=$WORK_DIR/modules/$flavour
	# Objects of another kernel build would load with the wrong vermagic.
	if [ "$(cat "$mo/.kernel" 2>/dev/null)" != "$kout" ]; then
		rm -rf "$mo"
	fi
	mkdir -p "$mo"
	echo "$kout" >"$mo/.kernel"
	log "modules ($flavour): building (log: $mo/build.log)"
	if ! make -C "$kout" M="$TOP_DIR" MO="$mo" ARCH=powerpc CROSS_COMPILE="$CROSS" \
		CC="$(flavour_cc "$flavour")" BINDGEN="$TOOLS_DIR/bin/bindgen" CLIPPY=1 \
		-j"$(nproc)" modules >"$mo/build.log" 2>&1; then
		grep -E 'error|warning' "$mo/build.log" | head -n 30 >&2
		die "modules ($flavour): build failed, see $mo/build.log"
	fi
	# The kernel's own KBUILD_RUSTFLAGS draw "unstable feature" warnings
	# on powerpc for every Rust object; anything else is ours and fatal.
	local warn='warning:'
	local known='specified for `-Ctarget-feature`|^warning: [0-9]+ warnings? emitted'
	if grep "$warn" "$mo/build.log" | grep -qvE "$known"; then
		grep -A6 "$warn" "$mo/build.log" | grep -vE "$known" >&2
		die "modules ($flavour): the build has warnings, see $mo/build.log"
	fi
	echo "$mo"
}
