// What `migrator check` finds when it compares a database with the revisions of a versions
// directory: typed findings, which the command line turns into sentences.
#ifndef MIGRATOR_INSPECTION_HPP
#define MIGRATOR_INSPECTION_HPP

#include <migrator/db/db.hpp>
#include <migrator/graph/graph.hpp>
#include <string>
#include <vector>

namespace migrator {

/// One thing check_database found.
struct CheckFinding {
    /// What was found; findings come in this order.
    enum class Kind {
        multiple_heads,     ///< the versions directory has several heads (CheckReport::heads)
        missing_plugin,     ///< a version row `revision` that no plugin provides
        checksum_mismatch,  ///< the applied revision `revision` was edited after it was applied
        dirty,              ///< the non-transactional step `dirty_step` did not complete
        not_at_head,        ///< the database's rows are not the graph's head rows
    };
    Kind kind = Kind::multiple_heads;
    /// A problem fails the check; a warning (not_at_head when pending revisions are allowed)
    /// does not.
    bool problem = true;
    /// The revision at fault; empty for multiple_heads and not_at_head.
    std::string revision;
    /// missing_plugin: whether the database stores a plugin of the revision (the migrator that
    /// applied it left the way back there).
    bool stored_plugin = false;
    /// checksum_mismatch: the source SHA-256 the revision was applied from; its plugin's is the
    /// graph's Revision::source_sha256.
    std::string applied_sha256;
    /// dirty: the history row of the step that did not complete.
    HistoryRecord dirty_step;
};

/// The name `check --json` gives a kind: "multiple_heads", "missing_plugin", "checksum_mismatch",
/// "dirty", "not_at_head".
const char* kind_name(CheckFinding::Kind kind);

/// What check_database read and found.
struct CheckReport {
    std::vector<std::string> current;  ///< the database's version rows, sorted
    std::vector<std::string> heads;    ///< the graph's heads, sorted
    std::vector<std::string> applied;  ///< the applied revisions the graph knows, in its order
    /// The applied revisions whose plugin has a source checksum and for which no history row
    /// records the checksum they were applied from, in the graph's order: applied by another
    /// tool before migrator took the database over (Alembic), or marked applied by a stamp.
    /// check cannot say whether they match their plugins.
    std::vector<std::string> unrecorded;
    /// Whether no history row at all speaks of any of `unrecorded` (nothing migrator did, not
    /// even a stamp, put them there).
    bool unrecorded_before_migrator = false;
    std::vector<CheckFinding> findings;  ///< in the order of CheckFinding::Kind
};

/// Compares database `db` with the revisions of `graph`: several heads in the graph, version rows
/// no revision of the graph provides, applied revisions whose plugin was built from another
/// source than the history table records they were applied from, a dirty step, and rows other
/// than the graph's head rows (not for a database ahead of the graph: its missing_plugin finding
/// says how to come back), a warning only when `allow_pending`. Reads the version rows, the
/// history table and, when a row is unknown, the stored plugins; writes nothing. Throws
/// DatabaseError.
CheckReport check_database(Database& db, const RevisionGraph& graph, bool allow_pending = false);

}  // namespace migrator

#endif  // MIGRATOR_INSPECTION_HPP
