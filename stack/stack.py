"""`make up` / `make down`: the production shape of the pipeline on one machine, without Docker.

Starts in the background, bound to 127.0.0.1, what docker-compose.yml runs on real servers:

- a private PostgreSQL cluster (Debian's binaries) holding Airflow's metadata (`airflow`) and the
  warehouse (`cchc`, owned by its own role);
- Redis (Celery's broker, with a password);
- Airflow 3 with the CeleryExecutor: api-server (UI), scheduler, dag-processor, triggerer (it runs
  the landing folder's watcher) and two Celery workers;
- a local mail sink for the e-mails to units and ops (`data/stack/mail/*.eml`), unless
  CCHC_SMTP_URL names a real relay (smtp://user:password@host:port, smtps:// for SSL,
  smtp+starttls://); ops alerts go to CCHC_OPS_EMAIL, units' e-mails to their reference addresses;
- the office mailbox the units send their reports to: a Dovecot IMAP server of its own
  (cchc.ops.imapserver, user `vanphong`, `data/stack/imap/`), unless CCHC_IMAP_URL names a real
  mailbox (imap://user:password@host:port, imaps:// for TLS); Airflow reaches it as the
  connection `cchc_imap`. `up` prints CCHC_IMAP_URL= and CCHC_MAIL_DIR= (the sink's folder).

Everything lives under `$CCHC_DATA_DIR/stack/` (data stays across `down`/`up`): pg/, redis/,
airflow/ (AIRFLOW_HOME: airflow.cfg, logs), logs/ (one per component), run/ (pid files), mail/,
imap/, and secrets.json (mode 0600: generated once: database, Redis, JWT, mailbox and user
passwords). Every process is started in its own session and recorded by pid; `down` stops those
process groups (SIGTERM, then SIGKILL after a grace period) and PostgreSQL with `pg_ctl stop`, then
checks that no process carrying this stack's marker (or Dovecot of its imap/) is left.

As root (CI), PostgreSQL runs as the `postgres` user (it refuses root); its folder is chowned to it.
Ports (all on 127.0.0.1) come from the environment: CCHC_STACK_API_PORT (8080), CCHC_STACK_PG_PORT
(5433), CCHC_STACK_REDIS_PORT (6380), CCHC_STACK_SMTP_PORT (1025), CCHC_STACK_IMAP_PORT (1143),
CCHC_STACK_LOG_PORT (8793: the triggerer's and each worker's log server take the next ones).
"""

from __future__ import annotations

import argparse
import base64
import glob
import json
import os
import pwd
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path
from urllib.parse import quote, unquote, urlsplit

from cchc.ops.imapserver import DOVECOT, dovecot_processes, try_login

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
AIRFLOW = str(BIN / "airflow")
WORKERS = 2
# SimpleAuthManager roles, as in .env.example; `pipeline`: the tasks' own API user, who writes a run's
# note ("Bị từ chối / Rejected: …") through the connection cchc_airflow_api (cchc.orchestration.run_note).
USERS = {"admin": "admin", "ops": "user", "viewer": "viewer", "pipeline": "user"}
OFFICE_MAILBOX = "vanphong"  # the local IMAP server's user: the office's mailbox
MARKER = "CCHC_STACK_DIR"  # every process we start carries it in its environment


def data_dir() -> Path:
    return Path(os.environ.get("CCHC_DATA_DIR") or ROOT / "data").resolve()


def free_ports(n: int) -> list[int]:
    """n distinct ports free right now on 127.0.0.1 (for a second stack beside the default one:
    tests, the benchmark)."""
    ports: list[int] = []
    while len(ports) < n:
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            p = s.getsockname()[1]
        if p not in ports and p < 60000:  # the log servers take the next three ports too
            ports.append(p)
    return ports


