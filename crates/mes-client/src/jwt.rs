//! ID token validation (OpenID Connect Core §3.1.3.7): the claim checks are pure Rust shared by
//! both targets; the signature check sits behind [`SignatureVerifier`] (WebCrypto in the
//! browser, jsonwebtoken natively) so the wasm carries no RSA code.

use crate::discovery::{Jwk, JwkSet};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::Deserialize;
use std::future::Future;

/// Signature algorithms accepted. `none` and HMAC never are.
pub const ALLOWED_ALGORITHMS: [&str; 2] = ["RS256", "ES256"];

/// A JWT split into its parts, signature not yet checked.
#[derive(Debug, Clone)]
pub struct UnverifiedJwt {
    /// The protected header.
    pub header: JwtHeader,
    /// The claims.
    pub claims: Claims,
    /// `header.payload`, the bytes the signature covers.
    pub signing_input: String,
    /// The raw signature.
    pub signature: Vec<u8>,
}

/// JOSE header fields the client reads.
#[derive(Debug, Clone, Deserialize)]
pub struct JwtHeader {
    /// Signature algorithm.
    pub alg: String,
    /// Key ID.
    #[serde(default)]
    pub kid: Option<String>,
    /// Token type (`at+jwt` for RFC 9068 access tokens).
    #[serde(default)]
    pub typ: Option<String>,
}

/// `aud`: one string or an array.
#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
#[serde(untagged)]
pub enum Audience {
    /// A single audience.
    One(String),
    /// Several.
    Many(Vec<String>),
}

impl Audience {
    /// Whether `who` is among the audiences.
    pub fn contains(&self, who: &str) -> bool {
        match self {
            Audience::One(a) => a == who,
            Audience::Many(list) => list.iter().any(|a| a == who),
        }
    }
    /// The audiences as a list.
    pub fn to_vec(&self) -> Vec<String> {
        match self {
            Audience::One(a) => vec![a.clone()],
            Audience::Many(list) => list.clone(),
        }
    }
}

/// `scope`: a space-separated string (RFC 9068) or an array (some servers).
#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
#[serde(untagged)]
pub enum ScopeClaim {
    /// `"openid profile"`.
    Text(String),
    /// `["openid", "profile"]`.
    List(Vec<String>),
}

/// Claims of ID and access tokens that the portal reads.
#[derive(Debug, Clone, Deserialize)]
pub struct Claims {
    /// Issuer.
    pub iss: String,
    /// Subject.
    #[serde(default)]
    pub sub: Option<String>,
    /// Audience.
    pub aud: Audience,
    /// Expiry, seconds since the epoch.
    pub exp: i64,
    /// Issued at.
    #[serde(default)]
    pub iat: Option<i64>,
    /// Not before.
    #[serde(default)]
    pub nbf: Option<i64>,
    /// Replay protection for ID tokens.
    #[serde(default)]
    pub nonce: Option<String>,
    /// When the person authenticated, seconds since the epoch (ID tokens, when the authority
    /// says).
    #[serde(default)]
    pub auth_time: Option<i64>,
    /// The account name (AIM: `DOMAIN\user`).
    #[serde(default)]
    pub preferred_username: Option<String>,
    /// Display name.
    #[serde(default)]
    pub name: Option<String>,
    /// Granted scopes (access tokens).
    #[serde(default)]
    pub scope: Option<ScopeClaim>,
    /// The client the token was issued to.
    #[serde(default)]
    pub client_id: Option<String>,
    /// Authorized party (OpenID Connect Core §2): the client an ID token with several
    /// audiences was issued to.
    #[serde(default)]
    pub azp: Option<String>,
}

