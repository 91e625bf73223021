//! The one HTTP seam: a request goes out as an [`HttpRequest`], an answer comes back as an
//! [`HttpResponse`]. Everything else in the crate is pure request building and response parsing
//! around it, so it runs the same in the browser (gloo-net) and natively (reqwest).
//!
//! The two types are the crate's own, small ones: the `http` crate's request, header map and URI
//! parser weigh about 5 kB gzipped in the wasm for the few fields used here.

use std::future::Future;

/// The methods the crate sends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Method {
    /// GET: discovery, keys, MES lookups.
    Get,
    /// POST: token and revocation requests (a form).
    Post,
}

impl Method {
    /// `GET` or `POST`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Get => "GET",
            Self::Post => "POST",
        }
    }
}

/// Header fields, names in lower case; lookups ignore case. Debug shows the names and only the
/// values that cannot carry a credential.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct Headers(Vec<(String, String)>);

/// The header fields whose values Debug may show: none of them carries a token, a secret or a
/// session.
const SHOWN_HEADERS: [&str; 6] = [
    "accept",
    "content-type",
    "content-length",
    "content-encoding",
    "location",
    "retry-after",
];

impl std::fmt::Debug for Headers {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut map = f.debug_map();
        for (name, value) in &self.0 {
            if SHOWN_HEADERS.contains(&name.as_str()) {
                map.entry(name, value);
            } else {
                map.entry(name, &"…");
            }
        }
        map.finish()
    }
}

impl Headers {
    /// The first value of `name`.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// Adds a field.
    pub fn append(&mut self, name: &str, value: impl Into<String>) {
        self.0.push((name.to_ascii_lowercase(), value.into()));
    }

    /// Every field, in order.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &str)> {
        self.0.iter().map(|(n, v)| (n.as_str(), v.as_str()))
    }
}

/// An HTTP request as the crate builds it. Its Debug output names the method, the URL, the
/// header names and the body's length — never an `Authorization` value, a secret or a body,
/// which may be a form with a code, a refresh token or a client secret.
#[derive(Clone, PartialEq, Eq)]
pub struct HttpRequest {
    method: Method,
    url: String,
    headers: Headers,
    body: Vec<u8>,
    time_limit: Option<u32>,
}

impl HttpRequest {
    /// A GET of `url`.
    pub fn get(url: impl Into<String>) -> Self {
        Self {
            method: Method::Get,
            url: url.into(),
            headers: Headers::default(),
            body: Vec::new(),
            time_limit: None,
        }
    }

    /// A POST to `url` with `body`.
    pub fn post(url: impl Into<String>, body: Vec<u8>) -> Self {
        Self {
            method: Method::Post,
            body,
            ..Self::get(url)
        }
    }

    /// With the header `name: value` added.
    pub fn header(mut self, name: &str, value: impl Into<String>) -> Self {
        self.headers.append(name, value);
        self
    }

    /// With a whole-exchange time limit of `seconds`, when shorter than the transport's own.
    pub fn time_limit(mut self, seconds: u32) -> Self {
        self.time_limit = Some(seconds);
        self
    }

    /// The method.
    pub fn method(&self) -> Method {
        self.method
    }

    /// The absolute URL.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// The header fields.
    pub fn headers(&self) -> &Headers {
        &self.headers
    }

    /// The body (empty for a GET).
    pub fn body(&self) -> &[u8] {
        &self.body
    }

    /// The request as it may go out: when its URL is not an absolute http(s) URL without
    /// whitespace (a malformed endpoint from discovery or configuration) or a header value could
    /// split the header (a line break), it becomes a bodiless GET of a host that never resolves, so it fails
    /// visibly and its body — perhaps a token — is never sent to the page's own origin, which a
    /// relative URI such as `/` would mean in the browser.
    pub(crate) fn checked(self) -> Self {
        // Whitespace is refused although a URL parser would escape it: an address that needs
        // repair is not one to send a token to.
        let url_ok = !self
            .url
            .contains(|c: char| c.is_ascii_whitespace() || c.is_control())
            && crate::AbsoluteUrl::parse(&self.url).is_ok_and(|u| matches!(u.scheme(), "http" | "https"));
        let headers_ok = self.headers.iter().all(|(_, v)| !v.contains(['\r', '\n', '\0']));
        if url_ok && headers_ok {
            self
        } else {
            Self::get("http://invalid.invalid/")
        }
    }
}

