//! The token and revocation endpoints (RFC 6749 §4.1.3, §4.4, §6; RFC 7009): the one path by
//! which this crate asks an authority for tokens or gives one back. Every grant — the portal's
//! code exchange and refresh, a background job's client credentials — and every revocation is a
//! form POST built by [`TokenClient`], sent through a [`Transport`], and read by
//! [`parse_token_response`].
//!
//! The requests are this crate's, not oauth2-rs's (oauth2-rs computes the PKCE challenge, in
//! `signin.rs`): its request builders need the `url` and `http` crates, about 45 kB gzipped, which
//! the first load cannot carry (the code exchange happens there) and which would otherwise come
//! with the grid; its revocation refuses the `http` loopback endpoints RFC 8252 allows; and its
//! reading of answers is laxer than ours, so it was not used. One builder for every grant keeps
//! the rules — a time limit, no redirects followed, the client's proof — in one place.

use crate::Secret;
use crate::absolute_url::AbsoluteUrl;
use crate::signin::{AuthorizationCode, PkceVerifier};
use crate::transport::{HttpRequest, HttpResponse, Transport, TransportError, printable};
use serde::Deserialize;

/// How long a request to the token or revocation endpoint may take, answer included: well inside
/// the renewal margin ([`crate::user_session::RENEW_BEFORE_SECONDS`]), so a hanging authority is an
/// outage while the access token still works, not a minute's wait on every lookup.
pub const TOKEN_REQUEST_SECONDS: u32 = 10;

/// How a client proves who it is at the token and revocation endpoints (RFC 6749 §2.3).
#[derive(Clone, Copy)]
#[cfg_attr(
    target_arch = "wasm32",
    expect(dead_code, reason = "only services (native) have secrets")
)]
pub(crate) enum ClientProof<'a> {
    /// A public client (the portal): `client_id` in the body, nothing to prove.
    Public,
    /// `client_secret_basic`: ID and secret, each form-encoded, as HTTP Basic (§2.3.1).
    Basic(&'a Secret),
    /// `client_secret_post`: ID and secret in the body.
    Post(&'a Secret),
}

/// What is asked for at the token endpoint.
#[derive(Clone, Copy)]
#[cfg_attr(
    target_arch = "wasm32",
    expect(dead_code, reason = "only services (native) ask for their own tokens")
)]
pub(crate) enum Grant<'a> {
    /// RFC 6749 §4.1.3 with RFC 7636's verifier: the code the callback brought.
    Code {
        /// The authorization code.
        code: &'a AuthorizationCode,
        /// The PKCE verifier whose challenge went with the authorize redirect.
        verifier: &'a PkceVerifier,
        /// The redirect URI the code was sent to.
        redirect_uri: &'a str,
    },
    /// RFC 6749 §6: a refresh token for new tokens.
    Refresh(&'a Secret),
    /// RFC 6749 §4.4: a service's own tokens, for `scope`.
    ClientCredentials {
        /// The scope asked for.
        scope: &'a str,
    },
}

impl Grant<'_> {
    /// The grant's own form fields.
    fn form(&self) -> Vec<(&str, &str)> {
        match *self {
            Grant::Code {
                code,
                verifier,
                redirect_uri,
            } => vec![
                ("grant_type", "authorization_code"),
                ("code", code.secret()),
                ("redirect_uri", redirect_uri),
                ("code_verifier", verifier.secret()),
            ],
            Grant::Refresh(token) => vec![("grant_type", "refresh_token"), ("refresh_token", token.expose())],
            Grant::ClientCredentials { scope } => {
                vec![("grant_type", "client_credentials"), ("scope", scope)]
            }
        }
    }
}

/// A client registered at an authority, as it appears at the token and revocation endpoints.
#[derive(Clone, Copy)]
pub(crate) struct TokenClient<'a> {
    client_id: &'a str,
    proof: ClientProof<'a>,
}

impl<'a> TokenClient<'a> {
    /// The client `client_id`, proving itself by `proof`.
    pub(crate) fn new(client_id: &'a str, proof: ClientProof<'a>) -> Self {
        Self { client_id, proof }
    }

