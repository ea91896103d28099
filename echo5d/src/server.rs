//! The accept loop: HTTP/1.1 (hyper) on our own loop, so a connection that holds a socket
//! without sending a request in time is closed, and the number of connections has a ceiling.
//!
//! What closes a connection:
//! - **Header read timeout**: from the moment a connection is ready for a request (accepted,
//!   or the first byte of a keep-alive request arrived) until the request's head is complete.
//! - **Idle timeout**: a keep-alive connection that sends nothing after its last response.
//! - **Send timeout**: a client that stops reading its response (the socket accepts no
//!   byte for this long) is dropped, request in flight or not.
//! - **Body timeout**: the whole request body must arrive within this time of the head
//!   ([`DeadlineBody`]); a late body fails the request and the connection closes.
//! - **Connection cap**: at the cap, the connection that has waited longest without a request
//!   in flight (idle, or still sending its head) is closed to make room; when every connection
//!   has a request in flight, new ones wait in the kernel's backlog until one ends.
//!
//! hyper's own `header_read_timeout` is not used: its timer starts whenever the connection is
//! ready for a request, so it also runs through the idle gap between keep-alive requests and
//! the idle and header timeouts could not differ. A per-connection watchdog here knows when a
//! request is in flight (the service below counts them) and when bytes arrived.

use axum::Router;
use axum::body::Body;
use axum::http::{Request, Response};
use bytes::Bytes;
use futures_util::task::AtomicWaker;
use http_body::{Frame, SizeHint};
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper_util::rt::TokioIo;
use std::collections::HashMap;
use std::convert::Infallible;
use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicU8, AtomicU32, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{Notify, watch};
use tower::ServiceExt;

/// Timeouts and caps of the HTTP server (flags `--header-read-timeout` and the rest).
#[derive(Debug, Clone, Copy)]
pub struct ServerLimits {
    pub header_read_timeout: Duration,
    pub body_timeout: Duration,
    pub idle_timeout: Duration,
    pub send_timeout: Duration,
    /// Largest request head (request line and headers).
    pub max_header_bytes: usize,
    /// Connections per listener.
    pub max_connections: usize,
}

pub const DEFAULT_HEADER_READ_TIMEOUT: Duration = Duration::from_secs(30);
pub const DEFAULT_BODY_TIMEOUT: Duration = Duration::from_secs(60);
pub const DEFAULT_IDLE_TIMEOUT: Duration = Duration::from_secs(75);
pub const DEFAULT_SEND_TIMEOUT: Duration = Duration::from_secs(60);
pub const DEFAULT_MAX_HEADER_BYTES: usize = 32 * 1024;
pub const DEFAULT_MAX_CONNECTIONS: usize = 10_000;
/// hyper refuses a read buffer smaller than this.
const MIN_HEADER_BYTES: usize = 8192;
/// File descriptors kept for everything but connections: the database and its WAL per
/// connection, listeners, the runtime's own, SMTP, stdio.
const FD_RESERVE: u64 = 256;

impl Default for ServerLimits {
    fn default() -> Self {
        ServerLimits {
            header_read_timeout: DEFAULT_HEADER_READ_TIMEOUT,
            body_timeout: DEFAULT_BODY_TIMEOUT,
            idle_timeout: DEFAULT_IDLE_TIMEOUT,
            send_timeout: DEFAULT_SEND_TIMEOUT,
            max_header_bytes: DEFAULT_MAX_HEADER_BYTES,
            max_connections: DEFAULT_MAX_CONNECTIONS,
        }
    }
}

/// The peer of the connection a request came on (a request extension).
#[derive(Debug, Clone, Copy)]
pub struct ClientAddr(pub SocketAddr);

/// Raises the soft open-file limit to the hard one, so connections are not refused at the
/// distribution's default soft limit (often 1024) while the hard limit allows far more.
/// Returns the soft limit in force afterwards (`None`: unlimited or unknown).
pub fn raise_open_file_limit() -> Option<u64> {
    #[cfg(unix)]
    {
        use rustix::process::{Resource, getrlimit, setrlimit};
        let lim = getrlimit(Resource::Nofile);
        match (lim.current, lim.maximum) {
            (Some(cur), Some(max)) if cur < max => {
                let raised = rustix::process::Rlimit {
                    current: Some(max),
                    maximum: Some(max),
                };
                match setrlimit(Resource::Nofile, raised) {
                    Ok(()) => {
                        tracing::debug!(from = cur, to = max, "raised the open-file limit");
                        Some(max)
                    }
                    Err(e) => {
                        tracing::warn!(limit = cur, error = %e, "cannot raise the open-file limit");
                        Some(cur)
                    }
                }
            }
            (cur, _) => cur,
        }
    }
    #[cfg(not(unix))]
    None
}

