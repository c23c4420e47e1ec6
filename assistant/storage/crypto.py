"""Encryption of personal data at rest (Fernet), with the key from settings or a file under DATA_DIR."""

from __future__ import annotations

import os
from pathlib import Path

from cryptography.fernet import Fernet, InvalidToken

from assistant.settings import Settings


def load_key(settings: Settings) -> bytes:
    """The configured key, or one generated once into ``DATA_DIR/pii.key`` (mode 0600)."""
    if settings.pii_key is not None:
        return settings.pii_key.get_secret_value().encode()
    path = Path(settings.ensure_data_dir()) / "pii.key"
    if path.exists():
        return path.read_bytes().strip()
    key = Fernet.generate_key()
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(key)
    return key


class Cipher:
    """Encrypt/decrypt short texts; a wrong key yields None instead of an exception."""

    def __init__(self, key: bytes) -> None:
        self._fernet = Fernet(key)

    def encrypt(self, text: str) -> str:
        """Ciphertext (URL-safe base64)."""
        return self._fernet.encrypt(text.encode("utf-8")).decode("ascii")

    def decrypt(self, token: str) -> str | None:
        """Plaintext, or None when the token is not ours."""
        try:
            return self._fernet.decrypt(token.encode("ascii")).decode("utf-8")
        except (InvalidToken, ValueError):
            return None
