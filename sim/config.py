"""Experiment configs: the TOML schema, `--set` overrides and sweep expansion.

Validation happens here, at the boundary: unknown keys and bad values become one
`ConfigError` line naming the key, before anything runs or is written.
"""

import copy
import itertools
import math
import tomllib
from functools import partial
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import tomli_w
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    ValidationInfo,
    model_validator,
)

from sim import datasets, limits
from sim.learners import make_learner
from sim.limits import MAX_MONEY, MAX_SEED
from sim.params import KeyedError, Params
from sim.registry import (
    PluginError,
    behaviour_class,
    learner_class,
    learners,
    load_plugins,
    mechanism_class,
    mechanisms,
)

NAME = r"^[A-Za-z0-9][A-Za-z0-9_.-]*$"


class ConfigError(ValueError):
    """A bad config: the message is one line naming the key or file."""


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


def _filled(params_cls: type[Params], values: dict[str, Any], prefix: str = "") -> dict:
    """`values` checked against `params_cls`, with its defaults filled in.

    Two configs that mean the same then compare equal, and the saved config records the
    defaults that were used (but for unset optional ones: TOML has no null).
    """
    try:
        return params_cls.model_validate(values).model_dump(exclude_none=True)
    except ValidationError as error:
        key, message = _first_error(error)
        raise KeyedError(prefix + key, message) from None


def _within(key: str, amount: float, what: str, limit: str) -> None:
    """Refuse work over `sim.limits.<limit>` (read now, so it can be raised) before any
    of it is allocated."""
    bound = getattr(limits, limit)
    if amount > bound:
        shown = f"{amount:,}" if isinstance(amount, int) else f"{amount:,.0f}"
        if amount >= 1e21:
            shown = f"{amount:.3g}"
        raise KeyedError(key, f"{shown} {what} is over the limit of {bound:,} (sim.limits.{limit})")


def _fill_params(section: BaseModel, params_cls: type[Params]) -> None:
    """Check a section's own (extra) keys against `params_cls`; keep them filled in."""
    filled = _filled(params_cls, section.model_extra or {})
    object.__setattr__(section, "__pydantic_extra__", filled)


FINITE = {"allow_inf_nan": False}
"""Every number of a config is finite: no duration, rate or amount means infinity."""


class Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, strict=True, **FINITE)


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
        _within("n_classes", self.n_classes, "classes", "MAX_CLASSES")
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
            tables[name] = _filled(kinds[name].Params, table, f"{name}.")
        tables[self.kind] = _filled(kinds[self.kind].Params, {**tables.get(self.kind, {}), **flat})
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


