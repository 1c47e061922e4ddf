"""The recursor: iterative resolution with no I/O (the exchanger is its only way out).

Its modules, front to back:

* :mod:`~resolver.recursor.core`: :class:`Recursor`, a client question's chain of lookups,
  each from the cache or upstream;
* :mod:`~resolver.recursor.config`: its configuration, caps, per-query budget and results;
* :mod:`~resolver.recursor.iterate`: asking upstream, the walk down from the closest cut as
  a sequence of named steps (and forwarding);
* :mod:`~resolver.recursor.addresses`: finding the addresses of a zone's servers;
* :mod:`~resolver.recursor.cacheview`: what the cache already knows (answers, cuts,
  addresses, lame servers);
* :mod:`~resolver.recursor.priming`: RFC 8109 priming of the root's NS set;
* :mod:`~resolver.recursor.classify`: scrubbing and classifying a response;
* :mod:`~resolver.recursor.answers`: the final step of a lookup, cached, and its extras;
* :mod:`~resolver.recursor.learn`: what a response teaches the cache besides its answer;
* :mod:`~resolver.recursor.exchanger`: the seam to the network.
"""

from resolver.recursor.config import (
    MAX_UPSTREAM_QUERIES,
    ConfiguredZone,
    RecursorConfig,
    Resolution,
)
from resolver.recursor.core import Recursor

__all__ = ["MAX_UPSTREAM_QUERIES", "ConfiguredZone", "Recursor", "RecursorConfig", "Resolution"]
