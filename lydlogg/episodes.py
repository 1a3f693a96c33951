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

Everything is recomputed from ``calls`` on demand, so contacts imported late (another service's
log, rows without audio) re-link without any re-transcription.
"""

from __future__ import annotations

import duckdb
import pandas as pd

__all__ = ["EPISODE_COLUMNS", "link_episodes", "summarise"]

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

_RESULT = """
WITH verdict AS (
    SELECT r.call_id, arg_max(s.value, r.created_at) AS value
    FROM reviews r JOIN review_scores s USING (review_id)
    WHERE s.criterion_id = 'asks_prior_contact' GROUP BY r.call_id
), suggested AS (
    SELECT call_id,
           -- arg_max_null: a newer abstention (NULL) is missing, never an older suggestion's zero
           arg_max_null(value, created_at) FILTER (WHERE criterion_id = 'asks_prior_contact') AS prior,
           arg_max_null(value, created_at) FILTER (WHERE criterion_id = 'worsening_advice') AS worsening
    FROM suggestions GROUP BY call_id
), numbered AS (
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
    SELECT label, string_agg(DISTINCT service, ',' ORDER BY service) AS services
    FROM numbered GROUP BY label
)
SELECT u.call_id, u.episode_id, u.contact_number, u.hours_since_previous, s.services, u.episode_size,
       u.episode_span_hours, u.t AS started_at, u.service, u.operator_id, u.urgency,
       coalesce(v.value, g.prior) AS asks_prior_contact, g.worsening AS worsening_advice,
       u.contact_number >= 2 AND coalesce(v.value, g.prior) = 0 AS flagged
FROM numbered u
JOIN services s USING (label)
LEFT JOIN verdict v USING (call_id)
LEFT JOIN suggested g USING (call_id)
ORDER BY u.episode_id, u.contact_number
"""


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
