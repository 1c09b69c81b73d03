"""E-mail through the `cchc_smtp` connection and the smtp provider's hook, to real SMTP servers
(aiosmtpd, tests/smtp_server.py) that speak STARTTLS, TLS from the first byte, and AUTH LOGIN/PLAIN
with a real credential check; their certificate is made here by a test CA the client trusts through
SSL_CERT_FILE (nothing turns verification off).

The units' e-mails arrive intact over an encrypted, logged-in session (Vietnamese subject decoded,
attachment bytes equal); a wrong password fails every unit with a line saying so and sends nothing;
a refused mailbox fails that unit only and ops hear of it through the same connection; a
certificate not trusted, or a connection that does not match its server, fails clearly. The
connection's extras are read in the project's names (`use_tls`, `use_ssl`) and the provider's
(`disable_tls`, `disable_ssl`).
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import smtplib
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path

import pytest
from openpyxl import Workbook
from smtp_server import SmtpServer, make_certificate

from cchc.ops.mailsink import MailSink
from cchc.ops.notify import alert, refused_files_message, security
from cchc.ops.unit_mail import XLSX_TYPE, tell_units

pytestmark = pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS")

LOGIN, PASSWORD = "cchc-airflow", "Dung-mat-khau-2024"
OPS = "vanhanh@haiphong.gov.vn"
ON = dt.date(2026, 1, 5)


@pytest.fixture(scope="module")
def certificate(tmp_path_factory):
    return make_certificate(tmp_path_factory.mktemp("tls"))


@pytest.fixture
def trusted(monkeypatch, certificate):
    """The client trusts the test CA (and only it), as ssl.create_default_context() reads SSL_CERT_FILE."""
    monkeypatch.setenv("SSL_CERT_FILE", str(certificate.ca))
    monkeypatch.delenv("SSL_CERT_DIR", raising=False)
    return certificate


def connect(monkeypatch, server, password: str = PASSWORD, **extra) -> None:
    monkeypatch.setenv(
        "AIRFLOW_CONN_CCHC_SMTP",
        json.dumps(
            {
                "conn_type": "smtp",
                "host": "127.0.0.1",
                "port": server.port,
                "login": LOGIN,
                "password": password,
                "extra": {"to": OPS, "from_email": "cchc@haiphong.gov.vn", **extra},
            }
        ),
    )


@pytest.fixture
def outcomes(tmp_path):
    """SYT refused and SCT flagged, each with a real feedback workbook; SNV accepted (two addresses)."""
    files = {}
    for unit in ("SYT", "SCT"):
        wb = Workbook()
        wb.active.title = "Kết quả kiểm tra"
        wb.active["B5"] = f"{unit}: BỊ TỪ CHỐI – ô C10 âm"
        files[unit] = tmp_path / f"{unit}_2024-H1_v1_ket_qua_kiem_tra.xlsx"
        wb.save(files[unit])
    base = {"period_code": "2024-H1", "version": 1}
    return [
        {
            **base,
            "unit_code": "SYT",
            "file_name": "SYT_2024-H1.xlsx",
            "outcome": "rejected",
            "checksum": "a" * 64,
            "findings": ["VALUE_NEGATIVE"],
            "feedback": str(files["SYT"]),
        },
        {
            **base,
            "unit_code": "SCT",
            "file_name": "SCT_2024-H1.xlsx",
            "outcome": "accepted_with_warnings",
            "checksum": "b" * 64,
            "findings": ["VALUE_MISSING"],
            "feedback": str(files["SCT"]),
        },
        {
            **base,
            "unit_code": "SNV",
            "file_name": "SNV_2024-H1.xlsx",
            "outcome": "accepted",
            "checksum": "c" * 64,
            "findings": [],
        },
    ]


def by_unit(server, ref) -> dict[str, object]:
    """Unit code → the e-mail the server took for it (parsed from the bytes it received)."""
    out = {}
    for _, rcpts, mail in server.messages:
        code = next((u for u in ("SYT", "SCT", "SNV") if set(rcpts) & set(ref.emails_on(u, ON))), None)
        if code:
            out[code] = mail
    return out


@pytest.mark.parametrize("mechanism", ["LOGIN", "PLAIN"])
def test_starttls_and_login_deliver_each_units_mail_intact(monkeypatch, trusted, ref, outcomes, mechanism):
    with SmtpServer(
        security="starttls", certificate=trusted, credentials=(LOGIN, PASSWORD), mechanisms=(mechanism,)
    ) as server:
        connect(monkeypatch, server, use_tls=True)
        counts = tell_units(outcomes, ref, engine=None, on=ON)
    assert (counts["sent"], counts["failed"], counts["refused_addresses"]) == (3, 0, [])
    assert server.logins == [(mechanism, LOGIN)] * 3  # one session per unit, each logged in
    assert server.tls == ["TLSv1.3"] * 3  # every message went over the encrypted link
    mails = by_unit(server, ref)
    assert mails["SYT"]["Subject"] == (
        "[CCHC] Sở Y tế (SYT): Báo cáo bị từ chối – cần sửa và gửi lại / report refused: please fix and resend"
    )
    assert mails["SNV"]["Subject"] == "[CCHC] Sở Nội vụ (SNV): Đã tiếp nhận báo cáo / report received"
    raw = server.raw[0].split(b"\r\n\r\n", 1)[0]
    assert raw.isascii() and b"=?utf-8?" in raw  # headers RFC 2047-encoded, decoded above to the same words
    body = mails["SYT"].get_body().get_content()
    assert "Kính gửi / To: Sở Y tế (SYT)" in body and "Các lỗi cần sửa / what to fix:" in body
    assert "- VALUE_NEGATIVE" in body and "Mã biên nhận / receipt: aaaaaaaaaaaa" in body
    for unit, o in (("SYT", outcomes[0]), ("SCT", outcomes[1])):
        (part,) = mails[unit].iter_attachments()
        assert part.get_filename() == f"Kết quả kiểm tra {unit} 2024-H1 phiên bản 1.xlsx"
        assert (part.get_content_maintype(), part.get_content_subtype()) == XLSX_TYPE
        assert part.get_content() == Path(o["feedback"]).read_bytes()
    assert list(mails["SNV"].iter_attachments()) == []
    assert sorted(r for _, rcpts, _ in server.messages for r in rcpts if "snv" in r) == sorted(ref.emails_on("SNV", ON))


def test_a_wrong_password_fails_each_unit_clearly_and_sends_nothing(
    monkeypatch, trusted, ref, outcomes, caplog, capsys
):
    with SmtpServer(security="starttls", certificate=trusted, credentials=(LOGIN, PASSWORD)) as server:
        connect(monkeypatch, server, password="sai-mat-khau", use_tls=True)
        with caplog.at_level(logging.WARNING, logger="cchc.ops.unit_mail"):
            counts = tell_units(outcomes, ref, engine=None, on=ON)  # does not raise
    assert (counts["sent"], counts["failed"], sorted(counts["failed_units"])) == (0, 3, ["SCT", "SNV", "SYT"])
    assert server.messages == [] and server.logins == []
    failed = [line for line in capsys.readouterr().out.splitlines() if "\tfailed\t" in line]
    assert len(failed) == 3
    for line in failed:
        assert (
            "máy chủ thư từ chối đăng nhập: sai tên đăng nhập hoặc mật khẩu của kết nối cchc_smtp / the mail "
            "server refused the login: wrong login or password in connection cchc_smtp"
        ) in line
        assert "SMTPAuthenticationError" in line and "535" in line
    assert "SYT\tfailed" in caplog.text
    assert "ops alert not sent" in caplog.text  # ops' alert needs the same login: logged instead


def test_over_starttls_a_refused_mailbox_fails_that_unit_only_and_ops_hear_of_it(monkeypatch, trusted, ref, outcomes):
    (syt,) = ref.emails_on("SYT", ON)
    with SmtpServer({syt}, security="starttls", certificate=trusted, credentials=(LOGIN, PASSWORD)) as server:
        connect(monkeypatch, server, use_tls=True)
        counts = tell_units(outcomes, ref, engine=None, on=ON)
    assert (counts["sent"], counts["failed"], counts["failed_units"]) == (2, 1, ["SYT"])
    assert set(by_unit(server, ref)) == {"SCT", "SNV"}
    (ops,) = [m for _, rcpts, m in server.messages if rcpts == [OPS]]
    assert ops["Subject"] == "[CCHC] 1 đơn vị chưa nhận được thư kết quả / 1 unit(s) not told their results"
    assert (
        "Không gửi được thư kết quả cho các đơn vị / could not e-mail: SYT." in ops.get_body(("plain",)).get_content()
    )
    assert server.tls == ["TLSv1.3"] * 3 and len(server.logins) == 4  # three sessions for units (one refused)


def test_implicit_tls_with_login_delivers_alerts_and_unit_mail(monkeypatch, trusted, ref, outcomes):
    with SmtpServer(security="ssl", certificate=trusted, credentials=(LOGIN, PASSWORD)) as server:
        connect(monkeypatch, server, use_ssl=True)
        assert alert(refused_files_message(outcomes)) == "smtp"
        counts = tell_units(outcomes[:1], ref, engine=None, on=ON)
    assert counts["sent"] == 1 and server.tls == ["TLSv1.3"] * 2 and len(server.logins) == 2
    (_, rcpts, ops), (_, _, unit) = server.messages
    assert rcpts == [OPS] and ops["Subject"] == "[CCHC] 1 tệp báo cáo bị từ chối / 1 refused file(s)"
    assert "Đơn vị / unit SYT, kỳ / period 2024-H1: SYT_2024-H1.xlsx" in ops.get_body(("plain",)).get_content()
    (part,) = unit.iter_attachments()
    assert part.get_content() == Path(outcomes[0]["feedback"]).read_bytes()


@pytest.mark.parametrize(
    ("security_", "extra"),
    [
        ("starttls", {"disable_ssl": True}),
        ("ssl", {"disable_tls": True}),
        ("starttls", {"disable_ssl": True, "disable_tls": False}),
    ],
)
def test_the_providers_extra_names_work_too(monkeypatch, trusted, ref, outcomes, security_, extra):
    with SmtpServer(security=security_, certificate=trusted, credentials=(LOGIN, PASSWORD)) as server:
        connect(monkeypatch, server, **extra)
        assert tell_units(outcomes[2:], ref, engine=None, on=ON)["sent"] == 1
    assert server.tls == ["TLSv1.3"] and server.logins == [("PLAIN", LOGIN)]


def test_a_certificate_the_client_does_not_trust_fails_before_the_password_is_sent(
    monkeypatch, certificate, tmp_path, ref, outcomes, capsys
):
    other = make_certificate(tmp_path / "other")  # the client trusts another CA only
    monkeypatch.setenv("SSL_CERT_FILE", str(other.ca))
    with SmtpServer(security="starttls", certificate=certificate, credentials=(LOGIN, PASSWORD)) as server:
        connect(monkeypatch, server, use_tls=True)
        counts = tell_units(outcomes[2:], ref, engine=None, on=ON)
    assert counts["failed"] == 1 and server.messages == [] and server.logins == []
    out = capsys.readouterr().out
    assert "chứng chỉ TLS của máy chủ thư không được tin cậy" in out and "SSLCertVerificationError" in out


@pytest.mark.parametrize(
    ("extra", "said", "error"),
    [
        ({"use_tls": True}, "máy chủ thư không hỗ trợ điều kết nối cchc_smtp yêu cầu", "SMTPNotSupportedError"),
        ({"use_ssl": True}, "không thiết lập được TLS với máy chủ thư", "SSLError"),
    ],
)
def test_a_connection_that_does_not_match_its_server_fails_clearly(
    monkeypatch, trusted, ref, outcomes, capsys, extra, said, error
):
    with SmtpServer() as server:  # plain SMTP only: no STARTTLS offered, no TLS spoken
        connect(monkeypatch, server, **extra)
        counts = tell_units(outcomes[2:], ref, engine=None, on=ON)
    assert counts["failed"] == 1 and server.messages == []
    out = capsys.readouterr().out
    assert said in out and error in out


@pytest.mark.parametrize(
    ("extra", "expected"),
    [
        ({}, "plain"),
        ({"use_tls": False, "use_ssl": False}, "plain"),  # README's names, off unless given
        ({"use_tls": True}, "starttls"),
        ({"use_ssl": "true"}, "ssl"),
        ({"disable_ssl": True}, "starttls"),
        ({"disable_tls": True}, "ssl"),  # the provider's: on unless disabled
        ({"disable_tls": True, "disable_ssl": True}, "plain"),
        ({"use_tls": True, "disable_ssl": True}, "starttls"),
    ],
)
def test_how_the_connection_secures_the_link(extra, expected):
    assert security(extra) == expected


@pytest.mark.parametrize(
    ("extra", "said"),
    [
        ({"use_tls": True, "disable_tls": True}, "'use_tls' và 'disable_tls' trong extra nói ngược nhau"),
        ({"use_tls": True, "use_ssl": True}, "chọn một cách mã hóa"),
        ({"disable_tls": False, "disable_ssl": False}, "Disable SSL hoặc Disable TLS"),  # the UI's form, untouched
    ],
)
def test_a_contradicting_connection_is_refused_naming_it(extra, said):
    with pytest.raises(ValueError, match="cchc_smtp") as err:
        security(extra)
    assert said in str(err.value)


def test_the_sink_keeps_each_message_as_an_eml_file(tmp_path):
    """The `make up` sink (plain SMTP on 127.0.0.1): every message kept, and written as an .eml file."""
    mail = EmailMessage()
    mail["Subject"], mail["From"], mail["To"] = "Thư thử / test", "cchc@haiphong.gov.vn", "a@haiphong.gov.vn"
    mail.set_content("Đã nhận.\n.\n..dòng bắt đầu bằng dấu chấm\n")
    with MailSink(folder=tmp_path / "mail") as sink, smtplib.SMTP("127.0.0.1", sink.port) as client:
        client.send_message(mail)
    (eml,) = (tmp_path / "mail").glob("*.eml")
    for kept in (message_from_bytes(eml.read_bytes(), policy=policy.default), sink.messages[0][2]):
        assert kept["Subject"] == "Thư thử / test"
        assert kept.get_content().replace("\r\n", "\n") == mail.get_content()  # dots unstuffed, words intact
    assert sink.messages[0][:2] == ("cchc@haiphong.gov.vn", ["a@haiphong.gov.vn"])
