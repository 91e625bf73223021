//! A signed-in person's tokens in memory, renewed without losing the page: before expiry (checked
//! before every call, since timers stall in sleeping tabs) and once after a 401. Concurrent callers
//! share one refresh (single flight); rotated refresh tokens replace the old ones.

use crate::Secret;
use crate::config::{ClientSettings, WebApiDefinition};
use crate::jwt::Claims;
use crate::mes::{LookupOptions, MesError, lookup};
use crate::rows::Rows;
use crate::session::{Authority, SignedIn};
use crate::signin::{TokenError, TokenSet, refresh};
use crate::time::now_seconds;
use crate::transport::Transport;
use std::sync::Mutex;

/// Renew this many seconds before the access token expires.
pub const RENEW_BEFORE_SECONDS: u64 = 30;

/// Why the session could not be renewed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RenewError {
    /// The authority issued no refresh token (no `offline_access`): renewal is a silent
    /// `prompt=none` round trip through the authority, which the page must start.
    #[error(
        "the session cannot be renewed here: the identity authority issued no refresh token (sign in again; with an active AIM session no form is shown)"
    )]
    NoRefreshToken,
    /// The authority refused or could not be reached.
    #[error(transparent)]
    Token(#[from] TokenError),
}

struct Current {
    tokens: TokenSet,
    generation: u64,
}

/// A signed-in session. Holds the tokens in memory only.
pub struct UserSession<T> {
    transport: T,
    token_endpoint: String,
    client_id: String,
    claims: Claims,
    current: Mutex<Current>,
    gate: async_lock::Mutex<()>,
}

impl<T: Transport + 'static> UserSession<T> {
    /// Wraps a completed sign-in.
    pub fn new(transport: T, authority: &Authority, client: &ClientSettings, signed_in: SignedIn) -> Self {
        Self {
            transport,
            token_endpoint: authority.metadata.token_endpoint.clone(),
            client_id: client.client_id.clone(),
            claims: signed_in.claims,
            current: Mutex::new(Current { tokens: signed_in.tokens, generation: 0 }),
            gate: async_lock::Mutex::new(()),
        }
    }

    /// Who signed in (from the validated ID token).
    pub fn claims(&self) -> &Claims {
        &self.claims
    }

    /// The tokens as they are now (for the ID token hint and diagnostics; never store them).
    pub fn tokens(&self) -> TokenSet {
        self.current.lock().unwrap_or_else(|e| e.into_inner()).tokens.clone()
    }

    /// The access token, its expiry, its generation and whether it can be refreshed, read together.
    fn snapshot(&self) -> (Secret, Option<u64>, u64, bool) {
        let c = self.current.lock().unwrap_or_else(|e| e.into_inner());
        (c.tokens.access_token.clone(), c.tokens.expires_at, c.generation, c.tokens.refresh_token.is_some())
    }

    /// A usable access token and its generation, renewed first when it is about to expire.
    /// Without a refresh token it is used until it has actually expired (renewing early would
    /// mean a redirect through the authority on every call for short-lived tokens).
    pub async fn access_token(&self) -> Result<(Secret, u64), RenewError> {
        let (token, expires_at, generation, can_refresh) = self.snapshot();
        let now = now_seconds();
        let renew_at = if can_refresh { now + RENEW_BEFORE_SECONDS } else { now };
        if expires_at.is_some_and(|at| at <= renew_at) {
            return self.renew(generation).await;
        }
        Ok((token, generation))
    }

    /// Whether only a new sign-in can renew this session: no refresh token and the access token
    /// has expired. (The portal then goes through the authority silently, `prompt=none`.)
    pub fn needs_sign_in(&self) -> bool {
        let tokens = self.tokens();
        tokens.refresh_token.is_none() && tokens.expires_at.is_some_and(|at| at <= now_seconds())
    }

    /// Renews the tokens unless someone already did since `seen` (single flight: callers that
    /// arrive during a refresh wait for it and use its result).
    pub async fn renew(&self, seen: u64) -> Result<(Secret, u64), RenewError> {
        let _turn = self.gate.lock().await;
        let (token, _, generation, _) = self.snapshot();
        if generation != seen {
            return Ok((token, generation));
        }
        let refresh_token = self.tokens().refresh_token.ok_or(RenewError::NoRefreshToken)?;
        let tokens = refresh(&self.transport, &self.token_endpoint, &self.client_id, &refresh_token, now_seconds()).await?;
        let mut c = self.current.lock().unwrap_or_else(|e| e.into_inner());
        c.tokens = tokens;
        c.generation += 1;
        Ok((c.tokens.access_token.clone(), c.generation))
    }

    /// A lookup as this person: renews before expiry, and once more after a 401; a second 401,
    /// or a refused renewal, is [`MesError::SessionExpired`].
    pub async fn lookup(
        &self,
        api: &WebApiDefinition,
        endpoint: &str,
        params: &[(String, String)],
        options: &LookupOptions,
    ) -> Result<Rows, MesError> {
        let identity = self.claims.identity();
        let (token, generation) = self.access_token().await.map_err(|_| MesError::SessionExpired)?;
        match lookup(&self.transport, api, endpoint, params, &token, Some(&identity), options).await {
            Err(MesError::SessionExpired) => {
                let (token, _) = self.renew(generation).await.map_err(|_| MesError::SessionExpired)?;
                lookup(&self.transport, api, endpoint, params, &token, Some(&identity), options).await
            }
            other => other,
        }
    }
}

impl<T> std::fmt::Debug for UserSession<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("UserSession").field("identity", &self.claims.identity()).finish_non_exhaustive()
    }
}
