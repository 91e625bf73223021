//! The AVEVA Identity Manager stand-in: an OpenID Connect authority under `/identitymanager`.
//!
//! Discovery, JWKS, `connect/authorize` (login form, SSO cookie, `prompt=none`, RFC 9207 `iss`),
//! `connect/token` (authorization_code with PKCE S256 only, refresh_token with rotation and
//! family revocation on reuse, client_credentials with hashed secrets), `connect/endsession`,
//! `connect/revocation`. CORS only for origins registered with a client.

use crate::hostile::{self, Tamper};
use crate::keys::SigningKey;
use crate::store::{self, RegisteredClient};
use crate::util::{
    OAuthError, html_escape, now, origin_of, parse_form, random_token, sha256_b64url, verify_secret,
};
use axum::body::Bytes;
use axum::extract::{Query, RawQuery, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use rusqlite::Connection;
use serde_json::json;
use std::collections::{HashMap, HashSet};
use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use tower_http::cors::{AllowOrigin, CorsLayer};

/// Where AIM lives under its origin, as on a real System Management Server.
pub const BASE_PATH: &str = "/identitymanager";
/// The SSO cookie's name.
pub const SSO_COOKIE: &str = "aim.sso";
/// The login form's CSRF cookie (double submit: the form carries the same value).
pub const CSRF_COOKIE: &str = "aim.csrf";
const CODE_LIFETIME: u64 = 60;

/// How the AIM stand-in is set up.
#[derive(Debug, Clone)]
pub struct AimOptions {
    /// `http://127.0.0.1:<port>/identitymanager`.
    pub issuer: String,
    /// Where the key and the store live.
    pub data_dir: PathBuf,
    /// `aud` of access tokens. Token lifetimes belong to each registered client.
    pub audience: String,
    /// Test-only: allow [`AimState::set_tamper`] ([`crate::hostile::Tamper`]).
    pub hostile: bool,
    /// How long a refresh token (and so a portal session without a new sign-in) lasts, seconds.
    pub refresh_token_lifetime: u64,
    /// How long AIM's own sign-in (the SSO cookie's session) lasts, seconds.
    pub session_lifetime: u64,
    /// Whether discovery names an end-session endpoint (some providers offer none).
    pub end_session: bool,
    /// Whether ending the SSO session also revokes the refresh tokens issued in it (IdentityServer's
    /// `CoordinateLifetimeWithUserSession`): a sign-out then reaches every client of that
    /// session, including grids framed by other sites, at their next refresh.
    pub refresh_tokens_end_with_session: bool,
    /// Whether the end-session endpoint takes POST as well as GET. A certified provider's
    /// default takes only GET there (POST is not found), as the real one may be set up.
    pub end_session_post: bool,
    /// Whether its pages say `Cross-Origin-Opener-Policy: same-origin`, as an authority (or the
    /// proxy before it) hardened against cross-window attacks may: a sign-in popup then loses its
    /// opener when AIM's page loads. IdentityServer sends no such header by default, nor does
    /// the certified provider the tests run; off unless asked for.
    pub opener_policy: bool,
    /// Whether token answers say how long the refresh token has left (`refresh_expires_in`, as
    /// Keycloak sends it; IdentityServer and the certified provider say nothing of it).
    pub tells_refresh_lifetime: bool,
}

/// Requests counted per kind, for tests and benchmarks.
#[derive(Debug, Default)]
pub struct Counters {
    /// GET discovery.
    pub discovery: AtomicUsize,
    /// GET JWKS.
    pub jwks: AtomicUsize,
    /// GET or POST authorize.
    pub authorize: AtomicUsize,
    /// Token requests with grant_type=authorization_code.
    pub code_exchanges: AtomicUsize,
    /// Token requests with grant_type=refresh_token.
    pub refreshes: AtomicUsize,
    /// Token requests with grant_type=client_credentials.
    pub client_credentials: AtomicUsize,
    /// Refresh tokens presented a second time (the whole family is revoked then).
    pub refresh_reuse: AtomicUsize,
    /// Refresh tokens revoked by their client (RFC 7009).
    pub revocations: AtomicUsize,
}

struct CodeGrant {
    client_id: String,
    redirect_uri: String,
    challenge: String,
    user: store::User,
    nonce: Option<String>,
    scope: String,
    expires: u64,
    auth_time: u64,
    /// The SSO session the person signed in with.
    session: String,
}

struct RefreshGrant {
    family: String,
    client_id: String,
    user: store::User,
    scope: String,
    spent: bool,
    expires: u64,
    auth_time: u64,
}

#[derive(Default)]
struct Memory {
    sessions: HashMap<String, (store::User, u64)>,
    codes: HashMap<String, CodeGrant>,
    /// Codes already exchanged, with the refresh-token family each one started.
    spent_codes: HashMap<String, String>,
    refresh: HashMap<String, RefreshGrant>,
    revoked_families: HashSet<String>,
    /// The refresh-token families started in each SSO session (ended with it, when so set up).
    session_families: HashMap<String, Vec<String>>,
    issued: Vec<String>,
    tamper: Option<Tamper>,
    /// Test-only: how long the token endpoint waits before it answers a code exchange.
    exchange_delay: std::time::Duration,
    last_callback: Option<String>,
    requests: Vec<String>,
}

/// The signing key in use and, after a rotation, the one before it (still published, so tokens
/// it signed verify until they expire — as a real authority rolls its keys over).
struct Keys {
    current: Arc<SigningKey>,
    previous: Option<Arc<SigningKey>>,
}

impl Keys {
    /// The keys a token of this authority may be signed with, newest first.
    fn published(&self) -> impl Iterator<Item = &Arc<SigningKey>> {
        std::iter::once(&self.current).chain(self.previous.as_ref())
    }
}

/// The running authority's state.
pub struct AimState {
    /// Its options.
    pub options: AimOptions,
    keys: Mutex<Keys>,
    db: Mutex<Connection>,
    clients: Vec<RegisteredClient>,
    memory: Mutex<Memory>,
    /// Request counters.
    pub counters: Counters,
}

impl AimState {
    /// Whether the world reaches it over TLS (its issuer is `https`).
    fn on_https(&self) -> bool {
        self.options.issuer.starts_with("https://")
    }

    /// The SSO cookie's attributes. Over TLS, those IdentityServer (AIM's family) gives its
    /// authentication cookie: `Secure; SameSite=None`, so a relying party on another site reaches
    /// the session with a cross-site POST to end session or a framed silent request. Over plain
    /// http (loopback only) a browser refuses `SameSite=None` without `Secure`: `Lax` there.
    fn sso_cookie_attributes(&self) -> &'static str {
        if self.on_https() {
            "HttpOnly; Secure; SameSite=None"
        } else {
            "HttpOnly; SameSite=Lax"
        }
    }

    /// Opens the store and the key in `options.data_dir`.
    pub fn open(options: AimOptions) -> std::io::Result<Self> {
        let key = Arc::new(SigningKey::load_or_create(
            &options.data_dir.join("aim-signing-key.pem"),
        )?);
        let db = store::open(&options.data_dir.join("aim.sqlite")).map_err(std::io::Error::other)?;
        let clients = store::clients(&db).map_err(std::io::Error::other)?;
        let keys = Mutex::new(Keys {
            current: key,
            previous: None,
        });
        Ok(Self {
            options,
            keys,
            db: Mutex::new(db),
            clients,
            memory: Mutex::new(Memory::default()),
            counters: Counters::default(),
        })
    }

    /// Rolls the signing key over at run time: a new key signs from now on, the old one stays
    /// in the JWKS beside it (clients and the MES must find the new `kid` by refetching).
    /// The new key lives in memory only; a restart of the process goes back to the one on disk.
    pub fn rotate_key(&self) -> std::io::Result<String> {
        let private = rsa::RsaPrivateKey::new(&mut rand::rngs::OsRng, 2048).map_err(std::io::Error::other)?;
        let fresh = Arc::new(SigningKey::from_private(&private)?);
        let kid = fresh.kid.clone();
        let mut keys = self.keys.lock().unwrap_or_else(|e| e.into_inner());
        keys.previous = Some(std::mem::replace(&mut keys.current, fresh));
        tracing::info!(%kid, "signing key rotated");
        Ok(kid)
    }

    fn key(&self) -> Arc<SigningKey> {
        self.keys
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .current
            .clone()
    }

    /// Test-only: tamper with every sign-in answer from now on (`None` stops). Refused unless
    /// the authority was started in hostile mode.
    pub fn set_tamper(&self, tamper: Option<Tamper>) -> Result<(), &'static str> {
        if !self.options.hostile {
            return Err("this authority was not started in hostile mode");
        }
        self.memory().tamper = tamper;
        Ok(())
    }

    /// Test-only: the token endpoint waits `delay` before answering each code exchange (a slow
    /// authority, so a test can see the page while the exchange is under way).
    pub fn set_exchange_delay(&self, delay: std::time::Duration) {
        self.memory().exchange_delay = delay;
    }

    fn tamper(&self) -> Option<Tamper> {
        self.memory().tamper
    }

    /// `browser|server METHOD path?query` of every request so far (the first 10,000), oldest first;
    /// `browser` when the User-Agent is a browser's (the MES's own key fetches are `server`).
    pub fn request_log(&self) -> Vec<String> {
        self.memory().requests.clone()
    }

    /// The last redirect back to a client with a code (tests replay it).
    pub fn last_callback(&self) -> Option<String> {
        self.memory().last_callback.clone()
    }

    /// How many sign-in (SSO) sessions are open: tests see a sign-out end one.
    pub fn open_sessions(&self) -> usize {
        self.memory().sessions.len()
    }

    /// Every token this authority issued (access, refresh, ID): tests check none leaks.
    pub fn issued_tokens(&self) -> Vec<String> {
        self.memory().issued.clone()
    }

    fn memory(&self) -> std::sync::MutexGuard<'_, Memory> {
        self.memory.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn client(&self, id: &str) -> Option<&RegisteredClient> {
        self.clients.iter().find(|c| c.client_id == id)
    }

    fn find_user(&self, username: &str) -> Option<store::User> {
        let db = self.db.lock().unwrap_or_else(|e| e.into_inner());
        store::find_user(&db, username).ok().flatten()
    }

    fn sign(&self, typ: &str, claims: &serde_json::Value) -> String {
        let key = self.key();
        let mut header = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::RS256);
        header.kid = Some(key.kid.clone());
        header.typ = Some(typ.to_owned());
        let token = jsonwebtoken::encode(&header, claims, &key.encoding).unwrap_or_default();
        self.memory().issued.push(token.clone());
        token
    }
}

