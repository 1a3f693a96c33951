"""Single sign-on through OpenID Connect, using Streamlit's own ``st.login``.

Streamlit runs the OIDC code flow itself (with Authlib) when its secrets hold an ``[auth]``
section. :func:`write_streamlit_secrets` writes that section from Lydlogg's ``sso`` settings into a
file readable only by the service account, and ``lydlogg serve`` points Streamlit at it. After the
provider sends the user back, the app reads the identity token's claims (``st.user``) and
:func:`sso_login` turns them into a Lydlogg user:

- when ``sso.acr_values`` lists accepted assurance levels, a token whose ``acr`` is missing or
  not among them is refused (one message, whoever it is), before any account is looked at;
- the identity is the token's issuer and subject (``iss`` and ``sub``), which the provider never
  reassigns; the account it is bound to (table ``sso_identities``) is the one that logs in, whatever
  e-mail address or user name the token carries now. A deactivated one is refused;
- an identity not yet bound is bound on its first log-in: to a new account when no account has
  the configured user-name claim as its name (the account has no password, so it cannot log in
  locally), or to an existing account without a password (one made by SSO, or one an admin
  unlinked from its earlier identity). It is never bound to a local account (one with a
  password), nor to an account already bound to another identity: those log-ins are refused, so a
  provider that hands an e-mail address to someone else cannot take over an account;
- the role of an account that logs in through SSO comes from the role claim through
  ``sso.role_map`` at *every* log-in, so a role taken away at the provider is gone at the next
  log-in, unless an admin has pinned the account's role (table ``role_pins``): then the admin's
  role stands and the claims are not read for it;
- claims that map to no role, on an account without a pinned role, are refused with a message
  to ask an admin;
- when ``sso.unit_claim`` is set, the account's units likewise follow that claim (through
  ``sso.unit_map``) at every log-in of an account without a pinned role, and a user whose role
  is bound to units gets in only with at least one; otherwise a new account starts in the
  default unit and an admin moves it.

Every outcome is audited (the acr value, the issuer and the roles; never the subject).
"""

from __future__ import annotations

import json
import os
import secrets
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import duckdb

from lydlogg.access import ALL_UNITS_ROLES
from lydlogg.audit import record
from lydlogg.auth import AuthError, User, operator_id_free, revoke_sessions, with_units
from lydlogg.db import transaction
from lydlogg.metadata import check_unit
from lydlogg.settings import Settings, SsoSettings
from lydlogg.units import DEFAULT_UNIT, set_user_units, user_units

__all__ = [
    "ACR_REFUSED",
    "NO_ROLE",
    "NO_UNIT",
    "SsoConfigError",
    "SsoIdentity",
    "acr_accepted",
    "claims_identity",
    "identity_fresh",
    "role_pinned",
    "sso_login",
    "write_streamlit_secrets",
]

# When the claims map to several roles, the first of these wins.
ROLE_PRECEDENCE = ("leder", "veileder", "regional", "admin", "lege", "operator")
NO_ROLE = "ingen tilgang: brukeren har ingen rolle i Lydlogg; be en administrator om tilgang"
ACR_REFUSED = (
    "ingen tilgang: innloggingen har for lavt sikkerhetsnivå for Lydlogg; "
    "logg inn på nytt med et sterkere innloggingsmiddel"
)
NO_UNIT = "ingen tilgang: brukeren hører ikke til noen enhet i Lydlogg; be en administrator om tilgang"
_OWN_CALLS = ("operator", "lege")


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
    acr: str | None = None  # the ID token's ``acr`` (authentication context class), when it has one
    units: tuple[str, ...] | None = None  # from ``sso.unit_claim``; None when that is not set


def _values(raw: object) -> list[str]:
    """A claim's string values: one string, or the strings of a list."""
    if isinstance(raw, str):
        return [raw]
    return [v for v in raw if isinstance(v, str)] if isinstance(raw, list) else []


def _unit_or_none(value: str) -> str | None:
    try:
        return check_unit(value)
    except ValueError:
        return None


def claims_units(claims: Mapping[str, object], sso: SsoSettings) -> tuple[str, ...] | None:
    """The units the claims give through ``sso.unit_claim`` and ``sso.unit_map``, sorted (pure);
    None when no unit claim is configured. Values that map to no (valid) unit name are dropped."""
    if not sso.unit_claim:
        return None
    values = _values(claims.get(sso.unit_claim))
    named = [sso.unit_map.get(v) for v in values] if sso.unit_map else values
    return tuple(sorted({u for u in (_unit_or_none(n) for n in named if n) if u}))


def _claim(claims: Mapping[str, object], name: str) -> str:
    value = claims.get(name)
    if not isinstance(value, str) or not value.strip():
        raise AuthError(f"ingen tilgang: identiteten mangler «{name}»")
    return value.strip()


