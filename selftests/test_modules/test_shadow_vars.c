// SPDX-License-Identifier: GPL-2.0
/*
 * Selftest module: the shadow variable API (tocpatch_shadow_*()), the
 * counterpart of upstream's test_klp_shadow_vars. Its init runs the
 * upstream scenario, logging each call with pointers replaced by stable
 * names (PTR<n>, n counted from first sight), so that test-shadow-vars.sh
 * can compare the log with the expected sequence; then cases upstream has
 * no test for: a duplicate alloc, a failing constructor, freeing what is
 * not there, calls with interrupts off, from hard interrupt context and
 * from a system-reset NMI (get works, alloc and free are refused).
 * With leave=N it attaches N variables that it never frees, for the
 * unload of tocpatch to free.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/irq_work.h>
#include <linux/module.h>
#include <linux/slab.h>
#include <linux/smp.h>
#include <asm/hw_irq.h>
#include <tocpatch.h>
#include "test_resolve.h"

static unsigned int leave;
module_param(leave, uint, 0444);
MODULE_PARM_DESC(leave, "variables to leave attached at exit");

/* Pointer names: PTR0 is NULL, then in order of first sight. */
#define NAMES 64
static const void *names[NAMES];
static int nnames;

static int name_of(const void *p)
{
	int i;

	for (i = 0; i < nnames; i++)
		if (names[i] == p)
			return i;
	if (nnames == NAMES)
		return -1;
	names[nnames] = p;
	return nnames++;
}

#define ID1 0x1234
#define ID2 0x1235
#define ID_DUP 0x1236
#define ID_LEFT 0x1237
#define ID_IRQ 0x1238
#define ID_NMI 0x1239
#define ID_NMI_NEW 0x123a
#define NOBJ 3

/* Logging wrappers: one line per call, as upstream's test prints them. */
static void *t_get(void *obj, unsigned long id)
{
	void *sv = tocpatch_shadow_get(obj, id);

	pr_info("tocpatch_shadow_get(obj=PTR%d, id=0x%lx) = PTR%d\n",
		name_of(obj), id, name_of(sv));
	return sv;
}

static void *t_alloc(bool or_get, void *obj, unsigned long id, size_t size,
		     gfp_t gfp, tocpatch_shadow_ctor_t ctor, void *ctor_data)
{
	void **var = ctor_data;
	void *sv;

	sv = or_get ? tocpatch_shadow_get_or_alloc(obj, id, size, gfp, ctor,
						   ctor_data) :
		      tocpatch_shadow_alloc(obj, id, size, gfp, ctor,
					    ctor_data);
	pr_info("tocpatch_shadow_%s(obj=PTR%d, id=0x%lx, size=%zx, gfp_flags=%pGg), ctor=PTR%d, ctor_data=PTR%d = PTR%d\n",
		or_get ? "get_or_alloc" : "alloc", name_of(obj), id, size,
		&gfp, name_of(ctor), name_of(var ? *var : NULL),
		name_of(sv));
	return sv;
}

static void t_free(void *obj, unsigned long id, tocpatch_shadow_dtor_t dtor)
{
	tocpatch_shadow_free(obj, id, dtor);
	pr_info("tocpatch_shadow_free(obj=PTR%d, id=0x%lx, dtor=PTR%d)\n",
		name_of(obj), id, name_of(dtor));
}

static void t_free_all(unsigned long id, tocpatch_shadow_dtor_t dtor)
{
	tocpatch_shadow_free_all(id, dtor);
	pr_info("tocpatch_shadow_free_all(id=0x%lx, dtor=PTR%d)\n", id,
		name_of(dtor));
}

/* The variables hold a pointer, copied from *ctor_data. */
static int ctor(void *obj, void *shadow_data, void *ctor_data)
{
	void **sv = shadow_data, **from = ctor_data;

	if (!from)
		return -EINVAL;
	*sv = *from;
	pr_info("shadow_ctor: PTR%d -> PTR%d\n", name_of(sv), name_of(*sv));
	return 0;
}

static void dtor(void *obj, void *shadow_data)
{
	pr_info("shadow_dtor(obj=PTR%d, shadow_data=PTR%d)\n", name_of(obj),
		name_of(shadow_data));
}

static void check_points(void **sv, void *want)
{
	if (sv && *sv == want)
		pr_info("  got expected PTR%d -> PTR%d result\n", name_of(sv),
			name_of(*sv));
}

/* The parent objects: stand-ins for structures of the kernel. */
struct parent {
	long payload;
};

