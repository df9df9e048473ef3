"""Where members' plans run in a simulated community: a local process pool (the default), or a
Dask `distributed` cluster for communities that outgrow one machine."""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from concurrent.futures import ProcessPoolExecutor
from contextlib import AbstractContextManager
from types import TracebackType
from typing import Any

from ..scheduler import schedule
from ..solve.highs import SolverSettings
from .federated import Plan

# Members of a simulated community are homes: a plan of theirs that has not proven its optimum
# within this long is good enough to coordinate with (the service's own default is 10 s).
MEMBER_SEARCH_LIMIT_S = 2.0


def plan_member(problem: Mapping[str, Any]) -> Plan:
    return schedule(problem, SolverSettings(search_limit_s=MEMBER_SEARCH_LIMIT_S))


class LocalPool(AbstractContextManager["LocalPool"]):
    """Members planned in worker processes (one per core); `workers=0` plans in this process."""

    def __init__(self, workers: int | None = None) -> None:
        count = (os.cpu_count() or 1) if workers is None else workers
        self._workers = count
        self._pool = ProcessPoolExecutor(count) if count > 0 else None

    def __call__(self, problems: Sequence[Mapping[str, Any]]) -> list[Plan]:
        if self._pool is None:
            return [plan_member(problem) for problem in problems]
        chunk = max(1, len(problems) // (4 * self._workers))
        return list(self._pool.map(plan_member, problems, chunksize=chunk))

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        if self._pool is not None:
            self._pool.shutdown(cancel_futures=True)


class DaskPool(AbstractContextManager["DaskPool"]):
    """Members planned on a Dask cluster: a `LocalCluster` unless a scheduler address is given."""

    def __init__(self, scheduler: str | None = None) -> None:
        from distributed import Client, LocalCluster

        self._cluster = None if scheduler else LocalCluster(processes=True, dashboard_address=None)
        self._client = Client(scheduler or self._cluster)

    def __call__(self, problems: Sequence[Mapping[str, Any]]) -> list[Plan]:
        futures = self._client.map(plan_member, list(problems), pure=False)
        plans: list[Plan] = self._client.gather(futures)
        return plans

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        self._client.close()
        if self._cluster is not None:
            self._cluster.close()
