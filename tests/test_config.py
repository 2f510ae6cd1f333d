"""Tests for sim.config: the TOML schema, `--set` overrides and sweep expansion.

Every bad config must become one `ConfigError` line that names the dotted key (or the file),
because that line is all a researcher sees before the run is refused.
"""

import itertools
import tomllib
from pathlib import Path

import pytest
import tomli_w

from sim.config import ConfigError
from sim.experiment import Experiment

REPO = Path(__file__).resolve().parents[1]

# Copied verbatim from /work/shared/DESIGN.md, section "Experiment configs".
DESIGN_EXAMPLE = """\
[experiment]
name = "refund-vs-attack"
seed = 7
replicates = 5
duration_days = 30
eval_every_hours = 12

[data]
dataset = "synthetic"          # or breast_cancer, digits, wine, iris, "csv:path", "parquet:path"
n_samples = 6000
n_features = 200
binary = true
initial_fraction = 0.08
test_fraction = 0.2

[model]
kind = "perceptron"            # nearest_centroid, naive_bayes

[mechanism]
kind = "dtr"                   # prediction_market, gamified, none
cost_weight = 1
refund_window_days = 1
take_window_days = 9

[[agents]]
name = "honest"
kind = "honest"
count = 4
start_balance = 10000
mean_deposit = 50              # the most it will deposit per add, drawn around this mean
mean_wait_hours = 0.17         # mean time between its actions
mistake_rate = 0.0001

[[agents]]
name = "attacker"
kind = "adversarial"
strategy = "label_flip"
count = 1
start_balance = 10000
mean_deposit = 100
mean_wait_hours = 1

[sweep]
mode = "grid"
"mechanism.refund_window_days" = [1, 3, 7]
"agents.attacker.count" = [1, 2, 4]
"""


@pytest.fixture
def raw(small_toml) -> dict:
    """The small config as a fresh, mutable dict."""
    return tomllib.loads(small_toml)


def error_of(raw: dict, source: str = "exp.toml") -> str:
    """The ConfigError message for `raw`; fails unless it is exactly one line."""
    with pytest.raises(ConfigError) as info:
        Experiment(raw, source)
    message = str(info.value)
    assert "\n" not in message, message
    return message


def counts(config) -> dict[str, int]:
    return {group.name: group.count for group in config.groups()}


def population(**fields) -> dict:
    """A config using the [population] shorthand instead of [[agents]]."""
    return {
        "experiment": {"name": "pop", "replicates": 1},
        "data": {"n_samples": 400},
        "population": fields,
    }


# --- valid configs ---------------------------------------------------------------------


def test_default_experiment_validates():
    experiment = Experiment.from_file(REPO / "experiments" / "default.toml")
    config = experiment.config
    assert config.experiment.name == "default"
    assert config.experiment.replicates == 3
    assert counts(config) == {"honest": 4, "attacker": 1}
    assert [overrides for overrides, _ in experiment.points] == [{}]


def test_design_example_validates_and_expands_to_a_nine_point_grid(tmp_path):
    path = tmp_path / "refund-vs-attack.toml"
    path.write_text(DESIGN_EXAMPLE)
    experiment = Experiment.from_file(path)
    assert experiment.mode == "grid"
    assert experiment.swept_keys == ["mechanism.refund_window_days", "agents.attacker.count"]

    expected = list(itertools.product([1, 3, 7], [1, 2, 4]))
    assert len(experiment.points) == 9
    for (overrides, config), (window, attackers) in zip(experiment.points, expected, strict=True):
        assert overrides == {
            "mechanism.refund_window_days": window,
            "agents.attacker.count": attackers,
        }
        # The resolved config of the point has the swept values ...
        assert config.mechanism.params().refund_window_days == window
        assert counts(config) == {"honest": 4, "attacker": attackers}
        # ... keeps everything else from the file ...
        assert config.mechanism.params().take_window_days == 9
        assert config.experiment.replicates == 5
        assert config.groups()[0].mistake_rate == 0.0001
        # ... and is a single run, not a sweep.
        assert config.sweep is None
    # The base config is untouched by the expansion.
    assert counts(experiment.config) == {"honest": 4, "attacker": 1}
    assert experiment.config.mechanism.params().refund_window_days == 1


def test_strategy_defaults_to_the_kinds_first(raw):
    del raw["agents"][1]["strategy"]
    config = Experiment(raw).config
    assert config.groups()[1].strategy == "label_flip"


