"""CCHC report consolidation: read, validate, load, consolidate and publish unit submissions.

The Airflow DAGs, the `cchc` command line and the tests all call this package; nothing here
imports Airflow, so every step can be run and tested on its own.
"""

__version__ = "0.1.0"
