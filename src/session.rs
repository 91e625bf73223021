//! The portal's sign-in state and everything that talks to AIM or MES, through mes-client.
//! Tokens live only in the `Phase::SignedIn` value in memory.

use crate::nav;
use crate::route::Route;
use crate::words::{self, Word, fill, w};
use leptos::prelude::*;
use mes_client::{
    Authority, BrowserTransport, CallbackParams, ConfigIssue, DiscoveryError, LookupDefinition, MesError,
    PortalConfig, Prompt, RowsTarget, Runtime, SignInClient, SignInFailure, SignedIn, UserSession,
    authority_reachable, browser, check_callback, end_session_request, now_seconds, revoke_refresh_token,
};
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

/// The largest lookup answer this device's memory takes, in bytes of JSON: 128 MiB per GiB the
/// browser reports (`navigator.deviceMemory`, which Chromium rounds and caps at 8), so 1 GiB
/// (some four million rows of 10 columns) on a PC with 8 GiB or more and 256 MiB on a 2 GiB
/// tablet; 512 MiB where the browser does not say. The answer is decoded while it arrives and
/// never held whole: its columns take less than its JSON.
pub fn lookup_body_limit() -> usize {
    const PER_GIB: f64 = 128.0 * 1024.0 * 1024.0;
    let reported = web_sys::window()
        .and_then(|w| js_sys::Reflect::get(&w.navigator(), &"deviceMemory".into()).ok())
        .and_then(|m| m.as_f64())
        .filter(|gib| gib.is_finite() && *gib > 0.0);
    let gib = reported.unwrap_or(4.0).clamp(0.5, 8.0);
    (gib * PER_GIB) as usize
}

/// Where the portal stands — one value, read by every view (the portal's, an embedded grid's,
/// a framed grid's), so nothing else keeps a copy of what it holds. Tokens live only in
/// `SignedIn`.
#[derive(Clone, Debug)]
pub enum Phase {
    /// Reading config.json and the authority's discovery.
    Starting,
    /// Not signed in; an optional notice ("You are signed out").
    SignedOut {
        /// The configuration and the authority, for the Sign in button.
        ready: Arc<Ready>,
        /// What to tell the person first, if anything.
        notice: Option<String>,
    },
    /// On the way to the authority, or waiting for its popup.
    Redirecting(Option<Arc<Ready>>),
    /// Signed in: configuration, authority and the session (tokens in memory only).
    SignedIn(Arc<SignedInState>),
    /// Something stops the portal, with the configuration and the authority when they were had.
    Problem(Problem, Option<Arc<Ready>>),
}

/// What stops the portal, each with its own page. Failures carry mes-client's typed errors.
#[derive(Clone, Debug)]
pub enum Problem {
    /// config.json is missing or wrong: every problem.
    ConfigInvalid(Vec<ConfigIssue>),
    /// The authority did not answer (at start, or when a sign-in was about to leave for it).
    AuthorityUnavailable {
        /// Why, as mes-client found it.
        why: DiscoveryError,
        /// The authority address.
        authority: String,
    },
    /// The sign-in answer was refused, or the browser could not take part.
    SignInFailed(SignInFailure),
}

impl Phase {
    /// The configuration and the authority, in every phase that has them.
    pub fn ready(&self) -> Option<Arc<Ready>> {
        match self {
            Phase::SignedOut { ready, .. } => Some(ready.clone()),
            Phase::Redirecting(ready) | Phase::Problem(_, ready) => ready.clone(),
            Phase::SignedIn(state) => Some(state.ready.clone()),
            Phase::Starting => None,
        }
    }

    /// The configuration, in every phase that has it.
    pub fn config(&self) -> Option<Arc<PortalConfig>> {
        self.ready().map(|r| r.config.clone())
    }

    /// Whether config.json stopped the portal.
    pub fn config_invalid(&self) -> bool {
        matches!(self, Phase::Problem(Problem::ConfigInvalid(_), _))
    }
}

/// What the portal has once started: its validated configuration and the authority as
/// discovered (public data).
#[derive(Debug)]
pub struct Ready {
    /// The validated configuration.
    pub config: Arc<PortalConfig>,
    /// Discovery and keys.
    pub authority: Arc<Authority>,
}

