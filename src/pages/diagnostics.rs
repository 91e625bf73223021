//! Diagnostics: what the current tokens say (subject, audience, scopes, expiry) — never a token.

use crate::session::SignedInState;
use crate::words::{PageWord, Word, fill, w};
use leptos::prelude::*;
use mes_client::{Claims, decode_unverified, now_seconds};
use std::sync::Arc;

fn rows(claims: &Claims) -> Vec<(&'static str, String)> {
    let when = |t: i64| {
        let left = t - now_seconds() as i64;
        let (word, minutes) = if left >= 0 {
            (PageWord::InMinutes, (left + 59) / 60)
        } else {
            (PageWord::MinutesAgo, (-left) / 60)
        };
        fill(
            word,
            &[("time", &t.to_string()), ("minutes", &minutes.to_string())],
        )
    };
    vec![
        (w(PageWord::ClaimIdentity), claims.identity()),
        (w(PageWord::ClaimSubject), claims.sub.clone().unwrap_or_default()),
        (w(PageWord::ClaimIssuer), claims.iss.clone()),
        (w(PageWord::ClaimAudience), claims.aud.to_vec().join(", ")),
        (w(PageWord::ClaimScopes), claims.scopes().join(" ")),
        (
            w(PageWord::ClaimClient),
            claims.client_id.clone().unwrap_or_default(),
        ),
        (w(PageWord::ClaimExpires), when(claims.exp)),
        (w(PageWord::ClaimIssued), claims.iat.map(when).unwrap_or_default()),
    ]
}

/// The claims of the access token and of the ID token.
#[component]
pub fn Diagnostics(
    /// The signed-in session whose tokens are described.
    session: Arc<SignedInState>,
) -> impl IntoView {
    let tokens = session.tokens();
    let access = decode_unverified(tokens.access_token.expose()).map(|jwt| jwt.claims);
    let table = |title: PageWord, claims: Option<Claims>, id: &'static str| {
        view! {
            <section class="card wide" id=id>
                <h2>{w(title)}</h2>
                {match claims {
                    Some(c) => view! {
                        <dl class="claims">{rows(&c).into_iter().map(|(k, v)| view! { <dt>{k}</dt><dd>{v}</dd> }).collect_view()}</dl>
                    }.into_any(),
                    None => view! { <p class="muted">{w(PageWord::NotJwt)}</p> }.into_any(),
                }}
            </section>
        }
    };
    view! {
        <h1>{w(Word::Diagnostics)}</h1>
        <p class="muted">{w(PageWord::TokensInMemory)}" "
            {w(if tokens.refresh_token.is_some() { PageWord::RefreshTokenRenews } else { PageWord::NoRefreshToken })}</p>
        {table(PageWord::AccessTokenTitle, access.ok(), "access-claims")}
        {table(PageWord::IdTokenTitle, Some(session.claims().clone()), "id-claims")}
    }
}