/// The router, mounted under [`BASE_PATH`].
pub fn app(state: Arc<AimState>) -> Router {
    let origins: HashSet<String> = state
        .clients
        .iter()
        .flat_map(|c| c.allowed_origins.iter().cloned())
        .collect();
    let cors = CorsLayer::new()
        .allow_origin(AllowOrigin::predicate(move |origin: &HeaderValue, _| {
            origin.to_str().is_ok_and(|o| origins.contains(o))
        }))
        .allow_methods([Method::GET, Method::POST])
        .allow_headers([header::CONTENT_TYPE, header::AUTHORIZATION]);
    let routes = Router::new()
        .route("/.well-known/openid-configuration", get(discovery))
        .route("/.well-known/openid-configuration/jwks", get(jwks))
        .route("/connect/authorize", get(authorize).post(login))
        .route("/connect/token", post(token))
        .route("/connect/endsession", get(end_session).post(end_session_form))
        .route("/connect/endsession/confirm", post(end_session_confirmed))
        .route("/connect/revocation", post(revocation))
        .layer(cors)
        .with_state(state.clone());
    let counted = state.clone();
    let opener_policy = state.options.opener_policy;
    Router::new()
        .nest(BASE_PATH, routes)
        .layer(axum::middleware::map_response(
            move |mut response: Response| async move {
                if opener_policy {
                    response.headers_mut().insert(
                        axum::http::HeaderName::from_static("cross-origin-opener-policy"),
                        HeaderValue::from_static("same-origin"),
                    );
                }
                response
            },
        ))
        .layer(axum::middleware::from_fn(
            move |request: axum::extract::Request, next: axum::middleware::Next| {
                let mut memory = counted.memory();
                if memory.requests.len() < 10_000 {
                    let browser = request
                        .headers()
                        .get(header::USER_AGENT)
                        .and_then(|v| v.to_str().ok())
                        .is_some_and(|ua| ua.contains("Mozilla"));
                    // The query too: tests assert that no token ever travels in a URL.
                    let target = request
                        .uri()
                        .path_and_query()
                        .map(|p| p.as_str())
                        .unwrap_or_else(|| request.uri().path());
                    memory.requests.push(format!(
                        "{} {} {target}",
                        if browser { "browser" } else { "server" },
                        request.method()
                    ));
                }
                drop(memory);
                next.run(request)
            },
        ))
}

