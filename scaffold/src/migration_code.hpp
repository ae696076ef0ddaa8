// Autogenerate's code generation: schema changes -> the C++ of a revision's upgrade and downgrade,
// written with the portable operations (operations.hpp) and the schema model (schema.hpp).
#ifndef MIGRATOR_SCAFFOLD_MIGRATION_CODE_HPP
#define MIGRATOR_SCAFFOLD_MIGRATION_CODE_HPP

#include <migrator/schema/schema_compare.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "revision_source.hpp"

namespace migrator::scaffold {

/// `text` as a C++ string literal, quotes included, that the compiler reads back as exactly
/// `text` (quotes, backslashes and control characters escaped; other bytes kept as they are).
std::string cpp_string_literal(std::string_view text);

/// The code of a revision that applies `changes`, which are in upgrade order (diff_schemas'):
/// upgrade() runs one operation per change in that order; downgrade() runs the inverse of each
/// in reverse order, rebuilding what upgrade drops from its full old definition. The comment
/// lists what was detected, warns where the operations may not be what the author meant (a
/// rename looks like a drop and an add; NOT NULL and type changes meet existing rows; dropped
/// data does not come back) and says what autogenerate does not detect. Throws migrator::Error
/// for a change that lacks the definition its kind needs (e.g. add_table without new_table).
RevisionCode migration_code(const std::vector<SchemaChange>& changes);

}  // namespace migrator::scaffold

#endif  // MIGRATOR_SCAFFOLD_MIGRATION_CODE_HPP
