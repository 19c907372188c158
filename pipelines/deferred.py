"""Modules imported on first use: `import name` binds a stand-in that imports the real module the
first time one of its attributes is read, then behaves as it (its namespace copied in).

Why: Great Expectations imports, at `import great_expectations`, one expectation we never run
(expect_column_kl_divergence_to_be_less_than: `import altair`, `from scipy import stats`) and
two metrics of the same kind (`from scipy import stats`). altair pulls in jsonschema, whose
rfc3987_syntax builds a grammar on import: together ~1.5 CPU s of validate's ~3 s import, paid
by every process that validates, and used only inside functions those expectations run (none of
our suites). With the stand-ins the modules are imported where they are used, if ever; GX's
behaviour is the same (same objects once loaded).

importlib.util.LazyLoader does not do this on Python 3.11: the import statement reads the lazy
module's __spec__, which loads it at once.
"""

from __future__ import annotations

import importlib
import importlib.util
import sys
import threading
import types

_lock = threading.RLock()


class Deferred(types.ModuleType):
    """Stands in sys.modules for a module not yet imported; the first attribute read that the
    stand-in does not have imports the real module (replacing the stand-in in sys.modules and on
    its parent package) and answers from it."""

    def __getattr__(self, attr: str):  # any attribute not set on the stand-in, dunders too
        return getattr(load(self), attr)


def load(stand_in: Deferred) -> types.ModuleType:
    """The real module behind a stand-in (imported once); the stand-in's namespace becomes the
    module's, so later reads through it cost an ordinary attribute read."""
    name = types.ModuleType.__getattribute__(stand_in, "__name__")
    with _lock:
        real = stand_in.__dict__.get("_deferred_module")
        if real is not None:
            return real
        if sys.modules.get(name) is stand_in:
            del sys.modules[name]
        parent, _, child = name.rpartition(".")
        if parent and getattr(sys.modules.get(parent), child, None) is stand_in:
            delattr(sys.modules[parent], child)
        real = importlib.import_module(name)
        stand_in.__dict__.update(real.__dict__)
        stand_in.__dict__["_deferred_module"] = real
        return real


def defer(names: tuple[str, ...]) -> list[str]:
    """Put a stand-in in sys.modules for each of `names` that is importable and not imported yet
    (a dotted name's parent package is imported now and gets the stand-in as its attribute);
    returns the names deferred."""
    deferred = []
    with _lock:
        for name in names:
            if name in sys.modules:
                continue
            parent, _, child = name.rpartition(".")
            spec = importlib.util.find_spec(name)
            if spec is None:
                continue
            stand_in = Deferred(name)
            for attr in ("__doc__", "__package__", "__loader__"):  # read through to the real module
                del stand_in.__dict__[attr]
            # the real spec: the import statement's "still initialising?" check reads it (a read
            # through would load the module), and importlib.util.find_spec(name) returns it (None
            # there raises ValueError in any library that probes for the module)
            stand_in.__spec__ = spec
            sys.modules[name] = stand_in
            if parent:
                setattr(sys.modules[parent], child, stand_in)
            deferred.append(name)
    return deferred
