// migrator portable schema operations (Alembic's `op`): each one rendered for the dialect the host
// reports at run time and run through the revision's Context, so offline --sql prints it too.
// Header-only; where SQLite cannot alter a table in place, the table is rebuilt (batch mode).
#ifndef MIGRATOR_OPERATIONS_HPP
#define MIGRATOR_OPERATIONS_HPP

#include <algorithm>
#include <functional>
#include <migrator/introspection.hpp>
#include <migrator/revision.hpp>
#include <migrator/schema.hpp>
#include <migrator/sql.hpp>
#include <set>
#include <string>
#include <utility>
#include <vector>

namespace migrator {

/// The portable operations, bound to one Context (Alembic's `op`). Every method throws SqlError
/// with the database's message, std::invalid_argument for a definition the dialect cannot have,
/// and OfflineQueryError for a SQLite table rebuild in an offline run (a rebuild must read the
/// table); every other operation only writes SQL through ctx.execute, so `--sql` shows it.
class Operations {
public:
    /// Throws std::invalid_argument if the context's dialect is neither sqlite nor postgresql.
    explicit Operations(Context& ctx) : ctx_(ctx), dialect_(sql::dialect_of(ctx.dialect())) {}

    /// CREATE TABLE with columns, primary key, unique constraints and foreign keys.
    void create_table(const schema::Table& table) {
        ctx_.execute(sql::create_table_sql(dialect_, table));
    }
    void drop_table(const std::string& table) { ctx_.execute(sql::drop_table_sql(table)); }
    void rename_table(const std::string& from, const std::string& to) {
        ctx_.execute(sql::rename_table_sql(from, to));
    }

    /// ADD COLUMN; SQLite rebuilds the table for a column ADD COLUMN refuses (autoincrement, NOT
    /// NULL without a default, a CURRENT_* or parenthesised default). An autoincrement column
    /// becomes the primary key of a SQLite table that has none.
    void add_column(const std::string& table, const schema::Column& column) {
        if (dialect_ == sql::Dialect::postgresql || sql::sqlite_adds_in_place(column)) {
            ctx_.execute(sql::add_column_sql(dialect_, table, column));
            return;
        }
        rebuild(table, "add column " + column.name + " to", [&](schema::Table& t) {
            if (t.find_column(column.name))
                throw SqlError("table " + t.name + " already has a column " + column.name);
            if (column.autoincrement) {
                if (!t.primary_key_columns.empty())
                    throw std::invalid_argument(
                        "SQLite autoincrements only a table's whole "
                        "primary key, and table " +
                        t.name + " has one already");
                t.primary_key_columns = {column.name};
            }
            t.columns.push_back(column);
        });
    }

    /// DROP COLUMN, with the indexes, unique constraints and foreign keys of the table that use
    /// the column (PostgreSQL drops them too; SQLite rebuilds the table without them).
    void drop_column(const std::string& table, const std::string& column) {
        if (dialect_ == sql::Dialect::postgresql) {
            ctx_.execute(sql::drop_column_sql(table, column));
            return;
        }
        rebuild(table, "drop column " + column + " from", [&](schema::Table& t) {
            const auto uses = [&](const std::vector<std::string>& columns) {
                return std::find(columns.begin(), columns.end(), column) != columns.end();
            };
            const auto before = t.columns.size();
            t.columns.erase(
                std::remove_if(t.columns.begin(), t.columns.end(),
                               [&](const schema::Column& c) { return c.name == column; }),
                t.columns.end());
            if (t.columns.size() == before)
                throw SqlError("table " + t.name + " has no column " + column);
            if (uses(t.primary_key_columns)) t.primary_key_columns.clear();
            t.unique_constraints.erase(
                std::remove_if(t.unique_constraints.begin(), t.unique_constraints.end(),
                               [&](const schema::UniqueConstraint& u) { return uses(u.columns); }),
                t.unique_constraints.end());
            t.foreign_keys.erase(
                std::remove_if(t.foreign_keys.begin(), t.foreign_keys.end(),
                               [&](const schema::ForeignKey& k) { return uses(k.columns); }),
                t.foreign_keys.end());
        });
    }

    /// RENAME COLUMN on both dialects (SQLite 3.25+ renames it in indexes and keys as well).
    void rename_column(const std::string& table, const std::string& from, const std::string& to) {
        ctx_.execute(sql::rename_column_sql(table, from, to));
    }

