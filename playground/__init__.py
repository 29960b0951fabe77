"""contrastive-playground: labs that show what geometry each training objective
imposes on embeddings (contrastive losses make the raw cosine usable; objectives
that never compare texts for similarity leave a cone around one shared direction).

The public face for lab authors::

    from playground import hookimpl, Lab, LabContext, ModelSpec
"""
from .gpu import gpu
from .hookspecs import hookimpl
from .lab import Lab, LabContext
from .plugins import collect_labs, create_plugin_manager
from .registry import ModelRegistry, ModelSpec, ModelUnavailableError, UnknownModelError, create_registry

__version__ = "0.1.0"

__all__ = [
    "Lab", "LabContext", "ModelRegistry", "ModelSpec", "ModelUnavailableError", "UnknownModelError",
    "collect_labs", "create_plugin_manager", "create_registry", "gpu", "hookimpl",
]
