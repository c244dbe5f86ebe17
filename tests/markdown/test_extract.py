"""Tags, properties, mentions and title (spec §10.1-§10.4, checklist 124-130)."""
from __future__ import annotations

import pytest

from memos.markdown.engine import parse
from memos.markdown.extract import Facts, extract


def facts(content: str) -> Facts:
    return extract(parse(content))


@pytest.mark.parametrize(
    ("content", "tags"),
    [
        # the table of §10.1
        ("#tag", ("tag",)),
        ("#work-notes #2024_plans", ("work-notes", "2024_plans")),
        ("#science&tech", ("science&tech",)),
        ("#tag.", ("tag",)),
        ("#tag@x", ("tag",)),
        ("Issue #123", ("123",)),
        ("#测试。 more", ("测试",)),
        ("#work/测试/项目", ("work/测试/项目",)),
        ("#test🚀", ("test🚀",)),
        ("#family👨\u200d👩\u200d👧\u200d👦", ("family👨\u200d👩\u200d👧\u200d👦",)),
        ("## Heading\n\n# Title\n\ntext #realtag", ("realtag",)),
        ("`#code`", ()),
        ("```\n#x\n```", ()),
        ("    #indented code", ()),
        ("\\#escaped", ()),
        ("[a #b](https://e.com#c) #d", ("d",)),
        # the rules around it
        ("foo#bar", ("bar",)),
        ("a #b", ("b",)),
        ("# x", ()),
        ("#", ()),
        ("# ", ()),
        ("##tag", ("tag",)),
        ("#a+b #c++", ("a+b", "c++")),
        ("#a#b", ("a", "b")),
        ("#a/", ("a/",)),
        ("#work/notes/2024", ("work/notes/2024",)),
        ("# Title #t", ("t",)),
        ("#Title", ("Title",)),
        ("#work is important. #Work #WORK", ("work", "Work", "WORK")),
        ("#x #y #x", ("x", "y")),
        ("#a$b #p=q #u^v #l|r #t~ #x<y>", ("a$b", "p=q", "u^v", "l|r", "t~", "x<y>")),
        ("#a, #b; #c: #d! #e? #f\" #g' #h) #i* #j% #k\\", tuple("abcdefghijk")),
        ("(#paren) [#bracket] {#brace}", ("paren", "bracket", "brace")),
        # "_" and "~" are tag characters, "*" is not
        ("**#bold** _#under_ ~~#struck~~", ("bold", "under_", "struck~~")),
        ("#keycap1\ufe0f\u20e3", ("keycap1\ufe0f\u20e3",)),
        ("#e\u0301t\u00e9", ("e\u0301t\u00e9",)),  # combining marks stay, nothing is normalised
        ("#Ünïcödé #ΑΒΓ #слово #كلمة", ("Ünïcödé", "ΑΒΓ", "слово", "كلمة")),
        ("#タグ、次", ("タグ",)),
        ("#tag\tnext", ("tag",)),
        ("line one #a\nline two #b", ("a", "b")),
        ("> quoted #q\n\n- item #i\n  1. nested #n", ("q", "i", "n")),
        ("| h #th |\n|---|\n| #td |", ("th", "td")),
        # inline raw HTML is the tag itself: its attributes are not parsed, the text between is
        ('<a href="#inattr" title="#t">#between </a>', ("between",)),
        ("#x</a>", ("x</a>",)),  # "<", "/" and ">" are tag characters
        ("<div>\n#inblock\n</div>", ()),
        ("https://github.com/x/y#frag\n\nProject #memo-tag", ("memo-tag",)),
        ("[release #notes](https://example.com/releases#release-notes) Outside #memo-tag", ("memo-tag",)),
        ("see https://x.com/p#frag", ()),
        ("(https://x.com/p#frag)", ()),
        ("*https://x.com/p#frag*", ()),
        ("www.x.com/#frag", ()),
        ("<https://x.com/#frag>", ()),
        ("example.com/#frag", ("frag",)),
        ("x:https://a.com/#f", ("f",)),  # not at a boundary: no autolink, so a tag
        ("![alt #img](https://e.com/i.png) #real", ("real",)),
        ("[ref #x][r]\n\n[r]: https://e.com#y", ()),
        ("text[^1] #t\n\n[^1]: note #foot", ("t", "foot")),
        ("$x$ #after", ("after",)),
    ],
)
def test_tags(content: str, tags: tuple[str, ...]) -> None:
    assert facts(content).tags == tags


