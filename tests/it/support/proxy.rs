//! `FaultProxy`: a TCP proxy of our own that sits between the bridge and a server on
//! 127.0.0.1 and breaks the network on command, in user space (this kernel has no netem).
//!
//! Faults are switched at run time, from any thread, and apply to every connection:
//!
//! - **latency** each way: each chunk read is held until its read time plus the delay, so a
//!   delay adds to every chunk without reordering them or serializing the link;
//! - **throttle**: a link of so many bytes per second each way, shared by all connections;
//! - **stall**: nothing is forwarded either way for a while, then everything resumes;
//! - **reset**: every live connection is torn down, the client side with an RST
//!   (`SO_LINGER` 0), as a middlebox or a crashed peer does it;
//! - **cut**: for a while, live connections are reset and new ones refused (the port stops
//!   listening) or reset at once; then the proxy works again on the same port.
//!
//! A stall or a reset can also be armed to fire after so many bytes from the server, which
//! puts it in the middle of an answer. The proxy owns none of the endpoints: it does not
//! know HTTP, and it forwards whatever bytes it gets. It is included by the benchmark too
//! (`#[path]`), so it depends on nothing else in the test support.

use bytes::Bytes;
use std::io;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::tcp::{ReadHalf, WriteHalf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{Notify, mpsc};
use tokio::time::{Instant, sleep_until};
use tokio_util::sync::{CancellationToken, DropGuard};

/// Largest chunk read from a socket at once.
const READ_CHUNK: usize = 16 * 1024;
/// Chunks held per direction of a connection (waiting out the latency, say) before reading
/// that side stops: the proxy's buffers are bounded, and TCP carries the backpressure.
const CHUNKS_QUEUED: usize = 256;
/// How long the proxy keeps trying to listen on its port again after a cut.
const REBIND_FOR: Duration = Duration::from_secs(5);

/// What happens to connections that arrive during a cut.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NewConnections {
    /// The port does not listen: connecting fails with "connection refused".
    Refused,
    /// The connection is accepted and reset at once.
    Reset,
}

/// A fault armed to fire after some bytes from the server.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    /// Stop forwarding for this long.
    Stall(Duration),
    /// Reset every live connection.
    Reset,
}

/// What the proxy has done so far.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Stats {
    /// Connections accepted and forwarded.
    pub forwarded: u64,
    /// Live connections torn down with an RST (by a reset or a cut).
    pub resets: u64,
    /// Connections that arrived during a cut and were reset at once.
    pub turned_away: u64,
    /// Stalls that began.
    pub stalls: u64,
    /// Bytes forwarded from clients to the server.
    pub bytes_up: u64,
    /// Bytes forwarded from the server to clients.
    pub bytes_down: u64,
}

/// The two ways through the proxy.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Direction {
    /// Client to server.
    Up = 0,
    /// Server to client.
    Down = 1,
}

/// The faults in force.
struct Faults {
    latency: Duration,
    /// Bytes per second each way; `None` for no limit.
    rate: Option<u64>,
    /// When each direction of the throttled link is free again.
    link_free: [Instant; 2],
    stalled_until: Option<Instant>,
    /// The end of the cut in progress, and what it does to new connections.
    cut: Option<(Instant, NewConnections)>,
    /// Bytes from the server still to pass before `armed` fires.
    armed: Option<(u64, Action)>,
    /// Held by every connection accepted since the last reset; cancelling it resets them.
    epoch: CancellationToken,
}

struct Shared {
    target: SocketAddr,
    faults: Mutex<Faults>,
    /// Wakes the accept loop when a cut begins, so it can stop listening.
    cut_begun: Notify,
    forwarded: AtomicU64,
    resets: AtomicU64,
    turned_away: AtomicU64,
    stalls: AtomicU64,
    bytes: [AtomicU64; 2],
}

