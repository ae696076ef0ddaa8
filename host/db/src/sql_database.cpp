// The version and history tables as SQL shared by every backend.
#include "sql_database.hpp"

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <migrator/common/errors.hpp>
#include <migrator/common/sql_quoting.hpp>
#include <utility>

namespace migrator::detail {
namespace {

/// Runs `action`, prefixing the sentence of any DatabaseError with `context` (a
/// DatabaseStorageError stays one, so that the CLI and the runner still tell them apart). A
/// LockError passes unchanged: its sentence already names the database, the holder and what to do,
/// and the table being read is not what the user waited for.
template <typename Action>
decltype(auto) with_context(const std::string& context, Action&& action) {
    try {
        return std::forward<Action>(action)();
    } catch (const LockError&) {
        throw;
    } catch (const DatabaseStorageError& e) {
        throw DatabaseStorageError(context + ": " + e.what());
    } catch (const DatabaseError& e) {
        throw DatabaseError(context + ": " + e.what());
    }
}

std::string history_ddl(const std::string& qualified_history, const std::string& dialect) {
    // SQLite: INTEGER PRIMARY KEY is the rowid, ever increasing while no row is deleted (history
    // rows never are), without AUTOINCREMENT's extra write to sqlite_sequence per insert.
    const char* id = dialect == "postgresql" ? "BIGSERIAL PRIMARY KEY" : "INTEGER PRIMARY KEY";
    // success and dirty are INTEGER 0/1 on every backend, so the same SQL reads them all.
    return "CREATE TABLE IF NOT EXISTS " + qualified_history + " (id " + id +
           ", revision VARCHAR(32) NOT NULL"
           ", direction VARCHAR(16) NOT NULL"
           ", heads_before TEXT NOT NULL"
           ", heads_after TEXT NOT NULL"
           ", started_at VARCHAR(40) NOT NULL"
           ", duration_ms DOUBLE PRECISION NOT NULL"
           ", success INTEGER NOT NULL"
           ", source_sha256 VARCHAR(64) NOT NULL"
           ", error TEXT NOT NULL"
           ", run_by TEXT NOT NULL"
           ", run_host TEXT NOT NULL"
           ", dirty INTEGER NOT NULL DEFAULT 0)";
}

std::string plugins_ddl(const std::string& qualified_plugins, const std::string& dialect) {
    return "CREATE TABLE IF NOT EXISTS " + qualified_plugins +
           " (revision VARCHAR(32) NOT NULL PRIMARY KEY"
           ", file_name TEXT NOT NULL"
           ", size BIGINT NOT NULL"
           ", file_sha256 VARCHAR(64) NOT NULL"
           ", signatures_sha256 VARCHAR(64)"
           ", release_name TEXT"
           ", stored_at VARCHAR(40) NOT NULL"
           ", image " +
           (dialect == "postgresql" ? "BYTEA" : "BLOB") + " NOT NULL)";
}

std::string signed_ddl(const std::string& qualified_signed) {
    return "CREATE TABLE IF NOT EXISTS " + qualified_signed +
           " (sha256 VARCHAR(64) NOT NULL PRIMARY KEY, document TEXT NOT NULL)";
}

std::string hex_digits(std::string_view bytes) {
    static const char digits[] = "0123456789abcdef";
    std::string out;
    out.reserve(bytes.size() * 2);
    for (unsigned char c : bytes) {
        out += digits[c >> 4];
        out += digits[c & 15];
    }
    return out;
}

int hex_value(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

}  // namespace

SqlDatabase::SqlDatabase(const DatabaseOptions& options, std::string description)
    : description_(std::move(description)),
      names_(version_table_names(options.version_table)),
      qualified_version_(names_.quoted_version),
      qualified_history_(names_.quoted_history),
      qualified_plugins_(names_.quoted_plugins),
      qualified_signed_(names_.quoted_signed_files),
      run_by_(current_user_name()),
      run_host_(current_host_name()) {}

void SqlDatabase::set_schema_prefix(const std::string& quoted_schema_dot) {
    schema_prefix_ = quoted_schema_dot;
    qualified_version_ = quoted_schema_dot + names_.quoted_version;
    qualified_history_ = quoted_schema_dot + names_.quoted_history;
    qualified_plugins_ = quoted_schema_dot + names_.quoted_plugins;
    qualified_signed_ = quoted_schema_dot + names_.quoted_signed_files;
}

void SqlDatabase::ensure_version_tables() {
    with_context("cannot create the version tables in " + describe(), [&] {
        // Checking first rather than relying on IF NOT EXISTS alone: PostgreSQL checks the CREATE
        // privilege before existence, and a deploy role may lack it once the tables exist.
        const bool have_version = table_exists(names_.version);
        const bool have_history = table_exists(names_.history);
        // Offline scripts keep their shape: plugins are stored by online runs only.
        const bool have_plugins =
            offline() || (table_exists(names_.plugins) && table_exists(names_.signed_files));
        if (!have_version || !have_history || !have_plugins)
            exclusively([&] {
                create_schema();
                if (!table_exists(names_.version))
                    run("CREATE TABLE IF NOT EXISTS " + qualified_version_ +
                            " (version_num VARCHAR(32) NOT NULL, CONSTRAINT " +
                            names_.quoted_primary_key + " PRIMARY KEY (version_num))",
                        {});
                if (!table_exists(names_.history))
                    run(history_ddl(qualified_history_, dialect()), {});
                if (!offline() && !table_exists(names_.plugins))
                    run(plugins_ddl(qualified_plugins_, dialect()), {});
                if (!offline() && !table_exists(names_.signed_files))
                    run(signed_ddl(qualified_signed_), {});
            });
        if (have_history && !has_column(qualified_history_, "dirty"))
            // A history table from a migrator without dirty tracking gains the column.
            run("ALTER TABLE " + qualified_history_ +
                    " ADD COLUMN dirty INTEGER NOT NULL DEFAULT 0",
                {});
    });
    tables_ensured_ = true;
}

bool SqlDatabase::has_column(const std::string& qualified_table, const std::string& column) {
    const auto columns = fetch("SELECT * FROM " + qualified_table + " WHERE 1 = 0", {}, {});
    return std::find(columns.begin(), columns.end(), column) != columns.end();
}

std::vector<std::string> SqlDatabase::version_rows(const std::string& quoted_table) {
    std::vector<std::string> heads;
    // COLLATE "C" on PostgreSQL: byte order, the same on every server and on SQLite.
    const std::string order =
        dialect() == "postgresql" ? " ORDER BY version_num COLLATE \"C\"" : " ORDER BY version_num";
    fetch("SELECT version_num FROM " + quoted_table + order, {},
          [&](const std::vector<std::string>&,
              const std::vector<std::optional<std::string>>& values) {
              heads.push_back(values.at(0).value_or(""));
              return true;
          });
    return heads;
}

std::vector<std::string> SqlDatabase::read_heads() {
    return with_context("cannot read version table " + names_.version + " of " + describe(), [&] {
        if (!tables_ensured_ && !table_exists(names_.version)) return std::vector<std::string>{};
        return version_rows(qualified_version_);
    });
}

std::optional<std::vector<std::string>> SqlDatabase::unadopted_alembic_heads() {
    static const std::string alembic = "alembic_version";
    if (offline() || names_.version == alembic) return std::nullopt;
    return with_context(
        "cannot read version table " + alembic + " of " + describe(),
        [&]() -> std::optional<std::vector<std::string>> {
            if (tables_ensured_ || table_exists(names_.version) || !table_exists(alembic))
                return std::nullopt;
            return version_rows(schema_prefix_ + sql::quote_identifier(alembic));
        });
}

void SqlDatabase::replace_heads(const std::vector<std::string>& remove,
                                const std::vector<std::string>& add) {
    const std::string context = heads_context();
    for (const auto& head : remove) {
        const auto deleted = with_context(context, [&] {
            return run("DELETE FROM " + qualified_version_ + " WHERE version_num = ?", {head});
        });
        if (deleted == 0) throw heads_changed(head);
    }
    for (const auto& head : add)
        with_context(context, [&] {
            run("INSERT INTO " + qualified_version_ + " (version_num) VALUES (?)", {head});
        });
}

std::int64_t SqlDatabase::record_history(const HistoryRecord& record) {
    return with_context("cannot write history table " + names_.history + " of " + describe(), [&] {
        std::int64_t id = 0;
        // RETURNING: PostgreSQL, and SQLite since 3.35.
        fetch(history_insert(), history_values(record),
              [&](const std::vector<std::string>&,
                  const std::vector<std::optional<std::string>>& values) {
                  id = std::strtoll(values.at(0).value_or("0").c_str(), nullptr, 10);
                  return true;
              });
        return id;
    });
}

std::string SqlDatabase::heads_context() const {
    return "cannot update version table " + names_.version + " of " + describe();
}

DatabaseError SqlDatabase::heads_changed(const std::string& head) const {
    return DatabaseError(heads_context() + ": revision " + head +
                         " is no longer a current head; another migrator run may have changed "
                         "the database, so check it with `migrator current`");
}

std::string SqlDatabase::history_insert() const {
    return "INSERT INTO " + qualified_history_ + " (" + history_columns +
           ") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id";
}

std::vector<SqlValue> SqlDatabase::history_values(const HistoryRecord& record) const {
    return {record.revision,
            std::string(history_direction_name(record.direction)),
            stored_heads(record.heads_before),
            stored_heads(record.heads_after),
            record.started_at,
            record.duration_ms,
            std::int64_t{record.success ? 1 : 0},
            record.source_sha256,
            record.error,
            run_by_,
            run_host_,
            std::int64_t{record.dirty ? 1 : 0}};
}

void SqlDatabase::update_history(std::int64_t id, const HistoryRecord& record) {
    with_context("cannot write history table " + names_.history + " of " + describe(), [&] {
        run("UPDATE " + qualified_history_ +
                " SET heads_after = ?, duration_ms = ?, success = ?, error = ?, dirty = ?"
                " WHERE id = ?",
            {stored_heads(record.heads_after), record.duration_ms,
             std::int64_t{record.success ? 1 : 0}, record.error, std::int64_t{record.dirty ? 1 : 0},
             id});
    });
}

std::vector<HistoryRecord> SqlDatabase::read_history(bool dirty_only) {
    return with_context("cannot read history table " + names_.history + " of " + describe(), [&] {
        std::vector<HistoryRecord> records;
        if (!tables_ensured_ && !table_exists(names_.history)) return records;
        std::string filter;
        if (dirty_only) {
            // A table from a migrator without dirty tracking has no such column: never dirty.
            if (!tables_ensured_ && !has_column(qualified_history_, "dirty")) return records;
            filter = " WHERE dirty = 1";
        }
        // By column name, so that a table written by an older migrator (no dirty column) reads.
        fetch("SELECT * FROM " + qualified_history_ + filter + " ORDER BY id", {},
              [&](const std::vector<std::string>& columns,
                  const std::vector<std::optional<std::string>>& values) {
                  HistoryRecord record;
                  for (std::size_t i = 0; i < columns.size() && i < values.size(); ++i) {
                      const std::string& column = columns[i];
                      const std::string value = values[i].value_or("");
                      if (column == "id")
                          record.id = std::strtoll(value.c_str(), nullptr, 10);
                      else if (column == "revision")
                          record.revision = value;
                      else if (column == "direction")
                          record.direction = stored_direction(value, names_.history);
                      else if (column == "heads_before")
                          record.heads_before = heads_of_stored(value);
                      else if (column == "heads_after")
                          record.heads_after = heads_of_stored(value);
                      else if (column == "started_at")
                          record.started_at = value;
                      else if (column == "duration_ms")
                          record.duration_ms = std::strtod(value.c_str(), nullptr);
                      else if (column == "success")
                          record.success = value == "1";
                      else if (column == "source_sha256")
                          record.source_sha256 = value;
                      else if (column == "error")
                          record.error = value;
                      else if (column == "run_by")
                          record.run_by = value;
                      else if (column == "run_host")
                          record.run_host = value;
                      else if (column == "dirty")
                          record.dirty = value == "1";
                  }
                  records.push_back(std::move(record));
                  return true;
              });
        return records;
    });
}

std::string numbered_placeholders(const std::string& sql) {
    std::string out;
    out.reserve(sql.size() + 8);
    int next = 1;
    for (char c : sql) {
        if (c == '?')
            out += "$" + std::to_string(next++);
        else
            out += c;
    }
    return out;
}

void SqlDatabase::store_plugin(const StoredPlugin& plugin, const std::string& signatures_text) {
    with_context(
        "cannot store the plugin of revision " + plugin.revision + " in " + names_.plugins +
            " of " + describe(),
        [&] {
            if (!signatures_text.empty())
                run("INSERT INTO " + qualified_signed_ +
                        " (sha256, document) VALUES (?, ?) ON CONFLICT (sha256) DO NOTHING",
                    {plugin.signatures_sha256, signatures_text});
            // One statement (SQLite 3.24 and PostgreSQL 9.5 both upsert): one round trip a step.
            run("INSERT INTO " + qualified_plugins_ +
                    " (revision, file_name, size, file_sha256, signatures_sha256, release_name, "
                    "stored_at, image) VALUES (?, ?, ?, ?, NULLIF(?, ''), NULLIF(?, ''), ?, ?) ON "
                    "CONFLICT (revision) DO UPDATE SET file_name = excluded.file_name, size = "
                    "excluded.size, file_sha256 = excluded.file_sha256, signatures_sha256 = "
                    "excluded.signatures_sha256, release_name = excluded.release_name, stored_at "
                    "= excluded.stored_at, image = excluded.image",
                {plugin.revision, plugin.file_name, static_cast<std::int64_t>(plugin.image.size()),
                 plugin.file_sha256, plugin.signatures_sha256, plugin.release, plugin.stored_at,
                 SqlBytes{plugin.image}});
        });
}

std::size_t SqlDatabase::forget_stored_plugins(const std::vector<std::string>& revisions) {
    return with_context(
        "cannot remove stored plugins from " + names_.plugins + " of " + describe(), [&] {
            std::size_t removed = 0;
            if (!tables_ensured_ && !table_exists(names_.plugins)) return removed;
            for (const auto& revision : revisions)
                removed += static_cast<std::size_t>(
                    run("DELETE FROM " + qualified_plugins_ + " WHERE revision = ?", {revision}));
            if (removed > 0)
                run("DELETE FROM " + qualified_signed_ +
                        " WHERE sha256 NOT IN (SELECT signatures_sha256 FROM " +
                        qualified_plugins_ + " WHERE signatures_sha256 IS NOT NULL)",
                    {});
            return removed;
        });
}

std::vector<StoredPlugin> SqlDatabase::read_stored_plugins() {
    return with_context(
        "cannot read the stored plugins in " + names_.plugins + " of " + describe(), [&] {
            std::vector<StoredPlugin> plugins;
            if (!tables_ensured_ && !table_exists(names_.plugins)) return plugins;
            fetch(
                "SELECT revision, file_name, size, file_sha256, signatures_sha256, "
                "release_name, stored_at FROM " +
                    qualified_plugins_ + " ORDER BY revision",
                {},
                [&](const std::vector<std::string>&,
                    const std::vector<std::optional<std::string>>& values) {
                    StoredPlugin plugin;
                    plugin.revision = values.at(0).value_or("");
                    plugin.file_name = values.at(1).value_or("");
                    plugin.size = std::strtoull(values.at(2).value_or("0").c_str(), nullptr, 10);
                    plugin.file_sha256 = values.at(3).value_or("");
                    plugin.signatures_sha256 = values.at(4).value_or("");
                    plugin.release = values.at(5).value_or("");
                    plugin.stored_at = values.at(6).value_or("");
                    plugins.push_back(std::move(plugin));
                    return true;
                });
            return plugins;
        });
}

std::string SqlDatabase::read_stored_image(const std::string& revision) {
    return with_context(
        "cannot read the plugin of revision " + revision + " stored in " + names_.plugins + " of " +
            describe(),
        [&] {
            std::string image;
            if (!tables_ensured_ && !table_exists(names_.plugins)) return image;
            // As hexadecimal text: both backends hand every value over as text.
            const std::string hex =
                dialect() == "postgresql" ? "encode(image, 'hex')" : "hex(image)";
            fetch("SELECT " + hex + " FROM " + qualified_plugins_ + " WHERE revision = ?",
                  {revision},
                  [&](const std::vector<std::string>&,
                      const std::vector<std::optional<std::string>>& values) {
                      const std::string text = values.at(0).value_or("");
                      image.reserve(text.size() / 2);
                      for (std::size_t i = 0; i + 1 < text.size(); i += 2) {
                          const int high = hex_value(text[i]);
                          const int low = hex_value(text[i + 1]);
                          if (high < 0 || low < 0)
                              throw DatabaseError("the stored image is not hexadecimal");
                          image += static_cast<char>(high * 16 + low);
                      }
                      return false;
                  });
            return image;
        });
}

std::string SqlDatabase::read_stored_signatures(const std::string& sha256) {
    return with_context(
        "cannot read the stored signature files in " + names_.signed_files + " of " + describe(),
        [&] {
            std::string document;
            if (!tables_ensured_ && !table_exists(names_.signed_files)) return document;
            fetch("SELECT document FROM " + qualified_signed_ + " WHERE sha256 = ?", {sha256},
                  [&](const std::vector<std::string>&,
                      const std::vector<std::optional<std::string>>& values) {
                      document = values.at(0).value_or("");
                      return false;
                  });
            return document;
        });
}

std::string sql_text(const SqlValue& value) {
    if (const auto* text = std::get_if<std::string>(&value)) return *text;
    // PostgreSQL's bytea input: hex format.
    if (const auto* bytes = std::get_if<SqlBytes>(&value)) return "\\x" + hex_digits(bytes->bytes);
    if (const auto* integer = std::get_if<std::int64_t>(&value)) return std::to_string(*integer);
    // %.17g: a double read back is the same double.
    char buffer[32];
    std::snprintf(buffer, sizeof buffer, "%.17g", std::get<double>(value));
    return buffer;
}

std::string sql_literal(const SqlValue& value) {
    if (const auto* bytes = std::get_if<SqlBytes>(&value))
        return "X'" + hex_digits(bytes->bytes) + "'";
    if (!std::holds_alternative<std::string>(value)) return sql_text(value);
    return sql::quote_literal(std::get<std::string>(value));
}

}  // namespace migrator::detail
