import pytest
from hypothesis import given
from hypothesis import strategies as st

from ragstage.evaluation.stats import distribution, mean, percentile


def test_percentiles_interpolate_between_samples():
    assert percentile([1, 2, 3, 4], 50) == 2.5
    assert percentile([10, 20], 95) == pytest.approx(19.5)
    assert percentile([7], 95) == 7


def test_no_measurements_give_no_numbers():
    assert percentile([], 50) is None
    assert distribution([]) is None
    assert distribution([None, None]) is None
    assert mean([]) is None


def test_missing_values_are_left_out_not_counted_as_zero():
    assert mean([1.0, None, 3.0]) == 2.0
    assert distribution([None, 4.0]).n == 1


def test_booleans_average_to_a_share():
    assert mean([True, False, True, True]) == 0.75


@given(st.lists(st.floats(min_value=0, max_value=1e6, allow_nan=False), min_size=1, max_size=50))
def test_p50_never_exceeds_p95_and_both_lie_within_the_samples(values):
    dist = distribution(values)
    assert dist.min <= dist.p50 <= dist.p95 <= dist.max
    assert dist.n == len(values)
