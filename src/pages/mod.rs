//! Pages and the plain-language states: sign-in, configuration problems, authority unavailable,
//! sign-in refused, the signed-in shell, and the MES failure view.

mod diagnostics;
mod web_apis;

pub use diagnostics::Diagnostics;
pub use web_apis::WebApis;

use crate::on_demand::{self, on_demand};
use crate::session::{AuthState, SignedInState, use_portal};
use leptos::prelude::*;
use mes_client::{ConfigIssue, DiscoveryError, MesError, Prompt, SessionHealth, SignInError, SignInFailure, now_seconds};
use std::sync::Arc;

/// A centred card with a title.
#[component]
fn Card(#[prop(into)] title: String, children: Children) -> impl IntoView {
    view! { <div class="card"><h1>{title}</h1>{children()}</div> }
}

/// Reading config and discovery.
#[component]
pub fn Starting() -> impl IntoView {
    view! { <div class="card" role="status" aria-busy="true"><p class="muted">"Connecting to the identity authority…"</p></div> }
}

/// Every problem in config.json.
#[component]
pub fn ConfigInvalid(issues: Vec<ConfigIssue>) -> impl IntoView {
    view! {
        <Card title="The portal's configuration has problems">
            <p>"The portal cannot start until config.json is fixed. Ask the person who deployed the portal to correct:"</p>
            <ul class="config-problems">
                {issues.into_iter().map(|i| view! { <li><code>{i.field}</code>" "{i.message}</li> }).collect_view()}
            </ul>
            <p class="muted">"docs/deploy.md explains every field."</p>
        </Card>
    }
}

/// The authority did not answer (at start, or when a sign-in was about to leave for it).
#[component]
pub fn AuthorityUnavailable(why: DiscoveryError, authority: String) -> impl IntoView {
    let why = why.to_string();
    let portal = use_portal();
    view! {
        <Card title="AVEVA Identity Manager cannot be reached">
            <div class="state bad" role="alert">
                <p>"The portal could not read the identity authority's settings at " <code>{authority}</code> "."</p>
                <pre>{why}</pre>
                <p>"Likely causes: the System Management Server is offline, the address in config.json is wrong, or it does not allow this portal's origin (CORS)."</p>
                <div class="actions"><button on:click=move |_| leptos::task::spawn_local(portal.start())>"Try again"</button></div>
            </div>
        </Card>
    }
}

/// The sign-in page.
#[component]
pub fn SignInPage(notice: Option<String>) -> impl IntoView {
    let portal = use_portal();
    let config = portal.config.get_untracked();
    let name = config
        .as_ref()
        .map(|c| if c.client.authority_name.is_empty() { "AVEVA Identity Manager".into() } else { c.client.authority_name.clone() })
        .unwrap_or_default();
    let address = config.as_ref().map(|c| c.client.authority.clone()).unwrap_or_default();
    let signed_out = notice.is_some();
    view! {
        <Card title="MES Web Portal">
            {notice.map(|n| view! { <p class="state" role="status" id="notice">{n}</p> })}
            <p>"Sign in with your plant account at " <strong>{name}</strong> "."</p>
            <p class="muted">{address}</p>
            <div class="actions">
                <button id="sign-in" on:click=move |_| portal.sign_in(if signed_out { Some(Prompt::Login) } else { None })>"Sign in"</button>
            </div>
        </Card>
    }
}

/// What a person can do about a failed sign-in, by its kind.
fn sign_in_advice(failure: &SignInFailure) -> &'static str {
    match failure {
        SignInFailure::Callback(SignInError::Refused { .. }) => {
            "The identity authority said no. Try again, or ask your administrator whether this account may use the portal."
        }
        SignInFailure::Callback(SignInError::BadUrl { .. }) => {
            "An address in config.json or in the authority's settings is not usable; ask the person who deployed the portal."
        }
        SignInFailure::Callback(SignInError::NoRandomness(_)) => "This browser gave no secure random numbers; try another browser.",
        SignInFailure::Callback(_) => "Nothing was stored. If this keeps happening, the link may have been tampered with or opened twice.",
        SignInFailure::Token(e) if e.is_outage() => {
            "The identity authority did not answer while finishing the sign-in. Try again in a moment."
        }
        SignInFailure::Token(_) => {
            "The identity authority refused to finish the sign-in. Try again; if it keeps happening, its registration of this portal may be wrong."
        }
        SignInFailure::IdToken(_) => {
            "The identity authority's answer did not pass the checks, so it was not used. Nothing was stored. Check this computer's clock, then try again."
        }
        SignInFailure::Discovery(_) => "The identity authority's keys could not be read. Try again in a moment.",
        SignInFailure::Browser(_) => {
            "The browser blocked a step of the sign-in (storage or a popup). Allow it for this site, then try again."
        }
    }
}