/// A running proxy; it stops, resetting its connections, when dropped.
pub struct FaultProxy {
    /// Where clients connect.
    pub addr: SocketAddr,
    shared: Arc<Shared>,
    /// Cancels the accept loop and every connection when the proxy is dropped.
    _stop: DropGuard,
}

impl FaultProxy {
    /// Listens on 127.0.0.1:0 and forwards each connection to `target`, with no faults yet.
    pub async fn start(target: SocketAddr) -> FaultProxy {
        let listener = TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind 127.0.0.1:0");
        let addr = listener
            .local_addr()
            .expect("a bound socket has an address");
        let now = Instant::now();
        let shared = Arc::new(Shared {
            target,
            faults: Mutex::new(Faults {
                latency: Duration::ZERO,
                rate: None,
                link_free: [now, now],
                stalled_until: None,
                cut: None,
                armed: None,
                epoch: CancellationToken::new(),
            }),
            cut_begun: Notify::new(),
            forwarded: AtomicU64::new(0),
            resets: AtomicU64::new(0),
            turned_away: AtomicU64::new(0),
            stalls: AtomicU64::new(0),
            bytes: [AtomicU64::new(0), AtomicU64::new(0)],
        });
        let stop = CancellationToken::new();
        tokio::spawn(accept_loop(shared.clone(), listener, stop.clone()));
        FaultProxy {
            addr,
            shared,
            _stop: stop.drop_guard(),
        }
    }

    /// `http://` and the proxy's address, then `path`.
    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    /// Delays every chunk by `delay` in each direction (zero: no delay).
    pub fn set_latency(&self, delay: Duration) {
        self.shared.faults().latency = delay;
    }

    /// Limits the link to `bytes_per_sec` each way (`None`: no limit).
    pub fn set_rate(&self, bytes_per_sec: Option<u64>) {
        assert_ne!(bytes_per_sec, Some(0), "a rate of zero is a stall");
        let mut faults = self.shared.faults();
        faults.rate = bytes_per_sec;
        faults.link_free = [Instant::now(); 2];
    }

    /// Stops forwarding, both ways, for `how_long` from now.
    pub fn stall(&self, how_long: Duration) {
        self.shared.start_stall(how_long);
    }

    /// Fires `action` once `bytes` more bytes have gone from the server to clients.
    pub fn after_bytes(&self, bytes: u64, action: Action) {
        assert!(bytes > 0, "fire now instead");
        self.shared.faults().armed = Some((bytes, action));
    }

    /// Resets every live connection now.
    pub fn reset(&self) {
        self.shared.reset_all();
    }

    /// Resets every live connection and, for `how_long`, refuses or resets new ones.
    pub fn cut(&self, how_long: Duration, new: NewConnections) {
        self.shared.faults().cut = Some((Instant::now() + how_long, new));
        self.shared.reset_all();
        self.shared.cut_begun.notify_one();
    }

    /// Whether a cut is in progress.
    pub fn is_cut(&self) -> bool {
        self.shared.cut_in_force().is_some()
    }

    /// Ends every fault: no latency, no limit, no stall, nothing armed. A cut runs its
    /// course.
    pub fn heal(&self) {
        let mut faults = self.shared.faults();
        faults.latency = Duration::ZERO;
        faults.rate = None;
        faults.stalled_until = None;
        faults.armed = None;
    }

    pub fn stats(&self) -> Stats {
        let s = &self.shared;
        let get = |n: &AtomicU64| n.load(Ordering::Relaxed);
        Stats {
            forwarded: get(&s.forwarded),
            resets: get(&s.resets),
            turned_away: get(&s.turned_away),
            stalls: get(&s.stalls),
            bytes_up: get(&s.bytes[Direction::Up as usize]),
            bytes_down: get(&s.bytes[Direction::Down as usize]),
        }
    }
}

