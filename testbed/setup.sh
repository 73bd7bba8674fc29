#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# Install and fetch everything the test bed needs, idempotently:
#   - host packages from the machine's own Debian sources,
#   - rust-src and bindgen-cli (pinned),
#   - Linux 7.3.x source from Debian's linux-source-7.3 (trixie-backports),
#   - gcc 14 for ppc64le from trixie, relocated to run on this bookworm host,
#   - a static busybox for ppc64el, for the guest's initramfs.
# Debian suites other than the machine's are reached through a private apt
# configuration below $TOCPATCH_CACHE; the system's apt setup is untouched.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

HOST_PKGS="gcc-powerpc64le-linux-gnu binutils-powerpc64le-linux-gnu flex bison
bc libelf-dev libssl-dev cpio dwarves qemu-system-ppc clang-$LLVM_VERSION
libclang-$LLVM_VERSION-dev lld-$LLVM_VERSION llvm-$LLVM_VERSION patchelf
xz-utils zstd kmod rsync file patch"

setup_host_packages() {
	local missing=() p
	for p in $HOST_PKGS; do
		dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed' ||
			missing+=("$p")
	done
	[ ${#missing[@]} -eq 0 ] && return
	log "installing host packages: ${missing[*]}"
	[ "$(id -u)" = 0 ] || die "packages missing (${missing[*]}): run 'apt-get install ${missing[*]}' as root"
	apt-get update -qq >/dev/null ||
		die "apt-get update failed: the machine's Debian sources are unreachable"
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
		"${missing[@]}" >/dev/null ||
		die "could not install ${missing[*]} from the machine's Debian sources"
}

setup_rust() {
	command -v rustup >/dev/null || die "rustup not found: install the Rust toolchain (rustc >= 1.95.0) with rustup"
	[ -d "$(rustc --print sysroot)/lib/rustlib/src/rust/library" ] || {
		log "adding rust-src"
		rustup component add rust-src >/dev/null ||
			die "'rustup component add rust-src' failed"
	}
	# The kernel builds core from rust-src; the target's std is only needed
	# for quick experiments with rustc outside the kernel build.
	rustup target list --installed | grep -qx powerpc64le-unknown-linux-gnu ||
		rustup target add powerpc64le-unknown-linux-gnu >/dev/null ||
		die "'rustup target add powerpc64le-unknown-linux-gnu' failed"
	if [ "$("$TOOLS_DIR/bin/bindgen" --version 2>/dev/null)" != "bindgen $BINDGEN_VERSION" ]; then
		log "installing bindgen-cli $BINDGEN_VERSION (about 1-2 minutes)"
		cargo install --quiet --locked bindgen-cli --version "$BINDGEN_VERSION" \
			--root "$TOOLS_DIR" ||
			die "'cargo install bindgen-cli --version $BINDGEN_VERSION' failed (crates.io unreachable?)"
	fi
}

# $1: dir, $2: arch, $3...: suites
apt_private_update() {
	local d=$1 arch=$2; shift 2
	mkdir -p "$d/lists/partial" "$d/cache/archives/partial" "$d/debs"
	local s list=""
	for s in "$@"; do
		list+="deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] http://deb.debian.org/debian $s main"$'\n'
	done
	if [ "$(cat "$d/sources.list" 2>/dev/null)" != "${list%$'\n'}" ] ||
	   [ -z "$(find "$d/lists" -maxdepth 1 -name '*Packages*' -mmin -1440)" ]; then
		printf '%s' "$list" >"$d/sources.list"
		log "updating private apt lists ($*, $arch)"
		# shellcheck disable=SC2046
		apt-get $(apt_private "$d" "$arch") update -qq >/dev/null 2>&1 ||
			die "apt-get update for Debian $* failed (deb.debian.org unreachable?)"
	fi
}

# $1: dir, $2: arch, $3...: packages; prints the .deb paths.
apt_private_download() {
	local d=$1 arch=$2; shift 2
	local p
	for p in "$@"; do
		local ver
		# shellcheck disable=SC2046
		ver=$(apt-cache $(apt_private "$d" "$arch") show --no-all-versions "$p" 2>/dev/null |
			sed -n 's/^Version: //p' | head -n1)
		[ -n "$ver" ] || die "Debian package $p ($arch) not found in $(tr '\n' ' ' <"$d/sources.list")"
		local f
		f=$(ls "$d/debs/${p}_"*"_"*.deb 2>/dev/null | grep -F "_${ver//:/%3a}_" | head -n1 || true)
		if [ -z "$f" ]; then
			# shellcheck disable=SC2046
			(cd "$d/debs" && apt-get $(apt_private "$d" "$arch") download -qq "$p" >/dev/null 2>&1) ||
				die "could not download Debian package $p $ver"
			f=$(ls "$d/debs/${p}_"*.deb | grep -F "_${ver//:/%3a}_" | head -n1)
		fi
		echo "$f"
	done
}

setup_kernel_source() {
	apt_private_update "$APT_TRIXIE" amd64 trixie trixie-backports
	local deb ver
	deb=$(apt_private_download "$APT_TRIXIE" amd64 "$KERNEL_PKG")
	ver=$(dpkg-deb -f "$deb" Version)
	local upstream=${ver%%-*}
	case "$upstream" in
	7.[3-9]*|[8-9].*) ;;
	*) die "$KERNEL_PKG has version $ver, need $KERNEL_MIN.x or later" ;;
	esac
	mkdir -p "$SRC_ROOT"
	echo "$upstream" >"$SRC_ROOT/VERSION"
	echo "$ver" >"$SRC_ROOT/DEB_VERSION"
	local dst
	dst=$(kernel_src_dir)
	[ -f "$dst/.tocpatch-ready" ] && { log "kernel source: $KERNEL_PKG $ver ($dst)"; return; }
	log "unpacking $KERNEL_PKG $ver"
	rm -rf "$dst" "$dst.tmp"
	mkdir -p "$dst.tmp"
	dpkg-deb --fsys-tarfile "$deb" | tar -x -C "$dst.tmp" --wildcards '*.tar.xz'
	tar -xJf "$dst.tmp"/usr/src/linux-source-*.tar.xz -C "$dst.tmp"
	mv "$dst.tmp"/linux-source-* "$dst"
	rm -rf "$dst.tmp"
	local p
	for p in "$TESTBED_DIR"/patches/*.patch; do
		[ -e "$p" ] || continue
		log "applying $(basename "$p")"
		patch -d "$dst" -p1 -s <"$p" || die "patch $(basename "$p") does not apply to $ver"
	done
	local mk
	mk=$(make -s -C "$dst" kernelversion)
	case "$mk" in 7.[3-9]*|[8-9].*) ;; *) die "source claims version $mk, need $KERNEL_MIN.x" ;; esac
	touch "$dst/.tocpatch-ready"
	log "kernel source: $KERNEL_PKG $ver ($dst)"
}

# gcc 14 from trixie needs glibc >= 2.38; bookworm has 2.36. We unpack
# trixie's compiler and the host libraries it needs side by side and point
# every executable's ELF interpreter and rpath at them with patchelf. The
# assembler and linker are bookworm's binutils 2.40 (linked into the tool
# directory gcc searches), which is enough for the kernel.
GCC14_PKGS="gcc-14-powerpc64le-linux-gnu cpp-14-powerpc64le-linux-gnu
gcc-14-powerpc64le-linux-gnu-base libgcc-14-dev-ppc64el-cross libc6 libgcc-s1
libstdc++6 libgmp10 libisl23 libmpc3 libmpfr6 libzstd1 zlib1g"

setup_gcc14() {
	# Keyed by the package list and this procedure, so a change redoes it.
	local stamp="$GCC14_DIR/.ready-$( { echo "$GCC14_PKGS"; declare -f setup_gcc14; } | sha256sum | cut -c1-8)"
	[ -f "$stamp" ] && return
	apt_private_update "$APT_TRIXIE" amd64 trixie trixie-backports
	log "unpacking and relocating gcc 14 (trixie) for ppc64le"
	rm -rf "$GCC14_DIR"
	mkdir -p "$GCC14_DIR"
	local deb
	# shellcheck disable=SC2086
	for deb in $(apt_private_download "$APT_TRIXIE" amd64 $GCC14_PKGS); do
		dpkg-deb -x "$deb" "$GCC14_DIR"
	done
	local R=$GCC14_DIR
	local interp=$R/usr/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2
	[ -e "$interp" ] || interp=$(readlink -f "$R/lib64/ld-linux-x86-64.so.2")
	[ -e "$interp" ] || die "trixie libc6 did not provide ld-linux-x86-64.so.2"
	local rpath="$R/usr/lib/x86_64-linux-gnu:$R/lib/x86_64-linux-gnu"
	local f
	while IFS= read -r f; do
		if file -b "$f" | grep -q 'ELF 64-bit.*x86-64.*dynamically linked'; then
			if file -b "$f" | grep -q interpreter; then
				patchelf --set-interpreter "$interp" "$f"
			fi
			patchelf --set-rpath "$rpath" "$f"
		fi
	done < <(find "$R/usr/bin" "$R/usr/libexec" -type f)
	# gcc looks for as/ld in its tool directory first.
	mkdir -p "$R/usr/powerpc64le-linux-gnu/bin"
	local t
	for t in as ld ld.bfd nm objcopy objdump ar; do
		ln -sf "/usr/bin/${CROSS}$t" "$R/usr/powerpc64le-linux-gnu/bin/$t"
	done
	# The driver's default -fuse-linker-plugin makes bookworm's ld load
	# trixie's liblto_plugin.so, which needs glibc 2.38: the kernel never
	# uses LTO with GCC, so the wrapper turns the plugin off.
	mkdir -p "$R/bin"
	cat >"$R/bin/${CROSS}gcc" <<-WRAP
	#!/bin/sh
	exec "$R/usr/bin/${CROSS}gcc-14" -fno-use-linker-plugin "\$@"
	WRAP
	chmod +x "$R/bin/${CROSS}gcc"
	"$R/bin/${CROSS}gcc" --version >/dev/null ||
		die "relocated gcc 14 does not run"
	echo 'int f(void){return 0;}' |
		"$R/bin/${CROSS}gcc" -x c -shared -nostdlib -o "$R/.probe.so" - ||
		die "relocated gcc 14 cannot compile and link"
	rm -f "$R/.probe.so"
	touch "$stamp"
}

setup_busybox() {
	[ -x "$BUSYBOX" ] && return
	apt_private_update "$APT_PPC64EL" ppc64el bookworm
	local deb
	deb=$(apt_private_download "$APT_PPC64EL" ppc64el busybox-static)
	local t
	t=$(mktemp -d)
	dpkg-deb -x "$deb" "$t"
	mkdir -p "$(dirname "$BUSYBOX")"
	cp "$t/bin/busybox" "$BUSYBOX"
	rm -rf "$t"
	file -b "$BUSYBOX" | grep -q 'PowerPC.*statically linked' ||
		die "busybox from busybox-static (ppc64el) is not a static ppc64le binary"
	log "busybox: $(dpkg-deb -f "$deb" Version)"
}

what=${1:-all}
case "$what" in
all)
	setup_host_packages
	setup_rust
	setup_kernel_source
	setup_gcc14
	setup_busybox
	;;
host) setup_host_packages ;;
rust) setup_rust ;;
kernel-source) setup_kernel_source ;;
gcc14) setup_gcc14 ;;
busybox) setup_busybox ;;
*) die "unknown setup step '$what'" ;;
esac
