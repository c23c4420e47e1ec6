"""The WeChat customer-service message API (客服消息): replies that missed the 5-second window, and the
rest of a reply too long for one message.

``GET {base}/cgi-bin/token?grant_type=client_credential&appid=&secret=`` → ``{"access_token","expires_in"}``;
``POST {base}/cgi-bin/message/custom/send?access_token=`` with ``{"touser","msgtype":"text","text":{"content"}}``
→ ``{"errcode":0}``. Retries with back-off on network errors, 5xx and "system busy" (-1); a token
WeChat says is invalid or expired (40001, 40014, 42001) is fetched again once.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable

import httpx

from assistant.errors import ConfigurationError, UpstreamUnavailable
from assistant.logs import get_logger

log = get_logger(__name__)

_TOKEN_ERRORS = frozenset({40001, 40014, 42001})
_BUSY = -1


class CustomerServiceClient:
    """Send text messages to a follower through the customer-service API."""

    def __init__(self, base_url: str, app_id: str, app_secret: str, *, timeout_s: float = 5.0,
                 max_attempts: int = 3, backoff_s: float = 0.5, http: httpx.Client | None = None,
                 sleep: Callable[[float], None] = time.sleep, clock: Callable[[], float] = time.monotonic) -> None:
        if not app_id or not app_secret:
            raise ConfigurationError("未配置公众号 AppID/AppSecret", "WeChat AppID/AppSecret are not configured")
        self.base_url = base_url.rstrip("/")
        self.app_id = app_id
        self._secret = app_secret
        self.max_attempts = max(1, max_attempts)
        self.backoff_s = backoff_s
        self._http = http or httpx.Client(timeout=timeout_s)
        self._sleep = sleep
        self._clock = clock
        self._token: str | None = None
        self._token_expires = 0.0
        self._lock = threading.Lock()

    # ------------------------------------------------------------------ access token
    def access_token(self, force: bool = False) -> str:
        """A valid access token (cached until five minutes before it expires)."""
        with self._lock:
            if not force and self._token and self._clock() < self._token_expires:
                return self._token
            data = self._request("GET", "/cgi-bin/token", params={
                "grant_type": "client_credential", "appid": self.app_id, "secret": self._secret})
            token = data.get("access_token")
            if not token:
                raise UpstreamUnavailable("获取微信 access_token 失败", f"WeChat token error {data.get('errcode')}")
            self._token = str(token)
            self._token_expires = self._clock() + max(int(data.get("expires_in", 7200)) - 300, 60)
            return self._token

    # ------------------------------------------------------------------ messages
    def send_text(self, openid: str, content: str) -> None:
        """Send one text message; UpstreamUnavailable when WeChat keeps refusing."""
        payload = {"touser": openid, "msgtype": "text", "text": {"content": content}}
        for refreshed in (False, True):
            token = self.access_token(force=refreshed)
            data = self._request("POST", "/cgi-bin/message/custom/send", params={"access_token": token},
                                 body=payload)
            code = int(data.get("errcode", 0) or 0)
            if code == 0:
                return
            if code in _TOKEN_ERRORS and not refreshed:
                continue
            raise UpstreamUnavailable("微信客服消息发送失败", f"WeChat refused the message: errcode {code}")
        raise UpstreamUnavailable("微信客服消息发送失败", "WeChat refused the access token")

    def send_texts(self, openid: str, pieces: list[str]) -> int:
        """Send pieces in order; returns how many were delivered (stops at the first failure)."""
        sent = 0
        for piece in pieces:
            self.send_text(openid, piece)
            sent += 1
        return sent

    # ------------------------------------------------------------------ transport
    def _request(self, method: str, path: str, *, params: dict[str, str], body: object = None) -> dict:
        """One API call with retries; returns the JSON object WeChat answered."""
        from assistant import metrics

        last_error = "no attempt"
        for attempt in range(1, self.max_attempts + 1):
            if attempt > 1:
                metrics.WECHAT_RETRIES.inc()
                self._sleep(self.backoff_s * 2 ** (attempt - 2))
            try:
                content = json.dumps(body, ensure_ascii=False).encode("utf-8") if body is not None else None
                response = self._http.request(method, self.base_url + path, params=params, content=content,
                                              headers={"Content-Type": "application/json; charset=utf-8"}
                                              if content is not None else None)
            except httpx.HTTPError as exc:
                last_error = type(exc).__name__
                log.warning("wechat_api_retry", path=path, attempt=attempt, error=last_error)
                continue
            if response.status_code >= 500:
                last_error = f"HTTP {response.status_code}"
                log.warning("wechat_api_retry", path=path, attempt=attempt, error=last_error)
                continue
            try:
                data = response.json()
            except ValueError:
                last_error = "invalid JSON"
                continue
            if not isinstance(data, dict):
                last_error = "unexpected JSON"
                continue
            if int(data.get("errcode", 0) or 0) == _BUSY:
                last_error = "errcode -1 (busy)"
                continue
            return data
        raise UpstreamUnavailable("微信接口暂时不可用", f"WeChat API unavailable after {self.max_attempts} "
                                  f"attempts ({last_error})")

    def close(self) -> None:
        """Close the HTTP connection pool."""
        self._http.close()
