/* SPDX-License-Identifier: GPL-2.0 */
/* Functions of tocpatch_test_target.ko that the tests patch and call. */
#ifndef _TOCPATCH_TEST_TARGET_H
#define _TOCPATCH_TEST_TARGET_H

#include <linux/printk.h>
#include <linux/sched.h>
#include <linux/types.h>

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
 * For the fault-injection test: what is left of the task's fail-nth count
 * (/proc/self/fail-nth; 0 when none is pending or the injected failure
 * has happened), and a log line with it before and after an enable, so
 * that the test can tell whether the failure was injected in the enable.
 */
static inline unsigned int tp_fail_nth(void)
{
#ifdef CONFIG_FAULT_INJECTION
	return READ_ONCE(current->fail_nth);
#else
	return 0;
#endif
}

static inline int tp_fault_report(unsigned int before, int ret, bool report)
{
	if (report)
		pr_info("enable returned %d, fail-nth %u before, %u after\n",
			ret, before, tp_fail_nth());
	return ret;
}

/* What the replacements add, so that a test can tell who ran. */
#define TP_PATCHED_BIAS 1000

#endif