/// Where the portal runs, which decides who owns the address bar and how sign-in leaves.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    /// The portal's own page: it owns the address bar (routes, the grid's state in the query)
    /// and signs in by leaving for the authority and coming back.
    Page,
    /// A grid in a page that is not the portal's (a host page of its origin, or its frame for
    /// another site): sign-in runs in a popup, and the host page's address is left alone.
    Embedded,
}

impl Mode {
    /// Whether the portal owns the page's address: routes, redirects to the authority and back,
    /// a sign-out that leaves the page.
    pub fn owns_the_page(self) -> bool {
        self == Mode::Page
    }
}

/// Everything a signed-in page needs, so no page reads an `Option` for it.
pub struct SignedInState {
    /// The configuration and the authority.
    pub ready: Arc<Ready>,
    /// The tokens, renewed with a single flight.
    pub session: Session,
}

impl SignedInState {
    /// The validated configuration.
    pub fn config(&self) -> &PortalConfig {
        &self.ready.config
    }

    /// Discovery and keys.
    pub fn authority(&self) -> &Authority {
        &self.ready.authority
    }
}

impl std::ops::Deref for SignedInState {
    type Target = Session;
    fn deref(&self) -> &Session {
        &self.session
    }
}

impl std::fmt::Debug for SignedInState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.session.fmt(f)
    }
}

/// The signed-in session: tokens in memory, renewed with a single flight.
pub type Session = UserSession<BrowserTransport>;

/// At most one silent (`prompt=none`) sign-in per this many seconds in a tab: a renewal that
/// keeps coming back expired stops at a Sign in button instead of looping through the authority.
pub const SILENT_SIGN_IN_INTERVAL: u64 = 60;

/// The station a sign-out's end-session step carried back as `state`, if it is a station name
/// as an address writes it (config.json's list is checked by the signed-in page).
fn returned_station() -> Option<String> {
    let query = nav::query();
    let state = form_urlencoded::parse(query.trim_start_matches('?').as_bytes())
        .find(|(k, _)| k == "state")?
        .1;
    mes_client::is_station_name(&state).then(|| state.into_owned())
}

/// What the code exchange leaves: the authority (its keys may have been fetched again) and the
/// tokens, or why not.
pub type Exchanged = (Authority, Result<SignedIn, SignInFailure>);

crate::on_demand::split!(
    signin,
    /// The code exchange and the ID token's checks — the token request, the signature (by the
    /// browser's WebCrypto), the claims — in a part of their own: only a page back from the
    /// authority needs them, not the sign-in page every plant loads first.
    pub fn exchange(
        config: Arc<PortalConfig>,
        authority: Authority,
        params: CallbackParams,
        pending: Option<mes_client::PendingSignIn>,
    ) -> Pin<Box<dyn Future<Output = Exchanged>>> {
        Box::pin(async move {
            let mut authority = authority;
            let result = SignInClient::new(&config.client)
                .exchange_code(&mut authority, &params, pending.as_ref())
                .request_async(&BrowserTransport::default())
                .await;
            (authority, result)
        })
    }
);

/// The portal's shared state, provided as context.
#[derive(Clone, Copy)]
pub struct Portal {
    /// Where the portal stands (the one place its configuration, authority and tokens are).
    pub phase: RwSignal<Phase>,
    /// What was fixed in config.json.
    pub warnings: RwSignal<Vec<ConfigIssue>>,
    /// Bumped after every MES call, so views of the session's health (the header) read it again.
    pub session_seen: RwSignal<u64>,
    /// The page shown (client-side routing).
    pub route: RwSignal<Route>,
    /// This page signed out (here or in another tab): the next sign-in asks the authority for
    /// its form (`prompt=login`), so its open session cannot sign the same person straight back
    /// in when someone else means to sign in.
    pub signed_out_here: RwSignal<bool>,
    /// The portal's own page, or a grid embedded in another.
    pub mode: Mode,
}

/// The portal context.
pub fn use_portal() -> Portal {
    expect_context::<Portal>()
}

/// What a page needs before anything else: its configuration, the authority, and the sign-in
/// it left for, when it is back from one.
struct Loaded {
    config: Arc<PortalConfig>,
    authority: Authority,
    pending: Option<mes_client::PendingSignIn>,
}

