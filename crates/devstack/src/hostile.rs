//! Test-only hostile behaviour, off unless a test asks for it (`StackOptions::hostile`) and never
//! reachable from the demo or the command line: MES answers that a broken server, a proxy or an
//! attacker could produce, under `/mesmw/api/v3/hostile/<case>`, and AIM's tamperings (what
//! each does to discovery, the callback and the ID token lives here; AIM's honest code asks
//! these functions and goes on honestly when they say `None`).

use axum::body::{Body, Bytes};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use std::time::Duration;

/// What the portal must show for a case.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Expect {
    /// A grid with at least one row.
    Grid,
    /// The "No rows" state.
    Empty,
    /// The failure state with this `data-state`.
    State(&'static str),
}

/// One hostile MES answer.
#[derive(Debug, Clone, Copy)]
pub struct MesCase {
    /// Path segment after `v3/hostile/`.
    pub name: &'static str,
    /// What the portal must show.
    pub expect: Expect,
}

const fn case(name: &'static str, expect: Expect) -> MesCase {
    MesCase { name, expect }
}

/// The corpus. Every payload that could run script sets `window.__pwned`.
pub const MES_CASES: &[MesCase] = &[
    case("html-200", Expect::State("unexpected")),
    case("truncated-json", Expect::State("unexpected")),
    case("object-not-array", Expect::State("unexpected")),
    case("array-of-arrays", Expect::State("unexpected")),
    case("array-of-scalars", Expect::State("unexpected")),
    case("empty-body", Expect::State("unexpected")),
    case("empty-array", Expect::Empty),
    case("ten-mb-string", Expect::Grid),
    case("thousand-columns", Expect::Grid),
    case("mixed-types", Expect::Grid),
    case("nulls-everywhere", Expect::Grid),
    case("duplicate-keys", Expect::Grid),
    case("invalid-utf8", Expect::State("unexpected")),
    case("huge-numbers", Expect::Grid),
    case("number-overflow", Expect::State("unexpected")),
    case("deep-nesting", Expect::State("unexpected")),
    case("script-payloads", Expect::Grid),
    case("payloads-in-column-names", Expect::Grid),
    case("bidi-and-control-characters", Expect::Grid),
    case("byte-order-mark", Expect::Grid),
    case("json-as-text-plain", Expect::Grid),
    case("over-size-limit", Expect::State("unexpected")),
    case("slow-drip", Expect::Grid),
    case("reset-mid-body", Expect::State("unreachable")),
    case("html-500", Expect::State("server-error")),
    // D9: a 500 the MES explains decides by its message, not by whether the browser reaches AIM.
    case("json-500-database", Expect::State("server-error")),
    case(
        "json-500-authority-unreachable",
        Expect::State("authority-offline"),
    ),
    case("redirect-to-login-page", Expect::State("unexpected")),
    case("html-401", Expect::State("session-expired")),
    // A question's parameter echoed back in the MES's 400: shown as text, never as markup.
    case("echoed-parameter", Expect::State("server-error")),
    // A list like any other, whose `/key` (config.json's `record`) answers two records: the
    // row's detail says the record could not be read and keeps the row as listed.
    case("key-answers-array", Expect::Grid),
];

/// A script that must never run.
const SCRIPT: &str = "<script>window.__pwned=1</script>";
const IMG: &str = "<img src=x onerror=\"window.__pwned=1\">";

fn answer(status: StatusCode, content_type: &'static str, body: impl Into<Body>) -> Response {
    (status, [(header::CONTENT_TYPE, content_type)], body.into()).into_response()
}

fn json(body: impl Into<Body>) -> Response {
    answer(StatusCode::OK, "application/json; charset=utf-8", body)
}

fn login_page() -> String {
    format!(
        "<!doctype html><html><head><title>Sign in</title></head><body><h1>Sign in</h1>{IMG}<form>…</form>{SCRIPT}</body></html>"
    )
}

/// The login page a misconfigured proxy redirects to (no token needed, like the real thing).
pub fn login_page_answer() -> Response {
    answer(StatusCode::OK, "text/html; charset=utf-8", login_page())
}

