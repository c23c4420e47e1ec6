"""Keys and encryption for personal data and documents at rest (Fernet / MultiFernet), and the audit key.

Where the keys come from (:func:`load_pii_keys`, :func:`load_audit_key`):

- ``PII_KEY`` (environment) or ``PII_KEY_FILE`` (a file holding it), plus ``PII_PREVIOUS_KEYS`` — retired
  keys that still decrypt during a rotation (``loan-assistant keys rotate`` re-encrypts everything under
  the current key, after which they can be dropped);
- ``AUDIT_KEY`` or ``AUDIT_KEY_FILE``: the HMAC key anchoring the audit chain (see assistant/audit/log.py).

In ``production`` (``ENVIRONMENT=production``) both keys must be configured and a key file must not lie
inside DATA_DIR: whoever copies the data directory must not get the keys with it. With a shared
database (``DATABASE_URL`` set to anything but SQLite inside DATA_DIR: replicas on several hosts, each
with its own DATA_DIR) both keys must be configured too, the same for every replica: a key generated in
each DATA_DIR would leave every replica unable to read what the others encrypted, and would break the
audit chain at every other record. :func:`check_keys` refuses to start otherwise. With the embedded
default (SQLite in DATA_DIR, in development) a missing key is generated once into DATA_DIR
(``pii.key``, ``audit.key``, mode 0600) with a warning, so a fresh checkout runs with no setup.
"""

from __future__ import annotations

import base64
import binascii
import os
from collections.abc import Sequence
from pathlib import Path

from cryptography.fernet import Fernet, InvalidToken, MultiFernet

from assistant.errors import ConfigurationError
from assistant.logs import get_logger
from assistant.settings import Settings

log = get_logger(__name__)

PII_KEY_FILENAME = "pii.key"
AUDIT_KEY_FILENAME = "audit.key"
# Every Fernet token starts with version byte 0x80 (documents are stored as the raw, binary token). No
# document written before encryption starts so: PDF, HTML and Markdown are text, and 0x80 never opens UTF-8.
_TOKEN_VERSION = 0x80
_MIN_AUDIT_KEY_BYTES = 16


def _inside(path: Path, directory: Path) -> bool:
    """True when ``path`` is ``directory`` or lies under it (symlinks resolved)."""
    return path.resolve().is_relative_to(directory.resolve())


def _read_key_file(path: Path, setting: str) -> bytes:
    try:
        key = path.read_bytes().strip()
    except OSError as exc:
        raise ConfigurationError(f"无法读取密钥文件 {setting}（{path}）：{exc.strerror}",
                                 f"cannot read the key file {setting} ({path}): {exc.strerror}") from exc
    if not key:
        raise ConfigurationError(f"密钥文件 {setting}（{path}）为空", f"the key file {setting} ({path}) is empty")
    return key


def _generated(settings: Settings, filename: str, make: bytes) -> bytes:
    """Development only: the key in ``DATA_DIR/filename``, created (0600) on first use."""
    path = Path(settings.ensure_data_dir()) / filename
    if path.exists():
        return path.read_bytes().strip()
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:  # another process created it first: use theirs
        return path.read_bytes().strip()
    with os.fdopen(fd, "wb") as handle:
        handle.write(make)
    # Once, when the file is made (each service start warns again: see warn_development_keys).
    log.warning("key_generated_in_data_dir", file=filename, hint=_DEV_HINT)
    return make


_DEV_HINT = "development only: for production set the key, or its file outside DATA_DIR"


def development_keys(settings: Settings) -> list[str]:
    """The keys this installation keeps in DATA_DIR (development's generated defaults)."""
    found = []
    if settings.pii_key is None and (settings.pii_key_file is None or _inside(settings.pii_key_file,
                                                                              settings.data_dir)):
        found.append("PII_KEY")
    if settings.audit_key is None and (settings.audit_key_file is None or _inside(settings.audit_key_file,
                                                                                  settings.data_dir)):
        found.append("AUDIT_KEY")
    return found


