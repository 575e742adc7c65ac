"""The documentation in docs/*.md runs: every ```python block is executed.

Each page's blocks run in order in one namespace (a later block may use what an earlier
one defined), in a temporary working folder, after ``shendu.manual_seed(0)``:

* a block with ``>>>`` prompts is a doctest: its printed output must match what the page
  shows (``...`` matches anything, whitespace is normalized);
* any other block is executed as a script; an exception fails the test, with a traceback
  that points at the line of the Markdown file.

Markers on the line before a fence (an HTML comment, invisible on GitHub):

* ``<!-- skip -->``: never run (slow training only; keep these few);
* ``<!-- needs-data -->``: run only when the data folder (``$SHENDU_DATA``, else
  ``../shared/data`` next to the repository) holds the datasets; otherwise skipped;
* ``<!-- needs-gymnasium -->``: run only when Gymnasium (the ``rl`` extra) is installed;
* ``<!-- needs-onnx -->``: run only when onnx and onnxruntime (the ``onnx`` extra) are;
* ``<!-- needs-tensorboardx -->``: run only when tensorboardX (the ``tensorboard`` extra) is;
* ``<!-- needs-torch -->``: run only when PyTorch is installed (it is only needed for
  the conformance tests, and for blocks that show moving weights to and from it).

Further checks keep the pages honest as the code grows: relative links and their
``#anchors`` resolve, and the pages that promise complete lists (every op, optimizer,
scheduler, layer, callback) name everything the package exports.
"""
from __future__ import annotations

import doctest
import importlib.util
import os
import re
import unicodedata
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"
PAGES = sorted(DOCS.glob("*.md")) + [ROOT / "README.md"]  # README's code runs too

FENCE = re.compile(r"^(\s*)```(\S*)\s*$")
MARKER = re.compile(r"<!--\s*(skip|needs-data|needs-torch|needs-gymnasium|needs-onnx|needs-tensorboardx)\s*-->")


# --------------------------------------------------------------------------- parsing
class Block:
    def __init__(self, page, line, source, marker):
        self.page, self.line, self.source, self.marker = page, line, source, marker

    @property
    def is_doctest(self):
        return any(s.lstrip().startswith(">>>") for s in self.source.splitlines())

    def __repr__(self):
        return f"{self.page.name}:{self.line}"


def python_blocks(page):
    """The ```python blocks of ``page``: (first line number of the code, code, marker)."""
    lines = page.read_text(encoding="utf-8").splitlines()
    blocks, i = [], 0
    while i < len(lines):
        m = FENCE.match(lines[i])
        if not m:
            i += 1
            continue
        indent, lang = m.group(1), m.group(2).lower()
        j = i + 1
        while j < len(lines) and not re.match(rf"^{re.escape(indent)}```\s*$", lines[j]):
            j += 1
        if j == len(lines):
            raise AssertionError(f"{page.name}:{i + 1}: code fence is never closed")
        if lang in ("python", "py"):
            prev = next((lines[k] for k in range(i - 1, -1, -1) if lines[k].strip()), "")
            marker = MARKER.search(prev)
            body = [s[len(indent):] if s.startswith(indent) else s for s in lines[i + 1:j]]
            blocks.append(Block(page, i + 2, "\n".join(body) + "\n",
                                marker.group(1) if marker else None))
        i = j + 1
    return blocks


def data_folder():
    """The folder holding the real datasets, or None."""
    env = os.environ.get("SHENDU_DATA")
    folder = Path(env) if env else ROOT.parent / "shared" / "data"
    needed = ["mnist/t10k-labels-idx1-ubyte.gz", "wine-quality/winequality-red.csv",
              "names/English.txt", "tinyshakespeare/input.txt"]
    return folder if all((folder / f).is_file() for f in needed) else None


