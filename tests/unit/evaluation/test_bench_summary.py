import pytest

from eval_builders import result, stage
from ragstage.answer import Escalation
from ragstage.evaluation.bench import TargetRun, answer_sample, turn_decode_tokens_per_s
from ragstage.evaluation.bench_summary import DECOMPOSITION_PARTS, summarize_target


def run(samples, status="ok"):
    return TargetRun("slm", "slm", status, None, {"slm": {"label": "SmolLM2 (embedded)", "display_name": "SmolLM2"}},
                     2.0, 1.5, {"slm": 310.0}, tuple(samples))


def test_answer_sample_splits_total_into_prep_retrieval_first_token_decode_and_other():
    sample = answer_sample("slm", 1, "b1", result(stages=(stage(prep_ms=3, ttft_ms=200, decode_ms=500),),
                                                  retrieval_ms=7, total_ms=720), wall_ms=725)
    assert (sample.prep_ms, sample.retrieval_ms, sample.model_ttft_ms, sample.decode_ms) == (3, 7, 200, 500)
    assert sample.other_ms == pytest.approx(10)
    assert sample.total_ms == 720 and sample.ok


def test_decode_speed_leaves_out_each_stages_first_token():
    assert turn_decode_tokens_per_s((stage(completion_tokens=21, decode_ms=1000),)) == pytest.approx(20)
    two = (stage(completion_tokens=11, decode_ms=500), stage("refine", "llm", completion_tokens=11, decode_ms=1500))
    assert turn_decode_tokens_per_s(two) == pytest.approx(10)  # 20 tokens over 2 s
    assert turn_decode_tokens_per_s((stage(completion_tokens=1),)) == 0.0


def test_summary_counts_only_measured_successful_answers():
    warm = answer_sample("slm", 0, "b1", result(total_ms=9000), 9000)
    good = [answer_sample("slm", 1, f"b{i}", result(stages=(stage(ttft_ms=100 * i),)), 0) for i in range(1, 5)]
    bad = answer_sample("slm", 1, "b9", result(text="", stages=(), error="answer (slm) failed: boom"), 50)
    summary = summarize_target(run([warm, *good, bad], status="partial"))
    assert (summary.answers, summary.failed) == (4, 1)
    assert summary.ttft_ms.n == 4 and summary.ttft_ms.p50 == pytest.approx(250)
    assert summary.ttft_ms.p50 <= summary.ttft_ms.p95 <= summary.ttft_ms.max
    assert summary.total_ms.max < 9000
    assert summary.cold_start_s == pytest.approx(3.5)
    assert summary.models == {"slm": "SmolLM2"}


def test_decomposition_parts_add_up_to_the_mean_total():
    samples = [answer_sample("slm", 1, f"b{i}", result(stages=(stage(ttft_ms=50 * i, decode_ms=300 + i),),
                                                       total_ms=1000 + i), 0) for i in range(1, 4)]
    summary = summarize_target(run(samples))
    assert set(summary.decomposition_ms) == set(DECOMPOSITION_PARTS)
    assert sum(summary.decomposition_ms.values()) == pytest.approx(summary.total_ms.mean)


def test_cost_per_thousand_answers_is_a_thousand_times_the_mean_answer():
    samples = [answer_sample("slm", 1, f"b{i}", result(stages=(stage(cost_usd=c),)), 0)
               for i, c in enumerate((0.001, 0.003))]
    summary = summarize_target(run(samples))
    assert summary.cost_per_answer_usd == pytest.approx(0.002)
    assert summary.cost_per_1k_answers_usd == pytest.approx(2.0)


def test_hybrid_reports_each_stage_the_blend_and_how_often_it_escalated():
    draft = stage("draft", "slm", cost_usd=0.0001, completion_tokens=11)
    refine = stage("refine", "llm", cost_usd=0.002, completion_tokens=31)
    escalated = result(stages=(draft, refine), mode="hybrid", escalation=Escalation(True, "short draft"))
    kept = result(stages=(draft,), mode="hybrid", escalation=Escalation(False, "cites sources"))
    samples = [answer_sample("hybrid", 1, "b1", escalated, 0), answer_sample("hybrid", 1, "b2", kept, 0),
               answer_sample("hybrid", 2, "b1", escalated, 0), answer_sample("hybrid", 2, "b2", kept, 0)]
    summary = summarize_target(run(samples))
    stages = {s.stage: s for s in summary.stages}
    assert (stages["draft"].runs, stages["refine"].runs) == (4, 2)
    assert summary.escalation_rate == 0.5
    assert sum(s.cost_usd_total for s in summary.stages) == pytest.approx(summary.cost_per_answer_usd * 4)
    assert summary.completion_tokens_mean == pytest.approx((11 + 31 + 11 + 11 + 31 + 11) / 4)


def test_a_target_that_never_answered_has_no_latency_numbers():
    summary = summarize_target(TargetRun("llm", "llm", "failed", "unreachable", {}, None, None, {}, ()))
    assert summary.ttft_ms is None and summary.total_ms is None and summary.cost_per_answer_usd is None
    assert summary.cold_start_s is None and summary.decomposition_ms == {}
