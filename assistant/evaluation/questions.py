"""Question sets for ``assistant eval``: JSONL, CSV or YAML in, validated ``Question`` objects out.

A JSONL line looks like this (docs/interfaces.md, "Question sets")::

    {"id": "seed-01", "question": "What has Russia offered in return?", "answerable": true,
     "evidence": [{"article": "000_7112adcedfa7c1bb", "quote": "It is not clear, however, ..."}],
     "answer": "optional reference answer text or list of acceptable answers"}

CSV has columns of the same names, with ``evidence`` and ``answer`` as ``|``-separated lists (CSV
evidence entries are quotes; article-id evidence needs JSONL or YAML). Every problem in a file is
collected and reported together, each naming the file, the line and the field, so one run tells
the user everything to fix; a bad line never silently drops out of an evaluation.
"""

from __future__ import annotations

import csv
import difflib
import io
import json
import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from assistant.errors import InputError, NotFoundError
from assistant.ingest import yamlfile
from assistant.ingest.cleaning import safe_text

FIELDS = ("id", "question", "answerable", "evidence", "answer", "mode", "as_of")
MODES = ("viewpoints", "timeline")  # a question may ask to be answered in one of these modes
MAX_LISTED = 10
_TRUE = {"true", "1", "yes", "y"}
_FALSE = {"false", "0", "no", "n"}


@dataclass(frozen=True)
class Gold:
    """One piece of gold evidence: an article id, a quote from the article, or both."""

    article: str | None = None
    quote: str | None = None


@dataclass(frozen=True)
class Question:
    """One evaluation question with its gold evidence and reference answers."""

    id: str
    question: str
    answerable: bool = True
    evidence: tuple[Gold, ...] = ()
    answer: tuple[str, ...] = ()  # acceptable reference answers; empty if none
    mode: str | None = None  # "viewpoints" or "timeline": asked in that mode (viewpoints.py)
    as_of: str | None = None  # asked on this day (YYYY-MM-DD): later articles are not used
    # fields the format does not define, kept as given (they go on into results.jsonl)
    extra: dict[str, Any] = field(default_factory=dict, compare=False)


def load_questions(path: Path) -> list[Question]:
    """The questions of a JSONL, CSV or YAML file, in file order; InputError lists every problem."""
    path = Path(path)
    if path.is_dir():
        raise InputError(
            f"Question set {path} is a folder: name the .jsonl, .csv or .yaml file in it."
        )
    if not path.is_file():
        raise NotFoundError(f"Question set {path} does not exist.")
    try:
        text = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as e:
        raise InputError(f"{path}: not UTF-8 text ({e.reason} at byte {e.start}).") from e
    suffix = path.suffix.lower()
    problems: list[str] = []
    if suffix == ".jsonl":
        records = _jsonl_records(text, path.name, problems)
    elif suffix == ".csv":
        records = _csv_records(text, path.name, problems)
    elif suffix in (".yaml", ".yml"):
        records = _yaml_records(text, path.name, problems)
    else:
        raise InputError(f"{path}: unknown question-set format; use .jsonl, .csv, .yaml or .yml.")

    questions: list[Question] = []
    first_seen: dict[str, int] = {}
    for line, record, from_csv in records:
        q = _question(record, line, f"{path.name}:{line}", from_csv, problems)
        if q is None:
            continue
        if q.id in first_seen:
            problems.append(
                f'{path.name}:{line}: duplicate "id" {q.id!r} (first on line {first_seen[q.id]})'
            )
            continue
        first_seen[q.id] = line
        questions.append(q)

    if problems:
        listed = "\n  ".join(problems[:MAX_LISTED])
        more = (
            f"\n  ... and {len(problems) - MAX_LISTED} more" if len(problems) > MAX_LISTED else ""
        )
        count = f"{len(problems)} problem{'s' if len(problems) > 1 else ''}"
        raise InputError(f"{path} has {count}; fix the file and run again:\n  {listed}{more}")
    if not questions:
        raise InputError(f"{path} holds no questions.")
    return questions


Record = tuple[int, Any, bool]  # (line number, raw record, came from CSV)


def _jsonl_records(text: str, name: str, problems: list[str]) -> list[Record]:
    """One record per non-blank line; a line that is not JSON becomes a problem."""
    records: list[Record] = []
    for line_no, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            records.append((line_no, json.loads(line), False))
        except json.JSONDecodeError as e:
            problems.append(f"{name}:{line_no}: not valid JSON ({e.msg} at column {e.colno})")
    return records


def _csv_records(text: str, name: str, problems: list[str]) -> list[Record]:
    """One record per non-empty row; line numbers count the header as line 1."""
    reader = csv.DictReader(io.StringIO(text, newline=""))
    columns = [c.strip() for c in reader.fieldnames or []]
    reader.fieldnames = columns
    if "question" not in columns:
        problems.append(f'{name}:1: no "question" column (found: {", ".join(columns) or "none"})')
        return []
    records: list[Record] = []
    previous_end = 1
    for row in reader:
        start, previous_end = previous_end + 1, reader.line_num
        if None in row:
            problems.append(f"{name}:{start}: more fields than the header has columns")
            continue
        if any((v or "").strip() for v in row.values()):
            records.append((start, row, True))
    return records


