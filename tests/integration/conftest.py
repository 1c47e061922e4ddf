"""Integration tests share the session ``lab`` fixture from ``tests/conftest.py`` with the
system tests (one lab per session: it binds port 53 on 127.53.x.y)."""
