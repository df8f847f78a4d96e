"""The files `ragstage bench` writes: bench.md (tables), bench.json (every raw measurement),
and PNG charts, all in one folder so a run can be attached to a slide deck or a pull request."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from ragstage.evaluation import charts
from ragstage.evaluation.bench import BenchConfig, TargetRun
from ragstage.evaluation.bench_summary import TargetSummary
from ragstage.evaluation.reports import fmt, fmt_share, fmt_usd, machine_info, table, utc_now, write_json

CHARTS = {
    "latency": ("bench-latency.png", charts.latency_chart),
    "decomposition": ("bench-decomposition.png", charts.decomposition_chart),
    "throughput": ("bench-throughput.png", charts.throughput_chart),
}


def config_json(config: BenchConfig, targets: Sequence[str]) -> dict[str, Any]:
    return {
        "targets": list(targets),
        "rounds": config.rounds,
        "warmup_answers": config.warmup_answers,
        "max_tokens": config.max_tokens,
        "temperature": 0.0,
        "prompts": [{"id": p.prompt_id, "question": p.question} for p in config.prompts],
    }


def _p(dist: Any, key: str, scale: float = 1.0) -> str:
    return "-" if dist is None else fmt(getattr(dist, key) / scale, 2 if scale > 1 else 0)


def _peak(summary: TargetSummary) -> str:
    peaks = [f"{role} {fmt(mb)}" for role, mb in summary.peak_rss_mb.items() if mb is not None]
    return ", ".join(peaks) or "-"


def _summary_rows(summaries: Sequence[TargetSummary]) -> list[list[str]]:
    return [
        [
            s.target, "; ".join(s.models.values()) or "-", s.status, f"{s.answers}/{s.answers + s.failed}",
            fmt(s.cold_start_s, 1), _p(s.ttft_ms, "p50"), _p(s.ttft_ms, "p95"),
            _p(s.total_ms, "p50"), _p(s.total_ms, "p95"), fmt(s.decode_tokens_per_s_p50, 1),
            f"{fmt(s.prompt_tokens_mean)} / {fmt(s.completion_tokens_mean)}", _peak(s),
            fmt_usd(s.cost_per_answer_usd), fmt_usd(s.cost_per_1k_answers_usd), fmt(s.load_average_1m, 1),
        ]
        for s in summaries
    ]


def _decomposition_rows(summaries: Sequence[TargetSummary]) -> list[list[str]]:
    parts = ("prep_ms", "retrieval_ms", "model_ttft_ms", "decode_ms", "other_ms")
    return [
        [s.target, *(fmt(s.decomposition_ms[p], 1) for p in parts), fmt(sum(s.decomposition_ms.values()), 1)]
        for s in summaries
        if s.decomposition_ms
    ]


def _stage_rows(summaries: Sequence[TargetSummary]) -> list[list[str]]:
    return [
        [
            s.target, st.stage, st.model_label, str(st.runs), _p(st.ttft_ms, "p50"), _p(st.model_ms, "p50"),
            fmt(st.decode_tokens_per_s_p50, 1), f"{fmt(st.prompt_tokens_mean)} / {fmt(st.completion_tokens_mean)}",
            fmt_usd(st.cost_per_run_usd),
        ]
        for s in summaries
        for st in s.stages
    ]


def _section(title: str, header: list[str], rows: list[list[str]]) -> list[str]:
    return ["", f"## {title}", "", table(header, rows)] if rows else []


def markdown(summaries: Sequence[TargetSummary], config: BenchConfig, machine: dict[str, Any],
             chart_files: dict[str, str], created: str) -> str:
    lines = [
        "# ragstage bench",
        "",
        f"{created} · {machine['platform']} · {machine['cpu_count']} CPUs · load {machine['load_average_1m']} · "
        f"{len(config.prompts)} prompts x {config.rounds} rounds (+{config.warmup_answers} warm-up, not counted) · "
        f"temperature 0 · max {config.max_tokens} tokens",
        "",
        "## Summary",
        "",
        table(["target", "model", "status", "answers", "cold start s", "TTFT p50 ms", "TTFT p95 ms",
               "total p50 ms", "total p95 ms", "decode tok/s p50", "tokens in / out", "peak RSS MB",
               "cost / answer", "cost / 1k answers", "load at start"], _summary_rows(summaries)),
        "",
        "Cold start = finding or starting the server + the first (warm-up) answer. Decode tok/s = "
        "(completion tokens - 1) / time after the first token. Costs are emulated from the price table. "
        "Load at start = 1-minute load average when the target began: compare targets measured under similar load.",
    ]
    if len(config.prompts) == 1 and config.rounds > 1:
        lines += ["", "Note: one prompt repeated. llama.cpp-style servers reuse a cached prompt prefix, so "
                  "TTFT after the first round can be lower than a new question would see."]
    lines += _section("Latency decomposition (mean ms per answer)", [
        "target", "prompt prep", "retrieval", "request to first token", "decode", "other", "total"],
        _decomposition_rows(summaries))
    lines += _section("Stages", ["target", "stage", "model", "runs", "TTFT p50 ms", "model time p50 ms",
                                 "decode tok/s p50", "tokens in / out", "cost / run"], _stage_rows(summaries))
    lines += [f"\n{s.target}: auto escalation refined {fmt_share(s.escalation_rate)} of drafts; "
              f"blended cost {fmt_usd(s.cost_per_answer_usd)} per answer." for s in summaries if s.escalation_rate is not None]
    failures = [f"- **{s.target}** ({s.status}): {s.error}" for s in summaries if s.error]
    if failures:
        lines += ["", "## Problems", "", *failures]
    if chart_files:
        lines += ["", "## Charts", "", *(f"![{name}]({file})" for name, file in chart_files.items())]
    return "\n".join(lines) + "\n"


def write_bench_report(out_dir: Path, runs: Sequence[TargetRun], summaries: Sequence[TargetSummary],
                       config: BenchConfig) -> dict[str, str]:
    """Writes bench.md, bench.json and the charts; returns {name: path}."""
    out_dir.mkdir(parents=True, exist_ok=True)
    created, machine = utc_now(), machine_info()
    chart_files: dict[str, str] = {}
    for name, (file_name, draw) in CHARTS.items():
        if draw(summaries, out_dir / file_name) is not None:
            chart_files[name] = file_name
    document = {
        "kind": "ragstage-bench",
        "created_utc": created,
        "machine": machine,
        "config": config_json(config, [r.target for r in runs]),
        "summary": list(summaries),
        "runs": [{**_run_header(r), "samples": r.samples} for r in runs],
    }
    write_json(out_dir / "bench.json", document)
    (out_dir / "bench.md").write_text(markdown(summaries, config, machine, chart_files, created), encoding="utf-8")
    files = {"markdown": out_dir / "bench.md", "json": out_dir / "bench.json"}
    files.update({name: out_dir / file for name, file in chart_files.items()})
    return {name: str(path) for name, path in files.items()}


def _run_header(run: TargetRun) -> dict[str, Any]:
    return {
        "target": run.target, "mode": run.mode, "status": run.status, "error": run.error,
        "endpoints": run.endpoints, "resolve_s": run.resolve_s, "first_answer_s": run.first_answer_s,
        "cold_start_s": run.cold_start_s, "peak_rss_mb": run.peak_rss_mb, "load_average_1m": run.load_average_1m,
    }
