"""The owner's side of the peer protocol, and the resolver wrapper that asks owners.

:class:`PeerResolver` stands where the recursor stands (the answerer's ``Resolves``): a
question whose registered domain another alive member owns is asked of that member; any
other question, and any question the owner fails, is resolved here through
:meth:`PeerResolver.local`, which is single-flight: the clients of this member and the peers
asking it for one question share one resolution (on top of the conductor's deduplication of
upstream exchanges, which the resolution's steps still go through).

:class:`PeerServer` listens for peers (TCP, or a unix socket for the local workers of one
``resolver serve``), accepts connections only from the allow-list, checks every frame's MAC
when a secret is configured, and answers each REQUEST from :meth:`PeerResolver.local`: a
forwarded question is never forwarded again.  An ACK goes first (on receipt by default, or
when the answer is not ready within ``ack_after``), so the requester knows the owner is alive.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import logging
import os
import struct
from collections.abc import Callable

import dns.name

from resolver.model import Request
from resolver.peers.group import PeerGroup, read_frame
from resolver.peers.protocol import (
    F_CD,
    F_DO,
    FrameError,
    Kind,
    decode_question,
    encode_answer,
    encode_frame,
)
from resolver.recursor import Resolution
from resolver.recursor.exchanger import Exchanger
from resolver.recursor.resolves import Resolves

__all__ = ["ACK_AFTER", "MAX_IN_FLIGHT", "PeerResolver", "PeerServer"]

log = logging.getLogger("shadowdns.resolver.peers")

ACK_AFTER = 0.0
"""Seconds an owner waits for an answer before it sends an ACK first; 0: an ACK on receipt,
before any work on the question, so that the requester's short first-frame timeout measures
whether the owner is alive, not how long its cache lookup or validation takes."""

MAX_IN_FLIGHT = 1024
"""Requests one peer connection may have unanswered (more get an ERROR)."""


class PeerResolver:
    """``inner`` (a recursor, validating or not) behind the group's owners."""

    def __init__(self, inner: Resolves, group: PeerGroup | None) -> None:
        self.inner = inner
        self.group = group
        self._inflight: dict[tuple[dns.name.Name, int, int, bool], asyncio.Task[Resolution]] = {}
        self.shared = 0  # local resolutions joined instead of started

    def flush_name(self, name: dns.name.Name) -> int:
        """This member's own cache at ``name`` (the owners' caches are theirs)."""
        return self.inner.flush_name(name)

    async def resolve(self, request: Request, exchanger: Exchanger) -> Resolution:
        group = self.group
        if group is not None:
            owner = group.owner(request)
            if owner is not None:
                res = await group.ask(owner, request)
                if res is not None:
                    return res
                group.metrics.fallbacks += 1
        return await self.local(request, exchanger)

    async def local(self, request: Request, exchanger: Exchanger) -> Resolution:
        """``request`` resolved here, once for all who ask the same question meanwhile (the
        resolution does not depend on DO: the answerer strips what a client did not ask)."""
        key = (request.qname.canonicalize(), request.qtype, request.qclass, request.cd)
        task = self._inflight.get(key)
        if task is None:
            task = asyncio.get_running_loop().create_task(self.inner.resolve(request,
                                                                             exchanger))
            self._inflight[key] = task
            task.add_done_callback(lambda t: self._done(key, t))
        else:
            self.shared += 1
        # one asker's deadline must not cancel the resolution for the others
        return await asyncio.shield(task)

    def _done(self, key: tuple[dns.name.Name, int, int, bool],
              task: asyncio.Task[Resolution]) -> None:
        if self._inflight.get(key) is task:
            del self._inflight[key]
        if not task.cancelled():
            task.exception()  # retrieved: the askers got it


