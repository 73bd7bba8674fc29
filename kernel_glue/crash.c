// SPDX-License-Identifier: GPL-2.0
/*
 * tocpatch: odd-TOC markers on the crash and dump paths.
 *
 * An oops or a system reset that the kernel does not recover from goes
 * through die(), kdump (crash_kexec()), fadump, kmsg dumpers and panic().
 * When that starts in an NMI (system reset, machine check), its CPU runs
 * with ftrace off (nmi_disables_ftrace(), asm/entry-common.h), and these
 * paths call through many pointers: die notifiers, kmsg dumpers,
 * crash_shutdown handlers, ppc_md.kexec_cpu_down, console drivers, and
 * the NMI IPI that stops the other CPUs (smp_send_nmi_ipi() from a CPU
 * with ftrace off is not seen by tocpatch's hook on it, kernel_glue/nmi.c).
 * A marked function reached there would run with the odd TOC and no hook.
 *
 * Text cannot be rewritten there (the CPU may have been interrupted in a
 * text write of its own, and other CPUs may run anything), so tocpatch
 * does what its NMI IPI wrapper does, on the crashing CPU: as early on
 * those paths as a module can get control, it turns ftrace back on for the
 * CPU while markers are in text, so that every marked function called
 * afterwards goes through the hook, and every NMI IPI sent afterwards gets
 * its wrapper. It never turns it off again: these paths do not return to
 * the interrupted code, except through the NMI exit, which restores the
 * state saved at NMI entry. Two places, both before crash_kexec() and
 * fadump on their path:
 *
 *  - a kmsg dumper (reason KMSG_DUMP_OOPS and KMSG_DUMP_PANIC):
 *    system_reset_exception() calls the dumpers after the platform hook
 *    and the debugger and before fadump and kdump; oops_end() calls them
 *    (oops_exit()) before fadump and kdump;
 *  - a die notifier at the highest priority (DIE_OOPS, from __die()),
 *    which runs before the dumpers on the die() path, ahead of every other
 *    die notifier.
 *
 * What runs before them is not covered: the platform's system reset hook
 * (no marker, kernel_glue/nmi.c), the debugger hooks (xmon), die notifiers
 * and dumpers of the same priority registered before tocpatch, and a
 * panic() called directly with ftrace off (kdump first, dumpers later).
 * Documentation/design.rst, "Crash and dump paths", has the list.
 */
#include <linux/kdebug.h>
#include <linux/kmsg_dump.h>
#include <linux/notifier.h>
#include <linux/printk.h>
#include <asm/ftrace.h>
#include "glue.h"

/* Turn ftrace on for this CPU if it is off while markers are in text. */
static notrace void tocpatch_crash_ftrace_on(void)
{
	if (this_cpu_get_ftrace_enabled() || !tocpatch_markers_live())
		return;
	this_cpu_set_ftrace_enabled(1);
}

static notrace void tocpatch_crash_dump(struct kmsg_dumper *dumper,
					struct kmsg_dump_detail *detail)
{
	tocpatch_crash_ftrace_on();
}

static struct kmsg_dumper tocpatch_crash_dumper = {
	.dump = tocpatch_crash_dump,
	.max_reason = KMSG_DUMP_OOPS,
};

static notrace int tocpatch_crash_die(struct notifier_block *nb,
				      unsigned long val, void *data)
{
	if (val == DIE_OOPS)
		tocpatch_crash_ftrace_on();
	return NOTIFY_DONE;
}

static struct notifier_block tocpatch_crash_nb = {
	.notifier_call = tocpatch_crash_die,
	.priority = INT_MAX,
};

/**
 * tocpatch_crash_register - watch the crash and dump paths
 *
 * Return: 0, or a negative errno (logged).
 */
int tocpatch_crash_register(void)
{
	int ret;

	ret = register_die_notifier(&tocpatch_crash_nb);
	if (ret) {
		pr_err("tocpatch: crash: cannot register a die notifier: %d\n", ret);
		return ret;
	}
	ret = kmsg_dump_register(&tocpatch_crash_dumper);
	if (ret) {
		pr_err("tocpatch: crash: cannot register a kmsg dumper: %d\n", ret);
		unregister_die_notifier(&tocpatch_crash_nb);
	}
	return ret;
}

/**
 * tocpatch_crash_unregister - stop watching (both wait for callers to end)
 */
void tocpatch_crash_unregister(void)
{
	kmsg_dump_unregister(&tocpatch_crash_dumper);
	unregister_die_notifier(&tocpatch_crash_nb);
}
