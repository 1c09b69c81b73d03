"""A real, local Airflow 3 deployment for tests: api-server, scheduler and dag-processor as processes.

What a production set-up runs, on one machine: a private AIRFLOW_HOME, a metadata database, the
LocalExecutor (the scheduler's workers call the api-server's execution API), SimpleAuthManager with
named users whose passwords this helper writes, so REST calls carry a real JWT for a real user.
Each component runs in its own process group; `stop()` signals the groups and waits, so nothing is
left behind (the test checks with ps).

No triggerer: on Airflow 3.3 a human-in-the-loop task waits in the AWAITING_INPUT state, which the
api-server resumes when a person answers (standard provider's hitl.py); pass `triggerer=True` to
start one anyway.
"""

from __future__ import annotations

import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

AIRFLOW = str(Path(sys.executable).with_name("airflow"))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class ApiError(RuntimeError):
    def __init__(self, status: int, body: str):
        super().__init__(f"HTTP {status}: {body[:2000]}")
        self.status, self.body = status, body


@dataclass
class AirflowStack:
    home: Path
    dags_folder: Path
    metadata_url: str
    users: dict[str, str]  # user name -> SimpleAuthManager role (admin, op, user, viewer)
    extra_env: dict[str, str] = field(default_factory=dict)
    triggerer: bool = False
    port: int = 0
    env: dict[str, str] = field(default_factory=dict)
    passwords: dict[str, str] = field(default_factory=dict)
    procs: dict[str, subprocess.Popen] = field(default_factory=dict)
    timings: dict[str, float] = field(default_factory=dict)
    _tokens: dict[str, str] = field(default_factory=dict)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def configure(self) -> None:
        self.home.mkdir(parents=True, exist_ok=True)
        self.port = self.port or free_port()
        self.passwords = {u: secrets.token_urlsafe(12) for u in self.users}
        pw_file = self.home / "simple_auth_manager_passwords.json"
        pw_file.write_text(json.dumps(self.passwords), encoding="utf-8")
        self.env = {
            **os.environ,
            "AIRFLOW_HOME": str(self.home),
            "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": self.metadata_url,
            "AIRFLOW__CORE__EXECUTOR": "LocalExecutor",
            "AIRFLOW__CORE__PARALLELISM": "4",
            "AIRFLOW__CORE__DAGS_FOLDER": str(self.dags_folder),
            # The DAGs import their assets from plugins/ (cchc_assets); the UI page lives there too.
            "AIRFLOW__CORE__PLUGINS_FOLDER": str(self.dags_folder.parent / "plugins"),
            "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
            "AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION": "True",
            "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": f"{self.base_url}/execution/",
            "AIRFLOW__CORE__AUTH_MANAGER": "cchc.orchestration.access.CchcAuthManager",  # as production
            "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS": ",".join(f"{u}:{r}" for u, r in self.users.items()),
            "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE": str(pw_file),
            "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_ALL_ADMINS": "False",
            # One secret for every component: the api-server signs the workers' execution tokens.
            "AIRFLOW__API_AUTH__JWT_SECRET": secrets.token_urlsafe(32),
            "AIRFLOW__API__BASE_URL": self.base_url,
            "AIRFLOW__API__WORKERS": "1",
            "AIRFLOW__SCHEDULER__ENABLE_HEALTH_CHECK": "False",
            "AIRFLOW__LOGGING__BASE_LOG_FOLDER": str(self.home / "logs"),
            **self.extra_env,
        }
        self.env.pop("AIRFLOW__CORE__UNIT_TEST_MODE", None)

    def migrate(self) -> None:
        t = time.perf_counter()
        out = subprocess.run([AIRFLOW, "db", "migrate"], env=self.env, capture_output=True, text=True)
        if out.returncode:
            raise RuntimeError(f"airflow db migrate failed:\n{(out.stdout + out.stderr)[-4000:]}")
        self.timings["db_migrate"] = time.perf_counter() - t

    def start(self) -> None:
        """Start the components and wait until the API answers and the scheduler heartbeats."""
        t = time.perf_counter()
        commands = {
            "api-server": [AIRFLOW, "api-server", "--host", "127.0.0.1", "--port", str(self.port)],
            "scheduler": [AIRFLOW, "scheduler"],
            "dag-processor": [AIRFLOW, "dag-processor"],
        }
        if self.triggerer:
            commands["triggerer"] = [AIRFLOW, "triggerer"]
        (self.home / "proc-logs").mkdir(exist_ok=True)
        for name, cmd in commands.items():
            out = open(self.home / "proc-logs" / f"{name}.log", "wb")
            self.procs[name] = subprocess.Popen(
                cmd, env=self.env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
            )
        self.wait_for(self._healthy, 180, "the api-server and scheduler to come up")
        self.timings["components_up"] = time.perf_counter() - t

    def _healthy(self) -> bool:
        self.check_alive()
        try:
            health = self.request("GET", "/api/v2/monitor/health", auth=False)
        except (OSError, ApiError):
            return False
        return health.get("scheduler", {}).get("status") == "healthy"

    def check_alive(self) -> None:
        for name, p in self.procs.items():
            if p.poll() is not None:
                raise RuntimeError(f"{name} exited with {p.returncode}:\n{self.proc_log(name)[-4000:]}")

    def proc_log(self, name: str) -> str:
        return (self.home / "proc-logs" / f"{name}.log").read_text(encoding="utf-8", errors="replace")

    def token(self, user: str) -> str:
        if user not in self._tokens:
            body = {"username": user, "password": self.passwords[user]}
            self._tokens[user] = self.request("POST", "/auth/token", body, auth=False)["access_token"]
        return self._tokens[user]

    def request(
        self,
        method: str,
        path: str,
        body: dict | None = None,
        *,
        user: str | None = None,
        auth: bool = True,
        raw: bool = False,
    ):
        headers = {"Accept": "application/json"}
        data = None
        if body is not None:
            data = json.dumps(body).encode()
            headers["Content-Type"] = "application/json"
        if auth:
            headers["Authorization"] = f"Bearer {self.token(user or next(iter(self.users)))}"
        req = urllib.request.Request(self.base_url + path, data=data, headers=headers, method=method)
        try:
            with urllib.request.urlopen(req, timeout=30) as resp:
                payload = resp.read().decode("utf-8")
        except urllib.error.HTTPError as e:
            raise ApiError(e.code, e.read().decode("utf-8", "replace")) from None
        return payload if raw else (json.loads(payload) if payload else None)

    def wait_for(self, predicate, timeout: float, what: str, interval: float = 1.0):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            result = predicate()
            if result:
                return result
            time.sleep(interval)
        raise TimeoutError(f"waited {timeout:.0f} s for {what}")

    def stop(self) -> None:
        """SIGTERM each process group, then SIGKILL what is left after 30 s."""
        for p in self.procs.values():
            if p.poll() is None:
                try:
                    os.killpg(p.pid, signal.SIGTERM)
                except ProcessLookupError:
                    pass
        deadline = time.monotonic() + 30
        for p in self.procs.values():
            try:
                p.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                pass
        for p in self.procs.values():
            try:  # the group, not just the leader: gunicorn/uvicorn workers, executor workers
                os.killpg(p.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            p.wait()

    def leftovers(self) -> list[str]:
        """`ps` lines of processes still alive from this deployment: in one of its process groups, or
        with its AIRFLOW_HOME in their environment (a worker that left its group)."""
        marker = f"AIRFLOW_HOME={self.home}".encode()
        groups = {str(p.pid) for p in self.procs.values()}
        out = subprocess.run(["ps", "-eo", "pid,pgid,stat,args"], capture_output=True, text=True).stdout
        left = []
        for line in out.splitlines()[1:]:
            pid, pgid, stat = line.split(None, 3)[:3]
            if stat.startswith("Z"):
                continue
            try:
                environ = Path(f"/proc/{pid}/environ").read_bytes()
            except OSError:
                environ = b""
            if pgid in groups or marker + b"\0" in environ:
                left.append(line)
        return left
