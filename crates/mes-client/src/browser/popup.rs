//! Sign-in in a popup (embedded grids): opening it, waiting for its answer, and — in the popup,
//! at the redirect URI — relaying the callback query to the same-origin opener.

use super::page::current_query;
use super::storage::pending_state;
use js_sys::Object;
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;

/// The window name of a popup sign-in (reusing one window for repeated attempts). The page at
/// the redirect URI recognises a popup by its same-origin opener, not by this name (browsers may
/// clear window names across sites): see [`relay_callback_to_opener`].
pub const POPUP_WINDOW_NAME: &str = "mes-client-sign-in";
const POPUP_MESSAGE_PREFIX: &str = "mes-client.callback:";

/// At the redirect URI: is this a sign-in popup? If so, posts the callback query (code, state, iss
/// or error — useless without the opener's PKCE verifier, which never left the opener's memory)
/// to the opener, removes it from the address bar and closes the window, and returns true.
///
/// A popup is a window with an opener of this same origin whose own tab has no pending sign-in
/// with the callback's `state` (a full-page sign-in in a tab that was opened by another tab is
/// still finished in place). The message is addressed to this origin only, so the browser drops
/// it if the opener has navigated elsewhere.
pub fn relay_callback_to_opener() -> bool {
    let Some(window) = web_sys::window() else {
        return false;
    };
    let query = current_query();
    let state = crate::signin::CallbackParams::from_query(&query).state;
    if let (Some(state), Some(pending)) = (&state, pending_state())
        && pending.matches(state)
    {
        return false;
    }
    let Some(opener) = window.opener().ok().filter(|o| !o.is_null() && !o.is_undefined()) else {
        return false;
    };
    let opener: web_sys::Window = opener.unchecked_into();
    let Ok(origin) = window.location().origin() else {
        return false;
    };
    // Reading a cross-origin opener's location throws: that is not our popup.
    if opener.location().origin().ok().as_deref() != Some(origin.as_str()) {
        return false;
    }
    // The code leaves this popup's address bar and history before anything else happens.
    if let Ok(history) = window.history() {
        let _ = history.replace_state_with_url(
            &JsValue::NULL,
            "",
            Some(&window.location().pathname().unwrap_or_default()),
        );
    }
    let _ = opener.post_message(
        &JsValue::from_str(&format!("{POPUP_MESSAGE_PREFIX}{query}")),
        &origin,
    );
    let _ = window.close();
    true
}

async fn sleep_ms(ms: i32) {
    let promise = js_sys::Promise::new(&mut |resolve, _| {
        if let Some(window) = web_sys::window() {
            let _ = window.set_timeout_with_callback_and_timeout_and_arguments_0(&resolve, ms);
        }
    });
    let _ = JsFuture::from(promise).await;
}

/// Why a popup sign-in did not bring back an answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PopupError {
    /// The browser refused to open the window.
    Blocked,
    /// The person closed the window before the authority answered.
    Closed,
    /// No answer within ten minutes.
    TimedOut,
}

impl std::fmt::Display for PopupError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::Blocked => {
                "the browser blocked the sign-in window; allow pop-ups for this site and try again"
            }
            Self::Closed => "the sign-in window was closed before the sign-in finished",
            Self::TimedOut => "the sign-in window did not answer within ten minutes",
        })
    }
}

/// A sign-in window opened by [`open_sign_in_popup`].
#[derive(Debug)]
pub struct SignInPopup {
    popup: web_sys::Window,
}

/// Opens `authorization_url` in a popup named [`POPUP_WINDOW_NAME`]. Call it straight from a
/// click handler, or the browser blocks the popup.
pub fn open_sign_in_popup(authorization_url: &str) -> Result<SignInPopup, PopupError> {
    let window = web_sys::window().ok_or(PopupError::Blocked)?;
    let popup = window
        .open_with_url_and_target_and_features(
            authorization_url,
            POPUP_WINDOW_NAME,
            "popup,width=520,height=700",
        )
        .ok()
        .flatten()
        .ok_or(PopupError::Blocked)?;
    Ok(SignInPopup { popup })
}

impl SignInPopup {
    /// Waits for the callback query that the redirect URI page relays. Only messages from this
    /// origin and from that very window are accepted.
    pub async fn answer(self) -> Result<String, PopupError> {
        use std::cell::RefCell;
        use std::rc::Rc;
        let popup = self.popup;
        let window = web_sys::window().ok_or(PopupError::Closed)?;
        let origin = window.location().origin().unwrap_or_default();
        let answer: Rc<RefCell<Option<String>>> = Rc::default();
        let listener = {
            let (answer, popup) = (answer.clone(), popup.clone());
            wasm_bindgen::closure::Closure::<dyn FnMut(web_sys::MessageEvent)>::new(
                move |event: web_sys::MessageEvent| {
                    let from_popup = event.source().is_some_and(|s| Object::is(&s, &popup));
                    if event.origin() != origin || !from_popup {
                        return;
                    }
                    if let Some(query) = event
                        .data()
                        .as_string()
                        .and_then(|d| d.strip_prefix(POPUP_MESSAGE_PREFIX).map(str::to_owned))
                    {
                        *answer.borrow_mut() = Some(query);
                    }
                },
            )
        };
        let _ = window.add_event_listener_with_callback("message", listener.as_ref().unchecked_ref());
        let mut outcome = Err(PopupError::TimedOut);
        for _ in 0..(10 * 60 * 4) {
            sleep_ms(250).await;
            if let Some(query) = answer.borrow_mut().take() {
                outcome = Ok(query);
                break;
            }
            if popup.closed().unwrap_or(true) {
                // The relay posts before it closes; give the message one more turn to arrive.
                sleep_ms(50).await;
                outcome = answer.borrow_mut().take().ok_or(PopupError::Closed);
                break;
            }
        }
        let _ = window.remove_event_listener_with_callback("message", listener.as_ref().unchecked_ref());
        if outcome.is_err() {
            let _ = popup.close();
        }
        outcome
    }
}
