//! Browser glue, one concern per file: the sign-in round trip's sessionStorage entry
//! (`storage`), the page's address and leaving it (`page`), sign-out across tabs (`broadcast`),
//! popup sign-in (`popup`), and signature checks with WebCrypto (`webcrypto`).

mod broadcast;
mod page;
mod popup;
mod storage;
mod webcrypto;

pub use broadcast::*;
pub use page::*;
pub use popup::*;
pub use storage::*;
pub use webcrypto::*;

use wasm_bindgen::{JsCast, JsValue};

/// What the browser would not do.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BrowserError {
    /// Not in a page (no window, document or body), or an element of the wrong kind.
    #[error("not in a browser page (no {0})")]
    NotAPage(&'static str),
    /// sessionStorage, which a sign-in needs for its one redirect, is unavailable.
    #[error("this browser's session storage, which sign-in needs for one redirect, is unavailable: {0}")]
    Storage(&'static str),
    /// The browser refused an action.
    #[error("the browser refused to {what} ({why})")]
    Refused {
        /// What was refused.
        what: &'static str,
        /// What the browser said.
        why: String,
    },
}

/// A JavaScript exception's message (or the value as text).
fn describe(value: JsValue) -> String {
    value
        .dyn_ref::<js_sys::Error>()
        .map(|e| String::from(e.message()))
        .or_else(|| value.as_string())
        .unwrap_or_else(|| "no reason given".into())
}
