"""Renderers of the report object (SLA-SPEC §10): JSON, table, CSV for machines and terminals; Markdown,
HTML and PDF documents for people."""
from .document import Terms
from .render import FORMATS, render, render_range, render_rows

__all__ = ["FORMATS", "Terms", "render", "render_range", "render_rows"]