    /// Changes a column's type, nullability and/or default; parts left unset stay. PostgreSQL
    /// converts the values with USING column::type; SQLite rebuilds the table, converting them
    /// by the new type's affinity. A change that changes nothing runs nothing.
    void alter_column(const std::string& table, const std::string& column,
                      const schema::ColumnChange& change) {
        if (!change.new_type && !change.new_nullable && !change.new_default) return;
        if (dialect_ == sql::Dialect::postgresql) {
            ctx_.execute(sql::alter_column_sql(dialect_, table, column, change));
            return;
        }
        rebuild(table, "alter column " + column + " of", [&](schema::Table& t) {
            auto found = std::find_if(t.columns.begin(), t.columns.end(),
                                      [&](const schema::Column& c) { return c.name == column; });
            if (found == t.columns.end())
                throw SqlError("table " + t.name + " has no column " + column);
            if (change.new_type) found->type = *change.new_type;
            if (change.new_nullable) found->nullable = *change.new_nullable;
            if (change.new_default) found->default_sql = *change.new_default;
        });
    }

    /// CREATE [UNIQUE] INDEX on one or more columns.
    void create_index(const schema::Index& index) { ctx_.execute(sql::create_index_sql(index)); }
    /// DROP INDEX; `table` names the table the index is on.
    void drop_index(const std::string& table, const std::string& name) {
        (void)table;
        ctx_.execute(sql::drop_index_sql(name));
    }

    /// ADD UNIQUE (PostgreSQL); SQLite rebuilds the table with the constraint.
    void create_unique_constraint(const std::string& table,
                                  const schema::UniqueConstraint& constraint) {
        if (dialect_ == sql::Dialect::postgresql) {
            ctx_.execute(sql::add_unique_constraint_sql(table, constraint));
            return;
        }
        rebuild(table, "add a unique constraint to",
                [&](schema::Table& t) { t.unique_constraints.push_back(constraint); });
    }

    /// DROP CONSTRAINT by name on PostgreSQL (a constraint without a name is looked up by its
    /// columns, online only); SQLite, which keeps no names, rebuilds the table without the
    /// constraint on the same columns.
    void drop_unique_constraint(const std::string& table,
                                const schema::UniqueConstraint& constraint) {
        if (dialect_ == sql::Dialect::postgresql) {
            std::string name = constraint.name;
            if (name.empty())
                name = find_existing(table, "unique constraint", [&](const schema::Table& t) {
                    for (const auto& u : t.unique_constraints)
                        if (u.columns == constraint.columns) return u.name;
                    return std::string();
                });
            ctx_.execute(sql::drop_constraint_sql(table, name));
            return;
        }
        rebuild(table, "drop a unique constraint from", [&](schema::Table& t) {
            auto& list = t.unique_constraints;
            const auto found = std::find_if(
                list.begin(), list.end(),
                [&](const schema::UniqueConstraint& u) { return u.columns == constraint.columns; });
            if (found == list.end())
                throw SqlError("table " + t.name + " has no unique constraint on (" +
                               sql::quote_list(constraint.columns) + ")");
            list.erase(found);
        });
    }

    /// ADD FOREIGN KEY (PostgreSQL); SQLite rebuilds the table with the key.
    void create_foreign_key(const std::string& table, const schema::ForeignKey& key) {
        if (dialect_ == sql::Dialect::postgresql) {
            ctx_.execute(sql::add_foreign_key_sql(dialect_, table, key));
            return;
        }
        rebuild(table, "add a foreign key to",
                [&](schema::Table& t) { t.foreign_keys.push_back(key); });
    }

    /// DROP CONSTRAINT by name on PostgreSQL (a key without a name is looked up by its columns
    /// and referred table, online only); SQLite rebuilds the table without the key on the same
    /// columns into the same table.
    void drop_foreign_key(const std::string& table, const schema::ForeignKey& key) {
        const auto same = [&](const schema::ForeignKey& k) {
            return k.columns == key.columns &&
                   detail::lower_ascii(k.referred_table) == detail::lower_ascii(key.referred_table);
        };
        if (dialect_ == sql::Dialect::postgresql) {
            std::string name = key.name;
            if (name.empty())
                name = find_existing(table, "foreign key", [&](const schema::Table& t) {
                    for (const auto& k : t.foreign_keys)
                        if (same(k)) return k.name;
                    return std::string();
                });
            ctx_.execute(sql::drop_constraint_sql(table, name));
            return;
        }
        rebuild(table, "drop a foreign key from", [&](schema::Table& t) {
            auto& list = t.foreign_keys;
            const auto found = std::find_if(list.begin(), list.end(), same);
            if (found == list.end())
                throw SqlError("table " + t.name + " has no foreign key (" +
                               sql::quote_list(key.columns) + ") into " + key.referred_table);
            list.erase(found);
        });
    }

