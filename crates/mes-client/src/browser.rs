//! Browser glue: the one sessionStorage entry of a sign-in round trip, the address bar, and
//! signature checks with WebCrypto (no RSA code in the wasm).

use crate::discovery::Jwk;
use crate::jwt::SignatureVerifier;
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

/// Remembers a sign-in for its one round trip.
pub fn save_pending(pending: &PendingSignIn) -> Result<(), String> {
    let storage = session_storage().ok_or("this browser blocks sessionStorage, which sign-in needs for one redirect")?;
    let text = serde_json::to_string(pending).map_err(|e| e.to_string())?;
    storage.set_item(PENDING_SIGN_IN_KEY, &text).map_err(|_| "sessionStorage refused the sign-in state".to_owned())
}

/// Takes the pending sign-in out of storage: single use, whatever the outcome.
pub fn take_pending() -> Option<PendingSignIn> {
    let storage = session_storage()?;
    let text = storage.get_item(PENDING_SIGN_IN_KEY).ok()??;
    let _ = storage.remove_item(PENDING_SIGN_IN_KEY);
    serde_json::from_str(&text).ok()
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
    web_sys::window().and_then(|w| w.location().search().ok()).unwrap_or_default()
}

/// Replaces the current history entry (so a code never stays in history or the address bar).
pub fn replace_url(path: &str) {
    if let Some(history) = web_sys::window().and_then(|w| w.history().ok()) {
        let _ = history.replace_state_with_url(&JsValue::NULL, "", Some(path));
    }
}

/// Leaves the page for `url`.
pub fn navigate(url: &str) -> Result<(), String> {
    let window = web_sys::window().ok_or("no window")?;
    window.location().assign(url).map_err(|_| format!("the browser refused to open {url}"))
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
    let listener = wasm_bindgen::closure::Closure::<dyn FnMut(web_sys::MessageEvent)>::new(move |event: web_sys::MessageEvent| {
        if event.data().as_string().as_deref() == Some("signed-out") {
            on_sign_out();
        }
    });
    channel.set_onmessage(Some(listener.as_ref().unchecked_ref()));
    listener.forget();
    std::mem::forget(channel);
    Ok(())
}

/// RS256 and ES256 checks with the browser's SubtleCrypto.
#[derive(Debug, Clone, Copy, Default)]
pub struct WebCryptoVerifier;

fn set(object: &Object, key: &str, value: &str) {
    let _ = Reflect::set(object, &JsValue::from_str(key), &JsValue::from_str(value));
}

impl SignatureVerifier for WebCryptoVerifier {
    async fn verify(&self, key: &Jwk, alg: &str, signing_input: &[u8], signature: &[u8]) -> Result<bool, String> {
        let subtle = web_sys::window().ok_or("no window")?.crypto().map_err(|_| "no WebCrypto")?.subtle();
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
        let promise = subtle.import_key_with_object("jwk", &jwk, &import, false, &usages).map_err(describe)?;
        let crypto_key: web_sys::CryptoKey = JsFuture::from(promise).await.map_err(describe)?.dyn_into().map_err(describe)?;
        let promise = subtle
            .verify_with_object_and_js_u8_array_and_js_u8_array(
                &verify,
                &crypto_key,
                &Uint8Array::from(signature),
                &Uint8Array::from(signing_input),
            )
            .map_err(describe)?;
        Ok(JsFuture::from(promise).await.map_err(describe)?.as_bool().unwrap_or(false))
    }
}

fn describe(value: JsValue) -> String {
    value
        .dyn_ref::<js_sys::Error>()
        .map(|e| String::from(e.message()))
        .or_else(|| value.as_string())
        .unwrap_or_else(|| "WebCrypto failed".into())
}
