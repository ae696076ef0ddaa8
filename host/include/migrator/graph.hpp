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
    std::vector<std::string> depends_on;     ///< ids or branch labels of revisions that must be
                                             ///< applied first; not parents (no merge of rows)
    std::string message;
    std::string create_date;
    std::string source_sha256;  ///< SHA-256 of the revision's source file, may be empty
    std::string path;           ///< the plugin file it was read from; informational only
    /// False for a revision that must run outside a transaction (e.g. CREATE INDEX
    /// CONCURRENTLY); if it fails or is interrupted, the database is marked dirty.
    bool transactional = true;
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
/// A set of applied revisions is always described by its version rows: the applied revisions with
/// no applied child. The applied set is those rows, their ancestors, and (transitively) the
/// revisions they depend on. A `depends_on` edge orders revisions like a parent does but never
/// merges rows: a revision that another branch depends on keeps its own row. No rows is `base`.
///
/// Branch labels follow Alembic: the branch of a label is the revision carrying it, all its
/// descendants, and its ancestors down to (not including) the nearest branch point or merge point.
///
/// Every operation is linear in the size of the graph and uses no recursion.
class RevisionGraph {
public:
    /// Builds the graph. Throws RevisionError naming the revisions involved when an id is empty or
    /// duplicated; a parent or a depends_on entry does not exist; a branch label is empty, contains
    /// '@' or ':', equals a revision id, or is carried by two revisions; or the parent and
    /// depends_on edges form a cycle.
    explicit RevisionGraph(std::vector<Revision> revisions);

    /// Every revision, parents and dependencies before the revisions that need them; ties broken
    /// by id, so the order is stable.
    const std::vector<Revision>& revisions() const { return ordered_; }
    std::size_t size() const { return ordered_.size(); }

    /// The revision with exactly this id; throws RevisionError if there is none.
    const Revision& at(std::string_view id) const;
    /// The revision with exactly this id, or nullptr.
    const Revision* find(std::string_view id) const;

    /// Revisions with no children, in topological order (a revision others depend on can be one).
    std::vector<std::string> heads() const;
    /// Revisions with no parents, in topological order.
    std::vector<std::string> bases() const;
    /// Revisions with several children, in topological order.
    std::vector<std::string> branch_points() const;
    /// Direct children of a revision, in topological order.
    const std::vector<std::string>& children(std::string_view id) const;

    /// Every branch label, sorted.
    std::vector<std::string> branch_labels() const;
    /// The revisions on the branch named `label`, in topological order. Throws RevisionError
    /// listing the known labels when there is no such label.
    std::vector<std::string> branch_members(std::string_view label) const;
    /// The labels whose branch includes revision `id`, sorted. Throws RevisionError for an
    /// unknown id.
    std::vector<std::string> labels_of(std::string_view id) const;

    /// Resolves a full id or a unique prefix of one. Throws RevisionError: one message for an
    /// unknown id, another for an ambiguous prefix listing the candidates.
    std::string resolve_id(std::string_view id_or_prefix) const;

    /// Resolves a target expression to the revisions it names, in topological order (empty =
    /// base). `current` is the database's version rows. The grammar, after Alembic:
    /// `head`, `heads`, `base`, an id, a unique id prefix, a branch label (its revision),
    /// `+N`/`-N` from the single current row, `REV+N`, `REV-N`, `head-N`, `base+N`, and any of
    /// those behind `label@` to stay on that branch: `label@head`, `label@heads`, `label@REV`
    /// (REV must be on the branch), `label@+N`/`label@-N` (from the current revision on the
    /// branch), `label@head-N`, `label@base+N`; `label@base` names the revision(s) the branch
    /// grows from (empty when it starts at base).
    /// Throws RevisionError with a sentence naming the expression when it cannot be resolved:
    /// several heads for `head`, walking past base or a head, a branch point ahead or a merge
    /// point behind that no label decides, several current rows for `+N`.
    std::vector<std::string> resolve_target(std::string_view expression,
                                            const std::vector<std::string>& current) const;

    /// The version rows after `upgrade expression` from rows `current` (sorted): the rows of
    /// everything applied plus the target and all it needs. Equal to `current`'s rows when there
    /// is nothing to do. Throws RevisionError when the target lies below the current rows (that
    /// is a downgrade) or cannot be resolved.
    std::vector<std::string> upgrade_destination(std::string_view expression,
                                                 const std::vector<std::string>& current) const;

