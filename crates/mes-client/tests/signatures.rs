//! The native signature verifier against real RS256 and ES256 tokens. Each tampering keeps the
//! token well-formed (valid base64url and JSON), so only the signature check can catch it: these
//! tests fail against a verifier that says "valid" to everything.
#![cfg(not(target_arch = "wasm32"))]

mod common;
use common::vectors::*;
use mes_client::*;

fn expected() -> Expected<'static> {
    Expected {
        issuer: "https://aim.test/identitymanager",
        client_id: "mes-portal",
        nonce: "n-1",
        now: 1_800_000_000,
        skew: 60,
    }
}

#[tokio::test]
async fn real_signatures_verify_and_only_the_signature_check_catches_tampering() {
    for (jwks, token) in [(RSA_JWK, RSA_TOKEN), (EC_JWK, EC_TOKEN)] {
        let jwks: JwkSet = serde_json::from_str(jwks).expect("jwks");
        let claims = validate_id_token(token, &jwks, &NativeVerifier, &expected())
            .await
            .expect("valid");
        assert_eq!(claims.preferred_username.as_deref(), Some("PLANT\\alice"));
        for tampered in common::well_formed_tamperings(token) {
            // The tampered claims alone would pass every claim check.
            let unverified = decode_unverified(&tampered).expect("still well-formed");
            assert_eq!(check_id_token_claims(&unverified.claims, &expected()), Ok(()));
            let err = validate_id_token(&tampered, &jwks, &NativeVerifier, &expected())
                .await
                .expect_err("tampered");
            assert_eq!(err, IdTokenError::BadSignature);
        }
    }
}

#[tokio::test]
async fn a_key_of_another_kind_cannot_check_the_token() {
    let rsa: JwkSet = serde_json::from_str(RSA_JWK).expect("jwks");
    let mut ec_as_rsa: JwkSet = serde_json::from_str(EC_JWK).expect("jwks");
    ec_as_rsa.keys[0].kid = rsa.keys[0].kid.clone();
    ec_as_rsa.keys[0].alg = None;
    let err = validate_id_token(RSA_TOKEN, &ec_as_rsa, &NativeVerifier, &expected())
        .await
        .expect_err("wrong key type");
    assert!(matches!(err, IdTokenError::Verifier(_)), "{err:?}");
}
