# SPDX-License-Identifier: GPL-2.0
#
# Two uses:
#   make KDIR=<a 7.3+ ppc64le kernel build tree> [ARCH=powerpc CROSS_COMPILE=...]
#       builds tocpatch.ko, the samples and the selftest modules (Kbuild).
#   make demo | make check | make bench | make host-test | make kernels | make clean
#       the developer entry points: the test bed does all the set-up itself
#       (testbed/, cache in $TOCPATCH_CACHE, default ~/.cache/tocpatch).

KDIR ?= /lib/modules/$(shell uname -r)/build

modules:
	$(MAKE) -C $(KDIR) M=$(CURDIR) modules

modules_clean:
	$(MAKE) -C $(KDIR) M=$(CURDIR) clean

# Boot the guest, load tocpatch and a sample patch, show it working.
demo:
	testbed/demo.sh

# Everything: host tests, then guest tests on both ftrace flavours and the
# livepatch flavour (test-livepatch.sh and the short test-bench.sh there).
check:
	testbed/check.sh

# Only the 1000-cycle enable/disable stress test (check runs it too), on both
# ftrace flavours (the livepatch flavour is reported skipped).
stress:
	TOCPATCH_TESTS=test-stress.sh testbed/check.sh

# Only the livepatch flavour (CONFIG_LIVEPATCH=y; check runs it too):
# tocpatch must refuse to load.
check-livepatch:
	TOCPATCH_FLAVOURS=livepatch TOCPATCH_TESTS=test-livepatch.sh testbed/check.sh

# The benchmark (Documentation/performance.rst): tocpatch against kernel
# livepatch on both ftrace modes, under qemu -icount; builds the
# livepatch-ool kernel too if missing. Not part of check (check runs it
# once, short: selftests/test-bench.sh).
bench:
	testbed/bench.sh

host-test:
	testbed/host-test.sh

kernels:
	testbed/setup.sh
	testbed/build-kernel.sh mprofile
	testbed/build-kernel.sh ool
	testbed/build-kernel.sh livepatch

clean:
	cargo clean

.PHONY: modules modules_clean demo check bench stress check-livepatch host-test kernels clean
