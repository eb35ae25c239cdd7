//! The fake OpenAI server of the Python reference capture, ported
//! (`tests/data/openai-capture/fake_openai_server.py`): the same routes, the same bodies,
//! the same SSE chunking (a role chunk, the reply in 16-character pieces, a finish chunk, a
//! usage chunk when `stream_options.include_usage`, `[DONE]`), each response on its own
//! connection. Binds 127.0.0.1 only; stops when dropped. Every request is recorded.

#![allow(dead_code)] // each test binary uses part of it

use std::sync::{Arc, Mutex, PoisonError};

use serde_json::{Value, json};
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::{TcpListener, TcpStream};

/// The reply of every chat completion (`fake_openai_server.py` `chat_body`).
pub(crate) const REPLY: &str = "Root cause: the disk on db-1 filled up at 03:12 UTC.";

/// One request as the server saw it.
#[derive(Debug, Clone)]
pub(crate) struct Recorded {
    pub(crate) path: String,
    /// Header names lower-cased, in arrival order.
    pub(crate) headers: Vec<(String, String)>,
    pub(crate) body: Value,
}

impl Recorded {
    pub(crate) fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }
}

#[derive(Default)]
struct State {
    requests: Vec<Recorded>,
    chats: u32,
}

/// The running server.
pub(crate) struct FakeOpenAi {
    port: u16,
    state: Arc<Mutex<State>>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for FakeOpenAi {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl FakeOpenAi {
    /// Binds an ephemeral port on 127.0.0.1 and serves on the current tokio runtime.
    pub(crate) async fn start() -> Self {
        let listener = TcpListener::bind(("127.0.0.1", 0)).await.expect("bind");
        let port = listener.local_addr().expect("local_addr").port();
        let state = Arc::new(Mutex::new(State::default()));
        let shared = Arc::clone(&state);
        let task = tokio::spawn(async move {
            while let Ok((conn, _)) = listener.accept().await {
                tokio::spawn(serve(conn, Arc::clone(&shared)));
            }
        });
        Self { port, state, task }
    }

    /// `http://127.0.0.1:PORT/v1/` (what the Python client's `base_url` is).
    pub(crate) fn base_url(&self) -> String {
        format!("http://127.0.0.1:{}/v1/", self.port)
    }

    pub(crate) fn port(&self) -> u16 {
        self.port
    }

    pub(crate) fn requests(&self) -> Vec<Recorded> {
        self.state
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .requests
            .clone()
    }
}

async fn serve(mut conn: TcpStream, state: Arc<Mutex<State>>) {
    let Some(req) = read_request(&mut conn).await else {
        return;
    };
    let path = req.path.split('?').next().unwrap_or_default().to_owned();
    let body = req.body.clone();
    let chat_id = {
        let mut s = state.lock().unwrap_or_else(PoisonError::into_inner);
        s.requests.push(req);
        if path.ends_with("/chat/completions") {
            s.chats += 1;
        }
        s.chats
    };
    let out = if path.ends_with("/chat/completions") {
        let chat = chat_body(chat_id);
        if body["stream"] == json!(true) {
            let include_usage = body["stream_options"]["include_usage"] == json!(true);
            return stream(conn, &chat, include_usage).await;
        }
        json_response(200, &chat)
    } else if path.ends_with("/embeddings") {
        let inputs = match &body["input"] {
            Value::Array(a) => a.len(),
            _ => 1,
        };
        let data: Vec<Value> = (0..inputs)
            .map(|i| json!({"object": "embedding", "index": i, "embedding": [0.1, 0.2, 0.3, 0.4]}))
            .collect();
        json_response(
            200,
            &json!({
                "object": "list",
                "model": body.get("model").cloned().unwrap_or(json!("text-embedding-3-small")),
                "data": data,
                "usage": {"prompt_tokens": 5 * inputs, "total_tokens": 5 * inputs},
            }),
        )
    } else {
        json_response(
            404,
            &json!({"error": {"message": format!("unknown path {path}")}}),
        )
    };
    let _ = conn.write_all(&out).await;
    let _ = conn.shutdown().await;
}

/// `fake_openai_server.py` `chat_body`.
fn chat_body(n: u32) -> Value {
    json!({
        "id": format!("chatcmpl-fake{n:04}"),
        "object": "chat.completion",
        "created": 1700000000,
        "model": "gpt-4o-mini-2024-07-18",
        "system_fingerprint": "fp_fake123",
        "service_tier": "default",
        "choices": [{
            "index": 0,
            "message": {"role": "assistant", "content": REPLY, "refusal": null},
            "logprobs": null,
            "finish_reason": "stop",
        }],
        "usage": {
            "prompt_tokens": 23,
            "completion_tokens": 12,
            "total_tokens": 35,
            "prompt_tokens_details": {"cached_tokens": 0, "audio_tokens": 0},
            "completion_tokens_details": {"reasoning_tokens": 0, "audio_tokens": 0},
        },
    })
}

fn json_response(status: u16, body: &Value) -> Vec<u8> {
    let b = body.to_string();
    format!(
        "HTTP/1.1 {status} {}\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\
         x-request-id: req_fake\r\nopenai-processing-ms: 5\r\nConnection: close\r\n\r\n{b}",
        if status == 200 { "OK" } else { "Not Found" },
        b.len()
    )
    .into_bytes()
}

/// `fake_openai_server.py` `_stream`: chunked SSE.
async fn stream(mut conn: TcpStream, chat: &Value, include_usage: bool) {
    let head = "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\n\
                Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n";
    if conn.write_all(head.as_bytes()).await.is_err() {
        return;
    }
    let mut base = serde_json::Map::new();
    for k in ["id", "created", "model", "system_fingerprint"] {
        base.insert(k.to_owned(), chat[k].clone());
    }
    base.insert("object".to_owned(), json!("chat.completion.chunk"));
    let with = |choices: Value, usage: Option<&Value>| {
        let mut c = base.clone();
        c.insert("choices".to_owned(), choices);
        if let Some(u) = usage {
            c.insert("usage".to_owned(), u.clone());
        }
        Value::Object(c)
    };
    let mut chunks = vec![with(
        json!([{"index": 0, "delta": {"role": "assistant", "content": ""}, "finish_reason": null}]),
        None,
    )];
    let text: Vec<char> = REPLY.chars().collect();
    for piece in text.chunks(16) {
        let piece: String = piece.iter().collect();
        chunks.push(with(
            json!([{"index": 0, "delta": {"content": piece}, "finish_reason": null}]),
            None,
        ));
    }
    chunks.push(with(
        json!([{"index": 0, "delta": {}, "finish_reason": "stop"}]),
        None,
    ));
    if include_usage {
        chunks.push(with(json!([]), Some(&chat["usage"])));
    }
    let mut events: Vec<String> = chunks.iter().map(|c| format!("data: {c}\n\n")).collect();
    events.push("data: [DONE]\n\n".to_owned());
    for e in events {
        let frame = format!("{:x}\r\n{e}\r\n", e.len());
        if conn.write_all(frame.as_bytes()).await.is_err() || conn.flush().await.is_err() {
            return;
        }
    }
    let _ = conn.write_all(b"0\r\n\r\n").await;
    let _ = conn.shutdown().await;
}

async fn read_request(conn: &mut TcpStream) -> Option<Recorded> {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 4096];
    let head_end = loop {
        if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break i;
        }
        let n = conn.read(&mut chunk).await.ok()?;
        if n == 0 {
            return None;
        }
        buf.extend_from_slice(&chunk[..n]);
    };
    let head = String::from_utf8_lossy(&buf[..head_end]).into_owned();
    let mut lines = head.split("\r\n");
    let path = lines.next()?.split(' ').nth(1)?.to_owned();
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_owned()))
        .collect();
    let len: usize = headers
        .iter()
        .find(|(k, _)| k == "content-length")
        .and_then(|(_, v)| v.parse().ok())
        .unwrap_or(0);
    let mut body = buf[head_end + 4..].to_vec();
    while body.len() < len {
        let n = conn.read(&mut chunk).await.ok()?;
        if n == 0 {
            break;
        }
        body.extend_from_slice(&chunk[..n]);
    }
    Some(Recorded {
        path,
        headers,
        body: serde_json::from_slice(&body).unwrap_or(Value::Null),
    })
}
