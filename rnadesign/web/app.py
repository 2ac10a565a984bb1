"""The ASGI app: the form, the job pages, the job list and the JSON API they use.

Routes: ``GET /`` (the form), ``GET /jobs`` (past jobs), ``GET /jobs/{id}`` (a job: progress, then the
designs), ``POST /api/jobs``, ``GET /api/jobs``, ``GET /api/jobs/{id}``, ``GET /api/jobs/{id}/events``
(server-sent events), ``GET /api/jobs/{id}.fasta|.csv|.json``, ``GET /api/jobs/{id}/pictures/{target}/{rank}.svg``
and ``/static/{name}`` (assets read from the package once, at start: no request path reaches the file
system). With a token every request must carry it (``Authorization: Bearer``, or the cookie that
``/login`` or one ``?token=`` sets). Posts are refused from another origin, and ``POST /api/jobs``
takes JSON only, which no cross-site form can send.
"""

from __future__ import annotations

import asyncio
import hmac
import json
import re
import time
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from jinja2 import Environment, PackageLoader, select_autoescape
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.base import BaseHTTPMiddleware
from starlette.requests import Request
from starlette.responses import (
    HTMLResponse,
    JSONResponse,
    PlainTextResponse,
    RedirectResponse,
    Response,
    StreamingResponse,
)
from starlette.routing import Route

from . import core
from .forms import FieldError, Limits, check_request, option_name
from .jobs import FINAL, JobStore, WorkerPool, elapsed, is_job_id

COOKIE = "rnadesign_token"
_STATIC_TYPES = {".css": "text/css; charset=utf-8", ".js": "text/javascript; charset=utf-8", ".svg": "image/svg+xml"}
_SECURITY_HEADERS = {
    "Content-Security-Policy": "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
    "object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'",
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
}
_DOWNLOAD = re.compile(r"^([0-9a-f]{32})(?:\.(fasta|csv|json))?$")
_MEDIA = {"fasta": "text/x-fasta", "csv": "text/csv", "json": "application/json"}


@dataclass
class WebConfig:
    data: Path
    workers: int = 1
    token: str | None = None
    limits: Limits = field(default_factory=Limits)
    allowed_hosts: tuple[str, ...] | None = ("localhost", "127.0.0.1", "::1", "[::1]")
    """Host headers accepted (None: any). Loopback only without a token, against DNS rebinding."""
    events_poll_s: float = 0.5


def _static_assets() -> dict[str, bytes]:
    folder = resources.files(__package__) / "static"
    return {item.name: item.read_bytes() for item in folder.iterdir() if item.is_file()}


def _templates() -> Environment:
    env = Environment(loader=PackageLoader(__package__, "templates"), autoescape=select_autoescape(["html"]))
    env.filters["fmt"] = lambda value, spec: "–" if value is None else format(value, spec)
    return env


