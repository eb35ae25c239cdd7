"""CPU time per decorated call: Traceloop's Python `@task` next to llmetry's `#[task]`, on the
same work, in the same pipeline shape (a batch span processor with an exporter that discards).

The work: a function taking the prompt "a haiku about OpenTelemetry" and returning its length.
Each side runs as a child process that warms up (200 calls), then measures the process's CPU
time (user + system, every thread: the caller's and the batch exporter's) around N calls and a
flush of the span pipeline, and prints it (`cpu_seconds=…`). CPU time per call = that / N; the
median of `--repeat` child runs is reported. Start-up, imports and `init()` are outside the
measurement on both sides.

    # Python side: traceloop-sdk 0.62.4 in a scratch venv (see BENCHMARKS.md for the install)
    /tmp/venv/bin/python runtime/benches/python/task_cpu.py \
        --rust target/release/deps/entity_icount-<hash>

Workloads: `task_on` (content capture on: input and output recorded, the default on both
sides), `task_off` (Python: TRACELOOP_TRACE_CONTENT=false; Rust: capture_input/output = false),
`plain` (the undecorated function).
"""

import argparse
import os
import statistics
import subprocess
import sys

PROMPT = "a haiku about OpenTelemetry"


def python_child(workload: str, iterations: int) -> None:
    """Runs in the child: init Traceloop like an app would, then call the function N times."""
    from opentelemetry.sdk.trace.export import SpanExporter, SpanExportResult

    class Discard(SpanExporter):
        def export(self, spans):
            return SpanExportResult.SUCCESS

        def shutdown(self):
            pass

    from traceloop.sdk import Traceloop
    from traceloop.sdk.decorators import task

    Traceloop.init(
        app_name="bench",
        exporter=Discard(),
        disable_batch=False,  # BatchSpanProcessor, as llmetry's default
        telemetry_enabled=False,
    )

    @task(name="bench_on")
    def decorated(prompt: str) -> int:
        return len(prompt)

    def plain(prompt: str) -> int:
        return len(prompt)

    import time

    from opentelemetry import trace

    fn = plain if workload == "plain" else decorated
    for _ in range(200):  # warm-up, as the Rust side does
        fn(PROMPT)
    trace.get_tracer_provider().force_flush()
    start = time.process_time()
    total = 0
    for _ in range(iterations):
        total += fn(PROMPT)
    trace.get_tracer_provider().force_flush()
    cpu = time.process_time() - start
    print(workload, iterations, total)
    print(f"cpu_seconds={cpu:.6f}")


def child_cpu(cmd, env) -> float:
    """The `cpu_seconds=` a child prints for its measured calls."""
    out = subprocess.run(cmd, env=env, check=True, capture_output=True, text=True).stdout
    for line in out.splitlines():
        if line.startswith("cpu_seconds="):
            return float(line.split("=", 1)[1])
    raise SystemExit(f"no cpu_seconds= line from {cmd}: {out!r}")


def per_call(make_cmd, env, iterations: int, repeat: int) -> float:
    return statistics.median(child_cpu(make_cmd(iterations), env) / iterations for _ in range(repeat))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--child", nargs=2, metavar=("WORKLOAD", "N"), help=argparse.SUPPRESS)
    ap.add_argument("--rust", help="the entity_icount bench executable (bench profile)")
    ap.add_argument("--py-iterations", type=int, default=20_000)
    ap.add_argument("--rust-iterations", type=int, default=1_000_000)
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    if args.child:
        python_child(args.child[0], int(args.child[1]))
        return

    base_env = {k: v for k, v in os.environ.items() if not k.startswith(("TRACELOOP_", "OTEL_"))}
    results = {}
    for workload, content in (("task_on", "true"), ("task_off", "false"), ("plain", "true")):
        env = dict(
            base_env,
            TRACELOOP_TRACE_CONTENT=content,
            TRACELOOP_TELEMETRY="false",
            TRACELOOP_METRICS_ENABLED="false",
        )
        py = per_call(
            lambda n: [sys.executable, __file__, "--child", workload, str(n)],
            env,
            args.py_iterations,
            args.repeat,
        )
        results[("python", workload)] = py
        if args.rust:
            rs = per_call(lambda n: [args.rust, workload, str(n)], base_env, args.rust_iterations, args.repeat)
            results[("rust", workload)] = rs
    print(f"{'workload':<10} {'python µs/call':>15} {'rust µs/call':>13} {'python / rust':>14}")
    for workload in ("task_on", "task_off", "plain"):
        py = results[("python", workload)] * 1e6
        rs = results.get(("rust", workload))
        if rs is None:
            print(f"{workload:<10} {py:>15.2f}")
            continue
        rs *= 1e6
        ratio = py / rs if rs > 0 else float("inf")
        print(f"{workload:<10} {py:>15.2f} {rs:>13.3f} {ratio:>13.0f}×")


if __name__ == "__main__":
    main()
