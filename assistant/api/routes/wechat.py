"""``/wechat``: the WeChat Official Account callback (服务器配置 → URL).

- ``GET /wechat?signature&timestamp&nonce&echostr``: the verification handshake, echoes ``echostr``.
- ``POST /wechat?signature&timestamp&nonce[&encrypt_type=aes&msg_signature]``: a message in plaintext,
  compatible or safe (AES) mode; the answer is the passive reply XML (encrypted in safe mode) or
  ``success``.

Wrong signature → 403; malformed XML → 400; a re-sent MsgId is not processed again.
"""

from __future__ import annotations

import re
import time

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse, PlainTextResponse, Response

from assistant.api.deps import get_services
from assistant.api.errors import error_body
from assistant.errors import Forbidden, InvalidInput, NotFound
from assistant.wechat.bridge import WeChatBridge
from assistant.wechat.crypto import MessageCrypto, check_signature
from assistant.wechat.messages import parse_xml, to_message

router = APIRouter(tags=["wechat"])

# WeChat sends a Unix timestamp and a numeric nonce; anything else is not WeChat (and would otherwise
# be copied into the reply XML).
_SAFE_TOKEN = re.compile(r"^[A-Za-z0-9]{1,64}$")
# Requests older than this are refused; it is shorter than the replay guard's memory, so a captured
# request can be neither replayed later nor processed twice now.
MAX_CLOCK_SKEW_S = 600


def _token(request: Request) -> str:
    token = get_services(request).settings.wechat_token
    if not token:
        raise NotFound("未配置微信公众号接入（WECHAT_TOKEN）", "the WeChat channel is not configured (WECHAT_TOKEN)")
    return token


def _checked_params(request: Request, token: str) -> tuple[str, str]:
    params = request.query_params
    timestamp, nonce = params.get("timestamp", ""), params.get("nonce", "")
    if not _SAFE_TOKEN.match(timestamp) or not _SAFE_TOKEN.match(nonce):
        raise Forbidden("缺少或无效的 timestamp/nonce", "missing or invalid timestamp/nonce", code="bad_signature")
    check_signature(params.get("signature"), token, timestamp, nonce)
    if not timestamp.isdigit() or abs(time.time() - int(timestamp)) > MAX_CLOCK_SKEW_S:
        raise Forbidden("请求已过期（timestamp 超出允许范围）", "stale request (timestamp out of range)",
                        code="stale_request")
    return timestamp, nonce


def bridge(request: Request) -> WeChatBridge:
    """The app's WeChat bridge (built on first use)."""
    state = request.app.state
    existing = getattr(state, "wechat_bridge", None)
    if existing is None:
        existing = state.wechat_bridge = WeChatBridge(get_services(request))
    return existing


def _crypto(request: Request, token: str) -> MessageCrypto:
    settings = get_services(request).settings
    if not settings.wechat_encoding_aes_key or not settings.wechat_app_id:
        raise Forbidden("安全模式未配置（WECHAT_ENCODING_AES_KEY / WECHAT_APP_ID）",
                        "safe mode is not configured (WECHAT_ENCODING_AES_KEY / WECHAT_APP_ID)",
                        code="aes_not_configured")
    return MessageCrypto(token, settings.wechat_encoding_aes_key, settings.wechat_app_id)


@router.get("/wechat", response_class=PlainTextResponse)
def wechat_verify(request: Request) -> PlainTextResponse:
    """WeChat's server-verification handshake: a correct signature gets ``echostr`` back verbatim."""
    token = _token(request)
    _checked_params(request, token)
    return PlainTextResponse(request.query_params.get("echostr", ""))


@router.post("/wechat")
async def wechat_receive(request: Request) -> Response:
    """Receive one message or event and answer it (passive reply XML, or ``success``)."""
    token = _token(request)
    timestamp, nonce = _checked_params(request, token)
    body = await request.body()
    aes = request.query_params.get("encrypt_type", "raw").lower() == "aes"
    try:
        fields = parse_xml(body)
        crypto = None
        if aes:
            crypto = _crypto(request, token)
            if not fields.get("Encrypt"):
                raise InvalidInput("安全模式消息缺少 Encrypt", "safe-mode message without Encrypt",
                                   code="malformed_xml")
            inner = crypto.decrypt_envelope(fields["Encrypt"], request.query_params.get("msg_signature"),
                                            timestamp, nonce)
            fields = parse_xml(inner)
        message = to_message(fields)
    except InvalidInput as exc:  # WeChat's protocol errors are 400, not the API's usual 422
        return JSONResponse(error_body(exc.code, exc.message, exc.field), status_code=400)
    reply = await run_in_threadpool(bridge(request).respond, message)
    if reply is None:
        return PlainTextResponse("success")
    if crypto is not None:
        reply = crypto.encrypt_envelope(reply, timestamp, nonce)
    return Response(reply, media_type="application/xml; charset=utf-8")
