"""The leader's overview (Oversikt): quality trends, review coverage, re-contacts, reviewer strictness.

Every figure is an aggregate computed in DuckDB and returned as a small dataframe. Months are
calendar months in the configured time zone. The work is split in two layers (see ``_BASE``): a
per-call layer from calls, transcripts and suggestions, the expensive part (a few seconds on a
million calls), kept in this process's memory while those tables are unchanged; and the reviews,
scores and sampling tasks joined onto it for each figure (well under a second). Finished figures
are kept too, so a page rerun recomputes nothing while the data stand still.

Criterion figures per call come from the current (not superseded) peer reviews where the call has
one (several peer reviewers are averaged), and from the automatic suggestions of the call's newest
transcript otherwise. Each figure is given for three sources: ``review`` (reviewed calls only),
``suggestion`` (every call with suggestions) and ``combined`` (review where present, else
suggestion).

Re-contacts are read from the stored episodes (table ``episodes``, kept current by
:func:`lydlogg.episodes.update_episodes`): a call is a re-contact when its contact number is 2 or
more. It is unrecognised when the operator did not ask about the earlier contact, by the rule and
the SQL of :mod:`lydlogg.episodes` (a reviewer's value first, else the suggestion).

Figures are computed by month, service and team (vaktlag: the call's own ``team`` from its
metadata, else the team of its operator in ``operator_teams``; see :mod:`lydlogg.teams`), and
:func:`regroup` adds them up to any coarser grouping: by service (what the methods return unless
told otherwise), by team, or both. They are also computed by unit (legevakt or site, the call's
``unit``), and every user sees the figures of the calls in their scope (:func:`lydlogg.access.call_scope`):
leaders and supervisors those of their own units, the regional quality role every unit's.
Operators and doctors see only their own figures beside their team's median (the service's, for
calls without a team), within their units. Every view of per-operator figures is audited.
"""

from __future__ import annotations

import dataclasses
import logging
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pandas as pd

from lydlogg.access import AccessDenied, CallScope, call_scope, check
from lydlogg.audit import record
from lydlogg.auth import User
from lydlogg.conversation import add_call_measures
from lydlogg.db import connect
from lydlogg.episodes import REVIEWED_PRIOR_CONTACT, SUGGESTED_PRIOR_CONTACT
from lydlogg.metadata import DEMO_DATA_SOURCE
from lydlogg.settings import DashboardSettings
from review.scorer_agreement import ScoredReview, suggestion_agreement

__all__ = [
    "METRICS",
    "SOURCES",
    "DashboardService",
    "DemoData",
    "Metric",
    "Overview",
    "regroup",
    "team_view",
]

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Metric:
    id: str
    criterion_id: str
    kind: str  # "share": share of calls at or above a threshold; "mean": mean value
    label: str


METRICS = (
    Metric("worsening_concrete", "worsening_advice", "share", "Konkrete råd ved forverring (andel)"),
    Metric("open_questions", "open_questions", "mean", "Åpne spørsmål (snitt 0–4)"),
    Metric("safety_netting", "safety_netting", "share", "Sikkerhetsnett (andel)"),
    Metric("asks_prior_contact", "asks_prior_contact", "share", "Spør om tidligere kontakt (andel)"),
)
SOURCES = {"review": "Menneskelig vurdering", "suggestion": "Automatisk forslag", "combined": "Samlet"}
_CRITERIA = tuple(m.criterion_id for m in METRICS)


GROUPINGS = ("service", "team", "unit")


@dataclass(frozen=True)
class Overview:
    """Everything the page shows for a leader or supervisor, by month and by ``grouping``."""

    trends: pd.DataFrame  # month, *grouping, metric, source, value, calls
    coverage: pd.DataFrame  # month, *grouping, calls, sampled, reviewed, sampled_reviewed, self_reviewed
    # month, *grouping, calls, recontacts, unrecognised, recontact_rate, unrecognised_share
    recontacts: pd.DataFrame
    strictness: pd.DataFrame  # reviewer, scores, calls, mean_offset
    settings: DashboardSettings
    window_hours: float
    grouping: tuple[str, ...] = GROUPINGS
    strictness_by_unit: pd.DataFrame | None = None  # reviewer, unit, scores, calls, mean_offset

    def in_units(self, units: Collection[str]) -> Overview:
        """Reviewer strictness over ``units`` only (the other figures are narrowed by their rows)."""
        if self.strictness_by_unit is None:
            return self
        return dataclasses.replace(self, strictness=add_up_strictness(self.strictness_by_unit, units))

    def grouped(self, by: Sequence[str]) -> Overview:
        """The same figures added up by month and ``by`` (a subset of the current grouping)."""
        by = tuple(by)
        if not set(by) <= set(self.grouping):
            raise ValueError(f"figures by {', '.join(self.grouping)} cannot be grouped by {', '.join(by)}")
        return dataclasses.replace(
            self,
            trends=regroup(self.trends, "trends", by),
            coverage=regroup(self.coverage, "coverage", by),
            recontacts=regroup(self.recontacts, "recontacts", by),
            grouping=by,
        )


