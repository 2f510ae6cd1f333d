"""The tables of a config ([experiment], [data], [model], [mechanism]) and what every
table shares: strict, frozen, finite values, and a bad value blamed on one key.

The agents' tables are in sim.agent_groups, the whole config in sim.config.
"""

from typing import Any, ClassVar, Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from sim import datasets, limits
from sim.learners import make_learner
from sim.limits import MAX_SEED
from sim.params import KeyedError, Params
from sim.registry import learners, mechanisms

NAME = r"^[A-Za-z0-9][A-Za-z0-9_.-]*$"

FINITE = {"allow_inf_nan": False}
"""Every number of a config is finite: no duration, rate or amount means infinity."""


class Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, strict=True, **FINITE)


def first_error(error: ValidationError) -> tuple[str, str]:
    """(dotted key, message) of a pydantic error, with nested KeyedErrors unwrapped."""
    first = error.errors()[0]
    key = ".".join(str(part) for part in first["loc"])
    cause = first.get("ctx", {}).get("error")
    if isinstance(cause, KeyedError):
        return (f"{key}.{cause.key}" if key else cause.key), cause.message
    if cause is not None:
        return key, str(cause)
    if first["type"] == "extra_forbidden":
        return key, "unknown key"
    if first["type"] == "missing":
        return key, "missing required key"
    return key, f"{first['msg']} (got {first.get('input')!r})"


def filled_params(params_cls: type[Params], values: dict[str, Any], prefix: str = "") -> dict:
    """`values` checked against `params_cls`, with its defaults filled in.

    Two configs that mean the same then compare equal, and the saved config records the
    defaults that were used (but for unset optional ones: TOML has no null).
    """
    try:
        return params_cls.model_validate(values).model_dump(exclude_none=True)
    except ValidationError as error:
        key, message = first_error(error)
        raise KeyedError(prefix + key, message) from None


def within_limit(key: str, amount: float, what: str, limit: str) -> None:
    """Refuse work over `sim.limits.<limit>` (read now, so it can be raised) before any
    of it is allocated."""
    bound = getattr(limits, limit)
    if amount > bound:
        shown = f"{amount:,}" if isinstance(amount, int) else f"{amount:,.0f}"
        if amount >= 1e21:
            shown = f"{amount:.3g}"
        raise KeyedError(key, f"{shown} {what} is over the limit of {bound:,} (sim.limits.{limit})")


class ExperimentSection(Section):
    name: str = Field("experiment", pattern=NAME, description="names the results folder")
    seed: int = Field(
        0, ge=0, le=MAX_SEED, description="root of every random stream (scikit-learn's range)"
    )
    replicates: int = Field(1, ge=1, description="runs per sweep point")
    duration_days: float = Field(30.0, gt=0, description="simulated time of one run")
    eval_every_hours: float = Field(12.0, gt=0, description="how often metrics are sampled")
    stop_when_settled: bool = Field(
        True, description="end early once the pool is used up and every deposit is settled"
    )
    chain: Literal["python", "evm"] = Field(
        "python",
        description="evm: every contract call also runs on the Vyper contracts (contracts/) on "
        "an in-process EVM, compared after each transaction (needs the evm extra; "
        "`decai run --chain evm`)",
    )
    gas_price_gwei: float = Field(
        0.0,
        ge=0,
        le=1e6,
        description="with chain = evm: the gas price for each kind's K_roi_net_gas (the EVM "
        "counts one unit of money as one wei)",
    )

    @model_validator(mode="after")
    def _gas_needs_the_evm(self):
        if self.gas_price_gwei and self.chain != "evm":
            raise KeyedError("gas_price_gwei", "needs chain = evm (gas is measured on the EVM)")
        return self