/// `wanted` connections per listener, lowered so that `listeners` listeners at their cap
/// still leave [`FD_RESERVE`] descriptors under `fd_limit`.
pub fn clamp_connections(wanted: usize, fd_limit: Option<u64>, listeners: usize) -> usize {
    let Some(limit) = fd_limit else {
        return wanted.max(1);
    };
    let per_listener = limit.saturating_sub(FD_RESERVE) / listeners.max(1) as u64;
    let clamped = (wanted as u64).min(per_listener.max(16)) as usize;
    if clamped < wanted {
        tracing::warn!(
            wanted,
            clamped,
            fd_limit = limit,
            "connection cap lowered to fit the open-file limit"
        );
    }
    clamped.max(1)
}

/// Serves each router on its listener until `shutdown` resolves; then stops accepting, closes
/// connections that have no request in flight, and waits for the requests in flight.
pub async fn serve<F>(
    listeners: Vec<(TcpListener, Router)>,
    limits: ServerLimits,
    shutdown: F,
) -> io::Result<()>
where
    F: Future<Output = ()> + Send + 'static,
{
    let (stop_tx, stop_rx) = watch::channel(false);
    let builder = Arc::new(builder(&limits));
    let mut loops = Vec::new();
    let mut registries = Vec::new();
    for (listener, router) in listeners {
        let registry = Arc::new(Registry::default());
        registries.push(registry.clone());
        loops.push(tokio::spawn(accept_loop(
            listener,
            router,
            builder.clone(),
            limits,
            registry,
            stop_rx.clone(),
        )));
    }
    drop(stop_rx);
    shutdown.await;
    let _ = stop_tx.send(true);
    for l in loops {
        let _ = l.await;
    }
    // No connection is added any more: tell each to finish.
    for r in &registries {
        r.signal_all(STOP);
    }
    // Every connection task holds a receiver; this resolves when the last one has ended.
    stop_tx.closed().await;
    Ok(())
}

fn builder(limits: &ServerLimits) -> http1::Builder {
    let mut b = http1::Builder::new();
    // No timer is set, so hyper's own header timeout stays off: the watchdog below times the
    // head (see the module comment).
    b.keep_alive(true)
        .max_buf_size(limits.max_header_bytes.max(MIN_HEADER_BYTES));
    b
}

