"""One e-mail as the office mailbox received it (raw RFC 5322 bytes) → what the mailbox pull needs.

Units send their workbooks attached to an e-mail, often beside a Word report, sometimes zipped,
sometimes forwarded. `parse_letter` reads the headers the reply and the sender check need, and turns
the attachments into Deliveries (workbooks, received like landing files) and Skipped (everything
else, with a catalogue key of messages/mailbox.yml saying why, for the reply). Pure: no network, no
database; the IMAP pull, the records and the replies are `cchc.loading.mailbox` and `cchc.ops.replies`.

A zip is unpacked within the bounds of a received workbook (`cchc.intake.package_check`): the zip
≤ MAX_FILE_BYTES, each member ≤ MAX_FILE_BYTES uncompressed, all members ≤ MAX_UNCOMPRESSED,
compression ratio ≤ MAX_RATIO, ≤ 300 members; members are read with a bounded read, so a zip bomb
costs at most one member's bound in memory whatever its headers say.
"""

from __future__ import annotations

import base64
import hashlib
import io
import lzma
import re
import struct
import unicodedata
import zipfile
import zlib
from dataclasses import dataclass
from datetime import UTC, datetime
from email import policy
from email.header import decode_header, make_header
from email.message import EmailMessage, Message
from email.parser import BytesParser
from email.utils import getaddresses, parsedate_to_datetime
from html.parser import HTMLParser

from cchc.common.findings import terse
from cchc.intake.package_check import MAX_FILE_BYTES, MAX_RATIO, MAX_UNCOMPRESSED
from cchc.intake.receipts import safe_name

MAX_MEMBERS = 300  # entries of a zip, folders included
MAX_BODY = 2_000  # characters of body_text
MAX_DEPTH = 20  # nesting of multiparts and forwarded messages walked

SKIP_NOT_WORKBOOK = "mailbox.skip_not_workbook"
SKIP_ZIP_BOUNDS = "mailbox.skip_zip_bounds"
SKIP_ZIP_ENCRYPTED = "mailbox.skip_zip_encrypted"
SKIP_ZIP_CORRUPT = "mailbox.skip_zip_corrupt"
SKIP_ZIP_NESTED = "mailbox.skip_zip_nested"
SKIP_ZIP_EMPTY = "mailbox.skip_zip_empty"
SKIP_TOO_LARGE = "mailbox.skip_too_large"
SKIP_TNEF = "mailbox.skip_tnef"

_WORKBOOK = re.compile(r"\.(?:xlsx|xlsm|xls|ods|csv)[\s.]*\Z", re.I)
_ZIP = re.compile(r"\.zip[\s.]*\Z", re.I)
# An unnamed attachment is called tep_dinh_kem_N + the extension of its type.
_EXTENSIONS = {
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": ".xlsx",
    "application/vnd.ms-excel.sheet.macroenabled.12": ".xlsm",
    "application/vnd.ms-excel": ".xls",
    "application/vnd.oasis.opendocument.spreadsheet": ".ods",
    "application/zip": ".zip",
    "application/x-zip-compressed": ".zip",
    "application/x-zip": ".zip",
    "application/pdf": ".pdf",
    "application/msword": ".doc",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document": ".docx",
    "image/png": ".png",
    "image/jpeg": ".jpg",
    "text/plain": ".txt",
    "text/csv": ".csv",
}
_SPREADSHEET_TYPES = {t for t, ext in _EXTENSIONS.items() if ext in (".xlsx", ".xlsm", ".xls", ".ods")}
_ZIP_TYPES = {t for t, ext in _EXTENSIONS.items() if ext == ".zip"}
_TNEF_TYPES = {"application/ms-tnef", "application/vnd.ms-tnef"}
# Parts of signing or encrypting a message, not files the unit sent: not listed in the reply.
_SIGNATURE_TYPES = {
    "application/pkcs7-signature",
    "application/x-pkcs7-signature",
    "application/pgp-signature",
    "application/pgp-keys",
    "application/pgp-encrypted",
}
_AUTH_FAIL = re.compile(r"\b(?:spf|dkim|dmarc)\s*=\s*fail\b", re.I)
_COMMENT = re.compile(r"\([^()]*\)")
_MSGID = re.compile(r"<[^<>]*>")
_ZIP_ERRORS = (
    zipfile.BadZipFile,
    zipfile.LargeZipFile,
    OSError,
    EOFError,
    ValueError,
    NotImplementedError,
    RuntimeError,
    zlib.error,
    lzma.LZMAError,
    struct.error,
)


