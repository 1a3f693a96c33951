"""The inbox's transcript quality mark per call, one rule for every page that filters on it.

A call's mark is the level (:func:`transcription.quality.quality_level`) of its newest transcript's
estimated word accuracy (the ``transcript_quality`` view) against the installation's
``[transcript_quality]`` thresholds; a transcribed call without an estimate was written or corrected
by a person (``skrevet``). The inbox shows and filters by the mark; search keeps the calls marked
``dårlig`` (:data:`POOR`) when asked for poor transcripts.
"""

from __future__ import annotations

from collections.abc import Iterable

import duckdb
import pandas as pd

from lydlogg.settings import TranscriptQualitySettings
from transcription.quality import quality_level

__all__ = ["POOR", "call_quality_mark", "call_quality_marks", "poor_quality_calls"]

POOR = "dårlig"  # heard badly: listen before trusting the text

_NEWEST_QUALITY_SQL = """
SELECT l.call_id, q.quality
FROM latest_transcripts l JOIN transcript_quality q ON q.transcript_id = l.transcript_id
"""


def call_quality_mark(
    quality: float | None, status: str | None, marks: TranscriptQualitySettings
) -> str | None:
    """The inbox's mark of one call: ``god``, ``usikker``, ``dårlig``, ``skrevet`` or None (pure).

    ``quality`` is the newest transcript's estimate (None or NaN when it has none), ``status`` the
    call's processing status.
    """
    if quality is None or pd.isna(quality):  # NaN or NA from a dataframe: no estimate
        return "skrevet" if status == "transcribed" else None
    return quality_level(float(quality), poor_below=marks.poor_below, uncertain_below=marks.uncertain_below)


def call_quality_marks(
    qualities: Iterable[float | None], statuses: Iterable[str | None], marks: TranscriptQualitySettings
) -> list[str | None]:
    """:func:`call_quality_mark` for each call, in order (pure)."""
    return [call_quality_mark(q, s, marks) for q, s in zip(qualities, statuses, strict=True)]


def poor_quality_calls(con: duckdb.DuckDBPyConnection, marks: TranscriptQualitySettings) -> list[str]:
    """The calls the inbox marks ``dårlig``: their newest transcript was heard badly."""
    rows = con.execute(_NEWEST_QUALITY_SQL).fetchall()
    return [call_id for call_id, q in rows if call_quality_mark(q, "transcribed", marks) == POOR]
