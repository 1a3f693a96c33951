"""Versioned schema of the Lydlogg database.

Each migration is applied once, in order, inside one transaction together with the row that
records it in ``schema_version``. Never edit a migration that has shipped: add a new one.
"""

from __future__ import annotations

import re

MIGRATIONS: tuple[tuple[int, str, str], ...] = (
    (
        1,
        "calls, audio files, transcripts, segments, words, runs and failures",
        """
        CREATE TABLE audio_files (
            sha256        VARCHAR PRIMARY KEY,
            path          VARCHAR NOT NULL,
            size_bytes    BIGINT NOT NULL,
            container     VARCHAR NOT NULL,
            subtype       VARCHAR,
            sample_rate   INTEGER NOT NULL,
            channels      INTEGER NOT NULL,
            frames        BIGINT NOT NULL,
            duration_s    DOUBLE NOT NULL,
            ingested_at   TIMESTAMPTZ NOT NULL DEFAULT current_timestamp
        );

        CREATE TABLE calls (
            call_id            VARCHAR PRIMARY KEY,
            audio_sha256       VARCHAR UNIQUE,
            started_at         TIMESTAMPTZ,
            service            VARCHAR,
            operator_id        VARCHAR,
            caller_pseudonym   VARCHAR,
            patient_pseudonym  VARCHAR,
            urgency            VARCHAR,
            metadata_source    VARCHAR,
            created_at         TIMESTAMPTZ NOT NULL DEFAULT current_timestamp,
            CHECK (service IS NULL OR service IN ('lvs', 'amk', 'legevaktlege', 'fastlege')),
            CHECK (urgency IS NULL OR urgency IN ('red', 'yellow', 'green'))
        );

        CREATE TABLE runs (
            run_id            VARCHAR PRIMARY KEY,
            started_at        TIMESTAMPTZ NOT NULL,
            finished_at       TIMESTAMPTZ,
            software_version  VARCHAR NOT NULL,
            model_id          VARCHAR NOT NULL,
            model_sha256      VARCHAR,
            options_json      VARCHAR NOT NULL,
            options_hash      VARCHAR NOT NULL,
            files_total       INTEGER NOT NULL DEFAULT 0,
            files_done        INTEGER NOT NULL DEFAULT 0,
            files_failed      INTEGER NOT NULL DEFAULT 0
        );

        CREATE TABLE transcripts (
            transcript_id        VARCHAR PRIMARY KEY,
            call_id              VARCHAR NOT NULL,
            audio_sha256         VARCHAR NOT NULL,
            run_id               VARCHAR NOT NULL,
            model_id             VARCHAR NOT NULL,
            options_hash         VARCHAR NOT NULL,
            language             VARCHAR NOT NULL,
            layout               VARCHAR NOT NULL,
            channels_transcribed INTEGER NOT NULL,
            duration_s           DOUBLE NOT NULL,
            speech_s             DOUBLE NOT NULL,
            asr_seconds          DOUBLE NOT NULL,
            created_at           TIMESTAMPTZ NOT NULL DEFAULT current_timestamp,
            UNIQUE (audio_sha256, model_id, options_hash),
            CHECK (layout IN ('mono', 'stereo', 'dual_mono'))
        );

        CREATE TABLE segments (
            transcript_id   VARCHAR NOT NULL,
            segment_index   INTEGER NOT NULL,
            channel         INTEGER,
            start_s         DOUBLE NOT NULL,
            end_s           DOUBLE NOT NULL,
            text            VARCHAR NOT NULL,
            speaker         VARCHAR,
            role            VARCHAR,
            avg_logprob     DOUBLE,
            no_speech_prob  DOUBLE,
            PRIMARY KEY (transcript_id, segment_index)
        );

        CREATE TABLE words (
            transcript_id   VARCHAR NOT NULL,
            segment_index   INTEGER NOT NULL,
            word_index      INTEGER NOT NULL,
            channel         INTEGER,
            start_s         DOUBLE NOT NULL,
            end_s           DOUBLE NOT NULL,
            text            VARCHAR NOT NULL,
            probability     DOUBLE NOT NULL,
            PRIMARY KEY (transcript_id, segment_index, word_index)
        );

        CREATE SEQUENCE failure_ids START 1;
        CREATE TABLE failures (
            failure_id   BIGINT PRIMARY KEY DEFAULT nextval('failure_ids'),
            run_id       VARCHAR,
            call_id      VARCHAR,
            path         VARCHAR,
            stage        VARCHAR NOT NULL,
            reason       VARCHAR NOT NULL,
            occurred_at  TIMESTAMPTZ NOT NULL DEFAULT current_timestamp,
            resolved_at  TIMESTAMPTZ,
            CHECK (stage IN ('ingest', 'metadata', 'decode', 'transcribe'))
        );
        """,
    ),
)

