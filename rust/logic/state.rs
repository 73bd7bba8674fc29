// SPDX-License-Identifier: GPL-2.0

//! The life cycle of a patch, as a state machine with checked transitions.
//!
//! ```text
//!   (enable) --> Enabled --(disable)--> Releasing --(code unused)--> gone
//!                                          |  ^
//!                   (timeout, marker stuck) v  | (disable again)
//!                                         Pinned
//! ```
//!
//! * `Enabled`: hooks registered, markers placed, module reference held.
//! * `Releasing`: hooks and markers removed; waiting until no task can run
//!   or return into the patch module's code.
//! * `Pinned`: that wait timed out, or a marker could not be taken out of
//!   the text (someone else changed its word; that function keeps its hook);
//!   the module reference is still held and another `disable` retries.
//!
//! An enable that fails leaves no patch behind, so it has no state here.

/// A patch's state.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PatchState {
    /// Calls are redirected.
    Enabled,
    /// Disabled, waiting for the patch code to fall out of use.
    Releasing,
    /// Disabled, but its code was still in use when the wait ended, or a
    /// marker could not be restored.
    Pinned,
}

/// What is asked of a patch.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Event {
    /// A write of 0 to the sysfs `enabled` file, or `tocpatch_disable_patch()`.
    Disable,
    /// The release wait found the code unused.
    Released,
    /// The release wait timed out.
    TimedOut,
    /// A marker could not be restored (its word was changed by someone
    /// else).
    MarkerStuck,
}

/// Outcome of an event.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Next {
    /// Move to this state.
    To(PatchState),
    /// The patch is finished: drop it.
    Gone,
}

/// The transition for `event` in `state`, or `None` if it is not allowed.
pub const fn transition(state: PatchState, event: Event) -> Option<Next> {
    use Event::*;
    use PatchState::*;
    match (state, event) {
        (Enabled, Disable) => Some(Next::To(Releasing)),
        (Pinned, Disable) => Some(Next::To(Releasing)),
        (Releasing, Released) => Some(Next::Gone),
        (Releasing, TimedOut) => Some(Next::To(Pinned)),
        (Releasing, MarkerStuck) => Some(Next::To(Pinned)),
        _ => None,
    }
}

impl PatchState {
    /// Name shown in the status file.
    pub const fn name(self) -> &'static str {
        match self {
            PatchState::Enabled => "enabled",
            PatchState::Releasing => "releasing",
            PatchState::Pinned => "pinned",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normal_life() {
        let s = PatchState::Enabled;
        assert_eq!(
            transition(s, Event::Disable),
            Some(Next::To(PatchState::Releasing))
        );
        assert_eq!(
            transition(PatchState::Releasing, Event::Released),
            Some(Next::Gone)
        );
    }

    #[test]
    fn pinned_then_retried() {
        assert_eq!(
            transition(PatchState::Releasing, Event::TimedOut),
            Some(Next::To(PatchState::Pinned))
        );
        assert_eq!(
            transition(PatchState::Pinned, Event::Disable),
            Some(Next::To(PatchState::Releasing))
        );
    }

    #[test]
    fn stuck_marker_pins_then_retried() {
        assert_eq!(
            transition(PatchState::Releasing, Event::MarkerStuck),
            Some(Next::To(PatchState::Pinned))
        );
        assert_eq!(transition(PatchState::Enabled, Event::MarkerStuck), None);
        assert_eq!(transition(PatchState::Pinned, Event::MarkerStuck), None);
    }

    #[test]
    fn refused_transitions() {
        assert_eq!(transition(PatchState::Releasing, Event::Disable), None);
        assert_eq!(transition(PatchState::Enabled, Event::Released), None);
        assert_eq!(transition(PatchState::Enabled, Event::TimedOut), None);
        assert_eq!(transition(PatchState::Pinned, Event::Released), None);
    }
}