    /// Raw SQL, the escape hatch: runs as written, on every dialect.
    void execute(const std::string& sql) { ctx_.execute(sql); }

private:
    /// The name an unnamed constraint has in the database, found by `pick` on the table.
    template <typename Pick>
    std::string find_existing(const std::string& table, const char* what, Pick&& pick) {
        if (ctx_.offline())
            throw std::invalid_argument(
                std::string("dropping a ") + what + " of table " + table +
                " offline (--sql) needs its name: PostgreSQL drops constraints by name, and an "
                "offline run cannot look it up");
        const auto found = reflect_table(ctx_, table);
        if (!found) throw SqlError("there is no table " + table);
        std::string name = pick(*found);
        if (name.empty()) throw SqlError(std::string("table ") + table + " has no such " + what);
        return name;
    }

    /// Rows of `sql` as the values of their first column, NULL as "".
    std::vector<std::string> first_column(const std::string& sql) const {
        std::vector<std::string> values;
        for (const auto& row : ctx_.query(sql))
            values.push_back(row.values.empty() || !row.values[0] ? std::string() : *row.values[0]);
        return values;
    }

    /// CREATE INDEX / CREATE TRIGGER texts of a table, as sqlite_master keeps them.
    std::vector<std::string> sqlite_schema_sql(const char* type, const std::string& table,
                                               const std::set<std::string>& skip = {}) const {
        std::vector<std::string> statements;
        for (const auto& row : ctx_.query(std::string("SELECT name, sql FROM main.sqlite_master "
                                                      "WHERE type = '") +
                                          type + "' AND tbl_name = " + sql::quote_literal(table) +
                                          " COLLATE NOCASE AND sql IS NOT NULL ORDER BY name"))
            if (!skip.count(detail::text_of(row, "name")))
                statements.push_back(detail::text_of(row, "sql"));
        return statements;
    }

    /// Tables to re-create around a rebuild of `table`: those with a foreign key into it (or
    /// into another of them) whose ON DELETE action SQLite would apply when it is dropped.
    std::vector<sql::TableRebuild::Dependant> sqlite_dependants(const std::string& table) const {
        std::vector<std::pair<std::string, std::string>> edges;  // (child, parent), lower case
        for (const auto& row :
             ctx_.query("SELECT m.name AS child, f.\"table\" AS parent, f.on_delete FROM "
                        "main.sqlite_master "
                        "m JOIN pragma_foreign_key_list(m.name, 'main') f WHERE m.type = 'table'"))
            if (detail::normalised_action(detail::text_of(row, "on_delete")) != "")
                edges.emplace_back(detail::text_of(row, "child"),
                                   detail::lower_ascii(detail::text_of(row, "parent")));
        const bool has_sequences =
            !first_column("SELECT 1 FROM main.sqlite_master WHERE name = 'sqlite_sequence'")
                 .empty();
        std::vector<sql::TableRebuild::Dependant> dependants;
        std::set<std::string> members{detail::lower_ascii(table)};
        for (std::size_t next = 0;; ++next) {
            const std::string parent = next == 0 ? detail::lower_ascii(table)
                                                 : detail::lower_ascii(dependants[next - 1].name);
            for (const auto& [child, to] : edges) {
                if (to != parent || !members.insert(detail::lower_ascii(child)).second) continue;
                sql::TableRebuild::Dependant dependant;
                dependant.name = child;
                const std::string literal = sql::quote_literal(child);
                dependant.create_sql =
                    first_column(
                        "SELECT sql FROM main.sqlite_master WHERE type = 'table' AND name = " +
                        literal)
                        .at(0);
                dependant.columns = first_column("SELECT name FROM pragma_table_info(" + literal +
                                                 ", 'main') ORDER BY cid");
                dependant.index_sql = sqlite_schema_sql("index", child);
                dependant.trigger_sql = sqlite_schema_sql("trigger", child);
                if (has_sequences) {
                    const auto seq = first_column(
                        "SELECT seq FROM main.sqlite_sequence WHERE name = " + literal);
                    if (!seq.empty()) dependant.sequence = seq.front();
                }
                dependants.push_back(std::move(dependant));
            }
            if (next == dependants.size()) break;
        }
        return dependants;
    }

