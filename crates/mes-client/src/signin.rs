//! Authorization code + PKCE (S256) sign-in: the authorize redirect, the callback checks
//! (state, RFC 9207 `iss`, `error=`), and the token requests (RFC 6749 §4.1.3, §6, §4.4), all
//! built here: PKCE, state and nonce from the platform's randomness, requests as plain
//! `HttpRequest`s, answers parsed with serde.

use crate::Secret;
use crate::absolute_url::AbsoluteUrl;
use crate::config::{ClientId, ClientSettings, EndSessionMethod};
use crate::discovery::ProviderMetadata;
use crate::secret::round_trip_value;
use crate::transport::{HttpRequest, HttpResponse, Transport, TransportError};
use serde::{Deserialize, Serialize};
use std::fmt;

/// What survives the one round trip to the authority (kept in sessionStorage by the browser
/// glue, removed on return). Never a token.
#[derive(Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct PendingSignIn {
    /// The `state` sent; the callback must return it.
    pub state: CsrfState,
    /// The `nonce` sent; the ID token must carry it.
    pub nonce: Nonce,
    /// The PKCE verifier for the code exchange.
    pub verifier: PkceVerifier,
    /// Same-origin path to return to after sign-in.
    pub return_path: String,
}

impl fmt::Debug for PendingSignIn {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PendingSignIn")
            .field("return_path", &self.return_path)
            .finish_non_exhaustive()
    }
}

round_trip_value!(
    /// The `state` of an authorization request (16 random bytes): the callback must echo it, which
    /// ties the answer to the request this browser made (CSRF protection).
    CsrfState,
    16
);
round_trip_value!(
    /// The `nonce` of an authorization request (16 random bytes): the ID token must carry it, which
    /// ties the token to this sign-in (replay protection).
    Nonce,
    16
);
round_trip_value!(
    /// The PKCE code verifier (RFC 7636, 32 random bytes): only its S256 hash leaves with the
    /// redirect; the verifier itself goes with the code exchange.
    PkceVerifier,
    32
);

/// Where to send the browser, and what to remember until it comes back. Debug shows the
/// authorize endpoint without its query (the state and nonce are this sign-in's secrets).
#[derive(Clone)]
pub struct AuthorizationRedirect {
    /// The authority's authorize URL with every parameter.
    pub url: String,
    /// Keep for the callback.
    pub pending: PendingSignIn,
}

impl fmt::Debug for AuthorizationRedirect {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let endpoint = self.url.split(['?', '#']).next().unwrap_or_default();
        f.debug_struct("AuthorizationRedirect")
            .field("url", &format_args!("{endpoint}?…"))
            .field("pending", &self.pending)
            .finish()
    }
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
    #[error(
        "this sign-in answer does not belong to a sign-in started here (it was already used, or came from elsewhere)"
    )]
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

fn no_randomness(e: getrandom::Error) -> SignInError {
    SignInError::NoRandomness(e.to_string())
}

/// RFC 7636 S256: `BASE64URL(SHA256(verifier))`.
pub fn pkce_challenge(verifier: &str) -> String {
    use base64::Engine as _;
    use sha2::Digest as _;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(sha2::Sha256::digest(verifier.as_bytes()))
}

/// The portal as an OpenID client (oauth2-rs's `Client`): its registration at the authority.
/// Each step of a sign-in is a request built from it:
///
/// ```no_run
/// # async fn run<T: mes_client::Transport + 'static>(transport: T, mut authority: mes_client::Authority,
/// #     settings: mes_client::ClientSettings, params: mes_client::CallbackParams) -> Result<(), Box<dyn std::error::Error>> {
/// use mes_client::{Prompt, SignInClient};
/// let client = SignInClient::new(&settings);
/// // Leaving for the authority: remember `redirect.pending` until the browser comes back.
/// let redirect = client.authorize(&authority.metadata).return_to("/lookups/2").prompt(Prompt::None).url()?;
/// // Back with `params` from the callback's query:
/// let signed_in = client
///     .exchange_code(&mut authority, &params, Some(&redirect.pending))
///     .request_async(&transport)
///     .await?;
/// # Ok(()) }
/// ```
#[derive(Debug, Clone, Copy)]
pub struct SignInClient<'a> {
    settings: &'a ClientSettings,
}

impl<'a> SignInClient<'a> {
    /// The client `settings` describe (config.json's `client`).
    pub fn new(settings: &'a ClientSettings) -> Self {
        Self { settings }
    }

    /// The client's settings.
    pub fn settings(&self) -> &'a ClientSettings {
        self.settings
    }

    /// The redirect to `metadata`'s authorization endpoint; returns to `/` unless told otherwise.
    pub fn authorize(&self, metadata: &'a ProviderMetadata) -> AuthorizeRequest<'a> {
        AuthorizeRequest {
            metadata,
            settings: self.settings,
            return_path: "/",
            prompt: None,
            popup: false,
        }
    }
}

/// How the `state` of a sign-in in a popup begins (see [`AuthorizeRequest::in_popup`]).
const POPUP_STATE_PREFIX: &str = "popup.";

/// Whether a callback's `state` is that of a sign-in started in a popup. It only tells the page
/// at the redirect URI what kind of window it is in; the state itself is still compared whole.
pub fn is_popup_state(state: &str) -> bool {
    state.starts_with(POPUP_STATE_PREFIX)
}

/// An authorization request being built: see [`SignInClient::authorize`].
#[derive(Debug, Clone, Copy)]
#[must_use = "a request does nothing until its URL is built"]
pub struct AuthorizeRequest<'a> {
    metadata: &'a ProviderMetadata,
    settings: &'a ClientSettings,
    return_path: &'a str,
    prompt: Option<Prompt>,
    popup: bool,
}

impl<'a> AuthorizeRequest<'a> {
    /// The sign-in runs in a popup: its `state` says so (16 random bytes after a fixed prefix),
    /// so that the page at the redirect URI knows it is a popup even when the authority's page
    /// has cut the popup loose from its opener (a `Cross-Origin-Opener-Policy`), and can say so.
    pub fn in_popup(mut self) -> Self {
        self.popup = true;
        self
    }

    /// The page to come back to after sign-in; anything not a same-origin path returns to `/`.
    pub fn return_to(mut self, path: &'a str) -> Self {
        self.return_path = path;
        self
    }

    /// `prompt=none` (silent) or `prompt=login` (always the form); none by default.
    pub fn prompt(mut self, prompt: impl Into<Option<Prompt>>) -> Self {
        self.prompt = prompt.into();
        self
    }

