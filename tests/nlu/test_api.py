"""``POST /v1/nlu/parse`` and the ``train nlu`` command line."""

from __future__ import annotations

from fastapi.testclient import TestClient

from assistant.cli import build_parser


def test_parse_contract_shape(client: TestClient) -> None:
    response = client.post("/v1/nlu/parse", json={"text": "车价20万首付三成分36期月供多少"})
    assert response.status_code == 200
    data = response.json()
    assert set(data) >= {"intent", "confidence", "slots"}
    assert data["intent"] == "payment_calculation"
    assert 0 < data["confidence"] <= 1
    assert data["slots"] == {"vehicle_price": 200000, "down_payment_ratio": 0.3, "term_months": 36}
    assert data["lang"] == "zh"


def test_expected_slot(client: TestClient) -> None:
    data = client.post("/v1/nlu/parse", json={"text": "三十万", "expected_slot": "vehicle_price"}).json()
    assert data["slots"] == {"vehicle_price": 300000}


def test_bad_input_is_a_4xx_with_a_message(client: TestClient) -> None:
    for body in [{"text": ""}, {"text": "   "}, {"text": 123}, {"text": None}, {}, {"text": "hi", "expected_slot": "x"},
                 {"text": ["a"]}]:
        response = client.post("/v1/nlu/parse", json=body)
        assert response.status_code == 422, body
        error = response.json()["error"]
        assert error["code"] == "invalid_input" and "/" in error["message"]


def test_long_emoji_and_binary_text_are_served(client: TestClient) -> None:
    for text in ["a" * 20000, "😀" * 100, "\x00\x01\x02 贷款"]:
        response = client.post("/v1/nlu/parse", json={"text": text})
        assert response.status_code == 200, text[:10]
        assert response.json()["intent"]


def test_train_nlu_is_a_cli_command() -> None:
    args = build_parser().parse_args(["train", "nlu", "--out", "/tmp/x.joblib"])
    assert args.model == "nlu" and args.out == "/tmp/x.joblib"
    assert callable(args.handler)
