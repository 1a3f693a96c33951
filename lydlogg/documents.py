"""Printable documents: HTML from Jinja2 templates with autoescape, and PDF from that HTML.

Every handout and report (episode summary, monthly report, feedback-session handout, case
handout) and the call page's transcript is a template in ``lydlogg/templates/`` (package data)
rendered by :func:`render_html`,
so every value is escaped exactly once by Jinja2 and no document is put together by hand.
:func:`html_to_pdf` is the one way to make a PDF; :func:`pdf_available` says cheaply whether it can.
"""

from __future__ import annotations

import ctypes.util
import functools
import importlib.util

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape
from markupsafe import Markup

from lydlogg.formatting import (
    clock,
    display_date,
    display_time,
    mean_text,
    number_text,
    percent,
    score_text,
    value_text,
    yes_no,
)

__all__ = ["Markup", "PdfUnavailableError", "html_to_pdf", "pdf_available", "render_html"]


@functools.cache
def _environment() -> Environment:
    env = Environment(
        loader=PackageLoader("lydlogg", "templates"),
        autoescape=select_autoescape(("html",), default=True),
        undefined=StrictUndefined,  # a misspelt field fails the test, not the reader
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=False,
    )
    env.filters.update(
        clock=clock,
        display_date=display_date,
        display_time=display_time,
        mean=mean_text,
        number=number_text,
        percent=percent,
        score=score_text,
        value=value_text,
        yes_no=yes_no,
    )
    return env


def render_html(template: str, **context: object) -> str:
    """The document ``template`` (a file name in ``lydlogg/templates/``) filled with ``context``.

    Strings are escaped by the template; pass already safe HTML only as :class:`Markup`.
    """
    return _environment().get_template(template).render(**context)


class PdfUnavailableError(RuntimeError):
    """WeasyPrint or the system libraries it needs (Pango) are missing."""


@functools.cache
def pdf_available() -> bool:
    """Whether :func:`html_to_pdf` can run: WeasyPrint installed and Pango's library present.

    Cheap (a few ms), unlike importing WeasyPrint (about a second), so a page can ask on every run.
    """
    return (
        importlib.util.find_spec("weasyprint") is not None
        and ctypes.util.find_library("pango-1.0") is not None
    )


def html_to_pdf(html: str) -> bytes:
    """The same document as PDF, through WeasyPrint."""
    try:
        import weasyprint
    except (ImportError, OSError) as e:  # OSError: Pango's shared libraries are not installed
        raise PdfUnavailableError(
            f"PDF needs WeasyPrint and Pango (pip install weasyprint; apt-get install libpango-1.0-0 "
            f"libpangoft2-1.0-0): {e}"
        ) from e
    return weasyprint.HTML(string=html).write_pdf()
