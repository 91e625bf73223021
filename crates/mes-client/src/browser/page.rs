//! The page itself: its address (read only: the portal's own address bar belongs to its `nav`
//! module), leaving it for the authority, and leaving it for the authority's sign-out.

use super::{BrowserError, describe};
use wasm_bindgen::{JsCast, JsValue};

/// `pathname + search + hash` of the current page.
pub fn current_path() -> String {
    let Some(location) = web_sys::window().map(|w| w.location()) else {
        return "/".into();
    };
    format!(
        "{}{}{}",
        location.pathname().unwrap_or_else(|_| "/".into()),
        location.search().unwrap_or_default(),
        location.hash().unwrap_or_default()
    )
}

/// The query string of the current page, with its `?`.
pub fn current_query() -> String {
    web_sys::window()
        .and_then(|w| w.location().search().ok())
        .unwrap_or_default()
}

/// Leaves the page for `url`.
pub fn navigate(url: &str) -> Result<(), BrowserError> {
    let window = web_sys::window().ok_or(BrowserError::NotAPage("window"))?;
    window.location().assign(url).map_err(|e| BrowserError::Refused {
        what: "open the authority's page",
        why: describe(e),
    })
}

/// Leaves the page for the authority's end-session endpoint, as the request says: a GET to its
/// address (which holds no token), or a POST of its fields, so the ID token hint travels in the
/// body, never in a URL.
pub fn leave_for_end_session(request: &crate::signin::EndSession) -> Result<(), BrowserError> {
    match request.get_url() {
        Some(url) => navigate(&url),
        None => post_form(request),
    }
}

fn post_form(form: &crate::signin::EndSession) -> Result<(), BrowserError> {
    let document = web_sys::window()
        .and_then(|w| w.document())
        .ok_or(BrowserError::NotAPage("document"))?;
    let element: web_sys::HtmlFormElement = document
        .create_element("form")
        .map_err(refused)?
        .dyn_into()
        .map_err(|_| BrowserError::NotAPage("form element"))?;
    element.set_method("post");
    element.set_action(&form.action);
    element.set_attribute("hidden", "").map_err(refused)?;
    for (name, value) in &form.fields {
        let input: web_sys::HtmlInputElement = document
            .create_element("input")
            .map_err(refused)?
            .dyn_into()
            .map_err(|_| BrowserError::NotAPage("input element"))?;
        input.set_type("hidden");
        input.set_name(name);
        input.set_value(value);
        element.append_child(&input).map_err(refused)?;
    }
    document
        .body()
        .ok_or(BrowserError::NotAPage("body"))?
        .append_child(&element)
        .map_err(refused)?;
    element.submit().map_err(refused)
}

/// A refusal to build or send the sign-out form.
fn refused(value: JsValue) -> BrowserError {
    BrowserError::Refused {
        what: "send the sign-out form",
        why: describe(value),
    }
}
