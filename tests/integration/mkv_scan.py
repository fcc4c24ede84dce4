"""A small, independent EBML/Matroska scanner and builder for the PutMedia integration tests.

It computes what kvsd SHOULD store for a PutMedia body without sharing any code with kvsd:
the top-level elements of the Segment (known and unknown sizes), each Cluster's Timecode and
blocks, the Tags between Clusters (user metadata and AWS_KINESISVIDEO_END_OF_FRAGMENT), and the
byte range of each Cluster as kvsd stores it (the Cluster element from its ID up to the start of
the element that ended it: the next Cluster, a Tags element, or the end of the body).

Fragment rules mirrored here (spec section 3 / 6.8): a fragment is one Cluster; it closes at the
next Cluster, at a Tags element holding END_OF_FRAGMENT, or at the end of the body. User Tags that
arrive while a fragment is open belong to it; Tags arriving while none is open belong to the next,
unless an END_OF_FRAGMENT comes before it: then they end a fragment that is not in the body and are
dropped.
A body that ends inside an element (truncated tail) discards the open fragment.

Builder helpers (element(), simple_block(), tags(), ...) craft small bodies for error tests.
"""

import struct
from dataclasses import dataclass, field

EBML = 0x1A45DFA3
SEGMENT = 0x18538067
INFO = 0x1549A966
TRACKS = 0x1654AE6B
TRACK_ENTRY = 0xAE
TRACK_NUMBER = 0xD7
TRACK_UID = 0x73C5
TRACK_TYPE = 0x83
CODEC_ID = 0x86
TIMECODE_SCALE = 0x2AD7B1
CLUSTER = 0x1F43B675
TIMECODE = 0xE7
POSITION = 0xA7
SIMPLE_BLOCK = 0xA3
BLOCK_GROUP = 0xA0
BLOCK = 0xA1
REFERENCE_BLOCK = 0xFB
TAGS = 0x1254C367
TAG = 0x7373
SIMPLE_TAG = 0x67C8
TAG_NAME = 0x45A3
TAG_STRING = 0x4487
CUES = 0x1C53BB6B
SEEK_HEAD = 0x114D9B74
CHAPTERS = 0x1043A770
ATTACHMENTS = 0x1941A469
VOID = 0xEC

END_OF_FRAGMENT = "AWS_KINESISVIDEO_END_OF_FRAGMENT"

# IDs that end an unknown-size Cluster (level-1 elements and a new EBML header / Segment).
LEVEL1_IDS = {CLUSTER, TAGS, CUES, INFO, TRACKS, SEEK_HEAD, CHAPTERS, ATTACHMENTS, EBML, SEGMENT}


class Truncated(Exception):
    """The body ends inside an element header or payload."""


class Invalid(Exception):
    """Bytes that are not EBML."""


def read_id(buf, pos):
    """Returns (id, length) of the element ID at pos (marker bits kept, as IDs are written)."""
    if pos >= len(buf):
        raise Truncated(pos)
    first = buf[pos]
    if first == 0:
        raise Invalid(f"bad ID byte 0 at {pos}")
    length = 1
    mask = 0x80
    while not first & mask:
        mask >>= 1
        length += 1
    if length > 4:
        raise Invalid(f"ID longer than 4 bytes at {pos}")
    if pos + length > len(buf):
        raise Truncated(pos)
    return int.from_bytes(buf[pos:pos + length], "big"), length


def read_size(buf, pos):
    """Returns (size or None for unknown, length) of the size vint at pos."""
    if pos >= len(buf):
        raise Truncated(pos)
    first = buf[pos]
    if first == 0:
        raise Invalid(f"bad size byte 0 at {pos}")
    length = 1
    mask = 0x80
    while not first & mask:
        mask >>= 1
        length += 1
    if pos + length > len(buf):
        raise Truncated(pos)
    value = first & (mask - 1)
    for b in buf[pos + 1:pos + length]:
        value = (value << 8) | b
    if value == (1 << (7 * length)) - 1:
        return None, length
    return value, length


def read_uint(payload):
    return int.from_bytes(payload, "big") if payload else 0


