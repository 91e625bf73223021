//! Sign-in in a popup (embedded grids): opening it, waiting for its answer, and — in the popup,
//! at the redirect URI — relaying the callback query to the same-origin opener.
//!
//! An authority whose pages send `Cross-Origin-Opener-Policy` (anything but `unsafe-none`) cuts
//! the popup loose from its opener the moment its page loads: the opener then reads the popup as
//! closed, and the popup, back at the redirect URI, has no opener to post to. Both sides then use
//! a BroadcastChannel of this origin instead — which reaches the opener when both windows share
//! the browser's storage partition (a portal tab, a page of the portal's own origin), and never a
//! grid framed by another site (browsers partition channels by top-level site). Both sides then
//! say so in words instead of "closed".

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
/// The channel a popup cut loose from its opener hands its answer on.
pub const POPUP_CHANNEL: &str = "mes-client.sign-in-answer";
/// What the window that took the answer says back on [`POPUP_CHANNEL`], with the state.
const POPUP_TAKEN_PREFIX: &str = "mes-client.callback-taken:";
/// A popup that reads closed this soon after it opened was cut loose by the authority's page
/// (nobody signs in, or closes a window on purpose, within three seconds).
const CUT_LOOSE_WITHIN_MS: f64 = 3000.0;

/// What the page at the redirect URI is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Relay {
    /// Not a sign-in popup: the page finishes the sign-in itself.
    NotAPopup,
    /// A popup: the answer went to its opener, and the window is closing.
    Relayed,
    /// A popup whose opener cannot be reached (the authority's page cut it loose, or the opener
    /// has gone): the callback query, already out of the address bar, for [`relay_on_channel`].
    CutLoose(String),
}

/// At the redirect URI: is this a sign-in popup? If so, posts the callback query (code, state, iss
/// or error — useless without the opener's PKCE verifier, which never left the opener's memory)
/// to the opener, removes it from the address bar and closes the window, and returns true.
///
/// A popup is a window with an opener of this same origin whose own tab has no pending sign-in
/// with the callback's `state` (a full-page sign-in in a tab that was opened by another tab is
/// still finished in place). The message is addressed to this origin only, so the browser drops
/// it if the opener has navigated elsewhere.
///
/// A window with no such opener whose callback carries a popup's `state`
/// ([`crate::signin::is_popup_state`]) is a popup cut loose: [`Relay::CutLoose`].
pub fn relay_callback_to_opener() -> Relay {
    let Some(window) = web_sys::window() else {
        return Relay::NotAPopup;
    };
    let query = current_query();
    let state = crate::signin::CallbackParams::from_query(&query).state;
    if let (Some(state), Some(pending)) = (&state, pending_state())
        && pending.matches(state)
    {
        return Relay::NotAPopup;
    }
    let Ok(origin) = window.location().origin() else {
        return Relay::NotAPopup;
    };
    // Reading a cross-origin opener's location throws: that is not our popup.
    let opener = window
        .opener()
        .ok()
        .filter(|o| !o.is_null() && !o.is_undefined())
        .map(JsCast::unchecked_into::<web_sys::Window>)
        .filter(|o| o.location().origin().ok().as_deref() == Some(origin.as_str()));
    let cut_loose = opener.is_none() && state.as_deref().is_some_and(crate::signin::is_popup_state);
    if opener.is_none() && !cut_loose {
        return Relay::NotAPopup;
    }
    // The code leaves this popup's address bar and history before anything else happens.
    if let Ok(history) = window.history() {
        let _ = history.replace_state_with_url(
            &JsValue::NULL,
            "",
            Some(&window.location().pathname().unwrap_or_default()),
        );
    }
    let Some(opener) = opener else {
        return Relay::CutLoose(query);
    };
    let _ = opener.post_message(
        &JsValue::from_str(&format!("{POPUP_MESSAGE_PREFIX}{query}")),
        &origin,
    );
    let _ = window.close();
    Relay::Relayed
}

