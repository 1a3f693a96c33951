"""Repeat contacts: linking calls into episodes, in DuckDB with window functions.

Two contacts belong to one episode when no more than ``window_hours`` separate them from the
previous contact of the chain and

* they concern the same patient (pseudonymised ``patient_ref``, even from different phones), or
* they come from the same phone (pseudonymised ``caller_number``), unless both name a patient
  and the patients differ (a shared phone at a nursing home, say).

Withheld numbers ("ukjent", no digits) never link. Episodes are the connected components of
those links, found by label propagation over patient and phone "sessions" (runs of contacts with
gaps of at most the window). A re-contact (contact number 2 or more) whose operator neither asked
about nor acknowledged the earlier contact (``asks_prior_contact`` = 0, a reviewer's confirmed
value first, else the suggestion) is flagged "rekontakt ikke fanget opp".

The links are stored in the ``episodes`` table (schema v21), which the inbox, the dashboard and
the CLI read. :func:`update_episodes` keeps it current: it relinks only the episodes that calls
arrived or changed since the last update can reach (ingest and ``lydlogg process`` call it), or
every contact when asked (``lydlogg process --stage episodes``) or when ``episodes.window_hours``
changed. Everything is recomputed from ``calls``, so contacts imported late (another service's log,
rows without audio) re-link without any re-transcription. Flags are worked out on read
(:func:`read_episodes`), since reviews and suggestions change without the calls changing.
"""

from __future__ import annotations

from dataclasses import dataclass

import duckdb
import pandas as pd

from lydlogg.db import transaction

__all__ = [
    "EPISODE_COLUMNS",
    "REVIEWED_PRIOR_CONTACT",
    "SUGGESTED_PRIOR_CONTACT",
    "EpisodeUpdate",
    "episodes_for",
    "link_episodes",
    "read_episodes",
    "summarise",
    "update_episodes",
]

EPISODE_COLUMNS = (
    "call_id", "episode_id", "contact_number", "hours_since_previous", "services", "episode_size",
    "episode_span_hours", "started_at", "service", "operator_id", "urgency", "asks_prior_contact",
    "worsening_advice", "flagged",
)  # fmt: skip

_CONTACTS = """
CREATE OR REPLACE TEMP TABLE ep_contacts AS
SELECT c.call_id, c.started_at AS t, c.service, c.operator_id, c.urgency,
       c.caller_pseudonym AS caller, c.patient_pseudonym AS patient,
       row_number() OVER (ORDER BY c.started_at, c.call_id) AS label
FROM calls c
WHERE c.started_at IS NOT NULL {restrict}
"""

_SEED = """
CREATE OR REPLACE TEMP TABLE ep_keys AS
SELECT caller_pseudonym AS k FROM calls JOIN ep_seed USING (call_id) WHERE caller_pseudonym IS NOT NULL
UNION
SELECT patient_pseudonym FROM calls JOIN ep_seed USING (call_id) WHERE patient_pseudonym IS NOT NULL
"""

_GROW = """
INSERT INTO ep_keys (k)
SELECT k FROM (
    SELECT caller_pseudonym AS k FROM calls
    WHERE caller_pseudonym IN (SELECT k FROM ep_keys) OR patient_pseudonym IN (SELECT k FROM ep_keys)
    UNION
    SELECT patient_pseudonym FROM calls
    WHERE caller_pseudonym IN (SELECT k FROM ep_keys) OR patient_pseudonym IN (SELECT k FROM ep_keys)
) WHERE k IS NOT NULL AND k NOT IN (SELECT k FROM ep_keys)
"""

