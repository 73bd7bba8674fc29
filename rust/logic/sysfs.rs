// SPDX-License-Identifier: GPL-2.0

//! What the writable sysfs files do (`rust/sysfs.rs`), decided as upstream
//! livepatch's `enabled_store()` and `force_store()` decide, for tocpatch's
//! patch states.

use super::state::PatchState;

/// Why a write is refused (each is `-EINVAL`, as livepatch returns).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Refusal {
    /// `1` to an enabled patch: already in the requested state.
    AlreadyEnabled,
    /// `0` to a patch that is disabled and being released.
    AlreadyDisabled,
    /// `1` to a disabled patch: livepatch never enables a patch again.
    NoReenable,
    /// `force` `1` without a transition in progress.
    NoTransition,
}

impl Refusal {
    /// Text for the kernel log line.
    pub const fn text(self) -> &'static str {
        match self {
            Refusal::AlreadyEnabled => "is already enabled",
            Refusal::AlreadyDisabled => "is already disabled",
            Refusal::NoReenable => {
                "is disabled and cannot be enabled again (unload and load its module)"
            }
            Refusal::NoTransition => "has no transition in progress to force",
        }
    }
}

/// Writing `want` to `enabled` of a patch in `state`: `Ok(())` means
/// "disable it" (from `Pinned`: retry the release, tocpatch's own state).
pub const fn enabled_write(state: PatchState, want: bool) -> Result<(), Refusal> {
    match (state, want) {
        (PatchState::Enabled, true) => Err(Refusal::AlreadyEnabled),
        (PatchState::Enabled, false) | (PatchState::Pinned, false) => Ok(()),
        (PatchState::Releasing, false) => Err(Refusal::AlreadyDisabled),
        (PatchState::Releasing | PatchState::Pinned, true) => Err(Refusal::NoReenable),
    }
}

/// Writing `want` to `force`: `Ok(true)` means "force the transition",
/// `Ok(false)` "nothing to do" (a `0` is accepted and ignored).
pub const fn force_write(in_transition: bool, want: bool) -> Result<bool, Refusal> {
    match (want, in_transition) {
        (false, _) => Ok(false),
        (true, true) => Ok(true),
        (true, false) => Err(Refusal::NoTransition),
    }
}

/// A patch's `stack_order`: 1-based, counted over the enabled patches
/// registered before it (in enable order) and itself, as livepatch counts
/// its list of patches.
pub fn stack_order(before: impl Iterator<Item = PatchState>) -> usize {
    before.filter(|s| *s == PatchState::Enabled).count() + 1
}

/// An object's `patched`: its patch is enabled and every function of it is
/// hooked (none went away with its module).
pub fn patched(state: PatchState, mut gone: impl Iterator<Item = bool>) -> bool {
    state == PatchState::Enabled && !gone.any(|g| g)
}

#[cfg(test)]
mod tests {
    use super::*;
    use PatchState::*;

    #[test]
    fn enabled_as_livepatch() {
        assert_eq!(enabled_write(Enabled, false), Ok(()));
        assert_eq!(enabled_write(Enabled, true), Err(Refusal::AlreadyEnabled));
        assert_eq!(
            enabled_write(Releasing, false),
            Err(Refusal::AlreadyDisabled)
        );
        assert_eq!(enabled_write(Releasing, true), Err(Refusal::NoReenable));
        assert_eq!(enabled_write(Pinned, true), Err(Refusal::NoReenable));
    }

    #[test]
    fn pinned_retries() {
        assert_eq!(enabled_write(Pinned, false), Ok(()));
    }

    #[test]
    fn force_as_livepatch() {
        assert_eq!(force_write(false, false), Ok(false));
        assert_eq!(force_write(true, false), Ok(false));
        assert_eq!(force_write(false, true), Err(Refusal::NoTransition));
        assert_eq!(force_write(true, true), Ok(true));
    }

    #[test]
    fn order() {
        assert_eq!(stack_order([].into_iter()), 1);
        assert_eq!(stack_order([Enabled, Enabled].into_iter()), 3);
        assert_eq!(stack_order([Enabled, Pinned, Releasing].into_iter()), 2);
    }

    #[test]
    fn object_patched() {
        assert!(patched(Enabled, [false, false].into_iter()));
        assert!(!patched(Enabled, [false, true].into_iter()));
        assert!(!patched(Pinned, [false].into_iter()));
    }
}
