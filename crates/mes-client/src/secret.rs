//! Newtypes for values that must never reach a log.

use std::fmt;

/// A token or secret. `Debug` and `Display` print `[redacted]`; only [`Secret::expose`] reads it.
#[derive(Clone, PartialEq, Eq, serde::Deserialize)]
#[serde(transparent)]
pub struct Secret(String);

impl Secret {
    /// Wraps a secret value.
    pub fn new(value: impl Into<String>) -> Self {
        Self(value.into())
    }
    /// The secret itself, for the one place that must send it.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[redacted]")
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[redacted]")
    }
}

/// Compares two secrets without an early exit, so timing does not tell how much matched.
pub(crate) fn constant_time_eq(a: &str, b: &str) -> bool {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    if a.len() != b.len() {
        return false;
    }
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// A value of one sign-in round trip (`state`, `nonce`, PKCE verifier): random, compared in
/// constant time, kept in sessionStorage until the callback, never printed.
macro_rules! round_trip_value {
    ($(#[$doc:meta])* $name:ident, $bytes:literal) => {
        $(#[$doc])*
        #[derive(Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
        #[serde(transparent)]
        pub struct $name(String);

        impl $name {
            /// Wraps a value read back (tests, or a value from storage).
            pub fn new(value: impl Into<String>) -> Self {
                Self(value.into())
            }
            /// A fresh value from the platform's randomness, base64url without padding.
            pub fn random() -> Result<Self, getrandom::Error> {
                crate::secret::random_b64url($bytes).map(Self)
            }
            /// The value, for the one request that must carry it.
            pub fn secret(&self) -> &str {
                &self.0
            }
            /// Whether `other` is this value (constant time).
            pub fn matches(&self, other: &str) -> bool {
                crate::secret::constant_time_eq(&self.0, other)
            }
        }

        impl std::fmt::Debug for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(concat!(stringify!($name), "([redacted])"))
            }
        }
    };
}
pub(crate) use round_trip_value;

/// `bytes` random bytes from the OS or `crypto.getRandomValues`, base64url without padding.
pub(crate) fn random_b64url(bytes: usize) -> Result<String, getrandom::Error> {
    use base64::Engine as _;
    let mut buf = vec![0u8; bytes];
    getrandom::getrandom(&mut buf)?;
    Ok(base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(buf))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_secret_prints_as_a_marker_that_says_it_was_hidden() {
        let secret = Secret::new("at-SECRET");
        assert_eq!(format!("{secret:?}"), "[redacted]");
        assert_eq!(format!("{secret}"), "[redacted]");
        assert_eq!(format!("{:?}", Some(&secret)), "Some([redacted])");
        assert_eq!(secret.expose(), "at-SECRET");
    }

    #[test]
    fn constant_time_eq_is_equality() {
        assert!(constant_time_eq("", ""));
        assert!(constant_time_eq("state-1", "state-1"));
        for (a, b) in [
            ("state-1", "state-2"),
            ("state-1", "state-"),
            ("", "x"),
            ("ab", "ba"),
            ("a", "A"),
        ] {
            assert!(!constant_time_eq(a, b), "{a} {b}");
            assert!(!constant_time_eq(b, a), "{b} {a}");
        }
    }

    #[test]
    fn random_values_are_fresh_base64url_of_the_asked_length() {
        let (a, b) = (
            random_b64url(32).expect("random"),
            random_b64url(32).expect("random"),
        );
        assert_eq!(
            a.len(),
            43,
            "32 bytes are 43 base64url characters without padding"
        );
        assert_ne!(a, b);
        assert!(
            a.bytes()
                .all(|c| c.is_ascii_alphanumeric() || c == b'-' || c == b'_'),
            "{a}"
        );
        assert_eq!(random_b64url(0).expect("random"), "");
    }
}