class ExperimentConfig(Section):
    plugins: list[str] | None = Field(
        None,
        description="modules to import for their mechanisms, agent kinds or models: "
        "a module name, or the path of a .py file (relative to the working directory)",
    )
    experiment: ExperimentSection = ExperimentSection()
    data: DataSection = DataSection()
    model: ModelSection = ModelSection()
    mechanism: MechanismSection = MechanismSection()
    population: PopulationSection | None = None
    agents: list[AgentGroup] | None = None
    sweep: dict[str, Any] | None = None

    @model_validator(mode="before")
    @classmethod
    def _load_plugins(cls, raw: Any) -> Any:
        """Import the config's plugins before any section looks up a kind; a file's path
        is kept absolute, so workers and resumes import the same file."""
        plugins = raw.get("plugins") if isinstance(raw, dict) else None
        if not isinstance(plugins, list) or not all(isinstance(p, str) for p in plugins):
            return raw  # not a list of names: the field's own check says so
        plugins = [str(Path(p).resolve()) if p.endswith(".py") else p for p in plugins]
        try:
            load_plugins(plugins)
        except PluginError as error:
            raise KeyedError("plugins", str(error)) from None
        return {**raw, "plugins": plugins}

    @model_validator(mode="after")
    def _check(self):
        if self.population is None and self.agents is None:
            raise KeyedError("agents", "no contributors: give [population] or [[agents]] groups")
        if self.population is not None and self.agents is not None:
            raise KeyedError("agents", "give either [population] or [[agents]] groups, not both")
        names = [group.name for group in self.groups()]
        duplicated = {name for name in names if names.count(name) > 1}
        if duplicated:
            raise KeyedError("agents", f"group name {sorted(duplicated)[0]!r} is used twice")
        if sum(group.count for group in self.groups()) == 0:
            raise KeyedError("agents", "the population is empty")
        classes = self.data.known_classes()
        if classes is not None:
            try:
                learner_class(self.model.kind).check_classes(classes, self.data.dataset)
            except ValueError as error:
                raise KeyedError("model.kind", str(error)) from None
        self._check_work()
        return self

    def _check_work(self) -> None:
        """Bound one run's work and money before any of it is allocated (see sim.limits).

        The mechanism's own agents (a bounty provider) count too; each limit blames the
        group that adds the most to it.
        """
        run = self.experiment
        samples = run.duration_days * 24 / run.eval_every_hours
        _within(
            "experiment.eval_every_hours",
            samples,
            "metric samples per run (duration_days * 24 / eval_every_hours)",
            "MAX_SAMPLES",
        )
        groups, everyone = self.groups(), self.all_groups()
        agents = sum(group.count for group in everyone)
        seconds = run.duration_days * 86_400

        def events(group: AgentGroup) -> float:  # waits are whole seconds, at least one
            return group.count * seconds / max(group.mean_wait_hours * 3600, 1)

        def money(group: AgentGroup) -> int:
            return group.count * group.start_balance

        for field, measure, what, limit in (
            ("count", lambda group: group.count, "agents per run", "MAX_AGENTS"),
            (
                "mean_wait_hours",
                events,
                "agent actions per run (duration / mean_wait_hours, summed over agents)",
                "MAX_EVENTS",
            ),
            (
                "start_balance",
                money,
                "units of money in a run (count x start_balance, summed over groups, and the "
                "mechanism's own)",
                "MAX_MONEY",
            ),
        ):
            worst = max(range(len(groups)), key=lambda index: measure(groups[index]))
            _within(self._group_key(worst, field), sum(map(measure, everyone)), what, limit)
        richest = max(range(len(groups)), key=lambda index: money(groups[index]))
        _within(
            self._group_key(richest, "start_balance"),
            sum(map(money, everyone)) * sum(map(events, everyone)),
            "units the run's per-agent counters could reach (money x actions: an action may "
            "move all of it)",
            "MAX_COUNTER",
        )
        _within(
            "experiment.eval_every_hours",
            agents * samples,
            f"rows of a run's agents table ({agents:,} agents x metric samples)",
            "MAX_AGENT_ROWS",
        )

    def _group_key(self, index: int, field: str) -> str:
        """The config key that sets `field` of group `index` of `groups()`."""
        if self.population is None:
            return f"agents.{index}.{field}"
        return f"population.{'contributors' if field == 'count' else field}"

    def groups(self) -> list[AgentGroup]:
        return self.population.groups() if self.population else list(self.agents)

    def all_groups(self) -> list[AgentGroup]:
        """The config's groups and the one its mechanism adds to run itself, if any."""
        operator = mechanism_class(self.mechanism.kind)(self.mechanism.params()).operator()
        return [*self.groups(), *([AgentGroup.of_mechanism(**operator)] if operator else [])]

    def resolved(self) -> dict[str, Any]:
        """The config with every default filled in, as plain TOML-ready values."""
        return self.model_dump(mode="json", exclude_none=True)


# --- loading, overrides and sweeps -------------------------------------------------


def _first_error(error: ValidationError) -> tuple[str, str]:
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


def validate(raw: dict[str, Any], source: str) -> ExperimentConfig:
    try:
        return ExperimentConfig.model_validate(raw)
    except ValidationError as error:
        key, message = _first_error(error)
        raise ConfigError(f"{source}: {key}: {message}") from None


def parse_value(text: str) -> Any:
    """A `--set` value as TOML (numbers, booleans, lists, quoted strings) or a bare string."""
    try:
        return tomllib.loads(f"value = {text}")["value"]
    except tomllib.TOMLDecodeError:
        return text


def set_key(raw: dict[str, Any], key: str, value: Any) -> None:
    """Set a dotted key; `agents.NAME.field` addresses the agent group called NAME."""
    parts = key.split(".")
    if parts[0] == "sweep":
        raw.setdefault("sweep", {})[".".join(parts[1:])] = value
        return
    if parts[0] == "agents" and len(parts) == 3:
        groups = [g for g in raw.get("agents") or [] if g.get("name") == parts[1]]
        if not groups:
            raise ConfigError(f"{key}: there is no agent group named {parts[1]!r}")
        groups[0][parts[2]] = value
        return
    table = raw
    for part in parts[:-1]:
        table = table.setdefault(part, {})
        if not isinstance(table, dict):
            raise ConfigError(f"{key}: {part} is not a table")
    table[parts[-1]] = value


