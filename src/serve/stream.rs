//! A result's rows under the statement timeout and the client's cancel request, counted for
//! the log line written when the statement ends (finished, failed, or dropped because the
//! client went away). Ending the stream early drops DataFusion's plan, which stops its tasks.

use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use datafusion_postgres::pgwire;
use futures::channel::oneshot;
use futures::future::{FutureExt, Shared};
use futures::{Stream, StreamExt};
use pgwire::api::ClientInfo;
use pgwire::api::results::QueryResponse;
use pgwire::error::{ErrorInfo, PgWireError, PgWireResult};
use pgwire::messages::data::DataRow;
use tokio::time::Sleep;

/// The server's limits on statements, and where their log lines go.
#[derive(Debug)]
pub struct Limits {
    /// The longest a statement may run, planning and streaming included; `None` for no limit.
    pub statement_timeout: Option<Duration>,
    /// One JSON line per statement on stderr.
    pub log_json: bool,
}

impl Limits {
    /// When a statement started at `started` must end: the server's timeout, or the client's
    /// `SET statement_timeout` when shorter.
    pub fn deadline<C: ClientInfo>(&self, client: &C, started: Instant) -> tokio::time::Instant {
        let client_limit = client
            .metadata()
            .get("statement_timeout_ms")
            .and_then(|ms| ms.parse::<u64>().ok())
            .filter(|&ms| ms > 0)
            .map(Duration::from_millis);
        let limit = match (self.statement_timeout, client_limit) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
        // No limit: a deadline far enough away never to matter (and not to overflow).
        let limit = limit.unwrap_or(Duration::from_secs(100 * 365 * 24 * 3600));
        tokio::time::Instant::from_std(started) + limit
    }
}

/// The error of a statement past its deadline, as PostgreSQL words it.
pub fn timed_out() -> PgWireError {
    PgWireError::UserError(Box::new(ErrorInfo::new(
        "ERROR".into(),
        "57014".into(),
        "canceling statement due to statement timeout".into(),
    )))
}

fn cancelled() -> PgWireError {
    PgWireError::UserError(Box::new(ErrorInfo::new(
        "ERROR".into(),
        "57014".into(),
        "canceling statement due to user request".into(),
    )))
}

/// A client's cancel request for the statements now running.
#[derive(Clone)]
pub struct Cancel(Shared<futures::future::BoxFuture<'static, bool>>);

impl Cancel {
    pub fn new(receiver: oneshot::Receiver<()>) -> Self {
        // Only a sent cancel counts; a dropped sender (the next query started) does not.
        Self(receiver.map(|r| r.is_ok()).boxed().shared())
    }
}

/// One statement's log line, written once.
#[derive(Clone)]
pub struct QueryLog {
    inner: Arc<Mutex<Option<LogLine>>>,
    started: Instant,
}

#[derive(serde::Serialize)]
struct LogLine {
    user: String,
    client: String,
    statement: String,
    status: String,
    rows: Option<usize>,
    duration_ms: f64,
    error: Option<String>,
}

impl QueryLog {
    pub fn new(limits: Arc<Limits>, user: String, client: String, statement: &str) -> Self {
        let line = limits.log_json.then(|| LogLine {
            user,
            client,
            statement: crate::storage::secrets::redact(statement),
            status: String::new(),
            rows: None,
            duration_ms: 0.0,
            error: None,
        });
        Self {
            inner: Arc::new(Mutex::new(line)),
            started: Instant::now(),
        }
    }

    pub fn started(&self) -> Instant {
        self.started
    }

    /// Writes the line (the first call only).
    pub fn finish(
        &self,
        status: &str,
        rows: Option<usize>,
        error: Option<&PgWireError>,
        started: Instant,
    ) {
        let Some(mut line) = self.inner.lock().ok().and_then(|mut l| l.take()) else {
            return;
        };
        line.status = status.into();
        line.rows = rows;
        line.duration_ms = started.elapsed().as_secs_f64() * 1000.0;
        line.error = error.map(|e| match e {
            PgWireError::UserError(info) => crate::storage::secrets::redact(&info.message),
            other => crate::storage::secrets::redact(&other.to_string()),
        });
        if let Ok(text) = serde_json::to_string(&line) {
            eprintln!("{text}");
        }
    }
}

/// `response` with its rows under the deadline and the cancel signal.
pub fn guard(
    mut response: QueryResponse,
    deadline: tokio::time::Instant,
    cancel: Option<Cancel>,
    log: QueryLog,
) -> QueryResponse {
    let mut rows = std::mem::replace(&mut response.data_rows, Box::pin(futures::stream::empty()));
    // The rows are made in a task of their own: an operator that computes long without
    // yielding then holds up that task, not the deadline and cancel checks here.
    let (sender, receiver) = tokio::sync::mpsc::channel(256);
    let producer = tokio::spawn(async move {
        while let Some(row) = rows.next().await {
            if sender.send(row).await.is_err() {
                break;
            }
        }
    });
    response.data_rows = Box::pin(Guarded {
        rows: receiver,
        producer,
        deadline: Box::pin(tokio::time::sleep_until(deadline)),
        cancel,
        started: log.started(),
        log,
        count: 0,
        done: false,
    });
    response
}

struct Guarded {
    rows: tokio::sync::mpsc::Receiver<PgWireResult<DataRow>>,
    producer: tokio::task::JoinHandle<()>,
    deadline: Pin<Box<Sleep>>,
    cancel: Option<Cancel>,
    log: QueryLog,
    started: Instant,
    count: usize,
    done: bool,
}

impl Guarded {
    fn end(&mut self, error: Option<PgWireError>) -> Poll<Option<PgWireResult<DataRow>>> {
        self.done = true;
        self.producer.abort();
        let status = if error.is_some() { "error" } else { "ok" };
        self.log
            .finish(status, Some(self.count), error.as_ref(), self.started);
        Poll::Ready(error.map(Err))
    }
}

impl Stream for Guarded {
    type Item = PgWireResult<DataRow>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        if self.done {
            return Poll::Ready(None);
        }
        if let Some(cancel) = self.cancel.as_mut()
            && let Poll::Ready(true) = cancel.0.poll_unpin(cx)
        {
            return self.end(Some(cancelled()));
        }
        if self.deadline.as_mut().poll(cx).is_ready() {
            return self.end(Some(timed_out()));
        }
        match self.rows.poll_recv(cx) {
            Poll::Ready(Some(Ok(row))) => {
                self.count += 1;
                Poll::Ready(Some(Ok(row)))
            }
            Poll::Ready(Some(Err(e))) => {
                let e = super::handler::map_pg(e);
                self.end(Some(e))
            }
            Poll::Ready(None) => self.end(None),
            Poll::Pending => Poll::Pending,
        }
    }
}

impl Drop for Guarded {
    fn drop(&mut self) {
        // Stops the plan at its next yield (its tasks end with it).
        self.producer.abort();
        if !self.done {
            // The client went away (or stopped reading) before the last row.
            self.log
                .finish("aborted", Some(self.count), None, self.started);
        }
    }
}
