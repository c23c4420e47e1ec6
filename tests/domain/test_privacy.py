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
