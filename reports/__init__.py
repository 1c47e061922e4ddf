"""shadowdns: reports (see docs/ARCHITECTURE.md)."""
