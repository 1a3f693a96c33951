"""Schema v24: ``sso_identities`` binds a single sign-on identity (the ID token's issuer and
subject, ``iss`` and ``sub``) to one Lydlogg account.

A log-in through SSO finds its account through this binding, never through the e-mail address
or user name alone, which a provider may reassign or let a user change. An account holds at most
one binding.
"""

MIGRATION = (
    24,
    "single sign-on identities bound on issuer and subject",
    """
    CREATE TABLE sso_identities (
        issuer     VARCHAR NOT NULL,
        subject    VARCHAR NOT NULL,
        username   VARCHAR NOT NULL UNIQUE,
        linked_at  TIMESTAMPTZ NOT NULL DEFAULT current_timestamp,
        PRIMARY KEY (issuer, subject)
    );
    """,
)
