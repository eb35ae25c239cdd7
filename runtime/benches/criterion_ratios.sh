#!/usr/bin/env bash
# Prints criterion's median of every benchmark of `benches/entity.rs` and its ratio to the
# reference of its group (the plain call before init; `#[tracing::instrument]` after), all
# from one run, so the ratios hold when the machine is noisy.
#
#   cargo bench -p llmetry --bench entity && runtime/benches/criterion_ratios.sh [target-dir]
set -euo pipefail
dir="${1:-$(dirname "$0")/../../target}/criterion"

median() { # ns
    sed -n 's/.*"median":{[^}]*}[^}]*"point_estimate":\([0-9.e+-]*\).*/\1/p' "$dir/$1/new/estimates.json"
}

row() { # group bench reference
    local m r
    m=$(median "$1/$2") || return 0
    r=$(median "$1/$3")
    awk -v g="$1" -v b="$2" -v m="$m" -v r="$r" -v ref="$3" \
        'BEGIN { printf "%-12s %-30s %12.1f ns %8.2fx %s\n", g, b, m, m / r, ref }'
}

printf '%-12s %-30s %15s %9s %s\n' group benchmark median ratio "vs"
for b in plain task async_plain async_task; do row before_init "$b" plain; done
for b in plain task_capture_off task_capture_on tracing_instrument tracing_instrument_skip_all raw_otel_span; do
    row sync "$b" tracing_instrument
done
for b in task_capture_off; do row sync "$b" tracing_instrument_skip_all; done
for b in plain task_capture_off task_capture_on tracing_instrument tracing_instrument_skip_all; do
    row async "$b" tracing_instrument
done
for b in task_capture_off; do row async "$b" tracing_instrument_skip_all; done
