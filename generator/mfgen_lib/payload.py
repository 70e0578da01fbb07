"""Which message payloads mfgen can generate: the content type and the payload's schema format.

mfgen generates JSON codecs from JSON Schema (AsyncAPI schema objects, JSON Schema drafts,
OpenAPI 3.0 schema objects). Anything else (Avro, Protobuf, RAML, XML, plain text, binary) is
refused with an error naming the content type or schema format and the message.
"""
from __future__ import annotations

import re
from typing import Any, Optional

JSON_CONTENT = re.compile(r"^application/(?:[\w.+-]+\+)?json(?:\s*;.*)?$", re.IGNORECASE)

_JSON_SCHEMA_FORMATS = re.compile(
    r"^application/(?:"
    r"vnd\.aai\.asyncapi(?:\+json|\+yaml)?(?:\s*;\s*version=[\d.]+)?"
    r"|schema\+(?:json|yaml)(?:\s*;\s*version=(?:draft-0?[4-7]|2019-09|2020-12))?"
    r"|vnd\.oai\.openapi(?:\+json|\+yaml)?(?:\s*;\s*version=3\.0(?:\.\d+)?)?"
    r")$", re.IGNORECASE)

# Schema formats mfgen knows by name but does not read: (pattern, what to call it).
_FOREIGN_FORMATS = (
    (re.compile(r"^application/vnd\.apache\.avro", re.IGNORECASE), "Apache Avro"),
    (re.compile(r"^application/(?:vnd\.google\.protobuf|x-protobuf|protobuf)", re.IGNORECASE), "Protocol Buffers"),
    (re.compile(r"^application/raml\+yaml", re.IGNORECASE), "RAML"),
    (re.compile(r"^application/vnd\.oai\.openapi", re.IGNORECASE), "OpenAPI (a version other than 3.0)"),
    (re.compile(r"^application/schema\+(?:json|yaml)", re.IGNORECASE), "a JSON Schema draft mfgen does not read"),
    (re.compile(r"^application/(?:[\w.+-]+\+)?xml|^text/xml", re.IGNORECASE), "XML Schema"),
)

HINT = ("mfgen generates C types and JSON codecs from JSON Schema (AsyncAPI schema objects, JSON Schema, "
        "OpenAPI 3.0 schema objects); leave this message out of the document given to mfgen, or describe "
        "its payload with JSON Schema")


def is_json_content(ctype: str) -> bool:
    return bool(JSON_CONTENT.match(ctype.strip()))


def is_json_schema_format(fmt: str) -> bool:
    return bool(_JSON_SCHEMA_FORMATS.match(fmt.strip()))


def schema_format_name(fmt: str) -> str:
    """What a refused schemaFormat is, for the error message."""
    for pat, name in _FOREIGN_FORMATS:
        if pat.match(fmt.strip()):
            return name
    return "an unknown schema format"


def foreign_schema_format(payload: Any) -> Optional[str]:
    """The schemaFormat of a Multi Format Schema Object that mfgen does not read, else None."""
    if isinstance(payload, dict) and "schemaFormat" in payload and "$ref" not in payload:
        fmt = payload["schemaFormat"]
        if not isinstance(fmt, str) or not is_json_schema_format(fmt):
            return fmt if isinstance(fmt, str) else repr(fmt)
    return None


def is_foreign_message(msg: Any, default_content_type: str) -> bool:
    """True for a message object (it has a payload) whose payload mfgen will refuse: references
    inside such a payload (an .avsc, a .proto) are never followed."""
    if not isinstance(msg, dict) or "payload" not in msg:
        return False
    ct = msg.get("contentType")
    ctype = ct if isinstance(ct, str) else default_content_type
    return not is_json_content(ctype) or foreign_schema_format(msg["payload"]) is not None
