"""Write Airflow's user passwords file from the environment; refuse a weak or incomplete setting.

Run by airflow-init (docker-compose.yml) before any other Airflow service starts. Reads:

- AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS: `name:role,...` (from AIRFLOW_USERS in .env), the
  users SimpleAuthManager knows; role is one of viewer, user, op, admin.
- AIRFLOW_USER_PASSWORDS: `name:password,...` (.env only, never committed), one per user.
- AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE: where to write `{"name": "password"}`.

Every user must have its own password (else SimpleAuthManager would invent one and print it to the
log), at least MIN_LENGTH characters and not a `change-me` placeholder. The file is written with
mode 0600. Exit status 1 with every problem listed (Vietnamese first, English alongside); no
password is ever printed. Standard library only: it runs inside the Airflow image.
"""

from __future__ import annotations

import json
import os
import sys

ROLES = ("viewer", "user", "op", "admin")
MIN_LENGTH = 12


def parse_users(spec: str) -> tuple[dict[str, str], list[str]]:
    """`name:role,...` as Airflow reads it (conf.getlist, then split on ':') → ({name: role}, problems)."""
    users: dict[str, str] = {}
    problems: list[str] = []
    for entry in (e.strip() for e in spec.split(",")):
        if not entry:
            continue
        parts = entry.split(":")
        if len(parts) != 2 or not parts[0] or not parts[1]:
            problems.append(f"AIRFLOW_USERS: mục '{entry}' không có dạng tên:vai-trò / entry '{entry}' is not name:role")
            continue
        name, role = parts
        if role.lower() not in ROLES:
            problems.append(f"AIRFLOW_USERS: vai trò '{role}' của '{name}' không tồn tại (chỉ {', '.join(ROLES)}) / "
                            f"unknown role '{role}' for '{name}' (one of {', '.join(ROLES)})")
        if name in users:
            problems.append(f"AIRFLOW_USERS: '{name}' khai báo hai lần / '{name}' is declared twice")
        users[name] = role.lower()
    if not users and not problems:
        problems.append("AIRFLOW_USERS trống: cần ít nhất một người dùng / AIRFLOW_USERS is empty: declare at least one user")
    return users, problems


def parse_passwords(spec: str, users: dict[str, str]) -> tuple[dict[str, str], list[str]]:
    """`name:password,...` (split on the first ':') checked against the declared users."""
    passwords: dict[str, str] = {}
    problems: list[str] = []
    for entry in (e.strip() for e in spec.split(",")):
        if not entry:
            continue
        name, sep, password = entry.partition(":")
        if not sep or not name:
            problems.append("AIRFLOW_USER_PASSWORDS: một mục không có dạng tên:mật-khẩu / an entry is not name:password")
            continue
        if name not in users:
            problems.append(f"AIRFLOW_USER_PASSWORDS: '{name}' không có trong AIRFLOW_USERS / "
                            f"'{name}' is not in AIRFLOW_USERS")
        if name in passwords:
            problems.append(f"AIRFLOW_USER_PASSWORDS: '{name}' có hai mật khẩu / '{name}' has two passwords")
        if "change-me" in password:
            problems.append(f"AIRFLOW_USER_PASSWORDS: mật khẩu của '{name}' vẫn là giá trị mẫu change-me / "
                            f"the password of '{name}' is still the change-me placeholder")
        elif len(password) < MIN_LENGTH:
            problems.append(f"AIRFLOW_USER_PASSWORDS: mật khẩu của '{name}' ngắn hơn {MIN_LENGTH} ký tự / "
                            f"the password of '{name}' is shorter than {MIN_LENGTH} characters")
        passwords[name] = password
    for name in users:
        if name not in passwords:
            problems.append(f"AIRFLOW_USER_PASSWORDS: '{name}' chưa có mật khẩu / '{name}' has no password")
    return passwords, problems


def main(environ=os.environ) -> int:
    users, problems = parse_users(environ.get("AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS", ""))
    passwords, more = parse_passwords(environ.get("AIRFLOW_USER_PASSWORDS", ""), users)
    problems += more
    if environ.get("AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_ALL_ADMINS", "false").strip().lower() in ("true", "t", "1"):
        problems.append("SIMPLE_AUTH_MANAGER_ALL_ADMINS bật: ai cũng thành admin, không đăng nhập; chỉ dùng trên 127.0.0.1 / "
                        "SIMPLE_AUTH_MANAGER_ALL_ADMINS is on: everyone is admin without a login; local 127.0.0.1 use only")
    path = environ.get("AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE", "")
    if not path:
        problems.append("AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE chưa đặt / is not set")
    if problems:
        print("LỖI cấu hình người dùng Airflow / Airflow users are misconfigured:", file=sys.stderr)
        for p in problems:
            print(f"  - {p}", file=sys.stderr)
        return 1
    # 0600 from the first byte: the file holds plaintext passwords (SimpleAuthManager's format).
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    os.fchmod(fd, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        json.dump(passwords, fh)
        fh.write("\n")
    roles = ", ".join(f"{name} ({role})" for name, role in users.items())
    print(f"Đã ghi mật khẩu cho / passwords written for: {roles} → {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
