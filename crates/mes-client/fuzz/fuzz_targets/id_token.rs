//! ID tokens: splitting, decoding, the algorithm allow-list and every claim check. The verifier
//! here accepts any signature, so the claim checks are reached; it must still never panic.
#![no_main]
mod common;
use libfuzzer_sys::fuzz_target;
use mes_client::{Expected, Jwk, JwkSet, SignatureVerifier, check_id_token_claims, decode_unverified, validate_id_token};

struct AcceptAll;
impl SignatureVerifier for AcceptAll {
    async fn verify(&self, _: &Jwk, _: &str, _: &[u8], _: &[u8]) -> Result<bool, String> {
        Ok(true)
    }
}

fn block_on<F: std::future::Future>(future: F) -> F::Output {
    let mut future = std::pin::pin!(future);
    let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
    loop {
        if let std::task::Poll::Ready(out) = future.as_mut().poll(&mut cx) {
            return out;
        }
    }
}

fuzz_target!(|token: &str| {
    let jwks: JwkSet = serde_json_jwks();
    for now in [0, 1_800_000_000, i64::MAX, i64::MIN] {
        let expected = Expected { issuer: common::AUTHORITY, client_id: "mes-portal", nonce: "nonce-1", now, skew: 60 };
        if let Ok(jwt) = decode_unverified(token) {
            let _ = check_id_token_claims(&jwt.claims, &expected);
        }
        let _ = block_on(validate_id_token(token, &jwks, &AcceptAll, &expected));
    }
});

fn serde_json_jwks() -> JwkSet {
    let keys = r#"{"keys":[{"kty":"RSA","kid":"k1","n":"AQAB","e":"AQAB"},{"kty":"EC","kid":"k2","crv":"P-256","x":"AA","y":"AA"},{"kty":"RSA","n":"AQAB","e":"AQAB"}]}"#;
    serde_json::from_str(keys).expect("fixed JWKS")
}
