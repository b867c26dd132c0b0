"""Pure renderers of the report object (SLA-SPEC §10): JSON, table, Markdown, CSV."""
from .render import RENDERERS, render, render_rows

__all__ = ["RENDERERS", "render", "render_rows"]
