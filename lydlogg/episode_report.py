"""A printable episode summary (HTML) for an internal review after a serious event.

It lists every contact of the episode in time order with service, urgency, who handled it, the
suggested worsening advice and the re-contact flag, and leaves room for the patient's or
relatives' own account, which such reviews rarely include. The page is the template
``lydlogg/templates/episode.html``, which escapes every value.
"""

from __future__ import annotations

import pandas as pd

from lydlogg.documents import render_html
from lydlogg.formatting import DEFAULT_TIMEZONE, MISSING
from lydlogg.vocabulary import SERVICE_NAMES, URGENCY_LABELS

__all__ = ["episode_html"]

_SERVICE = SERVICE_NAMES
_URGENCY = URGENCY_LABELS
_WORSENING = {0: "ingen råd om forverring", 1: "vagt («ved forverring»)", 2: "konkrete tegn", 3: "tegn og handling",
              4: "tegn, handling, tidsramme og forståelse"}  # fmt: skip

_QUESTIONS = (
    "Hva ville fått oss til å se at dette var en ny kontakt om det samme?",
    "Hva fikk pasienten vite om hvilke tegn som skulle få henne til å ringe igjen, og hva hun da skulle gjøre?",
    "Hvordan kunne hastegraden vært vurdert på nytt ved hver ny kontakt?",
)


def _value(value: object) -> object:
    """None for a missing value (None, NaN, NA), else the value."""
    return None if value is None or pd.isna(value) else value


def episode_html(episode: pd.DataFrame, *, timezone: str = DEFAULT_TIMEZONE) -> str:
    """HTML for one episode (rows of :func:`lydlogg.episodes.link_episodes` sharing an episode_id),
    times shown in ``timezone``."""
    if episode.empty:
        raise ValueError("the episode has no contacts")
    rows = episode.sort_values("contact_number")
    first, last = rows["started_at"].min(), rows["started_at"].max()
    contacts = []
    for r in rows.itertuples():
        advice = _value(r.worsening_advice)
        asked = _value(r.asks_prior_contact)
        contacts.append({
            "number": r.contact_number,
            "call_id": r.call_id,
            "started_at": r.started_at,
            "hours_since_previous": _value(r.hours_since_previous),
            "service": _SERVICE.get(r.service, str(r.service)),
            "urgency": _URGENCY.get(r.urgency, MISSING) if _value(r.urgency) else MISSING,
            "operator_id": r.operator_id,
            "advice": MISSING if advice is None else _WORSENING.get(int(advice), str(advice)),
            "asked": None if asked is None else int(asked) == 1,
            "flagged": bool(_value(r.flagged)),
        })  # fmt: skip
    return render_html(
        "episode.html",
        episode_id=rows["episode_id"].iloc[0],
        contacts=contacts,
        first=first,
        last=last,
        span_hours=(last - first).total_seconds() / 3600,
        flagged=sum(c["flagged"] for c in contacts),
        questions=_QUESTIONS,
        timezone=timezone,
    )
