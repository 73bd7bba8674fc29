// SPDX-License-Identifier: GPL-2.0
/*
 * tocpatch: markers out while code that runs with ftrace off may call
 * marked functions through their global entries (besides CPU hotplug,
 * kernel_glue/cpu_hotplug.c, and NMIs, kernel_glue/nmi.c). See
 * Documentation/design.rst, "Paths that run a marked prologue without the
 * hook".
 *
 * KVM HV: book3s_hv.c turns ftrace off on the CPU around guest entry and
 * exit (kvmppc_run_core(), kvmhv_run_single_vcpu()), and the P9 entry code
 * of the kvm_hv module calls vmlinux functions through stubs, so through
 * their global entries, in that window. Markers are out while kvm_hv is
 * loaded (from MODULE_STATE_COMING, before its init runs, to
 * MODULE_STATE_GOING, after its exit ran), or for good when it is built
 * in.
 *
 * kexec: machine_kexec() turns ftrace off and runs the platform's kexec
 * hooks and interrupt-controller callbacks through pointers. A kexec
 * reboot (and any other reboot) first calls the reboot notifiers in
 * process context: markers are out from then on, never put back.
 */
#include <linux/module.h>
#include <linux/mutex.h>
#include <linux/notifier.h>
#include <linux/printk.h>
#include <linux/reboot.h>
#include <linux/string.h>
#include "glue.h"

static DEFINE_MUTEX(tocpatch_off_lock);	/* the two flags */
static bool tocpatch_off_kvm;
static bool tocpatch_off_reboot;

static void tocpatch_off_kvm_set(bool out)
{
	mutex_lock(&tocpatch_off_lock);
	if (out != tocpatch_off_kvm) {
		tocpatch_off_kvm = out;
		if (out)
			tocpatch_markers_suspend();
		else
			tocpatch_markers_resume();
		pr_info("tocpatch: kvm_hv %s: markers %s\n",
			out ? "present" : "gone", out ? "out" : "back");
	}
	mutex_unlock(&tocpatch_off_lock);
}

static int tocpatch_off_module_notify(struct notifier_block *nb,
				      unsigned long action, void *data)
{
	struct module *mod = data;

	if (strcmp(mod->name, "kvm_hv"))
		return NOTIFY_DONE;
	if (action == MODULE_STATE_COMING)
		tocpatch_off_kvm_set(true);
	else if (action == MODULE_STATE_GOING)
		tocpatch_off_kvm_set(false);
	return NOTIFY_DONE;
}

static int tocpatch_off_reboot_notify(struct notifier_block *nb,
				      unsigned long action, void *data)
{
	mutex_lock(&tocpatch_off_lock);
	if (!tocpatch_off_reboot) {
		tocpatch_off_reboot = true;
		tocpatch_markers_suspend();
		pr_info("tocpatch: reboot: markers out\n");
	}
	mutex_unlock(&tocpatch_off_lock);
	return NOTIFY_DONE;
}

static struct notifier_block tocpatch_off_module_nb = {
	.notifier_call = tocpatch_off_module_notify,
};

static struct notifier_block tocpatch_off_reboot_nb = {
	.notifier_call = tocpatch_off_reboot_notify,
};

/**
 * tocpatch_ftrace_off_register - follow kvm_hv and reboots
 *
 * Return: 0 or a negative errno.
 */
int tocpatch_ftrace_off_register(void)
{
	unsigned long addr;
	int ret;

	ret = register_module_notifier(&tocpatch_off_module_nb);
	if (ret)
		return ret;
	ret = register_reboot_notifier(&tocpatch_off_reboot_nb);
	if (ret) {
		unregister_module_notifier(&tocpatch_off_module_nb);
		return ret;
	}
	/* Already loaded (or built in): the notifier saw nothing. */
	if (IS_BUILTIN(CONFIG_KVM_BOOK3S_64_HV) ||
	    !tocpatch_resolve("kvm_hv", "__this_module", &addr))
		tocpatch_off_kvm_set(true);
	return 0;
}

void tocpatch_ftrace_off_unregister(void)
{
	unregister_reboot_notifier(&tocpatch_off_reboot_nb);
	unregister_module_notifier(&tocpatch_off_module_nb);
}
