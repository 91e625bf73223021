//! A signed-in person's tokens in memory, renewed without losing the page: before expiry (checked
//! before every call, since timers stall in sleeping tabs) and once after a 401.
//!
//! Renewal tells an outage from the end of a session. When the authority does not answer (or
//! answers 5xx), the refresh token is kept, the access token is used for as long as it is
//! valid, and the next call tries again; the caller sees [`MesError::AuthorityOffline`] only once
//! the token has run out. When the authority refuses the refresh token (`invalid_grant`: expired,
//! revoked, reused), the session is over and the token is never presented again.
//!
//! Concurrent callers share one refresh (single flight) and its outcome, success or failure.
//! A refreshed ID token is validated against the sign-in's (OpenID Connect Core §12.2); without
//! one, the sign-in's ID token is kept for the sign-out's `id_token_hint`.
//!
//! Rotation-safe: the moment the token endpoint answers 2xx, the refresh token it sent replaces
//! the one presented (a rotating authority has spent that one; presenting it again is reuse, which
//! revokes the whole family). The new access and ID tokens wait until the ID token verifies: when
//! its keys cannot be fetched just then, the renewal is an outage and the next one uses the new
//! refresh token; when it fails verification, the new refresh token is revoked (RFC 7009) and
//! the session ends.

use crate::Secret;
use crate::config::{ClientId, ClientSettings, WebApiDefinition};
use crate::discovery::Authority;
use crate::discovery::{DiscoveryError, JwkSet, ProviderMetadata};
use crate::jwt::{Claims, Expected, IdTokenError, check_refreshed_id_token_claims};
use crate::mes::{Lookup, MesError, RowsTarget};
use crate::rows::Rows;
use crate::session::{PlatformVerifier, SignInFailure, SignedIn, verify_signature_refreshing_keys};
use crate::time::now_seconds;
use crate::token::{TokenError, TokenSet, refresh, revoke_refresh_token};
use crate::transport::Transport;
use std::sync::{Mutex, MutexGuard};

/// Renew this many seconds before the access token expires (less for short-lived tokens, see
/// [`renew_margin`]).
pub const RENEW_BEFORE_SECONDS: u64 = 30;

/// How long before its expiry a token with this lifetime is renewed: [`RENEW_BEFORE_SECONDS`],
/// or a quarter of a shorter token's life — a 15-second token renews 3 s before it expires, not
/// on every call as a fixed 30 s margin would make it.
pub fn renew_margin(lifetime: Option<u64>) -> u64 {
    lifetime.map_or(RENEW_BEFORE_SECONDS, |l| (l / 4).min(RENEW_BEFORE_SECONDS))
}

/// Why the session could not be renewed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RenewError {
    /// The authority issued no refresh token (no `offline_access`): renewal is a silent
    /// `prompt=none` round trip through the authority, which the page must start.
    #[error(
        "the session cannot be renewed here: the identity authority issued no refresh token (sign in again; with an active AIM session no form is shown)"
    )]
    NoRefreshToken,
    /// The authority refused the refresh token (expired, revoked, already used) or this client:
    /// the session is over and only a new sign-in continues.
    #[error("the identity authority ended this session: {0}")]
    Refused(TokenError),
    /// The authority did not answer, or failed (5xx): the session may well still be good, so
    /// renewal is tried again on the next call.
    #[error("the identity authority could not renew the session just now: {0}")]
    AuthorityOffline(String),
    /// The authority answered the refresh with an ID token that does not belong to this session.
    #[error("the identity authority's renewed sign-in was refused: {0}")]
    IdToken(IdTokenError),
}

impl RenewError {
    /// Whether this is an outage (try again later) rather than the end of the session.
    pub fn is_outage(&self) -> bool {
        matches!(self, RenewError::AuthorityOffline(_))
    }

    fn from_token(error: TokenError) -> Self {
        if error.is_outage() {
            RenewError::AuthorityOffline(error.to_string())
        } else {
            RenewError::Refused(error)
        }
    }
}

impl From<IdTokenError> for RenewError {
    fn from(e: IdTokenError) -> Self {
        RenewError::IdToken(e)
    }
}

/// What a person should be told about their session right now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SessionHealth {
    /// Usable; the access token expires then (seconds since the epoch), when the authority said.
    Valid {
        /// Expiry of the access token.
        expires_at: Option<u64>,
    },
    /// A renewal is under way.
    Renewing,
    /// The last renewal found the authority offline; the access token works until `expires_at`
    /// (which may have passed), and renewal is tried again on the next call.
    AuthorityOffline {
        /// Expiry of the access token.
        expires_at: Option<u64>,
    },
    /// The access token has expired and there is no refresh token: only a new sign-in (silent,
    /// through the authority's session) continues.
    NeedsSignIn,
    /// The authority ended the session; the reason.
    Ended(RenewError),
}