/// In a popup cut loose from its opener: offers the callback query on [`POPUP_CHANNEL`] and
/// waits up to two seconds for the window whose sign-in it is to say it took it; then closes this
/// window and returns true. False: no window of this origin in this browser partition waits for
/// it (the opener is a grid framed by another site, or has gone) — the page should say so.
pub async fn relay_on_channel(query: &str) -> bool {
    let Some(state) = crate::signin::CallbackParams::from_query(query).state else {
        return false;
    };
    let Ok(channel) = web_sys::BroadcastChannel::new(POPUP_CHANNEL) else {
        return false;
    };
    let expected = format!("{POPUP_TAKEN_PREFIX}{state}");
    let taken = Listener::on_channel(&channel, move |data| data == expected);
    let _ = channel.post_message(&JsValue::from_str(&format!("{POPUP_MESSAGE_PREFIX}{query}")));
    for _ in 0..20 {
        sleep_ms(100).await;
        if taken.heard().is_some() {
            channel.close();
            if let Some(window) = web_sys::window() {
                let _ = window.close();
            }
            return true;
        }
    }
    channel.close();
    false
}

/// Messages of one kind heard on a BroadcastChannel or a window, kept until taken; the handler
/// is removed when this is dropped.
struct Listener {
    heard: std::rc::Rc<std::cell::RefCell<Option<String>>>,
    target: web_sys::EventTarget,
    handler: wasm_bindgen::closure::Closure<dyn FnMut(web_sys::MessageEvent)>,
}

impl Listener {
    fn on(
        target: web_sys::EventTarget,
        mut accept: impl FnMut(&web_sys::MessageEvent, &str) -> bool + 'static,
    ) -> Self {
        let heard: std::rc::Rc<std::cell::RefCell<Option<String>>> = Default::default();
        let handler = {
            let heard = heard.clone();
            wasm_bindgen::closure::Closure::<dyn FnMut(web_sys::MessageEvent)>::new(
                move |event: web_sys::MessageEvent| {
                    if let Some(data) = event.data().as_string()
                        && accept(&event, &data)
                    {
                        *heard.borrow_mut() = Some(data);
                    }
                },
            )
        };
        let _ = target.add_event_listener_with_callback("message", handler.as_ref().unchecked_ref());
        Self {
            heard,
            target,
            handler,
        }
    }

    fn on_channel(channel: &web_sys::BroadcastChannel, accept: impl Fn(&str) -> bool + 'static) -> Self {
        Self::on(channel.clone().unchecked_into(), move |_, data| accept(data))
    }

    fn heard(&self) -> Option<String> {
        self.heard.borrow_mut().take()
    }
}

impl Drop for Listener {
    fn drop(&mut self) {
        let _ = self
            .target
            .remove_event_listener_with_callback("message", self.handler.as_ref().unchecked_ref());
    }
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
    /// The window read as closed at once: the authority's page cut it loose from this page
    /// (`Cross-Origin-Opener-Policy`). Its answer can still come on [`POPUP_CHANNEL`]: see
    /// [`SignInPopup::answer_from_afar`].
    CutLoose,
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
            Self::CutLoose => {
                "the identity authority's sign-in page cut its window loose from this page (a Cross-Origin-Opener-Policy), so its answer cannot come back here directly"
            }
            Self::TimedOut => "the sign-in window did not answer within ten minutes",
        })
    }
}

/// A sign-in window opened by [`open_sign_in_popup`].
#[derive(Debug)]
pub struct SignInPopup {
    popup: web_sys::Window,
    opened_at: f64,
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
    Ok(SignInPopup {
        popup,
        opened_at: js_sys::Date::now(),
    })
}

/// Whether `data` is a relayed callback whose `state` is `state`; its query.
fn answer_for(data: &str, state: &crate::signin::CsrfState) -> Option<String> {
    let query = data.strip_prefix(POPUP_MESSAGE_PREFIX)?;
    let said = crate::signin::CallbackParams::from_query(query).state?;
    state.matches(&said).then(|| query.to_owned())
}

