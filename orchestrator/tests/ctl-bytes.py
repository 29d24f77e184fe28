#!/usr/bin/env python3
# ctl-bytes.py [--html] FILE...: for each file, the bytes a terminal, a
# browser or a mail reader could take for something other than text: C0
# controls but tab and newline (ESC, BEL, CR, BS, ...), DEL, C1 controls whether raw
# (an invalid byte 0x80-0x9f) or UTF-8 encoded (U+0080-U+009F), and any
# byte that is not valid UTF-8. One line per file with any, naming the
# first few and their offsets; exit 1 if any file has one. --html: CR is
# allowed too (HTML reads it as white space, as it does LF; a console log
# has one at each line's end), every other control is not.
import sys


def bad_bytes(data, ok_c0):
    found = []
    i = 0
    n = len(data)
    while i < n and len(found) < 5:
        b = data[i]
        if b < 0x80:
            if (b < 0x20 and b not in ok_c0) or b == 0x7f:
                found.append("0x%02x@%d" % (b, i))
            i += 1
            continue
        # The length of the UTF-8 sequence this byte starts, if any.
        if 0xc2 <= b <= 0xdf:
            size = 2
        elif 0xe0 <= b <= 0xef:
            size = 3
        elif 0xf0 <= b <= 0xf4:
            size = 4
        else:
            found.append("raw-0x%02x@%d" % (b, i))
            i += 1
            continue
        try:
            ch = data[i:i + size].decode("utf-8")
        except UnicodeDecodeError:
            found.append("bad-utf8-0x%02x@%d" % (b, i))
            i += 1
            continue
        if 0x80 <= ord(ch) <= 0x9f:
            found.append("U+%04X@%d" % (ord(ch), i))
        i += size
    return found


status = 0
paths = sys.argv[1:]
ok_c0 = (0x09, 0x0a)
if paths[:1] == ["--html"]:
    paths = paths[1:]
    ok_c0 = (0x09, 0x0a, 0x0d)
for path in paths:
    with open(path, "rb") as f:
        found = bad_bytes(f.read(), ok_c0)
    if found:
        print("%s: %s" % (path, " ".join(found)))
        status = 1
sys.exit(status)