/// An HTTP status code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StatusCode(pub u16);

impl StatusCode {
    /// The number.
    pub fn as_u16(self) -> u16 {
        self.0
    }

    /// 2xx.
    pub fn is_success(self) -> bool {
        (200..300).contains(&self.0)
    }
}

impl PartialEq<u16> for StatusCode {
    fn eq(&self, other: &u16) -> bool {
        self.0 == *other
    }
}

/// An HTTP response as a transport returns it. Its Debug output names the status, the headers
/// as [`Headers`] shows them and the body's length — never the body, which may be a token answer.
#[derive(Clone, PartialEq, Eq)]
pub struct HttpResponse {
    status: StatusCode,
    headers: Headers,
    body: Vec<u8>,
}

impl std::fmt::Debug for HttpRequest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HttpRequest")
            .field("method", &self.method)
            .field("url", &self.url)
            .field("headers", &self.headers)
            .field("body_bytes", &self.body.len())
            .field("time_limit", &self.time_limit)
            .finish()
    }
}

impl std::fmt::Debug for HttpResponse {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HttpResponse")
            .field("status", &self.status)
            .field("headers", &self.headers)
            .field("body_bytes", &self.body.len())
            .finish()
    }
}

impl HttpResponse {
    /// An answer with `status` and `body` and no header fields yet.
    pub fn new(status: u16, body: impl Into<Vec<u8>>) -> Self {
        Self {
            status: StatusCode(status),
            headers: Headers::default(),
            body: body.into(),
        }
    }

    /// With the header `name: value` added.
    pub fn with_header(mut self, name: &str, value: impl Into<String>) -> Self {
        self.headers.append(name, value);
        self
    }

    /// The status.
    pub fn status(&self) -> StatusCode {
        self.status
    }

    /// The header fields.
    pub fn headers(&self) -> &Headers {
        &self.headers
    }

    /// The body.
    pub fn body(&self) -> &[u8] {
        &self.body
    }
}

/// The request never got an HTTP answer: DNS, refused connection, TLS, CORS (the browser hides
/// which), or a body larger than the transport accepts.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{url}: {reason}")]
pub struct TransportError {
    /// The address that failed, without its query string.
    pub url: String,
    /// What the platform said.
    pub reason: String,
    /// Which kind of failure.
    pub kind: TransportErrorKind,
}

/// Why no usable answer arrived.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum TransportErrorKind {
    /// No answer or a broken one: refused, reset, DNS, TLS, CORS.
    #[default]
    Network,
    /// The server answered, but with more than the transport accepts; reading stopped there.
    TooLarge,
    /// No complete answer in time.
    TimedOut,
    /// The server answered with a redirect where none is allowed (token and revocation
    /// requests): reading stopped, nothing was sent on.
    Redirected,
}

impl TransportErrorKind {
    /// Whether the server may simply be away (no answer, or none in time), as opposed to one
    /// that answered with something unusable.
    pub fn is_outage(self) -> bool {
        matches!(self, Self::Network | Self::TimedOut)
    }
}

impl TransportError {
    pub(crate) fn new(url: &str, reason: impl Into<String>) -> Self {
        Self {
            url: strip_query(url).to_owned(),
            reason: reason.into(),
            kind: TransportErrorKind::Network,
        }
    }

    pub(crate) fn too_large(url: &str, limit: usize) -> Self {
        let size = if limit >= 1024 * 1024 {
            format!("{} MB", limit / (1024 * 1024))
        } else {
            format!("{limit} bytes")
        };
        let reason = format!("the answer is larger than {size}, the most accepted");
        Self {
            kind: TransportErrorKind::TooLarge,
            ..Self::new(url, reason)
        }
    }

