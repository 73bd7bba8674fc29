/* SPDX-License-Identifier: GPL-2.0 */
/* Functions of tocpatch_test_target.ko that the tests patch and call. */
#ifndef _TOCPATCH_TEST_TARGET_H
#define _TOCPATCH_TEST_TARGET_H

#include <linux/printk.h>
#include <linux/sched.h>
#include <linux/bug.h>
#include <linux/types.h>
#include <tocpatch.h>

struct dentry;

int tp_target_add(int a, int b);
int tp_target_tail(int a);
int tp_target_depth(int n);
int tp_target_walk(int n);
int tp_target_sleep(int ms);
int tp_target_plain(int a, int b);
int tp_target_tail_asm(int x);
int tp_target_tail_rust(int x);
int tp_target_rust(int x);
int tp_target_notrace(int x);
long tp_target_asm(long x);
int tp_target_dup2(int x);
unsigned long tp_target_toc(void);

/*
 * Assembly callers that enter fn through its global entry and do not
 * reload r2 afterwards (test_noreload.h): tp_target_noreload in the target
 * module, tp_caller_noreload in the caller module. *r2_after gets the r2
 * that came back.
 */
long tp_target_noreload(void *fn, long a, long b, unsigned long *r2_after);
long tp_caller_noreload(void *fn, long a, long b, unsigned long *r2_after);

/* test_target_shadow.c (test-shadow.sh) */
struct completion;
int tp_target_block(int x);
void tp_block_wait(void);
int tp_target_nest(int n);
int tp_target_nest_walk(int n);
int tp_nest_bottom(void);
int tp_target_irq(int x);
int tp_target_exiting(int x);
extern struct completion tp_exit_done;
int tp_target_uexit(int x);
int tp_target_deep(int n);
int tp_target_deep_walk(int n);
void tp_deep_note_sp(unsigned long sp);
/*
 * What tp_target_deep (the original, which never recurses) returns; its
 * replacement recurses with TP_DEEP_PAD bytes of frame a level and adds 1
 * a level, so that a result of TP_DEEP_ORIG + k says that the original ran
 * under k levels of the replacement.
 */
#define TP_DEEP_ORIG	1000000
#define TP_DEEP_PAD	512
int tp_shadow_init(void);
void tp_shadow_exit(void);

/*
 * Call files: /sys/kernel/debug/tocpatch_test/NAME. Writing "CASE ARG"
 * runs run(CASE, ARG, &toc_ok) in the module that created the file; reading
 * gives "result R toc_ok B". run() checks r2 around its own call with
 * tp_read_r2(), as only the calling module can.
 */
typedef long (*tp_run_fn)(const char *c, long arg, bool *toc_ok);

struct dentry *tp_call_file_create(const char *name, tp_run_fn run);
void tp_call_file_remove(struct dentry *file);

static __always_inline unsigned long tp_read_r2(void)
{
	unsigned long r2;

	asm volatile("mr %0, 2" : "=r" (r2));
	return r2;
}

/*
 * For the fault-injection test (test-faults.sh): enables @patch with the
 * @nth allocation of the enable made to fail (per-task fault injection,
 * as /proc/self/fail-nth does, counted from the call), and logs whether
 * that failure happened in the enable (0 left) or not. @nth 0: a plain
 * enable.
 */
static inline int tp_fault_enable(struct tocpatch_patch *patch,
				  unsigned int nth)
{
#ifdef CONFIG_FAULT_INJECTION
	unsigned int left;
	int ret;

	if (!nth)
		return tocpatch_enable_patch(patch);
	WRITE_ONCE(current->fail_nth, nth);
	ret = tocpatch_enable_patch(patch);
	left = READ_ONCE(current->fail_nth);
	WRITE_ONCE(current->fail_nth, 0);
	pr_info("enable with fail-nth %u returned %d, %u left\n", nth, ret,
		left);
	return ret;
#else
	return tocpatch_enable_patch(patch);
#endif
}

/*
 * Every patch target checks first that it runs with a real (even) r2: an
 * odd one would mean that a marked global entry ran without tocpatch's
 * hook repairing it. It must come before anything uses the TOC, and BUG()
 * needs none.
 */
#define TP_ASSERT_TOC()						\
	do {							\
		unsigned long __r2;				\
								\
		asm volatile("mr %0, 2" : "=r" (__r2) : : "memory"); \
		BUG_ON(__r2 & 1);				\
	} while (0)

/* What the replacements add, so that a test can tell who ran. */
#define TP_PATCHED_BIAS 1000

#endif
