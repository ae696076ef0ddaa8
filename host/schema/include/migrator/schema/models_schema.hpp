// The declared schema taken from a team's SQLAlchemy models: the shipped sqlalchemy_schema.py run
// with the team's own Python, its output read as a schema file is read.
#ifndef MIGRATOR_MODELS_SCHEMA_HPP
#define MIGRATOR_MODELS_SCHEMA_HPP

#include <filesystem>
#include <string>

namespace migrator {

/// The script that prints a SQLAlchemy MetaData as SQL: share/migrator/sqlalchemy_schema.py
/// beside the running program's folder (build/bin -> build/share in the build tree, bin -> share
/// in an installation). Not checked for existence.
std::filesystem::path sqlalchemy_schema_script();

/// The SQL that the SQLAlchemy MetaData `models` (MODULE:ATTRIBUTE, e.g.
/// myapp.models:Base.metadata) declares for `dialect` ("sqlite" or "postgresql"): the output of
/// `$MIGRATOR_PYTHON (default python3) sqlalchemy_schema.py MODELS --dialect DIALECT`, run
/// without a shell in the current directory (which the script puts on sys.path). Throws
/// ConfigError naming the script's path when it is missing, naming the Python when it cannot be
/// started, with the script's own sentence (its last line on stderr) when it fails, and when its
/// output exceeds 64 MiB.
std::string models_schema_sql(const std::string& models, const std::string& dialect);

}  // namespace migrator

#endif  // MIGRATOR_MODELS_SCHEMA_HPP
