"""The git publisher defends itself against the URL a tenant's Template renders: option
injection (`--upload-pack=...`, `-u...`), git's `<transport>::` syntax, scp-like and local
paths, file:// outside of what the admin allowed and `..` tricks are refused before git runs;
git itself runs with `--` before every URL, in a minimal environment, with hooks, fsmonitor,
credential helpers and redirects switched off, so a hostile gitconfig, environment or
remote repository changes nothing. And it still publishes: one commit with the trailer,
adopted on retry, a foreign branch is a conflict."""

import os
import stat
import subprocess
from pathlib import Path
from typing import Any

import pytest

from portico.clients import git
from portico.clients.git import check_url, publish, publish_git
from portico.clients.publishing import RepoRequest, trailer
from portico.errors import Conflict, ExternalError, RejectedError, TransientError

UID = "6f1c2a8e-0d7b-4e52-9a43-1f0c5b7d9e21"
REQ = RepoRequest(owner="", name="svc", uid=UID, message="Scaffold svc")
FILES = {"README.md": "# svc\n", "src/svc/app.py": "print('hello')\n"}
PWNED = "portico-pwned"
HOOKS = (
    "pre-commit",
    "prepare-commit-msg",
    "commit-msg",
    "post-commit",
    "pre-push",
    "post-checkout",
    "reference-transaction",
    "pre-auto-gc",
    "pre-receive",
    "update",
    "post-receive",
    "post-update",
    "push-to-checkout",
)
_REAL_RUN = subprocess.run

Call = tuple[list[str], dict[str, str]]


def plain_git(*args: str, cwd: Path | None = None) -> str:
    """The test's own git: a clean configuration, never the code under test's."""
    env = {
        "PATH": os.environ.get("PATH") or os.defpath,
        "HOME": os.devnull,
        "LANG": "C",
        "GIT_CONFIG_NOSYSTEM": "1",
        "GIT_CONFIG_GLOBAL": os.devnull,
    }
    settings = ("protocol.file.allow=always", "init.defaultBranch=main", "user.name=T")
    config = [a for s in (*settings, "user.email=t@example.com") for a in ("-c", s)]
    return _REAL_RUN(
        ["git", *config, *args], cwd=cwd, env=env, capture_output=True, text=True, check=True
    ).stdout


