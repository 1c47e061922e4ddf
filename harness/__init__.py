"""shadowdns: harness (see docs/ARCHITECTURE.md)."""
