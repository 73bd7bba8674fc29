// SPDX-License-Identifier: GPL-2.0

//! tocpatch: live patching for ppc64le (ELFv2) kernels.
//!
//! Redirects calls of kernel and module functions to replacements in patch
//! modules, through ftrace, keeping the TOC pointer (r2) right for every way
//! a function can be entered: the odd-TOC marker tells global from local
//! calls, and local calls return through a trampoline that restores the
//! caller's TOC from a per-task shadow stack. See Documentation/index.rst.
//!
//! Load it with `insmod tocpatch.ko`; patch modules then enable their
//! patches through `include/tocpatch.h`, and `/sys/kernel/tocpatch/`
//! shows and controls them (`/sys/kernel/debug/tocpatch/status` is a debug
//! summary).
//!
//! One file per concern: `ftrace_hook` (ftrace ops and the callback),
//! `asm_shim` (call classification), `counters` (per-CPU counters),
//! `shadow` (per-task shadow frames),
//! `trampoline` (Rust side of the trampolines), `site` (a patched
//! function: its hook, its marker and the stack of the patches' targets
//! on it), `target` (one patch's replacement of a function as the
//! callback sees it), `patch` (patch objects, their registry and state
//! machine; by concern in `patch/`: API parsing, enable, disable and
//! release, module notifier, C exports, states), `symbols` (resolution), `markers` (placed markers and their
//! suspension during CPU hotplug), `nmi` (markers and NMI handlers, which
//! run with ftrace off), `text_patch` (marker text writes), `sysfs` (the
//! sysfs ABI), `control` (the debugfs status file), `abi` (the C API
//! layout), `glue` (C helpers), `shadow_var` (the API's shadow variables),
//! `logic` (pure logic, also tested on the host).

use kernel::prelude::*;

mod abi;
mod asm_shim;
mod control;
mod counters;
mod direct_ops;
mod ftrace_hook;
mod glue;
mod logic;
mod markers;
mod nmi;
mod patch;
mod shadow;
mod shadow_var;
mod site;
mod symbols;
mod sysfs;
mod target;
mod text_patch;
mod trampoline;

module! {
    type: Tocpatch,
    name: "tocpatch",
    authors: ["The tocpatch developers"],
    description: "Live patching engine for ppc64le with TOC-aware call classification",
    license: "GPL",
    params: {
        markers: bool {
            default: true,
            description: "Place odd-TOC markers (0: no markers, every call is handled as local; a diagnostic)",
        },
        direct: bool {
            default: true,
            description: "Reach patched functions through ftrace direct calls where the kernel has them (out-of-line ftrace); 0: through the ftrace callback, as on -mprofile-kernel",
        },
    },
}

/// Whether patches get odd-TOC markers (module parameter `markers`).
pub(crate) fn markers_enabled() -> bool {
    module_parameters::markers.value()
}

/// Whether the module parameter `direct` asks for the direct path.
pub(crate) fn direct_requested() -> bool {
    module_parameters::direct.value()
}

/// The ftrace mode of the running kernel (the one we were built for), or
/// an error for kernels tocpatch does not support.
fn ftrace_mode() -> Result<&'static str> {
    if cfg!(CONFIG_LIVEPATCH_64) {
        pr_err!("kernel has CONFIG_LIVEPATCH_64: its livepatch_handler would take over redirected calls; not supported\n");
        return Err(EOPNOTSUPP);
    }
    if cfg!(CONFIG_PPC_KERNEL_PCREL) {
        pr_err!("pcrel kernels have no TOC to manage; not supported\n");
        return Err(EOPNOTSUPP);
    }
    if !cfg!(CONFIG_DYNAMIC_FTRACE_WITH_ARGS) {
        pr_err!("kernel lacks CONFIG_DYNAMIC_FTRACE_WITH_ARGS\n");
        return Err(EOPNOTSUPP);
    }
    if cfg!(CONFIG_PPC_FTRACE_OUT_OF_LINE) {
        Ok("out-of-line")
    } else if cfg!(CONFIG_MPROFILE_KERNEL) {
        Ok("mprofile-kernel")
    } else {
        pr_err!("unknown ftrace mode (neither -mprofile-kernel nor out-of-line)\n");
        Err(EOPNOTSUPP)
    }
}

/// Unregisters the shared ftrace ops if `init` fails after registering it.
struct HooksGuard;

impl Drop for HooksGuard {
    fn drop(&mut self) {
        ftrace_hook::fini();
    }
}

/// The loaded engine.
struct Tocpatch {
    _control: control::Control,
    _sysfs: sysfs::Root,
    /// Taken in `drop`, so that its unregistration (which logs) comes
    /// before the "unloaded" line.
    nmi: Option<nmi::Guard>,
}

impl kernel::Module for Tocpatch {
    fn init(_module: &'static ThisModule) -> Result<Self> {
        let mode = ftrace_mode()?;
        asm_shim::self_test()?;
        ftrace_hook::lookup_self_test()?;
        abi::check_layout()?;
        patch::init();
        markers::init();
        site::init();
        ftrace_hook::init()?;
        let hooks = HooksGuard;
        let control = control::Control::new()?;
        let sysfs = sysfs::Root::new()?;
        // SAFETY: plain registration; undone in `drop`.
        let r = unsafe { glue::tocpatch_hotplug_register() };
        if r != 0 {
            pr_err!("cannot register the CPU hotplug states: {}\n", r);
            return Err(Error::from_errno(r));
        }
        // SAFETY: plain registration; undone in `drop`.
        let r = unsafe { glue::tocpatch_notifier_register() };
        if r != 0 {
            // SAFETY: registered just above.
            unsafe { glue::tocpatch_hotplug_unregister() };
            return Err(Error::from_errno(r));
        }
        let nmi = match nmi::Guard::register() {
            Ok(g) => g,
            Err(e) => {
                // SAFETY: both registered just above.
                unsafe {
                    glue::tocpatch_notifier_unregister();
                    glue::tocpatch_hotplug_unregister();
                }
                return Err(e);
            }
        };
        pr_info!(
            "loaded: ftrace mode {}, hooks through ftrace {}, asm self-test passed, module TOC {:#x}, shadow frames of {} bytes at each task's stack base ({} bytes kept from the live stack)\n",
            mode,
            if ftrace_hook::direct() {
                "direct calls"
            } else {
                "callbacks"
            },
            asm_shim::current_toc(),
            shadow::FRAME_BYTES,
            shadow::MARGIN
        );
        core::mem::forget(hooks);
        Ok(Tocpatch {
            _control: control,
            _sysfs: sysfs,
            nmi: Some(nmi),
        })
    }
}

impl Drop for Tocpatch {
    fn drop(&mut self) {
        // Patch modules use our symbols, so none is loaded now, and a patch
        // outlives its module only while pinned, which holds that module.
        let left = patch::count();
        if left != 0 {
            pr_err!("unloading with {} patch(es) registered\n", left);
        }
        let vars = shadow_var::free_left();
        if vars != 0 {
            pr_info!("freed {} shadow variable(s) left attached\n", vars);
        }
        // SAFETY: registered in `init`.
        unsafe { glue::tocpatch_notifier_unregister() };
        // SAFETY: registered in `init`.
        unsafe { glue::tocpatch_hotplug_unregister() };
        patch::fini();
        markers::fini();
        site::fini();
        drop(self.nmi.take());
        ftrace_hook::fini();
        // SAFETY: after the last callback (the ops are unregistered).
        unsafe { glue::tocpatch_report_stop() };
        pr_info!("unloaded\n");
    }
}
