//! Token endpoint answers: any status, any body (an authority, a proxy or an attacker on the way).
#![no_main]
mod common;
use libfuzzer_sys::fuzz_target;
use mes_client::parse_token_response;

const STATUSES: [u16; 6] = [200, 201, 400, 401, 500, 502];

fuzz_target!(|input: &[u8]| {
    let Some((&selector, body)) = input.split_first() else { return };
    let status = STATUSES[usize::from(selector) % STATUSES.len()];
    let now = u64::from(selector) << 56;
    let response = common::json_response(status, "application/json", body);
    if let Ok(tokens) = parse_token_response(&response, now) {
        assert!((200..300).contains(&status), "tokens accepted from HTTP {status}");
        assert!(tokens.expires_at.is_none_or(|at| at >= now), "expiry before now");
    }
});
