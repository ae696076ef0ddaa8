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
    unsigned abi = 1;        ///< plugin ABI version it was built for (abi=)
    std::string plugin_api;  ///< plugin-api version of the headers it was built with (api=);
                             ///< empty for a plugin of ABI 1, which predates the key
    std::string platform;    ///< "x86_64-elf64-le": its platform= line, or, for a plugin of ABI 1,
                             ///< what its ELF header says; empty for metadata not read from a file
};

enum class Direction { upgrade, downgrade };

/// "upgrade" or "downgrade": the direction as commands, messages, JSON events and the history
/// table's direction column spell it.
constexpr const char* to_string(Direction direction) {
    return direction == Direction::upgrade ? "upgrade" : "downgrade";
}

/// One step of a plan: run `revision` in `direction`, then the version table holds `heads_after`.
struct Step {
    std::string revision;
    Direction direction;
    std::vector<std::string> heads_before;  ///< version rows before the step (sorted)
    std::vector<std::string> heads_after;   ///< version rows after the step (sorted)
};

/// An immutable, validated DAG of revisions. Pure: no I/O.
///
/// Version rows follow Alembic 1.8.1. A set of applied revisions is described by its version
/// rows: the applied revisions that no applied revision builds on, where a revision builds on its
/// parents and on the revisions it depends on. The applied set is those rows and everything below
/// them (ancestors and, transitively, dependencies). So a `depends_on` edge orders revisions like
/// a parent and, like a parent, hands its row over: `b` depending on root `a` leaves the single
/// row `b`, and `a` counts as applied because `b` is. No rows is `base`.
///
/// Rows where one is below another ("overlapping" rows, which Alembic's `stamp b d` writes on a
/// chain) are accepted as Alembic accepts them: upgrades refuse to start from them, downgrades
/// move them step by step as Alembic does.
///
/// A `X@` prefix scopes an identifier to the lineage of X, a branch label or a revision: X's
/// revision, its ancestors and its descendants (by parents). Alembic resolves `X@head`, `X@+N`
/// and `X@REV` in that lineage; so `lbl@base+1` can name a revision below the label.
///
/// Every operation is linear in the size of the graph and uses no recursion (downgrades from
/// overlapping rows excepted: linear per step).
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
    /// The version rows of a database with every revision applied (sorted): the heads that no
    /// revision depends on. What `current --check-heads` compares the rows with.
    std::vector<std::string> head_rows() const;
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
    /// those behind `X@` (X a branch label or a revision) to stay in X's lineage: `X@head`,
    /// `X@heads`, `X@REV` (REV must be in the lineage), `X@+N`/`X@-N` (from the current
    /// revision in the lineage), `X@head-N`, `X@base+N`; `X@base` is base.
    /// Throws RevisionError with a sentence naming the expression when it cannot be resolved:
    /// several heads for `head`, walking past base or a head, a branch point ahead or a merge
    /// point behind that no `X@` decides, several current rows for `+N`.
    std::vector<std::string> resolve_target(std::string_view expression,
                                            const std::vector<std::string>& current) const;

    /// The version rows after `upgrade expression` from rows `current` (sorted): Alembic's rows
    /// once the target and everything it needs are applied. Equal to `current` when the target
    /// is already applied (an upgrade never goes back). Throws RevisionError when the target
    /// cannot be resolved, or when the current rows overlap (one is below another; Alembic
    /// refuses those too), naming them and the `stamp` that repairs them.
    std::vector<std::string> upgrade_destination(std::string_view expression,
                                                 const std::vector<std::string>& current) const;

    /// The version rows after `downgrade expression` from rows `current` (sorted), as Alembic
    /// computes them: the applied children of the target and everything that grows from or
    /// depends on them are undone; the target stays. `base` undoes everything. Behind `X@`, when
    /// the target (or base) has several children (or roots), only those below X's revision
    /// count, so `lbl@base` on a single root undoes the whole graph, as in Alembic. Throws
    /// RevisionError when a target revision is not applied (that is an upgrade).
    std::vector<std::string> downgrade_destination(std::string_view expression,
                                                   const std::vector<std::string>& current) const;

    /// The revisions among `ids` outside the lineage of X when `expression` is `X@...` (empty for
    /// any other expression), in the order given: what a downgrade to `lbl@base` undoes beyond
    /// the label's lineage, as Alembic does on a graph with a single root, which deserves a
    /// warning. Throws RevisionError when X is neither a label nor a revision.
    std::vector<std::string> outside_lineage(std::string_view expression,
                                             const std::vector<std::string>& ids) const;

    /// The version rows after `stamp expressions...` from rows `current` (sorted), as Alembic
    /// computes them: each current row that is in the lineage of a named revision (an ancestor
    /// or descendant, dependencies included) is replaced by the named revisions; unrelated rows
    /// stay. `base` removes every row, `X@base` the rows in X's lineage. A named revision below
    /// another named one is left out, so the rows never overlap.
    std::vector<std::string> stamp_destination(const std::vector<std::string>& expressions,
                                               const std::vector<std::string>& current) const;

    /// How many applied revisions (from rows `current`) grow from or depend on the given ones;
    /// for none (base), how many are applied. What "already past it" means for an upgrade.
    std::size_t applied_above(const std::vector<std::string>& ids,
                              const std::vector<std::string>& current) const;

    /// Steps that take the database from rows `current` to rows `destination`, applying every
    /// revision the destination needs that is not applied, parents and dependencies first. Each
    /// step's heads_before is the rows as they are (the first step's is `current`), heads_after
    /// the rows Alembic leaves. Empty when already there. Throws RevisionError when reaching the
    /// destination would undo an applied revision (that is a downgrade), when the current rows
    /// overlap, or for an unknown revision.
    std::vector<Step> plan_upgrade(const std::vector<std::string>& current,
                                   const std::vector<std::string>& destination) const;

    /// Steps that take the database from rows `current` down to rows `destination`, undoing every
    /// applied revision the destination does not need, children and dependents first, with the
    /// rows each step leaves as in Alembic (from overlapping rows too). Empty when already there.
    /// Throws RevisionError when the destination needs a revision that is not applied (that is
    /// an upgrade), or for an unknown revision.
    std::vector<Step> plan_downgrade(const std::vector<std::string>& current,
                                     const std::vector<std::string>& destination) const;

    /// The revisions of a `history -r` range, in topological order: `A:B` (descendants-or-self of
    /// A that are ancestors-or-self of B), `:B` (from base), `A:` (to the heads); A and B use the
    /// target grammar, and `current` stands for the database's rows. As in Alembic, a relative
    /// upper end (`+N`, `X@+N`) counts from the lower end, and a relative lower end (`-N`)
    /// counts down from the heads, or from the upper end when that walks past base. Dependencies
    /// count as ancestors, as they do for upgrades. Throws RevisionError for an expression
    /// without exactly one ':', when an end cannot be resolved, or when A is not below B.
    std::vector<std::string> resolve_range(std::string_view expression,
                                           const std::vector<std::string>& current) const;

    /// The given revisions and everything applying them needs (ancestors and, transitively, the
    /// revisions they depend on), in topological order.
    std::vector<std::string> ancestors_or_self(const std::vector<std::string>& ids) const;

    /// The ids among `ids` that rows `rows` leave unapplied (neither a row nor below one; an id
    /// the graph does not know counts as unapplied), in the order given: the stored plugins a
    /// `stamp` to `rows` drops. Linear in the graph, plus one lookup per id. Throws RevisionError
    /// for a row the graph does not know.
    std::vector<std::string> unapplied_among(const std::vector<std::string>& ids,
                                             const std::vector<std::string>& rows) const;

