"""Postern's internal protocols, spoken from Python by system tests.

The attribute codec of src/util/attr.h, the record encoding of
src/global/record.h, and a client of the cleanup protocol
(src/global/cleanup_clnt.h). Written from those headers, independently of
the C code, so that tests check the C side against the documented format.
"""
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
    """Encode a dict (or list of pairs) of int / str / bytes values."""
    items = attrs.items() if isinstance(attrs, dict) else attrs
    out = bytearray()
    for name, value in items:
        name_bytes = name.encode()
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