    /// The URL, with fresh PKCE S256 challenge, state and nonce, the scopes, `prompt` and the
    /// configured extra parameters; and what to keep until the callback.
    pub fn url(self) -> Result<AuthorizationRedirect, SignInError> {
        let (metadata, client) = (self.metadata, self.settings);
        let endpoint =
            AbsoluteUrl::parse(&metadata.authorization_endpoint).map_err(|reason| SignInError::BadUrl {
                what: "the authorization endpoint",
                reason,
            })?;
        AbsoluteUrl::parse(&client.redirect_uri).map_err(|reason| SignInError::BadUrl {
            what: "the redirect URI",
            reason,
        })?;
        let verifier = PkceVerifier::random().map_err(no_randomness)?;
        let mut state = CsrfState::random().map_err(no_randomness)?;
        if self.popup {
            state = CsrfState::new(format!("{POPUP_STATE_PREFIX}{}", state.secret()));
        }
        let nonce = Nonce::random().map_err(no_randomness)?;
        let challenge = pkce_challenge(verifier.secret());
        let scope = client.scopes.join(" ");
        let mut query: Vec<(&str, &str)> = vec![
            ("response_type", "code"),
            ("client_id", client.client_id.as_str()),
            ("state", state.secret()),
            ("code_challenge", &challenge),
            ("code_challenge_method", "S256"),
            ("redirect_uri", &client.redirect_uri),
        ];
        if !client.scopes.is_empty() {
            query.push(("scope", &scope));
        }
        query.push(("nonce", nonce.secret()));
        match self.prompt {
            Some(Prompt::None) => query.push(("prompt", "none")),
            Some(Prompt::Login) => query.push(("prompt", "login")),
            None => {}
        }
        query.extend(
            client
                .extra_authorize_params
                .iter()
                .map(|(name, value)| (name.as_str(), value.as_str())),
        );
        let url = endpoint.with_query_pairs(query);
        Ok(AuthorizationRedirect {
            url,
            pending: PendingSignIn {
                state,
                nonce,
                verifier,
                return_path: same_origin_path(self.return_path),
            },
        })
    }
}

/// Keeps a return path only when it stays on this origin: an absolute path, not `//host`, no
/// backslash tricks. Anything else returns to `/`.
pub fn same_origin_path(path: &str) -> String {
    let safe = path.starts_with('/')
        && !path.starts_with("//")
        && !path.contains('\\')
        && !path.chars().any(|c| c.is_control());
    if safe { path.to_owned() } else { "/".to_owned() }
}

/// The parameters of an authorization response, as read from the callback URL's query. Its
/// Debug output leaves the code out.
#[derive(Clone, Default, PartialEq, Eq)]
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

impl fmt::Debug for CallbackParams {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CallbackParams")
            .field("code", &self.code.as_ref().map(|_| "[redacted]"))
            .field("state", &self.state)
            .field("iss", &self.iss)
            .field("error", &self.error)
            .field("error_description", &self.error_description)
            .finish()
    }
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
        Some(state) if pending.state.matches(state) => {}
        _ => return Err(SignInError::StateMismatch),
    }
    match &params.iss {
        Some(iss) if iss != &metadata.issuer => {
            return Err(SignInError::IssuerMismatch {
                expected: metadata.issuer.clone(),
                found: printable(iss),
            });
        }
        None if metadata.authorization_response_iss_parameter_supported => {
            return Err(SignInError::IssuerMissing);
        }
        _ => {}
    }
    if let Some(error) = &params.error {
        return Err(SignInError::Refused {
            error: printable(error),
            description: params.error_description.as_deref().map(printable),
        });
    }
    params
        .code
        .clone()
        .map(AuthorizationCode::new)
        .ok_or(SignInError::MissingCode)
}

/// Attacker-controlled text, cut to a sane length and stripped of control characters.
pub(crate) fn printable(text: &str) -> String {
    text.chars().filter(|c| !c.is_control()).take(300).collect()
}

/// The RFC 7009 revocation request for a refresh token (public client: `client_id` in the body).
/// Loopback `http` addresses are allowed, like everywhere in this crate (RFC 8252).
pub fn revocation_request(endpoint: &str, client_id: &ClientId, refresh_token: &Secret) -> HttpRequest {
    let body = form_urlencoded::Serializer::new(String::new())
        .append_pair("token", refresh_token.expose())
        .append_pair("token_type_hint", "refresh_token")
        .append_pair("client_id", client_id.as_str())
        .finish();
    form_post(endpoint, body)
}

/// A form POST to the authority that wants a JSON answer.
fn form_post(endpoint: &str, form: String) -> HttpRequest {
    HttpRequest::post(endpoint, form.into_bytes())
        .header("content-type", "application/x-www-form-urlencoded")
        .header("accept", "application/json")
        .time_limit(TOKEN_REQUEST_SECONDS)
        .checked()
}

/// How long a request to the token or revocation endpoint may take, answer included: well inside
/// the renewal margin ([`crate::user_session::RENEW_BEFORE_SECONDS`]), so a hanging authority is an
/// outage while the access token still works, not a minute's wait on every lookup.
pub const TOKEN_REQUEST_SECONDS: u32 = 10;

