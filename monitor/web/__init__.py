"""The daemon's HTTP side: one aiohttp app for metrics, health, the JSON API and the status page."""