# --------------------------------------------------------------------------- running
def run_block(block, namespace):
    if block.is_doctest:
        parser = doctest.DocTestParser()
        test = parser.get_doctest(block.source, namespace, str(block), str(block.page),
                                  block.line - 1)
        flags = doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE
        runner = doctest.DocTestRunner(optionflags=flags)
        out = []
        runner.run(test, out=out.append, clear_globs=False)
        namespace.update(test.globs)  # DocTest works on a copy of the namespace
        if runner.failures:
            pytest.fail(f"doctest in {block} failed:\n" + "".join(out), pytrace=False)
    else:
        # pad with blank lines so that tracebacks give the line in the Markdown file
        code = compile("\n" * (block.line - 1) + block.source, str(block.page), "exec")
        exec(code, namespace)


@pytest.mark.parametrize("page", PAGES, ids=[p.name for p in PAGES])
def test_page_code_runs(page, tmp_path, monkeypatch):
    import shendu
    blocks = python_blocks(page)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("MPLBACKEND", "Agg")
    data = data_folder()
    if data is not None:
        monkeypatch.setenv("SHENDU_DATA", str(data))
    shendu.manual_seed(0)
    namespace = {"__name__": f"docs_{page.stem.replace('-', '_')}"}
    has_torch = importlib.util.find_spec("torch") is not None
    has_gymnasium = importlib.util.find_spec("gymnasium") is not None
    has_onnx = all(importlib.util.find_spec(m) is not None for m in ("onnx", "onnxruntime"))
    has_tbx = importlib.util.find_spec("tensorboardX") is not None
    skipped = []
    for block in blocks:
        if block.marker == "skip" or (block.marker == "needs-data" and data is None) \
                or (block.marker == "needs-torch" and not has_torch) \
                or (block.marker == "needs-gymnasium" and not has_gymnasium) \
                or (block.marker == "needs-onnx" and not has_onnx) \
                or (block.marker == "needs-tensorboardx" and not has_tbx):
            skipped.append(block)
            continue
        run_block(block, namespace)
    if blocks and len(skipped) == len(blocks):
        pytest.skip(f"every block of {page.name} is marked skip or needs the data folder")


# --------------------------------------------------------------------------- checks
def test_docs_exist():
    names = {p.name for p in PAGES}
    expected = {"index.md", "tensors-and-autograd.md", "nn.md", "optim.md", "data.md",
                "keras.md", "saving.md", "porting.md", "examples.md"}
    assert expected <= names, f"missing pages: {sorted(expected - names)}"


def test_parser_reads_markers_and_doctests(tmp_path):
    page = tmp_path / "p.md"
    page.write_text("text\n<!-- skip -->\n```python\nimport time\n```\n\n"
                    "```python\n>>> 1 + 1\n2\n```\n<!-- needs-data -->\n\n```py\nx = 1\n```\n"
                    "```bash\nls\n```\n<!-- needs-torch -->\n```python\nimport torch\n```\n"
                    "<!-- needs-gymnasium -->\n```python\nimport gymnasium\n```\n",
                    encoding="utf-8")
    blocks = python_blocks(page)
    assert [(b.line, b.marker, b.is_doctest) for b in blocks] == [
        (4, "skip", False), (8, None, True), (14, "needs-data", False),
        (21, "needs-torch", False), (25, "needs-gymnasium", False)]


def test_failing_block_points_at_the_markdown_line(tmp_path):
    page = tmp_path / "p.md"
    page.write_text("# t\n\n```python\nx = 1\nraise ValueError('boom')\n```\n", encoding="utf-8")
    block, = python_blocks(page)
    with pytest.raises(ValueError) as info:
        run_block(block, {})
    assert info.traceback[-1].lineno + 1 == 5  # pytest counts lines from 0


def test_failing_doctest_fails(tmp_path):
    page = tmp_path / "p.md"
    page.write_text("```python\n>>> 1 + 1\n3\n```\n", encoding="utf-8")
    block, = python_blocks(page)
    with pytest.raises(pytest.fail.Exception, match="Expected:"):
        run_block(block, {})


