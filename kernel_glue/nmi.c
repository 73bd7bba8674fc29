// SPDX-License-Identifier: GPL-2.0
/*
 * tocpatch: odd-TOC markers and CPUs that run with ftrace off in an NMI.
 *
 * powerpc turns ftrace off on a CPU for the whole of every NMI except
 * decrementer and performance-monitor soft-NMIs (nmi_disables_ftrace() in
 * asm/entry-common.h): system reset, machine check and HMI. A marked
 * function entered through its global entry there runs with the odd TOC
 * and no hook to repair it. See Documentation/design.rst, "Paths that run
 * a marked prologue without the hook", for the paths and the reasoning; in
 * short:
 *
 * NMI IPIs (smp_send_nmi_ipi(): a system reset to the other CPU): the NMI
 * function, and everything it calls, may reach any function through a
 * pointer. An ftrace hook on __smp_send_nmi_ipi(), which every sender
 * reaches (smp_send_nmi_ipi(), and smp_send_stop() and crash_send_ipi()
 * directly: GCC branches to its local entry), on the sender (which runs
 * with ftrace on unless it is itself in such an NMI), hands the target
 * CPU a wrapper instead of the function: the wrapper turns ftrace back on
 * for the function's duration while markers are in text, so that every
 * marked function it reaches goes through tocpatch's hook. The NMI exit
 * (arch_interrupt_nmi_exit_prepare()) restores the value saved at entry
 * anyway; the wrapper restores what it found, too.
 *
 * The functions the NMI handlers themselves call through pointers before
 * any of that (ppc_md's and cur_cpu_spec's NMI hooks) get no marker:
 * tocpatch_nmi_entry_point() names them for the enable path. The machine
 * check and HMI handlers run in real mode, where tocpatch's hook could not
 * run at all (module memory is not reachable with relocation off), so for
 * them this is the only possible rule.
 *
 * Wrappers: NMI IPIs carry no argument, so each distinct NMI function gets
 * its own wrapper, one of TOCPATCH_NMI_SLOTS, claimed once with a
 * compare-and-exchange and kept until tocpatch unloads (7.3 has four NMI
 * IPI functions; a full table leaves the function unwrapped, counted and
 * logged). Concurrent senders with the same function share its wrapper;
 * the kernel serialises the sends themselves (nmi_ipi_busy).
 */
#include <linux/atomic.h>
#include <linux/ftrace.h>
#include <linux/kernel.h>
#include <linux/printk.h>
#include <linux/rcupdate.h>
#include <linux/rcupdate_wait.h>
#include <linux/smp.h>
#include <asm/cputable.h>
#include <asm/machdep.h>
#include "glue.h"

/* Markers in text now (placed, not suspended): see tocpatch_nmi_markers(). */
static atomic_t tocpatch_nmi_live = ATOMIC_INIT(0);

/**
 * tocpatch_nmi_markers - how many markers are in text
 * @n:	the new count
 *
 * Called before the text writes that put markers in (a count going up)
 * and after the writes that take them out (going down), under the marker
 * mutex. When the count leaves zero, every other CPU takes an interrupt
 * before this returns: a CPU can only do that after leaving any NMI it
 * was in, so no wrapper that saw "no markers" (and left ftrace off) is
 * still running when the first marker is stored.
 */
void tocpatch_nmi_markers(unsigned int n)
{
	if (!atomic_xchg(&tocpatch_nmi_live, n) && n)
		kick_all_cpus_sync();
}

/**
 * tocpatch_markers_live - are markers in text (for kernel_glue/crash.c)
 *
 * Return: true from before the first marker is stored until after the
 * last one is taken out.
 */
notrace bool tocpatch_markers_live(void)
{
	return atomic_read(&tocpatch_nmi_live);
}

#ifdef CONFIG_NMI_IPI

#define TOCPATCH_NMI_SLOTS 8

typedef void (*tocpatch_nmi_fn_t)(struct pt_regs *);

