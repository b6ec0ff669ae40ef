#!/usr/bin/env python3
"""Crafted hostile .pt inputs for tests/fuzz/regressions/ (replayed by
tests/test_pt_fuzz_corpus.c; test_pt.c checks the messages of some):

    python3 tests/fuzz/make_hostile.py [OUT_DIR]   (default tests/fuzz/regressions)

  zip_bomb.pt       data/0 deflated: 16 MiB of zeros in ~16 KiB; the pickle asks for all of it
  overlap.pt        four central-directory entries data/0..3 that all point at one stored record
  nested_records.pt data/0 is stored around the whole of record data/1 (both read: overlap)
  huge_storage.pt   a storage declared with 2^40 floats, its record 8 bytes
  bad_offset.pt     a tensor view whose storage offset lies beyond its 4-float storage
  recursion.pkl     a list that contains itself
  deep.pkl          100000 nested lists
  sharing.pkl       [x, x] of [x, x] ... 60 levels: 2^60 values if shared values were copied freely
Plain Python (no torch). Development only."""
import struct
import sys
import zipfile
import zlib
from pathlib import Path

OUT = Path(sys.argv[1] if len(sys.argv) > 1 else Path(__file__).resolve().parent / "regressions")


def tensor_pickle(key, numel, offset=0, size=2):
    """torch's pickle of one float tensor over storage `key` (protocol 2, hand-written)."""
    return (b"\x80\x02ctorch._utils\n_rebuild_tensor_v2\n((X\x07\x00\x00\x00storagectorch\nFloatStorage\n"
            + b"X" + struct.pack("<I", len(key)) + key.encode() + b"X\x03\x00\x00\x00cpu"
            + b"\x8a\x08" + struct.pack("<q", numel) + b"tQ"
            + b"\x8a\x08" + struct.pack("<q", offset) + b"K" + bytes([size]) + b"\x85K\x01\x85\x89}tR.")


def write_zip(path, entries, deflate=()):
    with zipfile.ZipFile(path, "w") as z:
        for name, data in entries:
            z.writestr(name, data, compress_type=zipfile.ZIP_DEFLATED if name in deflate else zipfile.ZIP_STORED)


def overlap(path):
    """One stored record, then a central directory naming it four times."""
    data = b"\x00" * 64
    pkl = tensor_pickle("0", 16, size=16)
    recs, central, off = b"", b"", 0
    names = [b"overlap/data.pkl", b"overlap/data/0"]
    blobs = [pkl, data]
    offsets = []
    for name, blob in zip(names, blobs):
        crc = zlib.crc32(blob)
        offsets.append((off, name, blob, crc))
        recs += struct.pack("<IHHHHHIIIHH", 0x04034B50, 20, 0, 0, 0, 0, crc, len(blob), len(blob), len(name), 0) + name + blob
        off = len(recs)
    entries = [offsets[0]] + [(offsets[1][0], b"overlap/data/%d" % i, data, offsets[1][3]) for i in range(4)]
    for o, name, blob, crc in entries:
        central += struct.pack("<IHHHHHHIIIHHHHHII", 0x02014B50, 20, 20, 0, 0, 0, 0, crc, len(blob), len(blob),
                               len(name), 0, 0, 0, 0, 0, o) + name
    end = struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, len(entries), len(entries), len(central), len(recs), 0)
    path.write_bytes(recs + central + end)


def local(name, blob):
    return struct.pack("<IHHHHHIIIHH", 0x04034B50, 20, 0, 0, 0, 0, zlib.crc32(blob), len(blob), len(blob), len(name),
                       0) + name


def nested_records(path):
    """data/0's stored bytes are data/1's local header and data: 2 records, 1 set of bytes."""
    inner = b"\x00" * 4096
    b_rec = local(b"abc/data/1", inner) + inner  # 40-byte header: data/0 holds 4136 bytes = 1034 floats
    pkl = (b"\x80\x02}(X\x01\x00\x00\x00a" + tensor_pickle("0", 1034)[2:-1] + b"X\x01\x00\x00\x00b"
           + tensor_pickle("1", 1024)[2:-1] + b"u.")
    recs = local(b"abc/data.pkl", pkl) + pkl
    a_off = len(recs)
    recs += local(b"abc/data/0", b_rec)
    b_off = len(recs)
    recs += b_rec
    central = b""
    for o, name, blob in ((0, b"abc/data.pkl", pkl), (a_off, b"abc/data/0", b_rec), (b_off, b"abc/data/1", inner)):
        central += struct.pack("<IHHHHHHIIIHHHHHII", 0x02014B50, 20, 20, 0, 0, 0, 0, zlib.crc32(blob), len(blob),
                               len(blob), len(name), 0, 0, 0, 0, 0, o) + name
    end = struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, 3, 3, len(central), len(recs), 0)
    path.write_bytes(recs + central + end)


def main():
    OUT.mkdir(parents=True, exist_ok=True)
    n = 4 << 20  # floats: 16 MiB
    write_zip(OUT / "zip_bomb.pt", [("zip_bomb/data.pkl", tensor_pickle("0", n)),
                                    ("zip_bomb/data/0", b"\x00" * (4 * n))], deflate={"zip_bomb/data/0"})
    overlap(OUT / "overlap.pt")
    nested_records(OUT / "nested_records.pt")
    write_zip(OUT / "huge_storage.pt", [("huge_storage/data.pkl", tensor_pickle("0", 1 << 40)),
                                        ("huge_storage/data/0", b"\x00" * 8)])
    write_zip(OUT / "bad_offset.pt", [("bad_offset/data.pkl", tensor_pickle("0", 4, offset=3)),
                                      ("bad_offset/data/0", b"\x00" * 16)])
    (OUT / "recursion.pkl").write_bytes(b"\x80\x02]q\x00h\x00a.")
    (OUT / "deep.pkl").write_bytes(b"\x80\x02" + b"]" * 100000 + b"a" * 99999 + b".")
    (OUT / "sharing.pkl").write_bytes(b"\x80\x02]q\x00" + b"](h\x00h\x00eq\x00" * 60 + b".")
    print("wrote", sorted(p.name for p in OUT.iterdir()))


if __name__ == "__main__":
    main()
