"""The peer cache (issue 21, docs/PEERS.md): members of a group ask the owner of a question's
registered domain (:mod:`.ring`) over a small framed protocol (:mod:`.protocol`) before
resolving it themselves (:mod:`.group` asks, :mod:`.server` answers)."""

from resolver.peers.group import PeerGroup
from resolver.peers.ring import Ring, key_of
from resolver.peers.server import PeerResolver, PeerServer

__all__ = ["PeerGroup", "PeerResolver", "PeerServer", "Ring", "key_of"]
