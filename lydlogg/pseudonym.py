"""Keyed pseudonyms for caller numbers and patient references.

Raw identifiers are never stored: each becomes ``HMAC-SHA256(key, kind + normalised value)``.
The same number always maps to the same pseudonym under one key (so repeat contacts can be
linked), and without the key the pseudonym cannot be reversed by trying all phone numbers.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import re
import secrets
import stat
from pathlib import Path

__all__ = ["KeyFileError", "load_or_create_key", "normalise_phone", "pseudonymise"]

_KEY_BYTES = 32


class KeyFileError(RuntimeError):
    """The key file exists but is unusable (wrong size, readable by others)."""


def normalise_phone(raw: str) -> str:
    """Digits only, with a Norwegian ``47`` country code when an 8-digit local number is given.

    ``+47 400 12 345``, ``0047 40012345`` and ``400 12 345`` all give ``4740012345``.
    """
    digits = re.sub(r"\D", "", raw)
    if digits.startswith("00"):
        digits = digits[2:]
    if len(digits) == 8:
        digits = "47" + digits
    return digits


def pseudonymise(key: bytes, kind: str, value: str) -> str:
    """A stable pseudonym of ``value``; ``kind`` keeps phone and patient namespaces apart."""
    normalised = normalise_phone(value) if kind == "phone" else value.strip().casefold()
    mac = hmac.new(key, f"{kind}\x00{normalised}".encode(), hashlib.sha256).hexdigest()
    return f"{kind[:3]}_{mac[:32]}"


def load_or_create_key(path: Path) -> bytes:
    """Read the key, creating it (mode 0600) on first use."""
    path = Path(path)
    if path.exists():
        mode = path.stat().st_mode
        if mode & (stat.S_IRWXG | stat.S_IRWXO):
            raise KeyFileError(f"{path}: pseudonym key is readable by others; run `chmod 600 {path}`")
        key = path.read_bytes()
        if len(key) != _KEY_BYTES:
            raise KeyFileError(f"{path}: expected a {_KEY_BYTES}-byte key, found {len(key)} bytes")
        return key
    path.parent.mkdir(parents=True, exist_ok=True)
    os.chmod(path.parent, 0o700)
    key = secrets.token_bytes(_KEY_BYTES)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as fh:
        fh.write(key)
    return key
