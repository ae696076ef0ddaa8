"""Translates Alembic revision scripts into the C++ of migrator revisions (scaffold import-alembic).

usage: python3 alembic_import.py VERSIONS_DIR

Reads every *.py of VERSIONS_DIR with Python's own parser (ast), never by running it, and prints
one JSON document on standard output: {"revisions": [...]} with, for each script, its metadata
(revision, down_revision, branch_labels, depends_on, message, create date) and the bodies of
upgrade() and downgrade() written with migrator's portable operations (migrator::Operations,
schema.hpp). A call outside the vocabulary below, Python logic, or a call Alembic does not have
is kept verbatim as a comment, and a statement that fails the step at run time naming the script,
line and call takes its place: nothing is dropped silently. A script that cannot be read makes
the whole import fail: one line on standard error, exit status 2.

Types are rendered as SQLAlchemy renders them on each dialect (SQLite, PostgreSQL), so that a
database migrator builds from the imported history is the one Alembic builds.
"""
import ast
import json
import os
import re
import sys


class Untranslatable(Exception):
    """A construct outside the vocabulary; the message says which."""


def cpp_string(text):
    """`text` as a C++ string literal that the compiler reads back as exactly `text`."""
    out = ['"']
    for ch in text:
        if ch == '"':
            out.append('\\"')
        elif ch == "\\":
            out.append("\\\\")
        elif ch == "\n":
            out.append("\\n")
        elif ch == "\t":
            out.append("\\t")
        elif ord(ch) < 0x20 or ord(ch) == 0x7F:
            out.append('\\%03o' % ord(ch))
        elif ch == "?":
            out.append("\\?")  # no trigraphs
        else:
            out.append(ch)
    out.append('"')
    return "".join(out)


def sql_literal(value):
    """A Python literal value as SQL, the same on SQLite and PostgreSQL."""
    if value is None:
        return "NULL"
    if value is True:
        return "TRUE"
    if value is False:
        return "FALSE"
    if isinstance(value, (int, float)):
        return repr(value)
    if isinstance(value, str):
        return "'" + value.replace("'", "''") + "'"
    raise Untranslatable("a value of type %s in bulk_insert" % type(value).__name__)


def dotted(node):
    """'sa.Column' for the expression sa.Column, '' when the node is not a dotted name."""
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        base = dotted(node.value)
        return base + "." + node.attr if base else ""
    return ""


def last_name(node):
    """The last part of a call's dotted name: 'Column' for sa.Column(...)."""
    name = dotted(node.func) if isinstance(node, ast.Call) else dotted(node)
    return name.rsplit(".", 1)[-1]


class Script:
    """One Alembic script: its source, module-level bindings and metadata."""

    def __init__(self, path, shown):
        self.path = path
        self.shown = shown
        with open(path, encoding="utf-8") as handle:
            self.source = handle.read()
        try:
            self.tree = ast.parse(self.source, filename=shown)
        except SyntaxError as error:
            raise SystemExit("%s:%s: not a Python script Alembic could read: %s"
                             % (shown, error.lineno, error.msg))
        self.module_bindings = {}
        self.metadata = {}
        for statement in self.tree.body:
            if isinstance(statement, ast.Assign) and len(statement.targets) == 1:
                target = statement.targets[0]
                if isinstance(target, ast.Name):
                    self.module_bindings[target.id] = statement.value
            elif isinstance(statement, ast.AnnAssign) and isinstance(statement.target, ast.Name):
                if statement.value is not None:
                    self.module_bindings[statement.target.id] = statement.value

    def segment(self, node):
        text = ast.get_source_segment(self.source, node) or ast.dump(node)
        return text

    def literal(self, name):
        node = self.module_bindings.get(name)
        if node is None:
            return None
        try:
            return ast.literal_eval(node)
        except ValueError:
            raise SystemExit("%s:%s: %s is not a literal; migrator reads revision metadata "
                             "without running the script" % (self.shown, node.lineno, name))

    def function(self, name):
        for statement in self.tree.body:
            if isinstance(statement, ast.FunctionDef) and statement.name == name:
                return statement
        return None


def as_list(value):
    if value is None:
        return []
    if isinstance(value, str):
        return [value] if value else []
    return [str(v) for v in value]


# Where SQLAlchemy renders a type differently on the two dialects, the C++ picks the spelling at
# run time; `postgresql` is a local the body declares when it needs it.
def dialect_type(sqlite, postgresql):
    if sqlite == postgresql:
        return "Type::raw(%s)" % cpp_string(sqlite)
    return "Type::raw(postgresql ? %s : %s)" % (cpp_string(postgresql), cpp_string(sqlite))


