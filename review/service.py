"""Queries the app needs, over short-lived database connections.

Each call opens the database read-only for as long as one query takes, so the batch and the app
can take turns on DuckDB's single-writer file.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from lydlogg.db import connect
from lydlogg.store import list_calls, load_transcript
from transcription.types import Transcript

__all__ = ["CallRow", "ReviewService"]


@dataclass(frozen=True)
class CallRow:
    call_id: str
    source_file: str | None
    duration_s: float | None
    status: str


class ReviewService:
    def __init__(self, db_path: Path) -> None:
        self.db_path = Path(db_path)

    def available(self) -> bool:
        return self.db_path.exists()

    def calls(self) -> pd.DataFrame:
        with connect(self.db_path, read_only=True) as con:
            return list_calls(con)

    def transcript(self, call_id: str) -> Transcript:
        with connect(self.db_path, read_only=True) as con:
            return load_transcript(con, call_id)

    def audio_path(self, call_id: str) -> Path | None:
        with connect(self.db_path, read_only=True) as con:
            row = con.execute(
                "SELECT a.path FROM calls c JOIN audio_files a ON a.sha256 = c.audio_sha256 WHERE c.call_id = ?",
                [call_id],
            ).fetchone()
        return Path(row[0]) if row else None
