//! A Streamable HTTP server whose answers are JSON text the test writes out, byte for byte:
//! for what `serde_json::Value` cannot say (`1e999`, ids past `f64`, arrays for messages).

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use serde_json::value::RawValue;
use std::sync::{Arc, Mutex};

/// One POST as the server saw it.
#[derive(Debug, Clone)]
pub struct Seen {
    pub method: Option<String>,
    /// The `id` member as written.
    pub id: Option<String>,
    pub body: String,
}

/// What the server answers a request with: JSON text (sent as `application/json`), or
/// `None` for 202 Accepted with no body.
pub type Answer = dyn Fn(&Seen) -> Option<String> + Send + Sync;

struct Shared {
    answer: Box<Answer>,
    seen: Mutex<Vec<Seen>>,
}

pub struct RawServer {
    shared: Arc<Shared>,
    url: String,
}

impl RawServer {
    /// Serves `/mcp` on 127.0.0.1 until dropped with the test's runtime.
    pub async fn start(answer: impl Fn(&Seen) -> Option<String> + Send + Sync + 'static) -> Self {
        let shared = Arc::new(Shared {
            answer: Box::new(answer),
            seen: Mutex::new(Vec::new()),
        });
        let app = Router::new()
            .route(
                "/mcp",
                post(handle).get(|| async { StatusCode::METHOD_NOT_ALLOWED }),
            )
            .with_state(shared.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/mcp", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, app).await });
        RawServer { shared, url }
    }

    pub fn url(&self) -> String {
        self.url.clone()
    }

    /// Every POST so far.
    pub fn seen(&self) -> Vec<Seen> {
        self.shared.seen.lock().unwrap().clone()
    }

    /// The POSTs of one method.
    pub fn calls(&self, method: &str) -> Vec<Seen> {
        let all = self.seen();
        all.into_iter()
            .filter(|s| s.method.as_deref() == Some(method))
            .collect()
    }
}

async fn handle(State(shared): State<Arc<Shared>>, _headers: HeaderMap, body: Bytes) -> Response {
    #[derive(serde::Deserialize)]
    struct Envelope<'a> {
        method: Option<String>,
        #[serde(borrow)]
        id: Option<&'a RawValue>,
    }
    let body = String::from_utf8_lossy(&body).into_owned();
    let envelope = serde_json::from_str::<Envelope<'_>>(&body).ok();
    let seen = Seen {
        method: envelope.as_ref().and_then(|e| e.method.clone()),
        id: envelope
            .as_ref()
            .and_then(|e| e.id)
            .map(|id| id.get().to_owned()),
        body: body.clone(),
    };
    shared.seen.lock().unwrap().push(seen.clone());
    match (shared.answer)(&seen) {
        Some(text) => ([(header::CONTENT_TYPE, "application/json")], text).into_response(),
        None => StatusCode::ACCEPTED.into_response(),
    }
}

/// The answer to `initialize` an `initialize`-era server gives, for request `id` (as written).
pub fn initialize_result(id: &str) -> String {
    format!(
        r#"{{"jsonrpc":"2.0","id":{id},"result":{{"protocolVersion":"2025-06-18","capabilities":{{"tools":{{}}}},"serverInfo":{{"name":"raw","version":"1"}}}}}}"#
    )
}
