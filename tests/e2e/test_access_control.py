"""Access control of the production configuration (docker-compose.yml + .env), checked for real.

No Docker engine runs here, so the compose file is interpolated with `docker-compose config` (as CI
does) and its Airflow auth settings are handed to a real api-server, scheduler and dag-processor
(tests/airflow_stack.py). The users' passwords file is written by the same script airflow-init runs
(docker/airflow_users.py), from a .env made out of .env.example with real secrets in it. Then over
the REST API:

- no token, a forged token or a wrong password: refused (401/403);
- a viewer (role `viewer`) reads the cchc DAGs and their runs but may not trigger, pause, or answer a
  Required actions request (403);
- an operator (role `user`) triggers every cchc DAG (the run records who), and passes the access
  check for answering Required actions (404 "no request", not 403); test_hitl_approval.py has a
  `user` approve and reject a real report. Neither may see connections; the admin may.

Without a stack: docker-compose.yml holds no secret (each comes from .env with no default),
.env.example only `change-me` placeholders, which postgres and airflow-init refuse to start with;
CI's `docker-compose config` with .env.example still passes, and fails naming a missing secret.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import stat
import subprocess
import sys
import urllib.error
import urllib.request
from pathlib import Path
from urllib.parse import quote

import pytest
import yaml
from airflow_stack import AirflowStack, ApiError
from conftest import ROOT

COMPOSE = ROOT / "docker-compose.yml"
ENV_EXAMPLE = ROOT / ".env.example"
REFUSE = ROOT / "docker" / "refuse-placeholders.sh"
USERS_SCRIPT = ROOT / "docker" / "airflow_users.py"
DAG_IDS = ("cchc_ingest", "cchc_period_report", "cchc_weekly_rollup")
# Settings whose value is a secret; a URL holding a password is checked separately.
SECRET_NAME = re.compile(r"PASSWORD|SECRET|FERNET|TOKEN|PRIVATE_KEY|_AUTH$", re.I)
REQUIRED = re.compile(r"^\$\{(\w+):\?[^}]+\}$")
SECRETS = (
    "POSTGRES_PASSWORD",
    "CCHC_WAREHOUSE_PASSWORD",
    "AIRFLOW__CORE__FERNET_KEY",
    "AIRFLOW__API_AUTH__JWT_SECRET",
    "AIRFLOW__API__SECRET_KEY",
    "AIRFLOW_USER_PASSWORDS",
    "REDIS_PASSWORD",
)


def docker_compose() -> str:
    exe = shutil.which("docker-compose")
    if exe is None:
        if os.environ.get("CCHC_REQUIRE_PG"):  # CI: .ci/run installs docker-compose first
            pytest.fail("docker-compose is not installed")
        pytest.skip("docker-compose is not installed (apt-get install docker-compose)")
    return exe


def parse_env(text: str) -> dict[str, str]:
    out = {}
    for line in text.splitlines():
        if line.strip() and not line.lstrip().startswith("#"):
            key, _, value = line.partition("=")
            out[key.strip()] = value.strip()
    return out


def real_env() -> dict[str, str]:
    """.env.example with every placeholder replaced the way its comments say to."""
    import secrets

    from cryptography.fernet import Fernet

    env = parse_env(ENV_EXAMPLE.read_text(encoding="utf-8"))
    for key, value in env.items():
        if "change-me" not in value:
            continue
        if key == "AIRFLOW__CORE__FERNET_KEY":
            env[key] = Fernet.generate_key().decode()
        elif key == "AIRFLOW_USER_PASSWORDS":
            names = [u.split(":")[0] for u in env["AIRFLOW_USERS"].split(",")]
            env[key] = ",".join(f"{n}:{secrets.token_urlsafe(16)}" for n in names)
        else:
            env[key] = secrets.token_urlsafe(24)
    return env


def compose_config(folder: Path, env: dict[str, str] | str) -> subprocess.CompletedProcess:
    """`docker-compose config` of the repository's compose file with this .env, in a scratch folder."""
    folder.mkdir(parents=True, exist_ok=True)
    shutil.copy(COMPOSE, folder / "docker-compose.yml")
    text = env if isinstance(env, str) else "".join(f"{k}={v}\n" for k, v in env.items())
    (folder / ".env").write_text(text, encoding="utf-8")
    clean = {k: v for k, v in os.environ.items() if k not in parse_env(text) and k != "COMPOSE_FILE"}
    return subprocess.run(
        [docker_compose(), "-f", "docker-compose.yml", "config"], cwd=folder, env=clean, capture_output=True, text=True
    )


