"""shadowdns: prove that a new DNS recursive resolver behaves like the one it replaces."""

__version__ = "0.1.0"
