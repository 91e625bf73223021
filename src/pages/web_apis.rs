//! Web APIs: the definitions as the Enterprise Console lists them, each with a live connection
//! test (authority reachable → token obtained → MES accepted the token → MES user resolved) and
//! the authorization URL for diagnosis.

use crate::session::{SignedInState, lookup_body_limit};
use crate::words::{PageWord, Word, fill, w};
use leptos::prelude::*;
use leptos::task::spawn_local;
use mes_client::{
    AuthenticationMode, BrowserTransport, Claims, Lookup, MesError, Secret, SignInClient, WebApiDefinition,
    decode_unverified, discover, now_seconds,
};
use std::sync::Arc;

/// One step of the connection test.
#[derive(Clone, Debug, PartialEq)]
pub enum Step {
    /// Not run yet.
    Waiting,
    /// Running now.
    Running,
    /// Passed, with what was found.
    Passed(String),
    /// Failed, with why and what to do.
    Failed(String),
    /// Not run because an earlier step failed.
    Skipped,
}

const STEPS: [PageWord; 4] = [
    PageWord::StepAuthority,
    PageWord::StepToken,
    PageWord::StepMesAccepted,
    PageWord::StepMesUser,
];

/// The Web API definitions page.
#[component]
pub fn WebApis(
    /// The signed-in session: its configuration lists the definitions, its token is tested.
    session: Arc<SignedInState>,
) -> impl IntoView {
    let apis = session.config().web_apis.clone();
    view! {
        <h1>{w(Word::WebApis)}</h1>
        <p class="muted">{w(PageWord::WebApisIntro)}</p>
        {apis.into_iter().enumerate().map(|(i, api)| view! { <WebApiCard api=api index=i session=session.clone() /> }).collect_view()}
    }
}

#[component]
fn WebApiCard(api: WebApiDefinition, index: usize, session: Arc<SignedInState>) -> impl IntoView {
    let steps = RwSignal::new(vec![Step::Waiting; 4]);
    let auth_url = RwSignal::new(None::<String>);
    let mode = w(match api.authentication_mode {
        AuthenticationMode::UserAccessToken => PageWord::UserAccessToken,
        AuthenticationMode::ServiceToServiceAccessToken => PageWord::ServiceAccessToken,
    });
    let fields = vec![
        (w(PageWord::FieldName), api.name.clone()),
        (w(PageWord::FieldDescription), api.description.clone()),
        (w(PageWord::FieldSource), api.source.clone()),
        (w(PageWord::FieldBaseAddress), api.base_address.clone()),
        (w(PageWord::FieldRequestUri), api.request_uri.clone()),
        (w(PageWord::FieldAuthenticationMode), mode.to_owned()),
        (w(PageWord::FieldAuthority), api.authority.clone()),
        (w(PageWord::FieldAudience), api.audience.clone()),
        (w(PageWord::FieldClientId), api.client_id.to_string()),
        (w(PageWord::FieldScope), api.scope.clone()),
    ];
    let run = {
        let (api, session) = (api.clone(), session.clone());
        move |_| {
            let (api, session) = (api.clone(), session.clone());
            steps.set(vec![Step::Running, Step::Waiting, Step::Waiting, Step::Waiting]);
            spawn_local(async move {
                let result = connection_test(&session, &api, |i, step| steps.update(|s| s[i] = step)).await;
                if let Err(from) = result {
                    steps.update(|s| s.iter_mut().skip(from).for_each(|x| *x = Step::Skipped));
                }
            });
        }
    };
    let copy_url = move |_| {
        let Ok(redirect) = SignInClient::new(&session.config().client)
            .authorize(&session.authority().metadata)
            .url()
        else {
            return;
        };
        if let Some(clipboard) = web_sys::window().map(|w| w.navigator().clipboard()) {
            let _ = clipboard.write_text(&redirect.url);
        }
        auth_url.set(Some(redirect.url));
    };
    view! {
        <section class="card wide web-api" id=format!("web-api-{index}")>
            <h2>{api.name.clone()}</h2>
            <dl class="claims">{fields.into_iter().map(|(k, v)| view! { <dt>{k}</dt><dd>{v}</dd> }).collect_view()}</dl>
            <div class="actions">
                <button class="test-connection" on:click=run>{w(PageWord::TestConnection)}</button>
                <button class="secondary" on:click=copy_url>{w(PageWord::CopyAuthorizationUrl)}</button>
            </div>
            {checklist(steps)}
            {move || auth_url.get().map(|url| view! {
                <p class="muted">{w(PageWord::AuthorizationUrlCopied)}</p>
                <pre class="auth-url">{url}</pre>
            })}
        </section>
    }
}

