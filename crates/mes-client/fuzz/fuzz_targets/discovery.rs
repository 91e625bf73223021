//! Discovery documents: any body for the configured authority.
#![no_main]
mod common;
use libfuzzer_sys::fuzz_target;
use mes_client::parse_discovery;

fuzz_target!(|body: &[u8]| {
    if let Ok(metadata) = parse_discovery(common::AUTHORITY, &common::json_response(200, "application/json", body)) {
        assert_eq!(metadata.issuer, common::AUTHORITY, "an issuer other than the configured authority was accepted");
    }
});
