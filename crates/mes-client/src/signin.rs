//! Authorization code + PKCE (S256) sign-in: the authorize redirect, the callback checks
//! (state, RFC 9207 `iss`, `error=`), and the token requests (RFC 6749 §4.1.3, §6, §4.4), all
//! built here: PKCE, state and nonce from the platform's randomness, requests as plain
//! `http::Request`s, answers parsed with serde.

use crate::Secret;
use crate::config::ClientSettings;
use crate::discovery::ProviderMetadata;
use crate::secret::constant_time_eq;
use crate::transport::{HttpRequest, HttpResponse, Transport, TransportError, first_bytes};
use serde::{Deserialize, Serialize};
use std::fmt;
use url::form_urlencoded;

/// What survives the one round trip to the authority (kept in sessionStorage by the browser
/// glue, removed on return). Never a token.
#[derive(Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct PendingSignIn {
    /// The `state` sent; the callback must return it.
    pub state: String,
    /// The `nonce` sent; the ID token must carry it.
    pub nonce: String,
    /// The PKCE verifier for the code exchange.
    pub verifier: String,
    /// Same-origin path to return to after sign-in.
    pub return_path: String,
}

impl fmt::Debug for PendingSignIn {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PendingSignIn").field("return_path", &self.return_path).finish_non_exhaustive()
    }
}

/// Where to send the browser, and what to remember until it comes back.
#[derive(Debug, Clone)]
pub struct AuthorizationRedirect {
    /// The authority's authorize URL with every parameter.
    pub url: String,
    /// Keep for the callback.
    pub pending: PendingSignIn,
}

/// `prompt` values the portal uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Prompt {
    /// Silent: the authority answers `login_required` instead of showing a form.
    None,
    /// Always show the form (after sign-out, or to switch user).
    Login,
}

/// Why a sign-in could not start, or a callback was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SignInError {
    /// A URL from discovery or configuration is not usable.
    #[error("{what} is not a valid URL: {reason}")]
    BadUrl {
        /// Which URL.
        what: &'static str,
        /// The parser's words.
        reason: String,
    },
    /// No secure random numbers for PKCE, state and nonce.
    #[error("this computer gave no secure random numbers for the sign-in ({0})")]
    NoRandomness(String),
    /// The browser came back with no sign-in in progress: replayed, opened in another tab, or
    /// started from another site.
    #[error("this sign-in answer does not belong to a sign-in started here (it was already used, or came from elsewhere)")]
    NoPendingSignIn,
    /// `state` differs: the answer belongs to another request (possible CSRF).
    #[error("the sign-in answer does not match the request (state mismatch)")]
    StateMismatch,
    /// RFC 9207: the answer names another authority (possible mix-up attack).
    #[error("the sign-in answer comes from \"{found}\", not from the configured authority \"{expected}\"")]
    IssuerMismatch {
        /// The authority's issuer.
        expected: String,
        /// The `iss` parameter received.
        found: String,
    },
    /// RFC 9207: the authority promises `iss` but the answer has none.
    #[error("the sign-in answer lacks the issuer the authority promises to send (iss)")]
    IssuerMissing,
    /// The authority refused (`error=` on the callback).
    #[error("the identity authority refused the sign-in: {error}{}", description.as_deref().map(|d| format!(" ({d})")).unwrap_or_default())]
    Refused {
        /// OAuth error code, e.g. `access_denied`, `login_required`.
        error: String,
        /// The authority's description, if any.
        description: Option<String>,
    },
    /// The answer has neither a code nor an error.
    #[error("the sign-in answer carries no authorization code")]
    MissingCode,
}

/// `bytes` random bytes from the OS or `crypto.getRandomValues`, base64url without padding.
fn random_b64url(bytes: usize) -> Result<String, SignInError> {
    use base64::Engine as _;
    let mut buf = vec![0u8; bytes];
    getrandom::getrandom(&mut buf).map_err(|e| SignInError::NoRandomness(e.to_string()))?;
    Ok(base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(buf))
}

/// RFC 7636 S256: `BASE64URL(SHA256(verifier))`.
pub fn pkce_challenge(verifier: &str) -> String {
    use base64::Engine as _;
    use sha2::Digest as _;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(sha2::Sha256::digest(verifier.as_bytes()))
}

