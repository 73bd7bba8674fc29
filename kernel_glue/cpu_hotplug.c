// SPDX-License-Identifier: GPL-2.0
/*
 * tocpatch: odd-TOC markers out for the whole of every CPU hotplug
 * operation (see rust/markers.rs for why).
 *
 * Two dynamic hotplug states bracket the part of an operation where a CPU
 * runs with ftrace off:
 *
 *	online:  prepare state startup (control CPU, before the new CPU
 *		 runs)			-> suspend
 *		 online state startup (on the new CPU, ftrace on)
 *					-> resume
 *	offline: online state teardown (on the CPU, before __cpu_disable())
 *					-> suspend
 *		 prepare state teardown (control CPU, the CPU is dead)
 *					-> resume
 *
 * A failed operation rolls back through the opposite callback of the
 * same state, so suspend and resume always pair. Installed without calling
 * the callbacks for the CPUs already online (_nocalls): for those, only
 * their offline operation runs, which pairs by itself.
 */
#include <linux/cpuhotplug.h>
#include "glue.h"

static int tocpatch_hp_prepare;
static int tocpatch_hp_online;

static int tocpatch_hp_suspend(unsigned int cpu)
{
	tocpatch_markers_suspend();
	return 0;
}

static int tocpatch_hp_resume(unsigned int cpu)
{
	tocpatch_markers_resume();
	return 0;
}

int tocpatch_hotplug_register(void)
{
	int ret;

	ret = cpuhp_setup_state_nocalls(CPUHP_BP_PREPARE_DYN,
					"tocpatch:prepare",
					tocpatch_hp_suspend,
					tocpatch_hp_resume);
	if (ret < 0)
		return ret;
	tocpatch_hp_prepare = ret;
	ret = cpuhp_setup_state_nocalls(CPUHP_AP_ONLINE_DYN,
					"tocpatch:online",
					tocpatch_hp_resume,
					tocpatch_hp_suspend);
	if (ret < 0) {
		cpuhp_remove_state_nocalls(tocpatch_hp_prepare);
		return ret;
	}
	tocpatch_hp_online = ret;
	return 0;
}

void tocpatch_hotplug_unregister(void)
{
	cpuhp_remove_state_nocalls(tocpatch_hp_online);
	cpuhp_remove_state_nocalls(tocpatch_hp_prepare);
}