# --- unknown keys ----------------------------------------------------------------------


@pytest.mark.parametrize(
    "path, key",
    [
        (("experiment", "nme"), "experiment.nme"),
        (("data", "foo"), "data.foo"),
        (("model", "x"), "model.x"),
        (("mechanism", "cost_weght"), "mechanism.cost_weght"),
        (("agents", 0, "colour"), "agents.0.colour"),
        (("agents", 1, "colour"), "agents.1.colour"),
        (("bogus",), "bogus"),
    ],
)
def test_unknown_keys_are_rejected_naming_the_dotted_key(raw, path, key):
    table = raw
    for part in path[:-1]:
        table = table[part]
    table[path[-1]] = 1
    assert error_of(raw) == f"exp.toml: {key}: unknown key"


def test_unknown_population_key_is_rejected():
    message = error_of(population(contributors=4, bar=1))
    assert message == "exp.toml: population.bar: unknown key"


def test_unknown_top_level_table_is_rejected(raw):
    raw["experimnt"] = {"name": "typo"}
    assert "experimnt: unknown key" in error_of(raw)


# --- bad types and values --------------------------------------------------------------


@pytest.mark.parametrize(
    "section, field, value, key, words",
    [
        ("experiment", "replicates", 0, "experiment.replicates", "greater than or equal to 1"),
        ("experiment", "replicates", "two", "experiment.replicates", "valid integer"),
        ("experiment", "duration_days", 0, "experiment.duration_days", "greater than 0"),
        ("experiment", "eval_every_hours", -1, "experiment.eval_every_hours", "greater than 0"),
        ("experiment", "seed", -1, "experiment.seed", "greater than or equal to 0"),
        ("data", "test_fraction", 1.5, "data.test_fraction", "less than 1"),
        ("data", "test_fraction", 0, "data.test_fraction", "greater than 0"),
        ("data", "initial_fraction", 0.8, "data.initial_fraction", "must be below 1"),
        ("data", "binary", "yes please", "data.binary", "valid boolean"),
        ("data", "dataset", "mnist", "data.dataset", "unknown dataset 'mnist'"),
        ("model", "kind", "svm", "model.kind", "unknown model 'svm'"),
        ("mechanism", "kind", "auction", "mechanism.kind", "unknown mechanism 'auction'"),
        ("mechanism", "cost_weight", 0, "mechanism.cost_weight", "greater than 0"),
        ("mechanism", "refund_window_days", -1, "mechanism.refund_window_days", "greater than"),
    ],
)
def test_bad_values_name_the_key(raw, section, field, value, key, words):
    raw[section][field] = value
    message = error_of(raw)
    assert message.startswith(f"exp.toml: {key}: "), message
    assert words in message


@pytest.mark.parametrize(
    "field, value, words",
    [
        ("mean_deposit", 0, "greater than 0"),
        ("start_balance", 0, "greater than 0"),
        ("start_balance", -5, "greater than 0"),
        ("start_balance", 1.5, "valid integer"),
        ("count", -1, "greater than or equal to 0"),
        ("mean_wait_hours", 0, "greater than 0"),
        ("kind", "saint", "unknown agent kind 'saint'"),
        ("strategy", "nuke", "unknown strategy 'nuke'"),
    ],
)
def test_bad_agent_values_name_the_group_and_field(raw, field, value, words):
    raw["agents"][1][field] = value
    message = error_of(raw)
    assert message.startswith(f"exp.toml: agents.1.{field}: "), message
    assert words in message


def test_kind_specific_keys_are_checked_by_the_kind(raw):
    raw["agents"][0]["mistake_rate"] = 2
    assert error_of(raw).startswith("exp.toml: agents.0.mistake_rate: ")
    assert "less than or equal to 1" in error_of(raw)
    raw["agents"][0]["mistake_rate"] = 0.1
    raw["agents"][1]["mistake_rate"] = 0.1  # an honest-only key on an attacker
    assert error_of(raw) == "exp.toml: agents.1.mistake_rate: unknown key"


@pytest.mark.parametrize(
    "section, field, value, choices",
    [
        ("data", "dataset", "mnist", ["breast_cancer", "digits", "wine", "iris", "synthetic"]),
        ("model", "kind", "svm", ["perceptron", "nearest_centroid", "naive_bayes"]),
        ("mechanism", "kind", "auction", ["dtr"]),
    ],
)
def test_unknown_names_list_the_choices(raw, section, field, value, choices):
    raw[section][field] = value
    message = error_of(raw)
    assert "choose one of" in message
    for choice in choices:
        assert choice in message