class Translator:
    """Translates the statements of one upgrade() or downgrade()."""

    def __init__(self, script, known, lines):
        self.script = script
        self.known = known  # constraint and index names seen in the whole history -> definitions
        self.lines = lines
        self.bindings = dict(script.module_bindings)
        self.translated = 0
        self.review = []

    # --- values -------------------------------------------------------------------------------

    def resolve(self, node):
        """A name bound to an expression (a type or a table reused) stands for that expression."""
        seen = 0
        while isinstance(node, ast.Name) and node.id in self.bindings and seen < 20:
            node = self.bindings[node.id]
            seen += 1
        return node

    def value(self, node):
        node = self.resolve(node)
        if isinstance(node, ast.Call) and dotted(node.func) in ("op.f", "f") and node.args:
            return self.value(node.args[0])  # op.f(name): the name as given
        try:
            return ast.literal_eval(node)
        except (ValueError, TypeError, SyntaxError):
            raise Untranslatable("%s is not a literal value" % self.script.segment(node))

    def text_value(self, node):
        node = self.resolve(node)
        if isinstance(node, ast.Call) and last_name(node) == "text" and node.args:
            return self.value(node.args[0])
        value = self.value(node)
        if not isinstance(value, str):
            raise Untranslatable("%s is not a string" % self.script.segment(node))
        return value

    def names(self, node):
        value = self.value(node)
        if isinstance(value, str):
            return [value]
        if not all(isinstance(v, str) for v in value):
            raise Untranslatable("%s is not a list of column names" % self.script.segment(node))
        return list(value)

    @staticmethod
    def keywords(call, allowed=None):
        """The keyword arguments of `call`; with `allowed`, any other is untranslatable."""
        found = {}
        for keyword in call.keywords:
            if keyword.arg is None:
                raise Untranslatable("**keyword arguments")
            if allowed is not None and keyword.arg not in allowed:
                raise Untranslatable("%s(%s=...) is not translated"
                                     % (last_name(call), keyword.arg))
            found[keyword.arg] = keyword.value
        return found

    def is_none(self, node):
        node = self.resolve(node)
        return isinstance(node, ast.Constant) and node.value is None

    def flag(self, node):
        value = self.value(node)
        if not isinstance(value, bool):
            raise Untranslatable("%s is not True or False" % self.script.segment(node))
        return value

    # --- types --------------------------------------------------------------------------------

    def type_info(self, node):
        """(C++ expression, kind, extra) for a SQLAlchemy type; kind is the type's name."""
        node = self.resolve(node)
        call = node if isinstance(node, ast.Call) else None
        name = last_name(node)
        args = call.args if call else []
        kw = self.keywords(call) if call else {}

        def arg(index, keyword, default=None):
            if keyword in kw:
                return self.value(kw[keyword])
            if len(args) > index:
                return self.value(args[index])
            return default

        upper = name.upper()
        if upper in ("INTEGER", "INT"):
            return "Type::integer()", "integer", None
        if upper in ("BIGINTEGER", "BIGINT"):
            return "Type::big_integer()", "big_integer", None
        if upper in ("SMALLINTEGER", "SMALLINT"):
            return "Type::small_integer()", "small_integer", None
        if upper in ("STRING", "VARCHAR", "UNICODE"):
            length = arg(0, "length")
            return ("Type::varchar(%d)" % length if length else "Type::varchar(0)"), "varchar", None
        if upper in ("TEXT", "UNICODETEXT"):
            return "Type::text()", "text", None
        if upper in ("BOOLEAN",):
            return "Type::boolean()", "boolean", None
        if upper in ("FLOAT",):
            return dialect_type("FLOAT", "FLOAT"), "float", None
        if upper in ("NUMERIC", "DECIMAL"):
            precision = arg(0, "precision")
            scale = arg(1, "scale", 0)
            if precision is None:
                return "Type::numeric(0, 0)", "numeric", None
            return "Type::numeric(%d, %d)" % (precision, scale or 0), "numeric", None
        if upper == "DATE":
            return "Type::date()", "date", None
        if upper == "DATETIME" or upper == "TIMESTAMP":
            if not arg(0, "timezone", False):
                return "Type::timestamp()", "datetime", None
            # SQLite has no time zones: SQLAlchemy writes the same DATETIME there.
            return "postgresql ? Type::timestamp_tz() : Type::timestamp()", "datetime", None
        if upper == "TIME":
            if arg(0, "timezone", False):
                return dialect_type("TIME", "TIME WITH TIME ZONE"), "time", None
            return "Type::time()", "time", None
        if upper in ("JSON", "JSONB"):
            if upper == "JSONB":
                return dialect_type("JSONB", "JSONB"), "json", None
            return "Type::json()", "json", None
        if upper in ("LARGEBINARY", "BLOB", "BYTEA", "BINARY"):
            return "Type::blob()", "blob", None
        if upper in ("UUID", "UUIDTYPE"):
            return "Type::uuid()", "uuid", None
        if upper in ("ENUM",):
            return self.enum_type(call, name, args, kw)
        raise Untranslatable("the type %s" % self.script.segment(node))

    def enum_type(self, call, name, args, kw):
        values = []
        for a in args:
            value = self.value(a)
            if not isinstance(value, str):
                raise Untranslatable("an Enum of a Python enum class")
            values.append(value)
        if "values" in kw:
            values = self.names(kw["values"])
        native = self.flag(kw["native_enum"]) if "native_enum" in kw else True
        type_name = self.value(kw["name"]) if "name" in kw else None
        length = self.value(kw["length"]) if "length" in kw else max([len(v) for v in values] or [0])
        varchar = "VARCHAR(%d)" % length
        if native and type_name is None:
            raise Untranslatable("an Enum without name= (PostgreSQL needs the type's name)")
        if not native:
            return "Type::varchar(%d)" % length, "enum", None
        enum = {"name": type_name, "values": values, "created_by_host": "length" not in kw}
        if enum["created_by_host"]:
            # migrator's enumeration: the PostgreSQL type (created with the table or column, as
            # SQLAlchemy does), VARCHAR of the longest label on SQLite.
            return self.enumeration_cpp(enum), "enum", enum
        return dialect_type(varchar, type_name), "enum", enum

    @staticmethod
    def enumeration_cpp(enum):
        return "Type::enumeration(%s, {%s})" % (
            cpp_string(enum["name"]), ", ".join(cpp_string(v) for v in enum["values"]))

    # --- columns and tables -------------------------------------------------------------------

    def server_default(self, node):
        node = self.resolve(node)
        if isinstance(node, ast.Call):
            name = dotted(node.func)
            if last_name(node) == "text" and node.args:
                return cpp_string(self.value(node.args[0]))
            if name.endswith("func.now") or name.endswith("func.current_timestamp"):
                # What SQLAlchemy renders: now() on PostgreSQL, CURRENT_TIMESTAMP on SQLite.
                return 'postgresql ? "now()" : "CURRENT_TIMESTAMP"'
            if last_name(node) in ("true", "false") and name.startswith(("sa.", "sqlalchemy.")):
                word = last_name(node)
                return 'postgresql ? "%s" : "%s"' % (word, "1" if word == "true" else "0")
            raise Untranslatable("the server_default %s" % self.script.segment(node))
        value = self.value(node)
        if isinstance(value, str):
            return cpp_string(sql_literal(value))
        raise Untranslatable("the server_default %s" % self.script.segment(node))

    def column(self, call, table):
        """A sa.Column(...) -> (C++ Column expression, column facts)."""
        args = list(call.args)
        kw = self.keywords(call)
        if "name" in kw:
            name = self.value(kw.pop("name"))
        else:
            if not args:
                raise Untranslatable("a Column without a name")
            name = self.value(args.pop(0))
        type_node = kw.pop("type_", None)
        foreign_keys = []
        for a in args:
            resolved = self.resolve(a)
            if isinstance(resolved, ast.Call) and last_name(resolved) == "ForeignKey":
                foreign_keys.append(resolved)
            elif type_node is None:
                type_node = a
            else:
                raise Untranslatable("the Column argument %s" % self.script.segment(a))
        if type_node is None:
            raise Untranslatable("a Column without a type")
        type_cpp, kind, enum = self.type_info(type_node)
        primary_key = self.flag(kw.pop("primary_key")) if "primary_key" in kw else False
        nullable = self.flag(kw.pop("nullable")) if "nullable" in kw else not primary_key
        unique = self.flag(kw.pop("unique")) if "unique" in kw else False
        index = self.flag(kw.pop("index")) if "index" in kw else False
        default_sql = None
        if "server_default" in kw:
            server_default = kw.pop("server_default")
            if not self.is_none(server_default):
                default_sql = self.server_default(server_default)
        autoincrement = kw.pop("autoincrement", None)
        autoincrement = self.value(autoincrement) if autoincrement is not None else "auto"
        for ignored in ("default", "onupdate", "doc", "info", "key", "quote"):
            kw.pop(ignored, None)  # Python-side defaults and documentation: no DDL in Alembic
        if "comment" in kw and self.is_none(kw["comment"]):
            kw.pop("comment")
        if kw:
            raise Untranslatable("Column(%s=...)" % ", ".join(sorted(kw)))
        text = "Column(%s, %s)" % (cpp_string(name), type_cpp)
        if not nullable:
            text += ".not_null()"
        if default_sql is not None:
            text += ".default_value(%s)" % default_sql
        facts = {"name": name, "kind": kind, "enum": enum, "primary_key": primary_key,
                 "unique": unique, "index": index, "autoincrement": autoincrement,
                 "has_default": default_sql is not None, "foreign_keys": foreign_keys,
                 "text": text, "table": table}
        return facts

    def foreign_key_from_column(self, column_name, call):
        kw = self.keywords(call, ("name", "ondelete", "onupdate"))
        if not call.args:
            raise Untranslatable("a ForeignKey without its column")
        target = self.value(call.args[0])
        table, _, referred = target.rpartition(".")
        name = self.value(kw["name"]) if "name" in kw else ""
        return {"name": name or "", "columns": [column_name], "table": table,
                "referred": [referred], "ondelete": self.opt(kw, "ondelete"),
                "onupdate": self.opt(kw, "onupdate")}

    def opt(self, kw, key):
        """An optional keyword's value ("" when absent or None), taken out of `kw`."""
        node = kw.pop(key, None)
        return self.value(node) if node is not None and not self.is_none(node) else ""

    def foreign_key_constraint(self, call):
        kw = self.keywords(call, ("columns", "refcolumns", "name", "ondelete", "onupdate"))
        args = list(call.args)
        columns = self.names(kw["columns"] if "columns" in kw else args.pop(0))
        targets = self.names(kw["refcolumns"] if "refcolumns" in kw else args.pop(0))
        tables = {t.rpartition(".")[0] for t in targets}
        if len(tables) != 1:
            raise Untranslatable("a ForeignKeyConstraint to several tables")
        return {"name": self.opt(kw, "name"), "columns": columns, "table": tables.pop(),
                "referred": [t.rpartition(".")[2] for t in targets],
                "ondelete": self.opt(kw, "ondelete"), "onupdate": self.opt(kw, "onupdate")}

    @staticmethod
    def foreign_key_cpp(fk):
        def names(values):
            return "{" + ", ".join(cpp_string(v) for v in values) + "}"
        text = "ForeignKey::make(%s, %s, %s, %s" % (cpp_string(fk["name"]), names(fk["columns"]),
                                                   cpp_string(fk["table"]), names(fk["referred"]))
        if fk["ondelete"] or fk["onupdate"]:
            text += ", %s" % cpp_string(fk["ondelete"])
        if fk["onupdate"]:
            text += ", %s" % cpp_string(fk["onupdate"])
        return text + ")"

    @staticmethod
    def names_cpp(values):
        return "{" + ", ".join(cpp_string(v) for v in values) + "}"

    def index_cpp(self, name, table, columns, unique):
        self.known.setdefault("index:" + name, table)
        text = "Index(%s, %s, %s)" % (cpp_string(name), cpp_string(table), self.names_cpp(columns))
        return text + (".make_unique()" if unique else "")

    def auto_increment(self, facts, primary_key):
        """SQLAlchemy's rule: a table's single integer primary key column without a default or a
        foreign key is autoincrement unless it says autoincrement=False."""
        if facts["autoincrement"] is False:
            return False
        if facts["autoincrement"] is True and primary_key == [facts["name"]]:
            return facts["kind"] in ("integer", "big_integer")
        return (primary_key == [facts["name"]] and facts["kind"] in ("integer", "big_integer")
                and not facts["has_default"] and not facts["foreign_keys"])

    def enum_creates(self, facts):
        """An Enum with its own length= is a raw type here: its PostgreSQL type is created
        explicitly, before the table, as SQLAlchemy creates it."""
        enum = facts["enum"]
        if enum and not enum["created_by_host"]:
            self.emit("op.create_enum(%s);" % self.enumeration_cpp(enum))

    def create_table(self, call, kw):
        args = list(call.args)
        table = self.value(kw.pop("table_name") if "table_name" in kw else args.pop(0))
        kw.pop("info", None)
        for optional in ("comment", "schema"):
            if optional in kw and self.is_none(kw[optional]):
                kw.pop(optional)
        if kw:
            raise Untranslatable("create_table(%s=...)" % ", ".join(sorted(kw)))
        columns, primary_key, uniques, foreign_keys, indexes = [], [], [], [], []
        for a in args:
            node = self.resolve(a)
            kind = last_name(node) if isinstance(node, ast.Call) else ""
            if kind == "Column":
                columns.append(self.column(node, table))
            elif kind == "PrimaryKeyConstraint":
                # The model has no name for a primary key: PostgreSQL names it <table>_pkey.
                self.keywords(node, ("name",))
                primary_key = [self.value(c) for c in node.args]
            elif kind == "UniqueConstraint":
                ukw = self.keywords(node, ("name",))
                uniques.append((self.opt(ukw, "name"), [self.value(c) for c in node.args]))
            elif kind == "ForeignKeyConstraint":
                foreign_keys.append(self.foreign_key_constraint(node))
            elif kind == "Index":
                ikw = self.keywords(node, ("unique",))
                unique = self.flag(ikw["unique"]) if "unique" in ikw else False
                indexes.append((self.value(node.args[0]),
                                [self.value(c) for c in node.args[1:]], unique))
            else:
                raise Untranslatable("the create_table argument %s" % self.script.segment(a))
        if not primary_key:
            primary_key = [c["name"] for c in columns if c["primary_key"]]
        for c in columns:
            for fk_call in c["foreign_keys"]:
                foreign_keys.append(self.foreign_key_from_column(c["name"], fk_call))
            if c["unique"]:
                uniques.append(("", [c["name"]]))
            if c["index"]:
                indexes.append(("ix_%s_%s" % (table, c["name"]), [c["name"]], False))
        created = set()
        for c in columns:
            if c["enum"] and c["enum"]["name"] not in created:
                created.add(c["enum"]["name"])
                self.enum_creates(c)
        parts = ["Table(%s)" % cpp_string(table)]
        for c in columns:
            text = c["text"]
            if self.auto_increment(c, primary_key):
                if c["kind"] == "big_integer":
                    # SQLAlchemy: BIGSERIAL on PostgreSQL; on SQLite only INTEGER is the rowid.
                    text = "postgresql ? %s.auto_increment() : %s" % (text, text)
                else:
                    text += ".auto_increment()"
            parts.append(".column(%s)" % text)
        if primary_key:
            parts.append(".primary_key(%s)" % self.names_cpp(primary_key))
        for name, cols in uniques:
            self.known.setdefault("unique:" + name, {"table": table, "columns": cols})
            parts.append(".unique(UniqueConstraint::make(%s, %s))"
                         % (cpp_string(name), self.names_cpp(cols)))
        for fk in foreign_keys:
            if fk["name"]:
                self.known.setdefault("fk:" + fk["name"], dict(fk, source=table))
            parts.append(".foreign_key(%s)" % self.foreign_key_cpp(fk))
        self.emit("op.create_table(" + "\n    ".join(parts) + ");")
        for name, cols, unique in indexes:
            self.emit("op.create_index(%s);" % self.index_cpp(name, table, cols, unique))

    def add_column(self, table, column_node):
        node = self.resolve(column_node)
        if not (isinstance(node, ast.Call) and last_name(node) == "Column"):
            raise Untranslatable("add_column of %s" % self.script.segment(column_node))
        facts = self.column(node, table)
        text = facts["text"]
        if facts["autoincrement"] is True:
            text += ".auto_increment()"
        self.emit("op.add_column(%s, %s);" % (cpp_string(table), text))
        # Alembic's add_column adds the column's constraints and indexes after it.
        if facts["unique"]:
            self.emit("op.create_unique_constraint(%s, UniqueConstraint::make(\"\", {%s}));"
                      % (cpp_string(table), cpp_string(facts["name"])))
        for fk_call in facts["foreign_keys"]:
            fk = self.foreign_key_from_column(facts["name"], fk_call)
            self.emit("op.create_foreign_key(%s, %s);" % (cpp_string(table),
                                                          self.foreign_key_cpp(fk)))
        if facts["index"]:
            name = "ix_%s_%s" % (table, facts["name"])
            self.emit("op.create_index(%s);" % self.index_cpp(name, table, [facts["name"]], False))

    # --- statements ---------------------------------------------------------------------------

    def emit(self, text):
        self.lines.append(text)

    def call(self, call, batch_table=None):
        """One op.X(...) or batch_op.X(...) call. A keyword argument the translation does not use
        makes the call untranslatable (postgresql_where=, comment=, deferrable=, ...): nothing
        Alembic would do is dropped."""
        kw = self.keywords(call)
        self.dispatch(call, batch_table, kw)
        leftover = sorted(key for key, node in kw.items()
                          if not key.startswith("existing_") and key != "autoincrement"
                          and not (key in ("schema", "comment") and self.is_none(node)))
        if leftover:
            raise Untranslatable("%s=... is not translated" % ", ".join(leftover))

    def dispatch(self, call, batch_table, kw):
        method = call.func.attr
        args = list(call.args)

        def take(keyword):
            if keyword in kw:
                return kw.pop(keyword)
            if args:
                return args.pop(0)
            raise Untranslatable("%s without %s" % (method, keyword))

        def table_arg(keyword="table_name"):
            return batch_table if batch_table is not None else self.value(take(keyword))

        if method == "create_table" and batch_table is None:
            return self.create_table(call, kw)
        if method == "drop_table" and batch_table is None:
            table = self.value(take("table_name"))
            self.emit("op.drop_table(%s);" % cpp_string(table))
            return
        if method == "rename_table" and batch_table is None:
            old = self.value(take("old_table_name"))
            new = self.value(take("new_table_name"))
            self.emit("op.rename_table(%s, %s);" % (cpp_string(old), cpp_string(new)))
            return
        if method == "add_column":
            table = table_arg()
            return self.add_column(table, take("column"))
        if method == "drop_column":
            table = table_arg()
            column = self.value(take("column_name"))
            self.emit("op.drop_column(%s, %s);" % (cpp_string(table), cpp_string(column)))
            return
        if method == "alter_column":
            return self.alter_column(table_arg(), self.value(take("column_name")), kw)
        if method == "create_index":
            name = self.value(take("index_name"))
            table = table_arg()
            columns = take("columns")
            resolved = self.value(columns)
            columns = [resolved] if isinstance(resolved, str) else list(resolved)
            unique = self.flag(kw.pop("unique")) if "unique" in kw else False
            self.emit("op.create_index(%s);" % self.index_cpp(name, table, columns, unique))
            return
        if method == "drop_index":
            name = self.value(take("index_name"))
            if batch_table is not None:
                table = batch_table
            elif "table_name" in kw or args:
                table = self.value(take("table_name"))
            else:
                table = self.known.get("index:" + name)
                if table is None:
                    raise Untranslatable("drop_index(%r) without table_name, of an index this "
                                         "history does not create" % name)
            self.emit("op.drop_index(%s, %s);" % (cpp_string(table), cpp_string(name)))
            return
        if method == "create_unique_constraint":
            name = self.value(take("constraint_name"))
            table = table_arg("table_name")
            columns = self.names(take("columns"))
            self.known.setdefault("unique:" + (name or ""), {"table": table, "columns": columns})
            self.emit("op.create_unique_constraint(%s, UniqueConstraint::make(%s, %s));"
                      % (cpp_string(table), cpp_string(name or ""), self.names_cpp(columns)))
            return
        if method == "create_foreign_key":
            name = self.value(take("constraint_name"))
            source = table_arg("source_table")
            referent = self.value(take("referent_table"))
            local = self.names(take("local_cols"))
            remote = self.names(take("remote_cols"))
            fk = {"name": name or "", "columns": local, "table": referent, "referred": remote,
                  "ondelete": self.opt(kw, "ondelete"), "onupdate": self.opt(kw, "onupdate")}
            if fk["name"]:
                self.known.setdefault("fk:" + fk["name"], dict(fk, source=source))
            self.emit("op.create_foreign_key(%s, %s);" % (cpp_string(source),
                                                          self.foreign_key_cpp(fk)))
            return
        if method == "drop_constraint":
            name = self.value(take("constraint_name"))
            table = table_arg("table_name")
            kind = self.value(kw.pop("type_")) if "type_" in kw else None
            return self.drop_constraint(name, table, kind)
        if method == "execute" and batch_table is None:
            statement = self.text_value(take("sqltext"))
            self.emit("op.execute(%s);" % cpp_string(statement))
            return
        if method == "bulk_insert" and batch_table is None:
            return self.bulk_insert(take("table"), take("rows"))
        raise Untranslatable("op.%s is not in the vocabulary scaffold import-alembic translates"
                             % method)

    def alter_column(self, table, column, kw):
        parts = []
        type_node = kw.pop("type_", None)
        if type_node is not None and not self.is_none(type_node):
            type_cpp, _, enum = self.type_info(type_node)
            parts.append(".type(%s)" % type_cpp)
        nullable = kw.pop("nullable", None)
        if nullable is not None and not self.is_none(nullable):
            parts.append(".nullable(%s)" % ("true" if self.flag(nullable) else "false"))
        if "server_default" in kw:
            node = self.resolve(kw.pop("server_default"))
            if isinstance(node, ast.Constant) and node.value is False:
                pass  # Alembic's "leave the default"
            elif self.is_none(node):
                parts.append(".drop_default()")
            else:
                parts.append(".default_value(%s)" % self.server_default(node))
        new_name = kw.pop("new_column_name", None)
        if parts:
            self.emit("op.alter_column(%s, %s, ColumnChange()%s);"
                      % (cpp_string(table), cpp_string(column), "".join(parts)))
        if new_name is not None and not self.is_none(new_name):
            new = self.value(new_name)
            self.emit("op.rename_column(%s, %s, %s);" % (cpp_string(table), cpp_string(column),
                                                         cpp_string(new)))

    def drop_constraint(self, name, table, kind):
        if kind == "foreignkey":
            fk = self.known.get("fk:" + name)
            if fk and fk.get("source") == table:
                self.emit("op.drop_foreign_key(%s, %s);" % (cpp_string(table),
                                                            self.foreign_key_cpp(fk)))
            else:
                self.emit("op.drop_foreign_key(%s, ForeignKey::make(%s, {}, \"\", {}));"
                          % (cpp_string(table), cpp_string(name)))
            return
        if kind == "unique":
            unique = self.known.get("unique:" + name)
            columns = unique["columns"] if unique and unique["table"] == table else []
            self.emit("op.drop_unique_constraint(%s, UniqueConstraint::make(%s, %s));"
                      % (cpp_string(table), cpp_string(name), self.names_cpp(columns)))
            return
        raise Untranslatable("drop_constraint(type_=%r): migrator's operations drop foreign keys "
                             "and unique constraints" % kind)

    def bulk_insert(self, table_node, rows_node):
        table = self.resolve(table_node)
        if not (isinstance(table, ast.Call) and last_name(table) in ("table", "Table")):
            raise Untranslatable("bulk_insert into %s" % self.script.segment(table_node))
        name = self.value(table.args[0])
        rows = self.value(rows_node)
        if not isinstance(rows, list) or not all(isinstance(r, dict) for r in rows):
            raise Untranslatable("bulk_insert rows that are not a list of literal dicts")
        for row in rows:
            columns = ", ".join(quote_identifier(c) for c in row)
            values = ", ".join(sql_literal(v) for v in row.values())
            self.emit("op.execute(%s);" % cpp_string("INSERT INTO %s (%s) VALUES (%s)" % (
                quote_identifier(name), columns, values)))

    def enum_call(self, call):
        """sa.Enum(..., name=...).create(op.get_bind()) / .drop(...): PostgreSQL only."""
        target = self.resolve(call.func.value)
        _, kind, enum = self.type_info(target)
        if kind != "enum" or not enum:
            raise Untranslatable("%s of a type that is not a native Enum" % call.func.attr)
        # migrator creates an enum type unless it exists and drops it if it does, whatever
        # checkfirst says: the end state is the one Alembic's call asks for.
        if call.func.attr == "create":
            self.emit("op.create_enum(%s);" % self.enumeration_cpp(enum))
        else:
            self.emit("op.drop_enum(%s);" % cpp_string(enum["name"]))

    def statement(self, node):
        """One statement of the function body."""
        if isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant):
            return  # a docstring or a bare string
        if isinstance(node, ast.Pass):
            return
        if isinstance(node, ast.Assign) and len(node.targets) == 1 and \
                isinstance(node.targets[0], ast.Name):
            value = node.value
            if isinstance(value, ast.Call) and (dotted(value.func).startswith("op.")
                                                or dotted(value.func).startswith("batch_op.")):
                raise Untranslatable("the result of a call kept in a variable")
            self.bindings[node.targets[0].id] = value  # a type or table reused below
            self.translated += 1
            return
        if isinstance(node, ast.With) and len(node.items) == 1:
            item = node.items[0]
            context = item.context_expr
            if isinstance(context, ast.Call) and dotted(context.func) == "op.batch_alter_table":
                kw = self.keywords(context)
                if "schema" in kw and not self.is_none(kw["schema"]):
                    raise Untranslatable("a table in another schema (schema=)")
                table_node = context.args[0] if context.args else kw.get("table_name")
                table = self.value(table_node)
                alias = item.optional_vars.id if isinstance(item.optional_vars, ast.Name) else None
                self.translated += 1
                for inner in node.body:
                    self.guarded(inner, table, alias)
                return
        if isinstance(node, ast.Expr) and isinstance(node.value, ast.Call):
            call = node.value
            name = dotted(call.func)
            if name.startswith("op.") and name.count(".") == 1:
                self.call(call)
                self.translated += 1
                return
            if isinstance(call.func, ast.Attribute) and call.func.attr in ("create", "drop") \
                    and call.args and dotted(call.args[0]) in ("op.get_bind",) or (
                    isinstance(call.func, ast.Attribute) and call.func.attr in ("create", "drop")
                    and call.args and isinstance(call.args[0], ast.Call)
                    and dotted(call.args[0].func) == "op.get_bind"):
                self.enum_call(call)
                self.translated += 1
                return
        raise Untranslatable("Python logic outside the operations vocabulary")

    def guarded(self, node, batch_table=None, alias=None):
        """Translates `node`, or keeps it for review: comment + a statement failing the step."""
        start = len(self.lines)
        try:
            if batch_table is not None:
                if isinstance(node, ast.Expr) and isinstance(node.value, ast.Call) and \
                        isinstance(node.value.func, ast.Attribute) and \
                        dotted(node.value.func.value) == alias:
                    self.call(node.value, batch_table)
                    self.translated += 1
                    return
                if isinstance(node, ast.Pass):
                    return
                raise Untranslatable("Python logic inside batch_alter_table")
            self.statement(node)
        except Untranslatable as why:
            del self.lines[start:]
            self.keep_for_review(node, str(why))

    def keep_for_review(self, node, why):
        text = self.script.segment(node)
        call = describe_statement(node)
        where = "%s:%d" % (self.script.shown, node.lineno)
        self.review.append({"line": node.lineno, "call": call, "why": why, "source": text})
        self.emit("// %s: not translated (%s); the Alembic source, to write in C++ here:" % (
            where, why.replace("\n", " ")))
        for line in text.splitlines():
            self.emit("//     " + line)
        message = ("%s: %s was not translated from Alembic (scaffold import-alembic left it for "
                   "review): write it in C++ in this revision" % (where, call))
        self.emit("throw std::runtime_error(%s);" % cpp_string(message))