MAX_CONFIG_BYTES = 1 << 20
"""The largest config file read, 1 MiB: a sweep's lists fit in far less."""


def read_toml(path: Path) -> dict[str, Any]:
    """Parse a config: only a regular file of at most MAX_CONFIG_BYTES, both checked before
    it is opened (opening a FIFO blocks until a writer comes; /dev/zero never ends)."""
    try:
        size = path.stat().st_size
        if not path.is_file():
            raise ConfigError(f"{path}: not a regular file (a directory, FIFO or device)")
        if size > MAX_CONFIG_BYTES:
            raise ConfigError(
                f"{path}: {size:,} bytes, over the {MAX_CONFIG_BYTES:,} a config may have "
                "(MAX_CONFIG_BYTES in sim/config.py)"
            )
        with open(path, "rb") as file:
            return tomllib.load(file)
    except FileNotFoundError:
        raise ConfigError(f"{path}: no such config file") from None
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as error:
        raise ConfigError(f"{path}: cannot read config: {error}") from None


class Experiment:
    """A validated config and the resolved config of each of its sweep points.

    The sweep points are counted before any is made, and the runs before any is planned
    (see sim.limits); the config must write back as TOML, as the results folder keeps it.
    """

    def __init__(self, raw: dict[str, Any], source: str = "config"):
        self.raw = raw
        self.source = source
        self.config = validate(raw, source)
        self.mode, self.swept = _sweep_lists(self.config.sweep or {}, source)
        lengths = [len(values) for values in self.swept.values()]
        points = math.prod(lengths) if self.mode == "grid" else max(lengths, default=1)
        self._within("sweep", points, "sweep points", "MAX_POINTS")
        self.points = [self._resolve(overrides) for overrides in self._combinations()]
        runs = sum(config.experiment.replicates for _, config in self.points)
        self._within("experiment.replicates", runs, "runs (points x replicates)", "MAX_RUNS")
        try:
            tomli_w.dumps(self.config.resolved())
        except (TypeError, ValueError) as error:
            raise ConfigError(f"{source}: the resolved config is not valid TOML: {error}") from None

    def _within(self, key: str, amount: float, what: str, limit: str) -> None:
        try:
            _within(key, amount, what, limit)
        except KeyedError as error:
            raise ConfigError(f"{self.source}: {error}") from None

    @classmethod
    def from_file(cls, path: str | Path, overrides: list[str] = ()) -> "Experiment":
        raw = read_toml(Path(path))
        for item in overrides:
            key, sep, text = item.partition("=")
            if not sep or not key.strip():
                raise ConfigError(f"--set {item!r}: expected key=value")
            set_key(raw, key.strip(), parse_value(text.strip()))
        return cls(raw, str(path))

    def _combinations(self) -> list[dict[str, Any]]:
        keys = list(self.swept)
        if not keys:
            return [{}]
        lists = [self.swept[key] for key in keys]
        rows = itertools.product(*lists) if self.mode == "grid" else zip(*lists, strict=True)
        return [dict(zip(keys, row, strict=True)) for row in rows]

    def _resolve(self, overrides: dict[str, Any]) -> tuple[dict[str, Any], ExperimentConfig]:
        raw = copy.deepcopy(self.raw)
        raw.pop("sweep", None)
        try:
            for key, value in overrides.items():
                set_key(raw, key, value)
        except ConfigError as error:
            raise ConfigError(f"{self.source}: sweep: {error}") from None
        try:
            return overrides, validate(raw, self.source)
        except ConfigError as error:
            raise ConfigError(f"{error} (sweep point {overrides})") from None

    @property
    def swept_keys(self) -> list[str]:
        return list(self.swept)


def _sweep_lists(sweep: dict[str, Any], source: str) -> tuple[str, dict[str, list]]:
    sweep = dict(sweep)
    mode = sweep.pop("mode", "grid")
    if mode not in ("grid", "zip"):
        raise ConfigError(f'{source}: sweep.mode: must be "grid" or "zip" (got {mode!r})')
    for key, values in sweep.items():
        if not isinstance(values, list) or not values:
            raise ConfigError(f"{source}: sweep.{key}: must be a non-empty list of values")
    lengths = {len(values) for values in sweep.values()}
    if mode == "zip" and len(lengths) > 1:
        raise ConfigError(f"{source}: sweep: zip mode needs lists of equal length")
    return mode, sweep
