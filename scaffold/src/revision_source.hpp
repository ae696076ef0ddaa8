// Reading revision metadata back from revision source files, and writing new revision projects.
#ifndef MIGRATOR_SCAFFOLD_REVISION_SOURCE_HPP
#define MIGRATOR_SCAFFOLD_REVISION_SOURCE_HPP

#include <filesystem>
#include <migrator/graph/graph.hpp>
#include <migrator/scaffold/scaffold.hpp>
#include <string>
#include <string_view>
#include <vector>

namespace migrator::scaffold {

/// Reads the metadata declared by MIGRATOR_REVISION(...) in one source file: id, parents,
/// message, create date (read_revision_text).
Revision read_revision_source(const std::filesystem::path& file);

/// read_revision_source of `source`, the text of the file `file`: the metadata its
/// MIGRATOR_REVISION(...) compiles into, read by the host's parse_metadata. Throws
/// migrator::Error naming the file for what the host would refuse in the built plugin ("revision
/// source <file> has invalid metadata: the down revision 'a-b' in 'down=a-b' is not 1 to 32
/// characters of [0-9A-Za-z_]"), or when it declares no revision id.
Revision read_revision_text(const std::string& source, const std::string& file);

// read_revision_sources: scaffold.hpp.

/// The folder/file stem Alembic would use: "<id>_<slug>", the slug being the message in lower
/// case with runs of other characters turned into '_', at most 40 characters.
std::string revision_stem(std::string_view id, std::string_view message);

/// A new random 12-hex-digit revision id, like Alembic's.
std::string new_revision_id();

/// What goes into a revision's source besides its metadata: the body of upgrade() and
/// downgrade(), and what they need. Left as it is, the bodies are the commented-out examples
/// `scaffold new` leaves for the author to fill in.
struct RevisionCode {
    /// `//` lines placed at the top of the file, after the standard header (no trailing blank).
    std::string comment;
    /// Headers included after <migrator/revision.hpp>, e.g. "migrator/operations.hpp".
    std::vector<std::string> includes;
    /// Lines after the includes, e.g. "using namespace migrator::schema;\n".
    std::string preamble;
    /// The statements of upgrade() and downgrade(), indented by four, each line ending in '\n'.
    std::string upgrade = "    // ctx.execute(\"CREATE TABLE ...\");\n";
    std::string downgrade = "    // ctx.execute(\"DROP TABLE ...\");\n";
    /// Whether the bodies use their `ctx` parameter (otherwise it is marked [[maybe_unused]]).
    bool uses_context = false;
};

/// The bodies `scaffold new` stamps by default: a migrator::Operations (portable operations,
/// rendered by migrator for the database's dialect) and commented-out examples of create_table
/// and drop_table, with ctx.execute() shown as the raw-SQL way. RevisionCode{} is the raw-SQL
/// template (`--raw-sql`, and merges).
RevisionCode operations_example_code();

/// What a new revision project is made of.
struct NewRevision {
    std::string id;
    std::vector<std::string> parents;
    std::vector<std::string> branch_labels;
    std::vector<std::string> depends_on;
    std::string message;
    std::string create_date;  ///< "YYYY-MM-DD HH:MM:SS", local time
    RevisionCode code;
};

/// The complete source file of `revision`: header comment, the MIGRATOR_REVISION(...) metadata
/// block, upgrade() and downgrade().
std::string revision_source_text(const NewRevision& revision);

/// Writes `<revisions_dir>/<stem>/CMakeLists.txt` and `<stem>.cpp`; returns the paths written.
/// Throws migrator::Error when the folder already exists.
std::vector<std::filesystem::path> write_revision_project(
    const std::filesystem::path& revisions_dir, const NewRevision& revision);

}  // namespace migrator::scaffold

#endif  // MIGRATOR_SCAFFOLD_REVISION_SOURCE_HPP
