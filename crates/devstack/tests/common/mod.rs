//! Helpers for driving the stand-ins over real HTTP.
#![allow(dead_code)]

use base64::Engine as _;
use devstack::{Stack, StackOptions};
use reqwest::header::{HeaderMap, LOCATION};
use sha2::Digest as _;
use std::collections::HashMap;

pub fn http() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client")
}

pub async fn stack(name: &str) -> Stack {
    Stack::start(StackOptions::for_tests(name)).await.expect("stack")
}

pub fn pkce() -> (String, String) {
    let verifier = devstack::util::random_token(32);
    let challenge =
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(sha2::Sha256::digest(verifier.as_bytes()));
    (verifier, challenge)
}

pub fn redirect_uri(stack: &Stack) -> String {
    format!("{}/callback", stack.portal_origin)
}

/// Authorize parameters for the portal client, PKCE S256.
pub fn authorize_params(stack: &Stack, challenge: &str, extra: &[(&str, &str)]) -> Vec<(String, String)> {
    let mut params: Vec<(String, String)> = [
        ("response_type", "code"),
        ("client_id", devstack::PORTAL_CLIENT_ID),
        ("scope", "openid profile offline_access mes-web-api"),
        ("state", "st-1"),
        ("nonce", "no-1"),
        ("code_challenge", challenge),
        ("code_challenge_method", "S256"),
    ]
    .iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect();
    params.push(("redirect_uri".into(), redirect_uri(stack)));
    for (k, v) in extra {
        params.retain(|(name, _)| name != k);
        if !v.is_empty() {
            params.push((k.to_string(), v.to_string()));
        }
    }
    params
}

pub fn authorize_url(stack: &Stack) -> String {
    format!("{}/connect/authorize", stack.issuer)
}

/// The query of a redirect's Location.
pub fn redirect_query(headers: &HeaderMap) -> HashMap<String, String> {
    let location = headers
        .get(LOCATION)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    let query = location.split_once('?').map(|(_, q)| q).unwrap_or_default();
    form_urlencoded::parse(query.as_bytes()).into_owned().collect()
}

/// The parameters AIM sent back to the client with its redirect (none when it showed a page).
pub fn callback_params(answer: &devstack::form_login::FormAnswer) -> HashMap<String, String> {
    form_urlencoded::parse(answer.callback_query().unwrap_or_default().as_bytes())
        .into_owned()
        .collect()
}

/// The authorize URL with `params` as its query.
pub fn authorize_request(stack: &Stack, params: &[(String, String)]) -> String {
    let mut query = form_urlencoded::Serializer::new(String::new());
    query.extend_pairs(params);
    format!("{}?{}", authorize_url(stack), query.finish())
}

/// Opens the login form and submits it as a browser would; returns the redirect's query and the
/// SSO cookie.
pub async fn log_in(
    stack: &Stack,
    params: &[(String, String)],
    user: &str,
    password: &str,
) -> (HashMap<String, String>, Option<String>) {
    let answer =
        devstack::form_login::submit(&authorize_request(stack, params), user, password, "login", None)
            .await
            .expect("login");
    assert!(
        (300..400).contains(&answer.status),
        "login answered {}: {}",
        answer.status,
        answer.body
    );
    (callback_params(&answer), answer.sso_cookie)
}

/// A full sign-in by form; returns the token answer.
pub async fn user_tokens(stack: &Stack, user: &str, password: &str) -> serde_json::Value {
    let (verifier, challenge) = pkce();
    let params = authorize_params(stack, &challenge, &[]);
    let (query, _) = log_in(stack, &params, user, password).await;
    let code = query.get("code").expect("code").clone();
    let response = token(
        stack,
        &[
            ("grant_type", "authorization_code"),
            ("code", &code),
            ("redirect_uri", &redirect_uri(stack)),
            ("client_id", devstack::PORTAL_CLIENT_ID),
            ("code_verifier", &verifier),
        ],
    )
    .await;
    assert_eq!(response.status(), 200);
    response.json().await.expect("json")
}

pub async fn token(stack: &Stack, form: &[(&str, &str)]) -> reqwest::Response {
    http()
        .post(format!("{}/connect/token", stack.issuer))
        .form(form)
        .send()
        .await
        .expect("token")
}

/// Signs claims with the authority's own key (read from its data directory), as AIM would.
pub fn mint(data_dir: &std::path::Path, typ: &str, claims: serde_json::Value) -> String {
    let key = devstack::keys::SigningKey::load_or_create(&data_dir.join("aim-signing-key.pem")).expect("key");
    let mut header = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::RS256);
    header.kid = Some(key.kid.clone());
    header.typ = Some(typ.into());
    jsonwebtoken::encode(&header, &claims, &key.encoding).expect("sign")
}

pub fn now() -> u64 {
    devstack::util::now()
}