    /// Alembic's batch mode for SQLite: reads the table, lets `change` edit its definition, and
    /// rebuilds it in the revision's transaction with its rows, indexes, triggers and foreign
    /// keys (its own and those of other tables into it). `operation` reads "<operation> table t".
    void rebuild(const std::string& table, const std::string& operation,
                 const std::function<void(schema::Table&)>& change) {
        if (ctx_.offline())
            throw OfflineQueryError("SQLite cannot " + operation + " table " + table +
                                    " in place, and the table rebuild that does it must read the "
                                    "table, which an offline run (--sql) cannot: run this revision "
                                    "against the database instead");
        const auto current = reflect_table(ctx_, table);
        if (!current)
            throw SqlError("cannot " + operation + " table " + table + ": there is no such table");
        const std::string create_sql =
            first_column("SELECT sql FROM main.sqlite_master WHERE type = 'table' AND name = " +
                         sql::quote_literal(current->name))
                .at(0);
        const std::string lost = sql::sqlite_feature_lost_in_rebuild(create_sql);
        if (!lost.empty())
            throw SqlError(
                "cannot " + operation + " table " + current->name +
                ": SQLite needs a table rebuild for it, and the table's definition uses " + lost +
                ", which the rebuild cannot carry over; use ctx.execute instead");

        sql::TableRebuild plan;
        plan.table = *current;
        change(plan.table);
        for (const auto& column : current->columns) plan.old_columns.push_back(column.name);
        // An index on a column that is gone goes with it, as on PostgreSQL.
        std::set<std::string> gone_indexes;
        for (const auto& index : reflect_indexes(ctx_, current->name))
            for (const auto& column : index.columns)
                if (!column.empty() && !plan.table.find_column(column))
                    gone_indexes.insert(index.name);
        plan.index_sql = sqlite_schema_sql("index", current->name, gone_indexes);
        plan.trigger_sql = sqlite_schema_sql("trigger", current->name);
        plan.dependants = sqlite_dependants(current->name);

        // A savepoint nests in the revision's transaction, and makes the rebuild one transaction
        // of its own in a non-transactional revision, where the deferred keys are checked at
        // its RELEASE instead of after each statement.
        ctx_.execute("SAVEPOINT migrator_rebuild");
        try {
            const std::string deferred = first_column("PRAGMA defer_foreign_keys").at(0);
            ctx_.execute("PRAGMA defer_foreign_keys = ON");
            for (const auto& statement : sql::sqlite_rebuild_sql(plan)) ctx_.execute(statement);
            ctx_.execute("PRAGMA defer_foreign_keys = " +
                         std::string(deferred == "1" ? "ON" : "OFF"));
            check_foreign_keys(current->name, operation);
            ctx_.execute("RELEASE migrator_rebuild");
        } catch (...) {
            undo_rebuild();
            throw;
        }
    }

    /// A new key the rows do not satisfy would only fail the COMMIT, without a word of where.
    void check_foreign_keys(const std::string& table, const std::string& operation) const {
        if (first_column("PRAGMA foreign_keys").at(0) != "1") return;
        const auto violations =
            ctx_.query("PRAGMA main.foreign_key_check(" + sql::quote_identifier(table) + ")");
        if (violations.empty()) return;
        throw SqlError("cannot " + operation + " table " + table + ": row " +
                       detail::text_of(violations.front(), "rowid") +
                       " has no matching row in table " +
                       detail::text_of(violations.front(), "parent") + " (" +
                       std::to_string(violations.size()) + " rows violate its foreign keys)");
    }

    /// Rolls a failed rebuild back to its savepoint. Runs while an error is on its way out, so
    /// it must not replace it: if SQLite already rolled the whole transaction back, there is no
    /// savepoint left, that statement fails, and the first error is the one to report.
    void undo_rebuild() const noexcept {
        try {
            ctx_.execute("ROLLBACK TO migrator_rebuild");
            ctx_.execute("RELEASE migrator_rebuild");
        } catch (const std::exception&) {
            // Nothing left to undo here; the caller rethrows the rebuild's own error.
        }
    }

    Context& ctx_;
    sql::Dialect dialect_;
};

}  // namespace migrator

#endif  // MIGRATOR_OPERATIONS_HPP
