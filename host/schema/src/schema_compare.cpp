// Both sides of a schema comparison: the database's schema, and the schema a schema.sql file
// declares, applied to a scratch database of the same kind that never outlives the comparison.
#include <algorithm>
#include <exception>
#include <fstream>
#include <iomanip>
#include <migrator/common/errors.hpp>
#include <migrator/schema/host_session.hpp>
#include <migrator/schema/introspection.hpp>
#include <migrator/schema/models_schema.hpp>
#include <migrator/schema/schema_compare.hpp>
#include <migrator/schema/sql.hpp>
#include <random>
#include <sstream>

namespace migrator {
namespace {

namespace fs = std::filesystem;

std::string read_schema_file(const fs::path& file) {
    std::error_code error;
    if (!fs::is_regular_file(file, error))
        throw ConfigError("schema file " + file.string() + " does not exist or is not a file");
    std::ifstream in(file, std::ios::binary);
    std::ostringstream text;
    text << in.rdbuf();
    if (!in.good() && !in.eof()) throw ConfigError("cannot read schema file " + file.string());
    return text.str();
}

/// `db`'s schema as introspection sees it through a HostSession; `pg_namespace` as for
/// introspect_schema. Introspection's SqlError becomes a DatabaseError naming the database.
schema::Schema introspect(Database& db, const std::string& pg_namespace) {
    HostSession session(db, {});
    const Context context(session.host());
    try {
        return introspect_schema(context, db.migrator_tables(), pg_namespace);
    } catch (const SqlError& e) {
        throw DatabaseError("cannot read the schema of " + db.describe() + ": " + e.what());
    }
}

/// Runs the whole declared schema on the scratch database; its failure is the declaration's
/// (`what`: "schema file PATH", or the models').
void run_schema_file(Database& scratch, const std::string& sql, const std::string& what) {
    try {
        scratch.execute(sql);
    } catch (const DatabaseError& e) {
        throw ConfigError(what + " failed on the scratch database: " + e.what());
    }
}

/// A schema name no other comparison, past or running, uses: migrator_scratch_<16 hex digits>.
std::string scratch_schema_name() {
    std::random_device random;
    std::ostringstream name;
    name << "migrator_scratch_" << std::hex << std::setfill('0') << std::setw(8) << random()
         << std::setw(8) << random();
    return name.str();
}

/// The first value of the first row of `sql`, "" for none or NULL.
std::string scalar(Database& db, const std::string& sql) {
    std::string value;
    db.query(sql, [&](const std::vector<std::string>&,
                      const std::vector<std::optional<std::string>>& values) {
        if (!values.empty() && values.front()) value = *values.front();
        return false;
    });
    return value;
}

/// Drops the scratch schema if it exists outside the (rolled back) scratch transaction, which
/// only a schema file that commits the transaction itself achieves; true if it had to.
bool drop_if_committed(Database& scratch, const std::string& name) {
    if (scalar(scratch, "SELECT to_regnamespace(" + sql::quote_literal(name) + ") IS NOT NULL") !=
        "t")
        return false;
    scratch.begin();
    try {
        scratch.execute("SET TRANSACTION READ WRITE");
        scratch.execute("DROP SCHEMA IF EXISTS " + name + " CASCADE");
        scratch.commit();
    } catch (...) {
        scratch.rollback();
        throw;
    }
    return true;
}

/// The declared schema `sql` (`what` for messages) applied, inside the open transaction of
/// `scratch`, to the scratch schema `name`: created there, made the search path, introspected.
/// Throws ConfigError when the SQL fails or ends the transaction itself.
schema::Schema declare_in_scratch_schema(Database& scratch, const std::string& name,
                                         const std::string& sql, const std::string& what) {
    try {
        scratch.execute("CREATE SCHEMA " + name);
        scratch.execute("SET LOCAL search_path TO " + name);
    } catch (const DatabaseError& e) {
        throw DatabaseError("cannot create the scratch schema " + name + " for " + what + " on " +
                            scratch.describe() + ": " + e.what() +
                            " (check --schema needs the CREATE privilege on the database)");
    }
    const std::string transaction = scalar(scratch, "SELECT txid_current()::text");
    run_schema_file(scratch, sql, what);
    // A COMMIT or ROLLBACK in the file would end the scratch transaction: what follows it runs
    // on its own, and the scratch schema could outlive the comparison.
    if (scalar(scratch, "SELECT txid_current_if_assigned()::text") != transaction)
        throw ConfigError(what +
                          " ends the scratch transaction (COMMIT, ROLLBACK, END or ABORT); "
                          "remove its transaction statements: migrator runs it in a transaction "
                          "of its own that it always rolls back");
    return introspect(scratch, name);
}

/// PostgreSQL: the file in a scratch schema on a connection of its own to the target database.
/// The connection's transactions are read-only unless migrator's own scratch transaction says
/// otherwise, so a statement of the file that escaped it cannot write to the target database.
schema::Schema declare_on_postgresql(const DatabaseUrl& url, const DatabaseOptions& options,
                                     const std::string& sql, const std::string& what) {
    // Opened read-only: migrator makes the session read-only where the connection keeps its
    // server session (not through a pooler, where the setting would reach other clients).
    DatabaseOptions read_only = options;
    read_only.read_only = true;
    const auto scratch = open_database(url, read_only);
    if (scratch->hot_standby())
        throw DatabaseError(scratch->describe() +
                            " is a hot standby (a read-only replica in recovery), where the "
                            "declared schema of " +
                            what +
                            " cannot be built in a scratch schema; build it on a writable "
                            "database of the same dialect (e.g. the primary)");
    const std::string name = scratch_schema_name();
    schema::Schema declared;
    std::exception_ptr failure;
    scratch->begin();
    try {
        scratch->execute("SET TRANSACTION READ WRITE");
        declared = declare_in_scratch_schema(*scratch, name, sql, what);
    } catch (...) {
        failure = std::current_exception();
    }
    // Transactional DDL: the rollback takes the scratch schema and all the file made with it.
    // Should migrator die before this, the server rolls the transaction back when the
    // connection goes.
    scratch->rollback();
    bool committed = false;
    try {
        committed = drop_if_committed(*scratch, name);
    } catch (const DatabaseError& e) {
        throw DatabaseError("cannot drop the scratch schema " + name + " that " + what +
                            " committed on " + scratch->describe() + ": " + e.what() +
                            "; drop it by hand (DROP SCHEMA " + name + " CASCADE)");
    }
    // Whatever else went wrong after it, a commit in the file is what the user must fix.
    if (committed)
        throw ConfigError(what +
                          " commits the scratch transaction itself; remove its transaction "
                          "statements (the scratch schema " +
                          name + " it committed was dropped)");
    if (failure) std::rethrow_exception(failure);
    return declared;
}

/// A schema file written once for both dialects says `id INTEGER PRIMARY KEY` for a key that
/// numbers itself: SQLite makes that column the rowid, PostgreSQL a plain integer. Read on
/// PostgreSQL, the file's single-column INTEGER primary key without a default, which no foreign
/// key of its table uses, is therefore taken as autoincrement: SQLAlchemy's rule for such a
/// column (it creates it SERIAL) and the meaning SQLite gives the same words. Only the declared
/// side is read so: a database's plain integer key is still reported as not autoincrement.
void read_integer_keys_as_autoincrement(schema::Schema& declared) {
    for (auto& table : declared.tables) {
        if (table.primary_key_columns.size() != 1) continue;
        const std::string& key = table.primary_key_columns.front();
        const bool referencing =
            std::any_of(table.foreign_keys.begin(), table.foreign_keys.end(),
                        [&](const schema::ForeignKey& foreign_key) {
                            return std::find(foreign_key.columns.begin(), foreign_key.columns.end(),
                                             key) != foreign_key.columns.end();
                        });
        for (auto& column : table.columns)
            if (column.name == key && !referencing && !column.autoincrement &&
                !column.default_sql && column.type.kind == schema::TypeKind::integer)
                column.autoincrement = true;
    }
}

}  // namespace

schema::Schema introspect_database(Database& db) { return introspect(db, ""); }

std::string DeclaredSchemaSource::describe() const {
    return models.empty() ? "schema file " + file.string() : "the models " + models;
}

schema::Schema declared_schema(const DatabaseUrl& url, const DatabaseOptions& options,
                               const DeclaredSchemaSource& source) {
    if (url.dialect != "sqlite" && url.dialect != "postgresql")
        throw DatabaseError("database URL " + url.masked() + " names dialect '" + url.dialect +
                            "', which check --schema does not support; use sqlite:// or "
                            "postgresql://");
    // Models become SQL in the dialect of the database, and from then on are read as a file is.
    const std::string sql = source.models.empty() ? read_schema_file(source.file)
                                                  : models_schema_sql(source.models, url.dialect);
    const std::string what = source.describe();
    DatabaseOptions scratch_options = options;
    scratch_options.read_only = false;
    if (url.dialect == "sqlite") {
        // A fresh in-memory database: nothing to clean up, whatever the file does.
        const auto scratch = open_database(DatabaseUrl::parse("sqlite://"), scratch_options);
        run_schema_file(*scratch, sql, what);
        return introspect(*scratch, "");
    }
    schema::Schema declared = declare_on_postgresql(url, scratch_options, sql, what);
    // SQLAlchemy's SQL says SERIAL where it means it; a hand-written file is read as portable.
    if (source.models.empty()) read_integer_keys_as_autoincrement(declared);
    return declared;
}

schema::Schema declared_schema(const DatabaseUrl& url, const DatabaseOptions& options,
                               const fs::path& schema_sql) {
    DeclaredSchemaSource source;
    source.file = schema_sql;
    return declared_schema(url, options, source);
}

}  // namespace migrator
