//! OpenID Provider discovery (OpenID Connect Discovery 1.0, RFC 8414) and the JWKS.
//! Every endpoint the client uses comes from here; no path is assumed.

use crate::transport::{
    HttpRequest, HttpResponse, Transport, TransportError, content_type, first_bytes, get_json, is_json,
};
use serde::{Deserialize, Serialize};

/// The parts of the provider's metadata the client uses.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
pub struct ProviderMetadata {
    /// Must equal the configured authority exactly.
    pub issuer: String,
    /// Where the browser is sent to sign in.
    pub authorization_endpoint: String,
    /// Where codes and refresh tokens are exchanged.
    pub token_endpoint: String,
    /// The signing keys.
    pub jwks_uri: String,
    /// RP-initiated logout, when offered.
    #[serde(default)]
    pub end_session_endpoint: Option<String>,
    /// RFC 7009 revocation, when offered.
    #[serde(default)]
    pub revocation_endpoint: Option<String>,
    /// PKCE methods; when listed it must include `S256`.
    #[serde(default)]
    pub code_challenge_methods_supported: Option<Vec<String>>,
    /// RFC 9207: the authority sends `iss` with every authorization response.
    #[serde(default)]
    pub authorization_response_iss_parameter_supported: bool,
}

/// Why discovery failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DiscoveryError {
    /// No HTTP answer: the authority is offline, unreachable, or refuses this origin (CORS).
    #[error("the identity authority did not answer ({0})")]
    Unreachable(TransportError),
    /// An HTTP answer that is not the metadata document.
    #[error("the identity authority answered {url} with HTTP {status} ({content_type}): {first_bytes}")]
    UnexpectedResponse {
        /// The discovery address.
        url: String,
        /// HTTP status.
        status: u16,
        /// Content type as sent.
        content_type: String,
        /// Start of the body.
        first_bytes: String,
    },
    /// The document names another issuer: a misconfigured authority, or a mix-up attack.
    #[error(
        "the discovery document names issuer \"{found}\", but the configured authority is \"{expected}\""
    )]
    IssuerMismatch {
        /// The configured authority.
        expected: String,
        /// What the document says.
        found: String,
    },
    /// A required capability is missing.
    #[error("the identity authority cannot be used: {0}")]
    Unsupported(String),
}

/// The discovery document's address for an authority.
pub fn discovery_url(authority: &str) -> String {
    format!(
        "{}/.well-known/openid-configuration",
        authority.trim_end_matches('/')
    )
}

/// The GET request for the discovery document.
pub fn discovery_request(authority: &str) -> HttpRequest {
    get_json(&discovery_url(authority))
}

/// The authority as discovered: metadata and signing keys (public data).
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct Authority {
    /// Discovery document.
    pub metadata: ProviderMetadata,
    /// Signing keys.
    pub jwks: JwkSet,
}