/// Builds the authorize redirect: PKCE S256 challenge (32 random bytes of verifier), random
/// state and nonce (16 bytes each), the scopes, `prompt` and the configured extra parameters.
pub fn authorization_redirect(
    metadata: &ProviderMetadata,
    client: &ClientSettings,
    return_path: &str,
    prompt: Option<Prompt>,
) -> Result<AuthorizationRedirect, SignInError> {
    let mut url = url::Url::parse(&metadata.authorization_endpoint)
        .map_err(|e| SignInError::BadUrl { what: "the authorization endpoint", reason: e.to_string() })?;
    url::Url::parse(&client.redirect_uri).map_err(|e| SignInError::BadUrl { what: "the redirect URI", reason: e.to_string() })?;
    let verifier = random_b64url(32)?;
    let state = random_b64url(16)?;
    let nonce = random_b64url(16)?;
    {
        let mut query = url.query_pairs_mut();
        query
            .append_pair("response_type", "code")
            .append_pair("client_id", &client.client_id)
            .append_pair("state", &state)
            .append_pair("code_challenge", &pkce_challenge(&verifier))
            .append_pair("code_challenge_method", "S256")
            .append_pair("redirect_uri", &client.redirect_uri);
        if !client.scopes.is_empty() {
            query.append_pair("scope", &client.scopes.join(" "));
        }
        query.append_pair("nonce", &nonce);
        match prompt {
            Some(Prompt::None) => {
                query.append_pair("prompt", "none");
            }
            Some(Prompt::Login) => {
                query.append_pair("prompt", "login");
            }
            None => {}
        }
        for (name, value) in &client.extra_authorize_params {
            query.append_pair(name, value);
        }
    }
    Ok(AuthorizationRedirect {
        url: url.to_string(),
        pending: PendingSignIn { state, nonce, verifier, return_path: same_origin_path(return_path) },
    })
}

/// Keeps a return path only when it stays on this origin: an absolute path, not `//host`, no
/// backslash tricks. Anything else returns to `/`.
pub fn same_origin_path(path: &str) -> String {
    let safe = path.starts_with('/') && !path.starts_with("//") && !path.contains('\\') && !path.chars().any(|c| c.is_control());
    if safe { path.to_owned() } else { "/".to_owned() }
}

/// The parameters of an authorization response, as read from the callback URL's query.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CallbackParams {
    /// The authorization code.
    pub code: Option<String>,
    /// The state echoed back.
    pub state: Option<String>,
    /// RFC 9207 issuer.
    pub iss: Option<String>,
    /// OAuth error code.
    pub error: Option<String>,
    /// OAuth error description.
    pub error_description: Option<String>,
}

impl CallbackParams {
    /// Reads the query string (with or without its leading `?`). Repeated parameters make the
    /// answer ambiguous, so a repeated `code` or `state` is dropped, which fails the checks.
    pub fn from_query(query: &str) -> Self {
        let mut params = Self::default();
        let mut seen: Vec<String> = Vec::new();
        for (name, value) in form_urlencoded::parse(query.trim_start_matches('?').as_bytes()) {
            let slot = match name.as_ref() {
                "code" => &mut params.code,
                "state" => &mut params.state,
                "iss" => &mut params.iss,
                "error" => &mut params.error,
                "error_description" => &mut params.error_description,
                _ => continue,
            };
            if seen.iter().any(|s| s == name.as_ref()) {
                *slot = None;
                continue;
            }
            seen.push(name.into_owned());
            *slot = Some(value.into_owned());
        }
        params
    }

    /// Whether this query is an authorization response at all.
    pub fn is_authorization_response(&self) -> bool {
        self.state.is_some() && (self.code.is_some() || self.error.is_some())
    }
}

/// An authorization code from the callback, to be exchanged once. Never printed.
#[derive(Clone, PartialEq, Eq)]
pub struct AuthorizationCode(Secret);

impl AuthorizationCode {
    /// Wraps a code.
    pub fn new(code: String) -> Self {
        Self(Secret::new(code))
    }

    /// The code itself.
    pub fn secret(&self) -> &str {
        self.0.expose()
    }
}

impl fmt::Debug for AuthorizationCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("AuthorizationCode([redacted])")
    }
}

