"""Tests for the generated config reference (docs/configs.md) and `decai docs`.

The reference is generated from the pydantic schema: a config key added, removed or
changed without running `decai docs` fails here.
"""

import re

import pytest

import sim.docs
from sim.cli import main
from sim.docs import CONFIGS_MD, config_reference, sections
from sim.registry import behaviours, learners, mechanisms

DOCS = CONFIGS_MD.parent


def test_configs_md_is_current():
    assert CONFIGS_MD.is_file(), "docs/configs.md is missing: run `decai docs`"
    assert CONFIGS_MD.read_text() == config_reference(), (
        "docs/configs.md is out of date with the config schema: run `decai docs`"
    )


def test_reference_is_deterministic():
    assert config_reference() == config_reference()


def _table_keys(markdown: str, heading: str) -> list[str]:
    """The keys in the first column of the table under `## heading`."""
    body = markdown.split(f"\n## {heading}\n", 1)[1].split("\n## ", 1)[0]
    return re.findall(r"^\| `([^`]+)` \|", body, flags=re.MULTILINE)


def test_every_key_of_every_section_is_listed():
    from sim.config import (
        AgentGroup,
        DataSection,
        ExperimentSection,
        ModelSection,
        PopulationSection,
    )

    reference = config_reference()
    expected = {
        "[experiment]": list(ExperimentSection.model_fields),
        "[data]": list(DataSection.model_fields),
        "[model]": list(ModelSection.model_fields),
        "[mechanism]": ["kind"],
        "[population]": list(PopulationSection.model_fields),
        "[[agents]]": list(AgentGroup.model_fields),
        "[sweep]": ["mode", "KEY"],
    }
    for kind, learner in learners().items():
        expected[f"[model.{kind}]"] = list(learner.Params.model_fields)
    for kind, mechanism in mechanisms().items():
        expected[f"[mechanism.{kind}]"] = list(mechanism.Params.model_fields)
    for kind, behaviour in behaviours().items():
        expected[f"[[agents]] kind {kind}"] = list(behaviour.Params.model_fields)
    expected["plugins"] = ["plugins"]
    for heading, keys in expected.items():
        assert _table_keys(reference, heading) == keys, heading
    assert {"dtr", "gamified", "none", "prediction_market"} <= set(mechanisms())


def test_rows_carry_type_default_constraints_and_description():
    rows = {row[0]: row for row in sections()["mechanism.dtr"]}
    assert rows["cost_weight"] == (
        "cost_weight",
        "float",
        "1.0",
        "> 0, <= 4611686018427387904",
        "scale of the deposit formula",
    )
    assert sections()["agents.lazy"][0][1] == '"late" | "never" | "prompt"'
    reference = config_reference()
    assert '| `claim` | "late" \\| "never" \\| "prompt" | `"late"` |' in reference
    assert "| `badge_thresholds` | list of int | `[100, 500, 1000, 5000]` |" in reference
    assert "| `n_samples` | int or unset | `unset` | > 0 |" in reference


def test_docs_check_passes_when_current(capsys):
    assert main(["docs", "--check"]) == 0
    assert capsys.readouterr().err == ""


def test_docs_check_fails_when_stale_and_docs_rewrites(tmp_path, monkeypatch, capsys):
    target = tmp_path / "configs.md"
    monkeypatch.setattr(sim.docs, "CONFIGS_MD", target)

    assert main(["docs", "--check"]) == 1  # missing
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "decai docs" in err

    target.write_text(config_reference().replace("root of every random stream", "stale"))
    assert main(["docs", "--check"]) == 1
    assert "out of date" in capsys.readouterr().err

    assert main(["docs"]) == 0
    assert str(target) in capsys.readouterr().out
    assert target.read_text() == config_reference()
    assert main(["docs", "--check"]) == 0


@pytest.mark.parametrize(
    ("page", "section", "kinds"),
    [
        ("mechanisms.md", "[mechanism.{}]", mechanisms),
        ("agents.md", "[[agents]] kind {}", behaviours),
    ],
)
def test_hand_written_pages_link_each_kinds_generated_parameters(page, section, kinds):
    """mechanisms.md and agents.md describe the rules by hand; the parameter tables are
    not repeated there but linked, in configs.md (generated, so never stale)."""
    text = (DOCS / page).read_text()
    reference = config_reference()
    for kind, cls in kinds().items():
        assert f"`{kind}`" in text, f"docs/{page} does not describe {kind}"
        if cls.Params.model_fields:
            title = section.format(kind)
            assert f"## {title}" in reference
            assert f"[`{title}` in configs.md](configs.md#" in text, f"docs/{page}: {title}"


def test_results_page_names_every_summary_column():
    from sim.model import ACCOUNT_STATS
    from sim.registry import summarised_kinds

    text = (DOCS / "results.md").read_text()
    for stat in ("balance_change", "roi", "points", "mean_deposit", *ACCOUNT_STATS):
        assert f"K_{stat}" in text or f"`{stat}`" in text, stat
    for kind in summarised_kinds():
        assert f"`{kind}`" in text, kind