struct Current {
    tokens: TokenSet,
    /// Bumped by every successful renewal.
    generation: u64,
    /// Bumped when a refresh request has its outcome; tells a caller that someone else's refresh
    /// finished while it waited (it then shares that outcome instead of asking again).
    finished: u64,
    /// The outcome of the last attempt when it failed. A refusal (not an outage) is final:
    /// nothing is presented to the authority after it, so it stays.
    last_failure: Option<RenewError>,
    /// After an outage whose answer said `Retry-After`: until then (seconds since the epoch) the
    /// refresh token is not presented, and callers share the last outage instead.
    quiet_until: Option<u64>,
}

impl Current {
    /// The refusal that ended the session, if the authority refused.
    fn ended(&self) -> Option<&RenewError> {
        self.last_failure.as_ref().filter(|e| !e.is_outage())
    }
}

/// A signed-in session. Holds the tokens in memory only.
pub struct UserSession<T> {
    transport: T,
    metadata: ProviderMetadata,
    jwks: Mutex<JwkSet>,
    client_id: ClientId,
    skew: i64,
    claims: Claims,
    current: Mutex<Current>,
    gate: async_lock::Mutex<()>,
}

impl<T: Transport + 'static> UserSession<T> {
    /// Wraps a completed sign-in.
    pub fn new(transport: T, authority: &Authority, client: &ClientSettings, signed_in: SignedIn) -> Self {
        Self {
            transport,
            metadata: authority.metadata.clone(),
            jwks: Mutex::new(authority.jwks.clone()),
            client_id: client.client_id.clone(),
            skew: client.clock_skew(),
            claims: signed_in.claims,
            current: Mutex::new(Current {
                tokens: signed_in.tokens,
                generation: 0,
                finished: 0,
                last_failure: None,
                quiet_until: None,
            }),
            gate: async_lock::Mutex::new(()),
        }
    }

    /// Who signed in (from the validated ID token).
    pub fn claims(&self) -> &Claims {
        &self.claims
    }

    fn lock(&self) -> MutexGuard<'_, Current> {
        self.current.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The tokens as they are now (for the ID token hint and diagnostics; never store them).
    pub fn tokens(&self) -> TokenSet {
        self.lock().tokens.clone()
    }

    /// When the session itself ends (the refresh token's own lifetime), where the authority said
    /// ([`TokenSet::session_ends_at`]).
    pub fn session_ends_at(&self) -> Option<u64> {
        self.lock().tokens.session_ends_at
    }

    /// What to tell the person about this session now.
    pub fn health(&self) -> SessionHealth {
        let renewing = self.gate.try_lock().is_none();
        let c = self.lock();
        let expires_at = c.tokens.expires_at;
        if let Some(ended) = c.ended() {
            return SessionHealth::Ended(ended.clone());
        }
        if renewing {
            return SessionHealth::Renewing;
        }
        if c.last_failure.as_ref().is_some_and(RenewError::is_outage) {
            return SessionHealth::AuthorityOffline { expires_at };
        }
        if c.tokens.refresh_token.is_none() && expires_at.is_some_and(|at| at <= now_seconds()) {
            return SessionHealth::NeedsSignIn;
        }
        SessionHealth::Valid { expires_at }
    }

    /// A usable access token and its generation, renewed first when it is about to expire.
    /// Without a refresh token it is used until it has actually expired (renewing early would
    /// mean a redirect through the authority on every call for short-lived tokens). When the
    /// authority is offline, the token is used for as long as it is valid.
    pub async fn access_token(&self) -> Result<(Secret, u64), RenewError> {
        let (token, expires_at, generation, margin) = {
            let c = self.lock();
            if let Some(ended) = c.ended() {
                return Err(ended.clone());
            }
            let margin = match c.tokens.refresh_token {
                Some(_) => renew_margin(c.tokens.lifetime),
                None => 0,
            };
            (
                c.tokens.access_token.clone(),
                c.tokens.expires_at,
                c.generation,
                margin,
            )
        };
        if expires_at.is_none_or(|at| at > now_seconds().saturating_add(margin)) {
            return Ok((token, generation));
        }
        match self.renew(generation).await {
            // The clock read after the wait: the old token only while it still works.
            Err(e) if e.is_outage() && expires_at.is_some_and(|at| at > now_seconds()) => {
                Ok((token, generation))
            }
            other => other,
        }
    }

    /// Asks the authority whether this session still stands: one refresh now, whatever the
    /// access token's expiry (single flight with any other renewal; a rotated refresh token is
    /// kept as any renewal keeps it). `Ok(true)`: it stands, renewed; `Ok(false)`: nothing to ask
    /// with (no refresh token); an error as [`Self::renew`]'s — a refusal ends the session. A grid
    /// framed by another site never hears a sign-out in a portal tab (browsers partition what
    /// pages share by top-level site); an authority that ends refresh tokens with its session
    /// answers this instead.
    pub async fn check_with_authority(&self) -> Result<bool, RenewError> {
        let generation = self.lock().generation;
        match self.renew(generation).await {
            Ok(_) => Ok(true),
            Err(RenewError::NoRefreshToken) => Ok(false),
            Err(e) => Err(e),
        }
    }

    /// Whether only a new sign-in can renew this session: no refresh token and the access token
    /// has expired. (The portal then goes through the authority silently, `prompt=none`.)
    pub fn needs_sign_in(&self) -> bool {
        self.health() == SessionHealth::NeedsSignIn
    }

    /// Renews the tokens unless someone already did since `seen` (single flight: callers that
    /// arrive during a refresh wait for it and share its outcome, success or failure). A refresh
    /// token the authority refused is never presented again.
    pub async fn renew(&self, seen: u64) -> Result<(Secret, u64), RenewError> {
        let finished_seen = self.lock().finished;
        let _turn = self.gate.lock().await;
        let refresh_token = {
            let c = self.lock();
            if c.generation != seen {
                return Ok((c.tokens.access_token.clone(), c.generation));
            }
            if let Some(ended) = c.ended() {
                return Err(ended.clone());
            }
            if c.finished != finished_seen
                && let Some(failure) = &c.last_failure
            {
                return Err(failure.clone());
            }
            // The authority asked to be left alone for a while (429/503 with `Retry-After`).
            if let Some(failure) = &c.last_failure
                && c.quiet_until.is_some_and(|until| until > now_seconds())
            {
                return Err(failure.clone());
            }
            let Some(refresh_token) = c.tokens.refresh_token.clone() else {
                return Err(RenewError::NoRefreshToken);
            };
            refresh_token
        };
        let sent = now_seconds();
        let answer = refresh(
            &self.transport,
            &self.metadata.token_endpoint,
            &self.client_id,
            &refresh_token,
            sent,
        )
        .await;
        let mut tokens = match answer {
            Ok(tokens) => tokens,
            Err(e) => {
                // The clock read after the wait, as for every deadline here.
                let quiet_until = e.retry_after().map(|s| now_seconds().saturating_add(s));
                return Err(self.finish_failed(RenewError::from_token(e), quiet_until));
            }
        };
        // The authority answered 2xx: at a rotating authority the refresh token just presented is
        // spent, so the new one is kept at once, whatever the ID token check says next —
        // presenting the spent one again would look like theft and end the session.
        self.lock().tokens.refresh_token = tokens.refresh_token.clone();
        // The new access and ID tokens are held back until the ID token is verified, with the
        // clock read after the wait (a slow answer must not make a stale `now`).
        if let Some(id_token) = &tokens.id_token
            && let Err(e) = self
                .check_refreshed_id_token(id_token.expose(), now_seconds())
                .await
        {
            if !e.is_outage()
                && let Some(rotated) = &tokens.refresh_token
            {
                // The answer does not belong to this session: its refresh token must not outlive
                // the session it ends (RFC 7009; best effort — the session ends either way).
                let _ = revoke_refresh_token(&self.transport, &self.metadata, &self.client_id, rotated).await;
            }
            return Err(self.finish_failed(e, None));
        }
        let mut c = self.lock();
        c.finished += 1;
        if tokens.id_token.is_none() {
            // OpenID Connect Core §12.2: a refresh may omit it; the sign-in's stays valid as the
            // sign-out hint.
            tokens.id_token = c.tokens.id_token.clone();
        }
        // A hard end said once stays until an answer says another.
        if tokens.session_ends_at.is_none() {
            tokens.session_ends_at = c.tokens.session_ends_at;
        }
        c.tokens = tokens;
        c.generation += 1;
        c.last_failure = None;
        c.quiet_until = None;
        Ok((c.tokens.access_token.clone(), c.generation))
    }

    /// Records a renewal's failure for the callers that waited on it, and until when the
    /// authority asked not to be asked again.
    fn finish_failed(&self, error: RenewError, quiet_until: Option<u64>) -> RenewError {
        let mut c = self.lock();
        c.finished += 1;
        c.last_failure = Some(error.clone());
        c.quiet_until = quiet_until;
        error
    }

    /// Seconds until the authority may be asked again, when its last answer (an outage) said
    /// `Retry-After`; the person's screen counts down at least this long.
    pub fn retry_after(&self) -> Option<u64> {
        let now = now_seconds();
        self.lock()
            .quiet_until
            .filter(|until| *until > now)
            .map(|until| until - now)
    }

    /// OpenID Connect Core §12.2, with one JWKS refetch for a key the session has not seen.
    async fn check_refreshed_id_token(&self, token: &str, now: u64) -> Result<(), RenewError> {
        let mut jwks = self.jwks.lock().unwrap_or_else(|e| e.into_inner()).clone();
        let verified = verify_signature_refreshing_keys(
            &self.transport,
            &self.metadata,
            &mut jwks,
            token,
            &PlatformVerifier::default(),
        )
        .await;
        *self.jwks.lock().unwrap_or_else(|e| e.into_inner()) = jwks;
        let claims = verified.map_err(|e| match e {
            SignInFailure::Discovery(DiscoveryError::Unreachable(t)) if t.kind.is_outage() => {
                RenewError::AuthorityOffline(t.to_string())
            }
            SignInFailure::IdToken(e) => RenewError::IdToken(e),
            // The keys could not be read (an answer that is no key set): the token cannot be checked.
            other => RenewError::IdToken(IdTokenError::Verifier(other.to_string())),
        })?;
        let expected = Expected {
            issuer: &self.metadata.issuer,
            client_id: self.client_id.as_str(),
            nonce: "",
            now: i64::try_from(now).unwrap_or(i64::MAX),
            skew: self.skew,
        };
        check_refreshed_id_token_claims(&claims, &self.claims, &expected)?;
        Ok(())
    }

    /// A lookup as this person, to be given its parameters and sent: it renews the token before
    /// expiry, and once more after a 401. A refused renewal (or a second 401) is
    /// [`MesError::SessionExpired`]; an authority that cannot renew an expired token is
    /// [`MesError::AuthorityOffline`].
    pub fn lookup<'a>(&'a self, api: &'a WebApiDefinition, endpoint: &'a str) -> Lookup<'a, &'a Self> {
        Lookup::by(self, api, endpoint)
    }
}

