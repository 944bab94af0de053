"""crawler.containment: calls in a worker process under a deadline; the pool is replaced after one."""
from __future__ import annotations

import time

import pytest

from crawler.containment import ContainedExtractor, ExtractTimeout, Limits


def test_a_result_within_the_deadline_comes_back():
    with ContainedExtractor(Limits(timeout=30)) as worker:
        assert worker.call(sum, [1, 2, 3]) == 6


def test_a_result_after_the_deadline_is_a_timeout_even_when_the_work_is_quick():
    """The deadline is never overshot by the polling interval: a fast call under a deadline shorter
    than the call's round trip is a timeout, and the replaced pool serves the next call."""
    with ContainedExtractor(Limits(timeout=1e-6)) as worker:
        with pytest.raises(ExtractTimeout):
            worker.call(sum, [1, 2, 3])
        assert worker.replaced == 1
        worker.limits = Limits(timeout=30)
        assert worker.call(sum, [4]) == 4


def test_a_hung_call_ends_at_its_deadline():
    with ContainedExtractor(Limits(timeout=0.5)) as worker:
        worker.call(sum, [0])                         # pool started outside the measured call
        t = time.monotonic()
        with pytest.raises(ExtractTimeout):
            worker.call(time.sleep, 30)
        assert time.monotonic() - t < 5
