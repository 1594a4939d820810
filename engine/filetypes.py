"""What a file really is, read from its content: its first bytes, and for the office formats (zip archives)
the part that names their kind. The name and the browser's Content-Type are never believed: a page of HTML
or a program renamed ``report.pdf`` is refused, with what it really is, before anyone downloads it.

Only the standard library: no libmagic, nothing to install on a server."""

from __future__ import annotations

import io
import re
import zipfile
from dataclasses import dataclass


@dataclass(frozen=True)
class FileType:
    label: str  # for people: "PDF document"
    mime: str  # the Content-Type it is served with
    extensions: tuple[str, ...]  # the names it may carry, lower case with their dot


PDF = FileType("PDF document", "application/pdf", (".pdf",))
DOCX = FileType(
    "Word document",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    (".docx",),
)
XLSX = FileType(
    "Excel spreadsheet", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", (".xlsx",)
)
ODT = FileType("OpenDocument text", "application/vnd.oasis.opendocument.text", (".odt",))
ODS = FileType("OpenDocument spreadsheet", "application/vnd.oasis.opendocument.spreadsheet", (".ods",))
TEXT = FileType("text file", "text/plain; charset=utf-8", (".txt", ".csv"))
CSV = FileType("CSV file", "text/csv; charset=utf-8", (".csv",))
PNG = FileType("PNG image", "image/png", (".png",))
JPEG = FileType("JPEG image", "image/jpeg", (".jpg", ".jpeg"))
ALLOWED = (PDF, DOCX, XLSX, ODT, ODS, CSV, TEXT, PNG, JPEG)
#: the names the upload form offers (``accept``): a hint to the browser only, the content decides
ACCEPT = ",".join(sorted({e for t in ALLOWED for e in t.extensions}))
ALLOWED_TEXT = "PDF, Word (.docx), Excel (.xlsx), OpenDocument (.odt, .ods), CSV or text, PNG or JPEG"

_OOXML = {
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml": DOCX,
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml": XLSX,
}
_OOXML_REFUSED = {
    "application/vnd.ms-word.document.macroEnabled.main+xml": "a Word document with macros (.docm)",
    "application/vnd.ms-excel.sheet.macroEnabled.main+xml": "an Excel workbook with macros (.xlsm)",
    "application/vnd.openxmlformats-officedocument.presentationml.presentation.main+xml": (
        "a PowerPoint presentation"
    ),
}
_ODF = {ODT.mime: ODT, ODS.mime: ODS}
_MAIN_PART = re.compile(rb'ContentType="([^"]+\.main\+xml)"')
_MARKUP = re.compile(rb"\s*(<!doctype html|<html|<head|<body|<script|<svg|<\?xml|<iframe|<meta|<!--)", re.I)


class RefusedType(ValueError):
    """The file is not one of the types allowed, or its content does not match its name."""


def detect(content: bytes) -> FileType | str:
    """The allowed type the content is, else a description of what it really is ("an HTML page")."""
    head = content[:16]
    if head.startswith(b"%PDF-"):
        return PDF
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return PNG
    if head.startswith(b"\xff\xd8\xff"):
        return JPEG
    if head.startswith(b"PK\x03\x04"):
        return _zip_kind(content)
    if head.startswith(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"):
        return "an older Word or Excel file (.doc, .xls): save it as .docx or .xlsx"
    if head.startswith(b"MZ"):
        return "a Windows program"
    if head.startswith(b"\x7fELF") or head[:4] in (
        b"\xcf\xfa\xed\xfe",
        b"\xce\xfa\xed\xfe",
        b"\xca\xfe\xba\xbe",
    ):
        return "a program"
    if head.startswith((b"GIF87a", b"GIF89a")) or head[:4] == b"RIFF":
        return "an image or media file of a type not allowed"
    if head.startswith((b"\x1f\x8b", b"Rar!", b"7z\xbc\xaf", b"BZh")):
        return "a compressed archive"
    return _text_kind(content)


def _zip_kind(content: bytes) -> FileType | str:
    try:
        with zipfile.ZipFile(io.BytesIO(content)) as archive:
            names = set(archive.namelist())
            if "mimetype" in names:
                mimetype = archive.open("mimetype").read(200).decode("ascii", "replace").strip()
                return _ODF.get(mimetype, "an OpenDocument file of a type not allowed")
            if "[Content_Types].xml" in names:
                types = archive.open("[Content_Types].xml").read(256 * 1024)
                for main in _MAIN_PART.findall(types):
                    main = main.decode("ascii", "replace")
                    if main in _OOXML:
                        return _OOXML[main]
                    if main in _OOXML_REFUSED:
                        return _OOXML_REFUSED[main]
                return "an Office file of a type not allowed"
    except (zipfile.BadZipFile, KeyError, OSError, EOFError, RuntimeError, NotImplementedError):
        return "a damaged or unreadable archive"
    return "a zip archive"


def _text_kind(content: bytes) -> FileType | str:
    sample = content[: 64 * 1024]
    if sample.startswith(b"\xef\xbb\xbf"):
        sample = sample[3:]
    if b"\x00" in sample:
        return "a binary file of an unknown type"
    if _MARKUP.match(sample):
        return "an HTML or XML document"
    try:
        text = sample.decode("utf-8")
    except UnicodeDecodeError as exc:
        if len(sample) - exc.start > 4:  # not just a character cut at the end of the sample
            return "a binary file of an unknown type, or text not in UTF-8"
        text = sample[: exc.start].decode("utf-8")
    if text.startswith("#!"):
        return "a script"
    controls = sum(1 for c in text if ord(c) < 32 and c not in "\t\n\r\f")
    if controls:
        return "a binary file of an unknown type"
    return TEXT


def extension(name: str) -> str:
    dot = name.rfind(".")
    return name[dot:].lower() if dot > 0 else ""


def check(name: str, content: bytes) -> FileType:
    """The type of a file to be kept, or :class:`RefusedType` saying why not, naming the file."""
    if not content:
        raise RefusedType(f"‘{name}’ is empty")
    found = detect(content)
    ext = extension(name)
    if isinstance(found, str):
        raise RefusedType(f"‘{name}’ is {found}, not a file of a type allowed: {ALLOWED_TEXT}")
    if ext == ".csv" and found is TEXT:
        return CSV
    if ext not in found.extensions:
        named = f"named as a {ext} file" if ext else "named without an extension"
        raise RefusedType(
            f"‘{name}’ is {_article(found.label)}, but it is {named}: "
            f"rename it to end {' or '.join(found.extensions)} if that is what it is"
        )
    return found


def _article(label: str) -> str:
    return ("an " if label[0].lower() in "aeiou" else "a ") + label