    pub(crate) fn redirected(url: &str) -> Self {
        let reason = "the server answered with a redirect, which this request never follows";
        Self {
            kind: TransportErrorKind::Redirected,
            ..Self::new(url, reason)
        }
    }

    #[cfg_attr(not(target_arch = "wasm32"), allow(dead_code))]
    pub(crate) fn timed_out(url: &str, seconds: u32) -> Self {
        Self {
            kind: TransportErrorKind::TimedOut,
            ..Self::new(url, format!("no complete answer within {seconds} s"))
        }
    }
}

/// `Send` natively (futures that hold it can move between threads), nothing in the browser
/// (whose values hold JavaScript objects and never leave their thread).
#[cfg(not(target_arch = "wasm32"))]
pub trait MaybeSend: Send {}
#[cfg(not(target_arch = "wasm32"))]
impl<T: Send + ?Sized> MaybeSend for T {}
/// `Send` natively (futures that hold it can move between threads), nothing in the browser
/// (whose values hold JavaScript objects and never leave their thread).
#[cfg(target_arch = "wasm32")]
pub trait MaybeSend {}
#[cfg(target_arch = "wasm32")]
impl<T: ?Sized> MaybeSend for T {}

/// `Sync` natively, nothing in the browser (see [`MaybeSend`]).
#[cfg(not(target_arch = "wasm32"))]
pub trait MaybeSync: Sync {}
#[cfg(not(target_arch = "wasm32"))]
impl<T: Sync + ?Sized> MaybeSync for T {}
/// `Sync` natively, nothing in the browser (see [`MaybeSend`]).
#[cfg(target_arch = "wasm32")]
pub trait MaybeSync {}
#[cfg(target_arch = "wasm32")]
impl<T: ?Sized> MaybeSync for T {}

/// Where a streamed answer's body goes, piece by piece as it arrives.
pub trait BodySink: MaybeSend {
    /// Takes the next piece; `false` stops the reading (the rest is not fetched).
    fn write(&mut self, piece: &[u8]) -> bool;
}

/// Sends one request. The future is a named type so that `Send` carries through to callers:
/// the native transport's futures are `Send` (spawnable on a multi-threaded runtime), the
/// browser's need not be.
pub trait Transport: MaybeSync {
    /// The future [`Transport::send`] returns (`Send` natively).
    type Future<'a>: Future<Output = Result<HttpResponse, TransportError>> + MaybeSend + 'a
    where
        Self: 'a;
    /// Sends `request` and returns the whole answer, whatever its status.
    fn send(&self, request: HttpRequest) -> Self::Future<'_>;
    /// Sends `request`; a 2xx answer's body goes to `sink` piece by piece as it arrives (the
    /// returned response's body is then empty), any other answer comes back whole. The body
    /// limit counts streamed bytes too. In the browser the reading yields to the page between
    /// pieces, so what the sink shows can be painted while the rest arrives.
    fn send_streaming<'a>(&'a self, request: HttpRequest, sink: &'a mut dyn BodySink) -> Self::Future<'a>;
}

/// Collects a body; what `send` uses.
#[derive(Default)]
struct Collect {
    body: Vec<u8>,
}

impl BodySink for Collect {
    fn write(&mut self, piece: &[u8]) -> bool {
        self.body.extend_from_slice(piece);
        true
    }
}

/// Largest answer body accepted by default (8 MiB): an MES lookup of 100,000 rows of 10 columns
/// is about 15 MB as JSON, so lookups raise it; everything else is small.
pub const DEFAULT_BODY_LIMIT: usize = 8 * 1024 * 1024;

pub(crate) fn strip_query(url: &str) -> &str {
    url.split(['?', '#']).next().unwrap_or(url)
}

