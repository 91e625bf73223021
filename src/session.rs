//! The portal's sign-in state and everything that talks to AIM or MES, through mes-client.
//! Tokens live only in the `AuthState::SignedIn` value in memory.

use leptos::prelude::*;
use mes_client::{
    Authority, BrowserTransport, CallbackParams, ConfigIssue, LookupDefinition, LookupOptions, MesError, PortalConfig, Prompt, Rows,
    Runtime, SignedIn, UserSession, authorization_redirect, browser, end_session_url, finish_sign_in, now_seconds, revoke_refresh_token,
};
use std::sync::Arc;

/// Largest lookup answer accepted: 100,000 rows of 10 columns is about 15 MB of JSON.
pub const LOOKUP_BODY_LIMIT: usize = 64 * 1024 * 1024;

/// Where the person stands with the authority.
#[derive(Clone, Debug)]
pub enum AuthState {
    /// Reading config.json and the authority's discovery.
    Starting,
    /// config.json is missing or wrong: every problem.
    ConfigInvalid(Vec<ConfigIssue>),
    /// Discovery failed: why, and the address.
    AuthorityUnavailable {
        /// Plain-language cause.
        why: String,
        /// The authority address.
        authority: String,
    },
    /// Not signed in; an optional notice ("You are signed out").
    SignedOut(Option<String>),
    /// On the way to the authority.
    Redirecting,
    /// The sign-in answer was refused: why.
    SignInFailed(String),
    /// Signed in; tokens in memory only, inside the session.
    SignedIn(Arc<Session>),
}

/// The signed-in session: tokens in memory, renewed with a single flight.
pub type Session = UserSession<BrowserTransport>;

/// The portal's shared state, provided as context.
#[derive(Clone, Copy)]
pub struct Portal {
    /// The validated configuration.
    pub config: RwSignal<Option<Arc<PortalConfig>>>,
    /// What was fixed in config.json.
    pub warnings: RwSignal<Vec<ConfigIssue>>,
    /// Discovery and keys.
    pub authority: RwSignal<Option<Arc<Authority>>>,
    /// Sign-in state.
    pub auth: RwSignal<AuthState>,
    /// The current path (client-side routing).
    pub route: RwSignal<String>,
    /// Embedded in another page: sign-in runs in a popup, and the host page's address is left
    /// alone (no redirects, no routing, no grid state in its query).
    pub embedded: bool,
}

/// The portal context.
pub fn use_portal() -> Portal {
    expect_context::<Portal>()
}

impl Portal {
    /// New state, path from the address bar.
    pub fn new() -> Self {
        Self {
            config: RwSignal::new(None),
            warnings: RwSignal::new(vec![]),
            authority: RwSignal::new(None),
            auth: RwSignal::new(AuthState::Starting),
            route: RwSignal::new(current_pathname()),
            embedded: false,
        }
    }

    /// State for a grid embedded in another page of this origin.
    pub fn embedded() -> Self {
        Self { embedded: true, ..Self::new() }
    }

    /// Goes to a path inside the portal without reloading.
    pub fn navigate(&self, path: &str) {
        if let Some(history) = web_sys::window().and_then(|w| w.history().ok()) {
            let _ = history.push_state_with_url(&wasm_bindgen::JsValue::NULL, "", Some(path));
        }
        self.route.set(path.to_owned());
    }

