// The revision graph: a DAG built from revision metadata alone; resolves identifiers, plans steps.
#ifndef MIGRATOR_GRAPH_HPP
#define MIGRATOR_GRAPH_HPP

#include <cstddef>
#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace migrator {

/// What the graph knows of one revision: its metadata, nothing loaded.
struct Revision {
    std::string id;
    std::vector<std::string> parents;  ///< down revisions; empty for a base; several for a merge
    std::vector<std::string> branch_labels;  ///< names for the branch this revision starts or is on
    std::vector<std::string> depends_on;     ///< revisions that must be applied first; not parents
    std::string message;
    std::string create_date;
    std::string source_sha256;  ///< SHA-256 of the revision's source file, may be empty
    std::string path;           ///< the plugin file it was read from; informational only
};

enum class Direction { upgrade, downgrade };

/// One step of a plan: run `revision` in `direction`, then the version table holds `heads_after`.
struct Step {
    std::string revision;
    Direction direction;
    std::vector<std::string> heads_before;  ///< version rows before the step (sorted)
    std::vector<std::string> heads_after;   ///< version rows after the step (sorted)
};

/// An immutable, validated DAG of revisions. Pure: no I/O.
///
/// A set of applied revisions is always described by its heads (the version-table rows); the
/// applied set is those heads and all their ancestors. An empty set of heads is `base`.
class RevisionGraph {
public:
    /// Builds the graph. Throws RevisionError naming the revisions involved when an id is empty or
    /// duplicated, a parent does not exist, or the parents form a cycle.
    explicit RevisionGraph(std::vector<Revision> revisions);

    /// Every revision, parents before children; ties broken by id, so the order is stable.
    const std::vector<Revision>& revisions() const { return ordered_; }
    std::size_t size() const { return ordered_.size(); }

    /// The revision with exactly this id; throws RevisionError if there is none.
    const Revision& at(std::string_view id) const;
    /// The revision with exactly this id, or nullptr.
    const Revision* find(std::string_view id) const;

    /// Revisions with no children, in topological order.
    std::vector<std::string> heads() const;
    /// Revisions with no parents, in topological order.
    std::vector<std::string> bases() const;
    /// Direct children of a revision, in topological order.
    const std::vector<std::string>& children(std::string_view id) const;

    /// Resolves a full id or a unique prefix of one. Throws RevisionError: one message for an
    /// unknown id, another for an ambiguous prefix listing the candidates.
    std::string resolve_id(std::string_view id_or_prefix) const;

    /// Resolves a target expression to the set of heads it denotes (empty = base):
    /// `head`, `heads`, `base`, an id or unique prefix, `+N`/`-N` relative to `current`,
    /// `REV+N`, `REV-N`, `head-N`, `base+N`. `current` is the database's version rows.
    /// Throws RevisionError with a sentence naming the expression when it cannot be resolved
    /// (several heads for `head`, walking past base or head, a branch making +N ambiguous, ...).
    std::vector<std::string> resolve_target(std::string_view expression,
                                            const std::vector<std::string>& current) const;

    /// Steps that take the database from `current` heads up to `target` heads, applying every
    /// ancestor of the target not yet applied, parents first. Empty when already there.
    /// Throws RevisionError when `target` lies below `current` (that is a downgrade).
    std::vector<Step> plan_upgrade(const std::vector<std::string>& current,
                                   const std::vector<std::string>& target) const;

    /// Steps that take the database from `current` heads down to `target` heads, undoing every
    /// applied descendant of the target (all applied revisions for base), children first.
    /// Empty when already there. Throws RevisionError when a target revision is not applied.
    std::vector<Step> plan_downgrade(const std::vector<std::string>& current,
                                     const std::vector<std::string>& target) const;

    /// The given revisions and all their ancestors.
    std::vector<std::string> ancestors_or_self(const std::vector<std::string>& ids) const;

private:
    // A position in ordered_, or `npos` for base, the point below every revision.
    static constexpr std::size_t npos = static_cast<std::size_t>(-1);

    std::size_t position(std::string_view id) const;
    std::vector<std::string> prefix_matches(std::string_view prefix) const;
    std::vector<char> applied_mask(const std::vector<std::string>& heads) const;
    std::size_t walk(std::string_view expression, std::size_t from, bool forward,
                     std::size_t steps) const;
    std::vector<Step> make_steps(std::vector<char> applied, const std::vector<std::size_t>& order,
                                 Direction direction) const;

    std::vector<Revision> ordered_;
    std::map<std::string, std::size_t, std::less<>> index_;   // id -> position; sorted for prefixes
    std::vector<std::vector<std::string>> children_;          // by position in ordered_
    std::vector<std::vector<std::size_t>> parent_positions_;  // by position, in declared order
    std::vector<std::vector<std::size_t>> child_positions_;   // by position, ascending
};

}  // namespace migrator

#endif  // MIGRATOR_GRAPH_HPP