impl Claims {
    /// The name a person recognises: `preferred_username`, else `name`, else `sub`.
    pub fn identity(&self) -> String {
        self.preferred_username
            .clone()
            .or_else(|| self.name.clone())
            .or_else(|| self.sub.clone())
            .unwrap_or_else(|| "(unnamed)".into())
    }
    /// Scopes as a list.
    pub fn scopes(&self) -> Vec<String> {
        match &self.scope {
            Some(ScopeClaim::Text(s)) => s.split_whitespace().map(str::to_owned).collect(),
            Some(ScopeClaim::List(l)) => l.clone(),
            None => vec![],
        }
    }
}

/// Why an ID token was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IdTokenError {
    /// Not three base64url parts of JSON.
    #[error("the ID token is malformed: {0}")]
    Malformed(String),
    /// `none`, HMAC, or anything not in `ALLOWED_ALGORITHMS` (RS256, ES256).
    #[error("the ID token is signed with \"{0}\", which is not accepted")]
    UnsupportedAlgorithm(String),
    /// No key in the JWKS has this `kid`, even after a refetch.
    #[error("the ID token is signed with an unknown key ({})", .0.as_deref().unwrap_or("no kid"))]
    UnknownKey(Option<String>),
    /// The signature does not verify.
    #[error("the ID token's signature is not valid")]
    BadSignature,
    /// The signature could not be checked at all.
    #[error("the ID token's signature could not be checked: {0}")]
    Verifier(String),
    /// `iss` differs from the authority.
    #[error("the ID token was issued by \"{found}\", not \"{expected}\"")]
    IssuerMismatch {
        /// The authority's issuer.
        expected: String,
        /// The token's.
        found: String,
    },
    /// `aud` does not contain this client.
    #[error("the ID token is not meant for this portal (audience {found:?}, client \"{expected}\")")]
    AudienceMismatch {
        /// The portal's client ID.
        expected: String,
        /// The token's audiences.
        found: Vec<String>,
    },
    /// Expired beyond the allowed clock skew.
    #[error("the ID token expired (check this computer's clock)")]
    Expired,
    /// `iat` or `nbf` in the future beyond the skew.
    #[error("the ID token is dated in the future (check this computer's clock)")]
    NotYetValid,
    /// `nonce` missing or different: a replayed or injected token.
    #[error("the ID token does not belong to this sign-in (nonce mismatch)")]
    NonceMismatch,
    /// No `sub`: OpenID Connect requires it, and a session needs a stable subject.
    #[error("the ID token names no subject (sub)")]
    MissingSubject,
    /// `aud` has several values and `azp` does not name this client, or `azp` names another.
    #[error("the ID token was issued to another party (azp {}, client \"{expected}\")", found.as_deref().unwrap_or("missing"))]
    UnauthorizedParty {
        /// The portal's client ID.
        expected: String,
        /// The token's `azp`.
        found: Option<String>,
    },
    /// A renewed ID token differs from the sign-in's where OpenID Connect Core §12.2 says it
    /// must not (`sub`, `aud`, `azp`, `nonce`), or lacks `iat`.
    #[error("the renewed ID token does not belong to this session ({0} differs or is missing)")]
    RefreshMismatch(&'static str),
    /// The authority sent no ID token.
    #[error("the identity authority sent no ID token (is the \"openid\" scope allowed for this client?)")]
    Missing,
}

/// Splits a compact JWS and parses header and claims. Checks nothing.
pub fn decode_unverified(token: &str) -> Result<UnverifiedJwt, IdTokenError> {
    let mut parts = token.split('.');
    let (Some(h), Some(p), Some(s), None) = (parts.next(), parts.next(), parts.next(), parts.next()) else {
        return Err(IdTokenError::Malformed("not three dot-separated parts".into()));
    };
    let decode = |part: &str, what: &str| {
        URL_SAFE_NO_PAD
            .decode(part)
            .map_err(|e| IdTokenError::Malformed(format!("{what}: {e}")))
    };
    let header: JwtHeader = serde_json::from_slice(&decode(h, "header")?)
        .map_err(|e| IdTokenError::Malformed(format!("header: {e}")))?;
    let claims: Claims = serde_json::from_slice(&decode(p, "claims")?)
        .map_err(|e| IdTokenError::Malformed(format!("claims: {e}")))?;
    let signature = decode(s, "signature")?;
    Ok(UnverifiedJwt {
        header,
        claims,
        signing_input: format!("{h}.{p}"),
        signature,
    })
}

