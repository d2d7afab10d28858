"""The descriptor reader, against real files and a real HTTP server on 127.0.0.1 (a mock
transport where the host must be GitHub's): what may be read (roots, symlinks, hosts, URL
files never reaching local files), GitHub blob URLs, where the token goes, and the bounds on
files and skeleton trees."""

import functools
import http.server
import threading
from collections.abc import Iterator
from pathlib import Path
from textwrap import dedent

import httpx
import pytest

from portico.clients.descriptors import DescriptorReader
from portico.domain.backstage.locations import Collected, DescriptorNotFound, collect
from portico.domain.backstage.source import DescriptorError

SECRET = "root:x:0:0:do-not-leak"
TOKEN = "ghp_secret_token_value"


def write(root: Path, files: dict[str, str]) -> None:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(dedent(text))


def entity(kind: str, name: str, spec: str = "{}") -> str:
    head = f"apiVersion: backstage.io/v1alpha1\nkind: {kind}\nmetadata: {{name: {name}}}\n"
    return f"{head}spec: {spec}\n"


def names(collected: Collected) -> list[str]:
    return [d.entity["metadata"]["name"] for d in collected.descriptors]


def run(inputs: list[str], **kwargs: object) -> Collected:
    with DescriptorReader(inputs, **kwargs) as reader:  # type: ignore[arg-type]
        return collect(inputs, reader)


@pytest.fixture
def outside(tmp_path: Path) -> Path:
    """A file outside every root, that no descriptor may read."""
    secret = tmp_path / "outside" / "passwd"
    secret.parent.mkdir()
    secret.write_text(SECRET)
    return secret


# -- local files ---------------------------------------------------------------------------


