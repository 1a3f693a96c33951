"""A printable episode summary (HTML) for an internal review after a serious event.

It lists every contact of the episode in time order with service, urgency, who handled it, the
suggested worsening advice and the re-contact flag, and leaves room for the patient's or
relatives' own account, which such reviews rarely include. Everything user-provided is escaped.
"""

from __future__ import annotations

import ctypes.util
import functools
import importlib.util
from html import escape

import pandas as pd

__all__ = ["PdfUnavailableError", "episode_html", "html_to_pdf", "pdf_available"]

_SERVICE = {"lvs": "Legevaktsentral", "amk": "AMK", "legevaktlege": "Legevaktlege", "fastlege": "Fastlege"}
_URGENCY = {"red": "rød", "yellow": "gul", "green": "grønn"}
_WORSENING = {0: "ingen råd om forverring", 1: "vagt («ved forverring»)", 2: "konkrete tegn", 3: "tegn og handling",
              4: "tegn, handling, tidsramme og forståelse"}  # fmt: skip

_STYLE = """
body { font-family: system-ui, sans-serif; margin: 2em; color: #222; }
table { border-collapse: collapse; width: 100%; margin: 1em 0; }
th, td { border: 1px solid #999; padding: 4px 8px; text-align: left; vertical-align: top; }
th { background: #eee; }
tr.flagged td { background: #fde8e8; }
.lines { border-bottom: 1px solid #999; height: 2em; }
@media print { body { margin: 1cm; } }
"""


def _value(value: object) -> object:
    """None for a missing value (None, NaN, NA), else the value."""
    return None if value is None or pd.isna(value) else value


def _cell(value: object) -> str:
    return "–" if _value(value) is None else escape(str(value))


def episode_html(episode: pd.DataFrame) -> str:
    """HTML for one episode (rows of :func:`lydlogg.episodes.link_episodes` sharing an episode_id)."""
    if episode.empty:
        raise ValueError("the episode has no contacts")
    rows = episode.sort_values("contact_number")
    first, last = rows["started_at"].min(), rows["started_at"].max()
    flagged = int(rows["flagged"].fillna(False).astype(bool).sum())
    body = [
        f"<h1>Episodeoppsummering {escape(str(rows['episode_id'].iloc[0]))}</h1>",
        f"<p>{len(rows)} kontakter fra {escape(str(first))} til {escape(str(last))} "
        f"({(last - first).total_seconds() / 3600:.1f} timer). Rekontakter som ikke ble fanget opp: {flagged}.</p>",
        "<table><tr><th>#</th><th>Samtale</th><th>Tidspunkt</th><th>Timer siden forrige</th><th>Tjeneste</th><th>Hastegrad</th>"
        "<th>Håndtert av</th><th>Råd om forverring (forslag)</th><th>Spurte om tidligere kontakt</th></tr>",
    ]
    for r in rows.itertuples():
        is_flagged = bool(_value(r.flagged))
        hours = "–" if _value(r.hours_since_previous) is None else f"{r.hours_since_previous:.1f}"
        advice_value = _value(r.worsening_advice)
        advice = "–" if advice_value is None else _WORSENING.get(int(advice_value), str(advice_value))
        asked_value = _value(r.asks_prior_contact)
        asked = "–" if asked_value is None else ("ja" if int(asked_value) == 1 else "nei")
        body.append(
            f'<tr class="{"flagged" if is_flagged else ""}"><td>{r.contact_number}</td><td>{_cell(r.call_id)}</td><td>{_cell(r.started_at)}</td>'
            f"<td>{hours}</td><td>{escape(_SERVICE.get(r.service, str(r.service)))}</td>"
            f"<td>{escape(_URGENCY.get(r.urgency, '–') if r.urgency else '–')}</td><td>{_cell(r.operator_id)}</td>"
            f"<td>{escape(advice)}</td><td>{asked}{' – rekontakt ikke fanget opp' if is_flagged else ''}</td></tr>"
        )
    body.append("</table>")
    body.append("<h2>Pasientens eller pårørendes beskrivelse</h2>")
    body.append(
        "<p>Hvordan opplevde pasienten eller de pårørende kontaktene, og hva var de bekymret for?</p>"
    )
    body.extend('<div class="lines"></div>' for _ in range(8))
    body.append("<h2>Refleksjon</h2><ul>")
    for question in (
        "Hva ville fått oss til å se at dette var en ny kontakt om det samme?",
        "Hva fikk pasienten vite om hvilke tegn som skulle få henne til å ringe igjen, og hva hun da skulle gjøre?",
        "Hvordan kunne hastegraden vært vurdert på nytt ved hver ny kontakt?",
    ):
        body.append(f"<li>{escape(question)}</li>")
    body.append("</ul>")
    return (
        '<!DOCTYPE html><html lang="nb"><head><meta charset="utf-8"><title>Episodeoppsummering</title>'
        f"<style>{_STYLE}</style></head><body>{''.join(body)}</body></html>"
    )


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
    """The same page as PDF, through WeasyPrint."""
    try:
        import weasyprint
    except (ImportError, OSError) as e:  # OSError: Pango's shared libraries are not installed
        raise PdfUnavailableError(
            f"PDF needs WeasyPrint and Pango (pip install weasyprint; apt-get install libpango-1.0-0 "
            f"libpangoft2-1.0-0): {e}"
        ) from e
    return weasyprint.HTML(string=html).write_pdf()
