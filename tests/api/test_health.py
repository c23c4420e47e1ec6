"""Liveness and readiness: /health answers while the knowledge index builds; /ready says when to send
traffic and why not."""

from __future__ import annotations

import threading

from fastapi.testclient import TestClient

from assistant.api.app import create_app
from assistant.errors import UpstreamUnavailable
from assistant.services import Services


class _HeldIndexServices(Services):
    """Services whose index build waits until the test lets it go (so 'building' can be observed)."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.release = threading.Event()

    def _build_index(self) -> int | str:
        self.release.wait(timeout=300)
        return super()._build_index()


def test_health_answers_while_the_index_builds_and_ready_follows(settings):
    services = _HeldIndexServices(settings)
    with TestClient(create_app(settings, services)) as client:
        assert client.get("/health").json()["status"] == "ok"
        building = client.get("/ready")
        assert building.status_code == 503
        error = building.json()["error"]
        assert error["code"] == "not_ready" and "building" in error["message"] and "知识库" in error["message"]
        services.release.set()
        services.wait_for_index()
        done = client.get("/ready")
        assert done.status_code == 200 and done.json()["ready"] is True
        assert done.json()["checks"]["knowledge"] == "ready"


def test_a_store_that_is_down_is_not_ready(settings):
    class _DownStore(Services):
        def _build_index(self) -> int | str:
            self._knowledge_state = f"unavailable: {UpstreamUnavailable('x', 'x').code}"
            return self._knowledge_state

    services = _DownStore(settings)
    with TestClient(create_app(settings, services)) as client:
        services.wait_for_index()
        response = client.get("/ready")
        assert response.status_code == 503
        assert "knowledge unavailable" in response.json()["error"]["message"]
        assert client.get("/health").status_code == 200  # alive, just not ready


def test_a_database_that_is_down_is_not_ready(settings, services):
    with TestClient(create_app(settings, services)) as client:
        services.wait_for_index()
        services.engine.dispose()
        services.__dict__["engine"] = _Broken()
        response = client.get("/ready")
        assert response.status_code == 503
        assert "database error" in response.json()["error"]["message"]


class _Broken:
    def connect(self):
        raise OSError("database unreachable")