    /// The form POST to `endpoint` with `form` and the client's proof, wanting JSON, within
    /// [`TOKEN_REQUEST_SECONDS`]. An endpoint that is no absolute URL is a configuration error.
    pub(crate) fn request(&self, endpoint: &str, form: &[(&str, &str)]) -> Result<HttpRequest, TokenError> {
        AbsoluteUrl::parse(endpoint)
            .map_err(|e| TokenError::Configuration(format!("the authority's endpoint: {e}")))?;
        let mut body = form_urlencoded::Serializer::new(String::new());
        body.extend_pairs(form);
        let mut basic = None;
        match self.proof {
            ClientProof::Public => {
                body.append_pair("client_id", self.client_id);
            }
            ClientProof::Post(secret) => {
                body.append_pair("client_id", self.client_id);
                body.append_pair("client_secret", secret.expose());
            }
            ClientProof::Basic(secret) => basic = Some(basic_credentials(self.client_id, secret)),
        }
        let mut request = HttpRequest::post(endpoint, body.finish().into_bytes())
            .header("content-type", "application/x-www-form-urlencoded")
            .header("accept", "application/json")
            .time_limit(TOKEN_REQUEST_SECONDS);
        if let Some(credentials) = basic {
            request = request.header("authorization", credentials);
        }
        Ok(request.checked())
    }

    /// Asks `endpoint` (the token endpoint) for tokens by `grant`; the answer is read at `now`.
    pub(crate) async fn tokens(
        &self,
        transport: &impl Transport,
        endpoint: &str,
        grant: Grant<'_>,
        now: u64,
    ) -> Result<TokenSet, TokenError> {
        let response = self.send(transport, endpoint, &grant.form()).await?;
        parse_token_response(&response, now)
    }

    /// Gives a refresh token back at `endpoint` (RFC 7009), so it cannot be used again.
    pub(crate) async fn revoke(
        &self,
        transport: &impl Transport,
        endpoint: &str,
        refresh_token: &Secret,
    ) -> Result<(), TokenError> {
        let form = [
            ("token", refresh_token.expose()),
            ("token_type_hint", "refresh_token"),
        ];
        let response = self.send(transport, endpoint, &form).await?;
        if response.status().is_success() {
            return Ok(());
        }
        Err(refusal(&response, crate::time::now_seconds()))
    }

    /// Sends [`TokenClient::request`]'s POST; no answer at all is [`TokenError::Unreachable`].
    async fn send(
        &self,
        transport: &impl Transport,
        endpoint: &str,
        form: &[(&str, &str)],
    ) -> Result<HttpResponse, TokenError> {
        let request = self.request(endpoint, form)?;
        transport.send(request).await.map_err(TokenError::Unreachable)
    }
}

/// RFC 6749 §2.3.1: `Basic` with the ID and the secret each form-encoded first.
fn basic_credentials(client_id: &str, secret: &Secret) -> String {
    use base64::Engine as _;
    let encoded = |text: &str| form_urlencoded::byte_serialize(text.as_bytes()).collect::<String>();
    let pair = format!("{}:{}", encoded(client_id), encoded(secret.expose()));
    format!("Basic {}", base64::engine::general_purpose::STANDARD.encode(pair))
}

/// Uses a refresh token at `token_endpoint` for the public client `client_id`. The authority may
/// rotate it: the answer's refresh token replaces the old one, which must not be used again;
/// without one, the old one stays valid (RFC 6749 §6).
pub async fn refresh(
    transport: &impl Transport,
    token_endpoint: &str,
    client_id: &crate::config::ClientId,
    refresh_token: &Secret,
    now: u64,
) -> Result<TokenSet, TokenError> {
    let client = TokenClient::new(client_id.as_str(), ClientProof::Public);
    let mut tokens = client
        .tokens(transport, token_endpoint, Grant::Refresh(refresh_token), now)
        .await?;
    if tokens.refresh_token.is_none() {
        tokens.refresh_token = Some(refresh_token.clone());
    }
    Ok(tokens)
}

