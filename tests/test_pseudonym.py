import os
import stat

import pytest

from lydlogg.pseudonym import KeyFileError, load_or_create_key, normalise_phone, pseudonymise

pytestmark = pytest.mark.pure  # no model, database, subprocess or audio decoding


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("+47 400 12 345", "4740012345"),
        ("0047 40012345", "4740012345"),
        ("400 12 345", "4740012345"),
        ("40012345", "4740012345"),
        ("+46 70 123 45 67", "46701234567"),
        ("113", "113"),
    ],
)
def test_phone_numbers_normalise_to_one_form(raw, expected):
    assert normalise_phone(raw) == expected


def test_pseudonym_is_stable_keyed_and_namespaced():
    key, other_key = b"k" * 32, b"j" * 32
    a = pseudonymise(key, "phone", "+47 400 12 345")
    assert a == pseudonymise(key, "phone", "40012345")
    assert a != pseudonymise(other_key, "phone", "40012345")
    assert a != pseudonymise(key, "patient", "40012345")
    assert "40012345" not in a and a.startswith("pho_")


def test_key_is_created_private_and_reused(tmp_path):
    path = tmp_path / "secrets" / "key"
    key = load_or_create_key(path)
    assert len(key) == 32
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert load_or_create_key(path) == key


def test_key_readable_by_others_is_refused(tmp_path):
    path = tmp_path / "key"
    load_or_create_key(path)
    os.chmod(path, 0o644)
    with pytest.raises(KeyFileError, match="chmod 600"):
        load_or_create_key(path)


def test_key_of_wrong_size_is_refused(tmp_path):
    path = tmp_path / "key"
    path.write_bytes(b"short")
    os.chmod(path, 0o600)
    with pytest.raises(KeyFileError, match="32-byte"):
        load_or_create_key(path)