/// Revokes a refresh token so it cannot be used after sign-out. `Ok(false)` when the authority
/// offers no revocation endpoint.
pub async fn revoke_refresh_token(
    transport: &(impl Transport + 'static),
    metadata: &ProviderMetadata,
    client_id: &ClientId,
    refresh_token: &Secret,
) -> Result<bool, TokenError> {
    let Some(endpoint) = &metadata.revocation_endpoint else {
        return Ok(false);
    };
    let response = transport
        .send(revocation_request(endpoint, client_id, refresh_token))
        .await
        .map_err(TokenError::Unreachable)?;
    if response.status().is_success() {
        return Ok(true);
    }
    Err(refusal(&response, crate::time::now_seconds()))
}

/// The authority's sign-out request (OpenID RP-Initiated Logout 1.0), sent as config.json's
/// `end_session_method` says: a form to POST, so the ID token hint travels in a body, never in a
/// URL that the authority's or a proxy's access log would keep; or, for authorities that take
/// only GET there, an address without the hint. Its Debug output leaves the hint out.
#[derive(Clone, PartialEq, Eq)]
pub struct EndSession {
    /// The end-session endpoint (the form's action).
    pub action: String,
    /// How it is sent.
    pub method: EndSessionMethod,
    /// The fields: `id_token_hint` (POST only, when known), `client_id`,
    /// `post_logout_redirect_uri`.
    pub fields: Vec<(&'static str, String)>,
}

impl EndSession {
    /// The address to open for a GET sign-out (`None` for a POST: its fields go in a form body).
    pub fn get_url(&self) -> Option<String> {
        if self.method != EndSessionMethod::Get {
            return None;
        }
        let endpoint = AbsoluteUrl::parse(&self.action).ok()?;
        Some(endpoint.with_query_pairs(self.fields.iter().map(|(n, v)| (*n, v.as_str()))))
    }
}

impl fmt::Debug for EndSession {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let names: Vec<&str> = self.fields.iter().map(|(n, _)| *n).collect();
        f.debug_struct("EndSession")
            .field("action", &self.action)
            .field("method", &self.method)
            .field("fields", &names)
            .finish()
    }
}

/// The sign-out request for this session: `id_token_hint` names it (POST only), `client_id`
/// names the portal, the post-logout URI must be registered. `None` when the authority offers no
/// end-session endpoint (then only a local sign-out is possible, and the person must be told the
/// authority's session may go on).
pub fn end_session_request(
    metadata: &ProviderMetadata,
    client: &ClientSettings,
    id_token: Option<&Secret>,
) -> Option<EndSession> {
    let action = metadata.end_session_endpoint.clone()?;
    let method = client.end_session_method;
    let mut fields = Vec::new();
    if let Some(token) = id_token.filter(|_| method == EndSessionMethod::Post) {
        fields.push(("id_token_hint", token.expose().to_owned()));
    }
    fields.push(("client_id", client.client_id.to_string()));
    if let Some(uri) = &client.post_logout_redirect_uri {
        fields.push(("post_logout_redirect_uri", uri.clone()));
    }
    Some(EndSession {
        action,
        method,
        fields,
    })
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
    /// The access token's lifetime in seconds (`expires_in`), when the authority said.
    pub lifetime: Option<u64>,
    /// Granted scopes, when the authority listed them.
    pub scopes: Vec<String>,
}

/// Why a token request failed. No variant carries body bytes: a token answer that fails to parse
/// may still hold a token, and these texts reach the screen and the logs.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TokenError {
    /// No usable HTTP answer from the token endpoint: the authority is offline or unreachable
    /// (or answered a POST with a redirect, which is never followed).
    #[error("the identity authority did not answer ({0})")]
    Unreachable(TransportError),
    /// The authority refused (`invalid_grant`, `invalid_client`, …).
    #[error("the identity authority refused: {error}{}", description.as_deref().map(|d| format!(" ({d})")).unwrap_or_default())]
    Refused {
        /// HTTP status of the answer.
        status: u16,
        /// OAuth error code.
        error: String,
        /// Its description.
        description: Option<String>,
        /// Seconds the authority asked to be left alone (`Retry-After`), when it said so.
        retry_after: Option<u64>,
    },
    /// No OAuth answer at all — an HTML page, a proxy's, firewall's or load balancer's answer, an
    /// empty body: something between the portal and the authority answered, or the authority is
    /// failing. Never a refusal (RFC 6749 §5.2: a refusal is a JSON error), so an outage.
    #[error("the identity authority's address gave no OAuth answer (HTTP {status}): {what}")]
    NotOAuth {
        /// HTTP status of the answer.
        status: u16,
        /// What came instead, with its content type; never its bytes.
        what: String,
        /// Seconds the answer asked to be left alone (`Retry-After`), when it said so.
        retry_after: Option<u64>,
    },
    /// A JSON answer that is not a usable token response: the status and which field was wrong.
    #[error("the identity authority gave an unexpected answer (HTTP {status}): {reason}")]
    UnexpectedResponse {
        /// HTTP status of the answer.
        status: u16,
        /// What was wrong, naming the field; never the answer's bytes.
        reason: String,
    },
    /// The request could not be built (bad endpoint URL).
    #[error("{0}")]
    Configuration(String),
}

impl TokenError {
    /// Whether the authority is away, failing or out of reach — worth trying again later with
    /// the same grant — rather than refusing it. Only an OAuth error (RFC 6749 §5.2, a JSON
    /// `error`) refuses, and not even that when it says the authority is busy or failing (5xx,
    /// 408 Request Timeout, 425 Too Early, 429 Too Many Requests, `temporarily_unavailable`,
    /// `server_error`). A proxy's HTML page, a firewall's 403 or a load balancer's 404 never end
    /// a session. A refused grant must not be presented again.
    pub fn is_outage(&self) -> bool {
        match self {
            TokenError::Unreachable(t) => t.kind.is_outage(),
            TokenError::Refused { status, error, .. } => {
                *status >= 500
                    || matches!(status, 408 | 425 | 429)
                    || matches!(error.as_str(), "temporarily_unavailable" | "server_error")
            }
            TokenError::NotOAuth { .. } => true,
            TokenError::UnexpectedResponse { status, .. } => *status >= 500,
            TokenError::Configuration(_) => false,
        }
    }

    /// For an outage, how long the authority (or the proxy before it) asked to be left alone
    /// (`Retry-After`, capped at [`crate::transport::RETRY_AFTER_LIMIT_SECONDS`]): the grant is
    /// not presented again before then. A refusal has no "later".
    pub fn retry_after(&self) -> Option<u64> {
        match self {
            TokenError::Refused { retry_after, .. } | TokenError::NotOAuth { retry_after, .. }
                if self.is_outage() =>
            {
                *retry_after
            }
            _ => None,
        }
    }
}

/// An OAuth error answer (RFC 6749 §5.2).
#[derive(Deserialize)]
struct ErrorAnswer {
    error: String,
    #[serde(default)]
    error_description: Option<String>,
}

/// The POST to the token endpoint for the portal, a public client (`client_id` in the body; no
/// secret — the one flow with a secret, client credentials, is oauth2-rs's in `service.rs`).
/// `form` carries the grant's own parameters.
pub(crate) fn token_request(
    endpoint: &str,
    client_id: &ClientId,
    form: &[(&str, &str)],
) -> Result<HttpRequest, TokenError> {
    AbsoluteUrl::parse(endpoint).map_err(|e| TokenError::Configuration(format!("token endpoint: {e}")))?;
    let mut body = form_urlencoded::Serializer::new(String::new());
    body.extend_pairs(form);
    body.append_pair("client_id", client_id.as_str());
    Ok(form_post(endpoint, body.finish()))
}

