"""Recordings in a backup encrypted file by file, and the backup's manifest signed.

One backup key (64 hexadecimal digits, like the database key; ``lydlogg backup-keygen``) gives
two keys through HKDF-SHA256: one for AES-256-GCM, one for HMAC-SHA256. Each recording is
stored as ``LYDB1 | nonce (12 bytes) | ciphertext+tag``, with its file name (its checksum) as
associated data, so a file can be neither read, changed nor swapped for another without the key.
The manifest carries an HMAC over its other fields; restore refuses a backup whose signature does
not match, so an attacker with write access to the backup share cannot point a restore at
files of their choosing. Pure functions over bytes; the files are read and written by
:mod:`lydlogg.backup`.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import re
import stat
from dataclasses import dataclass
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from pydantic import BaseModel, ConfigDict, Field

__all__ = ["BackupKey", "BackupKeyError", "BackupSettings", "backup_key", "decrypt_file", "encrypt_file",
           "sign", "signature_ok"]  # fmt: skip

MAGIC = b"LYDB1"
_KEY = re.compile(r"[0-9a-f]{64}")


class BackupKeyError(ValueError):
    """No usable backup key, or a recording that does not decrypt."""


class BackupSettings(BaseModel):
    """Backups: the key that encrypts recordings and signs the manifest."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    key_file: Path = Field(
        Path("data/secrets/backup.key"),
        description=(
            "File holding the backup key (64 hexadecimal digits, mode 0600; `lydlogg backup-keygen` "
            "writes one). Recordings in a backup are encrypted with it (AES-256-GCM) and the manifest "
            "is signed with it. Keep a copy apart from the backups: without it they cannot be restored."
        ),
    )
    key_env: str = Field(
        "LYDLOGG_BACKUP_KEY",
        description="Environment variable that holds the backup key; it wins over `key_file`.",
    )


@dataclass(frozen=True)
class BackupKey:
    """The two keys derived from one backup secret."""

    encryption: bytes
    signing: bytes

    @classmethod
    def from_hex(cls, secret: str, *, purpose: bytes = b"lydlogg backup v1") -> BackupKey:
        """The keys derived from ``secret``; another ``purpose`` gives unrelated keys from the same
        secret (the case library's audio is encrypted with keys derived from the database key)."""
        if not _KEY.fullmatch(secret):
            raise BackupKeyError(
                "a backup key is 64 hexadecimal digits, as `lydlogg backup-keygen` writes it"
            )
        raw = bytes.fromhex(secret)
        derived = HKDF(algorithm=hashes.SHA256(), length=64, salt=None, info=purpose).derive(raw)
        return cls(derived[:32], derived[32:])

    def __repr__(self) -> str:
        return "BackupKey(<secret>)"


def backup_key(settings: BackupSettings) -> BackupKey | None:
    """The configured backup key, or None when neither the variable nor the file is there."""
    secret = os.environ.get(settings.key_env, "").strip()
    if not secret:
        path = Path(settings.key_file)
        if not path.is_file():
            return None
        if path.stat().st_mode & (stat.S_IRWXG | stat.S_IRWXO):
            raise BackupKeyError(f"{path}: backup key is readable by others; run `chmod 600 {path}`")
        secret = path.read_text(encoding="utf-8").strip()
    return BackupKey.from_hex(secret)


def encrypt_file(key: BackupKey, name: str, data: bytes) -> bytes:
    """One recording, encrypted and bound to its file name ``name``."""
    nonce = os.urandom(12)
    return MAGIC + nonce + AESGCM(key.encryption).encrypt(nonce, data, name.encode())


def decrypt_file(key: BackupKey, name: str, blob: bytes) -> bytes:
    """The recording, or :class:`BackupKeyError` when the key, the name or the content is wrong."""
    if not blob.startswith(MAGIC):
        raise BackupKeyError(f"{name}: not an encrypted Lydlogg recording")
    nonce, body = blob[len(MAGIC) : len(MAGIC) + 12], blob[len(MAGIC) + 12 :]
    try:
        return AESGCM(key.encryption).decrypt(nonce, body, name.encode())
    except InvalidTag as e:
        raise BackupKeyError(f"{name}: does not decrypt with this backup key (wrong key, or changed)") from e


def _canonical(fields: dict) -> bytes:
    return json.dumps({k: v for k, v in fields.items() if k != "signature"}, sort_keys=True).encode()


def sign(key: BackupKey, fields: dict) -> str:
    """HMAC-SHA256 over every manifest field but the signature."""
    return hmac.new(key.signing, _canonical(fields), hashlib.sha256).hexdigest()


def signature_ok(key: BackupKey, fields: dict) -> bool:
    return isinstance(fields.get("signature"), str) and hmac.compare_digest(
        sign(key, fields), fields["signature"]
    )