def create_app(config: WebConfig) -> Starlette:
    store = JobStore(config.data)
    pool = WorkerPool(store, config.workers)
    assets = _static_assets()
    templates = _templates()
    default_mode, _ = core.modes()

    def page(name: str, status_code: int = 200, **context: Any) -> HTMLResponse:
        html = templates.get_template(name).render(**context)
        return HTMLResponse(html, status_code=status_code)

    async def index(request: Request) -> Response:
        return page(
            "index.html",
            energy_sets=core.energy_parameter_sets(),
            limits=config.limits,
            flags={
                f: option_name(f)
                for f in (
                    "time_limit",
                    "num_solutions",
                    "sequence",
                    "gc_content",
                    "gc_tolerance",
                    "avoid",
                    "energy_parameters",
                    "temperature",
                )
            },
        )

    async def jobs_page(request: Request) -> Response:
        jobs = store.jobs()
        return page("jobs.html", jobs=[_summary(j) for j in jobs])

    async def job_page(request: Request) -> Response:
        job_id = request.path_params["job_id"]
        job = store.job(job_id) if is_job_id(job_id) else None
        if job is None:
            return page("missing.html", status_code=404)
        return page("job.html", job=_public(job), final=job["status"] in FINAL)

    async def create_job(request: Request) -> Response:
        if request.headers.get("content-type", "").split(";")[0].strip() != "application/json":
            return JSONResponse({"detail": "send the options as JSON (Content-Type: application/json)"}, 415)
        body = b""
        async for chunk in request.stream():
            body += chunk
            if len(body) > config.limits.max_input + 10_000:
                return JSONResponse({"detail": "the request is larger than this server takes", "field": ""}, 413)
        try:
            data = json.loads(body or b"null")
        except (ValueError, UnicodeDecodeError):
            return JSONResponse({"detail": "the request is not valid JSON", "field": ""}, 422)
        try:
            spec = check_request(data, config.limits)
        except FieldError as err:
            return JSONResponse({"detail": str(err), "field": err.field}, 422)
        job_id = store.create(spec.to_dict(), spec.warnings)
        pool.wake()
        return JSONResponse({"id": job_id, "url": f"/jobs/{job_id}"}, 201, headers={"Location": f"/api/jobs/{job_id}"})

    async def list_jobs(request: Request) -> Response:
        return JSONResponse({"jobs": [_summary(j) for j in store.jobs()]})

    async def get_job(request: Request) -> Response:
        match = _DOWNLOAD.match(request.path_params["name"])
        job = store.job(match.group(1)) if match else None
        if job is None:
            return JSONResponse({"detail": "no such job"}, 404)
        fmt = match.group(2)
        if fmt is None:
            return JSONResponse(_public(job))
        return Response(
            _download(job, fmt),
            media_type=_MEDIA[fmt],
            headers={"Content-Disposition": f'attachment; filename="rnadesign-{job["id"][:8]}.{fmt}"'},
        )

    async def picture(request: Request) -> Response:
        job_id = request.path_params["job_id"]
        job = store.job(job_id) if is_job_id(job_id) else None
        target, rank = request.path_params["target"], request.path_params["rank"]
        results = {r["index"]: r for r in job["results"]} if job else {}
        svgs = results[target]["svgs"] if target in results else []
        if not 1 <= rank <= len(svgs):
            return PlainTextResponse("no such picture", 404)
        return Response(svgs[rank - 1], media_type="image/svg+xml")

    async def events(request: Request) -> Response:
        job_id = request.path_params["job_id"]
        if not is_job_id(job_id) or store.status(job_id) is None:
            return JSONResponse({"detail": "no such job"}, 404)

        async def stream():
            last, quiet = None, 0.0
            while True:
                job = store.status(job_id)
                event = _progress(job)
                text = json.dumps(event)
                if text != last:
                    last, quiet = text, 0.0
                    yield f"event: progress\ndata: {text}\n\n"
                elif quiet > 15:
                    quiet = 0.0
                    yield ": keep-alive\n\n"
                if job["status"] in FINAL:
                    yield f"event: end\ndata: {text}\n\n"
                    return
                if await request.is_disconnected():
                    return
                await asyncio.sleep(config.events_poll_s)
                quiet += config.events_poll_s

        return StreamingResponse(stream(), media_type="text/event-stream", headers={"Cache-Control": "no-store"})

    async def static(request: Request) -> Response:
        name = request.path_params["name"]
        if name not in assets:
            return PlainTextResponse("not found", 404)
        return Response(assets[name], media_type=_STATIC_TYPES.get(Path(name).suffix, "application/octet-stream"))

    async def login(request: Request) -> Response:
        if request.method == "GET":
            return page("login.html", error=None)
        form = await request.form()
        given = str(form.get("token", ""))
        if config.token is None or not hmac.compare_digest(given.encode(), config.token.encode()):
            return page("login.html", status_code=401, error="wrong token")
        response = RedirectResponse("/", 303)
        _set_cookie(response, config.token, request)
        return response

    @asynccontextmanager
    async def lifespan(app):
        pool.start()
        try:
            yield
        finally:
            pool.stop()

    middleware = [Middleware(_Guard, config=config)]
    routes = [
        Route("/", index),
        Route("/jobs", jobs_page),
        Route("/jobs/{job_id}", job_page),
        Route("/api/jobs", create_job, methods=["POST"]),
        Route("/api/jobs", list_jobs, methods=["GET"]),
        Route("/api/jobs/{job_id}/events", events),
        Route("/api/jobs/{job_id}/pictures/{target:int}/{rank:int}.svg", picture),
        Route("/api/jobs/{name}", get_job),
        Route("/static/{name}", static),
        Route("/login", login, methods=["GET", "POST"]),
    ]
    app = Starlette(routes=routes, middleware=middleware, lifespan=lifespan)
    app.state.store, app.state.pool, app.state.config = store, pool, config
    return app


def _set_cookie(response: Response, token: str, request: Request) -> None:
    response.set_cookie(COOKIE, token, httponly=True, samesite="strict", secure=request.url.scheme == "https", path="/")


