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


def _lookup(registry: dict[str, type], what: str, kind: str, internal: bool = True) -> type:
    """The class registered as `kind`; with internal=False (a config's choice) not one
    marked `internal`, which its mechanism adds itself."""
    load_plugins()
    choices = sorted(name for name, cls in registry.items() if internal or not cls.internal)
    if kind not in choices:
        problem = (
            f"{what} {kind!r} is added by its mechanism, not by a config"
            if kind in registry
            else f"unknown {what} {kind!r}"
        )
        raise ValueError(f"{problem}; choose one of {', '.join(choices)}")
    return registry[kind]


def mechanism_class(kind: str) -> type:
    return _lookup(MECHANISMS, "mechanism", kind)


def behaviour_class(kind: str, *, internal: bool = True) -> type:
    return _lookup(BEHAVIOURS, "agent kind", kind, internal)
