"""A contract fake of the GitHub REST API, backed by real bare git repositories. Tests only.

It follows GitHub's REST docs (https://docs.github.com/rest) for the subset Portico's publisher
uses, with the status codes and JSON shapes PyGithub relies on:

* users and orgs: ``GET /user``, ``GET /users/{login}``, ``GET /orgs/{org}``, ``GET /rate_limit``
* repositories: ``POST /orgs/{org}/repos``, ``POST /user/repos``,
  ``GET|PATCH|DELETE /repos/{o}/{r}``, ``GET|PUT /repos/{o}/{r}/topics``
* Git Data: ``POST /repos/{o}/{r}/git/blobs|trees|commits|refs``,
  ``GET .../git/blobs/{sha}``, ``GET .../git/trees/{sha}[?recursive=1]``,
  ``GET .../git/commits/{sha}``, ``GET .../git/ref/{ref}``, ``GET|PATCH|DELETE .../git/refs/{ref}``
* branches: ``GET .../branches/{b}``, ``GET|PUT|DELETE .../branches/{b}/protection``
* contents: ``GET .../contents/{path}[?ref=]`` (file or directory), ``PUT .../contents/{path}``
* pull requests: ``POST .../pulls``, ``GET .../pulls[?state=&head=&base=&per_page=&page=]``,
  ``GET|PATCH .../pulls/{number}`` (``mergeable`` computed with ``git merge-tree``)
* merging: ``PUT .../pulls/{number}/merge`` (``merge``, ``squash`` and ``rebase``, written with
  git's plumbing), ``GET .../pulls/{number}/merge`` (204 once merged, else 404); a pull
  request whose head a push made reachable from its base is marked merged, as on GitHub
* GitHub Actions: ``GET .../actions/workflows[/{id or file name}]``, ``GET .../actions/runs``
  and ``GET .../actions/workflows/{id or file name}/runs`` (``branch``, ``event``, ``status``,
  ``head_sha``, ``actor``, ``check_suite_id``, ``exclude_pull_requests``, ``per_page``,
  ``page``; newest first), ``GET .../actions/runs/{run_id}``; runs are reported by the test
  (:meth:`FakeGitHub.add_workflow`, :meth:`~FakeGitHub.add_run`, :meth:`~FakeGitHub.update_run`,
  :meth:`~FakeGitHub.rerun_run`), not started by pushes
* conditional requests: an ``ETag`` on every 200 answer to a GET, and ``304 Not Modified``
  (free of the rate limit) for a GET whose ``If-None-Match`` names it

Each repository is a real bare repository at ``<root>/<owner>/<repo>.git`` (``git init --bare``)
whose ``clone_url`` is a ``file://`` URL, so a test can ``git clone`` what was published. Objects
are written with git's plumbing: ``hash-object``, ``mktree``, ``commit-tree``, ``update-ref``.

Mirrored from GitHub: token auth (401 "Requires authentication" without a token, "Bad
credentials" with a wrong one), ``X-RateLimit-*`` headers on every response and the primary
limit's 403 once ``remaining`` reaches 0, error bodies ``{"message", "documentation_url"}``
(422 adds ``errors``), 409 "Git Repository is empty." from the Git Data API on an empty
repository, 403 on writes to an archived repository, 422 on a non-fast-forward ref update
without ``force``. Owner and repository names match case-insensitively, as on GitHub.

Faults: :meth:`FakeGitHub.fail_next` makes the next matching requests answer with a chosen
status, headers and body (optionally after applying the request: "it happened, but the reply was
lost"); :meth:`FakeGitHub.rate_limit` sets the rate-limit budget. The fake's own exceptions are
answered with 500 too, but recorded in ``internal_errors``: :meth:`assert_no_internal_errors`
tells a bug in the fake from an outage (``fakes.http``); injected faults are never recorded.

Not modelled: list endpoints other than pull requests and Actions', issues (pull requests take
their numbers from the issue sequence all the same), merge queues and auto-merge, webhooks,
teams, permissions (the token owns every org), enforcement of branch-protection rules (they are
stored and returned only), ``Last-Modified`` and ``If-Modified-Since``, GraphQL, chunked
request bodies. Requests are served one at a time (one lock).

:meth:`FakeGitHub.merge_pull` merges a pull request from a test without HTTP, as a person
pressing the merge button would.

The package, by responsibility (a request flows from the first to the last line):

* ``server``: HTTP, auth, rate limit, faults, the record of calls, helpers for tests
  (:class:`FakeGitHub`); ``faults``, ``ratelimit`` and ``conditional`` (ETags, 304) are its
  parts, ``runner`` its helpers for GitHub Actions
* ``api``: the state and the dispatch to handlers (:class:`GitHubApi`); ``routing`` holds
  :class:`Request`, :class:`Response` and the route tables; ``state`` the accounts,
  repository metadata, pull requests, workflows and runs
* handlers, one module per API area: ``users``, ``repos``, ``topics``, ``git_data``,
  ``branches``, ``contents``, ``pulls``, ``merging``, ``actions`` (which renders its own
  shapes); ``shapes`` renders the JSON the others answer with and ``paging`` pages their lists
* below them: ``git`` (the git CLI on one bare repository), ``trees`` (editing trees as flat
  path maps), ``signature`` (authors and committers), ``values`` (timestamps, Base64, shared
  field checks) and ``errors`` (:class:`ApiError` in GitHub's error shapes, :class:`GitError`)
"""

from fakes.github.api import GitHubApi
from fakes.github.errors import DOCS_URL, RATE_LIMIT_DOCS_URL, ApiError, GitError, Json
from fakes.github.git import ZERO_SHA, CommitData, Git, TreeEntry
from fakes.github.ratelimit import RateLimit
from fakes.github.routing import Request, Response
from fakes.github.server import WRITE_METHODS, Call, FakeGitHub
from fakes.github.signature import Signature
from fakes.github.state import Owner, PullRequest, Repo, Workflow, WorkflowRun

__all__ = [
    "DOCS_URL",
    "RATE_LIMIT_DOCS_URL",
    "WRITE_METHODS",
    "ZERO_SHA",
    "ApiError",
    "Call",
    "CommitData",
    "FakeGitHub",
    "Git",
    "GitError",
    "GitHubApi",
    "Json",
    "Owner",
    "PullRequest",
    "RateLimit",
    "Repo",
    "Request",
    "Response",
    "Signature",
    "TreeEntry",
    "Workflow",
    "WorkflowRun",
]
