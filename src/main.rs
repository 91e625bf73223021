//! Entry point. On the portal's page (it has `#boot`): panic page, then mount the portal — or,
//! at `/embed/lookup`, the framed grid for another site's page (`frame.rs`). On any other page
//! of the origin that loads the portal's code (`mes-embed.js`): nothing is mounted; the page
//! calls `mountLookupGrid` or `mountRowsGrid`.

#[cfg(target_arch = "wasm32")]
fn main() {
    let is_portal_page = web_sys::window()
        .and_then(|w| w.document())
        .and_then(|d| d.get_element_by_id("boot"))
        .is_some();
    let framed_grid = mes_portal::nav::pathname() == mes_portal::embed::frame::PATH;
    if is_portal_page && framed_grid {
        mes_portal::embed::install_panic_notice();
        if let Some(boot) = web_sys::window()
            .and_then(|w| w.document())
            .and_then(|d| d.get_element_by_id("boot"))
        {
            boot.remove();
        }
        leptos::mount::mount_to_body(|| {
            use mes_portal::words::{Word, w};
            mes_portal::on_demand::on_demand(w(Word::PartPage), || {
                Box::pin(mes_portal::embed::frame::frame_page())
            })
        });
    } else if is_portal_page {
        mes_portal::install_panic_page();
        leptos::mount::mount_to_body(mes_portal::App);
    } else {
        mes_portal::embed::install_panic_notice();
    }
}

/// `mountLookupGrid(element, { lookup: "Lots", selection?: "single" | "multi" })`: shows the
/// lookup named in config.json inside `element` and fires `mes-select` events on it. Returns a
/// function that removes the grid. Throws when the options are wrong.
#[cfg(target_arch = "wasm32")]
#[wasm_bindgen::prelude::wasm_bindgen(js_name = mountLookupGrid)]
pub fn mount_lookup_grid(
    element: web_sys::HtmlElement,
    options: wasm_bindgen::JsValue,
) -> Result<js_sys::Function, wasm_bindgen::JsValue> {
    mes_portal::embed::mount(element, &options)
}

/// `mountLookupGridElement(container, host, options)`: what `<mes-lookup-grid>` (defined in
/// `mes-embed.js`) runs — the grid in `container` (its shadow root), events on `host`; returns
/// `{ update(options), unmount() }`.
#[cfg(target_arch = "wasm32")]
#[wasm_bindgen::prelude::wasm_bindgen(js_name = mountLookupGridElement)]
pub fn mount_lookup_grid_element(
    container: web_sys::HtmlElement,
    host: web_sys::HtmlElement,
    options: wasm_bindgen::JsValue,
) -> Result<js_sys::Object, wasm_bindgen::JsValue> {
    mes_portal::embed::mount_element(container, host, &options)
}

/// `mountRowsGrid(element, { json | rows, columns?, value?, selection? })`: shows rows the page
/// fetched itself (JSON text, or an array of objects) in the same grid, firing `mes-select` events
/// with the `value` column. Returns a function that removes the grid. Throws when the options or
/// the rows are wrong.
#[cfg(target_arch = "wasm32")]
#[wasm_bindgen::prelude::wasm_bindgen(js_name = mountRowsGrid)]
pub fn mount_rows_grid(
    element: web_sys::HtmlElement,
    options: wasm_bindgen::JsValue,
) -> Result<js_sys::Function, wasm_bindgen::JsValue> {
    mes_portal::embed::mount_rows(element, &options)
}

#[cfg(not(target_arch = "wasm32"))]
fn main() {
    eprintln!("The MES Web Portal runs in the browser: `cargo xtask demo` builds and serves it.");
}
