/* SPDX-License-Identifier: GPL-2.0 */
/*
 * tocpatch: the API of the live-patching engine for patch modules.
 *
 * A patch module describes its patch statically and enables it from its
 * init function:
 *
 *	static struct tocpatch_func funcs[] = {
 *		{ .old_name = "cmdline_proc_show", .new_func = my_cmdline_proc_show },
 *		{ }
 *	};
 *	static struct tocpatch_object objs[] = {
 *		{ .name = NULL, .funcs = funcs },	(NULL: vmlinux)
 *		{ }
 *	};
 *	static struct tocpatch_patch patch = { .mod = THIS_MODULE, .objs = objs };
 *
 *	static int __init my_init(void) { return tocpatch_enable_patch(&patch); }
 *	static void __exit my_exit(void) { }
 *
 * While the patch is enabled tocpatch holds a reference on the patch
 * module, so it cannot be unloaded. Disabling it (writing 0 to
 * /sys/kernel/tocpatch/NAME/enabled, NAME being the module name, or
 * tocpatch_disable_patch() from other kernel code) stops new calls from
 * reaching the replacements; the reference is dropped once no task can
 * still run or return into the patch module's code, and rmmod then works.
 *
 * The structures belong to the patch module and must stay in place, and
 * unchanged, while the patch is enabled. Replacements must have the
 * prototype of the function they replace.
 */
#ifndef _TOCPATCH_H
#define _TOCPATCH_H

#include <linux/module.h>

/**
 * struct tocpatch_func - one function to replace
 * @old_name:	name of the function to replace, as kallsyms knows it
 * @new_func:	the replacement, a function of the patch module
 * @old_sympos:	which of several symbols of that name in the object
 *		(1-based, counted as livepatch counts: in vmlinux by
 *		address, in a module in its symbol table's order); 0 means
 *		the name must be unique in the object
 */
struct tocpatch_func {
	const char *old_name;
	void *new_func;
	unsigned long old_sympos;
};

struct tocpatch_object;

/**
 * struct tocpatch_callbacks - what to run around patching one object
 * @pre_patch:	before the object's functions are patched (at enable, or
 *		when its module loads, before the module's init); a
 *		negative errno fails the enable, or the module's load, and
 *		nothing is patched
 * @post_patch:	after the object's functions are patched (the
 *		replacements are live)
 * @pre_unpatch:	before the object's functions are unpatched (at disable,
 *		or when its module goes)
 * @post_unpatch:	after they are unpatched; also after a failed enable or
 *		module load, for an object whose @pre_patch succeeded
 *
 * The counterparts of klp_callbacks, called at the same moments and in
 * the same order (Documentation/livepatch/callbacks.rst), each optional.
 * They run in process context, may sleep, and are serialised with every
 * enable, disable and module load or unload (tocpatch's registry lock is
 * held: they must not enable or disable patches).
 */
struct tocpatch_callbacks {
	int (*pre_patch)(struct tocpatch_object *obj);
	void (*post_patch)(struct tocpatch_object *obj);
	void (*pre_unpatch)(struct tocpatch_object *obj);
	void (*post_unpatch)(struct tocpatch_object *obj);
};

/**
 * struct tocpatch_object - the functions to replace in one object
 * @name:	module name, or NULL for vmlinux; a module that is not
 *		loaded when the patch is enabled is patched when it loads
 *		(before its init runs) and unpatched when it goes
 * @funcs:	array terminated by an entry with a NULL @old_name
 * @callbacks:	optional, see struct tocpatch_callbacks
 * @mod:	set by tocpatch, for the callbacks: the object's module while
 *		it is loaded and patched, NULL for vmlinux
 */
struct tocpatch_object {
	const char *name;
	struct tocpatch_func *funcs;
	struct tocpatch_callbacks callbacks;
	struct module *mod;
};

/**
 * struct tocpatch_state - a system state a patch changes (klp_state)
 * @id:		the state's identifier, non-zero (0 ends an array of them)
 * @version:	the version of the change; a patch that takes over a state
 *		must know a version at least as new as the enabled patches'
 * @data:	for the patch's own use (callbacks), typically set up in
 *		pre_patch
 */
struct tocpatch_state {
	unsigned long id;
	unsigned int version;
	void *data;
};

/**
 * struct tocpatch_patch - a live patch
 * @mod:	the patch module (THIS_MODULE)
 * @objs:	array terminated by an entry with a NULL @funcs
 * @replace:	a cumulative patch (livepatch's atomic replace): enabling it
 *		takes over every function of the enabled patches in one step;
 *		the functions it does not name go back to the original, and the
 *		patches it replaced end up disabled (their modules can then be
 *		removed)
 * @states:	optional array of the system states the patch changes,
 *		terminated by an entry with @id 0. An enable is refused
 *		(-EINVAL) if an enabled patch has a state this patch has at
 *		an older version, or, for a @replace patch, does not have
 *		(livepatch's klp_is_patch_compatible())
 *
 * Patches stack: several may patch the same function, the most recently
 * enabled one wins, and disabling any of them (in any order) hands the
 * function to the next one below, or back to the original.
 */
struct tocpatch_patch {
	struct module *mod;
	struct tocpatch_object *objs;
	bool replace;
	struct tocpatch_state *states;
};

int tocpatch_enable_patch(struct tocpatch_patch *patch);
int tocpatch_disable_patch(struct tocpatch_patch *patch);

