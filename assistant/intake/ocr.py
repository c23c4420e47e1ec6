"""Offline OCR: the PP-OCR Chinese models that ship inside the ``rapidocr-onnxruntime`` wheel.

Nothing is downloaded: the detection, direction and recognition ONNX files are package data, and a
missing one is a :class:`ConfigurationError` naming the fix. Loading the three models takes about a
second, so one engine is built per process on first use (thread-safe) and shared; ``load_count`` says
how often that happened (once).
"""

from __future__ import annotations

import threading
from importlib import resources
from typing import Any

import numpy as np
from PIL import Image

from assistant.errors import ConfigurationError, InvalidInput
from assistant.intake.fields import OcrLine
from assistant.logs import get_logger

log = get_logger(__name__)

PACKAGE = "rapidocr_onnxruntime"
MODEL_FILES = ("ch_PP-OCRv4_det_infer.onnx", "ch_ppocr_mobile_v2.0_cls_infer.onnx", "ch_PP-OCRv4_rec_infer.onnx")
_INSTALL_HINT = "bash scripts/install.sh (pip install --no-deps rapidocr-onnxruntime==1.4.4 into .[ocr])"


def model_paths() -> list[str]:
    """The shipped model files; ConfigurationError when the package or a file is missing."""
    try:
        root = resources.files(PACKAGE) / "models"
    except ModuleNotFoundError as exc:
        raise ConfigurationError(f"未安装离线OCR引擎 {PACKAGE}：{_INSTALL_HINT}",
                                 f"the offline OCR engine {PACKAGE} is not installed: {_INSTALL_HINT}") from exc
    paths = [root / name for name in MODEL_FILES]
    absent = [path.name for path in paths if not path.is_file()]
    if absent:
        raise ConfigurationError(f"OCR模型文件缺失：{', '.join(absent)}（重新安装 {PACKAGE}）",
                                 f"OCR model files are missing: {', '.join(absent)} (reinstall {PACKAGE})")
    return [str(path) for path in paths]


class OcrEngine:
    """Text boxes of an image, from one lazily-built RapidOCR instance."""

    def __init__(self) -> None:
        self._engine: Any = None
        self._lock = threading.Lock()
        self.load_count = 0

    def _load(self) -> Any:
        with self._lock:
            if self._engine is None:
                det, cls, rec = model_paths()
                try:
                    from rapidocr_onnxruntime import RapidOCR

                    # The model paths are given explicitly: nothing is looked up or fetched elsewhere.
                    self._engine = RapidOCR(det_model_path=det, cls_model_path=cls, rec_model_path=rec)
                except Exception as exc:  # a broken onnxruntime / opencv install
                    raise ConfigurationError(f"OCR引擎无法加载：{type(exc).__name__}",
                                             f"the OCR engine cannot be loaded: {exc}") from exc
                self.load_count += 1
                log.info("ocr_engine_loaded")
        return self._engine

    @property
    def loaded(self) -> bool:
        """True once the models are in memory."""
        return self._engine is not None

    def read(self, image: Image.Image) -> list[OcrLine]:
        """Every text box of ``image``; InvalidInput (code ``ocr_failed``) when the engine fails on it."""
        engine = self._load()
        try:
            result, _elapsed = engine(np.asarray(image.convert("RGB")))
        except Exception as exc:
            log.warning("ocr_failed", error=type(exc).__name__)
            raise InvalidInput("无法识别该图片中的文字，请重新拍摄清晰的照片",
                               "the text in this image could not be read, please send a sharper photo",
                               code="ocr_failed") from exc
        lines: list[OcrLine] = []
        for box, text, score in result or []:
            lines.append(OcrLine(text=str(text), confidence=float(score),
                                 box=[(float(x), float(y)) for x, y in box]))
        return lines


_ENGINE = OcrEngine()


def shared_engine() -> OcrEngine:
    """The process's one engine (models loaded on its first ``read``)."""
    return _ENGINE