/// The first bytes of a body, as text a person can read in an error message.
pub fn first_bytes(body: &[u8]) -> String {
    const SHOWN: usize = 200;
    let cut = &body[..body.len().min(SHOWN)];
    let mut text: String = String::from_utf8_lossy(cut)
        .chars()
        .filter(|c| !c.is_control() || *c == ' ')
        .collect();
    if body.len() > SHOWN {
        text.push('…');
    }
    text
}

/// The `Content-Type` of a response, lowercased and without parameters.
pub(crate) fn content_type(response: &HttpResponse) -> String {
    response
        .headers()
        .get("content-type")
        .and_then(|v| v.split(';').next())
        .map(|v| v.trim().to_ascii_lowercase())
        .unwrap_or_default()
}

/// The longest wait a `Retry-After` is believed for (10 minutes): a hint of hours — a
/// misconfigured proxy, or an answer meant for another client — must not keep a plant screen
/// from trying again; the person can always try at once.
pub const RETRY_AFTER_LIMIT_SECONDS: u64 = 600;

/// How many seconds from `now` an answer asks the caller to wait before asking again
/// (`Retry-After`, RFC 9110 §10.2.3: delay-seconds or an HTTP date), at most
/// [`RETRY_AFTER_LIMIT_SECONDS`]. Absent, malformed or already past: `None`. In a browser the
/// header is visible across origins only when the server lists it in
/// `Access-Control-Expose-Headers`; without it the caller's own backoff applies.
pub fn retry_after(response: &HttpResponse, now: u64) -> Option<u64> {
    let value = response.headers().get("retry-after")?.trim();
    let seconds = if !value.is_empty() && value.bytes().all(|b| b.is_ascii_digit()) {
        // Digits beyond u64 are a wait longer than the limit anyway.
        value.parse::<u64>().unwrap_or(u64::MAX)
    } else {
        crate::time::http_date_seconds(value)?.checked_sub(now)?
    };
    (seconds > 0).then_some(seconds.min(RETRY_AFTER_LIMIT_SECONDS))
}

pub(crate) fn is_json(content_type: &str) -> bool {
    content_type == "application/json"
        || (content_type.starts_with("application/") && content_type.ends_with("+json"))
}

#[cfg(target_arch = "wasm32")]
pub use browser::{BrowserTransport, ReadError, read_body_stream};
#[cfg(not(target_arch = "wasm32"))]
pub use native::NativeTransport;
#[cfg(not(target_arch = "wasm32"))]
pub(crate) use native::describe;

#[cfg(not(target_arch = "wasm32"))]
mod native {
    use super::{BodySink, Collect, Headers, HttpRequest, HttpResponse, Method, Transport, TransportError};

