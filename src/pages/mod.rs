//! Pages and the plain-language states: sign-in, configuration problems, authority unavailable,
//! sign-in refused, and the signed-in shell; with the parts they load on demand (the shell, the
//! problem pages, Web APIs, Diagnostics).

mod diagnostics;
mod web_apis;

pub use diagnostics::Diagnostics;
pub use web_apis::WebApis;

use crate::on_demand::on_demand;
use crate::route::Route;
use crate::session::{Phase, Problem, Ready, SignedInState, use_portal};
use crate::words::{FloorWord, RareWord, Word, around, fill, w};
use leptos::prelude::*;
use mes_client::{
    ConfigIssue, DiscoveryError, Prompt, SessionHealth, SignInError, SignInFailure, now_seconds,
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
                <div class="actions"><button on:click=move |_| leptos::task::spawn_local(portal.start(prefetch_signed_in))>{w(Word::TryAgain)}</button></div>
            </div>
        </Card>
    }
}

/// The sign-in page.
#[component]
pub fn SignInPage(ready: Arc<Ready>, notice: Option<String>) -> impl IntoView {
    let portal = use_portal();
    let client = &ready.config.client;
    let name = if client.authority_name.is_empty() {
        w(Word::DefaultAuthority).into()
    } else {
        client.authority_name.clone()
    };
    let address = client.authority.clone();
    let signed_out = notice.is_some();
    let (before, after) = around(Word::SignInWith, "authority");
    // While the page waits for the person, the parts the return from the authority needs come
    // into the browser's cache (they are kept a year), so the return need not fetch them.
    Effect::new(|_| prefetch_signed_in());
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

/// How long before the session's hard end (the refresh token's own lifetime) the header warns.
const HARD_END_WARNING: u64 = 5 * 60;

/// Who is signed in, what state the session is in (and its hard end, soon), sign out.
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
    let ends = session.clone();
    let health = Memo::new(move |_| {
        portal.session_seen.track();
        health_text(&session.health(), now.get())
    });
    // The session's hard end, where the authority tells it: said a few minutes before.
    let ending = Memo::new(move |_| {
        portal.session_seen.track();
        let now = now.get();
        let at = ends
            .session_ends_at()
            .filter(|at| *at > now && at - now <= HARD_END_WARNING)?;
        Some(fill(
            FloorWord::SessionEndsIn,
            &[("minutes", &(at - now).div_ceil(60).to_string())],
        ))
    });
    view! {
        <div class="session">
            <span class="who" id="signed-in-as">{name}</span>
            <span class="valid" id="session-health" data-health=move || health.get().0 role="status">{move || health.get().1}</span>
            <span class="session-end" id="session-end" role="status">{move || ending.get()}</span>
            <button class="secondary" id="sign-out" on:click=move |_| portal.sign_out()>{w(Word::SignOut)}</button>
        </div>
    }
}

/// The signed-in page's tools for the shop floor, from config.json: scanning (a code opens its
/// lookup at the row; `scanned` says what a code of no known kind was) and station mode (its
/// settings returned for the countdown, with the station the address names, if config.json
/// lists it). Both sections are read here, not at start (their readers are not in the first
/// load): their problems join `warnings`, and that tool stays off.
fn shop_floor(
    config: &mes_client::PortalConfig,
    scanned: RwSignal<String>,
    warnings: &mut Vec<mes_client::ConfigIssue>,
) -> Option<(mes_client::StationSettings, Option<mes_client::Station>)> {
    let portal = use_portal();
    match config.scan() {
        Ok(Some(scan)) => {
            let lookups = config.lookups.clone();
            crate::scan::listen(&scan.clone(), move |code| {
                crate::scan::open_in_portal(&code, &scan, &lookups, |to| portal.navigate_to(to), scanned);
            });
        }
        Ok(None) => {}
        Err(issues) => warnings.extend(issues),
    }
    let settings = config.station().unwrap_or_else(|issues| {
        warnings.extend(issues);
        None
    });
    let named = crate::nav::station();
    let station = named
        .as_deref()
        .and_then(|name| settings.as_ref()?.station(name).cloned());
    if let (Some(name), None) = (&named, &station) {
        warnings.push(mes_client::ConfigIssue {
            field: "station.stations".into(),
            message: fill(FloorWord::StationUnknown, &[("station", name)]),
        });
    }
    settings.map(|s| (s, station))
}

