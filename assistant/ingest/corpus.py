"""The corpus: one human-readable Markdown file per article, the source of truth.

A file looks like this (front matter, then the body; paragraphs separated by blank lines)::

    ---
    id: 000_7112adcedfa7c1bb
    title: 'Commentary: Could Trump really walk away ...'
    author: Stefan Wolff
    outlet: CNA
    published: null
    url: null
    added: '2026-11-25T18:30:00+00:00'
    content_hash: 9f2c...
    source: 000_7112adcedfa7c1bb.txt
    ---

    A shaky ceasefire with vague commitments ...

    ## THE ONLY PLAYER WITH A REMOTE CHANCE

Users may edit a file by hand; ``assistant index`` picks the edit up. Writes are atomic
(temp file + rename), so a crash never leaves half an article.
"""

from __future__ import annotations

import hashlib
import os
import re
import tempfile
import unicodedata
from dataclasses import asdict, replace
from pathlib import Path

import yaml

from assistant.errors import InputError, NotFoundError
from assistant.ingest import yamlfile
from assistant.ingest.schema import FIELD_LIMITS, ArticleMeta
from assistant.text import iso_date, normalise, paragraph_spans
from assistant.types import Article, Block

ID_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,119}$")
FRONT_MATTER = re.compile(r"\A---\s*\n(.*?)\n---\s*(?:\n|\Z)", re.DOTALL)


def content_hash(body: str) -> str:
    """The hash that identifies an article's text, whatever its whitespace or file name."""
    return hashlib.sha256(normalise(body).encode()).hexdigest()


def check_id(article_id: str) -> str:
    """The id itself, or InputError when it could not be a safe file name."""
    if not ID_PATTERN.match(article_id) or ".." in article_id:
        raise InputError(
            f"Invalid article id {article_id!r}: use letters, digits, '.', '_' and '-' "
            "(at most 120, starting with a letter or digit)."
        )
    return article_id


def slug(text: str, max_len: int = 40) -> str:
    """A lower-case ASCII slug of ``text`` ("Could Trump walk away?" -> "could-trump-walk-away")."""
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    s = re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-")
    return s[:max_len].rstrip("-") or "article"


def blocks(body: str) -> list[Block]:
    """The body's paragraphs and ``#`` headings with character offsets; paragraphs numbered from 1."""
    out: list[Block] = []
    number = 0
    for at, stop in paragraph_spans(body):
        raw = body[at:stop]
        text = raw.strip()
        if not text:
            continue
        start = at + (len(raw) - len(raw.lstrip()))
        end = start + len(text)
        heading = re.match(r"#{1,6}\s+(.*)", text)
        if heading and "\n" not in text:
            out.append(Block("heading", heading.group(1).strip(), start, end, None))
        else:
            number += 1
            out.append(Block("paragraph", text, start, end, number))
    return out


def render(article: Article) -> str:
    """The file text for an article."""
    meta = {k: v for k, v in asdict(article).items() if k != "body"}
    head = yaml.safe_dump(meta, sort_keys=False, allow_unicode=True, width=1000)
    return f"---\n{head}---\n\n{article.body.strip()}\n"


def front_matter(text: str) -> tuple[object, str] | None:
    """(the YAML value of the ``---`` block opening ``text``, the text after the block), or None
    when there is no such block; yaml.YAMLError when it is not valid YAML. The value may be
    anything YAML holds (None for an empty block): each caller decides what a non-mapping means."""
    m = FRONT_MATTER.match(text)
    return (yamlfile.load(m.group(1)), text[m.end() :]) if m else None


def parse(text: str, fallback_id: str) -> Article:
    """An Article from file text; the id falls back to the file name when the front matter has none."""
    try:
        found = front_matter(text)
    except yaml.YAMLError as e:
        raise InputError(
            f"{fallback_id}.md: the front matter is not valid YAML ({yaml_problem(e, first_line=2)}). "
            f"Fix that line, or run: assistant remove {fallback_id}"
        ) from None
    meta: object = {}
    body = text
    if found is not None:
        meta, body = found
        meta = meta or {}
        if not isinstance(meta, dict):
            raise InputError(
                f"{fallback_id}.md: the front matter must be fields (title: ...), one a line."
            )
    fix = f"Fix it, or run: assistant remove {fallback_id}"
    fields = ArticleMeta.check(meta, f"{fallback_id}.md", fix, yaml=True).model_dump()
    fields["id"] = fields["id"] or fallback_id
    article = Article(body=body.strip(), **fields)
    return check_fields(article, f"{fallback_id}.md", f"or run: assistant remove {fallback_id}")


def check_fields(article: Article, where: str, fix: str = "") -> Article:
    """``article`` when its metadata fits what is stored (limits, a real ``published`` date);
    InputError naming ``where``, the field and ``fix`` otherwise."""
    alt = f", {fix}" if fix else ""
    for name, limit in FIELD_LIMITS.items():
        value = getattr(article, name)
        if value is not None and len(value) > limit:
            raise InputError(
                f"{where}: the {name} is too long ({len(value):,} characters; "
                f"the limit is {limit:,}). Shorten it{alt}."
            )
    if article.published is not None:
        try:
            iso_date(article.published)
        except InputError:
            raise InputError(
                f"{where}: published {article.published[:40]!r} is not a real date. "
                f"Write YYYY-MM-DD (e.g. 2025-04-24){alt}."
            ) from None
    return article


