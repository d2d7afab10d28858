"""grafana/dashboard-selector, the pure part: the Backstage Grafana plugin's query language
(bare word = tag; `@>` `==` `!=` `!` `&&` `||`, parentheses, quoted strings; jsep's
precedence; JavaScript's `===`, truthiness and operand-returning `&&`/`||`), what Portico
refuses with a position, the bounds on tenant input (length, tokens, depth) and hostile
texts, and the dashboards a search answer gives (absolute URLs, sorted, bounded links)."""

import time

import pytest

from portico.domain.dashboard_selector import (
    MAX_DEPTH,
    MAX_LENGTH,
    MAX_TOKENS,
    Dashboard,
    SelectorError,
    absolute_url,
    compile_selector,
    dashboards_from_hits,
    parse_selector,
    selector_annotation,
    selector_problem,
)
from portico.domain.links import MAX_LINKS, select_dashboards


def board(
    *tags: str,
    title: str = "Checkout",
    uid: str = "u1",
    folder: str | None = "Team A",
) -> Dashboard:
    return Dashboard(
        uid=uid,
        title=title,
        url=f"https://grafana.example/d/{uid}/x",
        tags=tags,
        folder_uid="team-a" if folder else None,
        folder_title=folder,
        folder_url="https://grafana.example/dashboards/f/team-a/x" if folder else None,
    )


def matches(text: str, dashboard: Dashboard) -> bool:
    return parse_selector(text).matches(dashboard)


# The plugin's own scenarios (src/query/QueryEvaluator.test.ts), as data: a query and which
# tag sets it selects.
PLUGIN_SCENARIOS = [
    (
        "(tags @> 'my-service' || tags @> 'my-service-slo') && tags @> 'generated'",
        [
            (("my-service", "generated"), True),
            (("my-service-slo", "generated"), True),
            (("my-service-slo", "not-generated"), False),
        ],
    ),
    (
        'tags @> "foo"',
        [(("foo", "bar", "baz"), True), (("bar", "foo", "baz"), True), (("bar", "baz"), False)],
    ),
    (
        'tags @> "bar" || tags @> "baz"',
        [(("foo", "bar", "baz"), True), (("bar", "baz"), True), (("joe", "la", "frite"), False)],
    ),
    ('tags @> "bar" && tags @> "baz"', [(("foo", "bar", "baz"), True), (("foo", "baz"), False)]),
    (
        '(tags @> "bar" && tags @> "baz") || tags @> "joe"',
        [(("foo", "bar", "baz"), True), (("joe", "baz"), True), (("foo", "baz"), False)],
    ),
    (
        '!(tags @> "bar" && tags @> "baz")',
        [(("foo", "bar", "baz"), False), (("joe", "baz"), True), (("foo", "baz"), True)],
    ),
]


@pytest.mark.parametrize(("text", "cases"), PLUGIN_SCENARIOS)
def test_the_plugin_s_scenarios(text: str, cases: list[tuple[tuple[str, ...], bool]]) -> None:
    for tags, expected in cases:
        assert matches(text, board(*tags)) is expected, (text, tags)


@pytest.mark.parametrize(
    ("text", "tags", "expected"),
    [
        ("my-service", ("my-service",), True),  # a bare word is a tag (the plugin's docs)
        ("my-service", ("my-service-slo",), False),
        ("  my_service\n", ("my_service",), True),  # surrounding whitespace is not the word
        ("true", ("true",), True),  # a word first, as in the plugin: the tag "true"
        ("true", (), False),
        ("42", ("42",), True),
    ],
)
def test_a_bare_word_is_a_tag(text: str, tags: tuple[str, ...], expected: bool) -> None:
    assert matches(text, board(*tags)) is expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # || is looser than &&: a || (b && c)
        ("tags @> 'a' || tags @> 'x' && tags @> 'y'", True),
        ("(tags @> 'a' || tags @> 'x') && tags @> 'y'", False),
        # @> == != share a level, left to right: (tags @> 'a') == true
        ("tags @> 'a' == true", True),
        ("tags @> 'x' == false", True),
        ("tags @> 'a' != true", False),
        # ! takes only what follows it
        ("!(tags @> 'x') && tags @> 'a'", True),
        ("!!(tags @> 'a')", True),
        # JavaScript's && and || give an operand; only exactly true selects
        ("title", False),
        ("title && tags @> 'a'", True),
        ("title || tags @> 'x'", False),
        ("folderTitle && title == 'Checkout'", True),
        ("(true)", True),
        ("(false) || (null)", False),
        ("!title", False),
        ("!folderUid", False),
    ],
)
def test_precedence_and_javascript_semantics(text: str, expected: bool) -> None:
    assert matches(text, board("a")) is expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("title == 'Checkout'", True),
        ('title == "Checkout"', True),
        ("title != 'checkout'", True),  # strict, case-sensitive
        ("url == 'https://grafana.example/d/u1/x'", True),  # absolute, as in the plugin
        ("folderTitle == 'Team A'", True),
        ("folderUrl == 'https://grafana.example/dashboards/f/team-a/x'", True),
        ("uid == 'u1' && folderUid == 'team-a'", True),
        ("tags == 'a'", False),  # a list never equals a string
        ("tags == tags", True),  # ... but equals itself (===)
        ("(tags) @> 'a'", True),
        ("tags @> title", False),
        ("title == null", False),
        ("'it\\'s' == \"it's\"", True),
        ("'a\\tb' == 'a\tb'", True),
    ],
)
def test_variables_and_literals(text: str, expected: bool) -> None:
    assert matches(text, board("a")) is expected


