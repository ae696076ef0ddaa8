#!/usr/bin/env python3
"""Prints the declared schema of a SQLAlchemy MetaData as SQL for one dialect.

Usage: python3 sqlalchemy_schema.py MODULE:ATTRIBUTE --dialect sqlite|postgresql

MODULE is imported with the current directory on sys.path (as Alembic's env.py imports the
application); ATTRIBUTE may be dotted (Base.metadata) and names a MetaData, or a declarative Base
whose .metadata is taken. The output is what the team's own SQLAlchemy emits for that dialect:
CREATE TYPE ... AS ENUM for PostgreSQL's native enums, then CREATE TABLE and CREATE INDEX for every
table in dependency order, each statement ending with ';'. migrator check --schema and scaffold new
--autogenerate run it (--models MODULE:ATTRIBUTE) and read its output as they read a schema file.

A mistake in the arguments is one sentence on stderr and exit status 2, never a traceback.
"""

import importlib
import os
import sys

USAGE = "usage: sqlalchemy_schema.py MODULE:ATTRIBUTE --dialect sqlite|postgresql"
DIALECTS = ("sqlite", "postgresql")


class Refusal(Exception):
    """A mistake the user fixes: printed as one sentence, exit status 2."""


def parse_arguments(argv):
    target, dialect = None, None
    index = 0
    while index < len(argv):
        argument = argv[index]
        if argument in ("-h", "--help"):
            print(USAGE)
            sys.exit(0)
        if argument == "--dialect":
            if index + 1 == len(argv):
                raise Refusal("--dialect needs a value (sqlite or postgresql); " + USAGE)
            dialect = argv[index + 1]
            index += 2
            continue
        if argument.startswith("--dialect="):
            dialect = argument[len("--dialect="):]
        elif argument.startswith("-") or target is not None:
            raise Refusal("unexpected argument '%s'; %s" % (argument, USAGE))
        else:
            target = argument
        index += 1
    if target is None or dialect is None:
        raise Refusal(USAGE)
    if dialect not in DIALECTS:
        raise Refusal("unknown dialect '%s': sqlalchemy_schema.py knows sqlite and postgresql"
                      % dialect)
    module_name, colon, attribute = target.partition(":")
    if not colon or not module_name or not attribute:
        raise Refusal("'%s' is not MODULE:ATTRIBUTE (e.g. myapp.models:Base.metadata)" % target)
    return module_name, attribute, dialect


def import_sqlalchemy():
    try:
        import sqlalchemy  # noqa: F401
        import sqlalchemy.schema  # noqa: F401
    except ImportError:
        raise Refusal("SQLAlchemy is not installed for %s (install it, e.g. python3-sqlalchemy or "
                      "pip install sqlalchemy, or set MIGRATOR_PYTHON to the application's "
                      "python)" % sys.executable)
    return sqlalchemy


def load_metadata(module_name, attribute, sqlalchemy):
    # Alembic's env.py imports the application from the project folder: so does this.
    if os.getcwd() not in sys.path and "" not in sys.path:
        sys.path.insert(0, os.getcwd())
    try:
        module = importlib.import_module(module_name)
    except ImportError as error:
        missing = getattr(error, "name", None)
        if missing and (missing == module_name or module_name.startswith(missing + ".")):
            raise Refusal("module %s not found (from %s, with the current directory on "
                          "sys.path)" % (module_name, os.getcwd()))
        raise Refusal("module %s cannot be imported: %s" % (module_name, error))
    except Exception as error:  # the application's own import-time failure, told in one line
        raise Refusal("module %s failed while being imported: %s: %s"
                      % (module_name, type(error).__name__, error))
    value = module
    walked = module_name
    for part in attribute.split("."):
        if not hasattr(value, part):
            raise Refusal("%s has no attribute %s (looking for %s:%s)"
                          % (walked, part, module_name, attribute))
        value = getattr(value, part)
        walked += ("." if walked != module_name else ":") + part
    # A declarative Base (or any object holding one) stands for its MetaData.
    if not isinstance(value, sqlalchemy.MetaData):
        value = getattr(value, "metadata", value)
    if not isinstance(value, sqlalchemy.MetaData):
        raise Refusal("%s:%s is of type %s, not a SQLAlchemy MetaData or a declarative Base"
                      % (module_name, attribute, type(value).__name__))
    return value


def enum_types(table, dialect):
    """The native enum types of `table` that PostgreSQL needs created before it."""
    from sqlalchemy import types
    found = []
    for column in table.columns:
        column_type = column.type
        if isinstance(column_type, types.SchemaType) and isinstance(column_type, types.Enum) \
                and column_type.native_enum and column_type.name and dialect.supports_native_enum:
            found.append(column_type)
    return found


def schema_sql(metadata, dialect_name, sqlalchemy):
    from sqlalchemy.schema import CreateIndex, CreateTable
    if dialect_name == "sqlite":
        from sqlalchemy.dialects import sqlite as module
    else:
        from sqlalchemy.dialects import postgresql as module
    dialect = module.dialect()
    statements = []
    created_types = set()
    for table in metadata.sorted_tables:
        for enum in enum_types(table, dialect):
            key = (enum.schema, enum.name)
            if key in created_types:
                continue
            created_types.add(key)
            from sqlalchemy.dialects.postgresql.base import CreateEnumType
            statements.append(str(CreateEnumType(enum).compile(dialect=dialect)))
        statements.append(str(CreateTable(table).compile(dialect=dialect)))
        for index in sorted(table.indexes, key=lambda index: index.name or ""):
            statements.append(str(CreateIndex(index).compile(dialect=dialect)))
    return "".join(statement.strip() + ";\n\n" for statement in statements)


def main(argv):
    try:
        module_name, attribute, dialect = parse_arguments(argv)
        sqlalchemy = import_sqlalchemy()
        metadata = load_metadata(module_name, attribute, sqlalchemy)
        sys.stdout.write(schema_sql(metadata, dialect, sqlalchemy))
    except Refusal as refusal:
        sys.stderr.write("sqlalchemy_schema.py: %s\n" % refusal)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
