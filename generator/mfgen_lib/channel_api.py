"""The per-channel typed API any client may use (<p>_sdk/channels_api.h), named here.

Which messages of a channel are what, from the operations on the channel:
  request   a message an operation with a `reply` sends or receives; its reply is that
            operation's first reply message (the first such operation by key decides)
  reply     a message that is only ever a reply of an operation on the channel: it travels to the
            requester's inbox, so it gets no function of its own
  plain     every other message of the channel

Names, with ch = <prefix>_<channel key in snake_case>_channel and m = <message key in snake_case>
(the "_channel" keeps them apart from the type names: channel "quote" carries QuoteRequest):
  plain, one message        ch_publish, ch_subscribe, handler type ch_handler
  plain, several messages   ch_publish_m; ch_subscribe takes a struct ch_handlers with one member
                            m (type ch_m_handler) per message
  request, one message      ch_request, ch_request_async, callback ch_request_cb;
                            ch_respond, handler type ch_respond_handler
  request, several          ch_request_m, ch_request_m_async, ch_request_m_cb; ch_respond takes
                            a struct ch_responders with one member m (type ch_respond_m_handler)
Every name is claimed; a collision with another generated name is an error naming both.
"""
from __future__ import annotations

from typing import Dict, List, Optional

from . import names
from .model import Channel, ChannelApi, Endpoint, Message, Operation
from .symbols import Symbols


def classify(c: Channel, ops: List[Operation]) -> Dict[int, Optional[Message]]:
    """id(message) -> its reply for requests, None for plain messages; reply-only messages absent."""
    mine = sorted((o for o in ops if o.channel is c), key=lambda o: o.key)
    reply_of: Dict[int, Message] = {}
    replies = set()
    for o in mine:
        for r in o.reply:
            replies.add(id(r))
        for m in o.messages if o.reply else []:
            reply_of.setdefault(id(m), o.reply[0])
    out: Dict[int, Optional[Message]] = {}
    for m in c.messages:
        if id(m) in reply_of:
            out[id(m)] = reply_of[id(m)]
        elif id(m) not in replies:
            out[id(m)] = None
    return out


# Arguments and locals of the generated functions: a channel parameter must not shadow them.
ARGUMENTS = frozenset("client msg req reply timeout_ms cb ctx handler handlers queue sub err params filter routes"
                      .split())


def build(c: Channel, ops: List[Operation], prefix: str, sym: Symbols) -> ChannelApi:
    api = ChannelApi(channel=c)
    for pr in c.params:
        if pr.member in ARGUMENTS:
            sym.diag.error(pr.node.err(f"channel parameter '{pr.name}' would be the C argument '{pr.member}', "
                                       "which the typed functions already use",
                                       "rename the parameter (the typed functions take it as an argument)"))
    kinds = classify(c, ops)
    plain = [m for m in c.messages if id(m) in kinds and kinds[id(m)] is None]
    requests = [m for m in c.messages if kinds.get(id(m)) is not None]
    ch = f"{prefix}_{c.snake}_channel"
    for m in plain:
        api.plain.append(endpoint(c, m, None, prefix, sym, ch, "publish", len(plain) > 1))
    for m in requests:
        api.requests.append(endpoint(c, m, kinds[id(m)], prefix, sym, ch, "request", len(requests) > 1))
    if api.plain:
        api.subscribe_fn = claim(sym, c, f"{ch}_subscribe", "subscribe function")
        if len(api.plain) > 1:
            api.handlers_struct = claim(sym, c, f"{ch}_handlers", "handlers struct")
    if api.requests:
        api.respond_fn = claim(sym, c, f"{ch}_respond", "respond function")
        if len(api.requests) > 1:
            api.responders_struct = claim(sym, c, f"{ch}_responders", "responders struct")
    return api


def endpoint(c: Channel, m: Message, reply: Optional[Message], prefix: str, sym: Symbols, ch: str, verb: str,
             several: bool) -> Endpoint:
    ms = names.type_part(m.key)
    base = f"{prefix}_ep_{c.snake}_{ms}"
    fn = f"{ch}_{verb}_{ms}" if several else f"{ch}_{verb}"
    if reply is None:
        handler = f"{ch}_{ms}_handler" if several else f"{ch}_handler"
    else:
        handler = f"{ch}_respond_{ms}_handler" if several else f"{ch}_respond_handler"
    e = Endpoint(message=m, reply=reply, key=f"{c.key}/{m.key}", send_desc=f"{base}_send_desc",
                 receive_desc=f"{base}_receive_desc", send_fn=fn, handler=handler,
                 member=names.member(m.key) if several else "", tramp=f"{handler}__tramp")
    claim(sym, c, e.send_desc, f"send descriptor of message '{m.key}'")
    claim(sym, c, e.receive_desc, f"receive descriptor of message '{m.key}'")
    claim(sym, c, fn, f"{verb} function of message '{m.key}'")
    claim(sym, c, handler, f"handler type of message '{m.key}'")
    if reply is not None:
        claim(sym, c, f"{fn}_async", f"async request function of message '{m.key}'")
        claim(sym, c, f"{fn}_cb", f"request callback type of message '{m.key}'")
    return e


def claim(sym: Symbols, c: Channel, ident: str, what: str) -> str:
    sym.claim(ident, c.node, f"{what} of channel '{c.key}'")
    return ident