def yaml_problem(e: Exception, first_line: int = 1) -> str:
    """A YAML error in one line: what is wrong and on which line (PyYAML's take several);
    ``first_line``: the line of the file the YAML text starts on."""
    mark = getattr(e, "problem_mark", None)
    what = getattr(e, "problem", None) or str(e).splitlines()[0]
    return f"{what} on line {mark.line + first_line}" if mark is not None else what


class Corpus:
    """The directory of article files."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root)

    def path_for(self, article_id: str) -> Path:
        return self.root / f"{check_id(article_id)}.md"

    def check_root(self) -> None:
        """InputError when the corpus directory is something else (a file, say)."""
        if self.root.exists() and not self.root.is_dir():
            raise InputError(
                f"The corpus {self.root} is a file, not a directory. "
                "Point --corpus (or ASSISTANT_CORPUS) at the directory of article files."
            )

    def scan(self) -> dict[str, os.stat_result]:
        """Every article file, by id (its file name), with its stat (cheap: no file is read).

        Entries that cannot be articles (a directory named ``x.md``, a file name that is not
        an id) are listed too, so that reading them reports the problem instead of skipping it.
        """
        self.check_root()
        if not self.root.is_dir():
            return {}
        out = {}
        for entry in os.scandir(self.root):
            if entry.name.endswith(".md") and not entry.name.startswith("."):
                out[entry.name[:-3]] = entry.stat()
        return out

    def stat(self, article_id: str) -> os.stat_result | None:
        """The stat of one entry ``scan`` would list (None when there is none)."""
        try:
            return os.stat(self._entry(article_id))
        except (OSError, ValueError, InputError):
            return None

    def exists(self, article_id: str) -> bool:
        return self.path_for(article_id).is_file()

    def present(self, article_id: str) -> bool:
        """True when the corpus has an entry of that name, readable or not."""
        return os.path.lexists(self._entry(article_id))

    def _entry(self, article_id: str) -> Path:
        """The path of an entry ``scan`` lists, even when its name is not a valid id."""
        if "/" not in article_id and "\0" not in article_id and article_id not in ("", ".", ".."):
            path = self.root / f"{article_id}.md"
            if os.path.lexists(path):
                return path
        return self.path_for(article_id)

    def read_text(self, article_id: str) -> str:
        """The file's text; NotFoundError or InputError naming the file and the fix."""
        path = self._entry(article_id)
        name = path.name
        try:
            if not path.is_file() and path.exists():
                raise InputError(
                    f"{name} is not a file (a directory or a special file). "
                    f"Move it out of the corpus or rename it, or run: assistant remove {article_id}"
                )
            check_id(article_id)
            return path.read_text(encoding="utf-8")
        except FileNotFoundError:
            raise NotFoundError(
                f"No article {article_id!r} in {self.root}/. See: assistant list"
            ) from None
        except UnicodeDecodeError as e:
            raise InputError(
                f"{name} is not valid UTF-8 (byte {e.object[e.start]:#04x} at offset {e.start}). "
                f"Save it as UTF-8, or run: assistant remove {article_id}"
            ) from None
        except InputError as e:
            if "Invalid article id" in str(e):
                raise InputError(
                    f"{name}: the file name is not a valid article id (use letters, digits, "
                    f"'.', '_' and '-'). Rename it, or run: assistant remove {article_id!r}"
                ) from None
            raise
        except OSError as e:
            raise InputError(f"{name} cannot be read ({e.strerror}).") from None

    def read(self, article_id: str) -> Article:
        return self.read_noting(article_id)[0]

    def read_noting(self, article_id: str) -> tuple[Article, str | None]:
        """The article, and a note when its front matter names another id than its file's."""
        article = parse(self.read_text(article_id), article_id)
        note = None
        if article.id != article_id:
            note = (
                f"{article_id}.md: its front matter says id: {article.id}, but an article's id is "
                f"its file name, so it is {article_id!r}. To call it {article.id!r}, rename the "
                f"file to {article.id}.md; else remove the id line."
            )
        # the file name is the id: a hand-edited id in the front matter must not fork the article
        return replace(article, id=article_id), note

    def write(self, article: Article) -> Path:
        """Write the article atomically (temp file in the same directory, then rename)."""
        self.check_root()
        self.root.mkdir(parents=True, exist_ok=True)
        path = self.path_for(article.id)
        fd, tmp = tempfile.mkstemp(dir=self.root, prefix=f".{article.id}.", suffix=".tmp")
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as f:
                f.write(render(article))
                f.flush()
                os.fsync(f.fileno())
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        return path

    def remove(self, article_id: str) -> None:
        """Delete the article's file, whatever state it is in (an empty directory too)."""
        path = self._entry(article_id)
        try:
            if path.is_dir() and not path.is_symlink():
                try:
                    path.rmdir()
                except OSError:
                    raise InputError(
                        f"{path.name} in {self.root}/ is a directory with files in it, not an "
                        "article; move it out of the corpus by hand."
                    ) from None
            else:
                path.unlink()
        except FileNotFoundError:
            raise NotFoundError(
                f"No article {article_id!r} in {self.root}/. See: assistant list"
            ) from None

    def clean_temp_files(self) -> None:
        """Remove temp files left by a crash mid-write."""
        if self.root.is_dir():
            for p in self.root.glob(".*.tmp"):
                p.unlink(missing_ok=True)
