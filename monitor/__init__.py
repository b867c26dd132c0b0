"""sla-monitor: synthetic availability monitoring that holds a provider to its SLA."""
__version__ = "0.1.0"
