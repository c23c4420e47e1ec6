"""WeChat Official Account message signatures and the AES "safe mode" (安全模式) per WeChat's spec.

- URL signature: ``sha1(sorted([token, timestamp, nonce]) joined)``;
  message signature (safe mode): the same over ``[token, timestamp, nonce, Encrypt]``.
- Encryption: key = Base64(EncodingAESKey + "=") (32 bytes), IV = key[:16], AES-256-CBC over
  ``random(16) + len(msg) (4 bytes, big-endian) + msg + AppID``, PKCS#7-padded to 32-byte blocks.

Interoperability with ``wechatpy.crypto.WeChatCrypto`` (the reference implementation) is tested both ways.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import os
import struct

from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

from assistant.errors import ConfigurationError, Forbidden, InvalidInput

BLOCK = 32


def signature(token: str, timestamp: str, nonce: str, *extra: str) -> str:
    """WeChat's SHA-1 signature over the sorted, concatenated strings."""
    parts = sorted([token, timestamp, nonce, *extra])
    return hashlib.sha1("".join(parts).encode("utf-8")).hexdigest()


def check_signature(expected: str | None, token: str, timestamp: str, nonce: str, *extra: str) -> None:
    """Raise Forbidden unless ``expected`` is the signature of the other arguments (constant time)."""
    if not expected or not hmac.compare_digest(expected.lower(), signature(token, timestamp, nonce, *extra)):
        raise Forbidden("微信签名校验失败", "WeChat signature check failed", code="bad_signature")


def _pad(data: bytes) -> bytes:
    n = BLOCK - len(data) % BLOCK
    return data + bytes([n]) * n


def _unpad(data: bytes) -> bytes:
    n = data[-1] if data else 0
    if not 1 <= n <= BLOCK or len(data) < n or data[-n:] != bytes([n]) * n:
        raise Forbidden("微信消息解密失败（填充无效）", "WeChat message decryption failed (bad padding)",
                        code="bad_ciphertext")
    return data[:-n]


class MessageCrypto:
    """Encrypt and decrypt message bodies for one Official Account (token, EncodingAESKey, AppID)."""

    def __init__(self, token: str, encoding_aes_key: str, app_id: str) -> None:
        if len(encoding_aes_key) != 43:
            raise ConfigurationError("EncodingAESKey 应为43个字符", "EncodingAESKey must be 43 characters")
        try:
            self.key = base64.b64decode(encoding_aes_key + "=")
        except binascii.Error as exc:
            raise ConfigurationError("EncodingAESKey 不是合法的Base64", "EncodingAESKey is not Base64") from exc
        if len(self.key) != 32:
            raise ConfigurationError("EncodingAESKey 解码后应为32字节", "EncodingAESKey must decode to 32 bytes")
        self.token = token
        self.app_id = app_id

    def _cipher(self) -> Cipher:
        return Cipher(algorithms.AES(self.key), modes.CBC(self.key[:16]))

    def encrypt(self, message: str, random16: bytes | None = None) -> str:
        """Base64 ciphertext of ``message`` (what goes in ``<Encrypt>``)."""
        body = message.encode("utf-8")
        plain = (random16 or os.urandom(16)) + struct.pack(">I", len(body)) + body + self.app_id.encode()
        encryptor = self._cipher().encryptor()
        return base64.b64encode(encryptor.update(_pad(plain)) + encryptor.finalize()).decode("ascii")

    def decrypt(self, encrypted: str) -> str:
        """The XML inside ``<Encrypt>``; Forbidden if it is not ours (bad key, padding or AppID)."""
        try:
            raw = base64.b64decode(encrypted, validate=True)
        except (binascii.Error, ValueError) as exc:
            raise InvalidInput("Encrypt 字段不是合法的Base64", "Encrypt is not valid Base64",
                               field="Encrypt") from exc
        if not raw or len(raw) % 16:
            raise InvalidInput("Encrypt 字段长度无效", "Encrypt has an invalid length", field="Encrypt")
        decryptor = self._cipher().decryptor()
        plain = _unpad(decryptor.update(raw) + decryptor.finalize())
        if len(plain) < 20:
            raise Forbidden("微信消息解密失败", "WeChat message decryption failed", code="bad_ciphertext")
        (length,) = struct.unpack(">I", plain[16:20])
        body, app_id = plain[20:20 + length], plain[20 + length:]
        if len(body) != length or app_id.decode("utf-8", "replace") != self.app_id:
            raise Forbidden("消息不属于本公众号（AppID不符）", "the message is not for this AppID", code="bad_app_id")
        try:
            return body.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise Forbidden("微信消息解密失败", "WeChat message decryption failed", code="bad_ciphertext") from exc

    def decrypt_envelope(self, encrypted: str, msg_signature: str | None, timestamp: str, nonce: str) -> str:
        """Check ``msg_signature`` over the ciphertext, then decrypt."""
        check_signature(msg_signature, self.token, timestamp, nonce, encrypted)
        return self.decrypt(encrypted)

    def encrypt_envelope(self, reply_xml: str, timestamp: str, nonce: str) -> str:
        """The encrypted reply envelope WeChat expects in safe mode."""
        encrypted = self.encrypt(reply_xml)
        sig = signature(self.token, timestamp, nonce, encrypted)
        return (f"<xml><Encrypt><![CDATA[{encrypted}]]></Encrypt><MsgSignature><![CDATA[{sig}]]></MsgSignature>"
                f"<TimeStamp>{timestamp}</TimeStamp><Nonce><![CDATA[{nonce}]]></Nonce></xml>")
