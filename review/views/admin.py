"""Brukere: the admin's page for users and roles; every change goes through UserAdminService."""

from __future__ import annotations

import logging
import re

import pandas as pd
import streamlit as st

from lydlogg.access import AccessDenied, allowed
from lydlogg.auth import ROLES, AuthError
from lydlogg.metadata import TEAM_MAX, UNIT_MAX
from lydlogg.units import DEFAULT_UNIT
from lydlogg.users import UserAdminService, UserRow
from lydlogg.vocabulary import OWN_CALLS_ROLES, USER_ROLE_LABELS
from review.service import ReviewService
from review.views.common import in_norwegian as translated
from review.views.common import shown_time

__all__ = [
    "COLUMNS",
    "MIN_PASSWORD_LENGTH",
    "ROLE_NAMES",
    "account_kinds",
    "in_norwegian",
    "render",
    "role_source",
    "user_table",
    "validate_new_user",
    "validate_password",
]

log = logging.getLogger(__name__)

MIN_PASSWORD_LENGTH = (
    10  # the rule lydlogg.auth.check_password enforces; checked here first for a clear message
)
ROLE_NAMES = USER_ROLE_LABELS
_OWN_CALLS_ROLES = OWN_CALLS_ROLES
LEAST_PRIVILEGED = "operator"  # sees only their own calls; the new-user form starts here
_USERNAME = re.compile(r"^[a-z0-9][a-z0-9._@-]{1,63}$")
COLUMNS = {
    "username": "Brukernavn",
    "display_name": "Navn",
    "rolle": "Rolle",
    "operator_id": "Operatør-id",
    "lag": "Lag",
    "enheter": "Enheter",
    "aktiv": "Aktiv",
    "locked_until": "Låst til",
    "failed_logins": "Mislykkede innlogginger",
    "innlogging": "Innlogging",
    "rollekilde": "Rollen settes av",
}
# lydlogg.auth raises some messages in English; the page shows them in bokmål.
_TRANSLATIONS = (
    ("at least 10 characters", f"Passordet må ha minst {MIN_PASSWORD_LENGTH} tegn."),
    ("demo passwords are refused", "Demo-passord er ikke tillatt i produksjon."),
    ("exists already", "Brukernavnet finnes allerede."),
    ("needs an operator_id", "Rollen operatør eller lege krever operatør-id (id-en i samtalemetadataene)."),
    ("is not one of", "Ukjent rolle."),
)


def in_norwegian(error: AuthError) -> str:
    """The message of a refused change, in bokmål (messages already in bokmål pass through)."""
    text = str(error)
    return translated(error, _TRANSLATIONS, text[:1].upper() + text[1:])


def validate_password(password: str, repeated: str) -> list[str]:
    """What is wrong with a new password (empty when it may be set)."""
    errors = []
    if len(password) < MIN_PASSWORD_LENGTH:
        errors.append(f"Passordet må ha minst {MIN_PASSWORD_LENGTH} tegn.")
    if password != repeated:
        errors.append("Passordene er ikke like.")
    return errors


def validate_new_user(
    username: str, display_name: str, role: str, operator_id: str, password: str, repeated: str
) -> list[str]:
    """What is wrong with a new user's form (empty when it may be saved); messages in bokmål."""
    errors = []
    if not _USERNAME.match(username):
        errors.append(
            "Brukernavnet må ha 2–64 tegn: små bokstaver a–z, sifre og . _ @ -, og begynne med bokstav eller siffer."
        )
    if not display_name.strip():
        errors.append("Navn må fylles ut.")
    if role not in ROLES:
        errors.append("Velg en rolle.")
    if role in _OWN_CALLS_ROLES and not operator_id.strip():
        errors.append("Rollen operatør eller lege krever operatør-id (id-en i samtalemetadataene).")
    return errors + validate_password(password, repeated)


LOGIN_METHOD_NAMES = {"sso": "SSO", "local": "lokal"}


def role_source(row: UserRow) -> str:
    """Who sets the account's role, as the page says it: the identity provider's claims at every
    SSO log-in, or an admin (a pinned role, or a local account)."""
    if row.role_pinned:
        return "admin (festet)"
    return "identitetstjenesten" if row.sso else "admin"


