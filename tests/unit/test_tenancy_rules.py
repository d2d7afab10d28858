"""Tenant isolation decided (portico.domain.tenancy, portico.domain.delivery): what a namespace
editor may make Portico do, with no rule and with an admin's rule. The matrix: publishing
(GitHub owners, git URLs, the URL forms a command line could misread), observing other
namespaces, and Argo CD projects, destinations and sources. Every refusal names the field
and the policy."""

import pytest

from portico.domain.delivery import desired_application, desired_project
from portico.domain.refs import EntityKey
from portico.domain.tenancy import (
    Refusal,
    git_url_refusal,
    github_owner_refusal,
    observe_refusal,
    project_for,
    repo_name_refusal,
    tenant_for,
    url_problem,
)
from portico.models.component import ArgoCD
from portico.models.config import OperatorConfig

TWO_TEAMS = OperatorConfig.model_validate(
    {
        "tenancy": {
            "rules": [
                {
                    "namespaces": ["payments", "payments-*"],
                    "publish": {
                        "githubOwners": ["acme-payments"],
                        "gitUrls": ["https://git.example.com/payments/*"],
                    },
                    "observe": {"namespaces": ["$self", "payments-*"]},
                    "argocd": {
                        "projects": ["payments"],
                        "destinations": [{"namespace": "$self"}, {"namespace": "payments-*"}],
                    },
                },
                {
                    "namespaceSelector": {"matchLabels": {"team": "search"}},
                    "publish": {"githubOwners": ["acme-search"]},
                },
            ]
        }
    }
)
FILES = OperatorConfig.model_validate(
    {
        "tenancy": {
            "allowFileUrls": True,
            "rules": [{"namespaces": ["demo"], "publish": {"gitUrls": ["file:///srv/git/demo/*"]}}],
        }
    }
)


def test_a_namespace_without_a_rule_may_publish_nowhere() -> None:
    tenant = tenant_for("rogue", {}, TWO_TEAMS)
    refusal = github_owner_refusal(tenant, "acme-payments")
    assert refusal is not None
    assert refusal.reason == "OwnerNotAllowed"
    assert "spec.publish.github.owner" in refusal.message
    assert "portico-config tenancy.default (no rule matches rogue)" in refusal.message
    url = git_url_refusal(tenant, "https://git.example.com/payments/x.git", TWO_TEAMS)
    assert url is not None
    assert url.reason == "URLNotAllowed"


def test_rules_match_by_name_glob_and_by_label() -> None:
    assert github_owner_refusal(tenant_for("payments-dev", {}, TWO_TEAMS), "ACME-Payments") is None
    search = tenant_for("s1", {"team": "search"}, TWO_TEAMS)
    assert search.source == "portico-config tenancy.rules[1]"
    assert github_owner_refusal(search, "acme-search") is None
    refused = github_owner_refusal(search, "acme-payments")
    assert refused is not None
    assert "tenancy.rules[1]" in refused.message


@pytest.mark.parametrize(
    "url",
    [
        "--upload-pack=touch portico-pwned;",
        "-u touch x",
        " --config=core.sshCommand=x",
        "ext::sh -c touch% /tmp/pwned",
        "ssh://-oProxyCommand=touch/x",
        "git@github.com:acme/x.git",
        "http://169.254.169.254/latest",
        "https://user:pw@git.example.com/payments/x.git",
        "https://git.example.com/payments/../admin/x.git",
        "https://git.example.com/payments/%2e%2e/admin.git",
        "https://git.example.com/payments/x.git?upload-pack=x",
        "file:///srv/git/demo/x.git",
        "fd::3",
    ],
)
def test_hostile_git_urls_are_refused_before_any_policy_match(url: str) -> None:
    payments = tenant_for("payments", {}, TWO_TEAMS)
    refusal = git_url_refusal(payments, url, TWO_TEAMS)
    assert refusal is not None
    assert refusal.reason == "URLNotAllowed"
    assert "spec.publish.git.url" in refusal.message


def test_file_urls_need_the_admin_switch_and_a_matching_pattern() -> None:
    demo = tenant_for("demo", {}, FILES)
    assert git_url_refusal(demo, "file:///srv/git/demo/svc.git", FILES) is None
    for url in ("file:///etc/evil.git", "file:///srv/git/demo/../other/x.git", "file://h/x"):
        assert git_url_refusal(demo, url, FILES) is not None, url
    off = url_problem("file:///srv/git/demo/svc.git", allow_file=False)
    assert off is not None
    assert "allowFileUrls" in off


