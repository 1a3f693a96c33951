"""Schema v5: review tasks handed out from a sampling plan, one per call and plan."""

MIGRATION = (
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
)
