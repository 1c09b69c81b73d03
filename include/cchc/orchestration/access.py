"""Who may do what in the Airflow UI and REST API: Airflow's SimpleAuthManager, with one rule more.

SimpleAuthManager's `user` role — the city's operations staff — may trigger DAGs, clear and mark task
instances and answer approval requests, and also delete DAGs, runs and task instances: a history ops
must never lose, since each run is the record of which files were taken and what the units were told.
Here deleting anything is for `admin` alone; every other rule is SimpleAuthManager's.
Configured as `[core] auth_manager = cchc.orchestration.access.CchcAuthManager` (docker-compose.yml,
stack/stack.py, tests/airflow_stack.py).
"""

from __future__ import annotations

from airflow.api_fastapi.auth.managers.simple.simple_auth_manager import SimpleAuthManager


class CchcAuthManager(SimpleAuthManager):
    """SimpleAuthManager in which only admins delete DAGs, runs and task instances (assets, pools,
    connections and variables are `op` and above already)."""

    def _may_delete(self, method: str, user) -> bool:
        return method != "DELETE" or self._is_admin(user)

    def is_authorized_dag(self, *, method, user, access_entity=None, details=None) -> bool:
        return self._may_delete(method, user) and super().is_authorized_dag(
            method=method, user=user, access_entity=access_entity, details=details
        )