_SESSIONS = """
CREATE OR REPLACE TEMP TABLE ep_nodes AS
WITH by_patient AS (
    SELECT call_id, patient, t,
           CASE WHEN lag(t) OVER w IS NULL OR epoch(t) - epoch(lag(t) OVER w) > ? THEN 1 ELSE 0 END AS brk
    FROM ep_contacts WHERE patient IS NOT NULL
    WINDOW w AS (PARTITION BY patient ORDER BY t, call_id)
), patient_sessions AS (
    SELECT call_id, patient || '#' || sum(brk) OVER (PARTITION BY patient ORDER BY t, call_id) AS psession
    FROM by_patient
), by_caller AS (
    SELECT call_id, caller, t, patient,
           lag(t) OVER w AS prev_t,
           last_value(patient IGNORE NULLS) OVER (PARTITION BY caller ORDER BY t, call_id
               ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING) AS last_patient
    FROM ep_contacts WHERE caller IS NOT NULL
    WINDOW w AS (PARTITION BY caller ORDER BY t, call_id)
), caller_breaks AS (
    SELECT call_id, caller, t,
           CASE WHEN prev_t IS NULL OR epoch(t) - epoch(prev_t) > ?
                     OR (patient IS NOT NULL AND last_patient IS NOT NULL AND patient <> last_patient)
                THEN 1 ELSE 0 END AS brk
    FROM by_caller
), caller_sessions AS (
    SELECT call_id, caller || '#' || sum(brk) OVER (PARTITION BY caller ORDER BY t, call_id) AS csession
    FROM caller_breaks
)
SELECT c.call_id, c.label, p.psession, s.csession
FROM ep_contacts c
LEFT JOIN patient_sessions p USING (call_id)
LEFT JOIN caller_sessions s USING (call_id)
"""

_PROPAGATE = """
CREATE OR REPLACE TEMP TABLE ep_nodes AS
WITH p AS (SELECT psession, min(label) AS m FROM ep_nodes WHERE psession IS NOT NULL GROUP BY psession),
     c AS (SELECT csession, min(label) AS m FROM ep_nodes WHERE csession IS NOT NULL GROUP BY csession)
SELECT n.call_id, least(n.label, coalesce(p.m, n.label), coalesce(c.m, n.label)) AS label, n.psession, n.csession
FROM ep_nodes n LEFT JOIN p USING (psession) LEFT JOIN c USING (csession)
"""

# Whether the operator asked about the earlier contact: a reviewer's newest value per call ...
REVIEWED_PRIOR_CONTACT = """
SELECT r.call_id, arg_max(s.value, r.created_at) AS value
FROM reviews r JOIN review_scores s USING (review_id)
WHERE s.criterion_id = 'asks_prior_contact' GROUP BY r.call_id
"""
# ... else the newest suggestion of any of the call's transcripts. arg_max_null: a newer abstention
# (NULL) is missing, never an older suggestion's zero. A re-contact is flagged when the value taken
# is 0. The dashboard reads these two as well, so the rule has one home.
SUGGESTED_PRIOR_CONTACT = """
SELECT call_id, arg_max_null(value, created_at) AS value
FROM suggestions WHERE criterion_id = 'asks_prior_contact' GROUP BY call_id
"""

_FLAG_CTES = f"""
verdict AS ({REVIEWED_PRIOR_CONTACT}),
prior AS ({SUGGESTED_PRIOR_CONTACT}),
worsening AS (
    SELECT call_id, arg_max_null(value, created_at) AS value
    FROM suggestions WHERE criterion_id = 'worsening_advice' GROUP BY call_id
)"""  # noqa: S608 - only the constant fragments above are formatted in

# The columns after linking: the flag, the call's current metadata and its episode's services.
_FLAGGED = """
SELECT u.call_id, u.episode_id, u.contact_number, u.hours_since_previous, s.services, u.episode_size,
       u.episode_span_hours, u.t AS started_at, u.service, u.operator_id, u.urgency,
       coalesce(v.value, g.value) AS asks_prior_contact, w.value AS worsening_advice,
       u.contact_number >= 2 AND coalesce(v.value, g.value) = 0 AS flagged
FROM numbered u
JOIN services s USING (episode_id)
LEFT JOIN verdict v USING (call_id)
LEFT JOIN prior g USING (call_id)
LEFT JOIN worsening w USING (call_id)
ORDER BY u.episode_id, u.contact_number
"""