static tocpatch_nmi_fn_t tocpatch_nmi_fns[TOCPATCH_NMI_SLOTS];
static atomic_long_t tocpatch_nmi_sends;	/* wrapped sends */
static atomic_long_t tocpatch_nmi_runs;		/* wrapper runs with ftrace turned on */
static atomic_long_t tocpatch_nmi_full;		/* sends left unwrapped */

static notrace void tocpatch_nmi_run(unsigned int i, struct pt_regs *regs)
{
	tocpatch_nmi_fn_t fn = READ_ONCE(tocpatch_nmi_fns[i]);
	u8 saved;

	if (!atomic_read(&tocpatch_nmi_live)) {
		fn(regs);
		return;
	}
	saved = this_cpu_get_ftrace_enabled();
	this_cpu_set_ftrace_enabled(1);
	atomic_long_inc(&tocpatch_nmi_runs);
	fn(regs);
	this_cpu_set_ftrace_enabled(saved);
}

#define TOCPATCH_NMI_WRAPPER(i)						\
static notrace void tocpatch_nmi_wrap##i(struct pt_regs *regs)		\
{									\
	tocpatch_nmi_run(i, regs);					\
}

TOCPATCH_NMI_WRAPPER(0)
TOCPATCH_NMI_WRAPPER(1)
TOCPATCH_NMI_WRAPPER(2)
TOCPATCH_NMI_WRAPPER(3)
TOCPATCH_NMI_WRAPPER(4)
TOCPATCH_NMI_WRAPPER(5)
TOCPATCH_NMI_WRAPPER(6)
TOCPATCH_NMI_WRAPPER(7)

static const tocpatch_nmi_fn_t tocpatch_nmi_wrappers[TOCPATCH_NMI_SLOTS] = {
	tocpatch_nmi_wrap0, tocpatch_nmi_wrap1, tocpatch_nmi_wrap2,
	tocpatch_nmi_wrap3, tocpatch_nmi_wrap4, tocpatch_nmi_wrap5,
	tocpatch_nmi_wrap6, tocpatch_nmi_wrap7,
};

/* The wrapper slot of @fn, claimed if it has none; -1 if the table is full. */
static notrace int tocpatch_nmi_slot(tocpatch_nmi_fn_t fn)
{
	unsigned int i;

	for (i = 0; i < TOCPATCH_NMI_SLOTS; i++) {
		tocpatch_nmi_fn_t f = READ_ONCE(tocpatch_nmi_fns[i]);

		if (!f)
			f = cmpxchg(&tocpatch_nmi_fns[i], NULL, fn) ?: fn;
		if (f == fn)
			return i;
	}
	return -1;
}

/*
 * The ftrace callback on __smp_send_nmi_ipi(cpu, fn, delay_us, safe):
 * replaces fn (r4; ftrace_caller loads r3..r10 back from its pt_regs) by
 * its wrapper. tocpatch's shared ftrace ops calls it (rust/ftrace_hook.rs)
 * for __smp_send_nmi_ipi()'s ftrace location. "Safe" sends (an ordinary
 * interrupt, ftrace on) get a wrapper too: it changes nothing for them.
 */
notrace void tocpatch_nmi_send_hook(unsigned long ip,
					   unsigned long parent_ip,
					   struct ftrace_ops *op,
					   struct ftrace_regs *fregs)
{
	struct pt_regs *regs = &arch_ftrace_regs(fregs)->regs;
	tocpatch_nmi_fn_t fn = (tocpatch_nmi_fn_t)regs->gpr[4];
	int i;

	if (!fn)
		return;
	for (i = 0; i < TOCPATCH_NMI_SLOTS; i++)
		if (fn == tocpatch_nmi_wrappers[i])
			return;
	i = tocpatch_nmi_slot(fn);
	if (i < 0) {
		if (atomic_long_inc_return(&tocpatch_nmi_full) == 1)
			pr_warn("tocpatch: nmi: no wrapper left for NMI function %ps: it runs with ftrace off\n",
				fn);
		return;
	}
	atomic_long_inc(&tocpatch_nmi_sends);
	regs->gpr[4] = (unsigned long)tocpatch_nmi_wrappers[i];
}

