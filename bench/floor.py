"""What the libraries cost before the tool does any work: the floor under issue 13's targets.

    python bench/floor.py

Prints, each measured in a fresh process:
- Mesa's cost per event: an agent that does nothing but schedule its own next action
  (`schedule_event`, as every agent here does), run with `run_until`;
- the peak RSS of importing each library the tool needs, and of importing `sim.cli`.

The paper config's loop needs about 1.2 events per contribution, so Mesa alone costs about
1.2x the per-event figure per contribution; a loop of 40,000 contributions/s leaves 25 us.
"""

import subprocess
import sys

EVENTS = """
import time, mesa

class Idle(mesa.Agent):
    def __call__(self):
        self.model.schedule_event(self, after=1.0)

class Model(mesa.Model):
    def __init__(self):
        super().__init__(rng=0)
        self._default_schedule.stop()
        for _ in range(2):
            self.schedule_event(Idle(self), after=1.0)

model = Model()
model.run_until(1_000.0)  # warm
tic = time.perf_counter()
model.run_until(101_000.0)
print(f"{(time.perf_counter() - tic) / 200_000 * 1e6:.2f}")
"""

IMPORT = """
import importlib, resource
for name in {names!r}:
    importlib.import_module(name)
print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024)
"""

LIBRARIES = {
    "numpy": ["numpy"],
    "pandas": ["pandas"],
    "mesa": ["mesa"],
    "scikit-learn (SGDClassifier)": ["sklearn.linear_model"],
    "numba": ["numba"],
    "matplotlib": ["matplotlib.pyplot"],
    "sim.cli (all of the tool)": ["sim.cli"],
}


def fresh(code: str) -> str:
    return subprocess.run(
        [sys.executable, "-c", code], check=True, capture_output=True, text=True
    ).stdout.strip()


def main() -> None:
    per_event = min(float(fresh(EVENTS)) for _ in range(3))
    print(f"mesa_us_per_event: {per_event:.2f} (fastest of 3; an idle agent rescheduling)")
    for label, names in LIBRARIES.items():
        print(f"import {label}: {fresh(IMPORT.format(names=names))} MiB peak RSS")


if __name__ == "__main__":
    main()
