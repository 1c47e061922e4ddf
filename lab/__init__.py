"""The lab: a signed, misbehaving, noisy DNS internet on loopback (127.0.0.0/8 only)."""