def account_kinds(admin: UserAdminService) -> dict[str, str]:
    """Per username, how the account logs in, as the page says it: «SSO» or «lokal»."""
    return {name: LOGIN_METHOD_NAMES[method] for name, method in admin.login_methods().items()}


def user_table(rows: list[UserRow], kinds: dict[str, str]) -> pd.DataFrame:
    """The users as the page shows them, labelled in bokmål."""
    df = pd.DataFrame(
        [
            {
                "username": r.username,
                "display_name": r.display_name,
                "rolle": ROLE_NAMES.get(r.role, r.role),
                "operator_id": r.operator_id or "",
                "lag": r.team or "",
                "enheter": ", ".join(r.units),
                "aktiv": "ja" if r.active else "nei",
                "locked_until": "" if r.locked_until is None else shown_time(r.locked_until),
                "failed_logins": r.failed_logins,
                "innlogging": kinds.get(r.username, "lokal"),
                "rollekilde": role_source(r),
            }
            for r in rows
        ],
        columns=list(COLUMNS),
    )
    return df.rename(columns=COLUMNS)


def render(service: ReviewService, *, production: bool = False) -> None:
    st.title("Brukere og roller")
    if not allowed(service.user, "manage_users"):
        st.error("ingen tilgang")
        return
    if not service.available():
        st.info("Ingen database ennå.")
        return
    admin = UserAdminService(service.db_path, service.user, production=production)
    try:
        rows = admin.list()
        kinds = account_kinds(admin)
    except AccessDenied:
        st.error("ingen tilgang")
        return
    if (done := st.session_state.pop("brukere-melding", None)) is not None:
        st.success(done)
    for operator_id, names in admin.shared_operator_ids().items():
        st.warning(
            f"Operatør-id {operator_id} tilhører flere aktive brukere ({', '.join(names)}): hver av dem ser de "
            "andres samtaler. Gi hver bruker sin egen operatør-id, eller deaktiver den som ikke skal ha den."
        )
    st.dataframe(user_table(rows, kinds), hide_index=True, width="stretch", key="brukere")
    st.caption(f"{len(rows)} brukere. Brukere slettes aldri; deaktiver dem i stedet.")
    units = unit_choices(admin.known_units())
    _new_user_form(admin, units)
    if rows:
        _edit_user(admin, rows, kinds, units)


def unit_choices(known: tuple[str, ...]) -> list[str]:
    """The units the forms offer: every unit a call or a user names, and the default unit."""
    return sorted({*known, DEFAULT_UNIT})


_UNIT_RULE = f"En enhet har 1–{UNIT_MAX} tegn: bokstaver, sifre, mellomrom og - _ . ', og begynner med bokstav eller siffer."


def _chosen_units(chosen: list[str], other: str) -> list[str]:
    return [*chosen, *([other.strip()] if other.strip() else [])]


def _done(message: str) -> None:
    st.session_state["brukere-melding"] = message
    st.rerun()


def _new_user_form(admin: UserAdminService, units: list[str]) -> None:
    with st.expander("Ny bruker"), st.form("ny-bruker", clear_on_submit=False):
        username = st.text_input("Brukernavn", key="ny-brukernavn")
        display_name = st.text_input("Navn", key="ny-navn")
        role = st.selectbox(
            "Rolle", ROLES, index=ROLES.index(LEAST_PRIVILEGED), format_func=ROLE_NAMES.get, key="ny-rolle"
        )  # a new account gets the fewest rights unless the admin chooses more
        operator_id = st.text_input(
            "Operatør-id (for operatør og lege)", key="ny-operator", help="Id-en i samtalemetadataene."
        )
        chosen = st.multiselect(
            "Enheter", units, default=[DEFAULT_UNIT] if DEFAULT_UNIT in units else [], key="ny-enheter",
            placeholder="Velg enheter",
            help="Legevaktene eller stedene brukeren ser samtalene til (minst én).",
        )  # fmt: skip
        other = st.text_input("Annen enhet (valgfritt)", key="ny-enhet-annen", max_chars=UNIT_MAX)
        password = st.text_input(
            "Startpassord", type="password", key="ny-passord", help=f"Minst {MIN_PASSWORD_LENGTH} tegn."
        )
        repeated = st.text_input("Gjenta passordet", type="password", key="ny-passord-igjen")
        if not st.form_submit_button("Opprett bruker"):
            return
        username = username.strip().lower()
        errors = validate_new_user(username, display_name, role, operator_id, password, repeated)
        user_units = _chosen_units(chosen, other)
        if not user_units:
            errors.append("Velg minst én enhet.")
        if errors:
            for error in errors:
                st.error(error)
            return
        try:
            admin.add(username, display_name.strip(), role, password, operator_id=operator_id.strip() or None,
                      units=user_units)  # fmt: skip
        except AuthError as e:
            st.error(in_norwegian(e))
            return
        except ValueError:  # a unit name check_unit refuses
            st.error(_UNIT_RULE)
            return
    log.info("a user was added by an admin")
    _done(f"Brukeren {username} er opprettet. Gi passordet til brukeren på en trygg måte.")


