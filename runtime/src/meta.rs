//! What the macro knows about an annotated function at compile time: its [`EntityKind`] and
//! its [`EntityMeta`], a `static` the entity span, its context value and the enrichment
//! point at. A module of its own so that the context values (`context.rs`) can name the
//! meta without naming the entity span that reads them (`entity.rs`).

use opentelemetry::KeyValue;

use crate::semconv;

/// The four Traceloop entity kinds: one per attribute macro (`#[workflow]`, `#[task]`,
/// `#[agent]`, `#[tool]`).
///
/// ```
/// use llmetry::EntityKind;
/// let kinds = [EntityKind::Workflow, EntityKind::Task, EntityKind::Agent, EntityKind::Tool];
/// let names: Vec<&str> = kinds.iter().map(|k| k.as_str()).collect();
/// assert_eq!(names, ["workflow", "task", "agent", "tool"]);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum EntityKind {
    /// A top-level unit of work; names every span beneath it (`traceloop.workflow.name`).
    Workflow,
    /// A step; extends `traceloop.entity.path`.
    Task,
    /// An agent; names every span beneath it (`gen_ai.agent.name`).
    Agent,
    /// A tool an agent calls; extends `traceloop.entity.path`, sets `gen_ai.tool.name`.
    Tool,
}

impl EntityKind {
    /// The `traceloop.span.kind` value, also the suffix of the span name
    /// (`<name>.<kind>`).
    ///
    /// ```
    /// use llmetry::EntityKind;
    /// assert_eq!(EntityKind::Tool.as_str(), "tool");
    /// assert_eq!(format!("grep_logs.{}", EntityKind::Tool.as_str()), "grep_logs.tool");
    /// ```
    pub const fn as_str(self) -> &'static str {
        match self {
            EntityKind::Workflow => "workflow",
            EntityKind::Task => "task",
            EntityKind::Agent => "agent",
            EntityKind::Tool => "tool",
        }
    }

    pub(crate) fn extends_path(self) -> bool {
        matches!(self, EntityKind::Task | EntityKind::Tool)
    }
}

/// What the macro knows at compile time about one annotated function.
#[derive(Debug)]
pub struct EntityMeta {
    /// The entity kind.
    pub kind: EntityKind,
    /// The entity name.
    pub name: &'static str,
    /// `version = N` (never `Some(0)`: Python does not write version 0).
    pub version: Option<i64>,
    /// `capture_input = false` turns input capture off for this entity.
    pub capture_input: bool,
    /// `capture_output = false` turns output capture off for this entity.
    pub capture_output: bool,
    /// `new_trace`: start a new trace instead of nesting.
    pub new_trace: bool,
    /// `redact = false` skips the configured redaction (`llmetry::redact`) for this entity.
    pub redact: bool,
}

impl EntityMeta {
    /// Writes the entity's static attributes (`traceloop.span.kind`, `traceloop.entity.name`,
    /// `traceloop.entity.version`, and `gen_ai.tool.name` for a tool) on its own span.
    pub(crate) fn write_owner_attrs(&self, span: &mut opentelemetry_sdk::trace::Span) {
        use opentelemetry::trace::Span as _;
        span.set_attribute(KeyValue::new(
            semconv::TRACELOOP_SPAN_KIND,
            self.kind.as_str(),
        ));
        span.set_attribute(KeyValue::new(semconv::TRACELOOP_ENTITY_NAME, self.name));
        if let Some(v) = self.version {
            span.set_attribute(KeyValue::new(semconv::TRACELOOP_ENTITY_VERSION, v));
        }
        if self.kind == EntityKind::Tool {
            span.set_attribute(KeyValue::new(semconv::GEN_AI_TOOL_NAME, self.name));
        }
    }
}
