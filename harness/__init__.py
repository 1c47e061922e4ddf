"""shadowdns: the shadow harness (see docs/ARCHITECTURE.md)."""
