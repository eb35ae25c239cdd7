//! MLflow (PyPI `mlflow`, pinned in `.ci/install-backends`) as a child process: a tracking
//! server on `127.0.0.1` with a SQLite store in a fresh directory, its OTLP/HTTP traces
//! endpoint at `/v1/traces` (http/protobuf and http/json; no gRPC, no metrics, no logs),
//! which wants the experiment in the `x-mlflow-experiment-id` header
//! ([`EXPERIMENT_HEADER`]). Traces are read back through its REST API
//! (`/api/3.0/mlflow/traces/search` and `/api/3.0/mlflow/traces/get`).
//!
//! Started with `MLFLOW_SERVER_ENABLE_JOB_EXECUTION=false` and `--workers 1`: by default
//! MLflow 3.17 also starts a job runner and seven huey consumers, which on 2 cores slow
//! everything down (docs/backends.md).

use std::time::Duration;

use base64::Engine;
use serde_json::{Map, Value, json};

use super::{
    BackendSpan, Server, answers_ok, free_ports, fresh_dir, http_client, installed, json_of,
    one_start_at_a_time,
};

/// The header naming the experiment a trace export goes to (MLflow answers 422 without).
pub const EXPERIMENT_HEADER: &str = "x-mlflow-experiment-id";

/// A running MLflow tracking server; stopped (its process group) on drop.
#[derive(Debug)]
pub struct Mlflow {
    server: Server,
    base: String,
    client: reqwest::blocking::Client,
}

/// One trace as MLflow shows it: its id (`tr-<hex>`), state (`OK`, `ERROR`,
/// `IN_PROGRESS`), trace metadata (`mlflow.trace.user`, `mlflow.trace.session`,
/// `mlflow.trace.tokenUsage`, …), tags and spans.
#[derive(Debug, Clone)]
pub struct MlflowTrace {
    /// `tr-<trace id hex>`.
    pub id: String,
    /// `OK`, `ERROR` or `IN_PROGRESS` (a trace whose root span has not arrived).
    pub state: String,
    /// The trace metadata (`trace_metadata`).
    pub metadata: Map<String, Value>,
    /// The trace tags (resource attributes land here too).
    pub tags: Map<String, Value>,
    /// Its spans; `kind` is MLflow's `mlflow.spanType` (`WORKFLOW`, `TASK`, `CHAT_MODEL`, …).
    pub spans: Vec<BackendSpan>,
}

impl MlflowTrace {
    /// The metadata entry `key` as text.
    pub fn meta(&self, key: &str) -> Option<&str> {
        self.metadata.get(key).and_then(Value::as_str)
    }
}

impl Mlflow {
    /// Starts an MLflow tracking server on a free `127.0.0.1` port with a fresh SQLite
    /// store and returns once `/health` answers 200 (about 25 s on a loaded 2-core machine).
    ///
    /// Errors when MLflow is not installed (run `.ci/install-backends`), exits early or is
    /// not healthy within [`START_TIMEOUT`](super::START_TIMEOUT); the message carries its
    /// log.
    pub fn start() -> Result<Mlflow, String> {
        let program = installed("mlflow", "mlflow")?;
        let _one_at_a_time = one_start_at_a_time();
        let [addr] = free_ports::<1>()?;
        let dir = fresh_dir("mlflow")?;
        let args = [
            "server".to_owned(),
            "--backend-store-uri".to_owned(),
            format!("sqlite:///{}", dir.join("mlflow.db").display()),
            "--default-artifact-root".to_owned(),
            dir.join("artifacts").display().to_string(),
            "--host".to_owned(),
            "127.0.0.1".to_owned(),
            "--port".to_owned(),
            addr.port().to_string(),
            "--workers".to_owned(),
            "1".to_owned(),
        ];
        let envs = [
            ("MLFLOW_SERVER_ENABLE_JOB_EXECUTION", "false"),
            // No network here, and none of MLflow's business.
            ("MLFLOW_DISABLE_TELEMETRY", "true"),
            ("DO_NOT_TRACK", "true"),
        ]
        .map(|(k, v)| (k.to_owned(), v.to_owned()));
        let mut server = Server::spawn("mlflow", &program, &args, &envs, dir)?;
        let client = http_client();
        let base = format!("http://{addr}");
        let health = format!("{base}/health");
        server.wait_ready(|| answers_ok(&client, &health))?;
        Ok(Mlflow {
            server,
            base,
            client,
        })
    }

    /// The server's base URL, `http://127.0.0.1:PORT` (the UI, the REST API, and OTLP/HTTP
    /// traces at `/v1/traces`).
    pub fn endpoint(&self) -> &str {
        &self.base
    }

    /// The OTLP/HTTP traces URL, `http://127.0.0.1:PORT/v1/traces`.
    pub fn traces_endpoint(&self) -> String {
        format!("{}/v1/traces", self.base)
    }

    /// The server process group and its working directory.
    pub fn server(&self) -> &Server {
        &self.server
    }

    /// From spawning to healthy.
    pub fn started_in(&self) -> Duration {
        self.server.started_in()
    }