_COUNTS = {
    "coverage": ["calls", "sampled", "reviewed", "sampled_reviewed", "self_reviewed"],
    "recontacts": ["calls", "recontacts", "unrecognised"],
}


def regroup(df: pd.DataFrame, kind: str, by: Sequence[str]) -> pd.DataFrame:
    """Figures by month, service, team and unit added up to month and ``by`` (any of :data:`GROUPINGS`).

    Counts are summed. A trend value is a share or a mean over the calls that have the criterion,
    so the coarser value is the mean weighted by those calls: exactly what computing it on the
    coarser group gives. Missing teams stay a group of their own (NaN).
    """
    unknown = [g for g in by if g not in GROUPINGS]
    if unknown:
        raise ValueError(f"cannot group by {', '.join(unknown)}; choose from {', '.join(GROUPINGS)}")
    keys = ["month", *by]
    if kind == "trends":
        keys += ["metric", "source"]
        weighted = df.assign(weighted=df["value"] * df["calls"])
        out = weighted.groupby(keys, dropna=False, sort=False)[["weighted", "calls"]].sum().reset_index()
        out["value"] = out["weighted"] / out["calls"]
        out = out[[*keys, "value", "calls"]]
        return out.sort_values(["metric", "source", "month", *by]).reset_index(drop=True)
    counts = _COUNTS[kind]
    out = df.groupby(keys, dropna=False, sort=False)[counts].sum().reset_index()
    if kind == "recontacts":
        out = _recontact_rates(out)
    return out.sort_values(keys).reset_index(drop=True)


def _recontact_rates(df: pd.DataFrame) -> pd.DataFrame:
    df["recontact_rate"] = df["recontacts"] / df["calls"]
    df["unrecognised_share"] = (df["unrecognised"] / df["recontacts"]).where(df["recontacts"] > 0)
    return df


# Figures are computed in two layers. The base layer holds one row per dated call: its month,
# service, operator, whether it is a re-contact (and, if so, the suggested asks_prior_contact) and
# the suggestions of its newest transcript. It depends only on calls, transcripts and suggestions,
# costs a few seconds on a million calls, and is kept in memory while those are unchanged. The
# review layer (reviews, scores, sampling tasks, tens of thousands of rows) is joined onto it for
# every figure, so a saved review costs well under a second to show.
_BASE = f"""
WITH latest AS (SELECT call_id, transcript_id AS tid FROM latest_transcripts),
suggested AS (
    SELECT s.call_id,
           {", ".join(f"arg_max_null(s.value, s.created_at) FILTER (WHERE s.criterion_id = '{c}') AS s_{c}" for c in _CRITERIA)}
    FROM suggestions s JOIN latest l ON l.tid = s.transcript_id
    WHERE s.criterion_id IN ({", ".join(f"'{c}'" for c in _CRITERIA)})
    GROUP BY s.call_id
), c AS (
    SELECT calls.call_id, calls.started_at AS t, calls.service, calls.operator_id,
           coalesce(calls.team, ot.team) AS team, calls.unit
    FROM calls LEFT JOIN operator_teams ot ON ot.operator_id = calls.operator_id
    WHERE calls.started_at IS NOT NULL
), recontact AS (
    SELECT call_id FROM episodes WHERE contact_number >= 2
), prior AS ({SUGGESTED_PRIOR_CONTACT}), hours AS (
    SELECT call_id, epoch_us(t) // 3600000000 AS h FROM c
), hour_months AS (
    -- Oslo's offset from UTC is whole hours, so a call's month follows from its UTC hour: the
    -- time-zone conversion runs once per hour of the year instead of once per call.
    SELECT h, strftime(timezone($tz, make_timestamptz(h * 3600000000)), '%Y-%m') AS month
    FROM (SELECT DISTINCT h FROM hours)
)
SELECT c.call_id, m.month, c.service, c.team, c.unit, c.operator_id,
       x.call_id IS NOT NULL AS recontact, p.value AS recontact_prior_suggested,
       {", ".join(f"g.s_{c}" for c in _CRITERIA)}
FROM c JOIN hours USING (call_id) JOIN hour_months m USING (h)
LEFT JOIN suggested g USING (call_id) LEFT JOIN recontact x USING (call_id) LEFT JOIN prior p USING (call_id)
"""  # noqa: S608 - only the fixed criterion ids are formatted in

