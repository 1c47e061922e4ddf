"""shadowdns: resolver (see docs/ARCHITECTURE.md)."""