/// The audiences an access token names, read without checking anything else — for deciding
/// where the token may be sent, not whether it is good (the API decides that). `None` when the
/// token is not a JWT (an opaque token: only its authority can say); an empty list when it is
/// one without `aud` (it names no API, so none gets it).
pub fn unverified_audiences(token: &str) -> Option<Vec<String>> {
    #[derive(Deserialize)]
    struct Payload {
        #[serde(default)]
        aud: Option<Audience>,
    }
    let mut parts = token.split('.');
    let (Some(_), Some(payload), Some(_), None) = (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return None;
    };
    let bytes = URL_SAFE_NO_PAD.decode(payload).ok()?;
    let payload: Payload = serde_json::from_slice(&bytes).ok()?;
    Some(payload.aud.map(|a| a.to_vec()).unwrap_or_default())
}

/// Checks a signature with a public key from the JWKS.
pub trait SignatureVerifier {
    /// `Ok(true)` when `signature` over `signing_input` verifies with `key` under `alg`.
    fn verify(
        &self,
        key: &Jwk,
        alg: &str,
        signing_input: &[u8],
        signature: &[u8],
    ) -> impl Future<Output = Result<bool, String>>;
}

/// What an ID token must match.
#[derive(Debug, Clone)]
pub struct Expected<'a> {
    /// The authority's issuer.
    pub issuer: &'a str,
    /// The portal's client ID.
    pub client_id: &'a str,
    /// The nonce sent with the authorize request.
    pub nonce: &'a str,
    /// Now, seconds since the epoch.
    pub now: i64,
    /// Allowed clock difference, seconds (default 60).
    pub skew: i64,
}

/// The claim checks every ID token must pass, pure: `iss`, `sub`, `aud` (with `azp` when
/// several audiences or an `azp` are named), `exp`, `iat`/`nbf` — all but the nonce.
fn check_common_claims(claims: &Claims, expected: &Expected<'_>) -> Result<(), IdTokenError> {
    if claims.iss != expected.issuer {
        return Err(IdTokenError::IssuerMismatch {
            expected: expected.issuer.into(),
            found: claims.iss.clone(),
        });
    }
    if claims.sub.as_deref().is_none_or(str::is_empty) {
        return Err(IdTokenError::MissingSubject);
    }
    // §3.1.3.7 (3): this client must be an audience, and an ID token that also names audiences
    // the client does not trust is refused — this client trusts none but itself.
    if !claims.aud.contains(expected.client_id) || claims.aud.to_vec().iter().any(|a| a != expected.client_id)
    {
        return Err(IdTokenError::AudienceMismatch {
            expected: expected.client_id.into(),
            found: claims.aud.to_vec(),
        });
    }
    let several = matches!(&claims.aud, Audience::Many(list) if list.len() > 1);
    if (several || claims.azp.is_some()) && claims.azp.as_deref() != Some(expected.client_id) {
        return Err(IdTokenError::UnauthorizedParty {
            expected: expected.client_id.into(),
            found: claims.azp.clone(),
        });
    }
    if claims.exp.saturating_add(expected.skew) < expected.now {
        return Err(IdTokenError::Expired);
    }
    if claims
        .iat
        .into_iter()
        .chain(claims.nbf)
        .any(|t| t > expected.now.saturating_add(expected.skew))
    {
        return Err(IdTokenError::NotYetValid);
    }
    Ok(())
}

