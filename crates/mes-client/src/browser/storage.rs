//! The one sessionStorage entry of a sign-in round trip (state, nonce, PKCE verifier, return
//! path, and the authority's public discovery document and keys — never a token), and the time of
//! the last silent sign-in (the breaker that stops renewal loops).

use super::BrowserError;
use crate::discovery::Authority;
use crate::signin::PendingSignIn;

/// The sessionStorage key of the pending sign-in. It holds state, nonce, PKCE verifier and the
/// return path — never a token — and is removed when the browser comes back.
pub const PENDING_SIGN_IN_KEY: &str = "mes-client.pending-sign-in";

fn session_storage() -> Option<web_sys::Storage> {
    web_sys::window()?.session_storage().ok()?
}

/// What one sign-in round trip keeps: the pending sign-in and, optionally, the authority's public
/// metadata and keys, so the page the browser returns to need not fetch them again.
#[derive(serde::Deserialize)]
struct RoundTrip {
    pending: PendingSignIn,
    #[serde(default)]
    authority: Option<Authority>,
}

#[derive(serde::Serialize)]
struct RoundTripRef<'a> {
    pending: &'a PendingSignIn,
    authority: Option<&'a Authority>,
}

/// Remembers a sign-in for its one round trip.
pub fn save_pending(pending: &PendingSignIn) -> Result<(), BrowserError> {
    save_round_trip(pending, None)
}

/// Remembers a sign-in and the authority's discovery document and keys (public; never a token)
/// for its one round trip.
pub fn save_round_trip(pending: &PendingSignIn, authority: Option<&Authority>) -> Result<(), BrowserError> {
    let storage = session_storage().ok_or(BrowserError::Storage("it is blocked"))?;
    let text = serde_json::to_string(&RoundTripRef { pending, authority })
        .map_err(|_| BrowserError::Storage("the sign-in state could not be written"))?;
    storage
        .set_item(PENDING_SIGN_IN_KEY, &text)
        .map_err(|_| BrowserError::Storage("it refused the sign-in state"))
}

fn read_round_trip(take: bool) -> Option<RoundTrip> {
    let storage = session_storage()?;
    let text = storage.get_item(PENDING_SIGN_IN_KEY).ok()??;
    if take {
        let _ = storage.remove_item(PENDING_SIGN_IN_KEY);
    }
    serde_json::from_str(&text).ok()
}

/// Takes the pending sign-in out of storage: single use, whatever the outcome.
pub fn take_pending() -> Option<PendingSignIn> {
    take_round_trip().map(|(pending, _)| pending)
}

/// Takes the pending sign-in and the authority saved with it: single use, whatever the outcome.
pub fn take_round_trip() -> Option<(PendingSignIn, Option<Authority>)> {
    read_round_trip(true).map(|t| (t.pending, t.authority))
}

/// sessionStorage key of the time (seconds since the epoch) of the last silent `prompt=none`
/// sign-in this tab started: a number, never a token.
pub const SILENT_SIGN_IN_KEY: &str = "mes-client.silent-sign-in-at";

/// Notes that a silent sign-in starts now (the breaker that stops renewal loops reads it).
pub fn note_silent_sign_in(now: u64) {
    if let Some(storage) = session_storage() {
        let _ = storage.set_item(SILENT_SIGN_IN_KEY, &now.to_string());
    }
}

/// Forgets the last silent sign-in: it ended with the authority saying the person must sign in,
/// which is no loop.
pub fn clear_silent_sign_in() {
    if let Some(storage) = session_storage() {
        let _ = storage.remove_item(SILENT_SIGN_IN_KEY);
    }
}

/// Whether a silent sign-in started in this tab within `seconds` of `now`.
pub fn silent_sign_in_within(seconds: u64, now: u64) -> bool {
    session_storage()
        .and_then(|s| s.get_item(SILENT_SIGN_IN_KEY).ok().flatten())
        .and_then(|t| t.parse::<u64>().ok())
        .is_some_and(|at| at <= now && now - at < seconds)
}

/// The `state` of the pending sign-in in this tab's sessionStorage, without taking it.
pub fn pending_state() -> Option<crate::CsrfState> {
    read_round_trip(false).map(|t| t.pending.state)
}
