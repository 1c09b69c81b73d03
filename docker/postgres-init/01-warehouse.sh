#!/usr/bin/env bash
# Creates the CCHC warehouse next to Airflow's metadata database.
#
# Run by the postgres image's entrypoint (mounted into /docker-entrypoint-initdb.d)
# once, when the data volume is initialised for the first time. The image may
# execute this file or source it, so it sets no shell options and defines no
# functions. Values come from the postgres service's environment (.env):
#   CCHC_WAREHOUSE_DB (default cchc), CCHC_WAREHOUSE_USER (default cchc),
#   CCHC_WAREHOUSE_PASSWORD (required).
# The password is read inside psql with \getenv, so it never appears on a
# command line; identifiers and literals are quoted with format(%I, %L).

if [ -z "${CCHC_WAREHOUSE_PASSWORD:-}" ]; then
    echo "01-warehouse.sh: CCHC_WAREHOUSE_PASSWORD is not set; cannot create the warehouse role." >&2
    exit 1
fi
export CCHC_WAREHOUSE_DB="${CCHC_WAREHOUSE_DB:-cchc}"
export CCHC_WAREHOUSE_USER="${CCHC_WAREHOUSE_USER:-cchc}"

echo "01-warehouse.sh: creating role '${CCHC_WAREHOUSE_USER}' and database '${CCHC_WAREHOUSE_DB}'"

psql -v ON_ERROR_STOP=1 --no-psqlrc \
     --username "${POSTGRES_USER:-postgres}" --dbname "${POSTGRES_DB:-${POSTGRES_USER:-postgres}}" <<'EOSQL'
\getenv wh_db CCHC_WAREHOUSE_DB
\getenv wh_user CCHC_WAREHOUSE_USER
\getenv wh_password CCHC_WAREHOUSE_PASSWORD

-- Role: create it, or (re)set its password if it already exists.
SELECT format('CREATE ROLE %I LOGIN PASSWORD %L', :'wh_user', :'wh_password')
 WHERE NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = :'wh_user')
\gexec
SELECT format('ALTER ROLE %I WITH LOGIN PASSWORD %L', :'wh_user', :'wh_password')
\gexec

-- The analysts' read-only group role; the schema scripts (sql/postgresql/) grant it the views
-- and nothing else. Created here because the warehouse role has no CREATEROLE.
SELECT 'CREATE ROLE cchc_analyst NOLOGIN'
 WHERE NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'cchc_analyst')
\gexec

-- Database owned by that role.
SELECT format('CREATE DATABASE %I OWNER %I', :'wh_db', :'wh_user')
 WHERE NOT EXISTS (SELECT 1 FROM pg_database WHERE datname = :'wh_db')
\gexec

-- Only the owner (and superusers) may connect.
SELECT format('REVOKE ALL ON DATABASE %I FROM PUBLIC', :'wh_db')
\gexec
SELECT format('GRANT ALL PRIVILEGES ON DATABASE %I TO %I', :'wh_db', :'wh_user')
\gexec

-- Keep the warehouse role out of Airflow's metadata database (the database
-- this script is connected to; the Airflow user is the superuser anyway).
SELECT format('REVOKE CONNECT, TEMPORARY ON DATABASE %I FROM PUBLIC', current_database())
 WHERE current_database() <> :'wh_db'
\gexec

-- Hand the public schema of the warehouse to its owner.
\connect :"wh_db"
SELECT format('ALTER SCHEMA public OWNER TO %I', :'wh_user')
\gexec
SELECT format('REVOKE CREATE ON SCHEMA public FROM PUBLIC')
\gexec
EOSQL