impl<'a, T: Transport + 'static> Lookup<'a, &'a UserSession<T>> {
    /// Sends the lookup; all rows in memory.
    pub async fn send(self) -> Result<Rows, MesError> {
        let mut rows = Rows::default();
        self.send_into(&mut rows).await?;
        Ok(rows)
    }

    /// Sends the lookup, decoding the rows into `target` while they arrive (see
    /// [`RowsTarget`]). Only a 2xx answer reaches the target, so the retry after a 401 starts
    /// from empty rows.
    pub async fn send_into(self, target: &mut dyn RowsTarget) -> Result<(), MesError> {
        let session = self.by;
        let identity = session.claims.identity();
        let failure = |e| renewal_failure(e, session.retry_after());
        let (token, generation) = session.access_token().await.map_err(failure)?;
        let query = &self.query;
        if let Some(refused) = crate::mes::refuse_token_for(token.expose(), query.api()) {
            return Err(refused);
        }
        match query
            .send_into(&session.transport, &token, Some(&identity), target)
            .await
        {
            Err(MesError::SessionExpired) => {
                let (token, _) = session.renew(generation).await.map_err(failure)?;
                // The renewed token is held to the same rule as the first: only to its audience.
                if let Some(refused) = crate::mes::refuse_token_for(token.expose(), query.api()) {
                    return Err(refused);
                }
                query
                    .send_into(&session.transport, &token, Some(&identity), target)
                    .await
            }
            other => other,
        }
    }
}

/// What a failed renewal means for an MES call; `retry_after` is the authority's own wait.
fn renewal_failure(error: RenewError, retry_after: Option<u64>) -> MesError {
    match error {
        RenewError::AuthorityOffline(message) => MesError::AuthorityOffline { message, retry_after },
        _ => MesError::SessionExpired,
    }
}

impl<T> std::fmt::Debug for UserSession<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("UserSession")
            .field("identity", &self.claims.identity())
            .finish_non_exhaustive()
    }
}
