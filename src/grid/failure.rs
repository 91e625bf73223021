//! What a failed lookup says: one view per kind of MES failure, each with its next step.

use crate::retry::RetryCountdown;
use crate::session::{Phase, Portal, use_portal};
use crate::words::{GridWord, Word, around, fill, w};
use leptos::prelude::*;
use mes_client::MesError;

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
    let again = Again { retry, attempt };
    match error {
        MesError::Denied { message, identity } => denied(portal, message, identity, again),
        MesError::AuthorityOffline { message, retry_after } => view! {
            <div class="state warn" role="alert" data-state="authority-offline">
                <h2>{w(GridWord::OfflineTitle)}</h2>
                <p>{w(GridWord::OfflineText)}</p>
                <pre class="mes-message">{message}</pre>
                <RetryCountdown retry=retry attempt=attempt asked=retry_after />
                <div class="actions">{again.button()}</div>
            </div>
        }
        .into_any(),
        MesError::SessionExpired
            if portal.mode.owns_the_page()
                && matches!(portal.phase.get_untracked(), Phase::SignedIn(s) if s.needs_sign_in()) =>
        {
            renewing(portal)
        }
        MesError::SessionExpired => view! { <SessionExpired note="" /> }.into_any(),
        MesError::Unreachable { url, reason } => unreachable(url, reason, again),
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
                <div class="actions">{again.button()}</div>
            </div>
        }
        .into_any(),
        MesError::NotFound { message } => view! {
            <div class="state bad" role="alert" data-state="not-found">
                <h2>{w(GridWord::UnknownLookupTitle)}</h2>
                <pre class="mes-message">{message}</pre>
                <p class="muted">{w(GridWord::UnknownLookupHint)}</p>
                <div class="actions">{again.button()}</div>
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
                <div class="actions">{again.button()}</div>
            </div>
        }
        .into_any(),
    }
}

/// Running the lookup again: by hand, or after the countdown.
#[derive(Clone, Copy)]
struct Again {
    retry: Callback<()>,
    attempt: u32,
}

impl Again {
    /// "Retry now".
    fn button(self) -> impl IntoView {
        view! { <button class="secondary" on:click=move |_| self.retry.run(())>{w(Word::RetryNow)}</button> }
    }
}

/// The MES refused this person: who it refused, its words, and signing in as someone else.
fn denied(portal: Portal, message: String, identity: Option<String>, again: Again) -> AnyView {
    let who = identity.unwrap_or_else(|| w(GridWord::YourAccount).into());
    let (before, after) = around(GridWord::DeniedRefusedFor, "who");
    view! {
        <div class="state bad" role="alert" data-state="denied">
            <h2>{w(GridWord::DeniedTitle)}</h2>
            <p>{before}<strong class="identity">{who.clone()}</strong>{after}</p>
            <pre class="mes-message">{message}</pre>
            <p>{fill(GridWord::DeniedExplain, &[("who", &who)])}</p>
            <div class="actions">{again.button()}<button class="secondary switch-user" on:click=move |_| portal.sign_out()>{w(Word::SignInAsSomeoneElse)}</button></div>
        </div>
    }
    .into_any()
}

/// No refresh token was issued and the token has expired: renew through AIM's session without a
/// form (the grid's state travels in the address) — once per interval, so a renewal that keeps
/// failing ends at a button, not in a loop.
fn renewing(portal: Portal) -> AnyView {
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

/// The MES did not answer: where the portal asked, and the likely causes.
fn unreachable(url: String, reason: String, again: Again) -> AnyView {
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
            <RetryCountdown retry=again.retry attempt=again.attempt />
            <div class="actions">{again.button()}</div>
        </div>
    }
    .into_any()
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