static int upstream_scenario(struct parent *objs)
{
	char c[NOBJ], *pc[NOBJ], *pdup[NOBJ];
	int n[NOBJ], *pn[NOBJ];
	void **sv1[NOBJ], **sv2[NOBJ], **sv;
	int i;

	if (!t_get(&objs[0], ID1))
		pr_info("  got expected NULL result\n");

	/* Two variables per object; the first through get_or_alloc or alloc. */
	for (i = 0; i < NOBJ; i++) {
		pc[i] = &c[i];
		name_of(pc[i]);
		sv1[i] = t_alloc(!(i & 1), &objs[i], ID1, sizeof(pc[i]),
				 GFP_KERNEL, ctor, &pc[i]);
		pn[i] = &n[i];
		name_of(pn[i]);
		sv2[i] = t_alloc(false, &objs[i], ID2, sizeof(pn[i]),
				 GFP_KERNEL, ctor, &pn[i]);
		if (!sv1[i] || !sv2[i])
			return -ENOMEM;
	}

	/* They are found, with what the constructor stored. */
	for (i = 0; i < NOBJ; i++) {
		sv = t_get(&objs[i], ID1);
		if (!sv)
			return -EINVAL;
		if (sv == sv1[i])
			check_points(sv, pc[i]);
		sv = t_get(&objs[i], ID2);
		if (!sv)
			return -EINVAL;
		if (sv == sv2[i])
			check_points(sv, pn[i]);
	}

	/* get_or_alloc finds the existing ones (no constructor call). */
	for (i = 0; i < NOBJ; i++) {
		pdup[i] = &c[i];
		name_of(pdup[i]);
		sv = t_alloc(true, &objs[i], ID1, sizeof(pdup[i]), GFP_KERNEL,
			     ctor, &pdup[i]);
		if (!sv)
			return -EINVAL;
		if (sv == sv1[i])
			check_points(sv, pc[i]);
	}

	/* Free the ID1 ones, one by one, with the destructor. */
	for (i = 0; i < NOBJ; i++) {
		t_free(&objs[i], ID1, dtor);
		if (!t_get(&objs[i], ID1))
			pr_info("  got expected NULL result\n");
	}

	/* The ID2 ones are still there. */
	for (i = 0; i < NOBJ; i++) {
		sv = t_get(&objs[i], ID2);
		if (!sv)
			return -EINVAL;
		if (sv == sv2[i])
			check_points(sv, pn[i]);
	}

	/* Free them all at once. */
	t_free_all(ID2, NULL);
	for (i = 0; i < NOBJ; i++)
		if (!t_get(&objs[i], ID2))
			pr_info("  got expected NULL result\n");
	return 0;
}

/* Hard interrupt context: an irq_work runs get_or_alloc, get and free. */
static struct parent irq_obj;
static int irq_result;

static void irq_fn(struct irq_work *w)
{
	int *v = tocpatch_shadow_get_or_alloc(&irq_obj, ID_IRQ, sizeof(*v),
					      GFP_ATOMIC, NULL, NULL);

	irq_result = 0;
	if (v && in_hardirq()) {
		*v = 42;
		v = tocpatch_shadow_get(&irq_obj, ID_IRQ);
		if (v && *v == 42)
			irq_result = 1;
	}
	tocpatch_shadow_free(&irq_obj, ID_IRQ, NULL);
	if (tocpatch_shadow_get(&irq_obj, ID_IRQ))
		irq_result = 0;
}

static DEFINE_IRQ_WORK(irq_w, irq_fn);


/*
 * NMI context: a system-reset NMI IPI (smp_send_nmi_ipi(), not exported:
 * found through a disabled kprobe) to the other CPU, parked first in an
 * IPI handler with interrupts hard-disabled, where a system reset is
 * always recoverable (see test_nmi.c).
 */
static int (*nmi_send)(int cpu, void (*fn)(struct pt_regs *), u64 delay_us);
static struct parent nmi_obj;
static int nmi_seen;		/* bit 0 ran in NMI, 1 get, 2 alloc refused */
static int park_state;		/* 1 parked, 2 released, 3 gone */

static void nmi_fn(struct pt_regs *regs)
{
	int seen = 0;

	if (in_nmi())
		seen |= 1;
	if (tocpatch_shadow_get(&nmi_obj, ID_NMI))
		seen |= 2;
	if (!tocpatch_shadow_alloc(&nmi_obj, ID_NMI_NEW, 8, GFP_ATOMIC, NULL,
				   NULL))
		seen |= 4;
	tocpatch_shadow_free(&nmi_obj, ID_NMI, NULL);
	WRITE_ONCE(nmi_seen, seen);
}

static void park(void *info)
{
	if (cmpxchg(&park_state, 0, 1) != 0)
		return;
	hard_irq_disable();
	while (READ_ONCE(park_state) == 1)
		cpu_relax();
	WRITE_ONCE(park_state, 3);
}

static call_single_data_t park_csd = CSD_INIT(park, NULL);