_PEER = f"""
peer AS (
    SELECT r.call_id,
           {", ".join(f"avg(v.value) FILTER (WHERE v.criterion_id = '{c}') AS h_{c}" for c in _CRITERIA)}
    FROM reviews r JOIN review_scores v USING (review_id)
    WHERE r.kind = 'peer' AND NOT EXISTS (SELECT 1 FROM reviews n WHERE n.replaces = r.review_id)
    GROUP BY r.call_id
)
"""  # noqa: S608 - only the fixed criterion ids are formatted in

# The same for an operator's or doctor's own view: a peer review of one of their own calls counts
# only once they have saved a self-review of it (as on the call page, their judgement comes first).
_PEER_AFTER_SELF_REVIEW = _PEER.replace(
    "WHERE r.kind = 'peer'",
    "WHERE r.kind = 'peer' AND (r.call_id NOT IN (SELECT call_id FROM calls WHERE operator_id = $operator_id)"
    " OR r.call_id IN (SELECT call_id FROM reviews WHERE kind = 'self' AND reviewer = $reviewer))",
)
assert _PEER_AFTER_SELF_REVIEW != _PEER

# One row per call with the suggested (s_), reviewed (h_) and combined (b_) value of each criterion.
_PER_CALL = f"""
per_call AS (
    SELECT b.call_id, b.month, b.service, b.team, b.unit, b.operator_id, p.call_id IS NOT NULL AS reviewed,
           {", ".join(f"b.s_{c}, p.h_{c}, CASE WHEN p.call_id IS NOT NULL THEN p.h_{c} ELSE b.s_{c} END AS b_{c}" for c in _CRITERIA)}
    FROM dash_base b LEFT JOIN peer p USING (call_id)
)
"""  # noqa: S608 - only the fixed criterion ids are formatted in


def _aggregates(prefix: str, settings: DashboardSettings, suffix: str = "") -> list[str]:
    """SQL aggregates of every metric over the per-call columns ``{prefix}_{criterion}``."""
    thresholds = {
        "worsening_concrete": settings.worsening_concrete_min,
        "safety_netting": settings.safety_netting_min,
        "asks_prior_contact": 1,
    }
    out = []
    for m in METRICS:
        col = f"{prefix}_{m.criterion_id}"
        if m.kind == "mean":
            out.append(f"avg({col}) AS {m.id}{suffix}")
        else:
            out.append(
                f"avg(CASE WHEN {col} IS NULL THEN NULL WHEN {col} >= {int(thresholds[m.id])} THEN 1.0"
                f" ELSE 0.0 END) AS {m.id}{suffix}"
            )
        out.append(f"count({col}) AS {m.id}{suffix}_n")
    return out


_COVERAGE = """
WITH peer AS (SELECT DISTINCT call_id FROM reviews WHERE kind = 'peer'),
own AS (SELECT DISTINCT call_id FROM reviews WHERE kind = 'self'),
sampled AS (SELECT DISTINCT call_id FROM review_tasks)
SELECT b.month, b.service, b.team, b.unit, count(*) AS calls, count(t.call_id) AS sampled,
       count(p.call_id) AS reviewed,
       count(*) FILTER (WHERE t.call_id IS NOT NULL AND p.call_id IS NOT NULL) AS sampled_reviewed,
       count(o.call_id) AS self_reviewed
FROM dash_base b
LEFT JOIN sampled t USING (call_id) LEFT JOIN peer p USING (call_id) LEFT JOIN own o USING (call_id)
GROUP BY ALL ORDER BY b.month, b.service, b.team, b.unit
"""

