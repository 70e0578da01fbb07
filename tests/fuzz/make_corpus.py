#!/usr/bin/env python3
"""Writes the committed seed corpora of the fuzz harnesses: tests/fuzz/corpus/<harness>/.

    tests/fuzz/make_corpus.py [--jsontestsuite DIR]

  decode/    the unit-test fixtures' documents (fixtures.c, through a small C program),
             JSON edge cases, and, with --jsontestsuite, the JSONTestSuite test_parsing
             files of at most 4 KiB (MIT, see corpus/decode/README.md)
  messages/  every example of the contract (generated/examples/*.json) and every case of
             tests/sdk/cases.json, as "<message key>\\n<json>"; channel subjects
  proto/     NATS protocol transcripts, both directions
  ws/        WebSocket frame sequences (masked client frames, server frames, control
             frames, fragments, close frames, errors) and HTTP upgrade heads, with the
             harness's mode and chunk bytes in front

File names are the SHA-1 of the content (as libFuzzer names them), so running this again
changes nothing unless a source changed. Existing files that no source makes any more are
removed (the decode/ JSONTestSuite files only when --jsontestsuite is given).
"""

import argparse
import glob
import hashlib
import json
import os
import shutil
import struct
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.abspath(os.path.join(HERE, "..", ".."))
CORPUS = os.path.join(HERE, "corpus")


def write_all(name, items, keep=lambda f: False):
    d = os.path.join(CORPUS, name)
    os.makedirs(d, exist_ok=True)
    want = {}
    for data in items:
        want[hashlib.sha1(data).hexdigest()] = data
    for f in sorted(os.listdir(d)):
        if f not in want and f != "README.md" and f != "LICENSE" and not keep(f):
            os.remove(os.path.join(d, f))
    for h, data in sorted(want.items()):
        with open(os.path.join(d, h), "wb") as f:
            f.write(data)
    print(f"corpus/{name}: {len(want)} seeds")


# ---------------------------------------------------------------- decode

FIXTURE_PROGRAM = r'''
#include <stdio.h>
#include "fixtures.h"
int main(void) { fputs(fx_doc_full_json, stdout); fputc(0, stdout); fputs(fx_doc_min_json, stdout); return 0; }
'''

JSON_EDGES = [
    b'{"a":1,"a":2}', b'[' * 70 + b']' * 70, b'"\\ud800"', b'"\\udc00\\ud800"', b'"\\u0000"', b'"a\x00b"',
    b'1e999', b'-1e999', b'123456789012345678901234567890', b'9007199254740993', b'-0', b'1.0', b'0.1e-400',
    b'{} trailing', b'{}\n', b'\xef\xbb\xbf{}', b'"\xff"', b'"\xc0\x80"', b'"\xed\xa0\x80"', b'[1,]', b'{"a":}',
    b'nul', b'true false', b'"\\u00e9\\u20ac\\ud83d\\ude00"', b'{"":""}', b' \t\r\n{ }',
]


def fixture_docs():
    cc = shutil.which("cc") or shutil.which("gcc") or shutil.which("clang")
    if not cc:
        sys.exit("make_corpus: no C compiler for the fixtures' documents")
    with tempfile.TemporaryDirectory() as tmp:
        src = os.path.join(tmp, "seeds.c")
        with open(src, "w") as f:
            f.write(FIXTURE_PROGRAM)
        exe = os.path.join(tmp, "seeds")
        codec = sorted(glob.glob(os.path.join(REPO, "runtime", "codec", "*.c")))
        cjson = subprocess.run(["pkg-config", "--cflags", "--libs", "libcjson"], capture_output=True, text=True,
                               check=True).stdout.split()
        subprocess.run([cc, "-std=c11", "-D_POSIX_C_SOURCE=200809L", "-D_DEFAULT_SOURCE", "-o", exe, src,
                        os.path.join(REPO, "tests", "unit", "fixtures.c"), *codec,
                        "-I" + os.path.join(REPO, "runtime", "include"), "-I" + os.path.join(REPO, "runtime"),
                        "-I" + os.path.join(REPO, "tests", "unit"), *cjson, "-lm", "-lpthread"], check=True)
        out = subprocess.run([exe], capture_output=True, check=True).stdout
    return [d for d in out.split(b"\0") if d]


def decode_corpus(jts):
    items = fixture_docs() + JSON_EDGES
    keep = (lambda f: False) if jts else (lambda f: True)  # without the suite, keep what is there
    if jts:
        for p in sorted(glob.glob(os.path.join(jts, "*.json"))):
            if os.path.getsize(p) <= 4096:
                with open(p, "rb") as f:
                    items.append(f.read())
    write_all("decode", items, keep)


# ---------------------------------------------------------------- messages

SUBJECTS = ["campaign.create", "notification.user.3f0c9a52-7d1e-4b8a-9c61-2e5f4a7b8d90.push",
            "notification.user.not-a-uuid.push", "user.info.request", "a.b.c", ">", "notification.user..push"]


def messages_corpus():
    items = []
    for p in sorted(glob.glob(os.path.join(REPO, "generated", "examples", "*.json"))):
        key = os.path.basename(p).split(".")[0]
        with open(p, "rb") as f:
            items.append(key.encode() + b"\n" + f.read())
    with open(os.path.join(REPO, "tests", "sdk", "cases.json"), encoding="utf-8") as f:
        for c in json.load(f)["cases"]:
            items.append(c["message"].encode() + b"\n" + c["json"].encode())
    for s in SUBJECTS:
        items.append(s.encode() + b"\n{}")
    write_all("messages", items)


