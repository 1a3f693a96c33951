"""Single sign-on through OpenID Connect, using Streamlit's own ``st.login``.

Streamlit runs the OIDC code flow itself (with Authlib) when its secrets hold an ``[auth]``
section. :func:`write_streamlit_secrets` writes that section from Lydlogg's ``sso`` settings into a
file readable only by the service account, and ``lydlogg serve`` points Streamlit at it. After the
provider sends the user back, the app reads the identity token's claims (``st.user``) and
:func:`sso_login` turns them into a Lydlogg user:

- the identity is the token's issuer and subject (``iss`` and ``sub``), which the provider never
  reassigns; the account it is bound to (table ``sso_identities``) is the one that logs in, whatever
  e-mail address or user name the token carries now. That account keeps the role an admin gave
  it; a deactivated one is refused;
- an identity not yet bound is bound on its first log-in: to a new account when no account has
  the configured user-name claim as its name (the role then comes from the role claim through
  ``sso.role_map``; the account has no password, so it cannot log in locally), or to an existing
  account without a password (one an admin made for single sign-on, or one made by SSO before
  bindings existed). It is never bound to a local account (one with a password), nor to an
  account already bound to another identity: those log-ins are refused, so a provider that
  hands an e-mail address to someone else cannot take over an account;
- claims that map to no role are refused with a message to ask an admin.

Every outcome is audited.
"""

from __future__ import annotations

import json
import os
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import duckdb

from lydlogg.audit import record
from lydlogg.auth import AuthError, User, with_units
from lydlogg.db import transaction
from lydlogg.settings import Settings, SsoSettings
from lydlogg.units import DEFAULT_UNIT, set_user_units

__all__ = [
    "SsoConfigError",
    "SsoIdentity",
    "claims_identity",
    "identity_fresh",
    "sso_login",
    "write_streamlit_secrets",
]

# When the claims map to several roles, the first of these wins.
ROLE_PRECEDENCE = ("leder", "veileder", "admin", "lege", "operator")
NO_ROLE = "ingen tilgang: brukeren har ingen rolle i Lydlogg; be en administrator om tilgang"


class SsoConfigError(ValueError):
    """Single sign-on is switched on but cannot be set up."""


@dataclass(frozen=True)
class SsoIdentity:
    username: str
    display_name: str
    role: str | None  # from the claims; None when no claim value maps to a role
    operator_id: str | None
    issuer: str  # the ID token's ``iss``
    subject: str  # the ID token's ``sub``: with the issuer, who this is


def _claim(claims: Mapping[str, object], name: str) -> str:
    value = claims.get(name)
    if not isinstance(value, str) or not value.strip():
        raise AuthError(f"ingen tilgang: identiteten mangler «{name}»")
    return value.strip()


def claims_identity(claims: Mapping[str, object], sso: SsoSettings) -> SsoIdentity:
    """Who the identity token names, and the role its claims map to (pure)."""
    username = _claim(claims, sso.username_claim)
    issuer, subject = _claim(claims, "iss"), _claim(claims, "sub")
    raw = claims.get(sso.role_claim) or []
    values = (
        [raw]
        if isinstance(raw, str)
        else [v for v in raw if isinstance(v, str)]
        if isinstance(raw, list)
        else []
    )
    mapped = {sso.role_map[v] for v in values if v in sso.role_map}
    role = next((r for r in ROLE_PRECEDENCE if r in mapped), None)
    operator_id = claims.get(sso.operator_id_claim) if sso.operator_id_claim else None
    if role in ("operator", "lege") and not isinstance(operator_id, str):
        operator_id = username
    name = claims.get("name")
    return SsoIdentity(
        username=username,
        display_name=name if isinstance(name, str) and name else username,
        role=role,
        operator_id=operator_id if isinstance(operator_id, str) else None,
        issuer=issuer,
        subject=subject,
    )


def _audit(con: duckdb.DuckDBPyConnection, username: str, action: str, detail: str | None = None) -> None:
    record(con, username[:200], action, "user", username[:200], detail)


def identity_fresh(claims: Mapping[str, object], now: float, max_age_s: float) -> bool:
    """Whether the provider authenticated the user at most ``max_age_s`` seconds before ``now``.

    Streamlit keeps the identity in a cookie for 30 days. Only an identity that has just come
    back from the provider (``auth_time``, else ``iat`` of the ID token) starts a Lydlogg session;
    an older one belongs to whoever used the PC before and is logged out.
    """
    when = claims.get("auth_time", claims.get("iat"))
    if isinstance(when, bool) or not isinstance(when, int | float):
        return False
    return -60 <= now - when <= max_age_s  # a minute of clock skew between provider and server


