// SPDX-License-Identifier: GPL-2.0

//! A registered ftrace direct ops, owned: [`DirectOps`] exists only while
//! its ops is registered with ftrace, and dropping it unregisters the ops
//! (`kernel_glue/ftrace_direct.c`). No path can free an ops ftrace still
//! uses, or forget one that should go: an ops ftrace will not let go
//! (only after `ftrace_kill()`) is leaked, with tocpatch pinned and one
//! line logged, which is all that can be done with it then.

use kernel::{bindings, ffi, prelude::*, types::Opaque};

use crate::glue;

/// A direct ops registered on some ftrace locations, all calling `addr`.
pub(crate) struct DirectOps {
    /// Pinned: ftrace holds its address while it is registered. `None`
    /// only inside [`DirectOps::unregister`] and `drop`.
    ops: Option<Pin<KBox<Opaque<bindings::ftrace_ops>>>>,
    /// The address its locations call.
    addr: ffi::c_ulong,
}

impl DirectOps {
    /// Registers a new direct ops on the ftrace locations `ips` (all or
    /// none), calling `addr`; returns ftrace's error otherwise.
    pub(crate) fn register(ips: &mut [ffi::c_ulong], addr: ffi::c_ulong) -> Result<Self> {
        let ops: Pin<KBox<Opaque<bindings::ftrace_ops>>> = KBox::pin(Opaque::zeroed(), GFP_KERNEL)?;
        let mut stays = false;
        let n = u32::try_from(ips.len()).map_err(|_| EINVAL)?;
        // SAFETY: a zeroed ops, never registered; `ips` holds `n`
        // locations; the ops stays allocated while registered (dropping a
        // `DirectOps` unregisters it first, or leaks it).
        let r = unsafe {
            glue::tocpatch_direct_register(ops.get(), ips.as_mut_ptr(), n, addr, &mut stays)
        };
        if r == 0 {
            return Ok(DirectOps {
                ops: Some(ops),
                addr,
            });
        }
        if stays {
            // ftrace failed half-way (killed during the update): it may
            // still use the ops.
            pr_err!(
                "register_ftrace_direct failed: {}: its ftrace ops is leaked\n",
                r
            );
            leak(ops);
        }
        Err(Error::from_errno(r))
    }

    /// Unregisters the ops; on ftrace's error the ops is leaked (tocpatch
    /// pinned) and the error returned, for the caller to log with what it
    /// means there. ftrace waits for the grace periods of a dynamic ops
    /// before it returns.
    pub(crate) fn unregister(mut self) -> Result {
        match self.ops.take() {
            Some(ops) => unregister_or_leak(ops, self.addr),
            None => Ok(()),
        }
    }
}

impl Drop for DirectOps {
    fn drop(&mut self) {
        if let Some(ops) = self.ops.take() {
            if let Err(e) = unregister_or_leak(ops, self.addr) {
                pr_err!(
                    "unregister_ftrace_direct failed: {}: its ftrace ops is leaked\n",
                    e.to_errno()
                );
            }
        }
    }
}

fn unregister_or_leak(ops: Pin<KBox<Opaque<bindings::ftrace_ops>>>, addr: ffi::c_ulong) -> Result {
    // SAFETY: registered by `DirectOps::register` with `addr`, and
    // unregistered only here (the option was taken).
    let r = unsafe { glue::tocpatch_direct_unregister(ops.get(), addr) };
    if r == 0 {
        return Ok(());
    }
    leak(ops);
    Err(Error::from_errno(r))
}

/// Leaves `ops` allocated for good, and tocpatch loaded: ftrace may call
/// through it.
fn leak(ops: Pin<KBox<Opaque<bindings::ftrace_ops>>>) {
    core::mem::forget(ops);
    // SAFETY: plain call; our own module is live (this runs from its
    // enable, disable or exit paths).
    unsafe { glue::tocpatch_pin_self() };
}