class DataSection(Section):
    dataset: str = Field(
        "synthetic",
        description="bundled name, synthetic, bag_of_words, csv:PATH, parquet:PATH or "
        "svmlight:PATH",
    )
    initial_fraction: float = Field(0.1, ge=0, lt=1, description="share used to pre-train")
    test_fraction: float = Field(0.2, gt=0, lt=1, description="share held out as the test set")
    n_samples: int | None = Field(None, gt=0, description="synthetic, bag_of_words: samples")
    n_features: int | None = Field(
        None, gt=0, description="synthetic, bag_of_words: features; svmlight: keep the first ones"
    )
    binary: bool = Field(
        False, description="synthetic: 0/1 features; bag_of_words, svmlight: presence, not counts"
    )
    n_informative: int | None = Field(None, gt=0, description="synthetic: informative features")
    n_classes: int = Field(2, ge=2, description="synthetic: classes")
    class_sep: float = Field(1.0, gt=0, description="synthetic: class separation")
    flip_y: float = Field(
        0.0, ge=0, le=1, description="synthetic, bag_of_words: share of random labels"
    )
    mean_length: float = Field(230.0, gt=0, description="bag_of_words: mean words per document")
    zipf_exponent: float = Field(
        1.0, gt=0, description="bag_of_words: word frequency ~ 1 / rank ** zipf_exponent"
    )
    sentiment_share: float = Field(
        0.1, gt=0, lt=1, description="bag_of_words: share of words more frequent in one class"
    )
    sentiment_strength: float = Field(
        0.68, gt=0, description="bag_of_words: log frequency ratio of a sentiment word's classes"
    )
    label_column: str = Field("label", description="csv/parquet: the label column")
    label_threshold: float | None = Field(
        None, description="csv/parquet/svmlight: labels >= it are class 1, the rest class 0"
    )

    @model_validator(mode="after")
    def _check(self):
        if self.initial_fraction + self.test_fraction >= 1:
            raise KeyedError("initial_fraction", "initial_fraction + test_fraction must be below 1")
        if self.n_samples is not None and self.n_features is not None:
            cells = self.n_samples * self.n_features
            name, limit = datasets.cell_limit(self.dataset)
            if cells > limit:
                cost = (
                    f"draw {cells:,} cells"
                    if name == "MAX_DRAWN_CELLS"
                    else f"take {cells * 8 / 1e9:,.1f} GB as float64"
                )
                raise KeyedError(
                    "n_samples",
                    f"{self.n_samples:,} samples x {self.n_features:,} features would {cost}, "
                    f"over the limit of {limit:,} cells (sim.datasets.{name})",
                )
        within_limit("n_classes", self.n_classes, "classes", "MAX_CLASSES")
        if not datasets.is_known(self.dataset):
            choices = ", ".join(datasets.DATASETS)
            raise KeyedError(
                "dataset", f"unknown dataset {self.dataset!r}; choose one of {choices}"
            )
        return self

    def known_classes(self) -> int | None:
        return datasets.known_classes(self.dataset, self.n_classes, self.label_threshold)


class KindSection(BaseModel):
    """`kind` plus the selected kind's parameters, each table checked against its class.

    Parameters go flat in the section (for the selected kind) or in a table per kind,
    `[mechanism.dtr]`, `[model.naive_bayes]`, ...: one config then holds every kind's
    parameters, and a sweep over `kind` picks each kind's own table. After validation every
    given table is filled in with defaults, and flat keys are folded into the selected
    kind's table.
    """

    model_config = ConfigDict(extra="allow", frozen=True, strict=True, **FINITE)
    kind: str
    what: ClassVar[str]
    """What a kind is, for error messages: "mechanism", "model"."""

    @staticmethod
    def kinds() -> dict[str, type]:
        """The registry: kind -> class with a `Params` model."""
        raise NotImplementedError

    @model_validator(mode="after")
    def _check(self):
        kinds = self.kinds()
        if self.kind not in kinds:
            raise KeyedError(
                "kind", f"unknown {self.what} {self.kind!r}; choose one of {', '.join(kinds)}"
            )
        flat = dict(self.model_extra or {})
        tables = {name: flat.pop(name) for name in list(flat) if name in kinds}
        for name, table in tables.items():
            if not isinstance(table, dict):
                raise KeyedError(name, f"must be a table of {name} parameters")
            tables[name] = filled_params(kinds[name].Params, table, f"{name}.")
        tables[self.kind] = filled_params(
            kinds[self.kind].Params, {**tables.get(self.kind, {}), **flat}
        )
        object.__setattr__(self, "__pydantic_extra__", tables)
        return self

    def params(self) -> Params:
        """The selected kind's parameters."""
        return self.kinds()[self.kind].Params.model_validate(self.model_extra[self.kind])


class ModelSection(KindSection):
    kind: str = Field("perceptron", description="the learner in the contract")
    what: ClassVar[str] = "model"

    @staticmethod
    def kinds() -> dict[str, type]:
        return learners()

    def learner(self, n_features: int, n_classes: int, X, y, rng: np.random.Generator):
        """This kind's learner, pre-trained on (X, y); `rng` shuffles where it trains in
        epochs."""
        learner = make_learner(self.kind, n_features, n_classes, **self.params().model_dump())
        return learner.fit(X, y, rng)


class MechanismSection(KindSection):
    kind: str = Field("dtr", description="the incentive mechanism")
    what: ClassVar[str] = "mechanism"

    @staticmethod
    def kinds() -> dict[str, type]:
        return mechanisms()
