"""The office mailbox through `airflow dags test cchc_ingest` (issue 18): Airflow's IMAP hook on the
`cchc_imap` connection, a real Dovecot, answers through the `cchc_smtp` connection to a real SMTP server.

Three messages as units send them: a registered sender with its workbook, a stranger with another
unit's workbook (held), a question with only a Word file. One run takes, loads and answers them
all in their threads; a second run finds nothing and answers nobody again.
"""

from __future__ import annotations

import datetime as dt
import json
import os

import pytest
from conftest import dags_test, migrated_airflow
from smtp_server import SmtpServer
from test_mailbox import PROCESSED, REVIEW, SNV, T0, append, folder_ids, letter, message_id

from cchc.ops.imapserver import ImapServer

pytestmark = pytest.mark.e2e


@pytest.fixture(params=["sqlite"])
def airflow_env(tmp_path, request):
    data = tmp_path / "data"
    env, url = migrated_airflow(tmp_path / "airflow", data, request, f"cchc_e2e_mail_{os.getpid()}")
    return env, data, url


def test_the_dag_takes_the_mailbox_and_answers_each_message_in_its_thread(airflow_env, samples, tmp_path):
    from sqlalchemy import text

    from cchc.warehouse.engine import get_engine

    env, data, url = airflow_env
    h1 = samples / "h1"
    snv, cha = h1 / "SNV_2024-H1.xlsx", h1 / "CHA_2024-H1.xlsx"
    sent = {
        "good": letter(SNV, "Báo cáo CCHC 6 tháng - Sở Nội vụ", [(snv.name, snv.read_bytes())]),
        "stranger": letter("nguoila@gmail.com", "Gửi giúp Chi cục", [(cha.name, cha.read_bytes())]),
        "question": letter(SNV, "Hỏi về biểu mẫu", [("Công văn.docx", b"PK\x03\x04 a Word file")]),
    }
    with ImapServer(tmp_path / "imap") as imap, SmtpServer() as smtp:
        for i, raw in enumerate(sent.values()):
            append(imap, raw, T0 + dt.timedelta(minutes=i))
        env = {
            **env,
            "AIRFLOW_CONN_CCHC_IMAP": json.dumps(
                {
                    "conn_type": "imap",
                    "host": imap.host,
                    "port": imap.port,
                    "login": imap.user,
                    "password": imap.password,
                    "extra": {"use_ssl": False},
                }
            ),
            "AIRFLOW_CONN_CCHC_SMTP": json.dumps(
                {"conn_type": "smtp", "host": "127.0.0.1", "port": smtp.port, "extra": {"from_email": "cchc@hp.gov.vn"}}
            ),
        }
        log = dags_test(env, "cchc_ingest")
        assert "Hộp thư: đã lấy 3 thư mới, nhận 2 tệp" in log, log[-3000:]
        for raw in sent.values():  # the run's summary names each message, and so do its Data Docs
            assert f"Thư / message: {message_id(raw)}" in log
        docs = next((data / "outputs" / "datadocs").glob("*/index.html")).read_text(encoding="utf-8")
        assert message_id(sent["good"]).replace("<", "&lt;").replace(">", "&gt;") in docs
        assert folder_ids(imap, "INBOX") == []
        assert sorted(folder_ids(imap, PROCESSED)) == sorted(message_id(sent[n]) for n in ("good", "stranger"))
        assert folder_ids(imap, REVIEW) == [message_id(sent["question"])]
        replies = {m["In-Reply-To"]: m for _, _, m in smtp.messages}
        assert sorted(replies) == sorted(message_id(raw) for raw in sent.values())  # one each, in its thread
        assert "ĐƯỢC TIẾP NHẬN" in replies[message_id(sent["good"])].get_body(("plain",)).get_content()
        assert "CHỜ XÁC NHẬN" in replies[message_id(sent["stranger"])].get_body(("plain",)).get_content()
        # tell_units does not write to SNV a second time about the file answered in its thread.
        assert len(smtp.messages) == 3

        dags_test(env, "cchc_ingest")
        assert len(smtp.messages) == 3

    with get_engine(url).connect() as conn:
        status = dict(conn.execute(text("SELECT unit_code, status FROM submissions")).all())
    assert status == {"SNV": "accepted", "CHA": "held"}
