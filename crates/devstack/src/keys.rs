//! The AIM stand-in's RS256 signing key: generated on first start, kept on disk.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use rsa::pkcs8::{DecodePrivateKey as _, EncodePrivateKey as _, LineEnding};
use rsa::traits::PublicKeyParts as _;
use std::path::Path;

/// The signing key and its public JWK.
pub struct SigningKey {
    /// For jsonwebtoken.
    pub encoding: jsonwebtoken::EncodingKey,
    /// Key ID.
    pub kid: String,
    /// RSA modulus, base64url.
    pub n: String,
    /// RSA exponent, base64url.
    pub e: String,
}

impl SigningKey {
    /// Loads `path`, or generates a 2048-bit key and writes it there (mode 0600).
    pub fn load_or_create(path: &Path) -> std::io::Result<Self> {
        let private = match std::fs::read_to_string(path) {
            Ok(pem) => rsa::RsaPrivateKey::from_pkcs8_pem(&pem).map_err(std::io::Error::other)?,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                let key =
                    rsa::RsaPrivateKey::new(&mut rand::rngs::OsRng, 2048).map_err(std::io::Error::other)?;
                let pem = key.to_pkcs8_pem(LineEnding::LF).map_err(std::io::Error::other)?;
                if let Some(dir) = path.parent() {
                    std::fs::create_dir_all(dir)?;
                }
                write_private(path, pem.as_bytes())?;
                tracing::info!(path = %path.display(), "generated a new RS256 signing key");
                key
            }
            Err(e) => return Err(e),
        };
        Self::from_private(&private)
    }

    /// Wraps an RSA private key.
    pub fn from_private(private: &rsa::RsaPrivateKey) -> std::io::Result<Self> {
        let pem = private
            .to_pkcs8_pem(LineEnding::LF)
            .map_err(std::io::Error::other)?;
        let encoding =
            jsonwebtoken::EncodingKey::from_rsa_pem(pem.as_bytes()).map_err(std::io::Error::other)?;
        let n = URL_SAFE_NO_PAD.encode(private.n().to_bytes_be());
        let e = URL_SAFE_NO_PAD.encode(private.e().to_bytes_be());
        let kid = crate::util::sha256_b64url(n.as_bytes())[..16].to_owned();
        Ok(Self { encoding, kid, n, e })
    }

    /// The public key as a JWK.
    pub fn jwk(&self) -> serde_json::Value {
        serde_json::json!({ "kty": "RSA", "use": "sig", "alg": "RS256", "kid": self.kid, "n": self.n, "e": self.e })
    }
}

#[cfg(unix)]
fn write_private(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::io::Write as _;
    use std::os::unix::fs::OpenOptionsExt as _;
    std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)?
        .write_all(bytes)
}

#[cfg(not(unix))]
fn write_private(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    std::fs::write(path, bytes)
}
