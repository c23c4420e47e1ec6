"""Keys from settings, production refusing to start without them, MultiFernet rotation."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from cryptography.fernet import Fernet
from pydantic import SecretStr
from structlog.testing import capture_logs

from assistant.api.app import create_app
from assistant.errors import ConfigurationError
from assistant.services import Services
from assistant.settings import Settings
from assistant.storage.crypto import Cipher, check_keys, load_audit_key, load_pii_keys, warn_development_keys

AUDIT = "a" * 40


def production(settings: Settings, **changes: object) -> Settings:
    return settings.model_copy(update={"environment": "production", **changes})


def key_file(directory: Path, key: str) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / "key"
    path.write_text(key + "\n")
    return path


def test_production_refuses_to_start_without_a_pii_key(settings: Settings) -> None:
    with pytest.raises(ConfigurationError) as info:
        Services(production(settings, audit_key=SecretStr(AUDIT)))
    assert "生产环境" in info.value.message and "LOAN_ASSISTANT_PII_KEY" in info.value.en
    assert not (settings.data_dir / "pii.key").exists()


def test_production_refuses_to_start_without_an_audit_key(settings: Settings) -> None:
    with pytest.raises(ConfigurationError) as info:
        Services(production(settings, pii_key=SecretStr(Fernet.generate_key().decode())))
    assert "审计密钥" in info.value.zh and "AUDIT_KEY" in info.value.en


def test_the_app_does_not_start_in_production_without_keys(settings: Settings) -> None:
    with pytest.raises(ConfigurationError):
        create_app(production(settings))


def test_production_refuses_a_key_file_inside_data_dir(settings: Settings) -> None:
    inside = key_file(settings.data_dir / "secrets", Fernet.generate_key().decode())
    with pytest.raises(ConfigurationError) as info:
        check_keys(production(settings, pii_key_file=inside, audit_key=SecretStr(AUDIT)))
    assert "DATA_DIR" in info.value.zh and "outside DATA_DIR" in info.value.en
    inside_audit = key_file(settings.data_dir / "audit", AUDIT)
    with pytest.raises(ConfigurationError):
        check_keys(production(settings, pii_key=SecretStr(Fernet.generate_key().decode()),
                              audit_key_file=inside_audit))


def test_production_with_key_files_outside_data_dir_starts_and_writes_no_key(settings: Settings,
                                                                            tmp_path: Path) -> None:
    pii = Fernet.generate_key().decode()
    prod = production(settings, pii_key_file=key_file(tmp_path / "etc" / "pii", pii),
                      audit_key_file=key_file(tmp_path / "etc" / "audit", AUDIT))
    services = Services(prod)
    assert services.cipher.keys == (pii.encode(),)
    assert load_audit_key(prod) == AUDIT.encode()
    services.audit.record("decision", None, {"decision": "approve"})
    assert services.audit.verify().ok
    assert not (settings.data_dir / "pii.key").exists() and not (settings.data_dir / "audit.key").exists()


@pytest.fixture
def fresh_crypto_log(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """A logger that binds at each call: an earlier test that configured logging may have cached the
    module's logger (cache_logger_on_first_use), which ``capture_logs`` could not see."""
    import structlog

    import assistant.storage.crypto as crypto

    caching = structlog.get_config()["cache_logger_on_first_use"]
    structlog.configure(cache_logger_on_first_use=False)
    monkeypatch.setattr(crypto, "log", structlog.get_logger(crypto.__name__))
    yield
    structlog.configure(cache_logger_on_first_use=caching)


@pytest.mark.usefixtures("fresh_crypto_log")
def test_development_generates_keys_in_data_dir_with_a_warning(settings: Settings) -> None:
    with capture_logs() as logs:
        first = load_pii_keys(settings)
        audit = load_audit_key(settings)
    path = settings.data_dir / "pii.key"
    assert path.read_bytes().strip() == first[0] and oct(path.stat().st_mode & 0o777) == "0o600"
    assert (settings.data_dir / "audit.key").read_bytes().strip() == audit and len(audit) >= 32
    assert load_pii_keys(settings) == first  # the same key on the next start
    assert [e["file"] for e in logs if e["event"] == "key_generated_in_data_dir"] == ["pii.key", "audit.key"]
    with capture_logs() as logs:
        warn_development_keys(settings)  # what every service start says
    assert [(e["log_level"], e["keys"]) for e in logs if e["event"] == "key_in_data_dir"] == [
        ("warning", "PII_KEY,AUDIT_KEY")]


