"""The render process: runs one job over tenant templates under CPU, memory and file limits.

Started by portico.clients.sandbox as `python -m portico.renderjobs`, never imported by the
operator. Tenant Jinja and JSON Schema `pattern`s can loop, allocate or backtrack without
bound; here that costs only this process, which the kernel stops at its limits.

Protocol. stdin: one JSON request
    {"job": NAME, "args": {...}, "limits": {"cpuSeconds": float, "memoryBytes": int}}
stdout: one JSON object per line, in order:
    {"at": "skeleton.files[3] (path) content"}    before each step that runs tenant code
    {"result": {...}}  or  {"error": {"type": ..., "where": ..., "message": ...}}
A MemoryError becomes {"error": {"type": "MemoryError", "where": <the last at>}}; a RenderError
keeps its class name (RenderError, RenderTooLarge) and where.

The limits are applied as soon as the request is read, before the renderers are imported:
RLIMIT_CPU (soft ceil(cpuSeconds): SIGXCPU; hard one more: SIGKILL), RLIMIT_AS, RLIMIT_FSIZE 0
(no file writes; SIGXFSZ ignored so a write fails instead), RLIMIT_CORE 0, RLIMIT_NPROC 0
(no fork; root ignores it) and RLIMIT_NOFILE 32.

Jobs (pure; args and results are plain JSON):
    template_check   {namespace, name, template, configMaps, maxFiles, maxBytes}
                     -> {problems: [str], tests: [{name, passed, message}]}
    scaffold_render  {component: {namespace, name}, componentSpec, templateKey: {namespace,
                     name}, template, configMaps, values, maxFiles, maxBytes, strings}
                     -> {refused: {reason, message}}
                      | {files: {path: content}, strings: {label: text}, values: {...}}
    dashboard_render {template, key: {kind, namespace, name}, alertLabels}
                     -> {model: {...}}
    ping             {} -> {envKeys: [names]}   (startup time, and what the child can see)
`template` and `componentSpec` are models dumped with `.wire()`. `strings` is a list of
{"label", "source", "extra"?} rendered in order with the skeleton's context updated by
`extra`; an `extra` value "$string:<label>" stands for an earlier string's rendered text,
stripped (the admin's fallback git URL uses {"name": "$string:spec.publish.github.repoName"}).
Refusals carry the message the Scaffolded condition shows; a RenderTooLarge is not a refusal
but an error, like a timeout, so every resource limit reaches the caller the same way.
"""

import contextlib
import json
import math
import resource
import signal
import sys
from typing import Any

AT_MAX = 300
MESSAGE_MAX = 4000
_at = ""


def _emit(obj: dict[str, Any]) -> None:
    try:
        line = json.dumps(obj, ensure_ascii=False).encode()
    except UnicodeEncodeError:  # a lone surrogate: let json escape it
        line = json.dumps(obj).encode()
    sys.stdout.buffer.write(line + b"\n")
    sys.stdout.buffer.flush()


def progress(at: str) -> None:
    global _at
    _at = at if len(at) <= AT_MAX else at[: AT_MAX - 3] + "..."
    _emit({"at": _at})


def _limit(kind: str, soft: int, hard: int | None = None) -> None:
    which = getattr(resource, kind, None)
    if which is None:
        return
    _, current = resource.getrlimit(which)
    hard = soft if hard is None else hard
    if current != resource.RLIM_INFINITY:
        soft, hard = min(soft, current), min(hard, current)
    with contextlib.suppress(ValueError, OSError):  # unsupported: the deadline still applies
        resource.setrlimit(which, (soft, hard))


def apply_limits(limits: dict[str, Any]) -> None:
    cpu = max(1, math.ceil(float(limits["cpuSeconds"])))
    _limit("RLIMIT_CPU", cpu, cpu + 1)
    _limit("RLIMIT_AS", int(limits["memoryBytes"]))
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    _limit("RLIMIT_FSIZE", 0)
    _limit("RLIMIT_CORE", 0)
    _limit("RLIMIT_NPROC", 0)
    _limit("RLIMIT_NOFILE", 32)


