//! mes-client in a real browser (headless Chromium): PKCE and the authorize URL with the
//! browser's randomness, the sessionStorage round trip, callback handling, WebCrypto signatures.
//! Runs with `cargo test --target wasm32-unknown-unknown -p mes-client` or `wasm-pack test --headless --chrome`.
#![cfg(target_arch = "wasm32")]

mod common;
use common::vectors::*;
use mes_client::*;
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

fn metadata() -> ProviderMetadata {
    serde_json::from_str(
        r#"{"issuer":"https://aim.test/identitymanager","authorization_endpoint":"https://aim.test/identitymanager/connect/authorize",
        "token_endpoint":"https://aim.test/identitymanager/connect/token","jwks_uri":"https://aim.test/identitymanager/jwks",
        "authorization_response_iss_parameter_supported":true}"#,
    )
    .expect("metadata")
}

fn client() -> ClientSettings {
    serde_json::from_str(
        r#"{"authority":"https://aim.test/identitymanager","client_id":"mes-portal","redirect_uri":"https://portal.test/callback",
        "scopes":["openid","profile","offline_access","mes-web-api"]}"#,
    )
    .expect("client")
}

fn session_storage() -> web_sys::Storage {
    web_sys::window()
        .expect("window")
        .session_storage()
        .expect("storage")
        .expect("storage")
}

#[wasm_bindgen_test]
fn authorize_url_has_a_fresh_s256_challenge_in_the_browser() {
    let a = SignInClient::new(&client())
        .authorize(&metadata())
        .return_to("/lookups/2")
        .url()
        .expect("a");
    let b = SignInClient::new(&client())
        .authorize(&metadata())
        .return_to("/lookups/2")
        .url()
        .expect("b");
    assert!(a.url.starts_with(
        "https://aim.test/identitymanager/connect/authorize?response_type=code&client_id=mes-portal&"
    ));
    assert!(a.url.contains("code_challenge_method=S256"));
    assert!(a.url.contains("scope=openid+profile+offline_access+mes-web-api"));
    assert_ne!(
        a.pending.verifier, b.pending.verifier,
        "crypto.getRandomValues feeds PKCE"
    );
    assert_eq!(a.pending.verifier.secret().len(), 43);
}

#[wasm_bindgen_test]
fn pending_sign_in_is_single_use_and_holds_no_token() {
    let redirect = SignInClient::new(&client())
        .authorize(&metadata())
        .return_to("/lookups/2")
        .url()
        .expect("redirect");
    browser::save_pending(&redirect.pending).expect("saved");
    let stored = session_storage()
        .get_item(browser::PENDING_SIGN_IN_KEY)
        .expect("get")
        .expect("present");
    let keys: serde_json::Value = serde_json::from_str(&stored).expect("json");
    let mut names: Vec<&str> = keys["pending"]
        .as_object()
        .expect("object")
        .keys()
        .map(String::as_str)
        .collect();
    names.sort_unstable();
    assert_eq!(names, ["nonce", "return_path", "state", "verifier"]);
    assert_eq!(keys["authority"], serde_json::Value::Null);
    assert_eq!(browser::take_pending().as_ref(), Some(&redirect.pending));
    assert_eq!(browser::take_pending(), None, "a second callback finds nothing");
    assert_eq!(session_storage().length().expect("length"), 0);
}