async fn accept_loop(
    listener: TcpListener,
    router: Router,
    builder: Arc<http1::Builder>,
    limits: ServerLimits,
    registry: Arc<Registry>,
    mut stop: watch::Receiver<bool>,
) {
    let max = limits.max_connections.max(1);
    let mut last_error_log: Option<Instant> = None;
    loop {
        let accepted = tokio::select! {
            a = listener.accept() => a,
            _ = stop.changed() => return,
        };
        let (stream, peer) = match accepted {
            Ok(a) => a,
            Err(e) => {
                if !is_connection_error(&e) {
                    // Out of descriptors (EMFILE/ENFILE) and the like: the pending connection
                    // stays in the backlog; back off instead of spinning on the error.
                    if last_error_log.is_none_or(|t| t.elapsed() >= Duration::from_secs(10)) {
                        tracing::error!(error = %e, "accept failed; backing off");
                        last_error_log = Some(Instant::now());
                    }
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
                continue;
            }
        };
        while registry.len() >= max {
            if registry.evict_longest_waiting() {
                break;
            }
            // Every connection has a request in flight (or has just answered one): hold this
            // one, and leave further arrivals in the kernel's backlog, until one ends or
            // settles.
            tokio::select! {
                _ = registry.freed.notified() => {}
                _ = tokio::time::sleep(SETTLE) => {}
                _ = stop.changed() => return,
            }
        }
        let (id, conn) = registry.insert();
        tokio::spawn(serve_connection(
            stream,
            peer,
            router.clone(),
            builder.clone(),
            limits,
            registry.clone(),
            id,
            conn,
            stop.clone(),
        ));
    }
}

fn is_connection_error(e: &io::Error) -> bool {
    matches!(
        e.kind(),
        io::ErrorKind::ConnectionRefused
            | io::ErrorKind::ConnectionAborted
            | io::ErrorKind::ConnectionReset
    )
}

#[allow(clippy::too_many_arguments)]
async fn serve_connection(
    stream: TcpStream,
    peer: SocketAddr,
    router: Router,
    builder: Arc<http1::Builder>,
    limits: ServerLimits,
    registry: Arc<Registry>,
    id: u64,
    state: Arc<ConnState>,
    // Held, never polled: `serve` waits for every clone to be dropped.
    stop: watch::Receiver<bool>,
) {
    let io = TokioIo::new(WatchedIo {
        inner: stream,
        state: state.clone(),
    });
    let service = ConnService {
        router,
        state: state.clone(),
        peer: ClientAddr(peer),
        body_timeout: limits.body_timeout,
    };
    let conn = builder.serve_connection(io, service);
    tokio::pin!(conn);
    // Events (a response ending, a write blocking) move the deadline without waking the
    // watchdog, which would cost a wake-up per request; it looks again at least this often
    // instead, so a deadline is noticed at most a quarter of the shortest timeout late.
    let tick = (limits
        .header_read_timeout
        .min(limits.idle_timeout)
        .min(limits.send_timeout)
        / 4)
    .max(Duration::from_millis(100));
    let next_wake = |deadline: Option<u64>, stopping: bool| {
        let tick = if stopping {
            Duration::from_millis(100)
        } else {
            tick
        };
        let soon = now_ms().saturating_add(millis(tick));
        instant_at(deadline.map_or(soon, |d| d.min(soon)))
    };
    let sleep = tokio::time::sleep_until(next_wake(state.deadline(&limits), false));
    tokio::pin!(sleep);
    let mut stopping = false;
    loop {
        tokio::select! {
            res = conn.as_mut() => {
                if let Err(e) = res {
                    tracing::trace!(error = %e, "connection ended with an error");
                }
                break;
            }
            _ = &mut sleep => {
                match state.deadline(&limits) {
                    // Past the deadline nothing is owed: no request in flight, or a client
                    // that does not read its answer. When stopping, a connection without a
                    // request in flight goes too, once its last answer has had time to
                    // leave hyper's write buffer.
                    Some(d) if now_ms() >= d || (stopping && state.settled()) => {
                        tracing::debug!(%peer, "closing a connection that sent or read nothing in time");
                        break;
                    }
                    deadline => sleep.as_mut().reset(next_wake(deadline, stopping)),
                }
            }
            signals = Signals(&state) => {
                if signals & EVICT != 0 {
                    tracing::debug!(%peer, "closing a waiting connection to make room (connection cap)");
                    break;
                }
                if signals & STOP != 0 && !stopping {
                    stopping = true;
                    conn.as_mut().graceful_shutdown();
                    // Connections without a request in flight go at once (see the sleep arm).
                    sleep.as_mut().reset(tokio::time::Instant::now());
                }
            }
        }
    }
    registry.remove(id);
    drop(stop);
}

/// Connections of one listener, for the cap.
#[derive(Default)]
struct Registry {
    conns: Mutex<HashMap<u64, Arc<ConnState>>>,
    next_id: AtomicU64,
    /// Signalled when a connection ends.
    freed: Notify,
}

impl Registry {
    fn signal_all(&self, signal: u8) {
        for c in self
            .conns
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .values()
        {
            c.signal(signal);
        }
    }

    fn len(&self) -> usize {
        self.conns.lock().unwrap_or_else(|p| p.into_inner()).len()
    }

    fn insert(&self) -> (u64, Arc<ConnState>) {
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        let state = Arc::new(ConnState::new());
        self.conns
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(id, state.clone());
        (id, state)
    }

    fn remove(&self, id: u64) {
        self.conns
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .remove(&id);
        self.freed.notify_one();
    }

    /// Closes the connection that has waited longest without a request in flight (idle, or
    /// still sending its head). `false` when every connection has a request in flight.
    fn evict_longest_waiting(&self) -> bool {
        let conns = self.conns.lock().unwrap_or_else(|p| p.into_inner());
        let victim = conns
            .values()
            .filter(|c| c.settled() && !c.evicted.load(Ordering::Relaxed))
            .min_by_key(|c| c.idle_since.load(Ordering::Relaxed));
        match victim {
            Some(c) => {
                c.evicted.store(true, Ordering::Relaxed);
                c.signal(EVICT);
                true
            }
            None => false,
        }
    }
}

/// Milliseconds on a process-wide monotonic clock.
fn epoch() -> Instant {
    static EPOCH: OnceLock<Instant> = OnceLock::new();
    *EPOCH.get_or_init(Instant::now)
}

fn now_ms() -> u64 {
    millis(epoch().elapsed())
}

fn millis(d: Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX)
}