/// Revokes the public client `client_id`'s refresh token so it cannot be used after sign-out.
/// `Ok(false)` when the authority offers no revocation endpoint.
pub async fn revoke_refresh_token(
    transport: &(impl Transport + 'static),
    metadata: &crate::discovery::ProviderMetadata,
    client_id: &crate::config::ClientId,
    refresh_token: &Secret,
) -> Result<bool, TokenError> {
    let Some(endpoint) = &metadata.revocation_endpoint else {
        return Ok(false);
    };
    TokenClient::new(client_id.as_str(), ClientProof::Public)
        .revoke(transport, endpoint, refresh_token)
        .await?;
    Ok(true)
}

/// Tokens as held in memory. Every token is a [`Secret`].
#[derive(Debug, Clone)]
pub struct TokenSet {
    /// The bearer token for the MES Web API.
    pub access_token: Secret,
    /// Present when the authority issued one (`offline_access`).
    pub refresh_token: Option<Secret>,
    /// The ID token, when sent.
    pub id_token: Option<Secret>,
    /// Seconds since the Unix epoch when the access token expires, when the authority said.
    pub expires_at: Option<u64>,
    /// The access token's lifetime in seconds (`expires_in`), when the authority said.
    pub lifetime: Option<u64>,
    /// Seconds since the Unix epoch when the session itself ends — the refresh token's own
    /// lifetime, after which only a new sign-in helps — when the authority said
    /// (`refresh_expires_in`: Keycloak and others send it; OAuth defines no such field, so it only
    /// informs, and `0` or anything odd is taken as not said).
    pub session_ends_at: Option<u64>,
    /// Granted scopes, when the authority listed them.
    pub scopes: Vec<String>,
}

/// Why a token request failed. No variant carries body bytes: a token answer that fails to parse
/// may still hold a token, and these texts reach the screen and the logs.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TokenError {
    /// No usable HTTP answer from the token endpoint: the authority is offline or unreachable
    /// (or answered a POST with a redirect, which is never followed).
    #[error("the identity authority did not answer ({0})")]
    Unreachable(TransportError),
    /// The authority refused (`invalid_grant`, `invalid_client`, …).
    #[error("the identity authority refused: {error}{}", description.as_deref().map(|d| format!(" ({d})")).unwrap_or_default())]
    Refused {
        /// HTTP status of the answer.
        status: u16,
        /// OAuth error code.
        error: String,
        /// Its description.
        description: Option<String>,
        /// Seconds the authority asked to be left alone (`Retry-After`), when it said so.
        retry_after: Option<u64>,
    },
    /// No OAuth answer at all — an HTML page, a proxy's, firewall's or load balancer's answer, an
    /// empty body: something between the portal and the authority answered, or the authority is
    /// failing. Never a refusal (RFC 6749 §5.2: a refusal is a JSON error), so an outage.
    #[error("the identity authority's address gave no OAuth answer (HTTP {status}): {what}")]
    NotOAuth {
        /// HTTP status of the answer.
        status: u16,
        /// What came instead, with its content type; never its bytes.
        what: String,
        /// Seconds the answer asked to be left alone (`Retry-After`), when it said so.
        retry_after: Option<u64>,
    },
    /// A JSON answer that is not a usable token response: the status and which field was wrong.
    #[error("the identity authority gave an unexpected answer (HTTP {status}): {reason}")]
    UnexpectedResponse {
        /// HTTP status of the answer.
        status: u16,
        /// What was wrong, naming the field; never the answer's bytes.
        reason: String,
    },
    /// The request could not be built (bad endpoint URL).
    #[error("{0}")]
    Configuration(String),
}

impl TokenError {
    /// Whether the authority is away, failing or out of reach — worth trying again later with
    /// the same grant — rather than refusing it. Only an OAuth error (RFC 6749 §5.2, a JSON
    /// `error`) refuses, and not even that when it says the authority is busy or failing (5xx,
    /// 408 Request Timeout, 425 Too Early, 429 Too Many Requests, `temporarily_unavailable`,
    /// `server_error`). A proxy's HTML page, a firewall's 403 or a load balancer's 404 never end
    /// a session. A refused grant must not be presented again.
    pub fn is_outage(&self) -> bool {
        match self {
            TokenError::Unreachable(t) => t.kind.is_outage(),
            TokenError::Refused { status, error, .. } => {
                *status >= 500
                    || matches!(status, 408 | 425 | 429)
                    || matches!(error.as_str(), "temporarily_unavailable" | "server_error")
            }
            TokenError::NotOAuth { .. } => true,
            TokenError::UnexpectedResponse { status, .. } => *status >= 500,
            TokenError::Configuration(_) => false,
        }
    }

    /// For an outage, how long the authority (or the proxy before it) asked to be left alone
    /// (`Retry-After`, capped at [`crate::transport::RETRY_AFTER_LIMIT_SECONDS`]): the grant is
    /// not presented again before then. A refusal has no "later".
    pub fn retry_after(&self) -> Option<u64> {
        match self {
            TokenError::Refused { retry_after, .. } | TokenError::NotOAuth { retry_after, .. }
                if self.is_outage() =>
            {
                *retry_after
            }
            _ => None,
        }
    }
}

/// An OAuth error answer (RFC 6749 §5.2).
#[derive(Deserialize)]
struct ErrorAnswer {
    error: String,
    #[serde(default)]
    error_description: Option<String>,
}