    /// reqwest over rustls. Redirects are never followed: OAuth and MES answers are read as sent,
    /// and a redirect in answer to a POST (token, revocation) or to a request that carries a
    /// bearer token (an MES lookup) is an error, as in the browser — never a place to send the
    /// form or the token again.
    #[derive(Debug, Clone)]
    pub struct NativeTransport {
        client: reqwest::Client,
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
            let client = reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .connect_timeout(std::time::Duration::from_secs(10))
                .timeout(std::time::Duration::from_secs(60))
                .build()
                .unwrap_or_default();
            Self { client, body_limit }
        }
    }

    impl Transport for NativeTransport {
        type Future<'a> = std::pin::Pin<
            Box<dyn std::future::Future<Output = Result<HttpResponse, TransportError>> + Send + 'a>,
        >;

        fn send(&self, request: HttpRequest) -> Self::Future<'_> {
            Box::pin(self.send_now(request, None))
        }

        fn send_streaming<'a>(
            &'a self,
            request: HttpRequest,
            sink: &'a mut dyn BodySink,
        ) -> Self::Future<'a> {
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
            let is_post = request.method() == Method::Post;
            // As in the browser: a redirect in answer to a POST or to a request with a bearer
            // token is an error (never followed here at all), not an answer to read.
            let no_redirect = is_post || request.headers().get("authorization").is_some();
            let method = if is_post {
                reqwest::Method::POST
            } else {
                reqwest::Method::GET
            };
            let mut outgoing = self.client.request(method, &url);
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
                .map_err(|e| TransportError::new(&url, describe(&e)))?;
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
                Some(sink) if response.status().is_success() => self.pump(&url, &mut response, sink).await?,
                _ => self.pump(&url, &mut response, &mut collect).await?,
            }
            Ok(HttpResponse {
                headers,
                ..HttpResponse::new(response.status().as_u16(), collect.body)
            })
        }

        async fn pump(
            &self,
            url: &str,
            response: &mut reqwest::Response,
            sink: &mut dyn BodySink,
        ) -> Result<(), TransportError> {
            let mut read = 0;
            while let Some(chunk) = response
                .chunk()
                .await
                .map_err(|e| TransportError::new(url, describe(&e)))?
            {
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
}

#[cfg(target_arch = "wasm32")]
mod browser {
    use super::{BodySink, Collect, Headers, HttpRequest, HttpResponse, Method, Transport, TransportError};
    use gloo_net::http::RequestBuilder;
    use wasm_bindgen::JsCast;
    use wasm_bindgen_futures::JsFuture;
    use web_sys::{RequestCache, RequestCredentials, RequestRedirect, ResponseType};

    /// The browser's `fetch` through gloo-net. Cookies are never sent cross-origin and answers are
    /// never cached, so a token answer cannot land in the HTTP cache. Bodies are read in chunks
    /// and reading stops at the size limit; a request that has no complete answer within the
    /// time limit is aborted.
    #[derive(Debug, Clone)]
    pub struct BrowserTransport {
        body_limit: usize,
        timeout_seconds: u32,
    }

    impl Default for BrowserTransport {
        fn default() -> Self {
            Self::new(super::DEFAULT_BODY_LIMIT)
        }
    }

    impl BrowserTransport {
        /// A transport that refuses bodies larger than `body_limit` bytes, with a 60 s time limit
        /// for the whole exchange, answer body included.
        pub fn new(body_limit: usize) -> Self {
            Self {
                body_limit,
                timeout_seconds: 60,
            }
        }
    }

    impl Transport for BrowserTransport {
        type Future<'a> =
            std::pin::Pin<Box<dyn std::future::Future<Output = Result<HttpResponse, TransportError>> + 'a>>;

        fn send(&self, request: HttpRequest) -> Self::Future<'_> {
            Box::pin(self.send_with_deadline(request, None))
        }

        fn send_streaming<'a>(
            &'a self,
            request: HttpRequest,
            sink: &'a mut dyn BodySink,
        ) -> Self::Future<'a> {
            Box::pin(self.send_with_deadline(request, Some(sink)))
        }
    }

    /// Aborts the fetch when its timer fires; dropping it clears the timer.
    struct Deadline {
        controller: Option<web_sys::AbortController>,
        timer: Option<i32>,
        _fire: Option<wasm_bindgen::closure::Closure<dyn FnMut()>>,
    }

    impl Deadline {
        fn start(seconds: u32) -> Self {
            let controller = web_sys::AbortController::new().ok();
            let (timer, fire) = match (&controller, web_sys::window()) {
                (Some(c), Some(window)) => {
                    let c = c.clone();
                    let fire = wasm_bindgen::closure::Closure::<dyn FnMut()>::new(move || c.abort());
                    let ms = i32::try_from(seconds.saturating_mul(1000)).unwrap_or(i32::MAX);
                    let timer = window
                        .set_timeout_with_callback_and_timeout_and_arguments_0(
                            fire.as_ref().unchecked_ref(),
                            ms,
                        )
                        .ok();
                    (timer, Some(fire))
                }
                _ => (None, None),
            };
            Self {
                controller,
                timer,
                _fire: fire,
            }
        }

        fn signal(&self) -> Option<web_sys::AbortSignal> {
            self.controller.as_ref().map(|c| c.signal())
        }

        fn expired(&self) -> bool {
            self.controller.as_ref().is_some_and(|c| c.signal().aborted())
        }
    }

    impl Drop for Deadline {
        fn drop(&mut self) {
            if let (Some(timer), Some(window)) = (self.timer, web_sys::window()) {
                window.clear_timeout_with_handle(timer);
            }
        }
    }

    impl BrowserTransport {
        async fn send_with_deadline(
            &self,
            request: HttpRequest,
            sink: Option<&mut dyn BodySink>,
        ) -> Result<HttpResponse, TransportError> {
            let url = request.url().to_owned();
            let seconds = request
                .time_limit
                .map_or(self.timeout_seconds, |s| s.min(self.timeout_seconds));
            let deadline = Deadline::start(seconds);
            let result = self.send_now(request, &deadline, sink).await;
            if result.is_err() && deadline.expired() {
                return Err(TransportError::timed_out(&url, seconds));
            }
            result
        }

        async fn send_now(
            &self,
            request: HttpRequest,
            deadline: &Deadline,
            sink: Option<&mut dyn BodySink>,
        ) -> Result<HttpResponse, TransportError> {
            let url = request.url().to_owned();
            let signal = deadline.signal();
            // A POST carries a code, a refresh token or a secret, a GET with Authorization the
            // person's bearer token: a redirect must not carry either on.
            let is_post = request.method() == Method::Post;
            let redirect = if is_post || request.headers().get("authorization").is_some() {
                RequestRedirect::Manual
            } else {
                RequestRedirect::Follow
            };
            let method = if is_post {
                gloo_net::http::Method::POST
            } else {
                gloo_net::http::Method::GET
            };
            let mut builder = RequestBuilder::new(&url)
                .method(method)
                .redirect(redirect)
                .cache(RequestCache::NoStore)
                .credentials(RequestCredentials::SameOrigin)
                .abort_signal(signal.as_ref());
            for (name, value) in request.headers().iter() {
                builder = builder.header(name, value);
            }
            let body = request.body();
            let request = if body.is_empty() {
                builder.build()
            } else {
                builder.body(js_sys::Uint8Array::from(body))
            }
            .map_err(|e| TransportError::new(&url, e.to_string()))?;
            let response = request
                .send()
                .await
                .map_err(|e| TransportError::new(&url, e.to_string()))?;
            if response.type_() == ResponseType::Opaqueredirect {
                return Err(TransportError::redirected(&url));
            }
            // Only the headers the crate reads.
            let mut headers = Headers::default();
            for name in ["content-type", "www-authenticate", "cache-control", "location"] {
                if let Some(value) = response.headers().get(name) {
                    headers.append(name, value);
                }
            }
            if let Some(length) = response
                .headers()
                .get("content-length")
                .and_then(|v| v.parse::<usize>().ok())
                && length > self.body_limit
            {
                return Err(TransportError::too_large(&url, self.body_limit));
            }
            let mut collect = Collect::default();
            if let Some(stream) = response.body() {
                match sink {
                    Some(sink) if response.ok() => self.read_limited(&url, stream, sink, true).await?,
                    _ => self.read_limited(&url, stream, &mut collect, false).await?,
                }
            }
            Ok(HttpResponse {
                headers,
                ..HttpResponse::new(response.status(), collect.body)
            })
        }

        /// Reads the body into `sink` (see [`read_body_stream`]).
        async fn read_limited(
            &self,
            url: &str,
            stream: web_sys::ReadableStream,
            sink: &mut dyn BodySink,
            yielding: bool,
        ) -> Result<(), TransportError> {
            read_body_stream(stream, sink, self.body_limit, yielding)
                .await
                .map_err(|e| match e {
                    ReadError::TooLarge => TransportError::too_large(url, self.body_limit),
                    ReadError::Broken(reason) => TransportError::new(url, reason),
                })
        }
    }

    /// Why a body stream was not read to its end.
    #[derive(Debug, Clone, PartialEq, Eq)]
    pub enum ReadError {
        /// More than the limit; reading stopped there and the stream was cancelled.
        TooLarge,
        /// The stream failed (the connection broke off), with what the browser said.
        Broken(String),
    }

    /// Reads a body stream piece by piece into `sink` and stops (cancelling the stream) past
    /// `limit` bytes or when the sink says so. When `yielding`, after the first piece and then at
    /// most every 30 ms of work the reading waits for the next task, so the page can paint what
    /// the sink made of it. Also for streams a page hands over (`response.body`, `blob.stream()`).
    pub async fn read_body_stream(
        stream: web_sys::ReadableStream,
        sink: &mut dyn BodySink,
        limit: usize,
        yielding: bool,
    ) -> Result<(), ReadError> {
        let fail = |e: wasm_bindgen::JsValue| {
            ReadError::Broken(
                e.dyn_ref::<js_sys::Error>()
                    .map(|e| String::from(e.message()))
                    .unwrap_or_else(|| "the answer broke off".into()),
            )
        };
        if stream.locked() {
            return Err(ReadError::Broken("the stream is already being read".into()));
        }
        let reader: web_sys::ReadableStreamDefaultReader =
            stream.get_reader().dyn_into().map_err(|o| fail(o.into()))?;
        let now = js_sys::Date::now;
        let mut since_yield = now();
        let mut piece = Vec::new();
        let mut read = 0;
        loop {
            let chunk: web_sys::ReadableStreamReadResult = JsFuture::from(reader.read())
                .await
                .map_err(fail)?
                .unchecked_into();
            if chunk.get_done().unwrap_or(true) {
                break;
            }
            let Ok(bytes) = chunk.get_value().dyn_into::<js_sys::Uint8Array>() else {
                let _ = reader.cancel();
                return Err(ReadError::Broken(
                    "the stream gave something other than bytes".into(),
                ));
            };
            read += bytes.length() as usize;
            if read > limit {
                let _ = reader.cancel();
                return Err(ReadError::TooLarge);
            }
            // One buffer for every piece: the copy out of JavaScript reuses its memory.
            piece.resize(bytes.length() as usize, 0);
            bytes.copy_to(&mut piece);
            if !sink.write(&piece) {
                let _ = reader.cancel();
                break;
            }
            // The first piece at once (the first rows get painted), then every 30 ms of work.
            if yielding && (read == piece.len() || now() - since_yield > 30.0) {
                next_task().await;
                since_yield = now();
            }
        }
        Ok(())
    }

    /// Resolves in a new task (a zero timeout): rendering and input get their turn first.
    async fn next_task() {
        let promise = js_sys::Promise::new(&mut |resolve, _| {
            if let Some(window) = web_sys::window() {
                let _ = window.set_timeout_with_callback_and_timeout_and_arguments_0(&resolve, 0);
            }
        });
        let _ = JsFuture::from(promise).await;
    }
}

