//! Service-to-service tokens for background jobs (native only): client credentials with the
//! client ID, secret and scope `system`, cached until shortly before expiry, one request for any
//! number of concurrent callers. Calls made with them run as the MES's Default Background User.
//!
//! The exchange goes the crate's one token path (`token.rs`): the grant, the scope, the secret by
//! HTTP Basic with each part form-encoded (RFC 6749 §2.3.1) or in the body, the answer read
//! strictly.

use crate::Secret;
use crate::config::{AuthenticationMode, ClientId, WebApiDefinition};
use crate::discovery::{DiscoveryError, discover};
use crate::mes::{Lookup, MesError, RowsTarget};
use crate::rows::Rows;
use crate::time::now_seconds;
use crate::token::{ClientProof, Grant, TokenClient, TokenError, TokenSet};
use crate::transport::{NativeTransport, Transport};

/// Get a new token this many seconds before the cached one expires.
pub const SERVICE_RENEW_BEFORE_SECONDS: u64 = 60;
/// The identity the MES uses for service tokens (System_Attr attr_id 199 names the real user).
pub const DEFAULT_BACKGROUND_USER: &str = "Default Background User";

/// How the client authenticates at the token endpoint.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ClientAuth {
    /// `client_secret_basic`: HTTP Basic.
    #[default]
    Basic,
    /// `client_secret_post`: in the form body.
    Post,
}

/// Why a service token could not be had.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ServiceTokenError {
    /// The definition is not a usable service-to-service one.
    #[error("{0}")]
    Configuration(String),
    /// The authority's discovery failed.
    #[error(transparent)]
    Discovery(#[from] DiscoveryError),
    /// The token request failed.
    #[error(transparent)]
    Token(#[from] TokenError),
}

/// Client-credentials tokens for one Web API definition.
pub struct ServiceTokenSource {
    transport: NativeTransport,
    token_endpoint: String,
    client_id: ClientId,
    secret: Secret,
    scope: String,
    auth: ClientAuth,
    cached: tokio::sync::Mutex<Option<(Secret, u64)>>,
    /// The definition it was made for: its tokens go to that Web API only (RFC 6750 §5.3).
    serves: WebApiDefinition,
}

impl ServiceTokenSource {
    /// Discovers the definition's authority and prepares the client.
    pub async fn for_web_api(
        transport: NativeTransport,
        api: &WebApiDefinition,
        auth: ClientAuth,
    ) -> Result<Self, ServiceTokenError> {
        if api.authentication_mode != AuthenticationMode::ServiceToServiceAccessToken {
            return Err(ServiceTokenError::Configuration(format!(
                "Web API \"{}\" uses a User Access Token; background jobs need a Service to Service Access Token definition",
                api.name
            )));
        }
        let secret = api.client_secret.clone().ok_or_else(|| {
            ServiceTokenError::Configuration(format!("Web API \"{}\" has no client_secret", api.name))
        })?;
        let metadata = discover(&transport, &api.authority).await?;
        let scope = if api.scope.trim().is_empty() {
            "system".to_owned()
        } else {
            api.scope.clone()
        };
        Ok(Self {
            transport,
            token_endpoint: metadata.token_endpoint,
            client_id: api.client_id.clone(),
            secret,
            scope,
            auth,
            cached: tokio::sync::Mutex::new(None),
            serves: api.clone(),
        })
    }

    /// Why a lookup under `api` may not have this source's token: another Web API than the one
    /// it was made for (another address, authority, client or audience) would receive a token
    /// not meant for it.
    fn refuse_other(&self, api: &WebApiDefinition) -> Option<MesError> {
        let own = &self.serves;
        let same = api.base_address == own.base_address
            && api.request_uri == own.request_uri
            && api.authority == own.authority
            && api.client_id == own.client_id
            && api.audience == own.audience;
        (!same).then(|| MesError::NotConfigured {
            message: format!(
                "this background job's token is for Web API \"{}\", not \"{}\": make a token source for that definition",
                own.name, api.name
            ),
        })
    }

    /// A valid token: the cached one, or a new one when it expires within a minute. Callers that
    /// arrive while a request is under way wait for it (the lock is held across the request).
    pub async fn token(&self) -> Result<Secret, ServiceTokenError> {
        let mut cached = self.cached.lock().await;
        if let Some((token, expires_at)) = cached.as_ref()
            && *expires_at > now_seconds() + SERVICE_RENEW_BEFORE_SECONDS
        {
            return Ok(token.clone());
        }
        let now = now_seconds();
        let grant = ClientCredentials {
            token_endpoint: &self.token_endpoint,
            client_id: self.client_id.as_str(),
            secret: &self.secret,
            scope: &self.scope,
            auth: self.auth,
        };
        let tokens = grant.exchange(&self.transport, now).await?;
        let expires_at = expiry(&tokens, now);
        *cached = Some((tokens.access_token.clone(), expires_at));
        Ok(tokens.access_token)
    }

    /// Forgets `token` if it is the cached one (the MES refused it), so the next call asks the
    /// authority again instead of reusing it until it expires.
    pub async fn forget(&self, token: &Secret) {
        let mut cached = self.cached.lock().await;
        if cached.as_ref().is_some_and(|(t, _)| t == token) {
            *cached = None;
        }
    }

    async fn token_for_lookup(&self) -> Result<Secret, MesError> {
        self.token().await.map_err(|e| {
            // Discovery happened when the source was made: only the token request fails here.
            let (outage, retry_after) = match &e {
                ServiceTokenError::Token(t) => (t.is_outage(), t.retry_after()),
                _ => (false, None),
            };
            if outage {
                MesError::AuthorityOffline {
                    message: format!("the service token could not be obtained: {e}"),
                    retry_after,
                }
            } else {
                MesError::ServerError {
                    status: 0,
                    message: format!("no service token: {e}"),
                }
            }
        })
    }

    /// A lookup with a service token, to be given its parameters and sent. The MES decides who
    /// runs it (for a service token, the Default Background User named by System_Attr 199); a
    /// denial names whom the MES named in its message, never an assumed identity. A token the
    /// MES refuses (401) is dropped and a new one fetched once.
    pub fn lookup<'a>(&'a self, api: &'a WebApiDefinition, endpoint: &'a str) -> Lookup<'a, &'a Self> {
        Lookup::by(self, api, endpoint)
    }
}