impl Portal {
    /// New state, route from the address bar.
    pub fn new() -> Self {
        Self {
            warnings: RwSignal::new(vec![]),
            phase: RwSignal::new(Phase::Starting),
            session_seen: RwSignal::new(0),
            route: RwSignal::new(nav::route()),
            signed_out_here: RwSignal::new(false),
            mode: Mode::Page,
        }
    }

    /// State for a grid embedded in another page of this origin.
    pub fn embedded() -> Self {
        Self {
            mode: Mode::Embedded,
            ..Self::new()
        }
    }

    /// Goes to `route` inside the portal without reloading.
    pub fn navigate(&self, route: Route) {
        nav::push(&route.path());
        self.route.set(route);
    }

    /// Goes to `address` (a path with its query) inside the portal without reloading.
    pub fn navigate_to(&self, address: &str) {
        nav::push(address);
        self.route.set(Route::parse(address));
    }

    /// The configuration and the authority, when the portal has them (untracked).
    fn ready(&self) -> Option<Arc<Ready>> {
        self.phase.with_untracked(Phase::ready)
    }

    /// A problem, with what the portal had when it happened.
    fn stop(&self, problem: Problem, ready: Option<Arc<Ready>>) {
        self.phase.set(Phase::Problem(problem, ready));
    }

    /// Signed out, with `notice` if any; the Sign in button needs `ready`.
    fn signed_out(&self, ready: Arc<Ready>, notice: Option<String>) {
        self.phase.set(Phase::SignedOut { ready, notice });
    }

    /// Loads config and discovery, then finishes a callback or tries a silent sign-in.
    /// `on_code_return` runs when the page came back from the authority with a code, before the
    /// exchange (the portal starts fetching the signed-in parts then).
    pub async fn start(self, on_code_return: fn()) {
        let route = nav::route();
        let at_callback = route == Route::Callback;
        let owns_the_page = self.mode.owns_the_page();
        if owns_the_page && at_callback && self.relayed_to_opener().await {
            return;
        }
        self.phase.set(Phase::Starting);
        let params = at_callback.then(|| CallbackParams::from_query(&nav::query()));
        if at_callback {
            // The code leaves the address bar before anything else — the exchange may take a
            // while, and an address bar is read over shoulders, by extensions and in history.
            nav::replace(&Route::Callback.path());
        }
        if owns_the_page && params.as_ref().is_some_and(|p| p.code.is_some()) {
            on_code_return();
        }
        let Some(loaded) = self.load(at_callback).await else {
            return;
        };
        match params {
            Some(params) => self.finish_return(loaded, &params).await,
            None => self.begin(
                Arc::new(Ready {
                    config: loaded.config,
                    authority: Arc::new(loaded.authority),
                }),
                &route,
            ),
        }
    }

    /// At `/callback` in a sign-in popup: hands the answer to the window that opened it, or —
    /// when the authority's page cut the popup loose from its opener — to the origin's channel;
    /// when nobody takes it there (a grid framed by another site cannot hear it), this window
    /// says why instead of failing in words that are not true. False when this is no popup.
    async fn relayed_to_opener(self) -> bool {
        match browser::relay_callback_to_opener() {
            browser::Relay::Relayed => self.phase.set(Phase::Redirecting(None)),
            browser::Relay::CutLoose(query) => {
                self.phase.set(Phase::Redirecting(None));
                if !browser::relay_on_channel(&query).await {
                    self.stop(Problem::SignInFailed(SignInFailure::PopupCutLoose), None);
                }
            }
            browser::Relay::NotAPopup => return false,
        }
        true
    }

