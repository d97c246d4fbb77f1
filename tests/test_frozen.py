"""generator.core.frozen.quick_init: the same instances as the frozen dataclass's own __init__ makes, faster."""

import dataclasses
import pickle

import pytest

from generator.core.frozen import quick_init


def pair():
    """The same frozen dataclass twice: as dataclass makes it, and with quick_init's __init__."""

    def make():
        @dataclasses.dataclass(frozen=True)
        class Record:
            name: str
            value: int
            note: str = "无"
            tags: tuple = ()

        return Record

    return make(), quick_init(make())


@pytest.mark.parametrize(
    "args, kwargs",
    [(("a", 1), {}), (("a", 1, "备注"), {}), (("a",), {"value": 2, "tags": ("x",)}), ((), {"name": "b", "value": 3})],
)
def test_instances_are_those_of_the_dataclass_init(args, kwargs):
    plain, quick = pair()
    a, b = plain(*args, **kwargs), quick(*args, **kwargs)
    assert vars(a) == vars(b)
    assert repr(a).split("(", 1)[1] == repr(b).split("(", 1)[1]
    assert hash(b) == hash(quick(*args, **kwargs)) and b == quick(*args, **kwargs)
    assert dataclasses.replace(b, value=9) == quick(*dataclasses.astuple(dataclasses.replace(a, value=9)))


def test_the_build_cache_pickles_them_as_before():
    from generator.checks.tables import Term
    from generator.core.diagnostics import Loc

    term = Term("表1「收入」「合计」", None, "#####", -1, Loc("data/x.yaml", 3), None)
    assert pickle.loads(pickle.dumps(term)) == term


def test_instances_stay_frozen_and_arguments_are_checked_as_before():
    plain, quick = pair()
    b = quick("a", 1)
    with pytest.raises(dataclasses.FrozenInstanceError):
        b.name = "c"
    for cls in (plain, quick):
        with pytest.raises(TypeError, match="missing 1 required positional argument: 'value'"):
            cls("a")
        with pytest.raises(TypeError, match="unexpected keyword argument 'other'"):
            cls("a", 1, other=2)
        with pytest.raises(TypeError, match="multiple values for argument 'name'"):
            cls("a", 1, name="b")


def test_classes_it_cannot_make_the_same_are_refused():
    @dataclasses.dataclass
    class Mutable:
        name: str

    @dataclasses.dataclass(frozen=True, slots=True)
    class Slotted:
        name: str

    @dataclasses.dataclass(frozen=True)
    class Factory:
        names: list = dataclasses.field(default_factory=list)

    @dataclasses.dataclass(frozen=True)
    class Later:
        name: str

        def __post_init__(self):
            pass

    for cls in (Mutable, Slotted, Factory, Later):
        with pytest.raises(TypeError, match="quick_init"):
            quick_init(cls)
