//! Authorization code + PKCE (S256) sign-in: the authorize redirect, the callback checks
//! (state, RFC 9207 `iss`, `error=`) and the sign-out request. State, nonce and verifier come
//! from the platform's randomness; oauth2-rs computes the PKCE challenge. The token requests
//! that follow are `token.rs`'s.

use crate::Secret;
use crate::absolute_url::AbsoluteUrl;
use crate::config::{ClientSettings, EndSessionMethod};
use crate::discovery::ProviderMetadata;
use crate::secret::round_trip_value;
use crate::transport::printable;
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
    let verifier = oauth2::PkceCodeVerifier::new(verifier.to_owned());
    oauth2::PkceCodeChallenge::from_code_verifier_sha256(&verifier)
        .as_str()
        .to_owned()
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
    /// `post_logout_redirect_uri`, and `state` when the caller has one.
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
/// names the portal, the post-logout URI must be registered, and `state` — what the authority
/// hands back to that URI unchanged (a shared terminal's station name) — goes along when given.
/// `None` when the authority offers no end-session endpoint (then only a local sign-out is
/// possible, and the person must be told the authority's session may go on).
pub fn end_session_request(
    metadata: &ProviderMetadata,
    client: &ClientSettings,
    id_token: Option<&Secret>,
    state: Option<&str>,
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
    if let Some(state) = state {
        fields.push(("state", state.to_owned()));
    }
    Some(EndSession {
        action,
        method,
        fields,
    })
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
        assert_eq!(end_session_request(&meta, &client(), None, None), None);
        meta.end_session_endpoint =
            Some("https://sms.plant.example/identitymanager/connect/endsession".into());
        let mut settings = client();
        settings.post_logout_redirect_uri = Some("https://portal.plant.example/signed-out".into());
        let form = end_session_request(&meta, &settings, Some(&Secret::new("a.b.c")), None).expect("form");
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
        let request = end_session_request(&meta, &settings, Some(&Secret::new("id.token.value")), None)
            .expect("request");
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

    /// A shared terminal's station rides along as `state`, which the authority hands back to the
    /// post-logout URI, by POST and by GET alike.
    #[test]
    fn end_session_carries_a_state_when_given() {
        let mut meta = metadata(true);
        meta.end_session_endpoint = Some("https://op.plant.example/session/end".into());
        let mut settings = client();
        settings.post_logout_redirect_uri = Some("https://portal.plant.example/signed-out".into());
        let form = end_session_request(&meta, &settings, None, Some("PACK-1")).expect("form");
        assert_eq!(form.fields.last(), Some(&("state", "PACK-1".to_owned())));
        settings.end_session_method = EndSessionMethod::Get;
        let url = end_session_request(&meta, &settings, None, Some("PACK-1"))
            .and_then(|r| r.get_url())
            .expect("an address");
        assert!(url.ends_with("&state=PACK-1"), "{url}");
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
