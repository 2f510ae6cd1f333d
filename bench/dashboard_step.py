"""What one dashboard Step costs on the server: running the model on, and drawing the page.

    python bench/dashboard_step.py [CONFIG] [STEP]   # default: experiments/default.toml, "1 day"

Builds the dashboard's run of the config at its own values (what Reset does), then steps it
to the end; each step is timed twice: the simulation (`LiveRun.step`), and the two charts
(only after a step that took a sample) and the agent table as the page draws them (PNG
bytes, a DataFrame). The browser's own rendering and the websocket are not counted.
Prints `reset_seconds`, `step_ms_median`, `draw_ms_median`, `draw_ms_max` and `steps`.
"""

import statistics
import sys
import time
from pathlib import Path

from sim import plots
from sim.dashboard.live import LiveRun, controls, starting
from sim.dashboard.pages import png
from sim.experiment import Experiment

DEFAULT = Path(__file__).resolve().parent.parent / "experiments" / "default.toml"


def draw(run: LiveRun, drawn: int) -> int:
    """Draw what the page draws after a step: the charts only when a sample is new (as
    sim.dashboard.pages does). Returns the samples drawn."""
    if run.samples != drawn:
        days = run.config.experiment.duration_days
        png(plots.accuracy_plot(run.timeseries(), run.summary(), days=days))
        png(plots.kinds_plot(run.agents(), days=days))
    run.agent_table()
    return run.samples


def main() -> None:
    path = Path(sys.argv[1]) if len(sys.argv) > 1 else DEFAULT
    span = sys.argv[2] if len(sys.argv) > 2 else "1 day"
    base = Experiment.from_file(path).points[0][1]
    tic = time.perf_counter()
    run = LiveRun(**starting(controls(base)) | {"step": span})
    reset = time.perf_counter() - tic
    step_ms, draw_ms, drawn = [], [], -1
    while run.running:
        tic = time.perf_counter()
        run.step()
        step_ms.append(1000 * (time.perf_counter() - tic))
        tic = time.perf_counter()
        drawn = draw(run, drawn)
        draw_ms.append(1000 * (time.perf_counter() - tic))
    print(f"reset_seconds: {reset:.2f}")
    print(f"step_ms_median: {statistics.median(step_ms):.1f}")
    print(f"draw_ms_median: {statistics.median(draw_ms):.1f}")
    print(f"draw_ms_max: {max(draw_ms):.1f}")
    print(f"steps: {len(step_ms)}")


if __name__ == "__main__":
    main()