@dataclass(frozen=True)
class Delivery:
    """One workbook to receive, as a landing file would be."""

    file_name: str  # harmless base name (a zip member's base name, its folders dropped)
    data: bytes
    from_zip: str = ""  # name of the zip it was unpacked from, '' if attached directly


@dataclass(frozen=True)
class Skipped:
    """An attachment (or zip member) that is not received, and why. A zip member is named
    `<zip name>/<member base name>`, so the reply says where it was."""

    file_name: str
    reason: str  # a catalogue key of messages/mailbox.yml (SKIP_*)
    detail: str = ""  # the numbers (a bound exceeded, a zip's error), the same in both languages


@dataclass(frozen=True)
class Letter:
    message_id: str  # with <>; "<sha256 of the raw bytes@cchc.invalid>" when missing
    sender: str  # From address, lower-cased; '' if none or unparseable
    sender_name: str
    reply_to: str  # Reply-To address, lower-cased, or ''
    subject: str  # decoded, NFC, whitespace collapsed
    sent_at: datetime | None  # aware (a "-0000" zone is read as UTC)
    references: tuple[str, ...]  # References' ids (In-Reply-To's single id when there is no References)
    deliveries: tuple[Delivery, ...]
    skipped: tuple[Skipped, ...]
    body_text: str  # first text/plain body (or text/html without tags), ≤ MAX_BODY characters
    auth_failed: bool  # an Authentication-Results header says spf, dkim or dmarc = fail


def is_workbook_name(name: str) -> bool:
    """A spreadsheet we receive: .xlsx .xlsm .xls .ods .csv, whatever the case, trailing spaces or dots."""
    return bool(_WORKBOOK.search(name))


def parse_letter(raw: bytes) -> Letter:
    """Read one received e-mail; never raises on hostile headers (a field it cannot read is empty)."""
    msg = BytesParser(policy=policy.default).parsebytes(raw)
    sender_name, sender = _first_address(msg, "from")
    _, reply_to = _first_address(msg, "reply-to")
    walk = _Walk()
    walk.part(msg, "", 0)
    return Letter(
        message_id=_message_id(_raw_header(msg, "message-id")) or f"<{hashlib.sha256(raw).hexdigest()}@cchc.invalid>",
        sender=sender,
        sender_name=sender_name,
        reply_to=reply_to,
        subject=_one_line(_decoded_header(msg, "subject")),
        sent_at=_date(_raw_header(msg, "date")),
        references=_references(msg),
        deliveries=tuple(walk.deliveries),
        skipped=tuple(walk.skipped),
        body_text=_body_text(msg),
        auth_failed=any(_auth_failed(v) for v in _raw_headers(msg, "authentication-results")),
    )


# -- headers -------------------------------------------------------------------------------------------


def _clean(s: str) -> str:
    """A header string without the surrogates undecodable bytes leave, NFC."""
    if any("\ud800" <= c <= "\udfff" for c in s):
        s = s.encode("utf-8", "surrogateescape").decode("utf-8", "replace")
    return unicodedata.normalize("NFC", s)


def _one_line(s: str) -> str:
    return " ".join(_clean(s).split())


def _raw_headers(msg: Message, name: str) -> list[str]:
    """The header's values as written (unfolded, not decoded): no parser of ours can raise on them."""
    return [_clean(str(v)) for k, v in msg.raw_items() if k.lower() == name]


def _raw_header(msg: Message, name: str) -> str:
    values = _raw_headers(msg, name)
    return values[0] if values else ""