def _yaml_records(text: str, name: str, problems: list[str]) -> list[Record]:
    """One record per item of the top-level list, numbered by the line the item starts on."""
    try:
        data = yamlfile.load(text)
        node = yamlfile.compose(text)
    except yamlfile.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        where = f"{name}:{mark.line + 1}" if mark else name
        problems.append(f"{where}: not valid YAML ({getattr(e, 'problem', None) or e})")
        return []
    if data is None:
        return []
    if not isinstance(data, list) or not isinstance(node, yaml.SequenceNode):
        problems.append(f"{name}:1: expected a list of questions (- question: ...)")
        return []
    return [
        (item.start_mark.line + 1, rec, False) for item, rec in zip(node.value, data, strict=True)
    ]


def _question(
    record: Any, line: int, where: str, from_csv: bool, problems: list[str]
) -> Question | None:
    """The validated question, or None after adding each of its problems to ``problems``."""
    if not isinstance(record, dict):
        problems.append(
            f'{where}: expected an object with a "question", got {type(record).__name__}'
        )
        return None
    before = len(problems)
    extra = {str(k): v for k, v in record.items() if k not in FIELDS}
    for key in extra:
        # sets carry fields of their own ("evidence_text", "topic"): kept, never refused; a
        # likely typo ("evidance", the real field absent) gets a warning
        close = difflib.get_close_matches(key, FIELDS, n=1, cutoff=0.75)
        if close and close[0] not in record:
            logging.getLogger(__name__).warning(
                '%s: field "%s" is not part of the format (did you mean "%s"?); kept as is',
                where, key, close[0],
            )  # fmt: skip

    raw_id = record.get("id")
    if raw_id is None or (isinstance(raw_id, str) and not raw_id.strip()):
        qid = f"q{line}"
    elif isinstance(raw_id, str | int) and not isinstance(raw_id, bool):
        qid = str(raw_id).strip()
    else:
        problems.append(f'{where}: "id" must be text, got {type(raw_id).__name__}')
        qid = ""

    text = record.get("question")
    if not isinstance(text, str) or not text.strip():
        problems.append(f'{where}: "question" is missing or empty')

    answerable = _boolean(record.get("answerable"), where, problems)
    evidence = _evidence(record.get("evidence"), where, from_csv, problems)
    if not answerable and evidence:
        problems.append(f'{where}: "evidence" given but "answerable" is false')
    answers = _texts(record.get("answer"), where, "answer", from_csv, problems)
    mode = record.get("mode") or None
    if mode is not None and mode not in MODES:
        problems.append(f'{where}: "mode" must be one of {", ".join(MODES)}, got {mode!r}')

    as_of = _as_of(record, where, problems)

    if len(problems) > before:
        return None
    assert isinstance(text, str)
    text = safe_text(text).strip()  # lone surrogates (JSON "\\udcff") and control characters
    return Question(qid, text, answerable, tuple(evidence), tuple(answers), mode, as_of, extra)


def _as_of(record: dict[str, Any], where: str, problems: list[str]) -> str | None:
    """``as_of`` (or its synonym ``question_date``, as news-quiz sets name it) as YYYY-MM-DD."""
    value = record.get("as_of") or record.get("question_date")
    if value is None or value == "":
        return None
    from assistant.types import Filters

    try:
        return Filters.parse(as_of=str(value)).as_of
    except InputError:
        problems.append(
            f'{where}: "as_of" must be a date, YYYY-MM-DD or YYYY/MM/DD, got {str(value)[:40]!r}'
        )
        return None


def _boolean(value: Any, where: str, problems: list[str]) -> bool:
    """``answerable`` as a bool: true/false/1/0/yes/no; missing or empty means true."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return True
    if isinstance(value, bool):
        return value
    if isinstance(value, int) and value in (0, 1):
        return bool(value)
    word = str(value).strip().lower()
    if word in _TRUE | _FALSE:
        return word in _TRUE
    problems.append(f'{where}: "answerable" must be true or false, got {value!r}')
    return True


def _texts(value: Any, where: str, name: str, from_csv: bool, problems: list[str]) -> list[str]:
    """A string or list of strings as a list of non-empty strings (CSV: ``|``-separated)."""
    if value is None:
        return []
    if isinstance(value, str):
        parts = value.split("|") if from_csv else [value]
        return [p.strip() for p in parts if p.strip()]
    if isinstance(value, list) and all(isinstance(v, list) for v in value):
        value = [
            v for group in value for v in group
        ]  # variants grouped per answer (RGB): any counts
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return [v.strip() for v in value if v.strip()]
    problems.append(f'{where}: "{name}" must be text or a list of texts')
    return []


def _evidence(value: Any, where: str, from_csv: bool, problems: list[str]) -> list[Gold]:
    """Gold items: objects with ``quote`` and/or ``article``; plain strings are article ids.

    In CSV the ``evidence`` cell holds ``|``-separated quotes, as docs/interfaces.md says.
    """
    if value is None or value == "":
        return []
    if from_csv:
        return [Gold(quote=q) for q in _texts(value, where, "evidence", True, problems)]
    if not isinstance(value, list):
        problems.append(f'{where}: "evidence" must be a list')
        return []
    items: list[Gold] = []
    for i, item in enumerate(value, start=1):
        if isinstance(item, str) and item.strip():
            items.append(Gold(article=item.strip()))
            continue
        if isinstance(item, dict):
            article, quote = item.get("article"), item.get("quote")
            extra = set(item) - {"article", "quote"}
            ok = all(v is None or isinstance(v, str) for v in (article, quote))
            if ok and not extra and ((article or "").strip() or (quote or "").strip()):
                items.append(Gold((article or "").strip() or None, (quote or "").strip() or None))
                continue
        problems.append(
            f'{where}: "evidence" item {i} must be an article id or an object with '
            f'a "quote" and/or an "article" (text)'
        )
    return items