async fn discovery(State(s): State<Arc<AimState>>) -> Response {
    s.counters.discovery.fetch_add(1, Ordering::Relaxed);
    let i = &s.options.issuer;
    let named = hostile::discovery_issuer(s.tamper(), i);
    let mut document = json!({
        "issuer": named,
        "authorization_endpoint": format!("{i}/connect/authorize"),
        "token_endpoint": format!("{i}/connect/token"),
        "jwks_uri": format!("{i}/.well-known/openid-configuration/jwks"),
        "revocation_endpoint": format!("{i}/connect/revocation"),
        "scopes_supported": ["openid", "profile", "email", "offline_access", s.options.audience, "system"],
        "response_types_supported": ["code"],
        "response_modes_supported": ["query"],
        "grant_types_supported": ["authorization_code", "refresh_token", "client_credentials"],
        "subject_types_supported": ["public"],
        "id_token_signing_alg_values_supported": ["RS256"],
        "code_challenge_methods_supported": ["S256"],
        "token_endpoint_auth_methods_supported": ["none", "client_secret_post", "client_secret_basic"],
        "authorization_response_iss_parameter_supported": true,
        "claims_supported": ["sub", "name", "preferred_username", "nonce", "auth_time"],
    });
    if s.options.end_session {
        document["end_session_endpoint"] = json!(format!("{i}/connect/endsession"));
    }
    Json(document).into_response()
}

async fn jwks(State(s): State<Arc<AimState>>) -> Response {
    s.counters.jwks.fetch_add(1, Ordering::Relaxed);
    let keys = s.keys.lock().unwrap_or_else(|e| e.into_inner());
    let published: Vec<serde_json::Value> = keys.published().map(|k| k.jwk()).collect();
    Json(json!({ "keys": published })).into_response()
}

/// An authorize request after the checks that decide whether redirecting back is safe.
struct AuthorizeRequest {
    client_id: String,
    redirect_uri: String,
    state: Option<String>,
    nonce: Option<String>,
    scope: String,
    challenge: String,
    prompt: Option<String>,
}

impl AuthorizeRequest {
    /// Back to the client with `pairs`, then its `state` and this authority's `iss`.
    fn redirect(&self, issuer: &str, pairs: &[(&str, &str)]) -> Response {
        let state = self.state.as_deref().map(|state| ("state", state));
        let pairs: Vec<(&str, &str)> = pairs
            .iter()
            .copied()
            .chain(state)
            .chain([("iss", issuer)])
            .collect();
        self.redirect_exactly(&pairs)
    }

    /// Back to the client with exactly `pairs` (the hostile mode leaves some out or forges them).
    fn redirect_exactly(&self, pairs: &[(&str, &str)]) -> Response {
        let mut query = form_urlencoded::Serializer::new(String::new());
        query.extend_pairs(pairs);
        let sep = if self.redirect_uri.contains('?') { '&' } else { '?' };
        Redirect::to(&format!("{}{sep}{}", self.redirect_uri, query.finish())).into_response()
    }
}

/// Checks an authorize request. `Err` is the answer to send: an error page when the client or
/// redirect URI is wrong (never redirect to an unregistered address), else a redirect with `error`.
fn check_authorize(s: &AimState, p: &HashMap<String, String>) -> Result<AuthorizeRequest, Box<Response>> {
    let get = |k: &str| p.get(k).cloned();
    let client_id = get("client_id").unwrap_or_default();
    let Some(client) = s.client(&client_id) else {
        return Err(Box::new(error_page(
            StatusCode::BAD_REQUEST,
            "Unknown client",
            &format!("The application \"{client_id}\" is not registered."),
        )));
    };
    let redirect_uri = get("redirect_uri").unwrap_or_default();
    if !client.redirect_uris.iter().any(|u| u == &redirect_uri) {
        return Err(Box::new(error_page(
            StatusCode::BAD_REQUEST,
            "Invalid redirect URI",
            "The redirect URI is not registered for this application.",
        )));
    }
    let request = AuthorizeRequest {
        client_id,
        redirect_uri,
        state: get("state"),
        nonce: get("nonce"),
        scope: get("scope").unwrap_or_default(),
        challenge: get("code_challenge").unwrap_or_default(),
        prompt: get("prompt"),
    };
    let issuer = &s.options.issuer;
    if get("response_type").as_deref() != Some("code") {
        return Err(Box::new(request.redirect(
            issuer,
            &[
                ("error", "unsupported_response_type"),
                ("error_description", "only response_type=code is supported"),
            ],
        )));
    }
    if request.challenge.is_empty() || get("code_challenge_method").as_deref() != Some("S256") {
        return Err(Box::new(request.redirect(
            issuer,
            &[
                ("error", "invalid_request"),
                (
                    "error_description",
                    "PKCE with code_challenge_method=S256 is required",
                ),
            ],
        )));
    }
    if request.challenge.len() != 43 {
        return Err(Box::new(request.redirect(
            issuer,
            &[
                ("error", "invalid_request"),
                ("error_description", "code_challenge must be 43 characters"),
            ],
        )));
    }
    // `system` makes a token a service token (the Default Background User): only a confidential
    // client gets it, by client credentials — never a person's sign-in through a browser.
    if request.scope.split(' ').any(|x| x == "system") {
        return Err(Box::new(request.redirect(
            issuer,
            &[
                ("error", "invalid_scope"),
                (
                    "error_description",
                    "the system scope is for service clients (client credentials)",
                ),
            ],
        )));
    }
    Ok(request)
}

