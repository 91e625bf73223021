//! The whole sign-in as one call, and the signed-in state held in memory.

use crate::discovery::{Authority, DiscoveryError, JwkSet, ProviderMetadata, fetch_jwks};
use crate::jwt::{
    Claims, Expected, IdTokenError, SignatureVerifier, check_id_token_claims, verify_id_token_signature,
};
use crate::signin::{CallbackParams, PendingSignIn, SignInClient, SignInError, check_callback};
use crate::token::{ClientProof, Grant, TokenClient, TokenError, TokenSet};
use crate::transport::Transport;

/// This platform's signature checks: WebCrypto in the browser, jsonwebtoken natively.
#[cfg(not(target_arch = "wasm32"))]
pub type PlatformVerifier = crate::jwt::NativeVerifier;
/// This platform's signature checks: WebCrypto in the browser, jsonwebtoken natively.
#[cfg(target_arch = "wasm32")]
pub type PlatformVerifier = crate::browser::WebCryptoVerifier;

/// A person signed in: tokens in memory and the validated ID token's claims.
#[derive(Debug, Clone)]
pub struct SignedIn {
    /// Tokens; never written anywhere.
    pub tokens: TokenSet,
    /// Who signed in (from the validated ID token).
    pub claims: Claims,
}

/// Why a sign-in did not complete.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SignInFailure {
    /// The authorization response was refused or tampered with.
    #[error(transparent)]
    Callback(#[from] SignInError),
    /// The code exchange failed.
    #[error(transparent)]
    Token(#[from] TokenError),
    /// The ID token did not validate.
    #[error(transparent)]
    IdToken(#[from] IdTokenError),
    /// Refetching the keys failed.
    #[error(transparent)]
    Discovery(#[from] DiscoveryError),
    /// The browser could not take part: sessionStorage blocked, a popup blocked or closed,
    /// navigation refused.
    #[error("{0}")]
    Browser(String),
    /// A sign-in popup whose opener it cannot reach: the authority's page cut it loose
    /// (`Cross-Origin-Opener-Policy`), or the page that opened it has gone.
    #[error(
        "this sign-in window cannot hand the sign-in back to the page that opened it: the identity authority's sign-in page cut the link between the two windows (a Cross-Origin-Opener-Policy header), or that page was closed"
    )]
    PopupCutLoose,
}

impl SignInFailure {
    /// The authority's answer to a silent (`prompt=none`) sign-in when it has no session for
    /// this person: not a failure, the person signs in with the form.
    pub fn is_silent_refusal(&self) -> bool {
        matches!(self, SignInFailure::Callback(SignInError::Refused { error, .. })
            if matches!(error.as_str(), "login_required" | "interaction_required" | "consent_required" | "account_selection_required"))
    }
}

/// Checks an ID token's algorithm, key and signature, fetching the authority's keys once more
/// when the token names a key `jwks` lacks (keys rotate; `jwks` is replaced then). Returns the
/// claims, not yet checked. Shared by the sign-in and by the renewal of a session.
pub(crate) async fn verify_signature_refreshing_keys(
    transport: &impl Transport,
    metadata: &ProviderMetadata,
    jwks: &mut JwkSet,
    token: &str,
    verifier: &impl SignatureVerifier,
) -> Result<Claims, SignInFailure> {
    match verify_id_token_signature(token, jwks, verifier).await {
        Err(IdTokenError::UnknownKey(_)) => {
            *jwks = fetch_jwks(transport, metadata).await?;
            Ok(verify_id_token_signature(token, jwks, verifier).await?)
        }
        other => Ok(other?),
    }
}

/// The code exchange that completes a sign-in, being built: see [`SignInClient::exchange_code`].
/// It checks the callback against the pending sign-in, exchanges the code with its PKCE
/// verifier, and validates the ID token (signature with this platform's verifier unless told
/// otherwise; issuer, audience, nonce and times at the current clock unless told otherwise).
#[must_use = "a code exchange does nothing until it is sent"]
pub struct CodeExchange<'a, V = PlatformVerifier> {
    client: SignInClient<'a>,
    authority: &'a mut Authority,
    params: &'a CallbackParams,
    pending: Option<&'a PendingSignIn>,
    verifier: V,
    now: Option<u64>,
}

