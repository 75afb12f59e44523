#!/usr/bin/python3
"""Writes a copy of a TrueType font whose Unicode cmap has as few segments as fit in 64 KB.

libharu maps every code point of its UTF-8 encoder through the font's format-4 cmap with a linear
search over the segments, for every document; a face whose glyphs are scattered (Hanja) has
thousands. Segments that hold a glyph array (idRangeOffset) may span code points the face lacks
(they map to glyph 0, as before), so neighbours are merged, cheapest first, until one more merge
would pass the format's 64 KB. Only the cmap changes; the result is read back and compared with
the original for every code point. Usage: compact_cmap.py SOURCE.ttf OUT.ttf
"""
import heapq
import struct
import sys

from fontTools.ttLib import TTFont, newTable
from fontTools.ttLib.tables.DefaultTable import DefaultTable

LIMIT = 0xFFFF  # a format-4 subtable's length is a uint16


def initial_segments(cmap, glyph_id):
    """Maximal runs of consecutive code points whose glyph ids are consecutive too."""
    segs = []
    for cp in sorted(c for c in cmap if c < 0xFFFF):
        gid = glyph_id[cmap[cp]]
        if segs and segs[-1][1] == cp - 1 and segs[-1][2] == gid - (cp - segs[-1][0]) and segs[-1][3]:
            segs[-1][1] = cp
        else:
            segs.append([cp, cp, gid, True])  # start, end, first gid, delta-coded
    return segs


def cost(seg):
    start, end, _, delta = seg
    return 8 + (0 if delta else 2 * (end - start + 1))


def main(src, dst):
    font = TTFont(src)
    glyph_id = {name: i for i, name in enumerate(font.getGlyphOrder())}
    cmap = font.getBestCmap()
    segs = initial_segments(cmap, glyph_id)
    # Doubly linked list of segments; merge the adjacent pair whose merge adds the fewest bytes
    # until one more merge would no longer fit.
    n = len(segs)
    nxt = list(range(1, n)) + [None]
    prv = [None] + list(range(n - 1))
    alive = [True] * n
    version = [0] * n
    total = 14 + 8 + sum(cost(s) for s in segs)  # header + the final 0xFFFF segment

    def merged(i, j):
        return [segs[i][0], segs[j][1], 0, False]

    heap = []

    def push(i):
        j = nxt[i]
        if j is None:
            return
        extra = cost(merged(i, j)) - cost(segs[i]) - cost(segs[j])
        heapq.heappush(heap, (extra, i, version[i], version[j]))

    for i in range(n - 1):
        push(i)
    while heap:
        extra, i, vi, vj = heapq.heappop(heap)
        j = nxt[i]
        if not alive[i] or j is None or version[i] != vi or version[j] != vj:
            continue
        if extra > 0 and total + extra > LIMIT:
            break
        total += extra
        segs[i] = merged(i, j)
        alive[j] = False
        nxt[i] = nxt[j]
        if nxt[j] is not None:
            prv[nxt[j]] = i
        version[i] += 1
        push(i)
        if prv[i] is not None:
            push(prv[i])
    final = [segs[i] for i in range(n) if alive[i]]
    data = encode(final, cmap, glyph_id)
    assert len(data) <= LIMIT, len(data)
    install(font, data)
    font.save(dst)
    check(dst, cmap, glyph_id)
    print(f"{dst}: {n} runs -> {len(final) + 1} cmap segments, {len(data)} bytes", file=sys.stderr)


def encode(segs, cmap, glyph_id):
    segs = segs + [[0xFFFF, 0xFFFF, 1, True]]  # the required last segment maps 0xFFFF to 0
    seg_count = len(segs)
    ends, starts, deltas, offsets, array = [], [], [], [], []
    for k, (start, end, gid, delta) in enumerate(segs):
        ends.append(end)
        starts.append(start)
        if delta:
            deltas.append((gid - start) & 0xFFFF)
            offsets.append(0)
        else:
            deltas.append(0)
            offsets.append(2 * (seg_count - k) + 2 * len(array))
            for cp in range(start, end + 1):
                name = cmap.get(cp)
                array.append(glyph_id[name] if name is not None else 0)
    search_range = 2 ** (seg_count.bit_length() - 1) * 2
    entry_selector = seg_count.bit_length() - 1
    head = struct.pack(">7H", 4, 0, 0, seg_count * 2, search_range, entry_selector,
                       seg_count * 2 - search_range)
    body = struct.pack(f">{seg_count}H", *ends) + b"\0\0" + struct.pack(f">{seg_count}H", *starts)
    body += struct.pack(f">{seg_count}H", *deltas) + struct.pack(f">{seg_count}H", *offsets)
    body += struct.pack(f">{len(array)}H", *array)
    data = bytearray(head + body)
    struct.pack_into(">H", data, 2, len(data))
    return bytes(data)


def install(font, subtable):
    """A cmap with only the (3,1) subtable, written byte for byte."""
    header = struct.pack(">HHHHL", 0, 1, 3, 1, 12)
    raw = DefaultTable("cmap")
    raw.data = header + subtable
    font["cmap"] = raw


def check(path, cmap, glyph_id):
    font = TTFont(path)
    got = font["cmap"].getcmap(3, 1).cmap
    want = {cp: n for cp, n in cmap.items() if cp < 0xFFFF}
    order = font.getGlyphOrder()
    bad = [cp for cp in want if got.get(cp) != want[cp]]
    extra = [cp for cp in got if cp not in want and order.index(got[cp]) != 0]
    assert not bad and not extra, (bad[:5], extra[:5])


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