def test_unknown_agent_kind_and_strategy_list_the_choices(raw):
    raw["agents"][0]["kind"] = "saint"
    message = error_of(raw)
    assert "choose one of" in message and "honest" in message and "adversarial" in message
    raw["agents"][0]["kind"] = "adversarial"
    raw["agents"][0]["strategy"] = "nuke"
    assert "choose one of label_flip" in error_of(raw)


def test_take_window_must_be_longer_than_refund_window(raw):
    raw["mechanism"]["take_window_days"] = 1  # == refund_window_days
    message = error_of(raw)
    assert message.startswith("exp.toml: mechanism")
    assert "take_window_days" in message and "refund_window_days" in message
    raw["mechanism"]["take_window_days"] = 0.5  # < refund_window_days
    assert "take_window_days" in error_of(raw)


def test_take_window_error_names_the_dotted_key(raw):
    raw["mechanism"]["take_window_days"] = 1
    message = error_of(raw)
    assert message.startswith("exp.toml: mechanism.take_window_days: "), message
    assert "mechanism.:" not in message


def test_perceptron_is_refused_for_a_multiclass_dataset(raw):
    raw["data"] = {"dataset": "digits"}
    message = error_of(raw)
    assert message.startswith("exp.toml: model")
    assert "perceptron" in message and "10 classes" in message
    raw["model"]["kind"] = "nearest_centroid"
    Experiment(raw)  # fine with a multi-class learner


def test_perceptron_is_refused_for_multiclass_synthetic_data(raw):
    raw["data"]["n_classes"] = 3
    assert "perceptron" in error_of(raw)


def test_empty_population_is_refused(raw):
    for group in raw["agents"]:
        group["count"] = 0
    assert error_of(raw) == "exp.toml: agents: the population is empty"


def test_population_and_agents_together_are_refused(raw):
    raw["population"] = {"contributors": 5}
    message = error_of(raw)
    assert message.startswith("exp.toml: agents: ") and "not both" in message


def test_neither_population_nor_agents_is_refused(raw):
    del raw["agents"]
    message = error_of(raw)
    assert message.startswith("exp.toml: agents: ") and "[population]" in message


def test_duplicate_group_names_are_refused(raw):
    raw["agents"][1]["name"] = "honest"
    assert error_of(raw) == "exp.toml: agents: group name 'honest' is used twice"


def test_group_without_name_or_kind_is_refused(raw):
    del raw["agents"][0]["name"]
    assert error_of(raw) == "exp.toml: agents.0.name: missing required key"


@pytest.mark.parametrize("name", ["../x", "/abs", "a/b", "..", ".", ".hidden", "a\\b", "", "a b"])
def test_experiment_names_cannot_escape_the_results_folder(raw, name):
    raw["experiment"]["name"] = name
    assert error_of(raw).startswith("exp.toml: experiment.name: ")


@pytest.mark.parametrize("name", ["../evil", "a/b"])
def test_group_names_are_checked_too(raw, name):
    raw["agents"][0]["name"] = name
    assert error_of(raw).startswith("exp.toml: agents.0.name: ")


# --- the [population] shorthand ---------------------------------------------------------


@pytest.mark.parametrize(
    "contributors, attack_rate",
    [(10, 0.0), (10, 0.1), (10, 0.3), (10, 0.25), (7, 0.5), (5, 1.0), (3, 0.2)],
)
def test_population_makes_honest_and_adversarial_groups(contributors, attack_rate):
    config = Experiment(population(contributors=contributors, attack_rate=attack_rate)).config
    attackers = round(contributors * attack_rate)
    expected = {"honest": contributors - attackers, "adversarial": attackers}
    assert counts(config) == {name: n for name, n in expected.items() if n > 0}
    kinds = {group.name: group.kind for group in config.groups()}
    assert set(kinds.items()) <= {("honest", "honest"), ("adversarial", "adversarial")}


