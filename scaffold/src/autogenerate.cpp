// --autogenerate: the database (at head) and the declared schema compared, and the difference
// written as a new revision.
#include <algorithm>
#include <migrator/common/errors.hpp>
#include <migrator/common/text.hpp>
#include <migrator/db/database_url.hpp>
#include <migrator/db/db.hpp>
#include <migrator/runner/runner.hpp>
#include <migrator/scaffold/scaffold.hpp>
#include <migrator/schema/schema_compare.hpp>
#include <ostream>

#include "migration_code.hpp"
#include "new_revision.hpp"

namespace migrator::scaffold {
namespace fs = std::filesystem;
namespace {

std::string id_list(const std::vector<std::string>& ids) {
    return ids.empty() ? std::string("<base>") : join(ids);
}

/// Alembic's rule: a revision is generated against a database at the head, or it would repeat
/// (or miss) what the revisions not yet applied do.
void require_up_to_date(Database& db, const RevisionGraph& graph, const fs::path& dir) {
    auto current = db.read_heads();
    auto heads = graph.heads();
    std::sort(current.begin(), current.end());
    std::sort(heads.begin(), heads.end());
    if (current != heads)
        throw NotUpToDateError("Target database is not up to date. " + db.describe() + " is at " +
                               id_list(current) + ", the revisions in " + dir.string() +
                               " end at " + id_list(heads) +
                               ": build them and run `migrator upgrade heads` first.");
}

}  // namespace

bool autogenerate_revision(const NewOptions& options, const AutogenerateOptions& source,
                           std::ostream& out) {
    const fs::path dir = find_revisions_dir(options.revisions_dir);
    const RevisionGraph graph(read_revision_sources(dir));
    // Checked before the database is read: a wrong id or label should not wait for it.
    NewRevision revision = prepare_revision(graph, dir, options);

    DeclaredSchemaSource declared;
    declared.models = source.models;
    if (declared.models.empty()) {
        declared.file =
            source.schema_file.empty() ? dir / "schema.sql" : fs::absolute(source.schema_file);
        if (!fs::is_regular_file(declared.file))
            throw Error("no schema file " + declared.file.string() +
                        ": write the schema the database should have there (CREATE TABLE ...; "
                        "CREATE INDEX ...;), name it with --schema-file, or take it from "
                        "SQLAlchemy models with --models MODULE:ATTRIBUTE");
    }

    DatabaseOptions db_options;
    db_options.version_table = source.version_table;
    db_options.version_schema = source.version_schema;
    db_options.read_only = true;
    const DatabaseUrl url = DatabaseUrl::parse(source.url);
    const auto db = open_database(url, db_options);
    if (!source.version_table_chosen) refuse_unadopted_alembic(*db);
    refuse_if_dirty(*db);
    require_up_to_date(*db, graph, dir);

    const auto changes =
        diff_schemas(introspect_database(*db), declared_schema(url, db_options, declared));
    if (changes.empty()) {
        out << "No changes in schema detected: " << db->describe() << " matches "
            << (declared.models.empty() ? declared.file.string() : declared.describe())
            << "; no revision written.\n";
        return false;
    }
    for (const auto& change : changes) out << "Detected " << change.describe() << '\n';
    revision.code = migration_code(changes);
    write_revision(dir, revision, out);
    out << "Review it (the comment at its top says what autogenerate may have got wrong), then "
           "build it with `cmake --build build`.\n";
    return true;
}

}  // namespace migrator::scaffold
