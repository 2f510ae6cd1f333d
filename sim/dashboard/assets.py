"""The browser files of Solara's page, from the npm registry where its CDN is out of reach.

Solara's server hands the browser a few front-end packages (its Vuetify app, RequireJS,
Font Awesome) from a cache folder, filling it from cdn.jsdelivr.net on first use. A
machine that reaches the package registries but not that CDN (as this project's CI) would
serve an empty page, so before the server starts, every package the page names that the
cache lacks is fetched once from registry.npmjs.org, the same files as published, and
unpacked into the cache. Nothing is fetched when the cache has them all.
"""

import contextlib
import io
import re
import shutil
import tarfile
import tempfile
import urllib.request
from pathlib import Path, PurePosixPath

REGISTRY = "https://registry.npmjs.org"
PACKAGE = re.compile(r"\{\{cdn\}\}/((?:@[\w.-]+/)?[\w.-]+)@([\w.-]+)/")
"""A package the page template loads from the CDN: its name and version."""
TIMEOUT_SECONDS = 60
MAX_TARBALL_BYTES = 64 << 20
"""The largest package fetched (Solara's Vuetify app is about 18 MB)."""


class AssetsError(ValueError):
    """The page's files are neither in the cache nor to be had from the registry."""


def wanted() -> list[tuple[str, str]]:
    """(name, version) of each package Solara's page loads from its CDN, here: those its
    page template names (for the Vue version installed) and Font Awesome."""
    import ipyvue
    import solara.server
    from solara.server.settings import assets

    template = Path(solara.server.__file__).parent / "templates" / "solara.html.j2"
    other_app = (
        "@widgetti/solara-vuetify-app" if ipyvue.__version__.startswith("3")
        else "@widgetti/solara-vuetify3-app"
    )  # fmt: skip
    found = {pair for pair in PACKAGE.findall(template.read_text()) if pair[0] != other_app}
    if assets.fontawesome_enabled:
        name, _, version = PurePosixPath(assets.fontawesome_path).parts[1].rpartition("@")
        found.add((name, version))
    return sorted(found)


def ensure_assets() -> list[str]:
    """Fetch into Solara's cache each wanted package it lacks; return those fetched."""
    from solara.server.settings import assets

    cache = Path(assets.proxy_cache_dir)
    fetched = []
    for name, version in wanted():
        folder = cache / f"{name}@{version}"
        if folder.is_dir() and any(folder.iterdir()):
            continue
        unpack(download(name, version), folder)
        fetched.append(f"{name}@{version}")
    return fetched


def download(name: str, version: str) -> bytes:
    """A package's published tarball from the npm registry."""
    url = f"{REGISTRY}/{name}/-/{name.rpartition('/')[2]}-{version}.tgz"
    try:
        with urllib.request.urlopen(url, timeout=TIMEOUT_SECONDS) as response:
            data = response.read(MAX_TARBALL_BYTES + 1)
    except OSError as error:
        raise AssetsError(
            f"the dashboard's browser files: {name}@{version} is not in Solara's cache and "
            f"cannot be fetched from {REGISTRY} ({error})"
        ) from None
    if len(data) > MAX_TARBALL_BYTES:
        raise AssetsError(f"{url}: larger than {MAX_TARBALL_BYTES:,} bytes")
    return data


def unpack(tarball: bytes, folder: Path) -> None:
    """Unpack an npm tarball (its files under `package/`) into `folder`, whole or not at
    all: it is unpacked beside it and renamed. Another process that got there first wins."""
    folder.parent.mkdir(parents=True, exist_ok=True)
    partial = Path(tempfile.mkdtemp(prefix=f".{folder.name}.", dir=folder.parent))
    try:
        with tarfile.open(fileobj=io.BytesIO(tarball), mode="r:gz") as archive:
            members = []
            for member in archive.getmembers():
                member.name = member.name.partition("/")[2]  # drop the `package/` folder
                if member.name:
                    members.append(member)
            archive.extractall(partial, members=members, filter="data")
        with contextlib.suppress(OSError):  # left empty before
            folder.rmdir()
        partial.rename(folder)
    except OSError:
        if not (folder.is_dir() and any(folder.iterdir())):
            raise
    finally:
        shutil.rmtree(partial, ignore_errors=True)