/// The connection test's steps as they stand, each with its mark and what it found.
fn checklist(steps: RwSignal<Vec<Step>>) -> impl IntoView {
    view! {
        <ol class="checklist" aria-live="polite">
            {STEPS.iter().enumerate().map(|(i, name)| {
                let state = move || steps.with(|s| s[i].clone());
                let look = move || match state() {
                    Step::Waiting => ("○", "waiting"),
                    Step::Running => ("…", "running"),
                    Step::Passed(_) => ("✓", "passed"),
                    Step::Failed(_) => ("✗", "failed"),
                    Step::Skipped => ("–", "skipped"),
                };
                let detail = move || match state() {
                    Step::Passed(t) | Step::Failed(t) => t,
                    Step::Skipped => w(PageWord::StepSkipped).into(),
                    _ => String::new(),
                };
                view! {
                    <li class=move || look().1 data-step=i>
                        <span class="mark" aria-hidden="true">{move || look().0}</span>
                        <strong>{w(*name)}</strong>" "<span class="detail">{detail}</span>
                    </li>
                }
            }).collect_view()}
        </ol>
    }
}

/// Runs the checklist; `Err(i)` means steps from `i` on were not run.
async fn connection_test(
    session: &SignedInState,
    api: &WebApiDefinition,
    set: impl Fn(usize, Step),
) -> Result<(), usize> {
    let transport = BrowserTransport::new(lookup_body_limit());
    match discover(&transport, &api.authority).await {
        Ok(meta) => set(
            0,
            Step::Passed(fill(PageWord::StepIssuer, &[("issuer", &meta.issuer)])),
        ),
        Err(e) => {
            set(0, Step::Failed(e.to_string()));
            return Err(1);
        }
    }
    set(1, Step::Running);
    let token = token_step(session, api, &set).await?;
    set(2, Step::Running);
    mes_step(session, api, &token, &transport, &set).await
}

/// The token the portal would send, and what it says (when it is a JWT).
struct Token {
    secret: Secret,
    claims: Option<Claims>,
}

/// Step 2: a token for this Web API (a person's, naming its audience when it is a JWT).
async fn token_step(
    session: &SignedInState,
    api: &WebApiDefinition,
    set: &impl Fn(usize, Step),
) -> Result<Token, usize> {
    if api.authentication_mode == AuthenticationMode::ServiceToServiceAccessToken {
        set(1, Step::Failed(w(PageWord::StepServiceToken).into()));
        return Err(2);
    }
    let secret = match session.access_token().await {
        Ok((token, _)) => token,
        Err(e) => {
            set(1, Step::Failed(e.to_string()));
            return Err(2);
        }
    };
    let claims = decode_unverified(secret.expose()).map(|j| j.claims).ok();
    let Some(found) = &claims else {
        set(1, Step::Passed(w(PageWord::StepOpaqueToken).into()));
        return Ok(Token { secret, claims });
    };
    let audiences = found.aud.to_vec().join(", ");
    if !api.audience.is_empty() && !found.aud.contains(&api.audience) {
        let words = [("audiences", audiences.as_str()), ("audience", &api.audience)];
        set(1, Step::Failed(fill(PageWord::StepWrongAudience, &words)));
        return Err(2);
    }
    let minutes = ((found.exp - now_seconds() as i64).max(0) / 60).to_string();
    let words = [("audiences", audiences.as_str()), ("minutes", &minutes)];
    set(1, Step::Passed(fill(PageWord::StepTokenFor, &words)));
    Ok(Token { secret, claims })
}

/// Steps 3 and 4: the MES answers one row of a lookup of this Web API, and accepts the user.
async fn mes_step(
    session: &SignedInState,
    api: &WebApiDefinition,
    token: &Token,
    transport: &BrowserTransport,
    set: &impl Fn(usize, Step),
) -> Result<(), usize> {
    let (endpoint, query) = session.config().probe(api);
    // Whom the MES judges is the access token's user, not the ID token's: name that one (or say
    // that the token names none).
    let identity = match &token.claims {
        Some(claims) if claims.preferred_username.is_some() || claims.sub.is_some() => claims.identity(),
        Some(_) => w(PageWord::StepNoUser).into(),
        None => fill(
            PageWord::StepAccountSignedIn,
            &[("identity", &session.claims().identity())],
        ),
    };
    let probe = Lookup::new(api, &endpoint, &token.secret)
        .identity(&identity)
        .params(query)
        .max_rows(1);
    match probe.send(transport).await {
        Ok(_) => {
            set(
                2,
                Step::Passed(fill(PageWord::StepAnswered, &[("endpoint", &endpoint)])),
            );
            set(
                3,
                Step::Passed(fill(PageWord::StepUserAccepted, &[("identity", &identity)])),
            );
            Ok(())
        }
        Err(MesError::Denied { message, .. }) => {
            set(2, Step::Passed(w(PageWord::StepTokenValid).into()));
            set(
                3,
                Step::Failed(fill(
                    PageWord::StepNotMesUser,
                    &[("identity", &identity), ("message", &message)],
                )),
            );
            Err(4)
        }
        Err(MesError::SessionExpired) => {
            set(2, Step::Failed(w(PageWord::StepRefused401).into()));
            Err(3)
        }
        Err(MesError::Unreachable { url, reason }) => {
            set(
                2,
                Step::Failed(fill(
                    PageWord::StepNoAnswer,
                    &[("address", &url), ("reason", &reason)],
                )),
            );
            Err(3)
        }
        Err(other) => {
            set(2, Step::Failed(other.to_string()));
            Err(3)
        }
    }
}
