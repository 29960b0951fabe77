"""The plugin manager: built-in labs, installed entry points, and isolation of failures.

Built-in labs are ordinary plugin modules listed in ``BUILTIN_PLUGINS`` and loaded
the same way an installed plugin is. Installed plugins are found through the
entry-point group ``playground``; ``PLAYGROUND_PLUGINS`` (comma-separated entry
point or distribution names) limits which of them load. A plugin that fails to
import, to register or to build costs only its own contribution: the failure is
recorded as a ``PluginError`` and shown in the app and in ``playground labs``.
"""
from __future__ import annotations

import difflib
import importlib
import importlib.metadata
import os
import traceback
import types
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable, Iterator, Optional

import pluggy

from playground.contract import hookspecs
from playground.contract.lab import Lab
from playground.contract.shadowed import is_empty_namespace, load_entry_point, shadow_error
from playground.contract.unregistered import distributions_missing_entry_point, missing_entry_point_error
from playground.models.registry import ModelRegistry, ModelSpec

BUILTIN_PLUGINS: tuple[str, ...] = (
    "playground.contract.default_models",
    "plugins.anisotropy",
    "plugins.triplet_margin",
    "plugins.temperature",
    "plugins.clip_zero_shot",
    "plugins.siglip_compare",
    "plugins.siglip_variants",
    "plugins.fine_tune",
    "plugins.train_clip",
    "plugins.simclr",
    "plugins.objectives",
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
    fix: str = ""  # one line: what the student should do

    def __str__(self) -> str:
        text = f'Error in plugin "{self.plugin}" ({self.stage}): {self.message}'
        return f"{text}\n  Fix: {self.fix}" if self.fix else text


@dataclass
class PluginInfo:
    name: str
    source: str  # "builtin", "entry point of <dist>", "installed, no entry point" or "extra"
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

    @property
    def hook_names(self) -> list[str]:
        """The real hooks (those with a spec), sorted."""
        return sorted(n for n in dir(self.hook) if not n.startswith("_") and getattr(self.hook, n).spec is not None)

    def record_error(self, plugin: str, stage: str, exc: BaseException, fix: str = "") -> PluginError:
        """Remember that ``plugin`` failed at ``stage``. ``fix`` is the one-line remedy;
        without it the exception's own ``fix`` attribute, else a remedy for the stage."""
        error = PluginError(
            plugin=plugin,
            stage=stage,
            message=f"{type(exc).__name__}: {exc}{_where(exc)}",
            details="".join(traceback.format_exception(type(exc), exc, exc.__traceback__)),
            fix=fix or getattr(exc, "fix", "") or STAGE_FIXES.get(stage, ""),
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
        marked = self._hookimpl_names(module)
        unknown = [hook for hook in marked if getattr(self.hook, hook).spec is None]
        if unknown:
            self.unregister(module)
            hook = unknown[0]
            close = difflib.get_close_matches(hook, self.hook_names, n=1, cutoff=0.6)
            guess = f"did you mean `{close[0]}`? " if close else ""
            self.record_error(
                name,
                "validate",
                ValueError(f"hookimpl `{hook}` matches no hook. Known hooks: {', '.join(self.hook_names)}."),
                fix=f"{guess}Rename `def {hook}` to one of the known hooks.",
            )
            return False
        unmarked = self._unmarked_hook_functions(module, marked)
        if unmarked:
            self.unregister(module)
            self.record_error(
                name,
                "validate",
                ValueError(f"`{unmarked[0]}` is not marked @hookimpl, so the playground never calls it."),
                fix=f"Did you forget @hookimpl? Put `@hookimpl` (from playground import hookimpl) on the line above `def {unmarked[0]}`.",
            )
            return False
        if not marked:
            self.unregister(module)
            self.record_error(
                name,
                "validate",
                ValueError("the plugin defines no hook function: no `@hookimpl def register_labs(register)`."),
                fix="Add `@hookimpl def register_labs(register): register(Lab(...))` to the module the entry point names.",
            )
            return False
        return True

    def _hookimpl_names(self, module: object) -> list[str]:
        return [n for n in dir(module) if self.parse_hookimpl_opts(module, n) is not None]

    def _unmarked_hook_functions(self, module: object, marked: list[str]) -> list[str]:
        """Functions of ``module`` named like a hook (or nearly) but not marked @hookimpl."""
        own = getattr(module, "__name__", None)
        found = []
        for attr in dir(module):
            if attr in marked or attr.startswith("_"):
                continue
            value = getattr(module, attr, None)
            if not callable(value) or isinstance(value, type):
                continue
            if isinstance(module, types.ModuleType) and getattr(value, "__module__", own) != own:
                continue  # imported from elsewhere, not the plugin's own function
            if attr in self.hook_names or difflib.get_close_matches(attr, self.hook_names, n=1, cutoff=0.85):
                found.append(attr)
        return found


_SHELL_DIRS = (str(Path(__file__).parent), str(Path(pluggy.__file__).parent), str(Path(importlib.__file__).parent))


def _where(exc: BaseException) -> str:
    """`` (at file.py, line N)``: the innermost line of the plugin's own code that raised."""
    frames = [
        f for f in traceback.extract_tb(exc.__traceback__)
        if not f.filename.startswith(_SHELL_DIRS) and not f.filename.startswith("<")  # "<string>": dataclass code
    ]
    if not frames:
        return ""
    return f" (at {os.path.basename(frames[-1].filename)}, line {frames[-1].lineno}, in {frames[-1].name})"


# The remedy for a failure at each stage, when nothing more precise is known.
STAGE_FIXES = {
    "import": "Fix the line named above; importing the module in Python shows the full traceback.",
    "register_labs": "`register_labs(register)` must call `register(Lab(...))` once per lab and raise nothing; see the traceback.",
    "register_models": "`register_models(register)` must call `register(ModelSpec(...))` once per model with an id no other plugin uses.",
    "build": "Fix the lab's `build(ctx)` at the line the traceback shows; `playground labs` rebuilds every tab to check.",
    "validate": "A hook function takes only the arguments its hook offers: `register`.",
}

def _import_fix(exc: BaseException, module: str) -> str:
    if isinstance(exc, ModuleNotFoundError) and exc.name and exc.name != module:
        return f"`pip install {exc.name.split('.')[0]}` (and list it in the lab's dependencies), or correct the import."
    if isinstance(exc, ModuleNotFoundError):
        return f"The entry point names module {module!r}, which is not installed: check the entry point's value and `pip install -e .` again."
    return f'Fix the line named above; `python -c "import {module}"` shows the full traceback.'


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
                module = load_entry_point(ep)  # not ./<module>/ shadowing the installed lab
            except Exception as exc:
                pm.record_error(ep.name, "import", exc, fix=_import_fix(exc, ep.module))
                continue
            if is_empty_namespace(module):
                pm.record_error(ep.name, "import", shadow_error(module, ep.module))
                continue
            pm.add_plugin(module, ep.name, source)
        for dist, module in distributions_missing_entry_point(wanted):
            pm.infos.setdefault(dist, PluginInfo(name=dist, source="installed, no entry point"))
            pm.record_error(dist, "entry point", missing_entry_point_error(dist, module))

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
            returned = impl.function(**({"register": register} if "register" in impl.argnames else {}))
        except Exception as exc:
            pm.record_error(impl.plugin_name, hook_name, exc)
            continue
        if returned is not None:
            pm.record_error(impl.plugin_name, hook_name, _returned_error(hook_name, returned, expected))
            continue
        yield impl.plugin_name, found


def _returned_error(hook_name: str, returned: object, expected: type) -> TypeError:
    what = type(returned).__name__
    exc = TypeError(
        f"{hook_name} returned a {what} instead of calling register(...); returned values are ignored."
    )
    exc.fix = f"Write `register({expected.__name__}(...))` instead of `return {expected.__name__}(...)`, once per {expected.__name__.lower()}."
    return exc


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
            pm.record_error(
                plugin, "register_labs", ValueError(f"lab id {clash!r} is already registered by plugin {owner!r}"),
                fix=f"Choose another id in `Lab(id=...)`, for example {'my_' + clash!r}; `playground labs` lists the ids taken.",
            )
            continue
        for lab in found:
            lab.plugin = plugin
            labs[lab.id] = lab
        pm.infos[plugin].labs = ids
    return sorted(labs.values(), key=lambda lab: (lab.order, lab.title))


def create_registry(pm=None, device: Optional[str] = None, max_gb: Optional[float] = None) -> ModelRegistry:
    """A registry holding the models of every loaded plugin.

    Args:
        pm: a plugin manager from ``create_plugin_manager()``; a fresh one if None.
    """
    pm = pm if pm is not None else create_plugin_manager()
    registry = ModelRegistry(device=device, max_gb=max_gb)
    for plugin, found in collect_registered(pm, "register_models", ModelSpec):
        try:
            for spec in found:
                registry.register(spec, owner=plugin)
        except ValueError as exc:
            pm.record_error(plugin, "register_models", exc)
            continue
        pm.infos[plugin].models = [spec.id for spec in found]
    return registry
