//! Sign-out reaches every tab of the origin (a BroadcastChannel; no token is sent).

use super::{BrowserError, describe};
use wasm_bindgen::{JsCast, JsValue};

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
pub fn on_sign_out_elsewhere(mut on_sign_out: impl FnMut() + 'static) -> Result<(), BrowserError> {
    let channel = web_sys::BroadcastChannel::new(SIGN_OUT_CHANNEL).map_err(|e| BrowserError::Refused {
        what: "listen for sign-out in other tabs",
        why: describe(e),
    })?;
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
