"""Datasets shared by the worker processes of one sweep, so `--jobs N` keeps one copy.

The sweep's process builds each point's dataset once (it has already, to check the
config), writes its arrays as raw files into a temporary folder, and every worker maps them
read-only: the operating system keeps one copy of the pages, however many workers read them,
and no worker generates or parses the data again. A dataset is found by its content key, the
config's data section and seed, so sweep points and replicates that share data share one
copy. Raw bytes and a JSON index are all that is written: nothing is unpickled.
"""

import hashlib
import json
import tempfile
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path

import numpy as np

from sim.config import ExperimentConfig
from sim.datasets import Dataset
from sim.features import Features

_ARRAYS = ("indptr", "indices", "values", "y")
_opened: dict[tuple[str, str], Dataset] = {}
"""Datasets this process has mapped, by (folder, key): each is mapped once per process."""


def data_key(config: ExperimentConfig) -> str:
    """The content key of a config's dataset: its data section and seed."""
    text = json.dumps([config.data.model_dump(mode="json"), config.experiment.seed])
    return hashlib.sha256(text.encode()).hexdigest()[:32]


class SharedData:
    """A folder of published datasets; small and picklable, so it travels with each run."""

    def __init__(self, folder: Path, keys: frozenset[str]) -> None:
        self.folder = folder
        self.keys = keys

    def dataset(self, config: ExperimentConfig) -> Dataset | None:
        """The config's dataset, mapped read-only, or None if it was not published."""
        key = data_key(config)
        if key not in self.keys:
            return None
        if (str(self.folder), key) not in _opened:
            _opened[str(self.folder), key] = self._map(key)
        return _opened[str(self.folder), key]

    def _map(self, key: str) -> Dataset:
        index = json.loads((self.folder / f"{key}.json").read_text())
        arrays = {}
        for name in _ARRAYS:
            if name not in index:  # a dense matrix has no indices
                arrays[name] = None
                continue
            dtype, length = np.dtype(index[name][0]), index[name][1]
            path = self.folder / f"{key}.{name}"
            # np.asarray: a plain ndarray view of the map, as the compiled loops take.
            arrays[name] = (
                np.asarray(np.memmap(path, dtype=dtype, mode="r", shape=(length,)))
                if length
                else np.empty(0, dtype)
            )
        y = arrays.pop("y")
        y.flags.writeable = False
        features = Features(n_features=index["n_features"], **arrays)
        return Dataset(index["name"], features, y, index["n_classes"], index["binary"])


def publish(folder: Path, key: str, data: Dataset) -> None:
    """Write the dataset's arrays into `folder` under its key."""
    X = data.X
    arrays = {"indptr": X.indptr, "indices": X.indices, "values": X.values, "y": data.y}
    arrays = {name: array for name, array in arrays.items() if array is not None}
    for name, array in arrays.items():
        array.tofile(folder / f"{key}.{name}")
    index = {name: [array.dtype.str, len(array)] for name, array in arrays.items()}
    index |= {
        "name": data.name,
        "n_features": X.n_features,
        "n_classes": data.n_classes,
        "binary": data.binary,
    }
    (folder / f"{key}.json").write_text(json.dumps(index))


@contextmanager
def shared_datasets(
    configs: Iterable[ExperimentConfig], load: Callable[[ExperimentConfig], Dataset]
) -> Iterator[SharedData]:
    """The datasets of `configs`, built by `load` one at a time, published in a temporary
    folder for as long as the block runs."""
    with tempfile.TemporaryDirectory(prefix="decai-data-") as name:
        folder, keys = Path(name), set()
        for config in configs:
            key = data_key(config)
            if key not in keys:
                publish(folder, key, load(config))
                keys.add(key)
        yield SharedData(folder, frozenset(keys))
