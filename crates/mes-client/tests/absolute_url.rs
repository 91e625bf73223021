//! `AbsoluteUrl` natively, by the `url` crate: the cases `tests/web.rs` runs in the browser, where
//! the browser's own `URL` parses (`common::check_absolute_urls`).
#![cfg(not(target_arch = "wasm32"))]

mod common;

#[test]
fn absolute_urls_are_parsed_natively_as_in_the_browser() {
    common::check_absolute_urls();
}
