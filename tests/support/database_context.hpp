// Test support: a migrator::Context over a real database opened through the host's Database, so
// tests run introspection and operations exactly as a revision (or the host) would.
#ifndef MIGRATOR_TEST_DATABASE_CONTEXT_HPP
#define MIGRATOR_TEST_DATABASE_CONTEXT_HPP

#include <memory>
#include <migrator/db/database_url.hpp>
#include <migrator/db/db.hpp>
#include <migrator/revision.hpp>
#include <migrator/schema.hpp>
#include <migrator/schema/host_session.hpp>
#include <optional>
#include <string>
#include <vector>

namespace testing {

/// Owns an open Database and the migrator_host a plugin would be handed for it.
class DatabaseContext {
public:
    /// Opens the database read-write; throws migrator::DatabaseError.
    explicit DatabaseContext(const migrator::DatabaseUrl& url);
    /// The same for an SQLAlchemy-style URL.
    explicit DatabaseContext(const std::string& url);
    ~DatabaseContext();
    DatabaseContext(const DatabaseContext&) = delete;
    DatabaseContext& operator=(const DatabaseContext&) = delete;

    /// The context a revision would see; valid while this object lives.
    migrator::Context& context() { return context_; }
    migrator::Database& database() { return *db_; }
    /// Lines the code under test wrote with ctx.log().
    const std::vector<std::string>& log() const { return log_; }

private:
    std::unique_ptr<migrator::Database> db_;
    std::vector<std::string> log_;
    std::unique_ptr<migrator::HostSession> session_;  ///< the runner's adapter, over db_
    migrator::Context context_;
};

/// A fresh database of one backend, removed on destruction: the one way tests make a scratch
/// database. "sqlite": the file test.db in `folder`, or, when no folder is given, in a temporary
/// folder of its own (removed with it); the file is created by the first write. "postgresql": a
/// database of its own on the server of tests/with-postgres ($MIGRATOR_TEST_POSTGRES_URL; throws
/// when it is not set, so such a test fails rather than being skipped), dropped with any
/// sessions still open on it.
class ScratchDatabase {
public:
    explicit ScratchDatabase(const std::string& backend, const std::string& folder = {});
    ~ScratchDatabase();
    ScratchDatabase(const ScratchDatabase&) = delete;
    ScratchDatabase& operator=(const ScratchDatabase&) = delete;
    const migrator::DatabaseUrl& url() const { return url_; }
    /// SQLite: the database file's path.
    std::string file() const { return url_.database; }
    /// PostgreSQL: the name of the database created on the server.
    const std::string& postgres_name() const { return postgres_name_; }
    /// A new connection to it.
    std::unique_ptr<migrator::Database> open(const migrator::DatabaseOptions& options = {}) const {
        return migrator::open_database(url_, options);
    }
    /// A new read-only connection to it.
    std::unique_ptr<migrator::Database> open_read_only() const;

private:
    migrator::DatabaseUrl url_;
    migrator::DatabaseUrl server_;  ///< PostgreSQL: where the database is created and dropped
    std::string own_folder_;        ///< SQLite: the temporary folder made for the file, if any
    std::string postgres_name_;     ///< PostgreSQL: the database created on the server
};

/// Result rows of a query: values as text, NULL as std::nullopt.
using Rows = std::vector<std::vector<std::optional<std::string>>>;
/// The rows `sql` returns on `db`.
Rows rows_of(migrator::Database& db, const std::string& sql);
/// The message of the DatabaseError that executing `sql` on `db` throws; throws
/// std::logic_error (failing the test) when it runs without one.
std::string error_of(migrator::Database& db, const std::string& sql);
/// The same for running `sql` as a query.
std::string query_error_of(migrator::Database& db, const std::string& sql);

/// A schema as comparable lines, one per table, column, key, constraint and index, in the
/// schema's order: "column book.title text not null default 'untitled'", ... Catch prints both
/// sides of a failed comparison line by line.
std::vector<std::string> schema_lines(const migrator::schema::Schema& schema);
/// The lines of one table (no indexes).
std::vector<std::string> table_lines(const migrator::schema::Table& table);

}  // namespace testing

#endif  // MIGRATOR_TEST_DATABASE_CONTEXT_HPP