def service_env(config: str, service: str) -> dict[str, str]:
    env = yaml.safe_load(config)["services"][service]["environment"]
    return {k: "" if v is None else str(v) for k, v in env.items()}


def url_password(value: str) -> str | None:
    """The password part of `scheme://user:password@host/...`, where user and password may be ${...}."""
    if "://" not in value or "@" not in value.split("://", 1)[1]:
        return None
    userinfo = value.split("://", 1)[1].rsplit("@", 1)[0]
    variables = re.findall(r"\$\{[^}]*\}", userinfo)
    masked = re.sub(r"\$\{[^}]*\}", "\0", userinfo)  # a ${VAR:-x} user name holds ':' itself
    user, _, password = masked.partition(":")
    rest = iter(variables[user.count("\0") :])
    return re.sub("\0", lambda _: next(rest), password)


# --- the compose file and .env.example, without a stack ----------------------------------------


def test_compose_file_holds_no_secret():
    raw = yaml.safe_load(COMPOSE.read_text(encoding="utf-8"))
    envs = {"x-airflow-common": raw["x-airflow-common"]["environment"]}
    envs |= {name: svc.get("environment") or {} for name, svc in raw["services"].items()}
    checked, required = 0, set()
    for where, env in envs.items():
        assert isinstance(env, dict), f"{where}: environment must be a mapping"
        for key, value in env.items():
            value = "" if value is None else str(value)
            if SECRET_NAME.search(key) and not key.endswith("_FILE"):  # a path, written at start-up
                m = REQUIRED.match(value)
                assert m, f"{where}.{key} = {value!r}: a secret must be ${{VAR:?message}} with no default"
                required.add(m.group(1))
                checked += 1
            password = url_password(value)
            if password:  # a connection URL's password must be a required variable too
                m = REQUIRED.match(password)
                assert m, f"{where}.{key}: the password in {value!r} must be ${{VAR:?message}}"
                required.add(m.group(1))
                checked += 1
    assert set(SECRETS) <= required, f"not required from .env: {set(SECRETS) - required}"
    assert checked >= 12, checked
    # No secret-like variable anywhere in the file gets a fallback value.
    text = COMPOSE.read_text(encoding="utf-8")
    defaults = [m.group(0) for m in re.finditer(r"\$\{(\w+)(:?-)[^}]*\}", text) if SECRET_NAME.search(m.group(1))]
    assert defaults == []
    # The login-free all-admins mode is off, and .env cannot switch it on.
    assert raw["x-airflow-common"]["environment"]["AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_ALL_ADMINS"] == "false"
    assert "CchcAuthManager" in raw["x-airflow-common"]["environment"]["AIRFLOW__CORE__AUTH_MANAGER"]


def test_env_example_holds_only_placeholders():
    env = parse_env(ENV_EXAMPLE.read_text(encoding="utf-8"))
    assert set(SECRETS) <= set(env)
    for key in SECRETS:
        values = [p.partition(":")[2] for p in env[key].split(",")] if key == "AIRFLOW_USER_PASSWORDS" else [env[key]]
        assert all(v.startswith("change-me") for v in values), f"{key} in .env.example must be a change-me placeholder"
    users = [u.split(":") for u in env["AIRFLOW_USERS"].split(",")]
    assert {role for _, role in users} >= {"admin", "user", "viewer"}
    # .env (the real secrets) is ignored by git and not tracked.
    assert subprocess.run(["git", "check-ignore", "-q", ".env"], cwd=ROOT).returncode == 0
    assert subprocess.run(["git", "ls-files", "--error-unmatch", ".env"], cwd=ROOT, capture_output=True).returncode != 0


def test_ci_config_check_passes_with_env_example(tmp_path):
    """What .ci/run does: copy .env.example to .env and `docker-compose config -q`."""
    out = compose_config(tmp_path / "ci", ENV_EXAMPLE.read_text(encoding="utf-8"))
    assert out.returncode == 0, out.stderr