@pytest.mark.usefixtures("fresh_crypto_log")
def test_keys_from_settings_raise_no_warning(settings: Settings, tmp_path: Path) -> None:
    configured = settings.model_copy(update={
        "pii_key": SecretStr(Fernet.generate_key().decode()),
        "audit_key_file": key_file(tmp_path / "etc", AUDIT)})
    with capture_logs() as logs:
        warn_development_keys(configured)
        load_pii_keys(configured)
        load_audit_key(configured)
    assert logs == []


def test_a_malformed_key_is_a_clear_startup_error(settings: Settings) -> None:
    with pytest.raises(ConfigurationError) as info:
        load_pii_keys(settings.model_copy(update={"pii_key": SecretStr("not-a-key")}))
    assert "Fernet" in info.value.zh and "keys generate" in info.value.en
    with pytest.raises(ConfigurationError):
        load_pii_keys(settings.model_copy(update={"pii_key": SecretStr(Fernet.generate_key().decode()),
                                                  "pii_previous_keys": [SecretStr("short")]}))
    with pytest.raises(ConfigurationError):
        load_audit_key(settings.model_copy(update={"audit_key": SecretStr("short")}))


def test_previous_keys_come_from_a_comma_separated_setting(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    current, old1, old2 = (Fernet.generate_key().decode() for _ in range(3))
    monkeypatch.setenv("LOAN_ASSISTANT_PII_KEY", current)
    monkeypatch.setenv("LOAN_ASSISTANT_PII_PREVIOUS_KEYS", f"{old1}, {old2}")
    settings = Settings(data_dir=tmp_path / "d", _env_file=None)  # type: ignore[call-arg]
    assert load_pii_keys(settings) == [current.encode(), old1.encode(), old2.encode()]


def test_old_ciphertext_still_reads_after_a_new_key_and_rotates_to_it() -> None:
    old, new = Fernet.generate_key(), Fernet.generate_key()
    token = Cipher(old).encrypt("身份证110101199003071234")
    cipher = Cipher([new, old])
    assert cipher.decrypt(token) == "身份证110101199003071234"
    assert not cipher.is_current(token)
    fresh = cipher.rotate(token)
    assert fresh is not None and cipher.is_current(fresh)
    assert Cipher(new).decrypt(fresh) == "身份证110101199003071234"
    assert Cipher(old).decrypt(fresh) is None
    assert Cipher(Fernet.generate_key()).decrypt(token) is None  # a key we do not hold: None, not a crash
    blob = cipher.encrypt_bytes(b"<html>contract</html>")
    assert b"html" not in blob and Cipher(new).decrypt_bytes(blob) == b"<html>contract</html>"


@pytest.mark.parametrize("missing", ["pii_key", "audit_key"])
def test_a_shared_database_refuses_to_start_without_the_replicas_one_key(settings: Settings, missing: str) -> None:
    keys = {"pii_key": SecretStr(Fernet.generate_key().decode()), "audit_key": SecretStr(AUDIT), missing: None}
    shared = settings.model_copy(update={"database_url": "postgresql+psycopg://u@db.internal/loans", **keys})
    with pytest.raises(ConfigurationError) as info:
        Services(shared)
    setting = missing.upper()
    assert "共享数据库" in info.value.zh and f"LOAN_ASSISTANT_{setting}" in info.value.zh
    assert "shared database" in info.value.en and "the same for every replica" in info.value.en
    assert not (settings.data_dir / "pii.key").exists() and not (settings.data_dir / "audit.key").exists()


def test_sqlite_outside_data_dir_counts_as_shared_and_inside_does_not(settings: Settings, tmp_path: Path) -> None:
    from assistant.storage.crypto import shared_database

    assert not shared_database(settings)  # the embedded default
    inside = f"sqlite:///{settings.data_dir / 'other.db'}"
    assert not shared_database(settings.model_copy(update={"database_url": inside}))
    outside = f"sqlite:///{tmp_path / 'elsewhere' / 'shared.db'}"
    assert shared_database(settings.model_copy(update={"database_url": outside}))
    assert shared_database(settings.model_copy(update={"database_url": "postgresql+psycopg://u@h/db"}))


def test_a_shared_database_with_the_keys_set_starts_and_generates_nothing(settings: Settings,
                                                                          tmp_path: Path) -> None:
    pii = Fernet.generate_key().decode()
    shared = settings.model_copy(update={"database_url": f"sqlite:///{tmp_path / 'shared.db'}",
                                         "pii_key": SecretStr(pii), "audit_key": SecretStr(AUDIT)})
    services = Services(shared)
    assert services.cipher.keys == (pii.encode(),)
    assert not (settings.data_dir / "pii.key").exists() and not (settings.data_dir / "audit.key").exists()


def test_the_embedded_default_still_generates_its_local_key(settings: Settings) -> None:
    Services(settings).cipher.encrypt("110101199003071234")
    assert (settings.data_dir / "pii.key").is_file()
