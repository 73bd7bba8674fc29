// SPDX-License-Identifier: GPL-2.0
/*
 * tocpatch selftest: an empty module called kvm_hv. tocpatch takes its
 * markers out while a module of that name is loaded (the real one runs
 * guest entry and exit with ftrace off, kernel_glue/ftrace_off.c);
 * test-nmi.sh checks that with this stand-in, since the test kernel has
 * no KVM.
 */
#include <linux/module.h>

static int __init tp_kvm_hv_init(void)
{
	return 0;
}

static void __exit tp_kvm_hv_exit(void)
{
}

module_init(tp_kvm_hv_init);
module_exit(tp_kvm_hv_exit);
MODULE_DESCRIPTION("tocpatch selftest: stand-in for the kvm_hv module");
MODULE_LICENSE("GPL");