impl Authority {
    /// Discovery, then the JWKS it names.
    pub async fn load(
        transport: &(impl Transport + 'static),
        authority: &str,
    ) -> Result<Self, DiscoveryError> {
        let metadata = discover(transport, authority).await?;
        let jwks = fetch_jwks(transport, &metadata).await?;
        Ok(Self { metadata, jwks })
    }
}

/// Parses and checks the discovery answer against the configured authority.
pub fn parse_discovery(authority: &str, response: &HttpResponse) -> Result<ProviderMetadata, DiscoveryError> {
    let url = discovery_url(authority);
    let metadata: ProviderMetadata = parse_json_document(&url, response)?;
    if metadata.issuer != authority && metadata.issuer != authority.trim_end_matches('/') {
        return Err(DiscoveryError::IssuerMismatch {
            expected: authority.to_owned(),
            found: metadata.issuer,
        });
    }
    // An authority behind a TLS proxy may still advertise its inner http addresses: a password
    // form, a code, a refresh token or a client secret would then travel in clear text. Held
    // to config.json's rule: https, or http on this machine.
    let endpoints = [
        ("authorization_endpoint", Some(&metadata.authorization_endpoint)),
        ("token_endpoint", Some(&metadata.token_endpoint)),
        ("jwks_uri", Some(&metadata.jwks_uri)),
        ("end_session_endpoint", metadata.end_session_endpoint.as_ref()),
        ("revocation_endpoint", metadata.revocation_endpoint.as_ref()),
    ];
    for (name, url) in endpoints {
        if let Some(url) = url
            && !crate::AbsoluteUrl::parse(url).is_ok_and(|u| u.is_secure_or_loopback())
        {
            return Err(DiscoveryError::Unsupported(format!(
                "its {name} \"{}\" is not an https address (a sign-in or a secret would travel in clear text; an authority behind a TLS proxy must advertise the proxy's https addresses)",
                crate::transport::printable(url)
            )));
        }
    }
    if let Some(methods) = &metadata.code_challenge_methods_supported
        && !methods.iter().any(|m| m == "S256")
    {
        return Err(DiscoveryError::Unsupported(
            "it does not offer PKCE with S256".into(),
        ));
    }
    Ok(metadata)
}

/// The authority answered `url` with something else than the document asked for.
fn unexpected(url: &str, response: &HttpResponse) -> DiscoveryError {
    DiscoveryError::UnexpectedResponse {
        url: url.to_owned(),
        status: response.status().as_u16(),
        content_type: content_type(response),
        first_bytes: first_bytes(response.body()),
    }
}

fn parse_json_document<T: serde::de::DeserializeOwned>(
    url: &str,
    response: &HttpResponse,
) -> Result<T, DiscoveryError> {
    let unexpected = || unexpected(url, response);
    if !response.status().is_success() || !is_json(&content_type(response)) {
        return Err(unexpected());
    }
    serde_json::from_slice(response.body()).map_err(|_| unexpected())
}

/// Asks the authority's discovery document whether it answers, and says why not. One small
/// request, made before the page leaves for the authority, so a person is never sent to a
/// browser error page.
pub async fn authority_reachable(transport: &impl Transport, authority: &str) -> Result<(), DiscoveryError> {
    let response = transport
        .send(discovery_request(authority))
        .await
        .map_err(DiscoveryError::Unreachable)?;
    if response.status().is_success() {
        Ok(())
    } else {
        Err(unexpected(&discovery_url(authority), &response))
    }
}

/// Fetches and checks the provider metadata.
pub async fn discover(
    transport: &impl Transport,
    authority: &str,
) -> Result<ProviderMetadata, DiscoveryError> {
    let response = transport
        .send(discovery_request(authority))
        .await
        .map_err(DiscoveryError::Unreachable)?;
    parse_discovery(authority, &response)
}

/// One public key from the JWKS.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
pub struct Jwk {
    /// Key type: `RSA` or `EC`.
    pub kty: String,
    /// Key ID, matched against the token header's `kid`.
    #[serde(default)]
    pub kid: Option<String>,
    /// Intended algorithm, when stated.
    #[serde(default)]
    pub alg: Option<String>,
    /// `sig` for signing keys.
    #[serde(default, rename = "use")]
    pub use_: Option<String>,
    /// RSA modulus (base64url).
    #[serde(default)]
    pub n: Option<String>,
    /// RSA exponent (base64url).
    #[serde(default)]
    pub e: Option<String>,
    /// EC curve.
    #[serde(default)]
    pub crv: Option<String>,
    /// EC x (base64url).
    #[serde(default)]
    pub x: Option<String>,
    /// EC y (base64url).
    #[serde(default)]
    pub y: Option<String>,
}

/// The authority's signing keys.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize, Serialize)]
pub struct JwkSet {
    /// The keys.
    pub keys: Vec<Jwk>,
}

impl JwkSet {
    /// The signing key for a token header's `kid` (or the only signing key when the header has none).
    pub fn find(&self, kid: Option<&str>) -> Option<&Jwk> {
        let signing = || {
            self.keys
                .iter()
                .filter(|k| k.use_.as_deref().is_none_or(|u| u == "sig"))
        };
        match kid {
            Some(kid) => signing().find(|k| k.kid.as_deref() == Some(kid)),
            None => {
                let mut keys = signing();
                let first = keys.next();
                if keys.next().is_some() { None } else { first }
            }
        }
    }
}

/// Fetches the JWKS named by the metadata.
pub async fn fetch_jwks(
    transport: &impl Transport,
    metadata: &ProviderMetadata,
) -> Result<JwkSet, DiscoveryError> {
    let response = transport
        .send(get_json(&metadata.jwks_uri))
        .await
        .map_err(DiscoveryError::Unreachable)?;
    parse_json_document(&metadata.jwks_uri, &response)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn answer(status: u16, content_type: &str, body: &str) -> HttpResponse {
        HttpResponse::new(status, body).with_header("content-type", content_type)
    }

    const DOC: &str = r#"{"issuer":"https://sms.plant.example/identitymanager",
        "authorization_endpoint":"https://sms.plant.example/identitymanager/connect/authorize",
        "token_endpoint":"https://sms.plant.example/identitymanager/connect/token",
        "jwks_uri":"https://sms.plant.example/identitymanager/.well-known/openid-configuration/jwks",
        "code_challenge_methods_supported":["plain","S256"],
        "authorization_response_iss_parameter_supported":true}"#;

    #[test]
    fn request_is_a_plain_get_for_json() {
        let request = discovery_request("https://sms.plant.example/identitymanager/");
        assert_eq!(request.method(), crate::transport::Method::Get);
        assert_eq!(
            request.url(),
            "https://sms.plant.example/identitymanager/.well-known/openid-configuration"
        );
        assert_eq!(request.headers().get("accept"), Some("application/json"));
        assert!(request.body().is_empty());
    }

