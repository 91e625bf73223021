//! The browser transport (fetch through gloo-net), for the portal.

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
            timeout_seconds: super::REQUEST_SECONDS,
        }
    }
}

impl Transport for BrowserTransport {
    type Future<'a> =
        std::pin::Pin<Box<dyn std::future::Future<Output = Result<HttpResponse, TransportError>> + 'a>>;

    fn send(&self, request: HttpRequest) -> Self::Future<'_> {
        Box::pin(self.send_with_deadline(request, None))
    }

    fn send_streaming<'a>(&'a self, request: HttpRequest, sink: &'a mut dyn BodySink) -> Self::Future<'a> {
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
                    .set_timeout_with_callback_and_timeout_and_arguments_0(fire.as_ref().unchecked_ref(), ms)
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
        let is_post = request.method() == Method::Post;
        let redirect = if request.refuses_redirects() {
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
    let mut feed = Feed::new(sink, limit, yielding);
    let mut piece = Vec::new();
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
        // Counted before the copy: a piece past the limit never comes into wasm.
        if let Err(too_large) = feed.count(bytes.length() as usize) {
            let _ = reader.cancel();
            return Err(too_large);
        }
        // One buffer for every piece: the copy out of JavaScript reuses its memory.
        piece.resize(bytes.length() as usize, 0);
        bytes.copy_to(&mut piece);
        if !feed.hand_on(&piece).await {
            let _ = reader.cancel();
            break;
        }
    }
    Ok(())
}

/// UTF-16 code units of a page's text copied into wasm at a time (at most 3 bytes each).
const TEXT_PIECE_UNITS: u32 = 256 * 1024;

/// Reads a text the page holds (`mountRowsGrid`'s `json`) into `sink` as UTF-8, a piece at a
/// time, yielding like [`read_body_stream`]: the text is never copied whole into wasm, and the
/// sink's first rows can be painted while the rest is read. Past `limit` bytes it stops.
pub async fn read_js_text(
    text: &js_sys::JsString,
    sink: &mut dyn BodySink,
    limit: usize,
) -> Result<(), ReadError> {
    let length = text.length();
    let mut feed = Feed::new(sink, limit, true);
    let mut start = 0;
    while start < length {
        let mut end = length.min(start + TEXT_PIECE_UNITS);
        // A surrogate pair stays whole: a piece never ends between its halves.
        if end < length && (0xD800..0xDC00).contains(&(text.char_code_at(end - 1) as u32)) {
            end -= 1;
        }
        let piece = String::from(text.slice(start, end));
        if !feed.give(piece.as_bytes()).await? {
            break;
        }
        start = end;
    }
    Ok(())
}

/// Pieces on their way into a sink, for every reader that hands a body over a piece at a time
/// (a body stream, a page's text, a page's row objects): each counted against the limit, handed
/// on, and then — when `yielding` — the page given its turn after the first piece and after
/// every 30 ms of work, so it can paint what the sink made of them.
pub struct Feed<'a> {
    sink: &'a mut dyn BodySink,
    limit: usize,
    read: usize,
    yielding: bool,
    first: bool,
    since: f64,
}

impl<'a> Feed<'a> {
    /// Pieces into `sink`, at most `limit` bytes of them; with `yielding`, at the page's pace.
    pub fn new(sink: &'a mut dyn BodySink, limit: usize, yielding: bool) -> Self {
        Self {
            sink,
            limit,
            read: 0,
            yielding,
            first: true,
            since: js_sys::Date::now(),
        }
    }

    /// Hands `piece` on ([`ReadError::TooLarge`] past the limit, and nothing handed on); `false`
    /// when the sink wants no more.
    pub async fn give(&mut self, piece: &[u8]) -> Result<bool, ReadError> {
        self.count(piece.len())?;
        Ok(self.hand_on(piece).await)
    }

    /// Counts `bytes` more against the limit.
    fn count(&mut self, bytes: usize) -> Result<(), ReadError> {
        self.read += bytes;
        if self.read > self.limit {
            return Err(ReadError::TooLarge);
        }
        Ok(())
    }

    /// Hands a counted piece to the sink and, if it wants more, gives the page its turn when it
    /// is time to.
    async fn hand_on(&mut self, piece: &[u8]) -> bool {
        if !self.sink.write(piece) {
            return false;
        }
        if self.yielding && (self.first || js_sys::Date::now() - self.since > 30.0) {
            self.first = false;
            next_task().await;
            self.since = js_sys::Date::now();
        }
        true
    }
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