def test_tag_length_is_capped_and_the_rest_stays_text() -> None:
    assert facts("#" + "a" * 100).tags == ("a" * 100,)
    assert facts("#" + "a" * 150 + " #b").tags == ("a" * 100, "b")
    assert facts("#" + "語" * 101).tags == ("語" * 100,)


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        ("[text](https://example.com)", {"has_link": True}),
        ("[ref][r]\n\n[r]: https://example.com", {"has_link": True}),
        ("[r]\n\n[r]: https://example.com", {"has_link": True}),
        ("Check out https://example.com", {}),
        ("www.example.com", {}),
        ("<https://example.com>", {}),
        ("mail me@example.com", {}),
        ("![image](https://example.com/a.png)", {}),
        ("[broken](", {}),
        ("Use `console.log()`", {"has_code": True}),
        ("```\ncode\n```", {"has_code": True}),
        ("~~~python\ncode\n~~~", {"has_code": True}),
        ("    indented code", {"has_code": True}),
        ("[`code` in link](https://e.com)", {"has_link": True, "has_code": True}),
        ("- [x] Done\n- [ ] Not done", {"has_task_list": True, "has_incomplete_tasks": True}),
        ("- [x] Done", {"has_task_list": True}),
        ("- [X] Done\n  - [ ] nested", {"has_task_list": True, "has_incomplete_tasks": True}),
        ("1. [ ] numbered", {"has_task_list": True, "has_incomplete_tasks": True}),
        ("> - [ ] quoted", {"has_task_list": True, "has_incomplete_tasks": True}),
        ("[ ] not in a list", {}),
        ("- [y] not a box", {}),
        ("- plain item", {}),
        ("```\n- [ ] in code\n```", {"has_code": True}),
    ],
)
def test_properties(content: str, expected: dict[str, bool]) -> None:
    found = facts(content)
    names = ("has_link", "has_code", "has_task_list", "has_incomplete_tasks")
    assert {name: getattr(found, name) for name in names} == {name: expected.get(name, False) for name in names}


@pytest.mark.parametrize(
    ("content", "title"),
    [
        ("# Title with **bold** and *italic*\n\nBody.", "Title with bold and italic"),
        ("Some text\n\n# Heading Later", ""),
        ("## Sub\n\n# Later", ""),
        ("#Title", ""),
        ("# Plan #work", "Plan "),
        ("# Hi @alice there", "Hi  there"),
        ("# Use `code` and [link text](https://e.com)", "Use code and link text"),
        ("# See https://e.com now", "See  now"),
        ("# ~~gone~~ kept", "gone kept"),
        ("Setext title\n===\n\nbody", "Setext title"),
        ("Setext two\n---", ""),
        ("# 标题 🚀", "标题 🚀"),
        ("# a &amp; b \\*", "a & b *"),
        ("#   spaced   ", "spaced"),
        ("", ""),
        ("<div>x</div>\n\n# Late", ""),
        ("> # quoted", ""),
        ("- # in a list", ""),
    ],
)
def test_title(content: str, title: str) -> None:
    assert facts(content).title == title


@pytest.mark.parametrize(
    ("content", "mentions"),
    [
        ("Hi @alice", ("alice",)),
        ("@Alice and @ALICE and @bob", ("alice", "bob")),
        ("support@example.com", ()),
        ("x@y", ()),
        ("(@paren) \"@quoted\" #t@no", ("paren", "quoted")),
        ("@a-b @-- @-x", ("a-b", "-x")),
        ("@alice_bob", ("alice",)),
        ("@José @用户", ("josé", "用户")),
        ("@" + "a" * 63, ("a" * 63,)),
        ("@" + "a" * 64, ()),
        ("`@code`\n```\n@fence\n```", ()),
        ("[hi @linked](https://e.com)", ()),
        ("line\n@start", ("start",)),
        ('<img alt="@inattr"> <b>@between</b>', ("between",)),
        ("<div>\n@inblock\n</div>", ()),
    ],
)
def test_mentions(content: str, mentions: tuple[str, ...]) -> None:
    assert facts(content).mentions == mentions
