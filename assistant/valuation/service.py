"""The valuator: original price × fitted retention, rounded, as a point and an 80 % range."""

from __future__ import annotations

import threading
from decimal import Decimal
from functools import lru_cache
from pathlib import Path

from pydantic import BaseModel, ConfigDict

from assistant.domain.money import Money, Rate, round_hundreds
from assistant.errors import ConfigurationError, InvalidInput
from assistant.valuation.model import ResidualValueModel

APPRAISAL_NOTE_ZH = "系统估值仅供参考：放款前须由持证二手车鉴定评估师对车辆实地评估确认，以评估报告价值为准。"
APPRAISAL_NOTE_EN = (
    "Indicative only: a licensed used-car appraiser inspects the car and confirms its value before any loan "
    "is made; the appraisal report's value is the one that counts."
)
MAX_AGE_YEARS = 30


class Valuation(BaseModel):
    """A used car's estimated market value in yuan, with the range the model's held-out errors imply."""

    model_config = ConfigDict(frozen=True)

    estimated_value: Money
    value_low: Money
    value_high: Money
    retention: Rate
    interval_coverage: Rate
    model_version: str
    held_out_mape: Rate | None


class Valuator:
    """Loads the residual-value artifact on first use and keeps it."""

    def __init__(self, artifact_path: Path) -> None:
        self.artifact_path = artifact_path
        self._model: ResidualValueModel | None = None
        self._lock = threading.Lock()

    @property
    def model(self) -> ResidualValueModel:
        """The fitted model (loaded once)."""
        if self._model is None:
            with self._lock:
                if self._model is None:
                    if not self.artifact_path.is_file():
                        raise ConfigurationError(
                            "缺少估值模型文件，请运行 loan-assistant train valuation",
                            f"valuation model missing at {self.artifact_path}: run `loan-assistant train valuation`",
                        )
                    self._model = ResidualValueModel.load(self.artifact_path)
        return self._model

    def value(
        self,
        original_price: Decimal,
        age_years: Decimal | float,
        mileage_km: int,
        *,
        energy_type: str = "ice",
        segment: str | None = None,
        body_type: str | None = None,
    ) -> Valuation:
        """Estimate the value of a car bought new at ``original_price`` (yuan)."""
        if original_price <= 0:
            raise InvalidInput("新车价格必须大于0", "original_price must be greater than 0", field="original_price")
        if not 0 <= float(age_years) <= MAX_AGE_YEARS:
            raise InvalidInput(f"车龄须在0至{MAX_AGE_YEARS}年之间", f"vehicle age must be 0-{MAX_AGE_YEARS} years",
                               field="vehicle_age_years")
        if mileage_km < 0:
            raise InvalidInput("里程不能为负数", "mileage_km must not be negative", field="mileage_km")
        return self._value(original_price, float(age_years), int(mileage_km), energy_type, segment, body_type)

    @lru_cache(maxsize=8192)  # noqa: B019 - one valuator per process; matching prices the same cars often
    def _value(self, original_price: Decimal, age_years: float, mileage_km: int, energy_type: str,
               segment: str | None, body_type: str | None) -> Valuation:
        model = self.model
        point, low, high = model.retention(age_years, float(mileage_km), segment=segment, body=body_type,
                                           energy=energy_type)
        price = float(original_price)
        mape = model.metrics.get("mercedes_test_mape")
        return Valuation(
            estimated_value=round_hundreds(price * point),
            value_low=round_hundreds(price * low),
            value_high=round_hundreds(price * high),
            retention=Decimal(repr(round(point, 4))),
            interval_coverage=Decimal(repr(model.interval_coverage)),
            model_version=model.version,
            held_out_mape=Decimal(repr(mape)) if mape is not None else None,
        )