/// Checks an authorization response against the pending sign-in and the authority; returns
/// the code to exchange.
pub fn check_callback(
    params: &CallbackParams,
    pending: Option<&PendingSignIn>,
    metadata: &ProviderMetadata,
) -> Result<AuthorizationCode, SignInError> {
    let pending = pending.ok_or(SignInError::NoPendingSignIn)?;
    match &params.state {
        Some(state) if constant_time_eq(state, &pending.state) => {}
        _ => return Err(SignInError::StateMismatch),
    }
    match &params.iss {
        Some(iss) if iss != &metadata.issuer => {
            return Err(SignInError::IssuerMismatch { expected: metadata.issuer.clone(), found: printable(iss) });
        }
        None if metadata.authorization_response_iss_parameter_supported => {
            return Err(SignInError::IssuerMissing);
        }
        _ => {}
    }
    if let Some(error) = &params.error {
        return Err(SignInError::Refused { error: printable(error), description: params.error_description.as_deref().map(printable) });
    }
    params.code.clone().map(AuthorizationCode::new).ok_or(SignInError::MissingCode)
}

/// Attacker-controlled text, cut to a sane length and stripped of control characters.
fn printable(text: &str) -> String {
    text.chars().filter(|c| !c.is_control()).take(300).collect()
}