@pytest.mark.parametrize("secret", SECRETS + ("AIRFLOW_USERS",))
def test_compose_refuses_a_missing_secret(tmp_path, secret):
    env = real_env()
    del env[secret]
    out = compose_config(tmp_path, env)
    assert out.returncode != 0
    assert f"{secret}" in out.stderr and "must be set in .env" in out.stderr, out.stderr


def _run_refuse(env: dict[str, str]) -> subprocess.CompletedProcess:
    base = {"PATH": os.environ["PATH"], "HOME": os.environ.get("HOME", "/tmp")}
    return subprocess.run(["sh", str(REFUSE), "echo", "started"], env={**base, **env}, capture_output=True, text=True)


@pytest.mark.parametrize("service", ["postgres", "airflow-init"])
def test_services_refuse_placeholders(tmp_path, service):
    example = compose_config(tmp_path / "example", ENV_EXAMPLE.read_text(encoding="utf-8"))
    env = service_env(example.stdout, service)
    out = _run_refuse(env)
    assert out.returncode == 1 and "started" not in out.stdout
    named = set(re.findall(r"^  (\w+)$", out.stderr, re.M))
    assert named == {k for k, v in env.items() if "change-me" in v}, out.stderr
    if service == "postgres":
        assert {"POSTGRES_PASSWORD", "CCHC_WAREHOUSE_PASSWORD"} <= named
    else:
        assert {"AIRFLOW_USER_PASSWORDS", "AIRFLOW__CORE__FERNET_KEY", "AIRFLOW__API_AUTH__JWT_SECRET"} <= named
    assert "change-me" in out.stderr and "change-me-" not in out.stderr  # names only, never values
    assert "LỖI" in out.stderr and "ERROR" in out.stderr

    real = compose_config(tmp_path / "real", real_env())
    out = _run_refuse(service_env(real.stdout, service))
    assert out.returncode == 0 and out.stdout.strip() == "started", out.stderr


def _users_script(env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, str(USERS_SCRIPT)], env={"PATH": os.environ["PATH"], **env}, capture_output=True, text=True
    )


def test_users_script_writes_the_passwords_file(tmp_path):
    env = real_env()
    init = service_env(compose_config(tmp_path / "c", env).stdout, "airflow-init")
    pw_file = tmp_path / "passwords.json"
    out = _users_script({**init, "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE": str(pw_file)})
    assert out.returncode == 0, out.stderr
    expected = dict(p.split(":", 1) for p in env["AIRFLOW_USER_PASSWORDS"].split(","))
    assert json.loads(pw_file.read_text(encoding="utf-8")) == expected
    assert stat.S_IMODE(pw_file.stat().st_mode) == 0o600
    assert not any(p in out.stdout + out.stderr for p in expected.values())


@pytest.mark.parametrize(
    "change, message",
    [
        ({"AIRFLOW_USER_PASSWORDS": "admin:change-me-admin-password"}, "change-me"),
        ({"AIRFLOW_USER_PASSWORDS": "admin:short"}, "ngắn hơn 12"),
        (
            {"AIRFLOW_USER_PASSWORDS": "admin:aaaaaaaaaaaaaaaa,intruder:bbbbbbbbbbbbbbbb"},
            "'intruder' is not in AIRFLOW_USERS",
        ),
        ({"AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS": "admin:admin,lan:approver"}, "unknown role 'approver'"),
        ({"AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS": "admin:admin,lan:user"}, "'lan' has no password"),
        ({"AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_ALL_ADMINS": "True"}, "local 127.0.0.1 use only"),
    ],
)
def test_users_script_refuses(tmp_path, change, message):
    pw_file = tmp_path / "passwords.json"
    env = {
        "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS": "admin:admin",
        "AIRFLOW_USER_PASSWORDS": "admin:aaaaaaaaaaaaaaaa",
        "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE": str(pw_file),
        **change,
    }
    out = _users_script(env)
    assert out.returncode == 1 and message in out.stderr, out.stderr
    assert "LỖI" in out.stderr and not pw_file.exists()


# --- a real api-server with the production auth settings --------------------------------------


