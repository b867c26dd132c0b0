"""The monthly report and the credit claim as self-contained HTML (inline CSS and SVG, nothing fetched),
and as PDF through WeasyPrint. Pure but for WeasyPrint's own work: data in, a document out."""
from __future__ import annotations

from typing import Any, NoReturn

import jinja2

from ..sla.result import MonthResult
from .document import Terms, report_view

_ENV = jinja2.Environment(loader=jinja2.PackageLoader("monitor.reports", "templates"),
                          autoescape=jinja2.select_autoescape(["html"]), trim_blocks=True, lstrip_blocks=True)


def report_html(result: MonthResult, terms: Terms) -> str:
    """The month's report: summary, then per region its timeline, error budget, periods with their
    exclusions in words, incidents, maintenance and credit."""
    return _ENV.get_template("report.html").render(v=report_view(result, terms))


def render_template(name: str, **values: Any) -> str:
    """One of the document templates (the claim letter) with ``values``."""
    return _ENV.get_template(name).render(**values)


def to_pdf(html: str) -> bytes:
    """The HTML document printed to PDF (A4, as its stylesheet says). WeasyPrint is imported here: it
    loads Pango, which nothing else needs."""
    import weasyprint

    # No base URL and no fetcher for the network: the documents are self-contained by construction,
    # and a stray reference must not make the report wait on a host.
    return weasyprint.HTML(string=html, url_fetcher=_refuse).write_pdf()


def _refuse(url: str, *args: Any, **kwargs: Any) -> NoReturn:
    raise ValueError(f"the document refers to {url}: reports are self-contained")
