// SPDX-License-Identifier: GPL-2.0

//! Declarations of the C side of the engine (`kernel_glue/`), whose
//! prototypes are in `kernel_glue/glue.h`.

use kernel::ffi;

/// A `struct module *`, opaque here (its bindgen type drags in types that
/// are not FFI-safe).
pub(crate) type ModulePtr = *mut ffi::c_void;

/// `struct tocpatch_text_map` (kernel_glue/glue.h): the writable alias of
/// one text page that a batch of writes keeps; empty when both are NULL.
#[repr(C)]
pub(crate) struct TextMap {
    page: *mut ffi::c_void,
    alias: *mut ffi::c_void,
}

impl TextMap {
    pub(crate) const fn new() -> Self {
        Self {
            page: core::ptr::null_mut(),
            alias: core::ptr::null_mut(),
        }
    }
}

/// `tocpatch_symbol_fn`: one symbol of a walk (name, its length, address).
pub(crate) type SymbolFn = unsafe extern "C" fn(
    data: *mut ffi::c_void,
    name: *const ffi::c_char,
    len: usize,
    addr: ffi::c_ulong,
);

extern "C" {
    pub(crate) fn tocpatch_resolve(
        objname: *const ffi::c_char,
        name: *const ffi::c_char,
        addr: *mut ffi::c_ulong,
    ) -> ffi::c_int;
    pub(crate) fn tocpatch_each_symbol(
        objname: *const ffi::c_char,
        fn_: SymbolFn,
        data: *mut ffi::c_void,
    ) -> ffi::c_int;
    pub(crate) fn tocpatch_symbol_start(
        addr: ffi::c_ulong,
        start: *mut ffi::c_ulong,
        size: *mut ffi::c_ulong,
    ) -> ffi::c_int;
    pub(crate) fn tocpatch_text_write(
        map: *mut TextMap,
        addr: ffi::c_ulong,
        width: ffi::c_uint,
        old: u64,
        new: u64,
        sync: bool,
    ) -> ffi::c_int;
    pub(crate) fn tocpatch_text_sync();
    pub(crate) fn tocpatch_text_store_again(
        map: *mut TextMap,
        addr: ffi::c_ulong,
        width: ffi::c_uint,
        val: u64,
    ) -> ffi::c_int;
    pub(crate) fn tocpatch_text_unmap(map: *mut TextMap);
    pub(crate) fn tocpatch_tasks_in_use(
        start: ffi::c_ulong,
        end: ffi::c_ulong,
        owners: *const ffi::c_ulong,
        n: usize,
    ) -> ffi::c_int;
    pub(crate) fn tocpatch_module_get(module: ModulePtr) -> bool;
    pub(crate) fn tocpatch_module_put(module: ModulePtr);
    pub(crate) fn tocpatch_object_get(
        name: *const ffi::c_char,
        module: *mut ModulePtr,
    ) -> ffi::c_int;
    pub(crate) fn tocpatch_pin_self();
    pub(crate) fn tocpatch_module_text(
        module: ModulePtr,
        start: *mut ffi::c_ulong,
        end: *mut ffi::c_ulong,
    );
    pub(crate) fn tocpatch_module_name(module: ModulePtr) -> *const ffi::c_char;
    pub(crate) fn tocpatch_abi_layout(out: *mut ffi::c_ulong, n: ffi::c_uint);
    pub(crate) fn tocpatch_percpu_alloc(size: usize) -> *mut ffi::c_void;
    pub(crate) fn tocpatch_percpu_free(p: *mut ffi::c_void);
    pub(crate) fn tocpatch_percpu_fold(
        p: *const ffi::c_void,
        n: ffi::c_uint,
        max_mask: ffi::c_ulong,
        out: *mut u64,
    );
    pub(crate) fn tocpatch_recursion_trylock(
        ip: ffi::c_ulong,
        parent_ip: ffi::c_ulong,
    ) -> ffi::c_int;
    pub(crate) fn tocpatch_recursion_unlock(bit: ffi::c_int);
    pub(crate) fn tocpatch_report_kick();
    pub(crate) fn tocpatch_report_stop();
    pub(crate) fn tocpatch_notifier_register() -> ffi::c_int;
    pub(crate) fn tocpatch_module_name_len() -> usize;
    pub(crate) fn tocpatch_notifier_unregister();
    pub(crate) fn tocpatch_hotplug_register() -> ffi::c_int;
    pub(crate) fn tocpatch_hotplug_unregister();
    pub(crate) fn tocpatch_ftrace_off_register() -> ffi::c_int;
    pub(crate) fn tocpatch_ftrace_off_unregister();
    pub(crate) fn tocpatch_ftrace_anchor();
    pub(crate) fn tocpatch_nmi_register(addr: *mut ffi::c_ulong) -> ffi::c_int;
    pub(crate) fn tocpatch_nmi_send_hook(
        ip: ffi::c_ulong,
        parent_ip: ffi::c_ulong,
        op: *mut ffi::c_void,
        fregs: *mut ffi::c_void,
    );
    pub(crate) fn tocpatch_nmi_unregister();
    pub(crate) fn tocpatch_direct_available() -> bool;
    pub(crate) fn tocpatch_direct_register(
        ops: *mut kernel::bindings::ftrace_ops,
        ips: *mut ffi::c_ulong,
        n: ffi::c_uint,
        addr: ffi::c_ulong,
        stays: *mut bool,
    ) -> ffi::c_int;
    pub(crate) fn tocpatch_direct_unregister(
        ops: *mut kernel::bindings::ftrace_ops,
        addr: ffi::c_ulong,
    ) -> ffi::c_int;
    pub(crate) fn tocpatch_nmi_markers(n: ffi::c_uint);
    pub(crate) fn tocpatch_nmi_entry_point(addr: ffi::c_ulong) -> *const ffi::c_char;
    pub(crate) fn tocpatch_crash_register() -> ffi::c_int;
    pub(crate) fn tocpatch_crash_unregister();
    pub(crate) fn tocpatch_sysfs_init() -> ffi::c_int;
    pub(crate) fn tocpatch_sysfs_exit();
    pub(crate) fn tocpatch_sysfs_add(
        name: *const ffi::c_char,
        api: *const crate::abi::TocpatchPatch,
        handle: *mut *mut ffi::c_void,
    ) -> ffi::c_int;
    pub(crate) fn tocpatch_sysfs_remove(handle: *mut ffi::c_void);
    pub(crate) fn tocpatch_sysfs_flush();
}
