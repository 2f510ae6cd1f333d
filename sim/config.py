"""An experiment's config as a whole: its tables together, checked against each other and
against the limits of one run's work, and read from a TOML file.

Validation happens here, at the boundary: unknown keys and bad values become one
`ConfigError` line naming the key, before anything runs or is written. The tables are in
sim.sections and sim.agent_groups; `--set` overrides and sweeps in sim.experiment.
"""

import tomllib
from pathlib import Path
from typing import Any

from pydantic import Field, ValidationError, model_validator

from sim.agent_groups import AgentGroup, PopulationSection
from sim.params import KeyedError
from sim.registry import (
    PluginError,
    learner_class,
    learners,
    load_plugins,
    mechanism_class,
    mechanisms,
)
from sim.sections import (
    DataSection,
    ExperimentSection,
    MechanismSection,
    ModelSection,
    Section,
    first_error,
    within_limit,
)


class ConfigError(ValueError):
    """A bad config: the message is one line naming the key or file."""


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
        if self.experiment.chain == "evm":
            self._check_evm()
        self._check_work()
        return self

    def _check_evm(self) -> None:
        """`chain = "evm"` needs a mechanism and a model that have a contract in contracts/."""
        for key, cls, registry in (
            ("mechanism.kind", mechanism_class(self.mechanism.kind), mechanisms()),
            ("model.kind", learner_class(self.model.kind), learners()),
        ):
            if cls.evm_contract is None:
                on_evm = ", ".join(sorted(k for k, c in registry.items() if c.evm_contract))
                raise KeyedError(
                    key, f"{cls.kind} has no EVM contract (experiment.chain = evm runs: {on_evm})"
                )

    def _check_work(self) -> None:
        """Bound one run's work and money before any of it is allocated (see sim.limits).

        The mechanism's own agents (a bounty provider) count too; each limit blames the
        group that adds the most to it.
        """
        run = self.experiment
        samples = run.duration_days * 24 / run.eval_every_hours
        within_limit(
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
            within_limit(self._group_key(worst, field), sum(map(measure, everyone)), what, limit)
        richest = max(range(len(groups)), key=lambda index: money(groups[index]))
        within_limit(
            self._group_key(richest, "start_balance"),
            sum(map(money, everyone)) * sum(map(events, everyone)),
            "units the run's per-agent counters could reach (money x actions: an action may "
            "move all of it)",
            "MAX_COUNTER",
        )
        within_limit(
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


def validate(raw: dict[str, Any], source: str) -> ExperimentConfig:
    try:
        return ExperimentConfig.model_validate(raw)
    except ValidationError as error:
        key, message = first_error(error)
        raise ConfigError(f"{source}: {key}: {message}") from None


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
