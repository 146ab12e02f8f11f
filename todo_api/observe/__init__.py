"""Observability: logs, metrics and what observes each request."""