/// The claim checks of a sign-in's ID token (OpenID Connect Core §3.1.3.7), pure.
pub fn check_id_token_claims(claims: &Claims, expected: &Expected<'_>) -> Result<(), IdTokenError> {
    check_common_claims(claims, expected)?;
    match &claims.nonce {
        Some(n) if crate::secret::constant_time_eq(n, expected.nonce) => Ok(()),
        _ => Err(IdTokenError::NonceMismatch),
    }
}

/// The claim checks of an ID token that came with a refresh (OpenID Connect Core §12.2), pure:
/// the usual checks, then the same `iss`, `sub`, `aud` and `azp` as the sign-in's token, an `iat`,
/// and a `nonce` only if it is the sign-in's.
pub fn check_refreshed_id_token_claims(
    claims: &Claims,
    original: &Claims,
    expected: &Expected<'_>,
) -> Result<(), IdTokenError> {
    check_common_claims(claims, expected)?;
    if claims.iss != original.iss {
        return Err(IdTokenError::RefreshMismatch("the issuer (iss)"));
    }
    if claims.sub != original.sub {
        return Err(IdTokenError::RefreshMismatch("the subject (sub)"));
    }
    let (mut now_aud, mut then_aud) = (claims.aud.to_vec(), original.aud.to_vec());
    now_aud.sort();
    then_aud.sort();
    if now_aud != then_aud {
        return Err(IdTokenError::RefreshMismatch("the audience (aud)"));
    }
    if claims.azp != original.azp {
        return Err(IdTokenError::RefreshMismatch("the authorized party (azp)"));
    }
    if claims.iat.is_none() {
        return Err(IdTokenError::RefreshMismatch("the issue time (iat)"));
    }
    // §12.2: a refreshed ID token's auth_time is the original authentication's, not a new one.
    if claims.auth_time.is_some() && claims.auth_time != original.auth_time {
        return Err(IdTokenError::RefreshMismatch(
            "the authentication time (auth_time)",
        ));
    }
    match (&claims.nonce, &original.nonce) {
        (None, _) => Ok(()),
        (Some(n), Some(o)) if crate::secret::constant_time_eq(n, o) => Ok(()),
        _ => Err(IdTokenError::RefreshMismatch("the nonce")),
    }
}

/// Checks the algorithm, finds the key and verifies the signature; returns the claims, which
/// are not checked yet. [`IdTokenError::UnknownKey`] tells the caller to refetch the JWKS once.
pub async fn verify_id_token_signature(
    token: &str,
    jwks: &JwkSet,
    verifier: &impl SignatureVerifier,
) -> Result<Claims, IdTokenError> {
    let jwt = decode_unverified(token)?;
    if !ALLOWED_ALGORITHMS.contains(&jwt.header.alg.as_str()) {
        return Err(IdTokenError::UnsupportedAlgorithm(jwt.header.alg));
    }
    let key = jwks
        .find(jwt.header.kid.as_deref())
        .ok_or_else(|| IdTokenError::UnknownKey(jwt.header.kid.clone()))?;
    if key.alg.as_deref().is_some_and(|a| a != jwt.header.alg) {
        return Err(IdTokenError::UnsupportedAlgorithm(jwt.header.alg));
    }
    match verifier
        .verify(key, &jwt.header.alg, jwt.signing_input.as_bytes(), &jwt.signature)
        .await
    {
        Ok(true) => Ok(jwt.claims),
        Ok(false) => Err(IdTokenError::BadSignature),
        Err(e) => Err(IdTokenError::Verifier(e)),
    }
}

/// Validates a sign-in's ID token completely: algorithm, key, signature, then the claims.
/// [`IdTokenError::UnknownKey`] tells the caller to refetch the JWKS once and try again.
pub async fn validate_id_token(
    token: &str,
    jwks: &JwkSet,
    verifier: &impl SignatureVerifier,
    expected: &Expected<'_>,
) -> Result<Claims, IdTokenError> {
    let claims = verify_id_token_signature(token, jwks, verifier).await?;
    check_id_token_claims(&claims, expected)?;
    Ok(claims)
}