def test_repository_names_cannot_climb_out_of_a_path() -> None:
    assert repo_name_refusal("checkout-svc", "spec.publish.github.repoName") is None
    for name in ("..", ".", "a/b", "../../etc", "x.git", "a" * 101, "a b"):
        refusal = repo_name_refusal(name, "spec.publish.github.repoName")
        assert refusal is not None, name
        assert refusal.reason == "InvalidRepoName"


def test_observing_another_namespace_needs_a_rule() -> None:
    refusal = observe_refusal(tenant_for("rogue", {}, TWO_TEAMS), "kube-system")
    assert refusal is not None
    assert refusal.reason == "NamespaceNotAllowed"
    assert "kube-system" in refusal.message
    assert "tenancy.default" in refusal.message
    assert observe_refusal(tenant_for("rogue", {}, TWO_TEAMS), "rogue") is None
    payments = tenant_for("payments", {}, TWO_TEAMS)
    assert observe_refusal(payments, "payments-db") is None
    assert observe_refusal(payments, "search") is not None


def test_no_rule_never_gets_project_default() -> None:
    rogue = tenant_for("rogue", {}, TWO_TEAMS)
    assert project_for(rogue, None) == "portico-rogue"
    refused = project_for(rogue, "default")
    assert isinstance(refused, Refusal)
    assert refused.reason == "ProjectNotAllowed"
    assert "allowed: portico-rogue" in refused.message
    payments = tenant_for("payments", {}, TWO_TEAMS)
    assert project_for(payments, None) == "payments"
    assert isinstance(project_for(payments, "portico-payments"), Refusal)


def _app(namespace: str, argocd: ArgoCD, url: str, scaffolded: str | None = None) -> object:
    tenant = tenant_for(namespace, {}, TWO_TEAMS)
    key = EntityKey("component", namespace, "svc")
    return desired_application(key, argocd, url, scaffolded, tenant, TWO_TEAMS)


def test_an_application_goes_to_the_tenant_project_and_its_own_namespace() -> None:
    app = _app("rogue", ArgoCD(path="deploy"), "https://x/y.git", scaffolded="https://x/y.git")
    assert isinstance(app, dict)
    assert app["spec"]["project"] == "portico-rogue"
    assert app["spec"]["destination"]["namespace"] == "rogue"
    assert app["spec"]["syncPolicy"]["syncOptions"] == []  # no Namespace to create
    assert app["spec"]["syncPolicy"]["retry"]["refresh"] is True  # a retry takes a pushed fix


def test_an_application_elsewhere_or_from_an_unlisted_repository_is_refused() -> None:
    away = _app(
        "rogue",
        ArgoCD(destination={"namespace": "kube-system"}),
        "https://x/y.git",
        "https://x/y.git",
    )
    assert isinstance(away, Refusal)
    assert away.reason == "DestinationNotAllowed"
    foreign = _app("rogue", ArgoCD(), "https://github.com/acme-payments/ledger.git")
    assert isinstance(foreign, Refusal)
    assert foreign.reason == "SourceNotAllowed"
    own = _app("payments", ArgoCD(), "https://github.com/acme-payments/ledger.git")
    assert isinstance(own, dict)
    assert own["spec"]["project"] == "payments"


def test_the_tenant_project_allows_no_cluster_scoped_resources() -> None:
    project = desired_project(tenant_for("rogue", {}, TWO_TEAMS), TWO_TEAMS)
    assert project is not None
    assert project["metadata"]["name"] == "portico-rogue"
    assert project["metadata"]["namespace"] == "argocd"
    spec = project["spec"]
    assert spec["clusterResourceWhitelist"] == []
    assert spec["destinations"] == [
        {"namespace": "rogue", "server": "https://kubernetes.default.svc"}
    ]
    kinds = {k["kind"] for k in spec["namespaceResourceBlacklist"]}
    assert {"RoleBinding", "ResourceQuota"} <= kinds
    # With admin-named projects, Portico makes none of its own.
    assert desired_project(tenant_for("payments", {}, TWO_TEAMS), TWO_TEAMS) is None
