//! oauth2-rs on this crate's transport. oauth2-rs builds token requests (the grant, the client's
//! proof, RFC 6749's encodings) and sends them through [`Via`], which forwards them to a
//! [`Transport`] and keeps the answer; the answer is then read by this crate's own parser
//! ([`parse_token_response`]), which is stricter than a general OAuth client needs to be: Bearer
//! tokens only, JSON only, and errors that name the field, never the answer's bytes. oauth2-rs's
//! own reading of the answer is not used.
//!
//! In the portal these requests run only from its on-demand parts (a lookup renews the token),
//! so oauth2-rs and the `url` and `http` crates it brings are not in the first load.

use crate::signin::{TokenError, TokenSet, parse_token_response};
use crate::transport::{HttpRequest, HttpResponse, Method, Transport, TransportError};
use std::future::Future;
use std::pin::Pin;
use std::sync::Mutex;

/// oauth2-rs's HTTP client: `transport`, keeping the answer for [`Via::read`].
pub(crate) struct Via<'t, T> {
    transport: &'t T,
    answer: Mutex<Option<HttpResponse>>,
}

impl<'t, T> Via<'t, T> {
    pub(crate) fn new(transport: &'t T) -> Self {
        Self {
            transport,
            answer: Mutex::new(None),
        }
    }

    /// The outcome of one exchange: the answer read by this crate's parser, or why there was
    /// none.
    pub(crate) fn read<R, E: oauth2::ErrorResponse + 'static>(
        self,
        outcome: Result<R, oauth2::RequestTokenError<TransportError, E>>,
        now: u64,
    ) -> Result<TokenSet, TokenError> {
        let answer = self.answer.into_inner().unwrap_or_else(|e| e.into_inner());
        match (answer, outcome) {
            (Some(response), _) => parse_token_response(&response, now),
            (None, Err(oauth2::RequestTokenError::Request(e))) => Err(TokenError::Unreachable(e)),
            (None, Err(e)) => Err(TokenError::Configuration(format!(
                "the token request could not be made: {e}"
            ))),
            (None, Ok(_)) => Err(TokenError::Configuration(
                "the token request was never sent".into(),
            )),
        }
    }

    async fn forward(&self, request: oauth2::HttpRequest) -> Result<oauth2::HttpResponse, TransportError>
    where
        T: Transport,
    {
        let response = self.transport.send(from_oauth2(request)).await?;
        let for_oauth2 = to_oauth2(&response);
        *self.answer.lock().unwrap_or_else(|e| e.into_inner()) = Some(response);
        Ok(for_oauth2)
    }
}

/// The token endpoint as oauth2-rs takes it; an unusable one is a configuration error.
pub(crate) fn token_url(endpoint: &str) -> Result<oauth2::TokenUrl, TokenError> {
    oauth2::TokenUrl::new(endpoint.to_owned())
        .map_err(|e| TokenError::Configuration(format!("token endpoint: {e}")))
}

#[cfg(not(target_arch = "wasm32"))]
type Forwarded<'c> = Pin<Box<dyn Future<Output = Result<oauth2::HttpResponse, TransportError>> + Send + 'c>>;
#[cfg(target_arch = "wasm32")]
type Forwarded<'c> = Pin<Box<dyn Future<Output = Result<oauth2::HttpResponse, TransportError>> + 'c>>;

impl<'c, T: Transport> oauth2::AsyncHttpClient<'c> for Via<'_, T> {
    type Error = TransportError;
    type Future = Forwarded<'c>;

    fn call(&'c self, request: oauth2::HttpRequest) -> Self::Future {
        Box::pin(self.forward(request))
    }
}

/// oauth2-rs's request as this crate's (then [`HttpRequest::checked`] like every other).
fn from_oauth2(request: oauth2::HttpRequest) -> HttpRequest {
    let url = request.uri().to_string();
    let (parts, body) = request.into_parts();
    let mut out = if parts.method == oauth2::http::Method::POST {
        HttpRequest::post(url, body)
    } else {
        HttpRequest::get(url)
    };
    for (name, value) in &parts.headers {
        // A value that is not text cannot be sent faithfully: it makes the request unusable.
        out = out.header(name.as_str(), value.to_str().unwrap_or("\n"));
    }
    debug_assert!(out.method() == Method::Post, "oauth2-rs POSTs token requests");
    out.time_limit(crate::signin::TOKEN_REQUEST_SECONDS).checked()
}

/// This crate's response as oauth2-rs's.
fn to_oauth2(response: &HttpResponse) -> oauth2::HttpResponse {
    let mut builder = oauth2::http::Response::builder().status(response.status().as_u16());
    for (name, value) in response.headers().iter() {
        builder = builder.header(name, value);
    }
    builder
        .body(response.body().to_vec())
        .unwrap_or_else(|_| oauth2::http::Response::new(Vec::new()))
}
