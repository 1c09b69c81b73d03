# Image for every Airflow service of the CCHC report-consolidation pipeline.
#
# Built by docker-compose (`build: .`); nothing is pip-installed at container
# start-up. Dependencies come from requirements.lock (pip freeze pins) and the
# project itself (`cchc` package + `cchc` console script) is installed on top
# with --no-deps, so the lock stays the single source of versions.
FROM apache/airflow:3.3.0-python3.11

# Great Expectations must not phone home from the containers.
ENV GX_ANALYTICS_ENABLED=false
# `cchc` is installed into site-packages (not editable), so it is told where the
# project folders (include/reference, sql, expectations, data) are mounted.
ENV CCHC_HOME=/opt/airflow \
    CCHC_DATA_DIR=/opt/airflow/data

# ---------------------------------------------------------------------------
# 0) Debian packages: dovecot-imapd, the IMAP server of the office mailbox that
#    the `imap` service runs (python -m cchc.ops.imapserver: a Dovecot instance
#    of its own in /opt/airflow/imap; the package's system service is not
#    used). That folder belongs to `airflow`, so the service's named volume
#    starts out writable by it. LibreOffice (Writer, no GUI), poppler-utils and
#    the DejaVu fonts draw the draft's first pages for the approval request
#    (cchc.outputs.preview: soffice → PDF → pdftoppm → PNG).
#    fonts-liberation2: Liberation Serif with every Vietnamese letter, in which
#    the charts are drawn (Times New Roman's metrics, like the report's text).
# ---------------------------------------------------------------------------
USER root
RUN apt-get update \
    && apt-get install -y --no-install-recommends dovecot-imapd \
        libreoffice-writer-nogui poppler-utils fonts-dejavu-core \
        fonts-liberation fonts-liberation2 \
    && apt-get clean \
    && rm -rf /var/lib/apt/lists/* \
    && install -d -o airflow -g 0 -m 0770 /opt/airflow/imap

# ---------------------------------------------------------------------------
# 1) Third-party dependencies, pinned by the lock file (own layer, so editing
#    project code does not reinstall them).
#    Lines that point at a local checkout (`-e ...` or `name @ file:///...`,
#    which `pip freeze` writes for the project itself) are dropped: the project
#    is installed in step 2. The lock is used both as requirements and as
#    constraints, and apache-airflow is pinned to the image's version as the
#    Airflow image docs recommend, so nothing can silently up/downgrade it.
#    pip runs as the unprivileged `airflow` user (the image installs into its
#    user site); never as root.
# ---------------------------------------------------------------------------
USER airflow
COPY requirements.lock /tmp/cchc-requirements.lock
RUN grep -vE '^[[:space:]]*(-e[[:space:]]|--editable|.*[[:space:]]@[[:space:]]*file:)' \
        /tmp/cchc-requirements.lock > /tmp/cchc-requirements.txt \
    && pip install --no-cache-dir \
        "apache-airflow==${AIRFLOW_VERSION}" \
        -r /tmp/cchc-requirements.txt \
        -c /tmp/cchc-requirements.txt \
    && (pip check || echo "WARNING: pip check reported dependency conflicts (see above)") \
    && rm -f /tmp/cchc-requirements.txt

# ---------------------------------------------------------------------------
# 2) The project package (`pip install --no-deps .`). README/LICENSE are copied
#    only if present (the bracket globs match nothing otherwise) in case
#    pyproject.toml refers to them. The build tree is handed to `airflow`
#    because setuptools writes *.egg-info into it while building.
# ---------------------------------------------------------------------------
USER root
COPY pyproject.toml README.m[d] LICENS[E] /tmp/cchc-build/
COPY include/ /tmp/cchc-build/include/
RUN chown -R airflow:0 /tmp/cchc-build

USER airflow
RUN pip install --no-cache-dir --no-deps /tmp/cchc-build \
    && python -c "import cchc" \
    && command -v cchc \
    && rm -rf /tmp/cchc-build

WORKDIR /opt/airflow