#[wasm_bindgen_test]
fn the_authority_travels_with_the_round_trip_and_leaves_with_it() {
    let redirect = SignInClient::new(&client())
        .authorize(&metadata())
        .return_to("/")
        .url()
        .expect("redirect");
    let authority = Authority {
        metadata: metadata(),
        jwks: serde_json::from_str(r#"{"keys":[{"kty":"RSA","kid":"k1","n":"AQAB","e":"AQAB"}]}"#)
            .expect("jwks"),
    };
    browser::save_round_trip(&redirect.pending, Some(&authority)).expect("saved");
    assert_eq!(
        browser::pending_state(),
        Some(redirect.pending.state.clone()),
        "peeking does not take"
    );
    let (pending, saved) = browser::take_round_trip().expect("taken");
    assert_eq!(pending, redirect.pending);
    let saved = saved.expect("authority saved");
    assert_eq!((saved.metadata, saved.jwks), (authority.metadata, authority.jwks));
    assert!(browser::take_round_trip().is_none(), "single use");
    assert_eq!(session_storage().length().expect("length"), 0);
}

#[wasm_bindgen_test]
fn callback_after_the_round_trip() {
    let redirect = SignInClient::new(&client())
        .authorize(&metadata())
        .return_to("/")
        .url()
        .expect("redirect");
    browser::save_pending(&redirect.pending).expect("saved");
    let query = format!(
        "?code=abc&state={}&iss=https%3A%2F%2Faim.test%2Fidentitymanager",
        redirect.pending.state.secret()
    );
    let pending = browser::take_pending();
    let code =
        check_callback(&CallbackParams::from_query(&query), pending.as_ref(), &metadata()).expect("code");
    assert_eq!(code.secret(), "abc");
    // Replayed: the pending sign-in is gone.
    assert_eq!(
        check_callback(
            &CallbackParams::from_query(&query),
            browser::take_pending().as_ref(),
            &metadata()
        )
        .err(),
        Some(SignInError::NoPendingSignIn)
    );
}

#[wasm_bindgen_test]
async fn webcrypto_checks_rs256_and_es256_signatures() {
    let expected = Expected {
        issuer: "https://aim.test/identitymanager",
        client_id: "mes-portal",
        nonce: "n-1",
        now: 1_800_000_000,
        skew: 60,
    };
    for (jwks, token) in [(RSA_JWK, RSA_TOKEN), (EC_JWK, EC_TOKEN)] {
        let jwks: JwkSet = serde_json::from_str(jwks).expect("jwks");
        let claims = validate_id_token(token, &jwks, &browser::WebCryptoVerifier, &expected)
            .await
            .expect("valid");
        assert_eq!(claims.sub.as_deref(), Some("1"));
        // Well-formed tamperings: only WebCrypto's answer can catch them.
        for tampered in common::well_formed_tamperings(token) {
            assert_eq!(
                check_id_token_claims(
                    &decode_unverified(&tampered).expect("well-formed").claims,
                    &expected
                ),
                Ok(())
            );
            let err = validate_id_token(&tampered, &jwks, &browser::WebCryptoVerifier, &expected)
                .await
                .expect_err("tampered");
            assert_eq!(err, IdTokenError::BadSignature);
        }
    }
    // A key of the wrong type for the algorithm cannot verify.
    let rsa: JwkSet = serde_json::from_str(RSA_JWK).expect("jwks");
    let mut parts: Vec<&str> = EC_TOKEN.split('.').collect();
    let header = base64_header(r#"{"alg":"ES256","kid":"test-rsa"}"#);
    parts[0] = &header;
    let mixed = parts.join(".");
    assert!(
        matches!(
            validate_id_token(&mixed, &rsa, &browser::WebCryptoVerifier, &expected).await,
            Err(IdTokenError::UnsupportedAlgorithm(_))
        ),
        "the key says RS256"
    );
    let no_alg: JwkSet = serde_json::from_str(&RSA_JWK.replace(r#""alg":"RS256","#, "")).expect("jwks");
    assert!(
        matches!(
            validate_id_token(&mixed, &no_alg, &browser::WebCryptoVerifier, &expected).await,
            Err(IdTokenError::Verifier(_))
        ),
        "an RSA key cannot check ES256"
    );
}

fn base64_header(json: &str) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(json)
}

#[wasm_bindgen_test]
async fn the_browser_transport_reads_real_answers_and_reports_failed_connections() {
    // The test runner's own page: real HTTP through fetch, an HTML answer where JSON was expected.
    let origin = web_sys::window()
        .expect("window")
        .location()
        .origin()
        .expect("origin");
    let transport = BrowserTransport::default();
    let response = transport
        .send(mes_client::HttpRequest::get(format!("{origin}/")))
        .await
        .expect("answer");
    assert_eq!(response.status(), 200);
    assert!(
        response
            .headers()
            .get("content-type")
            .expect("ct")
            .starts_with("text/html")
    );
    let err = discover(&transport, &origin).await.expect_err("not an authority");
    assert!(
        matches!(
            err,
            DiscoveryError::UnexpectedResponse { status: 404, .. }
                | DiscoveryError::UnexpectedResponse { status: 200, .. }
        ),
        "{err:?}"
    );
    // A closed loopback port: no answer, reported with the address (as CORS refusals are).
    let err = transport
        .send(mes_client::HttpRequest::get(
            "http://127.0.0.1:9/mesmw/api/v3/entity?x=1",
        ))
        .await
        .expect_err("closed");
    assert_eq!(err.url, "http://127.0.0.1:9/mesmw/api/v3/entity");
    // A small body limit is enforced.
    let tiny = BrowserTransport::new(10);
    let err = tiny
        .send(mes_client::HttpRequest::get(format!("{origin}/")))
        .await
        .expect_err("too big");
    assert!(
        err.reason.contains("larger than 10 bytes") && err.kind == TransportErrorKind::TooLarge,
        "{err:?}"
    );
}

#[wasm_bindgen_test]
fn the_silent_sign_in_breaker_remembers_one_attempt_per_interval_and_only_a_number() {
    browser::clear_silent_sign_in();
    assert!(!browser::silent_sign_in_within(60, 1_000_000));
    browser::note_silent_sign_in(1_000_000);
    let stored = session_storage()
        .get_item(browser::SILENT_SIGN_IN_KEY)
        .expect("get");
    assert_eq!(stored.as_deref(), Some("1000000"), "a time, nothing else");
    assert!(browser::silent_sign_in_within(60, 1_000_000));
    assert!(browser::silent_sign_in_within(60, 1_000_059));
    assert!(
        !browser::silent_sign_in_within(60, 1_000_060),
        "the interval has passed"
    );
    assert!(
        !browser::silent_sign_in_within(60, 999_999),
        "a time in the future (a changed clock) does not hold the breaker"
    );
    browser::clear_silent_sign_in();
    assert!(!browser::silent_sign_in_within(60, 1_000_000));
    assert_eq!(session_storage().length().expect("length"), 0);
}

/// In the wasm, URLs are parsed by the browser's own `URL`: the same answers as the `url` crate
/// gives natively (`tests/absolute_url.rs` runs the same cases).
#[wasm_bindgen_test]
fn absolute_urls_are_parsed_by_the_browser_as_natively() {
    common::check_absolute_urls();
}