def _decoded_header(msg: Message, name: str) -> str:
    try:
        value = msg.get(name)
        return "" if value is None else str(value)
    except Exception:  # noqa: BLE001 - the email package raises assorted errors on hostile headers
        return _decode_words(_raw_header(msg, name))


def _decode_words(value: str) -> str:
    """RFC 2047 encoded words decoded, or the value as it is."""
    try:
        return str(make_header(decode_header(value)))
    except Exception:  # noqa: BLE001 - a broken encoded word: keep what was written
        return value


def _first_address(msg: Message, name: str) -> tuple[str, str]:
    """(display name, address lower-cased) of a header's first address; ('', '') if none."""
    try:
        header = msg.get(name)
        pairs = [(a.display_name, a.addr_spec) for a in header.addresses] if header is not None else []
    except Exception:  # noqa: BLE001 - the email package raises assorted errors on hostile headers
        pairs = [(_decode_words(n), a) for n, a in getaddresses([_raw_header(msg, name)])]
    for display, addr in pairs:
        addr = _clean(addr).strip().lower()
        if "@" in addr and not any(c.isspace() for c in addr):
            return _one_line(display), addr
    return (_one_line(pairs[0][0]) if pairs else ""), ""


def _message_id(value: str) -> str:
    value = "".join(value.split())
    found = _MSGID.search(value)
    value = found.group(0) if found else (f"<{value}>" if value else "")
    return "" if value == "<>" else value


def _ids(value: str) -> list[str]:
    return [i for i in ("".join(m.split()) for m in _MSGID.findall(value)) if i != "<>"]


def _references(msg: Message) -> tuple[str, ...]:
    """The References' ids; without References, In-Reply-To's id when it has exactly one (RFC 5322
    3.6.4: what a reply's References starts from)."""
    ids = [i for v in _raw_headers(msg, "references") for i in _ids(v)]
    if not ids:
        parent = [i for v in _raw_headers(msg, "in-reply-to") for i in _ids(v)]
        ids = parent if len(parent) == 1 else []
    return tuple(dict.fromkeys(ids))


def _date(value: str) -> datetime | None:
    if not value.strip():
        return None
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError, OverflowError):
        return None
    return when if when.tzinfo is not None else when.replace(tzinfo=UTC)


def _auth_failed(value: str) -> bool:
    for _ in range(10):  # comments, nested ones from the inside out: "(spf=fail would be…)" says nothing
        value, n = _COMMENT.subn(" ", value)
        if not n:
            break
    return bool(_AUTH_FAIL.search(value))


# -- body ----------------------------------------------------------------------------------------------


class _HtmlText(HTMLParser):
    _BLOCKS = {"br", "p", "div", "tr", "li", "h1", "h2", "h3", "h4", "h5", "h6", "table", "blockquote"}
    _HIDDEN = {"script", "style", "head", "title"}

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.out: list[str] = []
        self.hidden = 0

    def handle_starttag(self, tag, attrs):
        if tag in self._HIDDEN:
            self.hidden += 1
        elif tag in self._BLOCKS:
            self.out.append("\n")

    def handle_endtag(self, tag):
        if tag in self._HIDDEN:
            self.hidden = max(0, self.hidden - 1)
        elif tag in self._BLOCKS:
            self.out.append("\n")

    def handle_data(self, data):
        if not self.hidden:
            self.out.append(data)


def _part_text(part: Message) -> str:
    try:
        return part.get_content()
    except Exception:  # noqa: BLE001 - an unknown charset or broken encoding: the bytes as UTF-8
        payload = part.get_payload(decode=True)
        return payload.decode("utf-8", "replace") if isinstance(payload, bytes) else ""


