"""The intake node's and the collector's ``/metrics`` and ``/api/status`` (harness/bus/api.py),
served on a real loopback socket and read with an HTTP client."""

from __future__ import annotations

import collections

import aiohttp

from harness.bus.api import RoleApi


async def test_a_role_serves_its_live_counters() -> None:
    counts: collections.Counter[str] = collections.Counter(sampled=3, published=2)
    api = RoleApi("intake", 'node"1', lambda: counts, "127.0.0.1", 0)
    await api.start()
    try:
        assert api.port != 0
        base = f"http://127.0.0.1:{api.port}"
        async with aiohttp.ClientSession() as session:
            async with session.get(f"{base}/metrics") as r:
                assert r.status == 200 and r.content_type == "text/plain"
                text = await r.text()
            counts["published"] += 5  # read again: the counters are live, not a copy
            async with session.get(f"{base}/api/status") as r:
                status = await r.json()
    finally:
        await api.stop()
    assert "# TYPE shadowdns_bus_events_total counter" in text
    assert ('shadowdns_bus_events_total{role="intake",consumer="node\\"1",event="sampled"} 3'
            in text.splitlines())
    assert status == {"role": "intake", "consumer": 'node"1',
                      "counters": {"sampled": 3, "published": 7}}