fn instant_at(ms: u64) -> tokio::time::Instant {
    tokio::time::Instant::from_std(epoch() + Duration::from_millis(ms))
}

const NONE: u64 = u64::MAX;

/// How long after a response a connection is left alone by eviction and shutdown, so the
/// response's last bytes leave hyper's write buffer first.
const SETTLE: Duration = Duration::from_secs(1);

/// What the watchdog knows about one connection.
struct ConnState {
    /// Requests whose response has not been fully sent.
    in_flight: AtomicU32,
    /// Whether a request was ever served (then the idle timeout applies between requests).
    served: AtomicBool,
    /// When the connection last had nothing in flight (accepted, or a response ended).
    idle_since: AtomicU64,
    /// When the first byte arrived while nothing was in flight ([`NONE`] if none yet).
    first_byte: AtomicU64,
    /// Since when writes to the socket have been waiting for the client to read
    /// ([`NONE`] while they go through).
    write_blocked: AtomicU64,
    evicted: AtomicBool,
    /// [`STOP`] and [`EVICT`], for the connection's task ([`Signals`]).
    signals: AtomicU8,
    waker: AtomicWaker,
}

const STOP: u8 = 1;
const EVICT: u8 = 2;

/// The signals sent to a connection, as a future its task polls beside the connection.
/// Per connection and lock-free: it is polled at every wake-up of the task, and a shared
/// channel there (a `watch` receiver) cost a contended lock per request.
struct Signals<'a>(&'a ConnState);

impl Future for Signals<'_> {
    type Output = u8;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<u8> {
        self.0.waker.register(cx.waker());
        match self.0.signals.swap(0, Ordering::AcqRel) {
            0 => Poll::Pending,
            s => Poll::Ready(s),
        }
    }
}

impl ConnState {
    fn new() -> ConnState {
        ConnState {
            in_flight: AtomicU32::new(0),
            served: AtomicBool::new(false),
            idle_since: AtomicU64::new(now_ms()),
            first_byte: AtomicU64::new(NONE),
            write_blocked: AtomicU64::new(NONE),
            evicted: AtomicBool::new(false),
            signals: AtomicU8::new(0),
            waker: AtomicWaker::new(),
        }
    }

    fn signal(&self, signal: u8) {
        self.signals.fetch_or(signal, Ordering::AcqRel);
        self.waker.wake();
    }

    fn request_started(&self) {
        self.in_flight.fetch_add(1, Ordering::AcqRel);
        self.first_byte.store(NONE, Ordering::Relaxed);
    }

    fn request_ended(&self) {
        // Stamped before the count drops, so the watchdog never pairs "nothing in flight"
        // with the time of an earlier idle period.
        self.idle_since.store(now_ms(), Ordering::Relaxed);
        self.served.store(true, Ordering::Relaxed);
        self.in_flight.fetch_sub(1, Ordering::AcqRel);
    }

    fn bytes_arrived(&self) {
        if self.in_flight.load(Ordering::Acquire) == 0
            && self.first_byte.load(Ordering::Relaxed) == NONE
        {
            self.first_byte.store(now_ms(), Ordering::Relaxed);
        }
    }

    fn write_progress(&self, blocked: bool) {
        let was = self.write_blocked.load(Ordering::Relaxed);
        if blocked && was == NONE {
            self.write_blocked.store(now_ms(), Ordering::Relaxed);
        } else if !blocked && was != NONE {
            self.write_blocked.store(NONE, Ordering::Relaxed);
        }
    }

    /// Nothing in flight, and no response that may still sit in hyper's write buffer: none
    /// was ever sent, a new request's head has begun since, or the last one ended at least
    /// [`SETTLE`] ago.
    fn settled(&self) -> bool {
        self.in_flight.load(Ordering::Acquire) == 0
            && (!self.served.load(Ordering::Relaxed)
                || self.first_byte.load(Ordering::Relaxed) != NONE
                || now_ms().saturating_sub(self.idle_since.load(Ordering::Relaxed))
                    >= millis(SETTLE))
    }

