// Autogenerate's code generation: one operation per detected change in upgrade(), the inverse
// operations in reverse order in downgrade(), and the review comment at the top of the file.
#include "migration_code.hpp"

#include <cstdio>
#include <map>
#include <migrator/common/errors.hpp>
#include <migrator/common/text.hpp>
#include <set>
#include <sstream>

namespace migrator::scaffold {
namespace {

using schema::Column;
using schema::ForeignKey;
using schema::Index;
using schema::Table;
using schema::Type;
using schema::TypeKind;
using schema::UniqueConstraint;
using Kind = SchemaChange::Kind;

/// Generated lines stay within this many columns where a break is possible.
constexpr std::size_t line_limit = 100;

// ---------------------------------------------------------------------------------------------
// C++ expressions that build schema values (read under `using namespace migrator::schema;`)

std::string string_list(const std::vector<std::string>& items) {
    std::string list = "{";
    for (std::size_t i = 0; i < items.size(); ++i)
        list += (i == 0 ? "" : ", ") + cpp_string_literal(items[i]);
    return list + "}";
}

/// The TypeKind enumerator's name (also the name of its factory in Type), in enum order.
constexpr const char* type_kind_names[] = {
    "integer", "big_integer",  "text",      "varchar",     "boolean", "real", "double_precision",
    "numeric", "date",         "timestamp", "blob",        "json",    "raw",  "small_integer",
    "time",    "timestamp_tz", "uuid",      "enumeration",
};
static_assert(sizeof type_kind_names / sizeof *type_kind_names ==
                  static_cast<std::size_t>(TypeKind::enumeration) + 1,
              "one name per TypeKind");

std::string type_expression(const Type& type) {
    const bool no_length = type.length == 0;
    const bool no_precision = type.precision == 0 && type.scale == 0;
    const std::string name = type_kind_names[static_cast<std::size_t>(type.kind)];
    if (type.kind == TypeKind::raw && no_length && no_precision)
        return "Type::raw(" + cpp_string_literal(type.sql) + ")";
    if (type.kind == TypeKind::enumeration)
        return "Type::enumeration(" + cpp_string_literal(type.sql) + ", " +
               string_list(type.values) + ")";
    if (type.sql.empty()) {
        if (type.kind == TypeKind::varchar && type.length > 0 && no_precision)
            return "Type::varchar(" + std::to_string(type.length) + ")";
        if (type.kind == TypeKind::numeric && no_length && type.precision > 0)
            return "Type::numeric(" + std::to_string(type.precision) + ", " +
                   std::to_string(type.scale) + ")";
        if (no_length && no_precision && type.kind != TypeKind::varchar &&
            type.kind != TypeKind::numeric)
            return "Type::" + name + "()";
    }
    // Whatever the factories do not spell (a varchar without a length, say): the general form.
    std::string expression = "Type::of(TypeKind::" + name;
    if (!no_length || !no_precision) expression += ", " + std::to_string(type.length);
    if (!no_precision)
        expression += ", " + std::to_string(type.precision) + ", " + std::to_string(type.scale);
    return expression + ")";
}

std::string column_expression(const Column& column) {
    std::string expression =
        "Column(" + cpp_string_literal(column.name) + ", " + type_expression(column.type) + ")";
    if (!column.nullable) expression += ".not_null()";
    if (column.default_sql)
        expression += ".default_value(" + cpp_string_literal(*column.default_sql) + ")";
    if (column.autoincrement) expression += ".auto_increment()";
    return expression;
}

std::string unique_expression(const UniqueConstraint& unique) {
    return "UniqueConstraint::make(" + cpp_string_literal(unique.name) + ", " +
           string_list(unique.columns) + ")";
}

/// ForeignKey::make(name, columns, referred table, referred columns[, ON DELETE[, ON UPDATE]]).
std::string foreign_key_expression(const ForeignKey& key) {
    std::string expression =
        "ForeignKey::make(" + cpp_string_literal(key.name) + ", " + string_list(key.columns) +
        ", " + cpp_string_literal(key.referred_table) + ", " + string_list(key.referred_columns);
    if (!key.on_delete.empty() || !key.on_update.empty())
        expression += ", " + cpp_string_literal(key.on_delete);
    if (!key.on_update.empty()) expression += ", " + cpp_string_literal(key.on_update);
    return expression + ")";
}

std::string index_expression(const Index& index) {
    return "Index(" + cpp_string_literal(index.name) + ", " + cpp_string_literal(index.table) +
           ", " + string_list(index.columns) + ")" + (index.unique ? ".make_unique()" : "");
}

/// Table("name") and one builder call per line below it, `indent` spaces in.
std::string table_expression(const Table& table, std::size_t indent) {
    const std::string next_line = "\n" + std::string(indent + 4, ' ');
    std::string expression = "Table(" + cpp_string_literal(table.name) + ")";
    for (const auto& column : table.columns)
        expression += next_line + ".column(" + column_expression(column) + ")";
    if (!table.primary_key_columns.empty())
        expression += next_line + ".primary_key(" + string_list(table.primary_key_columns) + ")";
    for (const auto& unique : table.unique_constraints)
        expression += next_line + ".unique(" + unique_expression(unique) + ")";
    for (const auto& key : table.foreign_keys)
        expression += next_line + ".foreign_key(" + foreign_key_expression(key) + ")";
    return expression;
}

/// The ColumnChange that makes column `from` into `to`: only the parts that differ; empty when
/// nothing alter_column can change differs.
std::string column_change_expression(const Column& from, const Column& to) {
    std::string parts;
    if (from.type != to.type) parts += ".type(" + type_expression(to.type) + ")";
    if (from.nullable != to.nullable)
        parts += std::string(".nullable(") + (to.nullable ? "true" : "false") + ")";
    if (from.default_sql != to.default_sql)
        parts += to.default_sql ? ".default_value(" + cpp_string_literal(*to.default_sql) + ")"
                                : ".drop_default()";
    return parts.empty() ? "" : "ColumnChange()" + parts;
}

// ---------------------------------------------------------------------------------------------
// Statements

/// `op.<operation>(arguments...);`, indented by four; when that is too long, the last argument
/// goes on a line of its own, aligned after the parenthesis.
std::string statement(const std::string& operation, const std::vector<std::string>& arguments) {
    const std::string opening = "    op." + operation + "(";
    std::string leading;
    for (std::size_t i = 0; i + 1 < arguments.size(); ++i) leading += arguments[i] + ", ";
    const std::string last = arguments.empty() ? "" : arguments.back();
    const std::string line = opening + leading + last + ");\n";
    if (line.size() <= line_limit + 1 || leading.empty()) return line;
    leading.pop_back();  // the space after the last comma
    return opening + leading + "\n" + std::string(opening.size(), ' ') + last + ");\n";
}

std::string create_table_statement(const Table& table) {
    return "    op.create_table(\n        " + table_expression(table, 8) + ");\n";
}

/// Text for a `//` comment: one line, and never ending in a backslash (which would continue the
/// comment onto the next line of code).
std::string comment_safe(std::string text) {
    for (char& c : text)
        if (c == '\n' || c == '\r' || c == '\t' || c == '\v' || c == '\f') c = ' ';
    while (!text.empty() && text.back() == ' ') text.pop_back();
    if (!text.empty() && text.back() == '\\') text += '.';
    return text;
}

/// "(a, b)", or "(none)".
std::string key_text(const std::vector<std::string>& columns) {
    return "(" + (columns.empty() ? std::string("none") : join(columns)) + ")";
}

template <typename T>
const T& need(const std::optional<T>& value, const SchemaChange& change, const char* what) {
    if (!value)
        throw Error(std::string("autogenerate cannot write code for a change ") +
                    kind_name(change.kind) + " of table " + change.table + ": it carries no " +
                    what);
    return *value;
}

/// The table a change is about, from the change or from what it carries.
std::string table_of(const SchemaChange& change) {
    if (!change.table.empty()) return change.table;
    if (change.new_table) return change.new_table->name;
    if (change.old_table) return change.old_table->name;
    if (change.new_index) return change.new_index->table;
    if (change.old_index) return change.old_index->table;
    return "";
}

struct Step {
    std::string upgrade;
    std::string downgrade;
};

/// The step of a change that creates something (`create`, undone by `drop`), or of one that
/// drops it (the other way round).
Step either_way(bool creates, std::string create, std::string drop) {
    return creates ? Step{std::move(create), std::move(drop)}
                   : Step{std::move(drop), std::move(create)};
}

/// The operation that applies `change`, and the one that undoes it.
Step step_for(const SchemaChange& change) {
    const std::string table = cpp_string_literal(table_of(change));
    switch (change.kind) {
        case Kind::add_table:
        case Kind::drop_table: {
            const bool creates = change.kind == Kind::add_table;
            const Table& subject = creates ? need(change.new_table, change, "new table")
                                           : need(change.old_table, change, "old table");
            return either_way(creates, create_table_statement(subject),
                              statement("drop_table", {cpp_string_literal(subject.name)}));
        }
        case Kind::add_column:
        case Kind::drop_column: {
            const bool creates = change.kind == Kind::add_column;
            const Column& subject = creates ? need(change.new_column, change, "new column")
                                            : need(change.old_column, change, "old column");
            return either_way(creates, statement("add_column", {table, column_expression(subject)}),
                              statement("drop_column", {table, cpp_string_literal(subject.name)}));
        }
        case Kind::alter_column: {
            const Column& from = need(change.old_column, change, "old column");
            const Column& to = need(change.new_column, change, "new column");
            const std::string forward = column_change_expression(from, to);
            const std::string back = column_change_expression(to, from);
            if (forward.empty()) {
                // Only what alter_column cannot change differs (autoincrement): say so in place.
                const std::string note = "    // " + table_of(change) + "." + to.name +
                                         ": autoincrement differs; alter_column cannot change "
                                         "it: write this step by hand\n";
                return {note, note};
            }
            const std::string column = cpp_string_literal(to.name);
            return {statement("alter_column", {table, column, forward}),
                    statement("alter_column", {table, column, back})};
        }
        case Kind::add_index:
        case Kind::drop_index: {
            const bool creates = change.kind == Kind::add_index;
            const Index& subject = creates ? need(change.new_index, change, "new index")
                                           : need(change.old_index, change, "old index");
            const std::string on = subject.table.empty() ? table_of(change) : subject.table;
            return either_way(creates, statement("create_index", {index_expression(subject)}),
                              statement("drop_index", {cpp_string_literal(on),
                                                       cpp_string_literal(subject.name)}));
        }
        case Kind::add_unique_constraint:
        case Kind::drop_unique_constraint: {
            const bool creates = change.kind == Kind::add_unique_constraint;
            const std::string unique = unique_expression(
                creates ? need(change.new_unique, change, "new unique constraint")
                        : need(change.old_unique, change, "old unique constraint"));
            return either_way(creates, statement("create_unique_constraint", {table, unique}),
                              statement("drop_unique_constraint", {table, unique}));
        }
        case Kind::add_foreign_key:
        case Kind::drop_foreign_key: {
            const bool creates = change.kind == Kind::add_foreign_key;
            const std::string key = foreign_key_expression(
                creates ? need(change.new_foreign_key, change, "new foreign key")
                        : need(change.old_foreign_key, change, "old foreign key"));
            return either_way(creates, statement("create_foreign_key", {table, key}),
                              statement("drop_foreign_key", {table, key}));
        }
        case Kind::alter_primary_key: {
            // No portable operation changes a primary key: leave the step to the author, in place.
            const auto& from = need(change.old_table, change, "old table").primary_key_columns;
            const auto& to = need(change.new_table, change, "new table").primary_key_columns;
            const auto note = [&](const std::vector<std::string>& a,
                                  const std::vector<std::string>& b) {
                return "    // " + comment_safe(table_of(change)) + ": primary key " +
                       comment_safe(key_text(a)) + " -> " + comment_safe(key_text(b)) +
                       "; no portable operation changes it: write this step by hand\n";
            };
            return {note(from, to), note(to, from)};
        }
    }
    throw Error(std::string("autogenerate cannot write code for a change ") +
                kind_name(change.kind) + " of table " + change.table);
}

// ---------------------------------------------------------------------------------------------
// The review comment

/// `text` as `//` lines of at most line_limit columns (a word longer than that stands alone):
/// the first line starts with `first`, the others with `rest`.
std::string comment_paragraph(const std::string& text, const std::string& first,
                              const std::string& rest) {
    std::istringstream words(comment_safe(text));
    std::string out;
    std::string line = "//" + first;
    bool empty_line = true;
    for (std::string word; words >> word;) {
        if (!empty_line && line.size() + 1 + word.size() > line_limit) {
            out += line + "\n";
            line = "//" + rest;
            empty_line = true;
        }
        line += (empty_line ? "" : " ") + word;
        empty_line = false;
    }
    return out + comment_safe(line) + "\n";
}

std::string names(const std::vector<std::string>& items) {
    std::string list;
    for (std::size_t i = 0; i < items.size(); ++i)
        list += (i == 0 ? "" : i + 1 == items.size() ? " and " : ", ") + items[i];
    return list;
}

/// A rename looks like a drop and an add: where both happen to tables, or to the columns of one
/// table, say which operation keeps the data.
void rename_warnings(const std::vector<SchemaChange>& changes, std::vector<std::string>& warnings) {
    std::vector<std::string> dropped_tables;
    std::vector<std::string> added_tables;
    std::map<std::string, std::pair<std::vector<std::string>, std::vector<std::string>>> columns;
    for (const auto& change : changes) {
        if (change.kind == Kind::drop_table && change.old_table)
            dropped_tables.push_back(change.old_table->name);
        if (change.kind == Kind::add_table && change.new_table)
            added_tables.push_back(change.new_table->name);
        if (change.kind == Kind::drop_column && change.old_column)
            columns[table_of(change)].first.push_back(change.old_column->name);
        if (change.kind == Kind::add_column && change.new_column)
            columns[table_of(change)].second.push_back(change.new_column->name);
    }
    const auto quoted = [](const std::vector<std::string>& items, std::size_t pick) {
        return items.size() == 1 ? cpp_string_literal(items[pick]) : std::string("\"<old>\"");
    };
    if (!dropped_tables.empty() && !added_tables.empty()) {
        const bool one_each = dropped_tables.size() == 1 && added_tables.size() == 1;
        warnings.push_back(
            "Possible rename: table " + names(dropped_tables) +
            (dropped_tables.size() == 1 ? " is" : " are") + " dropped and " + names(added_tables) +
            (added_tables.size() == 1 ? " is" : " are") +
            " added. Autogenerate cannot tell a rename from a drop and an add; if " +
            (one_each ? added_tables[0] + " is " + dropped_tables[0] + " renamed"
                      : "one is another renamed") +
            ", replace its drop_table and create_table with op.rename_table(" +
            quoted(dropped_tables, 0) + ", " +
            (one_each ? cpp_string_literal(added_tables[0]) : std::string("\"<new>\"")) +
            ") in upgrade (and the reverse rename in downgrade), or its rows are lost.");
    }
    for (const auto& [table, dropped_added] : columns) {
        const auto& [dropped, added] = dropped_added;
        if (dropped.empty() || added.empty()) continue;
        const bool one_each = dropped.size() == 1 && added.size() == 1;
        warnings.push_back(
            "Possible rename: in table " + table + ", column " + names(dropped) +
            (dropped.size() == 1 ? " is" : " are") + " dropped and " + names(added) +
            (added.size() == 1 ? " is" : " are") +
            " added. Autogenerate cannot tell a rename from a drop and an add; if " +
            (one_each ? added[0] + " is " + dropped[0] + " renamed" : "one is another renamed") +
            ", replace its drop_column and add_column with op.rename_column(" +
            cpp_string_literal(table) + ", " + quoted(dropped, 0) + ", " +
            (one_each ? cpp_string_literal(added[0]) : std::string("\"<new>\"")) +
            ") in upgrade (and the reverse rename in downgrade), or the column's data is lost.");
    }
}

/// What running the operations does to rows already in the tables.
void data_warnings(const std::vector<SchemaChange>& changes, std::vector<std::string>& warnings) {
    std::set<std::string> new_tables;
    for (const auto& change : changes)
        if (change.kind == Kind::add_table && change.new_table)
            new_tables.insert(change.new_table->name);
    for (const auto& change : changes) {
        const std::string table = table_of(change);
        if (change.kind == Kind::drop_table) {
            warnings.push_back("upgrade drops table " + table +
                               " with its rows; downgrade re-creates it empty.");
        } else if (change.kind == Kind::drop_column && change.old_column) {
            warnings.push_back("upgrade drops column " + table + "." + change.old_column->name +
                               " with its values; downgrade re-creates it without them.");
        } else if (change.kind == Kind::add_column && change.new_column &&
                   !change.new_column->nullable && !change.new_column->default_sql &&
                   !new_tables.count(table)) {
            warnings.push_back("upgrade adds " + table + "." + change.new_column->name +
                               " NOT NULL without a default: that fails if " + table +
                               " has rows. Give it a default, or add it nullable, fill it with "
                               "op.execute(\"UPDATE ...\"), then make it NOT NULL.");
        } else if (change.kind == Kind::alter_column && change.old_column && change.new_column) {
            const Column& from = *change.old_column;
            const Column& to = *change.new_column;
            const std::string column = table + "." + to.name;
            if (from.nullable && !to.nullable)
                warnings.push_back("upgrade makes " + column +
                                   " NOT NULL: that fails if a row holds NULL there; fill such "
                                   "rows first, e.g. op.execute(\"UPDATE " +
                                   comment_safe(table) + " SET " + comment_safe(to.name) +
                                   " = ... WHERE " + comment_safe(to.name) + " IS NULL\").");
            if (from.type != to.type)
                warnings.push_back("upgrade changes the type of " + column +
                                   ": every value in it must convert to the new type (and back, "
                                   "for downgrade), or the step fails.");
            if (from.autoincrement != to.autoincrement)
                warnings.push_back(column +
                                   ": autoincrement differs, which alter_column cannot change; "
                                   "write that step by hand.");
        } else if (change.kind == Kind::alter_primary_key) {
            warnings.push_back("the primary key of " + table +
                               " changes, which no portable operation does: upgrade and "
                               "downgrade hold a comment in its place; write that step by hand.");
        }
    }
}

/// What the schema model, and so autogenerate, does not see (Alembic's list, adapted).
constexpr const char* not_detected =
    "Not detected, so write these by hand if the schema file changes them: CHECK constraints, "
    "triggers, views, sequences, column order, partial and expression indexes, comments, "
    "collations, grants, and data. Renames of tables and columns are seen as a drop and an add.";

std::string review_comment(const std::vector<SchemaChange>& changes) {
    std::string comment =
        comment_paragraph(
            "Autogenerated: the operations below take the database to the schema "
            "file. They are candidates: review and edit them before you build this "
            "revision.",
            " ", " ") +
        "//\n// Detected:\n";
    for (const auto& change : changes)
        comment += comment_paragraph(change.describe(), "   - ", "     ");
    std::vector<std::string> warnings;
    rename_warnings(changes, warnings);
    data_warnings(changes, warnings);
    if (!warnings.empty()) {
        comment += "//\n// Warnings:\n";
        for (const auto& warning : warnings)
            comment += comment_paragraph(warning, "   - ", "     ");
    }
    return comment + "//\n" + comment_paragraph(not_detected, " ", " ");
}

}  // namespace

std::string cpp_string_literal(std::string_view text) {
    std::string literal = "\"";
    for (char c : text) {
        switch (c) {
            case '"':
                literal += "\\\"";
                break;
            case '\\':
                literal += "\\\\";
                break;
            case '\n':
                literal += "\\n";
                break;
            case '\r':
                literal += "\\r";
                break;
            case '\t':
                literal += "\\t";
                break;
            default:
                if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) {
                    // Octal takes at most three digits, so a digit that follows stays itself.
                    char escaped[8];
                    std::snprintf(escaped, sizeof escaped, "\\%03o",
                                  static_cast<unsigned>(static_cast<unsigned char>(c)));
                    literal += escaped;
                } else {
                    literal += c;
                }
        }
    }
    return literal + "\"";
}

RevisionCode migration_code(const std::vector<SchemaChange>& changes) {
    RevisionCode code;
    code.comment = review_comment(changes);
    code.includes = {"migrator/operations.hpp"};
    code.preamble = "using namespace migrator::schema;\n";
    code.uses_context = true;
    std::vector<Step> steps;
    steps.reserve(changes.size());
    for (const auto& change : changes) steps.push_back(step_for(change));
    code.upgrade = "    migrator::Operations op(ctx);\n";
    for (const auto& step : steps) code.upgrade += step.upgrade;
    code.downgrade = "    migrator::Operations op(ctx);\n";
    for (auto step = steps.rbegin(); step != steps.rend(); ++step)
        code.downgrade += step->downgrade;
    return code;
}

}  // namespace migrator::scaffold