_RECONTACTS = f"""
WITH verdict AS ({REVIEWED_PRIOR_CONTACT})
SELECT b.month, b.service, b.team, b.unit, count(*) AS calls, count(*) FILTER (WHERE b.recontact) AS recontacts,
       count(*) FILTER (WHERE b.recontact AND coalesce(v.value, b.recontact_prior_suggested) = 0) AS unrecognised
FROM dash_base b LEFT JOIN verdict v USING (call_id)
GROUP BY ALL ORDER BY b.month, b.service, b.team, b.unit
"""  # noqa: S608 - only the constant fragment of lydlogg.episodes is formatted in

_STRICTNESS = """
WITH scores AS (
    SELECT r.call_id, c.unit, r.reviewer, s.criterion_id, s.value
    FROM reviews r JOIN review_scores s USING (review_id) JOIN calls c ON c.call_id = r.call_id
    WHERE r.kind = 'peer' AND s.value IS NOT NULL
      AND NOT EXISTS (SELECT 1 FROM reviews n WHERE n.replaces = r.review_id)
), offsets AS (
    SELECT reviewer, call_id, unit,
           value - avg(value) OVER (PARTITION BY call_id, criterion_id) AS offset_points,
           count(*) OVER (PARTITION BY call_id, criterion_id) AS reviewers
    FROM scores
)
SELECT reviewer, unit, count(*) AS scores, count(DISTINCT call_id) AS calls, avg(offset_points) AS mean_offset
FROM offsets WHERE reviewers >= 2
GROUP BY reviewer, unit ORDER BY mean_offset, reviewer
"""


def _melt_trends(wide: pd.DataFrame) -> pd.DataFrame:
    """Wide per-source aggregates to rows of (month, service, team, unit, metric, source, value, calls)."""
    parts = []
    for source in SOURCES:
        for m in METRICS:
            part = wide[["month", *GROUPINGS]].copy()
            part["metric"] = m.id
            part["source"] = source
            part["value"] = wide[f"{m.id}_{source}"].astype(float)
            part["calls"] = wide[f"{m.id}_{source}_n"].astype(int)
            parts.append(part)
    out = pd.concat(parts, ignore_index=True)
    out = out[out["calls"] > 0]
    return out.sort_values(["metric", "source", "month", *GROUPINGS]).reset_index(drop=True)


def _within(figures: pd.DataFrame, scope: CallScope) -> pd.DataFrame:
    """A figure table (kept by unit) narrowed to the units ``scope`` admits, as a copy."""
    if scope.units is None:
        return figures.copy()
    return figures[figures["unit"].isin(scope.units)].reset_index(drop=True)


def add_up_strictness(by_unit: pd.DataFrame, units: Collection[str] | None = None) -> pd.DataFrame:
    """Reviewer strictness by reviewer and unit added up per reviewer, over ``units`` (None: all
    rows). Each call has one unit, so the weighted sums are exact."""
    df = by_unit if units is None else by_unit[by_unit["unit"].isin(list(units))]
    df = df.assign(weighted=df["mean_offset"] * df["scores"])
    out = df.groupby("reviewer", as_index=False)[["scores", "calls", "weighted"]].sum()
    out["mean_offset"] = out["weighted"] / out["scores"]
    return out.drop(columns="weighted").sort_values(["mean_offset", "reviewer"]).reset_index(drop=True)


MIN_PEERS = 3  # a median over fewer people tells an operator what their colleagues scored


def team_view(
    per_operator: pd.DataFrame, operator_id: str | None = None, *, min_peers: int = 0
) -> pd.DataFrame:
    """Per-operator rows (all, or one operator's) with each team's median beside them.

    The median is taken over the operators with calls in the same month, service and team (and
    unit, where the rows have one; calls without a team form one group per service); its rows have ``row = "team_median"`` and no
    operator id. A group of fewer than ``min_peers`` operators gets no median (an operator's own
    view uses :data:`MIN_PEERS`: with two, the median gives the colleague's figures away).
    """
    metric_ids = [m.id for m in METRICS]
    if per_operator.empty:
        return per_operator.assign(row=pd.Series(dtype=str))
    group = ["month", "service", "team", *(["unit"] if "unit" in per_operator else [])]
    grouped = per_operator.groupby(group, dropna=False)
    median = (
        grouped[["calls", *metric_ids]]
        .median()
        .assign(peers=grouped["operator_id"].nunique())
        .reset_index()
        .assign(operator_id=None, row="team_median")
    )
    median = median[median["peers"] >= min_peers].drop(columns="peers")
    mine = per_operator if operator_id is None else per_operator[per_operator["operator_id"] == operator_id]
    if operator_id is not None:  # only the groups this operator is in (a missing team is a group too)

        def keys(df: pd.DataFrame) -> list[tuple]:
            return list(df[group].astype(object).fillna("").itertuples(index=False, name=None))

        wanted = set(keys(mine))
        median = median[[k in wanted for k in keys(median)]]
    out = pd.concat([mine.assign(row="operator"), median], ignore_index=True)
    return out.sort_values([*group, "row", "operator_id"], na_position="last").reset_index(drop=True)