    /// The version rows after `downgrade expression` from rows `current` (sorted): everything
    /// above the target revision(s) is removed, together with whatever depends on a removed
    /// revision; the target stays, and so does what depends on the target itself (Alembic). `base`
    /// removes everything; `label@base` removes the branch and what grows from or depends on it; a
    /// target reached through `label@` removes only revisions of that branch (and their
    /// dependents). Throws RevisionError when a target revision is not applied (that is an
    /// upgrade).
    std::vector<std::string> downgrade_destination(std::string_view expression,
                                                   const std::vector<std::string>& current) const;

    /// Steps that take the database from rows `current` to rows `destination`, applying every
    /// revision the destination needs that is not applied, parents and dependencies first.
    /// Empty when already there. Throws RevisionError when reaching the destination would undo
    /// an applied revision (that is a downgrade), or for an unknown revision.
    std::vector<Step> plan_upgrade(const std::vector<std::string>& current,
                                   const std::vector<std::string>& destination) const;

    /// Steps that take the database from rows `current` down to rows `destination`, undoing every
    /// applied revision the destination does not need, children and dependents first. Empty
    /// when already there. Throws RevisionError when the destination needs a revision that is
    /// not applied (that is an upgrade), or for an unknown revision.
    std::vector<Step> plan_downgrade(const std::vector<std::string>& current,
                                     const std::vector<std::string>& destination) const;

    /// The revisions of a `history -r` range, in topological order: `A:B` (descendants-or-self of
    /// A that are ancestors-or-self of B), `:B` (from base), `A:` (to the heads); A and B use the
    /// target grammar, and `current` stands for the database's rows. Dependencies count as
    /// ancestors, as they do for upgrades. Throws RevisionError for an expression without
    /// exactly one ':', when an end cannot be resolved, or when A is not below B.
    std::vector<std::string> resolve_range(std::string_view expression,
                                           const std::vector<std::string>& current) const;

    /// The given revisions and everything applying them needs (ancestors and, transitively, the
    /// revisions they depend on), in topological order.
    std::vector<std::string> ancestors_or_self(const std::vector<std::string>& ids) const;

private:
    // A position in ordered_, or `npos` for base, the point below every revision.
    static constexpr std::size_t npos = static_cast<std::size_t>(-1);
    // One flag per position in ordered_.
    using Mask = std::vector<char>;

    // The revisions of a label's branch, with the label for messages.
    struct Branch {
        std::string label;
        Mask members;
    };

    // What a target expression names before it becomes version rows.
    struct Target {
        std::vector<std::size_t> positions;  // ascending; empty = base
        Branch branch;              // the `label@` the expression named; label empty if none
        bool below_branch = false;  // `label@base`: positions are where it grows from
    };

    std::size_t position(std::string_view id) const;
    std::vector<std::size_t> positions(const std::vector<std::string>& ids) const;
    std::vector<std::string> ids(const Mask& mask) const;
    std::vector<std::string> rows(const Mask& applied) const;
    std::vector<std::string> prefix_matches(std::string_view prefix) const;

    Mask ancestors(const std::vector<std::size_t>& seeds) const;
    std::size_t line_below(std::size_t pos) const;
    Mask descendants(const Mask& seeds, bool through_dependents) const;
    Branch branch(std::string_view label) const;

    Target resolve(std::string_view expression, const std::vector<std::string>& current) const;
    std::size_t resolve_on_branch(std::string_view expression, std::string_view text,
                                  const Branch* branch) const;
    std::size_t current_on_branch(std::string_view expression,
                                  const std::vector<std::string>& current, const Branch* branch,
                                  bool forward) const;
    std::size_t walk(std::string_view expression, std::size_t from, bool forward, std::size_t steps,
                     const Branch* branch) const;
    std::vector<Step> make_steps(Mask applied, const std::vector<std::size_t>& order,
                                 Direction direction) const;

    std::vector<Revision> ordered_;
    std::map<std::string, std::size_t, std::less<>> index_;   // id -> position; sorted for prefixes
    std::map<std::string, std::size_t, std::less<>> labels_;  // branch label -> position
    std::vector<std::vector<std::string>> children_;          // by position in ordered_
    std::vector<std::vector<std::size_t>> parent_positions_;  // by position, in declared order
    std::vector<std::vector<std::size_t>> child_positions_;   // by position, ascending
    std::vector<std::vector<std::size_t>> dependency_positions_;  // by position, not parents
    std::vector<std::vector<std::size_t>> dependent_positions_;   // by position, ascending
};

}  // namespace migrator

#endif  // MIGRATOR_GRAPH_HPP
