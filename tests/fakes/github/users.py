"""Users, organisations and the rate limit: ``GET /user``, ``GET /users/{login}``,
``GET /orgs/{org}``, ``GET /rate_limit``."""

from __future__ import annotations

from typing import TYPE_CHECKING

from fakes.github.routing import Request, Response, Routes
from fakes.github.shapes import org_json, user_json

if TYPE_CHECKING:
    from fakes.github.api import GitHubApi

routes = Routes()


@routes("GET", r"/user")
def get_authenticated_user(api: GitHubApi, req: Request) -> Response:
    return Response(200, user_json(api, api.user))


@routes("GET", r"/users/(?P<login>[^/]+)")
def get_user(api: GitHubApi, req: Request) -> Response:
    return Response(200, user_json(api, api.owner(req.args["login"])))


@routes("GET", r"/orgs/(?P<org>[^/]+)")
def get_org(api: GitHubApi, req: Request) -> Response:
    return Response(200, org_json(api, api.org(req.args["org"])))


@routes("GET", r"/rate_limit")
def get_rate_limit(api: GitHubApi, req: Request) -> Response:
    core = api.rate.json()
    return Response(200, {"resources": {"core": core}, "rate": core})