fn session_user(s: &AimState, headers: &HeaderMap) -> Option<store::User> {
    let id = cookie(headers, SSO_COOKIE)?;
    let lifetime = s.options.session_lifetime;
    s.memory()
        .sessions
        .get(&id)
        .filter(|(_, since)| since.saturating_add(lifetime) > now())
        .map(|(u, _)| u.clone())
}

fn cookie(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .find_map(|pair| {
            let (k, v) = pair.trim().split_once('=')?;
            (k == name).then(|| v.to_owned())
        })
}

/// A code for `user`, signed in at `auth_time` in the SSO session `session`.
fn issue_code(
    s: &AimState,
    request: &AuthorizeRequest,
    user: store::User,
    session: String,
    auth_time: u64,
) -> Response {
    let code = random_token(32);
    s.memory().codes.insert(
        code.clone(),
        CodeGrant {
            client_id: request.client_id.clone(),
            redirect_uri: request.redirect_uri.clone(),
            challenge: request.challenge.clone(),
            user,
            nonce: request.nonce.clone(),
            scope: request.scope.clone(),
            expires: now() + CODE_LIFETIME,
            auth_time,
            session,
        },
    );
    let issuer = s.options.issuer.as_str();
    let state = request.state.as_deref().unwrap_or_default();
    let response = match hostile::callback_pairs(s.tamper(), &code, state, issuer) {
        Some(pairs) => {
            let pairs: Vec<(&str, &str)> = pairs.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
            request.redirect_exactly(&pairs)
        }
        None => request.redirect(issuer, &[("code", &code)]),
    };
    if let Some(location) = response
        .headers()
        .get(header::LOCATION)
        .and_then(|l| l.to_str().ok())
    {
        s.memory().last_callback = Some(location.to_owned());
    }
    response
}

/// What a person's tokens are issued for: a code exchange or a refresh, within one sign-in
/// (`family`: its chain of refresh tokens, revoked together).
struct Issue<'a> {
    client: &'a RegisteredClient,
    user: &'a store::User,
    scope: &'a str,
    family: &'a str,
    /// When the person signed in (the ID token's `auth_time`; refreshes keep it).
    auth_time: u64,
    /// When the refresh-token family expires: set at the sign-in and kept by every rotation
    /// (IdentityServer's default absolute expiration), so a session cannot be kept alive for
    /// ever by refreshing.
    family_expires: Option<u64>,
}

/// The ID token for the person when the scope asks for one (`openid`): issued now, valid 5
/// minutes, dated at the sign-in, with the authorize request's nonce on a sign-in and none on a
/// refresh.
fn id_token(s: &AimState, issue: &Issue<'_>, nonce: Option<&str>) -> Option<String> {
    let Issue {
        client,
        user,
        scope,
        auth_time,
        ..
    } = *issue;
    if !scope.split(' ').any(|x| x == "openid") {
        return None;
    }
    let t = now();
    let mut claims = json!({
        "iss": s.options.issuer, "aud": client.client_id, "sub": user.sub, "iat": t, "nbf": t, "exp": t + 300,
        "auth_time": auth_time, "preferred_username": user.username, "name": user.display_name,
    });
    if let Some(nonce) = nonce {
        claims["nonce"] = json!(nonce);
    }
    Some(id_token_for(s, claims))
}

/// The ID token as the hostile mode wants it (the honest one when not tampering).
fn id_token_for(s: &AimState, mut claims: serde_json::Value) -> String {
    let tamper = s.tamper();
    hostile::tamper_claims(tamper, &mut claims, now());
    match hostile::tampered_id_token(tamper, &claims, |c| s.sign("JWT", c), &s.key().encoding) {
        Some(token) => {
            s.memory().issued.push(token.clone());
            token
        }
        None => s.sign("JWT", &claims),
    }
}

async fn authorize(
    State(s): State<Arc<AimState>>,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
) -> Response {
    s.counters.authorize.fetch_add(1, Ordering::Relaxed);
    // RFC 6749 §3.1: no parameter twice (a last-wins reading would let a second redirect_uri or
    // state slip past whatever read the first).
    let p = match parse_form(query.unwrap_or_default().as_bytes()) {
        Ok(p) => p,
        Err(why) => {
            return error_page(
                StatusCode::BAD_REQUEST,
                "Bad request",
                &format!("The sign-in request is not valid: {why}."),
            );
        }
    };
    let request = match check_authorize(&s, &p) {
        Ok(r) => r,
        Err(answer) => return *answer,
    };
    let prompt = request.prompt.as_deref().unwrap_or("");
    if prompt != "login"
        && let Some(user) = session_user(&s, &headers)
        && let Some(id) = cookie(&headers, SSO_COOKIE)
    {
        let auth_time = s.memory().sessions.get(&id).map(|(_, t)| *t).unwrap_or_else(now);
        return issue_code(&s, &request, user, id, auth_time);
    }
    if prompt == "none" {
        return request.redirect(
            &s.options.issuer,
            &[
                ("error", "login_required"),
                ("error_description", "the person must sign in"),
            ],
        );
    }
    login_form(&s, &p, None)
}

