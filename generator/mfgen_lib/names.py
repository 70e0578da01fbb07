"""C name mangling: every C identifier mfgen emits is derived here.

Rules (also in docs/generator.md):
- words: non-ASCII letters are decomposed (NFKD) and their accents dropped ("é" -> "e"; a few
  Latin letters are spelt out: "ß" -> "ss", "æ" -> "ae", "ø" -> "o", "ł" -> "l"...);
  a letter or digit with no ASCII form becomes its own word "u<hex code point>" ("名" -> "u540d");
- camelCase / PascalCase split into words: "CampaignCreate" -> campaign_create,
  "userID" -> user_id, "HTTPServer" -> http_server, "ipv4Address" -> ipv4_address;
- any other character is a separator; separators collapse; edges are stripped; all lower case;
- members: a name starting with a digit gets an "n" in front ("2fa" -> n2fa), an empty one becomes
  "empty", and C/C++ keywords and a few standard macros get a trailing "_" ("default" -> default_);
- enum constants: UPPER(type) + "_" + UPPER(value words); "" -> EMPTY, a leading "-" -> MINUS_,
  a leading "+" -> PLUS_, a value with no letters or digits -> X + hex code points ("*" -> X2A).
"""
from __future__ import annotations

import re
import unicodedata
from typing import FrozenSet, List

C_KEYWORDS: FrozenSet[str] = frozenset(
    """
    auto break case char const continue default do double else enum extern float for goto if
    inline int long register restrict return short signed sizeof static struct switch typedef
    union unsigned void volatile while _Alignas _Alignof _Atomic _Bool _Complex _Generic
    _Imaginary _Noreturn _Static_assert _Thread_local
    alignas alignof bool constexpr false nullptr static_assert thread_local true typeof
    typeof_unqual _BitInt _Decimal128 _Decimal32 _Decimal64
    and and_eq asm bitand bitor catch char8_t char16_t char32_t class compl concept consteval
    constinit const_cast co_await co_return co_yield decltype delete dynamic_cast explicit export
    friend mutable namespace new noexcept not not_eq operator or or_eq private protected public
    reinterpret_cast requires static_cast template this throw try typeid typename using virtual
    wchar_t xor xor_eq
    NULL errno assert offsetof stdin stdout stderr EOF complex imaginary noreturn unix linux i386
    """.split()
)

