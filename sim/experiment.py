"""An experiment: a config with its `--set` overrides applied, expanded into the resolved
config of each sweep point."""

import copy
import itertools
import math
import tomllib
from pathlib import Path
from typing import Any

import tomli_w

from sim.config import ConfigError, ExperimentConfig, read_toml, validate
from sim.params import KeyedError
from sim.sections import within_limit


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
            within_limit(key, amount, what, limit)
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