def test_population_shares_its_defaults_with_every_group():
    config = Experiment(
        population(
            contributors=4,
            attack_rate=0.5,
            start_balance=777,
            mean_deposit=12,
            mean_wait_hours=3,
            mistake_rate=0.01,
        )
    ).config
    honest, adversarial = config.groups()
    for group in (honest, adversarial):
        assert (group.start_balance, group.mean_deposit, group.mean_wait_hours) == (777, 12, 3)
    assert honest.mistake_rate == 0.01 and "mistake_rate" not in adversarial.model_extra
    assert adversarial.strategy == "label_flip"


def test_population_rates_cannot_exceed_one():
    message = error_of(population(contributors=4, attack_rate=0.7, lazy_rate=0.5))
    assert message.startswith("exp.toml: population.attack_rate: ")


def test_population_gives_any_other_agent_kind_its_share():
    config = Experiment(
        population(
            contributors=10,
            attack_rate=0.2,
            shares={"model_user": 0.3, "lazy": 0.1},
            strategies={"lazy": "duplicate"},
        )
    ).config
    assert counts(config) == {"honest": 4, "adversarial": 2, "model_user": 3, "lazy": 1}
    lazy = next(group for group in config.groups() if group.kind == "lazy")
    assert lazy.strategy == "duplicate" and lazy.mean_wait_hours == 1.0


@pytest.mark.parametrize(
    ("fields", "key", "message"),
    [
        ({"shares": {"wizard": 0.1}}, "shares", "unknown agent kind 'wizard'"),
        ({"shares": {"bounty_provider": 0.1}}, "shares", "added by its mechanism"),
        ({"shares": {"model_user": 0.9}, "attack_rate": 0.2}, "attack_rate", "at most 1"),
        ({"shares": {"model_user": -0.1}}, "shares.model_user", "between 0 and 1"),
        ({"strategies": {"lazy": "duplicate"}}, "strategies.lazy", "no share"),
        ({"shares": {"lazy": 0.1}, "strategies": {"lazy": "nap"}}, "strategies.lazy", "nap"),
    ],
)
def test_population_shares_are_checked(fields, key, message):
    error = error_of(population(contributors=10, **fields))
    assert error.startswith(f"exp.toml: population.{key}: ") and message in error, error


def test_population_bad_attack_strategy_names_the_population_key():
    message = error_of(population(contributors=4, attack_rate=0.5, attack_strategy="nuke"))
    assert message.startswith("exp.toml: population.attack_strategy: "), message


def test_sweep_over_attack_rate_changes_the_attacker_count_per_point():
    raw = population(contributors=10, attack_rate=0.1)
    raw["sweep"] = {"population.attack_rate": [0, 0.1, 0.3, 0.5]}
    experiment = Experiment(raw)
    assert [overrides for overrides, _ in experiment.points] == [
        {"population.attack_rate": rate} for rate in (0, 0.1, 0.3, 0.5)
    ]
    assert [counts(config).get("adversarial", 0) for _, config in experiment.points] == [
        0,
        1,
        3,
        5,
    ]
    assert [counts(config)["honest"] for _, config in experiment.points] == [10, 9, 7, 5]


# --- sweeps -----------------------------------------------------------------------------


def swept(raw: dict, sweep: dict) -> Experiment:
    raw["sweep"] = sweep
    return Experiment(raw, "exp.toml")


def test_grid_is_the_cartesian_product_in_key_order(raw):
    experiment = swept(
        raw,
        {
            "experiment.seed": [1, 2],
            "mechanism.refund_window_days": [0.5, 1],
            "agents.honest.count": [1, 2, 3],
        },
    )
    assert experiment.mode == "grid"  # the default
    got = [tuple(overrides.values()) for overrides, _ in experiment.points]
    assert got == list(itertools.product([1, 2], [0.5, 1], [1, 2, 3]))
    for overrides, config in experiment.points:
        assert config.experiment.seed == overrides["experiment.seed"]
        assert counts(config)["honest"] == overrides["agents.honest.count"]


def test_zip_walks_the_lists_together(raw):
    experiment = swept(
        raw,
        {
            "mode": "zip",
            "mechanism.refund_window_days": [0.5, 1, 1.5],
            "agents.attacker.count": [1, 2, 4],
        },
    )
    assert experiment.mode == "zip"
    assert experiment.swept_keys == ["mechanism.refund_window_days", "agents.attacker.count"]
    pairs = [
        (config.mechanism.params().refund_window_days, counts(config)["attacker"])
        for _, config in experiment.points
    ]
    assert pairs == [(0.5, 1), (1, 2), (1.5, 4)]