_RESULT = f"""
WITH {_FLAG_CTES}, numbered AS (
    SELECT n.call_id, c.t, c.service, c.operator_id, c.urgency,
           'ep-' || min(c.call_id) OVER (PARTITION BY n.label) AS episode_id,
           row_number() OVER (PARTITION BY n.label ORDER BY c.t, c.call_id) AS contact_number,
           epoch(c.t - lag(c.t) OVER (PARTITION BY n.label ORDER BY c.t, c.call_id)) / 3600.0 AS hours_since_previous,
           count(*) OVER (PARTITION BY n.label) AS episode_size,
           epoch(max(c.t) OVER (PARTITION BY n.label) - min(c.t) OVER (PARTITION BY n.label)) / 3600.0
               AS episode_span_hours,
           n.label
    FROM ep_nodes n JOIN ep_contacts c USING (call_id)
), services AS (
    SELECT episode_id, string_agg(DISTINCT service, ',' ORDER BY service) AS services
    FROM numbered GROUP BY episode_id
)
{_FLAGGED}"""  # noqa: S608 - only constant fragments are formatted in

# The stored links (table ``episodes``) with the calls' current metadata; {where} narrows it.
_READ = f"""
WITH {_FLAG_CTES}, numbered AS (
    SELECT e.call_id, e.episode_id, e.contact_number, e.hours_since_previous, e.episode_size,
           e.episode_span_hours, c.started_at AS t, c.service, c.operator_id, c.urgency
    FROM episodes e JOIN calls c USING (call_id)
    {{where}}
), services AS (
    SELECT episode_id, string_agg(DISTINCT service, ',' ORDER BY service) AS services
    FROM numbered GROUP BY episode_id
)
{_FLAGGED}"""  # noqa: S608 - only constant fragments are formatted in


def link_episodes(
    con: duckdb.DuckDBPyConnection,
    window_hours: float = 72.0,
    *,
    call_ids: list[str] | None = None,
    max_rounds: int = 50,
) -> pd.DataFrame:
    """One row per dated contact (columns :data:`EPISODE_COLUMNS`), grouped into episodes.

    With ``call_ids`` (e.g. contacts just imported) only the episodes that can reach them are
    linked: every contact sharing a phone or patient with them, closed over those keys, which is
    all their episodes need and far less than the whole history.
    """
    if window_hours <= 0:
        raise ValueError(f"window_hours must be positive, got {window_hours}")
    restrict = ""
    if call_ids is not None:
        con.execute(
            "CREATE OR REPLACE TEMP TABLE ep_seed AS SELECT unnest(?::VARCHAR[]) AS call_id", [list(call_ids)]
        )
        con.execute(_SEED)
        for _ in range(max_rounds):
            before = con.execute("SELECT count(*) FROM ep_keys").fetchone()[0]
            con.execute(_GROW)
            if con.execute("SELECT count(*) FROM ep_keys").fetchone()[0] == before:
                break
        restrict = (
            "AND (c.call_id IN (SELECT call_id FROM ep_seed) OR c.caller_pseudonym IN (SELECT k FROM ep_keys)"
            " OR c.patient_pseudonym IN (SELECT k FROM ep_keys))"
        )
    con.execute(_CONTACTS.format(restrict=restrict))
    seconds = float(window_hours) * 3600
    con.execute(_SESSIONS, [seconds, seconds])
    for _ in range(max_rounds):
        before = con.execute("SELECT sum(label) FROM ep_nodes").fetchone()[0]
        con.execute(_PROPAGATE)
        if con.execute("SELECT sum(label) FROM ep_nodes").fetchone()[0] == before:
            break
    return con.execute(_RESULT).df()


def summarise(episodes: pd.DataFrame) -> dict[str, int]:
    """Counts for `lydlogg recontacts`: episodes with more than one contact, re-contacts, unrecognised."""
    multi = episodes[episodes["episode_size"] > 1]
    recontacts = episodes[episodes["contact_number"] >= 2]
    return {
        "contacts": len(episodes),
        "episodes": int(multi["episode_id"].nunique()),
        "recontacts": len(recontacts),
        "unrecognised": int(recontacts["flagged"].fillna(False).astype(bool).sum()),
    }


@dataclass(frozen=True)
class EpisodeUpdate:
    """What :func:`update_episodes` did: how many contacts it relinked, of how many stored."""

    relinked: int
    contacts: int
    full: bool
    window_hours: float