/// Reads a token endpoint's answer (RFC 6749 §5.1 with OpenID's `id_token`, or §5.2).
///
/// Strict where a field protects, lenient where it only informs, so that any conforming
/// authority signs people in (ARCHITECTURE.md, "Reading token answers", has the table):
/// - `access_token`: a non-empty string, or the answer is refused — it is what the MES gets.
/// - `token_type`: `Bearer` in any case, or refused — a DPoP- or MAC-bound token sent as a bearer
///   would be misused.
/// - `expires_in`: seconds as a number or a numeric string (added to `now` without overflow);
///   missing, negative or unreadable means "not said" — renewal then follows the MES's 401.
/// - `refresh_token`, `id_token`: a string; missing, `null`, empty or of another type means not
///   issued (the code exchange then refuses a missing ID token itself).
/// - `scope`: informational (§5.1) — a space-separated string, or a list of strings; empty,
///   missing or odd means none listed.
/// - unknown members are ignored; a UTF-8 byte-order mark before the object is skipped.
///
/// A malformed answer is described by the field that was wrong, never by its bytes (serde's own
/// messages quote values, which may be tokens); error texts are stripped of control characters.
pub fn parse_token_response(response: &HttpResponse, now: u64) -> Result<TokenSet, TokenError> {
    use serde_json::Value;
    let status = response.status().as_u16();
    if !response.status().is_success() {
        return Err(refusal(response, now));
    }
    let unexpected = |reason: String| TokenError::UnexpectedResponse { status, reason };
    let body = response
        .body()
        .strip_prefix(b"\xEF\xBB\xBF")
        .unwrap_or(response.body());
    let answer = match serde_json::from_slice::<Value>(body) {
        Ok(Value::Object(answer)) => answer,
        // JSON, but no object: the authority's answer, unusable.
        Ok(_) => return Err(unexpected("not a JSON token object".into())),
        Err(_) => {
            return Err(TokenError::NotOAuth {
                status,
                what: format!("not a JSON token object ({})", labelled(response)),
                retry_after: None,
            });
        }
    };
    let required = |name: &str| -> Result<String, TokenError> {
        match answer.get(name) {
            None | Some(Value::Null) => Err(unexpected(format!("\"{name}\" is missing"))),
            Some(Value::String(v)) if v.is_empty() => Err(unexpected(format!("\"{name}\" is empty"))),
            Some(Value::String(v)) => Ok(v.clone()),
            Some(_) => Err(unexpected(format!("\"{name}\" is not a string"))),
        }
    };
    let optional = |name: &str| match answer.get(name) {
        Some(Value::String(v)) if !v.is_empty() => Some(Secret::new(v.clone())),
        _ => None,
    };
    let access_token = required("access_token")?;
    let token_type = required("token_type")?;
    if !token_type.eq_ignore_ascii_case("bearer") {
        return Err(unexpected(format!(
            "token type \"{}\" instead of Bearer",
            printable(&token_type)
        )));
    }
    let lifetime = answer.get("expires_in").and_then(lifetime_seconds);
    Ok(TokenSet {
        access_token: Secret::new(access_token),
        refresh_token: optional("refresh_token"),
        id_token: optional("id_token"),
        expires_at: lifetime.map(|s| now.saturating_add(s)),
        lifetime,
        scopes: answer.get("scope").map(granted_scopes).unwrap_or_default(),
    })
}