# What changes when calls, transcripts or suggestions change (the base layer), and when reviews or
# sampling tasks do (the figures). Results are kept per version, and at most _MEMO_TTL_S, so page
# reruns and audit writes recompute nothing.
_BASE_VERSION = """
SELECT (SELECT count(*) FROM calls), (SELECT max(created_at) FROM calls), (SELECT count(*) FROM transcripts),
       (SELECT count(*) FROM suggestions), (SELECT max(created_at) FROM suggestions),
       (SELECT count(*) FROM operator_teams), (SELECT max(updated_at) FROM operator_teams),
       (SELECT count(*) FROM episodes), (SELECT max(linked_at) FROM episodes)
"""
# Late metadata updates calls in place, which the counts above miss: this digest catches it. It
# reads every call (about 0.2 s of CPU on a million), so it is re-checked at most every
# _DIGEST_RECHECK_S; a metadata fix shows on the dashboard within that time.
_CALLS_DIGEST = """
SELECT bit_xor(hash(call_id, started_at, service, operator_id, team, unit, caller_pseudonym, patient_pseudonym))
FROM calls
"""
_DIGEST_RECHECK_S = 60.0
_DIGESTS: dict[tuple, tuple[float, int]] = {}
_REVIEW_VERSION = """
SELECT (SELECT count(*) FROM reviews), (SELECT max(created_at) FROM reviews),
       (SELECT count(*) FROM review_scores), (SELECT count(*) FROM review_tasks)
"""
_MEMO: OrderedDict[tuple, tuple[float, object]] = OrderedDict()
_MEMO_LOCK = threading.Lock()
_MEMO_SIZE = 20
_MEMO_TTL_S = 600.0


@dataclass(frozen=True)
class DemoData:
    """How many of the dated calls a user's Oversikt counts are the demo's invented history
    (``calls.metadata_source`` :data:`lydlogg.metadata.DEMO_DATA_SOURCE`), and their months."""

    calls: int
    of_calls: int  # every dated call in the user's scope
    first_month: str | None  # "2025-09"; None without demo calls
    last_month: str | None
    by_month: tuple[tuple[str, int], ...] = ()  # ("2025-09", demo calls that month), months with any

    def in_month(self, month: str) -> int:
        """How many of ``month``'s (YYYY-MM) calls are demo data."""
        return dict(self.by_month).get(month, 0)


_DEMO_SQL = """
WITH dated AS (
    SELECT c.metadata_source = ? AS demo, strftime(timezone(?, c.started_at), '%Y-%m') AS month
    FROM calls c WHERE c.started_at IS NOT NULL AND {scope}
)
SELECT count(*) FILTER (WHERE demo), count(*), min(month) FILTER (WHERE demo), max(month) FILTER (WHERE demo),
       (SELECT list(struct_pack(month := month, n := n) ORDER BY month)
        FROM (SELECT month, count(*) AS n FROM dated WHERE demo GROUP BY month))
FROM dated
"""  # {scope}: lydlogg.access.CallScope.where, a fixed condition with ? parameters

# Current (not superseded) peer reviews' values beside the suggestion they were shown.
_SCORER_ROWS = """
SELECT s.criterion_id, r.created_at, s.suggested_value, s.value
FROM reviews r JOIN review_scores s USING (review_id) JOIN calls c ON c.call_id = r.call_id
WHERE r.kind = 'peer' AND s.suggested_value IS NOT NULL
  AND NOT EXISTS (SELECT 1 FROM reviews n WHERE n.replaces = r.review_id)
  AND {scope}
"""


