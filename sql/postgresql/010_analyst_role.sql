-- PostgreSQL only (applied after schema/ and marts/): the read-only group role analysts are
-- made members of. It may read the v_* views and nothing else: no base table, no writes, no DDL.
-- Views run with their owner's rights (not security_invoker), so the role needs no grant on the
-- tables behind them. Roles are cluster-wide: the warehouse user needs CREATEROLE to create it
-- once; without it, a DBA creates the role and every apply still grants on the views.
DO $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'cchc_analyst') THEN
        BEGIN
            CREATE ROLE cchc_analyst NOLOGIN;
        EXCEPTION
            WHEN duplicate_object OR unique_violation THEN NULL;  -- created meanwhile by another apply
            WHEN insufficient_privilege THEN
                RAISE WARNING 'cchc_analyst: no CREATEROLE; ask a DBA to run CREATE ROLE cchc_analyst NOLOGIN';
        END;
    END IF;
END
$$;

DO $$
DECLARE
    obj record;
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'cchc_analyst') THEN
        RETURN;
    END IF;
    EXECUTE format('GRANT CONNECT ON DATABASE %I TO cchc_analyst', current_database());
    EXECUTE format('GRANT USAGE ON SCHEMA %I TO cchc_analyst', current_schema());
    -- Whatever was granted before (by hand, or to a table that became a view) goes first.
    FOR obj IN SELECT c.relname, c.relkind FROM pg_class c
               WHERE c.relnamespace = current_schema()::regnamespace AND c.relkind IN ('r', 'v', 'm', 'S', 'p')
    LOOP
        EXECUTE format('REVOKE ALL ON %I FROM cchc_analyst', obj.relname);
        IF obj.relkind = 'v' AND obj.relname LIKE 'v\_%' THEN
            EXECUTE format('GRANT SELECT ON %I TO cchc_analyst', obj.relname);
        END IF;
    END LOOP;
END
$$;
