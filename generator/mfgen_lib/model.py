"""The typed model the templates render: C types with their descriptors, messages, channels,
operations. Built from the resolved spec by schema.py (types) and sdk.py (everything else)."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Dict, List, Optional

from .resolve import N

NO_VALUE: Any = object()  # "no default / no const" (None is JSON null)

# kind -> (runtime enum, C value type for scalars)
KINDS = {
    "bool": ("MF_K_BOOL", "bool"),
    "int": ("MF_K_INT", "int64_t"),
    "num": ("MF_K_NUM", "double"),
    "str": ("MF_K_STR", "char *"),
    "enum": ("MF_K_ENUM", None),
    "obj": ("MF_K_OBJ", None),
    "arr": ("MF_K_ARR", None),
    "map": ("MF_K_MAP", None),
    "raw": ("MF_K_RAW", "char *"),
    "union": ("MF_K_UNION", None),
}

JSON_TYPE_OF_KIND = {
    "bool": "boolean", "int": "integer", "num": "number", "str": "string", "enum": "string",
    "obj": "object", "arr": "array", "map": "object", "raw": "any", "union": "oneOf",
}


@dataclass(eq=False)
class Pattern:
    source: str
    ere: str
    symbol: str


@dataclass(eq=False)
class CType:
    """One mf_type descriptor; `public` ones also have a C type name and typed wrappers."""

    kind: str
    desc: str  # descriptor symbol: "<cname>_desc" (public) or a file-local static name
    node: N
    public: bool = False
    cname: Optional[str] = None  # C type name (public types only)
    label: str = ""  # name shown in diagnostics (mf_type.name)
    description: str = ""
    # INT / NUM
    imin: Optional[int] = None
    imax: Optional[int] = None
    nmin: Optional[float] = None
    nmax: Optional[float] = None
    excl_min: bool = False
    excl_max: bool = False
    # STR
    min_len: int = 0
    max_len: int = 0
    fmt: str = "MF_FMT_NONE"
    fmt_name: str = ""  # for docs: "uuid", "time-hm"...
    spec_format: str = ""  # the schema's own `format` keyword as written (docs, contract snapshot)
    pattern: Optional[Pattern] = None
    const: Any = NO_VALUE
    # ENUM
    enum_values: List[str] = field(default_factory=list)
    enum_consts: List[str] = field(default_factory=list)
    enum_unset: str = ""
    # OBJ
    fields: List["Field"] = field(default_factory=list)
    closed: bool = False
    # ARR / MAP
    item: Optional["CType"] = None
    min_items: int = 0
    max_items: int = 0
    # RAW
    raw_object: bool = False
    # INT / NUM: multipleOf; INT: enum of integers
    multiple_of: Optional[float] = None
    int_values: List[int] = field(default_factory=list)
    int_values_sym: str = ""
    # ARR: uniqueItems
    unique: bool = False
    # any kind: `not`
    not_type: Optional["CType"] = None
    # UNION
    branches: List["Branch"] = field(default_factory=list)
    discriminator: Optional[str] = None
    any_of: bool = False  # anyOf: the first branch that matches (runtime flag MF_TF_ANY_OF)
    # named schema that is only a $ref to another named type: typedef only
    alias_of: Optional["CType"] = None
    # static tables owned by this descriptor
    fields_sym: str = ""
    values_sym: str = ""
    branches_sym: str = ""
    disc_sym: str = ""

    @property
    def runtime_kind(self) -> str:
        return KINDS[self.kind][0]

    @property
    def value_ctype(self) -> str:
        """The C type of a value of this type (a member, an array element)."""
        base = KINDS[self.kind][1]
        if base is not None:
            return base
        if self.cname is None:
            raise AssertionError(f"anonymous {self.kind} has no C type name")
        return self.cname

    def decl(self, name: str) -> str:
        """`<C type> name` for a struct member (inline anonymous struct for private arrays/maps)."""
        if self.kind in ("arr", "map") and not self.public:
            return "struct { " + " ".join(m + ";" for m in self.container_members()) + f" }} {name}"
        return _decl(self.value_ctype, name)

    def container_members(self) -> List[str]:
        """Members of an array (mf_array layout) or map (mf_map layout) struct."""
        assert self.item is not None
        if self.kind == "arr":
            return [_decl(self.item.value_ctype, "*items"), "size_t count"]
        return ["char **keys", _decl(self.item.value_ctype, "*values"), "size_t count"]

    @property
    def json_type(self) -> str:
        return JSON_TYPE_OF_KIND[self.kind]


def _decl(ctype: str, name: str) -> str:
    return f"{ctype}{name}" if ctype.endswith("*") else f"{ctype} {name}"


@dataclass(eq=False)
class Field:
    json_name: str
    member: str
    type: CType
    node: N  # the property's schema (before $ref)
    required: bool = False
    nullable: bool = False
    default: Any = NO_VALUE
    description: str = ""

    @property
    def has_member(self) -> Optional[str]:
        return None if self.required else f"has_{self.member}"

    @property
    def null_member(self) -> Optional[str]:
        return f"{self.member}_is_null" if self.nullable else None

    @property
    def has_default(self) -> bool:
        return self.default is not NO_VALUE


@dataclass(eq=False)
class Branch:
    name: str  # lower-case member of the union's `u`
    macro: str  # #define'd `which` value
    index: int  # 1-based
    type: CType
    json_type: str
    disc_value: Optional[str] = None


@dataclass(eq=False)
class Example:
    name: str
    file: str  # examples/<MessageKey>.<name>.json
    summary: str
    payload: Any
    node: Optional[N] = None  # the payload in the document (for locating errors)


@dataclass(eq=False)
class Message:
    key: str
    name: str
    title: str
    summary: str
    description: str
    content_type: str
    payload: CType
    node: N
    desc: str
    examples: List[Example] = field(default_factory=list)
    channels: List["Channel"] = field(default_factory=list)
    headers: Optional[CType] = None  # the message's `headers` schema: an object of string members


@dataclass(eq=False)
class Param:
    name: str
    member: str
    description: str
    node: N
    type: Optional[CType]  # NULL = any value
    examples: List[str] = field(default_factory=list)
    location: Optional[str] = None  # JSON pointer into every message's payload (`location:`), None = explicit


@dataclass(eq=False)
class Channel:
    key: str
    snake: str
    address: str  # for people: the subject template, else "(subject given by the caller)"
    wildcard: Optional[str]  # None when the channel has no subject
    title: str
    description: str
    node: N
    desc: str
    macro: str  # <PREFIX>_<SNAKE(KEY)>
    params: List[Param] = field(default_factory=list)
    messages: List[Message] = field(default_factory=list)
    param_types: List[CType] = field(default_factory=list)
    senders: List[str] = field(default_factory=list)
    receivers: List[str] = field(default_factory=list)
    api: Optional["ChannelApi"] = None  # the per-channel typed API (channel_api.py)

    @property
    def explicit_params(self) -> List[Param]:
        """Parameters whose value a sender passes (no location in the payload)."""
        return [p for p in self.params if p.location is None]
    subject: Optional[str] = None  # NATS subject template; None: the typed API takes the subject
    spec_address: Optional[str] = None  # the address as written in the document (None: none)


@dataclass(eq=False)
class Operation:
    key: str
    service: str
    action: str  # "send" | "receive"
    channel: Channel
    messages: List[Message]
    reply: List[Message]
    queue_group: Optional[str]
    summary: str
    description: str
    node: N
    desc: str
    fn: str = ""  # typed API function: <service>_<operation> (send and receive)
    handler: str = ""  # receive: typed handler type <service>_<message>_handler


@dataclass(eq=False)
class Endpoint:
    """One message of a channel in the per-channel typed API: a SEND and a RECEIVE descriptor
    (operation descriptors of no service) and the names of its typed functions."""

    message: Message
    reply: Optional[Message]  # set: a request (request/respond), else plain (publish/subscribe)
    key: str  # "<channel key>/<message key>": the descriptors' keys add "/send", "/receive"
    send_desc: str
    receive_desc: str
    send_fn: str  # <p>_<channel>_publish[_<message>] or <p>_<channel>_request[_<message>]
    handler: str  # typed handler type of the subscription / responder
    member: str  # member of the handlers struct when the subscription takes several messages
    tramp: str  # the receive trampoline (file-local name)


@dataclass(eq=False)
class ChannelApi:
    """The typed functions of one channel for any client (<p>_sdk/channels_api.h)."""

    channel: Channel
    plain: List[Endpoint] = field(default_factory=list)  # published / subscribed messages
    requests: List[Endpoint] = field(default_factory=list)  # requests with their replies
    subscribe_fn: str = ""
    handlers_struct: str = ""  # several plain messages: struct of one handler per message
    respond_fn: str = ""
    responders_struct: str = ""  # several requests: struct of one handler per request

    @property
    def endpoints(self) -> List[Endpoint]:
        return self.plain + self.requests


@dataclass(eq=False)
class Service:
    """One x-service: its typed API header <prefix>_sdk/<snake>.h."""

    name: str  # "campaign-service"
    snake: str  # "campaign_service": the C namespace of its functions
    ops: List[Operation] = field(default_factory=list)


@dataclass(eq=False)
class Sdk:
    prefix: str
    spec_name: str
    title: str
    version: str
    description: str
    asyncapi: str
    types: List[CType] = field(default_factory=list)  # every descriptor, dependencies first
    messages: List[Message] = field(default_factory=list)
    channels: List[Channel] = field(default_factory=list)
    operations: List[Operation] = field(default_factory=list)
    services: Dict[str, List[Operation]] = field(default_factory=dict)
    service_apis: List[Service] = field(default_factory=list)  # sorted by name
    channel_apis: List[ChannelApi] = field(default_factory=list)  # by channel key
    named: List[CType] = field(default_factory=list)  # components/schemas types, by key order
    contract_hash: str = ""  # SHA-256 of the normalised contract (normalise.contract_hash)
