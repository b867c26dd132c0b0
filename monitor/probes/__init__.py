"""Probes: one file per kind, one signature (``async check(cfg, ctx) -> Outcome``), a dict registry."""
from .base import Outcome, ProbeContext, Sample
from .registry import CHECKS
from .runner import run_probe

__all__ = ["CHECKS", "Outcome", "ProbeContext", "Sample", "run_probe"]
