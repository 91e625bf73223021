//! The address bar: the one place the portal reads the page's path and query and writes history
//! (tidy holds it). A path means a [`Route`]; a grid keeps its state in the query.

use crate::route::Route;
use leptos::prelude::*;

/// The page's route.
pub fn route() -> Route {
    Route::parse(&pathname())
}

/// The page's path (`/lookups/1`), `/` if unknown.
pub fn pathname() -> String {
    web_sys::window()
        .and_then(|w| w.location().pathname().ok())
        .unwrap_or_else(|| "/".into())
}

/// The page's query string, with its `?`, or empty.
pub fn query() -> String {
    web_sys::window()
        .and_then(|w| w.location().search().ok())
        .unwrap_or_default()
}

/// The page's origin (`https://mesportal.plant.example`), or empty.
pub fn origin() -> String {
    web_sys::window()
        .and_then(|w| w.location().origin().ok())
        .unwrap_or_default()
}

/// A new history entry for `path`, without loading anything.
pub fn push(path: &str) {
    if let Some(history) = web_sys::window().and_then(|w| w.history().ok()) {
        let _ = history.push_state_with_url(&wasm_bindgen::JsValue::NULL, "", Some(path));
    }
}

/// A new history entry of this path with `query` (without `?`): a question asked, so Back
/// goes to the one before.
pub fn push_query(query: &str) {
    push(&here_with(query));
}

/// This page's path with `query` (without `?`; empty: none).
fn here_with(query: &str) -> String {
    let path = pathname();
    if query.is_empty() {
        path
    } else {
        format!("{path}?{query}")
    }
}

/// The current history entry becomes `url` (a path, with a query if any): so a sign-in code
/// never stays in history or the address bar, and a grid's state follows it without new
/// entries.
pub fn replace(url: &str) {
    if let Some(history) = web_sys::window().and_then(|w| w.history().ok()) {
        let _ = history.replace_state_with_url(&wasm_bindgen::JsValue::NULL, "", Some(url));
    }
}

/// The current entry's query becomes `query` (without `?`; empty removes it), the path staying.
pub fn replace_query(query: &str) {
    replace(&here_with(query));
}

/// Calls `to` with the new route whenever the person goes back or forward; removed with the
/// reactive owner.
pub fn on_back_forward(to: impl Fn(Route) + Clone + 'static) {
    let listener = window_event_listener(leptos::ev::popstate, move |_| to(route()));
    on_cleanup(move || listener.remove());
}