/**
 * tocpatch_get_state() - a state of a patch
 * @patch:	the patch
 * @id:		the state's identifier
 *
 * Return: @patch's state @id, or NULL if it has none.
 */
struct tocpatch_state *tocpatch_get_state(struct tocpatch_patch *patch,
					  unsigned long id);

/**
 * tocpatch_get_prev_state() - the state of the enabled patches
 * @id:		the state's identifier
 *
 * For the callbacks of a patch being enabled or disabled (livepatch's
 * klp_get_prev_state(): only then is there a patch in transition): the
 * state @id of the most recently enabled patch enabled before it that
 * has one.
 *
 * Return: that state, or NULL if none has it (or no patch is being
 * enabled or disabled: a callback run for a module that loads or goes).
 */
struct tocpatch_state *tocpatch_get_prev_state(unsigned long id);

/*
 * Shadow variables: data attached to existing kernel objects, keyed by
 * <object address, id>, with the semantics of livepatch's klp_shadow_*()
 * (a livepatch module moves by renaming klp_shadow_ to tocpatch_shadow_).
 * The variables belong to tocpatch, not to the module that allocated them:
 * they outlive it (a later patch can take them over) until freed, and any
 * still attached when tocpatch is unloaded are freed then (without their
 * destructor). See Documentation/api.rst.
 */

/**
 * typedef tocpatch_shadow_ctor_t - shadow variable constructor
 * @obj:	the parent object
 * @shadow_data:	the new variable's data (zeroed)
 * @ctor_data:	what the caller passed to the allocation
 *
 * Called under tocpatch's shadow lock, with interrupts off: it must not
 * sleep, nor call the shadow variable API.
 *
 * Return: 0, or a negative errno: the allocation then fails (NULL) and the
 * variable is not attached.
 */
typedef int (*tocpatch_shadow_ctor_t)(void *obj, void *shadow_data,
				      void *ctor_data);

/**
 * typedef tocpatch_shadow_dtor_t - shadow variable destructor
 * @obj:	the parent object
 * @shadow_data:	the variable's data, freed after an RCU grace period
 *
 * Called under tocpatch's shadow lock, with interrupts off: it must not
 * sleep, nor call the shadow variable API.
 */
typedef void (*tocpatch_shadow_dtor_t)(void *obj, void *shadow_data);

/**
 * tocpatch_shadow_get() - find a shadow variable's data
 * @obj:	the parent object
 * @id:		the variable's identifier
 *
 * Lock-free (RCU); callable from any context, NMI included.
 *
 * Return: the data of <@obj, @id>, or NULL if there is none. The data
 * stays allocated until tocpatch_shadow_free() or tocpatch_shadow_free_all()
 * frees it and an RCU grace period passes: a caller racing with those must
 * be in an RCU read-side section.
 */
void *tocpatch_shadow_get(void *obj, unsigned long id);

/**
 * tocpatch_shadow_alloc() - attach a new shadow variable
 * @obj:	the parent object
 * @id:		the variable's identifier
 * @size:	bytes of data (zeroed, 8-byte aligned)
 * @gfp_flags:	for the allocation (GFP_ATOMIC or GFP_NOWAIT where the
 *		caller cannot sleep)
 * @ctor:	constructor (optional), called only if the variable is
 *		attached, under the lock (see tocpatch_shadow_ctor_t)
 * @ctor_data:	passed to @ctor
 *
 * Not from NMI context (refused there, NULL).
 *
 * Return: the new data, or NULL if <@obj, @id> exists already (one kernel
 * log line, no WARN), the allocation failed, or @ctor failed (one line).
 */
void *tocpatch_shadow_alloc(void *obj, unsigned long id, size_t size,
			    gfp_t gfp_flags, tocpatch_shadow_ctor_t ctor,
			    void *ctor_data);

/**
 * tocpatch_shadow_get_or_alloc() - find or attach a shadow variable
 * @obj:	the parent object
 * @id:		the variable's identifier
 * @size:	bytes of data, if it is allocated
 * @gfp_flags:	for the allocation
 * @ctor:	constructor (optional), called only if a new variable is
 *		attached
 * @ctor_data:	passed to @ctor
 *
 * There is never more than one <@obj, @id>: when two callers race, one
 * allocates and both get its data. Not from NMI context (NULL, unless the
 * variable exists).
 *
 * Return: the existing or new data, or NULL if the allocation or @ctor
 * failed.
 */
void *tocpatch_shadow_get_or_alloc(void *obj, unsigned long id, size_t size,
				   gfp_t gfp_flags,
				   tocpatch_shadow_ctor_t ctor,
				   void *ctor_data);

/**
 * tocpatch_shadow_free() - detach and free a shadow variable
 * @obj:	the parent object
 * @id:		the variable's identifier
 * @dtor:	destructor (optional), called with the data before it is
 *		freed, under the lock
 *
 * The memory is freed after an RCU grace period. Nothing happens if
 * <@obj, @id> does not exist. Not from NMI context (refused with one log
 * line).
 */
void tocpatch_shadow_free(void *obj, unsigned long id,
			  tocpatch_shadow_dtor_t dtor);

/**
 * tocpatch_shadow_free_all() - detach and free every <*, @id> variable
 * @id:		the variables' identifier
 * @dtor:	destructor (optional), called for each, under the lock
 *
 * As tocpatch_shadow_free(), for every object.
 */
void tocpatch_shadow_free_all(unsigned long id, tocpatch_shadow_dtor_t dtor);

#endif /* _TOCPATCH_H */
