//! Pages and the plain-language states: sign-in, configuration problems, authority unavailable,
//! sign-in refused, the signed-in shell, and the MES failure view.

mod diagnostics;
mod web_apis;

pub use diagnostics::Diagnostics;
pub use web_apis::WebApis;

use crate::on_demand::{self, on_demand};
use crate::session::{AuthState, SignedInState, use_portal};
use crate::words::{GridWord, RareWord, Word, around, fill, w};
use leptos::prelude::*;
use mes_client::{
    ConfigIssue, DiscoveryError, MesError, Prompt, SessionHealth, SignInError, SignInFailure, now_seconds,
};
use std::sync::Arc;

/// A centred card with a title.
#[component]
fn Card(#[prop(into)] title: String, children: Children) -> impl IntoView {
    view! { <div class="card"><h1>{title}</h1>{children()}</div> }
}

/// Reading config and discovery.
#[component]
pub fn Starting() -> impl IntoView {
    view! { <div class="card" role="status" aria-busy="true"><p class="muted">{w(Word::Connecting)}</p></div> }
}

/// Every problem in config.json.
#[component]
pub fn ConfigInvalid(issues: Vec<ConfigIssue>) -> impl IntoView {
    view! {
        <Card title=w(RareWord::ConfigTitle)>
            <p>{w(RareWord::ConfigIntro)}</p>
            <ul class="config-problems">
                {issues.into_iter().map(|i| view! { <li><code>{i.field}</code>" "{i.message}</li> }).collect_view()}
            </ul>
            <p class="muted">{w(RareWord::ConfigDocs)}</p>
        </Card>
    }
}

/// The authority did not answer (at start, or when a sign-in was about to leave for it).
#[component]
pub fn AuthorityUnavailable(why: DiscoveryError, authority: String) -> impl IntoView {
    let why = why.to_string();
    let portal = use_portal();
    let (before, after) = around(RareWord::AuthorityNotRead, "address");
    view! {
        <Card title=w(RareWord::AuthorityTitle)>
            <div class="state bad" role="alert">
                <p>{before}<code>{authority}</code>{after}</p>
                <pre>{why}</pre>
                <p>{w(RareWord::AuthorityCauses)}</p>
                <div class="actions"><button on:click=move |_| leptos::task::spawn_local(portal.start())>{w(Word::TryAgain)}</button></div>
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
        .map(|c| {
            if c.client.authority_name.is_empty() {
                w(Word::DefaultAuthority).into()
            } else {
                c.client.authority_name.clone()
            }
        })
        .unwrap_or_default();
    let address = config
        .as_ref()
        .map(|c| c.client.authority.clone())
        .unwrap_or_default();
    let signed_out = notice.is_some();
    let (before, after) = around(Word::SignInWith, "authority");
    view! {
        <Card title=w(Word::PortalName)>
            {notice.map(|n| view! { <p class="state" role="status" id="notice">{n}</p> })}
            <p>{before}<strong>{name}</strong>{after}</p>
            <p class="muted">{address}</p>
            <div class="actions">
                <button id="sign-in" on:click=move |_| portal.sign_in(if signed_out { Some(Prompt::Login) } else { None })>{w(Word::SignIn)}</button>
            </div>
        </Card>
    }
}

/// What a person can do about a failed sign-in, by its kind.
fn sign_in_advice(failure: &SignInFailure) -> &'static str {
    w(match failure {
        SignInFailure::Callback(SignInError::Refused { .. }) => RareWord::AdviceRefused,
        SignInFailure::Callback(SignInError::BadUrl { .. }) => RareWord::AdviceBadUrl,
        SignInFailure::Callback(SignInError::NoRandomness(_)) => RareWord::AdviceNoRandomness,
        SignInFailure::Callback(_) => RareWord::AdviceCallback,
        SignInFailure::Token(e) if e.is_outage() => RareWord::AdviceTokenOutage,
        SignInFailure::Token(_) => RareWord::AdviceTokenRefused,
        SignInFailure::IdToken(_) => RareWord::AdviceIdToken,
        SignInFailure::Discovery(_) => RareWord::AdviceDiscovery,
        SignInFailure::Browser(_) => RareWord::AdviceBrowser,
        SignInFailure::PopupCutLoose => RareWord::AdviceCutLoose,
    })
}