def warn_development_keys(settings: Settings) -> None:
    """At service startup: a warning when keys sit in DATA_DIR (whoever copies it can read everything)."""
    found = development_keys(settings)
    if found:
        log.warning("key_in_data_dir", keys=",".join(found), environment=settings.environment, hint=_DEV_HINT)


def shared_database(settings: Settings) -> bool:
    """True when the database may be shared by replicas with different DATA_DIRs: any configured database
    but an SQLite file inside DATA_DIR (the embedded default)."""
    if not settings.database_url:
        return False
    from sqlalchemy.engine import make_url

    url = make_url(settings.database_url)
    if url.get_backend_name() != "sqlite":
        return True
    return not (url.database and url.database != ":memory:" and _inside(Path(url.database), settings.data_dir))


def _missing_key(settings: Settings, setting: str, what_zh: str) -> ConfigurationError | None:
    """Why ``setting`` may not be generated into DATA_DIR here (None: development on the embedded
    database, where generating it is fine)."""
    env = f"LOAN_ASSISTANT_{setting}"
    if settings.environment == "production":
        return ConfigurationError(
            f"生产环境必须配置{what_zh} {env} 或 {env}_FILE（位于数据目录之外）",
            f"production needs {env} or {env}_FILE (outside DATA_DIR)")
    if shared_database(settings):
        return ConfigurationError(
            f"已配置共享数据库 DATABASE_URL：必须设置{what_zh} {env}（或 {env}_FILE），所有副本使用同一个；"
            f"不能在各自的数据目录里生成（其他副本将无法读取加密的数据）",
            f"a shared database (DATABASE_URL) is configured: set {env} (or {env}_FILE), the same for every "
            f"replica; a key generated in each DATA_DIR would leave the replicas unable to read each other's data")
    return None


def _check_fernet(key: bytes, setting: str) -> bytes:
    try:
        Fernet(key)
    except (ValueError, TypeError) as exc:
        raise ConfigurationError(
            f"{setting} 不是有效的 Fernet 密钥（可用 `loan-assistant keys generate` 生成）",
            f"{setting} is not a valid Fernet key (make one with `loan-assistant keys generate`)") from exc
    return key


def _configured(settings: Settings, value: object, file: Path | None, setting: str) -> bytes | None:
    """The key from the setting itself or from its file; None when neither is set."""
    if value is not None:
        return value.get_secret_value().strip().encode()  # type: ignore[attr-defined]
    if file is not None:
        if settings.environment == "production" and _inside(file, settings.data_dir):
            raise ConfigurationError(
                f"生产环境下 {setting}_FILE 不能位于数据目录 DATA_DIR（{settings.data_dir}）内",
                f"in production {setting}_FILE must lie outside DATA_DIR ({settings.data_dir})")
        if _inside(file, settings.data_dir):
            log.warning("key_file_in_data_dir", setting=f"{setting}_FILE")
        return _read_key_file(file, f"{setting}_FILE")
    return None


def load_pii_keys(settings: Settings) -> list[bytes]:
    """The current PII key first, then the retired ones (``PII_PREVIOUS_KEYS``), all validated."""
    current = _configured(settings, settings.pii_key, settings.pii_key_file, "PII_KEY")
    if current is None:
        refusal = _missing_key(settings, "PII_KEY", "个人信息加密密钥")
        if refusal is not None:
            raise refusal
        current = _generated(settings, PII_KEY_FILENAME, Fernet.generate_key())
    keys = [_check_fernet(current, "PII_KEY")]
    for i, old in enumerate(settings.pii_previous_keys):
        key = _check_fernet(old.get_secret_value().strip().encode(), f"PII_PREVIOUS_KEYS[{i}]")
        if key not in keys:
            keys.append(key)
    return keys


def load_key(settings: Settings) -> bytes:
    """The current PII key (see :func:`load_pii_keys`)."""
    return load_pii_keys(settings)[0]


