"""What a page shows when it cannot use the database (bokmål), in one place for every page.

``app.py`` runs the session check and the chosen page inside :func:`database_guard`: a database
held by another process for longer than ``db_wait_seconds`` (a batch run, a backup), at an older
schema, or unreadable ends the run with a message instead of a traceback, and a busy one with a
button that runs the page again.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager

import streamlit as st

from lydlogg.db import DatabaseBusyError, DatabaseError, SchemaOutdatedError
from review.views.common import md_text

__all__ = ["BUSY_MESSAGE", "RETRY_LABEL", "database_guard", "database_problem"]

log = logging.getLogger(__name__)

BUSY_MESSAGE = (
    "Databasen er opptatt akkurat nå: en annen prosess (for eksempel transkribering, poengsetting "
    "eller sikkerhetskopiering) bruker den. Vent litt og trykk «Prøv igjen». Det som ikke ble "
    "lagret, kan du lagre på nytt etterpå."
)
RETRY_LABEL = "Prøv igjen"


def database_problem(error: DatabaseError) -> str:
    """What a page tells the user about a database it cannot use (pure)."""
    if isinstance(error, DatabaseBusyError):
        return BUSY_MESSAGE
    if isinstance(error, SchemaOutdatedError):
        return (
            f"Databasen {md_text(error.path)} har skjemaversjon {error.version}, men denne versjonen av "
            f"Lydlogg trenger versjon {error.latest}. Driftsansvarlig må oppgradere databasen "
            "(oppgraderingen tar sikkerhetskopi først; se driftsveiledningen om databaseoppgradering)."
        )
    return "Databasen kan ikke åpnes. Driftsansvarlig finner årsaken i serverloggen."


@contextmanager
def database_guard() -> Iterator[None]:
    """Run a part of the app; a database it cannot use ends the run with a message.

    The English reason goes to the server log: the file and what happened, never any content.
    """
    try:
        yield
    except DatabaseError as e:
        if isinstance(e, DatabaseBusyError):
            log.warning("page gave up waiting for the database: %s", e)
            st.warning(database_problem(e), icon="⏳")
            st.button(RETRY_LABEL, key="database-retry", type="primary")  # a click runs the page again
        else:
            log.error("page cannot use the database: %s", e)
            st.error(database_problem(e))
        st.stop()
