"""Errors raised while running reference resolvers.

Every failure of this package derives from one base class, so a caller can
catch them all at once::

    ReferenceResolverError
    ├── LabFileError          a root-hints or trust-anchor file is malformed (also a ValueError)
    ├── BinaryMissing         the resolver's program is not installed
    ├── PortInUse             the listen address:port is already bound
    ├── StartFailed           the process exited early or never answered its health check
    └── ControlError          a flush or stats command failed
        └── NotManaged        the resolver is only an address: nothing to control

Invalid :class:`~legacy_adapter.config.ReferenceSpec` fields raise a plain
``ValueError`` that names the field; they are programming errors, not run-time
failures.
"""

from __future__ import annotations

from pathlib import Path

__all__ = [
    "BinaryMissing",
    "ControlError",
    "LabFileError",
    "NotManaged",
    "PortInUse",
    "ReferenceResolverError",
    "StartFailed",
]


class ReferenceResolverError(Exception):
    """Base class of every error raised by ``legacy_adapter``."""


class LabFileError(ReferenceResolverError, ValueError):
    """A lab file (root hints, trust anchors) could not be read.

    The message starts with ``FILE:LINE:`` so editors and people can jump to it.
    """

    def __init__(self, path: Path | str, line: int, problem: str) -> None:
        self.path = Path(path)
        self.line = line
        self.problem = problem
        super().__init__(f"{self.path}:{line}: {problem}")


class BinaryMissing(ReferenceResolverError):
    """The resolver's program (or its control tool) is not installed."""

    def __init__(self, program: str, debian_package: str, looked_for: str) -> None:
        self.program = program
        self.debian_package = debian_package
        super().__init__(
            f"{program} not found ({looked_for}): install the Debian package '{debian_package}'"
        )


class PortInUse(ReferenceResolverError):
    """Something already listens on the address and port a reference should use."""

    def __init__(self, address: str, port: int, transport: str) -> None:
        self.address = address
        self.port = port
        self.transport = transport
        super().__init__(
            f"{address}:{port} is already in use (another resolver?) [{transport} bind failed]"
        )


class StartFailed(ReferenceResolverError):
    """The resolver did not come up: it exited, or it never answered.

    ``log_tail`` holds the last lines of its log, also included in the message.
    """

    def __init__(self, message: str, log_tail: str = "") -> None:
        self.log_tail = log_tail
        text = message
        if log_tail:
            text += "\n--- last lines of its log ---\n" + log_tail
        super().__init__(text)


class ControlError(ReferenceResolverError):
    """A control command (flush, stats) failed or got an unexpected reply."""


class NotManaged(ControlError):
    """The resolver is not ours (only an address), so it cannot be flushed or stopped."""
