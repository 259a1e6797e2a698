#!/usr/bin/env python3
"""Runs SQL in a real engine over Parquet/CSV tables and writes each result as Parquet.

    python3 tests/engines/engine.py ENGINE --table NAME=PATH [--table ...] \
        --query SQLFILE=OUTPATH [--query ...]
    python3 tests/engines/engine.py ENGINE --check

ENGINE is duckdb, postgres or spark. NAME may be schema-qualified (`sales.transactions`); the
schema is created. PATH is a Parquet file, a folder of Parquet part files, or a CSV file (header
row, types inferred). All the queries of one call run in one engine session, so Spark's JVM
starts once.

Types. Every input goes through pyarrow first and the engines load the same normalised table:
integers, doubles, strings, booleans and dates as they are; every timestamp (ns, us or ms, with
or without a time zone) becomes a timestamp WITHOUT time zone in microseconds holding the UTC
wall clock. PostgreSQL gets bigint/integer/smallint, double precision/real, text, boolean, date
and timestamp columns; Spark reads timestamps as TIMESTAMP_NTZ, with spark.sql.session.timeZone
and the JVM's zone both UTC.

Results keep the query's column names and its types, with these normalisations, the same in
every engine: timestamps (with or without zone) become naive microsecond timestamps in UTC wall
clock; a decimal of scale 0 (DuckDB's HUGEINT sums, Spark's DECIMAL(n,0)) becomes int64 when it
fits; any other decimal, and PostgreSQL's unconstrained numeric (SUM or AVG of a bigint), becomes
float64; strings become plain UTF-8 strings. duckdb and postgres write one Parquet file at
OUTPATH; spark writes OUTPATH as a folder of part files (three, from a range repartition that
keeps the query's row order across the part files in name order).

--check exits 0 when the engine can run here, else 3 with the reason on stderr. A failing query
exits 1 with the engine's message on stderr.

PostgreSQL: the connection string comes from SEGMENTA_PG_DSN (libpq key=value or URI); its role
needs CREATEDB. Each call creates a database of its own, seg_<random>, and drops it at the end,
so calls in parallel never see each other's tables.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import uuid
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

ENGINES = ("duckdb", "postgres", "spark")


class EngineError(Exception):
    """A failure the caller should see as one clear message (exit 1)."""


class Unavailable(Exception):
    """The engine cannot run on this machine (exit 3)."""


# ---------------------------------------------------------------------------------------------
# Inputs


def split_name(name: str) -> tuple[str | None, str]:
    parts = name.split(".")
    if len(parts) == 1 and parts[0]:
        return None, parts[0]
    if len(parts) == 2 and all(parts):
        return parts[0], parts[1]
    raise EngineError(f"table name {name!r}: expected NAME or SCHEMA.NAME")


def read_input(path: Path) -> pa.Table:
    if not path.exists():
        raise EngineError(f"{path}: no such file or folder")
    if path.is_dir():
        files = sorted(
            p for p in path.iterdir()
            if p.suffix == ".parquet" and not p.name.startswith((".", "_"))
        )
        if not files:
            raise EngineError(f"{path}: a folder without .parquet part files")
        return pa.concat_tables([normalise(pq.read_table(f)) for f in files])
    if path.suffix.lower() in (".csv", ".txt"):
        return normalise(pacsv.read_csv(path))
    return normalise(pq.read_table(path))


def normalise_type(t: pa.DataType) -> pa.DataType:
    if pa.types.is_timestamp(t):
        return pa.timestamp("us")
    if pa.types.is_date64(t):
        return pa.date32()
    if pa.types.is_dictionary(t):
        return normalise_type(t.value_type)
    if pa.types.is_string(t) or pa.types.is_large_string(t) or t == pa.string_view():
        return pa.string()
    if pa.types.is_unsigned_integer(t):
        return pa.int64()
    if pa.types.is_float16(t):
        return pa.float32()
    return t


def normalise_column(col: pa.ChunkedArray) -> pa.ChunkedArray:
    t = col.type
    if pa.types.is_dictionary(t):
        col = col.cast(t.value_type)
        t = col.type
    if pa.types.is_timestamp(t):
        # A zoned timestamp stores the UTC instant: dropping the zone keeps the UTC wall clock.
        # ns to us drops sub-microsecond digits (no engine here keeps them).
        if t.tz is not None:
            col = col.cast(pa.timestamp(t.unit))
        return col.cast(pa.timestamp("us"), safe=False)
    if pa.types.is_decimal(t):
        if t.scale == 0:
            try:
                return col.cast(pa.int64())
            except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
                pass
        return col.cast(pa.float64())
    target = normalise_type(t)
    return col if target == t else col.cast(target)


def normalise(table: pa.Table) -> pa.Table:
    """The types every engine loads and every result is written with (see the module doc)."""
    columns = [normalise_column(table.column(i)) for i in range(table.num_columns)]
    return pa.Table.from_arrays(columns, names=table.column_names)


def parse_pairs(values: list[str], what: str) -> list[tuple[str, Path]]:
    pairs = []
    for value in values:
        left, sep, right = value.partition("=")
        if not sep or not left or not right:
            raise EngineError(f"--{what} {value!r}: expected LEFT=RIGHT")
        pairs.append((left, Path(right)))
    return pairs


def write_parquet(table: pa.Table, out: Path) -> None:
    out.parent.mkdir(parents=True, exist_ok=True)
    if out.is_dir():
        shutil.rmtree(out)
    pq.write_table(table, out)


# ---------------------------------------------------------------------------------------------
# DuckDB


def duckdb_check() -> None:
    try:
        import duckdb  # noqa: F401
    except ImportError as e:
        raise Unavailable(f"python module duckdb is not installed ({e})")


def run_duckdb(tables, queries) -> None:
    import duckdb

    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")
    for name, table in tables:
        schema, bare = split_name(name)
        con.register("__segmenta_input", table)
        if schema:
            con.execute(f"CREATE SCHEMA IF NOT EXISTS {quote(schema)}")
        con.execute(f"CREATE TABLE {qualified(schema, bare)} AS SELECT * FROM __segmenta_input")
        con.unregister("__segmenta_input")
    for sql_path, out in queries:
        sql = read_sql(sql_path)
        try:
            relation = con.sql(sql)
            if relation is None:
                raise EngineError(f"duckdb: {sql_path}: the statement returns no rows")
            # duckdb 2 renamed fetch_arrow_table to to_arrow_table
            fetch = getattr(relation, "to_arrow_table", None) or relation.fetch_arrow_table
            result = fetch()
        except duckdb.Error as e:
            raise EngineError(f"duckdb: {sql_path}: {e}")
        write_parquet(normalise(result), out)


def quote(ident: str) -> str:
    return '"' + ident.replace('"', '""') + '"'


def qualified(schema: str | None, name: str) -> str:
    return f"{quote(schema)}.{quote(name)}" if schema else quote(name)


def read_sql(path: Path) -> str:
    try:
        return path.read_text()
    except OSError as e:
        raise EngineError(f"{path}: {e}")


# ---------------------------------------------------------------------------------------------
# PostgreSQL

PG_TYPES = {
    pa.int8(): "smallint",
    pa.int16(): "smallint",
    pa.int32(): "integer",
    pa.int64(): "bigint",
    pa.float32(): "real",
    pa.float64(): "double precision",
    pa.string(): "text",
    pa.bool_(): "boolean",
    pa.date32(): "date",
    pa.timestamp("us"): "timestamp",
}

# Result types by type OID (pg_type): the arrow type a column is written with.
PG_OIDS = {
    16: pa.bool_(),
    20: pa.int64(),
    21: pa.int16(),
    23: pa.int32(),
    26: pa.int64(),  # oid
    700: pa.float32(),
    701: pa.float64(),
    25: pa.string(),
    1043: pa.string(),  # varchar
    1042: pa.string(),  # bpchar
    19: pa.string(),  # name
    1082: pa.date32(),
    1114: pa.timestamp("us"),
    1184: pa.timestamp("us"),  # timestamptz, as its UTC wall clock
}


def pg_dsn() -> str:
    dsn = os.environ.get("SEGMENTA_PG_DSN")
    if not dsn:
        raise Unavailable("SEGMENTA_PG_DSN is not set (.ci/run starts PostgreSQL and sets it)")
    return dsn


def pg_connect(dsn: str, **overrides):
    import psycopg

    try:
        return psycopg.connect(dsn, autocommit=True, connect_timeout=10, **overrides)
    except psycopg.Error as e:
        raise Unavailable(f"cannot connect to PostgreSQL with SEGMENTA_PG_DSN: {e}")


def postgres_check() -> None:
    try:
        import psycopg  # noqa: F401
    except ImportError as e:
        raise Unavailable(f"python module psycopg is not installed ({e})")
    with pg_connect(pg_dsn()) as con:
        con.execute("SELECT 1")


def run_postgres(tables, queries) -> None:
    import psycopg
    from psycopg import sql as pgsql

    dsn = pg_dsn()
    database = f"seg_{uuid.uuid4().hex[:16]}"
    admin = pg_connect(dsn)
    try:
        admin.execute(pgsql.SQL("CREATE DATABASE {}").format(pgsql.Identifier(database)))
        try:
            with pg_connect(dsn, dbname=database, options="-c TimeZone=UTC") as con:
                for name, table in tables:
                    pg_load(con, name, table)
                for sql_path, out in queries:
                    sql = read_sql(sql_path)
                    try:
                        with con.cursor() as cur:
                            cur.execute(sql)
                            if cur.description is None:
                                raise EngineError(f"postgres: {sql_path}: the statement returns no rows")
                            result = pg_result(cur)
                    except psycopg.Error as e:
                        raise EngineError(f"postgres: {sql_path}: {e}")
                    write_parquet(result, out)
        finally:
            admin.execute(
                pgsql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(pgsql.Identifier(database))
            )
    finally:
        admin.close()


def pg_load(con, name: str, table: pa.Table) -> None:
    import psycopg
    from psycopg import sql as pgsql

    schema, bare = split_name(name)
    ident = pgsql.Identifier(schema, bare) if schema else pgsql.Identifier(bare)
    columns = []
    for field in table.schema:
        pg_type = PG_TYPES.get(field.type)
        if pg_type is None:
            raise EngineError(f"table {name}: column {field.name!r} has type {field.type}, which the postgres loader does not map")
        columns.append(pgsql.SQL("{} {}").format(pgsql.Identifier(field.name), pgsql.SQL(pg_type)))
    try:
        if schema:
            con.execute(pgsql.SQL("CREATE SCHEMA IF NOT EXISTS {}").format(pgsql.Identifier(schema)))
        con.execute(pgsql.SQL("CREATE TABLE {} ({})").format(ident, pgsql.SQL(", ").join(columns)))
        # pyarrow's CSV quotes every string and leaves nulls empty and unquoted, which is what
        # COPY's csv format reads as NULL versus ''. Doubles are written to round-trip.
        buffer = pa.BufferOutputStream()
        pacsv.write_csv(table, buffer, pacsv.WriteOptions(include_header=False, batch_size=65536))
        data = buffer.getvalue()
        with con.cursor() as cur:
            copy_sql = pgsql.SQL("COPY {} FROM STDIN (FORMAT csv)").format(ident)
            with cur.copy(copy_sql) as copy:
                view = memoryview(data)
                step = 1 << 20
                for start in range(0, len(view), step):
                    copy.write(view[start:start + step])
    except psycopg.Error as e:
        raise EngineError(f"postgres: loading table {name}: {e}")


def pg_result(cur) -> pa.Table:
    import datetime
    import decimal

    rows = cur.fetchall()
    names, arrays = [], []
    for i, column in enumerate(cur.description):
        values = [row[i] for row in rows]
        if column.type_code == 1700:
            # numeric(p, 0) is an integer; unconstrained numeric (SUM or AVG of a bigint) and
            # numeric(p, s > 0) are doubles.
            arrow_type = pa.int64() if column.scale == 0 else pa.float64()
            if arrow_type == pa.int64() and any(v is not None and not (-(2**63) <= v < 2**63) for v in values):
                arrow_type = pa.float64()
            values = [None if v is None else (int(v) if arrow_type == pa.int64() else float(v)) for v in values]
        else:
            arrow_type = PG_OIDS.get(column.type_code)
            if arrow_type is None:
                # Anything else (interval, json, arrays, ...) comes back as its text.
                arrow_type = pa.string()
                values = [None if v is None else str(v) for v in values]
            elif column.type_code == 1184:
                values = [
                    None if v is None else v.astimezone(datetime.timezone.utc).replace(tzinfo=None)
                    for v in values
                ]
            elif arrow_type in (pa.float32(), pa.float64()):
                values = [float(v) if isinstance(v, decimal.Decimal) else v for v in values]
        names.append(column.name)
        arrays.append(pa.array(values, type=arrow_type))
    return pa.Table.from_arrays(arrays, names=names)


# ---------------------------------------------------------------------------------------------
# Spark


def spark_check() -> None:
    try:
        import pyspark  # noqa: F401
    except ImportError as e:
        raise Unavailable(f"python module pyspark is not installed ({e})")
    if shutil.which("java") is None and not os.environ.get("JAVA_HOME"):
        raise Unavailable("pyspark needs Java 17 (java is not on PATH and JAVA_HOME is unset)")


LOG4J2 = """\
rootLogger.level = error
rootLogger.appenderRef.stderr.ref = console
appender.console.type = Console
appender.console.name = console
appender.console.target = SYSTEM_ERR
appender.console.layout.type = PatternLayout
appender.console.layout.pattern = %d{HH:mm:ss} %p %c{1}: %m%n
"""


def run_spark(tables, queries, scratch: Path) -> None:
    spark_check()
    os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")
    os.environ["TZ"] = "UTC"
    os.environ["PYSPARK_PYTHON"] = sys.executable
    log4j = scratch / "log4j2.properties"
    log4j.write_text(LOG4J2)
    java_options = f"-Duser.timezone=UTC -Dlog4j2.configurationFile=file:{log4j}"

    import logging
    import warnings

    # pyspark's own loggers repeat every SQL error with the whole Java stack; the message this
    # script prints is enough. pyspark warns about pandas 3, which it does not use here.
    logging.getLogger("SQLQueryContextLogger").setLevel(logging.CRITICAL)
    warnings.filterwarnings("ignore", category=FutureWarning)
    from pyspark.sql import SparkSession
    from pyspark.sql import functions as F
    from pyspark.sql import types as T
    from pyspark.errors import PySparkException

    spark = (
        SparkSession.builder.master("local[2]")
        .appName("segmenta-engine-test")
        .config("spark.sql.session.timeZone", "UTC")
        .config("spark.driver.extraJavaOptions", java_options)
        .config("spark.executor.extraJavaOptions", java_options)
        # Literals and CAST(... AS TIMESTAMP) are TIMESTAMP_NTZ, like the loaded columns.
        .config("spark.sql.timestampType", "TIMESTAMP_NTZ")
        .config("spark.sql.parquet.outputTimestampType", "TIMESTAMP_MICROS")
        .config("spark.sql.parquet.inferTimestampNTZ.enabled", "true")
        .config("spark.sql.warehouse.dir", str(scratch / "warehouse"))
        .config("spark.sql.shuffle.partitions", "3")
        .config("spark.default.parallelism", "2")
        .config("spark.ui.enabled", "false")
        .config("spark.ui.showConsoleProgress", "false")
        .config("spark.driver.memory", "2g")
        .config("spark.sql.ansi.enabled", "false")
        .getOrCreate()
    )
    spark.sparkContext.setLogLevel("ERROR")
    try:
        for index, (name, table) in enumerate(tables):
            schema, bare = split_name(name)
            location = scratch / f"table-{index}"
            location.mkdir()
            pq.write_table(table, location / "part-0.parquet")
            if schema:
                spark.sql(f"CREATE DATABASE IF NOT EXISTS {backquote(schema)}")
            target = f"{backquote(schema)}.{backquote(bare)}" if schema else backquote(bare)
            spark.sql(f"CREATE TABLE {target} USING parquet LOCATION '{location}'")
            loaded = spark.table(target).schema
            for field in loaded.fields:
                if isinstance(field.dataType, T.TimestampType):
                    raise EngineError(f"spark read {name}.{field.name} as a zoned TIMESTAMP, not TIMESTAMP_NTZ")
        for sql_path, out in queries:
            sql = read_sql(sql_path)
            try:
                frame = spark.sql(sql)
                frame = spark_normalise(frame, F, T)
                # A row number taken above the query keeps its order (a non-deterministic column
                # stops Spark from dropping the query's sort under the repartition); range
                # partitions on it put the rows in part files in the same order.
                row = "__segmenta_row"
                columns = frame.columns
                ordered = (
                    frame.withColumn(row, F.monotonically_increasing_id())
                    .repartitionByRange(3, row)
                    .sortWithinPartitions(row)
                    .select(*[F.col(backquote(c)) for c in columns])
                )
                if out.exists():
                    shutil.rmtree(out) if out.is_dir() else out.unlink()
                out.parent.mkdir(parents=True, exist_ok=True)
                ordered.write.parquet(str(out))
            except PySparkException as e:
                raise EngineError(f"spark: {sql_path}: {e}")
            except Exception as e:  # py4j errors from the JVM
                raise EngineError(f"spark: {sql_path}: {type(e).__name__}: {e}")
    finally:
        spark.stop()


def backquote(ident: str) -> str:
    return "`" + ident.replace("`", "``") + "`"


def spark_normalise(frame, F, T):
    """The result normalisations of the module doc, applied in Spark before it writes."""
    out = []
    for field in frame.schema.fields:
        col = F.col(backquote(field.name))
        t = field.dataType
        if isinstance(t, T.TimestampType):
            # session zone UTC: the zoned instant as its UTC wall clock
            col = col.cast(T.TimestampNTZType())
        elif isinstance(t, T.DecimalType):
            col = col.cast(T.LongType()) if t.scale == 0 and t.precision <= 18 else col.cast(T.DoubleType())
        out.append(col.alias(field.name))
    return frame.select(*out)


# ---------------------------------------------------------------------------------------------


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("engine", choices=ENGINES)
    parser.add_argument("--table", action="append", default=[], metavar="NAME=PATH")
    parser.add_argument("--query", action="append", default=[], metavar="SQLFILE=OUTPATH")
    parser.add_argument("--check", action="store_true", help="exit 0 if the engine can run here, 3 if not")
    args = parser.parse_args(argv)

    try:
        if args.check:
            {"duckdb": duckdb_check, "postgres": postgres_check, "spark": spark_check}[args.engine]()
            return 0
        if not args.query:
            raise EngineError("no --query SQLFILE=OUTPATH given")
        tables = [(name, read_input(path)) for name, path in parse_pairs(args.table, "table")]
        for name, _ in tables:
            split_name(name)
        queries = [(Path(sql), out) for sql, out in parse_pairs(args.query, "query")]
        if args.engine == "duckdb":
            duckdb_check()
            run_duckdb(tables, queries)
        elif args.engine == "postgres":
            postgres_check()
            run_postgres(tables, queries)
        else:
            with tempfile.TemporaryDirectory(prefix="segmenta-spark-") as scratch:
                run_spark(tables, queries, Path(scratch))
        return 0
    except Unavailable as e:
        print(f"engine.py {args.engine}: unavailable: {e}", file=sys.stderr)
        return 3
    except EngineError as e:
        print(f"engine.py {args.engine}: {e}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
