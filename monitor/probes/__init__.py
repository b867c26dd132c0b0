"""Running probes: the context they share, the runner (timeouts, retries, the naming of failures) and
which failures are the monitor's own. The kinds themselves are ``monitor/checks/``."""
from .base import Outcome, ProbeContext, Sample
from .runner import run_probe

__all__ = ["Outcome", "ProbeContext", "Sample", "run_probe"]