def _body_text(msg: EmailMessage) -> str:
    try:
        part = msg.get_body(preferencelist=("plain", "html"))
    except Exception:  # noqa: BLE001 - a structure get_body cannot walk: no body
        part = None
    if part is None:
        return ""
    said = _part_text(part)
    if part.get_content_subtype() == "html":
        stripper = _HtmlText()
        try:
            stripper.feed(said)
            stripper.close()
        except Exception:  # noqa: BLE001 - malformed HTML: what was read up to there
            pass
        said = "".join(stripper.out)
        said = "\n".join(" ".join(line.split()) for line in said.splitlines())
    lines = [line.rstrip() for line in _clean(said).replace("\r\n", "\n").replace("\r", "\n").split("\n")]
    said = re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()
    return said[:MAX_BODY]


# -- attachments ---------------------------------------------------------------------------------------


def _name(raw: str) -> str:
    """A harmless base name, without the trailing spaces and dots Windows drops anyway."""
    return safe_name(raw).rstrip(" .") or "unnamed"


def _mb(n: int) -> str:
    return f"{n / 2**20:.1f} MB"


_LIMIT = f"{MAX_FILE_BYTES // 2**20} MB"


class _Walk:
    """The message's attachments in the order they appear, forwarded messages included."""

    def __init__(self):
        self.deliveries: list[Delivery] = []
        self.skipped: list[Skipped] = []
        self.position = 0  # of the attachment, 1-based: names an unnamed one

    def part(self, part: Message, parent: str, depth: int) -> None:
        ctype = part.get_content_type()
        if depth > MAX_DEPTH or ctype == "multipart/report":
            return  # a bounce or read receipt: the message it returns is the office's own
        if ctype == "message/rfc822" and _raw_header(part, "content-transfer-encoding").strip().lower() == "base64":
            # A forwarded mail some servers base64-encode: the parser read the base64 text as its body.
            inner = part.get_payload()
            encoded = inner[0].get_payload() if isinstance(inner, list) and inner else inner
            try:
                decoded = base64.b64decode(encoded if isinstance(encoded, str) else "")
            except ValueError:
                return
            self.part(BytesParser(policy=policy.default).parsebytes(decoded), ctype, depth + 1)
            return
        if part.is_multipart():  # multiparts, and message/rfc822 (a forwarded mail)
            for sub in part.get_payload():
                if isinstance(sub, Message):
                    self.part(sub, ctype, depth + 1)
            return
        if ctype in _SIGNATURE_TYPES:
            return
        try:
            disposition, name = part.get_content_disposition(), part.get_filename()
        except Exception:  # noqa: BLE001 - a hostile parameter: as if unnamed
            disposition = _raw_header(part, "content-disposition").split(";")[0].strip().lower() or None
            name = None
        name = _clean(name or "")
        kind_by_type = ctype in _SPREADSHEET_TYPES or ctype in _ZIP_TYPES or ctype in _TNEF_TYPES
        if not (disposition == "attachment" or name or kind_by_type):
            return  # a body, or an unnamed inline part
        if (
            parent == "multipart/related"
            and disposition != "attachment"
            and part.get("content-id")
            and not (is_workbook_name(name) or _ZIP.search(name))
        ):
            return  # a picture the HTML body shows (a signature's logo), not a file sent
        self.position += 1
        name = _name(name) if name else f"tep_dinh_kem_{self.position}{_EXTENSIONS.get(ctype, '')}"
        data = part.get_payload(decode=True)
        data = data if isinstance(data, bytes) else b""
        self.attachment(name, data, ctype)

    def attachment(self, name: str, data: bytes, ctype: str) -> None:
        if is_workbook_name(name):
            if len(data) > MAX_FILE_BYTES:
                self.skipped.append(Skipped(name, SKIP_TOO_LARGE, f"{_mb(len(data))} > {_LIMIT}"))
            else:
                self.deliveries.append(Delivery(name, data))
        elif _ZIP.search(name):
            deliveries, skipped = _unzip(name, data)
            self.deliveries += deliveries
            self.skipped += skipped
        elif ctype in _TNEF_TYPES or name.lower() == "winmail.dat":
            self.skipped.append(Skipped(name, SKIP_TNEF))
        else:
            self.skipped.append(Skipped(name, SKIP_NOT_WORKBOOK))


# -- zips ----------------------------------------------------------------------------------------------