    /// When the connection is to be closed; `None` while a request is in flight and the
    /// client reads.
    fn deadline(&self, limits: &ServerLimits) -> Option<u64> {
        let blocked = self.write_blocked.load(Ordering::Relaxed);
        let send = (blocked != NONE).then(|| blocked.saturating_add(millis(limits.send_timeout)));
        if self.in_flight.load(Ordering::Acquire) > 0 {
            return send;
        }
        let wait = self.wait_deadline(limits);
        Some(send.map_or(wait, |s| s.min(wait)))
    }

    /// The header or idle deadline of a connection with nothing in flight.
    fn wait_deadline(&self, limits: &ServerLimits) -> u64 {
        let header = millis(limits.header_read_timeout);
        let first_byte = self.first_byte.load(Ordering::Relaxed);
        if first_byte != NONE {
            return first_byte.saturating_add(header);
        }
        let since = self.idle_since.load(Ordering::Relaxed);
        // A new connection that sends nothing is a request whose head is late; a
        // keep-alive connection between requests is idle.
        let wait = if self.served.load(Ordering::Relaxed) {
            millis(limits.idle_timeout)
        } else {
            header
        };
        since.saturating_add(wait)
    }
}

/// The socket, noting when bytes arrive while no request is in flight (a head has begun).
struct WatchedIo {
    inner: TcpStream,
    state: Arc<ConnState>,
}

impl AsyncRead for WatchedIo {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let before = buf.filled().len();
        let res = Pin::new(&mut self.inner).poll_read(cx, buf);
        if matches!(res, Poll::Ready(Ok(()))) && buf.filled().len() > before {
            self.state.bytes_arrived();
        }
        res
    }
}

impl AsyncWrite for WatchedIo {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let res = Pin::new(&mut self.inner).poll_write(cx, buf);
        self.state.write_progress(res.is_pending());
        res
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let res = Pin::new(&mut self.inner).poll_write_vectored(cx, bufs);
        self.state.write_progress(res.is_pending());
        res
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}

/// The router as a hyper service for one connection: counts requests in flight, gives each
/// request its client address and a body deadline.
#[derive(Clone)]
struct ConnService {
    router: Router,
    state: Arc<ConnState>,
    peer: ClientAddr,
    body_timeout: Duration,
}

type ServiceFuture = Pin<Box<dyn Future<Output = Result<Response<Body>, Infallible>> + Send>>;

impl hyper::service::Service<Request<Incoming>> for ConnService {
    type Response = Response<Body>;
    type Error = Infallible;
    type Future = ServiceFuture;

    fn call(&self, req: Request<Incoming>) -> ServiceFuture {
        self.state.request_started();
        let guard = InFlight(self.state.clone());
        let deadline = tokio::time::Instant::now() + self.body_timeout;
        let timeout = self.body_timeout;
        let mut req = req.map(|inner| {
            Body::new(DeadlineBody {
                inner,
                deadline,
                timeout,
                sleep: None,
            })
        });
        req.extensions_mut().insert(self.peer);
        let router = self.router.clone();
        Box::pin(async move {
            let resp = router.oneshot(req).await?;
            Ok(resp.map(|inner| {
                Body::new(GuardedBody {
                    inner,
                    _guard: guard,
                })
            }))
        })
    }
}

/// Ends the request's time "in flight" when the response body is finished or dropped.
struct InFlight(Arc<ConnState>);

impl Drop for InFlight {
    fn drop(&mut self) {
        self.0.request_ended();
    }
}

struct GuardedBody {
    inner: Body,
    _guard: InFlight,
}

