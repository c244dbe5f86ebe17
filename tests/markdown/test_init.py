"""The package's API: derive once per write, fill the stored payload, and load nothing until used."""
from __future__ import annotations

import subprocess
import sys

from memos.gen.store import memo_pb2
from memos.markdown import Derived, derive, fill_payload, mentions, snippet
from memos.store import codec

HEAVY = ("markdown_it", "mdit_py_plugins", "pygments", "latex2mathml")


def test_importing_the_package_loads_no_engine() -> None:
    script = f"import sys, memos.markdown; print(sorted(m for m in {HEAVY!r} if m in sys.modules))"
    loaded = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True).stdout
    assert loaded.strip() == "[]"


def test_colouring_and_math_load_only_for_memos_that_need_them() -> None:
    script = (
        "import sys\n"
        "from memos.markdown import derive\n"
        f"def loaded(): return sorted(m for m in {HEAVY!r} if m in sys.modules)\n"
        "derive('# plain #tag @mention [link](https://e.com)')\n"
        "print(loaded())\n"
        "derive('```python\\nx = 1\\n```')\n"
        "print(loaded())\n"
        "derive('$x^2$')\n"
        "print(loaded())\n"
    )
    output = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True).stdout
    assert output.split("\n")[:3] == [
        "['markdown_it', 'mdit_py_plugins']",
        "['markdown_it', 'mdit_py_plugins', 'pygments']",
        "['latex2mathml', 'markdown_it', 'mdit_py_plugins', 'pygments']",
    ]


def test_derive_gives_everything_at_once() -> None:
    content = "# Plan #work\n\nCall @Bob about [the doc](https://e.com).\n\n- [ ] draft `x`\n"
    assert derive(content) == Derived(
        tags=("work",),
        has_link=True,
        has_task_list=True,
        has_code=True,
        has_incomplete_tasks=True,
        title="Plan ",
        mentions=("bob",),
        # §10.6: starting the list clears the space the paragraph's end asked for
        snippet="Plan #work Call  about the doc.draft x",
        html=derive(content).html,
    )
    assert '<span class="tag" data-tag="work">#work</span>' in derive(content).html


def test_plain_text_is_stored_with_an_empty_property() -> None:
    payload = memo_pb2.MemoPayload()
    fill_payload(payload, derive("plain text"))
    assert codec.to_json(payload) == '{"property":{}}'


def test_tags_are_stored_raw_after_the_property() -> None:
    payload = memo_pb2.MemoPayload()
    fill_payload(payload, derive("Hello #work #测试"))
    assert codec.to_json(payload) == '{"property":{},"tags":["work","测试"]}'


def test_refilling_replaces_tags_and_property_and_keeps_location() -> None:
    payload = memo_pb2.MemoPayload()
    payload.location.placeholder = "Home"
    fill_payload(payload, derive("# T\n\n- [x] done #old [l](https://e.com)"))
    assert codec.to_json(payload) == (
        '{"property":{"hasLink":true,"hasTaskList":true,"title":"T"},"location":{"placeholder":"Home"},"tags":["old"]}'
    )
    fill_payload(payload, derive("#a #b"))
    assert codec.to_json(payload) == '{"property":{},"location":{"placeholder":"Home"},"tags":["a","b"]}'


def test_snippet_on_its_own() -> None:
    content = "Hellooo, any words after this sentence won't be in the snippet. This is the next sentence."
    assert snippet(content) == derive(content).snippet == content[:63] + " ..."
    assert snippet("This is a very long piece of text that should be truncated at a word boundary.", 30) == (
        "This is a very long piece of ..."
    )


def test_mentions_on_their_own() -> None:
    assert mentions("@Alice @bob mail@x.com @alice") == ("alice", "bob")


def test_empty_content() -> None:
    assert derive("") == Derived((), False, False, False, False, "", (), "", "")