    /// Loads config and discovery, then finishes a callback or tries a silent sign-in.
    pub async fn start(self) {
        if !self.embedded && current_pathname() == "/callback" && browser::relay_callback_to_opener() {
            // A sign-in popup of an embedded grid: the opener finishes the sign-in.
            return self.auth.set(AuthState::Redirecting);
        }
        self.auth.set(AuthState::Starting);
        let (config, warnings) = match load_config().await {
            Ok(c) => c,
            Err(issues) => return self.auth.set(AuthState::ConfigInvalid(issues)),
        };
        self.warnings.set(warnings);
        let config = Arc::new(config);
        self.config.set(Some(config.clone()));
        let transport = BrowserTransport::default();
        let path = current_pathname();
        // Back from the authority: the page that left saved its discovery document and keys with
        // the pending sign-in, so this page goes straight to the token request.
        let (pending, saved) = match (path == "/callback").then(browser::take_round_trip).flatten() {
            Some((pending, authority)) => (Some(pending), authority),
            None => (None, None),
        };
        let configured = config.client.authority.trim_end_matches('/');
        let saved = saved.filter(|a| a.metadata.issuer.trim_end_matches('/') == configured);
        let mut authority = match saved {
            Some(a) => a,
            None => match Authority::load(&transport, &config.client.authority).await {
                Ok(a) => a,
                Err(e) => {
                    return self
                        .auth
                        .set(AuthState::AuthorityUnavailable { why: e.to_string(), authority: config.client.authority.clone() });
                }
            },
        };
        if path == "/callback" {
            let params = CallbackParams::from_query(&browser::current_query());
            let return_path = pending.as_ref().map(|p| p.return_path.clone()).unwrap_or_else(|| "/".into());
            let silent_refusal = matches!(params.error.as_deref(), Some("login_required" | "interaction_required" | "consent_required"));
            let result = finish_sign_in(
                &transport,
                &mut authority,
                &config.client,
                &params,
                pending.as_ref(),
                &browser::WebCryptoVerifier,
                now_seconds(),
            )
            .await;
            let authority = Arc::new(authority);
            self.authority.set(Some(authority.clone()));
            match result {
                Ok(signed_in) => {
                    browser::replace_url(&return_path);
                    self.route.set(path_only(&return_path));
                    self.enter_session(&authority, &config, signed_in);
                }
                Err(_) if silent_refusal && pending.is_some() => {
                    // No session at the authority: the person signs in with the form.
                    browser::replace_url(&return_path);
                    self.route.set(path_only(&return_path));
                    self.auth.set(AuthState::SignedOut(None));
                }
                Err(e) => {
                    browser::replace_url("/");
                    self.route.set("/".into());
                    self.auth.set(AuthState::SignInFailed(e.to_string()));
                }
            }
            return;
        }
        self.authority.set(Some(Arc::new(authority)));
        if self.embedded {
            // A popup needs a click; the person presses "Sign in" (AIM's session skips the form).
            self.auth.set(AuthState::SignedOut(None));
        } else if path == "/signed-out" {
            self.auth.set(AuthState::SignedOut(Some("You are signed out.".into())));
        } else {
            // Reload or new tab: the authority's own session signs the person in without a form.
            self.sign_in(Some(Prompt::None));
        }
    }

    /// Holds the new tokens in a session (renewal, lookups with the large-answer limit).
    fn enter_session(&self, authority: &Authority, config: &PortalConfig, signed_in: SignedIn) {
        let session = UserSession::new(BrowserTransport::new(LOOKUP_BODY_LIMIT), authority, &config.client, signed_in);
        self.auth.set(AuthState::SignedIn(Arc::new(session)));
    }

    /// Sends the browser to the authority. Returns to the current page afterwards.
    pub fn sign_in(&self, prompt: Option<Prompt>) {
        let (Some(config), Some(authority)) = (self.config.get_untracked(), self.authority.get_untracked()) else { return };
        if self.embedded {
            return self.sign_in_popup(&config, &authority, prompt);
        }
        if prompt != Some(Prompt::None) {
            // Someone pressed a button: if AIM went offline since the page loaded, say so here
            // instead of leaving them on the browser's "site can't be reached" page.
            self.auth.set(AuthState::Redirecting);
            let issuer = authority.metadata.issuer.clone();
            let this = *self;
            leptos::task::spawn_local(async move {
                match probe(&issuer).await {
                    Ok(()) => this.redirect_to_authority(&config, &authority, prompt),
                    Err(why) => this.auth.set(AuthState::AuthorityUnavailable { why, authority: issuer }),
                }
            });
            return;
        }
        self.redirect_to_authority(&config, &authority, prompt);
    }

    fn redirect_to_authority(&self, config: &PortalConfig, authority: &Authority, prompt: Option<Prompt>) {
        let here = browser::current_path();
        let return_path = if here.starts_with("/callback") || here.starts_with("/signed-out") { "/".to_owned() } else { here };
        let outcome = authorization_redirect(&authority.metadata, &config.client, &return_path, prompt)
            .map_err(|e| e.to_string())
            .and_then(|redirect| {
                browser::save_round_trip(&redirect.pending, Some(authority))?;
                self.auth.set(AuthState::Redirecting);
                browser::navigate(&redirect.url)
            });
        if let Err(why) = outcome {
            self.auth.set(AuthState::SignInFailed(why));
        }
    }

    /// Embedded: the authority's page opens in a popup, which hands the answer back to this page;
    /// the PKCE verifier stays in this function's memory.
    fn sign_in_popup(self, config: &Arc<PortalConfig>, authority: &Arc<Authority>, prompt: Option<Prompt>) {
        let redirect = match authorization_redirect(&authority.metadata, &config.client, "/", prompt) {
            Ok(r) => r,
            Err(e) => return self.auth.set(AuthState::SignInFailed(e.to_string())),
        };
        let popup = match browser::open_sign_in_popup(&redirect.url) {
            Ok(p) => p,
            Err(e) => return self.auth.set(AuthState::SignInFailed(e.to_string())),
        };
        self.auth.set(AuthState::Redirecting);
        let (config, authority) = (config.clone(), authority.clone());
        leptos::task::spawn_local(async move {
            let query = match popup.answer().await {
                Ok(q) => q,
                Err(browser::PopupError::Closed) => {
                    return self.auth.set(AuthState::SignedOut(Some("The sign-in window was closed before signing in.".into())));
                }
                Err(e) => return self.auth.set(AuthState::SignInFailed(e.to_string())),
            };
            let transport = BrowserTransport::default();
            let mut keys = (*authority).clone();
            let params = CallbackParams::from_query(&query);
            let result = finish_sign_in(
                &transport,
                &mut keys,
                &config.client,
                &params,
                Some(&redirect.pending),
                &browser::WebCryptoVerifier,
                now_seconds(),
            )
            .await;
            match result {
                Ok(signed_in) => {
                    let authority = Arc::new(keys);
                    self.authority.set(Some(authority.clone()));
                    self.enter_session(&authority, &config, signed_in);
                }
                Err(e) => self.auth.set(AuthState::SignInFailed(e.to_string())),
            }
        });
    }