/// Streams `chunks` with `pause` between them; an `Err` chunk resets the connection.
fn stream(chunks: Vec<Result<Bytes, std::io::Error>>, pause: Duration) -> Body {
    let stream = futures_util::stream::unfold(chunks.into_iter(), move |mut rest| async move {
        let next = rest.next()?;
        tokio::time::sleep(pause).await;
        Some((next, rest))
    });
    Body::from_stream(stream)
}

fn rows(n: usize) -> String {
    let items: Vec<String> = (0..n)
        .map(|i| format!(r#"{{"lot_no":"L-{i:04}","qty":{i},"status":"Released"}}"#))
        .collect();
    format!("[{}]", items.join(","))
}

/// The answer for `name`, or `None` for an unknown case.
pub fn mes_answer(name: &str, login_url: &str) -> Option<Response> {
    let response = match name {
        "html-200" => answer(StatusCode::OK, "text/html; charset=utf-8", login_page()),
        "truncated-json" => json(r#"[{"lot_no":"L-1","qty":1},{"lot_no":"L-2","qty":"#),
        "object-not-array" => json(r#"{"rows":[{"lot_no":"L-1"}],"count":1}"#),
        "array-of-arrays" => json(r#"[["L-1",1],["L-2",2]]"#),
        "array-of-scalars" => json(r#"[1,"two",null,true]"#),
        "empty-body" => json(""),
        "empty-array" => json("[]"),
        // Read as a list and as a record alike: two rows where one record is asked for.
        "key-answers-array" => json(rows(2)),
        "ten-mb-string" => json(format!(r#"[{{"lot_no":"L-1","note":"{}{}"}}]"#, "x".repeat(10 * 1024 * 1024), "&lt;b&gt;")),
        "thousand-columns" => {
            let row = |r: usize| {
                let cells: Vec<String> = (0..1000).map(|c| format!(r#""c{c:04}":{}"#, r * 1000 + c)).collect();
                format!("{{{}}}", cells.join(","))
            };
            json(format!("[{}]", (0..20).map(row).collect::<Vec<_>>().join(",")))
        }
        "mixed-types" => json(
            r#"[{"id":1,"v":1},{"id":2,"v":"1"},{"id":3,"v":true},{"id":4,"v":null},{"id":5,"v":{"a":1}},{"id":6,"v":[1,2]},{"id":7,"v":1.5}]"#,
        ),
        "nulls-everywhere" => json(format!("[{}]", vec![r#"{"lot_no":null,"qty":null,"status":null}"#; 50].join(","))),
        "duplicate-keys" => json(r#"[{"id":1,"id":2,"name":"first","name":"second"},{"id":3,"name":"third"}]"#),
        "invalid-utf8" => {
            let mut body = br#"[{"name":""#.to_vec();
            body.extend_from_slice(&[0xff, 0xfe, 0xc3]);
            body.extend_from_slice(br#""}]"#);
            json(body)
        }
        "huge-numbers" => json(r#"[{"big":123456789012345678901234567890,"most":1.7976931348623157e308,"least":-1.7976931348623157e308,"tiny":5e-324}]"#),
        "number-overflow" => json(r#"[{"n":1e400}]"#),
        "deep-nesting" => json(format!(r#"[{{"v":{}{}}}]"#, "[".repeat(5000), "]".repeat(5000))),
        "script-payloads" => json(
            serde_json::json!([
                {"lot_no": SCRIPT, "note": IMG},
                {"lot_no": "javascript:window.__pwned=1", "note": "\"><svg onload=window.__pwned=1>"},
                {"lot_no": "{{constructor.constructor('window.__pwned=1')()}}", "note": "=HYPERLINK(\"http://evil.example\")"}
            ])
            .to_string(),
        ),
        "payloads-in-column-names" => json(serde_json::json!([{ IMG: SCRIPT, "ok": 1, "\"><b>": 2 }]).to_string()),
        "bidi-and-control-characters" => json(
            serde_json::json!([{"name": "\u{202e}txt.exe\u{202c}", "nul": "a\u{0}b", "zero_width": "in\u{200b}visible", "combining": "e\u{301}\u{301}\u{301}", "emoji": "🏭", "terminal": "\u{1b}]0;pwned\u{7}\u{1b}[2J\u{9b}31m"}])
                .to_string(),
        ),
        "byte-order-mark" => json(format!("\u{feff}{}", rows(3))),
        "json-as-text-plain" => answer(StatusCode::OK, "text/plain", rows(3)),
        "over-size-limit" => {
            // 70 MB, chunked (no Content-Length): a client must stop reading at its limit (the
            // portal's on a device with 0.5 GiB of memory, a native job's default).
            let chunk = Bytes::from(format!("{{\"pad\":\"{}\"}},", "x".repeat(1024 * 1024 - 12)));
            let mut chunks = vec![Ok(Bytes::from_static(b"["))];
            chunks.extend((0..70).map(|_| Ok(chunk.clone())));
            chunks.push(Ok(Bytes::from_static(b"{}]")));
            answer(StatusCode::OK, "application/json", stream(chunks, Duration::ZERO))
        }
        "slow-drip" => {
            let body = rows(30).into_bytes();
            let chunks = body.chunks(body.len().div_ceil(40)).map(|c| Ok(Bytes::copy_from_slice(c))).collect();
            answer(StatusCode::OK, "application/json", stream(chunks, Duration::from_millis(75)))
        }
        "reset-mid-body" => {
            let body = rows(30);
            let chunks = vec![Ok(Bytes::from(body[..body.len() / 2].to_owned())), Err(std::io::Error::other("connection reset"))];
            answer(StatusCode::OK, "application/json", stream(chunks, Duration::from_millis(50)))
        }
        "html-500" => answer(
            StatusCode::INTERNAL_SERVER_ERROR,
            "text/html",
            format!("<html><body><h1>Server Error in '/mesmw' Application.</h1>{IMG}{SCRIPT}</body></html>"),
        ),
        "json-500-database" => answer(
            StatusCode::INTERNAL_SERVER_ERROR,
            "application/json",
            r#"{"Message":"The lookup failed: the database is locked."}"#,
        ),
        "json-500-authority-unreachable" => answer(
            StatusCode::INTERNAL_SERVER_ERROR,
            "application/json",
            r#"{"Message":"The authentication token could not be verified because the identity authority (AVEVA Identity Manager) is unreachable."}"#,
        ),
        "redirect-to-login-page" => (StatusCode::FOUND, [(header::LOCATION, login_url.to_owned())]).into_response(),
        "html-401" => answer(StatusCode::UNAUTHORIZED, "text/html", format!("<html><body>401 - Unauthorized{SCRIPT}</body></html>")),
        "echoed-parameter" => answer(
            StatusCode::BAD_REQUEST,
            "application/json; charset=utf-8",
            serde_json::json!({ "Message": format!("The request is invalid: unknown parameter \"{IMG}\" for v3/lot/filter.") }).to_string(),
        ),
        _ => return None,
    };
    Some(response)
}

/// A tampered authority answer (AIM's hostile mode), applied to every sign-in while set.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tamper {
    /// The callback lacks `state`.
    DropState,
    /// The callback carries another `state`.
    WrongState,
    /// The callback lacks `iss` although discovery promises it (RFC 9207).
    DropIss,
    /// The callback's `iss` names another authority (mix-up attack).
    WrongIss,
    /// The callback says `error=access_denied`, with markup in its description.
    AccessDenied,
    /// The ID token's signature is altered.
    BadSignature,
    /// The ID token is unsigned (`alg: none`).
    AlgNone,
    /// The ID token is for another client.
    WrongAudience,
    /// The ID token's nonce is not the one sent.
    WrongNonce,
    /// The ID token expired an hour ago.
    Expired,
    /// The ID token is issued an hour from now.
    IssuedInFuture,
    /// The ID token names a key the JWKS does not have.
    UnknownKid,
    /// Discovery names another issuer than the configured authority.
    WrongIssuerInDiscovery,
}

/// Every tampering, for tests that walk them all.
pub const TAMPERS: &[Tamper] = &[
    Tamper::DropState,
    Tamper::WrongState,
    Tamper::DropIss,
    Tamper::WrongIss,
    Tamper::AccessDenied,
    Tamper::BadSignature,
    Tamper::AlgNone,
    Tamper::WrongAudience,
    Tamper::WrongNonce,
    Tamper::Expired,
    Tamper::IssuedInFuture,
    Tamper::UnknownKid,
    Tamper::WrongIssuerInDiscovery,
];

/// The issuer a mix-up attacker would name.
pub const FORGED_ISSUER: &str = "https://evil.example/identitymanager";

/// The issuer discovery names: the honest one, or a forged one under
/// [`Tamper::WrongIssuerInDiscovery`].
pub fn discovery_issuer(tamper: Option<Tamper>, honest: &str) -> &str {
    if tamper == Some(Tamper::WrongIssuerInDiscovery) {
        FORGED_ISSUER
    } else {
        honest
    }
}

/// The callback's query pairs a tampering sends instead of the honest `code`, `state`, `iss`;
/// `None` when the answer is honest.
pub fn callback_pairs(
    tamper: Option<Tamper>,
    code: &str,
    state: &str,
    issuer: &str,
) -> Option<Vec<(String, String)>> {
    let pairs: &[(&str, &str)] = match tamper? {
        Tamper::DropState => &[("code", code), ("iss", issuer)],
        Tamper::WrongState => &[("code", code), ("state", "forged-state"), ("iss", issuer)],
        Tamper::DropIss => &[("code", code), ("state", state)],
        Tamper::WrongIss => &[("code", code), ("state", state), ("iss", FORGED_ISSUER)],
        Tamper::AccessDenied => &[
            ("error", "access_denied"),
            ("error_description", "<img src=x onerror=\"window.__pwned=1\">"),
            ("state", state),
            ("iss", issuer),
        ],
        _ => return None,
    };
    Some(
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect(),
    )
}

/// Alters an ID token's claims as the tampering says (nothing when honest or not about claims).
pub fn tamper_claims(tamper: Option<Tamper>, claims: &mut serde_json::Value, now: u64) {
    use serde_json::json;
    match tamper {
        Some(Tamper::WrongAudience) => claims["aud"] = json!("another-client"),
        Some(Tamper::WrongNonce) => claims["nonce"] = json!("forged-nonce"),
        Some(Tamper::Expired) => {
            (claims["iat"], claims["nbf"], claims["exp"]) =
                (json!(now - 7200), json!(now - 7200), json!(now - 3600))
        }
        Some(Tamper::IssuedInFuture) => {
            (claims["iat"], claims["nbf"], claims["exp"]) =
                (json!(now + 3600), json!(now + 3600), json!(now + 7200))
        }
        _ => {}
    }
}

/// An ID token written the way the tampering says — unsigned, under an unknown key, or with its
/// signature altered — from `claims`, `sign` (the honest RS256 signer) and the signing key;
/// `None` when the token is to be signed honestly.
pub fn tampered_id_token(
    tamper: Option<Tamper>,
    claims: &serde_json::Value,
    sign: impl Fn(&serde_json::Value) -> String,
    key: &jsonwebtoken::EncodingKey,
) -> Option<String> {
    use base64::Engine as _;
    let engine = base64::engine::general_purpose::URL_SAFE_NO_PAD;
    let b64 = |v: &serde_json::Value| engine.encode(v.to_string());
    match tamper? {
        Tamper::AlgNone => Some(format!(
            "{}.{}.",
            b64(&serde_json::json!({"alg": "none", "typ": "JWT"})),
            b64(claims)
        )),
        Tamper::UnknownKid => {
            let mut header = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::RS256);
            header.kid = Some("rotated-away".into());
            Some(jsonwebtoken::encode(&header, claims, key).unwrap_or_default())
        }
        Tamper::BadSignature => {
            let honest = sign(claims);
            let (body, signature) = honest.rsplit_once('.').unwrap_or((&honest, ""));
            let mut bytes = engine.decode(signature).unwrap_or_default();
            if let Some(first) = bytes.first_mut() {
                *first ^= 0x01;
            }
            Some(format!("{body}.{}", engine.encode(bytes)))
        }
        _ => None,
    }
}