#[cfg(not(target_arch = "wasm32"))]
pub use native::NativeVerifier;

#[cfg(not(target_arch = "wasm32"))]
mod native {
    use super::{Jwk, SignatureVerifier};
    use jsonwebtoken::{Algorithm, DecodingKey};

    /// Signature checks with the jsonwebtoken crate (RustCrypto backend).
    #[derive(Debug, Clone, Copy, Default)]
    pub struct NativeVerifier;

    impl SignatureVerifier for NativeVerifier {
        async fn verify(
            &self,
            key: &Jwk,
            alg: &str,
            signing_input: &[u8],
            signature: &[u8],
        ) -> Result<bool, String> {
            use base64::Engine as _;
            let (algorithm, decoding) = match (alg, key.kty.as_str()) {
                ("RS256", "RSA") => (
                    Algorithm::RS256,
                    DecodingKey::from_rsa_components(
                        key.n.as_deref().unwrap_or_default(),
                        key.e.as_deref().unwrap_or_default(),
                    ),
                ),
                ("ES256", "EC") => (
                    Algorithm::ES256,
                    DecodingKey::from_ec_components(
                        key.x.as_deref().unwrap_or_default(),
                        key.y.as_deref().unwrap_or_default(),
                    ),
                ),
                _ => return Err(format!("key type {} cannot check {alg}", key.kty)),
            };
            let decoding = decoding.map_err(|e| e.to_string())?;
            let signature = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(signature);
            jsonwebtoken::crypto::verify(&signature, signing_input, &decoding, algorithm)
                .map_err(|e| e.to_string())
        }
    }
}

#[cfg(test)]
mod tests {
    // Found while writing the id_token fuzz target (the fuzzer itself did not reach it in 90 s):
    // extreme times overflowed, which panics with debug assertions and wraps without.
    #[test]
    fn extreme_times_neither_overflow_nor_pass() {
        let claims: super::Claims = serde_json::from_value(serde_json::json!({
            "iss": "https://aim", "aud": "portal", "sub": "s", "exp": i64::MAX, "iat": i64::MIN, "nonce": "n"
        }))
        .expect("claims");
        let expected = super::Expected {
            issuer: "https://aim",
            client_id: "portal",
            nonce: "n",
            now: i64::MAX,
            skew: 60,
        };
        assert_eq!(super::check_id_token_claims(&claims, &expected), Ok(()));
        let future: super::Claims = serde_json::from_value(serde_json::json!({
            "iss": "https://aim", "aud": "portal", "sub": "s", "exp": i64::MAX, "iat": i64::MAX, "nonce": "n"
        }))
        .expect("claims");
        let now = super::Expected {
            now: 1_800_000_000,
            ..expected
        };
        assert_eq!(
            super::check_id_token_claims(&future, &now),
            Err(super::IdTokenError::NotYetValid)
        );
    }

    use super::*;

    fn token(header: &str, claims: &str) -> String {
        format!(
            "{}.{}.{}",
            URL_SAFE_NO_PAD.encode(header),
            URL_SAFE_NO_PAD.encode(claims),
            URL_SAFE_NO_PAD.encode(b"sig")
        )
    }

    fn claims(extra: &str) -> Claims {
        let text = format!(
            r#"{{"iss":"https://aim","aud":"mes-portal","exp":1000,"iat":900,"nonce":"n1","sub":"42"{extra}}}"#
        );
        serde_json::from_str(&text).expect("claims")
    }

