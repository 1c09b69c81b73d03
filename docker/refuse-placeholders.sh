#!/bin/sh
# Refuse to start while any setting still holds a ".env.example" placeholder, then run "$@".
#
# Used as the first step of the postgres entrypoint and of airflow-init (docker-compose.yml).
# Postgres matters most: its volume keeps the password it was initialised with, so a stack
# started once with "change-me-..." would keep that password after .env is fixed.
# Only variable NAMES are printed, never values. POSIX sh (the postgres image has no Python).

bad=""
for name in $(env | sed -n 's/^\([A-Za-z_][A-Za-z0-9_]*\)=.*/\1/p' | sort -u); do
    eval "value=\${$name-}"
    case "$value" in
        *change-me*) bad="$bad $name" ;;
    esac
done

if [ -n "$bad" ]; then
    echo "LỖI: các biến sau vẫn giữ giá trị mẫu 'change-me' của .env.example; hãy đặt bí mật thật trong .env rồi chạy lại." >&2
    echo "ERROR: these settings still hold the .env.example placeholder 'change-me'; put real secrets in .env and start again:" >&2
    for name in $bad; do
        echo "  $name" >&2
    done
    exit 1
fi

if [ "$#" -gt 0 ]; then
    exec "$@"
fi
