//! The callback URL's query: parsing and every check, and the return-path guard.
#![no_main]
mod common;
use libfuzzer_sys::fuzz_target;
use mes_client::{CallbackParams, PendingSignIn, check_callback, same_origin_path};

fuzz_target!(|query: &str| {
    let metadata = common::metadata();
    let pending = PendingSignIn { state: "state-1".into(), nonce: "nonce-1".into(), verifier: "v".repeat(43), return_path: "/".into() };
    let params = CallbackParams::from_query(query);
    if check_callback(&params, Some(&pending), &metadata).is_ok() {
        // Only the exact state and this authority's iss may pass.
        assert_eq!(params.state.as_deref(), Some("state-1"));
        assert_eq!(params.iss.as_deref(), Some(common::AUTHORITY));
    }
    let _ = check_callback(&params, None, &metadata);
    let path = same_origin_path(query);
    assert!(path.starts_with('/') && !path.starts_with("//") && !path.contains('\\'), "{path:?} could leave the origin");
});
