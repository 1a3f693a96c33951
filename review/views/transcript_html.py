"""The call page's transcript as one HTML document: every segment in a single element.

Streamlit draws each widget as its own element, and a 15-minute call has some 300 segments; one
button and one text block per segment made the page slow. Here the whole transcript is one
component. Clicking a segment seeks the page's audio player (the first ``<audio>`` of the parent
document, which the component may reach because Streamlit's component frames are same-origin)
and starts it; the segment being played is highlighted as the audio runs.

The rows and the page are the templates ``transcript_rows.html`` and ``transcript.html``
(``lydlogg/templates/``), which escape everything that comes from a transcript, a correction or a
comment: no user text is ever rendered as HTML.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence

from lydlogg.documents import Markup, render_html
from review.views.common import CHANNEL_LABELS, LOW_CONFIDENCE, ROLE_LABELS
from transcription.types import Segment

__all__ = ["transcript_html", "transcript_rows"]

MARK_STYLE = """
.seg.q-usikker { border-left-color: #f0b429; }
.seg.q-dårlig { border-left-color: #c45c00; background: #fff8ef; }
.mark { font-size: 12px; border-radius: 3px; padding: 0 4px; margin-left: 4px; }
.mark.q-dårlig { background: #c45c00; color: white; }
.mark.q-usikker { background: #f0b429; color: #262730; }
.mark.rettet { background: #21a366; color: white; }
.listen { color: #c45c00; font-size: 13px; margin: 2px 0 0 22px; }
"""
"""Quality, "rettet" and listen marks; the player component scopes the same rules to itself."""

_STYLE = (
    """
body { font-family: "Source Sans Pro", sans-serif; font-size: 15px; margin: 0; color: #262730; }
.seg { padding: 4px 8px; border-left: 3px solid transparent; cursor: pointer; }
.seg:hover { background: #f0f2f6; }
.seg.evidence { background: #e3effd; border-left-color: #1c83e1; }
.seg.playing { border-left-color: #ff4b4b; background: #fff1f1; }
.who { color: #555; font-size: 13px; margin-right: 6px; white-space: nowrap; }
.play { color: #ff4b4b; }
.role-operator .who, .role-doctor .who { font-weight: 600; }
.low { color: #c45c00; text-decoration: underline dotted; }
.note { color: #555; font-size: 13px; margin: 2px 0 0 22px; }
"""
    + MARK_STYLE
)

_SCRIPT = """
const audio = () => window.parent.document.querySelector("audio");
const segs = Array.from(document.querySelectorAll(".seg"));
for (const seg of segs) {
  seg.addEventListener("click", () => {
    const a = audio();
    if (!a) return;
    a.currentTime = parseFloat(seg.dataset.start);
    a.play();
  });
}
setInterval(() => {
  const a = audio();
  if (!a || a.paused) return;
  for (const seg of segs) {
    const on = a.currentTime >= parseFloat(seg.dataset.start) && a.currentTime < parseFloat(seg.dataset.end);
    seg.classList.toggle("playing", on);
  }
}, 400);
"""


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


def transcript_html(
    segments: Sequence[Segment],
    evidence: Mapping[int, Sequence[str]],
    notes: Mapping[int, Sequence[str]],
    **marks: object,
) -> str:
    """The transcript as a self-contained HTML page (with its own style and click-to-play script);
    ``marks`` are :func:`transcript_rows`' keyword arguments."""
    return render_html(
        "transcript.html",
        style=Markup(_STYLE),  # noqa: S704 - constants of this module
        script=Markup(_SCRIPT),  # noqa: S704
        rows=transcript_rows(segments, evidence, notes, **marks),
    )