MIGRATIONS += (
    (
        2,
        "rubric suggestions, imported transcripts, scoring failures",
        """
        ALTER TABLE calls ADD COLUMN source VARCHAR DEFAULT 'audio';

        CREATE TABLE suggestions (
            transcript_id     VARCHAR NOT NULL,
            call_id           VARCHAR NOT NULL,
            rubric_id         VARCHAR NOT NULL,
            rubric_version    INTEGER NOT NULL,
            rubric_sha256     VARCHAR NOT NULL,
            criterion_id      VARCHAR NOT NULL,
            value             INTEGER,
            confidence        DOUBLE NOT NULL,
            evidence_json     VARCHAR NOT NULL,
            rationale         VARCHAR NOT NULL,
            software_version  VARCHAR NOT NULL,
            created_at        TIMESTAMPTZ NOT NULL DEFAULT current_timestamp,
            PRIMARY KEY (transcript_id, rubric_sha256, criterion_id)
        );

        CREATE TABLE failures_v2 (
            failure_id   BIGINT PRIMARY KEY DEFAULT nextval('failure_ids'),
            run_id       VARCHAR,
            call_id      VARCHAR,
            path         VARCHAR,
            stage        VARCHAR NOT NULL,
            reason       VARCHAR NOT NULL,
            occurred_at  TIMESTAMPTZ NOT NULL DEFAULT current_timestamp,
            resolved_at  TIMESTAMPTZ,
            CHECK (stage IN ('ingest', 'metadata', 'decode', 'transcribe', 'import', 'score'))
        );
        INSERT INTO failures_v2 SELECT * FROM failures;
        DROP TABLE failures;
        ALTER TABLE failures_v2 RENAME TO failures;
        """,
    ),
)
MIGRATIONS += (
    (
        3,
        "users, audit trail, human reviews with history and comments",
        """
        CREATE TABLE users (
            username       VARCHAR PRIMARY KEY,
            display_name   VARCHAR NOT NULL,
            role           VARCHAR NOT NULL,
            operator_id    VARCHAR,
            password_hash  VARCHAR,
            active         BOOLEAN NOT NULL DEFAULT true,
            created_at     TIMESTAMPTZ NOT NULL DEFAULT current_timestamp,
            CHECK (role IN ('admin', 'leder', 'veileder', 'operator', 'lege'))
        );

        CREATE SEQUENCE audit_ids START 1;
        CREATE TABLE audit (
            audit_id     BIGINT PRIMARY KEY DEFAULT nextval('audit_ids'),
            occurred_at  TIMESTAMPTZ NOT NULL DEFAULT current_timestamp,
            username     VARCHAR NOT NULL,
            action       VARCHAR NOT NULL,
            object_type  VARCHAR,
            object_id    VARCHAR,
            detail       VARCHAR
        );

        CREATE TABLE reviews (
            review_id        VARCHAR PRIMARY KEY,
            call_id          VARCHAR NOT NULL,
            transcript_id    VARCHAR,
            rubric_id        VARCHAR NOT NULL,
            rubric_version   INTEGER NOT NULL,
            rubric_sha256    VARCHAR NOT NULL,
            reviewer         VARCHAR NOT NULL,
            kind             VARCHAR NOT NULL,
            overall_comment  VARCHAR,
            replaces         VARCHAR,
            created_at       TIMESTAMPTZ NOT NULL DEFAULT current_timestamp,
            CHECK (kind IN ('peer', 'self'))
        );

        CREATE TABLE review_scores (
            review_id            VARCHAR NOT NULL,
            criterion_id         VARCHAR NOT NULL,
            value                INTEGER,
            suggested_value      INTEGER,
            comment              VARCHAR,
            PRIMARY KEY (review_id, criterion_id)
        );

        CREATE TABLE review_comments (
            review_id      VARCHAR NOT NULL,
            comment_index  INTEGER NOT NULL,
            segment_index  INTEGER,
            at_s           DOUBLE,
            text           VARCHAR NOT NULL,
            PRIMARY KEY (review_id, comment_index)
        );
        """,
    ),
)
MIGRATIONS += (
    (
        4,
        "transcript corrections kept beside the original segments",
        """
        CREATE SEQUENCE correction_ids START 1;
        CREATE TABLE segment_corrections (
            correction_id  BIGINT PRIMARY KEY DEFAULT nextval('correction_ids'),
            transcript_id  VARCHAR NOT NULL,
            segment_index  INTEGER NOT NULL,
            text           VARCHAR,
            role           VARCHAR,
            corrected_by   VARCHAR NOT NULL,
            corrected_at   TIMESTAMPTZ NOT NULL DEFAULT current_timestamp,
            CHECK (text IS NOT NULL OR role IS NOT NULL),
            CHECK (role IS NULL OR role IN ('operator', 'doctor', 'caller', 'other'))
        );

        CREATE VIEW segments_current AS
        WITH latest AS (
            SELECT transcript_id, segment_index,
                   arg_max(text, correction_id) FILTER (WHERE text IS NOT NULL) AS text,
                   arg_max(role, correction_id) FILTER (WHERE role IS NOT NULL) AS role
            FROM segment_corrections GROUP BY transcript_id, segment_index
        )
        SELECT s.transcript_id, s.segment_index, s.channel, s.start_s, s.end_s,
               coalesce(l.text, s.text) AS text, s.speaker, coalesce(l.role, s.role) AS role,
               s.avg_logprob, s.no_speech_prob, l.text IS NOT NULL AS text_corrected
        FROM segments s LEFT JOIN latest l USING (transcript_id, segment_index);
        """,
    ),
)
MIGRATIONS += (
    (
        5,
        "review tasks from sampling plans",
        """
        CREATE TABLE review_tasks (
            task_id      VARCHAR PRIMARY KEY,
            plan_id      VARCHAR NOT NULL,
            call_id      VARCHAR NOT NULL,
            assigned_to  VARCHAR NOT NULL,
            created_by   VARCHAR NOT NULL,
            created_at   TIMESTAMPTZ NOT NULL DEFAULT current_timestamp,
            plan         VARCHAR NOT NULL,
            UNIQUE (plan_id, call_id)
        );
        """,
    ),
)


def _feature_migrations() -> tuple[tuple[int, str, str], ...]:
    """Migrations from v6 on live beside the feature that needs them, one module each.

    A module ``lydlogg/db/mNNN_<name>.py`` defines ``MIGRATION = (NNN, description, sql)``; the
    number in the file name must match the version it declares.
    """
    import importlib
    import pkgutil

    import lydlogg.db as package

    found = []
    for info in pkgutil.iter_modules(package.__path__):
        match = re.fullmatch(r"m(\d{3})_\w+", info.name)
        if not match:
            continue
        migration = importlib.import_module(f"lydlogg.db.{info.name}").MIGRATION
        if migration[0] != int(match.group(1)):
            raise RuntimeError(f"lydlogg/db/{info.name}.py declares version {migration[0]}")
        found.append(migration)
    return tuple(sorted(found))


MIGRATIONS += _feature_migrations()
_versions = [m[0] for m in MIGRATIONS]
if len(set(_versions)) != len(_versions):
    raise RuntimeError(f"two schema migrations share a version: {_versions}")
LATEST_VERSION = MIGRATIONS[-1][0]