STATEMENT_WORDS = {ast.For: "for", ast.While: "while", ast.If: "if", ast.With: "with",
                   ast.Try: "try", ast.Assign: "assignment", ast.AugAssign: "assignment",
                   ast.Return: "return", ast.Import: "import", ast.ImportFrom: "import"}


def describe_statement(node):
    """'op.create_check_constraint' for a call, 'the for statement' for Python logic."""
    if isinstance(node, ast.Expr) and isinstance(node.value, ast.Call):
        name = dotted(node.value.func)
        if name:
            return name
    word = STATEMENT_WORDS.get(type(node))
    return "the %s statement" % word if word else "a Python statement"


def quote_identifier(name):
    return '"' + name.replace('"', '""') + '"'


def translate_function(script, name, known):
    function = script.function(name)
    lines = []
    translator = Translator(script, known, lines)
    if function is None:
        translator.review.append({"line": 1, "call": name, "why": "the script has no %s()" % name,
                                  "source": ""})
        message = "%s: the Alembic script has no %s()" % (script.shown, name)
        lines.append("throw std::runtime_error(%s);" % cpp_string(message))
    else:
        for statement in function.body:
            translator.guarded(statement)
    body = ["migrator::Operations op(ctx);"]
    # Declared only where a line chooses by dialect, so that no revision has an unused local.
    if any("postgresql ? " in line or "if (postgresql)" in line for line in lines):
        body.append("const bool postgresql = ctx.dialect() == \"postgresql\";")
    body.extend(lines)
    text = "".join("    " + line.replace("\n", "\n    ") + "\n" for line in body)
    return text, translator.translated, translator.review


