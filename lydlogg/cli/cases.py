"""Commands for the case library and its text anonymiser."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from lydlogg.cli.common import Failure, acting_user, leader_as, with_settings

if TYPE_CHECKING:
    from lydlogg.settings import Settings


@click.command("anonymise-text")
def anonymise_text_command() -> None:
    """Read bokmål text on standard input; print it with identifiers replaced by typed placeholders.

    Names, phone numbers, national identity numbers (and spoken dates of birth), addresses, dates
    and places become [NAVN], [TELEFON], [FØDSELSNUMMER], [ADRESSE], [DATO] and [STED]: the same
    detector the case library uses (anonymise/README.md).
    """
    from anonymise import cli_anonymise

    click.echo(cli_anonymise(click.get_text_stream("stdin").read()), nl=False)


@click.group()
def case() -> None:
    """The case library: export, import and publish anonymised case packages."""


def _case_library(settings: Settings, username: str) -> Any:
    """The case library as ``username`` (:func:`acting_user`)."""
    from review.cases import CaseLibraryService

    user = acting_user(settings, username)
    return CaseLibraryService(settings.db_path, user, settings.cases, settings.anonymise,
                              encryption=settings.encryption)  # fmt: skip


@case.command("export")
@click.argument("case_id")
@leader_as("export")
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Zip file to write (default: kasus-CASE_ID.zip).")  # fmt: skip
@with_settings
def case_export(case_id: str, username: str, output: Path | None, settings: Settings) -> None:
    """Write a published case as a package: anonymised audio, transcript, assessment, handout."""
    from lydlogg.access import AccessDenied

    try:
        data = _case_library(settings, username).export_case(case_id)
    except AccessDenied as e:
        raise Failure(f"{username} may not export case {case_id!r}, or there is no such case") from e
    target = output or Path(f"kasus-{case_id}.zip")
    target.write_bytes(data)
    click.echo(f"{target}: {len(data)} bytes")


@case.command("import")
@click.argument("package", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@leader_as("import")
@with_settings
def case_import(package: Path, username: str, settings: Settings) -> None:
    """Import a case from a package exported by another Lydlogg installation (validated first).

    It lands as a draft that only trainers see; one of them reads it and publishes it on the
    Kasusbibliotek page or with `lydlogg case publish CASE_ID --as USER`.
    """
    from lydlogg.access import AccessDenied
    from review.case_package import PackageError

    if package.stat().st_size > settings.cases.max_package_mb * 1_000_000:
        raise Failure(f"{package}: larger than cases.max_package_mb ({settings.cases.max_package_mb} MB)")
    try:
        case_id = _case_library(settings, username).import_case(package.read_bytes())
    except PackageError as e:
        raise Failure(f"{package}: {e}") from e
    except AccessDenied as e:
        raise Failure(f"{username} may not import cases") from e
    click.echo(f"imported as case {case_id} (a draft until a trainer publishes it)")


@case.command("publish")
@click.argument("case_id")
@click.option(
    "--keep-voices", is_flag=True,
    help="Publish the imported audio as it is (you have listened to it); by default its voices are disguised.",
)  # fmt: skip
@leader_as("publish")
@with_settings
def case_publish(case_id: str, keep_voices: bool, username: str, settings: Settings) -> None:
    """Publish an imported case (a draft) so that everyone in training can read it."""
    from lydlogg.access import AccessDenied

    try:
        _case_library(settings, username).publish_imported(case_id, disguise_voice=not keep_voices)
    except AccessDenied as e:
        raise Failure(f"{username} may not publish case {case_id!r}, or it is no imported draft") from e
    click.echo(f"published case {case_id}")
