"""Samples from elsewhere than this monitor's own probes: the Prometheus HTTP API."""
