//! The native transport (reqwest over rustls), for the command-line tool, background jobs and
//! the tests.

use super::{
    BodySink, Collect, Headers, HttpRequest, HttpResponse, Method, REQUEST_SECONDS, Transport, TransportError,
};

/// reqwest over rustls, with the browser's rule for redirects: a request that carries nothing to
/// steal (a GET without a bearer token: config.json, a translation, discovery) follows them, up
/// to ten, as `fetch` does; a redirect in answer to a POST (token, revocation) or to a request
/// that carries a bearer token (an MES lookup) is an error — never a place to send the form or
/// the token again (`HttpRequest::refuses_redirects`).
#[derive(Debug, Clone)]
pub struct NativeTransport {
    /// For requests that refuse redirects.
    client: reqwest::Client,
    /// For the others.
    following: reqwest::Client,
    body_limit: usize,
}

impl Default for NativeTransport {
    fn default() -> Self {
        Self::new(super::DEFAULT_BODY_LIMIT)
    }
}

impl NativeTransport {
    /// A transport that refuses bodies larger than `body_limit` bytes.
    pub fn new(body_limit: usize) -> Self {
        let client = |redirects| {
            reqwest::Client::builder()
                .redirect(redirects)
                .connect_timeout(std::time::Duration::from_secs(10))
                .timeout(std::time::Duration::from_secs(REQUEST_SECONDS.into()))
                .build()
                .unwrap_or_default()
        };
        Self {
            client: client(reqwest::redirect::Policy::none()),
            following: client(reqwest::redirect::Policy::limited(10)),
            body_limit,
        }
    }
}

impl Transport for NativeTransport {
    type Future<'a> = std::pin::Pin<
        Box<dyn std::future::Future<Output = Result<HttpResponse, TransportError>> + Send + 'a>,
    >;

    fn send(&self, request: HttpRequest) -> Self::Future<'_> {
        Box::pin(self.send_now(request, None))
    }

    fn send_streaming<'a>(&'a self, request: HttpRequest, sink: &'a mut dyn BodySink) -> Self::Future<'a> {
        Box::pin(self.send_now(request, Some(sink)))
    }
}

impl NativeTransport {
    async fn send_now(
        &self,
        request: HttpRequest,
        sink: Option<&mut dyn BodySink>,
    ) -> Result<HttpResponse, TransportError> {
        let url = request.url().to_owned();
        let seconds = request.time_limit.unwrap_or(REQUEST_SECONDS);
        let is_post = request.method() == Method::Post;
        // Where the browser would refuse a redirect, so does this; elsewhere it follows, as `fetch`.
        let no_redirect = request.refuses_redirects();
        let client = if no_redirect {
            &self.client
        } else {
            &self.following
        };
        let method = if is_post {
            reqwest::Method::POST
        } else {
            reqwest::Method::GET
        };
        let mut outgoing = client.request(method, &url);
        if let Some(seconds) = request.time_limit {
            outgoing = outgoing.timeout(std::time::Duration::from_secs(seconds.into()));
        }
        for (name, value) in request.headers().iter() {
            outgoing = outgoing.header(name, value);
        }
        let mut response = outgoing
            .body(request.body.clone())
            .send()
            .await
            .map_err(|e| failed(&url, &e, seconds))?;
        if no_redirect && response.status().is_redirection() {
            return Err(TransportError::redirected(&url));
        }
        let mut headers = Headers::default();
        for (name, value) in response.headers() {
            if let Ok(value) = value.to_str() {
                headers.append(name.as_str(), value);
            }
        }
        let mut collect = Collect::default();
        match sink {
            Some(sink) if response.status().is_success() => {
                self.pump(&url, seconds, &mut response, sink).await?
            }
            _ => self.pump(&url, seconds, &mut response, &mut collect).await?,
        }
        Ok(HttpResponse {
            headers,
            ..HttpResponse::new(response.status().as_u16(), collect.body)
        })
    }

    async fn pump(
        &self,
        url: &str,
        seconds: u32,
        response: &mut reqwest::Response,
        sink: &mut dyn BodySink,
    ) -> Result<(), TransportError> {
        let mut read = 0;
        while let Some(chunk) = response.chunk().await.map_err(|e| failed(url, &e, seconds))? {
            read += chunk.len();
            if read > self.body_limit {
                return Err(TransportError::too_large(url, self.body_limit));
            }
            if !sink.write(&chunk) {
                break;
            }
        }
        Ok(())
    }
}

/// A failed request: out of time (as the browser transport says it), or what reqwest said.
fn failed(url: &str, error: &reqwest::Error, seconds: u32) -> TransportError {
    if error.is_timeout() {
        TransportError::timed_out(url, seconds)
    } else {
        TransportError::new(url, describe(error))
    }
}

/// A reqwest error with its causes (the TLS or connect reason is in a source, not the top).
pub(crate) fn describe(error: &reqwest::Error) -> String {
    use std::error::Error as _;
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}