# Every mf_/MF_ identifier declared in runtime/include/mf/*.h. A generated identifier equal to
# one of these is an error. tests/generator/test_names.py greps the headers to keep this complete.
RUNTIME_RESERVED: FrozenSet[str] = frozenset(
    """
    MF_ACTION_RECEIVE MF_ACTION_SEND MF_API_H MF_API_MAX_PARAMS MF_API_PARAM_MAX MF_BUF_H
    MF_BUF_INIT MF_CLIENT_CLOSED MF_CLIENT_CONNECTED MF_CLIENT_DISCONNECTED MF_CLIENT_DROPPED
    MF_CLIENT_ERROR MF_CLIENT_H MF_CLIENT_RECONNECTED MF_CLIENT_SERVER_DISCOVERED MF_CODEC_H
    MF_ERROR_MESSAGE_MAX MF_ERROR_POINTER_MAX MF_ERR_AUTH MF_ERR_CLOSED MF_ERR_CONST
    MF_ERR_DUPLICATE MF_ERR_ENUM MF_ERR_FORMAT MF_ERR_FULL MF_ERR_INVALID_ARG MF_ERR_IO
    MF_ERR_LENGTH MF_ERR_LIMIT MF_ERR_NOMEM MF_ERR_NOT_FOUND MF_ERR_NO_RESPONDERS MF_ERR_PATTERN
    MF_ERR_PAYLOAD_TOO_BIG MF_ERR_PROTOCOL MF_ERR_RANGE MF_ERR_REQUIRED MF_ERR_SERVER
    MF_ERR_SYNTAX MF_ERR_TIMEOUT MF_ERR_TYPE MF_ERR_UNION MF_ERR_UNKNOWN_FIELD MF_ERR_UTF8
    MF_FMT_DATE MF_FMT_DATE_TIME MF_FMT_EMAIL MF_FMT_NONE MF_FMT_TIME MF_FMT_TIME_HM MF_FMT_UUID
    MF_K_ARR MF_K_BOOL MF_K_ENUM MF_K_INT MF_K_MAP MF_K_NUM MF_K_OBJ MF_K_RAW MF_K_STR
    MF_K_UNION MF_LOG_DEBUG MF_LOG_ERROR MF_LOG_INFO MF_LOG_NONE MF_LOG_WARN MF_MAX_DEPTH
    MF_MAX_SAFE_INT MF_OK MF_OP_CONNECT MF_OP_ERR MF_OP_HMSG MF_OP_HPUB MF_OP_INFO MF_OP_MSG
    MF_OP_NONE MF_OP_OK MF_OP_PING MF_OP_PONG MF_OP_PUB MF_OP_SUB MF_OP_UNSUB
    MF_PROTO_CLIENT_SIDE MF_PROTO_DEFAULT_MAX_CONTROL MF_PROTO_DEFAULT_MAX_PAYLOAD
    MF_PROTO_E_ARGS MF_PROTO_E_BAD_LINE MF_PROTO_E_LINE_TOO_LONG MF_PROTO_E_MISSING_CRLF
    MF_PROTO_E_NONE MF_PROTO_E_PAYLOAD_TOO_BIG MF_PROTO_E_SIZE MF_PROTO_E_UNKNOWN_OP MF_PROTO_H
    MF_PROTO_MAX_URLS MF_PROTO_SERVER_SIDE MF_PROTO_STR_MAX MF_PROTO_TOKEN_MAX MF_REGISTRY_H
    MF_STATUS_H MF_TF_ MF_TF_CLOSED MF_TF_EXCL_MAX
    MF_TF_EXCL_MIN MF_TF_HAS_CONST MF_TF_HAS_MAX MF_TF_HAS_MIN MF_TF_RAW_OBJECT MF_TF_ANY_OF MF_TF_UNIQUE MF_TF_NO_DEFAULTS
    MF_VALIDATE_MAX_INPUT MF_VALIDATE_TOOL_H mf_action mf_api_fn mf_api_handler mf_api_info
    mf_api_invalid_handler mf_api_reply_cb mf_api_request mf_api_request_async
    mf_api_batch mf_api_batch_add mf_api_batch_count mf_api_batch_free mf_api_batch_reset mf_api_batch_send
    MF_API_BATCH_INIT
    mf_api_request_async_to mf_api_request_to mf_api_send mf_api_send_to mf_api_send_with_headers
    mf_api_sub mf_api_sub_opts
    mf_api_sub_stats mf_api_sub_stats_get mf_api_subscribe mf_api_subscribe_ex mf_api_subscribe_to
    mf_api_subscribe_to_ex mf_queue_mode MF_QUEUE_DEFAULT MF_QUEUE_NONE MF_QUEUE_GROUP
    mf_api_unsubscribe mf_array mf_buf mf_buf_append
    mf_buf_append_char mf_buf_append_str mf_buf_detach mf_buf_free mf_buf_init mf_buf_printf
    mf_buf_reserve mf_buf_reset mf_channel_address mf_channel_desc mf_channel_parse mf_client
    mf_client_create mf_client_destroy mf_client_drain mf_client_event mf_client_event_cb mf_client_input_cb
    mf_client_cork mf_client_event_type mf_client_flush mf_client_flush_start mf_client_flush_wait mf_client_log_cb
    mf_client_on_service_thread
    mf_client_opts mf_client_opts_init mf_client_publish mf_client_publish_batch mf_client_publish_hdrs mf_pub
    mf_client_request mf_client_request_async mf_client_respond mf_client_server_info
    mf_client_server_info_get mf_client_stats mf_client_stats_get mf_client_subscribe
    mf_client_uncork mf_client_unsubscribe mf_client_wait_connected mf_copy mf_decode mf_encode
    mf_enum_from_string mf_enum_to_string mf_equal mf_error mf_error_clear mf_error_set mf_field
    mf_format mf_format_check mf_format_name mf_free mf_header mf_init mf_kind mf_log_level
    mf_map mf_message_desc mf_msg mf_msg_cb mf_msg_copy mf_msg_header mf_msg_owned
    mf_msg_owned_free mf_operation_desc mf_param_check mf_param_desc mf_pattern
    mf_proto_buffered mf_proto_connect mf_proto_connect_init mf_proto_error mf_proto_feed
    mf_proto_info mf_proto_kind mf_proto_kind_str mf_proto_next mf_proto_op
    mf_proto_parse_connect mf_proto_parse_info mf_proto_parse_u64 mf_proto_parser
    mf_proto_parser_free mf_proto_parser_init mf_proto_parser_reset mf_proto_side mf_proto_str
    mf_proto_write_connect mf_proto_write_connect_json mf_proto_write_err mf_proto_write_hmsg
    mf_proto_write_hpub mf_proto_write_info mf_proto_write_msg mf_proto_write_ok
    mf_proto_write_ping mf_proto_write_pong mf_proto_write_pub mf_proto_write_sub
    mf_proto_write_unsub mf_registry mf_registry_channel mf_registry_channel_for_subject
    mf_registry_message mf_registry_operation mf_reply_cb mf_scalar mf_status mf_status_str
    mf_subject_matches mf_subject_valid mf_type mf_utf8_valid mf_validate
    mf_validate_tool_main
    MF_API_ERROR_BAD_REQUEST MF_API_ERROR_CODE_HEADER MF_API_ERROR_FAILED MF_API_ERROR_HEADER
    MF_ERR_REFUSED mf_api_route mf_api_subscribe_channel mf_api_subscribe_channel_to mf_channel_check_payload mf_channel_filter
    mf_channel_subject
    MF_WS_CLIENT MF_WS_CLOSE_GOING_AWAY MF_WS_CLOSE_INTERNAL MF_WS_CLOSE_INVALID_DATA
    MF_WS_CLOSE_NORMAL MF_WS_CLOSE_NO_STATUS MF_WS_CLOSE_POLICY MF_WS_CLOSE_PROTOCOL
    MF_WS_CLOSE_TOO_BIG MF_WS_EV_CLOSE MF_WS_EV_DATA MF_WS_EV_PING MF_WS_EV_PONG MF_WS_H
    MF_WS_HTTP_HEAD_MAX MF_WS_MAX_CONTROL MF_WS_MAX_HEADER MF_WS_OP_BINARY MF_WS_OP_CLOSE
    MF_WS_OP_CONT MF_WS_OP_PING MF_WS_OP_PONG MF_WS_OP_TEXT MF_WS_SERVER mf_ws_accept_value
    mf_ws_close_body mf_ws_close_code_valid mf_ws_event mf_ws_event_kind mf_ws_mask
    mf_ws_new_key mf_ws_opcode mf_ws_parse mf_ws_parse_request mf_ws_parse_response mf_ws_parser
    mf_ws_parser_init mf_ws_protocol_listed mf_ws_request mf_ws_role mf_ws_utf8
    mf_ws_utf8_complete mf_ws_utf8_feed mf_ws_utf8_init mf_ws_write_header
    MF_FREELIST_H MF_FREELIST_INIT mf_freelist mf_freelist_clear mf_freelist_give mf_freelist_take
    MF_RECLAIM_H MF_RECLAIM_MIN_DEAD mf_buf_reclaim mf_replayq
    MF_REQUEST_COPY_H MF_REQ_CTX_MAX mf_client_request_async_copy
    """.split()
)