class DashboardService:
    """Queries for the Oversikt page; access is checked and per-operator views audited here."""

    def __init__(
        self,
        db_path: Path,
        user: User,
        settings: DashboardSettings | None = None,
        *,
        window_hours: float = 72.0,
        cache: bool = True,
    ) -> None:
        """``window_hours`` is the episode window (``episodes.window_hours``) the stored episodes
        were linked with, as the page and report state it (the links themselves are read from the
        ``episodes`` table: :func:`lydlogg.episodes.update_episodes`); ``cache`` keeps computed figures in this process until the data change (see :data:`_VERSION`)."""
        if window_hours <= 0:
            raise ValueError(f"window_hours must be positive, got {window_hours}")
        self.db_path = Path(db_path)
        self.user = user
        self.settings = settings or DashboardSettings()
        self.window_hours = float(window_hours)
        self.cache = cache

    def record_download(self, what: str, object_id: str | None = None) -> None:
        """Audit a figure table or report the user took away (a download button's ``on_click``)."""
        with connect(self.db_path) as con:
            record(con, self.user.username, "download", "file", object_id, what)

    def available(self) -> bool:
        return self.db_path.exists()

    @property
    def own_only(self) -> bool:
        """Whether this user sees only their own figures (operators and doctors)."""
        return self.user.own_calls_only

    def _check_all(self) -> None:
        check(self.user, "view_dashboard")
        if self.user.own_calls_only:
            raise AccessDenied()

    def _trends(self, con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
        aggregates = [
            *_aggregates("h", self.settings, "_review"),
            *_aggregates("s", self.settings, "_suggestion"),
            *_aggregates("b", self.settings, "_combined"),
        ]
        sql = f"WITH {_PEER}, {_PER_CALL} SELECT month, service, team, unit, {', '.join(aggregates)} FROM per_call GROUP BY ALL"  # noqa: S608, E501
        return _melt_trends(con.execute(sql).df())

    def _coverage(self, con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
        return con.execute(_COVERAGE).df()

    def _recontacts(self, con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
        return _recontact_rates(con.execute(_RECONTACTS).df())

    def _strictness(self, con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
        return con.execute(_STRICTNESS).df()

    def _per_operator(
        self, con: duckdb.DuckDBPyConnection, viewer: tuple[str, str] | None = None
    ) -> pd.DataFrame:
        """``viewer``: (username, operator id) of an operator or doctor looking at their own figures."""
        aggregates = [a for a in _aggregates("b", self.settings) if not a.split(" AS ")[1].endswith("_n")]
        peer = _PEER if viewer is None else _PEER_AFTER_SELF_REVIEW
        params = None if viewer is None else {"reviewer": viewer[0], "operator_id": viewer[1]}
        return con.execute(
            f"WITH {peer}, {_PER_CALL} SELECT month, service, team, unit, operator_id, count(*) AS calls,"  # noqa: S608
            " count(*) FILTER (WHERE reviewed) AS reviewed,"
            f" {', '.join(aggregates)} FROM per_call WHERE operator_id IS NOT NULL"
            " GROUP BY ALL ORDER BY month, service, team, unit, operator_id",
            params,
        ).df()

    def _remember(self, key: tuple, compute: Callable[[], object]) -> object:
        now = time.monotonic()
        hit = _MEMO.get(key) if self.cache else None
        if hit is not None and now - hit[0] < _MEMO_TTL_S:
            return hit[1]
        value = compute()
        if self.cache:
            with _MEMO_LOCK:
                if key[1] == "base":  # one base layer per database: it is the large entry
                    for old in [k for k in _MEMO if k[:2] == key[:2]]:
                        del _MEMO[old]
                _MEMO[key] = (now, value)
                while len(_MEMO) > _MEMO_SIZE:
                    _MEMO.pop(next(iter(_MEMO)))
        return value

    def _base_version(self, con: duckdb.DuckDBPyConnection, where: str) -> tuple:
        counts = con.execute(_BASE_VERSION).fetchall()[0]
        now = time.monotonic()
        checked = _DIGESTS.get((where, counts))
        if checked is None or now - checked[0] >= _DIGEST_RECHECK_S:
            checked = (now, con.execute(_CALLS_DIGEST).fetchall()[0][0])
            with _MEMO_LOCK:
                if len(_DIGESTS) > 100:
                    _DIGESTS.clear()
                _DIGESTS[(where, counts)] = checked
        return (*counts, checked[1])

    def _figures(
        self, con: duckdb.DuckDBPyConnection, names: tuple[str, ...], viewer: tuple[str, str] | None = None
    ) -> dict[str, pd.DataFrame]:
        """The named figure tables, from the memo while the data are unchanged, else computed
        (``viewer``: see :meth:`_per_operator`)."""
        where = str(self.db_path.resolve())
        base_version = self._base_version(con, where) if self.cache else None
        review_version = con.execute(_REVIEW_VERSION).fetchall()[0] if self.cache else None
        state = {"base": False}

        def need_base() -> None:
            if not state["base"]:
                base = self._remember(
                    (where, "base", base_version, self.window_hours, self.settings.timezone),
                    # On DuckDB 1.5 a prepared result converts to Arrow about 3x faster than a relation.
                    lambda: con.execute(_BASE, {"tz": self.settings.timezone}).to_arrow_table(),
                )
                con.register("dash_base", base)
                state["base"] = True

        def compute(name: str) -> pd.DataFrame:
            need_base()
            return {
                "trends": self._trends,
                "coverage": self._coverage,
                "recontacts": self._recontacts,
                "strictness": self._strictness,
                "per_operator": lambda c: self._per_operator(c, viewer),
            }[name](con)

        key = (where, base_version, review_version, self.settings, self.window_hours)
        scope = call_scope(self.user)
        return {
            name: _within(self._remember((*key, name, viewer), lambda name=name: compute(name)), scope)  # type: ignore[arg-type]
            for name in names
        }

    def scorer_agreement(self) -> pd.DataFrame:
        """Per criterion and month, and over the last ``scorer_agreement_last_n`` reviews: how often
        the automatic suggestion equals the reviewer's saved value (exact, within one, kappa), with
        the number of reviews and ``under_grense`` where the last-N figure is below the threshold."""
        self._check_all()
        where, params = call_scope(self.user).where("c")
        with connect(self.db_path, read_only=True) as con:
            rows = con.execute(_SCORER_ROWS.format(scope=where), params).fetchall()
        figures = suggestion_agreement(
            (ScoredReview(*r) for r in rows),
            last_n=self.settings.scorer_agreement_last_n,
            threshold=self.settings.scorer_agreement_min,
            timezone=self.settings.timezone,
        )
        columns = ["criterion_id", "period", "reviews", "exact", "within_one", "kappa", "under_grense"]
        return pd.DataFrame([dataclasses.astuple(f) for f in figures], columns=columns)

    def demo_data(self) -> DemoData:
        """How much of what this user's Oversikt counts is demo data (operators: of their own calls)."""
        check(self.user, "view_dashboard")
        where, params = call_scope(self.user).where("c")
        with connect(self.db_path, read_only=True) as con:
            row = con.execute(
                _DEMO_SQL.format(scope=where), [DEMO_DATA_SOURCE, self.settings.timezone, *params]
            ).fetchone()
        by_month = tuple((m["month"], int(m["n"])) for m in row[4] or ())
        return DemoData(int(row[0]), int(row[1]), row[2], row[3], by_month)

    def trends(self, by: Sequence[str] = ("service",)) -> pd.DataFrame:
        """Criterion figures by month and ``by`` (service, team) for each source (leaders and
        supervisors)."""
        self._check_all()
        with connect(self.db_path) as con:
            return regroup(self._figures(con, ("trends",))["trends"], "trends", by)

    def coverage(self, by: Sequence[str] = ("service",)) -> pd.DataFrame:
        """All calls, calls sampled for review and calls peer-reviewed, by month and ``by``."""
        self._check_all()
        with connect(self.db_path) as con:
            return regroup(self._figures(con, ("coverage",))["coverage"], "coverage", by)

    def recontacts(self, by: Sequence[str] = ("service",)) -> pd.DataFrame:
        """Re-contacts and unrecognised re-contacts by month and ``by``."""
        self._check_all()
        with connect(self.db_path) as con:
            return regroup(self._figures(con, ("recontacts",))["recontacts"], "recontacts", by)

    def strictness(self) -> pd.DataFrame:
        """Each peer reviewer's mean offset (points) from the mean of all current peer reviews of the
        same call and criterion, over calls with two or more reviewers; negative is stricter."""
        self._check_all()
        with connect(self.db_path) as con:
            return add_up_strictness(self._figures(con, ("strictness",))["strictness"])

    def overview(self) -> Overview:
        """All aggregate figures in one connection (what the page shows leaders), by month, service
        and team; :meth:`Overview.grouped` adds them up."""
        self._check_all()
        with connect(self.db_path) as con:
            f = self._figures(con, ("trends", "coverage", "recontacts", "strictness"))
        return Overview(
            f["trends"], f["coverage"], f["recontacts"], add_up_strictness(f["strictness"]), self.settings,
            self.window_hours, strictness_by_unit=f["strictness"],
        )  # fmt: skip

    def conversation(self, by: Sequence[str] = ("operator_id", "service")) -> pd.DataFrame:
        """Mean conversation measures (talk time, silence, talk-over, ...) per operator and service;
        operators and doctors get only their own calls."""
        check(self.user, "view_dashboard")
        if self.user.own_calls_only and not self.user.operator_id:
            raise AccessDenied()
        return _conversation_of(self, by)

    def operator_figures(self, operator_id: str | None = None) -> pd.DataFrame:
        """Per operator, month, service and team: calls, reviewed calls and the combined criterion
        figures, with the team's median beside them (see :func:`team_view`).

        Operators and doctors get only their own rows, whatever ``operator_id`` they ask for
        another's is refused. Leaders and supervisors get every operator, or the one asked for.
        """
        check(self.user, "view_dashboard")
        if self.user.own_calls_only:
            if operator_id not in (None, self.user.operator_id) or not self.user.operator_id:
                raise AccessDenied()
            operator_id = self.user.operator_id
        with connect(self.db_path) as con:
            viewer = (self.user.username, operator_id) if self.user.own_calls_only else None
            figures = self._figures(con, ("per_operator",), viewer)["per_operator"]
            record(
                con,
                self.user.username,
                "view_dashboard",
                "operator",
                operator_id or "*",
                "per-operator figures",
            )
        log.info("per-operator figures viewed (%s operators)", figures["operator_id"].nunique())
        return team_view(figures, operator_id, min_peers=MIN_PEERS if self.user.own_calls_only else 0)


_MEASURE_MEANS = (
    "staff_talk_s",
    "caller_talk_s",
    "talk_ratio",
    "silence_share",
    "longest_silence_s",
    "overlap_s",
    "interruptions_by_staff",
    "interruptions_by_caller",
    "time_to_first_question_s",
    "longest_staff_monologue_s",
)


def conversation_summary(calls: pd.DataFrame, by: Sequence[str]) -> pd.DataFrame:
    """Mean conversation measures per group of ``calls`` (one row per call with its measures),
    with the number of calls measured and how many of them were exact (stereo)."""
    measured = calls[calls["basis"].notna()]
    if measured.empty:
        return pd.DataFrame(columns=[*by, "calls", "exact_calls", *_MEASURE_MEANS])
    keyed = measured.assign(**{k: measured[k].fillna("ukjent") for k in by})
    grouped = keyed.groupby(list(by), dropna=False)
    out = grouped[list(_MEASURE_MEANS)].mean(numeric_only=True).round(2)
    out.insert(0, "exact_calls", grouped["basis"].apply(lambda b: int((b == "exact").sum())))
    out.insert(0, "calls", grouped.size())
    return out.reset_index()


def _conversation_of(service: DashboardService, by: Sequence[str]) -> pd.DataFrame:
    where, params = call_scope(service.user).where("c")  # the operator's own calls, the user's units
    with connect(service.db_path) as con:
        calls = con.execute(
            f"SELECT c.call_id, c.service, c.operator_id, c.unit FROM calls c WHERE {where}",  # noqa: S608 - constant clauses
            params,
        ).df()
        return conversation_summary(add_call_measures(con, calls), by)


def warm_in_background(service: DashboardService) -> threading.Thread:
    """Compute the overview in a daemon thread, so that the first visit to Oversikt after a server
    start finds the per-call base layer in memory (at 1,000,000 calls it takes several seconds)."""

    def run() -> None:
        try:
            service.overview()
        except Exception:  # a warm-up must never disturb the app; the page reports real errors
            log.warning("dashboard warm-up failed", exc_info=True)

    thread = threading.Thread(target=run, name="lydlogg-dashboard-warm-up", daemon=True)
    thread.start()
    return thread
