"""One received e-mail → what the mailbox pull needs (cchc.intake.mail): real messages as Outlook,
Thunderbird and Gmail write them, real workbooks, real zips (a bomb, Windows names, a zip in a zip,
a password flag), and IMAP's modified UTF-7 for the folders' names."""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import io
import shutil
import struct
import subprocess
import tracemalloc
import urllib.parse
import zipfile
import zlib
from email.message import EmailMessage

import pytest

from cchc.common.messages import catalogue, text
from cchc.intake.mail import (
    Delivery,
    Skipped,
    imap_utf7_decode,
    imap_utf7_encode,
    is_workbook_name,
    parse_letter,
)
from cchc.intake.package_check import MAX_FILE_BYTES, MAX_RATIO, MAX_UNCOMPRESSED
from cchc.intake.read import read_workbook

XLSX = ("application", "vnd.openxmlformats-officedocument.spreadsheetml.sheet")
DOCX = ("application", "vnd.openxmlformats-officedocument.wordprocessingml.document")
REASONS = (
    "skip_not_workbook",
    "skip_zip_bounds",
    "skip_zip_encrypted",
    "skip_zip_corrupt",
    "skip_zip_nested",
    "skip_zip_empty",
    "skip_too_large",
    "skip_tnef",
)
MB = 2**20


@pytest.fixture(scope="module")
def books(tmp_path_factory) -> dict[str, bytes]:
    """Two units' real H1-2024 workbooks, as the sample writes them."""
    from cchc.reference.sample import generate

    out = tmp_path_factory.mktemp("books")
    return {p.stem.split("_")[0]: p.read_bytes() for p in generate(out, weeks=False, units=["SNV", "SCT"])}


def _encoded_word(s: str) -> str:
    return "=?utf-8?B?" + base64.b64encode(s.encode()).decode() + "?="


def _b64(data: bytes) -> str:
    return base64.encodebytes(data).decode()


def _mail(*attachments: tuple[bytes, str, str], **headers: str) -> EmailMessage:
    """A message with a plain body and attachments (data, content type, file name)."""
    msg = EmailMessage()
    msg["From"] = headers.pop("From", "Nguyễn Văn An <an.nguyen@haiphong.gov.vn>")
    msg["To"] = "cchc@haiphong.gov.vn"
    msg["Subject"] = headers.pop("Subject", "Báo cáo CCHC 6 tháng đầu năm 2024")
    msg["Message-ID"] = headers.pop("Message_ID", "<abc.123@haiphong.gov.vn>")
    for name, value in headers.items():
        msg[name.replace("_", "-")] = value
    msg.set_content("Kính gửi Văn phòng,\nđơn vị gửi báo cáo.\n")
    for data, ctype, name in attachments:
        maintype, subtype = ctype.split("/")
        msg.add_attachment(data, maintype=maintype, subtype=subtype, filename=name)
    return msg


def _zip(members: list[tuple[str, bytes]], compression: int = zipfile.ZIP_DEFLATED) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression) as z:
        for name, data in members:
            z.writestr(name, data)
    return buf.getvalue()


def _zip_raw_names(members: list[tuple[bytes, bytes, bytes]]) -> bytes:
    """A zip whose members' names are these bytes, without the UTF-8 flag (as Windows' own zip and
    old tools write them); each (raw name, data, extra field)."""
    buf = io.BytesIO()
    placeholders = []
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_STORED) as z:
        for i, (raw, data, extra) in enumerate(members):
            placeholder = f"P{i}_".ljust(len(raw), "x")  # ASCII, so zipfile sets no flag
            info = zipfile.ZipInfo(placeholder)
            info.extra = extra
            z.writestr(info, data)
            placeholders.append((placeholder.encode(), raw))
    data = buf.getvalue()
    for placeholder, raw in placeholders:  # in the local header and the central directory
        assert data.count(placeholder) == 2
        data = data.replace(placeholder, raw)
    return data


def _central_entries(data: bytes):
    """(offset of the central directory entry, its name) for each member."""
    eocd = data.rfind(b"PK\x05\x06")
    count, _, start = struct.unpack_from("<HII", data, eocd + 10)
    pos = start
    for _ in range(count):
        n, m, k = struct.unpack_from("<HHH", data, pos + 28)
        yield pos, data[pos + 46 : pos + 46 + n]
        pos += 46 + n + m + k


