"""Frames of MKV bodies, as the interop tests compare them: what the stock SDK sent (its
KVS_DEBUG_DUMP_DATA_FILE_DIR dump) against what kvsd hands back (GetMediaForFragmentList).

A frame is (track number, absolute timecode, key flag, payload bytes); the absolute timecode is
the Cluster Timecode plus the block's signed 16-bit relative timecode, in the stream's
TimecodeScale units, exactly as written on the wire (RELATIVE uploads stay relative: kvsd hands
Clusters back unchanged). Frames are grouped by fragment (one Cluster).

Parsing is tests/integration/mkv_scan.py (independent of kvsd; it knows the SDK's unknown-size
Segment and Clusters, the 8-byte sizes and the Tags between Clusters); this module only decodes
block payloads. Laced blocks are rejected (neither the SDK nor kvsd writes them), so a lacing
flag shows up as a clear error rather than as a silently wrong payload.
"""

import os
import sys
from dataclasses import dataclass, field

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "integration"))

import mkv_scan  # noqa: E402


class FrameError(Exception):
    """A block that cannot be turned into one frame (lacing, bad BlockGroup, truncated header)."""


@dataclass(frozen=True)
class Frame:
    track: int
    timecode: int  # Cluster Timecode + relative block timecode (TimecodeScale units)
    key: bool
    payload: bytes

    def brief(self):
        return f"track {self.track} tc {self.timecode} {'key' if self.key else 'delta'} {len(self.payload)} B"


@dataclass
class Fragment:
    """One Cluster: its Timecode, its frames in body order, whether it was complete in the body
    (a body cut inside the Cluster leaves it incomplete), and where it came from."""
    timecode: int
    frames: list = field(default_factory=list)
    complete: bool = True
    closed_by: str = None
    source: str = ""
    size: int = 0  # bytes of the Cluster as it appears in the body

    def tracks(self):
        return sorted({f.track for f in self.frames})


@dataclass
class Parsed:
    """The result of parse(): the TimecodeScale (ns), the track numbers of the last Tracks
    element, the CodecIDs by track number, every Cluster as a Fragment, and whether the body
    ended inside an element."""
    timecode_scale: int
    track_numbers: list
    codecs: dict
    fragments: list
    truncated: bool
    scan: object  # the mkv_scan.Scan

    def complete_fragments(self):
        return [f for f in self.fragments if f.complete]


def _element_payload(buf, start):
    """(payload start, payload end or None for unknown size, element id) of the element at start."""
    eid, il = mkv_scan.read_id(buf, start)
    size, sl = mkv_scan.read_size(buf, start + il)
    begin = start + il + sl
    return begin, (None if size is None else begin + size), eid


def _block_frame(buf, begin, end, cluster_tc, key_override=None):
    tn, tl = mkv_scan.read_size(buf, begin)
    if begin + tl + 3 > end:
        raise FrameError(f"block header cut at {begin}")
    rel = int.from_bytes(bytes(buf[begin + tl:begin + tl + 2]), "big", signed=True)
    flags = buf[begin + tl + 2]
    if flags & 0x06:
        raise FrameError(f"laced block at {begin} (flags {flags:#04x})")
    key = bool(flags & 0x80) if key_override is None else key_override
    return Frame(tn, cluster_tc + rel, key, bytes(buf[begin + tl + 3:end]))


def block_frames(buf, block, cluster_tc):
    """The Frame of one mkv_scan.Block (a SimpleBlock, or a BlockGroup holding one Block; a
    BlockGroup without ReferenceBlock is a key frame)."""
    begin, end, eid = _element_payload(buf, block.start)
    if end is None:
        raise FrameError(f"unknown-size block at {block.start}")
    if eid == mkv_scan.SIMPLE_BLOCK:
        return _block_frame(buf, begin, end, cluster_tc)
    if eid != mkv_scan.BLOCK_GROUP:
        raise FrameError(f"element {eid:#x} at {block.start} is not a block")
    inner, key = None, True
    pos = begin
    while pos < end:
        cbegin, cend, cid = _element_payload(buf, pos)
        if cend is None or cend > end:
            raise FrameError(f"bad BlockGroup child at {pos}")
        if cid == mkv_scan.BLOCK:
            if inner is not None:
                raise FrameError(f"BlockGroup at {block.start} holds two Blocks")
            inner = (cbegin, cend)
        elif cid == mkv_scan.REFERENCE_BLOCK:
            key = False
        pos = cend
    if inner is None:
        raise FrameError(f"BlockGroup at {block.start} holds no Block")
    return _block_frame(buf, inner[0], inner[1], cluster_tc, key_override=key)


