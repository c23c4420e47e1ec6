"""Personal-data masking."""

from __future__ import annotations

from assistant.privacy import PiiVault, contains_pii, mask_pii

TEXT = "我叫张三，身份证110101199003071234，手机13812345678，卡号6222021234567890123，贷款100000元分36期"


def test_mask_pii_hides_identifiers_but_keeps_amounts() -> None:
    masked = mask_pii(TEXT)
    assert "110101199003071234" not in masked
    assert "13812345678" not in masked
    assert "6222021234567890123" not in masked
    assert "张三" not in masked
    assert "100000" in masked and "36期" in masked
    assert not contains_pii(masked)


def test_vault_round_trip_and_stable_placeholders() -> None:
    vault = PiiVault()
    masked = vault.mask(TEXT + "，再说一次手机13812345678")
    assert "<PHONE_1>" in masked and "<PHONE_2>" not in masked
    assert "<ID_1>" in masked and "<NAME_1>" in masked
    assert vault.unmask(masked) == TEXT + "，再说一次手机13812345678"
    assert vault.unmask_obj({"a": ["<ID_1>"]}) == {"a": ["110101199003071234"]}


def test_names_without_a_cue_and_english_names_are_masked() -> None:
    assert "王小明" not in mask_pii("王小明 110101199003071234")
    assert "Tom Lee" not in mask_pii("Hi, my name is Tom Lee and I want a loan")
    assert mask_pii("I'm looking for a car") == "I'm looking for a car"
    vault = PiiVault()
    assert vault.mask("王小明想买车") == "<NAME_1>想买车"


def test_addresses_are_masked_but_city_and_amounts_stay() -> None:
    masked = mask_pii("地址北京市朝阳区建国路88号3号楼2单元501室，车价20万")
    assert "建国路88号" not in masked and "501" not in masked
    assert "北京市朝阳区" in masked and "20万" in masked
    assert "Jianguo" not in mask_pii("I live at No. 88 Jianguo Road, Beijing")


def test_nothing_is_masked_inside_identifiers() -> None:
    doc = "/v1/documents/3f2a1b13-8123-4567-8abc-138123456789"
    hex_id = "session 9f1c13812345678aa0b2c4d6e8f01234"
    assert mask_pii(doc) == doc and mask_pii(hex_id) == hex_id
    assert not contains_pii(doc)
    # ...while the same digits standing alone are a phone
    assert mask_pii("电话13812345678") == "电话138****5678"


def test_reveal_shows_echoed_placeholders_masked() -> None:
    vault = PiiVault()
    vault.mask("我叫张伟，手机13812345678，身份证110101199003071234")
    shown = vault.reveal("张伟您好，<PHONE_1>和<ID_1>已记录（<NAME_1>）")
    assert "13812345678" not in shown and "110101199003071234" not in shown
    assert "138****5678" in shown and "张伟" in shown


def test_an_id_ending_in_x_keeps_its_length_when_masked() -> None:
    assert mask_pii("身份证11010519491231002X") == "身份证110***********002X"