@dataclass
class Element:
    id: int
    start: int  # offset of the ID
    header_len: int  # ID + size field
    size: object  # payload size or None (unknown)
    end: int = None  # offset after the element (for unknown size: where it ended)

    @property
    def data_start(self):
        return self.start + self.header_len


@dataclass
class Block:
    track: int
    rel_timecode: int
    key: bool
    start: int
    end: int


@dataclass
class ExpectedFragment:
    timecode: int  # Cluster Timecode as received
    start: int  # Cluster ID offset in the body
    end: int = None  # end of the stored bytes (start of the element that ended the Cluster)
    blocks: list = field(default_factory=list)
    metadata: list = field(default_factory=list)  # [(name, value)] user tags, arrival order
    closed_by: str = None  # "cluster", "eof-tag", "end-of-body", "header"
    complete: bool = True  # False: body ended inside one of its elements (discarded)
    timecode_offset: int = None  # offset of the Timecode element's 8-byte (or n-byte) payload
    timecode_len: int = 0
    known_size: bool = False  # the Cluster has a size field (complete once its bytes are in)

    def bytes_of(self, body):
        return bytes(body[self.start:self.end])

    def tracks(self):
        """{track number: (frames, key frames)}."""
        out = {}
        for b in self.blocks:
            frames, keys = out.get(b.track, (0, 0))
            out[b.track] = (frames + 1, keys + int(b.key))
        return out


@dataclass
class Scan:
    body: bytes
    segment: Element = None
    timecode_scale: int = 1000000
    track_numbers: list = field(default_factory=list)
    elements: list = field(default_factory=list)  # top-level children of the Segment (and EBML headers)
    fragments: list = field(default_factory=list)  # ExpectedFragment, complete or not
    truncated: bool = False
    tags: list = field(default_factory=list)  # (Element, [(name, value)])

    def complete_fragments(self):
        return [f for f in self.fragments if f.complete]


def _children(buf, start, end):
    """Yields (Element) for children of a known-size element payload [start, end)."""
    pos = start
    while pos < end:
        eid, il = read_id(buf, pos)
        size, sl = read_size(buf, pos + il)
        if size is None:
            raise Invalid(f"unknown-size child {eid:#x} at {pos}")
        el = Element(eid, pos, il + sl, size, pos + il + sl + size)
        if el.end > end:
            raise Truncated(pos)
        yield el
        pos = el.end


def parse_tags(buf, el):
    """[(name, value)] of every SimpleTag of a complete Tags element."""
    out = []
    for tag in _children(buf, el.data_start, el.end):
        if tag.id != TAG:
            continue
        for st in _children(buf, tag.data_start, tag.end):
            if st.id != SIMPLE_TAG:
                continue
            name, value = None, ""
            for c in _children(buf, st.data_start, st.end):
                # EBML strings may be padded with trailing zero bytes, which are not part of the value.
                if c.id == TAG_NAME:
                    name = bytes(buf[c.data_start:c.end]).rstrip(b"\x00").decode("utf-8", "replace")
                elif c.id == TAG_STRING:
                    value = bytes(buf[c.data_start:c.end]).rstrip(b"\x00").decode("utf-8", "replace")
            if name is not None:
                out.append((name, value))
    return out


def _parse_tracks(buf, el, scan):
    for te in _children(buf, el.data_start, el.end):
        if te.id != TRACK_ENTRY:
            continue
        for c in _children(buf, te.data_start, te.end):
            if c.id == TRACK_NUMBER:
                scan.track_numbers.append(read_uint(buf[c.data_start:c.end]))


def _parse_info(buf, el, scan):
    for c in _children(buf, el.data_start, el.end):
        if c.id == TIMECODE_SCALE:
            scan.timecode_scale = read_uint(buf[c.data_start:c.end])