def executable(path: Path, body: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(f"#!/bin/sh\n{body}\n")
    path.chmod(path.stat().st_mode | stat.S_IXUSR)
    return path


def touching_hooks(hooks: Path, markers: Path) -> None:
    for name in HOOKS:
        executable(hooks / name, f"touch '{markers}/{name}'")


def head(url: str, branch: str = "main") -> str:
    out = plain_git("ls-remote", "--", url, f"refs/heads/{branch}")
    return out.split("\t")[0]


@pytest.fixture
def cwd(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty working directory: where an injected `touch portico-pwned` would land."""
    here = tmp_path / "cwd"
    here.mkdir()
    monkeypatch.chdir(here)
    return here


@pytest.fixture
def calls(monkeypatch: pytest.MonkeyPatch) -> list[Call]:
    """Every process the client starts (argv and environment); they still run."""
    seen: list[Call] = []

    def spy(argv: list[str], *args: Any, **kwargs: Any) -> Any:
        seen.append((list(argv), dict(kwargs.get("env") or os.environ)))
        return _REAL_RUN(argv, *args, **kwargs)

    monkeypatch.setattr(subprocess, "run", spy)
    return seen


# check_url ------------------------------------------------------------------------------

ACCEPTED = [
    ("https://github.com/acme/svc.git", False, "https://github.com/acme/svc.git"),
    ("HTTPS://GitHub.COM/acme/svc.git", False, "https://github.com/acme/svc.git"),
    (
        "https://git.example.com:8443/team/sub/svc",
        False,
        "https://git.example.com:8443/team/sub/svc",
    ),
    ("https://10.0.0.5/acme/svc.git", True, "https://10.0.0.5/acme/svc.git"),
    ("https://git.example.com/~me/svc+x_y.git", False, "https://git.example.com/~me/svc+x_y.git"),
    ("file:///srv/git/svc.git", True, "file:///srv/git/svc.git"),
]


@pytest.mark.parametrize(("url", "allow_file", "normal"), ACCEPTED)
def test_check_url_accepts_plain_https_and_allowed_file_urls(
    url: str, allow_file: bool, normal: str
) -> None:
    assert check_url(url, allow_file=allow_file) == normal


# (url, a fragment of the message that tells the person what is wrong)
REFUSED = [
    ("--upload-pack=touch portico-pwned;", "starts with '-'"),
    ("-utouch portico-pwned;", "starts with '-'"),
    ("-u", "starts with '-'"),
    ("--config=core.sshCommand=touch portico-pwned", "starts with '-'"),
    ("  --upload-pack=touch portico-pwned;", "starts with '-'"),
    ("\t-utouch portico-pwned", "starts with '-'"),
    ("\n--upload-pack=touch portico-pwned;", "starts with '-'"),
    ("ext::sh -c touch% portico-pwned", "whitespace"),
    ("ext::sh", "'<transport>::<address>'"),
    ("fd::17", "'<transport>::<address>'"),
    ("https::ext::sh", "'<transport>::<address>'"),
    ("file:///tmp/x/../y.git", "'..' path segment"),
    ("file:///tmp/x/./y.git", "'.' path segment"),
    ("file:///tmp//y.git", "empty path segment"),
    ("file:///tmp/y.git/", "empty path segment"),
    ("file:///tmp/%2e%2e/y.git", "escapes"),
    ("file:///", "no repository path"),
    ("file://host/tmp/y.git", "names a host"),
    ("file://localhost/tmp/y.git", "names a host"),
    ("file:/tmp/y.git", "not '://'"),
    ("http://example.com/acme/svc.git", "http:// transport"),
    ("ssh://git@example.com/acme/svc.git", "ssh:// transport"),
    ("git://example.com/acme/svc.git", "git:// transport"),
    ("git+ssh://example.com/acme/svc.git", "git+ssh:// transport"),
    ("git@example.com:acme/svc.git", "scp-like"),
    ("example.com:acme/svc.git", "scp-like"),
    ("relative/path.git", "local path"),
    ("/absolute/path.git", "local path"),
    ("./svc.git", "local path"),
    ("../svc.git", "local path"),
    ("", "is empty"),
    ("https://user:secret@example.com/acme/svc.git", "credentials"),
    ("https://ghp_token@example.com/acme/svc.git", "credentials"),
    ("https://-oProxyCommand=x/acme/svc.git", "invalid host"),
    ("https://-evil.example.com/acme/svc.git", "invalid host name"),
    ("https:///acme/svc.git", "invalid host or port"),
    ("https://example.com", "no repository path"),
    ("https://example.com/", "no repository path"),
    ("https://example.com/acme/../other/svc.git", "'..' path segment"),
    ("https://example.com/acme//svc.git", "empty path segment"),
    ("https://example.com/acme/svc.git?x=1", "characters other than"),
    ("https://example.com/acme/svc.git#main", "characters other than"),
    ("https://example.com/acme:svc.git", "characters other than"),
    ("https://[::1]/acme/svc.git", "IPv6"),
    ("https://[fe80:1]/acme/svc.git", "IPv6"),
    ("https://u@[::1]/acme/svc.git", "IPv6"),
    ("https://example.com:99999/acme/svc.git", "invalid port"),
    ("https://example.com:/acme/svc.git", "invalid host or port"),
    ("https://ex_ample.com/acme/svc.git", "invalid host or port"),
    ("https://example.com./acme/svc.git", "invalid host name"),
    ("https://exa mple.com/acme/svc.git", "whitespace"),
    ("https://example.com/acme/svc.git\n", "whitespace"),
    ("https://example.com/acme/svc.git\x00", "control characters"),
    ("https://example.com/acme/svc\x7f.git", "control characters"),
    ("https://bücher.example/acme/svc.git", "non-ASCII"),
    ("https://example.com/acme\\svc.git", "escapes"),
    ("https://example.com/" + "a" * 2100, "longer than"),
]


@pytest.mark.parametrize("allow_file", [False, True])
@pytest.mark.parametrize(("url", "why"), REFUSED)
def test_check_url_refuses_everything_else_and_says_why(
    url: str, why: str, allow_file: bool
) -> None:
    with pytest.raises(RejectedError) as refused:
        check_url(url, allow_file=allow_file)
    message = str(refused.value)
    assert message.startswith("git: refusing git URL")
    if url.startswith("file://") and not allow_file:
        assert why in message or "file URLs are not allowed" in message
    else:
        assert why in message
    assert "https://host[:port]/path" in message


def test_file_urls_need_allow_file() -> None:
    with pytest.raises(RejectedError, match="file URLs are not allowed"):
        check_url("file:///srv/git/svc.git", allow_file=False)


# nothing runs for a refused URL ------------------------------------------------------------


def test_the_upload_pack_attack_is_real_with_plain_git(cwd: Path) -> None:
    """The guard below is not vacuous: on this machine, `git ls-remote <url>` with the URL
    unseparated runs the tenant's command."""
    env = {"PATH": os.environ.get("PATH") or os.defpath, "HOME": str(cwd)}
    _REAL_RUN(
        ["git", "ls-remote", "--upload-pack=touch portico-pwned;", "refs/heads/main"],
        cwd=cwd,
        env=env,
        capture_output=True,
        check=False,
    )
    assert (cwd / PWNED).exists()


ATTACKS = [
    "--upload-pack=touch portico-pwned;",
    "-utouch portico-pwned;",
    " --upload-pack=touch portico-pwned;",
    "\t-utouch portico-pwned;",
    "ext::sh -c touch% portico-pwned",
    "ext::sh",
    "fd::0",
    "{tmp}/svc.git",
    "file://{tmp}/x/../y.git",
    "file://{tmp}/./y.git",
    "file://{tmp}//y.git",
    "file://localhost{tmp}/y.git",
    "ssh://-oProxyCommand=touch%20portico-pwned/x",
    "-oProxyCommand=touch portico-pwned:x",
]


@pytest.mark.parametrize("allow_file", [False, True])
@pytest.mark.parametrize("attack", ATTACKS)
def test_publish_refuses_attacks_before_running_anything(
    attack: str, allow_file: bool, cwd: Path, tmp_path: Path, calls: list[Call]
) -> None:
    url = attack.format(tmp=tmp_path / "made")
    with pytest.raises(RejectedError, match="refusing git URL"):
        publish_git(url, REQ, FILES, allow_file=allow_file)
    assert calls == []
    assert not (cwd / PWNED).exists()
    assert list(cwd.iterdir()) == []
    assert not (tmp_path / "made").exists()
    assert not (tmp_path / "y.git").exists()


def test_file_urls_are_refused_without_allow_file_and_create_nothing(
    cwd: Path, tmp_path: Path, calls: list[Call]
) -> None:
    url = f"file://{tmp_path}/made/here.git"
    with pytest.raises(RejectedError, match="file URLs are not allowed"):
        publish_git(url, REQ, FILES)
    with pytest.raises(RejectedError, match="file URLs are not allowed"):
        publish_git(url, REQ, FILES, allow_file=False)
    assert calls == []
    assert not (tmp_path / "made").exists()


async def test_the_async_publish_defaults_to_refusing_file_urls(tmp_path: Path) -> None:
    url = f"file://{tmp_path}/made/here.git"
    with pytest.raises(RejectedError, match="file URLs are not allowed"):
        await publish(url, REQ, FILES)
    assert not (tmp_path / "made").exists()
    published = await publish(url, REQ, FILES, allow_file=True)
    assert published.created
    assert head(url) == published.commit


@pytest.mark.parametrize("branch", ["--force", "-f", "main..x", "a//b", ".hidden", "x.lock"])
def test_a_strange_branch_is_refused(branch: str, tmp_path: Path, calls: list[Call]) -> None:
    req = RepoRequest(owner="", name="svc", uid=UID, branch=branch)
    with pytest.raises(RejectedError, match="branch name"):
        publish_git(f"file://{tmp_path}/r.git", req, FILES, allow_file=True)
    assert calls == []
    assert not (tmp_path / "r.git").exists()


@pytest.mark.parametrize(
    "path", [".git/config", "a/.GIT/config", "../outside", "/etc/x", "a//b", "./a", ""]
)
def test_a_file_path_into_git_or_outside_the_repository_is_refused(
    path: str, tmp_path: Path, calls: list[Call]
) -> None:
    script = executable(tmp_path / "fsmonitor.sh", f"touch '{tmp_path}/{PWNED}'; exit 1")
    files = {**FILES, path: f"[core]\n\tfsmonitor = {script}\n\thooksPath = {tmp_path}\n"}
    with pytest.raises(RejectedError, match="scaffold file's path"):
        publish_git(f"file://{tmp_path}/r.git", REQ, files, allow_file=True)
    assert calls == []
    assert not (tmp_path / PWNED).exists()


# it still publishes ----------------------------------------------------------------------


def test_publishes_one_commit_adopts_it_on_retry_and_leaves_foreign_branches(
    tmp_path: Path, cwd: Path
) -> None:
    url = f"file://{tmp_path}/remotes/team/svc.git"
    first = publish_git(url, REQ, FILES, allow_file=True)
    assert (first.url, first.default_branch, first.created) == (url, "main", True)
    assert (tmp_path / "remotes" / "team" / "svc.git" / "HEAD").is_file()

    checkout = tmp_path / "checkout"
    plain_git("clone", "-q", "--", url, str(checkout))
    assert (checkout / "README.md").read_text() == "# svc\n"
    assert (checkout / "src" / "svc" / "app.py").read_text() == "print('hello')\n"
    log = plain_git("log", "--format=%H%n%an <%ae>%n%aI%n%B", cwd=checkout)
    author = "Portico <portico@localhost>\n2000-01-01T00:00:00+00:00"
    assert log.startswith(f"{first.commit}\n{author}\n")
    assert f"Scaffold svc\n\n{trailer(UID)}" in log
    assert plain_git("rev-list", "--count", "HEAD", cwd=checkout).strip() == "1"

    again = publish_git(url, REQ, FILES, allow_file=True)
    assert (again.commit, again.created) == (first.commit, False)
    assert head(url) == first.commit

    other = RepoRequest(owner="", name="svc", uid="another-component")
    with pytest.raises(Conflict, match="did not push for this Component") as conflict:
        publish_git(url, other, FILES, allow_file=True)
    assert conflict.value.status == 409
    assert head(url) == first.commit

    foreign = tmp_path / "foreign.git"
    plain_git("init", "-q", "--bare", "--", str(foreign))
    work = tmp_path / "foreign-work"
    plain_git("init", "-q", "--", str(work))
    (work / "README.md").write_text("someone else's\n")
    plain_git("add", "-A", cwd=work)
    plain_git("commit", "-q", "-m", "theirs", cwd=work)
    plain_git("push", "-q", "--", f"file://{foreign}", "HEAD:refs/heads/main", cwd=work)
    before = head(f"file://{foreign}")
    with pytest.raises(Conflict):
        publish_git(f"file://{foreign}", REQ, FILES, allow_file=True)
    assert head(f"file://{foreign}") == before
    assert list(cwd.iterdir()) == []


# git's environment and options -------------------------------------------------------------

ENV_KEYS = {
    "PATH",
    "HOME",
    "LANG",
    "GIT_CONFIG_NOSYSTEM",
    "GIT_CONFIG_SYSTEM",
    "GIT_CONFIG_GLOBAL",
    "GIT_ATTR_NOSYSTEM",
    "GIT_TERMINAL_PROMPT",
    "GIT_ALLOW_PROTOCOL",
    "GIT_PROTOCOL_FROM_USER",
}
HARDENING = [
    "protocol.allow=never",
    "protocol.https.allow=always",
    "core.hooksPath=/dev/null",
    "core.fsmonitor=false",
    "http.followRedirects=false",
    "credential.helper=",
    "transfer.fsckObjects=true",
    "init.defaultBranch=main",
    "user.name=Portico",
    "user.email=portico@localhost",
]


def split(argv: list[str]) -> tuple[list[str], list[str]]:
    """git's argv as (-c settings, the subcommand and its arguments)."""
    assert argv[0] == "git"
    settings, i = [], 1
    while argv[i] == "-c":
        settings.append(argv[i + 1])
        i += 2
    return settings, argv[i:]


def after_separator(args: list[str], value: str) -> bool:
    """`value` is an argument after `--`, and not before it."""
    if "--" not in args:
        return False
    at = args.index("--")
    return value in args[at + 1 :] and value not in args[:at]


def test_git_runs_in_a_minimal_environment_with_hardening_options_and_separated_urls(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, calls: list[Call]
) -> None:
    monkeypatch.setenv("GITHUB_TOKEN", "ghp_must_not_leak")
    monkeypatch.setenv("GIT_ASKPASS", "/bin/false")
    monkeypatch.setenv("SSH_ASKPASS", "/bin/false")
    url = f"file://{tmp_path}/remote.git"
    publish_git(url, REQ, FILES, allow_file=True)
    publish_git(url, REQ, FILES, allow_file=True)  # the adopt path: ls-remote, fetch, log

    commands = [split(argv)[1][0] for argv, _ in calls]
    assert {"init", "ls-remote", "fetch", "log", "add", "commit", "push"} <= set(commands)
    for argv, env in calls:
        settings, args = split(argv)
        dates = {"GIT_AUTHOR_DATE", "GIT_COMMITTER_DATE"} if args[0] == "commit" else set()
        assert set(env) == ENV_KEYS | dates, args
        assert env["GIT_CONFIG_GLOBAL"] == os.devnull
        assert env["GIT_CONFIG_NOSYSTEM"] == "1"
        assert env["GIT_TERMINAL_PROMPT"] == "0"
        assert env["GIT_PROTOCOL_FROM_USER"] == "0"
        assert env["GIT_ALLOW_PROTOCOL"] == "https:file"
        assert env["LANG"] == "C"
        assert env["HOME"] not in (os.environ.get("HOME"), str(Path.home()))
        assert not Path(env["HOME"]).exists()  # a throwaway, gone afterwards
        assert all(s in settings for s in HARDENING), settings
        assert "protocol.file.allow=always" in settings
        assert "ghp_must_not_leak" not in " ".join(argv)
        if args[0] in ("ls-remote", "fetch", "push"):
            assert after_separator(args, url), args
        if args[0] == "init":
            assert "--template=" in args
            assert args[-2] == "--", args
        if args[0] == "push":
            assert "--no-verify" in args
            assert f"--receive-pack={git._LOCAL_RECEIVE_PACK}" in args


def _fake_run(seen: list[Call], *, fail: BaseException | None = None) -> Any:
    def run(argv: list[str], *args: Any, **kwargs: Any) -> Any:
        seen.append((list(argv), dict(kwargs["env"])))
        if fail is not None:
            raise fail
        out = "0123456789abcdef0123456789abcdef01234567\n" if "rev-parse" in argv else ""
        return subprocess.CompletedProcess(argv, 0, stdout=out, stderr="")

    return run


def test_https_gets_https_only_and_no_local_receive_pack(monkeypatch: pytest.MonkeyPatch) -> None:
    seen: list[Call] = []
    monkeypatch.setattr(subprocess, "run", _fake_run(seen))
    url = "https://git.example.com/acme/svc.git"
    published = publish_git(url, REQ, FILES)
    assert published.url == url
    assert published.created
    assert seen
    for argv, env in seen:
        settings, args = split(argv)
        assert env["GIT_ALLOW_PROTOCOL"] == "https"
        assert "protocol.file.allow=always" not in settings
        assert not any(a.startswith(("--receive-pack", "--upload-pack")) for a in args)
        if args[0] in ("ls-remote", "push"):
            assert after_separator(args, url), args
    assert [split(a)[1][0] for a, _ in seen][:1] == ["ls-remote"]  # no `init --bare` for https


def test_failures_map_to_errors_with_short_clean_messages(monkeypatch: pytest.MonkeyPatch) -> None:
    url = "https://git.example.com/acme/svc.git"
    stderr = "fatal: \x1b[31mrepository\r\nnot found " + "x" * 2000
    failed = subprocess.CalledProcessError(128, ["git"], output="", stderr=stderr)
    monkeypatch.setattr(subprocess, "run", _fake_run([], fail=failed))
    with pytest.raises(ExternalError) as error:
        publish_git(url, REQ, FILES)
    assert not isinstance(error.value, (TransientError, RejectedError))
    message = str(error.value)
    assert message.startswith("git: git ls-remote failed: fatal: ?[31mrepository not found x")
    assert len(message) < 400
    assert all(c.isprintable() for c in message)

    monkeypatch.setattr(subprocess, "run", _fake_run([], fail=subprocess.TimeoutExpired("git", 1)))
    with pytest.raises(TransientError, match="git ls-remote timed out"):
        publish_git(url, REQ, FILES)


def test_a_hostile_gitconfig_and_environment_have_no_effect(
    tmp_path: Path, cwd: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    markers = tmp_path / "markers"
    markers.mkdir()
    hooks = tmp_path / "evil-hooks"
    touching_hooks(hooks, markers)
    templates = tmp_path / "evil-templates"
    touching_hooks(templates / "hooks", markers)
    fsmonitor = executable(tmp_path / "fsmonitor.sh", f"touch '{markers}/fsmonitor'; exit 1")
    helper = executable(tmp_path / "helper.sh", f"touch '{markers}/credential-helper'")
    askpass = executable(tmp_path / "askpass.sh", f"touch '{markers}/askpass'")
    attacker = tmp_path / "attacker.git"
    plain_git("init", "-q", "--bare", "--", str(attacker))
    real = tmp_path / "real" / "svc.git"
    home = tmp_path / "evil-home"
    gitconfig = home / ".gitconfig"
    gitconfig.parent.mkdir()
    gitconfig.write_text(
        f"[core]\n\thooksPath = {hooks}\n\tfsmonitor = {fsmonitor}\n"
        f"[init]\n\ttemplateDir = {templates}\n"
        f'[url "file://{attacker}"]\n\tinsteadOf = file://{real}\n'
        f"[credential]\n\thelper = !{helper}\n"
        f"[alias]\n\tls-remote = !touch {markers}/alias\n"
        '[protocol "ext"]\n\tallow = always\n'
    )
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(home / ".config"))
    monkeypatch.setenv("GIT_CONFIG_GLOBAL", str(gitconfig))
    monkeypatch.setenv("GIT_CONFIG_SYSTEM", str(gitconfig))
    monkeypatch.setenv("GIT_TEMPLATE_DIR", str(templates))
    monkeypatch.setenv("GIT_CONFIG_COUNT", "1")
    monkeypatch.setenv("GIT_CONFIG_KEY_0", "core.hooksPath")
    monkeypatch.setenv("GIT_CONFIG_VALUE_0", str(hooks))
    monkeypatch.setenv("GIT_ASKPASS", str(askpass))
    monkeypatch.setenv("GIT_ALLOW_PROTOCOL", "ext:file:https")

    published = publish_git(f"file://{real}", REQ, FILES, allow_file=True)
    again = publish_git(f"file://{real}", REQ, FILES, allow_file=True)

    assert sorted(p.name for p in markers.iterdir()) == []
    assert plain_git("ls-remote", "--", f"file://{attacker}") == ""
    assert head(f"file://{real}") == published.commit
    assert not again.created
    assert list(cwd.iterdir()) == []


def test_the_receiving_repositorys_hooks_do_not_run(tmp_path: Path) -> None:
    markers = tmp_path / "markers"
    markers.mkdir()
    remote = tmp_path / "remote.git"
    plain_git("init", "-q", "--bare", "--", str(remote))
    touching_hooks(remote / "hooks", markers)
    published = publish_git(f"file://{remote}", REQ, FILES, allow_file=True)
    assert head(f"file://{remote}") == published.commit
    assert sorted(p.name for p in markers.iterdir()) == []