/// The sign-in answer was refused, or the browser could not take part.
#[component]
pub fn SignInFailed(why: SignInFailure) -> impl IntoView {
    let portal = use_portal();
    let advice = sign_in_advice(&why);
    view! {
        <Card title=w(RareWord::SignInFailedTitle)>
            <div class="state bad" role="alert">
                <p id="sign-in-error">{why.to_string()}</p>
                <p class="muted">{advice}</p>
                <div class="actions"><button on:click=move |_| portal.sign_in(None)>{w(Word::TryAgain)}</button></div>
            </div>
        </Card>
    }
}

/// What the header says about the session: only what is true now.
fn health_text(health: &SessionHealth, now: u64) -> (&'static str, String) {
    let minutes = |at: u64| (at - now).div_ceil(60).to_string();
    match health {
        SessionHealth::Valid { expires_at: Some(at) } if *at > now => {
            ("ok", fill(Word::HealthValidFor, &[("minutes", &minutes(*at))]))
        }
        SessionHealth::Valid { expires_at: None } => ("ok", w(Word::HealthValid).into()),
        SessionHealth::Valid { .. } => ("busy", w(Word::HealthRenewsNext).into()),
        SessionHealth::Renewing => ("busy", w(Word::HealthRenewing).into()),
        SessionHealth::AuthorityOffline { expires_at: Some(at) } if *at > now => (
            "warn",
            fill(Word::HealthOfflineFor, &[("minutes", &minutes(*at))]),
        ),
        SessionHealth::AuthorityOffline { .. } => ("warn", w(Word::HealthOfflineWaiting).into()),
        SessionHealth::NeedsSignIn => ("warn", w(Word::HealthNeedsSignIn).into()),
        SessionHealth::Ended(_) => ("bad", w(Word::HealthEnded).into()),
    }
}

/// Who is signed in, what state the session is in, sign out.
#[component]
fn SessionBar(session: Arc<SignedInState>) -> impl IntoView {
    let portal = use_portal();
    let now = RwSignal::new(now_seconds());
    let handle =
        set_interval_with_handle(move || now.set(now_seconds()), std::time::Duration::from_secs(15)).ok();
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
            <button class="secondary" id="sign-out" on:click=move |_| portal.sign_out()>{w(Word::SignOut)}</button>
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
            other => other
                .strip_prefix("/lookups/")
                .and_then(|i| i.parse::<usize>().ok()),
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
                on:click=move |_| menu_open.update(|o| *o = !*o)>{w(Word::Menu)}</button>
            <span class="brand">{w(Word::PortalName)}</span><SessionBar session=session.clone() />
        </header>
        <div class="layout">
            <nav class="lookups" id="portal-nav" aria-label=w(Word::Lookups) class:open=move || menu_open.get()>
                <h2>{w(Word::Lookups)}</h2>
                {nav_lookups.into_iter().enumerate().map(|(i, l)| {
                    let href = format!("/lookups/{i}");
                    let target = href.clone();
                    view! {
                        <a href=href aria-current=move || (current() == Some(i)).then_some("page")
                           on:click=move |ev| { ev.prevent_default(); portal.navigate(&target); }>{l.name}</a>
                    }
                }).collect_view()}
                <h2>{w(Word::PortalSection)}</h2>
                {[("/web-apis", w(Word::WebApis)), ("/diagnostics", w(Word::Diagnostics))].into_iter().map(|(href, label)| view! {
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
                        on_demand(w(Word::PartWebApis), move || Box::pin(on_demand::web_apis_page(session.clone())))
                    }
                    ("/diagnostics", _) => {
                        let session = session.clone();
                        on_demand(w(Word::PartDiagnostics), move || Box::pin(on_demand::diagnostics_page(session.clone())))
                    }
                    (_, Some(lookup)) => on_demand(w(Word::PartGrid), move || Box::pin(on_demand::lookup_page(lookup.clone()))),
                    (_, None) if lookups.is_empty() => view! { <p>{w(Word::NoLookups)}</p> }.into_any(),
                    (_, None) => view! {
                        <div class="state"><h2>{w(Word::PageNotFound)}</h2><p>{w(Word::PageNotFoundText)}</p>
                        <div class="actions"><button on:click=move |_| portal.navigate("/")>{w(Word::GoToFirstLookup)}</button></div></div>
                    }.into_any(),
                }}
            </main>
        </div>
    }
}