    /// Creates the experiment `name`; returns its id.
    pub fn create_experiment(&self, name: &str) -> Result<String, String> {
        let body = json_of(
            &format!("mlflow: create experiment {name}"),
            self.client
                .post(format!("{}/api/2.0/mlflow/experiments/create", self.base))
                .json(&json!({ "name": name }))
                .send(),
        )?;
        body["experiment_id"]
            .as_str()
            .map(str::to_owned)
            .ok_or_else(|| format!("mlflow: create experiment {name}: no id in {body}"))
    }

    /// Every trace of the experiment `experiment_id`, with its spans (also those of a
    /// trace still `IN_PROGRESS`).
    pub fn traces(&self, experiment_id: &str) -> Result<Vec<MlflowTrace>, String> {
        let what = format!("mlflow: traces of experiment {experiment_id}");
        let mut traces = Vec::new();
        let mut token: Option<String> = None;
        loop {
            let mut request = json!({
                "locations": [{
                    "type": "MLFLOW_EXPERIMENT",
                    "mlflow_experiment": { "experiment_id": experiment_id }
                }],
                "max_results": 500,
            });
            if let Some(t) = &token {
                request["page_token"] = json!(t);
            }
            let page = json_of(
                &what,
                self.client
                    .post(format!("{}/api/3.0/mlflow/traces/search", self.base))
                    .json(&request)
                    .send(),
            )?;
            for info in page["traces"].as_array().into_iter().flatten() {
                let id = info["trace_id"]
                    .as_str()
                    .ok_or_else(|| format!("{what}: a trace without trace_id: {info}"))?;
                traces.push(self.trace(id)?);
            }
            match page["next_page_token"].as_str() {
                Some(t) if !t.is_empty() => token = Some(t.to_owned()),
                _ => return Ok(traces),
            }
        }
    }

    /// The trace `id` (`tr-<hex>`) with its spans.
    pub fn trace(&self, id: &str) -> Result<MlflowTrace, String> {
        let what = format!("mlflow: trace {id}");
        let body = json_of(
            &what,
            self.client
                .get(format!("{}/api/3.0/mlflow/traces/get", self.base))
                .query(&[("trace_id", id), ("allow_partial", "true")])
                .send(),
        )?;
        let trace = &body["trace"];
        let info = &trace["trace_info"];
        let object = |v: &Value| v.as_object().cloned().unwrap_or_default();
        let spans = trace["spans"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|s| span(s).map_err(|e| format!("{what}: {e}")))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(MlflowTrace {
            id: id.to_owned(),
            state: info["state"].as_str().unwrap_or_default().to_owned(),
            metadata: object(&info["trace_metadata"]),
            tags: object(&info["tags"]),
            spans,
        })
    }
}

/// One span of MLflow's answer: OTLP-shaped JSON with base64 ids and `AnyValue`
/// attributes (MLflow stores attribute values as JSON, so a JSON string sent comes back as
/// the structure it held).
fn span(s: &Value) -> Result<BackendSpan, String> {
    let id = |key: &str| -> Result<Option<String>, String> {
        match s[key].as_str() {
            None | Some("") => Ok(None),
            Some(b64) => base64::engine::general_purpose::STANDARD
                .decode(b64)
                .map(|bytes| Some(bytes.iter().map(|b| format!("{b:02x}")).collect()))
                .map_err(|e| format!("{key} {b64:?} is not base64: {e}")),
        }
    };
    let mut attributes = Map::new();
    for kv in s["attributes"].as_array().into_iter().flatten() {
        if let Some(key) = kv["key"].as_str() {
            attributes.insert(key.to_owned(), any_value(&kv["value"]));
        }
    }
    let status = match s["status"]["code"].as_str() {
        Some("STATUS_CODE_ERROR") => "ERROR",
        Some("STATUS_CODE_OK") => "OK",
        _ => "UNSET",
    };
    Ok(BackendSpan {
        name: s["name"].as_str().unwrap_or_default().to_owned(),
        trace_id: id("trace_id")?.ok_or_else(|| format!("a span without trace_id: {s}"))?,
        span_id: id("span_id")?.ok_or_else(|| format!("a span without span_id: {s}"))?,
        parent_id: id("parent_span_id")?,
        kind: attributes
            .get("mlflow.spanType")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned(),
        status: status.to_owned(),
        attributes,
    })
}

/// An OTLP `AnyValue` in proto-JSON form as plain JSON.
fn any_value(v: &Value) -> Value {
    if let Some(s) = v.get("string_value") {
        return s.clone();
    }
    if let Some(b) = v.get("bool_value") {
        return b.clone();
    }
    if let Some(n) = v.get("int_value") {
        // int64 may come as a string in proto JSON.
        return match n {
            Value::String(s) => s.parse::<i64>().map(Value::from).unwrap_or(n.clone()),
            _ => n.clone(),
        };
    }
    if let Some(d) = v.get("double_value") {
        return d.clone();
    }
    if let Some(a) = v.get("array_value") {
        return Value::Array(
            a["values"]
                .as_array()
                .into_iter()
                .flatten()
                .map(any_value)
                .collect(),
        );
    }
    if let Some(kv) = v.get("kvlist_value") {
        let mut map = Map::new();
        for e in kv["values"].as_array().into_iter().flatten() {
            if let Some(k) = e["key"].as_str() {
                map.insert(k.to_owned(), any_value(&e["value"]));
            }
        }
        return Value::Object(map);
    }
    v.get("bytes_value").cloned().unwrap_or(Value::Null)
}