/// The sign-in answer was refused, or the browser could not take part.
#[component]
pub fn SignInFailed(why: SignInFailure) -> impl IntoView {
    let portal = use_portal();
    let advice = sign_in_advice(&why);
    view! {
        <Card title="Sign-in did not complete">
            <div class="state bad" role="alert">
                <p id="sign-in-error">{why.to_string()}</p>
                <p class="muted">{advice}</p>
                <div class="actions"><button on:click=move |_| portal.sign_in(None)>"Try again"</button></div>
            </div>
        </Card>
    }
}

/// What the header says about the session: only what is true now.
fn health_text(health: &SessionHealth, now: u64) -> (&'static str, String) {
    match health {
        SessionHealth::Valid { expires_at: Some(at) } if *at > now => {
            ("ok", format!("✓ session valid, {} min left", (at - now).div_ceil(60)))
        }
        SessionHealth::Valid { expires_at: None } => ("ok", "✓ session valid".into()),
        SessionHealth::Valid { .. } => ("busy", "session renews with the next request".into()),
        SessionHealth::Renewing => ("busy", "session renewing…".into()),
        SessionHealth::AuthorityOffline { expires_at: Some(at) } if *at > now => {
            ("warn", format!("⚠ AIM offline: session valid {} min more, renewal retried", (at - now).div_ceil(60)))
        }
        SessionHealth::AuthorityOffline { .. } => ("warn", "⚠ AIM offline: session waiting for renewal".into()),
        SessionHealth::NeedsSignIn => ("warn", "session expired: renewing through AIM".into()),
        SessionHealth::Ended(_) => ("bad", "✗ session expired: sign in again".into()),
    }
}

/// Who is signed in, what state the session is in, sign out.
#[component]
fn SessionBar(session: Arc<SignedInState>) -> impl IntoView {
    let portal = use_portal();
    let now = RwSignal::new(now_seconds());
    let handle = set_interval_with_handle(move || now.set(now_seconds()), std::time::Duration::from_secs(15)).ok();
    on_cleanup(move || {
        if let Some(h) = handle {
            h.clear();
        }
    });
    let name = session.claims().identity();
    let health = Memo::new(move |_| {
        portal.session_seen.track();
        health_text(&session.health(), now.get())
    });
    view! {
        <div class="session">
            <span class="who" id="signed-in-as">{name}</span>
            <span class="valid" id="session-health" data-health=move || health.get().0 role="status">{move || health.get().1}</span>
            <button class="secondary" id="sign-out" on:click=move |_| portal.sign_out()>"Sign out"</button>
        </div>
    }
}

/// The signed-in portal: top bar, lookup list, and the page for the current path.
#[component]
pub fn Shell(session: Arc<SignedInState>) -> impl IntoView {
    let portal = use_portal();
    let lookups = session.config.lookups.clone();
    let nav_lookups = lookups.clone();
    let current = move || {
        let route = portal.route.get();
        match route.as_str() {
            "/" => Some(0),
            other => other.strip_prefix("/lookups/").and_then(|i| i.parse::<usize>().ok()),
        }
    };
    let warnings = portal.warnings.get_untracked();
    // On a narrow screen the navigation folds behind a menu button (portal.css), so the page
    // gets the screen; choosing a page folds it again.
    let menu_open = RwSignal::new(false);
    Effect::new(move |_| {
        portal.route.track();
        menu_open.set(false);
    });
    view! {
        <header class="topbar">
            <button class="secondary menu" aria-controls="portal-nav" aria-expanded=move || menu_open.get().to_string()
                on:click=move |_| menu_open.update(|o| *o = !*o)>"Menu"</button>
            <span class="brand">"MES Web Portal"</span><SessionBar session=session.clone() />
        </header>
        <div class="layout">
            <nav class="lookups" id="portal-nav" aria-label="Lookups" class:open=move || menu_open.get()>
                <h2>"Lookups"</h2>
                {nav_lookups.into_iter().enumerate().map(|(i, l)| {
                    let href = format!("/lookups/{i}");
                    let target = href.clone();
                    view! {
                        <a href=href aria-current=move || (current() == Some(i)).then_some("page")
                           on:click=move |ev| { ev.prevent_default(); portal.navigate(&target); }>{l.name}</a>
                    }
                }).collect_view()}
                <h2>"Portal"</h2>
                {[("/web-apis", "Web APIs"), ("/diagnostics", "Diagnostics")].into_iter().map(|(href, label)| view! {
                    <a href=href aria-current=move || (portal.route.get() == href).then_some("page")
                       on:click=move |ev| { ev.prevent_default(); portal.navigate(href); }>{label}</a>
                }).collect_view()}
            </nav>
            <main>
                {(!warnings.is_empty()).then(|| view! {
                    <div class="warnings" role="note">
                        {warnings.into_iter().map(|w| view! { <p><code>{w.field}</code>" "{w.message}</p> }).collect_view()}
                    </div>
                })}
                {move || match (portal.route.get().as_str(), current().and_then(|i| lookups.get(i).cloned())) {
                    ("/web-apis", _) => {
                        let session = session.clone();
                        on_demand("the Web APIs page", move || Box::pin(on_demand::web_apis_page(session.clone())))
                    }
                    ("/diagnostics", _) => {
                        let session = session.clone();
                        on_demand("Diagnostics", move || Box::pin(on_demand::diagnostics_page(session.clone())))
                    }
                    (_, Some(lookup)) => on_demand("the lookup grid", move || Box::pin(on_demand::lookup_page(lookup.clone()))),
                    (_, None) if lookups.is_empty() => view! { <p>"No lookups are configured."</p> }.into_any(),
                    (_, None) => view! {
                        <div class="state"><h2>"Page not found"</h2><p>"There is no page at this address."</p>
                        <div class="actions"><button on:click=move |_| portal.navigate("/")>"Go to the first lookup"</button></div></div>
                    }.into_any(),
                }}
            </main>
        </div>
    }
}

