"""Schema v27: ``role_pins`` marks an account whose role an admin has fixed.

An account that logs in through single sign-on takes its role from the identity token's claims at
every log-in (``sso.role_map``), unless an admin has pinned its role: then ``users.role`` is the
admin's and the claims are not read for it. A pin is one row per account, with who pinned it.

Before v27 an admin's role assignment always won over the claims, so accounts without a password
whose role an admin changed (an audited ``change_role``) are pinned here and keep that role.
"""

MIGRATION = (
    27,
    "role pins: an admin's role for a single sign-on account wins over the claims",
    """
    CREATE TABLE role_pins (
        username   VARCHAR PRIMARY KEY,
        pinned_by  VARCHAR NOT NULL,
        pinned_at  TIMESTAMPTZ NOT NULL DEFAULT current_timestamp
    );

    INSERT INTO role_pins (username, pinned_by)
    SELECT u.username, 'schema v27'
    FROM users u
    WHERE u.password_hash IS NULL
      AND EXISTS (SELECT 1 FROM audit a
                  WHERE a.action = 'change_role' AND a.object_type = 'user' AND a.object_id = u.username);
    """,
)