    fn expected(now: i64) -> Expected<'static> {
        Expected {
            issuer: "https://aim",
            client_id: "mes-portal",
            nonce: "n1",
            now,
            skew: 60,
        }
    }

    #[test]
    fn claim_checks() {
        assert_eq!(check_id_token_claims(&claims(""), &expected(950)), Ok(()));
        // exp 1000, skew 60: valid through now = 1060, expired from 1061.
        assert_eq!(
            check_id_token_claims(&claims(""), &expected(1060)),
            Ok(()),
            "at the edge of the skew"
        );
        assert_eq!(
            check_id_token_claims(&claims(""), &expected(1061)),
            Err(IdTokenError::Expired)
        );
        // iat 900, skew 60: acceptable from now = 840, too early at 839.
        assert_eq!(
            check_id_token_claims(&claims(""), &expected(840)),
            Ok(()),
            "iat at the edge of the skew"
        );
        assert_eq!(
            check_id_token_claims(&claims(""), &expected(839)),
            Err(IdTokenError::NotYetValid)
        );
        let nbf = claims(r#","nbf":950"#);
        assert_eq!(
            check_id_token_claims(&nbf, &expected(890)),
            Ok(()),
            "nbf at the edge of the skew"
        );
        assert_eq!(
            check_id_token_claims(&nbf, &expected(889)),
            Err(IdTokenError::NotYetValid),
            "nbf is checked too"
        );
        let mut other = expected(950);
        other.nonce = "n2";
        assert_eq!(
            check_id_token_claims(&claims(""), &other),
            Err(IdTokenError::NonceMismatch)
        );
        let no_nonce: Claims =
            serde_json::from_str(r#"{"iss":"https://aim","aud":"mes-portal","exp":1000,"sub":"42"}"#)
                .expect("c");
        assert_eq!(
            check_id_token_claims(&no_nonce, &expected(950)),
            Err(IdTokenError::NonceMismatch)
        );
        other = expected(950);
        other.client_id = "someone-else";
        assert!(matches!(
            check_id_token_claims(&claims(""), &other),
            Err(IdTokenError::AudienceMismatch { .. })
        ));
        other = expected(950);
        other.issuer = "https://evil";
        assert!(matches!(
            check_id_token_claims(&claims(""), &other),
            Err(IdTokenError::IssuerMismatch { .. })
        ));
        let no_sub: Claims =
            serde_json::from_str(r#"{"iss":"https://aim","aud":"mes-portal","exp":1000,"nonce":"n1"}"#)
                .expect("c");
        assert_eq!(
            check_id_token_claims(&no_sub, &expected(950)),
            Err(IdTokenError::MissingSubject)
        );
        let empty: Claims = serde_json::from_str(
            r#"{"iss":"https://aim","aud":"mes-portal","exp":1000,"nonce":"n1","sub":""}"#,
        )
        .expect("c");
        assert_eq!(
            check_id_token_claims(&empty, &expected(950)),
            Err(IdTokenError::MissingSubject)
        );
    }

    #[test]
    fn identity_and_scopes_read_what_the_token_says() {
        let parse = |extra: &str| {
            serde_json::from_str::<Claims>(&format!(r#"{{"iss":"i","aud":"a","exp":1{extra}}}"#))
                .expect("claims")
        };
        assert_eq!(
            parse(r#","sub":"42","name":"Alice A.","preferred_username":"PLANT\\alice""#).identity(),
            "PLANT\\alice"
        );
        assert_eq!(parse(r#","sub":"42","name":"Alice A.""#).identity(), "Alice A.");
        assert_eq!(parse(r#","sub":"42""#).identity(), "42");
        assert_eq!(parse("").identity(), "(unnamed)");
        assert_eq!(
            parse(r#","scope":"openid  mes-web-api""#).scopes(),
            ["openid", "mes-web-api"]
        );
        assert_eq!(parse(r#","scope":["system"]"#).scopes(), ["system"]);
        assert!(parse("").scopes().is_empty());
    }

    /// §3.1.3.7 (3): an ID token that also names audiences this client does not trust is
    /// refused, even with `azp` naming this client (review E13); `azp`, when present, must be
    /// this client.
    #[test]
    fn audiences_this_client_does_not_trust_are_refused_and_azp_must_be_this_client() {
        let base = r#""iss":"https://aim","exp":1000,"nonce":"n1","sub":"42""#;
        let parse =
            |rest: &str| serde_json::from_str::<Claims>(&format!("{{{base},{rest}}}")).expect("claims");
        for aud in [
            r#""aud":["x","mes-portal"],"azp":"mes-portal""#,
            r#""aud":["x","mes-portal"]"#,
        ] {
            assert_eq!(
                check_id_token_claims(&parse(aud), &expected(950)),
                Err(IdTokenError::AudienceMismatch {
                    expected: "mes-portal".into(),
                    found: vec!["x".into(), "mes-portal".into()]
                }),
                "{aud}"
            );
        }
        assert_eq!(
            check_id_token_claims(
                &parse(r#""aud":["mes-portal"],"azp":"mes-portal""#),
                &expected(950)
            ),
            Ok(())
        );
        assert_eq!(
            check_id_token_claims(&parse(r#""aud":"mes-portal","azp":"x""#), &expected(950)),
            Err(IdTokenError::UnauthorizedParty {
                expected: "mes-portal".into(),
                found: Some("x".into())
            }),
            "an azp that names another client is refused even with one audience"
        );
        assert_eq!(
            check_id_token_claims(&parse(r#""aud":["mes-portal"]"#), &expected(950)),
            Ok(()),
            "a list of one needs no azp"
        );
        assert!(matches!(
            check_id_token_claims(&parse(r#""aud":["x","y"],"azp":"mes-portal""#), &expected(950)),
            Err(IdTokenError::AudienceMismatch { .. })
        ));
        assert!(Audience::Many(vec!["x".into(), "mes-portal".into()]).contains("mes-portal"));
        assert!(!Audience::Many(vec!["x".into(), "y".into()]).contains("mes-portal"));
        assert!(!Audience::One("x".into()).contains("mes-portal"));
    }

    #[test]
    fn a_refreshed_id_token_must_belong_to_the_same_session() {
        let original = claims("");
        let refreshed = |extra: &str| {
            serde_json::from_str::<Claims>(&format!(
                r#"{{"iss":"https://aim","aud":"mes-portal","exp":2000,"iat":1500{extra}}}"#
            ))
            .expect("claims")
        };
        let later = expected(1500);
        assert_eq!(
            check_refreshed_id_token_claims(&refreshed(r#","sub":"42""#), &original, &later),
            Ok(()),
            "no nonce is fine"
        );
        assert_eq!(
            check_refreshed_id_token_claims(&refreshed(r#","sub":"42","nonce":"n1""#), &original, &later),
            Ok(())
        );
        assert_eq!(
            check_refreshed_id_token_claims(&refreshed(r#","sub":"42","nonce":"n2""#), &original, &later),
            Err(IdTokenError::RefreshMismatch("the nonce"))
        );
        assert_eq!(
            check_refreshed_id_token_claims(&refreshed(r#","sub":"43""#), &original, &later),
            Err(IdTokenError::RefreshMismatch("the subject (sub)"))
        );
        let no_iat: Claims =
            serde_json::from_str(r#"{"iss":"https://aim","aud":"mes-portal","exp":2000,"sub":"42"}"#)
                .expect("c");
        assert_eq!(
            check_refreshed_id_token_claims(&no_iat, &original, &later),
            Err(IdTokenError::RefreshMismatch("the issue time (iat)"))
        );
        // §12.2: auth_time stays the original authentication's (review E13).
        let mut authenticated = original.clone();
        authenticated.auth_time = Some(900);
        let mut again = refreshed(r#","sub":"42""#);
        again.auth_time = Some(900);
        assert_eq!(
            check_refreshed_id_token_claims(&again, &authenticated, &later),
            Ok(())
        );
        again.auth_time = Some(1500);
        assert_eq!(
            check_refreshed_id_token_claims(&again, &authenticated, &later),
            Err(IdTokenError::RefreshMismatch(
                "the authentication time (auth_time)"
            ))
        );
        let azp: Claims = serde_json::from_str(
            r#"{"iss":"https://aim","aud":"mes-portal","azp":"mes-portal","exp":2000,"iat":1500,"sub":"42"}"#,
        )
        .expect("c");
        assert_eq!(
            check_refreshed_id_token_claims(&azp, &original, &later),
            Err(IdTokenError::RefreshMismatch("the authorized party (azp)"))
        );
        assert_eq!(
            check_refreshed_id_token_claims(&refreshed(r#","sub":"42""#), &original, &expected(2061)),
            Err(IdTokenError::Expired)
        );
        let mut elsewhere = original.clone();
        elsewhere.iss = "https://old-aim".into();
        assert_eq!(
            check_refreshed_id_token_claims(&refreshed(r#","sub":"42""#), &elsewhere, &later),
            Err(IdTokenError::RefreshMismatch("the issuer (iss)"))
        );
    }

    struct Always(bool);
    impl SignatureVerifier for Always {
        async fn verify(&self, _: &Jwk, _: &str, _: &[u8], _: &[u8]) -> Result<bool, String> {
            Ok(self.0)
        }
    }

    fn block_on<F: Future>(f: F) -> F::Output {
        // The futures here never wait on I/O, so a single poll finishes them.
        let waker = std::task::Waker::noop();
        let mut cx = std::task::Context::from_waker(waker);
        let mut f = std::pin::pin!(f);
        match f.as_mut().poll(&mut cx) {
            std::task::Poll::Ready(v) => v,
            std::task::Poll::Pending => panic!("future waited"),
        }
    }

    #[test]
    fn algorithm_key_and_signature_are_checked_before_claims() {
        let jwks: JwkSet = serde_json::from_str(
            r#"{"keys":[{"kty":"RSA","kid":"k1","alg":"RS256","n":"AQAB","e":"AQAB"}]}"#,
        )
        .expect("jwks");
        let body = r#"{"iss":"https://aim","aud":"mes-portal","exp":1000,"nonce":"n1","sub":"42"}"#;
        let none = token(r#"{"alg":"none"}"#, body);
        assert_eq!(
            block_on(validate_id_token(&none, &jwks, &Always(true), &expected(950))).err(),
            Some(IdTokenError::UnsupportedAlgorithm("none".into()))
        );
        let hs = token(r#"{"alg":"HS256","kid":"k1"}"#, body);
        assert!(matches!(
            block_on(validate_id_token(&hs, &jwks, &Always(true), &expected(950))),
            Err(IdTokenError::UnsupportedAlgorithm(_))
        ));
        let unknown = token(r#"{"alg":"RS256","kid":"k9"}"#, body);
        assert_eq!(
            block_on(validate_id_token(&unknown, &jwks, &Always(true), &expected(950))).err(),
            Some(IdTokenError::UnknownKey(Some("k9".into())))
        );
        let good = token(r#"{"alg":"RS256","kid":"k1"}"#, body);
        assert_eq!(
            block_on(validate_id_token(&good, &jwks, &Always(false), &expected(950))).err(),
            Some(IdTokenError::BadSignature)
        );
        assert!(block_on(validate_id_token(&good, &jwks, &Always(true), &expected(950))).is_ok());
        assert_eq!(
            block_on(validate_id_token(&good, &jwks, &Always(true), &expected(5000))).err(),
            Some(IdTokenError::Expired),
            "claims are checked after a good signature"
        );
        let es = token(r#"{"alg":"ES256","kid":"k1"}"#, body);
        assert_eq!(
            block_on(validate_id_token(&es, &jwks, &Always(true), &expected(950))).err(),
            Some(IdTokenError::UnsupportedAlgorithm("ES256".into())),
            "the key says RS256"
        );
        assert!(matches!(
            decode_unverified("a.b"),
            Err(IdTokenError::Malformed(_))
        ));
        assert!(matches!(
            decode_unverified("!!.??.##"),
            Err(IdTokenError::Malformed(_))
        ));
    }
}