def test_a_dashboard_at_the_root_has_null_folder_fields() -> None:
    root = board("a", folder=None)
    assert matches("folderTitle == null && folderUrl == null && folderUid == null", root)
    assert not matches("folderTitle == 'General'", root)
    assert matches("folderTitle != 'Team A'", root)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("tags @> 'a", "unclosed quote ' at character 9"),
        ("!tags @> 'a'", "the left side of @> must be tags (the only list) at character 7"),
        ("title @> 'a'", "the left side of @> must be tags"),
        ("'a' @> tags", "the left side of @> must be tags"),
        ("unknown @> 'a'", "unknown variable 'unknown' (known: title, tags, url, folderTitle"),
        ("tags @> 'a' and tags @> 'b'", "unexpected 'and'; join conditions with && or || at "),
        ("tags === 'a'", "=== is not supported; use == at character 6"),
        ("tags !== 'a'", "!== is not supported; use !="),
        ("tags @> 'a' == 42", "numbers are not supported"),
        ("title < 'b'", "unexpected '<'"),
        ("title + 'b'", "unexpected '+'"),
        ("tags.length", "unexpected '.'"),
        ("tags[0]", "unexpected '['"),
        ("title ? 'a' : 'b'", "unexpected '?'"),
        ("a, b", "unexpected ','"),
        ("title == 'a'; title", "unexpected ';'"),
        ("title & title", "unexpected '&'"),
        ("tags @> 'a' ||", "expected a variable, a string or ( but found the end at character 15"),
        ("(tags @> 'a'", "expected ) but found the end"),
        ("tags @> 'a')", "unexpected ')'"),
        ("()", "expected a variable, a string or ( but found ')'"),
        ("'a' 'b'", "unexpected a string"),
        ("title('x')", "unexpected '('"),
        ("tïtle == 'a'", "unexpected 'ï'"),
        ("this == 'a'", "unknown variable 'this'"),
    ],
)
def test_what_is_refused_and_where(text: str, message: str) -> None:
    with pytest.raises(SelectorError) as refused:
        parse_selector(text)
    assert message in str(refused.value)


def test_bounds_on_tenant_input() -> None:
    with pytest.raises(SelectorError, match=f"longer than {MAX_LENGTH} characters"):
        parse_selector("tags @> '" + "a" * MAX_LENGTH + "'")
    long_string = "tags @> '" + "a" * (MAX_LENGTH - 10) + "'"
    assert parse_selector(long_string).matches(board("a" * (MAX_LENGTH - 10)))

    many = " || ".join(["tags @> 'a'"] * 43)  # 43 * 3 + 42 = 171 tokens
    with pytest.raises(SelectorError, match=f"more than {MAX_TOKENS} tokens"):
        parse_selector(many)
    assert parse_selector(" || ".join(["tags @> 'a'"] * 32)).matches(board("a"))  # 127 tokens

    deep_ok = "(" * MAX_DEPTH + "tags @> 'a'" + ")" * MAX_DEPTH
    assert parse_selector(deep_ok).matches(board("a"))
    with pytest.raises(SelectorError, match=f"nested more than {MAX_DEPTH} deep"):
        parse_selector("(" * (MAX_DEPTH + 1) + "tags @> 'a'" + ")" * (MAX_DEPTH + 1))
    with pytest.raises(SelectorError, match="nested more than"):
        parse_selector("!" * (MAX_DEPTH + 1) + "(tags @> 'a')")


@pytest.mark.parametrize(
    "text",
    [
        "(" * 100_000,
        "!" * 1000,
        "(" * 120 + ")" * 120,
        "'" + "\\" * 1020,
        "tags @> '" + "\\'" * 500,
        "\x00" * 10,
        "\u202e tags",
        "&&" * 500,
        "a" * 10_000 + " b",
    ],
)
def test_hostile_input_is_a_selector_error_never_a_crash(text: str) -> None:
    with pytest.raises(SelectorError):
        parse_selector(text)
    assert isinstance(compile_selector(text), SelectorError)


