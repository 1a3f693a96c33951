"""The call's transcript rows: every segment as one ``div.seg`` in a single HTML fragment.

Streamlit draws each widget as its own element, and a 15-minute call has some 300 segments; one
button and one text block per segment made the page slow. Here the whole transcript is one
fragment that the player component (:mod:`review.views.player`) shows beside its ``<audio>``
element; the player owns seeking and highlighting, this module only the markup.

The rows are the template ``transcript_rows.html`` (``lydlogg/templates/``), which escapes
everything that comes from a transcript, a correction or a comment: no user text is ever rendered
as HTML.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence

from lydlogg.documents import Markup, render_html
from review.views.common import CHANNEL_LABELS, LOW_CONFIDENCE, ROLE_LABELS
from transcription.types import Segment

__all__ = ["MARK_STYLE", "transcript_rows"]

MARK_STYLE = """
.seg.q-usikker { border-left-color: #f0b429; }
.seg.q-dårlig { border-left-color: #c45c00; background: #fff8ef; }
.mark { font-size: 12px; border-radius: 3px; padding: 0 4px; margin-left: 4px; }
.mark.q-dårlig { background: #c45c00; color: white; }
.mark.q-usikker { background: #f0b429; color: #262730; }
.mark.rettet { background: #21a366; color: white; }
.listen { color: #c45c00; font-size: 13px; margin: 2px 0 0 22px; }
"""
"""Quality, "rettet" and listen marks; the player component scopes these rules to itself."""

_MARK_TEXT = {"dårlig": "hørt dårlig – lytt", "usikker": "usikker gjenkjenning"}


def transcript_rows(
    segments: Sequence[Segment],
    evidence: Mapping[int, Sequence[str]],
    notes: Mapping[int, Sequence[str]],
    *,
    quality: Mapping[int, tuple[str, float]] | None = None,
    corrected: Collection[int] = (),
    listen: Mapping[int, Sequence[str]] | None = None,
) -> str:
    """One ``div.seg`` per segment (every text escaped): what the player and the page show.

    ``evidence`` maps a segment index to the criteria it supports; ``notes`` maps a segment index
    to reviewers' comments; ``quality`` maps a recognised segment to its quality level
    (``usikker``/``dårlig``; ``god`` is not marked) and estimate; ``corrected`` holds the segments
    a reviewer corrected (marked "rettet"); ``listen`` maps a segment to the criteria that could
    not be judged automatically there.
    """
    quality = quality or {}
    listen = listen or {}
    rows = []
    for i, segment in enumerate(segments):
        level, estimate = quality.get(i, ("", 0.0))
        marked = i not in corrected and level in _MARK_TEXT
        classes = ["seg", f"role-{segment.role or 'unknown'}"]
        if i in evidence:
            classes.append("evidence")
        if marked:
            classes.append(f"q-{level}")
        rows.append({
            "index": i,
            "start": segment.start,
            "end": segment.end,
            "classes": " ".join(classes),
            "who": ROLE_LABELS.get(segment.role or "", CHANNEL_LABELS.get(segment.channel, "")),
            "text": segment.text,
            "words": None if not segment.words else [
                {"text": w.text.strip(), "low": w.probability < LOW_CONFIDENCE} for w in segment.words
            ],
            "corrected": i in corrected,
            "mark": _MARK_TEXT[level] if marked else "",
            "level": level,
            "estimate": estimate,
            "listen": ", ".join(dict.fromkeys(listen.get(i, ()))),
            "evidence": ", ".join(dict.fromkeys(evidence.get(i, ()))),
            "notes": list(notes.get(i, ())),
        })  # fmt: skip
    return Markup(render_html("transcript_rows.html", rows=rows))