impl<'a> SignInClient<'a> {
    /// Completes a sign-in from the callback's `params` and the sign-in this browser started
    /// (`None` when it has none: the answer is then refused). `authority`'s keys are replaced
    /// when the ID token names a key they lack and a fresh fetch has it (keys rotate).
    pub fn exchange_code(
        &self,
        authority: &'a mut Authority,
        params: &'a CallbackParams,
        pending: Option<&'a PendingSignIn>,
    ) -> CodeExchange<'a> {
        CodeExchange {
            client: *self,
            authority,
            params,
            pending,
            verifier: PlatformVerifier::default(),
            now: None,
        }
    }
}

impl<'a, V: SignatureVerifier> CodeExchange<'a, V> {
    /// Checks the ID token's signature with `verifier` instead of this platform's.
    pub fn verify_with<W: SignatureVerifier>(self, verifier: W) -> CodeExchange<'a, W> {
        CodeExchange {
            client: self.client,
            authority: self.authority,
            params: self.params,
            pending: self.pending,
            verifier,
            now: self.now,
        }
    }

    /// Judges token times at `now` (seconds since 1970) instead of the clock.
    pub fn at(mut self, now: u64) -> Self {
        self.now = Some(now);
        self
    }

    /// Sends the exchange through `transport` and validates what comes back.
    pub async fn request_async(
        self,
        transport: &(impl Transport + 'static),
    ) -> Result<SignedIn, SignInFailure> {
        let Self {
            client,
            authority,
            params,
            pending,
            verifier,
            now,
        } = self;
        let now = now.unwrap_or_else(crate::now_seconds);
        let settings = client.settings();
        let code = check_callback(params, pending, &authority.metadata)?;
        let pending = pending.ok_or(SignInError::NoPendingSignIn)?;
        let grant = Grant::Code {
            code: &code,
            verifier: &pending.verifier,
            redirect_uri: &settings.redirect_uri,
        };
        let tokens = TokenClient::new(settings.client_id.as_str(), ClientProof::Public)
            .tokens(transport, &authority.metadata.token_endpoint, grant, now)
            .await?;
        let id_token = tokens.id_token.clone().ok_or(IdTokenError::Missing)?;
        let claims = verify_signature_refreshing_keys(
            transport,
            &authority.metadata,
            &mut authority.jwks,
            id_token.expose(),
            &verifier,
        )
        .await?;
        let expected = Expected {
            issuer: &authority.metadata.issuer,
            client_id: settings.client_id.as_str(),
            nonce: pending.nonce.secret(),
            now: i64::try_from(now).unwrap_or(i64::MAX),
            skew: settings.clock_skew(),
        };
        check_id_token_claims(&claims, &expected)?;
        Ok(SignedIn { tokens, claims })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn refused(error: &str) -> SignInFailure {
        SignInFailure::Callback(SignInError::Refused {
            error: error.into(),
            description: None,
        })
    }

    #[test]
    fn only_the_answers_to_a_silent_sign_in_without_a_session_are_silent_refusals() {
        for error in [
            "login_required",
            "interaction_required",
            "consent_required",
            "account_selection_required",
        ] {
            assert!(refused(error).is_silent_refusal(), "{error}");
        }
        for other in [
            refused("access_denied"),
            refused("server_error"),
            SignInFailure::Callback(SignInError::StateMismatch),
            SignInFailure::IdToken(IdTokenError::NonceMismatch),
            SignInFailure::Browser("popup blocked".into()),
        ] {
            assert!(!other.is_silent_refusal(), "{other:?}");
        }
    }
}