impl http_body::Body for GuardedBody {
    type Data = Bytes;
    type Error = axum::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, axum::Error>>> {
        Pin::new(&mut self.inner).poll_frame(cx)
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}

/// The request body did not arrive within `--body-timeout` of the request's head.
#[derive(Debug, thiserror::Error)]
#[error("the request body did not arrive within {} s", .0.as_secs_f64())]
pub struct BodyTimeout(pub Duration);

/// A request body with one deadline for all of it. tower-http's `TimeoutBody` restarts its
/// timer at every frame, so a client sending a byte just before each timeout would hold the
/// request open forever; this bounds the whole upload.
struct DeadlineBody {
    inner: Incoming,
    deadline: tokio::time::Instant,
    timeout: Duration,
    /// Made on the first wait only: bodies that arrive at once need no timer.
    sleep: Option<Pin<Box<tokio::time::Sleep>>>,
}

impl http_body::Body for DeadlineBody {
    type Data = Bytes;
    type Error = Box<dyn std::error::Error + Send + Sync>;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Self::Error>>> {
        let this = &mut *self;
        match Pin::new(&mut this.inner).poll_frame(cx) {
            Poll::Ready(frame) => Poll::Ready(frame.map(|r| r.map_err(Into::into))),
            Poll::Pending => {
                let deadline = this.deadline;
                let sleep = this
                    .sleep
                    .get_or_insert_with(|| Box::pin(tokio::time::sleep_until(deadline)));
                match sleep.as_mut().poll(cx) {
                    Poll::Ready(()) => Poll::Ready(Some(Err(Box::new(BodyTimeout(this.timeout))))),
                    Poll::Pending => Poll::Pending,
                }
            }
        }
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}

/// The [`BodyTimeout`] behind `err`, if one of its sources is one.
pub fn body_timeout_in(err: &(dyn std::error::Error + 'static)) -> Option<Duration> {
    let mut cur = Some(err);
    while let Some(e) = cur {
        if let Some(t) = e.downcast_ref::<BodyTimeout>() {
            return Some(t.0);
        }
        cur = e.source();
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn limits() -> ServerLimits {
        ServerLimits {
            header_read_timeout: Duration::from_secs(10),
            idle_timeout: Duration::from_secs(60),
            ..ServerLimits::default()
        }
    }

    #[test]
    fn deadlines_follow_the_connection_phase() {
        let l = limits();
        let c = ConnState::new();
        let accepted = c.idle_since.load(Ordering::Relaxed);
        // New and silent: the head is late after the header timeout.
        assert_eq!(c.deadline(&l), Some(accepted + 10_000));
        c.request_started();
        assert_eq!(
            c.deadline(&l),
            None,
            "no deadline while a request is in flight"
        );
        c.request_ended();
        let idle = c.idle_since.load(Ordering::Relaxed);
        assert_eq!(
            c.deadline(&l),
            Some(idle + 60_000),
            "between requests: idle timeout"
        );
        c.bytes_arrived();
        let first = c.first_byte.load(Ordering::Relaxed);
        assert_ne!(first, NONE);
        assert_eq!(c.deadline(&l), Some(first + 10_000), "a head has begun");
        c.request_started();
        assert_eq!(c.deadline(&l), None);
        c.write_progress(true);
        let blocked = c.write_blocked.load(Ordering::Relaxed);
        assert_eq!(
            c.deadline(&l),
            Some(blocked + 60_000),
            "a client that does not read its answer"
        );
        c.write_progress(false);
        assert_eq!(c.deadline(&l), None);
    }

    #[test]
    fn eviction_takes_the_longest_waiting_idle_connection() {
        let r = Registry::default();
        let (_, busy) = r.insert();
        busy.request_started();
        let (_, old) = r.insert();
        old.idle_since.store(0, Ordering::Relaxed);
        old.first_byte.store(5, Ordering::Relaxed);
        let (_, young) = r.insert();
        young.idle_since.store(10, Ordering::Relaxed);
        young.first_byte.store(15, Ordering::Relaxed);
        let (_, just_answered) = r.insert();
        just_answered.request_started();
        just_answered.request_ended();
        assert!(r.evict_longest_waiting());
        assert!(old.evicted.load(Ordering::Relaxed));
        assert!(!young.evicted.load(Ordering::Relaxed));
        assert!(r.evict_longest_waiting());
        assert!(young.evicted.load(Ordering::Relaxed));
        assert!(
            !r.evict_longest_waiting(),
            "the busy one stays, and so does one that has just answered"
        );
    }

    #[test]
    fn the_connection_cap_fits_the_descriptor_limit() {
        assert_eq!(clamp_connections(10_000, Some(1024), 1), 768);
        assert_eq!(clamp_connections(10_000, Some(1024), 2), 384);
        assert_eq!(clamp_connections(100, Some(1_048_576), 2), 100);
        assert_eq!(clamp_connections(100, None, 1), 100);
    }
}
