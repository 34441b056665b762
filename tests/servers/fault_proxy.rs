//! A TCP proxy between seglake and a store that misbehaves on command: it resets a
//! connection part-way through a reply, stalls one, trickles replies, or answers requests with
//! `503 Service Unavailable`, for the first few connections or for all of them.

use std::io::{Read, Write};
use std::net::{Shutdown, TcpStream};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

/// What the proxy does to a disturbed connection.
#[derive(Debug, Clone, Copy)]
pub enum Fault {
    /// Passes `n` bytes of the server's reply, then resets the connection (TCP RST).
    ResetAfter(usize),
    /// Passes `n` bytes of the reply, then sends nothing more while keeping the connection open.
    StallAfter(usize),
    /// Passes replies on at this many bytes per second.
    Trickle(usize),
    /// Answers the request with `503 Service Unavailable` and closes the connection.
    Unavailable,
}

/// The proxy; stops when dropped.
pub struct FaultProxy {
    pub endpoint: String,
    /// Connections still to disturb (`usize::MAX`: every one).
    left: Arc<AtomicUsize>,
    disturbed: Arc<AtomicUsize>,
    stop: Arc<AtomicBool>,
}

impl FaultProxy {
    /// Proxies to `upstream` (`http://host:port`), disturbing the first `connections` whose
    /// replies reach the fault (every one for `usize::MAX`).
    pub fn start(upstream: &str, fault: Fault, connections: usize) -> Self {
        let (upstream, listener, endpoint) = super::proxy_listener(upstream);
        listener.set_nonblocking(true).expect("non-blocking");
        let proxy = Self {
            endpoint,
            left: Arc::new(AtomicUsize::new(connections)),
            disturbed: Arc::new(AtomicUsize::new(0)),
            stop: Arc::new(AtomicBool::new(false)),
        };
        let (left, disturbed, stop) = (
            Arc::clone(&proxy.left),
            Arc::clone(&proxy.disturbed),
            Arc::clone(&proxy.stop),
        );
        std::thread::spawn(move || {
            while !stop.load(Ordering::Relaxed) {
                let client = match listener.accept() {
                    Ok((client, _)) => client,
                    Err(_) => {
                        std::thread::sleep(Duration::from_millis(5));
                        continue;
                    }
                };
                let _ = client.set_nonblocking(false);
                let connection = Connection {
                    fault,
                    left: Arc::clone(&left),
                    disturbed: Arc::clone(&disturbed),
                    stop: Arc::clone(&stop),
                };
                let upstream = upstream.clone();
                std::thread::spawn(move || connection.serve(client, &upstream));
            }
        });
        proxy
    }

    /// Connections disturbed so far.
    pub fn disturbed(&self) -> usize {
        self.disturbed.load(Ordering::Relaxed)
    }
}

impl Drop for FaultProxy {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
    }
}

struct Connection {
    fault: Fault,
    left: Arc<AtomicUsize>,
    disturbed: Arc<AtomicUsize>,
    stop: Arc<AtomicBool>,
}

impl Connection {
    /// Takes one disturbance from the budget, if any is left.
    fn take(&self) -> bool {
        let taken = self
            .left
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |left| match left {
                0 => None,
                usize::MAX => Some(usize::MAX),
                n => Some(n - 1),
            })
            .is_ok();
        if taken {
            self.disturbed.fetch_add(1, Ordering::Relaxed);
        }
        taken
    }

    fn serve(self, mut client: TcpStream, upstream: &str) {
        if matches!(self.fault, Fault::Unavailable) && self.take() {
            unavailable(&mut client);
            return;
        }
        let Ok(server) = TcpStream::connect(upstream) else {
            let _ = client.shutdown(Shutdown::Both);
            return;
        };
        if let (Ok(mut from), Ok(mut to)) = (client.try_clone(), server.try_clone()) {
            std::thread::spawn(move || {
                let _ = std::io::copy(&mut from, &mut to);
                let _ = to.shutdown(Shutdown::Write);
            });
        }
        self.reply(server, client);
    }

    /// Passes the server's reply bytes to the client, disturbing them as the fault says.
    fn reply(self, mut server: TcpStream, mut client: TcpStream) {
        let mut buffer = vec![0u8; 16 * 1024];
        let mut passed = 0usize;
        // A trickled connection is counted (and taken from the budget) when it opens.
        let mut armed = !matches!(self.fault, Fault::Trickle(_)) || self.take();
        loop {
            let n = match server.read(&mut buffer) {
                Ok(0) | Err(_) => break,
                Ok(n) => n,
            };
            let chunk = &buffer[..n];
            match self.fault {
                Fault::ResetAfter(limit) | Fault::StallAfter(limit)
                    if armed && passed + n > limit =>
                {
                    if !self.take() {
                        armed = false;
                    } else {
                        let _ = client.write_all(&chunk[..limit.saturating_sub(passed)]);
                        if matches!(self.fault, Fault::ResetAfter(_)) {
                            reset(client);
                        } else {
                            self.hold(&client);
                        }
                        let _ = server.shutdown(Shutdown::Both);
                        return;
                    }
                    if client.write_all(chunk).is_err() {
                        break;
                    }
                }
                Fault::Trickle(bytes_per_second) if armed => {
                    let step = (bytes_per_second / 20).max(1);
                    for part in chunk.chunks(step) {
                        if client.write_all(part).is_err() || self.stop.load(Ordering::Relaxed) {
                            let _ = server.shutdown(Shutdown::Both);
                            return;
                        }
                        std::thread::sleep(Duration::from_millis(50));
                    }
                }
                _ => {
                    if client.write_all(chunk).is_err() {
                        break;
                    }
                }
            }
            passed += n;
        }
        let _ = client.shutdown(Shutdown::Both);
    }

    /// Keeps the connection open and silent until the client gives up (or two minutes).
    fn hold(&self, client: &TcpStream) {
        let until = Instant::now() + Duration::from_secs(120);
        let _ = client.set_read_timeout(Some(Duration::from_millis(100)));
        let mut probe = [0u8; 1024];
        let mut reader = client;
        while Instant::now() < until && !self.stop.load(Ordering::Relaxed) {
            match reader.read(&mut probe) {
                Ok(0) => return, // the client closed its end
                Ok(_) => {}
                Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {}
                Err(e) if e.kind() == std::io::ErrorKind::TimedOut => {}
                Err(_) => return,
            }
        }
    }
}

/// Reads the request head, answers 503 and closes.
fn unavailable(client: &mut TcpStream) {
    let _ = client.set_read_timeout(Some(Duration::from_secs(5)));
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") && head.len() < 64 * 1024 {
        match client.read(&mut byte) {
            Ok(1) => head.push(byte[0]),
            _ => break,
        }
    }
    let body = "<Error><Code>ServiceUnavailable</Code><Message>Please reduce your request rate.\
                </Message></Error>";
    let reply = format!(
        "HTTP/1.1 503 Service Unavailable\r\nContent-Type: application/xml\r\n\
         Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    let _ = client.write_all(reply.as_bytes());
    let _ = client.shutdown(Shutdown::Both);
}

/// Closes with a TCP reset rather than an orderly end: SO_LINGER of zero, then the read side
/// shut so the thread copying requests drops its handle too (the socket closes, and resets,
/// when the last handle goes).
fn reset(client: TcpStream) {
    let _ = socket2::SockRef::from(&client).set_linger(Some(Duration::ZERO));
    let _ = client.shutdown(Shutdown::Read);
    drop(client);
}