@pytest.fixture(scope="module")
def production(tmp_path_factory):
    base = tmp_path_factory.mktemp("access")
    env = real_env()
    config = compose_config(base / "compose", env)
    assert config.returncode == 0, config.stderr
    api_env = service_env(config.stdout, "airflow-apiserver")
    # The auth manager, its users and the signing secrets exactly as compose gives them; the
    # database, executor and paths are the test stack's own (no Postgres/Redis containers here).
    auth_env = {k: v for k, v in api_env.items() if re.search(r"AUTH_MANAGER|API_AUTH|SECRET_KEY|FERNET_KEY", k)}
    assert auth_env["AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_ALL_ADMINS"] == "false"
    pw_file = base / "simple_auth_manager_passwords.json"
    init_env = service_env(config.stdout, "airflow-init")
    out = _users_script({**init_env, "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE": str(pw_file)})
    assert out.returncode == 0, out.stderr
    users = dict(u.split(":") for u in auth_env["AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS"].split(","))
    data = base / "data"
    stack = AirflowStack(
        home=base / "airflow",
        dags_folder=ROOT / "dags",
        metadata_url=f"sqlite:///{base / 'airflow' / 'airflow.db'}",
        users=users,
        extra_env={
            **auth_env,
            "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE": str(pw_file),
            "CCHC_HOME": str(ROOT),
            "CCHC_DATA_DIR": str(data),
            "CCHC_WAREHOUSE_URL": f"sqlite:///{data / 'warehouse.db'}",
        },
    )
    stack.configure()
    stack.passwords = dict(p.split(":", 1) for p in env["AIRFLOW_USER_PASSWORDS"].split(","))
    try:
        stack.migrate()
        stack.start()
        stack.wait_for(lambda: _all_parsed(stack, _user_with(users, "admin")), 180, "the cchc DAGs to be parsed")
        yield stack, users
    finally:
        stack.stop()
        left = stack.leftovers()
        assert left == [], "processes left running:\n" + "\n".join(left)


def _user_with(users: dict[str, str], role: str) -> str:
    return next(name for name, r in users.items() if r == role)


def _all_parsed(stack: AirflowStack, user: str) -> bool:
    errors = stack.request("GET", "/api/v2/importErrors", user=user)["import_errors"]
    assert not errors, errors
    dags = {d["dag_id"] for d in stack.request("GET", "/api/v2/dags", user=user)["dags"]}
    return set(DAG_IDS) <= dags


def _status(call) -> int:
    try:
        call()
    except ApiError as e:
        return e.status
    return 200


def _trigger_body(dag_id: str) -> dict:
    conf = {"period": "2024-H1", "approval": True} if dag_id == "cchc_period_report" else {}
    return {"logical_date": None, "conf": conf}


@pytest.mark.e2e
def test_unauthenticated_requests_are_refused(production):
    stack, users = production
    for method, path, body in [
        ("GET", "/api/v2/dags", None),
        ("GET", "/api/v2/dags/cchc_period_report/dagRuns", None),
        ("GET", "/api/v2/dags/~/dagRuns/~/hitlDetails", None),
        ("POST", "/api/v2/dags/cchc_ingest/dagRuns", _trigger_body("cchc_ingest")),
    ]:
        status = _status(lambda: stack.request(method, path, body, auth=False))
        assert status in (401, 403), (method, path, status)
    # A token signed with another secret, and a wrong password, get nothing either.
    import jwt

    forged = jwt.encode({"sub": "admin", "role": "admin", "aud": "apache-airflow"}, "not-the-secret-" * 8, "HS512")
    req = urllib.request.Request(stack.base_url + "/api/v2/dags", headers={"Authorization": f"Bearer {forged}"})
    with pytest.raises(urllib.error.HTTPError) as err:
        urllib.request.urlopen(req, timeout=30)
    assert err.value.code in (401, 403)
    admin = _user_with(users, "admin")
    status = _status(
        lambda: stack.request("POST", "/auth/token", {"username": admin, "password": "wrong-password"}, auth=False)
    )
    assert status in (401, 403)
    # Every user had a password from .env: SimpleAuthManager generated and logged none.
    assert "Password for user" not in stack.proc_log("api-server")
    assert not any(p in stack.proc_log("api-server") for p in stack.passwords.values())


