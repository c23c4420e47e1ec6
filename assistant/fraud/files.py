"""The fraud package's only I/O: reading the known-bad lists and the fitted model from files.

Known-bad file (``settings.fraud_known_bad_path``), UTF-8 JSON::

    {"id_hashes": ["<hex>", ...], "phone_hashes": ["<hex>", ...], "device_ids": ["<token>", ...]}

Every key is optional; any other key, a non-list, or an entry that is not a hash (a raw ID number or phone
number included) is refused with a :class:`ConfigurationError` naming the file, the key and the entry, so
a malformed list stops startup instead of silently matching nothing.
"""

from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING

from pydantic import ValidationError

from assistant.errors import ConfigurationError
from assistant.fraud.models import KnownBadLists
from assistant.fraud.score import FraudModel

if TYPE_CHECKING:
    from assistant.settings import Settings

MODEL_PATH = Path(__file__).resolve().parent.parent / "models" / "fraud" / "weights.json"
_KEYS = ("id_hashes", "phone_hashes", "device_ids")


def _read_json(path: Path, what_zh: str, what_en: str) -> object:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigurationError(f"无法读取{what_zh} {path}：{exc.strerror}", f"cannot read the {what_en} {path}: "
                                 f"{exc.strerror}") from exc
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise ConfigurationError(f"{what_zh} {path} 不是有效的 JSON（第{exc.lineno}行）",
                                 f"the {what_en} {path} is not valid JSON (line {exc.lineno}): {exc.msg}") from exc


def load_known_bad(path: Path) -> KnownBadLists:
    """Read and validate a known-bad list file."""
    data = _read_json(path, "欺诈黑名单文件", "known-bad list file")
    if not isinstance(data, dict):
        raise ConfigurationError(f"欺诈黑名单文件 {path} 必须是 JSON 对象", f"the known-bad list file {path} must be a "
                                 "JSON object")
    unknown = sorted(set(data) - set(_KEYS))
    if unknown:
        raise ConfigurationError(f"欺诈黑名单文件 {path} 含未知字段：{', '.join(unknown)}",
                                 f"the known-bad list file {path} has unknown keys: {', '.join(unknown)} "
                                 f"(expected {', '.join(_KEYS)})")
    for key in _KEYS:
        if key in data and not isinstance(data[key], list):
            raise ConfigurationError(f"欺诈黑名单文件 {path} 的 {key} 必须是列表",
                                     f"{key} in the known-bad list file {path} must be a list")
    try:
        return KnownBadLists.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(part) for part in first["loc"][:2])
        entry = data[first["loc"][0]][first["loc"][1]] if len(first["loc"]) > 1 else None
        shown = f"{entry!r:.24}" if entry is not None else ""
        raise ConfigurationError(f"欺诈黑名单文件 {path} 的 {where} 无效 {shown}：{first['msg']}",
                                 f"invalid entry {where} {shown} in the known-bad list file {path}: {first['msg']}",
                                 field=where) from exc


def known_bad_from_settings(settings: Settings) -> KnownBadLists:
    """The lists named by ``settings.fraud_known_bad_path``, or empty lists when none is configured.

    Read once per version of the file (every submission asks): an edited list is picked up by its new
    modification time and size, without re-reading and re-validating it on each application."""
    path = settings.fraud_known_bad_path
    if path is None:
        return KnownBadLists()
    try:
        stat = path.stat()
    except OSError:
        return load_known_bad(path)  # the loader's own bilingual error names the missing file
    return _known_bad_version(path, stat.st_mtime_ns, stat.st_size)


@lru_cache(maxsize=4)
def _known_bad_version(path: Path, _mtime_ns: int, _size: int) -> KnownBadLists:
    return load_known_bad(path)


def load_model(path: Path = MODEL_PATH) -> FraudModel:
    """Read the fitted model (weights and decision thresholds)."""
    data = _read_json(path, "欺诈模型文件", "fraud model file")
    try:
        return FraudModel.model_validate(data)
    except ValidationError as exc:
        raise ConfigurationError(f"欺诈模型文件 {path} 无效", f"the fraud model file {path} is invalid: {exc}") from exc


@lru_cache(maxsize=1)
def shipped_model() -> FraudModel:
    """The model shipped with the package, read once."""
    return load_model(MODEL_PATH)
