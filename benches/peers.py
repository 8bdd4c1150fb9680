#!/usr/bin/env python3
"""The peers benches/e2e.py measures the jobs against: DuckDB and Polars
doing each job's work as a user of theirs would write it, writing exactly
the bytes the job writes, so that e2e.py can check the outputs equal.

    peers.py duckdb|polars word-count FILE          # to stdout
    peers.py duckdb|polars yelp-top-city FILE       # to stdout
    peers.py duckdb|polars sort FILE OUT            # OUT: one file

Run by the interpreter of the virtualenv benches/e2e.sh makes (pinned
versions in benches/peers-requirements.txt). Each engine uses all cores,
its defaults otherwise (DuckDB's memory limit is 80% of RAM).

- word-count: the job's `[\\w']+` words, lowercased, counted, sorted by
  word; `JSON(word)<TAB>count` lines. The engine does the tokenizing,
  counting and sorting; Python formats the ~10^5 result rows with
  `json.dumps` (the job's key format, `\\uXXXX` for non-ASCII), a few
  milliseconds. DuckDB's regex (RE2) has an ASCII-only `\\w`, so its
  pattern spells out Unicode letters and digits; Polars' (Rust `regex`)
  `\\w` is Unicode already.
- yelp-top-city: the city with the most businesses (a missing, null or
  empty city counts as `missing_city`; ties go to the greater name), as
  `COUNT<TAB>JSON(city)`. Only the `city` column is read. The generated
  inputs have no malformed lines (Polars cannot skip them; DuckDB would
  with `ignore_errors`).
- sort: whole lines in byte order (the TeraSort records' order), written
  by the engine itself as one file.
"""

import json
import sys

# A byte the inputs never hold: lines are read as one CSV column.
NO_DELIM = "\x01"


def duckdb_conn():
    import duckdb

    con = duckdb.connect()
    # Results in input order are not needed; this lets DuckDB stream.
    con.execute("SET preserve_insertion_order = false")
    return con


def lines_duckdb(path):
    """SQL for a file's lines as column `line` (no quoting, no header)."""
    escaped = path.replace("'", "''")
    return (
        f"read_csv('{escaped}', columns = {{'line': 'VARCHAR'}}, header = false, "
        f"delim = '{NO_DELIM}', quote = '', escape = '', auto_detect = false)"
    )


def lines_polars(path):
    import polars as pl

    return pl.scan_csv(
        path,
        has_header=False,
        separator=NO_DELIM,
        quote_char=None,
        new_columns=["line"],
        schema_overrides={"line": pl.String},
    )


def word_count(engine, path, out):
    if engine == "duckdb":
        con = duckdb_conn()
        rows = con.execute(
            "SELECT w, count(*) FROM (SELECT unnest(regexp_extract_all(lower(line), "
            "'[\\p{L}\\p{N}_'']+')) AS w FROM " + lines_duckdb(path) + ") GROUP BY w ORDER BY w"
        ).fetchall()
    else:
        import polars as pl

        rows = (
            lines_polars(path)
            .select(pl.col("line").str.to_lowercase().str.extract_all(r"[\w']+").alias("w"))
            .explode("w")
            .drop_nulls()
            .group_by("w")
            .len()
            .sort("w")
            .collect()
            .rows()
        )
    out.write("".join(f"{json.dumps(w)}\t{n}\n" for w, n in rows).encode())


def yelp_top_city(engine, path, out):
    if engine == "duckdb":
        con = duckdb_conn()
        escaped = path.replace("'", "''")
        n, city = con.execute(
            "SELECT count(*) AS n, coalesce(nullif(city, ''), 'missing_city') AS c "
            f"FROM read_json('{escaped}', columns = {{'city': 'VARCHAR'}}, format = 'newline_delimited') "
            "GROUP BY c ORDER BY n DESC, c DESC LIMIT 1"
        ).fetchone()
    else:
        import polars as pl

        n, city = (
            pl.scan_ndjson(path, schema={"city": pl.String})
            .select(
                pl.when(pl.col("city").is_null() | (pl.col("city") == ""))
                .then(pl.lit("missing_city"))
                .otherwise(pl.col("city"))
                .alias("c")
            )
            .group_by("c")
            .len()
            .sort(["len", "c"], descending=True)
            .head(1)
            .select("len", "c")
            .collect()
            .row(0)
        )
    out.write(f"{n}\t{json.dumps(city)}\n".encode())


def sort(engine, path, target):
    if engine == "duckdb":
        con = duckdb_conn()
        escaped = target.replace("'", "''")
        # Ordered output needs insertion order kept from the ORDER BY on.
        con.execute("SET preserve_insertion_order = true")
        con.execute(
            f"COPY (SELECT line FROM {lines_duckdb(path)} ORDER BY line) TO '{escaped}' "
            f"(FORMAT csv, HEADER false, DELIMITER '{NO_DELIM}', QUOTE '', ESCAPE '')"
        )
    else:
        lines_polars(path).sort("line").sink_csv(
            target, include_header=False, separator=NO_DELIM, quote_style="never"
        )


def main():
    usage = "usage: peers.py duckdb|polars word-count|yelp-top-city FILE | sort FILE OUT"
    args = sys.argv[1:]
    if len(args) < 3 or args[0] not in ("duckdb", "polars"):
        sys.exit(usage)
    engine, work, path = args[:3]
    if work == "sort" and len(args) == 4:
        sort(engine, path, args[3])
    elif work == "word-count" and len(args) == 3:
        word_count(engine, path, sys.stdout.buffer)
    elif work == "yelp-top-city" and len(args) == 3:
        yelp_top_city(engine, path, sys.stdout.buffer)
    else:
        sys.exit(usage)


if __name__ == "__main__":
    main()
