"""`portico tree`: members under their System, unhealthy ones with their reason, colour
only when asked, orphans last."""

from typing import Any

from portico.domain.tree import render_tree


def obj(
    kind: str, name: str, ns: str = "shop", health: str | None = None, msg: str = "", **spec: Any
) -> dict[str, Any]:
    status = {"health": {"status": health, "message": msg}} if health else {}
    return {
        "kind": kind,
        "metadata": {"name": name, "namespace": ns},
        "spec": {"owner": "group:team", **spec},
        "status": status,
    }


SYSTEMS = [obj("System", "payments", health="Degraded", msg="members: cart is Degraded")]
MEMBERS = [
    obj("API", "cart-api", health="Healthy", system="payments"),
    obj("Component", "cart", health="Degraded", msg="kubernetes: rollout stuck", system="payments"),
    obj("Component", "web", health="Healthy", system="system:shop/payments"),
    obj("Component", "lonely"),
]


def test_plain_tree_lists_members_under_their_system() -> None:
    text = render_tree(SYSTEMS, MEMBERS, color=False)
    assert text.splitlines() == [
        "shop/payments  group:team  Degraded  members: cart is Degraded",
        "├── component cart      group:team  Degraded  kubernetes: rollout stuck",
        "├── component web       group:team  Healthy",
        "└── api       cart-api  group:team  Healthy",
        "(no system)",
        "└── component lonely  group:team  -",
    ]
    assert "\033[" not in text


def test_colour_marks_health_on_a_terminal() -> None:
    text = render_tree(SYSTEMS, MEMBERS, color=True)
    assert "\033[31mDegraded\033[0m" in text
    assert "\033[32mHealthy\033[0m" in text


def test_empty_catalog_renders_nothing() -> None:
    assert render_tree([], [], color=False) == ""
