"""Schema v21: re-contact episodes, stored.

One row per dated contact, as :func:`lydlogg.episodes.link_episodes` links them: the episode, the
contact's number in it, and the episode's size and span (its services are read from the calls).
The call's ``started_at`` and pseudonyms at linking time are kept beside them, so a later run
sees which calls arrived or changed since and relinks only the episodes those can reach. ``window_hours`` is the window the row was linked
with; a changed ``episodes.window_hours`` relinks every contact.

Whether a re-contact went unrecognised depends on suggestions and reviews that change without the
calls changing, so it is not stored: :func:`lydlogg.episodes.read_episodes` works it out on read.
"""

MIGRATION = (
    21,
    "re-contact episodes stored, updated as calls arrive",
    """
    CREATE TABLE episodes (
        call_id               VARCHAR PRIMARY KEY,
        episode_id            VARCHAR NOT NULL,
        contact_number        INTEGER NOT NULL,
        hours_since_previous  DOUBLE,
        episode_size          INTEGER NOT NULL,
        episode_span_hours    DOUBLE NOT NULL,
        started_at            TIMESTAMPTZ NOT NULL,
        caller_pseudonym      VARCHAR,
        patient_pseudonym     VARCHAR,
        window_hours          DOUBLE NOT NULL,
        linked_at             TIMESTAMPTZ NOT NULL DEFAULT current_timestamp,
        CHECK (contact_number >= 1),
        CHECK (window_hours > 0)
    );
    """,
)