def docstring_fields(script):
    doc = ast.get_docstring(script.tree) or ""
    message = doc.strip().splitlines()[0].strip() if doc.strip() else ""
    created = ""
    match = re.search(r"^Create Date:\s*(\S+ \S+)", doc, re.MULTILINE)
    if match:
        created = match.group(1).split(".")[0]
    return message, created


def read_script(path, shown, known):
    script = Script(path, shown)
    revision = script.literal("revision")
    if not isinstance(revision, str) or not revision:
        return None  # not a revision script (e.g. a helper module)
    message, created = docstring_fields(script)
    upgrade, up_count, up_review = translate_function(script, "upgrade", known)
    downgrade, down_count, down_review = translate_function(script, "downgrade", known)
    return {
        "file": shown,
        "id": revision,
        "down_revision": as_list(script.literal("down_revision")),
        "branch_labels": as_list(script.literal("branch_labels")),
        "depends_on": as_list(script.literal("depends_on")),
        "message": message,
        "create_date": created,
        "upgrade": upgrade,
        "downgrade": downgrade,
        "translated": up_count + down_count,
        "review": up_review + down_review,
    }


def main(argv):
    if len(argv) != 2:
        sys.stderr.write("usage: alembic_import.py VERSIONS_DIR\n")
        return 2
    folder = argv[1]
    if not os.path.isdir(folder):
        sys.stderr.write("%s is not a folder of Alembic revision scripts\n" % folder)
        return 2
    files = sorted(f for f in os.listdir(folder) if f.endswith(".py") and f != "__init__.py")
    known = {}
    # Constraint and index definitions are looked up by name across the whole history (a later
    # drop_constraint names what an earlier script created), and files are not in history order:
    # the first pass collects the names, the second translates with all of them known.
    try:
        for _ in range(2):
            revisions = []
            for name in files:
                shown = os.path.join(os.path.basename(os.path.normpath(folder)), name)
                found = read_script(os.path.join(folder, name), shown, known)
                if found:
                    revisions.append(found)
    except SystemExit as error:
        sys.stderr.write("%s\n" % error)
        return 2
    except (OSError, UnicodeDecodeError) as error:
        sys.stderr.write("cannot read %s\n" % error)
        return 2
    json.dump({"revisions": revisions}, sys.stdout, indent=1)
    sys.stdout.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
