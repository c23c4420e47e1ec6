"""``deploy/docker-compose.yml`` says what the code reads: every ``LOAN_ASSISTANT_`` variable in it is a
setting, the values load into :class:`Settings` as a replica would see them, and each container's command
is a real one (a ``loan-assistant`` sub-command, ``chroma run`` options of the installed chromadb)."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from assistant.cli import build_parser
from assistant.settings import Settings

DEPLOY = Path(__file__).resolve().parents[1] / "deploy"
PREFIX = "LOAN_ASSISTANT_"


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    return yaml.safe_load((DEPLOY / "docker-compose.yml").read_text(encoding="utf-8"))


def _env(service: dict[str, Any]) -> dict[str, str]:
    """The service's environment with ``${VAR:-default}`` / ``${VAR:?msg}`` as compose would fill them
    (a placeholder where nothing is set)."""
    def one(match: re.Match[str]) -> str:
        return match.group(2) if match.group(2) is not None else f"x-{match.group(1).lower()}"

    def fill(value: object) -> str:
        return re.sub(r"\$\{(\w+)(?::-([^}]*)|:\?[^}]*)?\}", one, str(value))
    return {key: fill(value) for key, value in service["environment"].items()}


def test_every_variable_is_a_setting_and_loads(compose: dict[str, Any], monkeypatch: pytest.MonkeyPatch,
                                               tmp_path: Path) -> None:
    fields = {name.upper() for name in Settings.model_fields}
    for name in ("app", "ingest"):
        env = _env(compose["services"][name])
        ours = {key.removeprefix(PREFIX) for key in env if key.startswith(PREFIX)}
        assert ours <= fields, ours - fields
        for key, value in env.items():
            monkeypatch.setenv(key, value)
        settings = Settings(_env_file=None)  # type: ignore[call-arg]
        assert settings.environment == "production"
        assert settings.resolved_database_url.startswith("postgresql+psycopg://loan:")
        assert settings.chroma_url == "http://chroma:8000"
        assert settings.pii_key_file == Path("/run/secrets/pii_key") and settings.data_dir == Path("/data")
        assert not settings.pii_key_file.is_relative_to(settings.data_dir)  # production refuses keys in DATA_DIR
        assert settings.llm_configured is False  # nothing set: the offline engine, no dangling endpoint
    app = _env(compose["services"]["app"])
    assert app[PREFIX + "HOST"] == "0.0.0.0" and int(app[PREFIX + "WORKERS"]) >= 2


def test_the_commands_are_real(compose: dict[str, Any]) -> None:
    services = compose["services"]
    for name in ("app", "ingest"):
        command = services[name]["command"]
        assert command[0] == "loan-assistant"
        build_parser().parse_args(command[1:])  # exits (SystemExit) on an unknown command or option
    chroma = services["chroma"]["command"]
    script = Path(sys.executable).with_name("chroma")
    help_text = subprocess.run([str(script if script.exists() else shutil.which("chroma")), "run", "--help"],
                               capture_output=True, text=True, timeout=120, check=True).stdout
    assert chroma[:2] == ["chroma", "run"]
    assert all(option in help_text for option in chroma if option.startswith("--"))


def test_the_proxy_forwards_to_the_replicas_and_keeps_streams_unbuffered(compose: dict[str, Any]) -> None:
    conf = (DEPLOY / "nginx.conf").read_text(encoding="utf-8")
    port = _env(compose["services"]["app"])[PREFIX + "PORT"]
    assert f"server app:{port} resolve" in conf
    stream = conf[conf.index("location /v1/chat/stream"):]
    assert "proxy_buffering off" in stream[:stream.index("}")]
    assert "X-Request-ID" in conf  # the request id the service logs (assistant/api/middleware.py)
    assert "./nginx.conf" in compose["services"]["proxy"]["volumes"][0]
