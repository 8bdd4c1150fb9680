#!/usr/bin/env python3
"""Oracle for the yelp-city-reviews join: the straightforward Python version.

Usage: yelp_city_reviews.py [--min-reviews N] [--top] --business FILE
           [--business FILE...] REVIEWS...
(each FILE may end in .gz or .bz2, or be - for stdin)

Lines are split on b"\\n" with one trailing b"\\r" stripped; the empty piece
after a final "\\n" is not a line (an empty line elsewhere is malformed).

A business line is a record if it is UTF-8, `json.loads` gives a dict, its
`business_id` is a str, and its `city` is absent, null or a str; any other
line is malformed and skipped. Its city key is the city, or "missing_city"
when the city is absent, null or "". Cities are compared exactly ("Las
Vegas" and "las vegas" are different keys).

A review line is a record if it is UTF-8, `json.loads` gives a dict, its
`business_id` is a str, and its `stars` is an int or float (not a bool)
equal to one of 1, 2, 3, 4, 5 (so `4` and `4.0` are both 4); any other line
is malformed and skipped.

The join is inner, on business_id: each review record pairs with every
business record of its business_id (normally one), and a review whose
business_id names no business is dropped (counted). Per city: count = the
joined reviews, total = the sum of their stars. Cities with count below
--min-reviews (default 0) are left out.

Without --top it prints, for each city in `sorted` order (code points):
`json.dumps(city) + "\\t" + json.dumps([count, total / count])`, as
`mr-run yelp-city-reviews` does. With --top it prints the single line
`json.dumps(count) + "\\t" + json.dumps(city)` for `max((count, city))`
over those cities (ties go to the greater city), as `mr-run
yelp-top-reviewed-city` does, or nothing if there is none.

The numbers of malformed business lines, malformed review lines and reviews
of unknown businesses, where not zero, go to stderr.
"""

import argparse
import collections
import json
import sys

from oracle_input import open_input, raw_lines

STARS = (1, 2, 3, 4, 5)


def records(paths):
    """(dict or None) for each line of each file: None if the line is not
    UTF-8 or does not parse to a JSON object."""
    for path in paths:
        f = open_input(path)
        try:
            for raw in raw_lines(f):
                try:
                    d = json.loads(raw.decode("utf-8"))
                except ValueError:  # includes UnicodeDecodeError, JSONDecodeError
                    yield None
                    continue
                yield d if isinstance(d, dict) else None
        finally:
            if f is not sys.stdin.buffer:
                f.close()


def load_businesses(paths):
    """business_id -> [city key, ...] (one per business record), and the
    number of malformed lines."""
    cities = collections.defaultdict(list)
    malformed = 0
    for d in records(paths):
        if d is None or not isinstance(d.get("business_id"), str):
            malformed += 1
            continue
        city = d.get("city")
        if city is None or city == "":
            city = "missing_city"
        elif not isinstance(city, str):
            malformed += 1
            continue
        cities[d["business_id"]].append(city)
    return cities, malformed


def main(argv):
    parser = argparse.ArgumentParser(description="Oracle for yelp-city-reviews and yelp-top-reviewed-city.")
    parser.add_argument("--min-reviews", type=int, default=0)
    parser.add_argument("--top", action="store_true", help="print yelp-top-reviewed-city's line")
    parser.add_argument("--business", action="append", required=True, metavar="FILE")
    parser.add_argument("reviews", nargs="+", metavar="REVIEWS")
    args = parser.parse_args(argv)

    cities, bad_businesses = load_businesses(args.business)
    counts = collections.Counter()
    totals = collections.Counter()
    bad_reviews = 0
    unknown = 0
    for d in records(args.reviews):
        if d is None or not isinstance(d.get("business_id"), str):
            bad_reviews += 1
            continue
        stars = d.get("stars")
        if isinstance(stars, bool) or not isinstance(stars, (int, float)) or stars not in STARS:
            bad_reviews += 1
            continue
        joined = cities.get(d["business_id"])
        if joined is None:
            unknown += 1
            continue
        for city in joined:
            counts[city] += 1
            totals[city] += int(stars)

    if bad_businesses:
        print("malformed business lines: %d" % bad_businesses, file=sys.stderr)
    if bad_reviews:
        print("malformed review lines: %d" % bad_reviews, file=sys.stderr)
    if unknown:
        print("reviews of unknown businesses: %d" % unknown, file=sys.stderr)

    kept = {city: n for city, n in counts.items() if n >= args.min_reviews}
    if args.top:
        if kept:
            count, city = max((n, city) for city, n in kept.items())
            print(json.dumps(count) + "\t" + json.dumps(city))
        return
    for city in sorted(kept):
        print(json.dumps(city) + "\t" + json.dumps([kept[city], totals[city] / kept[city]]))


if __name__ == "__main__":
    main(sys.argv[1:])
