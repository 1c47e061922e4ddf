"""The conductor: the Exchanger that talks to authoritative servers (dedup, selection, retries)."""

from resolver.conductor.core import Conductor, UpstreamMetrics
from resolver.conductor.mock import MockTransport
from resolver.conductor.transport import NetworkTransport, Transport

__all__ = ["Conductor", "MockTransport", "NetworkTransport", "Transport", "UpstreamMetrics"]