def scan(body):
    """Scans a whole PutMedia body. Never raises for truncation: the open fragment is marked
    incomplete and Scan.truncated is set. Raises Invalid for non-EBML bytes."""
    buf = memoryview(bytes(body))
    out = Scan(body=bytes(body))
    pos = 0
    n = len(buf)
    open_frag = None
    pending_meta = []
    seg_end = n

    def close(reason, at):
        nonlocal open_frag
        if open_frag is not None:
            open_frag.closed_by = reason
            if open_frag.end is None:
                open_frag.end = at
            open_frag = None

    try:
        while pos < n:
            eid, il = read_id(buf, pos)
            size, sl = read_size(buf, pos + il)
            el = Element(eid, pos, il + sl, size)
            if eid == EBML:
                close("header", pos)
                el.end = el.data_start + size
                if el.end > n:
                    raise Truncated(pos)
                out.elements.append(el)
                pos = el.end
                continue
            if eid == SEGMENT:
                out.segment = el
                seg_end = n if size is None else min(n, el.data_start + size)
                el.end = seg_end
                pos = el.data_start
                continue
            if eid == CLUSTER:
                close("cluster", pos)
                frag = ExpectedFragment(timecode=None, start=pos, known_size=size is not None)
                frag.metadata.extend(pending_meta)
                pending_meta = []
                out.fragments.append(frag)
                open_frag = frag
                cend = seg_end if size is None else el.data_start + size
                p = el.data_start
                while p < cend:
                    cid, cil = read_id(buf, p)
                    if size is None and cid in LEVEL1_IDS:
                        break
                    csize, csl = read_size(buf, p + cil)
                    if csize is None:
                        raise Invalid(f"unknown-size cluster child {cid:#x} at {p}")
                    dstart = p + cil + csl
                    if dstart + csize > n:
                        raise Truncated(p)
                    if cid == TIMECODE:
                        frag.timecode = read_uint(buf[dstart:dstart + csize])
                        frag.timecode_offset = dstart
                        frag.timecode_len = csize
                    elif cid == SIMPLE_BLOCK or cid == BLOCK_GROUP:
                        bstart, key = dstart, None
                        if cid == BLOCK_GROUP:
                            key = True  # a BlockGroup without ReferenceBlock is a key frame
                            for c in _children(buf, dstart, dstart + csize):
                                if c.id == BLOCK:
                                    bstart = c.data_start
                                elif c.id == REFERENCE_BLOCK:
                                    key = False
                        tn, tl = read_size(buf, bstart)
                        rel = struct.unpack(">h", bytes(buf[bstart + tl:bstart + tl + 2]))[0]
                        flags = buf[bstart + tl + 2]
                        if key is None:
                            key = bool(flags & 0x80)
                        frag.blocks.append(Block(tn, rel, key, p, dstart + csize))
                    p = dstart + csize
                el.end = p
                frag.end = p
                out.elements.append(el)
                pos = p
                if size is not None and p >= seg_end:
                    break
                continue
            if size is None:
                raise Invalid(f"unknown-size element {eid:#x} at {pos}")
            el.end = el.data_start + size
            if el.end > n:
                raise Truncated(pos)
            out.elements.append(el)
            if eid == INFO:
                _parse_info(buf, el, out)
            elif eid == TRACKS:
                close("header", pos)
                out.track_numbers = []
                _parse_tracks(buf, el, out)
            elif eid == TAGS:
                items = parse_tags(buf, el)
                out.tags.append((el, items))
                eof = any(name == END_OF_FRAGMENT for name, _ in items)
                user = [(k, v) for k, v in items if not k.startswith("AWS")]
                if open_frag is not None:
                    open_frag.metadata.extend(user)
                else:
                    pending_meta.extend(user)
                if eof and open_frag is None:
                    pending_meta = []  # an orphan: the end of a fragment that is not in this body
                elif eof:
                    close("eof-tag", None)
            pos = el.end
        close("end-of-body", pos)
    except Truncated:
        out.truncated = True
        if open_frag is not None:
            open_frag.complete = False
            if open_frag.end is None:
                open_frag.end = n
    return out


def hold_timecode(frags):
    """The timecode of the last fragment that can be acknowledged before the body ends (closed by a
    Cluster, an END_OF_FRAGMENT tag, a header, or complete by its size): what an SDK-like client
    waits for (PERSISTED) before ending the body. None if there is none."""
    for f in reversed(frags):
        if f.complete and (f.closed_by != "end-of-body" or f.known_size):
            return f.timecode
    return None


def load(path):
    with open(path, "rb") as f:
        return f.read()