class _Guard(BaseHTTPMiddleware):
    """Host check, token check, same-origin posts, and the security headers of every response."""

    def __init__(self, app, config: WebConfig):
        super().__init__(app)
        self.config = config

    async def dispatch(self, request: Request, call_next) -> Response:
        config = self.config
        host = _host_name(request.headers.get("host") or "")
        if config.token is None and config.allowed_hosts is not None and host not in config.allowed_hosts:
            return _secure(PlainTextResponse(f"host {host!r} not served (rnadesign serve binds loopback)", 400))
        if request.method not in ("GET", "HEAD", "OPTIONS") and not _same_origin(request):
            return _secure(JSONResponse({"detail": "cross-origin request refused"}, 403))
        if config.token is not None and request.url.path != "/login" and not request.url.path.startswith("/static/"):
            given = request.query_params.get("token")
            if given is not None and _matches(given, config.token) and request.method == "GET":
                response = RedirectResponse(request.url.path, 303)  # the token leaves the address bar
                _set_cookie(response, config.token, request)
                return _secure(response)
            auth = request.headers.get("authorization", "")
            bearer = auth[7:] if auth.lower().startswith("bearer ") else None
            if not (_matches(bearer, config.token) or _matches(request.cookies.get(COOKIE), config.token)):
                if request.url.path.startswith("/api/"):
                    return _secure(JSONResponse({"detail": "a token is required (Authorization: Bearer TOKEN)"}, 401))
                return _secure(RedirectResponse("/login", 303))
        return _secure(await call_next(request))


def _host_name(host: str) -> str:
    """The host of a Host header, without its port (``[::1]:8000`` -> ``[::1]``)."""
    if host.startswith("["):
        return host.split("]", 1)[0] + "]"
    return host.rsplit(":", 1)[0]


def _matches(given: str | None, token: str) -> bool:
    return given is not None and hmac.compare_digest(given.encode(), token.encode())


def _same_origin(request: Request) -> bool:
    """A browser's post names its origin: it must be this server's (a missing Origin is not a browser's post)."""
    origin = request.headers.get("origin")
    if origin is None:
        return request.headers.get("sec-fetch-site") in (None, "same-origin", "none")
    return urlsplit(origin).netloc == request.headers.get("host")


def _secure(response: Response) -> Response:
    for key, value in _SECURITY_HEADERS.items():
        response.headers.setdefault(key, value)
    return response


# -- what the API and the pages show --------------------------------------------------------------


def _summary(job: dict[str, Any]) -> dict[str, Any]:
    targets = job["spec"]["targets"]
    first = targets[0]["structure"]
    return {
        "id": job["id"],
        "status": job["status"],
        "created": job["created"],
        "created_text": time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(job["created"])),
        "targets": len(targets),
        "structure": first if len(first) <= 60 else first[:57] + "...",
        "time_limit": job["spec"]["settings"]["time_limit"],
        "elapsed": elapsed(job),
        "error": job["error"],
    }


def _progress(job: dict[str, Any]) -> dict[str, Any]:
    progress = job["progress"] or {}
    return {
        "status": job["status"],
        "elapsed": None if elapsed(job) is None else round(elapsed(job), 1),
        "target": progress.get("target"),
        "targets": len(job["spec"]["targets"]),
        "targets_done": job.get("targets_done"),
        "name": progress.get("name"),
        "best_distance": progress.get("best_distance"),
        "best_sequence": progress.get("best_sequence"),
        "error": job["error"],
    }


def _public(job: dict[str, Any]) -> dict[str, Any]:
    """The job as ``GET /api/jobs/{id}`` returns it: status, options, every design (flat, ranked per target)."""
    designs, targets = [], []
    for result in job["results"]:
        record = result["record"]
        entry = {"index": result["index"], "name": result["name"], "error": result["error"]}
        if record is not None:
            entry.update(target=record["target"], solved=record["solved"], seed=record["seed"], time_s=record["time_s"])
            for design in record["designs"]:
                designs.append(
                    {
                        "name": record["name"],
                        "target": record["target"],
                        "target_index": result["index"],
                        **design,
                        "picture": f"/api/jobs/{job['id']}/pictures/{result['index']}/{design['rank']}.svg"
                        if design["rank"] <= len(result["svgs"])
                        else None,
                    }
                )
        targets.append(entry)
    spec = job["spec"]
    progress = job["progress"] or {}
    best = None
    if job["status"] == "interrupted" and progress.get("best_sequence"):
        best = {k: progress.get(k) for k in ("name", "best_sequence", "best_distance", "seconds")}
    return {
        "id": job["id"],
        "status": job["status"],
        "created": job["created"],
        "elapsed": elapsed(job),
        "error": job["error"],
        "warnings": job["warnings"],
        "options": {**spec["settings"], **spec["folding"]},
        "targets": [{**t, **e} for t, e in zip(spec["targets"], targets)] + spec["targets"][len(targets) :],
        "designs": designs,
        "best_so_far": best,
        "progress": _progress({**job, "targets_done": len(job["results"])}),
    }


def _download(job: dict[str, Any], fmt: str) -> str:
    """The job's designs as ``rnadesign design -f FMT`` prints them (JSON: one object per target per line)."""
    results = [r for r in job["results"] if r["record"] is not None]
    if fmt == "json":
        return "".join(json.dumps(r["record"]) + "\n" for r in results)
    text = "".join(r[fmt] for r in results)
    header = core.render_header(fmt)
    return (header or "") + text