async fn login(State(s): State<Arc<AimState>>, headers: HeaderMap, body: Bytes) -> Response {
    s.counters.authorize.fetch_add(1, Ordering::Relaxed);
    let Ok(p) = parse_form(&body) else {
        return error_page(
            StatusCode::BAD_REQUEST,
            "Bad request",
            "The sign-in form was not readable.",
        );
    };
    let request = match check_authorize(&s, &p) {
        Ok(r) => r,
        Err(answer) => return *answer,
    };
    // The form must be the one this authority just showed in this browser (login CSRF).
    if !csrf_matches(&headers, &p) {
        tracing::info!("sign-in form refused: CSRF token missing or different");
        return login_form(
            &s,
            &p,
            Some("The sign-in form expired or did not come from this page. Sign in again."),
        );
    }
    if p.get("action").map(String::as_str) == Some("cancel") {
        return request.redirect(
            &s.options.issuer,
            &[
                ("error", "access_denied"),
                ("error_description", "the person cancelled the sign-in"),
            ],
        );
    }
    let username = p.get("username").map(|u| u.trim()).unwrap_or_default();
    let password = p.get("password").map(String::as_str).unwrap_or_default();
    let user = s
        .find_user(username)
        .filter(|u| verify_secret(password, &u.password_hash));
    let Some(user) = user else {
        tracing::info!(username, "sign-in refused: wrong user name or password");
        return login_form(&s, &p, Some("The user name or password is incorrect."));
    };
    tracing::info!(username = %user.username, "signed in");
    let session = random_token(32);
    let auth_time = now();
    s.memory()
        .sessions
        .insert(session.clone(), (user.clone(), auth_time));
    let mut response = issue_code(&s, &request, user, session.clone(), auth_time);
    let cookie = format!(
        "{SSO_COOKIE}={session}; Path={BASE_PATH}; {}",
        s.sso_cookie_attributes()
    );
    if let Ok(v) = HeaderValue::from_str(&cookie) {
        response.headers_mut().append(header::SET_COOKIE, v);
    }
    response
}

const PAGE_STYLE: &str = "body{font:16px system-ui,sans-serif;background:#eef1f5;color:#1d2733;display:grid;place-items:center;min-height:100vh;margin:0}\
main{background:#fff;padding:2rem 2.5rem;border-radius:8px;box-shadow:0 2px 12px #0002;width:min(22rem,90vw)}\
h1{font-size:1.25rem;margin:0 0 .25rem}p.sub{color:#5a6878;margin:0 0 1.25rem}label{display:block;margin:.75rem 0 .25rem}\
input{width:100%;box-sizing:border-box;padding:.6rem;border:1px solid #b8c2cc;border-radius:4px;font-size:1rem}\
.buttons{display:flex;gap:.5rem;margin-top:1.25rem}button{flex:1;padding:.65rem;border-radius:4px;border:1px solid #1f5fa8;font-size:1rem}\
button.primary{background:#1f5fa8;color:#fff}button.secondary{background:#fff;color:#1f5fa8}.error{color:#a31515;background:#fdecec;padding:.5rem;border-radius:4px}";

