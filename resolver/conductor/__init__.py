"""The conductor: the Exchanger that talks to authoritative servers (dedup, selection, retries)."""

from resolver import dnsfast
from resolver.conductor.core import Conductor, UpstreamMetrics
from resolver.conductor.mock import MockTransport
from resolver.conductor.transport import NetworkTransport, Transport

dnsfast.install()  # dnspython's hot spots, identical results (resolver/dnsfast.py)

__all__ = ["Conductor", "MockTransport", "NetworkTransport", "Transport", "UpstreamMetrics"]
