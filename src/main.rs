//! Entry point: panic reporting, then mount the portal.

fn main() {
    mes_portal::install_panic_page();
    leptos::mount::mount_to_body(mes_portal::App);
}
