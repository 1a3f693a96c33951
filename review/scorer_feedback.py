"""Disagreements between the scorers and the reviewers, for rubric authors to turn into test cases.

Each row is one criterion of one current (not superseded) review where the reviewer's value
differs from the suggestion or the reviewer gave a reason: the transcript span the suggestion
rested on, the suggestion, the reviewer's value and the reason. Where the suggestion abstained
("kan ikke vurderes automatisk – lytt": the recogniser heard too little to say), ``abstained`` is
true, ``suggested_value`` is None and ``evidence`` is empty: the spans it gave are the stretches to
listen to (``listen_to``), not evidence of anything, and the reviewer's value there is what was
heard, not a disagreement with a "no". Reading it needs the ``export``
right and is audited.
"""

from __future__ import annotations

import json
from pathlib import Path

from lydlogg.access import call_scope, check
from lydlogg.audit import record
from lydlogg.auth import User
from lydlogg.db import connect

__all__ = ["scorer_feedback"]

_QUERY = """
SELECT r.call_id, r.review_id, r.reviewer, r.kind, r.rubric_id, r.rubric_version, s.criterion_id,
       s.suggested_value, s.value, s.override_reason, g.confidence, g.rationale, g.evidence_json,
       r.created_at, coalesce(g.abstained, false)
FROM reviews r
JOIN review_scores s USING (review_id)
JOIN calls c ON c.call_id = r.call_id
LEFT JOIN suggestions g
  ON g.transcript_id = r.transcript_id AND g.rubric_sha256 = r.rubric_sha256 AND g.criterion_id = s.criterion_id
WHERE NOT EXISTS (SELECT 1 FROM reviews n WHERE n.replaces = r.review_id)
  AND (s.override_reason IS NOT NULL OR s.suggested_value IS DISTINCT FROM s.value)
  AND {scope}
  AND (s.suggested_value IS NOT NULL OR g.criterion_id IS NOT NULL)
ORDER BY r.created_at, r.call_id, s.criterion_id
"""


def scorer_feedback(db_path: Path, user: User) -> list[dict]:
    """Every override as a plain dict (``evidence``: the spans with segment, times and text)."""
    check(user, "export")
    where, params = call_scope(user).where("c")  # the calls of the user's units
    with connect(db_path) as con:
        rows = con.execute(_QUERY.format(scope=where), params).fetchall()
        record(con, user.username, "export", "scorer_feedback", None, f"{len(rows)} rows")
    out = []
    for (call_id, review_id, reviewer, kind, rubric_id, version, criterion, suggested, value, reason,
         confidence, rationale, evidence, created_at, abstained) in rows:  # fmt: skip
        spans = json.loads(evidence) if evidence else []
        out.append(
            {
                "call_id": call_id,
                "review_id": review_id,
                "reviewer": reviewer,
                "kind": kind,
                "rubric_id": rubric_id,
                "rubric_version": version,
                "criterion_id": criterion,
                "suggested_value": None if abstained else suggested,
                "abstained": abstained,
                "reviewer_value": value,
                "reason": reason,
                "confidence": confidence,
                "rationale": rationale,
                "evidence": [] if abstained else spans,
                "listen_to": spans if abstained else [],
                "reviewed_at": created_at.isoformat() if created_at else None,
            }
        )
    return out