impl Shared {
    fn faults(&self) -> MutexGuard<'_, Faults> {
        // Nothing panics while holding the lock, so it is never poisoned.
        self.faults.lock().expect("fault lock is never poisoned")
    }

    fn reset_all(&self) {
        let mut faults = self.faults();
        let old = std::mem::replace(&mut faults.epoch, CancellationToken::new());
        old.cancel();
    }

    fn start_stall(&self, how_long: Duration) {
        self.faults().stalled_until = Some(Instant::now() + how_long);
        self.stalls.fetch_add(1, Ordering::Relaxed);
    }

    /// The cut in force, if any.
    fn cut_in_force(&self) -> Option<(Instant, NewConnections)> {
        let mut faults = self.faults();
        match faults.cut {
            Some((until, _)) if until <= Instant::now() => {
                faults.cut = None;
                None
            }
            cut => cut,
        }
    }

    /// Waits while a stall is in force.
    async fn wait_unstalled(&self) {
        loop {
            let until = self.faults().stalled_until;
            match until {
                Some(until) if until > Instant::now() => sleep_until(until).await,
                _ => return,
            }
        }
    }

    /// How much of `len` bytes from the server may go before the armed fault fires.
    fn before_trigger(&self, len: usize) -> usize {
        match self.faults().armed {
            Some((left, _)) => len.min(usize::try_from(left).unwrap_or(usize::MAX)),
            None => len,
        }
    }

    /// Counts bytes forwarded; fires the armed fault when its bytes have gone.
    fn delivered(&self, direction: Direction, len: usize) {
        self.bytes[direction as usize].fetch_add(len as u64, Ordering::Relaxed);
        if direction != Direction::Down {
            return;
        }
        let fire = {
            let mut faults = self.faults();
            match &mut faults.armed {
                Some((left, action)) => {
                    *left = left.saturating_sub(len as u64);
                    let action = *action;
                    (*left == 0).then(|| {
                        faults.armed = None;
                        action
                    })
                }
                None => None,
            }
        };
        match fire {
            Some(Action::Stall(how_long)) => self.start_stall(how_long),
            Some(Action::Reset) => self.reset_all(),
            None => {}
        }
    }

    /// When `len` bytes sent now in `direction` will have crossed the throttled link.
    fn crossed_at(&self, direction: Direction, len: usize) -> Option<Instant> {
        let mut faults = self.faults();
        let rate = faults.rate?;
        let free = &mut faults.link_free[direction as usize];
        let start = (*free).max(Instant::now());
        *free = start + Duration::from_secs_f64(len as f64 / rate as f64);
        Some(*free)
    }

    /// The largest piece written at once: a twentieth of a second's worth when throttled.
    fn piece(&self, len: usize) -> usize {
        match self.faults().rate {
            Some(rate) => len.min(usize::try_from(rate / 20).unwrap_or(usize::MAX).max(1)),
            None => len,
        }
    }
}

async fn accept_loop(shared: Arc<Shared>, mut listener: TcpListener, stop: CancellationToken) {
    let addr = listener
        .local_addr()
        .expect("a bound socket has an address");
    loop {
        if let Some((until, NewConnections::Refused)) = shared.cut_in_force() {
            drop(listener);
            tokio::select! {
                _ = stop.cancelled() => return,
                _ = sleep_until(until) => {}
            }
            listener = rebind(addr).await;
            continue;
        }
        let accepted = tokio::select! {
            _ = stop.cancelled() => return,
            _ = shared.cut_begun.notified() => continue,
            accepted = listener.accept() => accepted,
        };
        let Ok((client, _)) = accepted else { continue };
        if shared.cut_in_force().is_some() {
            shared.turned_away.fetch_add(1, Ordering::Relaxed);
            reset_socket(client);
            continue;
        }
        let epoch = shared.faults().epoch.clone();
        tokio::spawn(serve(shared.clone(), client, epoch, stop.clone()));
    }
}

