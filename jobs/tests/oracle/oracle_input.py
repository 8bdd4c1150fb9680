"""What the oracles share: opening an input as mrjob does (`-` is stdin,
`.gz` and `.bz2` are decompressed) and splitting it into lines with one
trailing `\r` stripped."""
import bz2
import gzip
import sys


def open_input(path):
    if path == "-":
        return sys.stdin.buffer
    if path.endswith(".gz"):
        return gzip.open(path, "rb")
    if path.endswith(".bz2"):
        return bz2.open(path, "rb")
    return open(path, "rb")


def raw_lines(f):
    """The lines of binary file `f`, as bytes, without their line end."""
    for raw in f:
        if raw.endswith(b"\n"):
            raw = raw[:-1]
        if raw.endswith(b"\r"):
            raw = raw[:-1]
        yield raw