    /// config.json, then the words and the authority side by side (the authority from the
    /// sign-in round trip when the page is back from it). A problem is the portal's phase, and
    /// `None`.
    async fn load(self, at_callback: bool) -> Option<Loaded> {
        let (config, mut warnings) = match load_config().await {
            Ok(c) => c,
            Err(issues) => {
                self.stop(Problem::ConfigInvalid(issues), None);
                return None;
            }
        };
        // Back from the authority: the page that left saved its discovery document and keys with
        // the pending sign-in, so this page goes straight to the token request.
        let (pending, saved) = match at_callback.then(browser::take_round_trip).flatten() {
            Some((pending, authority)) => (Some(pending), authority),
            None => (None, None),
        };
        let configured = config.client.authority.trim_end_matches('/');
        let saved = saved.filter(|a| a.metadata.issuer.trim_end_matches('/') == configured);
        let authority = async {
            match saved {
                Some(a) => Ok(a),
                None => Authority::load(&BrowserTransport::default(), &config.client.authority).await,
            }
        };
        // The words before the first page that has any (the language is chosen once), fetched
        // side by side with the authority's discovery: one round trip, not two.
        let origin = nav::origin();
        let load = |path: String| async move {
            mes_client::get_text(&BrowserTransport::default(), &format!("{origin}/{path}"))
                .await
                .map_err(|e| e.to_string())
        };
        let translations = config.translations();
        let words = words::choose(config.language.as_deref(), &translations, load);
        let (words_warning, authority) = futures::future::join(words, authority).await;
        if let Some(why) = words_warning {
            leptos::logging::warn!("{why}");
            warnings.push(ConfigIssue {
                field: "translations".into(),
                message: why,
            });
        }
        self.warnings.set(warnings);
        match authority {
            Ok(authority) => Some(Loaded {
                config: Arc::new(config),
                authority,
                pending,
            }),
            Err(why) => {
                let authority = config.client.authority.clone();
                self.stop(Problem::AuthorityUnavailable { why, authority }, None);
                None
            }
        }
    }

    /// Back from the authority: the sign-in completes (or says why not), and the code leaves
    /// the address bar and history whatever happened.
    async fn finish_return(self, loaded: Loaded, params: &CallbackParams) {
        let Loaded {
            config,
            authority,
            pending,
        } = loaded;
        let return_path = pending
            .as_ref()
            .map(|p| p.return_path.clone())
            .unwrap_or_else(|| "/".into());
        let (ready, outcome) = self
            .complete_sign_in(config, authority, params, pending.as_ref())
            .await;
        // No session at the authority for our own silent try: the person signs in with the form.
        let silent_refusal = pending.is_some() && matches!(&outcome, Err(e) if e.is_silent_refusal());
        let back_to = if outcome.is_ok() || silent_refusal {
            return_path
        } else {
            "/".to_owned()
        };
        nav::replace(&back_to);
        self.route.set(Route::parse(&back_to));
        match outcome {
            Ok(()) => {}
            Err(_) if silent_refusal => {
                browser::clear_silent_sign_in();
                self.signed_out(ready, None);
            }
            Err(e) => self.stop(Problem::SignInFailed(e), Some(ready)),
        }
    }

    /// A page load that is no return from the authority: the Sign in button, or — on a reload
    /// or a new tab — a silent sign-in through the authority's own session.
    fn begin(self, ready: Arc<Ready>, route: &Route) {
        if !self.mode.owns_the_page() {
            // A popup needs a click; the person presses "Sign in" (AIM's session skips the form).
            self.signed_out(ready, None);
        } else if *route == Route::SignedOut {
            // Back from the authority's end-session step: a station's sign-out sent its name as
            // `state` (the only value the step carries back); the station's address again.
            if let Some(name) = returned_station() {
                nav::replace(&format!("/signed-out?station={name}"));
            }
            // Whoever signs in next at this page meets the authority's form.
            self.signed_out_here.set(true);
            self.signed_out(ready, Some(w(Word::SignedOut).into()));
        } else if !ready.config.client.silent_sign_in {
            // The site does without the silent try (config.json): the button at once.
            self.signed_out(ready, None);
        } else {
            // Reload or new tab: the authority's own session signs the person in without a form
            // (it answered a moment ago: no need to ask whether it is there).
            self.redirect_to_authority(&ready, Some(Prompt::None));
        }
    }