def _patch(data: bytes, name: str, *, flag: int = 0, file_size: int | None = None) -> bytes:
    """Set flag bits of a member (local header and central directory) or make its declared size lie."""
    out = bytearray(data)
    for pos, raw in _central_entries(data):
        if raw != name.encode():
            continue
        local = struct.unpack_from("<I", data, pos + 42)[0]
        for at in (pos + 8, local + 6):  # general purpose flag
            struct.pack_into("<H", out, at, struct.unpack_from("<H", data, at)[0] | flag)
        if file_size is not None:
            struct.pack_into("<I", out, pos + 24, file_size)
            struct.pack_into("<I", out, local + 22, file_size)
    return bytes(out)


def _zeros_zip(name: str, size: int, also: list[tuple[str, bytes]] = ()) -> bytes:
    """A zip bomb: `size` bytes of zeros deflated (written in 1 MB chunks: never held whole)."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        for member, data in also:
            z.writestr(member, data)
        with z.open(name, "w") as f:
            for _ in range(size // MB):
                f.write(bytes(MB))
    return buf.getvalue()


def _letter_with_zip(data: bytes, name: str = "Bao cao.zip"):
    return parse_letter(_mail((data, "application/zip", name)).as_bytes())


def _reasons(letter) -> list[tuple[str, str]]:
    return [(s.file_name, s.reason) for s in letter.skipped]


# -- as mail programs write them -------------------------------------------------------------------------


def test_an_outlook_message_with_a_workbook_and_a_word_report(books, tmp_path):
    """Raw bytes as Outlook writes them: RFC 2047 names in quoted parameters, folded headers."""
    subject = "Báo cáo CCHC 6 tháng đầu năm 2024 – Sở Nội vụ"
    word = b"PK\x03\x04 a Word file"
    raw = (
        "From: " + _encoded_word("Nguyễn Văn An") + " <An.Nguyen@HaiPhong.gov.vn>\r\n"
        "To: cchc@haiphong.gov.vn\r\n"
        "Reply-To: <VanThu.SNV@HaiPhong.gov.vn>\r\n"
        "Subject: " + _encoded_word(subject[:20]) + "\r\n " + _encoded_word(subject[20:]) + "\r\n"
        "Date: Mon, 17 Jun 2024 09:30:00 +0700\r\n"
        "Message-ID:\r\n <SN4PR0001.7C1@SN4PR0001.namprd01.prod.outlook.com>\r\n"
        "References: <first@haiphong.gov.vn>\r\n <second@haiphong.gov.vn>\r\n"
        "MIME-Version: 1.0\r\n"
        'Content-Type: multipart/mixed; boundary="_004_"\r\n\r\n'
        "--_004_\r\n"
        'Content-Type: text/plain; charset="utf-8"\r\n'
        "Content-Transfer-Encoding: base64\r\n\r\n"
        + _b64("Kính gửi Văn phòng UBND thành phố,\r\nSở Nội vụ gửi báo cáo.\r\n".encode())
        + "--_004_\r\n"
        f'Content-Type: {"/".join(XLSX)}; name="{_encoded_word("Báo cáo SNV 6 tháng.xlsx")}"\r\n'
        f'Content-Disposition: attachment; filename="{_encoded_word("Báo cáo SNV 6 tháng.xlsx")}"; size={len(books["SNV"])}\r\n'
        "Content-Transfer-Encoding: base64\r\n\r\n" + _b64(books["SNV"]) + "--_004_\r\n"
        f'Content-Type: {"/".join(DOCX)}; name="=?utf-8?B?VOG7nSB0csOsbmguZG9jeA==?="\r\n'
        'Content-Disposition: attachment; filename="=?utf-8?B?VOG7nSB0csOsbmguZG9jeA==?="\r\n'
        "Content-Transfer-Encoding: base64\r\n\r\n" + _b64(word) + "--_004_--\r\n"
    ).encode()
    letter = parse_letter(raw)
    assert letter.message_id == "<SN4PR0001.7C1@SN4PR0001.namprd01.prod.outlook.com>"
    assert (letter.sender, letter.sender_name) == ("an.nguyen@haiphong.gov.vn", "Nguyễn Văn An")
    assert letter.reply_to == "vanthu.snv@haiphong.gov.vn"
    assert letter.subject == subject
    assert letter.sent_at == dt.datetime(2024, 6, 17, 2, 30, tzinfo=dt.UTC)
    assert letter.sent_at.utcoffset() == dt.timedelta(hours=7)
    assert letter.references == ("<first@haiphong.gov.vn>", "<second@haiphong.gov.vn>")
    assert letter.deliveries == (Delivery("Báo cáo SNV 6 tháng.xlsx", books["SNV"]),)
    assert letter.skipped == (Skipped("Tờ trình.docx", "mailbox.skip_not_workbook"),)
    assert letter.body_text == "Kính gửi Văn phòng UBND thành phố,\nSở Nội vụ gửi báo cáo."
    assert letter.auth_failed is False
    # What is delivered is the workbook itself: the reader reads it as a landing file, clean.
    path = tmp_path / letter.deliveries[0].file_name
    path.write_bytes(letter.deliveries[0].data)
    submission = read_workbook(path)
    assert (submission.unit_code, submission.period_code, submission.findings) == ("SNV", "2024-H1", [])


def test_thunderbird_and_gmail_names_rfc2231_continuations_and_raw_utf8(books):
    name = "Báo cáo SCT 2024.xlsx"
    quoted = urllib.parse.quote(name)
    half = len(quoted) // 2
    raw = (
        "From: =?UTF-8?Q?Tr=E1=BA=A7n_Th=E1=BB=8B_B=C3=ACnh?= <binh.tt@haiphong.gov.vn>\r\n"
        "Subject: =?UTF-8?Q?G=E1=BB=ADi_b=C3=A1o_c=C3=A1o?=\r\n"
        "Message-ID: <tb-1@haiphong.gov.vn>\r\n"
        'Content-Type: multipart/mixed; boundary="b1"\r\n\r\n'
        "--b1\r\nContent-Type: text/plain; charset=UTF-8\r\n\r\nxem tệp\r\n"
        "--b1\r\n"
        f"Content-Type: application/octet-stream\r\n"
        f"Content-Disposition: attachment; filename*=utf-8''{quoted}\r\n"
        "Content-Transfer-Encoding: base64\r\n\r\n" + _b64(books["SCT"]) + "--b1\r\n"
        "Content-Type: application/octet-stream\r\n"
        f"Content-Disposition: attachment;\r\n filename*0*=utf-8''{quoted[:half]};\r\n filename*1*={quoted[half:]}\r\n"
        "Content-Transfer-Encoding: base64\r\n\r\n" + _b64(books["SNV"]) + "--b1\r\n"
    ).encode() + (  # Gmail: the name in raw UTF-8, inline, the content type saying nothing
        'Content-Type: application/octet-stream; name="Bảng số liệu.XLSX  "\r\n'
        'Content-Disposition: inline; filename="Bảng số liệu.XLSX  "\r\n'
        "Content-Transfer-Encoding: base64\r\n\r\n" + _b64(books["SNV"]) + "--b1--\r\n"
    ).encode()
    letter = parse_letter(raw)
    assert [(d.file_name, d.data) for d in letter.deliveries] == [
        (name, books["SCT"]),
        (name, books["SNV"]),
        ("Bảng số liệu.XLSX", books["SNV"]),  # the trailing spaces Windows drops, dropped
    ]
    assert (letter.sender, letter.sender_name, letter.subject) == (
        "binh.tt@haiphong.gov.vn",
        "Trần Thị Bình",
        "Gửi báo cáo",
    )
    assert letter.skipped == ()


def test_names_are_nfc_and_made_harmless(books):
    nfd = "Ba\u0301o ca\u0301o.xlsx"  # as a Mac writes it
    letter = parse_letter(
        _mail(
            (books["SNV"], "/".join(XLSX), nfd),
            (books["SCT"], "/".join(XLSX), "..\\..\\windows\\SCT\u202e.xlsx"),
        ).as_bytes()
    )
    assert [d.file_name for d in letter.deliveries] == ["Báo cáo.xlsx", "SCT.xlsx"]


def test_unnamed_spreadsheets_are_named_by_their_position(books):
    msg = _mail((b"%PDF-1.7", "application/pdf", "Cong van.pdf"))
    msg.add_attachment(books["SNV"], maintype=XLSX[0], subtype=XLSX[1])  # no name at all
    msg.add_attachment(b"\xd0\xcf\x11\xe0 an xls", maintype="application", subtype="vnd.ms-excel")
    letter = parse_letter(msg.as_bytes())
    assert [(d.file_name, d.data) for d in letter.deliveries] == [
        ("tep_dinh_kem_2.xlsx", books["SNV"]),
        ("tep_dinh_kem_3.xls", b"\xd0\xcf\x11\xe0 an xls"),  # an .xls named .xls: the reader knows what it is
    ]
    assert _reasons(letter) == [("Cong van.pdf", "mailbox.skip_not_workbook")]


def test_a_message_with_only_a_word_file_delivers_nothing():
    letter = parse_letter(_mail((b"PK\x03\x04 word", "/".join(DOCX), "Báo cáo CCHC.docx")).as_bytes())
    assert letter.deliveries == ()
    assert letter.skipped == (Skipped("Báo cáo CCHC.docx", "mailbox.skip_not_workbook"),)


def test_a_forwarded_message_is_walked(books):
    """Forwarded as an attachment (message/rfc822), and the same base64-encoded as some servers do."""
    inner = _mail((books["SNV"], "/".join(XLSX), "SNV_2024-H1.xlsx"), Message_ID="<inner@haiphong.gov.vn>")
    outer = _mail((books["SCT"], "/".join(XLSX), "SCT_2024-H1.xlsx"), Subject="Fwd: Báo cáo", Message_ID="<o@x.vn>")
    outer.add_attachment(inner)
    letter = parse_letter(outer.as_bytes())
    assert [d.file_name for d in letter.deliveries] == ["SCT_2024-H1.xlsx", "SNV_2024-H1.xlsx"]
    assert letter.deliveries[1].data == books["SNV"]
    assert letter.message_id == "<o@x.vn>"  # the outer message's

    encoded = (
        b"From: a@b.vn\r\nMessage-ID: <enc@b.vn>\r\nContent-Type: multipart/mixed; boundary=zz\r\n\r\n"
        b"--zz\r\nContent-Type: message/rfc822\r\nContent-Transfer-Encoding: base64\r\n\r\n"
        + base64.encodebytes(inner.as_bytes())
        + b"--zz--\r\n"
    )
    assert [d.data for d in parse_letter(encoded).deliveries] == [books["SNV"]]


def test_winmail_dat_is_skipped_with_its_reason():
    letter = parse_letter(_mail((b"\x78\x9f\x3e\x22 tnef", "application/ms-tnef", "winmail.dat")).as_bytes())
    assert letter.skipped == (Skipped("winmail.dat", "mailbox.skip_tnef"),)


def test_a_picture_the_html_body_shows_is_not_an_attachment_but_an_attached_one_is():
    msg = _mail((b"\x89PNG photo", "image/png", "anh_chup_bien_ban.png"))
    body = msg.get_payload()[0]
    body.add_alternative(
        "<p>Kính gửi <b>Văn phòng</b>,</p><p>xem tệp&nbsp;đính kèm</p><img src='cid:logo'>", subtype="html"
    )
    html = body.get_payload()[1]
    html.add_related(b"\x89PNG logo", "image", "png", cid="<logo>", filename="image001.png", disposition="inline")
    letter = parse_letter(msg.as_bytes())
    assert _reasons(letter) == [("anh_chup_bien_ban.png", "mailbox.skip_not_workbook")]
    assert letter.body_text.startswith("Kính gửi Văn phòng,")  # the plain alternative first


def test_an_html_only_body_is_stripped_and_a_long_body_cut():
    msg = EmailMessage()
    msg["From"] = "x@y.vn"
    msg.set_content(
        "<html><head><style>p{color:red}</style></head><body><p>Kính&nbsp;gửi</p><div>Văn&#32;phòng</div>"
        "<script>alert(1)</script></body></html>",
        subtype="html",
    )
    assert parse_letter(msg.as_bytes()).body_text == "Kính gửi\n\nVăn phòng"
    long = EmailMessage()
    long.set_content("ạ" * 5000)
    assert parse_letter(long.as_bytes()).body_text == "ạ" * 2000


def test_a_bounce_delivers_nothing_of_the_message_it_returns(books):
    returned = _mail((books["SNV"], "/".join(XLSX), "phan_hoi.xlsx"))
    bounce = EmailMessage()
    bounce["From"] = "MAILER-DAEMON@haiphong.gov.vn"
    bounce.set_content("Undeliverable")
    bounce.add_attachment(returned)
    bounce.replace_header("Content-Type", bounce["Content-Type"].replace("multipart/mixed", "multipart/report"))
    letter = parse_letter(bounce.as_bytes())
    assert (letter.deliveries, letter.skipped) == ((), ())


def test_a_workbook_over_the_size_bound_is_skipped(books):
    big = b"PK" + bytes(MAX_FILE_BYTES + 10)
    letter = parse_letter(
        _mail((big, "/".join(XLSX), "SNV.xlsx"), (books["SCT"], "/".join(XLSX), "SCT.xlsx")).as_bytes()
    )
    assert [d.file_name for d in letter.deliveries] == ["SCT.xlsx"]
    assert letter.skipped == (
        Skipped("SNV.xlsx", "mailbox.skip_too_large", f"{len(big) / MB:.1f} MB > {MAX_FILE_BYTES // MB} MB"),
    )


@pytest.mark.parametrize(
    ("name", "is_one"),
    [
        ("SNV_2024-H1.xlsx", True),
        ("BAO CAO.XLSX", True),
        ("bao_cao.xlsm", True),
        ("bao cao 2003.xls", True),
        ("bao cao.ods", True),
        ("so lieu.csv", True),
        ("Báo cáo.xlsx ", True),
        ("Báo cáo.xlsx. . ", True),
        ("Báo cáo.docx", False),
        ("Báo cáo.doc", False),
        ("Công văn.pdf", False),
        ("Báo cáo.xlsx.pdf", False),
        ("Báo cáo.zip", False),
        ("xlsx", False),
    ],
)
def test_is_workbook_name(name, is_one):
    assert is_workbook_name(name) is is_one


# -- headers ---------------------------------------------------------------------------------------------


def test_a_message_without_message_id_gets_a_stable_one_from_its_bytes():
    msg = _mail()
    del msg["Message-ID"]
    raw = msg.as_bytes()
    expected = f"<{hashlib.sha256(raw).hexdigest()}@cchc.invalid>"
    assert parse_letter(raw).message_id == expected
    assert parse_letter(raw).message_id == expected  # the same bytes again: the same id
    assert parse_letter(raw + b"\n").message_id != expected
    assert parse_letter(raw.replace(b"Subject:", b"Message-ID:  \r\nSubject:")).message_id.endswith("@cchc.invalid>")


def test_authentication_results_that_fail_are_flagged():
    def auth(*values: str) -> bool:
        msg = _mail()
        for v in values:
            msg["Authentication-Results"] = v
        return parse_letter(msg.as_bytes()).auth_failed

    assert auth(
        "mx.haiphong.gov.vn; spf=pass smtp.mailfrom=x.vn; dkim=pass header.d=x.vn; dmarc=fail (p=none) header.from=x.vn"
    )
    assert auth("mx.haiphong.gov.vn; spf=pass", "mx2.haiphong.gov.vn; dkim=FAIL reason=bad signature")
    assert auth("mx; spf = fail smtp.mailfrom=x.vn")
    assert not auth("mx.haiphong.gov.vn; spf=pass smtp.mailfrom=x.vn; dkim=pass; dmarc=pass")
    assert not auth("mx; spf=softfail smtp.mailfrom=x.vn; dkim=none; dmarc=bestguesspass")
    assert not auth("mx; spf=pass (not spf=fail (nested)) smtp.mailfrom=x.vn")  # in comments only
    assert not auth()


def test_dates_senders_and_references_as_they_come():
    def letter(**headers):
        return parse_letter(_mail(**headers).as_bytes())

    assert letter().sent_at is None
    assert letter(Date="Mon, 17 Jun 2024 09:30:00 -0000").sent_at == dt.datetime(2024, 6, 17, 9, 30, tzinfo=dt.UTC)
    assert letter(Date="thứ hai, 17/6/2024").sent_at is None
    no_address = letter(From="Văn thư (không có địa chỉ)")
    assert (no_address.sender, no_address.reply_to) == ("", "")
    assert letter(From='"Phòng Nội vụ, quận Hồng Bàng" <PNV.HongBang@HaiPhong.gov.vn>').sender_name == (
        "Phòng Nội vụ, quận Hồng Bàng"
    )
    assert letter(In_Reply_To="<reply.to@this>").references == ("<reply.to@this>",)
    both = letter(In_Reply_To="<b@x>", References="<a@x> <b@x> <b@x>")
    assert both.references == ("<a@x>", "<b@x>")
    assert letter(Subject="  Re:   Báo cáo\t CCHC  ").subject == "Re: Báo cáo CCHC"
    empty = EmailMessage()
    empty.set_content("?")
    bare = parse_letter(empty.as_bytes())
    assert (bare.sender, bare.sender_name, bare.subject, bare.references) == ("", "", "", ())


# -- zips ------------------------------------------------------------------------------------------------


def test_a_zip_is_unpacked_flat_with_its_litter_ignored(books):
    data = _zip(
        [
            ("Bao cao/", b""),
            ("Bao cao/SNV_2024-H1.xlsx", books["SNV"]),
            ("Bao cao/To trinh.docx", b"PK word"),
            ("__MACOSX/Bao cao/._SNV_2024-H1.xlsx", b"\0\5\26\7"),
            ("Bao cao/.DS_Store", b"\0\0\0\1Bud1"),
            ("Bao cao/~$SNV_2024-H1.xlsx", b"\x0bNguyen Van An"),
            ("Bao cao/Nam 2024/SCT_2024-H1.xlsx", books["SCT"]),
        ]
    )
    letter = _letter_with_zip(data)
    assert letter.deliveries == (
        Delivery("SNV_2024-H1.xlsx", books["SNV"], from_zip="Bao cao.zip"),
        Delivery("SCT_2024-H1.xlsx", books["SCT"], from_zip="Bao cao.zip"),
    )
    assert _reasons(letter) == [("Bao cao.zip/To trinh.docx", "mailbox.skip_not_workbook")]


def test_zip_member_names_from_windows_and_other_tools(books):
    name = "Báo cáo Hải Phòng.xlsx"
    cp437 = "Báo cáo.xlsx"  # what cp437 can spell
    crc = zlib.crc32(b"Bao cao HP.xlsx")
    unicode_path = struct.pack("<HHBI", 0x7075, 5 + len(name.encode()), 1, crc) + name.encode()
    data = _zip_raw_names(
        [
            (name.encode("utf-8"), books["SNV"], b""),  # UTF-8 without the flag (7-Zip, Linux zip)
            (cp437.encode("cp437"), books["SCT"], b""),  # Windows Explorer on a Western code page
            (b"Bao cao HP.xlsx", books["SNV"], unicode_path),  # WinRAR: the Unicode path in an extra field
        ]
    )
    flagged = _zip([(name, books["SCT"])])  # zipfile sets the UTF-8 flag for it
    assert zipfile.ZipFile(io.BytesIO(flagged)).infolist()[0].flag_bits & 0x800
    assert [(d.file_name, d.data) for d in _letter_with_zip(data).deliveries] == [
        (name, books["SNV"]),
        (cp437, books["SCT"]),
        (name, books["SNV"]),
    ]
    assert [d.file_name for d in _letter_with_zip(flagged).deliveries] == [name]


@pytest.fixture(scope="module")
def bomb() -> bytes:
    """100 MB of zeros in a member named like a workbook: ~100 KB of zip."""
    return _zeros_zip("bom.xlsx", 100 * MB)


def test_a_zip_bomb_is_refused_on_its_headers(bomb, books):
    assert len(bomb) < MB
    letter = _letter_with_zip(bomb)
    assert letter.deliveries == ()
    detail = f"giải nén/uncompressed {100.0:.1f} MB > {MAX_UNCOMPRESSED // MB} MB"  # all members
    assert letter.skipped == (Skipped("Bao cao.zip", "mailbox.skip_zip_bounds", detail),)

    # One member over its own bound, beside a good one; and one over the compression ratio.
    over = _zeros_zip("Bang so lieu.xlsx", 25 * MB, also=[("SNV_2024-H1.xlsx", books["SNV"])])
    letter = _letter_with_zip(over)
    assert [d.file_name for d in letter.deliveries] == ["SNV_2024-H1.xlsx"]
    assert letter.skipped == (
        Skipped(
            "Bao cao.zip/Bang so lieu.xlsx",
            "mailbox.skip_zip_bounds",
            f"giải nén/uncompressed {25.0:.1f} MB > {MAX_FILE_BYTES // MB} MB",
        ),
    )
    dense = _zeros_zip("SCT_2024-H1.xlsx", 5 * MB)
    info = zipfile.ZipFile(io.BytesIO(dense)).getinfo("SCT_2024-H1.xlsx")
    assert info.file_size // info.compress_size > MAX_RATIO
    assert _letter_with_zip(dense).skipped == (
        Skipped(
            "Bao cao.zip/SCT_2024-H1.xlsx",
            "mailbox.skip_zip_bounds",
            f"tỷ lệ nén/ratio {info.file_size // info.compress_size}:1 > {MAX_RATIO}:1",
        ),
    )


def test_a_zip_bomb_whose_headers_lie_costs_bounded_memory(bomb):
    """The directory says 1,000 bytes (or just under the bound): the member is read with a bounded read
    and its CRC does not match what was read, so it is a corrupt member, not 100 MB in memory."""
    for declared in (1000, MAX_FILE_BYTES - 1):
        liar = _patch(bomb, "bom.xlsx", file_size=declared)
        assert zipfile.ZipFile(io.BytesIO(liar)).getinfo("bom.xlsx").file_size == declared
        tracemalloc.start()
        try:
            letter = _letter_with_zip(liar)
            peak = tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()
        assert letter.deliveries == ()
        if declared == 1000:
            [skipped] = letter.skipped
            assert (skipped.file_name, skipped.reason) == ("Bao cao.zip/bom.xlsx", "mailbox.skip_zip_corrupt")
            assert "CRC" in skipped.detail
        else:  # ~20 MB of zeros from ~100 KB: the ratio, before anything is inflated
            assert [s.reason for s in letter.skipped] == ["mailbox.skip_zip_bounds"]
        assert peak < 8 * MB  # 3.7 MB measured (the catalogue read included); inflated, the member is 100 MB


def test_a_zip_in_a_zip_is_not_unpacked(books):
    inner = _zip([("SCT_2024-H1.xlsx", books["SCT"])])
    letter = _letter_with_zip(_zip([("SNV_2024-H1.xlsx", books["SNV"]), ("cu/ban cu.ZIP", inner)]))
    assert [d.file_name for d in letter.deliveries] == ["SNV_2024-H1.xlsx"]
    assert _reasons(letter) == [("Bao cao.zip/ban cu.ZIP", "mailbox.skip_zip_nested")]
    only = _letter_with_zip(_zip([("ban cu.zip", inner)]))
    assert (only.deliveries, _reasons(only)) == ((), [("Bao cao.zip/ban cu.zip", "mailbox.skip_zip_nested")])


def test_an_encrypted_member_or_zip_is_skipped(books):
    """The encryption flag set by hand (zipfile cannot encrypt): what a reader must not try to open."""
    data = _zip([("SNV_2024-H1.xlsx", books["SNV"]), ("SCT_2024-H1.xlsx", books["SCT"])])
    one = _patch(data, "SCT_2024-H1.xlsx", flag=0x1)
    letter = _letter_with_zip(one)
    assert [d.file_name for d in letter.deliveries] == ["SNV_2024-H1.xlsx"]
    assert _reasons(letter) == [("Bao cao.zip/SCT_2024-H1.xlsx", "mailbox.skip_zip_encrypted")]
    both = _patch(one, "SNV_2024-H1.xlsx", flag=0x1)
    letter = _letter_with_zip(both)
    assert letter.deliveries == ()
    assert letter.skipped == (Skipped("Bao cao.zip", "mailbox.skip_zip_encrypted", "2 tệp trong zip/files in the zip"),)


def test_a_corrupt_zip_or_member_is_skipped(books):
    data = _zip([("SNV_2024-H1.xlsx", books["SNV"]), ("SCT_2024-H1.xlsx", books["SCT"])])
    letter = _letter_with_zip(data[: len(data) // 2])
    assert _reasons(letter) == [("Bao cao.zip", "mailbox.skip_zip_corrupt")]
    assert letter.skipped[0].detail.startswith("zip: ")
    info = zipfile.ZipFile(io.BytesIO(data)).getinfo("SCT_2024-H1.xlsx")
    start = info.header_offset + 30 + len(info.filename) + len(info.extra)
    spoilt = bytearray(data)
    spoilt[start + 100 : start + 200] = bytes(100)  # the deflated stream of the second member
    letter = _letter_with_zip(bytes(spoilt))
    assert [d.file_name for d in letter.deliveries] == ["SNV_2024-H1.xlsx"]
    assert _reasons(letter) == [("Bao cao.zip/SCT_2024-H1.xlsx", "mailbox.skip_zip_corrupt")]


def test_a_zip_without_a_workbook_or_with_too_much(books):
    letter = _letter_with_zip(_zip([("To trinh.docx", b"PK word"), ("__MACOSX/._To trinh.docx", b"x")]))
    assert letter.skipped == (Skipped("Bao cao.zip", "mailbox.skip_zip_empty", "1 tệp trong zip/files in the zip"),)
    many = _zip([(f"f{i}.csv", b"a;b\n") for i in range(301)])
    assert _letter_with_zip(many).skipped == (
        Skipped("Bao cao.zip", "mailbox.skip_zip_bounds", "301 tệp trong zip/files in the zip > 300"),
    )
    noise = bytes(range(256)) * (MAX_FILE_BYTES // 256 + 4096)
    large = _zip([("SNV_2024-H1.xlsx", books["SNV"]), ("anh.bmp", noise)], zipfile.ZIP_STORED)
    assert len(large) > MAX_FILE_BYTES
    assert _letter_with_zip(large).skipped == (
        Skipped("Bao cao.zip", "mailbox.skip_zip_bounds", f"{len(large) / MB:.1f} MB > {MAX_FILE_BYTES // MB} MB"),
    )


def test_an_unnamed_zip_is_unpacked_by_its_type(books):
    msg = _mail()
    msg.add_attachment(_zip([("SNV_2024-H1.xlsx", books["SNV"])]), maintype="application", subtype="x-zip-compressed")
    assert parse_letter(msg.as_bytes()).deliveries == (
        Delivery("SNV_2024-H1.xlsx", books["SNV"], from_zip="tep_dinh_kem_1.zip"),
    )


# -- the catalogue ---------------------------------------------------------------------------------------


def test_every_reason_is_in_the_catalogue_in_both_languages_without_fields():
    for reason in REASONS:
        said = text(f"mailbox.{reason}")  # the reply asks without fields: the detail stands beside
        assert said.vi and said.en and said.vi != said.en
        assert "{" not in catalogue()[f"mailbox.{reason}"]["vi"]


# -- IMAP's modified UTF-7 (RFC 3501 5.1.3) ---------------------------------------------------------------

# As Dovecot 2.3 writes them (`doveadm mailbox mutf7 NAME`).
MUTF7 = {
    "CCHC/Đã xử lý": "CCHC/&ARAA4w- x&Hu0- l&AP0-",
    "CCHC/Cần xem": "CCHC/C&Hqc-n xem",
    "&": "&-",
    "Tiếng Việt ~ ưu tiên": "Ti&Hr8-ng Vi&Hsc-t ~ &AbA-u ti&AOo-n",
    "INBOX": "INBOX",
    "Báo cáo & đánh giá/Đợt 1": "B&AOE-o c&AOE-o &- &AREA4Q-nh gi&AOE-/&ARAe4w-t 1",
    "📊 Số liệu": "&2D3cyg- S&HtE- li&Hsc-u",  # beyond the BMP: a surrogate pair
}


@pytest.mark.parametrize(("name", "encoded"), MUTF7.items())
def test_modified_utf7_round_trip(name, encoded):
    assert imap_utf7_encode(name) == encoded
    assert imap_utf7_decode(encoded) == name
    assert encoded.isascii() and encoded.isprintable()


def test_modified_utf7_as_dovecot_writes_it():
    doveadm = shutil.which("doveadm")
    if not doveadm:
        pytest.skip("doveadm (Dovecot) is not installed: the literal values above stand")
    run = subprocess.run([doveadm, "mailbox", "mutf7", *MUTF7], capture_output=True, text=True, timeout=30)
    if run.returncode:
        pytest.skip(f"doveadm cannot run here: {run.stderr.strip()[:200]}")
    assert run.stdout.splitlines() == [imap_utf7_encode(n) for n in MUTF7]
    back = subprocess.run([doveadm, "mailbox", "mutf7", "-7", *MUTF7.values()], capture_output=True, text=True)
    assert back.stdout.splitlines() == list(MUTF7)


@pytest.mark.parametrize("bad", ["&ARA", "a&b-", "Đã", "&A-"])
def test_what_is_not_modified_utf7_is_an_error(bad):
    with pytest.raises(ValueError):
        imap_utf7_decode(bad)