def test_few_blocks_are_skipped():
    """``<!-- skip -->`` is for slow training only: at most a handful in all the docs."""
    skipped = [b for p in PAGES for b in python_blocks(p) if b.marker == "skip"]
    assert len(skipped) <= 6, f"too many skipped blocks: {skipped}"


def _slug(heading):
    """GitHub's anchor for a heading: lower case, punctuation dropped, spaces to '-'."""
    text = re.sub(r"`|\*\*|\*", "", heading.strip().lower())
    text = "".join(c for c in text if c in " -_" or unicodedata.category(c)[0] in "LN")
    return text.replace(" ", "-")


def _anchors(page):
    anchors, seen = set(), {}
    in_code = False
    for line in page.read_text(encoding="utf-8").splitlines():
        if FENCE.match(line):
            in_code = not in_code
        if in_code:
            continue
        m = re.match(r"^#{1,6}\s+(.*?)\s*#*\s*$", line)
        if m:
            slug = _slug(m.group(1))
            n = seen.get(slug, 0)
            seen[slug] = n + 1
            anchors.add(slug if n == 0 else f"{slug}-{n}")
    return anchors


def test_links_resolve():
    bad = []
    for page in PAGES:
        text = re.sub(r"```.*?```", "", page.read_text(encoding="utf-8"), flags=re.S)
        for target in re.findall(r"\]\(([^)\s]+)\)", text):
            if re.match(r"^[a-z]+://", target) or target.startswith("mailto:"):
                continue
            path, _, anchor = target.partition("#")
            dest = (page.parent / path).resolve() if path else page
            if not dest.exists():
                bad.append(f"{page.name}: {target} (no such file)")
            elif anchor and dest.suffix == ".md" and anchor not in _anchors(dest):
                bad.append(f"{page.name}: {target} (no heading with that anchor)")
    assert not bad, "broken links:\n" + "\n".join(bad)


def _mentioned(page, names):
    text = (DOCS / page).read_text(encoding="utf-8")
    words = set(re.findall(r"[A-Za-z_][A-Za-z0-9_]*", text))
    return sorted(n for n in names if n not in words)


def test_op_list_is_complete():
    """tensors-and-autograd.md lists every op: shendu.<name> and nn.functional.<name>."""
    import shendu.nn.functional as F
    import shendu.ops as ops
    missing = _mentioned("tensors-and-autograd.md", set(ops.__all__) | set(F.__all__))
    assert not missing, ("docs/tensors-and-autograd.md does not mention these ops; add them "
                         f"to the list of their family: {missing}")


def test_optim_lists_are_complete():
    from shendu import optim
    names = set(optim.__all__) | set(optim.lr_scheduler.__all__)
    missing = _mentioned("optim.md", names)
    assert not missing, f"docs/optim.md does not mention: {missing}"


def test_nn_layer_list_is_complete():
    import shendu.nn as nn
    layers = {n for n in dir(nn) if isinstance(getattr(nn, n), type)
              and issubclass(getattr(nn, n), nn.Module)} | set(nn.init.__all__)
    missing = _mentioned("nn.md", layers)
    assert not missing, f"docs/nn.md does not mention these layers / init functions: {missing}"


def test_keras_lists_are_complete():
    from shendu.keras import callbacks, layers
    names = set(layers.__all__) | set(callbacks.__all__)
    missing = _mentioned("keras.md", names)
    assert not missing, f"docs/keras.md does not mention: {missing}"


def test_data_lists_are_complete():
    import shendu.data as data
    import shendu.datasets as datasets
    names = {n for n in data.__all__ if n not in ("datasets", "transforms")}
    names |= {n for n in datasets.__all__ if not n.isupper()}
    missing = _mentioned("data.md", names)
    assert not missing, f"docs/data.md does not mention: {missing}"


def test_examples_page_lists_every_example():
    examples = sorted(p.name for p in (ROOT / "examples").glob("*.py"))
    text = (DOCS / "examples.md").read_text(encoding="utf-8")
    missing = [e for e in examples if e not in text]
    assert not missing, f"docs/examples.md does not describe: {missing}"