impl SignInPopup {
    /// Waits for the callback query of the sign-in with `state`: from that very window (its
    /// opener message, from this origin only), or — when the authority's page cut it loose —
    /// on [`POPUP_CHANNEL`]. A window that reads closed within three seconds of opening is
    /// [`PopupError::CutLoose`]; its answer may still come: [`Self::answer_from_afar`].
    pub async fn answer(self, state: &crate::signin::CsrfState) -> Result<String, PopupError> {
        let popup = self.popup;
        let window = web_sys::window().ok_or(PopupError::Closed)?;
        let origin = window.location().origin().unwrap_or_default();
        let from_popup = {
            let (state, popup) = (state.clone(), popup.clone());
            Listener::on(window.clone().unchecked_into(), move |event, data| {
                event.origin() == origin
                    && event.source().is_some_and(|s| Object::is(&s, &popup))
                    && answer_for(data, &state).is_some()
            })
        };
        let from_afar = Channel::open(state);
        let mut outcome = Err(PopupError::TimedOut);
        for _ in 0..(10 * 60 * 4) {
            sleep_ms(250).await;
            if let Some(query) = from_popup.heard().and_then(|d| answer_for(&d, state)) {
                outcome = Ok(query);
                break;
            }
            if let Some(query) = from_afar.as_ref().and_then(Channel::take) {
                outcome = Ok(query);
                break;
            }
            if popup.closed().unwrap_or(true) {
                // The relay posts before it closes; give the message one more turn to arrive.
                sleep_ms(50).await;
                outcome = match from_popup.heard().and_then(|d| answer_for(&d, state)) {
                    Some(query) => Ok(query),
                    None if js_sys::Date::now() - self.opened_at < CUT_LOOSE_WITHIN_MS => {
                        Err(PopupError::CutLoose)
                    }
                    None => Err(PopupError::Closed),
                };
                break;
            }
        }
        if outcome.is_err() {
            let _ = popup.close();
        }
        outcome
    }

    /// After [`PopupError::CutLoose`]: waits on [`POPUP_CHANNEL`] for the answer of the sign-in
    /// with `state` for up to `seconds`, while `still_wanted()` (the person may start another
    /// sign-in meanwhile). `None`: no answer came — always so for a grid framed by another site,
    /// whose channel the popup cannot reach.
    pub async fn answer_from_afar(
        state: &crate::signin::CsrfState,
        seconds: u32,
        still_wanted: impl Fn() -> bool,
    ) -> Option<String> {
        let channel = Channel::open(state)?;
        for _ in 0..seconds.saturating_mul(4) {
            sleep_ms(250).await;
            if !still_wanted() {
                return None;
            }
            if let Some(query) = channel.take() {
                return Some(query);
            }
        }
        None
    }
}

/// [`POPUP_CHANNEL`], listened to for one sign-in's answer; says "taken" back when it takes it.
struct Channel {
    channel: web_sys::BroadcastChannel,
    state: crate::signin::CsrfState,
    listener: Listener,
}

impl Channel {
    fn open(state: &crate::signin::CsrfState) -> Option<Self> {
        let channel = web_sys::BroadcastChannel::new(POPUP_CHANNEL).ok()?;
        let listener = {
            let state = state.clone();
            Listener::on_channel(&channel, move |data| answer_for(data, &state).is_some())
        };
        Some(Self {
            channel,
            state: state.clone(),
            listener,
        })
    }

    fn take(&self) -> Option<String> {
        let query = answer_for(&self.listener.heard()?, &self.state)?;
        let _ = self.channel.post_message(&JsValue::from_str(&format!(
            "{POPUP_TAKEN_PREFIX}{}",
            self.state.secret()
        )));
        Some(query)
    }
}

impl Drop for Channel {
    fn drop(&mut self) {
        self.channel.close();
    }
}