impl<'a> Lookup<'a, &'a ServiceTokenSource> {
    /// Sends the lookup; all rows in memory.
    pub async fn send(self) -> Result<Rows, MesError> {
        let mut rows = Rows::default();
        self.send_into(&mut rows).await?;
        Ok(rows)
    }

    /// Sends the lookup, decoding the rows into `target` while they arrive.
    pub async fn send_into(self, target: &mut dyn RowsTarget) -> Result<(), MesError> {
        let (source, query) = (self.by, &self.query);
        if let Some(refused) = source.refuse_other(query.api()) {
            return Err(refused);
        }
        let token = source.token_for_lookup().await?;
        match query.send_into(&source.transport, &token, None, target).await {
            Err(MesError::SessionExpired) => {
                source.forget(&token).await;
                let token = source.token_for_lookup().await?;
                query.send_into(&source.transport, &token, None, target).await.map_err(|e| match e {
                    MesError::SessionExpired => MesError::ServerError {
                        status: 401,
                        message: "the MES refused a newly issued service token; check that the Web API definition's authority and audience are the ones the MES trusts".into(),
                    },
                    other => other,
                })
            }
            other => other,
        }
    }
}

/// One client credentials exchange.
struct ClientCredentials<'a> {
    token_endpoint: &'a str,
    client_id: &'a str,
    secret: &'a Secret,
    scope: &'a str,
    auth: ClientAuth,
}

impl ClientCredentials<'_> {
    /// Sent and read on the crate's one token path (`token.rs`), the secret as `auth` says.
    async fn exchange(&self, transport: &impl Transport, now: u64) -> Result<TokenSet, TokenError> {
        let proof = match self.auth {
            ClientAuth::Basic => ClientProof::Basic(self.secret),
            ClientAuth::Post => ClientProof::Post(self.secret),
        };
        let grant = Grant::ClientCredentials { scope: self.scope };
        TokenClient::new(self.client_id, proof)
            .tokens(transport, self.token_endpoint, grant, now)
            .await
    }
}

/// When a service token received at `now` expires: as the authority said, or — without
/// `expires_in` — after the site script's default lifetime of 24 hours.
fn expiry(tokens: &TokenSet, now: u64) -> u64 {
    tokens.expires_at.unwrap_or(now + 86_400)
}

#[cfg(test)]
mod tests {
    use super::{ClientAuth, ClientCredentials};

