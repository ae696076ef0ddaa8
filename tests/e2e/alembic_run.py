"""Runs real Alembic on a revision graph and prints what each command did, for the e2e test that
compares migrator with Alembic side by side (branches_test.cpp).

usage: alembic_run.py WORKDIR SPEC... -- COMMAND...

SPEC is id/parents/labels/depends_on (comma-separated lists), the format of fixture_graph in
tests/fixtures/CMakeLists.txt. COMMAND is an Alembic command line ("upgrade b", "stamp b d",
"downgrade lbl@a") or "rows a,b", which writes the version rows directly. For each command, one
line: the steps it ran, sorted ("down b,up a"), then "|" and the version rows after it, sorted;
the steps are "error" when Alembic refused the command.
"""
import contextlib
import io
import os
import sqlite3
import sys

from alembic import command
from alembic.config import Config

ENV_PY = """
from alembic import context
from sqlalchemy import create_engine
engine = create_engine(context.config.get_main_option("sqlalchemy.url"))
with engine.connect() as connection:
    context.configure(connection=connection)
    with context.begin_transaction():
        context.run_migrations()
"""


def write_project(workdir, specs):
    os.makedirs(os.path.join(workdir, "versions"))
    with open(os.path.join(workdir, "env.py"), "w") as out:
        out.write(ENV_PY)
    for spec in specs:
        rev, parents, labels, depends = (spec.split("/") + ["", "", ""])[:4]
        def listed(text):
            items = tuple(item for item in text.split(",") if item)
            return None if not items else items[0] if len(items) == 1 else items
        with open(os.path.join(workdir, "versions", rev + ".py"), "w") as out:
            out.write(f"revision = {rev!r}\ndown_revision = {listed(parents)!r}\n"
                      f"branch_labels = {listed(labels)!r}\ndepends_on = {listed(depends)!r}\n"
                      "import sys\n"
                      f"def upgrade(): print('step:up {rev}', file=sys.stderr)\n"
                      f"def downgrade(): print('step:down {rev}', file=sys.stderr)\n")
    config = Config()
    config.set_main_option("script_location", workdir)
    config.set_main_option("sqlalchemy.url", "sqlite:///" + os.path.join(workdir, "db.sqlite"))
    return config


def version_rows(workdir):
    with contextlib.closing(sqlite3.connect(os.path.join(workdir, "db.sqlite"))) as db:
        db.execute("CREATE TABLE IF NOT EXISTS alembic_version "
                   "(version_num VARCHAR(32) NOT NULL PRIMARY KEY)")
        return sorted(row[0] for row in db.execute("SELECT version_num FROM alembic_version"))


def set_rows(workdir, rows):
    version_rows(workdir)
    with contextlib.closing(sqlite3.connect(os.path.join(workdir, "db.sqlite"))) as db:
        db.execute("DELETE FROM alembic_version")
        db.executemany("INSERT INTO alembic_version VALUES (?)", [(row,) for row in rows])
        db.commit()


def main(argv):
    workdir = argv[1]
    split = argv.index("--")
    config = write_project(workdir, argv[2:split])
    for line in argv[split + 1:]:
        name, *args = line.split()
        steps = "error"
        if name == "rows":
            set_rows(workdir, args[0].split(",") if args else [])
            steps = ""
        else:
            err = io.StringIO()
            try:
                with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
                    if name == "stamp":
                        command.stamp(config, args if len(args) > 1 else args[0])
                    else:
                        getattr(command, name)(config, *args)
                steps = ",".join(sorted(
                    part[len("step:"):] for part in err.getvalue().splitlines()
                    if part.startswith("step:")))
            except Exception:  # Alembic refused the command: that is the result to compare
                pass
        print(steps + "|" + ",".join(version_rows(workdir)))


if __name__ == "__main__":
    main(sys.argv)
