// The host side of the portable operations: each decoded operation rendered for the dialect and
// run through a Context over the host's session; SQLite's table rebuilds (batch mode) live here.
#include <algorithm>
#include <migrator/schema/introspection.hpp>
#include <migrator/schema/schema_operations.hpp>
#include <stdexcept>
#include <utility>

namespace migrator {

SchemaOperations::SchemaOperations(Context& ctx)
    : ctx_(ctx), dialect_(sql::dialect_of(ctx.dialect())) {}

void SchemaOperations::run(const Operation& op) {
    using encoding::OperationCode;
    switch (op.code) {
        case OperationCode::create_table:
            return create_table(op.table_definition);
        case OperationCode::drop_table:
            return drop_table(op.table);
        case OperationCode::rename_table:
            return rename_table(op.table, op.new_name);
        case OperationCode::add_column:
            return add_column(op.table, op.column_definition);
        case OperationCode::drop_column:
            return drop_column(op.table, op.column);
        case OperationCode::rename_column:
            return rename_column(op.table, op.column, op.new_name);
        case OperationCode::alter_column:
            return alter_column(op.table, op.column, op.change);
        case OperationCode::create_index:
            return create_index(op.index);
        case OperationCode::drop_index:
            return drop_index(op.index_name);
        case OperationCode::create_unique_constraint:
            return create_unique_constraint(op.table, op.unique);
        case OperationCode::drop_unique_constraint:
            return drop_unique_constraint(op.table, op.unique);
        case OperationCode::create_foreign_key:
            return create_foreign_key(op.table, op.foreign_key);
        case OperationCode::drop_foreign_key:
            return drop_foreign_key(op.table, op.foreign_key);
        case OperationCode::create_enum:
            return create_enum(op.type);
        case OperationCode::drop_enum:
            return drop_enum(op.type.sql);
    }
    throw std::invalid_argument("migrator cannot run " + operation_name(op.code));
}

void SchemaOperations::create_enums_of(const std::vector<const schema::Type*>& types) {
    if (dialect_ != sql::Dialect::postgresql) return;
    std::vector<std::string> created;
    for (const auto* type : types) {
        if (type->kind != schema::TypeKind::enumeration) continue;
        if (std::find(created.begin(), created.end(), type->sql) != created.end()) continue;
        created.push_back(type->sql);
        ctx_.execute(sql::create_enum_sql(*type));
    }
}

void SchemaOperations::create_enum(const schema::Type& enumeration) {
    create_enums_of({&enumeration});
}

void SchemaOperations::drop_enum(const std::string& name) {
    if (dialect_ == sql::Dialect::postgresql) ctx_.execute(sql::drop_enum_sql(name));
}

void SchemaOperations::create_table(const schema::Table& table) {
    std::vector<const schema::Type*> types;
    for (const auto& column : table.columns) types.push_back(&column.type);
    create_enums_of(types);
    ctx_.execute(sql::create_table_sql(dialect_, table));
}

void SchemaOperations::drop_table(const std::string& table) {
    ctx_.execute(sql::drop_table_sql(table));
}

void SchemaOperations::rename_table(const std::string& from, const std::string& to) {
    ctx_.execute(sql::rename_table_sql(from, to));
}

void SchemaOperations::add_column(const std::string& table, const schema::Column& column) {
    create_enums_of({&column.type});
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

void SchemaOperations::drop_column(const std::string& table, const std::string& column) {
    if (dialect_ == sql::Dialect::postgresql) {
        ctx_.execute(sql::drop_column_sql(table, column));
        return;
    }
    rebuild(table, "drop column " + column + " from", [&](schema::Table& t) {
        const auto uses = [&](const std::vector<std::string>& columns) {
            return std::find(columns.begin(), columns.end(), column) != columns.end();
        };
        const auto before = t.columns.size();
        t.columns.erase(std::remove_if(t.columns.begin(), t.columns.end(),
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

void SchemaOperations::rename_column(const std::string& table, const std::string& from,
                                     const std::string& to) {
    ctx_.execute(sql::rename_column_sql(table, from, to));
}

void SchemaOperations::alter_column(const std::string& table, const std::string& column,
                                    const schema::ColumnChange& change) {
    if (!change.new_type && !change.new_nullable && !change.new_default) return;
    if (change.new_type) create_enums_of({&*change.new_type});
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

void SchemaOperations::create_index(const schema::Index& index) {
    ctx_.execute(sql::create_index_sql(index));
}

void SchemaOperations::drop_index(const std::string& name) {
    ctx_.execute(sql::drop_index_sql(name));
}

void SchemaOperations::create_unique_constraint(const std::string& table,
                                                const schema::UniqueConstraint& constraint) {
    if (dialect_ == sql::Dialect::postgresql) {
        ctx_.execute(sql::add_unique_constraint_sql(table, constraint));
        return;
    }
    rebuild(table, "add a unique constraint to",
            [&](schema::Table& t) { t.unique_constraints.push_back(constraint); });
}

void SchemaOperations::drop_unique_constraint(const std::string& table,
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

void SchemaOperations::create_foreign_key(const std::string& table, const schema::ForeignKey& key) {
    if (dialect_ == sql::Dialect::postgresql) {
        ctx_.execute(sql::add_foreign_key_sql(dialect_, table, key));
        return;
    }
    rebuild(table, "add a foreign key to",
            [&](schema::Table& t) { t.foreign_keys.push_back(key); });
}

void SchemaOperations::drop_foreign_key(const std::string& table, const schema::ForeignKey& key) {
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

/// The name an unnamed constraint has in the database, found by `pick` on the table.
std::string SchemaOperations::find_existing(const std::string& table, const char* what,
                                            const Pick& pick) {
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
std::vector<std::string> SchemaOperations::first_column(const std::string& sql) const {
    std::vector<std::string> values;
    for (const auto& row : ctx_.query(sql))
        values.push_back(row.values.empty() || !row.values[0] ? std::string() : *row.values[0]);
    return values;
}

/// CREATE INDEX / CREATE TRIGGER texts of a table, as sqlite_master keeps them.
std::vector<std::string> SchemaOperations::sqlite_schema_sql(
    const char* type, const std::string& table, const std::set<std::string>& skip) const {
    std::vector<std::string> statements;
    for (const auto& row : ctx_.query(std::string("SELECT name, sql FROM main.sqlite_master "
                                                  "WHERE type = '") +
                                      type + "' AND tbl_name = " + sql::quote_literal(table) +
                                      " COLLATE NOCASE AND sql IS NOT NULL ORDER BY name"))
        if (!skip.count(detail::text_of(row, "name")))
            statements.push_back(detail::text_of(row, "sql"));
    return statements;
}

/// Tables to re-create around a rebuild of `table`: those with a foreign key into it (or into
/// another of them) whose ON DELETE action SQLite would apply when it is dropped.
std::vector<sql::TableRebuild::Dependant> SchemaOperations::sqlite_dependants(
    const std::string& table) const {
    std::vector<std::pair<std::string, std::string>> edges;  // (child, parent), lower case
    for (const auto& row :
         ctx_.query("SELECT m.name AS child, f.\"table\" AS parent, f.on_delete FROM "
                    "main.sqlite_master "
                    "m JOIN pragma_foreign_key_list(m.name, 'main') f WHERE m.type = 'table'"))
        if (detail::normalised_action(detail::text_of(row, "on_delete")) != "")
            edges.emplace_back(detail::text_of(row, "child"),
                               detail::lower_ascii(detail::text_of(row, "parent")));
    const bool has_sequences =
        !first_column("SELECT 1 FROM main.sqlite_master WHERE name = 'sqlite_sequence'").empty();
    std::vector<sql::TableRebuild::Dependant> dependants;
    std::set<std::string> members{detail::lower_ascii(table)};
    for (std::size_t next = 0;; ++next) {
        const std::string parent =
            next == 0 ? detail::lower_ascii(table) : detail::lower_ascii(dependants[next - 1].name);
        for (const auto& [child, to] : edges) {
            if (to != parent || !members.insert(detail::lower_ascii(child)).second) continue;
            sql::TableRebuild::Dependant dependant;
            dependant.name = child;
            const std::string literal = sql::quote_literal(child);
            dependant.create_sql =
                first_column("SELECT sql FROM main.sqlite_master WHERE type = 'table' AND name = " +
                             literal)
                    .at(0);
            dependant.columns = first_column("SELECT name FROM pragma_table_info(" + literal +
                                             ", 'main') ORDER BY cid");
            dependant.index_sql = sqlite_schema_sql("index", child);
            dependant.trigger_sql = sqlite_schema_sql("trigger", child);
            if (has_sequences) {
                const auto seq =
                    first_column("SELECT seq FROM main.sqlite_sequence WHERE name = " + literal);
                if (!seq.empty()) dependant.sequence = seq.front();
            }
            dependants.push_back(std::move(dependant));
        }
        if (next == dependants.size()) break;
    }
    return dependants;
}

/// Alembic's batch mode for SQLite: reads the table, lets `change` edit its definition, and
/// rebuilds it in the revision's transaction with its rows, indexes, triggers and foreign keys
/// (its own and those of other tables into it). `operation` reads "<operation> table t".
void SchemaOperations::rebuild(const std::string& table, const std::string& operation,
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
        throw SqlError("cannot " + operation + " table " + current->name +
                       ": SQLite needs a table rebuild for it, and the table's definition uses " +
                       lost + ", which the rebuild cannot carry over; use ctx.execute instead");

    sql::TableRebuild plan;
    plan.table = *current;
    change(plan.table);
    for (const auto& column : current->columns) plan.old_columns.push_back(column.name);
    // An index on a column that is gone goes with it, as on PostgreSQL.
    std::set<std::string> gone_indexes;
    for (const auto& index : reflect_indexes(ctx_, current->name))
        for (const auto& column : index.columns)
            if (!column.empty() && !plan.table.find_column(column)) gone_indexes.insert(index.name);
    plan.index_sql = sqlite_schema_sql("index", current->name, gone_indexes);
    plan.trigger_sql = sqlite_schema_sql("trigger", current->name);
    plan.dependants = sqlite_dependants(current->name);

    // A savepoint nests in the revision's transaction, and makes the rebuild one transaction of
    // its own in a non-transactional revision, where the deferred keys are checked at its
    // RELEASE instead of after each statement.
    ctx_.execute("SAVEPOINT migrator_rebuild");
    try {
        const std::string deferred = first_column("PRAGMA defer_foreign_keys").at(0);
        ctx_.execute("PRAGMA defer_foreign_keys = ON");
        for (const auto& statement : sql::sqlite_rebuild_sql(plan)) ctx_.execute(statement);
        ctx_.execute("PRAGMA defer_foreign_keys = " + std::string(deferred == "1" ? "ON" : "OFF"));
        check_foreign_keys(current->name, operation);
        ctx_.execute("RELEASE migrator_rebuild");
    } catch (...) {
        undo_rebuild();
        throw;
    }
}

/// A new key the rows do not satisfy would only fail the COMMIT, without a word of where.
void SchemaOperations::check_foreign_keys(const std::string& table,
                                          const std::string& operation) const {
    if (first_column("PRAGMA foreign_keys").at(0) != "1") return;
    const auto violations =
        ctx_.query("PRAGMA main.foreign_key_check(" + sql::quote_identifier(table) + ")");
    if (violations.empty()) return;
    throw SqlError("cannot " + operation + " table " + table + ": row " +
                   detail::text_of(violations.front(), "rowid") + " has no matching row in table " +
                   detail::text_of(violations.front(), "parent") + " (" +
                   std::to_string(violations.size()) + " rows violate its foreign keys)");
}

/// Rolls a failed rebuild back to its savepoint. Runs while an error is on its way out, so it
/// must not replace it: if SQLite already rolled the whole transaction back, there is no savepoint
/// left, that statement fails, and the first error is the one to report.
void SchemaOperations::undo_rebuild() const noexcept {
    try {
        ctx_.execute("ROLLBACK TO migrator_rebuild");
        ctx_.execute("RELEASE migrator_rebuild");
    } catch (const std::exception&) {
        // Nothing left to undo here; the caller rethrows the rebuild's own error.
    }
}

}  // namespace migrator