class PeerServer:
    """Answers peers' REQUESTs on ``listen`` (``ADDR:PORT`` or ``unix:PATH``)."""

    def __init__(self, resolver: PeerResolver, exchanger: Exchanger, listen: str, *,
                 secret: bytes | None = None, allowed: Callable[[str], bool] | None = None,
                 ack_after: float = ACK_AFTER) -> None:
        self.resolver = resolver
        self.exchanger = exchanger
        self.listen = listen
        self.secret = secret
        self.allowed = allowed
        self.ack_after = ack_after
        self.stats: collections.Counter[str] = collections.Counter()
        self._server: asyncio.Server | None = None
        self._conns: set[asyncio.Task[None]] = set()

    async def start(self) -> str:
        """Listen; returns the address peers reach this member at."""
        if self.listen.startswith("unix:"):
            path = self.listen[5:]
            with contextlib.suppress(FileNotFoundError):
                os.unlink(path)
            self._server = await asyncio.start_unix_server(self._accept, path)
            os.chmod(path, 0o600)
            return self.listen
        host, _, port = self.listen.rpartition(":")
        self._server = await asyncio.start_server(self._accept, host.strip("[]"), int(port),
                                                  reuse_address=True)
        bound = self._server.sockets[0].getsockname()
        return f"[{bound[0]}]:{bound[1]}" if ":" in bound[0] else f"{bound[0]}:{bound[1]}"

    async def close(self) -> None:
        server, self._server = self._server, None
        if server is not None:
            server.close()
        for task in list(self._conns):
            task.cancel()
        await asyncio.gather(*self._conns, return_exceptions=True)
        if server is not None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(server.wait_closed(), 1.0)

    async def _accept(self, reader: asyncio.StreamReader,
                      writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._conns.add(task)
        try:
            peer = writer.get_extra_info("peername")
            host = peer[0] if isinstance(peer, tuple) else ""
            if isinstance(peer, tuple) and self.allowed is not None and not self.allowed(host):
                self.stats["refused_connections"] += 1
                log.warning("peer connection from %s refused: not in the allow-list", host)
                return
            await self._serve(reader, writer)
        except asyncio.CancelledError:
            pass  # closing: the connection goes with the server
        finally:
            self._conns.discard(task)
            writer.close()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        pending: set[asyncio.Task[None]] = set()
        try:
            while True:
                try:
                    frame = await read_frame(reader, self.secret)
                except FrameError as e:
                    self.stats["bad_frames"] += 1
                    log.warning("peer frame refused: %s; connection closed", e)
                    return
                if frame.kind is Kind.PING:
                    self.stats["pings"] += 1
                    writer.write(encode_frame(Kind.PONG, frame.request_id, b"", 0, self.secret))
                    continue
                if frame.kind is not Kind.REQUEST:
                    self.stats["bad_frames"] += 1
                    return
                if len(pending) >= MAX_IN_FLIGHT:
                    self.stats["busy"] += 1
                    writer.write(encode_frame(Kind.ERROR, frame.request_id,
                                              struct.pack("!B", 1) + b"busy", 0, self.secret))
                    continue
                if self.ack_after <= 0:  # "alive": before any work on the question
                    self.stats["acks"] += 1
                    writer.write(encode_frame(Kind.ACK, frame.request_id, b"", 0, self.secret))
                task = asyncio.create_task(self._answer(frame.request_id, frame.flags,
                                                        frame.body, writer))
                pending.add(task)
                task.add_done_callback(pending.discard)
        except (asyncio.IncompleteReadError, OSError):
            return
        finally:
            for task in pending:
                task.cancel()

    async def _answer(self, request_id: int, flags: int, body: bytes,
                      writer: asyncio.StreamWriter) -> None:
        try:
            question = decode_question(body)
        except FrameError as e:
            self.stats["bad_frames"] += 1
            writer.write(encode_frame(Kind.ERROR, request_id, struct.pack("!B", 2)
                                      + str(e).encode(), 0, self.secret))
            return
        self.stats["requests"] += 1
        request = Request(qname=question.qname, qtype=question.qtype, qclass=question.qclass,
                          do=bool(flags & F_DO), cd=bool(flags & F_CD),
                          extra={"transport": "peer"})
        task = asyncio.ensure_future(self.resolver.local(request, self.exchanger))
        if self.ack_after <= 0:
            pass  # acknowledged on receipt
        elif not (await asyncio.wait({task}, timeout=self.ack_after))[0]:
            self.stats["acks"] += 1
            writer.write(encode_frame(Kind.ACK, request_id, b"", 0, self.secret))
        try:
            res = await task
        except Exception:
            self.stats["errors"] += 1
            log.warning("resolving %s for a peer failed", question.qname, exc_info=True)
            writer.write(encode_frame(Kind.ERROR, request_id, struct.pack("!B", 3)
                                      + b"resolution failed", 0, self.secret))
            return
        answer, aflags = encode_answer(question, res, request.do)
        self.stats["cached" if res.upstream_queries == 0 else "resolved"] += 1
        try:
            writer.write(encode_frame(Kind.ANSWER, request_id, answer, aflags, self.secret))
        except FrameError:  # too long for a frame: let the requester resolve it itself
            writer.write(encode_frame(Kind.ERROR, request_id, struct.pack("!B", 4)
                                      + b"answer too long", 0, self.secret))
        with contextlib.suppress(ConnectionError):
            await writer.drain()  # a requester that does not read holds no unbounded buffer
