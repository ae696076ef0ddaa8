"""Runs real Alembic on a folder of Alembic revision scripts (tests/fixtures/alembic_corpus), for
the e2e tests of scaffold import-alembic and of adopting an Alembic database.

usage: alembic_corpus.py WORKDIR VERSIONS_DIR URL COMMAND [ARG]

URL is a SQLAlchemy URL (sqlite:////abs/file.db, postgresql://...). COMMAND is an Alembic command:
upgrade REV, downgrade REV, stamp REV, current, or sql RANGE (upgrade RANGE --sql, the script on
standard output). Alembic's own output goes to standard output; a failure exits 1 with Alembic's
message on standard error.
"""
import os
import sys

from alembic import command
from alembic.config import Config

ENV_PY = """
from alembic import context
from sqlalchemy import create_engine

url = context.config.get_main_option("sqlalchemy.url")
if context.is_offline_mode():
    context.configure(url=url, literal_binds=True)
    with context.begin_transaction():
        context.run_migrations()
else:
    engine = create_engine(url)
    with engine.connect() as connection:
        context.configure(connection=connection)
        with context.begin_transaction():
            context.run_migrations()
"""


def main(argv):
    workdir, versions, url, what = argv[1:5]
    rest = argv[5:]
    script_dir = os.path.join(workdir, "alembic")
    os.makedirs(script_dir, exist_ok=True)
    with open(os.path.join(script_dir, "env.py"), "w") as handle:
        handle.write(ENV_PY)
    config = Config()
    config.set_main_option("script_location", script_dir)
    config.set_main_option("version_locations", os.path.abspath(versions))
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    try:
        if what == "upgrade":
            command.upgrade(config, rest[0])
        elif what == "downgrade":
            command.downgrade(config, rest[0])
        elif what == "stamp":
            command.stamp(config, rest[0])
        elif what == "current":
            command.current(config)
        elif what == "sql":
            command.upgrade(config, rest[0], sql=True)
        else:
            sys.stderr.write("unknown command %s\n" % what)
            return 2
    except Exception as error:  # Alembic's and the database's errors, as one line
        sys.stderr.write("%s: %s\n" % (type(error).__name__, str(error).splitlines()[0]))
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