def test_a_local_catalog_with_globs_nested_locations_and_placeholders(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    write(
        repo,
        {
            "catalog-info.yaml": entity(
                "Location", "root", "{targets: [./services/*/catalog-info.yaml]}"
            ),
            "services/b/catalog-info.yaml": entity("Component", "b"),
            "services/a/catalog-info.yaml": entity(
                "API",
                "a",
                "{definition: {$text: ./api/openapi.yaml}, readme: {$text: ../../README.md}}",
            ),
            "services/a/api/openapi.yaml": "openapi: 3.0.0\n",
            "README.md": "# the repo\n",
        },
    )

    collected = run([str(repo)])

    assert collected.problems == []
    assert names(collected) == ["a", "b"]
    spec = collected.descriptors[0].entity["spec"]
    assert spec == {"definition": "openapi: 3.0.0\n", "readme": "# the repo\n"}
    assert collected.descriptors[0].source == str(repo / "services/a/catalog-info.yaml")


def test_a_location_pointing_back_at_the_input_directory_is_read_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    write(
        tmp_path,
        {
            "catalog-info.yaml": entity("Location", "l", "{target: ./sub/c.yaml}"),
            "sub/c.yaml": entity("Location", "back", "{target: ../catalog-info.yaml}")
            + "---\n"
            + entity("Component", "c"),
        },
    )
    monkeypatch.chdir(tmp_path)  # the input as a user types it: "."

    collected = run(["."])

    assert collected.problems == []
    assert collected.locations == ["catalog-info.yaml", "sub/c.yaml"]
    assert names(collected) == ["c"]


@pytest.mark.parametrize(
    "target",
    ["../outside/passwd", "/etc/passwd", "./link", "./linkdir/passwd", "file:///etc/passwd"],
)
def test_reads_outside_the_input_directory_are_refused(
    tmp_path: Path, outside: Path, target: str
) -> None:
    repo = tmp_path / "repo"
    write(repo, {"c.yaml": entity("Component", "c", f"{{leak: {{$text: '{target}'}}}}")})
    (repo / "link").symlink_to(outside)
    (repo / "linkdir").symlink_to(outside.parent)

    collected = run([str(repo / "c.yaml")])

    (problem,) = collected.problems
    assert (problem.entity, problem.field) == ("component:default/c", "spec.leak")
    assert target.split("///")[-1].lstrip("./") in problem.message
    assert "refused" in problem.message or "only relative paths" in problem.message
    assert SECRET not in str(collected.descriptors)


def test_a_location_glob_through_a_symlink_out_of_the_root_is_refused(
    tmp_path: Path, outside: Path
) -> None:
    repo = tmp_path / "repo"
    (outside.parent / "catalog-info.yaml").write_text(entity("Component", "stolen"))
    write(repo, {"catalog-info.yaml": entity("Location", "l", "{target: ./*/catalog-info.yaml}")})
    (repo / "escape").symlink_to(outside.parent)

    collected = run([str(repo)])

    assert names(collected) == []
    (problem,) = collected.problems
    assert "outside" in problem.message
    assert str(repo.resolve()) in problem.message


def test_a_file_larger_than_the_bound_is_not_read(tmp_path: Path) -> None:
    write(tmp_path, {"c.yaml": entity("Component", "c", "{doc: {$text: ./big.txt}}")})
    (tmp_path / "big.txt").write_text("x" * 2000)

    (problem,) = run([str(tmp_path / "c.yaml")], max_file_bytes=1000).problems

    assert "larger than 1000 bytes" in problem.message


# -- read_tree -------------------------------------------------------------------------------


def test_read_tree_reads_a_skeleton_relative_to_the_template(tmp_path: Path) -> None:
    write(
        tmp_path,
        {
            "templates/t.yaml": "",
            "templates/skeleton/README.md": "# ${{ values.name }}\n",
            "templates/skeleton/src/app/main.py": "print()\n",
            "templates/skeleton/.github/ci.yaml": "on: push\n",
        },
    )
    with DescriptorReader([str(tmp_path)]) as reader:
        tree = reader.read_tree("./skeleton", str(tmp_path / "templates/t.yaml"))

    assert tree == {
        ".github/ci.yaml": b"on: push\n",
        "README.md": b"# ${{ values.name }}\n",
        "src/app/main.py": b"print()\n",
    }


def test_read_tree_is_bounded_and_local(tmp_path: Path, outside: Path) -> None:
    write(tmp_path / "repo", {f"skel/f{i}.txt": "0123456789" for i in range(5)})
    (tmp_path / "repo" / "leaky").mkdir()
    (tmp_path / "repo" / "leaky" / "passwd").symlink_to(outside)
    base = str(tmp_path / "repo" / "t.yaml")

    def read_tree(target: str, base: str = base, **bounds: int) -> dict[str, bytes]:
        with DescriptorReader([base], **bounds) as reader:
            return reader.read_tree(target, base)

    assert len(read_tree("./skel")) == 5
    with pytest.raises(DescriptorError, match="more than 4 files"):
        read_tree("./skel", max_files=4)
    with pytest.raises(DescriptorError, match="more than 40 bytes"):
        read_tree("./skel", max_tree_bytes=40)
    with pytest.raises(DescriptorError, match="refused"):
        read_tree("../outside")
    with pytest.raises(DescriptorError, match="refused"):
        read_tree("./leaky")
    with pytest.raises(DescriptorError, match="a skeleton must be a local directory"):
        read_tree("https://github.com/acme/templates/tree/main/skeleton")
    with pytest.raises(DescriptorError, match="a skeleton must be a local directory"):
        read_tree("./skeleton", base="https://example.com/templates/t.yaml")


# -- URLs, served for real -------------------------------------------------------------------


class QuietServer(http.server.ThreadingHTTPServer):
    def handle_error(self, request: object, client_address: object) -> None:
        """A client that stops reading at the size bound breaks the pipe: expected."""


class Server:
    def __init__(self, root: Path) -> None:
        self.requests: list[str] = []
        requests = self.requests

        class Handler(http.server.SimpleHTTPRequestHandler):
            def log_message(self, format: str, *args: object) -> None:
                requests.append(self.path)

        handler = functools.partial(Handler, directory=str(root))
        self.httpd = QuietServer(("127.0.0.1", 0), handler)
        self.port = self.httpd.server_address[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, args=(0.05,), daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
        self.thread.join()


@pytest.fixture
def served(tmp_path: Path) -> Iterator[Server]:
    root = tmp_path / "www"
    root.mkdir()
    server = Server(root)
    yield server
    server.close()


def test_url_inputs_follow_relative_locations_and_placeholders(
    served: Server, tmp_path: Path, outside: Path
) -> None:
    write(
        tmp_path / "www",
        {
            "repo/catalog-info.yaml": entity(
                "Location", "root", "{targets: [./services/a.yaml, ./services/gone.yaml]}"
            ),
            "repo/services/a.yaml": entity(
                "API",
                "a",
                "{definition: {$text: ../docs/openapi.yaml}, meta: {$json: ./meta.json},"
                f" leak: {{$text: '{outside}'}}, file: {{$text: 'file://{outside}'}}}}",
            ),
            "repo/services/meta.json": '{"tier": 1}',
            "repo/docs/openapi.yaml": "openapi: 3.0.0\n",
        },
    )
    base = f"{served.url}/repo/catalog-info.yaml"

    collected = run([base])

    assert names(collected) == ["a"]
    spec = collected.descriptors[0].entity["spec"]
    assert spec["definition"] == "openapi: 3.0.0\n"
    assert spec["meta"] == {"tier": 1}
    assert collected.descriptors[0].source == f"{served.url}/repo/services/a.yaml"
    # a URL file never reaches local files: an absolute path is a path on the same server
    assert SECRET not in str(collected.descriptors)
    assert [(p.entity, p.field) for p in collected.problems] == [
        ("api:default/a", "spec.leak"),
        ("api:default/a", "spec.file"),
        ("location:default/root", "spec.targets[1]"),
    ]
    assert f"{served.url}{outside}: not found (HTTP 404)" in collected.problems[0].message
    assert "may name only http(s) URLs" in collected.problems[1].message
    assert "/repo/services/gone.yaml: not found (HTTP 404)" in collected.problems[2].message
    assert f"{outside}" in served.requests  # asked of the server, not of the disk


def test_urls_on_other_hosts_need_to_be_allowed(served: Server, tmp_path: Path) -> None:
    write(tmp_path / "www", {"c.yaml": entity("Component", "c")})
    other = f"http://localhost:{served.port}/c.yaml"  # the same server, another host
    write(tmp_path / "repo", {"l.yaml": entity("Location", "l", f"{{target: '{other}'}}")})
    local_input = [str(tmp_path / "repo" / "l.yaml")]

    refused = run(local_input)
    url_input = run([f"{served.url}/c.yaml", *local_input])
    assert served.requests == ["/c.yaml"]  # once, for the URL input: never via localhost
    allowed = run(local_input, allow_hosts=[f"localhost:{served.port}"])

    (problem,) = refused.problems
    assert f"host localhost:{served.port} is not allowed" in problem.message
    assert names(url_input) == ["c"]  # 127.0.0.1 is an input's host, localhost is not
    assert "is not allowed" in url_input.problems[0].message
    assert names(allowed) == ["c"]
    assert allowed.problems == []


def test_a_url_larger_than_the_bound_is_not_read(served: Server, tmp_path: Path) -> None:
    write(tmp_path / "www", {"c.yaml": entity("Component", "c", "{doc: {$text: ./big.txt}}")})
    (tmp_path / "www" / "big.txt").write_text("x" * 200_000)

    (problem,) = run([f"{served.url}/c.yaml"], max_file_bytes=100_000).problems

    assert problem.message == f"$text: {served.url}/big.txt: larger than 100000 bytes"


# -- GitHub (a mock transport: the host must be github.com) --------------------------------


def github(files: dict[str, str], seen: list[httpx.Request]) -> httpx.Client:
    def handle(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        url = str(request.url)
        if url.startswith("https://raw.githubusercontent.com/acme/cat/main/redirect"):
            return httpx.Response(302, headers={"location": "https://evil.example.com/x"})
        if url.startswith("https://raw.githubusercontent.com/acme/cat/main/moved"):
            return httpx.Response(302, headers={"location": "https://git.example.com/moved.yaml"})
        if url in files:
            return httpx.Response(200, text=files[url])
        return httpx.Response(404)

    return httpx.Client(transport=httpx.MockTransport(handle))


def test_github_blob_urls_are_read_raw_and_resolve_relative_targets(tmp_path: Path) -> None:
    raw = "https://raw.githubusercontent.com/acme/cat/main"
    files = {
        f"{raw}/catalog-info.yaml": entity(
            "Location",
            "root",
            "{targets: [./teams/a.yaml, 'https://git.example.com/b.yaml', ./moved.yaml,"
            " ./redirect.yaml]}",
        ),
        f"{raw}/teams/a.yaml": entity("Group", "a", "{readme: {$text: /docs/README.md}}"),
        f"{raw}/docs/README.md": "# acme\n",
        "https://git.example.com/b.yaml": entity("Component", "b"),
        "https://git.example.com/moved.yaml": entity("Component", "moved"),
    }
    seen: list[httpx.Request] = []
    with github(files, seen) as client:
        collected = run(
            ["https://github.com/acme/cat/blob/main/catalog-info.yaml"],
            allow_hosts=["git.example.com"],
            token=TOKEN,
            client=client,
        )

    assert names(collected) == ["a", "b", "moved"]
    assert collected.descriptors[0].source == "https://github.com/acme/cat/blob/main/teams/a.yaml"
    assert collected.descriptors[0].entity["spec"] == {"readme": "# acme\n"}
    (problem,) = collected.problems  # the redirect to a host nobody allowed
    assert "host evil.example.com is not allowed" in problem.message
    assert all(r.url.host != "evil.example.com" for r in seen)
    for request in seen:
        expected = f"token {TOKEN}" if request.url.host.endswith("githubusercontent.com") else None
        assert request.headers.get("authorization") == expected, request.url
    assert TOKEN not in str(collected)


def test_github_urls_must_name_a_file_and_missing_ones_hint_at_the_token() -> None:
    seen: list[httpx.Request] = []
    with (
        github({}, seen) as client,
        DescriptorReader(["https://github.com/acme/cat"], client=client) as reader,
    ):
        with pytest.raises(DescriptorError, match="must name a file"):
            reader.read("https://github.com/acme/cat/tree/main/services")
        with pytest.raises(DescriptorNotFound, match="private repository needs a token"):
            reader.read("https://github.com/acme/cat/blob/main/private.yaml")
    assert [str(r.url) for r in seen] == [
        "https://raw.githubusercontent.com/acme/cat/main/private.yaml"
    ]


def test_the_token_never_travels_over_plain_http() -> None:
    """A target (or a redirect) to http://raw.githubusercontent.com must not carry the
    token in clear text; a redirect from https to http is refused."""
    seen: list[httpx.Request] = []

    def handle(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        if request.url.path.endswith("/downgrade.yaml"):
            return httpx.Response(302, headers={"location": "http://raw.githubusercontent.com/x"})
        return httpx.Response(200, text="a: 1\n")

    client = httpx.Client(transport=httpx.MockTransport(handle))
    raw = "raw.githubusercontent.com/acme/cat/main"
    with DescriptorReader([f"https://{raw}/c.yaml"], token=TOKEN, client=client) as reader:
        reader.read(f"http://{raw}/plain.yaml")
        with pytest.raises(DescriptorError, match="https to plain http"):
            reader.read(f"https://{raw}/downgrade.yaml")
    plain, downgrade = seen
    assert "authorization" not in plain.headers
    assert downgrade.headers["authorization"] == f"token {TOKEN}"  # https: sent
    assert len(seen) == 2  # the http hop was never made


def test_globs_and_reads_are_bounded(tmp_path: Path) -> None:
    (tmp_path / "a").mkdir()
    (tmp_path / "a" / "c.yaml").write_text("x" * 600)
    (tmp_path / "b.yaml").write_text("x" * 600)
    root = str(tmp_path / "catalog-info.yaml")
    with DescriptorReader([root], max_tree_bytes=1000) as reader:
        with pytest.raises(DescriptorError, match="at most one"):
            reader.expand(str(tmp_path / "**" / "**" / "c.yaml"))
        assert reader.expand(str(tmp_path / "**" / "c.yaml")) == [str(tmp_path / "a" / "c.yaml")]
        reader.read(str(tmp_path / "b.yaml"))
        with pytest.raises(DescriptorError, match="more than 1000 bytes"):
            reader.read(str(tmp_path / "a" / "c.yaml"))
