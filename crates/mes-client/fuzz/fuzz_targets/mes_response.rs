//! MES answers: any status, any content type, any body.
#![no_main]
mod common;
use libfuzzer_sys::fuzz_target;
use mes_client::{Rows, parse_lookup_response};

const TYPES: [&str; 5] = ["application/json", "application/json; charset=utf-8", "text/html", "text/plain", ""];
const STATUSES: [u16; 10] = [200, 204, 400, 401, 403, 404, 405, 500, 502, 302];

fuzz_target!(|input: &[u8]| {
    let Some((&selector, body)) = input.split_first() else { return };
    let status = STATUSES[usize::from(selector) % STATUSES.len()];
    let content_type = TYPES[usize::from(selector / 16) % TYPES.len()];
    let response = common::json_response(status, content_type, body);
    if let Ok(rows) = parse_lookup_response(&response, Some("PLANT\\alice")) {
        assert!(rows.rows.iter().all(|r| r.len() == rows.columns.len()), "ragged rows");
    }
    if let Ok(rows) = Rows::from_json(body) {
        assert!(rows.rows.iter().all(|r| r.len() == rows.columns.len()), "ragged rows");
    }
});
