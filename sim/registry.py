"""Name -> class registries for mechanisms and contributor behaviours.

A new mechanism or behaviour is one new module in `mechanisms/` or `agents/` that
decorates its class with `register_mechanism` / `register_behaviour`; `load_plugins`
imports every module of those packages, so nothing else needs editing.
"""

import importlib
import pkgutil

MECHANISMS: dict[str, type] = {}
BEHAVIOURS: dict[str, type] = {}


def register_mechanism(cls: type) -> type:
    MECHANISMS[cls.kind] = cls
    return cls


def register_behaviour(cls: type) -> type:
    BEHAVIOURS[cls.kind] = cls
    return cls


def load_plugins() -> None:
    """Import every module of the `agents` and `mechanisms` packages (once)."""
    for package_name in ("agents", "mechanisms"):
        package = importlib.import_module(package_name)
        for module in pkgutil.iter_modules(package.__path__):
            importlib.import_module(f"{package_name}.{module.name}")


def _lookup(registry: dict[str, type], what: str, kind: str) -> type:
    load_plugins()
    if kind not in registry:
        raise ValueError(f"unknown {what} {kind!r}; choose one of {', '.join(sorted(registry))}")
    return registry[kind]


def mechanism_class(kind: str) -> type:
    return _lookup(MECHANISMS, "mechanism", kind)


def behaviour_class(kind: str) -> type:
    return _lookup(BEHAVIOURS, "agent kind", kind)
