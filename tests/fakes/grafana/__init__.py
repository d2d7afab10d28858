"""A contract fake of Grafana's HTTP API (folders, dashboards, search), in memory. Tests only.

It follows Grafana's HTTP API documentation
(https://grafana.com/docs/grafana/latest/developers/http_api/: Folder API, Dashboard API,
Folder/Dashboard Search API) for the subset Portico uses, with the status codes, messages and
JSON shapes of Grafana 11 (messages as in Grafana's ``pkg/services/dashboards/errors.go`` and
``pkg/api/apierrors``):

* ``GET /api/health`` (no auth): ``{"commit", "database": "ok", "version": "11.0.0"}``
* folders: ``GET /api/folders[?parentUid=&limit=&page=]``, ``GET /api/folders/{uid}``,
  ``POST /api/folders`` (``{uid?, title, parentUid?}``), ``DELETE /api/folders/{uid}``
* dashboards: ``POST /api/dashboards/db``, ``GET|DELETE /api/dashboards/uid/{uid}``
* search: ``GET /api/search?query=&tag=&type=&folderUIDs=&folderIds=&dashboardUIDs=&dashboardIds=
  &starred=&limit=&page=``

Auth: every ``/api/...`` request except ``/api/health`` needs ``Authorization: Bearer <token>``
(a service-account token); otherwise 401 ``{"message": "Unauthorized", "messageId":
"auth.unauthorized", "statusCode": 401}`` (Grafana 11's shape). Error bodies are
``{"message": ...}``, plus ``"status"`` where Grafana sends one (``version-mismatch``,
``name-exists``, ``empty-name``, ``not-found``, ...). A body that is not a JSON object is
400 ``{"message": "bad request data"}``; an unknown ``/api`` route is 404 ``{"message":
"Not found"}``, a known route with another method 405.

Choices where the docs are terse (taken from Grafana's source where it is explicit):

* ``POST /api/folders``: a uid already used by a folder or dashboard is 409 ``"a folder/dashboard
  with the same uid already exists"`` (the docs: "409 - Folder already exists"; Grafana maps
  ``ErrFolderWithSameUIDExists`` to 409, not 400); a title already used by a folder with the
  same parent is 409 ``"a folder with the same name already exists"``; an empty title is 400
  ``"folder title cannot be empty"``; an unknown ``parentUid`` is 404 ``"folder not found"``.
  The uid is checked before the title, as Grafana does.
* uids (folders and dashboards): illegal characters (anything but letters, digits, ``-``, ``_``)
  are 400 ``"uid contains illegal characters"``, checked before length; more than 40 characters
  is 400 ``"uid too long, max 40 characters"``. A missing uid is generated (14 characters).
* ``DELETE /api/folders/{uid}``: as documented, it deletes the folder "along with all
  dashboards ... stored in the folder"; subfolders (nested folders) and their dashboards go too.
  ``forceDeleteRules`` is accepted and ignored (alert rules are not modelled). The reply is the
  documented ``{"message": "Folder deleted", "id": <id>}``.
* ``POST /api/dashboards/db`` (Grafana's order of checks): an empty ``dashboard.title`` is 400
  ``{"message": "Dashboard title cannot be empty", "status": "empty-name"}``; a ``message`` over
  500 characters is 400; uid rules as above; an unknown ``folderUid`` (or ``folderId``) is 400
  ``{"message": "folder not found"}`` (``ToDashboardErrorResponse`` maps ``ErrFolderNotFound``
  to 400). A ``dashboard.id`` that matches nothing is 404 ``"Dashboard not found"``; an ``id``
  and a ``uid`` naming two different dashboards is 400 ``"A dashboard with the same uid already
  exists"``; a uid used by a folder is 400 ``"Dashboard cannot be changed to a folder"``. An
  existing dashboard (by id or uid) is updated only when the posted ``version`` equals the
  stored one, else 412 ``version-mismatch``, unless ``overwrite``. Another dashboard with the
  same title in the same folder is 412 ``name-exists`` unless ``overwrite``, in which case, as
  in Grafana, the save takes over that dashboard (its id and uid). Every save stores the posted
  JSON as is plus ``id``, ``uid``, ``version`` (1 when created, +1 on each update); without
  ``folderUid``/``folderId`` the dashboard goes to the root ("General"), as documented. The
  reply is ``{"id", "uid", "url", "status": "success", "version", "slug", "folderUid"}``.
* ``GET /api/search``: filters, paging (``limit`` up to 5000, 422 above; ``page`` from 1)
  and the hits' shape as Grafana's docs and handler have them: ``search.py`` says which.

Faults: :meth:`FakeGrafana.fail_next` makes the next matching requests answer with a chosen
status and body (optionally after carrying the request out: "it happened, but the reply was
lost"). Inspection: :meth:`FakeGrafana.dashboards`, :meth:`FakeGrafana.dashboard`,
:meth:`FakeGrafana.folders`, ``calls`` and :meth:`FakeGrafana.write_calls`. The fake's own
exceptions are answered with 500 too, but recorded in ``internal_errors``:
:meth:`assert_no_internal_errors` tells a bug in the fake from an outage (``fakes.http``);
injected faults are never recorded.

Not modelled: folder update/move (``PUT /api/folders/{uid}``, ``.../move``), permissions and
RBAC, orgs, basic auth and API keys, dashboard versions history, provisioning and plugin
dashboards, the ``/apis/...`` (Kubernetes-style) APIs, starring (``starred=true`` finds
nothing), search ``sort`` and ``permission``, the nested-folder depth limit, title clashes
between a dashboard and a folder. Requests are handled one at a time (one lock).

The package: ``model.py`` (errors, replies, stored folders and dashboards), ``api.py`` (routing,
folders, dashboards), ``search.py`` (``/api/search``), ``server.py`` (``FakeGrafana``: HTTP,
faults, inspection). ``from fakes.grafana import FakeGrafana`` is the way in.
"""

from fakes.grafana.api import GrafanaApi
from fakes.grafana.model import (
    GRAFANA_VERSION,
    ApiError,
    Call,
    Dashboard,
    Folder,
    Response,
    slugify,
)
from fakes.grafana.server import FakeGrafana

__all__ = [
    "GRAFANA_VERSION",
    "ApiError",
    "Call",
    "Dashboard",
    "FakeGrafana",
    "Folder",
    "GrafanaApi",
    "Response",
    "slugify",
]