def _bound_username(con: duckdb.DuckDBPyConnection, identity: SsoIdentity) -> str | None:
    row = con.execute(
        "SELECT username FROM sso_identities WHERE issuer = ? AND subject = ?",
        [identity.issuer, identity.subject],
    ).fetchone()
    return None if row is None else row[0]


def _bind(con: duckdb.DuckDBPyConnection, identity: SsoIdentity, username: str) -> None:
    con.execute(
        "INSERT INTO sso_identities (issuer, subject, username) VALUES (?, ?, ?)",
        [identity.issuer, identity.subject, username],
    )
    # the subject is the provider's opaque id; the audit detail names the issuer only
    _audit(con, username, "link_sso", f"issuer={identity.issuer[:200]}")


def sso_login(con: duckdb.DuckDBPyConnection, identity: SsoIdentity) -> User:
    """The Lydlogg user an identity is bound to on issuer and subject; an unbound identity is
    bound on its first log-in (see the module's rules), or refused."""
    username = _bound_username(con, identity)
    bind = username is None
    if bind:
        username = identity.username
    row = con.execute(
        "SELECT username, display_name, role, operator_id, active, password_hash IS NOT NULL,"
        " EXISTS (SELECT 1 FROM sso_identities s WHERE s.username = users.username)"
        " FROM users WHERE username = ?",
        [username],
    ).fetchone()
    if row is not None:
        if bind and row[6]:
            _audit(con, username, "login_sso_refused", "account bound to another identity")
            raise AuthError(
                "ingen tilgang: kontoen er knyttet til en annen identitet; kontakt en administrator"
            )
        if bind and row[5]:
            _audit(con, username, "login_sso_refused", "local account")
            raise AuthError(
                "ingen tilgang: brukernavnet tilhører en lokal konto med passord; "
                "be en administrator om tilgang med SSO"
            )
        if not row[4]:
            _audit(con, username, "login_sso_refused", "deactivated")
            raise AuthError("ingen tilgang: kontoen er deaktivert")
        with transaction(con):
            if bind:
                _bind(con, identity, username)
            _audit(con, username, "login_sso")
        return with_units(con, User(row[0], row[1], row[2], row[3]))
    if not bind:  # bound to an account that is gone: never fall back to the name in the token
        _audit(con, username, "login_sso_refused", "bound account missing")
        raise AuthError(NO_ROLE)
    if identity.role is None:
        _audit(con, username, "login_sso_refused", "no role")
        raise AuthError(NO_ROLE)
    with transaction(con):  # the account and its binding land together, or neither
        con.execute(
            "INSERT INTO users (username, display_name, role, operator_id, password_hash)"
            " VALUES (?, ?, ?, ?, NULL)",
            [username, identity.display_name, identity.role, identity.operator_id],
        )
        set_user_units(con, username, [DEFAULT_UNIT], "sso")  # an admin moves the account to its units
        _audit(con, username, "create_user_sso", f"role={identity.role}")
        _bind(con, identity, username)
        _audit(con, username, "login_sso")
    return User(username, identity.display_name, identity.role, identity.operator_id, (DEFAULT_UNIT,))


def _secret_file(path: Path, create: bool) -> str:
    if not path.is_file():
        if not create:
            raise SsoConfigError(f"{path}: missing; put the OIDC client secret there (one line, chmod 600)")
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write(secrets.token_urlsafe(48))
    text = path.read_text().strip()
    if not text:
        raise SsoConfigError(f"{path}: empty; it must hold the secret on one line")
    return text


def _toml_string(value: str) -> str:
    return json.dumps(value, ensure_ascii=False)  # a JSON string is a valid TOML basic string


def write_streamlit_secrets(settings: Settings) -> Path:
    """Write Streamlit's ``[auth]`` secrets for ``settings.sso`` (mode 0600); return the file."""
    sso = settings.sso
    missing = [n for n in ("server_metadata_url", "client_id", "redirect_uri") if not getattr(sso, n)]
    if missing:
        raise SsoConfigError(f"sso.enabled is true but {', '.join('sso.' + m for m in missing)} is empty")
    folder = settings.key_file.parent
    cookie_secret = _secret_file(folder / "sso-cookie.key", create=True)
    client_secret = _secret_file(sso.client_secret_file, create=False)
    lines = [
        "[auth]",
        f"redirect_uri = {_toml_string(sso.redirect_uri)}",
        f"cookie_secret = {_toml_string(cookie_secret)}",
        f"client_id = {_toml_string(sso.client_id)}",
        f"client_secret = {_toml_string(client_secret)}",
        f"server_metadata_url = {_toml_string(sso.server_metadata_url)}",
        f"client_kwargs = {{ prompt = {_toml_string(sso.prompt)} }}",
    ]
    path = folder / "streamlit-secrets.toml"
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write("\n".join(lines) + "\n")
    os.chmod(path, 0o600)
    return path
