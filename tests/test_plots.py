"""Tests for sim.plots: the band statistics by hand, and what the headline figure draws."""

import math

import numpy as np
import pandas as pd
import pytest
from matplotlib.figure import Figure

from sim.plots import band, headline_plot, hold_last, write_plots

T975_DF2 = 4.302653  # Student's t, 97.5th percentile, 2 degrees of freedom (from a table)

ACCURACY = {0: [0.5, 0.6, 0.7], 1: [0.6, 0.7, 0.9], 2: [0.7, 0.8, 0.8]}  # per replicate
# Honest start balances differ per replicate: percent must be of each run's own start.
HONEST = {0: [100, 110, 120], 1: [200, 240, 300], 2: [100, 130, 150]}  # 120%, 150%, 150%
ATTACKER = [200, 100, 50]  # 25% in every replicate
FULL_DATA = [0.79, 0.80, 0.795]


def make_run(points=(0,)):
    """Three replicates, two agents, three time points (days 0, 0.5, 1)."""
    times = [0.0, 0.5, 1.0]
    ts, ag, sm = [], [], []
    for p in points:
        for r in range(3):
            for i, t in enumerate(times):
                ts.append((p, r, t, "accuracy", ACCURACY[r][i]))
                ts.append((p, r, t, "contributions", 10.0 * i))  # not plotted
                ag.append((p, r, t, "honest-0", "honest", HONEST[r][i]))
                ag.append((p, r, t, "attacker-0", "adversarial", ATTACKER[i]))
            sm.append((p, r, FULL_DATA[r], ACCURACY[r][0], ACCURACY[r][-1]))
    return (
        pd.DataFrame(ts, columns=["point", "replicate", "time_days", "metric", "value"]),
        pd.DataFrame(ag, columns=["point", "replicate", "time_days", "agent", "kind", "balance"]),
        pd.DataFrame(
            sm,
            columns=[
                "point",
                "replicate",
                "full_data_accuracy",
                "initial_accuracy",
                "final_accuracy",
            ],
        ),
    )


def lines_by_label(fig: Figure) -> dict:
    (ax,) = fig.axes
    return {line.get_label(): line for line in ax.get_lines()}


# --- band -----------------------------------------------------------------------------


def test_band_by_hand():
    df = pd.DataFrame({"x": [0, 0, 0], "y": [1.0, 2.0, 3.0]})
    b = band(df, "x", "y", [])
    assert list(b.columns) == ["x", "mean", "low", "high", "n"]
    row = b.iloc[0]
    half = T975_DF2 * 1.0 / math.sqrt(3)  # sample std of 1, 2, 3 is 1
    assert row["n"] == 3
    assert row["mean"] == pytest.approx(2.0)
    assert row["low"] == pytest.approx(2.0 - half, rel=1e-5)
    assert row["high"] == pytest.approx(2.0 + half, rel=1e-5)


def test_band_widens_with_variance_and_contains_mean():
    narrow = pd.DataFrame({"x": [0, 0, 0], "y": [1.9, 2.0, 2.1]})
    wide = pd.DataFrame({"x": [0, 0, 0], "y": [1.0, 2.0, 3.0]})
    bn, bw = band(narrow, "x", "y", []).iloc[0], band(wide, "x", "y", []).iloc[0]
    assert bn["mean"] == pytest.approx(bw["mean"])
    for b in (bn, bw):
        assert b["low"] < b["mean"] < b["high"]
    assert bw["high"] - bw["low"] > bn["high"] - bn["low"]


def test_band_collapses_with_one_replicate():
    df = pd.DataFrame({"x": [0.0, 1.0], "y": [0.3, 0.4]})
    b = band(df, "x", "y", [])
    assert b["n"].tolist() == [1, 1]
    assert np.allclose(b["low"], b["mean"]) and np.allclose(b["high"], b["mean"])
    assert b["mean"].tolist() == pytest.approx([0.3, 0.4])