    /// Finishes a sign-in from the authority's answer (a redirect back to this page or a popup's
    /// message): checks, code exchange, ID token; on success the session begins. The authority
    /// as the exchange left it (its keys may have been fetched again) comes back either way.
    async fn complete_sign_in(
        &self,
        config: Arc<PortalConfig>,
        mut authority: Authority,
        params: &CallbackParams,
        pending: Option<&mes_client::PendingSignIn>,
    ) -> (Arc<Ready>, Result<(), SignInFailure>) {
        // The answer is judged here first (state, issuer, the authority's error): a refusal —
        // the silent try of every new visit without an AIM session — needs no exchange part.
        let result = match check_callback(params, pending, &authority.metadata) {
            Err(refused) => Err(SignInFailure::Callback(refused)),
            Ok(_) => match exchange(
                config.clone(),
                authority.clone(),
                params.clone(),
                pending.cloned(),
            )
            .await
            {
                Ok(future) => {
                    let (after, result) = future.await;
                    authority = after;
                    result
                }
                Err(crate::on_demand::NotLoaded) => {
                    Err(SignInFailure::Browser(w(Word::SignInPartNotLoaded).into()))
                }
            },
        };
        let ready = Arc::new(Ready {
            config,
            authority: Arc::new(authority),
        });
        match result {
            Ok(signed_in) => {
                self.enter_session(ready.clone(), signed_in);
                (ready, Ok(()))
            }
            Err(e) => (ready, Err(e)),
        }
    }

    /// Holds the new tokens in a session (renewal, lookups with the large-answer limit).
    fn enter_session(&self, ready: Arc<Ready>, signed_in: SignedIn) {
        let session = UserSession::new(
            BrowserTransport::new(lookup_body_limit()),
            &ready.authority,
            &ready.config.client,
            signed_in,
        );
        self.signed_out_here.set(false);
        self.phase
            .set(Phase::SignedIn(Arc::new(SignedInState { ready, session })));
    }

    /// Sends the browser to the authority (a popup when embedded), after asking the authority
    /// whether it answers, so nobody is sent to a browser error page. After a sign-out in this
    /// page the authority is asked for its form (`prompt=login`) whatever `prompt` says.
    pub fn sign_in(&self, prompt: Option<Prompt>) {
        let Some(ready) = self.ready() else {
            return;
        };
        let prompt = if self.signed_out_here.get_untracked() {
            Some(Prompt::Login)
        } else {
            prompt
        };
        if !self.mode.owns_the_page() {
            return self.sign_in_popup(ready, prompt);
        }
        self.phase.set(Phase::Redirecting(Some(ready.clone())));
        let this = *self;
        leptos::task::spawn_local(async move {
            let issuer = ready.authority.metadata.issuer.clone();
            match authority_reachable(&BrowserTransport::default(), &issuer).await {
                Ok(()) => this.redirect_to_authority(&ready, prompt),
                Err(why) => this.stop(
                    Problem::AuthorityUnavailable {
                        why,
                        authority: issuer,
                    },
                    Some(ready),
                ),
            }
        });
    }

    /// Renews an expired session without refresh tokens through the authority's session
    /// (`prompt=none`), unless this tab already tried within [`SILENT_SIGN_IN_INTERVAL`].
    /// Returns false when the breaker holds (the page then offers a Sign in button).
    pub fn renew_silently(&self) -> bool {
        if browser::silent_sign_in_within(SILENT_SIGN_IN_INTERVAL, now_seconds()) {
            return false;
        }
        let Phase::SignedIn(state) = self.phase.get_untracked() else {
            return false;
        };
        // `run_lookup` asked the authority whether it answers just before it reported the expiry.
        self.redirect_to_authority(&state.ready, Some(Prompt::None));
        true
    }

    fn redirect_to_authority(&self, ready: &Arc<Ready>, prompt: Option<Prompt>) {
        let here = browser::current_path();
        let return_path = match Route::parse(&here) {
            Route::Callback | Route::SignedOut => nav::with_station("/"),
            _ => here,
        };
        let outcome = SignInClient::new(&ready.config.client)
            .authorize(&ready.authority.metadata)
            .return_to(&return_path)
            .prompt(prompt)
            .url()
            .map_err(SignInFailure::from)
            .and_then(|redirect| {
                browser::save_round_trip(&redirect.pending, Some(&ready.authority))
                    .map_err(|e| SignInFailure::Browser(e.to_string()))?;
                if prompt == Some(Prompt::None) {
                    browser::note_silent_sign_in(now_seconds());
                }
                self.phase.set(Phase::Redirecting(Some(ready.clone())));
                browser::navigate(&redirect.url).map_err(|e| SignInFailure::Browser(e.to_string()))
            });
        if let Err(why) = outcome {
            self.stop(Problem::SignInFailed(why), Some(ready.clone()));
        }
    }