/// The station's name and its "Next user" button in the top bar: the ordinary sign-out, which
/// keeps the station's address for the next person.
fn station_bar(station: Option<mes_client::Station>) -> impl IntoView {
    let portal = use_portal();
    station.map(|s| {
        view! {
            <span class="station-name" id="station-name">{fill(FloorWord::StationIs, &[("station", s.title())])}</span>
            <button class="next-user" id="next-user" title=w(FloorWord::NextUserHint)
                on:click=move |_| portal.sign_out()>{w(FloorWord::NextUser)}</button>
        }
    })
}

/// The signed-in portal: top bar, lookup list, and the page for the current path.
#[component]
pub fn Shell(session: Arc<SignedInState>) -> impl IntoView {
    let portal = use_portal();
    let scanned = RwSignal::new(String::new());
    let mut warnings = portal.warnings.get_untracked();
    let floor = shop_floor(session.config(), scanned, &mut warnings);
    let (station, at) = floor.map_or((None, None), |(settings, at)| (Some(settings), at));
    let mut lookups = session.config().lookups.clone();
    at.iter().for_each(|at| at.preset(&mut lookups));
    let nav_lookups = lookups.clone();
    let genealogy = session.config().genealogy.clone();
    let page_genealogy = genealogy.clone();
    let current = move || portal.route.with(Route::lookup);
    // On a narrow screen the navigation folds behind a menu button (portal.css), so the page
    // gets the screen; choosing a page folds it again.
    let menu_open = RwSignal::new(false);
    Effect::new(move |_| {
        portal.route.track();
        menu_open.set(false);
        scanned.set(String::new());
    });
    view! {
        <header class="topbar">
            <button class="secondary menu" aria-controls="portal-nav" aria-expanded=move || menu_open.get().to_string()
                on:click=move |_| menu_open.update(|o| *o = !*o)>{w(Word::Menu)}</button>
            <span class="brand">{w(Word::PortalName)}</span>{station_bar(at)}<SessionBar session=session.clone() />
        </header>
        <div class="layout">
            <nav class="lookups" id="portal-nav" aria-label=w(Word::Lookups) class:open=move || menu_open.get()>
                <h2>{w(Word::Lookups)}</h2>
                {nav_lookups.into_iter().enumerate().map(|(i, l)| {
                    view! {
                        <a href=Route::Lookup(i).path() aria-current=move || (current() == Some(i)).then_some("page")
                           on:click=move |ev| { ev.prevent_default(); portal.navigate(Route::Lookup(i)); }>{l.name}</a>
                    }
                }).collect_view()}
                <h2>{w(Word::PortalSection)}</h2>
                {genealogy.is_some().then_some((Route::Genealogy, w(Word::Genealogy))).into_iter()
                    .chain([(Route::WebApis, w(Word::WebApis)), (Route::Diagnostics, w(Word::Diagnostics))]).map(|(route, label)| {
                    let here = route.clone();
                    view! {
                        <a href=route.path() aria-current=move || portal.route.with(|r| *r == here).then_some("page")
                           on:click=move |ev| { ev.prevent_default(); portal.navigate(route.clone()); }>{label}</a>
                    }
                }).collect_view()}
            </nav>
            <main>
                {station.map(|settings| view! { <crate::station::IdleWatch settings=settings portal=portal /> })}
                <p class="scan-notice" role="status">{move || scanned.get()}</p>
                {(!warnings.is_empty()).then(|| view! {
                    <div class="warnings" role="note">
                        {warnings.into_iter().map(|w| view! { <p><code>{w.field}</code>" "{w.message}</p> }).collect_view()}
                    </div>
                })}
                {move || match (portal.route.get(), current().and_then(|i| lookups.get(i).cloned())) {
                    (Route::WebApis, _) => {
                        let session = session.clone();
                        on_demand(w(Word::PartWebApis), move || Box::pin(web_apis_page(session.clone())))
                    }
                    (Route::Genealogy, _) if page_genealogy.is_some() => match page_genealogy.clone() {
                        Some(definition) => on_demand(w(Word::PartGenealogy), move || {
                            Box::pin(crate::genealogy::genealogy_page(definition.clone()))
                        }),
                        None => ().into_any(),
                    },
                    (Route::Diagnostics, _) => {
                        let session = session.clone();
                        on_demand(w(Word::PartDiagnostics), move || Box::pin(diagnostics_page(session.clone())))
                    }
                    (_, Some(lookup)) => on_demand(w(Word::PartGrid), move || Box::pin(crate::grid::lookup_page(lookup.clone()))),
                    (_, None) if lookups.is_empty() => view! { <p>{w(Word::NoLookups)}</p> }.into_any(),
                    (_, None) => view! {
                        <div class="state"><h2>{w(Word::PageNotFound)}</h2><p>{w(Word::PageNotFoundText)}</p>
                        <div class="actions"><button on:click=move |_| portal.navigate(Route::Home)>{w(Word::GoToFirstLookup)}</button></div></div>
                    }.into_any(),
                }}
            </main>
        </div>
    }
}

