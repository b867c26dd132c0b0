"""Exporters: the Prometheus collector."""
