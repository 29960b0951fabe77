"""The plugin manager: built-in labs, installed entry points, and isolation of failures.

Built-in labs are ordinary plugin modules listed in ``BUILTIN_PLUGINS`` and loaded
the same way an installed plugin is. Installed plugins are found through the
entry-point group ``playground``; ``PLAYGROUND_PLUGINS`` (comma-separated entry
point or distribution names) limits which of them load. A plugin that fails to
import, to register or to build costs only its own contribution: the failure is
recorded as a ``PluginError`` and shown in the app and in ``playground labs``.
"""
from __future__ import annotations

import importlib
import importlib.metadata
import os
import traceback
from dataclasses import dataclass, field
from typing import Iterable, Iterator, Optional

import pluggy

from . import hookspecs
from .lab import Lab

BUILTIN_PLUGINS: tuple[str, ...] = (
    "playground.models.defaults",
    "plugins.anisotropy",
    "plugins.triplet_margin",
    "plugins.temperature",
    "plugins.clip_zero_shot",
    "plugins.siglip_compare",
    "plugins.fine_tune",
    "plugins.train_clip",
    "plugins.simclr",
)
ENTRY_POINT_GROUP = hookspecs.PROJECT_NAME
PLUGINS_ENV = "PLAYGROUND_PLUGINS"


@dataclass
class PluginError:
    """A plugin that failed at some stage: ``import``, ``validate``, ``register_labs``,
    ``register_models`` or ``build``."""

    plugin: str
    stage: str
    message: str
    details: str = ""

    def __str__(self) -> str:
        return f'Error in plugin "{self.plugin}" ({self.stage}): {self.message}'


@dataclass
class PluginInfo:
    name: str
    source: str  # "builtin" or "entry point <dist>"
    labs: list[str] = field(default_factory=list)
    models: list[str] = field(default_factory=list)
    error: Optional[PluginError] = None


class PlaygroundPluginManager(pluggy.PluginManager):
    """A pluggy manager that also remembers which plugins failed and why."""

    def __init__(self) -> None:
        super().__init__(hookspecs.PROJECT_NAME)
        self.add_hookspecs(hookspecs)
        self.infos: dict[str, PluginInfo] = {}

    @property
    def errors(self) -> list[PluginError]:
        return [info.error for info in self.infos.values() if info.error is not None]

    def record_error(self, plugin: str, stage: str, exc: BaseException) -> PluginError:
        error = PluginError(
            plugin=plugin,
            stage=stage,
            message=f"{type(exc).__name__}: {exc}",
            details="".join(traceback.format_exception(type(exc), exc, exc.__traceback__)),
        )
        info = self.infos.setdefault(plugin, PluginInfo(name=plugin, source="unknown"))
        if info.error is None:
            info.error = error
        return error

    def add_plugin(self, module: object, name: str, source: str) -> bool:
        """Register ``module`` under ``name``; on any failure record it and return False."""
        self.infos.setdefault(name, PluginInfo(name=name, source=source))
        try:
            self.register(module, name=name)
        except Exception as exc:  # pluggy's PluginValidationError, a duplicate name, ...
            self.record_error(name, "validate", exc)
            return False
        unknown = [hook for hook in self._hookimpl_names(module) if getattr(self.hook, hook).spec is None]
        if unknown:
            self.unregister(module)
            known = ", ".join(sorted(n for n in dir(self.hook) if not n.startswith("_")))
            self.record_error(
                name,
                "validate",
                ValueError(
                    f"hookimpl {', '.join(unknown)} matches no hook (a typo?). Known hooks: {known}."
                ),
            )
            return False
        return True

    def _hookimpl_names(self, module: object) -> list[str]:
        return [n for n in dir(module) if self.parse_hookimpl_opts(module, n) is not None]


def _selected(names: Optional[str]) -> Optional[set[str]]:
    if names is None or not names.strip():
        return None
    return {n.strip() for n in names.split(",") if n.strip()}


