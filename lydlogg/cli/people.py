"""Commands for people: local user accounts, their units, and the teams (vaktlag) of operators and doctors."""

from __future__ import annotations

import contextlib
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import click

from lydlogg.cli.common import Failure, cli_admin, with_settings
from lydlogg.vocabulary import USER_ROLES

if TYPE_CHECKING:
    from lydlogg.settings import Settings


@click.group(invoke_without_command=True)
@click.pass_context
def users(ctx: click.Context) -> None:
    """User accounts (`users add`, `users demo`, SSO roles and identities); bare `users` lists them."""
    if ctx.invoked_subcommand is None:
        ctx.invoke(users_list)


@users.command("list")
@with_settings
def users_list(settings: Settings) -> None:
    """List user accounts."""
    from lydlogg.auth import list_users, shared_operator_ids
    from lydlogg.db import connect

    with connect(settings.db_path) as con:
        for u in list_users(con):
            click.echo(
                f"{u.username:<16} {u.role:<9} {u.operator_id or '-':<12} {u.display_name}"
                f"  [{', '.join(u.units) or '-'}]"
            )
        shared = shared_operator_ids(con)
    for operator_id, names in shared.items():
        click.echo(
            f"warning: operator id {operator_id} is held by {len(names)} active users ({', '.join(names)}):"
            " each sees the others' calls; give each their own id (lydlogg users pin-role USER ROLE"
            " --operator-id ID) or deactivate one",
            err=True,
        )


@users.command("add")
@click.argument("username")
@click.option("--role", type=click.Choice(USER_ROLES), required=True)
@click.option("--name", "display_name", required=True, help="Name shown in the app.")
@click.option("--operator-id", default=None, help="The user's id in the call metadata (operator and lege).")
@click.option(
    "--unit", "units", multiple=True, metavar="UNIT",
    help="A unit (legevakt or site) whose calls the user sees; repeat for several (default: standard).",
)  # fmt: skip
@click.option(
    "--password-stdin", is_flag=True, help="Read the password from standard input instead of a prompt."
)
@with_settings
def users_add(
    username: str,
    role: str,
    display_name: str,
    operator_id: str | None,
    units: tuple[str, ...],
    password_stdin: bool,
    settings: Settings,
) -> None:
    """Create a local account (the password is stored as an argon2id hash)."""
    from lydlogg.auth import AuthError, create_user
    from lydlogg.db import connect
    from lydlogg.units import DEFAULT_UNIT

    password = (
        sys.stdin.readline().rstrip("\n")
        if password_stdin
        else click.prompt("Password", hide_input=True, confirmation_prompt=True)
    )
    with connect(settings.db_path) as con:
        try:
            user = create_user(con, username, display_name, role, password, operator_id=operator_id,
                               production=settings.env == "production", by="cli",
                               units=units or (DEFAULT_UNIT,))  # fmt: skip
        except (AuthError, ValueError) as e:
            raise Failure(str(e)) from e
    click.echo(f"created {username} ({role}; units: {', '.join(user.units)})")


@users.command("units")
@click.argument("username")
@click.argument("units", nargs=-1, required=True, metavar="UNIT...")
@with_settings
def users_units(username: str, units: tuple[str, ...], settings: Settings) -> None:
    """Make UNIT... the units (legevakt or site) whose calls USERNAME sees (audited with the old
    and the new units; the user's sessions end)."""
    from lydlogg.auth import AuthError
    from lydlogg.users import UserAdminService

    try:
        changed = UserAdminService(settings.db_path, cli_admin()).set_units(username, units)
    except (AuthError, ValueError) as e:
        raise Failure(str(e)) from e
    click.echo(f"{username}: {', '.join(sorted(set(units)))}{'' if changed else ' (unchanged)'}")


@users.command("demo")
@with_settings
def users_demo(settings: Settings) -> None:
    """Create the demo accounts (refused when env = production) and print how to log in."""
    from lydlogg.auth import DEMO_UNITS, DEMO_USERS, AuthError, create_user
    from lydlogg.db import connect

    if settings.env == "production":
        raise Failure("demo accounts are refused when LYDLOGG_ENV=production")
    with connect(settings.db_path) as con:
        for username, name, role, operator_id, password in DEMO_USERS:
            with contextlib.suppress(AuthError):  # exists already
                create_user(con, username, name, role, password, operator_id=operator_id, by="demo",
                            units=DEMO_UNITS[username])  # fmt: skip
    click.echo("Demo log-ins (username / password):")
    for username, _name, role, operator_id, password in DEMO_USERS:
        click.echo(f"  {username:<10} {password:<15} {role}{' (' + operator_id + ')' if operator_id else ''}"
                   f"  [{', '.join(DEMO_UNITS[username])}]")  # fmt: skip


