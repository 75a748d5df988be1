"""Postern's internal protocols, spoken from Python by system tests.

The attribute codec of src/util/attr.h, the record encoding of
src/global/record.h, and a client of the cleanup protocol
(src/global/cleanup_clnt.h). Written from those headers, independently of
the C code, so that tests check the C side against the documented format.
"""
import pathlib
import socket

# --- attribute messages -------------------------------------------------

END = b"."


def varint(value):
    out = bytearray()
    while True:
        byte = value & 0x7F
        value >>= 7
        if value:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return bytes(out)


def zigzag(value):
    return (value << 1) ^ (value >> 63) if value < 0 else value << 1


def unzigzag(value):
    return (value >> 1) ^ -(value & 1)


def encode_attrs(attrs):
    """Encode a dict (or list of pairs) of int / str / bytes values, and
    of nested lists: a list value is a list of (name, dict) pairs."""
    items = attrs.items() if isinstance(attrs, dict) else attrs
    out = bytearray()
    for name, value in items:
        name_bytes = name.encode()
        if isinstance(value, list):
            out += b"l" + varint(len(name_bytes)) + name_bytes
            for item_name, item in value:
                item_bytes = item_name.encode()
                out += b"l" + varint(len(item_bytes)) + item_bytes
                out += encode_attrs(item)
            out += END
            continue
        if isinstance(value, bool):
            value = int(value)
        if isinstance(value, int):
            out += b"i" + varint(len(name_bytes)) + name_bytes
            out += varint(zigzag(value))
        elif isinstance(value, str):
            data = value.encode()
            out += b"s" + varint(len(name_bytes)) + name_bytes
            out += varint(len(data)) + data
        else:
            out += b"b" + varint(len(name_bytes)) + name_bytes
            out += varint(len(value)) + bytes(value)
    return bytes(out + END)


class Reader:
    """Buffered reads from a socket."""

    def __init__(self, sock):
        self.sock = sock
        self.buf = b""

    def byte(self):
        if not self.buf:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise EOFError("connection closed")
            self.buf = chunk
        value, self.buf = self.buf[0], self.buf[1:]
        return value

    def take(self, count):
        return bytes(self.byte() for _ in range(count))

    def varint(self):
        shift = value = 0
        while True:
            byte = self.byte()
            value |= (byte & 0x7F) << shift
            if not byte & 0x80:
                return value
            shift += 7

    def attrs(self):
        """Read one attribute message into a dict (lists not supported)."""
        result = {}
        while True:
            kind = chr(self.byte())
            if kind == ".":
                return result
            name = self.take(self.varint()).decode()
            if kind == "i":
                result[name] = unzigzag(self.varint())
            elif kind == "s":
                result[name] = self.take(self.varint()).decode()
            elif kind == "b":
                result[name] = self.take(self.varint())
            else:
                raise ValueError(f"unsupported attribute type {kind!r}")


# --- records -------------------------------------------------------------

def record(rec_type, data=b""):
    if isinstance(data, str):
        data = data.encode()
    return rec_type.encode() + varint(len(data)) + data


# --- the cleanup protocol ------------------------------------------------

CLEANUP_FLAG_LOCAL = 1
CLEANUP_STAT_BAD = 1
CLEANUP_STAT_WRITE = 2
CLEANUP_STAT_SIZE = 4
CLEANUP_STAT_HOPS = 8
CLEANUP_STAT_RCPT = 16


class CleanupClient:
    """One submission to a cleanup service over its UNIX socket."""

    def __init__(self, path, timeout=10):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.settimeout(timeout)
        self.sock.connect(str(path))
        self.reader = Reader(self.sock)
        self.greeting = self.reader.attrs()
        self.queue_id = self.greeting.get("queue_id")
        self.line_limit = self.greeting.get("line_length_limit", 2048)
        self.out = bytearray()

    def send_flags(self, flags):
        self.out += encode_attrs({"flags": flags})

    def rec(self, rec_type, data=b""):
        self.out += record(rec_type, data)

    def envelope(self, sender, recipients, fullname=None, arrival=None,
                 attrs=()):
        if arrival is not None:
            self.rec("T", f"{int(arrival)} 0")
        if fullname is not None:
            self.rec("F", fullname)
        self.rec("S", sender)
        for name, value in attrs:
            self.rec("A", f"{name}={value}")
        for rcpt in recipients:
            if isinstance(rcpt, tuple):
                rcpt, orcpt, notify, dsn_orcpt = rcpt
                if orcpt is not None:
                    self.rec("O", orcpt)
                if notify:
                    self.rec("n", str(notify))
                if dsn_orcpt is not None:
                    self.rec("o", dsn_orcpt)
            self.rec("R", rcpt)

    def content(self, text):
        """Message text with \\n line ends; long lines go as pieces."""
        if isinstance(text, str):
            text = text.encode()
        self.rec("M")
        lines = text.split(b"\n")
        if lines and lines[-1] == b"":
            lines.pop()
        for line in lines:
            while len(line) > self.line_limit:
                self.rec("L", line[:self.line_limit])
                line = line[self.line_limit:]
            self.rec("N", line)
        self.rec("X")
        self.rec("E")

    def flush(self):
        self.sock.sendall(self.out)
        self.out = bytearray()

    def reply(self):
        self.flush()
        return self.reader.attrs()

    def close(self):
        self.sock.close()


