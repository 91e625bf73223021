//! Absolute URLs as the configuration and the sign-in need them: is it absolute, its scheme, does
//! its host name this machine, and the same URL with query parameters added.
//!
//! In the browser the parsing is the browser's own `URL` (web-sys), so no URL parser or IDNA
//! tables travel in the wasm; natively it is the `url` crate. Both implement the WHATWG URL
//! standard, and everything after parsing (loopback, query) is shared code.

use std::net::{Ipv4Addr, Ipv6Addr};

/// A parsed absolute URL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AbsoluteUrl {
    /// The serialized URL, as the parser normalized it.
    href: String,
    /// `https`, `http`, … (no colon).
    scheme: String,
    /// The host as written in a URL: a lower-case domain, `127.0.0.1`, `[::1]`; empty if none.
    host: String,
}

impl AbsoluteUrl {
    /// Parses `text` as an absolute URL; the error says why not.
    pub fn parse(text: &str) -> Result<Self, String> {
        parse(text)
    }

    /// The scheme, without the colon.
    pub fn scheme(&self) -> &str {
        &self.scheme
    }

    /// Whether a secret may travel to it: https, or http to this machine only.
    pub fn is_secure_or_loopback(&self) -> bool {
        self.scheme() == "https" || (self.scheme() == "http" && self.is_loopback())
    }

    /// Whether the host is this machine: `localhost`, 127.0.0.0/8 or `[::1]`.
    pub fn is_loopback(&self) -> bool {
        let host = self.host.as_str();
        if host.eq_ignore_ascii_case("localhost") {
            return true;
        }
        if let Some(v6) = host.strip_prefix('[').and_then(|h| h.strip_suffix(']')) {
            return v6.parse::<Ipv6Addr>().is_ok_and(|ip| ip.is_loopback());
        }
        host.parse::<Ipv4Addr>().is_ok_and(|ip| ip.is_loopback())
    }

    /// This URL with `pairs` appended to its query (form-encoded, after any query it has),
    /// before any fragment.
    pub fn with_query_pairs<'a>(&self, pairs: impl IntoIterator<Item = (&'a str, &'a str)>) -> String {
        let (base, fragment) = match self.href.split_once('#') {
            Some((base, fragment)) => (base, Some(fragment)),
            None => (self.href.as_str(), None),
        };
        let mut query = form_urlencoded::Serializer::new(String::new());
        query.extend_pairs(pairs);
        let query = query.finish();
        let mut out = String::with_capacity(base.len() + query.len() + 2);
        out.push_str(base);
        if !query.is_empty() {
            if !base.contains('?') {
                out.push('?');
            } else if !base.ends_with(['?', '&']) {
                out.push('&');
            }
            out.push_str(&query);
        }
        if let Some(fragment) = fragment {
            out.push('#');
            out.push_str(fragment);
        }
        out
    }
}

// The browser's own URL parser in the browser; the `url` crate natively. Each has a name of its
// own, so a mutation report tells which one a mutant changed.
#[cfg(target_arch = "wasm32")]
use parse_with_web_url as parse;

#[cfg(target_arch = "wasm32")]
fn parse_with_web_url(text: &str) -> Result<AbsoluteUrl, String> {
    use wasm_bindgen::JsCast as _;
    let url = web_sys::Url::new(text).map_err(|e| {
        e.dyn_ref::<js_sys::Error>()
            .map(|e| String::from(e.message()))
            .unwrap_or_else(|| "not a URL".into())
    })?;
    let protocol = url.protocol();
    Ok(AbsoluteUrl {
        href: url.href(),
        scheme: protocol.trim_end_matches(':').to_owned(),
        host: url.hostname(),
    })
}

#[cfg(not(target_arch = "wasm32"))]
fn parse(text: &str) -> Result<AbsoluteUrl, String> {
    let url = url::Url::parse(text).map_err(|e| e.to_string())?;
    let host = match url.host() {
        Some(url::Host::Domain(d)) => d.to_owned(),
        Some(url::Host::Ipv4(ip)) => ip.to_string(),
        Some(url::Host::Ipv6(ip)) => format!("[{ip}]"),
        None => String::new(),
    };
    Ok(AbsoluteUrl {
        href: url.as_str().to_owned(),
        scheme: url.scheme().to_owned(),
        host,
    })
}

#[cfg(test)]
mod tests {
    use super::AbsoluteUrl;

    // Loopback, refusals and the scheme: `tests/absolute_url.rs`, the same cases natively and in
    // the browser. What only the native parser is asked here:
    #[test]
    fn a_file_url_is_no_loopback_address() {
        assert!(
            !AbsoluteUrl::parse("file:///etc/passwd")
                .expect("url")
                .is_loopback()
        );
    }

    #[test]
    fn query_pairs_are_appended_encoded_and_before_the_fragment() {
        let url = AbsoluteUrl::parse("https://aim.example/authorize").expect("url");
        assert_eq!(
            url.with_query_pairs([("a", "b c"), ("d", "&=")]),
            "https://aim.example/authorize?a=b+c&d=%26%3D"
        );
        let url = AbsoluteUrl::parse("https://aim.example/authorize?tenant=1#top").expect("url");
        assert_eq!(
            url.with_query_pairs([("a", "1")]),
            "https://aim.example/authorize?tenant=1&a=1#top"
        );
        let url = AbsoluteUrl::parse("https://aim.example/authorize?").expect("url");
        assert_eq!(
            url.with_query_pairs([("a", "1")]),
            "https://aim.example/authorize?a=1"
        );
        assert_eq!(url.with_query_pairs([]), "https://aim.example/authorize?");
    }
}
