//! Diagnostics: what the current tokens say (subject, audience, scopes, expiry) — never a token.

use crate::session::SignedInState;
use leptos::prelude::*;
use mes_client::{Claims, decode_unverified, now_seconds};
use std::sync::Arc;

fn rows(claims: &Claims) -> Vec<(&'static str, String)> {
    let when = |t: i64| {
        let left = t - now_seconds() as i64;
        if left >= 0 { format!("{t} (in {} min)", (left + 59) / 60) } else { format!("{t} ({} min ago)", (-left) / 60) }
    };
    vec![
        ("Identity", claims.identity()),
        ("Subject (sub)", claims.sub.clone().unwrap_or_default()),
        ("Issuer (iss)", claims.iss.clone()),
        ("Audience (aud)", claims.aud.to_vec().join(", ")),
        ("Scopes", claims.scopes().join(" ")),
        ("Client (client_id)", claims.client_id.clone().unwrap_or_default()),
        ("Expires (exp)", when(claims.exp)),
        ("Issued (iat)", claims.iat.map(when).unwrap_or_default()),
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
    let table = |title: &'static str, claims: Option<Claims>, id: &'static str| {
        view! {
            <section class="card wide" id=id>
                <h2>{title}</h2>
                {match claims {
                    Some(c) => view! {
                        <dl class="claims">{rows(&c).into_iter().map(|(k, v)| view! { <dt>{k}</dt><dd>{v}</dd> }).collect_view()}</dl>
                    }.into_any(),
                    None => view! { <p class="muted">"Not a JWT: the authority issues opaque tokens, so there are no claims to show."</p> }.into_any(),
                }}
            </section>
        }
    };
    view! {
        <h1>"Diagnostics"</h1>
        <p class="muted">"Tokens are held in this page's memory only and are never shown, stored or logged. "
            {if tokens.refresh_token.is_some() { "A refresh token renews the session." } else { "No refresh token was issued: when the access token expires, you sign in again (without a form while the AIM session lasts)." }}</p>
        {table("Access token (sent to the MES)", access.ok(), "access-claims")}
        {table("ID token (who signed in)", Some(session.claims().clone()), "id-claims")}
    }
}
