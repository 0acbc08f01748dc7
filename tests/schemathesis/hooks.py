"""Schemathesis hooks for driver.py (loaded through SCHEMATHESIS_HOOKS).

Two things the stock tool cannot know about OpenSandbox:

* Which 5xx answers are documented behaviour. `not_a_server_error_unless_documented` replaces
  the built-in `not_a_server_error`: any 5xx fails, except the few answers listed in
  DOCUMENTED_5XX, each matched by operation, status and error code and citing where it is
  documented. It also fails an event stream that had not ended when the request timeout passed
  (schemathesis otherwise keeps such a cut stream as a success), since a command that never
  finishes is a hang.
* That the execd run shares one sandbox with everything it does. The `before_call` hook rewrites
  every file path a Filesystem operation would touch into SCRATCH (components kept, `..` and `.`
  dropped), so a generated `DELETE /directories?path=/` or `chmod /usr` cannot take the sandbox's
  own tools away from the rest of the run, and a search of `/` does not walk the host's /usr.
  Commands, code and working directories are left as generated.
"""

from __future__ import annotations

import json
from typing import Any

import schemathesis
from schemathesis.core.failures import ServerError

SCRATCH = "/tmp/fuzz"


def _error_body(response) -> dict:
    try:
        body = json.loads(response.content)
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}


def _about_a_directory(case, response) -> bool:
    return "directory" in str(_error_body(response).get("message", ""))


def _asks_for_missing_feature(case, response) -> bool:
    """A create request that asks for what osb-runtime refuses rather than silently ignores: an
    ossfs volume (runtime/server/volume_plan.cc), or egress on a host without pasta."""
    body = case.body
    if not isinstance(body, dict):
        return False
    without_pasta = "pasta" in str(_error_body(response).get("message", ""))
    return bool(body.get("volumes")) or (body.get("networkPolicy") is not None and without_pasta)


# (operation label, status, error code, extra condition on (case, response) or None, why it is
# not a bug).
DOCUMENTED_5XX = [
    # execd (specs/execd-api.yaml) as osb-agent serves it.
    ("DELETE /command", 500, "RUNTIME_ERROR", None,
     "COMPAT.md 2.4: interrupting a command that is unknown or not running answers 500 "
     "RUNTIME_ERROR, as the official execd does"),
    ("DELETE /code", 500, "RUNTIME_ERROR", None,
     "COMPAT.md 2.4: interrupting an unknown context id answers 500 RUNTIME_ERROR "
     "(\"no such session\")"),
    ("POST /session/{sessionId}/run", 500, "RUNTIME_ERROR", None,
     "COMPAT.md 2.3 and 2.4: a run in an unknown session answers 500 RUNTIME_ERROR before "
     "any event"),
    ("DELETE /files", 500, "RUNTIME_ERROR", _about_a_directory,
     "COMPAT.md 2.2: DELETE /files on a directory answers 500 (directories go through "
     "DELETE /directories)"),
    # Lifecycle (specs/sandbox-lifecycle.yml) as osb-runtime serves it: ossfs volumes are not
    # implemented (README.md "Not yet"), and egress needs pasta.
    ("POST /sandboxes", 501, "SANDBOX::API_NOT_SUPPORTED", _asks_for_missing_feature,
     "a sandbox with an ossfs volume, or with egress on a host without pasta: not implemented "
     "(README.md \"Not yet\")"),
]


def _documented(case, response) -> bool:
    code = _error_body(response).get("code")
    for label, status, error_code, condition, _ in DOCUMENTED_5XX:
        if (case.operation.label == label and response.status_code == status and
                code == error_code and (condition is None or condition(case, response))):
            return True
    return False


@schemathesis.check
def not_a_server_error_unless_documented(ctx, response, case):
    if response.stream_cut_short:
        raise AssertionError(
            f"the event stream had not ended when the request timeout passed (a hang); "
            f"{len(response.content)} bytes read")
    if response.status_code >= 500 and not _documented(case, response):
        raise ServerError(operation=case.operation.label, status_code=response.status_code)


def _confine(path: Any) -> Any:
    if not isinstance(path, str):
        return path
    parts = [p for p in path.split("/") if p not in ("", ".", "..")]
    return "/".join([SCRATCH, *parts])


def _confine_query(query: dict, name: str) -> None:
    value = query.get(name)
    if isinstance(value, list):
        query[name] = [_confine(v) for v in value]
    elif value is not None:
        query[name] = _confine(value)


# Filesystem operations and where their paths are: in the `path` query parameter, the keys of a
# body map, `src`/`dest` of each move, or the `path` of an upload's metadata part.
_QUERY_PATH_OPS = {"GET /files/info", "DELETE /files", "GET /files/search",
                   "GET /files/download", "GET /directories/list", "DELETE /directories"}
_BODY_KEY_OPS = {"POST /files/permissions", "POST /directories", "POST /files/replace"}


@schemathesis.hook
def before_call(context, case, kwargs):
    label = case.operation.label
    if label in _QUERY_PATH_OPS and isinstance(case.query, dict):
        _confine_query(case.query, "path")
    elif label in _BODY_KEY_OPS and isinstance(case.body, dict):
        case.body = {_confine(k): v for k, v in case.body.items()}
    elif label == "POST /files/mv" and isinstance(case.body, list):
        case.body = [
            {k: (_confine(v) if k in ("src", "dest") else v) for k, v in item.items()}
            if isinstance(item, dict) else item for item in case.body
        ]
    elif label == "POST /files/upload" and isinstance(case.body, dict):
        metadata = case.body.get("metadata")
        try:
            parsed = json.loads(metadata) if isinstance(metadata, (str, bytes)) else None
        except ValueError:
            parsed = None
        if isinstance(parsed, dict) and "path" in parsed:
            parsed["path"] = _confine(parsed["path"])
            case.body = {**case.body, "metadata": json.dumps(parsed)}
