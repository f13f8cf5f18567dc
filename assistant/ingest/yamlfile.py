"""Reading YAML that people wrote: front matter, ``feeds.yaml``, question sets.

PyYAML's safe loader is not safe enough for files anyone can edit or paste:

- it expands aliases, so half a kilobyte of nested ``&a [*b, *b, ...]`` becomes gigabytes
  (an "alias bomb") before any field is looked at;
- it raises ``ValueError``, not ``YAMLError``, for an impossible timestamp (``2024-02-30``),
  which escaped every ``except yaml.YAMLError`` and took the whole library down.

``load`` refuses anchors and aliases outright (none of our files needs them), keeps dates as
the text written (callers check them: ``text.iso_date``), and turns every failure into a
``yaml.YAMLError`` with a line number, so one bad file is that file's named problem.

>>> load("title: A\\npublished: 2024-02-30\\n")
{'title': 'A', 'published': '2024-02-30'}
"""

from __future__ import annotations

from typing import Any

import yaml
from yaml.composer import ComposerError

__all__ = ["YAMLError", "compose", "load"]

YAMLError = yaml.YAMLError


class _Loader(yaml.SafeLoader):
    """The safe loader without anchors, aliases or timestamp objects."""

    def compose_node(self, parent: Any, index: Any) -> Any:
        event = self.peek_event()
        if isinstance(event, yaml.AliasEvent) or getattr(event, "anchor", None):
            what = "aliases (*name)" if isinstance(event, yaml.AliasEvent) else "anchors (&name)"
            raise ComposerError(None, None, f"{what} are not allowed", event.start_mark)
        return super().compose_node(parent, index)


def _timestamp_as_text(loader: _Loader, node: yaml.ScalarNode) -> str:
    return str(loader.construct_scalar(node))


_Loader.add_constructor("tag:yaml.org,2002:timestamp", _timestamp_as_text)


def load(text: str) -> Any:
    """The value of the YAML ``text``; YAMLError (with the line) for anything wrong in it."""
    loader = _Loader(text)
    try:
        return loader.get_single_data()
    except yaml.YAMLError:
        raise
    except (ValueError, TypeError, RecursionError, OverflowError) as e:
        raise yaml.YAMLError(f"{type(e).__name__}: {e}") from None
    finally:
        loader.dispose()


def compose(text: str) -> Any:
    """The node tree of ``text`` (for line numbers), with ``load``'s refusals."""
    loader = _Loader(text)
    try:
        return loader.get_single_node()
    except yaml.YAMLError:
        raise
    except (ValueError, TypeError, RecursionError) as e:
        raise yaml.YAMLError(f"{type(e).__name__}: {e}") from None
    finally:
        loader.dispose()
