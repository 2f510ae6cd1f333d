"""Comparison plots across sweep points."""

import numpy as np
import pandas as pd
import pytest
from matplotlib.text import Annotation
from scipy import stats

from sim.sweep_plots import (
    ROI_GAP,
    comparison_plot,
    crossed,
    heatmap,
    metric_plot,
    roi_plot,
    with_roi_gap,
    write_sweep_plots,
)


def summary_of_two_mechanisms():
    rows = []
    for kind, accuracy, honest, attacker in (("dtr", 0.75, 0.1, -0.9), ("none", 0.6, 0.0, 0.0)):
        for replicate in range(3):
            rows.append(
                {
                    "mechanism.kind": kind,
                    "replicate": replicate,
                    "final_accuracy": accuracy + 0.01 * replicate,
                    "full_data_accuracy": 0.78,
                    "honest_roi": honest,
                    "lazy_roi": np.nan,
                    "adversarial_roi": attacker,
                }
            )
    return pd.DataFrame(rows)


def test_comparison_plot_has_a_box_per_value_and_kind():
    fig = comparison_plot(summary_of_two_mechanisms(), "mechanism.kind")
    accuracy_ax, roi_ax = fig.axes
    assert [t.get_text() for t in accuracy_ax.get_xticklabels()] == ["dtr", "none"]
    flat = [line for line in accuracy_ax.get_lines() if len(set(line.get_ydata())) == 1]
    assert any(round(float(line.get_ydata()[0]), 6) == 78.0 for line in flat)  # baseline
    # Each box's median line sits at its value's median accuracy (75%/60% + 1 point).
    assert {76.0, 61.0} <= {round(float(line.get_ydata()[0]), 6) for line in flat}
    assert [t.get_text() for t in roi_ax.get_legend().get_texts()] == ["honest", "adversarial"]
    assert len(roi_ax.patches) == 4  # 2 values x 2 kinds with data (lazy has none)


def test_write_sweep_plots_writes_png_and_svg(tmp_path):
    paths = write_sweep_plots(tmp_path, summary_of_two_mechanisms(), ["mechanism.kind"])
    assert [p.name for p in paths] == ["compare_mechanism_kind.png", "compare_mechanism_kind.svg"]
    assert all(p.stat().st_size > 1000 for p in paths)


# A two-key grid with known means: 3 replicates per point at mean - 0.02, mean, mean + 0.02.
RATES = [0.0, 0.3, 0.5]
WEIGHTS = [1, 20]
SPREAD = (-0.02, 0.0, 0.02)


def mean_accuracy(rate, weight):
    return 0.8 - 0.5 * rate + 0.001 * weight


def mean_honest(rate, weight):
    return 0.01 * weight


def mean_adversarial(rate, weight):
    return -0.02 * weight * (1 - rate)


def summary_of_a_grid(rates=RATES, weights=WEIGHTS):
    rows = []
    for point, (rate, weight) in enumerate((r, w) for r in rates for w in weights):
        for replicate, delta in enumerate(SPREAD):
            rows.append(
                {
                    "point": point,
                    "replicate": replicate,
                    "population.attack_rate": rate,
                    "mechanism.cost_weight": weight,
                    "final_accuracy": mean_accuracy(rate, weight) + delta,
                    "full_data_accuracy": 0.85,
                    "honest_roi": mean_honest(rate, weight) + delta,
                    "lazy_roi": np.nan,
                    # No attackers at attack rate 0: their ROI is missing, not zero.
                    "adversarial_roi": mean_adversarial(rate, weight) if rate else np.nan,
                }
            )
    return pd.DataFrame(rows)


def data_lines(ax):
    """The plotted mean lines (with markers), by label; reference lines have none."""
    return {line.get_label(): line for line in ax.get_lines() if line.get_marker() != "None"}


def test_metric_plot_draws_the_mean_in_percent_per_value_of_by():
    fig = metric_plot(
        summary_of_a_grid(), "population.attack_rate", "final_accuracy", "mechanism.cost_weight"
    )
    ax = fig.axes[0]
    lines = data_lines(ax)
    assert sorted(lines) == ["1", "20"]
    for weight in WEIGHTS:
        line = lines[str(weight)]
        assert np.allclose(line.get_xdata(), [100 * r for r in RATES])  # attack rate in %
        assert np.allclose(line.get_ydata(), [100 * mean_accuracy(r, weight) for r in RATES])
    assert "(%)" in ax.get_ylabel() and ax.get_xlabel() == "Attack rate (%)"
    reference = [line for line in ax.get_lines() if line.get_linestyle() == "--"]
    assert len(reference) == 1 and np.allclose(reference[0].get_ydata(), 85.0)


def test_metric_plot_band_is_the_95_percent_t_band_around_the_mean():
    fig = metric_plot(
        summary_of_a_grid(), "population.attack_rate", "final_accuracy", "mechanism.cost_weight"
    )
    ax = fig.axes[0]
    # Replicates at mean - 2, mean, mean + 2 points: std 2, t with 2 degrees of freedom.
    half = stats.t.ppf(0.975, 2) * 2 / np.sqrt(3)
    lines = list(data_lines(ax).values())
    assert len(ax.collections) == len(lines) == 2
    for line, band_ in zip(lines, ax.collections, strict=True):
        vertices = band_.get_paths()[0].vertices
        for x, mean in zip(line.get_xdata(), line.get_ydata(), strict=True):
            ys = vertices[np.isclose(vertices[:, 0], x), 1]
            assert ys.min() < mean < ys.max()
            assert np.isclose(ys.min(), mean - half) and np.isclose(ys.max(), mean + half)


