//! Parts of the portal that load when first used: the lookup grid (with the embedding entries),
//! the Web APIs page, Diagnostics, and the pages for problems at start (a sign-in that did not
//! complete, a broken config.json, an authority that does not answer).
//!
//! In the release build `cargo xtask build` compiles with `--cfg mes_split`: each function made
//! by `part!` becomes a split point (`wasm_split`, re-exported by leptos), and after linking
//! `wasm-split-cli` cuts the wasm into the main file (sign-in states and the shell) and one file
//! per part, fetched the first time the part is shown. In every other build (the browser tests,
//! `trunk serve`) a part is an ordinary function, so the same code runs unsplit.
//!
//! A part whose file cannot be fetched is a plain state with a countdown and a retry button,
//! never a panic (the split points are `fallible`, and a failed load is not remembered).

use crate::words::{Word, fill, w};
use leptos::prelude::*;
use std::future::Future;
use std::pin::Pin;

/// A part's file could not be fetched or instantiated (the loader logs the details).
#[derive(Debug, Clone, Copy)]
pub struct NotLoaded;

#[cfg(mes_split)]
impl From<leptos::wasm_split::SplitLoaderError> for NotLoaded {
    fn from(_: leptos::wasm_split::SplitLoaderError) -> Self {
        NotLoaded
    }
}

/// A part's view, once its code is in.
pub type Loading = Pin<Box<dyn Future<Output = Result<AnyView, NotLoaded>>>>;

/// `part!(chunk, fn name(args) { view })`: an async function that loads `chunk` (release
/// build) and then returns the view the body makes.
macro_rules! part {
    ($chunk:ident, $(#[$doc:meta])* pub fn $name:ident($($arg:ident: $ty:ty),* $(,)?) $body:block) => {
        $(#[$doc])*
        #[cfg(mes_split)]
        #[leptos::wasm_split::wasm_split($chunk, wasm_split_path = ::leptos::wasm_split, fallible)]
        pub fn $name($($arg: $ty),*) -> Result<AnyView, $crate::on_demand::NotLoaded> {
            Ok($body)
        }
        $(#[$doc])*
        #[cfg(not(mes_split))]
        pub async fn $name($($arg: $ty),*) -> Result<AnyView, $crate::on_demand::NotLoaded> {
            Ok($body)
        }
    };
}

/// Shows the part `load` makes: "Loading …" until its code is in, then the part; if its file
/// could not be fetched, says so and tries again (by itself after a pause, or on the button).
/// `what` names the part in those messages ("the lookup grid").
pub fn on_demand(what: &'static str, load: impl Fn() -> Loading + Send + Sync + 'static) -> AnyView {
    shown_on_demand(what, std::sync::Arc::new(load))
}

/// [`on_demand`]'s body, once for every part: generic, it would be compiled again for each
/// caller's closure (its suspense machinery is about 3 kB of wasm each time).
fn shown_on_demand(what: &'static str, load: std::sync::Arc<dyn Fn() -> Loading + Send + Sync>) -> AnyView {
    let settled = RwSignal::new(false);
    let attempt = RwSignal::new(0u32);
    let again = Callback::new(move |()| {
        settled.set(false);
        attempt.update(|n| *n += 1);
    });
    view! {
        {move || (!settled.get()).then(|| view! {
            <div class="skeleton" role="status" aria-busy="true" data-state="part-loading">{fill(Word::PartLoading, &[("part", what)])}</div>
        })}
        {move || {
            let tries = attempt.get();
            let future = load();
            Suspend::new(send_wrapper::SendWrapper::new(async move {
                let outcome = future.await;
                settled.set(true);
                outcome.unwrap_or_else(|NotLoaded| view! {
                    <div class="state bad" role="alert" data-state="part-not-loaded">
                        <h2>{fill(Word::PartNotLoaded, &[("part", what)])}</h2>
                        <p>{w(Word::PartNotLoadedText)}</p>
                        <crate::pages::RetryCountdown retry=again attempt=tries />
                        <div class="actions"><button class="secondary" on:click=move |_| again.run(())>{w(Word::TryAgainNow)}</button></div>
                    </div>
                }.into_any())
            }))
        }}
    }
    .into_any()
}

part!(
    grid,
    /// A lookup's page in the portal.
    pub fn lookup_page(lookup: mes_client::LookupDefinition) {
        view! { <crate::grid::LookupGrid lookup=lookup /> }.into_any()
    }
);

part!(
    shell,
    /// The signed-in portal: top bar, navigation, sign-out, and the page for the current path —
    /// a part of its own, so a grid that does not arrive leaves it working.
    pub fn shell(session: std::sync::Arc<crate::session::SignedInState>) {
        view! { <crate::pages::Shell session=session /> }.into_any()
    }
);

/// Starts fetching the signed-in shell's and the grid's parts without waiting for them: a page
/// back from the authority with a code shows them next, and they then arrive while the code is
/// exchanged instead of after. A failure is left to the part's own loading (it is not
/// remembered). Nothing happens in unsplit builds.
pub fn prefetch_grid() {
    #[cfg(mes_split)]
    {
        // The preloads `wasm_split` makes: load a part, call nothing; the two in parallel.
        leptos::task::spawn_local(async {
            let _ = __wasm_split_preload_shell().await;
        });
        leptos::task::spawn_local(async {
            let _ = __wasm_split_preload_lookup_page().await;
        });
    }
}

part!(
    grid,
    /// `mountLookupGrid`'s grid (and a framed one's), with its own sign-in states.
    pub fn embedded_lookup(
        options: RwSignal<crate::embed::EmbedOptions>,
        on_rows: Callback<Vec<crate::grid_model::SelectedRow>>,
    ) {
        view! { <crate::embed::EmbeddedLookup options=options on_rows=on_rows /> }.into_any()
    }
);

part!(
    grid,
    /// `mountRowsGrid`'s grid over the host page's rows.
    pub fn rows_grid(options: crate::embed::RowsOptions, host: web_sys::HtmlElement) {
        crate::embed::rows_view(options, host)
    }
);

part!(
    frame,
    /// The framed grid's page for another site (`/embed/lookup`; `frame.rs`).
    pub fn frame_page() {
        view! { <crate::frame::FrameApp /> }.into_any()
    }
);

part!(
    problems,
    /// The page for a problem at start — a sign-in that did not complete (with the wording of
    /// every way a sign-in can fail), a config.json with problems, an authority that did not
    /// answer (the portal's own server did: it served config.json, so this part can come from
    /// it). Rare, so not in the first load; one split point for the three.
    pub fn problem_page(state: crate::session::AuthState) {
        use crate::pages::{AuthorityUnavailable, ConfigInvalid, SignInFailed};
        use crate::session::AuthState;
        match state {
            AuthState::SignInFailed(why) => view! { <SignInFailed why=why /> }.into_any(),
            AuthState::ConfigInvalid(issues) => view! { <ConfigInvalid issues=issues /> }.into_any(),
            AuthState::AuthorityUnavailable { why, authority } => {
                view! { <AuthorityUnavailable why=why authority=authority /> }.into_any()
            }
            _ => ().into_any(),
        }
    }
);

part!(
    web_apis,
    /// The Web APIs page.
    pub fn web_apis_page(session: std::sync::Arc<crate::session::SignedInState>) {
        view! { <crate::pages::WebApis session=session /> }.into_any()
    }
);

part!(
    diagnostics,
    /// The Diagnostics page.
    pub fn diagnostics_page(session: std::sync::Arc<crate::session::SignedInState>) {
        view! { <crate::pages::Diagnostics session=session /> }.into_any()
    }
);
