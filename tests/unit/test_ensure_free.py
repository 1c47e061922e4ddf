"""``resolver serve``'s check that its ports are free (resolver.cli.ensure_free), on
loopback: a listener holds a port; connections of a server that has gone, in TIME_WAIT, do
not (a restart right after serving was refused for a minute: bench chaos, CI)."""

from __future__ import annotations

import socket

import pytest

from resolver.cli import ensure_free

HOST = "127.0.0.1"


def _time_wait_port() -> int:
    """A port whose server closed an accepted connection first, then stopped listening:
    the server side's connection stays in TIME_WAIT on that port."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as listener:
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind((HOST, 0))
        listener.listen()
        port = listener.getsockname()[1]
        with socket.create_connection((HOST, port)) as client:
            served, _ = listener.accept()
            served.close()  # the server closes first: TIME_WAIT is on its side
            client.recv(1)  # the FIN has arrived
    return port


def test_time_wait_connections_do_not_hold_the_port() -> None:
    port = _time_wait_port()
    ensure_free(HOST, port, udp=False)


def test_a_listener_holds_the_port() -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as listener:
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind((HOST, 0))
        listener.listen()
        with pytest.raises(OSError):
            ensure_free(HOST, listener.getsockname()[1], udp=False)
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as udp:
        udp.bind((HOST, 0))
        with pytest.raises(OSError):
            ensure_free(HOST, udp.getsockname()[1])
