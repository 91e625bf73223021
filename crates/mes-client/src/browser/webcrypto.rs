//! ID-token signature checks with the browser's WebCrypto (no RSA code in the wasm).

use super::describe;
use crate::discovery::Jwk;
use crate::jwt::SignatureVerifier;
use js_sys::{Array, Object, Reflect, Uint8Array};
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;

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