/// The RFC 7009 revocation request for a refresh token (public client: `client_id` in the body).
/// Loopback `http` addresses are allowed, like everywhere in this crate (RFC 8252).
pub fn revocation_request(endpoint: &str, client_id: &str, refresh_token: &Secret) -> HttpRequest {
    let body = form_urlencoded::Serializer::new(String::new())
        .append_pair("token", refresh_token.expose())
        .append_pair("token_type_hint", "refresh_token")
        .append_pair("client_id", client_id)
        .finish();
    let builder = http::Request::post(endpoint)
        .header(http::header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .header(http::header::ACCEPT, "application/json");
    crate::transport::finish(builder, body.into_bytes())
}

/// Revokes a refresh token so it cannot be used after sign-out. `Ok(false)` when the authority
/// offers no revocation endpoint.
pub async fn revoke_refresh_token(
    transport: &(impl Transport + 'static),
    metadata: &ProviderMetadata,
    client_id: &str,
    refresh_token: &Secret,
) -> Result<bool, TokenError> {
    let Some(endpoint) = &metadata.revocation_endpoint else { return Ok(false) };
    let response = transport.send(revocation_request(endpoint, client_id, refresh_token)).await.map_err(TokenError::Unreachable)?;
    if response.status().is_success() {
        return Ok(true);
    }
    Err(refusal(&response))
}

/// The authority's sign-out address (OpenID RP-initiated logout): `id_token_hint` names the
/// session, the post-logout URI must be registered. `None` when the authority offers none.
pub fn end_session_url(metadata: &ProviderMetadata, client: &ClientSettings, id_token: Option<&Secret>) -> Option<String> {
    let endpoint = metadata.end_session_endpoint.as_deref()?;
    let mut query = form_urlencoded::Serializer::new(String::new());
    if let Some(token) = id_token {
        query.append_pair("id_token_hint", token.expose());
    }
    query.append_pair("client_id", &client.client_id);
    if let Some(uri) = &client.post_logout_redirect_uri {
        query.append_pair("post_logout_redirect_uri", uri);
    }
    let sep = if endpoint.contains('?') { '&' } else { '?' };
    Some(format!("{endpoint}{sep}{}", query.finish()))
}

/// Tokens as held in memory. Every token is a [`Secret`].
#[derive(Debug, Clone)]
pub struct TokenSet {
    /// The bearer token for the MES Web API.
    pub access_token: Secret,
    /// Present when the authority issued one (`offline_access`).
    pub refresh_token: Option<Secret>,
    /// The ID token, when sent.
    pub id_token: Option<Secret>,
    /// Seconds since the Unix epoch when the access token expires, when the authority said.
    pub expires_at: Option<u64>,
    /// Granted scopes, when the authority listed them.
    pub scopes: Vec<String>,
}

/// Why a token request failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TokenError {
    /// No HTTP answer from the token endpoint: the authority is offline or unreachable.
    #[error("the identity authority did not answer ({0})")]
    Unreachable(TransportError),
    /// The authority refused (`invalid_grant`, `invalid_client`, …).
    #[error("the identity authority refused: {error}{}", description.as_deref().map(|d| format!(" ({d})")).unwrap_or_default())]
    Refused {
        /// OAuth error code.
        error: String,
        /// Its description.
        description: Option<String>,
    },
    /// An answer that is not a token response.
    #[error("the identity authority gave an unexpected answer: {0}")]
    UnexpectedResponse(String),
    /// The request could not be built (bad endpoint URL).
    #[error("{0}")]
    Configuration(String),
}

/// A token endpoint's successful answer (RFC 6749 §5.1, plus OpenID's `id_token`).
#[derive(Deserialize)]
struct TokenAnswer {
    access_token: String,
    token_type: String,
    #[serde(default)]
    expires_in: Option<u64>,
    #[serde(default)]
    refresh_token: Option<String>,
    #[serde(default)]
    id_token: Option<String>,
    #[serde(default)]
    scope: Option<String>,
}

/// An OAuth error answer (RFC 6749 §5.2).
#[derive(Deserialize)]
struct ErrorAnswer {
    error: String,
    #[serde(default)]
    error_description: Option<String>,
}

/// How the client proves itself at the token endpoint.
#[cfg_attr(target_arch = "wasm32", allow(dead_code))] // secrets are for native services only
pub(crate) enum ClientProof<'a> {
    /// A public client (the portal): `client_id` in the body.
    Public,
    /// `client_secret_basic`: HTTP Basic with the form-encoded ID and secret (RFC 6749 §2.3.1).
    Basic(&'a Secret),
    /// `client_secret_post`: ID and secret in the body.
    Post(&'a Secret),
}

/// The POST to the token endpoint. `form` carries the grant's own parameters.
pub(crate) fn token_request(
    endpoint: &str,
    client_id: &str,
    proof: &ClientProof<'_>,
    form: &[(&str, &str)],
) -> Result<HttpRequest, TokenError> {
    url::Url::parse(endpoint).map_err(|e| TokenError::Configuration(format!("token endpoint: {e}")))?;
    let mut body = form_urlencoded::Serializer::new(String::new());
    body.extend_pairs(form);
    let mut builder = http::Request::post(endpoint)
        .header(http::header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .header(http::header::ACCEPT, "application/json");
    match proof {
        ClientProof::Public => {
            body.append_pair("client_id", client_id);
        }
        ClientProof::Post(secret) => {
            body.append_pair("client_id", client_id).append_pair("client_secret", secret.expose());
        }
        ClientProof::Basic(secret) => {
            use base64::Engine as _;
            let encode = |text: &str| form_urlencoded::byte_serialize(text.as_bytes()).collect::<String>();
            let pair = format!("{}:{}", encode(client_id), encode(secret.expose()));
            let value = format!("Basic {}", base64::engine::general_purpose::STANDARD.encode(pair));
            builder = builder.header(http::header::AUTHORIZATION, value);
        }
    }
    Ok(crate::transport::finish(builder, body.finish().into_bytes()))
}

/// Reads a token endpoint's answer (RFC 6749 §5.1 with OpenID's `id_token`, or §5.2): only
/// Bearer tokens; error texts stripped of control characters; `expires_in` added to `now`
/// without overflow.
pub fn parse_token_response(response: &HttpResponse, now: u64) -> Result<TokenSet, TokenError> {
    let status = response.status().as_u16();
    if response.status().is_success() {
        let answer: TokenAnswer = serde_json::from_slice(response.body()).map_err(|e| {
            TokenError::UnexpectedResponse(format!("HTTP {status}, not a token answer ({e}); it starts: {}", first_bytes(response.body())))
        })?;
        if !answer.token_type.eq_ignore_ascii_case("bearer") {
            return Err(TokenError::UnexpectedResponse(format!("token type \"{}\" instead of Bearer", printable(&answer.token_type))));
        }
        return Ok(TokenSet {
            access_token: Secret::new(answer.access_token),
            refresh_token: answer.refresh_token.map(Secret::new),
            id_token: answer.id_token.map(Secret::new),
            expires_at: answer.expires_in.map(|s| now.saturating_add(s)),
            scopes: answer.scope.map(|s| s.split_whitespace().map(str::to_owned).collect()).unwrap_or_default(),
        });
    }
    Err(refusal(response))
}

/// A failed answer from the token or revocation endpoint: the OAuth error it names (RFC 6749
/// §5.2, RFC 7009 §2.2.1), or what came instead.
fn refusal(response: &HttpResponse) -> TokenError {
    match serde_json::from_slice::<ErrorAnswer>(response.body()) {
        Ok(e) => TokenError::Refused { error: printable(&e.error), description: e.error_description.as_deref().map(printable) },
        Err(_) => {
            TokenError::UnexpectedResponse(format!("HTTP {}; it starts: {}", response.status().as_u16(), first_bytes(response.body())))
        }
    }
}

/// Sends a token request and reads the answer.
pub(crate) async fn request_tokens(transport: &impl Transport, request: HttpRequest, now: u64) -> Result<TokenSet, TokenError> {
    let response = transport.send(request).await.map_err(TokenError::Unreachable)?;
    parse_token_response(&response, now)
}

/// Exchanges an authorization code with its PKCE verifier.
pub async fn exchange_code(
    transport: &impl Transport,
    metadata: &ProviderMetadata,
    client: &ClientSettings,
    code: AuthorizationCode,
    pending: &PendingSignIn,
    now: u64,
) -> Result<TokenSet, TokenError> {
    let form = [
        ("grant_type", "authorization_code"),
        ("code", code.secret()),
        ("redirect_uri", client.redirect_uri.as_str()),
        ("code_verifier", pending.verifier.as_str()),
    ];
    let request = token_request(&metadata.token_endpoint, &client.client_id, &ClientProof::Public, &form)?;
    request_tokens(transport, request, now).await
}

/// Uses a refresh token. The authority may rotate it: the answer's refresh token replaces the
/// old one, which must not be used again.
pub async fn refresh(
    transport: &impl Transport,
    token_endpoint: &str,
    client_id: &str,
    refresh_token: &Secret,
    now: u64,
) -> Result<TokenSet, TokenError> {
    let form = [("grant_type", "refresh_token"), ("refresh_token", refresh_token.expose())];
    let request = token_request(token_endpoint, client_id, &ClientProof::Public, &form)?;
    let mut tokens = request_tokens(transport, request, now).await?;
    if tokens.refresh_token.is_none() {
        // RFC 6749 §6: without a new one, the old refresh token stays valid.
        tokens.refresh_token = Some(refresh_token.clone());
    }
    Ok(tokens)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn metadata(iss_supported: bool) -> ProviderMetadata {
        ProviderMetadata {
            issuer: "https://sms.plant.example/identitymanager".into(),
            authorization_endpoint: "https://sms.plant.example/identitymanager/connect/authorize".into(),
            token_endpoint: "https://sms.plant.example/identitymanager/connect/token".into(),
            jwks_uri: "https://sms.plant.example/identitymanager/jwks".into(),
            end_session_endpoint: None,
            revocation_endpoint: None,
            code_challenge_methods_supported: Some(vec!["S256".into()]),
            authorization_response_iss_parameter_supported: iss_supported,
        }
    }

    fn client() -> ClientSettings {
        serde_json::from_str(
            r#"{"authority":"https://sms.plant.example/identitymanager","client_id":"mes-portal",
            "redirect_uri":"https://portal.plant.example/","scopes":["openid","profile","mes-web-api"],
            "extra_authorize_params":{"resource":"mes-web-api"}}"#,
        )
        .expect("client")
    }

    fn pending() -> PendingSignIn {
        PendingSignIn { state: "s1".into(), nonce: "n1".into(), verifier: "v".into(), return_path: "/".into() }
    }

    #[test]
    fn authorize_url_carries_pkce_s256_state_nonce_and_scopes() {
        let redirect = authorization_redirect(&metadata(true), &client(), "/lookups/1?x=y", Some(Prompt::None)).expect("url");
        let url = url::Url::parse(&redirect.url).expect("url");
        assert!(redirect.url.starts_with("https://sms.plant.example/identitymanager/connect/authorize?"));
        let q: std::collections::HashMap<_, _> = url.query_pairs().into_owned().collect();
        assert_eq!(q["response_type"], "code");
        assert_eq!(q["client_id"], "mes-portal");
        assert_eq!(q["redirect_uri"], "https://portal.plant.example/");
        assert_eq!(q["scope"], "openid profile mes-web-api");
        assert_eq!(q["code_challenge_method"], "S256");
        assert_eq!(q["prompt"], "none");
        assert_eq!(q["resource"], "mes-web-api");
        assert_eq!(q["state"], redirect.pending.state);
        assert_eq!(q["nonce"], redirect.pending.nonce);
        assert_eq!(redirect.pending.return_path, "/lookups/1?x=y");
        // RFC 7636: challenge = BASE64URL(SHA256(verifier)), 43 characters.
        // A known answer computed with Python's hashlib, independent of this crate.
        assert_eq!(pkce_challenge("dBjftJeZ4CVP-mJ92ZUEHdx2ju-rHRsPZZSMfRv5rK8"), "hmFg2q7sP1j2Y271JOfQkLWs214KCYf76x2mudUz808");
        let challenge = pkce_challenge(&redirect.pending.verifier);
        assert_eq!(q["code_challenge"], challenge);
        assert_eq!(challenge.len(), 43);
        assert!(!format!("{:?}", redirect.pending).contains(&redirect.pending.verifier));
    }

    #[test]
    fn token_requests_carry_the_grant_and_the_client_proof() {
        let form = [("grant_type", "client_credentials"), ("scope", "system")];
        let secret = Secret::new("p&ss:wörd");
        let basic = token_request("https://aim/connect/token", "sched uler", &ClientProof::Basic(&secret), &form).expect("request");
        // RFC 6749 §2.3.1: form-encode ID and secret, then Basic.
        use base64::Engine as _;
        let expected = base64::engine::general_purpose::STANDARD.encode("sched+uler:p%26ss%3Aw%C3%B6rd");
        assert_eq!(basic.headers()["authorization"], format!("Basic {expected}").as_str());
        assert_eq!(basic.body(), b"grant_type=client_credentials&scope=system");
        let post = token_request("https://aim/connect/token", "sched", &ClientProof::Post(&secret), &form).expect("request");
        assert!(post.headers().get("authorization").is_none());
        assert_eq!(post.body(), b"grant_type=client_credentials&scope=system&client_id=sched&client_secret=p%26ss%3Aw%C3%B6rd");
        let public =
            token_request("https://aim/connect/token", "mes-portal", &ClientProof::Public, &[("grant_type", "refresh_token")]).expect("r");
        assert_eq!(public.method(), http::Method::POST);
        assert_eq!(public.headers()["content-type"], "application/x-www-form-urlencoded");
        assert_eq!(public.body(), b"grant_type=refresh_token&client_id=mes-portal");
        assert!(matches!(token_request("not a url", "x", &ClientProof::Public, &[]), Err(TokenError::Configuration(_))));
    }

    #[test]
    fn token_answers_are_read_strictly() {
        let answer = |status: u16, body: &str| http::Response::builder().status(status).body(body.as_bytes().to_vec()).expect("r");
        let ok = parse_token_response(
            &answer(
                200,
                r#"{"access_token":"a","token_type":"bearer","expires_in":300,"refresh_token":"r","id_token":"i","scope":"openid mes"}"#,
            ),
            1000,
        )
        .expect("tokens");
        assert_eq!((ok.access_token.expose(), ok.expires_at, ok.scopes.len()), ("a", Some(1300), 2));
        assert_eq!(ok.refresh_token.as_ref().map(Secret::expose), Some("r"));
        assert!(matches!(
            parse_token_response(&answer(200, r#"{"access_token":"a","token_type":"mac"}"#), 0),
            Err(TokenError::UnexpectedResponse(_))
        ));
        assert_eq!(
            parse_token_response(&answer(400, r#"{"error":"invalid_grant","error_description":"used\u0007"}"#), 0).err(),
            Some(TokenError::Refused { error: "invalid_grant".into(), description: Some("used".into()) })
        );
        assert!(
            matches!(parse_token_response(&answer(502, "<html>proxy</html>"), 0), Err(TokenError::UnexpectedResponse(m)) if m.contains("502"))
        );
        let huge = format!(r#"{{"access_token":"a","token_type":"Bearer","expires_in":{}}}"#, u64::MAX);
        assert_eq!(parse_token_response(&answer(200, &huge), 5).expect("saturates").expires_at, Some(u64::MAX));
    }

    #[test]
    fn state_and_nonce_are_fresh_each_time() {
        let a = authorization_redirect(&metadata(true), &client(), "/", None).expect("a").pending;
        let b = authorization_redirect(&metadata(true), &client(), "/", None).expect("b").pending;
        assert_ne!(a.state, b.state);
        assert_ne!(a.nonce, b.nonce);
        assert_ne!(a.verifier, b.verifier);
    }

    #[test]
    fn end_session_url_names_the_session_and_the_registered_return() {
        let mut meta = metadata(true);
        assert_eq!(end_session_url(&meta, &client(), None), None);
        meta.end_session_endpoint = Some("https://sms.plant.example/identitymanager/connect/endsession".into());
        let mut settings = client();
        settings.post_logout_redirect_uri = Some("https://portal.plant.example/signed-out".into());
        assert_eq!(
            end_session_url(&meta, &settings, Some(&Secret::new("a.b.c"))).as_deref(),
            Some(
                "https://sms.plant.example/identitymanager/connect/endsession?id_token_hint=a.b.c&client_id=mes-portal&post_logout_redirect_uri=https%3A%2F%2Fportal.plant.example%2Fsigned-out"
            )
        );
    }

    #[test]
    fn revocation_request_bytes() {
        let request = revocation_request("https://aim/connect/revocation", "mes-portal", &Secret::new("r t+1"));
        assert_eq!(request.method(), http::Method::POST);
        assert_eq!(request.uri(), "https://aim/connect/revocation");
        assert_eq!(request.headers()["content-type"], "application/x-www-form-urlencoded");
        assert_eq!(request.body().as_slice(), b"token=r+t%2B1&token_type_hint=refresh_token&client_id=mes-portal");
        // A malformed endpoint must not turn into a POST of the token to this page's origin.
        let bad = revocation_request("https://aim/connect/revocation with spaces", "mes-portal", &Secret::new("r"));
        assert_eq!(bad.uri(), "http://invalid.invalid/");
        assert!(bad.body().is_empty());
    }

    #[test]
    fn return_path_stays_on_this_origin() {
        for bad in ["https://evil.example/", "//evil.example/x", "/\\evil.example", "javascript:alert(1)", "", "/a\nb"] {
            assert_eq!(same_origin_path(bad), "/", "{bad:?}");
        }
        assert_eq!(same_origin_path("/lookups?sort=ent_name"), "/lookups?sort=ent_name");
    }

    #[test]
    fn callback_checks() {
        let meta = metadata(true);
        let iss = "iss=https%3A%2F%2Fsms.plant.example%2Fidentitymanager";
        let ok = CallbackParams::from_query(&format!("?code=c1&state=s1&{iss}"));
        assert!(ok.is_authorization_response());
        assert_eq!(check_callback(&ok, Some(&pending()), &meta).expect("ok").secret(), "c1");
        assert_eq!(check_callback(&ok, None, &meta).err(), Some(SignInError::NoPendingSignIn));
        let wrong_state = CallbackParams::from_query(&format!("code=c1&state=s2&{iss}"));
        assert_eq!(check_callback(&wrong_state, Some(&pending()), &meta).err(), Some(SignInError::StateMismatch));
        let no_state = CallbackParams::from_query(&format!("code=c1&{iss}"));
        assert_eq!(check_callback(&no_state, Some(&pending()), &meta).err(), Some(SignInError::StateMismatch));
        let doubled = CallbackParams::from_query(&format!("code=c1&state=s1&state=s1&{iss}"));
        assert_eq!(check_callback(&doubled, Some(&pending()), &meta).err(), Some(SignInError::StateMismatch));
        let wrong_iss = CallbackParams::from_query("code=c1&state=s1&iss=https%3A%2F%2Fevil.example");
        assert!(matches!(check_callback(&wrong_iss, Some(&pending()), &meta), Err(SignInError::IssuerMismatch { .. })));
        let no_iss = CallbackParams::from_query("code=c1&state=s1");
        assert_eq!(check_callback(&no_iss, Some(&pending()), &meta).err(), Some(SignInError::IssuerMissing));
        assert!(check_callback(&no_iss, Some(&pending()), &metadata(false)).is_ok(), "iss optional when not advertised");
        let denied = CallbackParams::from_query(&format!("error=access_denied&error_description=User+cancelled&state=s1&{iss}"));
        assert_eq!(
            check_callback(&denied, Some(&pending()), &meta).err(),
            Some(SignInError::Refused { error: "access_denied".into(), description: Some("User cancelled".into()) })
        );
        let no_code = CallbackParams::from_query(&format!("state=s1&{iss}"));
        assert!(!no_code.is_authorization_response());
        assert_eq!(check_callback(&no_code, Some(&pending()), &meta).err(), Some(SignInError::MissingCode));
    }
}
