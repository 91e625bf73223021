//! Service-to-service tokens for background jobs (native only): client credentials with the
//! client ID, secret and scope `system`, cached until shortly before expiry, one request for any
//! number of concurrent callers. Calls made with them run as the MES's Default Background User.

use crate::Secret;
use crate::config::{AuthenticationMode, WebApiDefinition};
use crate::discovery::{DiscoveryError, discover};
use crate::mes::{LookupOptions, MesError, lookup};
use crate::rows::Rows;
use crate::signin::{ClientProof, TokenError, request_tokens, token_request};
use crate::time::now_seconds;
use crate::transport::NativeTransport;

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
    client_id: String,
    secret: Secret,
    scope: String,
    auth: ClientAuth,
    cached: tokio::sync::Mutex<Option<(Secret, u64)>>,
}

impl ServiceTokenSource {
    /// Discovers the definition's authority and prepares the client.
    pub async fn for_web_api(transport: NativeTransport, api: &WebApiDefinition, auth: ClientAuth) -> Result<Self, ServiceTokenError> {
        if api.authentication_mode != AuthenticationMode::ServiceToServiceAccessToken {
            return Err(ServiceTokenError::Configuration(format!(
                "Web API \"{}\" uses a User Access Token; background jobs need a Service to Service Access Token definition",
                api.name
            )));
        }
        let secret = api
            .client_secret
            .clone()
            .ok_or_else(|| ServiceTokenError::Configuration(format!("Web API \"{}\" has no client_secret", api.name)))?;
        let metadata = discover(&transport, &api.authority).await?;
        let scope = if api.scope.trim().is_empty() { "system".to_owned() } else { api.scope.clone() };
        Ok(Self {
            transport,
            token_endpoint: metadata.token_endpoint,
            client_id: api.client_id.clone(),
            secret,
            scope,
            auth,
            cached: tokio::sync::Mutex::new(None),
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
        let proof = match self.auth {
            ClientAuth::Basic => ClientProof::Basic(&self.secret),
            ClientAuth::Post => ClientProof::Post(&self.secret),
        };
        let form = [("grant_type", "client_credentials"), ("scope", self.scope.as_str())];
        let now = now_seconds();
        let request = token_request(&self.token_endpoint, &self.client_id, &proof, &form)?;
        let tokens = request_tokens(&self.transport, request, now).await?;
        // Without expires_in, assume the site script's default lifetime of 24 h.
        let expires_at = tokens.expires_at.unwrap_or(now + 86_400);
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
            let outage = match &e {
                ServiceTokenError::Token(t) => t.is_outage(),
                ServiceTokenError::Discovery(DiscoveryError::Unreachable(t)) => t.kind.is_outage(),
                _ => false,
            };
            if outage {
                MesError::AuthorityOffline { message: format!("the service token could not be obtained: {e}") }
            } else {
                MesError::ServerError { status: 0, message: format!("no service token: {e}") }
            }
        })
    }

    /// A lookup with a service token. The MES decides who runs it (for a service token, the
    /// Default Background User named by System_Attr 199); a denial names whom the MES named in
    /// its message, never an assumed identity. A token the MES refuses (401) is dropped and a new
    /// one fetched once.
    pub async fn lookup(
        &self,
        api: &WebApiDefinition,
        endpoint: &str,
        params: &[(String, String)],
        options: &LookupOptions,
    ) -> Result<Rows, MesError> {
        let token = self.token_for_lookup().await?;
        match lookup(&self.transport, api, endpoint, params, &token, None, options).await {
            Err(MesError::SessionExpired) => {
                self.forget(&token).await;
                let token = self.token_for_lookup().await?;
                lookup(&self.transport, api, endpoint, params, &token, None, options).await.map_err(|e| match e {
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