    #[test]
    fn an_unusable_address_never_becomes_a_request_to_this_origin() {
        let request = get_json("https://sms.plant.example/jwks with spaces");
        assert_eq!(request.url(), "http://invalid.invalid/");
    }

    #[test]
    fn issuer_must_match_the_configured_authority() {
        let ok = parse_discovery(
            "https://sms.plant.example/identitymanager",
            &answer(200, "application/json", DOC),
        )
        .expect("ok");
        assert!(ok.authorization_response_iss_parameter_supported);
        let err = parse_discovery(
            "https://evil.example/identitymanager",
            &answer(200, "application/json", DOC),
        )
        .expect_err("mix-up");
        assert!(matches!(err, DiscoveryError::IssuerMismatch { .. }));
        let slash = parse_discovery(
            "https://sms.plant.example/identitymanager/",
            &answer(200, "application/json", DOC),
        );
        assert!(
            slash.is_ok(),
            "a configured trailing slash is not another issuer: {slash:?}"
        );
    }

    /// Review E6: every endpoint discovery names is https (or http on this machine), like
    /// config.json's addresses — an authority behind a TLS proxy that advertises its inner http
    /// token endpoint would get secrets in clear text.
    #[test]
    fn every_endpoint_from_discovery_is_https_or_loopback() {
        let authority = "https://sms.plant.example/identitymanager";
        for field in [
            "authorization_endpoint",
            "token_endpoint",
            "jwks_uri",
            "end_session_endpoint",
            "revocation_endpoint",
        ] {
            let mut doc: serde_json::Value = serde_json::from_str(DOC).expect("doc");
            doc[field] = format!("http://sms.plant.example/identitymanager/{field}").into();
            let err = parse_discovery(authority, &answer(200, "application/json", &doc.to_string()))
                .expect_err(field);
            assert!(
                matches!(&err, DiscoveryError::Unsupported(why) if why.contains(field)),
                "{field}: {err:?}"
            );
            doc[field] = format!("ftp://sms.plant.example/{field}").into();
            assert!(parse_discovery(authority, &answer(200, "application/json", &doc.to_string())).is_err());
        }
        let mut local: serde_json::Value = serde_json::from_str(DOC).expect("doc");
        local["issuer"] = "http://127.0.0.1:8081/identitymanager".into();
        local["token_endpoint"] = "http://127.0.0.1:8081/identitymanager/connect/token".into();
        assert!(
            parse_discovery(
                "http://127.0.0.1:8081/identitymanager",
                &answer(200, "application/json", &local.to_string())
            )
            .is_ok(),
            "http on this machine (the stand-ins) stays usable"
        );
    }

    #[test]
    fn only_a_successful_json_answer_is_a_discovery_document() {
        let authority = "https://sms.plant.example/identitymanager";
        for (status, content_type) in [(503, "application/json"), (200, "text/plain"), (404, "text/html")] {
            let err = parse_discovery(authority, &answer(status, content_type, DOC)).expect_err("refused");
            assert!(
                matches!(err, DiscoveryError::UnexpectedResponse { status: s, .. } if s == status),
                "{status} {content_type}: {err:?}"
            );
        }
        assert!(parse_discovery(authority, &answer(200, "application/json; charset=utf-8", DOC)).is_ok());
    }

    #[test]
    fn an_html_page_is_an_unexpected_answer_with_its_first_bytes() {
        let err = parse_discovery(
            "https://sms.plant.example/identitymanager",
            &answer(200, "text/html; charset=utf-8", "<html><body>Login</body></html>"),
        )
        .expect_err("html");
        match err {
            DiscoveryError::UnexpectedResponse {
                status,
                content_type,
                first_bytes,
                ..
            } => {
                assert_eq!((status, content_type.as_str()), (200, "text/html"));
                assert!(first_bytes.starts_with("<html>"));
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn pkce_s256_is_required_when_methods_are_listed() {
        let doc = DOC.replace(r#"["plain","S256"]"#, r#"["plain"]"#);
        let err = parse_discovery(
            "https://sms.plant.example/identitymanager",
            &answer(200, "application/json", &doc),
        )
        .expect_err("plain only");
        assert!(matches!(err, DiscoveryError::Unsupported(_)));
    }

    #[test]
    fn jwk_lookup_by_kid() {
        let set: JwkSet = serde_json::from_str(
            r#"{"keys":[{"kty":"RSA","kid":"a","n":"x","e":"AQAB"},{"kty":"RSA","kid":"b","use":"enc"}]}"#,
        )
        .expect("jwks");
        assert_eq!(set.find(Some("a")).and_then(|k| k.kid.as_deref()), Some("a"));
        assert!(set.find(Some("b")).is_none(), "encryption keys never verify");
        assert!(set.find(Some("c")).is_none());
        assert_eq!(set.find(None).and_then(|k| k.kid.as_deref()), Some("a"));
    }
}