/// What stops the portal, in its own words — the same view in the portal, an embedded grid and
/// a framed one.
#[component]
pub fn ProblemView(problem: Problem) -> impl IntoView {
    match problem {
        Problem::SignInFailed(why) => view! { <SignInFailed why=why /> }.into_any(),
        Problem::ConfigInvalid(issues) => view! { <ConfigInvalid issues=issues /> }.into_any(),
        Problem::AuthorityUnavailable { why, authority } => {
            view! { <AuthorityUnavailable why=why authority=authority /> }.into_any()
        }
    }
}

/// The whole page for the current sign-in state.
#[component]
pub fn Root() -> impl IntoView {
    let portal = use_portal();
    move || match portal.phase.get() {
        Phase::Starting => view! { <Starting /> }.into_any(),
        Phase::Problem(problem, _) => {
            on_demand(w(Word::PartPage), move || Box::pin(problem_page(problem.clone())))
        }
        Phase::SignedOut { ready, notice } => view! { <SignInPage ready=ready notice=notice /> }.into_any(),
        Phase::Redirecting(_) => {
            view! { <div class="card" role="status"><p class="muted">{w(Word::OpeningSignIn)}</p></div> }
                .into_any()
        }
        // The signed-in shell comes with the grid's part (fetched while the sign-in finishes):
        // nothing of it, sign-out included, weighs on the sign-in page.
        Phase::SignedIn(session) => on_demand(w(Word::PartPage), move || Box::pin(shell(session.clone()))),
    }
}

crate::on_demand::part!(
    shell,
    /// The signed-in portal: top bar, navigation, sign-out, and the page for the current path —
    /// a part of its own, so a grid that does not arrive leaves it working.
    pub fn shell(session: Arc<SignedInState>) {
        view! { <Shell session=session /> }.into_any()
    }
);

/// Starts fetching the code exchange's, the signed-in shell's and the grid's parts without
/// waiting for them: a page back from the authority with a code needs them next, and they then
/// arrive while config.json is read and the code exchanged instead of after; on the sign-in page
/// they arrive while the person reads it and signs in, so the page back from the authority finds
/// them in the browser's cache. A failure is left to the part's own loading (it is not
/// remembered). Nothing happens in unsplit builds.
pub fn prefetch_signed_in() {
    #[cfg(mes_split)]
    {
        // The preloads `wasm_split` makes: load a part, call nothing; all in parallel (the
        // code exchange's part is needed first).
        leptos::task::spawn_local(async {
            let _ = crate::session::__wasm_split_preload_exchange().await;
        });
        leptos::task::spawn_local(async {
            let _ = __wasm_split_preload_shell().await;
        });
        leptos::task::spawn_local(async {
            let _ = crate::grid::__wasm_split_preload_lookup_page().await;
        });
    }
}

crate::on_demand::part!(
    problems,
    /// The page for a problem at start — a sign-in that did not complete (with the wording of
    /// every way a sign-in can fail), a config.json with problems, an authority that did not
    /// answer (the portal's own server did: it served config.json, so this part can come from
    /// it). Rare, so not in the first load; one split point for the three.
    pub fn problem_page(problem: Problem) {
        view! { <ProblemView problem=problem /> }.into_any()
    }
);

crate::on_demand::part!(
    web_apis,
    /// The Web APIs page.
    pub fn web_apis_page(session: Arc<SignedInState>) {
        view! { <WebApis session=session /> }.into_any()
    }
);

crate::on_demand::part!(
    diagnostics,
    /// The Diagnostics page.
    pub fn diagnostics_page(session: Arc<SignedInState>) {
        view! { <Diagnostics session=session /> }.into_any()
    }
);
