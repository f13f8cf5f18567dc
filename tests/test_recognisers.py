"""Every hand-written recogniser of the answer stage against its table of examples
(tests/data/recognisers.json): what each must and must not match, in one place."""

from __future__ import annotations

import importlib
import json
import re
from pathlib import Path
from typing import Any

import pytest

TABLE = json.loads((Path(__file__).parent / "data" / "recognisers.json").read_text())["recognisers"]


def gives_for(question: str, sentence: str) -> bool:
    from assistant.answer.asked import asked_for, gives

    return gives(asked_for(question), sentence, question)


def resolve(name: str) -> Any:
    module, _, attr = name.partition(":")
    if name == "assistant.answer.asked:gives_for":
        return gives_for
    return getattr(importlib.import_module(module), attr)


def outcome(name: str, value: Any) -> Any:
    """What the table records of a result: an Asked's kind, a pattern's name, else the value."""
    if name.endswith(":asked_for"):
        return None if value is None else value.kind
    if isinstance(value, re.Pattern):
        module = importlib.import_module(name.partition(":")[0])
        return next(k for k, v in vars(module).items() if v is value and k.isupper())
    return value


CASES = [
    pytest.param(r["name"], case, id=f"{r['name'].removeprefix('assistant.')}-{i}")
    for r in TABLE
    for i, case in enumerate(r["cases"])
]


@pytest.mark.parametrize(("name", "case"), CASES)
def test_recogniser(name: str, case: list[Any]) -> None:
    *args, expected = case
    assert outcome(name, resolve(name)(*args)) == expected, f"{name}{tuple(args)}"


def test_every_recogniser_has_both_kinds_of_example() -> None:
    for r in TABLE:
        values = {json.dumps(c[-1]) for c in r["cases"]}
        assert len(values) >= 2, f"{r['name']}: only one outcome in its examples"