/// `expires_in` as whole seconds: a number (a fraction rounds down) or a numeric string, as some
/// authorities send it; anything else is not a lifetime.
fn lifetime_seconds(value: &serde_json::Value) -> Option<u64> {
    match value {
        serde_json::Value::Number(n) => n
            .as_u64()
            .or_else(|| n.as_f64().filter(|f| *f >= 0.0).map(|f| f as u64)),
        serde_json::Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

/// The granted scopes: RFC 6749's space-separated string, or a list of strings.
fn granted_scopes(value: &serde_json::Value) -> Vec<String> {
    match value {
        serde_json::Value::String(s) => s.split_whitespace().map(str::to_owned).collect(),
        serde_json::Value::Array(items) => items
            .iter()
            .filter_map(serde_json::Value::as_str)
            .flat_map(str::split_whitespace)
            .map(str::to_owned)
            .collect(),
        _ => Vec::new(),
    }
}

/// What an answer says it is: its content type, or that it names none. Never its bytes.
fn labelled(response: &HttpResponse) -> String {
    let ct = crate::transport::content_type(response);
    if ct.is_empty() {
        "no content type".to_owned()
    } else {
        ct
    }
}

/// A failed answer from the token or revocation endpoint: the OAuth error it names (RFC 6749
/// §5.2, RFC 7009 §2.2.1), or its status and content type — never its bytes — with the wait it
/// asks for (`Retry-After`, read against `now`).
fn refusal(response: &HttpResponse, now: u64) -> TokenError {
    let status = response.status().as_u16();
    let retry_after = crate::transport::retry_after(response, now);
    match serde_json::from_slice::<ErrorAnswer>(response.body()) {
        Ok(e) => TokenError::Refused {
            status,
            error: printable(&e.error),
            description: e.error_description.as_deref().map(printable),
            retry_after,
        },
        Err(_) => TokenError::NotOAuth {
            status,
            what: format!("not an OAuth answer ({})", labelled(response)),
            retry_after,
        },
    }
}

/// Sends a token request and reads the answer.
pub(crate) async fn request_tokens(
    transport: &impl Transport,
    request: HttpRequest,
    now: u64,
) -> Result<TokenSet, TokenError> {
    let response = transport.send(request).await.map_err(TokenError::Unreachable)?;
    parse_token_response(&response, now)
}

/// The token request that exchanges an authorization code with its PKCE verifier (sent by
/// [`crate::CodeExchange::request_async`]).
pub(crate) fn code_request(
    metadata: &ProviderMetadata,
    client: &ClientSettings,
    code: &AuthorizationCode,
    verifier: &PkceVerifier,
) -> Result<HttpRequest, TokenError> {
    let form = [
        ("grant_type", "authorization_code"),
        ("code", code.secret()),
        ("redirect_uri", client.redirect_uri.as_str()),
        ("code_verifier", verifier.secret()),
    ];
    token_request(&metadata.token_endpoint, &client.client_id, &form)
}

/// Uses a refresh token. The authority may rotate it: the answer's refresh token replaces the
/// old one, which must not be used again.
pub async fn refresh(
    transport: &impl Transport,
    token_endpoint: &str,
    client_id: &ClientId,
    refresh_token: &Secret,
    now: u64,
) -> Result<TokenSet, TokenError> {
    // oauth2-rs builds the request (a public client: `client_id` in the body); this crate reads
    // the answer (`oauth.rs`).
    let client = oauth2::basic::BasicClient::new(oauth2::ClientId::new(client_id.to_string()))
        .set_auth_type(oauth2::AuthType::RequestBody)
        .set_token_uri(crate::oauth::token_url(token_endpoint)?);
    let via = crate::oauth::Via::new(transport);
    let outcome = client
        .exchange_refresh_token(&oauth2::RefreshToken::new(refresh_token.expose().to_owned()))
        .request_async(&via)
        .await;
    let mut tokens = via.read(outcome, now)?;
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
        PendingSignIn {
            state: CsrfState::new("s1"),
            nonce: Nonce::new("n1"),
            verifier: PkceVerifier::new("v"),
            return_path: "/".into(),
        }
    }

    /// A popup's sign-in says so in its state (so the page at the redirect URI can tell a popup
    /// cut loose from its opener), with the same 16 random bytes after the prefix.
    #[test]
    fn a_popup_sign_in_marks_its_state_and_only_it() {
        let settings = client();
        let metadata = metadata(true);
        let plain = SignInClient::new(&settings)
            .authorize(&metadata)
            .url()
            .expect("url");
        let popup = SignInClient::new(&settings)
            .authorize(&metadata)
            .in_popup()
            .url()
            .expect("url");
        assert!(!is_popup_state(plain.pending.state.secret()));
        assert!(is_popup_state(popup.pending.state.secret()));
        let random = popup
            .pending
            .state
            .secret()
            .strip_prefix("popup.")
            .expect("prefix");
        assert_eq!(random.len(), plain.pending.state.secret().len());
        assert!(
            popup
                .url
                .contains(&format!("state={}", popup.pending.state.secret()))
        );
    }

    #[test]
    fn authorize_url_carries_pkce_s256_state_nonce_and_scopes() {
        let redirect = SignInClient::new(&client())
            .authorize(&metadata(true))
            .return_to("/lookups/1?x=y")
            .prompt(Prompt::None)
            .url()
            .expect("url");
        assert!(
            redirect
                .url
                .starts_with("https://sms.plant.example/identitymanager/connect/authorize?")
        );
        let query = redirect.url.split_once('?').expect("a query").1;
        let q: std::collections::HashMap<_, _> =
            form_urlencoded::parse(query.as_bytes()).into_owned().collect();
        assert_eq!(q["response_type"], "code");
        assert_eq!(q["client_id"], "mes-portal");
        assert_eq!(q["redirect_uri"], "https://portal.plant.example/");
        assert_eq!(q["scope"], "openid profile mes-web-api");
        assert_eq!(q["code_challenge_method"], "S256");
        assert_eq!(q["prompt"], "none");
        assert_eq!(q["resource"], "mes-web-api");
        assert_eq!(q["state"], redirect.pending.state.secret());
        assert_eq!(q["nonce"], redirect.pending.nonce.secret());
        assert_eq!(redirect.pending.return_path, "/lookups/1?x=y");
        // RFC 7636: challenge = BASE64URL(SHA256(verifier)), 43 characters.
        // A known answer computed with Python's hashlib, independent of this crate.
        assert_eq!(
            pkce_challenge("dBjftJeZ4CVP-mJ92ZUEHdx2ju-rHRsPZZSMfRv5rK8"),
            "hmFg2q7sP1j2Y271JOfQkLWs214KCYf76x2mudUz808"
        );
        let challenge = pkce_challenge(redirect.pending.verifier.secret());
        assert_eq!(q["code_challenge"], challenge);
        assert_eq!(challenge.len(), 43);
        let shown = format!("{:?}", redirect.pending);
        assert!(
            !shown.contains(redirect.pending.verifier.secret())
                && !shown.contains(redirect.pending.state.secret()),
            "{shown}"
        );
        assert!(
            shown.contains("PendingSignIn") && shown.contains("/lookups/1?x=y"),
            "what is not secret is shown: {shown}"
        );
    }

    #[test]
    fn a_refresh_is_oauth2_rs_request_read_by_our_parser_and_keeps_an_unrotated_token() {
        use crate::transport::testing::Canned;
        let run = |answer: HttpResponse| {
            let transport = Canned::new(Ok(answer));
            let old = Secret::new("r t+1");
            let outcome = crate::transport::testing::run_now(refresh(
                &transport,
                "https://aim/connect/token",
                &ClientId::new("mes-portal"),
                &old,
                100,
            ));
            (transport.sent(), outcome)
        };
        let json = |status: u16, body: &str| {
            HttpResponse::new(status, body).with_header("content-type", "application/json")
        };
        let (sent, outcome) = run(json(
            200,
            r#"{"access_token":"a2","token_type":"Bearer","expires_in":60}"#,
        ));
        let [request] = sent.as_slice() else {
            panic!("one request: {sent:?}")
        };
        assert_eq!(
            (request.method(), request.url()),
            (crate::transport::Method::Post, "https://aim/connect/token")
        );
        assert!(
            request.headers().get("authorization").is_none(),
            "a public client sends no secret"
        );
        let body = String::from_utf8(request.body().to_vec()).expect("text");
        let mut fields: Vec<&str> = body.split('&').collect();
        fields.sort_unstable();
        assert_eq!(
            fields,
            [
                "client_id=mes-portal",
                "grant_type=refresh_token",
                "refresh_token=r+t%2B1"
            ]
        );
        let tokens = outcome.expect("tokens");
        assert_eq!(tokens.access_token.expose(), "a2");
        assert_eq!(tokens.expires_at, Some(160));
        assert_eq!(
            tokens.refresh_token.as_ref().map(Secret::expose),
            Some("r t+1"),
            "RFC 6749 §6: the old one stays"
        );
        // Our parser, not oauth2-rs's: a MAC token is refused, an error names no body bytes.
        let (_, outcome) = run(json(200, r#"{"access_token":"a2","token_type":"mac"}"#));
        assert!(
            matches!(outcome, Err(TokenError::UnexpectedResponse { .. })),
            "{outcome:?}"
        );
        let (_, outcome) = run(json(400, r#"{"error":"invalid_grant"}"#));
        assert!(
            matches!(&outcome, Err(TokenError::Refused { status: 400, error, .. }) if error == "invalid_grant"),
            "{outcome:?}"
        );
    }

    #[test]
    fn token_requests_carry_the_grant_and_the_public_client_id() {
        let public = token_request(
            "https://aim/connect/token",
            &ClientId::new("mes-portal"),
            &[("grant_type", "refresh_token")],
        )
        .expect("r");
        assert_eq!(public.method(), crate::transport::Method::Post);
        assert_eq!(
            public.headers().get("content-type"),
            Some("application/x-www-form-urlencoded")
        );
        assert!(public.headers().get("authorization").is_none());
        assert_eq!(public.body(), b"grant_type=refresh_token&client_id=mes-portal");
        assert!(matches!(
            token_request("not a url", &ClientId::new("x"), &[]),
            Err(TokenError::Configuration(_))
        ));
    }

    #[test]
    fn token_answers_are_read_strictly() {
        let answer = |status: u16, body: &str| HttpResponse::new(status, body);
        let ok = parse_token_response(
            &answer(
                200,
                r#"{"access_token":"a","token_type":"bearer","expires_in":300,"refresh_token":"r","id_token":"i","scope":"openid mes"}"#,
            ),
            1000,
        )
        .expect("tokens");
        assert_eq!(
            (ok.access_token.expose(), ok.expires_at, ok.scopes.len()),
            ("a", Some(1300), 2)
        );
        assert_eq!(ok.refresh_token.as_ref().map(Secret::expose), Some("r"));
        assert_eq!(ok.id_token.as_ref().map(Secret::expose), Some("i"));
        let minimal = parse_token_response(&answer(200, r#"{"access_token":"a","token_type":"Bearer"}"#), 5)
            .expect("minimal");
        assert!(
            minimal.refresh_token.is_none() && minimal.id_token.is_none() && minimal.expires_at.is_none()
        );
        assert_eq!(
            parse_token_response(&answer(200, r#"{"access_token":"a","token_type":"mac"}"#), 0).err(),
            Some(TokenError::UnexpectedResponse {
                status: 200,
                reason: "token type \"mac\" instead of Bearer".into()
            })
        );
        assert_eq!(
            parse_token_response(
                &answer(
                    400,
                    r#"{"error":"invalid_grant","error_description":"used\u0007"}"#
                ),
                0
            )
            .err(),
            Some(TokenError::Refused {
                status: 400,
                error: "invalid_grant".into(),
                description: Some("used".into()),
                retry_after: None,
            })
        );
        assert!(matches!(
            parse_token_response(&answer(502, "<html>proxy</html>"), 0),
            Err(TokenError::NotOAuth { status: 502, ref what, retry_after: None }) if what == "not an OAuth answer (no content type)"
        ));
        let huge = format!(
            r#"{{"access_token":"a","token_type":"Bearer","expires_in":{}}}"#,
            u64::MAX
        );
        assert_eq!(
            parse_token_response(&answer(200, &huge), 5)
                .expect("saturates")
                .expires_at,
            Some(u64::MAX)
        );
    }

    /// A token answer as a provider might send it, with `extra` members after the two required.
    fn token_answer(extra: &str) -> Result<TokenSet, TokenError> {
        parse_token_response(
            &HttpResponse::new(
                200,
                format!(r#"{{"access_token":"a.b.c","token_type":"Bearer"{extra}}}"#),
            ),
            1000,
        )
    }

    #[test]
    fn rule_scope_informs_so_empty_or_odd_is_no_scope() {
        // A certified provider answers `"scope": ""` when no API scope was granted to the client.
        assert_eq!(
            token_answer(r#","scope":"""#).expect("empty").scopes,
            Vec::<String>::new()
        );
        assert_eq!(
            token_answer(r#","scope":"  ""#).expect("blank").scopes,
            Vec::<String>::new()
        );
        assert_eq!(
            token_answer(r#","scope":null"#).expect("null").scopes,
            Vec::<String>::new()
        );
        assert_eq!(
            token_answer(r#","scope":7"#).expect("number").scopes,
            Vec::<String>::new()
        );
        assert_eq!(
            token_answer(r#","scope":["openid","mes system"]"#)
                .expect("list")
                .scopes,
            ["openid", "mes", "system"]
        );
        assert_eq!(
            token_answer(r#","scope":"openid\tmes""#).expect("tab").scopes,
            ["openid", "mes"]
        );
    }

    #[test]
    fn rule_unknown_members_are_ignored() {
        let tokens = token_answer(
            r#","session_state":"x","not-before-policy":0,"ext":{"a":[1]},"refresh_expires_in":1800"#,
        )
        .expect("unknown members");
        assert_eq!(tokens.access_token.expose(), "a.b.c");
    }

    #[test]
    fn rule_a_byte_order_mark_is_skipped() {
        let body = "\u{feff}{\"access_token\":\"a\",\"token_type\":\"Bearer\"}";
        let tokens = parse_token_response(&HttpResponse::new(200, body), 0).expect("BOM");
        assert_eq!(tokens.access_token.expose(), "a");
    }

    #[test]
    fn rule_expires_in_informs_so_missing_or_odd_is_not_said() {
        assert_eq!(token_answer("").expect("missing").expires_at, None);
        assert_eq!(
            token_answer(r#","expires_in":300"#).expect("n").expires_at,
            Some(1300)
        );
        assert_eq!(
            token_answer(r#","expires_in":"300""#).expect("text").expires_at,
            Some(1300)
        );
        assert_eq!(
            token_answer(r#","expires_in":299.9"#)
                .expect("fraction")
                .expires_at,
            Some(1299)
        );
        for odd in [
            r#","expires_in":-5"#,
            r#","expires_in":"soon""#,
            r#","expires_in":[300]"#,
            r#","expires_in":null"#,
        ] {
            assert_eq!(token_answer(odd).expect(odd).expires_at, None, "{odd}");
        }
    }

    #[test]
    fn rule_an_empty_or_odd_refresh_or_id_token_is_not_issued() {
        for odd in [r#""""#, "null", "7", "{}"] {
            let tokens = token_answer(&format!(r#","refresh_token":{odd},"id_token":{odd}"#)).expect(odd);
            assert!(
                tokens.refresh_token.is_none() && tokens.id_token.is_none(),
                "{odd}"
            );
        }
    }

    #[test]
    fn rule_access_token_and_bearer_type_protect_so_they_are_exact() {
        let refused = |body: &str| parse_token_response(&HttpResponse::new(200, body), 0).err();
        for (body, reason) in [
            (r#"{"token_type":"Bearer"}"#, "\"access_token\" is missing"),
            (
                r#"{"access_token":"","token_type":"Bearer"}"#,
                "\"access_token\" is empty",
            ),
            (
                r#"{"access_token":7,"token_type":"Bearer"}"#,
                "\"access_token\" is not a string",
            ),
            (r#"{"access_token":"a"}"#, "\"token_type\" is missing"),
            (
                r#"{"access_token":"a","token_type":"DPoP"}"#,
                "token type \"DPoP\" instead of Bearer",
            ),
            (
                r#"{"access_token":"a","token_type":"Bearer2"}"#,
                "token type \"Bearer2\" instead of Bearer",
            ),
        ] {
            assert_eq!(
                refused(body),
                Some(TokenError::UnexpectedResponse {
                    status: 200,
                    reason: reason.into()
                }),
                "{body}"
            );
        }
        assert!(token_answer("").is_ok(), "Bearer");
        assert!(
            parse_token_response(
                &HttpResponse::new(200, r#"{"access_token":"a","token_type":"bEaReR"}"#),
                0
            )
            .is_ok(),
            "the type is case-insensitive (RFC 6749 §5.1)"
        );
    }

    #[test]
    fn a_broken_token_answer_names_the_field_never_its_bytes() {
        let answer = |body: &str| HttpResponse::new(200, body);
        let secret = "eyJhbGciOiJSUzI1NiJ9.c2VjcmV0LXRva2VuLXBheWxvYWQ.c2ln";
        let cases = [
            (
                format!(r#"{{"access_token":{{"value":"{secret}"}},"token_type":"Bearer"}}"#),
                "\"access_token\" is not a string",
            ),
            (
                format!(r#"{{"access_token":"{secret}","token_type":"DPoP"}}"#),
                "token type \"DPoP\" instead of Bearer",
            ),
            (
                format!(r#"{{"access_token":"{secret}"}}"#),
                "\"token_type\" is missing",
            ),
            (
                format!(r#"{{"token_type":"Bearer","id_token":"{secret}"}}"#),
                "\"access_token\" is missing",
            ),
            (
                r#"{"access_token":"","token_type":"Bearer"}"#.to_owned(),
                "\"access_token\" is empty",
            ),
            (
                format!(r#"{{"access_token":"{secret}","token_type":"Bearer""#),
                "not a JSON token object",
            ),
            (
                format!(r#"access_token={secret}&token_type=bearer"#),
                "not a JSON token object",
            ),
            (format!(r#"["{secret}"]"#), "not a JSON token object"),
        ];
        for (body, says) in cases {
            let err = parse_token_response(&answer(&body), 0).expect_err(&body);
            let text = format!("{err} {err:?}");
            assert!(text.contains(says), "{body}: {text}");
            assert!(
                !text.contains("c2VjcmV0"),
                "the token leaked into the error: {text}"
            );
        }
        let html = |status: u16| {
            HttpResponse::new(status, format!("<pre>{secret}</pre>"))
                .with_header("content-type", "text/html; charset=utf-8")
        };
        let err = refusal(&html(500), 0);
        assert_eq!(
            err,
            TokenError::NotOAuth {
                status: 500,
                what: "not an OAuth answer (text/html)".into(),
                retry_after: None,
            }
        );
        assert!(err.is_outage());
        assert_eq!(
            parse_token_response(&html(200), 0).err(),
            Some(TokenError::NotOAuth {
                status: 200,
                what: "not a JSON token object (text/html)".into(),
                retry_after: None,
            })
        );
    }

    #[test]
    fn outages_are_told_from_refusals() {
        let refused = |status: u16, error: &str| TokenError::Refused {
            status,
            error: error.into(),
            description: None,
            retry_after: Some(30),
        };
        assert_eq!(
            refused(429, "slow_down").retry_after(),
            Some(30),
            "an outage keeps its wait"
        );
        assert_eq!(
            refused(400, "invalid_grant").retry_after(),
            None,
            "a refusal has no later"
        );
        assert!(!refused(400, "invalid_grant").is_outage());
        assert!(!refused(401, "invalid_client").is_outage());
        assert!(refused(503, "temporarily_unavailable").is_outage());
        assert!(refused(400, "temporarily_unavailable").is_outage());
        assert!(refused(400, "server_error").is_outage());
        assert!(refused(500, "invalid_grant").is_outage());
        assert!(
            TokenError::UnexpectedResponse {
                status: 502,
                reason: String::new()
            }
            .is_outage()
        );
        assert!(
            !TokenError::UnexpectedResponse {
                status: 200,
                reason: String::new()
            }
            .is_outage()
        );
        assert!(
            !TokenError::UnexpectedResponse {
                status: 499,
                reason: String::new()
            }
            .is_outage()
        );
        assert!(
            TokenError::Unreachable(TransportError::new("https://aim/connect/token", "refused")).is_outage()
        );
        assert!(
            !TokenError::Unreachable(TransportError::redirected("https://aim/connect/token")).is_outage()
        );
        assert!(!TokenError::Configuration(String::new()).is_outage());
    }

    /// RFC 6749 §5.2: a refusal is a JSON `error`. What a proxy, firewall or load balancer says
    /// in its place — and an authority saying it is busy — is an outage that keeps the session.
    #[test]
    fn rule_only_an_oauth_error_refuses_and_nothing_in_between_ends_a_session() {
        let outage = |status: u16, body: &str, kind: &str| {
            let answer = HttpResponse::new(status, body).with_header("content-type", kind);
            let err = parse_token_response(&answer, 0).expect_err(body);
            assert!(err.is_outage(), "{status} {body}: {err:?} should be an outage");
        };
        outage(200, "<html>Sign in to the guest network</html>", "text/html");
        outage(403, "<html>Request blocked by the firewall</html>", "text/html");
        outage(403, r#"{"message":"Forbidden"}"#, "application/json");
        outage(404, "Not Found", "text/plain");
        outage(502, "", "");
        outage(408, r#"{"error":"invalid_request"}"#, "application/json");
        outage(425, r#"{"error":"invalid_request"}"#, "application/json");
        outage(429, r#"{"error":"slow_down"}"#, "application/json");
        outage(429, "Too Many Requests", "text/plain");
        outage(400, r#"{"error":"temporarily_unavailable"}"#, "application/json");
        let refusal = |status: u16, body: &str| {
            let answer = HttpResponse::new(status, body).with_header("content-type", "application/json");
            let err = parse_token_response(&answer, 0).expect_err(body);
            assert!(!err.is_outage(), "{status} {body}: {err:?} should be a refusal");
        };
        refusal(400, r#"{"error":"invalid_grant"}"#);
        refusal(401, r#"{"error":"invalid_client"}"#);
        refusal(403, r#"{"error":"unauthorized_client","error_description":"no"}"#);
        // The authority's own JSON with an unusable token: not retried as if nothing came.
        refusal(200, r#"{"access_token":"a","token_type":"DPoP"}"#);
        refusal(200, r#"["a"]"#);
    }

    #[test]
    fn an_authorization_redirect_shows_no_state_nonce_or_verifier_in_debug() {
        let redirect = SignInClient::new(&client())
            .authorize(&metadata(true))
            .url()
            .expect("redirect");
        let shown = format!("{redirect:?} {redirect:#?}");
        for secret in [
            redirect.pending.state.secret(),
            redirect.pending.nonce.secret(),
            redirect.pending.verifier.secret(),
        ] {
            assert!(!shown.contains(secret), "{shown}");
        }
        assert!(shown.contains("/authorize?…"), "{shown}");
    }

    #[test]
    fn state_and_nonce_are_fresh_each_time() {
        let (client, metadata) = (client(), metadata(true));
        let a = SignInClient::new(&client)
            .authorize(&metadata)
            .url()
            .expect("a")
            .pending;
        let b = SignInClient::new(&client)
            .authorize(&metadata)
            .url()
            .expect("b")
            .pending;
        assert_ne!(a.state, b.state);
        assert_ne!(a.nonce, b.nonce);
        assert_ne!(a.verifier, b.verifier);
    }

    #[test]
    fn end_session_is_a_form_with_the_hint_in_its_body() {
        let mut meta = metadata(true);
        assert_eq!(end_session_request(&meta, &client(), None), None);
        meta.end_session_endpoint =
            Some("https://sms.plant.example/identitymanager/connect/endsession".into());
        let mut settings = client();
        settings.post_logout_redirect_uri = Some("https://portal.plant.example/signed-out".into());
        let form = end_session_request(&meta, &settings, Some(&Secret::new("a.b.c"))).expect("form");
        assert_eq!(
            form.action, "https://sms.plant.example/identitymanager/connect/endsession",
            "no query: the hint is in the body"
        );
        assert_eq!(
            form.fields,
            [
                ("id_token_hint", "a.b.c".to_owned()),
                ("client_id", "mes-portal".to_owned()),
                (
                    "post_logout_redirect_uri",
                    "https://portal.plant.example/signed-out".to_owned()
                )
            ]
        );
        assert_eq!(form.method, EndSessionMethod::Post);
        assert_eq!(form.get_url(), None, "a POST has no address to open");
        let shown = format!("{form:?}");
        assert!(!shown.contains("a.b.c"), "Debug leaves the hint out");
        assert!(
            shown.contains("connect/endsession") && shown.contains("id_token_hint"),
            "but names the fields: {shown}"
        );
    }

    #[test]
    fn a_get_end_session_is_an_address_without_the_id_token() {
        let mut meta = metadata(true);
        meta.end_session_endpoint = Some("https://op.plant.example/session/end?ui=1".into());
        let mut settings = client();
        settings.end_session_method = EndSessionMethod::Get;
        settings.post_logout_redirect_uri = Some("https://portal.plant.example/signed-out".into());
        let request =
            end_session_request(&meta, &settings, Some(&Secret::new("id.token.value"))).expect("request");
        assert_eq!(request.method, EndSessionMethod::Get);
        let url = request.get_url().expect("an address");
        assert_eq!(
            url,
            "https://op.plant.example/session/end?ui=1&client_id=mes-portal&post_logout_redirect_uri=https%3A%2F%2Fportal.plant.example%2Fsigned-out"
        );
        assert!(
            !url.contains("id.token") && !url.contains("id_token_hint"),
            "never the ID token in a URL"
        );
    }

    #[test]
    fn callback_debug_leaves_the_code_out() {
        let params = CallbackParams::from_query("code=SplxlOBeZQQYbYS6WxSbIA&state=s1");
        let shown = format!("{params:?}");
        assert!(
            !shown.contains("SplxlOBeZQQYbYS6WxSbIA") && shown.contains("[redacted]") && shown.contains("s1"),
            "{shown}"
        );
        let code = format!("{:?}", AuthorizationCode::new("SplxlOBeZQQYbYS6WxSbIA".into()));
        assert_eq!(code, "AuthorizationCode([redacted])");
    }

    #[test]
    fn revocation_request_bytes() {
        let request = revocation_request(
            "https://aim/connect/revocation",
            &ClientId::new("mes-portal"),
            &Secret::new("r t+1"),
        );
        assert_eq!(request.method(), crate::transport::Method::Post);
        assert_eq!(request.url(), "https://aim/connect/revocation");
        assert_eq!(
            request.headers().get("content-type"),
            Some("application/x-www-form-urlencoded")
        );
        assert_eq!(
            request.body(),
            b"token=r+t%2B1&token_type_hint=refresh_token&client_id=mes-portal"
        );
        // A malformed endpoint must not turn into a POST of the token to this page's origin.
        let bad = revocation_request(
            "https://aim/connect/revocation with spaces",
            &ClientId::new("mes-portal"),
            &Secret::new("r"),
        );
        assert_eq!(bad.url(), "http://invalid.invalid/");
        assert!(bad.body().is_empty());
    }

    #[test]
    fn return_path_stays_on_this_origin() {
        for bad in [
            "https://evil.example/",
            "//evil.example/x",
            "/\\evil.example",
            "javascript:alert(1)",
            "",
            "/a\nb",
        ] {
            assert_eq!(same_origin_path(bad), "/", "{bad:?}");
        }
        assert_eq!(
            same_origin_path("/lookups?sort=ent_name"),
            "/lookups?sort=ent_name"
        );
    }

    #[test]
    fn callback_checks() {
        let meta = metadata(true);
        let iss = "iss=https%3A%2F%2Fsms.plant.example%2Fidentitymanager";
        let ok = CallbackParams::from_query(&format!("?code=c1&state=s1&{iss}"));
        assert!(ok.is_authorization_response());
        assert_eq!(
            check_callback(&ok, Some(&pending()), &meta).expect("ok").secret(),
            "c1"
        );
        assert_eq!(
            check_callback(&ok, None, &meta).err(),
            Some(SignInError::NoPendingSignIn)
        );
        let wrong_state = CallbackParams::from_query(&format!("code=c1&state=s2&{iss}"));
        assert_eq!(
            check_callback(&wrong_state, Some(&pending()), &meta).err(),
            Some(SignInError::StateMismatch)
        );
        let no_state = CallbackParams::from_query(&format!("code=c1&{iss}"));
        assert_eq!(
            check_callback(&no_state, Some(&pending()), &meta).err(),
            Some(SignInError::StateMismatch)
        );
        let doubled = CallbackParams::from_query(&format!("code=c1&state=s1&state=s1&{iss}"));
        assert_eq!(
            check_callback(&doubled, Some(&pending()), &meta).err(),
            Some(SignInError::StateMismatch)
        );
        let wrong_iss = CallbackParams::from_query("code=c1&state=s1&iss=https%3A%2F%2Fevil.example");
        assert!(matches!(
            check_callback(&wrong_iss, Some(&pending()), &meta),
            Err(SignInError::IssuerMismatch { .. })
        ));
        let no_iss = CallbackParams::from_query("code=c1&state=s1");
        assert_eq!(
            check_callback(&no_iss, Some(&pending()), &meta).err(),
            Some(SignInError::IssuerMissing)
        );
        assert!(
            check_callback(&no_iss, Some(&pending()), &metadata(false)).is_ok(),
            "iss optional when not advertised"
        );
        let denied = CallbackParams::from_query(&format!(
            "error=access_denied&error_description=User+cancelled&state=s1&{iss}"
        ));
        assert_eq!(
            check_callback(&denied, Some(&pending()), &meta).err(),
            Some(SignInError::Refused {
                error: "access_denied".into(),
                description: Some("User cancelled".into())
            })
        );
        let no_code = CallbackParams::from_query(&format!("state=s1&{iss}"));
        assert!(!no_code.is_authorization_response());
        assert_eq!(
            check_callback(&no_code, Some(&pending()), &meta).err(),
            Some(SignInError::MissingCode)
        );
    }
}