static bool wait_state(int v)
{
	unsigned long end = jiffies + HZ;

	while (READ_ONCE(park_state) != v)
		if (time_after(jiffies, end))
			return false;
	return true;
}

static const char *nmi_case(void)
{
	bool sent = false;
	int cpu;

	nmi_send = (void *)tp_resolve("smp_send_nmi_ipi");
	if (!nmi_send)
		return "no smp_send_nmi_ipi";
	if (!tocpatch_shadow_alloc(&nmi_obj, ID_NMI, 8, GFP_KERNEL, NULL, NULL))
		return "no variable";
	nmi_seen = -1;
	preempt_disable();
	cpu = cpumask_any_but(cpu_online_mask, smp_processor_id());
	WRITE_ONCE(park_state, 0);
	if (cpu < nr_cpu_ids && !smp_call_function_single_async(cpu, &park_csd) &&
	    wait_state(1)) {
		sent = nmi_send(cpu, nmi_fn, USEC_PER_SEC);
		WRITE_ONCE(park_state, 2);
		if (!wait_state(3))
			sent = false;
	} else {
		xchg(&park_state, 2);
	}
	preempt_enable();
	if (!sent || nmi_seen < 0)
		return "did not run";
	/* The free in the NMI was refused: the variable is still there. */
	if (nmi_seen != 7 || !tocpatch_shadow_get(&nmi_obj, ID_NMI) ||
	    tocpatch_shadow_get(&nmi_obj, ID_NMI_NEW))
		return "failed";
	tocpatch_shadow_free(&nmi_obj, ID_NMI, NULL);
	return "get ok, alloc and free refused";
}

static struct parent left_objs[16];

static void extra_cases(struct parent *obj)
{
	unsigned long flags;
	void *p = obj, *v;
	unsigned int i;
	bool ok;

	/* A second alloc of the same <obj, id>: NULL, one log line, no WARN. */
	v = tocpatch_shadow_alloc(obj, ID_DUP, 8, GFP_KERNEL, ctor, &p);
	if (v && !tocpatch_shadow_alloc(obj, ID_DUP, 8, GFP_KERNEL, ctor, &p) &&
	    tocpatch_shadow_get(obj, ID_DUP) == v)
		pr_info("duplicate alloc: NULL, first variable kept\n");
	tocpatch_shadow_free(obj, ID_DUP, NULL);

	/* A failing constructor: NULL and nothing attached. */
	if (!tocpatch_shadow_alloc(obj, ID_DUP, 8, GFP_KERNEL, ctor, NULL) &&
	    !tocpatch_shadow_get(obj, ID_DUP))
		pr_info("failing constructor: NULL, nothing attached\n");

	/* Freeing what is not there changes nothing. */
	tocpatch_shadow_free(obj, ID_DUP, dtor);
	tocpatch_shadow_free_all(ID_DUP, dtor);
	pr_info("free of an absent variable: no destructor call\n");

	/* With interrupts off (GFP_ATOMIC). */
	local_irq_save(flags);
	v = tocpatch_shadow_get_or_alloc(obj, ID_IRQ, 8, GFP_ATOMIC, NULL,
					 NULL);
	ok = v && tocpatch_shadow_get(obj, ID_IRQ) == v;
	tocpatch_shadow_free(obj, ID_IRQ, NULL);
	local_irq_restore(flags);
	if (ok && !tocpatch_shadow_get(obj, ID_IRQ))
		pr_info("interrupts off: alloc, get, free ok\n");

	/* In hard interrupt context. */
	irq_result = -1;
	irq_work_queue(&irq_w);
	irq_work_sync(&irq_w);
	pr_info("hard interrupt: %s\n", irq_result == 1 ? "alloc, get, free ok" :
		irq_result ? "did not run" : "failed");

	pr_info("NMI: %s\n", nmi_case());

	/* Left attached, for tocpatch's unload. */
	for (i = 0; i < leave && i < ARRAY_SIZE(left_objs); i++)
		tocpatch_shadow_alloc(&left_objs[i], ID_LEFT, 32, GFP_KERNEL,
				      NULL, NULL);
	if (leave)
		pr_info("left %u variable(s) attached\n", i);
}

static int __init test_shadow_vars_init(void)
{
	struct parent objs[NOBJ];
	int ret;

	name_of(NULL);
	ret = upstream_scenario(objs);
	if (ret) {
		tocpatch_shadow_free_all(ID1, NULL);
		tocpatch_shadow_free_all(ID2, NULL);
		return ret;
	}
	extra_cases(&objs[0]);
	return 0;
}

static void __exit test_shadow_vars_exit(void)
{
}

module_init(test_shadow_vars_init);
module_exit(test_shadow_vars_exit);
MODULE_DESCRIPTION("tocpatch selftest: shadow variables");
MODULE_LICENSE("GPL");
