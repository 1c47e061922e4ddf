"""shadowdns: deckard (see docs/ARCHITECTURE.md)."""
