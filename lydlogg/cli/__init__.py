"""The ``lydlogg`` command line.

Every command takes ``--db`` and ``--config``; the command builds typed settings and passes them
down, and stage code never parses arguments. Exit status: 0 all went well, 1 some item failed
(it is recorded and the rest was done), 2 bad usage, configuration or missing model.

The commands live by topic in this package; this file wires them into one group. Building the
parser imports click and these modules only: each command imports what it runs (settings,
database, models) inside its handler, so ``lydlogg --help`` starts in a fraction of a second.
``tests/test_cli.py`` checks that it loads no duckdb, pandas or streamlit.
"""

from __future__ import annotations

import click

from lydlogg.cli import cases, exports, operations, people, pipeline, reports
from lydlogg.cli.common import Failure, with_settings

__all__ = ["Failure", "main", "with_settings"]


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="lydlogg")
def main() -> None:
    """Lydlogg: audio-log quality review for legevakt, LVS and AMK calls."""
    from lydlogg.fileperms import private_umask

    private_umask()  # every file and folder this command creates is the service account's only


COMMANDS: dict[str, tuple[click.Command, ...]] = {
    "pipeline": (
        pipeline.ingest,
        pipeline.process,
        pipeline.transcribe,
        pipeline.import_transcript,
        pipeline.score,
        pipeline.score_transcript,
        pipeline.models,
        pipeline.rubrics_cmd,
        pipeline.asr_eval,
    ),
    "reports": (
        reports.status,
        reports.calls,
        reports.search,
        reports.advice,
        reports.recontacts,
        reports.episode_summary,
        reports.monthly_report,
    ),
    "exports": (exports.export_transcript, exports.export_group),
    "people": (people.users, people.teams),
    "cases": (cases.case, cases.anonymise_text_command),
    "operations": (
        operations.serve,
        operations.settings_cmd,
        operations.backup_cmd,
        operations.restore_cmd,
        operations.backup_keygen,
        operations.db_group,
        operations.retention,
        operations.audit_group,
    ),
}
"""The top-level commands by topic (``lydlogg --help`` lists them alphabetically)."""

for _topic in COMMANDS.values():
    for _command in _topic:
        main.add_command(_command)