def create_plugin_manager(
    builtins: Iterable[str] = BUILTIN_PLUGINS,
    entry_points: bool = True,
    only: Optional[str] = None,
    extra: Iterable[object] = (),
) -> PlaygroundPluginManager:
    """Build a fresh plugin manager.

    Args:
        builtins: module names of the built-in plugins to load.
        entry_points: also load installed plugins from the ``playground`` group.
        only: comma-separated installed-plugin names to load; defaults to the
            ``PLAYGROUND_PLUGINS`` environment variable (unset: all).
        extra: plugin objects (modules or instances) to register as well, as
            tests and notebooks do.
    """
    pm = PlaygroundPluginManager()
    for module_name in builtins:
        try:
            module = importlib.import_module(module_name)
        except Exception as exc:
            pm.infos.setdefault(module_name, PluginInfo(name=module_name, source="builtin"))
            pm.record_error(module_name, "import", exc)
            continue
        pm.add_plugin(module, module_name, "builtin")

    if entry_points:
        wanted = _selected(only if only is not None else os.environ.get(PLUGINS_ENV))
        for ep in importlib.metadata.entry_points(group=ENTRY_POINT_GROUP):
            dist = ep.dist.name if ep.dist is not None else ""
            if wanted is not None and ep.name not in wanted and dist not in wanted:
                continue
            if ep.name in pm.infos:  # the same distribution seen twice on sys.path
                continue
            source = f"entry point of {dist or 'unknown distribution'}"
            pm.infos.setdefault(ep.name, PluginInfo(name=ep.name, source=source))
            try:
                module = ep.load()
            except Exception as exc:
                pm.record_error(ep.name, "import", exc)
                continue
            pm.add_plugin(module, ep.name, source)

    for i, plugin in enumerate(extra):
        name = getattr(plugin, "__name__", None) or f"{type(plugin).__name__}-{i}"
        pm.add_plugin(plugin, name, "extra")
    pm.check_pending()  # add_plugin already unregistered any mismatch; this is a guard
    return pm


def collect_registered(pm: PlaygroundPluginManager, hook_name: str, expected: type) -> Iterator[tuple[str, list]]:
    """Call the ``register_*`` hook ``hook_name`` on each plugin separately and yield
    ``(plugin_name, things_it_registered)``. A plugin whose hook raises, or that
    registers something other than an ``expected`` instance, is recorded as failed
    and skipped, so it costs only its own contribution."""
    for impl in getattr(pm.hook, hook_name).get_hookimpls():
        found: list = []

        def register(thing, _found=found) -> None:
            if not isinstance(thing, expected):
                raise TypeError(f"register() takes a playground.{expected.__name__}, got {type(thing).__name__}")
            _found.append(thing)

        try:
            impl.function(**({"register": register} if "register" in impl.argnames else {}))
        except Exception as exc:
            pm.record_error(impl.plugin_name, hook_name, exc)
            continue
        yield impl.plugin_name, found


def collect_labs(pm: PlaygroundPluginManager) -> list[Lab]:
    """Every lab the plugins register, sorted by ``order`` then ``title``.

    A plugin whose ``register_labs`` fails, or that registers an id already taken,
    gets an error recorded and contributes no labs.
    """
    labs: dict[str, Lab] = {}
    for plugin, found in collect_registered(pm, "register_labs", Lab):
        ids = [lab.id for lab in found]
        clash = next((i for i in ids if i in labs or ids.count(i) > 1), None)
        if clash is not None:
            owner = labs[clash].plugin if clash in labs else plugin
            pm.record_error(plugin, "register_labs", ValueError(f"lab id {clash!r} is already registered by plugin {owner!r}"))
            continue
        for lab in found:
            lab.plugin = plugin
            labs[lab.id] = lab
        pm.infos[plugin].labs = ids
    return sorted(labs.values(), key=lambda lab: (lab.order, lab.title))
