#!/usr/bin/env python3
"""Oracle for the yelp top-city job: the straightforward Python version.

Usage: yelp_top_city.py FILE...   (FILE may end in .gz or .bz2, or be - for stdin)

For each line of each file: `json.loads(line)`. A line that is not UTF-8, does
not parse, or parses to something other than an object is malformed and
skipped, as is one whose `city` is present but not a string. A missing,
null or empty city counts as "missing_city". Cities are compared exactly
(so "Las Vegas" and "las vegas" are different keys).

Prints `json.dumps(count) + "\\t" + json.dumps(city)` for
`max((count, city) for city, count in counts.items())`: the most frequent
city, ties going to the greatest city string. Prints nothing if there are no
records. The number of malformed lines, if any, goes to stderr.

Lines are split on b"\\n" with one trailing b"\\r" stripped; the empty piece
after a final "\\n" is not a line (an empty line elsewhere is malformed).
"""

import collections
import json
import sys

from oracle_input import open_input, raw_lines


def main(paths):
    counts = collections.Counter()
    malformed = 0
    for path in paths:
        f = open_input(path)
        try:
            for raw in raw_lines(f):
                try:
                    d = json.loads(raw.decode("utf-8"))
                except ValueError:  # includes UnicodeDecodeError, JSONDecodeError
                    malformed += 1
                    continue
                if not isinstance(d, dict):
                    malformed += 1
                    continue
                city = d.get("city")
                if city is None or city == "":
                    city = "missing_city"
                elif not isinstance(city, str):
                    malformed += 1
                    continue
                counts[city] += 1
        finally:
            if f is not sys.stdin.buffer:
                f.close()
    if malformed:
        print("malformed: %d" % malformed, file=sys.stderr)
    if counts:
        count, city = max((count, city) for city, count in counts.items())
        print(json.dumps(count) + "\t" + json.dumps(city))


if __name__ == "__main__":
    if len(sys.argv) < 2:
        sys.exit("usage: yelp_top_city.py FILE...")
    main(sys.argv[1:])
