"""The seam between the pipeline and the differ.

The pipeline hands each stored observation to a :class:`Judge` together with a
:class:`Requery` it can use to ask a target again (optionally after flushing that target's
cache for the name, or with CD=1) before it decides.  ``harness.differ.Differ`` is the real
judge; anything with this shape can stand in for it in tests.
"""

from __future__ import annotations

from typing import Protocol

from harness.records import Observation, Query, TargetAnswer, Verdict


class Requery(Protocol):
    async def __call__(self, target: str, query: Query, *, flush: bool = False,
                       cd: bool = False) -> TargetAnswer: ...


class Judge(Protocol):
    async def judge(self, observation: Observation, requery: Requery) -> Verdict: ...