def submit(path, sender, recipients, text, flags=CLEANUP_FLAG_LOCAL,
           **kwargs):
    """Submit one message; returns (queue_id, reply dict)."""
    client = CleanupClient(path)
    try:
        client.send_flags(flags)
        client.envelope(sender, recipients, **kwargs)
        client.content(text)
        return client.queue_id, client.reply()
    finally:
        client.close()


# --- queue files and the delivery protocol -------------------------------

def read_varint(data, pos):
    shift = value = 0
    while True:
        byte = data[pos]
        pos += 1
        value |= (byte & 0x7F) << shift
        if not byte & 0x80:
            return value, pos
        shift += 7


def read_records(path):
    """Every record of a queue file as (offset, type, data bytes)."""
    data = open(path, "rb").read()
    records, pos = [], 0
    while pos < len(data):
        start, rec_type = pos, chr(data[pos])
        length, pos = read_varint(data, pos + 1)
        records.append((start, rec_type, data[pos:pos + length]))
        pos += length
    return records


def delivery_request(queue_file, nexthop="", flags=0, **extra):
    """A delivery request (src/global/deliver_request.h) for every
    recipient still to deliver ('R') in queue_file, which must be in
    active/. Keyword arguments override request attributes."""
    records = read_records(queue_file)
    size = records[0][2].split()
    request = {
        "flags": flags, "queue_name": "active",
        "queue_id": pathlib.Path(queue_file).name,
        "data_offset": int(size[1]), "data_size": int(size[4]),
        "nexthop": nexthop, "encoding": "", "smtputf8": 0, "sender": "",
        "dsn_envid": "", "dsn_ret": 0, "arrival_sec": 0, "arrival_usec": 0,
        "active_sec": 0, "active_usec": 0, "client_name": "",
        "client_addr": "", "client_proto": "", "client_helo": "",
        "sasl_username": "", "rewrite_context": "local",
    }
    rcpts, pending = [], {}
    for offset, rec_type, data in records:
        text = data.decode(errors="replace")
        if rec_type == "S":
            request["sender"] = text
        elif rec_type == "T":
            request["arrival_sec"] = int(text.split()[0])
            request["active_sec"] = request["arrival_sec"]
        elif rec_type == "O":
            pending["orig_rcpt"] = text
        elif rec_type == "n":
            pending["dsn_notify"] = int(text)
        elif rec_type == "o":
            pending["dsn_orcpt"] = text
        elif rec_type in "RD/":
            if rec_type == "R":
                rcpts.append(("rcpt", {
                    "offset": offset, "address": text,
                    "orig_rcpt": pending.get("orig_rcpt", text),
                    "dsn_orcpt": pending.get("dsn_orcpt", ""),
                    "dsn_notify": pending.get("dsn_notify", 0)}))
            pending = {}
        elif rec_type == "M":
            break
    request.update(extra)
    request["rcpts"] = rcpts
    return request


def deliver(path, request, timeout=30):
    """Send one delivery request to the agent at socket path; returns the
    reply dict (status, dsn, reason, results: one byte per recipient,
    b"S" sent, b"B" bounced, b"D" deferred)."""
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    sock.settimeout(timeout)
    sock.connect(str(path))
    try:
        reader = Reader(sock)
        greeting = reader.attrs()
        assert greeting.get("protocol") == "delivery", greeting
        sock.sendall(encode_attrs(request))
        return reader.attrs()
    finally:
        sock.close()
