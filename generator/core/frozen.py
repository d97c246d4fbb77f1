"""A faster __init__ for the frozen dataclasses a department-year makes thousands of.

A frozen dataclass's own __init__ sets each field through object.__setattr__ (its own __setattr__ refuses),
which makes one several times as slow to make as a plain dataclass, and a department-year makes thousands of
them (cells, check terms and results, search documents). `quick_init` gives such a class an __init__ that fills
the instance's __dict__ directly, as object.__setattr__ would for a class without slots or descriptors: the same
fields, defaults and errors for a missing or unknown argument; the instance is as frozen, hashable and
comparable as before (only __init__ is replaced).
"""

from __future__ import annotations

import dataclasses


def quick_init(cls: type) -> type:
    """Decorate a @dataclass(frozen=True) class (applied after it): its __init__ made as described above."""
    params = cls.__dataclass_params__
    if not (params.frozen and params.init) or "__slots__" in cls.__dict__ or hasattr(cls, "__post_init__"):
        raise TypeError(f"{cls.__name__}: quick_init is for frozen dataclasses without slots or __post_init__")
    fields = dataclasses.fields(cls)
    names, defaults = [], {}
    for f in fields:
        if not f.init or f.kw_only or f.default_factory is not dataclasses.MISSING:
            raise TypeError(f"{cls.__name__}.{f.name}: quick_init takes plain fields (with or without a default)")
        if f.default is dataclasses.MISSING:
            names.append(f.name)
        else:
            defaults[f"_default_{f.name}"] = f.default
            names.append(f"{f.name}=_default_{f.name}")
    body = "".join(f"\n    d[{f.name!r}] = {f.name}" for f in fields)
    source = f"def __init__(self, {', '.join(names)}):\n    d = self.__dict__{body}\n"
    namespace: dict = {}
    exec(source, defaults, namespace)  # made above from the dataclass's own field names, nothing else
    init = namespace["__init__"]
    init.__qualname__ = f"{cls.__qualname__}.__init__"
    cls.__init__ = init
    return cls
