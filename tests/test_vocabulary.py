"""The fixed lists have one home: labels cover every code, and no module spells a list out again."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from lydlogg import vocabulary as v

REPO = Path(__file__).resolve().parent.parent
PACKAGES = ("lydlogg", "review", "rubrics", "transcription", "anonymise", "norsk")


@pytest.mark.parametrize(
    ("codes", "labels"),
    [
        (v.SERVICES, v.SERVICE_LABELS),
        (v.SERVICES, v.SERVICE_NAMES),
        (v.URGENCIES, v.URGENCY_LABELS),
        (v.USER_ROLES, v.USER_ROLE_LABELS),
        (v.SPEAKER_ROLES, v.SPEAKER_ROLE_LABELS),
    ],
)
def test_every_code_has_a_norwegian_label(codes, labels):
    assert list(labels) == list(codes)


def test_lists_agree_with_each_other():
    assert set(v.STAFF_ROLES) < set(v.SPEAKER_ROLES)
    assert set(v.DOCTOR_SERVICES) < set(v.SERVICES)
    assert set(v.OWN_CALLS_ROLES) < set(v.USER_ROLES)
    assert {r for roles in v.SEARCH_ROLES.values() for r in roles} <= set(v.SPEAKER_ROLES)
    assert {v.URGENCY_WORDS[w] for w in ("rød", "gul", "grønn", "red")} <= set(v.URGENCIES)


# A list written out in code: the codes quoted, in a tuple, list, set or Literal, side by side.
_COPIES = {
    "services": re.compile(r"""["']lvs["'],\s*["']amk["'],\s*["']legevaktlege["']"""),
    "speaker roles": re.compile(r"""["']operator["'],\s*["']doctor["'],\s*["']caller["']"""),
    "staff roles": re.compile(r"""[(\[{]\s*["']operator["'],\s*["']doctor["']\s*[)\]}]"""),
    "user roles": re.compile(r"""["']admin["'],\s*["']leder["'],\s*["']veileder["']"""),
    "urgencies": re.compile(r"""["']red["'],\s*["']yellow["'],\s*["']green["']"""),
    "service labels": re.compile(r"""["']lvs["']:\s*["'](?:LVS|Legevaktsentral)["']"""),
    "speaker role labels": re.compile(r"""["']caller["']:\s*["']Innringer["']"""),
    "user role labels": re.compile(r"""["']admin["']:\s*["']Administrator["']"""),
    "urgency labels": re.compile(r"""["']red["']:\s*["']rød["']"""),
}
# The SQL CHECK constraints of past migrations are history: they stay as they were written.
_ALLOWED = {"norsk/vocabulary.py", "lydlogg/vocabulary.py"}


def test_no_module_spells_a_list_out_again():
    found = []
    for package in PACKAGES:
        for path in sorted((REPO / package).rglob("*.py")):
            rel = path.relative_to(REPO).as_posix()
            if rel in _ALLOWED or rel.startswith("lydlogg/db/"):
                continue
            text = path.read_text(encoding="utf-8")
            found += [f"{rel}: {name}" for name, pattern in _COPIES.items() if pattern.search(text)]
    assert found == []


def test_every_audit_action_written_has_a_norwegian_label():
    """The audit page shows labels, never a raw code: a new action needs its label here."""
    written = set()
    for package in ("lydlogg", "review"):
        for path in (REPO / package).rglob("*.py"):
            text = path.read_text(encoding="utf-8")
            written |= set(re.findall(r"(?:record|_audit|_audit_login)\([^()]*?\"([a-z_]+)\"", text))
            written |= set(re.findall(r"record\(con, cli_actor\(\), \"([a-z_]+)\"", text))
    written |= {"login", "login_failed", "login_throttled", "session_expired", "deactivate_user"}
    written -= {"call", "user", "case", "round", "review", "episode", "retention_run", "operator", "audit"}
    assert sorted(written - set(v.AUDIT_ACTION_LABELS)) == []
