//! MES answers: any status, any content type, any body.
#![no_main]
mod common;
use libfuzzer_sys::fuzz_target;
use mes_client::{Rows, RowsDecoder, parse_lookup_response};

const TYPES: [&str; 5] = ["application/json", "application/json; charset=utf-8", "text/html", "text/plain", ""];
const STATUSES: [u16; 10] = [200, 204, 400, 401, 403, 404, 405, 500, 502, 302];

fuzz_target!(|input: &[u8]| {
    let Some((&selector, body)) = input.split_first() else { return };
    let status = STATUSES[usize::from(selector) % STATUSES.len()];
    let content_type = TYPES[usize::from(selector / 16) % TYPES.len()];
    let response = common::json_response(status, content_type, body);
    if let Ok(rows) = parse_lookup_response(&response, Some("PLANT\\alice")) {
        assert!((0..rows.len()).all(|r| rows.row(r).count() == rows.columns().len()), "ragged rows");
    }
    // In two pieces, cut where the selector says: the same rows, or an error either way.
    let whole = Rows::from_json(body);
    let cut = usize::from(selector) % (body.len() + 1);
    let (mut rows, mut decoder) = (Rows::default(), RowsDecoder::default());
    let pieces = decoder.push(&body[..cut], &mut rows).and_then(|()| decoder.push(&body[cut..], &mut rows)).and_then(|()| decoder.finish());
    match (whole, pieces) {
        (Ok(whole), Ok(())) => assert_eq!(whole, rows, "pieces decode like the whole"),
        (Err(_), Err(_)) => {}
        (whole, pieces) => panic!("whole {:?} but pieces {:?}", whole.map(|r| r.len()), pieces),
    }
});
