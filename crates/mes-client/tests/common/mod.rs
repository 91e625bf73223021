pub mod vectors;

/// The cases `AbsoluteUrl` must answer alike natively (the `url` crate) and in the browser (its
/// own `URL`): which addresses are loopback, and which texts are no absolute URL at all.
#[allow(dead_code)]
pub fn check_absolute_urls() {
    use mes_client::AbsoluteUrl;
    for url in [
        "http://localhost:8080/",
        "http://LOCALHOST/",
        "http://127.0.0.1/",
        "http://127.9.9.9/x",
        "http://[::1]:3000/",
    ] {
        assert!(AbsoluteUrl::parse(url).expect(url).is_loopback(), "{url}");
    }
    for url in [
        "http://localhost.example/",
        "http://128.0.0.1/",
        "http://[::2]/",
        "https://mes.plant.example/",
    ] {
        assert!(!AbsoluteUrl::parse(url).expect(url).is_loopback(), "{url}");
    }
    for text in ["/callback", "mes.plant.example", "", "http://"] {
        assert!(AbsoluteUrl::parse(text).is_err(), "{text}");
    }
    assert_eq!(
        AbsoluteUrl::parse("HTTPS://AIM.example/x").expect("url").scheme(),
        "https"
    );
    let url = AbsoluteUrl::parse("https://aim.example/authorize?tenant=1#top").expect("url");
    assert_eq!(
        url.with_query_pairs([("a", "b c")]),
        "https://aim.example/authorize?tenant=1&a=b+c#top"
    );
}

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

/// Ways to tamper with a signed token that keep it well-formed (valid base64url and JSON), so
/// only a signature check can tell: a claim changed to another valid value, and one bit of the
/// signature flipped.
#[allow(dead_code)]
pub fn well_formed_tamperings(token: &str) -> [String; 3] {
    [
        with_claim(token, "preferred_username", "PLANT\\mallory".into()),
        with_claim(token, "sub", "someone-else".into()),
        with_flipped_signature_bit(token),
    ]
}

fn with_claim(token: &str, name: &str, value: serde_json::Value) -> String {
    let parts: Vec<&str> = token.split('.').collect();
    let mut claims: serde_json::Value =
        serde_json::from_slice(&URL_SAFE_NO_PAD.decode(parts[1]).expect("b64")).expect("json");
    claims[name] = value;
    format!(
        "{}.{}.{}",
        parts[0],
        URL_SAFE_NO_PAD.encode(claims.to_string()),
        parts[2]
    )
}

fn with_flipped_signature_bit(token: &str) -> String {
    let parts: Vec<&str> = token.split('.').collect();
    let mut signature = URL_SAFE_NO_PAD.decode(parts[2]).expect("b64");
    let last = signature.len() - 1;
    signature[last] ^= 0x01;
    format!("{}.{}.{}", parts[0], parts[1], URL_SAFE_NO_PAD.encode(signature))
}
