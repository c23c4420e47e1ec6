"""The offline OCR engine on generated clean cards: fields read exactly, the engine loaded once.

OCR costs seconds a card on two cores: the three cards are read once for the module."""

from __future__ import annotations

import pytest

from assistant.errors import ConfigurationError
from assistant.intake import ocr
from assistant.intake.cards import CARD_KINDS, card_bytes, expected_fields, person_for_seed, render_card
from assistant.intake.fields import ReadFields
from assistant.intake.kinds import DocumentKind
from assistant.intake.service import IntakeService
from assistant.services import Services
from assistant.settings import Settings

SEED = 4242


@pytest.fixture(scope="module")
def reads(tmp_path_factory: pytest.TempPathFactory) -> dict[DocumentKind, ReadFields]:
    settings = Settings(_env_file=None, data_dir=tmp_path_factory.mktemp("ocr"))  # type: ignore[call-arg]
    intake: IntakeService = Services(settings).intake
    person = person_for_seed(SEED)
    out: dict[DocumentKind, ReadFields] = {}
    for kind in CARD_KINDS:
        read = intake.read(kind, card_bytes(render_card(kind, person, seed=SEED)))
        assert read is not None
        out[kind] = read
    return out


@pytest.mark.parametrize("kind", CARD_KINDS, ids=lambda k: k.value)
def test_a_clean_card_is_read_exactly(reads: dict[DocumentKind, ReadFields], kind: DocumentKind) -> None:
    read, expected = reads[kind], expected_fields(kind, person_for_seed(SEED))
    assert {field: read.fields.get(field) for field in expected} == expected
    assert read.missing == []
    assert all(value > 0.8 for value in read.confidence.values())
    if kind is not DocumentKind.ID_CARD_BACK:
        assert read.id_checksum_ok is True


def test_the_engine_is_loaded_once_for_every_service(reads: dict[DocumentKind, ReadFields],
                                                     tmp_path_factory: pytest.TempPathFactory) -> None:
    engine = ocr.shared_engine()
    assert engine.loaded and engine.load_count == 1
    other = Services(Settings(_env_file=None, data_dir=tmp_path_factory.mktemp("other")))  # type: ignore[call-arg]
    assert other.intake.engine is engine
    person = person_for_seed(SEED)
    other.intake.read(DocumentKind.ID_CARD_BACK, card_bytes(render_card(DocumentKind.ID_CARD_BACK, person)))
    assert engine.load_count == 1


def test_a_missing_model_file_is_a_configuration_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(ocr, "MODEL_FILES", ("ch_PP-OCRv4_det_infer.onnx", "missing_cls.onnx", "missing_rec.onnx"))
    with pytest.raises(ConfigurationError) as caught:
        ocr.OcrEngine().read(render_card(DocumentKind.ID_CARD_BACK, person_for_seed(1)))
    assert caught.value.zh.startswith("OCR模型文件缺失") and "missing_cls.onnx" in caught.value.en