    #[test]
    fn a_token_without_a_lifetime_is_taken_to_last_a_day() {
        let mut tokens = crate::token::TokenSet {
            access_token: crate::Secret::new("at"),
            refresh_token: None,
            id_token: None,
            expires_at: None,
            lifetime: None,
            session_ends_at: None,
            scopes: vec![],
        };
        assert_eq!(super::expiry(&tokens, 1_000), 87_400);
        tokens.expires_at = Some(1_300);
        assert_eq!(super::expiry(&tokens, 1_000), 1_300);
    }
    use crate::token::TokenError;
    use crate::transport::testing::{Canned, run_now};
    use crate::transport::{HttpRequest, HttpResponse, Method, TransportError};
    use crate::{Secret, TransportErrorKind};

    /// Runs one exchange against a canned answer; returns what was sent and the outcome.
    fn exchange(
        auth: ClientAuth,
        answer: Result<HttpResponse, TransportError>,
    ) -> (Vec<HttpRequest>, Result<String, TokenError>) {
        let secret = Secret::new("p&ss:wörd");
        let grant = ClientCredentials {
            token_endpoint: "https://aim.example/connect/token",
            client_id: "sched uler",
            secret: &secret,
            scope: "system",
            auth,
        };
        let transport = Canned::new(answer);
        let outcome = run_now(grant.exchange(&transport, 1000));
        (
            transport.sent(),
            outcome.map(|t| t.access_token.expose().to_owned()),
        )
    }

    fn bearer() -> HttpResponse {
        HttpResponse::new(
            200,
            r#"{"access_token":"svc-token","token_type":"Bearer","expires_in":60}"#,
        )
        .with_header("content-type", "application/json")
    }

    #[test]
    fn the_secret_goes_by_basic_with_each_part_form_encoded_or_in_the_body() {
        use base64::Engine as _;
        let (sent, outcome) = exchange(ClientAuth::Basic, Ok(bearer()));
        assert_eq!(outcome, Ok("svc-token".into()));
        let [request] = sent.as_slice() else {
            panic!("one request: {sent:?}")
        };
        assert_eq!(
            (request.method(), request.url()),
            (Method::Post, "https://aim.example/connect/token")
        );
        // RFC 6749 §2.3.1: form-encode ID and secret, then Basic.
        let expected = base64::engine::general_purpose::STANDARD.encode("sched+uler:p%26ss%3Aw%C3%B6rd");
        assert_eq!(
            request.headers().get("authorization"),
            Some(format!("Basic {expected}").as_str())
        );
        assert_eq!(
            request.headers().get("content-type"),
            Some("application/x-www-form-urlencoded")
        );
        assert_eq!(request.body(), b"grant_type=client_credentials&scope=system");

        let (sent, _) = exchange(ClientAuth::Post, Ok(bearer()));
        assert!(sent[0].headers().get("authorization").is_none());
        let body = String::from_utf8(sent[0].body().to_vec()).expect("text");
        let mut fields: Vec<&str> = body.split('&').collect();
        fields.sort_unstable();
        assert_eq!(
            fields,
            [
                "client_id=sched+uler",
                "client_secret=p%26ss%3Aw%C3%B6rd",
                "grant_type=client_credentials",
                "scope=system"
            ]
        );
    }

    #[test]
    fn answers_are_read_by_the_strict_parser_and_never_quoted() {
        let mac = HttpResponse::new(200, r#"{"access_token":"svc-token","token_type":"mac"}"#)
            .with_header("content-type", "application/json");
        let (_, outcome) = exchange(ClientAuth::Basic, Ok(mac));
        assert!(
            matches!(outcome, Err(TokenError::UnexpectedResponse { .. })),
            "only Bearer tokens: {outcome:?}"
        );
        let refused = HttpResponse::new(401, r#"{"error":"invalid_client"}"#)
            .with_header("content-type", "application/json");
        let (_, outcome) = exchange(ClientAuth::Basic, Ok(refused));
        assert!(
            matches!(&outcome, Err(TokenError::Refused { status: 401, error, .. }) if error == "invalid_client"),
            "{outcome:?}"
        );
        let html = HttpResponse::new(502, "<h1>svc-token</h1>").with_header("content-type", "text/html");
        let (_, outcome) = exchange(ClientAuth::Basic, Ok(html));
        let error = outcome.expect_err("not a token answer");
        assert!(
            error.is_outage() && !error.to_string().contains("svc-token"),
            "{error}"
        );
        let offline = TransportError {
            url: "https://aim.example/connect/token".into(),
            reason: "refused".into(),
            kind: TransportErrorKind::Network,
        };
        let (_, outcome) = exchange(ClientAuth::Basic, Err(offline.clone()));
        assert_eq!(outcome, Err(TokenError::Unreachable(offline)));
    }
}