def test_metric_plot_puts_categories_at_evenly_spaced_positions():
    fig = metric_plot(summary_of_two_mechanisms(), "mechanism.kind", "honest_roi")
    ax = fig.axes[0]
    (line,) = data_lines(ax).values()
    assert [t.get_text() for t in ax.get_xticklabels()] == ["dtr", "none"]  # sweep order
    assert list(line.get_xdata()) == [0.0, 1.0]
    assert np.allclose(line.get_ydata(), [10.0, 0.0])


def test_roi_plot_has_a_panel_per_kind_present_on_one_y_axis():
    summary = summary_of_a_grid()
    fig = roi_plot(summary, "population.attack_rate", "mechanism.cost_weight")
    honest_ax, adversarial_ax = fig.axes
    assert honest_ax.get_shared_y_axes().joined(honest_ax, adversarial_ax)
    line = data_lines(adversarial_ax)["20"]
    assert np.allclose(line.get_xdata(), [30, 50])  # no attackers at rate 0
    assert np.allclose(line.get_ydata(), [100 * mean_adversarial(r, 20) for r in RATES[1:]])


def test_roi_gap_is_per_run_and_missing_without_both_kinds():
    summary = with_roi_gap(summary_of_a_grid())
    has_both = summary["population.attack_rate"] > 0
    expected = summary["honest_roi"] - summary["adversarial_roi"]
    assert np.allclose(summary.loc[has_both, ROI_GAP], expected[has_both])
    assert summary.loc[~has_both, ROI_GAP].isna().all()


def test_heatmap_cells_are_the_means_over_replicates():
    fig = heatmap(
        summary_of_a_grid(), "mechanism.cost_weight", "population.attack_rate", "final_accuracy"
    )
    ax = fig.axes[0]
    cells = ax.images[0].get_array()
    expected = [[100 * mean_accuracy(r, w) for w in WEIGHTS] for r in RATES]  # rows: rates
    assert np.allclose(cells, expected)
    labels = [t.get_text() for t in ax.texts if not isinstance(t, Annotation)]  # not subtitle
    assert labels == [f"{v:.1f}" for row in expected for v in row]
    assert [t.get_text() for t in ax.get_yticklabels()] == ["0", "30", "50"]
    assert fig.axes[1].get_ylabel() == "Final accuracy on the hidden test set (%)"


def test_roi_gap_heatmap_is_centred_at_zero_and_blank_without_attackers():
    fig = heatmap(summary_of_a_grid(), "mechanism.cost_weight", "population.attack_rate", ROI_GAP)
    ax = fig.axes[0]
    cells = ax.images[0].get_array()
    assert cells.mask[0].all() and not cells.mask[1:].any()  # rate 0: no attackers
    expected = [
        [100 * (mean_honest(r, w) - mean_adversarial(r, w)) for w in WEIGHTS] for r in RATES[1:]
    ]
    assert np.allclose(cells[1:], expected)
    norm = ax.images[0].norm
    assert norm.vmin == -norm.vmax and norm.vmax == pytest.approx(np.max(np.abs(expected)))
    assert ax.images[0].get_cmap().name.startswith("RdBu")
    assert "percentage points" in fig.axes[1].get_ylabel()


def names(paths):
    return sorted(p.name for p in paths)


def test_write_sweep_plots_for_one_numeric_key(tmp_path):
    summary = summary_of_a_grid(rates=[0.3])
    paths = write_sweep_plots(tmp_path, summary, ["mechanism.cost_weight"])
    stems = ["compare_", "final_accuracy_vs_", "roi_vs_"]
    expected = [f"{s}mechanism_cost_weight{x}" for s in stems for x in (".png", ".svg")]
    assert names(paths) == sorted(expected)
    assert all(p.exists() and p.stat().st_size > 1000 for p in paths)


def test_write_sweep_plots_for_two_keys(tmp_path):
    keys = ["mechanism.cost_weight", "population.attack_rate"]
    paths = write_sweep_plots(tmp_path, summary_of_a_grid(), keys)
    stems = [
        f"{stem}{key.replace('.', '_')}"
        for key in keys
        for stem in ("compare_", "final_accuracy_vs_", "roi_vs_")
    ] + ["heatmap_final_accuracy", "heatmap_honest_minus_adversarial_roi"]
    assert names(paths) == sorted(f"{s}{x}" for s in stems for x in (".png", ".svg"))
    assert all(p.exists() and p.stat().st_size > 1000 for p in paths)


def test_write_sweep_plots_skips_heatmaps_for_keys_swept_together(tmp_path):
    grid = summary_of_a_grid()
    zipped = grid[grid["population.attack_rate"].eq(0.0) == grid["mechanism.cost_weight"].eq(1)]
    keys = ["mechanism.cost_weight", "population.attack_rate"]
    assert not crossed(zipped, *keys)
    paths = write_sweep_plots(tmp_path, zipped, keys)
    assert not [p for p in paths if p.name.startswith("heatmap")]
