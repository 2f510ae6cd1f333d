"""The plugin registry: every mechanism, contributor behaviour and learner, by kind.

A new one is one module that decorates its class with `register_mechanism`,
`register_behaviour` or `register_learner` and declares on the class what the rest of the
tool needs: its `kind`, its `Params`, and for a behaviour its `colour` and `order`.
Nothing else names a kind: configs, summaries, plots, `decai list` and `decai docs` all
read them here.

Plugins load from three places: every module of the built-in packages (agents,
mechanisms, sim.learners), the modules that installed packages name as entry points in
the `decai_sim.plugins` group, and the modules a config lists under `plugins` (a module
name, or the path of a .py file): the one way a config makes the tool run code.
"""

import hashlib
import importlib
import importlib.util
import pkgutil
import sys
from functools import partial
from importlib.metadata import entry_points
from pathlib import Path

from sim.params import first_line

_MECHANISMS: dict[str, type] = {}
_BEHAVIOURS: dict[str, type] = {}
_LEARNERS: dict[str, type] = {}

ENTRY_POINTS = "decai_sim.plugins"
"""The entry point group in which an installed package names its plugin modules."""

_built_in_loaded = False


class PluginError(ValueError):
    """A plugin that cannot be loaded or registered: the message is one line."""


def _registrar(registry: dict[str, type], what: str):
    def register(cls: type) -> type:
        known = registry.get(cls.kind, cls)  # the same class imported again replaces itself
        if (known.__module__, known.__qualname__) != (cls.__module__, cls.__qualname__):
            raise PluginError(
                f"{what} {cls.kind!r} is registered twice: by {known.__module__} and "
                f"{cls.__module__}"
            )
        registry[cls.kind] = cls
        return cls

    return register


register_mechanism = _registrar(_MECHANISMS, "mechanism")
register_behaviour = _registrar(_BEHAVIOURS, "agent kind")
register_learner = _registrar(_LEARNERS, "model")


def load_plugins(modules: tuple[str, ...] | list[str] = ()) -> None:
    """Import the built-in plugin packages and the installed entry points (the first
    time), and `modules`: module names, or paths of .py files."""
    global _built_in_loaded
    if not _built_in_loaded:
        for package_name in ("agents", "mechanisms", "sim.learners"):
            package = importlib.import_module(package_name)
            for module in pkgutil.iter_modules(package.__path__):
                importlib.import_module(f"{package_name}.{module.name}")
        for entry in entry_points(group=ENTRY_POINTS):
            _guarded(entry.load, f"plugin {entry.name} ({entry.value})")
        _built_in_loaded = True
    for module in modules:
        _guarded(partial(import_plugin, module), f"plugin {module}")


def _guarded(load, what: str) -> None:
    try:
        load()
    except PluginError:
        raise
    except Exception as error:  # a plugin's own bug: name the plugin, in one line
        raise PluginError(f"{what}: {first_line(error)}") from None


def import_plugin(module: str) -> None:
    """Import a plugin module by its module name, or by the path of its .py file (once
    per file: it is kept in sys.modules under a name made from its path)."""
    if not module.endswith(".py"):
        importlib.import_module(module)
        return
    path = Path(module).resolve()
    if not path.is_file():
        raise PluginError(f"plugin {module}: no such file")
    digest = hashlib.sha256(str(path).encode()).hexdigest()[:12]
    name = f"decai_plugin_{digest}_{path.stem}"
    if name in sys.modules:
        return
    spec = importlib.util.spec_from_file_location(name, path)
    loaded = importlib.util.module_from_spec(spec)
    sys.modules[name] = loaded
    try:
        spec.loader.exec_module(loaded)
    except BaseException:
        del sys.modules[name]
        raise


def mechanisms() -> dict[str, type]:
    """Every mechanism, by kind, in name order."""
    load_plugins()
    return dict(sorted(_MECHANISMS.items()))


def behaviours() -> dict[str, type]:
    """Every contributor behaviour, by kind, in name order."""
    load_plugins()
    return dict(sorted(_BEHAVIOURS.items()))


def learners() -> dict[str, type]:
    """Every learner, by kind, in name order."""
    load_plugins()
    return dict(sorted(_LEARNERS.items()))


def summarised_kinds() -> list[str]:
    """The agent kinds a config can add (not `internal`), in their declared `order` and
    then by name: the order of their columns in summary.csv and of their plot legends."""
    chosen = [cls for cls in behaviours().values() if not cls.internal]
    return [cls.kind for cls in sorted(chosen, key=lambda cls: (cls.order, cls.kind))]


def kind_colour(kind: str) -> str:
    """The colour of an agent kind's lines and boxes (grey for a kind not installed, as
    in results written where a plugin was)."""
    cls = behaviours().get(kind)
    return cls.colour if cls is not None else "gray"


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
    return _lookup(_MECHANISMS, "mechanism", kind)


def behaviour_class(kind: str, *, internal: bool = True) -> type:
    return _lookup(_BEHAVIOURS, "agent kind", kind, internal)


def learner_class(kind: str) -> type:
    return _lookup(_LEARNERS, "model kind", kind)