def claims_identity(claims: Mapping[str, object], sso: SsoSettings) -> SsoIdentity:
    """Who the identity token names, and the role its claims map to (pure)."""
    username = _claim(claims, sso.username_claim)
    issuer, subject = _claim(claims, "iss"), _claim(claims, "sub")
    mapped = {sso.role_map[v] for v in _values(claims.get(sso.role_claim)) if v in sso.role_map}
    role = next((r for r in ROLE_PRECEDENCE if r in mapped), None)
    operator_id = claims.get(sso.operator_id_claim) if sso.operator_id_claim else None
    if role in _OWN_CALLS and not isinstance(operator_id, str):
        operator_id = username
    name = claims.get("name")
    acr = claims.get("acr")
    return SsoIdentity(
        username=username,
        display_name=name if isinstance(name, str) and name else username,
        role=role,
        operator_id=operator_id if isinstance(operator_id, str) else None,
        issuer=issuer,
        subject=subject,
        acr=acr.strip() if isinstance(acr, str) and acr.strip() else None,
        units=claims_units(claims, sso),
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


def acr_accepted(acr: str | None, accepted: Sequence[str]) -> bool:
    """Whether a token's ``acr`` passes ``sso.acr_values`` (pure): any, when nothing is required."""
    return not accepted or (acr is not None and acr in accepted)


def role_pinned(con: duckdb.DuckDBPyConnection, username: str) -> bool:
    """Whether an admin has pinned the account's role (then the claims do not set it)."""
    return con.execute("SELECT 1 FROM role_pins WHERE username = ?", [username]).fetchone() is not None


def _role_from_claims(
    con: duckdb.DuckDBPyConnection, identity: SsoIdentity, username: str, role: str, operator_id: str | None
) -> tuple[str, str | None]:
    """The role (and operator id) an unpinned account gets from this log-in's claims; the account
    is updated, audited and its other sessions ended when the role changes. Raises when the claims
    give no role."""
    if identity.role is None:
        _audit(con, username, "login_sso_refused", "no role")
        raise AuthError(NO_ROLE)
    new_role = identity.role
    new_id = (operator_id or identity.operator_id) if new_role in _OWN_CALLS else operator_id
    if (new_role, new_id) == (role, operator_id):
        return role, operator_id
    try:
        operator_id_free(con, new_id, username)
    except AuthError:
        _audit(con, username, "login_sso_refused", "operator id of another active user")
        raise
    with transaction(con):
        con.execute(
            "UPDATE users SET role = ?, operator_id = ? WHERE username = ?", [new_role, new_id, username]
        )
        _audit(con, username, "role_from_claims", f"{role} -> {new_role}")
        revoke_sessions(con, username, "role changed by the identity provider's claims")
    return new_role, new_id


def _units_refused(con: duckdb.DuckDBPyConnection, identity: SsoIdentity, username: str, role: str) -> None:
    """Refuse a log-in whose unit claim gives no unit to a role that is bound to units."""
    if identity.units is not None and not identity.units and role not in ALL_UNITS_ROLES:
        _audit(con, username, "login_sso_refused", "no unit")
        raise AuthError(NO_UNIT)


def _units_from_claims(con: duckdb.DuckDBPyConnection, identity: SsoIdentity, username: str) -> None:
    """Make the claims' units the account's (when a unit claim is configured and gives any); the
    change is audited and ends the account's other sessions. The caller holds the transaction."""
    if not identity.units:
        return
    old, new = set_user_units(con, username, identity.units, "sso")
    if old != new:
        _audit(con, username, "units_from_claims", f"{', '.join(old) or '-'} -> {', '.join(new)}")
        revoke_sessions(con, username, "units changed by the identity provider's claims")


def sso_login(
    con: duckdb.DuckDBPyConnection, identity: SsoIdentity, *, accepted_acr: Sequence[str] = ()
) -> User:
    """The Lydlogg user an identity is bound to on issuer and subject, with its role from the
    claims (or the admin's pinned role); an unbound identity is bound on its first log-in (see the
    module's rules), or refused. ``accepted_acr``: the ``sso.acr_values`` setting."""
    username = _bound_username(con, identity)
    bind = username is None
    if bind:
        username = identity.username
    if not acr_accepted(identity.acr, accepted_acr):
        _audit(con, username, "login_sso_refused", f"acr={(identity.acr or '-')[:100]}")
        raise AuthError(ACR_REFUSED)
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
        role, operator_id = row[2], row[3]
        pinned = role_pinned(con, username)
        if not pinned:
            role, operator_id = _role_from_claims(con, identity, username, role, operator_id)
            _units_refused(con, identity, username, role)
        with transaction(con):
            if not pinned:
                _units_from_claims(con, identity, username)
            if bind:
                _bind(con, identity, username)
            _audit(con, username, "login_sso")
        return with_units(con, User(row[0], row[1], role, operator_id))
    if not bind:  # bound to an account that is gone: never fall back to the name in the token
        _audit(con, username, "login_sso_refused", "bound account missing")
        raise AuthError(NO_ROLE)
    if identity.role is None:
        _audit(con, username, "login_sso_refused", "no role")
        raise AuthError(NO_ROLE)
    _units_refused(con, identity, username, identity.role)
    units = identity.units or (DEFAULT_UNIT,)  # without a unit claim an admin moves the account to its units
    try:
        operator_id_free(con, identity.operator_id, username)
    except AuthError:
        _audit(con, username, "login_sso_refused", "operator id of another active user")
        raise
    with transaction(con):  # the account and its binding land together, or neither
        con.execute(
            "INSERT INTO users (username, display_name, role, operator_id, password_hash)"
            " VALUES (?, ?, ?, ?, NULL)",
            [username, identity.display_name, identity.role, identity.operator_id],
        )
        set_user_units(con, username, units, "sso")
        _audit(con, username, "create_user_sso", f"role={identity.role}; units={', '.join(units)}")
        _bind(con, identity, username)
        _audit(con, username, "login_sso")
    return User(
        username, identity.display_name, identity.role, identity.operator_id, user_units(con, username)
    )


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
