//! Browser glue: the one sessionStorage entry of a sign-in round trip, the address bar, and
//! signature checks with WebCrypto (no RSA code in the wasm).

use crate::discovery::Jwk;
use crate::jwt::SignatureVerifier;
use crate::session::Authority;
use crate::signin::PendingSignIn;
use js_sys::{Array, Object, Reflect, Uint8Array};
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;

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
pub fn save_pending(pending: &PendingSignIn) -> Result<(), String> {
    save_round_trip(pending, None)
}

/// Remembers a sign-in and the authority's discovery document and keys (public; never a token)
/// for its one round trip.
pub fn save_round_trip(pending: &PendingSignIn, authority: Option<&Authority>) -> Result<(), String> {
    let storage = session_storage()
        .ok_or("this browser blocks sessionStorage, which sign-in needs for one redirect")?;
    let text = serde_json::to_string(&RoundTripRef { pending, authority }).map_err(|e| e.to_string())?;
    storage
        .set_item(PENDING_SIGN_IN_KEY, &text)
        .map_err(|_| "sessionStorage refused the sign-in state".to_owned())
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

/// `pathname + search + hash` of the current page.
pub fn current_path() -> String {
    let Some(location) = web_sys::window().map(|w| w.location()) else {
        return "/".into();
    };
    format!(
        "{}{}{}",
        location.pathname().unwrap_or_else(|_| "/".into()),
        location.search().unwrap_or_default(),
        location.hash().unwrap_or_default()
    )
}

/// The query string of the current page, with its `?`.
pub fn current_query() -> String {
    web_sys::window()
        .and_then(|w| w.location().search().ok())
        .unwrap_or_default()
}

/// Leaves the page for `url`.
pub fn navigate(url: &str) -> Result<(), String> {
    let window = web_sys::window().ok_or("no window")?;
    window
        .location()
        .assign(url)
        .map_err(|_| format!("the browser refused to open {url}"))
}

/// Leaves the page by POSTing `form` (the authority's end-session request), so its fields —
/// the ID token hint among them — travel in the body, never in a URL.
pub fn post_form(form: &crate::signin::EndSession) -> Result<(), String> {
    let document = web_sys::window()
        .and_then(|w| w.document())
        .ok_or("no document")?;
    let element: web_sys::HtmlFormElement = document
        .create_element("form")
        .map_err(describe)?
        .dyn_into()
        .map_err(|_| "not a form element".to_owned())?;
    element.set_method("post");
    element.set_action(&form.action);
    element.set_attribute("hidden", "").map_err(describe)?;
    for (name, value) in &form.fields {
        let input: web_sys::HtmlInputElement = document
            .create_element("input")
            .map_err(describe)?
            .dyn_into()
            .map_err(|_| "not an input element".to_owned())?;
        input.set_type("hidden");
        input.set_name(name);
        input.set_value(value);
        element.append_child(&input).map_err(describe)?;
    }
    document
        .body()
        .ok_or("no body")?
        .append_child(&element)
        .map_err(describe)?;
    element.submit().map_err(describe)
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

/// The channel every tab of the portal listens on for sign-out.
pub const SIGN_OUT_CHANNEL: &str = "mes-client.sign-out";

/// Tells the other tabs of this origin that the person signed out (no token is sent).
pub fn announce_sign_out() {
    if let Ok(channel) = web_sys::BroadcastChannel::new(SIGN_OUT_CHANNEL) {
        let _ = channel.post_message(&JsValue::from_str("signed-out"));
        channel.close();
    }
}

/// Calls `on_sign_out` when another tab signs out. The listener lives as long as the page.
pub fn on_sign_out_elsewhere(mut on_sign_out: impl FnMut() + 'static) -> Result<(), String> {
    let channel = web_sys::BroadcastChannel::new(SIGN_OUT_CHANNEL).map_err(describe)?;
    let listener = wasm_bindgen::closure::Closure::<dyn FnMut(web_sys::MessageEvent)>::new(
        move |event: web_sys::MessageEvent| {
            if event.data().as_string().as_deref() == Some("signed-out") {
                on_sign_out();
            }
        },
    );
    channel.set_onmessage(Some(listener.as_ref().unchecked_ref()));
    listener.forget();
    std::mem::forget(channel);
    Ok(())
}

/// The window name of a popup sign-in (reusing one window for repeated attempts). The page at
/// the redirect URI recognises a popup by its same-origin opener, not by this name (browsers may
/// clear window names across sites): see [`relay_callback_to_opener`].
pub const POPUP_WINDOW_NAME: &str = "mes-client-sign-in";
const POPUP_MESSAGE_PREFIX: &str = "mes-client.callback:";

/// The `state` of the pending sign-in in this tab's sessionStorage, without taking it.
pub fn pending_state() -> Option<String> {
    read_round_trip(false).map(|t| t.pending.state)
}

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
    if state.is_some() && state == pending_state() {
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

/// RS256 and ES256 checks with the browser's SubtleCrypto.
#[derive(Debug, Clone, Copy, Default)]
pub struct WebCryptoVerifier;

fn set(object: &Object, key: &str, value: &str) {
    let _ = Reflect::set(object, &JsValue::from_str(key), &JsValue::from_str(value));
}

impl SignatureVerifier for WebCryptoVerifier {
    async fn verify(
        &self,
        key: &Jwk,
        alg: &str,
        signing_input: &[u8],
        signature: &[u8],
    ) -> Result<bool, String> {
        let subtle = web_sys::window()
            .ok_or("no window")?
            .crypto()
            .map_err(|_| "no WebCrypto")?
            .subtle();
        let jwk = Object::new();
        let import = Object::new();
        let verify = Object::new();
        set(&jwk, "kty", &key.kty);
        match (alg, key.kty.as_str()) {
            ("RS256", "RSA") => {
                set(&jwk, "n", key.n.as_deref().ok_or("RSA key without n")?);
                set(&jwk, "e", key.e.as_deref().ok_or("RSA key without e")?);
                set(&import, "name", "RSASSA-PKCS1-v1_5");
                set(&import, "hash", "SHA-256");
                set(&verify, "name", "RSASSA-PKCS1-v1_5");
            }
            ("ES256", "EC") => {
                set(&jwk, "crv", key.crv.as_deref().unwrap_or("P-256"));
                set(&jwk, "x", key.x.as_deref().ok_or("EC key without x")?);
                set(&jwk, "y", key.y.as_deref().ok_or("EC key without y")?);
                set(&import, "name", "ECDSA");
                set(&import, "namedCurve", "P-256");
                set(&verify, "name", "ECDSA");
                set(&verify, "hash", "SHA-256");
            }
            _ => return Err(format!("key type {} cannot check {alg}", key.kty)),
        }
        let usages = Array::of1(&JsValue::from_str("verify"));
        let promise = subtle
            .import_key_with_object("jwk", &jwk, &import, false, &usages)
            .map_err(describe)?;
        let crypto_key: web_sys::CryptoKey = JsFuture::from(promise)
            .await
            .map_err(describe)?
            .dyn_into()
            .map_err(|_| "WebCrypto gave no key".to_owned())?;
        let promise = subtle
            .verify_with_object_and_js_u8_array_and_js_u8_array(
                &verify,
                &crypto_key,
                &Uint8Array::from(signature),
                &Uint8Array::from(signing_input),
            )
            .map_err(describe)?;
        Ok(JsFuture::from(promise)
            .await
            .map_err(describe)?
            .as_bool()
            .unwrap_or(false))
    }
}

fn describe(value: JsValue) -> String {
    value
        .dyn_ref::<js_sys::Error>()
        .map(|e| String::from(e.message()))
        .or_else(|| value.as_string())
        .unwrap_or_else(|| "WebCrypto failed".into())
}