    /// Embedded: the authority's page opens in a popup, which hands the answer back to this page;
    /// the PKCE verifier stays in this function's memory.
    fn sign_in_popup(self, ready: Arc<Ready>, prompt: Option<Prompt>) {
        let failed = |why: SignInFailure| self.stop(Problem::SignInFailed(why), Some(ready.clone()));
        let redirect = match SignInClient::new(&ready.config.client)
            .authorize(&ready.authority.metadata)
            .prompt(prompt)
            .in_popup()
            .url()
        {
            Ok(r) => r,
            Err(e) => return failed(e.into()),
        };
        let popup = match browser::open_sign_in_popup(&redirect.url) {
            Ok(p) => p,
            Err(e) => return failed(SignInFailure::Browser(e.to_string())),
        };
        self.phase.set(Phase::Redirecting(Some(ready.clone())));
        leptos::task::spawn_local(async move {
            let Some(query) = self.popup_answer(popup, &redirect.pending.state, &ready).await else {
                return;
            };
            let params = CallbackParams::from_query(&query);
            let authority = (*ready.authority).clone();
            let (ready, outcome) = self
                .complete_sign_in(ready.config.clone(), authority, &params, Some(&redirect.pending))
                .await;
            if let Err(e) = outcome {
                self.stop(Problem::SignInFailed(e), Some(ready));
            }
        });
    }

    /// The query the sign-in popup answers with; `None` when there is none to use (the phase
    /// then says why).
    async fn popup_answer(
        self,
        popup: browser::SignInPopup,
        state: &mes_client::CsrfState,
        ready: &Arc<Ready>,
    ) -> Option<String> {
        match popup.answer(state).await {
            Ok(query) => Some(query),
            // Closed — or cut loose by the authority's page (a Cross-Origin-Opener-Policy),
            // told apart by how soon it happened. Said at once; the answer may still come on
            // the origin's channel (a page of the portal's own origin hears it, a grid framed
            // by another site cannot) until the person starts over.
            Err(e @ (browser::PopupError::Closed | browser::PopupError::CutLoose)) => {
                let note: String = match e {
                    browser::PopupError::CutLoose => w(Word::PopupCutLoose),
                    _ => w(Word::PopupClosed),
                }
                .into();
                self.signed_out(ready.clone(), Some(note.clone()));
                let phase = self.phase;
                let still_wanted = move || matches!(phase.try_get_untracked(), Some(Phase::SignedOut { notice: Some(ref n), .. }) if *n == note);
                let query = browser::SignInPopup::answer_from_afar(state, 600, still_wanted).await?;
                self.phase.set(Phase::Redirecting(Some(ready.clone())));
                Some(query)
            }
            Err(e) => {
                let why = SignInFailure::Browser(e.to_string());
                self.stop(Problem::SignInFailed(why), Some(ready.clone()));
                None
            }
        }
    }

    /// Forgets the tokens, revokes the refresh token, tells the other tabs, and ends the
    /// authority's session at its end-session endpoint, by POST or GET as config.json says
    /// (embedded: only this page's session, the host page stays).
    pub fn sign_out(self) {
        let signed_in = match self.phase.get_untracked() {
            Phase::SignedIn(s) => Some(s),
            _ => None,
        };
        self.signed_out_here.set(true);
        if let Some(ready) = self.ready() {
            self.signed_out(ready, Some(w(Word::SignedOut).into()));
        }
        browser::announce_sign_out();
        let Some(state) = signed_in else {
            if self.mode.owns_the_page() {
                self.navigate(Route::SignedOut);
            }
            return;
        };
        leptos::task::spawn_local(async move {
            let tokens = state.tokens();
            if let Some(refresh_token) = &tokens.refresh_token {
                // Best effort: the end-session step below ends the authority's session anyway.
                let transport = BrowserTransport::default();
                let _ = revoke_refresh_token(
                    &transport,
                    &state.authority().metadata,
                    &state.config().client.client_id,
                    refresh_token,
                )
                .await;
            }
            if !self.mode.owns_the_page() {
                return;
            }
            let ready = state.ready.clone();
            match end_session_request(
                &state.authority().metadata,
                &state.config().client,
                tokens.id_token.as_ref(),
                // A station's name goes along and comes back to `/signed-out` (`begin`).
                nav::station().as_deref(),
            ) {
                Some(form) => {
                    if let Err(why) = browser::leave_for_end_session(&form) {
                        let why = why.to_string();
                        self.signed_out(ready, Some(fill(Word::EndSessionFailed, &[("why", &why)])));
                    }
                }
                None => {
                    self.navigate(Route::SignedOut);
                    self.signed_out(ready, Some(w(Word::NoEndSession).into()));
                }
            }
        });
    }