def test_band_per_group():
    df = pd.DataFrame(
        {"x": [0, 0, 0, 0, 1, 1], "g": ["a", "a", "b", "b", "a", "a"], "y": [1, 3, 10, 10, 5, 7]}
    )
    b = band(df, "x", "y", ["g"])
    assert list(b.columns) == ["x", "g", "mean", "low", "high", "n"]
    got = {(r.g, r.x): r.mean for r in b.itertuples()}
    assert got == {("a", 0): 2.0, ("a", 1): 6.0, ("b", 0): 10.0}
    no_spread = b[b["g"] == "b"].iloc[0]
    assert no_spread["low"] == no_spread["high"] == 10.0


def test_hold_last_carries_finished_runs_forward():
    df = pd.DataFrame(
        {"time_days": [0.0, 1.0, 2.0, 0.0, 1.0], "replicate": [0, 0, 0, 1, 1], "v": [1, 2, 3, 5, 6]}
    )
    held = hold_last(df, ["replicate"], "v")
    last = band(held, "time_days", "v").iloc[-1]
    assert last["time_days"] == 2.0 and last["n"] == 2
    assert last["mean"] == pytest.approx((3 + 6) / 2)


# --- headline_plot --------------------------------------------------------------------


def test_headline_plot_lines():
    ts, ag, sm = make_run()
    fig = headline_plot(ts, ag, sm)
    assert isinstance(fig, Figure)
    lines = lines_by_label(fig)

    acc = lines["Accuracy on hidden test set"]
    assert list(acc.get_xdata()) == [0.0, 0.5, 1.0]
    expected = [100 * np.mean([ACCURACY[r][i] for r in range(3)]) for i in range(3)]
    assert list(acc.get_ydata()) == pytest.approx(expected)

    honest = lines["honest-0 balance"]
    assert honest.get_ydata()[0] == pytest.approx(100.0)
    assert honest.get_ydata()[-1] == pytest.approx((120 + 150 + 150) / 3)
    assert lines["attacker-0 balance"].get_ydata()[-1] == pytest.approx(25.0)
    assert honest.get_color() != lines["attacker-0 balance"].get_color()

    baseline = lines["Accuracy trained on all data: 79.5%"]
    assert list(baseline.get_ydata()) == pytest.approx([79.5, 79.5])

    (ax,) = fig.axes
    assert ax.get_xlabel() == "Time (days)" and ax.get_ylabel() == "Percent"
    assert ax.get_title() == "Balances & accuracy on the hidden test set"
    assert ax.get_legend() is None and len(fig.legends) == 1  # legend beside, not on, the axes


def test_headline_plot_picks_point_and_title():
    ts, ag, sm = make_run(points=(0, 1))
    ts.loc[ts["point"] == 1, "value"] = 1.0
    fig = headline_plot(ts, ag, sm, point=1, title="Custom")
    acc = lines_by_label(fig)["Accuracy on hidden test set"]
    assert list(acc.get_ydata()) == pytest.approx([100.0] * 3)
    assert fig.axes[0].get_title() == "Custom"


def test_headline_plot_many_agents_per_kind():
    ts, ag, sm = make_run()
    extra = [ag[ag["agent"] == "honest-0"].assign(agent=f"honest-{i}") for i in range(1, 13)]
    ag = pd.concat([ag, *extra], ignore_index=True)  # 13 honest + 1 adversarial
    labels = set(lines_by_label(headline_plot(ts, ag, sm)))
    assert "honest balance (mean of 13 agents)" in labels
    assert "adversarial balance (mean of 1 agent)" in labels
    assert not any(label.startswith("honest-") for label in labels)


# --- write_plots ----------------------------------------------------------------------


def test_write_plots_single_point(tmp_path):
    paths = write_plots(tmp_path, *make_run())
    assert [p.name for p in paths] == ["headline.png", "headline.svg"]
    for p in paths:
        assert p.parent == tmp_path / "plots" and p.stat().st_size > 0
    assert paths[0].read_bytes().startswith(b"\x89PNG")
    assert "<svg" in paths[1].read_text()


def test_write_plots_sweep(tmp_path):
    paths = write_plots(tmp_path, *make_run(points=(0, 1)))
    names = sorted(p.name for p in paths)
    assert names == [
        "headline.png",
        "headline.svg",
        "headline_point0.png",
        "headline_point1.png",
    ]
    assert all(p.exists() and p.stat().st_size > 0 for p in paths)