/// Seconds to wait before automatic retry number `attempt` (5, 10, 20, 40, then 60).
pub fn backoff_seconds(attempt: u32) -> u32 {
    (5u32 << attempt.min(4)).min(60)
}

/// "Trying again in N s…", then `retry`: outages end by themselves, and a screen left open on
/// the plant floor should come back without anyone touching it.
#[component]
pub fn RetryCountdown(retry: Callback<()>, attempt: u32) -> impl IntoView {
    let left = RwSignal::new(backoff_seconds(attempt));
    let handle = set_interval_with_handle(
        move || {
            let n = left.get_untracked().saturating_sub(1);
            left.set(n);
            if n == 0 {
                retry.run(());
            }
        },
        std::time::Duration::from_secs(1),
    )
    .ok();
    on_cleanup(move || {
        if let Some(h) = handle {
            h.clear();
        }
    });
    view! { <p class="countdown">{move || format!("Trying again in {} s…", left.get())}</p> }
}

/// The session is over: sign in again (the authority's session usually skips the form).
#[component]
fn SessionExpired(#[prop(into)] note: String) -> impl IntoView {
    let portal = use_portal();
    view! {
        <div class="state warn" role="alert" data-state="session-expired">
            <h2>"Your session has expired"</h2>
            <p>"Sign in again to continue; you will come back to this page."</p>
            {(!note.is_empty()).then(|| view! { <p class="muted">{note}</p> })}
            <div class="actions"><button on:click=move |_| portal.sign_in(None)>"Sign in again"</button></div>
        </div>
    }
}

