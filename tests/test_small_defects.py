"""The low items of the second round: each a small defect a user met, each with its test."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from assistant.api import Assistant
from assistant.cli import main
from assistant.errors import InputError
from assistant.ingest.sources import page_text
from tests.conftest import SEED_ID

TEXT = (
    "Harbour fees\n\nThe harbour board doubled the mooring fees on Tuesday after a long debate.\n"
)


def outputs(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    rc = main(list(argv))
    out, err = capsys.readouterr()
    return rc, out, err


@pytest.mark.parametrize("encoding", ["utf-16", "utf-16-le", "utf-16-be"])
def test_utf16_text_files_and_pages_are_read(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], encoding: str
) -> None:
    page = f"<html><body><article><p>{TEXT}</p></article></body></html>".encode(encoding)
    assert "The harbour board doubled" in page_text(page, None)  # no charset declared
    f = tmp_path / "fees.txt"
    f.write_bytes(TEXT.encode(encoding))
    rc, out, err = outputs(capsys, "add", str(f))
    assert rc == 0 and out.strip() == "fees added", out + err
    assert "The harbour board doubled the mooring fees" in Path("corpus/fees.md").read_text()


def test_invisible_characters_are_kept_out_of_titles(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    records = tmp_path / "r.jsonl"
    body = "The harbour board doubled the mooring fees on Tuesday."
    records.write_text(
        json.dumps({"id": "a", "title": "report\u202egnp.exe", "author": "Ann\u200b Lee",
                    "text": body}) + "\n"
    )  # fmt: skip
    assert outputs(capsys, "add", str(records))[0] == 0
    rc, out, _ = outputs(capsys, "list", "--json")
    [row] = [json.loads(line) for line in out.splitlines()]
    assert (row["title"], row["author"]) == ("reportgnp.exe", "Ann Lee")
    Path("corpus/b.md").write_text('---\ntitle: "x\\u202Eyz"\n---\n\nA second body of text here.\n')
    rc, out, _ = outputs(capsys, "show", "b")
    assert rc == 0 and "\u202e" not in out


def test_an_interrupted_remove_can_be_run_again(
    seeded: Assistant, capsys: pytest.CaptureFixture[str]
) -> None:
    Path(f"corpus/{SEED_ID}.md").unlink()  # `remove SEED plain_globe` cut off after the first
    rc, _, err = outputs(capsys, "remove", SEED_ID, "plain_globe")
    assert rc == 0, err
    rc, out, _ = outputs(capsys, "list", "--json")
    assert {json.loads(line)["id"] for line in out.splitlines()}.isdisjoint(
        {SEED_ID, "plain_globe"}
    )
    rc, _, err = outputs(capsys, "remove", SEED_ID)
    assert rc == 1 and f"No article '{SEED_ID}'" in err


def test_web_errors_are_worded_for_the_web(seeded: Assistant) -> None:
    import gradio as gr

    from assistant.web import chat
    from assistant.web.context import ProgressRelay, WebContext

    with pytest.raises(InputError) as e:
        chat.parse_form(None, None, None, None, "abc")
    assert str(e.value).startswith("The number of passages (k) must be a whole number from 1")
    with pytest.raises(InputError, match="got '99'"):
        chat.parse_form(None, None, None, None, "99")
    assert chat.parse_form(None, None, None, None, 7.0)[1] == 7
    ctx = WebContext(seeded, seeded.settings, None, ProgressRelay())
    for k, by, says in (
        (0, None, "The number of passages (k)"),
        (None, "x", "by: expected one of"),
    ):
        with pytest.raises(gr.Error) as err:
            chat.api_ask(ctx, "What has Russia offered in return?", k=k, by=by)
        assert says in str(err.value) and "--" not in str(err.value) and "-k" not in str(err.value)
        assert "invalid literal" not in str(err.value)