fn login_form(s: &AimState, p: &HashMap<String, String>, error: Option<&str>) -> Response {
    let hidden = hidden_fields(
        p,
        &[
            "client_id",
            "redirect_uri",
            "response_type",
            "scope",
            "state",
            "nonce",
            "code_challenge",
            "code_challenge_method",
            "prompt",
        ],
    );
    let csrf = random_token(24);
    let error = error
        .map(|e| format!(r#"<p class="error" role="alert">{}</p>"#, html_escape(e)))
        .unwrap_or_default();
    let username = p.get("username").map(|u| html_escape(u)).unwrap_or_default();
    let mut response = Html(format!(
        r#"<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>Sign in – AVEVA Identity Manager (stand-in)</title><style>{PAGE_STYLE}</style></head><body><main>
<h1>AVEVA Identity Manager</h1><p class="sub">Development stand-in. Sign in to continue.</p>{error}
<form method="post" action="{BASE_PATH}/connect/authorize">{hidden}<input type="hidden" name="csrf" value="{csrf}">
<label for="username">User name</label><input id="username" name="username" autocomplete="username" value="{username}" placeholder="PLANT\user" autofocus>
<label for="password">Password</label><input id="password" name="password" type="password" autocomplete="current-password">
<div class="buttons"><button class="primary" id="sign-in" name="action" value="login">Sign in</button>
<button class="secondary" id="cancel" name="action" value="cancel">Cancel</button></div></form></main></body></html>"#
    ))
    .into_response();
    set_csrf_cookie(s, &mut response, &csrf);
    response
}

/// Whether a posted form carries the CSRF value this authority set in this browser's cookie.
fn csrf_matches(headers: &HeaderMap, form: &HashMap<String, String>) -> bool {
    match (cookie(headers, CSRF_COOKIE), form.get("csrf")) {
        (Some(expected), Some(sent)) => !expected.is_empty() && &expected == sent,
        _ => false,
    }
}

/// Hidden inputs carrying the request's `names` through a form, HTML-escaped.
fn hidden_fields(p: &HashMap<String, String>, names: &[&str]) -> String {
    names
        .iter()
        .filter_map(|k| {
            p.get(*k)
                .map(|v| format!(r#"<input type="hidden" name="{k}" value="{}">"#, html_escape(v)))
        })
        .collect()
}

/// The cookie half of a form's double-submit CSRF value (the form carries the other half).
fn set_csrf_cookie(s: &AimState, response: &mut Response, csrf: &str) {
    let secure = if s.on_https() { "; Secure" } else { "" };
    let cookie = format!("{CSRF_COOKIE}={csrf}; Path={BASE_PATH}; HttpOnly; SameSite=Strict{secure}");
    if let Ok(v) = HeaderValue::from_str(&cookie) {
        response.headers_mut().append(header::SET_COOKIE, v);
    }
}

fn error_page(status: StatusCode, title: &str, text: &str) -> Response {
    let body = format!(
        r#"<!doctype html><html lang="en"><head><meta charset="utf-8"><title>{t}</title><style>{PAGE_STYLE}</style></head>
<body><main><h1>{t}</h1><p>{x}</p></main></body></html>"#,
        t = html_escape(title),
        x = html_escape(text)
    );
    (status, Html(body)).into_response()
}

/// Client authentication at the token endpoint: Basic header or form fields.
fn client_credentials_of(
    headers: &HeaderMap,
    form: &HashMap<String, String>,
) -> (Option<String>, Option<String>) {
    if let Some(basic) = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Basic "))
    {
        use base64::Engine as _;
        if let Ok(decoded) = base64::engine::general_purpose::STANDARD.decode(basic.trim())
            && let Some((id, secret)) = String::from_utf8_lossy(&decoded).split_once(':')
        {
            let unescape = |v: &str| {
                form_urlencoded::parse(format!("x={v}").as_bytes())
                    .next()
                    .map(|(_, v)| v.into_owned())
                    .unwrap_or_default()
            };
            return (Some(unescape(id)), Some(unescape(secret)));
        }
    }
    (form.get("client_id").cloned(), form.get("client_secret").cloned())
}

async fn token(
    State(s): State<Arc<AimState>>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, OAuthError> {
    let form = match parse_form(&body) {
        Ok(f) => f,
        Err(e) => return Err(OAuthError::invalid_request(e)),
    };
    let (client_id, secret) = client_credentials_of(&headers, &form);
    let Some(client) = client_id.as_deref().and_then(|id| s.client(id)) else {
        return Err(OAuthError::invalid_client("unknown client"));
    };
    if let Some(hash) = &client.secret_hash
        && !secret.as_deref().is_some_and(|sec| verify_secret(sec, hash))
    {
        tracing::info!(client = %client.client_id, "client authentication failed");
        return Err(OAuthError::invalid_client("client authentication failed"));
    }
    match form.get("grant_type").map(String::as_str) {
        Some("authorization_code") => {
            let delay = s.memory().exchange_delay;
            if !delay.is_zero() {
                tokio::time::sleep(delay).await;
            }
            s.counters.code_exchanges.fetch_add(1, Ordering::Relaxed);
            exchange_code(&s, client, &form)
        }
        Some("refresh_token") => {
            s.counters.refreshes.fetch_add(1, Ordering::Relaxed);
            refresh(&s, client, &form)
        }
        Some("client_credentials") => {
            s.counters.client_credentials.fetch_add(1, Ordering::Relaxed);
            service_token(&s, client, &form)
        }
        Some(other) => Err(OAuthError::unsupported_grant_type(format!(
            "grant_type {other} is not supported"
        ))),
        None => Err(OAuthError::invalid_request("grant_type is missing")),
    }
}

fn exchange_code(
    s: &AimState,
    client: &RegisteredClient,
    form: &HashMap<String, String>,
) -> Result<Response, OAuthError> {
    let code = form.get("code").cloned().unwrap_or_default();
    // Single use: the code is gone whatever happens next.
    let Some(grant) = s.memory().codes.remove(&code) else {
        let mut memory = s.memory();
        if let Some(family) = memory.spent_codes.get(&code).cloned() {
            // RFC 6749 §4.1.2: a code used twice revokes what it issued (someone else has it).
            memory.revoked_families.insert(family);
            tracing::warn!(client = %client.client_id, "authorization code replayed: revoking what it issued");
        }
        return Err(OAuthError::invalid_grant(
            "the code is unknown, expired or already used",
        ));
    };
    if grant.expires < now() {
        return Err(OAuthError::invalid_grant("the code has expired"));
    }
    if grant.client_id != client.client_id {
        return Err(OAuthError::invalid_grant("the code was issued to another client"));
    }
    if form.get("redirect_uri") != Some(&grant.redirect_uri) {
        return Err(OAuthError::invalid_grant(
            "redirect_uri does not match the authorization request",
        ));
    }
    let Some(verifier) = form.get("code_verifier") else {
        return Err(OAuthError::invalid_request("code_verifier is required (PKCE)"));
    };
    if !(43..=128).contains(&verifier.len()) || sha256_b64url(verifier.as_bytes()) != grant.challenge {
        tracing::info!(client = %client.client_id, "PKCE verification failed");
        return Err(OAuthError::invalid_grant(
            "code_verifier does not match the code_challenge",
        ));
    }
    let family = random_token(16);
    let mut memory = s.memory();
    memory.spent_codes.insert(code, family.clone());
    memory
        .session_families
        .entry(grant.session.clone())
        .or_default()
        .push(family.clone());
    drop(memory);
    let issue = Issue {
        client,
        user: &grant.user,
        scope: &grant.scope,
        family: &family,
        auth_time: grant.auth_time,
        family_expires: None,
    };
    let id_token = id_token(s, &issue, grant.nonce.as_deref());
    Ok(user_tokens(s, &issue, id_token))
}

/// The access token's audience follows what the client asked for: the MES's API when a scope
/// names it (or `system`, the MES's service scope); otherwise the client itself, which no API
/// accepts — as a real authority scopes tokens to the resources requested.
fn audience_for(s: &AimState, client_id: &str, scope: &str) -> String {
    let api = &s.options.audience;
    if scope.split(' ').any(|x| x == api || x == "system") {
        api.clone()
    } else {
        client_id.to_owned()
    }
}

/// The token answer for a person: an access token, a refresh token in the sign-in's family when
/// the scope asks for one (`offline_access`), and `id_token`.
fn user_tokens(s: &AimState, issue: &Issue<'_>, id_token: Option<String>) -> Response {
    let Issue {
        client,
        user,
        scope,
        family,
        auth_time,
        family_expires,
    } = *issue;
    let t = now();
    let lifetime = client.token_lifetime;
    let access = s.sign(
        "at+jwt",
        &json!({
            "iss": s.options.issuer, "aud": audience_for(s, &client.client_id, scope), "sub": user.sub, "client_id": client.client_id,
            "preferred_username": user.username, "name": user.display_name, "scope": scope,
            "iat": t, "nbf": t, "exp": t + lifetime, "jti": random_token(12),
        }),
    );
    let mut answer =
        json!({ "access_token": access, "token_type": "Bearer", "expires_in": lifetime, "scope": scope });
    if scope.split(' ').any(|x| x == "offline_access") {
        let refresh = random_token(32);
        s.memory().issued.push(refresh.clone());
        s.memory().refresh.insert(
            refresh.clone(),
            RefreshGrant {
                family: family.to_owned(),
                client_id: client.client_id.clone(),
                user: user.clone(),
                scope: scope.to_owned(),
                spent: false,
                expires: family_expires.unwrap_or_else(|| t.saturating_add(s.options.refresh_token_lifetime)),
                auth_time,
            },
        );
        answer["refresh_token"] = json!(refresh);
        if s.options.tells_refresh_lifetime {
            let expires =
                family_expires.unwrap_or_else(|| t.saturating_add(s.options.refresh_token_lifetime));
            answer["refresh_expires_in"] = json!(expires.saturating_sub(t));
        }
    }
    if let Some(id) = id_token {
        answer["id_token"] = json!(id);
    }
    no_store(Json(answer).into_response())
}

fn no_store(mut response: Response) -> Response {
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
        .headers_mut()
        .insert(header::PRAGMA, HeaderValue::from_static("no-cache"));
    response
}

fn refresh(
    s: &AimState,
    client: &RegisteredClient,
    form: &HashMap<String, String>,
) -> Result<Response, OAuthError> {
    let token = form.get("refresh_token").cloned().unwrap_or_default();
    let (family, user, scope, auth_time, family_expires) = {
        let mut memory = s.memory();
        let Some(grant) = memory.refresh.get_mut(&token) else {
            return Err(OAuthError::invalid_grant("unknown refresh token"));
        };
        if grant.client_id != client.client_id {
            return Err(OAuthError::invalid_grant(
                "the refresh token was issued to another client",
            ));
        }
        let family = grant.family.clone();
        let spent = grant.spent;
        grant.spent = true;
        let (user, scope, expires, auth_time) = (
            grant.user.clone(),
            grant.scope.clone(),
            grant.expires,
            grant.auth_time,
        );
        if spent {
            s.counters.refresh_reuse.fetch_add(1, Ordering::Relaxed);
            // Reuse of a rotated token: someone else holds the family. Revoke all of it.
            memory.revoked_families.insert(family.clone());
            tracing::warn!(client = %client.client_id, "refresh token reused: revoking its family");
            return Err(OAuthError::invalid_grant(
                "the refresh token was already used; the session is revoked",
            ));
        }
        if memory.revoked_families.contains(&family) {
            return Err(OAuthError::invalid_grant("the session was revoked"));
        }
        if expires <= now() {
            return Err(OAuthError::invalid_grant("the refresh token has expired"));
        }
        (family, user, scope, auth_time, expires)
    };
    // OpenID Connect Core §12.2: a new ID token for the same subject and audience, without a nonce.
    let issue = Issue {
        client,
        user: &user,
        scope: &scope,
        family: &family,
        auth_time,
        family_expires: Some(family_expires),
    };
    let id_token = id_token(s, &issue, None);
    Ok(user_tokens(s, &issue, id_token))
}

fn service_token(
    s: &AimState,
    client: &RegisteredClient,
    form: &HashMap<String, String>,
) -> Result<Response, OAuthError> {
    if client.secret_hash.is_none() {
        return Err(OAuthError::unauthorized_client(
            "this client may not use client_credentials",
        ));
    }
    let scope = form.get("scope").map(String::as_str).unwrap_or("system");
    if scope != "system" {
        return Err(OAuthError::invalid_scope(
            "service clients may only ask for scope \"system\"",
        ));
    }
    let t = now();
    let lifetime = client.token_lifetime;
    let access = s.sign(
        "at+jwt",
        &json!({
            // RFC 9068: a client's own token names the client as its subject.
            "iss": s.options.issuer, "aud": audience_for(s, &client.client_id, scope), "sub": client.client_id, "client_id": client.client_id, "scope": "system",
            "iat": t, "nbf": t, "exp": t + lifetime, "jti": random_token(12),
        }),
    );
    Ok(no_store(Json(json!({ "access_token": access, "token_type": "Bearer", "expires_in": lifetime, "scope": "system" })).into_response()))
}

/// RP-Initiated Logout by POST (the parameters in a form body, so no token is in a URL), when
/// this authority is set up to take it.
async fn end_session_form(State(s): State<Arc<AimState>>, headers: HeaderMap, body: Bytes) -> Response {
    if !s.options.end_session_post {
        return error_page(
            StatusCode::NOT_FOUND,
            "Not found",
            "This authority takes sign-out requests by GET only.",
        );
    }
    match parse_form(&body) {
        Ok(p) => end_session(State(s), headers, Query(p)).await,
        Err(_) => error_page(
            StatusCode::BAD_REQUEST,
            "Bad request",
            "The sign-out form was not readable.",
        ),
    }
}

/// RP-Initiated Logout 1.0 §2-§3: a valid `id_token_hint` ends the session at once; without one
/// anybody's page could sign the person out, so the person is asked first (as certified
/// providers do). `client_id`, when sent beside a hint, must be the hint's audience. The browser
/// goes back only to a post-logout URI registered for that client.
async fn end_session(
    State(s): State<Arc<AimState>>,
    headers: HeaderMap,
    Query(p): Query<HashMap<String, String>>,
) -> Response {
    let hinted = p.get("id_token_hint").and_then(|t| audience_of_own_token(&s, t));
    if let (Some(hinted), Some(named)) = (&hinted, p.get("client_id"))
        && hinted != named
    {
        return error_page(
            StatusCode::BAD_REQUEST,
            "Bad request",
            "The sign-out request names a client that the ID token was not issued to.",
        );
    }
    match hinted {
        Some(client_id) => signed_out(&s, &headers, &p, Some(&client_id)),
        None => confirm_sign_out_page(&s, &p),
    }
}

/// The person's answer on the confirmation page (double-submit CSRF, like the login form).
async fn end_session_confirmed(State(s): State<Arc<AimState>>, headers: HeaderMap, body: Bytes) -> Response {
    let Ok(p) = parse_form(&body) else {
        return error_page(
            StatusCode::BAD_REQUEST,
            "Bad request",
            "The sign-out form was not readable.",
        );
    };
    if !csrf_matches(&headers, &p) {
        return confirm_sign_out_page(&s, &p);
    }
    let client_id = p.get("client_id").cloned();
    if p.get("action").map(String::as_str) == Some("stay") {
        // Still signed in at AIM; back to the client if it said where.
        return match post_logout_target(&s, &p, client_id.as_deref()) {
            Some(url) => Redirect::to(&url).into_response(),
            None => error_page(
                StatusCode::OK,
                "Still signed in",
                "You are still signed in to AVEVA Identity Manager.",
            ),
        };
    }
    signed_out(&s, &headers, &p, client_id.as_deref())
}

fn confirm_sign_out_page(s: &AimState, p: &HashMap<String, String>) -> Response {
    let hidden = hidden_fields(
        p,
        &["client_id", "post_logout_redirect_uri", "state", "ui_locales"],
    );
    let csrf = random_token(24);
    let mut response = Html(format!(
        r#"<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>Sign out – AVEVA Identity Manager (stand-in)</title><style>{PAGE_STYLE}</style></head><body><main>
<h1>Sign out of AVEVA Identity Manager?</h1><p class="sub">A page asked to end your sign-in here.</p>
<form method="post" action="{BASE_PATH}/connect/endsession/confirm">{hidden}<input type="hidden" name="csrf" value="{csrf}">
<div class="buttons"><button class="primary" id="sign-out-confirm" name="action" value="logout" autofocus>Yes, sign me out</button>
<button class="secondary" id="sign-out-stay" name="action" value="stay">No, stay signed in</button></div></form></main></body></html>"#
    ))
    .into_response();
    set_csrf_cookie(s, &mut response, &csrf);
    response
}

/// The registered post-logout URI of `client_id` that the request names, with its `state`.
fn post_logout_target(s: &AimState, p: &HashMap<String, String>, client_id: Option<&str>) -> Option<String> {
    let uri = p.get("post_logout_redirect_uri")?;
    let client = s.client(client_id?)?;
    if !client.post_logout_uris.contains(uri) {
        return None;
    }
    let sep = if uri.contains('?') { '&' } else { '?' };
    Some(match p.get("state") {
        Some(state) => format!(
            "{uri}{sep}{}",
            form_urlencoded::Serializer::new(String::new())
                .append_pair("state", state)
                .finish()
        ),
        None => uri.clone(),
    })
}

/// Ends this browser's AIM session and sends it back to the client, or says it is signed out.
fn signed_out(
    s: &AimState,
    headers: &HeaderMap,
    p: &HashMap<String, String>,
    client_id: Option<&str>,
) -> Response {
    if let Some(id) = cookie(headers, SSO_COOKIE) {
        let mut memory = s.memory();
        memory.sessions.remove(&id);
        let families = memory.session_families.remove(&id).unwrap_or_default();
        if s.options.refresh_tokens_end_with_session {
            memory.revoked_families.extend(families);
        }
    }
    let clear = format!(
        "{SSO_COOKIE}=; Path={BASE_PATH}; {}; Max-Age=0",
        s.sso_cookie_attributes()
    );
    let mut response = match post_logout_target(s, p, client_id) {
        Some(url) => Redirect::to(&url).into_response(),
        None => error_page(
            StatusCode::OK,
            "Signed out",
            "You are signed out of AVEVA Identity Manager. You can close this window.",
        ),
    };
    if let Ok(v) = HeaderValue::from_str(&clear) {
        response.headers_mut().append(header::SET_COOKIE, v);
    }
    response
}

/// The `aud` of an ID token this authority signed (expiry ignored, as id_token_hint allows).
fn audience_of_own_token(s: &AimState, token: &str) -> Option<String> {
    let mut validation = jsonwebtoken::Validation::new(jsonwebtoken::Algorithm::RS256);
    validation.validate_exp = false;
    validation.validate_aud = false;
    validation.set_issuer(&[&s.options.issuer]);
    let keys = s.keys.lock().unwrap_or_else(|e| e.into_inner());
    keys.published().find_map(|k| {
        let key = jsonwebtoken::DecodingKey::from_rsa_components(&k.n, &k.e).ok()?;
        let data = jsonwebtoken::decode::<serde_json::Value>(token, &key, &validation).ok()?;
        data.claims.get("aud").and_then(|a| a.as_str()).map(str::to_owned)
    })
}

async fn revocation(
    State(s): State<Arc<AimState>>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, OAuthError> {
    let Ok(form) = parse_form(&body) else {
        return Err(OAuthError::invalid_request("unreadable form"));
    };
    let (client_id, _) = client_credentials_of(&headers, &form);
    if client_id.as_deref().and_then(|id| s.client(id)).is_none() {
        return Err(OAuthError::invalid_client("unknown client"));
    }
    let mut memory = s.memory();
    // RFC 7009 §2.1: only the client the token was issued to may revoke it; for another
    // client's token the answer is the same 200, and nothing happens.
    if let Some(family) = form
        .get("token")
        .and_then(|t| memory.refresh.get(t))
        .filter(|g| client_id.as_deref() == Some(&g.client_id))
        .map(|g| g.family.clone())
    {
        memory.revoked_families.insert(family);
        s.counters.revocations.fetch_add(1, Ordering::Relaxed);
    }
    Ok(StatusCode::OK.into_response())
}

/// Registers the portal (a public client) for `portal_origin`: redirect `{origin}/callback`,
/// post-logout `{origin}/signed-out`, CORS for the origin.
pub fn portal_client(client_id: &str, portal_origins: &[String], token_lifetime: u64) -> RegisteredClient {
    RegisteredClient {
        client_id: client_id.to_owned(),
        secret_hash: None,
        redirect_uris: portal_origins.iter().map(|o| format!("{o}/callback")).collect(),
        post_logout_uris: portal_origins.iter().map(|o| format!("{o}/signed-out")).collect(),
        allowed_origins: portal_origins.iter().map(|o| origin_of(o)).collect(),
        token_lifetime,
    }
}