def _member_name(info: zipfile.ZipInfo) -> str:
    """A zip member's name as its maker meant it: UTF-8 when flagged; else the Info-ZIP Unicode path
    (7-Zip, WinRAR) when it matches, else the bytes as UTF-8 when they are, else cp437 (the zip
    format's default, and what Windows' own zip writes)."""
    if info.flag_bits & 0x800:
        return info.orig_filename
    raw = info.orig_filename.encode("cp437")  # zipfile decoded the bytes as cp437: lossless back
    extra, i = info.extra, 0
    while i + 4 <= len(extra):
        kind, size = struct.unpack_from("<HH", extra, i)
        field = extra[i + 4 : i + 4 + size]
        if (
            kind == 0x7075
            and len(field) > 5
            and field[0] == 1
            and struct.unpack_from("<I", field, 1)[0] == zlib.crc32(raw)
        ):
            try:
                return field[5:].decode("utf-8")
            except UnicodeDecodeError:
                break
        i += 4 + size
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return info.orig_filename


def _ignored(path: str) -> bool:
    """Folders, macOS's resource forks (__MACOSX/, ._x), dot-files (.DS_Store) and Office's lock
    files (~$x.xlsx, left when a folder is zipped with the workbook open): never a report."""
    parts = path.replace("\\", "/").split("/")
    base = parts[-1]
    return path.endswith(("/", "\\")) or "__MACOSX" in parts or base.startswith((".", "~$")) or not base.strip()


def _read_bounded(z: zipfile.ZipFile, info: zipfile.ZipInfo, limit: int) -> bytes:
    """At most limit + 1 bytes of a member, however large it inflates: more means over the bound."""
    chunks, got = [], 0
    with z.open(info) as f:
        while got <= limit:
            chunk = f.read(min(2**20, limit + 1 - got))
            if not chunk:
                break
            chunks.append(chunk)
            got += len(chunk)
    return b"".join(chunks)


def _unzip(zip_name: str, data: bytes) -> tuple[list[Delivery], list[Skipped]]:
    """A zipped attachment's workbooks (in the zip's order, base names) and what was not received."""

    def whole(reason: str, detail: str = "") -> tuple[list[Delivery], list[Skipped]]:
        return [], [Skipped(zip_name, reason, detail)]

    if len(data) > MAX_FILE_BYTES:
        return whole(SKIP_ZIP_BOUNDS, f"{_mb(len(data))} > {_LIMIT}")
    members = terse("mailbox.zip_members")
    # Every central directory entry starts so: counted at C speed before zipfile builds an object each.
    signatures = data.count(b"PK\x01\x02")
    if signatures > MAX_MEMBERS:
        return whole(SKIP_ZIP_BOUNDS, f"{signatures} {members} > {MAX_MEMBERS}")
    try:
        z = zipfile.ZipFile(io.BytesIO(data))
    except _ZIP_ERRORS as exc:
        return whole(SKIP_ZIP_CORRUPT, f"zip: {exc}"[:200])
    deliveries: list[Delivery] = []
    skipped: list[Skipped] = []
    with z:
        infos = z.infolist()
        if len(infos) > MAX_MEMBERS:
            return whole(SKIP_ZIP_BOUNDS, f"{len(infos)} {members} > {MAX_MEMBERS}")
        declared = sum(i.file_size for i in infos)
        if declared > MAX_UNCOMPRESSED:
            uncompressed = terse("reading.uncompressed")
            return whole(SKIP_ZIP_BOUNDS, f"{uncompressed} {_mb(declared)} > {MAX_UNCOMPRESSED // 2**20} MB")
        kept = [(i, _name(_member_name(i))) for i in infos if not _ignored(_member_name(i))]
        if not any(is_workbook_name(n) or _ZIP.search(n) for _, n in kept):
            return whole(SKIP_ZIP_EMPTY, f"{len(kept)} {members}")
        if all(i.flag_bits & 0x1 for i, _ in kept):
            return whole(SKIP_ZIP_ENCRYPTED, f"{len(kept)} {members}")
        total = 0  # bytes inflated so far: all members ≤ MAX_UNCOMPRESSED, whatever the headers said
        for info, name in kept:
            shown = f"{zip_name}/{name}"
            if _ZIP.search(name):
                skipped.append(Skipped(shown, SKIP_ZIP_NESTED))
                continue
            if not is_workbook_name(name):
                skipped.append(Skipped(shown, SKIP_NOT_WORKBOOK))
                continue
            if info.flag_bits & 0x1:
                skipped.append(Skipped(shown, SKIP_ZIP_ENCRYPTED))
                continue
            over = _over_bounds(info.file_size, info.compress_size, total)
            if over:
                skipped.append(Skipped(shown, SKIP_ZIP_BOUNDS, over))
                continue
            limit = min(MAX_FILE_BYTES, MAX_UNCOMPRESSED - total)
            try:
                member = _read_bounded(z, info, limit)
            except _ZIP_ERRORS as exc:
                skipped.append(Skipped(shown, SKIP_ZIP_CORRUPT, f"zip: {exc}"[:200]))
                continue
            total += len(member)
            over = _over_bounds(len(member), info.compress_size, total - len(member))
            if over:
                skipped.append(Skipped(shown, SKIP_ZIP_BOUNDS, over))
                continue
            deliveries.append(Delivery(name, member, from_zip=zip_name))
    return deliveries, skipped