/// A transport for unit tests: records what is sent and answers with a canned answer.
#[cfg(test)]
pub(crate) mod testing {
    use super::{BodySink, HttpRequest, HttpResponse, Transport, TransportError};
    use std::sync::Mutex;

    pub(crate) struct Canned {
        answer: Result<HttpResponse, TransportError>,
        sent: Mutex<Vec<HttpRequest>>,
    }

    impl Canned {
        pub(crate) fn new(answer: Result<HttpResponse, TransportError>) -> Self {
            Self {
                answer,
                sent: Mutex::new(Vec::new()),
            }
        }

        /// Every request sent so far.
        pub(crate) fn sent(&self) -> Vec<HttpRequest> {
            self.sent.lock().expect("lock").clone()
        }
    }

    impl Transport for Canned {
        type Future<'a> = std::future::Ready<Result<HttpResponse, TransportError>>;

        fn send(&self, request: HttpRequest) -> Self::Future<'_> {
            self.sent.lock().expect("lock").push(request);
            std::future::ready(self.answer.clone())
        }

        fn send_streaming<'a>(&'a self, request: HttpRequest, _: &'a mut dyn BodySink) -> Self::Future<'a> {
            self.send(request)
        }
    }

    /// Runs a future that never waits (a [`Canned`] transport answers at once).
    pub(crate) fn run_now<F: std::future::Future>(future: F) -> F::Output {
        let mut context = std::task::Context::from_waker(std::task::Waker::noop());
        let mut future = std::pin::pin!(future);
        match future.as_mut().poll(&mut context) {
            std::task::Poll::Ready(output) => output,
            std::task::Poll::Pending => panic!("a canned transport answers at once"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::{HttpRequest, HttpResponse, Method};

    /// Review E8: Debug of a request or an answer (what a log line or a panic message shows)
    /// carries no bearer token, Basic secret, cookie or token body.
    #[test]
    fn debug_output_never_shows_a_credential_or_a_body() {
        let request = HttpRequest::post(
            "https://aim.plant.example/connect/token",
            b"grant_type=refresh_token&refresh_token=rt-SECRET-1".to_vec(),
        )
        .header("authorization", "Bearer at-SECRET-2")
        .header("cookie", "idsrv=SECRET-3")
        .header("x-api-key", "SECRET-4")
        .header("content-type", "application/x-www-form-urlencoded");
        let answer = HttpResponse::new(200, r#"{"access_token":"at-SECRET-5"}"#)
            .with_header("set-cookie", "s=SECRET-6")
            .with_header("content-type", "application/json");
        let shown = format!("{request:?} {answer:?} {request:#?} {answer:#?}");
        assert!(!shown.contains("SECRET"), "{shown}");
        for seen in [
            "authorization",
            "cookie",
            "application/json",
            "connect/token",
            "body_bytes: 50",
        ] {
            assert!(shown.contains(seen), "{seen} missing from {shown}");
        }
    }

    #[test]
    fn only_absolute_http_requests_with_clean_headers_go_out() {
        let good = HttpRequest::post("https://aim.example/connect/token", b"code=1".to_vec())
            .header("Accept", "application/json");
        assert_eq!(good.clone().checked(), good, "a good request is left as it is");
        assert_eq!(
            good.headers().get("accept"),
            Some("application/json"),
            "names are looked up ignoring case"
        );
        for bad in [
            HttpRequest::post("/connect/token", b"code=1".to_vec()),
            HttpRequest::post("javascript:alert(1)", b"code=1".to_vec()),
            HttpRequest::post("https://aim.example/connect/token\n", b"code=1".to_vec()),
            HttpRequest::post("https://aim.example/connect/token", b"code=1".to_vec())
                .header("authorization", "Bearer a\r\nX-Evil: 1"),
        ] {
            let sent = bad.clone().checked();
            assert_eq!(
                (sent.url(), sent.method(), sent.body()),
                ("http://invalid.invalid/", Method::Get, &b""[..]),
                "{bad:?}"
            );
        }
    }

    #[test]
    fn retry_after_reads_seconds_or_a_date_within_the_limit() {
        use super::{RETRY_AFTER_LIMIT_SECONDS, retry_after};
        let now = 1_796_605_200; // Mon, 07 Dec 2026 01:00:00 GMT
        let said =
            |value: &str| retry_after(&HttpResponse::new(429, "").with_header("Retry-After", value), now);
        assert_eq!(said("120"), Some(120));
        assert_eq!(said(" 7 "), Some(7));
        assert_eq!(said("Mon, 07 Dec 2026 01:01:30 GMT"), Some(90));
        assert_eq!(said("86400"), Some(RETRY_AFTER_LIMIT_SECONDS), "hours are capped");
        assert_eq!(said("99999999999999999999999"), Some(RETRY_AFTER_LIMIT_SECONDS));
        for nothing in ["0", "Mon, 07 Dec 2026 00:59:00 GMT", "-5", "1.5", "soon", ""] {
            assert_eq!(said(nothing), None, "{nothing:?}");
        }
        assert_eq!(retry_after(&HttpResponse::new(503, ""), now), None);
    }
}
