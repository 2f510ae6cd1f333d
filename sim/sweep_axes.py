"""How a sweep's keys and a summary's metrics read on a plot: names, units and scales
(accuracy and ROI are stored as fractions and shown in percent; every axis says its unit),
tick text and the order of a key's values; and the ROI gap, the one metric derived here.
"""

import numpy as np
import pandas as pd

#: Per run: honest_roi - adversarial_roi. Positive when honest contributors earned more,
#: relative to what they started with, than the attackers: the mechanism doing its job.
ROI_GAP = "honest_minus_adversarial_roi"

#: Names for keys whose field name alone would not say what they are.
KEY_NAMES = {"cost_weight": "Deposit cost weight"}

#: Field-name endings that tell a key's unit: (ending, unit, scale, drop the ending from
#: the name). Rates and fractions are stored as shares and shown in percent.
KEY_UNITS = [
    ("_days", "days", 1.0, True),
    ("_hours", "hours", 1.0, True),
    ("_rate", "%", 100.0, False),
    ("_fraction", "%", 100.0, False),
    ("_balance", "units", 1.0, False),
    ("_deposit", "units", 1.0, False),
]


def with_roi_gap(summary: pd.DataFrame) -> pd.DataFrame:
    """`summary` plus the ROI_GAP column (NaN in a run without honest or adversarial agents)."""
    if ROI_GAP in summary.columns:
        return summary
    gap = summary.get("honest_roi", np.nan) - summary.get("adversarial_roi", np.nan)
    return summary.assign(**{ROI_GAP: gap})


def is_numeric(values: pd.Series) -> bool:
    """Whether a swept key's values are numbers, which get a real (scaled) x axis."""
    return pd.api.types.is_numeric_dtype(values) and not pd.api.types.is_bool_dtype(values)


def key_values(summary: pd.DataFrame, key: str) -> list:
    """A key's distinct values: ascending if numeric, else in sweep order."""
    values = list(dict.fromkeys(summary[key].dropna()))
    return sorted(values) if is_numeric(summary[key]) else values


def metric_scale(metric: str) -> float:
    """Accuracy and ROI are stored as fractions and shown in percent."""
    return 100.0 if metric.endswith(("_accuracy", "_roi")) else 1.0


def metric_label(metric: str) -> str:
    """An axis or colourbar label for a summary column, with its unit."""
    if metric == ROI_GAP:
        return "Honest minus adversarial ROI (percentage points)"
    if metric == "final_accuracy":
        return "Final accuracy on the hidden test set (%)"
    if metric.endswith("_accuracy"):
        return metric.removesuffix("_accuracy").replace("_", " ").capitalize() + " accuracy (%)"
    if metric.endswith("_roi"):
        return metric.removesuffix("_roi").replace("_", " ").capitalize() + " ROI (% of start)"
    if metric.endswith("_balance_change"):
        kind = metric.removesuffix("_balance_change").replace("_", " ").capitalize()
        return f"{kind} balance change per agent (units)"
    return metric.replace("_", " ").capitalize()


def key_axis(key: str) -> tuple[str, str, float]:
    """(name, unit, scale) of a swept key, e.g. ("Attack rate", "%", 100.0)."""
    section, _, field = key.rpartition(".")
    if field == "kind":  # mechanism.kind -> "Mechanism"
        return (section or field).replace("_", " ").capitalize(), "", 1.0
    if field in KEY_NAMES:
        return KEY_NAMES[field], "", 1.0
    for ending, unit, scale, drop in KEY_UNITS:
        if field.endswith(ending):
            name = field.removesuffix(ending) if drop else field
            return name.replace("_", " ").capitalize(), unit, scale
    return field.replace("_", " ").capitalize(), "", 1.0


def key_label(key: str) -> str:
    name, unit, _ = key_axis(key)
    return f"{name} ({unit})" if unit else name


def value_text(key: str, value, with_unit: bool = False) -> str:
    """A swept value as it appears on ticks (bare, the axis names the unit) or in legends."""
    _, unit, scale = key_axis(key)
    if not isinstance(value, (int, float, np.number)) or isinstance(value, bool):
        return str(value)
    text = f"{value * scale:g}"
    if not with_unit or not unit:
        return text
    return text + unit if unit == "%" else f"{text} {unit}"
