// Both sides of a schema comparison: the database's schema, and the schema a schema.sql file
// declares, applied to a scratch database of the same kind that never outlives the comparison.
#include <exception>
#include <fstream>
#include <iomanip>
#include <migrator/common/errors.hpp>
#include <migrator/schema/host_session.hpp>
#include <migrator/schema/introspection.hpp>
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

/// Runs the whole file on the scratch database; its failure is the file's.
void run_schema_file(Database& scratch, const std::string& sql, const fs::path& file) {
    try {
        scratch.execute(sql);
    } catch (const DatabaseError& e) {
        throw ConfigError("schema file " + file.string() +
                          " failed on the scratch database: " + e.what());
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

/// The schema of `file` applied, inside the open transaction of `scratch`, to the scratch schema
/// `name`: created there, made the search path, introspected. Throws ConfigError when the file
/// fails or ends the transaction itself.
schema::Schema declare_in_scratch_schema(Database& scratch, const std::string& name,
                                         const std::string& sql, const fs::path& file) {
    try {
        scratch.execute("CREATE SCHEMA " + name);
        scratch.execute("SET LOCAL search_path TO " + name);
    } catch (const DatabaseError& e) {
        throw DatabaseError("cannot create the scratch schema " + name + " for schema file " +
                            file.string() + " on " + scratch.describe() + ": " + e.what() +
                            " (check --schema needs the CREATE privilege on the database)");
    }
    const std::string transaction = scalar(scratch, "SELECT txid_current()::text");
    run_schema_file(scratch, sql, file);
    // A COMMIT or ROLLBACK in the file would end the scratch transaction: what follows it runs
    // on its own, and the scratch schema could outlive the comparison.
    if (scalar(scratch, "SELECT txid_current_if_assigned()::text") != transaction)
        throw ConfigError("schema file " + file.string() +
                          " ends the scratch transaction (COMMIT, ROLLBACK, END or ABORT); "
                          "remove its transaction statements: migrator runs it in a transaction "
                          "of its own that it always rolls back");
    return introspect(scratch, name);
}

/// PostgreSQL: the file in a scratch schema on a connection of its own to the target database.
/// The connection's transactions are read-only unless migrator's own scratch transaction says
/// otherwise, so a statement of the file that escaped it cannot write to the target database.
schema::Schema declare_on_postgresql(const DatabaseUrl& url, const DatabaseOptions& options,
                                     const std::string& sql, const fs::path& file) {
    // Opened read-only: migrator makes the session read-only where the connection keeps its
    // server session (not through a pooler, where the setting would reach other clients).
    DatabaseOptions read_only = options;
    read_only.read_only = true;
    const auto scratch = open_database(url, read_only);
    if (scratch->hot_standby())
        throw DatabaseError(scratch->describe() +
                            " is a hot standby (a read-only replica in recovery), where the "
                            "declared schema of " +
                            file.string() +
                            " cannot be built in a scratch schema; build it on a writable "
                            "database of the same dialect (e.g. the primary)");
    const std::string name = scratch_schema_name();
    schema::Schema declared;
    std::exception_ptr failure;
    scratch->begin();
    try {
        scratch->execute("SET TRANSACTION READ WRITE");
        declared = declare_in_scratch_schema(*scratch, name, sql, file);
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
        throw DatabaseError("cannot drop the scratch schema " + name + " that schema file " +
                            file.string() + " committed on " + scratch->describe() + ": " +
                            e.what() + "; drop it by hand (DROP SCHEMA " + name + " CASCADE)");
    }
    // Whatever else went wrong after it, a commit in the file is what the user must fix.
    if (committed)
        throw ConfigError("schema file " + file.string() +
                          " commits the scratch transaction itself; remove its transaction "
                          "statements (the scratch schema " +
                          name + " it committed was dropped)");
    if (failure) std::rethrow_exception(failure);
    return declared;
}

}  // namespace

schema::Schema introspect_database(Database& db) { return introspect(db, ""); }

schema::Schema declared_schema(const DatabaseUrl& url, const DatabaseOptions& options,
                               const fs::path& schema_sql) {
    const std::string sql = read_schema_file(schema_sql);
    DatabaseOptions scratch_options = options;
    scratch_options.read_only = false;
    if (url.dialect == "sqlite") {
        // A fresh in-memory database: nothing to clean up, whatever the file does.
        const auto scratch = open_database(DatabaseUrl::parse("sqlite://"), scratch_options);
        run_schema_file(*scratch, sql, schema_sql);
        return introspect(*scratch, "");
    }
    if (url.dialect == "postgresql")
        return declare_on_postgresql(url, scratch_options, sql, schema_sql);
    throw DatabaseError("database URL " + url.masked() + " names dialect '" + url.dialect +
                        "', which check --schema does not support; use sqlite:// or postgresql://");
}

}  // namespace migrator
