"""Where mirrored and recorded queries come in: UDP mirror, dnstap, pcap, query lists.

Every intake turns its input into :class:`~harness.records.Query` records and hands them to an
:class:`~harness.intake.base.IntakeSink` without ever waiting on the pipeline (live sources), or
waiting for room first (finite sources read as fast as the pipeline takes them).  What cannot
be read is counted in the intake's ``stats`` and skipped.
"""

from __future__ import annotations

from harness.intake.base import Intake, IntakeSink, IntakeStats, Malformed, query_from_wire

__all__ = ["Intake", "IntakeSink", "IntakeStats", "Malformed", "query_from_wire"]