def _over_bounds(size: int, compressed: int, before: int) -> str:
    """The bound a member of `size` bytes (inflated from `compressed`) breaks after `before` bytes of
    members, as the detail says it; '' within bounds. The ratio counts above 1 MB, as in package_check."""
    uncompressed = terse("reading.uncompressed")
    if size > MAX_FILE_BYTES:
        return f"{uncompressed} {_mb(size)} > {_LIMIT}"
    if before + size > MAX_UNCOMPRESSED:
        return f"{uncompressed} {_mb(before + size)} > {MAX_UNCOMPRESSED // 2**20} MB"
    if size > 2**20 and size > MAX_RATIO * max(compressed, 1):
        return f"{terse('reading.ratio')} {size // max(compressed, 1)}:1 > {MAX_RATIO}:1"
    return ""


# -- IMAP mailbox names (RFC 3501 5.1.3) ---------------------------------------------------------------


def imap_utf7_encode(name: str) -> str:
    """A mailbox name in IMAP's modified UTF-7: printable ASCII as itself ('&' as '&-'), every other
    run as UTF-16BE in base64 with ',' for '/', between '&' and '-'."""
    out: list[str] = []
    run: list[str] = []

    def flush() -> None:
        if run:
            encoded = base64.b64encode("".join(run).encode("utf-16-be")).decode("ascii")
            out.append("&" + encoded.rstrip("=").replace("/", ",") + "-")
            run.clear()

    for c in name:
        if " " <= c <= "~":
            flush()
            out.append("&-" if c == "&" else c)
        else:
            run.append(c)
    flush()
    return "".join(out)


_SHIFTED = re.compile(r"&([A-Za-z0-9+,]*)-")


def imap_utf7_decode(name: str) -> str:
    """A mailbox name as the server lists it, back to Unicode; ValueError if it is not modified UTF-7."""

    def shifted(m: re.Match) -> str:
        encoded = m.group(1)
        if not encoded:
            return "&"
        b64 = encoded.replace(",", "/")
        try:
            raw = base64.b64decode(b64 + "=" * (-len(b64) % 4), validate=True)
            return raw.decode("utf-16-be")
        except (ValueError, UnicodeDecodeError) as exc:
            raise ValueError(f"not modified UTF-7: {m.group(0)!r} in {name!r}") from exc

    if any(not (" " <= c <= "~") for c in name):
        raise ValueError(f"not modified UTF-7 (not printable ASCII): {name!r}")
    decoded = _SHIFTED.sub(shifted, name)
    if "&" in _SHIFTED.sub("", name):
        raise ValueError(f"not modified UTF-7 ('&' not closed by '-'): {name!r}")
    return decoded