def write_private(path: Path, text: str, *, exclusive: bool = False) -> None:
    """Write a file only its owner may read (it holds passwords), mode 0600 from its creation."""
    flags = os.O_WRONLY | os.O_CREAT | (os.O_EXCL if exclusive else os.O_TRUNC)
    with os.fdopen(os.open(path, flags, 0o600), "w") as f:
        f.write(text)


def port(name: str, default: int) -> int:
    return int(os.environ.get(f"CCHC_STACK_{name}_PORT") or default)


class Stack:
    def __init__(self) -> None:
        self.data = data_dir()
        self.dir = self.data / "stack"
        self.run_dir, self.logs = self.dir / "run", self.dir / "logs"
        self.home = self.dir / "airflow"
        self.pg_dir = self.dir / "pg"
        self.api_port, self.pg_port = port("API", 8080), port("PG", 5433)
        self.redis_port, self.smtp_port, self.log_port = port("REDIS", 6380), port("SMTP", 1025), port("LOG", 8793)
        self.smtp_url = os.environ.get("CCHC_SMTP_URL", "")
        self.imap_port, self.imap_url = port("IMAP", 1143), os.environ.get("CCHC_IMAP_URL", "")
        self.imap_dir = self.dir / "imap"

    # ---- secrets and settings -------------------------------------------------------------------
    def secrets(self) -> dict:
        path = self.dir / "secrets.json"
        if path.exists():
            s = json.loads(path.read_text())
            missing = [u for u in USERS if u not in s["users"]]
            if "imap" not in s or missing:  # a stack made before the mailbox or a user: their passwords, once
                s.setdefault("imap", secrets.token_urlsafe(18))
                s["users"] |= {u: secrets.token_urlsafe(12) for u in missing}
                write_private(path, json.dumps(s, indent=1))
            return s
        s = {
            "pg_superuser": secrets.token_urlsafe(18),
            "airflow_db": secrets.token_urlsafe(18),
            "warehouse_db": secrets.token_urlsafe(18),
            "redis": secrets.token_urlsafe(18),
            "jwt_secret": secrets.token_urlsafe(32),
            "api_secret_key": secrets.token_urlsafe(32),
            "fernet_key": base64.urlsafe_b64encode(secrets.token_bytes(32)).decode(),
            "imap": secrets.token_urlsafe(18),
            "users": {u: secrets.token_urlsafe(12) for u in USERS},
        }
        self.dir.mkdir(parents=True, exist_ok=True)
        write_private(path, json.dumps(s, indent=1), exclusive=True)
        return s

    def db_url(self, db: str, user: str, password: str, driver: str = "postgresql+psycopg2") -> str:
        return f"{driver}://{user}:{password}@127.0.0.1:{self.pg_port}/{db}"

    @property
    def api_url(self) -> str:
        return f"http://127.0.0.1:{self.api_port}"

    def warehouse_url(self) -> str:
        return self.db_url("cchc", "cchc", self.secrets()["warehouse_db"])

    def smtp_connection(self) -> str:
        """The `cchc_smtp` Airflow connection (JSON form): the relay CCHC_SMTP_URL names, or the sink."""
        ops = os.environ.get(
            "CCHC_OPS_EMAIL", "cchc.ops@haiphong.gov.vn"
        )  # alerts; units' addresses are reference data
        if not self.smtp_url:
            return json.dumps(
                {
                    "conn_type": "smtp",
                    "host": "127.0.0.1",
                    "port": self.smtp_port,
                    "extra": {"from_email": "cchc@haiphong.gov.vn", "to": ops, "use_tls": False, "use_ssl": False},
                }
            )
        u = urlsplit(self.smtp_url)
        return json.dumps(
            {
                "conn_type": "smtp",
                "host": u.hostname,
                "port": u.port or 25,
                "login": unquote(u.username or ""),
                "password": unquote(u.password or ""),
                "extra": {
                    "from_email": os.environ.get("CCHC_SMTP_FROM", "cchc@haiphong.gov.vn"),
                    "to": ops,
                    "use_ssl": u.scheme == "smtps",
                    "use_tls": u.scheme == "smtp+starttls",
                },
            }
        )

    def office_imap_url(self) -> str:
        """The office mailbox: CCHC_IMAP_URL, or the local Dovecot's."""
        if self.imap_url:
            return self.imap_url
        return f"imap://{OFFICE_MAILBOX}:{quote(self.secrets()['imap'], safe='')}@127.0.0.1:{self.imap_port}"

    def imap_connection(self) -> str:
        """The `cchc_imap` Airflow connection (JSON form) to the office mailbox; imaps:// is TLS."""
        u = urlsplit(self.office_imap_url())
        return json.dumps(
            {
                "conn_type": "imap",
                "host": u.hostname,
                "port": u.port or (993 if u.scheme == "imaps" else 143),
                "login": unquote(u.username or ""),
                "password": unquote(u.password or ""),
                "extra": {"use_ssl": u.scheme == "imaps"},
            }
        )

    def write_airflow_cfg(self, s: dict) -> None:
        """Airflow's settings for this stack, in its own AIRFLOW_HOME (0600: it holds passwords), the
        same as docker-compose.yml's environment. `AIRFLOW_HOME=data/stack/airflow airflow …` uses it."""
        self.home.mkdir(parents=True, exist_ok=True)
        pw_file = self.home / "simple_auth_manager_passwords.json"
        write_private(pw_file, json.dumps(s["users"]))
        meta = self.db_url("airflow", "airflow", s["airflow_db"])
        cfg = f"""# Written by stack/stack.py (make up) on every start; edit stack.py, not this file.
[core]
dags_folder = {ROOT / "dags"}
plugins_folder = {ROOT / "plugins"}
executor = CeleryExecutor
load_examples = False
dags_are_paused_at_creation = True
default_timezone = Asia/Ho_Chi_Minh
fernet_key = {s["fernet_key"]}
execution_api_server_url = {self.api_url}/execution/
auth_manager = cchc.orchestration.access.CchcAuthManager
simple_auth_manager_users = {",".join(f"{u}:{r}" for u, r in USERS.items())}
simple_auth_manager_all_admins = False
simple_auth_manager_passwords_file = {pw_file}
parallelism = 16

[database]
sql_alchemy_conn = {meta}

[celery]
broker_url = redis://:{s["redis"]}@127.0.0.1:{self.redis_port}/0
result_backend = db+postgresql+psycopg2://airflow:{s["airflow_db"]}@127.0.0.1:{self.pg_port}/airflow
worker_concurrency = 4
# Each worker imports pandas, GX and the pipeline once, before its pool forks: every task process is
# a fork and starts with them (cchc.orchestration.preload), not ≈ 5 s of imports per task.
extra_celery_config = {{"imports": ["cchc.orchestration.preload"]}}

[celery_broker_transport_options]
# A task not acknowledged within this time is redelivered: longer than any run (a national ingest
# takes minutes), shorter than a day so a worker killed mid-task is not forgotten until tomorrow.
visibility_timeout = 3600

[api]
host = 127.0.0.1
port = {self.api_port}
base_url = {self.api_url}
workers = 1
secret_key = {s["api_secret_key"]}

[api_auth]
jwt_secret = {s["jwt_secret"]}

[scheduler]
enable_health_check = False
# A task whose worker died (killed, machine lost) is noticed after a minute, not Airflow's five,
# and retried on a live worker.
task_instance_heartbeat_timeout = 60

[dag_processor]
refresh_interval = 30

[triggerer]
capacity = 100

[logging]
base_log_folder = {self.home / "logs"}
logging_level = INFO
worker_log_server_port = {self.log_port}
trigger_log_server_port = {self.log_port + 1}
"""
        write_private(self.home / "airflow.cfg", cfg)

    def env(self, **extra: str) -> dict[str, str]:
        """The environment of every component: the caller's minus its Airflow settings (the Makefile
        exports the test set-up's), plus this stack's home, warehouse and mail connection."""
        env = {k: v for k, v in os.environ.items() if not k.startswith("AIRFLOW")}
        env.update(
            {
                "AIRFLOW_HOME": str(self.home),
                "AIRFLOW_CONFIG": str(self.home / "airflow.cfg"),
                "AIRFLOW_CONN_CCHC_SMTP": self.smtp_connection(),
                "AIRFLOW_CONN_CCHC_IMAP": self.imap_connection(),
                "AIRFLOW_CONN_CCHC_AIRFLOW_API": json.dumps(
                    {
                        "conn_type": "http",
                        "host": "127.0.0.1",
                        "port": self.api_port,
                        "login": "pipeline",
                        "password": self.secrets()["users"]["pipeline"],
                    }
                ),
                # who may approve a report (the approval step is assigned to them alone): CCHC_APPROVERS, else admin
                "AIRFLOW_VAR_CCHC_APPROVERS": os.environ.get("CCHC_APPROVERS") or "admin",
                "CCHC_HOME": str(ROOT),
                "CCHC_DATA_DIR": str(self.data),
                "CCHC_WAREHOUSE_URL": self.warehouse_url(),
                "GX_ANALYTICS_ENABLED": "false",
                "NO_PROXY": "*",
                MARKER: str(self.dir),
                **extra,
            }
        )
        return env

    # ---- PostgreSQL ------------------------------------------------------------------------------
    @staticmethod
    def pg_bin(tool: str) -> str:
        found = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{tool}"), key=lambda p: int(p.split("/")[4]))
        if not found:
            sys.exit("Không thấy PostgreSQL (apt install postgresql) / PostgreSQL not found: apt install postgresql")
        return found[-1]

    def as_pg_owner(self, cmd: list[str]) -> list[str]:
        """PostgreSQL refuses to run as root: then it runs as `postgres`."""
        return ["runuser", "-u", "postgres", "--", *cmd] if os.geteuid() == 0 else cmd

    def pg_running(self) -> bool:
        return (
            subprocess.run(
                self.as_pg_owner([self.pg_bin("pg_ctl"), "status", "-D", str(self.pg_dir / "data")]),
                capture_output=True,
            ).returncode
            == 0
        )

    def start_postgres(self, s: dict) -> None:
        data = self.pg_dir / "data"
        if not (data / "PG_VERSION").exists():
            self.pg_dir.mkdir(parents=True, exist_ok=True)
            pwfile = self.pg_dir / "pwfile"
            pwfile.write_text(s["pg_superuser"] + "\n")
            if os.geteuid() == 0:
                owner = pwd.getpwnam("postgres")
                for p in (self.pg_dir, pwfile):
                    os.chown(p, owner.pw_uid, owner.pw_gid)
                self.check_traversable()
            os.chmod(pwfile, 0o600)
            out = subprocess.run(
                self.as_pg_owner(
                    [
                        self.pg_bin("initdb"),
                        "-D",
                        str(data),
                        "-U",
                        "postgres",
                        "--auth=scram-sha-256",
                        f"--pwfile={pwfile}",
                        "-E",
                        "UTF8",
                        "--locale=C.UTF-8",
                    ]
                ),
                capture_output=True,
                text=True,
            )
            pwfile.unlink()
            if out.returncode:
                sys.exit(f"initdb thất bại / initdb failed:\n{out.stdout}{out.stderr}")
        if not self.pg_running():
            opts = (
                f"-c listen_addresses=127.0.0.1 -c port={self.pg_port} "
                f"-c unix_socket_directories={self.pg_dir} -c max_connections=200"
            )
            out = subprocess.run(
                self.as_pg_owner(
                    [
                        self.pg_bin("pg_ctl"),
                        "start",
                        "-w",
                        "-t",
                        "60",
                        "-D",
                        str(data),
                        "-l",
                        str(self.pg_dir / "postgres.log"),
                        "-o",
                        opts,
                    ]
                ),
                capture_output=True,
                text=True,
                env=self.env(),
            )
            if out.returncode:
                log = (self.pg_dir / "postgres.log").read_text(errors="replace")[-3000:]
                sys.exit(f"PostgreSQL không khởi động được / PostgreSQL did not start:\n{out.stderr}\n{log}")
        self.create_databases(s)

    def check_traversable(self) -> None:
        for parent in [self.pg_dir, *self.pg_dir.parents]:
            if subprocess.run(["runuser", "-u", "postgres", "--", "test", "-x", str(parent)]).returncode:
                sys.exit(
                    f"Người dùng postgres không vào được {parent} (chmod o+x) / the postgres user cannot "
                    f"enter {parent}: make it traversable (chmod o+x) or choose another CCHC_DATA_DIR"
                )

    def create_databases(self, s: dict) -> None:
        import psycopg2

        conn = psycopg2.connect(
            host="127.0.0.1", port=self.pg_port, user="postgres", password=s["pg_superuser"], dbname="postgres"
        )
        conn.autocommit = True
        with conn.cursor() as cur:
            for role, db, pw in (("airflow", "airflow", s["airflow_db"]), ("cchc", "cchc", s["warehouse_db"])):
                cur.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", (role,))
                if not cur.fetchone():
                    # CREATEROLE: the warehouse schema creates the read-only group role cchc_analyst.
                    cur.execute(
                        f'CREATE ROLE "{role}" LOGIN PASSWORD %s' + (" CREATEROLE" if role == "cchc" else ""), (pw,)
                    )
                cur.execute("SELECT 1 FROM pg_database WHERE datname = %s", (db,))
                if not cur.fetchone():
                    cur.execute(f'CREATE DATABASE "{db}" OWNER "{role}" ENCODING \'UTF8\'')
        conn.close()

    # ---- processes -------------------------------------------------------------------------------
    def pid_of(self, name: str) -> int | None:
        try:
            pid = int((self.run_dir / f"{name}.pid").read_text())
        except (OSError, ValueError):
            return None
        try:  # a zombie (exited, not yet reaped) counts as stopped
            state = Path(f"/proc/{pid}/stat").read_text().split(") ", 1)[1][0]
        except (OSError, IndexError):
            return None
        return None if state == "Z" else pid

    def spawn(self, name: str, cmd: list[str], **extra_env: str) -> None:
        if self.pid_of(name):
            return
        self.run_dir.mkdir(parents=True, exist_ok=True)
        self.logs.mkdir(parents=True, exist_ok=True)
        with open(self.logs / f"{name}.log", "ab") as out:
            p = subprocess.Popen(
                cmd,
                env=self.env(**extra_env),
                stdout=out,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                start_new_session=True,
                cwd=self.dir,
            )
        (self.run_dir / f"{name}.pid").write_text(str(p.pid))

    def components(self) -> dict[str, tuple[list[str], dict]]:
        redis_conf = self.dir / "redis" / "redis.conf"
        comps = {
            "redis": ([shutil.which("redis-server") or "redis-server", str(redis_conf)], {}),
            "api-server": ([AIRFLOW, "api-server"], {}),
            "scheduler": ([AIRFLOW, "scheduler"], {}),
            "dag-processor": ([AIRFLOW, "dag-processor"], {}),
            "triggerer": ([AIRFLOW, "triggerer"], {}),
        }
        for i in range(1, WORKERS + 1):  # each worker serves its task logs on a port of its own
            comps[f"worker{i}"] = (
                [AIRFLOW, "celery", "worker", "--celery-hostname", f"worker{i}@%h"],
                {"AIRFLOW__LOGGING__WORKER_LOG_SERVER_PORT": str(self.log_port + 1 + i)},
            )
        if not self.smtp_url:
            comps["mailsink"] = (
                [
                    sys.executable,
                    "-m",
                    "cchc.ops.mailsink",
                    "--port",
                    str(self.smtp_port),
                    "--out",
                    str(self.dir / "mail"),
                ],
                {},
            )
        if not self.imap_url:  # its password from the environment: the command line is seen by `ps`
            comps["imap"] = (
                [
                    sys.executable,
                    "-m",
                    "cchc.ops.imapserver",
                    "--dir",
                    str(self.imap_dir),
                    "--port",
                    str(self.imap_port),
                    "--user",
                    OFFICE_MAILBOX,
                ],
                {"CCHC_IMAP_PASSWORD": self.secrets()["imap"]},
            )
        return comps

    def write_redis_conf(self, s: dict) -> None:
        folder = self.dir / "redis"
        folder.mkdir(parents=True, exist_ok=True)
        write_private(
            folder / "redis.conf",
            f"bind 127.0.0.1\nport {self.redis_port}\nrequirepass {s['redis']}\n"
            f"dir {folder}\ndaemonize no\nprotected-mode yes\nsave 60 1\nappendonly no\n",
        )

    def airflow(self, *args: str, check: bool = True) -> subprocess.CompletedProcess:
        out = subprocess.run([AIRFLOW, *args], env=self.env(), capture_output=True, text=True)
        if check and out.returncode:
            sys.exit(f"airflow {' '.join(args)} thất bại / failed:\n{(out.stdout + out.stderr)[-4000:]}")
        return out

    # ---- health ----------------------------------------------------------------------------------
    def http(self, method: str, path: str, body: dict | None = None, token: str | None = None):
        headers = {"Content-Type": "application/json"} if body is not None else {}
        if token:
            headers["Authorization"] = f"Bearer {token}"
        req = urllib.request.Request(
            self.api_url + path, data=json.dumps(body).encode() if body else None, headers=headers, method=method
        )
        with urllib.request.urlopen(req, timeout=10) as r:
            return json.loads(r.read() or b"null")

    def health(self) -> dict[str, str]:
        try:
            h = self.http("GET", "/api/v2/monitor/health")
        except (OSError, urllib.error.URLError, ValueError):
            return {}
        return {k: (v or {}).get("status", "?") for k, v in h.items()}

    def celery_workers(self) -> list[str]:
        """Names of the Celery workers that answer a ping through the broker."""
        code = (
            "from airflow.providers.celery.executors.celery_executor import app\n"
            "print('\\n'.join(sorted(k for r in (app.control.ping(timeout=2) or []) for k in r)))"
        )
        out = subprocess.run([sys.executable, "-c", code], env=self.env(), capture_output=True, text=True)
        return [w for w in out.stdout.split() if w.startswith("worker")]

    def check_alive(self, names) -> None:
        for name in names:
            if not self.pid_of(name):
                log = (self.logs / f"{name}.log").read_text(errors="replace")[-3000:]
                self.down()
                sys.exit(f"{name} đã dừng khi khởi động / {name} stopped while starting:\n{log}")

    def wait(self, what: str, predicate, names, timeout: float = 240) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if predicate():
                return
            self.check_alive(names)
            time.sleep(1)
        self.down()
        sys.exit(f"Quá {timeout:.0f} s chờ {what} / waited {timeout:.0f} s for {what}; logs: {self.logs}")

    def token(self, user: str) -> str:
        return self.http("POST", "/auth/token", {"username": user, "password": self.secrets()["users"][user]})[
            "access_token"
        ]

    def unpause(self) -> list[str]:
        """Unpause every cchc DAG once the dag-processor has registered them all (ids = file names)."""
        wanted = sorted(p.stem for p in (ROOT / "dags").glob("cchc_*.py"))
        token = self.token("admin")

        def registered() -> bool:
            dags = self.http("GET", "/api/v2/dags?dag_id_pattern=cchc_&limit=100", token=token)["dags"]
            return {d["dag_id"] for d in dags} >= set(wanted)

        self.wait("the DAGs to be parsed", registered, self.components().keys(), timeout=180)
        for dag_id in wanted:
            self.http("PATCH", f"/api/v2/dags/{dag_id}", {"is_paused": False}, token=token)
        return wanted

    # ---- commands --------------------------------------------------------------------------------
    def up(self) -> None:
        t0 = time.monotonic()
        for tool in ("redis-server", "runuser" if os.geteuid() == 0 else "true"):
            if not shutil.which(tool):
                sys.exit(
                    f"Thiếu {tool} (apt install redis-server postgresql) / {tool} missing: "
                    "apt install redis-server postgresql"
                )
        if not self.imap_url and not Path(DOVECOT).exists():
            sys.exit(
                "Thiếu Dovecot (apt install dovecot-imapd) / Dovecot missing: apt install dovecot-imapd, "
                "or set CCHC_IMAP_URL to a real mailbox"
            )
        s = self.secrets()
        (self.data / "landing").mkdir(parents=True, exist_ok=True)
        (self.data / "outputs" / "feedback").mkdir(parents=True, exist_ok=True)
        self.start_postgres(s)
        self.write_redis_conf(s)
        self.write_airflow_cfg(s)
        self.airflow("db", "migrate")
        comps = self.components()
        for name, (cmd, extra) in comps.items():
            self.spawn(name, cmd, **extra)
        if not self.imap_url:
            pw = self.secrets()["imap"]
            self.wait(
                "the office mailbox (IMAP)",
                lambda: not try_login("127.0.0.1", self.imap_port, OFFICE_MAILBOX, pw, timeout=2),
                comps.keys(),
                timeout=60,
            )
        wanted = {"metadatabase", "scheduler", "triggerer", "dag_processor"}
        self.wait("Airflow to be healthy", lambda: all(self.health().get(k) == "healthy" for k in wanted), comps.keys())
        self.wait("two Celery workers", lambda: len(self.celery_workers()) >= WORKERS, comps.keys())
        dags = self.unpause()
        mail = (
            self.smtp_url.split("@")[-1] if self.smtp_url else f"{self.dir / 'mail'} (SMTP 127.0.0.1:{self.smtp_port})"
        )
        print(
            "\n".join(
                [
                    f"Đã chạy / up in {time.monotonic() - t0:.0f} s: PostgreSQL :{self.pg_port}, Redis :{self.redis_port}, "
                    f"api-server, scheduler, dag-processor, triggerer, {WORKERS} Celery workers",
                    f"Giao diện / UI: {self.api_url}  (người dùng / users: {', '.join(USERS)}; "
                    f"mật khẩu / passwords: {self.dir / 'secrets.json'})",
                    f"DAG đang chạy / unpaused: {', '.join(dags)}",
                    f"Thư mục nhận tệp / landing folder: {self.data / 'landing'}",
                    f"Phản hồi cho đơn vị / feedback: {self.data / 'outputs' / 'feedback'}",
                    f"Thư gửi đi / e-mail: {mail}",
                    f"Nhật ký / logs: {self.logs}",
                    f"CCHC_WAREHOUSE_URL={self.warehouse_url()}",
                    # the office mailbox (a real one's password is not echoed); where the sink keeps what was sent
                    f"CCHC_IMAP_URL={self.shown_imap_url()}",
                    *([] if self.smtp_url else [f"CCHC_MAIL_DIR={self.dir / 'mail'}"]),
                ]
            )
        )

    def shown_imap_url(self) -> str:
        u = urlsplit(self.office_imap_url())
        if not self.imap_url or not u.password:
            return self.office_imap_url()
        return self.imap_url.replace(f":{u.password}@", ":***@", 1)

    def down(self, grace: float = 30) -> list[str]:
        """Stop every recorded process group, PostgreSQL, and whatever still carries the marker."""
        names = [p.stem for p in self.run_dir.glob("*.pid")] if self.run_dir.exists() else []
        # Workers first (a warm shutdown lets a running task finish), the api-server and redis last.
        order = sorted(names, key=lambda n: (n.startswith("api") or n in ("redis", "mailsink", "imap"), n))
        pids = {n: self.pid_of(n) for n in order}
        for pid in pids.values():
            if pid:
                try:
                    os.killpg(pid, signal.SIGTERM)
                except ProcessLookupError:
                    pass
        deadline = time.monotonic() + grace
        while time.monotonic() < deadline and any(self.group_alive(p) for p in pids.values() if p):
            time.sleep(0.3)
        for pid in pids.values():
            if pid and self.group_alive(pid):
                os.killpg(pid, signal.SIGKILL)
        for n in names:
            (self.run_dir / f"{n}.pid").unlink(missing_ok=True)
        if (self.pg_dir / "data" / "PG_VERSION").exists() and self.pg_running():
            subprocess.run(
                self.as_pg_owner([self.pg_bin("pg_ctl"), "stop", "-m", "fast", "-w", "-D", str(self.pg_dir / "data")]),
                capture_output=True,
            )
        left = self.leftovers()
        for pid, _ in left:  # a process that left its group: last resort, and said so
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        return [line for _, line in left]

    @staticmethod
    def group_alive(pgid: int) -> bool:
        try:
            os.killpg(pgid, 0)
        except ProcessLookupError:
            return False
        return True

    def leftovers(self) -> list[tuple[int, str]]:
        """Processes still running from this stack: its marker in their environment, PostgreSQL on
        its data folder, or the office mailbox's Dovecot (which clears its children's environment)."""
        marker = f"{MARKER}={self.dir}".encode()
        pg_data = str(self.pg_dir / "data")
        found = []
        for proc in Path("/proc").iterdir():
            if not proc.name.isdigit() or int(proc.name) == os.getpid():
                continue
            try:
                environ = (proc / "environ").read_bytes()
                cmdline = (proc / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
                state = (proc / "stat").read_text().split(") ", 1)[1][0]
            except (OSError, IndexError):
                continue
            if state != "Z" and (marker in environ.split(b"\0") or pg_data in cmdline):
                found.append((int(proc.name), f"{proc.name} {cmdline.strip()}"))
        seen = {pid for pid, _ in found}
        found += [(pid, f"{pid} {cmd}") for pid, cmd in dovecot_processes(self.imap_dir) if pid not in seen]
        return found

    def status(self) -> int:
        names = [p.stem for p in self.run_dir.glob("*.pid")] if self.run_dir.exists() else []
        for n in sorted(names):
            print(f"{n:14} {'đang chạy / running' if self.pid_of(n) else 'đã dừng / stopped'}")
        print(
            f"{'postgres':14} {'đang chạy / running' if self.pg_dir.exists() and self.pg_running() else 'đã dừng / stopped'}"
        )
        h = self.health()
        print(
            "health: " + (", ".join(f"{k}={v}" for k, v in h.items()) if h else "api-server không trả lời / no answer")
        )
        return 0 if h else 1


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    p.add_argument("command", choices=["up", "down", "status", "env"])
    args = p.parse_args()
    stack = Stack()
    if args.command == "up":
        stack.up()
    elif args.command == "down":
        left = stack.down()
        if left:
            print("Đã buộc dừng các tiến trình còn lại / force-stopped leftover processes:\n" + "\n".join(left))
        print(f"Đã dừng / down; dữ liệu vẫn giữ / data kept in {stack.dir}")
    elif args.command == "env":  # for scripts: `eval "$(make -s stack-env)"` points cchc/airflow at the stack
        print(
            f"export AIRFLOW_HOME={stack.home} AIRFLOW_CONFIG={stack.home / 'airflow.cfg'} "
            f"CCHC_WAREHOUSE_URL='{stack.warehouse_url()}'"
        )
    else:
        sys.exit(stack.status())


if __name__ == "__main__":
    main()