@users.command("unlock")
@click.argument("username")
@with_settings
def users_unlock(username: str, settings: Settings) -> None:
    """Lift a log-in lock-out."""
    from lydlogg.auth import AuthError
    from lydlogg.users import UserAdminService

    try:
        UserAdminService(settings.db_path, cli_admin()).unlock(username)
    except AuthError as e:
        raise Failure(str(e)) from e
    click.echo(f"{username}: unlocked")


def _admin_change(change: str, username: str, settings: Settings, *args: str, **kwargs: object) -> None:
    """Run one UserAdminService change as the CLI's admin; a refusal exits non-zero with its reason."""
    from lydlogg.auth import AuthError
    from lydlogg.users import UserAdminService

    try:
        getattr(UserAdminService(settings.db_path, cli_admin()), change)(username, *args, **kwargs)
    except AuthError as e:
        raise Failure(f"{username}: {e}") from e


@users.command("pin-role")
@click.argument("username")
@click.argument("role", type=click.Choice(USER_ROLES))
@click.option("--operator-id", default=None, help="The user's id in the call metadata (operator and lege).")
@with_settings
def users_pin_role(username: str, role: str, operator_id: str | None, settings: Settings) -> None:
    """Give USERNAME the role ROLE and pin it: single sign-on claims no longer change it (audited)."""
    _admin_change("change_role", username, settings, role, operator_id=operator_id, pin=True)
    click.echo(f"{username}: {role} (pinned)")


@users.command("unpin-role")
@click.argument("username")
@with_settings
def users_unpin_role(username: str, settings: Settings) -> None:
    """Let the identity token's claims set USERNAME's role again from the next SSO log-in (audited)."""
    _admin_change("unpin_role", username, settings)
    click.echo(f"{username}: role follows the identity provider's claims")


@users.command("unlink-sso")
@click.argument("username")
@with_settings
def users_unlink_sso(username: str, settings: Settings) -> None:
    """Remove USERNAME's single sign-on identity and end its sessions (audited); the account stays."""
    _admin_change("unlink_sso", username, settings)
    click.echo(f"{username}: SSO identity unlinked")


@users.command("bind-sso")
@click.argument("username")
@click.option("--issuer", required=True, help="The identity token's `iss` (the provider's issuer URL).")
@click.option("--subject", required=True, help="The identity token's `sub` for this person.")
@with_settings
def users_bind_sso(username: str, issuer: str, subject: str, settings: Settings) -> None:
    """Bind an SSO identity to USERNAME, an account without a password and without one (audited)."""
    _admin_change("bind_sso", username, settings, issuer, subject)
    click.echo(f"{username}: bound to an SSO identity of {issuer}")


@click.group(invoke_without_command=True)
@click.pass_context
def teams(ctx: click.Context) -> None:
    """Teams (vaktlag) of operators and doctors, for the overview by team; bare `teams` lists them."""
    if ctx.invoked_subcommand is None:
        ctx.invoke(teams_list)


@teams.command("list")
@with_settings
def teams_list(settings: Settings) -> None:
    """List each operator id with its team."""
    from lydlogg.users import UserAdminService

    for operator_id, team in UserAdminService(settings.db_path, cli_admin()).teams().items():
        click.echo(f"{operator_id:<20} {team}")


@teams.command("set")
@click.argument("operator_id")
@click.argument("team", required=False)
@click.option("--none", "clear", is_flag=True, help="Take the operator out of any team.")
@with_settings
def teams_set(operator_id: str, team: str | None, clear: bool, settings: Settings) -> None:
    """Put OPERATOR_ID in TEAM (audited)."""
    from lydlogg.users import UserAdminService

    if (team is None) == (not clear):
        raise Failure("give either a TEAM or --none")
    try:
        UserAdminService(settings.db_path, cli_admin()).set_teams([(operator_id, None if clear else team)])
    except ValueError as e:
        raise Failure(str(e)) from e
    click.echo(f"{operator_id}: {'no team' if clear else team}")


@teams.command("import")
@click.argument("csv_file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@with_settings
def teams_import(csv_file: Path, settings: Settings) -> None:
    """Read operator_id,team rows from CSV_FILE; bad rows are reported, good ones saved (audited)."""
    from lydlogg.metadata import MetadataError
    from lydlogg.teams import read_teams_csv
    from lydlogg.users import UserAdminService

    try:
        rows, errors = read_teams_csv(csv_file)
    except MetadataError as e:
        raise Failure(str(e)) from e
    for error in errors:
        click.echo(f"skipped {error}", err=True)
    changed = UserAdminService(settings.db_path, cli_admin()).set_teams(rows)
    click.echo(f"{len(rows)} operators read, {changed} changed, {len(errors)} rows skipped")
    if errors:
        sys.exit(1)