    /// Another tab signed out: forget this tab's tokens too.
    pub fn signed_out_elsewhere(&self) {
        if matches!(self.phase.get_untracked(), Phase::SignedIn(_)) {
            self.session_ended(w(Word::SignedOutElsewhere).into());
        }
    }

    /// The session ended somewhere else (another tab, the authority): signed out with `notice`,
    /// and the next sign-in asks for the authority's form.
    pub fn session_ended(&self, notice: String) {
        self.signed_out_here.set(true);
        if let Some(ready) = self.ready() {
            self.signed_out(ready, Some(notice));
        }
    }

    /// Runs a lookup as the signed-in person (the session renews its token as needed). When the
    /// session can only be renewed through the authority and the authority does not answer, that
    /// is an outage (with automatic retries), not an expired session: a silent sign-in would
    /// navigate to a dead host.
    /// The rows are decoded into `target` as they arrive (see [`RowsTarget`]). `query` is the
    /// question's parameters ([`LookupDefinition::query`]) or a record's key
    /// ([`LookupDefinition::record_query`]); `wanted` says which.
    pub async fn run_lookup(
        &self,
        lookup_def: &LookupDefinition,
        query: &[(String, String)],
        wanted: Wanted,
        target: &mut dyn RowsTarget,
    ) -> Result<(), MesError> {
        let Phase::SignedIn(state) = self.phase.get_untracked() else {
            return Err(MesError::SessionExpired);
        };
        let endpoint = match (wanted, &lookup_def.record) {
            (Wanted::Rows { .. }, _) => &lookup_def.endpoint,
            (Wanted::Record, Some(record)) => &record.endpoint,
            (Wanted::Record, None) => {
                return Err(MesError::NotConfigured {
                    message: format!("the lookup \"{}\" has no record endpoint", lookup_def.name),
                });
            }
        };
        let Some(api) = state.config().web_api(&lookup_def.web_api).cloned() else {
            return Err(MesError::NotConfigured {
                message: format!(
                    "the lookup \"{}\" names the Web API \"{}\", which config.json does not define",
                    lookup_def.name, lookup_def.web_api
                ),
            });
        };
        let call = state.session.lookup(&api, endpoint).params(query.iter().cloned());
        let call = match wanted {
            Wanted::Rows { max_rows } => call.max_rows(max_rows),
            Wanted::Record => call.record(),
        };
        let result = call.send_into(target).await;
        let result = match result {
            Err(MesError::SessionExpired) if state.session.needs_sign_in() => {
                match authority_reachable(&BrowserTransport::default(), &state.authority().metadata.issuer)
                    .await
                {
                    Ok(()) => Err(MesError::SessionExpired),
                    Err(why) => Err(MesError::AuthorityOffline {
                        message: format!(
                            "your session needs renewing at the identity authority, which did not answer: {why}"
                        ),
                        retry_after: None,
                    }),
                }
            }
            other => other,
        };
        self.session_seen.update(|n| *n += 1);
        result
    }
}

/// What a lookup call asks the MES for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Wanted {
    /// The lookup's rows, at most `max_rows` of them.
    Rows {
        /// The `max_rows` sent ([`mes_client::ask::max_rows_for`] a limit).
        max_rows: u32,
    },
    /// One row read whole from the lookup's record endpoint (its detail).
    Record,
}

impl Default for Portal {
    fn default() -> Self {
        Self::new()
    }
}

async fn load_config() -> Result<(PortalConfig, Vec<ConfigIssue>), Vec<ConfigIssue>> {
    let origin = nav::origin();
    PortalConfig::load(
        &BrowserTransport::default(),
        &format!("{origin}/config.json"),
        Runtime::Browser,
    )
    .await
    .map(|(config, report)| (config, report.warnings))
    .map_err(|report| report.errors)
}