def _codecs(buf, sc):
    """{track number: CodecID} from the last Tracks element of a scan."""
    out = {}
    for el in sc.elements:
        if el.id != mkv_scan.TRACKS:
            continue
        out = {}
        for te in mkv_scan._children(buf, el.data_start, el.end):
            if te.id != mkv_scan.TRACK_ENTRY:
                continue
            number, codec = None, None
            for c in mkv_scan._children(buf, te.data_start, te.end):
                if c.id == mkv_scan.TRACK_NUMBER:
                    number = mkv_scan.read_uint(buf[c.data_start:c.end])
                elif c.id == mkv_scan.CODEC_ID:
                    codec = bytes(buf[c.data_start:c.end]).rstrip(b"\x00").decode("ascii", "replace")
            if number is not None:
                out[number] = codec
    return out


def parse(body, source=""):
    """Parses a whole MKV body (one or several concatenated EBML documents). Raises
    mkv_scan.Invalid for bytes that are not EBML and FrameError for undecodable blocks; a body
    cut short marks its last Cluster incomplete instead of raising."""
    sc = mkv_scan.scan(body)
    buf = memoryview(sc.body)
    frags = []
    for f in sc.fragments:
        frames = [block_frames(buf, b, f.timecode) for b in f.blocks] if f.timecode is not None else []
        frags.append(Fragment(timecode=f.timecode, frames=frames, complete=f.complete and f.timecode is not None,
                              closed_by=f.closed_by, source=source, size=(f.end or len(body)) - f.start))
    return Parsed(sc.timecode_scale, list(sc.track_numbers), _codecs(buf, sc), frags, sc.truncated, sc)


def parse_file(path):
    with open(path, "rb") as f:
        return parse(f.read(), source=os.path.basename(path))


def diff_fragments(expected, actual, limit=8):
    """Compares two lists of Fragments pairwise (same order). Returns a list of human-readable
    differences (empty when every fragment has the same Cluster timecode and exactly the same
    frames: track, timecode, key flag and payload bytes, in the same order)."""
    out = []
    if len(expected) != len(actual):
        out.append(f"{len(actual)} fragments instead of {len(expected)}: expected timecodes "
                   f"{[f.timecode for f in expected]}, got {[f.timecode for f in actual]}")
    for i, (e, a) in enumerate(zip(expected, actual)):
        if len(out) >= limit:
            out.append("...")
            break
        if e.timecode != a.timecode:
            out.append(f"fragment {i}: Cluster timecode {a.timecode} instead of {e.timecode}")
            continue
        if e.frames == a.frames:
            continue
        if len(e.frames) != len(a.frames):
            out.append(f"fragment {i} (tc {e.timecode}): {len(a.frames)} frames instead of {len(e.frames)}")
        for j, (fe, fa) in enumerate(zip(e.frames, a.frames)):
            if fe != fa:
                what = []
                if fe.track != fa.track:
                    what.append(f"track {fa.track} != {fe.track}")
                if fe.timecode != fa.timecode:
                    what.append(f"timecode {fa.timecode} != {fe.timecode}")
                if fe.key != fa.key:
                    what.append(f"key {fa.key} != {fe.key}")
                if fe.payload != fa.payload:
                    what.append(f"payload differs ({len(fa.payload)} B vs {len(fe.payload)} B)")
                out.append(f"fragment {i} (tc {e.timecode}) frame {j}: " + ", ".join(what))
                break
    return out