    /// Forgets the tokens, revokes the refresh token, tells the other tabs, and ends the
    /// authority's session (embedded: only this page's session, the host page stays).
    pub fn sign_out(self) {
        let tokens = match self.auth.get_untracked() {
            AuthState::SignedIn(s) => Some(s.tokens()),
            _ => None,
        };
        self.auth.set(AuthState::SignedOut(Some("You are signed out.".into())));
        browser::announce_sign_out();
        let (config, authority) = (self.config.get_untracked(), self.authority.get_untracked());
        leptos::task::spawn_local(async move {
            let (Some(config), Some(authority)) = (config, authority) else {
                if !self.embedded {
                    self.navigate("/signed-out");
                }
                return;
            };
            if let Some(refresh_token) = tokens.as_ref().and_then(|t| t.refresh_token.as_ref()) {
                // Best effort: the end-session step below ends the authority's session anyway.
                let _ =
                    revoke_refresh_token(&BrowserTransport::default(), &authority.metadata, &config.client.client_id, refresh_token).await;
            }
            if self.embedded {
                return;
            }
            let id_token = tokens.and_then(|t| t.id_token);
            match end_session_url(&authority.metadata, &config.client, id_token.as_ref()) {
                Some(url) => {
                    let _ = browser::navigate(&url);
                }
                None => self.navigate("/signed-out"),
            }
        });
    }

    /// Another tab signed out: forget this tab's tokens too.
    pub fn signed_out_elsewhere(&self) {
        if matches!(self.auth.get_untracked(), AuthState::SignedIn(_)) {
            self.auth.set(AuthState::SignedOut(Some("You signed out in another tab.".into())));
        }
    }

    /// Runs a lookup as the signed-in person (the session renews its token as needed).
    pub async fn run_lookup(&self, lookup_def: &LookupDefinition) -> Result<Rows, MesError> {
        let config = self.config.get_untracked().ok_or(MesError::SessionExpired)?;
        let api = config
            .web_api(&lookup_def.web_api)
            .ok_or_else(|| MesError::NotFound { message: format!("no Web API definition named \"{}\"", lookup_def.web_api) })?
            .clone();
        let params: Vec<(String, String)> = lookup_def.params.iter().map(|(k, v)| (k.clone(), v.clone())).collect();
        let AuthState::SignedIn(session) = self.auth.get_untracked() else { return Err(MesError::SessionExpired) };
        session.lookup(&api, &lookup_def.endpoint, &params, &LookupOptions::default()).await
    }
}

impl Default for Portal {
    fn default() -> Self {
        Self::new()
    }
}

/// `/lookups/0?sort=…` → `/lookups/0` (routes match paths; the grid reads its query itself).
fn path_only(path: &str) -> String {
    path.split(['?', '#']).next().unwrap_or("/").to_owned()
}

fn current_pathname() -> String {
    web_sys::window().and_then(|w| w.location().pathname().ok()).unwrap_or_else(|| "/".into())
}

/// Whether the authority's address answers at all (any HTTP answer counts; the body is not
/// readable and not needed). One small request, only when a person starts a sign-in.
async fn probe(issuer: &str) -> Result<(), String> {
    gloo_net::http::Request::get(issuer)
        .mode(web_sys::RequestMode::NoCors)
        .cache(web_sys::RequestCache::NoStore)
        .credentials(web_sys::RequestCredentials::Omit)
        .send()
        .await
        .map(|_| ())
        .map_err(|_| format!("{issuer} did not answer: the connection failed (it may be offline, or the address is wrong)"))
}

async fn load_config() -> Result<(PortalConfig, Vec<ConfigIssue>), Vec<ConfigIssue>> {
    let issue = |message: String| vec![ConfigIssue { field: "config.json".into(), message }];
    let response = gloo_net::http::Request::get("/config.json")
        .cache(web_sys::RequestCache::NoStore)
        .send()
        .await
        .map_err(|e| issue(format!("could not be loaded from this server ({e})")))?;
    if response.status() != 200 {
        return Err(issue(format!("could not be loaded: the server answered HTTP {}", response.status())));
    }
    let text = response.text().await.map_err(|e| issue(format!("could not be read ({e})")))?;
    PortalConfig::from_json(&text, Runtime::Browser).map(|(c, r)| (c, r.warnings)).map_err(|r| r.errors)
}
