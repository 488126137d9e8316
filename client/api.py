"""A small client for the jobcast REST API, and its WebSocket events with resume.

    from client.api import Client

    client = Client("http://127.0.0.1:8000", key=None)
    job = client.submit("chat", {"prompt": "Describe a lighthouse"})
    for message in client.events(job["id"]):   # snapshot first, then events in seq order
        print(message["type"], message.get("delta", ""))

HTTP uses the standard library; the key, when given, goes as `Authorization: Bearer`.
"""

from __future__ import annotations

import builtins
import json
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from typing import Any

from client.config import DEFAULT_URL
from client.errors import ApiError, Unreachable
from client.events import follow

Job = dict[str, Any]


class Client:
    def __init__(self, url: str = DEFAULT_URL, key: str | None = None, timeout: float = 30.0):
        self.url = url.rstrip("/")
        self.key = key
        self.timeout = timeout

    def submit(
        self,
        type: str,
        params: dict[str, Any],
        *,
        priority: int | None = None,
        time_limit: int | None = None,
    ) -> Job:
        body: dict[str, Any] = {"type": type, "params": params}
        if priority is not None:
            body["priority"] = priority
        if time_limit is not None:
            body["time_limit"] = time_limit
        job: Job = self._request("POST", "/jobs", body)
        return job

    def get(self, job_id: str) -> Job:
        job: Job = self._request("GET", f"/jobs/{_quote(job_id)}")
        return job

    def list(
        self, *, status: str | None = None, type: str | None = None, limit: int | None = None
    ) -> builtins.list[Job]:
        """The newest jobs first (one page, up to `limit`)."""
        query = {"status": status, "type": type, "limit": limit}
        page = self._request("GET", "/jobs", query={k: v for k, v in query.items() if v})
        jobs: builtins.list[Job] = page["jobs"]
        return jobs

    def cancel(self, job_id: str) -> Job:
        job: Job = self._request("POST", f"/jobs/{_quote(job_id)}/cancel")
        return job

    def retry(self, job_id: str) -> Job:
        job: Job = self._request("POST", f"/jobs/{_quote(job_id)}/retry")
        return job

    def delete(self, job_id: str) -> None:
        self._request("DELETE", f"/jobs/{_quote(job_id)}")

    def job_types(self) -> builtins.list[dict[str, Any]]:
        types: builtins.list[dict[str, Any]] = self._request("GET", "/job-types")
        return types

    def events(self, job_id: str, after: int | None = None) -> Iterator[dict[str, Any]]:
        """The job's messages until it ends, resuming with `?after=` when a connection drops."""
        base = self.url.replace("http://", "ws://", 1).replace("https://", "wss://", 1)
        return follow(f"{base}/jobs/{_quote(job_id)}/events", key=self.key, after=after)

    def _request(
        self,
        method: str,
        path: str,
        body: Any = None,
        query: dict[str, Any] | None = None,
    ) -> Any:
        url = self.url + path + (f"?{urllib.parse.urlencode(query)}" if query else "")
        headers = {"Accept": "application/json"}
        if self.key:
            headers["Authorization"] = f"Bearer {self.key}"
        data = None
        if body is not None:
            headers["Content-Type"] = "application/json"
            data = json.dumps(body).encode()
        request = urllib.request.Request(url, data=data, headers=headers, method=method)
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:
                raw = response.read()
        except urllib.error.HTTPError as error:
            raise ApiError.from_response(error.code, error.read()) from None
        except (urllib.error.URLError, OSError) as error:
            reason = getattr(error, "reason", error)
            raise Unreachable(f"cannot reach {self.url}: {reason}") from None
        return json.loads(raw) if raw else None


def _quote(job_id: str) -> str:
    return urllib.parse.quote(job_id, safe="")
