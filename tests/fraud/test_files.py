"""The known-bad list loader refuses malformed files clearly; the model file loads."""

from __future__ import annotations

import json

import pytest

from assistant.errors import ConfigurationError
from assistant.fraud.files import MODEL_PATH, known_bad_from_settings, load_known_bad, load_model
from assistant.settings import Settings
from tests.fraud.conftest import h


def write(tmp_path, content) -> object:
    path = tmp_path / "bad.json"
    path.write_text(content if isinstance(content, str) else json.dumps(content), encoding="utf-8")
    return path


def test_a_good_list_loads(tmp_path):
    lists = load_known_bad(write(tmp_path, {"id_hashes": [h("a")], "device_ids": ["dev-0123456789abcdef"]}))
    assert lists.id_hashes == {h("a")} and lists.phone_hashes == frozenset() and len(lists.device_ids) == 1


@pytest.mark.parametrize("content,zh,en", [
    ("{not json", "不是有效的 JSON", "not valid JSON (line 1)"),
    ([h("a")], "必须是 JSON 对象", "must be a JSON object"),
    ({"ids": [h("a")]}, "未知字段", "unknown keys: ids"),
    ({"id_hashes": h("a")}, "必须是列表", "id_hashes in the known-bad list file"),
    ({"id_hashes": [h("a"), "110105194912310021"]}, "id_hashes.1 无效", "not a raw ID or phone number"),
    ({"phone_hashes": [13800138000]}, "phone_hashes.0 无效", "invalid entry phone_hashes.0"),
])
def test_a_malformed_list_is_refused_with_a_clear_bilingual_error(tmp_path, content, zh, en):
    with pytest.raises(ConfigurationError) as caught:
        load_known_bad(write(tmp_path, content))
    assert zh in caught.value.zh and en in caught.value.en and "bad.json" in caught.value.en


def test_a_missing_file_is_a_configuration_error(tmp_path):
    with pytest.raises(ConfigurationError, match="cannot read the known-bad list file"):
        load_known_bad(tmp_path / "absent.json")


def test_settings_name_the_file_or_there_are_no_lists(tmp_path):
    assert known_bad_from_settings(Settings(_env_file=None)) == load_known_bad(write(tmp_path, {}))  # type: ignore[call-arg]
    path = write(tmp_path, {"phone_hashes": [h("p")]})
    assert known_bad_from_settings(Settings(fraud_known_bad_path=path, _env_file=None)).phone_hashes == {h("p")}  # type: ignore[call-arg]


def test_the_shipped_model_loads_and_a_broken_one_is_refused(tmp_path):
    assert load_model(MODEL_PATH).version.startswith("fraud-lr-")
    with pytest.raises(ConfigurationError, match="fraud model file"):
        load_model(write(tmp_path, {"version": "x", "intercept": 0, "weights": {}, "review_at": 0.1,
                                    "decline_at": 0.5}))


def test_the_lists_are_read_once_per_version_of_the_file(tmp_path) -> None:
    path = write(tmp_path, {"id_hashes": [h("a")]})
    settings = Settings(_env_file=None, fraud_known_bad_path=path)  # type: ignore[call-arg]
    first = known_bad_from_settings(settings)
    assert known_bad_from_settings(settings) is first  # no re-read per submission
    write(tmp_path, {"id_hashes": [h("a"), h("b")]})
    assert h("b") in known_bad_from_settings(settings).id_hashes  # an edited list is picked up