/// Listens on `addr` again after a cut; another socket may hold the port for a moment.
async fn rebind(addr: SocketAddr) -> TcpListener {
    let deadline = Instant::now() + REBIND_FOR;
    loop {
        match TcpListener::bind(addr).await {
            Ok(listener) => return listener,
            Err(e) if Instant::now() > deadline => {
                panic!("the proxy could not listen on {addr} again after a cut: {e}")
            }
            Err(_) => tokio::time::sleep(Duration::from_millis(20)).await,
        }
    }
}

/// Closes a socket with an RST instead of a FIN.
fn reset_socket(stream: TcpStream) {
    // If SO_LINGER cannot be set the close is a FIN; the peer still loses the connection.
    let _ = stream.set_zero_linger();
    drop(stream);
}

/// Forwards one connection until both sides are done, an error, a reset or the stop.
async fn serve(
    shared: Arc<Shared>,
    mut client: TcpStream,
    epoch: CancellationToken,
    stop: CancellationToken,
) {
    let Ok(mut server) = TcpStream::connect(shared.target).await else {
        reset_socket(client);
        return;
    };
    shared.forwarded.fetch_add(1, Ordering::Relaxed);
    // Small writes go out at once, as they came in.
    let _ = client.set_nodelay(true);
    let _ = server.set_nodelay(true);
    let ended = {
        let (from_client, to_client) = client.split();
        let (from_server, to_server) = server.split();
        let up = pump(&shared, &epoch, from_client, to_server, Direction::Up);
        let down = pump(&shared, &epoch, from_server, to_client, Direction::Down);
        tokio::select! {
            _ = epoch.cancelled() => Err(()),
            _ = stop.cancelled() => Err(()),
            r = async { tokio::try_join!(up, down) } => r.map(|_| ()).map_err(|_| ()),
        }
    };
    if ended.is_err() {
        // A fault, or one side failed: neither side may mistake the end for a clean one.
        if epoch.is_cancelled() {
            shared.resets.fetch_add(1, Ordering::Relaxed);
        }
        reset_socket(client);
        reset_socket(server);
    }
}

/// Copies one direction of a connection with the faults in force; ends at end of file
/// (passing it on as a half-close), at the first error, or when `epoch` is reset.
async fn pump(
    shared: &Shared,
    epoch: &CancellationToken,
    mut from: ReadHalf<'_>,
    mut to: WriteHalf<'_>,
    direction: Direction,
) -> io::Result<()> {
    // Read chunks wait here, stamped with the time they may leave.
    let (chunk_tx, mut chunk_rx) = mpsc::channel::<(Instant, Bytes)>(CHUNKS_QUEUED);
    let read = async move {
        let mut buf = vec![0; READ_CHUNK];
        loop {
            let n = from.read(&mut buf).await?;
            if n == 0 {
                return Ok::<_, io::Error>(());
            }
            let due = Instant::now() + shared.faults().latency;
            let chunk = Bytes::copy_from_slice(&buf[..n]);
            if chunk_tx.send((due, chunk)).await.is_err() {
                return Ok(());
            }
        }
    };
    let write = async {
        while let Some((due, mut chunk)) = chunk_rx.recv().await {
            sleep_until(due).await;
            while !chunk.is_empty() {
                shared.wait_unstalled().await;
                let mut len = shared.piece(chunk.len());
                if direction == Direction::Down {
                    len = shared.before_trigger(len);
                }
                let piece = chunk.split_to(len);
                if let Some(crossed) = shared.crossed_at(direction, piece.len()) {
                    sleep_until(crossed).await;
                }
                if epoch.is_cancelled() {
                    // Reset by a fault that fired in this very poll: not one byte more.
                    return Err(io::ErrorKind::ConnectionReset.into());
                }
                to.write_all(&piece).await?;
                shared.delivered(direction, piece.len());
            }
        }
        to.shutdown().await
    };
    tokio::try_join!(read, write).map(|_| ())
}