@pytest.mark.e2e
def test_viewer_reads_but_cannot_trigger_or_approve(production):
    stack, users = production
    viewer = _user_with(users, "viewer")
    dags = {d["dag_id"] for d in stack.request("GET", "/api/v2/dags", user=viewer)["dags"]}
    assert set(DAG_IDS) <= dags
    for dag_id in DAG_IDS:
        stack.request("GET", f"/api/v2/dags/{dag_id}/dagRuns", user=viewer)
        stack.request("GET", f"/api/v2/dags/{dag_id}/details", user=viewer)
        assert (
            _status(lambda: stack.request("POST", f"/api/v2/dags/{dag_id}/dagRuns", _trigger_body(dag_id), user=viewer))
            == 403
        )
        assert (
            _status(lambda: stack.request("PATCH", f"/api/v2/dags/{dag_id}", {"is_paused": False}, user=viewer)) == 403
        )
    stack.request("GET", "/api/v2/dags/~/dagRuns/~/hitlDetails", user=viewer)  # sees the Required actions list
    answer = {"chosen_options": ["Phê duyệt (Approve)"], "params_input": {}}
    path = "/api/v2/dags/cchc_period_report/dagRuns/any/taskInstances/request_approval/-1/hitlDetails"
    assert _status(lambda: stack.request("PATCH", path, answer, user=viewer)) == 403
    assert _status(lambda: stack.request("GET", "/api/v2/connections", user=viewer)) == 403


@pytest.mark.e2e
def test_operator_triggers_and_may_answer_required_actions(production):
    stack, users = production
    ops, admin = _user_with(users, "user"), _user_with(users, "admin")
    runs = {}
    for dag_id in DAG_IDS:
        run = stack.request("POST", f"/api/v2/dags/{dag_id}/dagRuns", _trigger_body(dag_id), user=ops)
        assert run["dag_id"] == dag_id and run["state"] == "queued"  # the DAGs stay paused: nothing runs
        assert run.get("triggering_user_name") == ops, run
        runs[dag_id] = run["dag_run_id"]
    # Answering a Required actions request: the access check passes (an operator is refused only
    # because this run has not reached its request yet), where the viewer got 403.
    answer = {"chosen_options": ["Phê duyệt (Approve)"], "params_input": {}}
    path = (
        f"/api/v2/dags/cchc_period_report/dagRuns/{quote(runs['cchc_period_report'], safe='')}"
        "/taskInstances/request_approval/-1/hitlDetails"
    )
    with pytest.raises(ApiError) as err:
        stack.request("PATCH", path, answer, user=ops)
    assert err.value.status == 404, err.value
    # Operators run the pipeline; the secrets behind it stay with the admin.
    assert _status(lambda: stack.request("GET", "/api/v2/connections", user=ops)) == 403
    assert _status(lambda: stack.request("GET", "/api/v2/variables", user=ops)) == 403
    stack.request("GET", "/api/v2/connections", user=admin)


@pytest.mark.e2e
def test_operator_clears_tasks_but_only_the_admin_deletes(production):
    """Least privilege (cchc.orchestration.access.CchcAuthManager): ops clear tasks and re-run, but a
    run is the record of which files were taken and what units were told — only the admin deletes."""
    stack, users = production
    ops, admin = _user_with(users, "user"), _user_with(users, "admin")
    run = stack.request("POST", "/api/v2/dags/cchc_ingest/dagRuns", _trigger_body("cchc_ingest"), user=ops)
    run_id = quote(run["dag_run_id"], safe="")
    cleared = stack.request(
        "POST",
        "/api/v2/dags/cchc_ingest/clearTaskInstances",
        {"dry_run": True, "dag_run_id": run["dag_run_id"], "only_failed": False},
        user=ops,
    )
    assert "task_instances" in cleared
    for path in (
        f"/api/v2/dags/cchc_ingest/dagRuns/{run_id}",
        f"/api/v2/dags/cchc_ingest/dagRuns/{run_id}/taskInstances/receive",
        "/api/v2/dags/cchc_ingest",
    ):
        assert _status(lambda: stack.request("DELETE", path, user=ops)) == 403, path
    assert stack.request("GET", f"/api/v2/dags/cchc_ingest/dagRuns/{run_id}", user=ops)["state"] == "queued"
    stack.request("DELETE", f"/api/v2/dags/cchc_ingest/dagRuns/{run_id}", user=admin, raw=True)
    assert _status(lambda: stack.request("GET", f"/api/v2/dags/cchc_ingest/dagRuns/{run_id}", user=admin)) == 404