/// Reads a token endpoint's answer (RFC 6749 §5.1 with OpenID's `id_token`, or §5.2).
///
/// Strict where a field protects, lenient where it only informs, so that any conforming
/// authority signs people in (ARCHITECTURE.md, "Reading token answers", has the table):
/// - `access_token`: a non-empty string, or the answer is refused — it is what the MES gets.
/// - `token_type`: `Bearer` in any case, or refused — a DPoP- or MAC-bound token sent as a bearer
///   would be misused.
/// - `expires_in`: seconds as a number or a numeric string (added to `now` without overflow);
///   missing, negative or unreadable means "not said" — renewal then follows the MES's 401.
/// - `refresh_token`, `id_token`: a string; missing, `null`, empty or of another type means not
///   issued (the code exchange then refuses a missing ID token itself).
/// - `scope`: informational (§5.1) — a space-separated string, or a list of strings; empty,
///   missing or odd means none listed.
/// - unknown members are ignored; a UTF-8 byte-order mark before the object is skipped.
///
/// A malformed answer is described by the field that was wrong, never by its bytes (serde's own
/// messages quote values, which may be tokens); error texts are stripped of control characters.
pub fn parse_token_response(response: &HttpResponse, now: u64) -> Result<TokenSet, TokenError> {
    use serde_json::Value;
    let status = response.status().as_u16();
    if !response.status().is_success() {
        return Err(refusal(response, now));
    }
    let unexpected = |reason: String| TokenError::UnexpectedResponse { status, reason };
    let body = response
        .body()
        .strip_prefix(b"\xEF\xBB\xBF")
        .unwrap_or(response.body());
    let answer = match serde_json::from_slice::<Value>(body) {
        Ok(Value::Object(answer)) => answer,
        // JSON, but no object: the authority's answer, unusable.
        Ok(_) => return Err(unexpected("not a JSON token object".into())),
        Err(_) => {
            return Err(TokenError::NotOAuth {
                status,
                what: format!("not a JSON token object ({})", labelled(response)),
                retry_after: None,
            });
        }
    };
    let required = |name: &str| -> Result<String, TokenError> {
        match answer.get(name) {
            None | Some(Value::Null) => Err(unexpected(format!("\"{name}\" is missing"))),
            Some(Value::String(v)) if v.is_empty() => Err(unexpected(format!("\"{name}\" is empty"))),
            Some(Value::String(v)) => Ok(v.clone()),
            Some(_) => Err(unexpected(format!("\"{name}\" is not a string"))),
        }
    };
    let optional = |name: &str| match answer.get(name) {
        Some(Value::String(v)) if !v.is_empty() => Some(Secret::new(v.clone())),
        _ => None,
    };
    let access_token = required("access_token")?;
    let token_type = required("token_type")?;
    if !token_type.eq_ignore_ascii_case("bearer") {
        return Err(unexpected(format!(
            "token type \"{}\" instead of Bearer",
            printable(&token_type)
        )));
    }
    let lifetime = answer.get("expires_in").and_then(lifetime_seconds);
    let session_left = answer
        .get("refresh_expires_in")
        .and_then(lifetime_seconds)
        .filter(|s| *s > 0);
    Ok(TokenSet {
        access_token: Secret::new(access_token),
        refresh_token: optional("refresh_token"),
        id_token: optional("id_token"),
        expires_at: lifetime.map(|s| now.saturating_add(s)),
        lifetime,
        session_ends_at: session_left.map(|s| now.saturating_add(s)),
        scopes: answer.get("scope").map(granted_scopes).unwrap_or_default(),
    })
}