def test_zip_with_unequal_lengths_is_an_error(raw):
    raw["sweep"] = {"mode": "zip", "experiment.seed": [1, 2, 3], "agents.attacker.count": [1, 2]}
    message = error_of(raw)
    assert message.startswith("exp.toml: sweep") and "equal length" in message


@pytest.mark.parametrize("values", [[], 5, "1, 2"])
def test_sweep_values_must_be_a_non_empty_list(raw, values):
    raw["sweep"] = {"experiment.seed": values}
    assert error_of(raw).startswith("exp.toml: sweep.experiment.seed: ")


@pytest.mark.parametrize("mode", ["random", "", 3])
def test_bad_sweep_mode_is_an_error(raw, mode):
    raw["sweep"] = {"mode": mode, "experiment.seed": [1, 2]}
    assert error_of(raw).startswith("exp.toml: sweep.mode: ")


@pytest.mark.parametrize(
    "key, named",
    [
        ("data.nope", "data.nope"),
        ("mechanism.refund_windw_days", "mechanism.refund_windw_days"),
        ("nope", "nope"),
        ("agents.ghost.count", "agents.ghost.count"),
        ("agents.attacker.colour", "agents.1.colour"),
    ],
)
def test_sweep_over_a_missing_key_is_an_error_naming_it(raw, key, named):
    raw["sweep"] = {key: [1, 2]}
    assert named in error_of(raw)


def test_a_sweep_point_with_a_bad_value_is_an_error_naming_key_and_point(raw):
    raw["sweep"] = {"experiment.replicates": [1, 0]}
    message = error_of(raw)
    assert message.startswith("exp.toml: experiment.replicates: ")
    assert "sweep point" in message and "0" in message


# --- --set overrides ---------------------------------------------------------------------


@pytest.fixture
def small_file(tmp_path, small_toml) -> Path:
    path = tmp_path / "small.toml"
    path.write_text(small_toml)
    return path


def test_set_overrides_numbers_booleans_strings_and_groups(small_file):
    config = Experiment.from_file(
        small_file,
        [
            "experiment.seed=11",
            "data.test_fraction=0.25",
            "data.binary=false",
            "experiment.name=bare-string",
            "mechanism.cost_weight = 2.5",
            "agents.attacker.count=3",
            "agents.honest.mistake_rate=0.01",
            "agents.attacker.strategy=label_flip",
        ],
    ).config
    assert config.experiment.seed == 11
    assert config.data.test_fraction == 0.25
    assert config.data.binary is False
    assert config.experiment.name == "bare-string"
    assert config.mechanism.params().cost_weight == 2.5
    assert counts(config) == {"honest": 3, "attacker": 3}
    assert config.groups()[0].mistake_rate == 0.01


def test_set_quoted_string_and_new_key_in_a_known_table(small_file):
    config = Experiment.from_file(
        small_file, ['experiment.name="quoted"', "data.n_informative=4"]
    ).config
    assert config.experiment.name == "quoted"
    assert config.data.n_informative == 4


def test_set_sweep_list_creates_a_sweep(small_file):
    experiment = Experiment.from_file(
        small_file, ["sweep.mechanism.refund_window_days=[0.5, 1]", "sweep.experiment.seed=[1,2]"]
    )
    assert experiment.swept_keys == ["mechanism.refund_window_days", "experiment.seed"]
    assert len(experiment.points) == 4


def test_set_later_override_wins(small_file):
    config = Experiment.from_file(small_file, ["experiment.seed=1", "experiment.seed=2"]).config
    assert config.experiment.seed == 2


def test_set_value_is_validated_like_the_file(small_file):
    with pytest.raises(ConfigError, match=r"experiment\.replicates") as info:
        Experiment.from_file(small_file, ["experiment.replicates=0"])
    assert str(info.value).startswith(f"{small_file}: ")


def test_set_unknown_key_is_rejected(small_file):
    with pytest.raises(ConfigError, match=r"data\.nope: unknown key"):
        Experiment.from_file(small_file, ["data.nope=1"])


def test_set_on_a_missing_group_is_an_error(small_file):
    with pytest.raises(ConfigError) as info:
        Experiment.from_file(small_file, ["agents.ghost.count=2"])
    assert "agents.ghost.count" in str(info.value) and "'ghost'" in str(info.value)


@pytest.mark.parametrize("item", ["experiment.seed", "=3", " =3", ""])
def test_malformed_set_is_an_error(small_file, item):
    with pytest.raises(ConfigError, match="expected key=value"):
        Experiment.from_file(small_file, [item])