# --- gamified runs: points where balances would be ------------------------------------

HONEST_POINTS = {0: [0, 50, 100], 1: [0, 60, 120], 2: [0, 40, 110]}
ATTACKER_POINTS = [0, 5, 15]


def make_points_run():
    """make_run's accuracy with balances that never move and points that grow."""
    ts, ag, sm = make_run()
    honest = ag["agent"] == "honest-0"
    index = (ag["time_days"] * 2).astype(int)  # days 0, 0.5, 1 -> 0, 1, 2
    points = [
        HONEST_POINTS[r][i] if h else ATTACKER_POINTS[i]
        for r, i, h in zip(ag["replicate"], index, honest, strict=True)
    ]
    return ts, ag.assign(balance=10_000, points=points), sm


def lines_by_label_on(ax) -> dict:
    return {line.get_label(): line for line in ax.get_lines()}


def all_lines(fig: Figure) -> dict:
    return {line.get_label(): line for ax in fig.axes for line in ax.get_lines()}


def test_points_replace_balances_when_only_points_change():
    fig = headline_plot(*make_points_run())
    ax, points_ax = fig.axes
    assert ax.get_ylabel() == "Percent" and points_ax.get_ylabel() == "Points"
    assert ax.get_title() == "Points & accuracy on the hidden test set"

    on_points_axis = {line.get_label(): line for line in points_ax.get_lines()}
    assert set(on_points_axis) == {"honest-0 points", "attacker-0 points"}
    honest = on_points_axis["honest-0 points"]
    assert list(honest.get_ydata()) == pytest.approx([0, 50, 110])  # absolute, mean of 3
    assert list(on_points_axis["attacker-0 points"].get_ydata()) == pytest.approx([0, 5, 15])
    assert not any("balance" in label for label in all_lines(fig))

    accuracy = lines_by_label_on(ax)["Accuracy on hidden test set"]
    assert accuracy.get_ydata()[0] == pytest.approx(100 * np.mean([0.5, 0.6, 0.7]))
    assert "Accuracy trained on all data: 79.5%" in lines_by_label_on(ax)
    assert ax.get_ylim() == (0, 100)
    low, high = points_ax.get_ylim()
    assert low == 0 and high >= 120  # the top of the honest band fits
    # The points ticks fall on the accuracy axis's grid lines (0, 20, ..., 100).
    assert len(points_ax.get_yticks()) == 6
    legend = {text.get_text() for text in fig.legends[0].get_texts()}
    assert {"honest-0 points", "attacker-0 points", "Accuracy on hidden test set"} <= legend


def test_balances_stay_when_money_moves_even_with_points():
    ts, ag, sm = make_run()
    ag = ag.assign(points=ag["balance"] // 10)  # points and money both change
    fig = headline_plot(ts, ag, sm)
    assert len(fig.axes) == 1
    assert {"honest-0 balance", "attacker-0 balance"} <= set(lines_by_label(fig))


def test_balances_stay_when_no_points_are_earned():
    ts, ag, sm = make_run()
    fig = headline_plot(ts, ag.assign(balance=500, points=0), sm)
    assert len(fig.axes) == 1
    assert lines_by_label(fig)["honest-0 balance"].get_ydata()[-1] == pytest.approx(100.0)
    assert fig.axes[0].get_title() == "Balances & accuracy on the hidden test set"


def test_points_per_kind_with_many_agents():
    ts, ag, sm = make_points_run()
    extra = [ag[ag["agent"] == "honest-0"].assign(agent=f"honest-{i}") for i in range(1, 13)]
    ag = pd.concat([ag, *extra], ignore_index=True)
    lines = all_lines(headline_plot(ts, ag, sm))
    assert list(lines["honest points (mean of 13 agents)"].get_ydata()) == pytest.approx(
        [0, 50, 110]
    )
    assert "adversarial points (mean of 1 agent)" in lines


def test_write_plots_points_run(tmp_path):
    paths = write_plots(tmp_path, *make_points_run())
    assert paths[0].read_bytes().startswith(b"\x89PNG")
