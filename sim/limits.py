"""Bounds on the work one config may ask for, checked when the config is read.

A config over a limit is one error line naming the key and the limit, before anything is
allocated or written. The work limits are read when a config is checked, so a larger
experiment only needs a larger value: edit it here, or set it from Python before loading
the config (`sim.limits.MAX_RUNS = 50_000`). The input limits live beside the code that
reads the input, and are raised the same way: `sim.datasets.MAX_CELLS` (samples x features
of any dataset), `sim.datasets.MAX_FILE_BYTES` (a data file), `sim.datasets.MAX_FEATURE_VALUE`
(a feature value's magnitude) and `sim.config.MAX_CONFIG_BYTES` (a config file).

`MAX_MONEY`, `MAX_COUNTER` and `MAX_SEED` are not work limits but the range the simulation
is exact in.
"""

MAX_POINTS = 1_000
"""Sweep points of one experiment: the product of the sweep lists' lengths (zip: their
length), counted before any point is made."""

MAX_RUNS = 10_000
"""Runs of one experiment: sweep points x replicates (each run is a file and a manifest
entry)."""

MAX_SAMPLES = 100_000
"""Metric samples of one run: duration_days * 24 / eval_every_hours."""

MAX_AGENTS = 10_000
"""Agents of one run, the mechanism's own (a bounty provider) included."""

MAX_EVENTS = 10_000_000
"""Agent actions one run may take: the sum over agents of the run's length over their
mean wait (at least one second, as waits are whole seconds)."""

MAX_AGENT_ROWS = 2_000_000
"""Rows of one run's agents table: agents x metric samples."""

MAX_CLASSES = 1_000
"""Classes of a synthetic dataset (a learner holds a weight vector per class)."""

MAX_MONEY = 2**62
"""The most units in one run (every start balance and the mechanism's own funds, such as a
bounty): balances and their sum then fit a signed 64-bit integer, as the results store
them. Also the bound of each money parameter (deposits, stakes, fees)."""

MAX_COUNTER = 2**63 - 1
"""The most a per-agent counter (units deposited, refunded, taken) may reach, bounded as the
run's money times its actions: the results store counters as signed 64-bit integers."""

MAX_SEED = 2**32 - 1
"""The largest `experiment.seed`: generated data seeds scikit-learn, whose random_state is
a 32-bit integer."""