def test_the_worst_selector_over_the_largest_search_stays_cheap() -> None:
    worst = parse_selector("||".join(["title=='nope'"] * 32))  # 127 tokens, no short cut
    dashboards = [board(title=f"d{i}", uid=f"u{i}") for i in range(5000)]
    started = time.perf_counter()
    assert not any(worst.matches(d) for d in dashboards)
    assert time.perf_counter() - started < 2.0  # ~0.05s here; the bound is what matters


def test_compile_selector_remembers_and_guards_the_cache() -> None:
    first = compile_selector("tags @> 'a'")
    assert first is compile_selector("tags @> 'a'")
    bad = compile_selector("tags @>")
    assert isinstance(bad, SelectorError)
    huge = "x" * (MAX_LENGTH + 1)
    assert isinstance(compile_selector(huge), SelectorError)


def test_the_annotation_its_deprecated_name_and_the_problem_message() -> None:
    assert selector_annotation({}) is None
    assert selector_annotation({"grafana/dashboard-selector": "  "}) is None
    assert selector_annotation({"grafana/tag-selector": "svc"}) == ("grafana/tag-selector", "svc")
    both = {"grafana/dashboard-selector": "a", "grafana/tag-selector": "b"}
    assert selector_annotation(both) == ("grafana/dashboard-selector", "a")

    assert selector_problem({"grafana/dashboard-selector": "tags @> 'a'"}) is None
    assert selector_problem({}) is None
    problem = selector_problem({"grafana/dashboard-selector": "tags @> 'a' and x"})
    assert problem == (
        "annotation grafana/dashboard-selector: unexpected 'and'; join conditions with && or "
        "|| at character 13; no dashboards are selected"
    )


@pytest.mark.parametrize(
    ("base", "path", "url"),
    [
        ("https://grafana.example", "/d/abc/slug", "https://grafana.example/d/abc/slug"),
        ("https://grafana.example/", "/d/abc/slug", "https://grafana.example/d/abc/slug"),
        # Grafana on a sub path puts it in front of its paths: not doubled
        ("https://x.example/grafana", "/grafana/d/a/s", "https://x.example/grafana/d/a/s"),
        ("https://x.example/grafana", "/d/a/s", "https://x.example/grafana/d/a/s"),
        ("https://x.example/grafana", "/grafanax/d", "https://x.example/grafana/grafanax/d"),
        ("https://grafana.example", "d/abc", None),
        ("https://grafana.example", "//evil.example/d", None),
        ("https://grafana.example", "https://evil.example/d", None),
        ("https://grafana.example", "/d/a b", None),
        ("https://grafana.example", None, None),
        ("https://grafana.example", "/" + "a" * 3000, None),
    ],
)
def test_absolute_url(base: str, path: str | None, url: str | None) -> None:
    assert absolute_url(base, path) == url


def test_dashboards_from_a_search_answer() -> None:
    hits = [
        {"uid": "b", "title": "Beta", "url": "/d/b/beta", "type": "dash-db", "tags": ["x", 3]},
        {
            "uid": "a",
            "title": "Alpha",
            "url": "/d/a/alpha",
            "type": "dash-db",
            "tags": [],
            "folderUid": "f",
            "folderTitle": "Team",
            "folderUrl": "/dashboards/f/f/team",
        },
        {"uid": "f", "title": "Team", "url": "/dashboards/f/f/team", "type": "dash-folder"},
        {"uid": "", "title": "No uid", "url": "/d/x"},
        {"uid": "n", "title": "No url"},
        "not a hit",
        {"uid": "b", "title": "Beta", "url": "/d/b/beta", "type": "dash-db", "tags": ["x"]},
    ]
    found = dashboards_from_hits(hits, "https://g.example")
    assert [d.uid for d in found] == ["a", "b"]  # by title, one per uid
    alpha, beta = found
    assert alpha == Dashboard(
        uid="a",
        title="Alpha",
        url="https://g.example/d/a/alpha",
        tags=(),
        folder_uid="f",
        folder_title="Team",
        folder_url="https://g.example/dashboards/f/f/team",
    )
    assert beta.tags == ("x",)
    assert beta.folder_title is None


def test_selected_links_are_sorted_bounded_and_fit_the_crd() -> None:
    dashboards = dashboards_from_hits(
        [
            {"uid": f"u{i:02}", "title": f"Svc {i:02}", "url": f"/d/u{i:02}", "tags": ["svc"]}
            for i in reversed(range(15))
        ]
        + [{"uid": "long", "title": "Z" * 400, "url": "/d/long", "tags": ["long"]}],
        "https://g.example",
    )
    links = select_dashboards(parse_selector("svc"), dashboards)
    assert len(links) == MAX_LINKS
    assert [link["title"] for link in links] == [f"Svc {i:02}" for i in range(MAX_LINKS)]
    assert links[0] == {"type": "dashboard", "title": "Svc 00", "url": "https://g.example/d/u00"}
    [long] = select_dashboards(parse_selector("long"), dashboards)
    assert long["title"] == "Z" * 256
    assert select_dashboards(parse_selector("nothing"), dashboards) == ()
