//! The native signature verifier against real RS256 and ES256 tokens.
#![cfg(not(target_arch = "wasm32"))]

mod common;
use common::vectors::*;
use mes_client::*;

fn expected() -> Expected<'static> {
    Expected { issuer: "https://aim.test/identitymanager", client_id: "mes-portal", nonce: "n-1", now: 1_800_000_000, skew: 60 }
}

#[tokio::test]
async fn real_signatures_verify_and_tampering_is_caught() {
    for (jwks, token) in [(RSA_JWK, RSA_TOKEN), (EC_JWK, EC_TOKEN)] {
        let jwks: JwkSet = serde_json::from_str(jwks).expect("jwks");
        let claims = validate_id_token(token, &jwks, &NativeVerifier, &expected()).await.expect("valid");
        assert_eq!(claims.preferred_username.as_deref(), Some("PLANT\\alice"));
        // Change one claim character: the signature no longer matches.
        let mut parts: Vec<String> = token.split('.').map(str::to_owned).collect();
        parts[1] = parts[1].replacen('e', "f", 1);
        let tampered = parts.join(".");
        let err = validate_id_token(&tampered, &jwks, &NativeVerifier, &expected()).await.expect_err("tampered");
        assert!(matches!(err, IdTokenError::BadSignature | IdTokenError::Malformed(_)), "{err:?}");
    }
}