# ---------------------------------------------------------------- proto

PROTO = [
    b'CONNECT {"verbose":true,"pedantic":false,"headers":true,"no_responders":true,"name":"x"}\r\nPING\r\n',
    b'PUB a.b 5\r\nhello\r\nSUB a.* q 1\r\nUNSUB 1 10\r\nPUB a.b _INBOX.r.1 0\r\n\r\n',
    b'HPUB a _INBOX.x.1 22 27\r\nNATS/1.0\r\nA: b\r\n\r\n\r\nhello\r\n',
    b'INFO {"server_id":"x","max_payload":1048576,"headers":true,"connect_urls":["a:1","[::1]:2"]}\r\n',
    b"MSG a.b 1 _INBOX.r 3\r\nabc\r\nHMSG r 2 16 16\r\nNATS/1.0 503\r\n\r\n\r\n+OK\r\n-ERR 'Slow Consumer'\r\n",
    b'sub A 1\r\npub A 1\r\nx\r\nping\r\nPONG\r\n',
    b'PUB a 3\r\nabcde\r\n', b'PUB a -1\r\n', b'PUB a 99999999999999999999\r\n', b'SUB\r\n', b'UNSUB x y\r\n',
    b'CONNECT {"auth_token":"' + b't' * 2000 + b'"}\r\n', b'CONNECT {"name":"' + b'n' * 300 + b'"}\r\n',
    b'INFO {"max_payload":-1,"proto":99999999999}\r\n', b'MSG a 1 2\r\nab\r\nMSG a 1 2\r\nabX\r\n',
    b'PING\rPONG\n', b'\x00\x01\x02', b'HMSG a 1 10 5\r\n12345\r\n', b'-ERR\r\n', b'INFO\r\n',
]


def proto_corpus():
    write_all("proto", PROTO)


# ---------------------------------------------------------------- ws

def frame(payload, op=2, fin=True, key=None, length=None):
    n = len(payload) if length is None else length
    b0 = (0x80 if fin else 0) | op
    m = 0x80 if key else 0
    if n < 126:
        h = struct.pack("!BB", b0, m | n)
    elif n < 65536:
        h = struct.pack("!BBH", b0, m | 126, n)
    else:
        h = struct.pack("!BBQ", b0, m | 127, n)
    if key:
        h += key
        payload = bytes(b ^ key[i % 4] for i, b in enumerate(payload))
    return h + payload


def ws_corpus():
    items = []
    K = b"\x37\xfa\x21\x3d"
    client = [  # what a client sends: masked (mode 1 / 3: the server's parser)
        frame(b"CONNECT {}\r\nPING\r\n", key=K),
        frame(b"PUB a 5\r\n", fin=False, key=K) + frame(b"hi", op=9, key=K) + frame(b"hello\r\n", op=0, key=K),
        frame("PUB t 3\r\n\u00e9x\r\n".encode(), op=1, key=K) + frame(struct.pack("!H", 1000) + b"bye", op=8, key=K),
        frame(b"x" * 300, key=K) + frame(b"", op=10, key=K),
        frame(b"a" * 70000, key=K),
        frame(b"PING\r\n"),  # unmasked
        frame(struct.pack("!H", 5000), op=8, key=K), frame(b"\x03", op=8, key=K),
        frame(struct.pack("!H", 1000) + b"\xff", op=8, key=K), frame(b"\xff\xfe", op=1, key=K),
        frame(b"", length=1 << 62, key=K), frame(b"x", op=3, key=K), frame(b"x", op=0, key=K),
        frame(b"p" * 126, op=9, key=K), frame(b"x", op=9, fin=False, key=K),
        frame(b"abc", fin=False, key=K) + frame(b"x" * 300, op=0, key=K) + frame(struct.pack("!H", 1000), op=8, key=K),
    ]
    server = [  # what a server sends: unmasked (mode 0 / 2: the client's parser)
        frame(b'INFO {"server_id":"x","headers":true}\r\n'), frame(b"MSG a 1 2\r\nhi\r\nPONG\r\n"),
        frame(b"MSG a 1 2\r\n", fin=False) + frame(b"hi\r\n", op=0), frame(b"x", key=K),
        frame(struct.pack("!H", 1001) + b"going away", op=8), frame(b"", op=8), frame(b"\xe2\x82", op=1, fin=False)
        + frame(b"\xac", op=0),
    ]
    for i, f in enumerate(client):
        items.append(bytes([1 | (i & 1) << 1, i % 61]) + f)
    for i, f in enumerate(server):
        items.append(bytes([(i & 1) << 1, (7 * i) % 61]) + f)
    heads = [
        b"GET / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
        b"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\nOrigin: http://a\r\n"
        b"Sec-WebSocket-Protocol: nats\r\n\r\n",
        b"GET /varz HTTP/1.0\r\n\r\n", b"POST / HTTP/1.1\r\nA: b\r\n c\r\n\r\n", b"GET / HTTP/2.0\r\n\r\n",
        b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
        b"Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\r\n",
        b"HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\n\r\n",
    ]
    for i, h in enumerate(heads):
        items.append(bytes([4 | (i & 1), 0]) + h)
    write_all("ws", items)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--jsontestsuite", help="JSONTestSuite's test_parsing directory")
    a = ap.parse_args()
    decode_corpus(a.jsontestsuite)
    messages_corpus()
    proto_corpus()
    ws_corpus()
    return 0


if __name__ == "__main__":
    sys.exit(main())