# Dated calls that are new or whose time or pseudonyms differ from when they were linked, and
# stored contacts whose call is gone or lost its time: what an incremental update starts from.
_CHANGED = """
SELECT c.call_id FROM calls c LEFT JOIN episodes e USING (call_id)
WHERE c.started_at IS NOT NULL
  AND (e.call_id IS NULL OR e.started_at IS DISTINCT FROM c.started_at
       OR e.caller_pseudonym IS DISTINCT FROM c.caller_pseudonym
       OR e.patient_pseudonym IS DISTINCT FROM c.patient_pseudonym)
UNION
SELECT e.call_id FROM episodes e LEFT JOIN calls c USING (call_id) WHERE c.started_at IS NULL
"""


def update_episodes(
    con: duckdb.DuckDBPyConnection, window_hours: float, *, full: bool = False
) -> EpisodeUpdate:
    """Bring the ``episodes`` table up to date with ``calls``, in one short transaction.

    Only the episodes that new or changed calls can reach are relinked (with their former
    episodes, which a changed call may split); ``full`` relinks every contact, as does a window
    other than the one the table was linked with. The result is what :func:`link_episodes` gives
    over all calls (tested).
    """
    if window_hours <= 0:
        raise ValueError(f"window_hours must be positive, got {window_hours}")
    windows = {r[0] for r in con.execute("SELECT DISTINCT window_hours FROM episodes").fetchall()}
    full = full or bool(windows - {float(window_hours)})
    if full:
        seeds = None
    else:
        changed = [r[0] for r in con.execute(_CHANGED).fetchall()]
        if not changed:
            return EpisodeUpdate(0, _stored(con), False, float(window_hours))
        former = con.execute(
            "SELECT call_id FROM episodes WHERE episode_id IN"
            " (SELECT episode_id FROM episodes WHERE call_id IN (SELECT unnest(?::VARCHAR[])))",
            [changed],
        ).fetchall()
        seeds = list(dict.fromkeys(changed + [r[0] for r in former]))
    linked = link_episodes(con, window_hours, call_ids=seeds)
    con.register("ep_linked", linked[["call_id", "episode_id", "contact_number", "hours_since_previous",
                                      "episode_size", "episode_span_hours"]])  # fmt: skip
    try:
        with transaction(con):
            if seeds is None:
                con.execute("DELETE FROM episodes")
            else:
                con.execute(
                    "DELETE FROM episodes WHERE call_id IN (SELECT unnest(?::VARCHAR[]))"
                    " OR call_id IN (SELECT call_id FROM ep_linked)",
                    [seeds],
                )
            con.execute(
                "INSERT INTO episodes (call_id, episode_id, contact_number, hours_since_previous, episode_size,"
                " episode_span_hours, started_at, caller_pseudonym, patient_pseudonym, window_hours)"
                " SELECT l.call_id, l.episode_id, l.contact_number, l.hours_since_previous, l.episode_size,"
                " l.episode_span_hours, c.started_at, c.caller_pseudonym, c.patient_pseudonym, ?"
                " FROM ep_linked l JOIN calls c USING (call_id)",
                [float(window_hours)],
            )
    finally:
        con.unregister("ep_linked")
    return EpisodeUpdate(len(linked), _stored(con), full, float(window_hours))


def _stored(con: duckdb.DuckDBPyConnection) -> int:
    return con.execute("SELECT count(*) FROM episodes").fetchone()[0]


def read_episodes(con: duckdb.DuckDBPyConnection, *, episode_of: str | None = None) -> pd.DataFrame:
    """The stored episodes (columns :data:`EPISODE_COLUMNS`) with each re-contact's flag as of now;
    ``episode_of`` narrows them to the episode of that call (empty when it has none)."""
    if episode_of is None:
        return con.execute(_READ.format(where="")).df()
    return con.execute(
        _READ.format(where="WHERE e.episode_id = (SELECT episode_id FROM episodes WHERE call_id = ?)"),
        [episode_of],
    ).df()


def episodes_for(con: duckdb.DuckDBPyConnection, window_hours: float | None = None) -> pd.DataFrame:
    """The stored episodes, or, for a window other than the one they were linked with, the same
    rule applied afresh (a what-if that is shown, never stored)."""
    stored = {r[0] for r in con.execute("SELECT DISTINCT window_hours FROM episodes").fetchall()}
    if window_hours is None or not stored or stored == {float(window_hours)}:
        return read_episodes(con)
    return link_episodes(con, window_hours)