# --- files --------------------------------------------------------------------------------


def test_missing_config_file_names_the_file(tmp_path):
    path = tmp_path / "nowhere.toml"
    with pytest.raises(ConfigError) as info:
        Experiment.from_file(path)
    assert str(path) in str(info.value) and "no such config file" in str(info.value)


def test_invalid_toml_names_the_file(tmp_path):
    path = tmp_path / "broken.toml"
    path.write_text("[experiment]\nname = \n")
    with pytest.raises(ConfigError) as info:
        Experiment.from_file(path)
    message = str(info.value)
    assert message.startswith(f"{path}: ") and "\n" not in message


def test_a_directory_is_not_a_config_file(tmp_path):
    with pytest.raises(ConfigError) as info:
        Experiment.from_file(tmp_path)
    assert str(tmp_path) in str(info.value)


def test_non_utf8_config_file_is_a_config_error(tmp_path):
    path = tmp_path / "latin1.toml"
    path.write_bytes('[experiment]\nname = "caf\xe9"\n'.encode("latin-1"))
    with pytest.raises(ConfigError) as info:
        Experiment.from_file(path)
    assert str(path) in str(info.value)


# --- several mechanisms in one config ---------------------------------------------------


def test_mechanism_tables_feed_a_sweep_over_the_kind(raw):
    raw["mechanism"] = {
        "kind": "dtr",
        "dtr": {"cost_weight": 7},
        "gamified": {"points_per_validation": 3},
    }
    raw["sweep"] = {"mechanism.kind": ["dtr", "gamified", "none"]}
    points = Experiment(raw, "exp.toml").points
    dtr, gamified, none = (config.mechanism.params() for _, config in points)
    assert dtr.cost_weight == 7 and dtr.take_window_days == 9  # table + defaults
    assert gamified.points_per_validation == 3
    assert none.model_dump() == {}


def test_flat_keys_belong_to_the_selected_kind_and_override_its_table(raw):
    raw["mechanism"] = {"kind": "dtr", "cost_weight": 3, "dtr": {"cost_weight": 7}}
    assert Experiment(raw).config.mechanism.params().cost_weight == 3
    raw["sweep"] = {"mechanism.kind": ["dtr", "none"]}
    message = error_of(raw)
    assert message.startswith("exp.toml: mechanism.cost_weight: unknown key")
    assert "mechanism.kind" in message  # names the sweep point that failed


def test_an_unknown_key_in_a_mechanism_table_names_the_table(raw):
    raw["mechanism"] = {"kind": "none", "dtr": {"cost_weght": 1}}
    assert error_of(raw) == "exp.toml: mechanism.dtr.cost_weght: unknown key"
    raw["mechanism"] = {"kind": "dtr", "gamified": 5}
    assert error_of(raw).startswith("exp.toml: mechanism.gamified: must be a table")


def test_the_resolved_config_keeps_every_table_with_its_defaults(raw):
    raw["mechanism"] = {"kind": "gamified", "cost_weight": 2} | {"dtr": {}}
    assert error_of(raw) == "exp.toml: mechanism.cost_weight: unknown key"
    raw["mechanism"] = {"kind": "gamified", "dtr": {"cost_weight": 2}}
    resolved = Experiment(raw).config.resolved()["mechanism"]
    assert resolved["kind"] == "gamified"
    assert resolved["dtr"]["cost_weight"] == 2 and "min_deposit" in resolved["dtr"]
    assert resolved["gamified"]["points_per_validation"] == 10
    assert Experiment({**raw, "mechanism": resolved}).config == Experiment(raw).config


@pytest.mark.parametrize("kind", ["dtr", "prediction_market", "gamified", "none"])
def test_the_resolved_config_of_every_mechanism_is_toml_that_reads_back_the_same(raw, kind):
    """What a results folder's config.toml holds (optional keys left unset included)."""
    raw["mechanism"] = {"kind": kind}
    config = Experiment(raw).config
    text = tomli_w.dumps(config.resolved())
    assert Experiment(tomllib.loads(text)).config == config


@pytest.mark.parametrize(
    "path", sorted((REPO / "experiments").glob("*.toml")), ids=lambda path: path.stem
)
def test_every_shipped_config_is_valid(path):
    experiment = Experiment.from_file(path)
    assert experiment.points
