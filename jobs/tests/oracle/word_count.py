#!/usr/bin/env python3
"""Oracle for the word-count job: mrjob's `mr_word_freq_count`.

Usage: word_count.py FILE...   (FILE may end in .gz or .bz2, or be - for stdin)

Tokenization is mrjob's: `re.compile(r"[\\w']+")` over each line, each match
lowercased with `str.lower()`; `\\w` is Python's Unicode word class (letters,
digits, underscore in any script). Lines are split on b"\\n" with one trailing
b"\\r" stripped, and decoded as UTF-8, falling back to Latin-1 for a line that
is not valid UTF-8 (what mrjob does for raw input lines).

Prints one line per word, sorted by word (code point order):
`json.dumps(word) + "\\t" + str(count)`.
"""

import collections
import json
import re
import sys

from oracle_input import open_input, raw_lines

WORD_RE = re.compile(r"[\w']+")


def lines(f):
    for raw in raw_lines(f):
        try:
            yield raw.decode("utf-8")
        except UnicodeDecodeError:
            yield raw.decode("latin-1")


def main(paths):
    counts = collections.Counter()
    for path in paths:
        f = open_input(path)
        try:
            for line in lines(f):
                counts.update(word.lower() for word in WORD_RE.findall(line))
        finally:
            if f is not sys.stdin.buffer:
                f.close()
    out = sys.stdout
    for word in sorted(counts):
        out.write(json.dumps(word) + "\t" + str(counts[word]) + "\n")


if __name__ == "__main__":
    if len(sys.argv) < 2:
        sys.exit("usage: word_count.py FILE...")
    main(sys.argv[1:])
