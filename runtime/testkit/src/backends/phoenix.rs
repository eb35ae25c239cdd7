//! Arize Phoenix (PyPI `arize-phoenix`, pinned in `.ci/install-backends`) as a child
//! process: `phoenix serve` on `127.0.0.1` with OTLP/HTTP at [`Phoenix::http_endpoint`]
//! (`/v1/traces`, http/protobuf only) and OTLP/gRPC at [`Phoenix::grpc_endpoint`]; traces
//! only. Spans are read back through its REST API (`/v1/projects/{project}/spans`) and its
//! sessions through GraphQL (`/graphql`).
//!
//! Phoenix routes a trace to the project named by the resource attribute
//! `openinference.project.name` (`default` without it), so each test can use its own
//! project on one shared server.

use std::time::Duration;

use serde_json::{Value, json};

use super::{
    BackendSpan, Server, answers_ok, free_ports, fresh_dir, http_client, installed, json_of,
    one_start_at_a_time,
};

/// The resource attribute Phoenix routes traces to projects by.
pub const PROJECT_ATTRIBUTE: &str = "openinference.project.name";

/// A running Phoenix server with a fresh working directory (its SQLite database); stopped
/// (its process group) on drop.
#[derive(Debug)]
pub struct Phoenix {
    server: Server,
    http_base: String,
    grpc_base: String,
    client: reqwest::blocking::Client,
}

impl Phoenix {
    /// Starts Phoenix on free `127.0.0.1` ports and returns once `/healthz` answers 200
    /// (30–45 s on a loaded 2-core machine: most of it is Python importing Phoenix).
    ///
    /// Errors when Phoenix is not installed (run `.ci/install-backends`), exits early or is
    /// not healthy within [`START_TIMEOUT`](super::START_TIMEOUT); the message carries its
    /// log.
    pub fn start() -> Result<Phoenix, String> {
        let program = installed("phoenix", "phoenix")?;
        let _one_at_a_time = one_start_at_a_time();
        let [http, grpc] = free_ports::<2>()?;
        let dir = fresh_dir("phoenix")?;
        let envs = [
            ("PHOENIX_HOST", "127.0.0.1".to_owned()),
            ("PHOENIX_PORT", http.port().to_string()),
            ("PHOENIX_GRPC_PORT", grpc.port().to_string()),
            ("PHOENIX_WORKING_DIR", dir.display().to_string()),
            // No network here, and none of Phoenix's business.
            ("PHOENIX_TELEMETRY_ENABLED", "false".to_owned()),
        ]
        .map(|(k, v)| (k.to_owned(), v));
        let mut server = Server::spawn("phoenix", &program, &["serve".to_owned()], &envs, dir)?;
        let client = http_client();
        let http_base = format!("http://{http}");
        let health = format!("{http_base}/healthz");
        server.wait_ready(|| answers_ok(&client, &health))?;
        Ok(Phoenix {
            server,
            http_base,
            grpc_base: format!("http://{grpc}"),
            client,
        })
    }

    /// The OTLP/HTTP base URL, `http://127.0.0.1:PORT` (traces at `/v1/traces`; it is also
    /// the UI and the REST API).
    pub fn http_endpoint(&self) -> &str {
        &self.http_base
    }

    /// The OTLP/gRPC endpoint, `http://127.0.0.1:PORT`.
    pub fn grpc_endpoint(&self) -> &str {
        &self.grpc_base
    }

    /// The server process group and its working directory.
    pub fn server(&self) -> &Server {
        &self.server
    }

    /// From spawning to healthy.
    pub fn started_in(&self) -> Duration {
        self.server.started_in()
    }

    /// Every span of `project` (an empty list when the project does not exist yet).
    pub fn spans(&self, project: &str) -> Result<Vec<BackendSpan>, String> {
        let mut spans = Vec::new();
        let mut cursor: Option<String> = None;
        loop {
            let mut request = self
                .client
                .get(format!("{}/v1/projects/{project}/spans", self.http_base))
                .query(&[("limit", "1000")]);
            if let Some(c) = &cursor {
                request = request.query(&[("cursor", c.as_str())]);
            }
            let response = request
                .send()
                .map_err(|e| format!("phoenix spans of {project}: {e}"))?;
            if response.status() == reqwest::StatusCode::NOT_FOUND {
                return Ok(spans);
            }
            let page = json_of(&format!("phoenix spans of {project}"), Ok(response))?;
            for s in page["data"].as_array().into_iter().flatten() {
                spans.push(span(s)?);
            }
            match page["next_cursor"].as_str() {
                Some(c) if !c.is_empty() => cursor = Some(c.to_owned()),
                _ => return Ok(spans),
            }
        }
    }

    /// The sessions Phoenix shows for `project` (its Sessions tab): `(session id, number of
    /// traces)`, through GraphQL.
    pub fn sessions(&self, project: &str) -> Result<Vec<(String, i64)>, String> {
        let Some(id) = self.project_id(project)? else {
            return Ok(Vec::new());
        };
        let query = "query($id: ID!) { node(id: $id) { ... on Project { \
                     sessions(first: 100) { edges { node { sessionId numTraces } } } } } }";
        let body = self.graphql(query, json!({ "id": id }))?;
        let edges = body["data"]["node"]["sessions"]["edges"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        Ok(edges
            .iter()
            .map(|e| {
                (
                    e["node"]["sessionId"]
                        .as_str()
                        .unwrap_or_default()
                        .to_owned(),
                    e["node"]["numTraces"].as_i64().unwrap_or_default(),
                )
            })
            .collect())
    }

    /// The GraphQL id of `project`, `None` when it does not exist.
    fn project_id(&self, project: &str) -> Result<Option<String>, String> {
        let page = json_of(
            "phoenix projects",
            self.client
                .get(format!("{}/v1/projects", self.http_base))
                .send(),
        )?;
        Ok(page["data"]
            .as_array()
            .into_iter()
            .flatten()
            .find(|p| p["name"] == project)
            .and_then(|p| p["id"].as_str())
            .map(str::to_owned))
    }

    /// A GraphQL query; errors name the query's errors.
    fn graphql(&self, query: &str, variables: Value) -> Result<Value, String> {
        let body = json_of(
            "phoenix graphql",
            self.client
                .post(format!("{}/graphql", self.http_base))
                .json(&json!({ "query": query, "variables": variables }))
                .send(),
        )?;
        match body.get("errors") {
            Some(errors) if !errors.is_null() => Err(format!("phoenix graphql: {errors}")),
            _ => Ok(body),
        }
    }
}

/// One span of Phoenix's REST answer.
fn span(s: &Value) -> Result<BackendSpan, String> {
    let text = |v: &Value| v.as_str().map(str::to_owned);
    let missing = |what: &str| format!("phoenix span without {what}: {s}");
    Ok(BackendSpan {
        name: text(&s["name"]).ok_or_else(|| missing("name"))?,
        trace_id: text(&s["context"]["trace_id"]).ok_or_else(|| missing("trace_id"))?,
        span_id: text(&s["context"]["span_id"]).ok_or_else(|| missing("span_id"))?,
        parent_id: text(&s["parent_id"]),
        kind: text(&s["span_kind"]).unwrap_or_default(),
        status: text(&s["status_code"]).unwrap_or_default(),
        attributes: s["attributes"].as_object().cloned().unwrap_or_default(),
    })
}