static bool tocpatch_nmi_hooked;

/**
 * tocpatch_nmi_register - the address of __smp_send_nmi_ipi(), to hook
 * @addr:	set to it, or to 0 on kernels without CONFIG_NMI_IPI
 *
 * The caller hooks it (rust/nmi.rs, through the shared ftrace ops) and
 * calls tocpatch_nmi_unregister() after unhooking it, or if hooking fails.
 *
 * Return: 0, or a negative errno (logged).
 */
int tocpatch_nmi_register(unsigned long *addr)
{
	int ret;

	ret = tocpatch_resolve(NULL, "__smp_send_nmi_ipi", addr);
	if (ret) {
		pr_err("tocpatch: nmi: cannot resolve __smp_send_nmi_ipi: %d\n", ret);
		return ret;
	}
	tocpatch_nmi_hooked = true;
	return 0;
}

/**
 * tocpatch_nmi_unregister - wait for wrappers once __smp_send_nmi_ipi() is
 * unhooked
 *
 * After the hook is gone no sender gets a wrapper any more. A sender that
 * got one may have been preempted before it disabled interrupts (RCU
 * tasks waits for it), then sends with interrupts off and waits for its
 * targets to enter the NMI (RCU waits for that), and an NMI handler is an
 * RCU read-side critical section too: after both grace periods no CPU runs
 * or will run a wrapper. (An NMI function that never returns, such as the
 * crash and stop handlers, keeps this waiting: the system is going down.)
 */
void tocpatch_nmi_unregister(void)
{
	if (!tocpatch_nmi_hooked)
		return;
	tocpatch_nmi_hooked = false;
	synchronize_rcu_tasks();
	synchronize_rcu();
	pr_info("tocpatch: nmi: %ld NMI IPI(s) wrapped, %ld run(s) with ftrace on, %ld unwrapped\n",
		atomic_long_read(&tocpatch_nmi_sends),
		atomic_long_read(&tocpatch_nmi_runs),
		atomic_long_read(&tocpatch_nmi_full));
}

#else /* !CONFIG_NMI_IPI */

int tocpatch_nmi_register(unsigned long *addr)
{
	*addr = 0;
	return 0;
}

notrace void tocpatch_nmi_send_hook(unsigned long ip, unsigned long parent_ip,
				    struct ftrace_ops *op,
				    struct ftrace_regs *fregs)
{
}

void tocpatch_nmi_unregister(void)
{
}

#endif /* CONFIG_NMI_IPI */

/**
 * tocpatch_nmi_entry_point - is @addr a function NMI handlers call by pointer
 * @addr:	a function's global entry
 *
 * The machine check, HMI and system reset handlers call these platform
 * hooks through pointers, so through their global entries, with ftrace
 * off (machine check and HMI even in real mode). Such a function must not
 * carry a marker.
 *
 * Return: the pointer's name, or NULL.
 */
const char *tocpatch_nmi_entry_point(unsigned long addr)
{
	if (addr == (unsigned long)ppc_md.system_reset_exception)
		return "ppc_md.system_reset_exception";
	if (addr == (unsigned long)ppc_md.machine_check_early)
		return "ppc_md.machine_check_early";
	if (addr == (unsigned long)ppc_md.hmi_exception_early)
		return "ppc_md.hmi_exception_early";
	if (addr == (unsigned long)ppc_md.machine_check_exception)
		return "ppc_md.machine_check_exception";
	if (addr == (unsigned long)ppc_md.handle_hmi_exception)
		return "ppc_md.handle_hmi_exception";
	if (cur_cpu_spec &&
	    addr == (unsigned long)cur_cpu_spec->machine_check_early)
		return "cur_cpu_spec->machine_check_early";
	return NULL;
}