private:
    // A position in ordered_, or `npos` for base, the point below every revision.
    static constexpr std::size_t npos = static_cast<std::size_t>(-1);
    // One flag per position in ordered_.
    using Mask = std::vector<char>;

    // The revisions of a label's branch (for display), or of X's lineage (for `X@`), with X for
    // messages.
    struct Branch {
        std::string label;
        Mask members;
        std::size_t owner = npos;  // the revision X names
    };

    // What a target expression names before it becomes version rows.
    struct Target {
        std::vector<std::size_t> positions;  // ascending; empty = base
        Branch branch;                       // the `X@` the expression named; label empty if none
    };

    std::size_t position(std::string_view id) const;
    std::vector<std::size_t> positions(const std::vector<std::string>& ids) const;
    std::vector<std::string> ids(const Mask& mask) const;
    std::vector<std::string> rows(const Mask& applied) const;
    std::vector<std::string> prefix_matches(std::string_view prefix) const;

    Mask ancestors(const std::vector<std::size_t>& seeds) const;
    Mask ancestors_by_parents(std::size_t seed) const;
    std::size_t line_below(std::size_t pos) const;
    Mask descendants(const Mask& seeds, bool through_dependents) const;
    Branch branch(std::string_view label) const;
    Branch lineage(std::string_view name) const;
    std::vector<std::size_t> overlapping(const std::vector<std::size_t>& rows_at,
                                         const Mask& applied) const;
    void refuse_overlap(const std::vector<std::string>& current, const Mask& applied) const;
    std::vector<std::size_t> down_revisions(std::size_t pos) const;

    Target resolve(std::string_view expression, const std::vector<std::string>& current) const;
    std::size_t resolve_on_branch(std::string_view expression, std::string_view text,
                                  const Branch* branch) const;
    std::size_t current_on_branch(std::string_view expression,
                                  const std::vector<std::string>& current, const Branch* branch,
                                  bool forward) const;
    std::size_t walk(std::string_view expression, std::size_t from, bool forward, std::size_t steps,
                     const Branch* branch) const;
    std::vector<std::size_t> range_lower(std::string_view expression, std::string_view text,
                                         std::string_view upper,
                                         const std::vector<std::string>& current) const;
    std::vector<Step> make_steps(const std::vector<std::string>& current,
                                 const std::vector<std::size_t>& order, Direction direction) const;
    std::vector<Step> exact_steps(const std::vector<std::string>& current,
                                  const std::vector<std::size_t>& order) const;

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