def load_audit_key(settings: Settings) -> bytes:
    """The HMAC key that anchors the audit chain."""
    key = _configured(settings, settings.audit_key, settings.audit_key_file, "AUDIT_KEY")
    if key is None:
        refusal = _missing_key(settings, "AUDIT_KEY", "审计密钥")
        if refusal is not None:
            raise refusal
        key = _generated(settings, AUDIT_KEY_FILENAME, os.urandom(32).hex().encode())
    if len(key) < _MIN_AUDIT_KEY_BYTES:
        raise ConfigurationError(f"审计密钥 AUDIT_KEY 太短（至少 {_MIN_AUDIT_KEY_BYTES} 个字符）",
                                 f"AUDIT_KEY is too short (at least {_MIN_AUDIT_KEY_BYTES} characters)")
    return key


def check_keys(settings: Settings) -> None:
    """Startup check: in production, refuse to run without both keys from outside DATA_DIR; with a shared
    database, refuse to run without both keys configured (one for all replicas).

    Development on the embedded database passes (keys are generated on first use). Raises
    :class:`ConfigurationError`.
    """
    if settings.environment != "production" and not shared_database(settings):
        return
    load_pii_keys(settings)
    load_audit_key(settings)


def generate_key() -> str:
    """A new random key, valid as PII_KEY (Fernet) and as AUDIT_KEY."""
    return Fernet.generate_key().decode("ascii")


class Cipher:
    """Encrypt under the current key, decrypt under any configured key (MultiFernet).

    A wrong key yields None (texts) instead of an exception, so one unreadable row never breaks a read.
    """

    def __init__(self, keys: bytes | Sequence[bytes]) -> None:
        keys = [keys] if isinstance(keys, bytes) else list(keys)
        if not keys:
            raise ConfigurationError("没有可用的加密密钥", "no encryption key configured")
        self._current = Fernet(keys[0])
        self._fernet = MultiFernet([Fernet(k) for k in keys])
        self.keys: tuple[bytes, ...] = tuple(keys)

    @classmethod
    def from_settings(cls, settings: Settings) -> Cipher:
        """The cipher for ``settings`` (current key plus ``PII_PREVIOUS_KEYS``)."""
        return cls(load_pii_keys(settings))

    def encrypt(self, text: str) -> str:
        """Ciphertext (URL-safe base64)."""
        return self._fernet.encrypt(text.encode("utf-8")).decode("ascii")

    def decrypt(self, token: str) -> str | None:
        """Plaintext, or None when no configured key opens the token."""
        try:
            return self._fernet.decrypt(token.encode("ascii")).decode("utf-8")
        except (InvalidToken, ValueError):
            return None

    def encrypt_bytes(self, data: bytes) -> bytes:
        """Ciphertext of a document: the Fernet token as raw bytes (a quarter smaller than base64, and
        no run of letters in it can look like markup)."""
        return base64.urlsafe_b64decode(self._fernet.encrypt(data))

    def decrypt_bytes(self, token: bytes) -> bytes:
        """Plaintext of :meth:`encrypt_bytes` output; raises :class:`cryptography.fernet.InvalidToken`."""
        return self._fernet.decrypt(base64.urlsafe_b64encode(token))

    def is_current(self, token: str | bytes) -> bool:
        """True when ``token`` (a text token, or a document's raw one) is under the current key already."""
        raw = token.encode("ascii") if isinstance(token, str) else base64.urlsafe_b64encode(token)
        try:
            self._current.decrypt(raw)
        except (InvalidToken, ValueError, binascii.Error):
            return False
        return True

    def rotate(self, token: str) -> str | None:
        """``token`` re-encrypted under the current key (None when no configured key opens it)."""
        try:
            return self._fernet.rotate(token.encode("ascii")).decode("ascii")
        except (InvalidToken, ValueError):
            return None


def looks_encrypted(data: bytes) -> bool:
    """True when ``data`` has the shape of a raw Fernet token (a document written before encryption has not)."""
    return bool(data) and data[0] == _TOKEN_VERSION
