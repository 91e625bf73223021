//! The mechanism for parts of the portal that load when first used; each feature declares its
//! own parts with `part!` beside its code (the lookup grid in `grid`, the embedding entries and
//! the framed page in `embed`, the signed-in shell, the Web APIs page, Diagnostics and the pages
//! for problems at start in `pages`). This module knows none of them.
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

/// `split!(chunk, fn name(args) -> T { body })`: an async function that loads `chunk` (release
/// build) and then returns what the body makes, or [`NotLoaded`].
macro_rules! split {
    ($chunk:ident, $(#[$doc:meta])* pub fn $name:ident($($arg:ident: $ty:ty),* $(,)?) -> $ret:ty $body:block) => {
        $(#[$doc])*
        #[cfg(mes_split)]
        #[leptos::wasm_split::wasm_split($chunk, wasm_split_path = ::leptos::wasm_split, fallible)]
        pub fn $name($($arg: $ty),*) -> Result<$ret, $crate::on_demand::NotLoaded> {
            Ok($body)
        }
        $(#[$doc])*
        #[cfg(not(mes_split))]
        pub async fn $name($($arg: $ty),*) -> Result<$ret, $crate::on_demand::NotLoaded> {
            Ok($body)
        }
    };
}

/// `part!(chunk, fn name(args) { view })`: an async function that loads `chunk` (release
/// build) and then returns the view the body makes.
macro_rules! part {
    ($chunk:ident, $(#[$doc:meta])* pub fn $name:ident($($arg:ident: $ty:ty),* $(,)?) $body:block) => {
        $crate::on_demand::split!($chunk, $(#[$doc])* pub fn $name($($arg: $ty),*) -> ::leptos::prelude::AnyView $body);
    };
}

pub(crate) use {part, split};

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
                        <crate::retry::RetryCountdown retry=again attempt=tries />
                        <div class="actions"><button class="secondary" on:click=move |_| again.run(())>{w(Word::TryAgainNow)}</button></div>
                    </div>
                }.into_any())
            }))
        }}
    }
    .into_any()
}
