"""The bench summary's intervals against values computed independently (Wilson's formula by hand, the
binomial order-statistic ranks for a median)."""

from __future__ import annotations

import pytest

from interviewer.bench.candidate import audible_spans, voices_at_once
from interviewer.bench.stats import describe, percentile, percentile_ci, rate, wilson


def test_wilson_matches_known_values() -> None:
    assert wilson(0, 0) == (None, None)
    low, high = wilson(8, 10)
    assert low == pytest.approx(0.4902, abs=1e-4) and high == pytest.approx(0.9433, abs=1e-4)
    assert wilson(10, 10)[1] == pytest.approx(1.0) and wilson(10, 10)[0] == pytest.approx(0.7225, abs=1e-4)
    assert wilson(0, 10)[0] == 0.0 and wilson(0, 10)[1] == pytest.approx(0.2775, abs=1e-4)


def test_percentile_interpolates_like_numpy() -> None:
    assert percentile([], 0.5) is None
    assert percentile([1.0, 2.0, 3.0, 4.0], 0.5) == 2.5
    assert percentile([1.0, 2.0, 3.0, 4.0], 0.95) == pytest.approx(3.85)


def test_median_interval_from_order_statistics() -> None:
    values = [float(v) for v in range(1, 101)]  # n = 100: ranks 50 ± 9.8 -> 40 and 61
    assert percentile_ci(values, 0.5) == (40.0, 61.0)
    # Too few samples for a 95% bound on a high percentile: None, never a made-up number.
    assert percentile_ci([1.0, 2.0, 3.0], 0.95)[1] is None
    assert percentile_ci([1.0, 2.0, 3.0], 0.5) == (None, None)


def test_describe_and_rate_shape() -> None:
    block = describe([float(v) for v in range(1, 101)])
    assert block["n"] == 100 and block["p50"] == 50.5 and block["p50_ci95"] == [40.0, 61.0]
    assert rate(3, 4) == {"k": 3, "n": 4, "rate": 0.75, "ci95": list(wilson(3, 4))}


def test_voices_at_once_tells_a_second_live_agent_from_a_silent_one() -> None:
    first = [10.0 + 0.02 * i for i in range(100)]  # two seconds of speech
    assert voices_at_once({}) == 0
    assert voices_at_once({"agent-a": first, "agent-dead": []}) == 1  # listed, never heard
    assert voices_at_once({"agent-a": first, "agent-b": [20.0, 20.02]}) == 1  # one after the other
    assert voices_at_once({"agent-a": first, "agent-b": [11.0]}) == 2  # talking over it
    assert voices_at_once({"agent-a": first, "agent-b": [12.1], "agent-c": [11.9, 12.2]}) == 3


def test_audible_instants_become_spans_split_by_quiet() -> None:
    speech = [10.0 + 0.02 * i for i in range(50)]  # 10.00 .. 10.98
    later = [12.0, 12.1]
    assert audible_spans([]) == []
    assert audible_spans(later + speech) == [(10.0, speech[-1]), (12.0, 12.1)]
    assert audible_spans([1.0, 1.2, 1.61]) == [(1.0, 1.2), (1.61, 1.61)]