def _edit_user(admin: UserAdminService, rows: list[UserRow], kinds: dict[str, str], units: list[str]) -> None:
    st.subheader("Endre bruker")
    by_name = {r.username: r for r in rows}
    chosen = st.selectbox(
        "Bruker", list(by_name), key="endre-bruker",
        format_func=lambda u: f"{by_name[u].display_name} ({u})",
    )  # fmt: skip
    found = by_name[chosen]
    st.caption(
        f"{ROLE_NAMES.get(found.role, found.role)} · {'aktiv' if found.active else 'deaktivert'}"
        f" · innlogging: {kinds.get(chosen, 'lokal')} · rollen settes av {role_source(found)}"
        + (f" · låst til {shown_time(found.locked_until)}" if found.locked_until else "")
    )
    sso_account = found.sso or kinds.get(chosen) == "SSO"
    with st.form("endre-rolle"):
        role = st.selectbox(
            "Ny rolle", ROLES, index=ROLES.index(found.role) if found.role in ROLES else 0,
            format_func=ROLE_NAMES.get, key=f"endre-rolle-valg-{chosen}",  # per user: no stale values
        )  # fmt: skip
        operator_id = st.text_input(
            "Operatør-id", value=found.operator_id or "", key=f"endre-operator-{chosen}"
        )
        pin = sso_account and st.checkbox(
            "Fest rollen", value=True, key=f"endre-fest-{chosen}",
            help="Uten festet rolle settes rollen av identitetstjenestens roller ved hver SSO-innlogging.",
        )  # fmt: skip
        if st.form_submit_button("Lagre rolle"):
            _attempt(
                lambda: admin.change_role(chosen, role, operator_id=operator_id.strip() or None, pin=pin),
                f"Rollen til {chosen} er endret til {ROLE_NAMES.get(role, role).lower()}"
                + (" og festet." if pin else "."),
            )
    if found.role_pinned and st.button("La identitetstjenesten sette rollen", key="løs-rolle"):
        _attempt(
            lambda: admin.unpin_role(chosen),
            f"Rollen til {chosen} settes av identitetstjenesten fra neste innlogging.",
        )
    if sso_account:
        _sso_identity(admin, found)
    left, right = st.columns(2)
    if found.active:
        if left.button("Deaktiver", key="deaktiver"):
            _attempt(lambda: admin.set_active(chosen, False), f"{chosen} er deaktivert.")
    elif left.button("Aktiver igjen", key="aktiver"):
        _attempt(lambda: admin.set_active(chosen, True), f"{chosen} er aktivert igjen.")
    if right.button(
        "Opphev sperring", key="opphev", disabled=found.locked_until is None and not found.failed_logins
    ):
        _attempt(lambda: admin.unlock(chosen), f"Sperringen av {chosen} er opphevet.")
    _units_form(admin, found, units)
    if found.operator_id:
        _team_form(admin, found)
    with st.form("nytt-passord"):
        if kinds.get(chosen) == "SSO":
            st.caption("Brukeren logger inn med SSO; et passord gir i tillegg lokal innlogging.")
        password = st.text_input("Nytt passord", type="password", key="nytt-passord")
        repeated = st.text_input("Gjenta passordet", type="password", key="nytt-passord-igjen")
        if st.form_submit_button("Sett nytt passord"):
            errors = validate_password(password, repeated)
            for error in errors:
                st.error(error)
            if not errors:
                _attempt(
                    lambda: admin.reset_password(chosen, password),
                    f"Nytt passord er satt for {chosen}, og eventuell sperring er opphevet.",
                )


