"""The only way reviewflow parses XML that came from outside.

BPMN and DMN files are uploaded by process owners and may be hostile. lxml's
defaults expand internal entities (billion laughs) and, with the wrong flag,
read local files. This parser refuses any DOCTYPE outright, never resolves
entities, never touches the network and caps the size, so a bad file gets a
clear error and nothing else happens.
"""

from __future__ import annotations

import re

from lxml import etree

DEFAULT_MAX_BYTES = 2 * 1024 * 1024
_DOCTYPE = re.compile(rb"<!\s*(DOCTYPE|ENTITY)", re.IGNORECASE)


class XmlError(ValueError):
    """Unsafe or malformed XML: ``file``, ``line`` (or None) and a plain message."""

    def __init__(self, file: str, message: str, line: int | None = None):
        self.file = file
        self.line = line
        self.message = message
        where = f"{file}:{line}" if line else file
        super().__init__(f"{where}: {message}")


def _parser() -> etree.XMLParser:
    return etree.XMLParser(
        resolve_entities=False,
        no_network=True,
        load_dtd=False,
        dtd_validation=False,
        huge_tree=False,
        remove_comments=False,
        remove_pis=True,
    )


def parse(data: bytes | str, file: str = "<upload>", max_bytes: int = DEFAULT_MAX_BYTES) -> etree._Element:
    """Parse untrusted XML into an lxml element, or raise :class:`XmlError`."""
    if isinstance(data, str):
        data = data.encode("utf-8")
    if len(data) > max_bytes:
        raise XmlError(file, f"file is {len(data):,} bytes; the limit is {max_bytes:,} bytes")
    if not data.strip():
        raise XmlError(file, "file is empty")
    match = _DOCTYPE.search(data)
    if match:
        line = data.count(b"\n", 0, match.start()) + 1
        raise XmlError(file, "DOCTYPE and ENTITY declarations are not allowed", line)
    try:
        root = etree.fromstring(data, parser=_parser())
    except etree.XMLSyntaxError as exc:
        line = exc.lineno if exc.lineno else None
        msg = exc.msg if hasattr(exc, "msg") and exc.msg else str(exc)
        raise XmlError(file, f"malformed XML: {msg}", line) from None
    tree = root.getroottree()
    if tree.docinfo.doctype or tree.docinfo.internalDTD is not None:
        raise XmlError(file, "DOCTYPE and ENTITY declarations are not allowed")
    return root