def template_check(args: dict[str, Any]) -> dict[str, Any]:
    from portico.domain.refs import EntityKey
    from portico.domain.scaffold import run_template_tests, template_problems
    from portico.models.template import TemplateSpec
    from portico.rendering.skeleton import Limits

    template = TemplateSpec.model_validate(args["template"])
    cms = args.get("configMaps") or {}
    progress("spec.parameters and skeleton syntax")
    problems = template_problems(template, cms)
    tests = []
    if not problems:
        key = EntityKey("template", args["namespace"], args["name"])
        limits = Limits(args["maxFiles"], args["maxBytes"])
        tests = [
            {"name": r.name, "passed": r.passed, "message": r.message}
            for r in run_template_tests(key, template, cms, limits, progress=progress)
        ]
    return {"problems": problems, "tests": tests}


def scaffold_render(args: dict[str, Any]) -> dict[str, Any]:
    from portico.domain.refs import EntityKey
    from portico.domain.scaffold import (
        render_context,
        skeleton_files,
        template_problems,
        values_problem,
        with_defaults,
    )
    from portico.models.component import ComponentSpec
    from portico.models.template import TemplateSpec
    from portico.rendering.skeleton import (
        Limits,
        RenderError,
        RenderTooLarge,
        render_skeleton,
        render_string,
    )

    def refused(reason: str, message: str) -> dict[str, Any]:
        return {"refused": {"reason": reason, "message": message}}

    template = TemplateSpec.model_validate(args["template"])
    spec = ComponentSpec.model_validate(args["componentSpec"])
    key = EntityKey("component", args["component"]["namespace"], args["component"]["name"])
    tkey = EntityKey("template", args["templateKey"]["namespace"], args["templateKey"]["name"])
    cms = args.get("configMaps") or {}
    progress("spec.parameters and skeleton syntax")
    problems = template_problems(template, cms)
    if problems:
        return refused("TemplateInvalid", f"{tkey} is not valid: {'; '.join(problems)}")
    values = with_defaults(template.parameters, args.get("values") or {})
    progress("spec.scaffold.values")
    problem = values_problem(template.parameters, values)
    if problem:
        return refused("InvalidValues", problem)
    context = render_context(key, spec, tkey, values)
    strings: dict[str, str] = {}
    try:
        limits = Limits(args["maxFiles"], args["maxBytes"])
        files = render_skeleton(skeleton_files(template, cms), context, limits, progress=progress)
        for item in args.get("strings") or []:
            label = item["label"]
            extra = {
                name: strings[v.removeprefix("$string:")].strip()
                if isinstance(v, str) and v.startswith("$string:")
                else v
                for name, v in (item.get("extra") or {}).items()
            }
            progress(label)
            strings[label] = render_string(item["source"], {**context, **extra}, label)
    except RenderTooLarge:
        raise
    except RenderError as e:
        return refused("RenderFailed", f"{tkey}: {e}")
    return {"files": files, "strings": strings, "values": values}


def dashboard_render(args: dict[str, Any]) -> dict[str, Any]:
    from portico.domain.dashboards import render_dashboard
    from portico.domain.refs import EntityKey

    key = EntityKey(args["key"]["kind"], args["key"]["namespace"], args["key"]["name"])
    labels = args.get("alertLabels")
    return {"model": render_dashboard(args["template"], key, labels, progress=progress)}


def ping(args: dict[str, Any]) -> dict[str, Any]:
    import os

    return {"envKeys": sorted(os.environ)}


JOBS = {
    "template_check": template_check,
    "scaffold_render": scaffold_render,
    "dashboard_render": dashboard_render,
    "ping": ping,
}


def main() -> int:
    sys.dont_write_bytecode = True
    try:
        request = json.loads(sys.stdin.buffer.read())
        apply_limits(request["limits"])
        job = JOBS[request["job"]]
        result = job(request["args"])
        _emit({"result": result})
    except MemoryError:
        _emit({"error": {"type": "MemoryError", "where": _at, "message": "out of memory"}})
    except Exception as e:
        where = getattr(e, "where", _at)
        message = (getattr(e, "message", None) or f"{type(e).__name__}: {e}")[:MESSAGE_MAX]
        try:
            _emit({"error": {"type": type(e).__name__, "where": where, "message": message}})
        except MemoryError:
            _emit({"error": {"type": "MemoryError", "where": _at, "message": "out of memory"}})
    return 0


if __name__ == "__main__":
    sys.exit(main())
