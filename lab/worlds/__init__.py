"""The worlds shipped with the lab (package data: ``default.yaml``)."""