def producer_timestamp_ms(frag_timecode, scale_ns, timecode_type="ABSOLUTE", start_ms=0):
    ms = frag_timecode * scale_ns // 1000000
    return ms if timecode_type == "ABSOLUTE" else start_ms + ms


# --- builder ---------------------------------------------------------------------------------

def encode_id(eid):
    return eid.to_bytes((eid.bit_length() + 7) // 8, "big")


def encode_size(size, width=None):
    if size is None:
        return b"\x01\xff\xff\xff\xff\xff\xff\xff" if width == 8 else b"\xff"
    if width is None:
        width = 1
        while size >= (1 << (7 * width)) - 1:
            width += 1
    if size >= (1 << (7 * width)) - 1:
        raise ValueError("size does not fit")
    return ((1 << (7 * width)) | size).to_bytes(width, "big")


def element(eid, payload=b"", width=None):
    return encode_id(eid) + encode_size(len(payload), width) + payload


def uint_element(eid, value, width=None):
    if width is None:
        width = max(1, (value.bit_length() + 7) // 8)
    return element(eid, value.to_bytes(width, "big"))


def ebml_header():
    return element(EBML, uint_element(0x4286, 1) + uint_element(0x42F7, 1) + uint_element(0x42F2, 4)
                   + uint_element(0x42F3, 8) + element(0x4282, b"matroska") + uint_element(0x4287, 2)
                   + uint_element(0x4285, 2))


def track_entry(number, track_type=1, codec="V_MPEG4/ISO/AVC", uid=None):
    return element(TRACK_ENTRY, uint_element(TRACK_NUMBER, number) + uint_element(TRACK_UID, uid or number, 8)
                   + uint_element(TRACK_TYPE, track_type) + element(CODEC_ID, codec.encode()), width=4)


def header(tracks=((1, 1, "V_MPEG4/ISO/AVC"),), scale=1000000):
    """EBML header + unknown-size Segment + Info + Tracks, SDK-shaped."""
    info = element(INFO, element(0x73A4, b"\x55" * 16) + uint_element(TIMECODE_SCALE, scale, 8)
                   + element(0x7BA9, b"Kinesis Video SDK"), width=2)
    tr = element(TRACKS, b"".join(track_entry(n, t, c) for n, t, c in tracks), width=4)
    return ebml_header() + encode_id(SEGMENT) + b"\xff" + info + tr


def simple_block(track, rel_timecode, key=False, payload=b"\x00\x00\x00\x01\x65"):
    data = encode_size(track, 1) + struct.pack(">h", rel_timecode) + bytes([0x80 if key else 0]) + payload
    return element(SIMPLE_BLOCK, data, width=8)


def cluster_open(timecode):
    """Unknown-size Cluster header + Timecode (8 bytes) + Position 0, like the SDK."""
    return encode_id(CLUSTER) + b"\xff" + uint_element(TIMECODE, timecode, 8) + uint_element(POSITION, 0)


def cluster(timecode, frames=5, track=1, step=40, payload_size=64, tracks=None):
    """A complete SDK-like fragment: a key frame then frames-1 delta frames every step units."""
    out = cluster_open(timecode)
    for i in range(frames):
        for t in (tracks or [track]):
            out += simple_block(t, i * step, key=(i == 0), payload=bytes([0, 0, 0, 1]) + bytes(payload_size))
    return out


def tags(items):
    """One Tags element holding one Tag with SimpleTags [(name, value)], sizes 8 bytes wide."""
    sts = b"".join(element(SIMPLE_TAG, element(TAG_NAME, k.encode(), 8) + element(TAG_STRING, v.encode(), 8), 8)
                   for k, v in items)
    return element(TAGS, element(TAG, sts, 8), 8)


def eof_tags():
    return tags([(END_OF_FRAGMENT, "")])


def with_timecodes(body, sc, shift):
    """A copy of body whose every Cluster Timecode is increased by shift (same widths)."""
    out = bytearray(body)
    for f in sc.fragments:
        if f.timecode_offset is None:
            continue
        out[f.timecode_offset:f.timecode_offset + f.timecode_len] = (f.timecode + shift).to_bytes(f.timecode_len,
                                                                                                   "big")
    return bytes(out)
