//! Entry point: panic reporting, then mount the portal.

#[cfg(target_arch = "wasm32")]
fn main() {
    mes_portal::install_panic_page();
    leptos::mount::mount_to_body(mes_portal::App);
}

#[cfg(not(target_arch = "wasm32"))]
fn main() {
    eprintln!("The MES Web Portal runs in the browser: `cargo xtask demo` builds and serves it.");
}