/// `expires_in` as whole seconds: a number (a fraction rounds down) or a numeric string, as some
/// authorities send it; anything else is not a lifetime.
fn lifetime_seconds(value: &serde_json::Value) -> Option<u64> {
    match value {
        serde_json::Value::Number(n) => n
            .as_u64()
            .or_else(|| n.as_f64().filter(|f| *f >= 0.0).map(|f| f as u64)),
        serde_json::Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

/// The granted scopes: RFC 6749's space-separated string, or a list of strings.
fn granted_scopes(value: &serde_json::Value) -> Vec<String> {
    match value {
        serde_json::Value::String(s) => s.split_whitespace().map(str::to_owned).collect(),
        serde_json::Value::Array(items) => items
            .iter()
            .filter_map(serde_json::Value::as_str)
            .flat_map(str::split_whitespace)
            .map(str::to_owned)
            .collect(),
        _ => Vec::new(),
    }
}

/// What an answer says it is: its content type, or that it names none. Never its bytes.
fn labelled(response: &HttpResponse) -> String {
    let ct = crate::transport::content_type(response);
    if ct.is_empty() {
        "no content type".to_owned()
    } else {
        ct
    }
}

/// A failed answer from the token or revocation endpoint: the OAuth error it names (RFC 6749
/// §5.2, RFC 7009 §2.2.1), or its status and content type — never its bytes — with the wait it
/// asks for (`Retry-After`, read against `now`).
fn refusal(response: &HttpResponse, now: u64) -> TokenError {
    let status = response.status().as_u16();
    let retry_after = crate::transport::retry_after(response, now);
    match serde_json::from_slice::<ErrorAnswer>(response.body()) {
        Ok(e) => TokenError::Refused {
            status,
            error: printable(&e.error),
            description: e.error_description.as_deref().map(printable),
            retry_after,
        },
        Err(_) => TokenError::NotOAuth {
            status,
            what: format!("not an OAuth answer ({})", labelled(response)),
            retry_after,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::ClientId;

    #[test]
    fn a_refresh_is_read_by_the_strict_parser_and_keeps_an_unrotated_token() {
        use crate::transport::testing::Canned;
        let run = |answer: HttpResponse| {
            let transport = Canned::new(Ok(answer));
            let old = Secret::new("r t+1");
            let outcome = crate::transport::testing::run_now(refresh(
                &transport,
                "https://aim/connect/token",
                &ClientId::new("mes-portal"),
                &old,
                100,
            ));
            (transport.sent(), outcome)
        };
        let json = |status: u16, body: &str| {
            HttpResponse::new(status, body).with_header("content-type", "application/json")
        };
        let (sent, outcome) = run(json(
            200,
            r#"{"access_token":"a2","token_type":"Bearer","expires_in":60}"#,
        ));
        let [request] = sent.as_slice() else {
            panic!("one request: {sent:?}")
        };
        assert_eq!(
            (request.method(), request.url()),
            (crate::transport::Method::Post, "https://aim/connect/token")
        );
        assert!(
            request.headers().get("authorization").is_none(),
            "a public client sends no secret"
        );
        let body = String::from_utf8(request.body().to_vec()).expect("text");
        let mut fields: Vec<&str> = body.split('&').collect();
        fields.sort_unstable();
        assert_eq!(
            fields,
            [
                "client_id=mes-portal",
                "grant_type=refresh_token",
                "refresh_token=r+t%2B1"
            ]
        );
        let tokens = outcome.expect("tokens");
        assert_eq!(tokens.access_token.expose(), "a2");
        assert_eq!(tokens.expires_at, Some(160));
        assert_eq!(
            tokens.refresh_token.as_ref().map(Secret::expose),
            Some("r t+1"),
            "RFC 6749 §6: the old one stays"
        );
        // A MAC token is refused; an error names no body bytes.
        let (_, outcome) = run(json(200, r#"{"access_token":"a2","token_type":"mac"}"#));
        assert!(
            matches!(outcome, Err(TokenError::UnexpectedResponse { .. })),
            "{outcome:?}"
        );
        let (_, outcome) = run(json(400, r#"{"error":"invalid_grant"}"#));
        assert!(
            matches!(&outcome, Err(TokenError::Refused { status: 400, error, .. }) if error == "invalid_grant"),
            "{outcome:?}"
        );
    }

    #[test]
    fn every_grant_is_a_form_post_with_its_own_fields_and_the_public_client_id() {
        let public = TokenClient::new("mes-portal", ClientProof::Public);
        let form = |grant: Grant<'_>| {
            let request = public
                .request("https://aim/connect/token", &grant.form())
                .expect("request");
            assert_eq!(request.method(), crate::transport::Method::Post);
            assert_eq!(
                request.headers().get("content-type"),
                Some("application/x-www-form-urlencoded")
            );
            assert_eq!(request.headers().get("accept"), Some("application/json"));
            assert!(request.headers().get("authorization").is_none());
            String::from_utf8(request.body().to_vec()).expect("text")
        };
        let code = AuthorizationCode::new("c/1".into());
        let verifier = PkceVerifier::new("v-1");
        assert_eq!(
            form(Grant::Code {
                code: &code,
                verifier: &verifier,
                redirect_uri: "https://portal/callback",
            }),
            "grant_type=authorization_code&code=c%2F1&redirect_uri=https%3A%2F%2Fportal%2Fcallback\
             &code_verifier=v-1&client_id=mes-portal"
        );
        let refresh_token = Secret::new("r t");
        assert_eq!(
            form(Grant::Refresh(&refresh_token)),
            "grant_type=refresh_token&refresh_token=r+t&client_id=mes-portal"
        );
        assert!(matches!(
            public.request("not a url", &[]),
            Err(TokenError::Configuration(_))
        ));
    }

    #[test]
    fn token_answers_are_read_strictly() {
        let answer = |status: u16, body: &str| HttpResponse::new(status, body);
        let ok = parse_token_response(
            &answer(
                200,
                r#"{"access_token":"a","token_type":"bearer","expires_in":300,"refresh_token":"r","id_token":"i","scope":"openid mes"}"#,
            ),
            1000,
        )
        .expect("tokens");
        assert_eq!(
            (ok.access_token.expose(), ok.expires_at, ok.scopes.len()),
            ("a", Some(1300), 2)
        );
        assert_eq!(ok.refresh_token.as_ref().map(Secret::expose), Some("r"));
        assert_eq!(ok.id_token.as_ref().map(Secret::expose), Some("i"));
        let minimal = parse_token_response(&answer(200, r#"{"access_token":"a","token_type":"Bearer"}"#), 5)
            .expect("minimal");
        assert!(
            minimal.refresh_token.is_none() && minimal.id_token.is_none() && minimal.expires_at.is_none()
        );
        assert_eq!(
            parse_token_response(&answer(200, r#"{"access_token":"a","token_type":"mac"}"#), 0).err(),
            Some(TokenError::UnexpectedResponse {
                status: 200,
                reason: "token type \"mac\" instead of Bearer".into()
            })
        );
        assert_eq!(
            parse_token_response(
                &answer(
                    400,
                    r#"{"error":"invalid_grant","error_description":"used\u0007"}"#
                ),
                0
            )
            .err(),
            Some(TokenError::Refused {
                status: 400,
                error: "invalid_grant".into(),
                description: Some("used".into()),
                retry_after: None,
            })
        );
        assert!(matches!(
            parse_token_response(&answer(502, "<html>proxy</html>"), 0),
            Err(TokenError::NotOAuth { status: 502, ref what, retry_after: None }) if what == "not an OAuth answer (no content type)"
        ));
        let huge = format!(
            r#"{{"access_token":"a","token_type":"Bearer","expires_in":{}}}"#,
            u64::MAX
        );
        assert_eq!(
            parse_token_response(&answer(200, &huge), 5)
                .expect("saturates")
                .expires_at,
            Some(u64::MAX)
        );
    }

    /// A token answer as a provider might send it, with `extra` members after the two required.
    fn token_answer(extra: &str) -> Result<TokenSet, TokenError> {
        parse_token_response(
            &HttpResponse::new(
                200,
                format!(r#"{{"access_token":"a.b.c","token_type":"Bearer"{extra}}}"#),
            ),
            1000,
        )
    }

    #[test]
    fn rule_scope_informs_so_empty_or_odd_is_no_scope() {
        // A certified provider answers `"scope": ""` when no API scope was granted to the client.
        assert_eq!(
            token_answer(r#","scope":"""#).expect("empty").scopes,
            Vec::<String>::new()
        );
        assert_eq!(
            token_answer(r#","scope":"  ""#).expect("blank").scopes,
            Vec::<String>::new()
        );
        assert_eq!(
            token_answer(r#","scope":null"#).expect("null").scopes,
            Vec::<String>::new()
        );
        assert_eq!(
            token_answer(r#","scope":7"#).expect("number").scopes,
            Vec::<String>::new()
        );
        assert_eq!(
            token_answer(r#","scope":["openid","mes system"]"#)
                .expect("list")
                .scopes,
            ["openid", "mes", "system"]
        );
        assert_eq!(
            token_answer(r#","scope":"openid\tmes""#).expect("tab").scopes,
            ["openid", "mes"]
        );
    }

    #[test]
    fn rule_unknown_members_are_ignored() {
        let tokens = token_answer(
            r#","session_state":"x","not-before-policy":0,"ext":{"a":[1]},"refresh_expires_in":1800"#,
        )
        .expect("unknown members");
        assert_eq!(tokens.access_token.expose(), "a.b.c");
    }

    #[test]
    fn rule_refresh_expires_in_tells_the_sessions_hard_end_when_sent() {
        let at = |extra: &str| token_answer(extra).expect("answer").session_ends_at;
        assert_eq!(at(r#","refresh_expires_in":1800"#), Some(2800));
        assert_eq!(at(r#","refresh_expires_in":"600""#), Some(1600));
        for odd in [
            "",
            r#","refresh_expires_in":0"#,
            r#","refresh_expires_in":-5"#,
            r#","refresh_expires_in":"soon""#,
            r#","refresh_expires_in":null"#,
        ] {
            assert_eq!(at(odd), None, "{odd}: not said, never a failed sign-in");
        }
    }

    #[test]
    fn rule_a_byte_order_mark_is_skipped() {
        let body = "\u{feff}{\"access_token\":\"a\",\"token_type\":\"Bearer\"}";
        let tokens = parse_token_response(&HttpResponse::new(200, body), 0).expect("BOM");
        assert_eq!(tokens.access_token.expose(), "a");
    }

    #[test]
    fn rule_expires_in_informs_so_missing_or_odd_is_not_said() {
        assert_eq!(token_answer("").expect("missing").expires_at, None);
        assert_eq!(
            token_answer(r#","expires_in":300"#).expect("n").expires_at,
            Some(1300)
        );
        assert_eq!(
            token_answer(r#","expires_in":"300""#).expect("text").expires_at,
            Some(1300)
        );
        assert_eq!(
            token_answer(r#","expires_in":299.9"#)
                .expect("fraction")
                .expires_at,
            Some(1299)
        );
        for odd in [
            r#","expires_in":-5"#,
            r#","expires_in":"soon""#,
            r#","expires_in":[300]"#,
            r#","expires_in":null"#,
        ] {
            assert_eq!(token_answer(odd).expect(odd).expires_at, None, "{odd}");
        }
    }

    #[test]
    fn rule_an_empty_or_odd_refresh_or_id_token_is_not_issued() {
        for odd in [r#""""#, "null", "7", "{}"] {
            let tokens = token_answer(&format!(r#","refresh_token":{odd},"id_token":{odd}"#)).expect(odd);
            assert!(
                tokens.refresh_token.is_none() && tokens.id_token.is_none(),
                "{odd}"
            );
        }
    }

    #[test]
    fn rule_access_token_and_bearer_type_protect_so_they_are_exact() {
        let refused = |body: &str| parse_token_response(&HttpResponse::new(200, body), 0).err();
        for (body, reason) in [
            (r#"{"token_type":"Bearer"}"#, "\"access_token\" is missing"),
            (
                r#"{"access_token":"","token_type":"Bearer"}"#,
                "\"access_token\" is empty",
            ),
            (
                r#"{"access_token":7,"token_type":"Bearer"}"#,
                "\"access_token\" is not a string",
            ),
            (r#"{"access_token":"a"}"#, "\"token_type\" is missing"),
            (
                r#"{"access_token":"a","token_type":"DPoP"}"#,
                "token type \"DPoP\" instead of Bearer",
            ),
            (
                r#"{"access_token":"a","token_type":"Bearer2"}"#,
                "token type \"Bearer2\" instead of Bearer",
            ),
        ] {
            assert_eq!(
                refused(body),
                Some(TokenError::UnexpectedResponse {
                    status: 200,
                    reason: reason.into()
                }),
                "{body}"
            );
        }
        assert!(token_answer("").is_ok(), "Bearer");
        assert!(
            parse_token_response(
                &HttpResponse::new(200, r#"{"access_token":"a","token_type":"bEaReR"}"#),
                0
            )
            .is_ok(),
            "the type is case-insensitive (RFC 6749 §5.1)"
        );
    }

    #[test]
    fn a_broken_token_answer_names_the_field_never_its_bytes() {
        let answer = |body: &str| HttpResponse::new(200, body);
        let secret = "eyJhbGciOiJSUzI1NiJ9.c2VjcmV0LXRva2VuLXBheWxvYWQ.c2ln";
        let cases = [
            (
                format!(r#"{{"access_token":{{"value":"{secret}"}},"token_type":"Bearer"}}"#),
                "\"access_token\" is not a string",
            ),
            (
                format!(r#"{{"access_token":"{secret}","token_type":"DPoP"}}"#),
                "token type \"DPoP\" instead of Bearer",
            ),
            (
                format!(r#"{{"access_token":"{secret}"}}"#),
                "\"token_type\" is missing",
            ),
            (
                format!(r#"{{"token_type":"Bearer","id_token":"{secret}"}}"#),
                "\"access_token\" is missing",
            ),
            (
                r#"{"access_token":"","token_type":"Bearer"}"#.to_owned(),
                "\"access_token\" is empty",
            ),
            (
                format!(r#"{{"access_token":"{secret}","token_type":"Bearer""#),
                "not a JSON token object",
            ),
            (
                format!(r#"access_token={secret}&token_type=bearer"#),
                "not a JSON token object",
            ),
            (format!(r#"["{secret}"]"#), "not a JSON token object"),
        ];
        for (body, says) in cases {
            let err = parse_token_response(&answer(&body), 0).expect_err(&body);
            let text = format!("{err} {err:?}");
            assert!(text.contains(says), "{body}: {text}");
            assert!(
                !text.contains("c2VjcmV0"),
                "the token leaked into the error: {text}"
            );
        }
        let html = |status: u16| {
            HttpResponse::new(status, format!("<pre>{secret}</pre>"))
                .with_header("content-type", "text/html; charset=utf-8")
        };
        let err = refusal(&html(500), 0);
        assert_eq!(
            err,
            TokenError::NotOAuth {
                status: 500,
                what: "not an OAuth answer (text/html)".into(),
                retry_after: None,
            }
        );
        assert!(err.is_outage());
        assert_eq!(
            parse_token_response(&html(200), 0).err(),
            Some(TokenError::NotOAuth {
                status: 200,
                what: "not a JSON token object (text/html)".into(),
                retry_after: None,
            })
        );
    }

    #[test]
    fn outages_are_told_from_refusals() {
        let refused = |status: u16, error: &str| TokenError::Refused {
            status,
            error: error.into(),
            description: None,
            retry_after: Some(30),
        };
        assert_eq!(
            refused(429, "slow_down").retry_after(),
            Some(30),
            "an outage keeps its wait"
        );
        assert_eq!(
            refused(400, "invalid_grant").retry_after(),
            None,
            "a refusal has no later"
        );
        assert!(!refused(400, "invalid_grant").is_outage());
        assert!(!refused(401, "invalid_client").is_outage());
        assert!(refused(503, "temporarily_unavailable").is_outage());
        assert!(refused(400, "temporarily_unavailable").is_outage());
        assert!(refused(400, "server_error").is_outage());
        assert!(refused(500, "invalid_grant").is_outage());
        assert!(
            TokenError::UnexpectedResponse {
                status: 502,
                reason: String::new()
            }
            .is_outage()
        );
        assert!(
            !TokenError::UnexpectedResponse {
                status: 200,
                reason: String::new()
            }
            .is_outage()
        );
        assert!(
            !TokenError::UnexpectedResponse {
                status: 499,
                reason: String::new()
            }
            .is_outage()
        );
        assert!(
            TokenError::Unreachable(TransportError::new("https://aim/connect/token", "refused")).is_outage()
        );
        assert!(
            !TokenError::Unreachable(TransportError::redirected("https://aim/connect/token")).is_outage()
        );
        assert!(!TokenError::Configuration(String::new()).is_outage());
    }

    /// RFC 6749 §5.2: a refusal is a JSON `error`. What a proxy, firewall or load balancer says
    /// in its place — and an authority saying it is busy — is an outage that keeps the session.
    #[test]
    fn rule_only_an_oauth_error_refuses_and_nothing_in_between_ends_a_session() {
        let outage = |status: u16, body: &str, kind: &str| {
            let answer = HttpResponse::new(status, body).with_header("content-type", kind);
            let err = parse_token_response(&answer, 0).expect_err(body);
            assert!(err.is_outage(), "{status} {body}: {err:?} should be an outage");
        };
        outage(200, "<html>Sign in to the guest network</html>", "text/html");
        outage(403, "<html>Request blocked by the firewall</html>", "text/html");
        outage(403, r#"{"message":"Forbidden"}"#, "application/json");
        outage(404, "Not Found", "text/plain");
        outage(502, "", "");
        outage(408, r#"{"error":"invalid_request"}"#, "application/json");
        outage(425, r#"{"error":"invalid_request"}"#, "application/json");
        outage(429, r#"{"error":"slow_down"}"#, "application/json");
        outage(429, "Too Many Requests", "text/plain");
        outage(400, r#"{"error":"temporarily_unavailable"}"#, "application/json");
        let refusal = |status: u16, body: &str| {
            let answer = HttpResponse::new(status, body).with_header("content-type", "application/json");
            let err = parse_token_response(&answer, 0).expect_err(body);
            assert!(!err.is_outage(), "{status} {body}: {err:?} should be a refusal");
        };
        refusal(400, r#"{"error":"invalid_grant"}"#);
        refusal(401, r#"{"error":"invalid_client"}"#);
        refusal(403, r#"{"error":"unauthorized_client","error_description":"no"}"#);
        // The authority's own JSON with an unusable token: not retried as if nothing came.
        refusal(200, r#"{"access_token":"a","token_type":"DPoP"}"#);
        refusal(200, r#"["a"]"#);
    }

    #[test]
    fn a_revocation_names_the_refresh_token_and_the_public_client() {
        use crate::transport::testing::{Canned, run_now};
        let transport = Canned::new(Ok(HttpResponse::new(200, "")));
        let outcome = run_now(TokenClient::new("mes-portal", ClientProof::Public).revoke(
            &transport,
            "https://aim/connect/revocation",
            &Secret::new("r t+1"),
        ));
        assert_eq!(outcome, Ok(()));
        let sent = transport.sent();
        let [request] = sent.as_slice() else {
            panic!("one request: {sent:?}")
        };
        assert_eq!(request.method(), crate::transport::Method::Post);
        assert_eq!(request.url(), "https://aim/connect/revocation");
        assert_eq!(
            request.body(),
            b"token=r+t%2B1&token_type_hint=refresh_token&client_id=mes-portal"
        );
        // A malformed endpoint must not turn into a POST of the token to this page's origin.
        let bad = TokenClient::new("mes-portal", ClientProof::Public)
            .request("https://aim/connect/revocation with spaces", &[("token", "r")])
            .expect("an absolute URL");
        assert_eq!(bad.url(), "http://invalid.invalid/");
        assert!(bad.body().is_empty());
    }
}
