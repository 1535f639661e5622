"""The network pool (engine/network.py): bounded, per-host limited, non-blocking, and a
shutdown that hands back what did not finish. Real threads; a real local HTTP server
for the per-host case."""
from __future__ import annotations

import threading
import time

from engine.network import Job, NetworkPool
from engine.webhook import WebhookRequest, send
from tests.engine.servers import HTTPServer


def _blocker(gate: threading.Event, started: list, value):
    def call():
        started.append(value)
        gate.wait(10)
        return value
    return call


def test_submit_never_blocks_and_collect_never_waits():
    gate = threading.Event()
    started: list = []
    pool = NetworkPool(workers=2, per_host=2)
    t0 = time.monotonic()
    for i in range(50):
        assert pool.submit(Job(i, (0,), "h", _blocker(gate, started, i)))
    assert time.monotonic() - t0 < 0.5
    assert pool.collect() == [] and len(pool) == 50
    time.sleep(0.2)
    assert len(started) == 2  # bounded by workers
    gate.set()
    assert pool.wait(5)
    done = pool.collect()
    assert sorted(d.result for d in done) == list(range(50)) and len(pool) == 0
    assert pool.shutdown(1) == []


def test_a_saturated_host_does_not_hold_up_other_hosts():
    gate = threading.Event()
    started: list = []
    pool = NetworkPool(workers=4, per_host=2)
    for i in range(10):
        pool.submit(Job(i, (0,), "slow.example", _blocker(gate, started, ("slow", i))))
    fast_done = threading.Event()
    for i in range(5):
        pool.submit(Job(100 + i, (0,), "fast.example", lambda i=i: ("fast", i)))
    deadline = time.monotonic() + 5
    got: list = []
    while time.monotonic() < deadline and len(got) < 5:
        got += [d.result for d in pool.collect()]
        time.sleep(0.01)
    fast_done.set()
    assert sorted(got) == [("fast", i) for i in range(5)]  # all served while "slow" held its 2 slots
    assert len([s for s in started if s[0] == "slow"]) == 2  # never more than per_host on one host
    gate.set()
    pool.wait(5)
    assert len(pool.collect()) == 10


def test_the_same_enrollment_and_step_is_never_queued_twice():
    gate = threading.Event()
    pool = NetworkPool(workers=1)
    assert pool.submit(Job(7, (2, "then", 0), "h", _blocker(gate, [], 1)))
    assert not pool.submit(Job(7, (2, "then", 0), "h", lambda: 2))
    assert pool.submit(Job(7, (3,), "h", lambda: 3))
    gate.set()
    pool.wait(5)
    assert sorted(d.result for d in pool.collect()) == [1, 3]


def test_shutdown_waits_at_most_grace_and_returns_unfinished_jobs():
    gate = threading.Event()
    started: list = []
    calls = []
    pool = NetworkPool(workers=2, per_host=2, on_done=lambda: calls.append(1))
    pool.submit(Job(1, (0,), "h", lambda: "quick"))
    pool.wait(5)
    for i in range(2, 6):
        pool.submit(Job(i, (0,), "h", _blocker(gate, started, i)))
    time.sleep(0.2)
    t0 = time.monotonic()
    unfinished = pool.shutdown(grace=0.5)
    took = time.monotonic() - t0
    assert 0.4 < took < 2
    assert sorted(j.enrollment_id for j in unfinished) == [2, 3, 4, 5]  # 2 running + 2 queued
    assert [d.result for d in pool.collect()] == ["quick"] and calls == [1]
    assert not pool.submit(Job(9, (0,), "h", lambda: 9))
    gate.set()
    time.sleep(0.2)
    assert pool.collect() == [] and calls == [1]  # abandoned jobs are never reported


def test_an_exception_is_reported_with_its_job():
    pool = NetworkPool(workers=1)

    def boom():
        raise RuntimeError("bug")
    pool.submit(Job(1, (0,), "h", boom))
    pool.wait(5)
    [done] = pool.collect()
    assert isinstance(done.error, RuntimeError) and done.job.enrollment_id == 1


def test_slow_endpoint_limited_per_host_over_real_sockets():
    with HTTPServer(default=(200, 0.5)) as slow:
        pool = NetworkPool(workers=8, per_host=2)
        req = WebhookRequest(url=slow.url, method="POST", headers={}, payload={"n": 1}, timeout_s=5, key="k")
        t0 = time.monotonic()
        for i in range(6):
            pool.submit(Job(i, (0,), "127.0.0.1", lambda: send(req)))
        assert pool.wait(10)
        took = time.monotonic() - t0
        results = pool.collect()
    assert all(d.result.ok for d in results) and len(slow.requests) == 6
    assert took >= 1.4  # 6 requests, 2 at a time, 0.5 s each: three waves


def test_workers_start_on_demand_and_run_in_parallel_after_an_idle_spell():
    pool = NetworkPool(workers=4, per_host=4)
    pool.submit(Job(1, (0,), "h", lambda: 1))
    pool.wait(5)
    pool.collect()  # one worker now idle
    gate = threading.Event()
    started: list = []
    for i in range(4):
        pool.submit(Job(10 + i, (0,), "h", _blocker(gate, started, i)))
    deadline = time.monotonic() + 5
    while len(started) < 4 and time.monotonic() < deadline:
        time.sleep(0.01)
    assert len(started) == 4  # four at once, not one after another
    gate.set()
    pool.wait(5)
    assert len(pool.collect()) == 4
