"""The service ends a worker's search through a pipe, naming the solve by its number: a stop
meant for a solve that has just ended never stops the next one."""

from __future__ import annotations

import os

from flexems_optimizer.worker import FRAME, StopRequests


def test_a_stop_names_its_solve() -> None:
    read, write = os.pipe()
    try:
        stops = StopRequests(read)
        stops.solve = 1
        assert not stops()  # nothing asked
        stops.solve = 2
        os.write(write, FRAME.pack(1))  # late: solve 1 has ended
        assert not stops()
        os.write(write, FRAME.pack(2))
        assert stops() and stops()  # and it stays asked while solve 2 runs
        stops.solve = 3
        assert not stops()
    finally:
        os.close(read)
        os.close(write)


def test_without_a_pipe_nothing_stops() -> None:
    stops = StopRequests(None)
    stops.solve = 1
    assert not stops()
