"""Who takes part: `[[agents]]` groups, and the `[population]` shorthand that makes them.

Each group's kind (a behaviour, sim.registry) is looked up and its own keys checked where
the config is read.
"""

from functools import partial

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, model_validator

from sim.limits import MAX_MONEY
from sim.params import KeyedError, Params
from sim.registry import behaviour_class
from sim.sections import FINITE, NAME, Section, filled_params


def _registered(lookup, name: str, key: str) -> type:
    """`lookup(name)` from the registry, its error blamed on `key`."""
    try:
        return lookup(name)
    except ValueError as error:
        raise KeyedError(key, str(error)) from None


def _check_strategy(behaviour: type, strategy: str, key: str) -> None:
    if strategy not in behaviour.strategies:
        choices = ", ".join(behaviour.strategies) or "none"
        raise KeyedError(
            key, f"unknown strategy {strategy!r} for {behaviour.kind}; choose one of {choices}"
        )


def _fill_params(section: BaseModel, params_cls: type[Params]) -> None:
    """Check a section's own (extra) keys against `params_cls`; keep them filled in."""
    filled = filled_params(params_cls, section.model_extra or {})
    object.__setattr__(section, "__pydantic_extra__", filled)


class AgentGroup(BaseModel):
    """Keys every group has, plus its kind's own parameters (e.g. honest `mistake_rate`)."""

    model_config = ConfigDict(extra="allow", frozen=True, strict=True, **FINITE)
    name: str = Field(pattern=NAME, description="the group's name; agents are NAME-0, NAME-1, ...")
    kind: str = Field(description="behaviour: honest, adversarial, ...")
    strategy: str | None = Field(None, description="the kind's strategy (default: its first)")
    count: int = Field(1, ge=0, description="agents in the group")
    start_balance: int = Field(
        10_000, gt=0, le=MAX_MONEY, description="units each agent starts with"
    )
    mean_deposit: float = Field(
        50.0, gt=0, le=MAX_MONEY, description="the most it deposits per add, on average"
    )
    deposit_spread: float = Field(0.1, ge=0, description="std of that limit, as a share of it")
    mean_wait_hours: float = Field(1.0, gt=0, description="mean time between its actions")
    wait_jitter: float = Field(0.1, ge=0, le=1, description="std of the wait, as a share of it")

    @model_validator(mode="after")
    def _check(self, info: ValidationInfo):
        internal = bool(info.context and info.context.get("mechanism"))
        behaviour = _registered(partial(behaviour_class, internal=internal), self.kind, "kind")
        if self.strategy is None:
            object.__setattr__(self, "strategy", behaviour.default_strategy())
        else:
            _check_strategy(behaviour, self.strategy, "strategy")
        _fill_params(self, behaviour.Params)
        behaviour.check_params(self.strategy, self.params())
        return self

    @classmethod
    def of_mechanism(cls, **fields) -> "AgentGroup":
        """A group a mechanism adds itself (`Mechanism.operator`): the only kind of group
        that may be of an `internal` kind."""
        return cls.model_validate(fields, context={"mechanism": True})

    def params(self) -> Params:
        return behaviour_class(self.kind).Params.model_validate(self.model_extra)


class PopulationSection(Section):
    """Shorthand for groups sharing defaults: `adversarial` and `lazy` (the paper's attack
    and lazy rates), any other agent kind by its share, and `honest` for the rest."""

    contributors: int = Field(10, ge=1, description="agents in all")
    attack_rate: float = Field(0.0, ge=0, le=1, description="share that is adversarial")
    lazy_rate: float = Field(0.0, ge=0, le=1, description="share that is lazy")
    attack_strategy: str = Field("label_flip", description="the adversarial strategy")
    lazy_strategy: str = Field("copy_model", description="the lazy strategy")
    start_balance: int = Field(
        10_000, gt=0, le=MAX_MONEY, description="units each agent starts with"
    )
    mean_deposit: float = Field(
        50.0, gt=0, le=MAX_MONEY, description="the most it deposits per add, on average"
    )
    mean_wait_hours: float = Field(1.0, gt=0, description="mean time between its actions")
    mistake_rate: float = Field(0.0, ge=0, le=1, description="honest: chance of a wrong label")
    shares: dict[str, float] | None = Field(
        None, description="other agent kinds' shares of the contributors, e.g. {model_user = 0.1}"
    )
    strategies: dict[str, str] | None = Field(
        None, description="the strategy of a kind in shares (default: the kind's first)"
    )

    @model_validator(mode="after")
    def _check(self):
        shares, strategies = self.shares or {}, self.strategies or {}
        if self.attack_rate + self.lazy_rate + sum(shares.values()) > 1:
            raise KeyedError(
                "attack_rate", "attack_rate + lazy_rate + the shares must be at most 1"
            )
        for kind, share in shares.items():
            behaviour = _registered(partial(behaviour_class, internal=False), kind, "shares")
            if not 0 <= share <= 1:
                raise KeyedError(f"shares.{kind}", f"must be between 0 and 1, got {share}")
            strategy = strategies.get(kind, behaviour.default_strategy())
            if strategy is not None:
                _check_strategy(behaviour, strategy, f"strategies.{kind}")
        for kind in strategies:
            if kind not in shares:
                raise KeyedError(f"strategies.{kind}", f"{kind} has no share in shares")
        for kind, rate_key, strategy_key in (
            ("adversarial", "attack_rate", "attack_strategy"),
            ("lazy", "lazy_rate", "lazy_strategy"),
        ):
            if getattr(self, rate_key) > 0:
                behaviour = _registered(behaviour_class, kind, rate_key)
                strategy = getattr(self, strategy_key)
                _check_strategy(behaviour, strategy, strategy_key)
                try:
                    behaviour.check_params(strategy, behaviour.Params())
                except KeyedError as error:
                    raise KeyedError(
                        strategy_key, f"{strategy} needs {error.key}: use [[agents]] groups"
                    ) from None
        return self

    def groups(self) -> list[AgentGroup]:
        attackers = round(self.contributors * self.attack_rate)
        lazy = round(self.contributors * self.lazy_rate)
        shares, strategies = self.shares or {}, self.strategies or {}
        others = {kind: round(self.contributors * share) for kind, share in shares.items()}
        shared = {
            "start_balance": self.start_balance,
            "mean_deposit": self.mean_deposit,
            "mean_wait_hours": self.mean_wait_hours,
        }
        honest = self.contributors - attackers - lazy - sum(others.values())
        groups = [
            ("honest", "honest", None, honest),
            ("lazy", "lazy", self.lazy_strategy, lazy),
            ("adversarial", "adversarial", self.attack_strategy, attackers),
            *((kind, kind, strategies.get(kind), n) for kind, n in others.items()),
        ]
        return [
            AgentGroup(
                name=name,
                kind=kind,
                strategy=strategy,
                count=count,
                **shared,
                **({"mistake_rate": self.mistake_rate} if kind == "honest" else {}),
            )
            for name, kind, strategy, count in groups
            if count > 0
        ]
