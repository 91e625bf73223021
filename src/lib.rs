//! The MES Web Portal: a leptos (client-side rendered) app. UI only: everything that talks to AIM
//! or the MES goes through `mes-client` (see `session.rs`).

//! Natively only the pure model compiles (for its unit tests); the rest is browser code.

#[cfg(target_arch = "wasm32")]
pub mod embed;
pub mod genealogy;
#[cfg(target_arch = "wasm32")]
pub mod grid;
pub mod grid_model;
#[cfg(target_arch = "wasm32")]
pub mod nav;
#[cfg(target_arch = "wasm32")]
pub mod on_demand;
#[cfg(target_arch = "wasm32")]
pub mod pages;
#[cfg(target_arch = "wasm32")]
pub mod retry;
pub mod route;
#[cfg(target_arch = "wasm32")]
pub mod scan;
pub mod selectors;
#[cfg(target_arch = "wasm32")]
pub mod session;
#[cfg(target_arch = "wasm32")]
pub mod station;
pub mod words;

#[cfg(target_arch = "wasm32")]
pub use grid::{LookupGrid, RowsGrid};
#[cfg(target_arch = "wasm32")]
use leptos::prelude::*;
#[cfg(target_arch = "wasm32")]
pub use session::{Phase, Portal, use_portal};

/// The portal.
#[cfg(target_arch = "wasm32")]
#[component]
pub fn App() -> impl IntoView {
    let portal = Portal::new();
    provide_context(portal);
    if let Some(boot) = web_sys::window()
        .and_then(|w| w.document())
        .and_then(|d| d.get_element_by_id("boot"))
    {
        boot.remove();
    }
    nav::on_back_forward(move |route| portal.route.set(route));
    if let Err(why) = mes_client::browser::on_sign_out_elsewhere(move || portal.signed_out_elsewhere()) {
        leptos::logging::warn!("sign-out in other tabs will not reach this one: {why}");
    }
    leptos::task::spawn_local(portal.start(pages::prefetch_signed_in));
    view! { <pages::Root /> }
}

/// Replaces the page with a plain error when the app panics (the wasm instance is dead after a
/// panic; a frozen page would leave the person guessing). The panic is also logged.
#[cfg(target_arch = "wasm32")]
pub fn install_panic_page() {
    std::panic::set_hook(Box::new(|info| {
        console_error_panic_hook::hook(info);
        let Some(document) = web_sys::window().and_then(|w| w.document()) else {
            return;
        };
        let Some(body) = document.body() else { return };
        // Words are text: a translation's `<` is shown, never run.
        let text = |word| {
            let mut out = String::new();
            for c in words::w(word).chars() {
                match c {
                    '<' => out.push_str("&lt;"),
                    '>' => out.push_str("&gt;"),
                    '&' => out.push_str("&amp;"),
                    '"' => out.push_str("&quot;"),
                    c => out.push(c),
                }
            }
            out
        };
        use words::Word::{PanicConsole, PanicNotYou, PanicReload, PanicTitle};
        body.set_inner_html(&format!(
            "<div class=\"panic\" role=\"alert\"><div class=\"card\"><h1>{}</h1><p>{}</p>\
             <p><a class=\"button\" href=\"/\">{}</a></p><p class=\"muted\">{}</p></div></div>",
            text(PanicTitle),
            text(PanicNotYou),
            text(PanicReload),
            text(PanicConsole)
        ));
    }));
}
