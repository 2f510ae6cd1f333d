"""What a results folder's runs are made from: config.toml's SHA-256 and each data file's
absolute path and SHA-256, recorded in the manifest at the start and checked by a resume,
so a folder never mixes the runs of two experiments (or of two versions of a data file).
"""

import hashlib
import os
from pathlib import Path

from sim.results_folder import ResultsError


def fingerprint(config_toml: str, data_files: dict[str, str]) -> dict:
    """What the runs are made from, as the manifest records it at the start and a resume
    must find it: config.toml's SHA-256 and, per file dataset (`data.dataset` -> absolute
    path), the file's path and SHA-256 (None if it cannot be read)."""
    return {
        "config_sha256": hashlib.sha256(config_toml.encode()).hexdigest(),
        "data_files": {
            name: {"path": file, "sha256": _file_sha256(file)} for name, file in data_files.items()
        },
    }


def _file_sha256(file: str) -> str | None:
    """The SHA-256 of a regular file (None for anything else: a FIFO would block)."""
    digest = hashlib.sha256()
    if not os.path.isfile(file):
        return None
    try:
        with open(file, "rb") as data:
            while block := data.read(1 << 20):
                digest.update(block)
    except OSError:
        return None
    return digest.hexdigest()


def check_unchanged(path: Path, config_toml: str, manifest: dict) -> dict[str, str]:
    """Refuse to resume a folder whose config.toml or data files are not those its runs
    started with; return the data files' recorded absolute paths (`data.dataset` -> path)."""
    try:
        recorded = manifest["config_sha256"], manifest["data_files"]
        files = {name: entry["path"] for name, entry in recorded[1].items()}
        if not all(isinstance(file, str) for file in files.values()):
            raise TypeError
    except (KeyError, TypeError, AttributeError):
        raise ResultsError(
            f"{path / 'manifest.json'}: records no config_sha256 and data_files (made by an "
            "older decai-sim, or edited), so a resume cannot tell it would not mix two "
            "experiments; run the config again"
        ) from None
    now = fingerprint(config_toml, files)
    if now["config_sha256"] != recorded[0]:
        raise ResultsError(
            f"{path}: config.toml changed since the run started (sha256 "
            f"{str(recorded[0])[:12]}..., now {now['config_sha256'][:12]}...); "
            "put it back, or run the edited config as a new experiment"
        )
    for name, entry in now["data_files"].items():
        if entry["sha256"] is None:
            raise ResultsError(f"data file {entry['path']} ({name}) cannot be read any more")
        if entry["sha256"] != recorded[1][name].get("sha256"):
            raise ResultsError(
                f"data file {entry['path']} changed since the run started ({name}: sha256 "
                f"{str(recorded[1][name].get('sha256'))[:12]}..., now {entry['sha256'][:12]}...)"
            )
    return files