def _sso_identity(admin: UserAdminService, found: UserRow) -> None:
    """Unlink the account's single sign-on identity, or bind one (issuer and subject)."""
    chosen = found.username
    if found.sso:
        if st.button("Fjern SSO-koblingen", key="fjern-sso",
                     help="Kontoen beholdes. Neste SSO-innlogging med dette brukernavnet knytter den på nytt."):  # fmt: skip
            _attempt(lambda: admin.unlink_sso(chosen), f"SSO-koblingen til {chosen} er fjernet.")
        return
    with st.form("knytt-sso"):
        st.caption("Kontoen er ikke knyttet til noen SSO-identitet.")
        issuer = st.text_input("Utsteder (iss)", key=f"knytt-iss-{chosen}")
        subject = st.text_input("Subjekt (sub)", key=f"knytt-sub-{chosen}")
        if st.form_submit_button("Knytt SSO-identitet"):
            _attempt(
                lambda: admin.bind_sso(chosen, issuer, subject), f"{chosen} er knyttet til SSO-identiteten."
            )


def _units_form(admin: UserAdminService, found: UserRow, units: list[str]) -> None:
    """The user's units: whose calls they see (leaders, supervisors, operators and doctors)."""
    with st.form("endre-enheter"):
        chosen = st.multiselect(
            "Enheter", sorted({*units, *found.units}), default=list(found.units),
            key=f"endre-enheter-{found.username}", placeholder="Velg enheter",  # per user: no stale values
            help="Legevaktene eller stedene brukeren ser samtalene til. Regional kvalitet ser alle enheter.",
        )  # fmt: skip
        other = st.text_input("Annen enhet (valgfritt)", key=f"endre-enhet-annen-{found.username}",
                              max_chars=UNIT_MAX)  # fmt: skip
        if not st.form_submit_button("Lagre enheter"):
            return
        wanted = _chosen_units(chosen, other)
        if not wanted:
            st.error("Velg minst én enhet.")
            return
        try:
            changed = admin.set_units(found.username, wanted)
        except AccessDenied:
            st.error("ingen tilgang")
            return
        except AuthError as e:
            st.error(in_norwegian(e))
            return
        except ValueError:  # a unit name check_unit refuses
            st.error(_UNIT_RULE)
            return
    if changed:
        _done(f"{found.username} ser nå samtalene til {', '.join(sorted(set(wanted)))}.")


def _team_form(admin: UserAdminService, found: UserRow) -> None:
    """The operator's team (vaktlag): what the overview groups by when a call's metadata names none."""
    key = f"endre-lag-{found.username}"  # per user, so that choosing another user shows their team
    with st.form("endre-lag"):
        team = st.text_input(
            "Lag", value=found.team or "", key=key, max_chars=TEAM_MAX,
            help="Laget operatøren hører til. Tomt felt: ikke noe lag. Samtalens eget lag i metadataene går foran.",
        )  # fmt: skip
        if st.form_submit_button("Lagre lag"):
            wanted = team.strip() or None
            label = f"laget {' '.join(wanted.split())}" if wanted else "ikke noe lag"

            def change() -> None:
                admin.set_teams([(found.operator_id, wanted)])
                del st.session_state[key]  # show the team as saved (tidied), not as typed

            _attempt(change, f"{found.operator_id} har nå {label}.")


def _attempt(change, message: str) -> None:
    """Run one change; a refusal is shown in bokmål, a success after the page reloads."""
    try:
        change()
    except AuthError as e:
        st.error(in_norwegian(e))
        return
    except AccessDenied:
        st.error("ingen tilgang")
        return
    except ValueError:  # a team name check_team refuses
        st.error(f"Lagnavnet må ha 1–{TEAM_MAX} tegn, uten kontrolltegn.")
        return
    _done(message)