/// What an MES failure means and what to do next.
#[component]
pub fn FailureView(
    /// The failure.
    error: MesError,
    /// Runs the lookup again.
    retry: Callback<()>,
    /// How many retries already happened (for the backoff).
    attempt: u32,
) -> impl IntoView {
    let portal = use_portal();
    let retry_button = move || view! { <button class="secondary" on:click=move |_| retry.run(())>"Retry now"</button> };
    match error {
        MesError::Denied { message, identity } => {
            let who = identity.unwrap_or_else(|| "your account".into());
            view! {
                <div class="state bad" role="alert" data-state="denied">
                    <h2>"Access denied by the MES"</h2>
                    <p>"The MES refused this lookup for " <strong class="identity">{who.clone()}</strong> ":"</p>
                    <pre class="mes-message">{message}</pre>
                    <p>"Your sign-in worked, but " {who} " is not an active MES user or lacks the privilege for this data. Ask your MES administrator to add the account as an MES user with the needed privileges."</p>
                    <div class="actions">{retry_button()}<button class="secondary" on:click=move |_| portal.sign_out()>"Sign in as someone else"</button></div>
                </div>
            }.into_any()
        }
        MesError::AuthorityOffline { message } => view! {
            <div class="state warn" role="alert" data-state="authority-offline">
                <h2>"AVEVA Identity Manager is offline"</h2>
                <p>"The MES cannot check your sign-in because it cannot reach the identity authority (the System Management Server). Your page is kept; nothing needs to be done here."</p>
                <pre class="mes-message">{message}</pre>
                <RetryCountdown retry=retry attempt=attempt />
                <div class="actions">{retry_button()}</div>
            </div>
        }
        .into_any(),
        MesError::SessionExpired
            if !portal.embedded && matches!(portal.auth.get_untracked(), AuthState::SignedIn(s) if s.needs_sign_in()) =>
        {
            // No refresh token was issued and the token has expired: renew through AIM's session
            // without a form (the grid's state travels in the address) — once per interval, so a
            // renewal that keeps failing ends at a button, not in a loop.
            let renewing = RwSignal::new(true);
            set_timeout(move || renewing.set(portal.renew_silently()), std::time::Duration::ZERO);
            (move || if renewing.get() {
                view! {
                    <div class="state" role="status" data-state="renewing">
                        <h2>"Renewing your session…"</h2>
                        <p>"Your sign-in is being renewed through AVEVA Identity Manager; you will come back to this page."</p>
                    </div>
                }
                .into_any()
            } else {
                view! { <SessionExpired note="Automatic renewal was tried a moment ago and did not last, so it is not repeated." /> }.into_any()
            })
            .into_any()
        }
        MesError::SessionExpired => view! { <SessionExpired note="" /> }.into_any(),
        MesError::Unreachable { url, reason } => {
            let origin = crate::nav::origin();
            view! {
                <div class="state bad" role="alert" data-state="unreachable">
                    <h2>"The MES could not be reached"</h2>
                    <p>"No answer from " <code class="address">{url}</code> "."</p>
                    <p>"Likely causes:"</p>
                    <ul>
                        <li>"the MES Web API (middleware) is stopped or the server is down;"</li>
                        <li>"the base address in config.json is wrong;"</li>
                        <li>"the MES does not allow this portal's origin " <code>{origin}</code> " (CORS);"</li>
                        <li>"the server's certificate is not trusted by this computer."</li>
                    </ul>
                    <pre>{reason}</pre>
                    <RetryCountdown retry=retry attempt=attempt />
                    <div class="actions">{retry_button()}</div>
                </div>
            }
            .into_any()
        }
        MesError::UnexpectedResponse { status, content_type, reason, first_bytes } => view! {
            <div class="state bad" role="alert" data-state="unexpected">
                <h2>"Unexpected answer from the MES"</h2>
                <p>{format!("HTTP {status}, {content_type}: {reason}.")}</p>
                <p>"It starts with:"</p>
                <pre>{first_bytes}</pre>
                <p class="muted">"A proxy or login page may be answering instead of the MES Web API; check the base address."</p>
                <div class="actions">{retry_button()}</div>
            </div>
        }
        .into_any(),
        MesError::NotFound { message } => view! {
            <div class="state bad" role="alert" data-state="not-found">
                <h2>"The MES does not know this lookup"</h2>
                <pre class="mes-message">{message}</pre>
                <p class="muted">"Check the endpoint name of this lookup in config.json."</p>
                <div class="actions">{retry_button()}</div>
            </div>
        }
        .into_any(),
        MesError::NotConfigured { message } => view! {
            <div class="state bad" role="alert" data-state="not-configured">
                <h2>"This lookup is not set up correctly"</h2>
                <pre class="mes-message">{message}</pre>
                <p class="muted">"Nothing was sent to the MES. Ask the person who deployed the portal to correct config.json (docs/deploy.md explains every field)."</p>
            </div>
        }
        .into_any(),
        MesError::ServerError { status, message } => view! {
            <div class="state bad" role="alert" data-state="server-error">
                <h2>{format!("The MES reported an error (HTTP {status})")}</h2>
                <pre class="mes-message">{message}</pre>
                <div class="actions">{retry_button()}</div>
            </div>
        }
        .into_any(),
    }
}

/// The whole page for the current sign-in state.
#[component]
pub fn Root() -> impl IntoView {
    let portal = use_portal();
    move || match portal.auth.get() {
        AuthState::Starting => view! { <Starting /> }.into_any(),
        AuthState::ConfigInvalid(issues) => view! { <ConfigInvalid issues=issues /> }.into_any(),
        AuthState::AuthorityUnavailable { why, authority } => view! { <AuthorityUnavailable why=why authority=authority /> }.into_any(),
        AuthState::SignedOut(notice) => view! { <SignInPage notice=notice /> }.into_any(),
        AuthState::Redirecting => {
            view! { <div class="card" role="status"><p class="muted">"Opening the sign-in page…"</p></div> }.into_any()
        }
        AuthState::SignInFailed(why) => view! { <SignInFailed why=why /> }.into_any(),
        AuthState::SignedIn(session) => view! { <Shell session=session /> }.into_any(),
    }
}
