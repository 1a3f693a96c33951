"""Standard worsening advice in the app: the call page, the feedback session, the handout, Oversikt.

:class:`AdviceService` wraps the page's :class:`~review.service.ReviewService` (its user, access
rules and database connection) and returns dataclasses and dataframes for thin pages. The figures
by contact reason use the stored analysis (``advice_results``) for the configured library's hash;
operators and doctors see only their own calls. Every correction of a contact reason is audited.
"""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass

import pandas as pd

from lydlogg.access import OWNER_SQL, call_scope, check, check_call
from lydlogg.advice import (
    AdviceSettings,
    CallAdvice,
    approval_line,
    approval_notice,
    call_advice,
    correct_reason,
    library_for,
    written_advice,
)
from lydlogg.documents import Markup, render_html
from review.feedback import Step
from review.service import ReviewService
from rubrics.advice_library import AdviceLibrary, reflection_questions

__all__ = ["AdviceService", "AdviceView", "handout_section", "with_standard_questions"]

SMS_HEADING = "Slik kunne rådet på SMS ha sett ut"


@dataclass(frozen=True)
class AdviceView:
    advice: CallAdvice
    sms: str | None
    notice: str | None  # shown while the library is not approved
    questions: tuple[str, ...]  # reflection questions that refer to the standard
    approval: str | None = None  # who approved the library and when, once it is approved


class AdviceService:
    def __init__(
        self, service: ReviewService, settings: AdviceSettings, library: AdviceLibrary | None = None
    ) -> None:
        self.service = service
        self.settings = settings
        self.library = library or library_for(settings)

    @property
    def approval(self) -> str | None:
        """Who approved the library and when; None while any standard is an example."""
        return approval_line(self.library)

    @property
    def reasons(self) -> dict[str, str]:
        """Reason id -> name, in library order (for the correction form)."""
        return {s.id: s.navn for s in self.library.standards}

    def _check_call(self, con, action: str, call_id: str) -> None:  # noqa: ANN001 - a DuckDB connection
        check_call(self.service.user, action, con.execute(OWNER_SQL, [call_id]).fetchone())

    def call(self, call_id: str) -> AdviceView:
        """The call's reason, coverage, SMS draft and questions (anyone who may see the call)."""
        with self.service._db() as con:
            self._check_call(con, "view_call", call_id)
            advice, _call = call_advice(con, call_id, self.library)
        sms = written_advice(advice, self.library, self.settings)
        questions = (
            reflection_questions(advice.coverage, self.library.get(advice.reason_id))
            if advice.reason_id
            else ()
        )
        return AdviceView(advice, sms, approval_notice(self.library), tuple(questions), self.approval)

    def correct(self, call_id: str, reason_ids: list[str]) -> CallAdvice:
        """A reviewer sets the call's contact reason(s) (empty: none applies); kept and audited."""
        with self.service._db() as con:
            self._check_call(con, "peer_review", call_id)
            _advice, call = call_advice(con, call_id, self.library)
            tid = con.execute(
                "SELECT transcript_id FROM latest_transcripts WHERE call_id = ?",
                [call_id],
            ).fetchone()[0]
            return correct_reason(
                con, call_id, tuple(reason_ids), self.service.user.username, self.library, call, tid
            )

    def _results(self) -> pd.DataFrame:
        user = self.service.user
        check(user, "view_dashboard")
        where, params = call_scope(user).where("c")  # the operator's own calls, the user's units
        with self.service._db() as con:
            return con.execute(
                f"""
                WITH latest AS (SELECT call_id, transcript_id AS tid FROM latest_transcripts)
                SELECT a.call_id, a.reason_id, strftime(c.started_at, '%Y-%m') AS month, c.operator_id,
                       a.home_care, a.meets_standard, a.missing_json
                FROM advice_results a JOIN latest l ON l.tid = a.transcript_id JOIN calls c ON c.call_id = a.call_id
                WHERE a.library_sha256 = ? AND a.reason_id IS NOT NULL
                  AND {where}
                """,  # noqa: S608 - constant clauses
                [self.library.sha256, *params],
            ).df()

    def by_reason_and_month(self) -> pd.DataFrame:
        """Per contact reason and month: calls with home-care advice, and the share whose advice
        covered at least two of the standard's signs and an action."""
        df = self._results()
        df = df[df["home_care"].fillna(False).astype(bool)]
        cols = ["Kontaktårsak", "Måned", "Samtaler med råd for hjemmet", "Dekker standarden", "Andel"]
        if df.empty:
            return pd.DataFrame(columns=cols)
        df = df.assign(
            month=df["month"].fillna("uten dato"), meets=df["meets_standard"].fillna(False).astype(bool)
        )
        out = (
            df.groupby(["reason_id", "month"])
            .agg(calls=("call_id", "count"), meets=("meets", "sum"))
            .reset_index()
        )
        out["share"] = out["meets"] / out["calls"]
        out["reason_id"] = out["reason_id"].map(self.reasons).fillna(out["reason_id"])
        out.columns = cols
        return out

    def missing_signs(self, top: int = 5) -> pd.DataFrame:
        """Per contact reason, the standard's signs most often left out of home-care advice."""
        df = self._results()
        df = df[df["home_care"].fillna(False).astype(bool)]
        rows = []
        for reason_id, group in df.groupby("reason_id"):
            try:
                std = self.library.get(reason_id)
            except KeyError:
                continue
            labels = {s.id: s.tekst for s in std.tegn}
            counts: dict[str, int] = {}
            for missing in group["missing_json"].dropna():
                for sign in json.loads(missing):
                    counts[sign] = counts.get(sign, 0) + 1
            for sign, n in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))[:top]:
                rows.append({"Kontaktårsak": std.navn, "Tegn som ikke ble nevnt": labels.get(sign, sign),
                             "Ganger utelatt": n, "Andel av samtalene": n / len(group)})  # fmt: skip
        return pd.DataFrame(
            rows, columns=["Kontaktårsak", "Tegn som ikke ble nevnt", "Ganger utelatt", "Andel av samtalene"]
        )


def with_standard_questions(steps: list[Step], view: AdviceView | None) -> list[Step]:
    """The steps with the standard's reflection questions added where worsening advice is discussed
    and on the closing step."""
    if view is None or not view.questions:
        return steps
    extra = tuple(("Standardråd ved forverring", q) for q in view.questions)
    hit = [i for i, s in enumerate(steps) if "worsening_advice" in s.criteria and s.segment_index is not None]
    targets = {len(steps) - 1, *hit[-1:]}
    return [
        dataclasses.replace(s, questions=s.questions + extra) if i in targets else s
        for i, s in enumerate(steps)
    ]


def handout_section(view: AdviceView | None) -> Markup:
    """The handout's part on the standard advice (template ``advice_section.html``, escaped):
    coverage and the SMS draft; empty when the call has no standard advice."""
    if view is None or view.advice.coverage is None:
        return Markup("")
    return Markup(
        render_html(
            "advice_section.html",
            coverage=view.advice.coverage,
            notice=view.notice,
            approval=view.approval,
            sms=view.sms,
            sms_heading=SMS_HEADING,
        )
    )
