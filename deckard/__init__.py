"""Deckard ``.rpl`` scenarios against the candidate resolver (``shadowdns deckard run``).

One concept per module:

* :mod:`deckard.text` — comments, quotes, :class:`~deckard.text.ScenarioError` (file:line);
* :mod:`deckard.records` — records and questions as written in scenarios;
* :mod:`deckard.header` — the configuration header (:class:`~deckard.header.ScenarioConfig`);
* :mod:`deckard.unboundconf` — the testbound dialect's header (an ``unbound.conf``
  fragment): translated options, no-ops with reasons, unsupported keys;
* :mod:`deckard.scenario` — the model and the parser (:func:`~deckard.scenario.load`);
* :mod:`deckard.match` — Deckard's MATCH conditions;
* :mod:`deckard.fakenet` — the scenario's authoritative servers, and a Transport of them;
* :mod:`deckard.candidate` — the candidate assembled in-process for one run;
* :mod:`deckard.network` — driving a real resolver over loopback sockets;
* :mod:`deckard.runner` — playing steps, one run per QNAME-minimisation variant, in parallel
  (:mod:`deckard.worker` sets the worker processes up);
* :mod:`deckard.split` — the held-out split (a fix half and a measure half, by name);
* :mod:`deckard.outcome`, :mod:`deckard.known` — results, and the known-failures file;
* :mod:`deckard.render`, :mod:`deckard.report`, :mod:`deckard.junit` — dig-style diffs,
  the rich summary, JUnit XML;
* :mod:`deckard.cli` — the ``deckard`` subcommand.

The format is described in ``shared/deckard/FORMAT.md``; this package was written from that
description (Deckard's code is not used).
"""