/// Seconds to wait before automatic retry number `attempt` (5, 10, 20, 40, then 60), or longer
/// when the server asked for a longer wait (`Retry-After`, already capped by mes-client).
pub fn backoff_seconds(attempt: u32, asked: Option<u64>) -> u32 {
    let own = (5u32 << attempt.min(4)).min(60);
    own.max(asked.map_or(0, |s| u32::try_from(s).unwrap_or(u32::MAX)))
}

/// "Trying again in N s…", then `retry`: outages end by themselves, and a screen left open on
/// the plant floor should come back without anyone touching it. `asked`: the wait the server
/// asked for, if longer than the portal's own.
#[component]
pub fn RetryCountdown(
    retry: Callback<()>,
    attempt: u32,
    #[prop(optional_no_strip)] asked: Option<u64>,
) -> impl IntoView {
    let left = RwSignal::new(backoff_seconds(attempt, asked));
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
    view! { <p class="countdown">{move || fill(Word::Countdown, &[("seconds", &left.get().to_string())])}</p> }
}

/// The session is over: sign in again (the authority's session usually skips the form).
#[component]
fn SessionExpired(#[prop(into)] note: String) -> impl IntoView {
    let portal = use_portal();
    view! {
        <div class="state warn" role="alert" data-state="session-expired">
            <h2>{w(GridWord::ExpiredTitle)}</h2>
            <p>{w(GridWord::ExpiredText)}</p>
            {(!note.is_empty()).then(|| view! { <p class="muted">{note}</p> })}
            <div class="actions"><button on:click=move |_| portal.sign_in(None)>{w(Word::SignInAgain)}</button></div>
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
    let retry_button = move || view! { <button class="secondary" on:click=move |_| retry.run(())>{w(Word::RetryNow)}</button> };
    match error {
        MesError::Denied { message, identity } => {
            let who = identity.unwrap_or_else(|| w(GridWord::YourAccount).into());
            let (before, after) = around(GridWord::DeniedRefusedFor, "who");
            view! {
                <div class="state bad" role="alert" data-state="denied">
                    <h2>{w(GridWord::DeniedTitle)}</h2>
                    <p>{before}<strong class="identity">{who.clone()}</strong>{after}</p>
                    <pre class="mes-message">{message}</pre>
                    <p>{fill(GridWord::DeniedExplain, &[("who", &who)])}</p>
                    <div class="actions">{retry_button()}<button class="secondary switch-user" on:click=move |_| portal.sign_out()>{w(Word::SignInAsSomeoneElse)}</button></div>
                </div>
            }.into_any()
        }
        MesError::AuthorityOffline { message, retry_after } => view! {
            <div class="state warn" role="alert" data-state="authority-offline">
                <h2>{w(GridWord::OfflineTitle)}</h2>
                <p>{w(GridWord::OfflineText)}</p>
                <pre class="mes-message">{message}</pre>
                <RetryCountdown retry=retry attempt=attempt asked=retry_after />
                <div class="actions">{retry_button()}</div>
            </div>
        }
        .into_any(),
        MesError::SessionExpired
            if !portal.embedded
                && matches!(portal.auth.get_untracked(), AuthState::SignedIn(s) if s.needs_sign_in()) =>
        {
            // No refresh token was issued and the token has expired: renew through AIM's session
            // without a form (the grid's state travels in the address) — once per interval, so a
            // renewal that keeps failing ends at a button, not in a loop.
            let renewing = RwSignal::new(true);
            set_timeout(
                move || renewing.set(portal.renew_silently()),
                std::time::Duration::ZERO,
            );
            (move || {
                if renewing.get() {
                    view! {
                        <div class="state" role="status" data-state="renewing">
                            <h2>{w(GridWord::RenewingTitle)}</h2>
                            <p>{w(GridWord::RenewingText)}</p>
                        </div>
                    }
                    .into_any()
                } else {
                    view! { <SessionExpired note=w(GridWord::RenewalDidNotLast) /> }.into_any()
                }
            })
            .into_any()
        }
        MesError::SessionExpired => view! { <SessionExpired note="" /> }.into_any(),
        MesError::Unreachable { url, reason } => {
            let origin = crate::nav::origin();
            let (before, after) = around(GridWord::UnreachableNoAnswer, "address");
            let (cors_before, cors_after) = around(GridWord::CauseCors, "origin");
            view! {
                <div class="state bad" role="alert" data-state="unreachable">
                    <h2>{w(GridWord::UnreachableTitle)}</h2>
                    <p>{before}<code class="address">{url}</code>{after}</p>
                    <p>{w(GridWord::LikelyCauses)}</p>
                    <ul>
                        <li>{w(GridWord::CauseStopped)}</li>
                        <li>{w(GridWord::CauseBaseAddress)}</li>
                        <li>{cors_before}<code>{origin}</code>{cors_after}</li>
                        <li>{w(GridWord::CauseCertificate)}</li>
                    </ul>
                    <pre>{reason}</pre>
                    <RetryCountdown retry=retry attempt=attempt />
                    <div class="actions">{retry_button()}</div>
                </div>
            }
            .into_any()
        }
        MesError::UnexpectedResponse {
            status,
            content_type,
            reason,
            first_bytes,
        } => view! {
            <div class="state bad" role="alert" data-state="unexpected">
                <h2>{w(GridWord::UnexpectedTitle)}</h2>
                <p>{format!("HTTP {status}, {content_type}: {reason}.")}</p>
                <p>{w(GridWord::UnexpectedStartsWith)}</p>
                <pre>{first_bytes}</pre>
                <p class="muted">{w(GridWord::UnexpectedHint)}</p>
                <div class="actions">{retry_button()}</div>
            </div>
        }
        .into_any(),
        MesError::NotFound { message } => view! {
            <div class="state bad" role="alert" data-state="not-found">
                <h2>{w(GridWord::UnknownLookupTitle)}</h2>
                <pre class="mes-message">{message}</pre>
                <p class="muted">{w(GridWord::UnknownLookupHint)}</p>
                <div class="actions">{retry_button()}</div>
            </div>
        }
        .into_any(),
        MesError::NotConfigured { message } => view! {
            <div class="state bad" role="alert" data-state="not-configured">
                <h2>{w(GridWord::NotConfiguredTitle)}</h2>
                <pre class="mes-message">{message}</pre>
                <p class="muted">{w(GridWord::NotConfiguredHint)}</p>
            </div>
        }
        .into_any(),
        MesError::ServerError { status, message } => view! {
            <div class="state bad" role="alert" data-state="server-error">
                <h2>{fill(GridWord::ServerErrorTitle, &[("status", &status.to_string())])}</h2>
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
        problem @ (AuthState::ConfigInvalid(_)
        | AuthState::AuthorityUnavailable { .. }
        | AuthState::SignInFailed(_)) => on_demand(w(Word::PartPage), move || {
            Box::pin(on_demand::problem_page(problem.clone()))
        }),
        AuthState::SignedOut(notice) => view! { <SignInPage notice=notice /> }.into_any(),
        AuthState::Redirecting => {
            view! { <div class="card" role="status"><p class="muted">{w(Word::OpeningSignIn)}</p></div> }
                .into_any()
        }
        // The signed-in shell comes with the grid's part (fetched while the sign-in finishes):
        // nothing of it, sign-out included, weighs on the sign-in page.
        AuthState::SignedIn(session) => on_demand(w(Word::PartPage), move || {
            Box::pin(on_demand::shell(session.clone()))
        }),
    }
}
