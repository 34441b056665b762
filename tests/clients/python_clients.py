"""Real Python clients against `seglake serve`, run by tests/serve.rs.

psycopg 3 with server-side parameters (the extended protocol), and SQLAlchemy 2 with
pandas.read_sql reading each saved query given on the command line. Prints one JSON object:
what the clients saw, for the Rust test to check.

usage: python_clients.py PORT USER PASSWORD QUERY...
"""

import datetime
import json
import sys

import pandas
import psycopg
import sqlalchemy


def main():
    port, user, password, *queries = sys.argv[1:]
    out = {}
    dsn = f"host=127.0.0.1 port={port} dbname=seglake user={user} password={password}"
    with psycopg.connect(dsn, connect_timeout=10) as conn:
        # Server-side parameters: psycopg sends $1 placeholders and the values apart.
        cur = conn.execute(
            "SELECT segment, customers FROM library.rfm_segment_summary "
            "WHERE customers >= %s ORDER BY segment",
            (1,),
        )
        out["segments"] = [[row[0], row[1]] for row in cur.fetchall()]
        cur = conn.execute(
            "SELECT count(*) FROM transactions WHERE order_ts < %s",
            (datetime.date(2023, 7, 1),),
        )
        out["orders_before"] = cur.fetchone()[0]
        cur = conn.execute(
            "SELECT customer_id, rfm(order_ts, amount, DATE '2024-01-01') AS r "
            "FROM transactions GROUP BY customer_id ORDER BY customer_id LIMIT 1"
        )
        row = cur.fetchone()
        out["rfm_struct"] = {"type": type(row[1]).__name__, "value": row[1]}

    engine = sqlalchemy.create_engine(
        f"postgresql+psycopg://{user}:{password}@127.0.0.1:{port}/seglake"
    )
    out["queries"] = {}
    with engine.connect() as conn:
        for name in queries:
            frame = pandas.read_sql(sqlalchemy.text(f"SELECT * FROM library.{name}"), conn)
            out["queries"][name] = {
                "rows": len(frame),
                "columns": {c: str(t) for c, t in frame.dtypes.items()},
            }
        frame = pandas.read_sql(
            sqlalchemy.text(
                "SELECT * FROM rfm_segments(DATE '2023-07-01') WHERE customer_id <= :n ORDER BY customer_id"
            ),
            conn,
            params={"n": 3},
        )
        out["rfm_segments_as_of"] = frame[["customer_id", "rfm_code"]].values.tolist()
    print(json.dumps(out, default=str))


if __name__ == "__main__":
    main()