_CAMEL1 = re.compile(r"([a-z0-9])([A-Z])")
_CAMEL2 = re.compile(r"([A-Z]+)([A-Z][a-z])")
_NON_ALNUM = re.compile(r"[^A-Za-z0-9]+")
IDENT_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
PREFIX_RE = re.compile(r"^[a-z][a-z0-9]*(?:_[a-z0-9]+)*$")


_LATIN = {
    "ß": "ss", "ẞ": "SS", "æ": "ae", "Æ": "AE", "ø": "o", "Ø": "O", "œ": "oe", "Œ": "OE",
    "đ": "d", "Đ": "D", "ł": "l", "Ł": "L", "þ": "th", "Þ": "TH", "ð": "d", "Ð": "D", "ı": "i",
}


def _ascii_words(text: str) -> str:
    """Transliterates to ASCII: accents dropped, other letters/digits -> ' u<hex> '."""
    out: List[str] = []
    for ch in unicodedata.normalize("NFKD", text):
        if ch in _LATIN:
            out.append(_LATIN[ch])
        elif ch.isascii():
            out.append(ch)
        elif unicodedata.combining(ch):
            continue
        elif unicodedata.category(ch)[0] in ("L", "N"):
            out.append(f" u{ord(ch):x} ")
        else:
            out.append(" ")
    return "".join(out)


def words(text: str) -> List[str]:
    """Splits any string into lower-case ASCII words (see module doc)."""
    s = _ascii_words(text)
    s = _CAMEL1.sub(r"\1_\2", s)
    s = _CAMEL2.sub(r"\1_\2", s)
    return [w.lower() for w in _NON_ALNUM.split(s) if w]


def snake(text: str) -> str:
    """snake_case form; may be empty or start with a digit (callers decide)."""
    return "_".join(words(text))


def type_part(text: str) -> str:
    """A name part appended after a prefix (types, functions): never empty."""
    return snake(text) or "empty"


def member(text: str) -> str:
    """A struct member / parameter name: a valid, non-reserved C identifier."""
    s = snake(text)
    if not s:
        return "empty"
    if s[0].isdigit():
        s = "n" + s
    if s in C_KEYWORDS:
        s += "_"
    return s


def enum_part(value: str) -> str:
    """The upper-case tail of an enum constant for one enum value."""
    if value == "":
        return "EMPTY"
    lead = ""
    rest = value
    if rest[0] == "-":
        lead, rest = "MINUS", rest[1:]
    elif rest[0] == "+":
        lead, rest = "PLUS", rest[1:]
    tail = snake(rest).upper()
    if not tail and rest:
        tail = "X" + "".join(f"{ord(c):X}" for c in rest)
    return "_".join(p for p in (lead, tail) if p)


def upper(ident: str) -> str:
    return ident.upper()


def slug(text: str) -> str:
    """Service ids from tag names: "Campaign Service" -> campaign-service."""
    return "-".join(words(text))


def is_reserved(ident: str) -> bool:
    return ident in RUNTIME_RESERVED or ident in C_KEYWORDS
