// The revision graph: where an upgrade, downgrade or stamp leads, and the ordered steps there.
#include <algorithm>
#include <migrator/common/errors.hpp>
#include <migrator/graph/graph.hpp>
#include <set>
#include <utility>

#include "graph_text.hpp"

namespace migrator {

using detail::describe_rows;
using detail::quoted;

std::vector<std::string> RevisionGraph::upgrade_destination(
    std::string_view expression, const std::vector<std::string>& current) const {
    detail::require_known_current(*this, current);
    const Target target = resolve(expression, current);
    Mask applied = ancestors(positions(current));
    // Alembic: "Upgrading to current - n is not valid".
    const std::string_view count = expression.substr(expression.find('@') + 1);
    if (find(expression) == nullptr && count.size() > 1 && count[0] == '-')
        throw RevisionError("Destination " + quoted(expression) +
                            " is not a valid upgrade target from current head(s) " +
                            describe_rows(current) + "; it counts back — use downgrade");
    refuse_overlap(current, applied);
    // Alembic's upgrade only adds: a target already applied (or base) leaves the rows as they are.
    const Mask wanted = ancestors(target.positions);
    for (std::size_t pos = 0; pos < ordered_.size(); ++pos) applied[pos] |= wanted[pos];
    return rows(applied);
}

std::vector<std::string> RevisionGraph::downgrade_destination(
    std::string_view expression, const std::vector<std::string>& current) const {
    detail::require_known_current(*this, current);
    const Target target = resolve(expression, current);
    const Mask applied = ancestors(positions(current));

    // Alembic's `_collect_downgrade_revisions`: the roots of what goes are the target's children
    // (the target stays, and so does what depends on the target itself), or every revision
    // without parents for base; behind `X@`, several roots are narrowed to those below X.
    std::vector<std::size_t> roots;
    if (target.positions.empty()) {
        for (std::size_t pos = 0; pos < ordered_.size(); ++pos)
            if (parent_positions_[pos].empty()) roots.push_back(pos);
    } else {
        for (std::size_t pos : target.positions) {
            if (!applied[pos])
                throw RevisionError("Destination " + quoted(expression) + " (" + ordered_[pos].id +
                                    ") is not a valid downgrade target from current head(s) " +
                                    describe_rows(current) + "; it is not applied — use upgrade");
            roots.insert(roots.end(), child_positions_[pos].begin(), child_positions_[pos].end());
        }
    }
    if (!target.branch.label.empty() && roots.size() > 1) {
        const Mask below = ancestors_by_parents(target.branch.owner);
        roots.erase(std::remove_if(roots.begin(), roots.end(),
                                   [&](std::size_t pos) { return !below[pos]; }),
                    roots.end());
        if (roots.empty())
            throw RevisionError("Destination " + quoted(expression) +
                                " is not a valid downgrade target from current head(s) " +
                                describe_rows(current) + ": nothing above it leads to " +
                                quoted(ordered_[target.branch.owner].id));
    }
    Mask going(ordered_.size(), 0);
    for (std::size_t pos : roots) going[pos] = 1;
    going = descendants(going, true);

    // Alembic: a target applied only as another revision's dependency, with nothing above it
    // to undo, is not a place a downgrade can stop at.
    if (!target.positions.empty() &&
        std::none_of(roots.begin(), roots.end(), [&](std::size_t pos) { return applied[pos]; }))
        for (std::size_t pos : target.positions)
            if (std::find(current.begin(), current.end(), ordered_[pos].id) == current.end())
                throw RevisionError("Destination " + quoted(expression) + " (" + ordered_[pos].id +
                                    ") is not a valid downgrade target from current head(s) " +
                                    describe_rows(current) +
                                    ": it is applied only because a revision depends on it, and "
                                    "nothing above it can be undone");
    Mask staying = applied;
    std::vector<std::size_t> order;  // children and dependents first
    for (std::size_t pos = ordered_.size(); pos-- > 0;)
        if (applied[pos] && going[pos]) {
            staying[pos] = 0;
            order.push_back(pos);
        }
    if (overlapping(positions(current), applied).empty()) return rows(staying);
    const std::vector<Step> steps = make_steps(current, order, Direction::downgrade);
    if (steps.empty()) {
        std::vector<std::string> same(current);
        std::sort(same.begin(), same.end());
        return same;
    }
    return steps.back().heads_after;
}

std::vector<std::string> RevisionGraph::stamp_destination(
    const std::vector<std::string>& expressions, const std::vector<std::string>& current) const {
    detail::require_known_current(*this, current);
    // Alembic's `_stamp_revs`: the rows in the lineage of what is named (dependencies included)
    // give way to it; `base` names every row.
    Mask replaced(ordered_.size(), 0);
    std::vector<std::size_t> named;
    for (const auto& expression : expressions) {
        const Target target = resolve(expression, current);
        named.insert(named.end(), target.positions.begin(), target.positions.end());
        std::vector<std::size_t> seeds = target.positions;
        if (!target.branch.label.empty()) seeds.push_back(target.branch.owner);
        if (seeds.empty()) {
            replaced.assign(ordered_.size(), 1);
            continue;
        }
        Mask seed_mask(ordered_.size(), 0);
        for (std::size_t pos : seeds) seed_mask[pos] = 1;
        const Mask up = descendants(seed_mask, true);
        const Mask down = ancestors(seeds);
        for (std::size_t pos = 0; pos < ordered_.size(); ++pos)
            if (up[pos] || down[pos]) replaced[pos] = 1;
    }
    // Only the named revisions not below another named one: Alembic would write both rows.
    std::vector<std::string> out = rows(ancestors(named));
    for (const auto& id : current)
        if (!replaced[position(id)]) out.push_back(id);
    std::sort(out.begin(), out.end());
    out.erase(std::unique(out.begin(), out.end()), out.end());
    return out;
}

std::vector<std::string> RevisionGraph::unapplied_among(
    const std::vector<std::string>& ids_given, const std::vector<std::string>& rows) const {
    const Mask applied = ancestors(positions(rows));
    std::vector<std::string> out;
    for (const auto& id : ids_given) {
        const auto found = index_.find(id);
        if (found == index_.end() || !applied[found->second]) out.push_back(id);
    }
    return out;
}

std::size_t RevisionGraph::applied_above(const std::vector<std::string>& ids_given,
                                         const std::vector<std::string>& current) const {
    detail::require_known_current(*this, current);
    const Mask applied = ancestors(positions(current));
    Mask seeds(ordered_.size(), 0);
    for (std::size_t pos : positions(ids_given)) seeds[pos] = 1;
    const Mask above = ids_given.empty() ? Mask(ordered_.size(), 1) : descendants(seeds, true);
    std::size_t count = 0;
    for (std::size_t pos = 0; pos < ordered_.size(); ++pos)
        count += applied[pos] && above[pos] && !seeds[pos] ? 1 : 0;
    return count;
}

std::vector<Step> RevisionGraph::make_steps(const std::vector<std::string>& current,
                                            const std::vector<std::size_t>& order,
                                            Direction direction) const {
    const std::vector<std::size_t> rows_at = positions(current);
    const Mask applied = ancestors(rows_at);
    if (!overlapping(rows_at, applied).empty()) return exact_steps(current, order);

    // The rows are the applied revisions nothing applied builds on (Alembic's HeadMaintainer
    // comes to the same from rows that do not overlap); counting what builds on each revision
    // keeps each step's rows up to date without rescanning the graph.
    std::vector<std::size_t> built_on(ordered_.size(), 0);
    const auto below = [&](std::size_t pos, auto&& visit) {
        for (std::size_t parent : parent_positions_[pos]) visit(parent);
        for (std::size_t dependency : dependency_positions_[pos]) visit(dependency);
    };
    for (std::size_t pos = 0; pos < ordered_.size(); ++pos)
        if (applied[pos]) below(pos, [&](std::size_t under) { ++built_on[under]; });
    std::set<std::string_view> heads;
    for (std::size_t pos : rows_at) heads.insert(ordered_[pos].id);

    const auto snapshot = [&heads] { return std::vector<std::string>(heads.begin(), heads.end()); };
    std::vector<Step> steps;
    steps.reserve(order.size());
    for (std::size_t pos : order) {
        Step step{ordered_[pos].id, direction, snapshot(), {}};
        if (direction == Direction::upgrade) {
            heads.insert(ordered_[pos].id);
            below(pos, [&](std::size_t under) {
                if (built_on[under]++ == 0) heads.erase(ordered_[under].id);
            });
        } else {
            heads.erase(ordered_[pos].id);
            below(pos, [&](std::size_t under) {
                if (--built_on[under] == 0) heads.insert(ordered_[under].id);
            });
        }
        step.heads_after = snapshot();
        steps.push_back(std::move(step));
    }
    return steps;
}

// Downgrade steps from overlapping rows, as Alembic's HeadMaintainer moves them: the revision's
// row goes, and each of its down revisions not below another remaining row comes back. Linear
// per step; such rows are rare and only Alembic writes them.
std::vector<Step> RevisionGraph::exact_steps(const std::vector<std::string>& current,
                                             const std::vector<std::size_t>& order) const {
    std::set<std::size_t> heads;
    for (std::size_t pos : positions(current)) heads.insert(pos);
    const auto snapshot = [&] {
        std::vector<std::string> out;
        for (std::size_t pos : heads) out.push_back(ordered_[pos].id);
        std::sort(out.begin(), out.end());
        return out;
    };
    std::vector<Step> steps;
    for (std::size_t pos : order) {
        Step step{ordered_[pos].id, Direction::downgrade, snapshot(), {}};
        if (heads.erase(pos) == 0)
            throw RevisionError("Cannot downgrade revision '" + ordered_[pos].id +
                                "' from the version rows " + describe_rows(current) +
                                ", which overlap: it would not be a row when its turn "
                                "came (Alembic fails there halfway); run " +
                                detail::stamp_command(rows(ancestors(positions(current)))) +
                                " first");
        const Mask remaining = ancestors(std::vector<std::size_t>(heads.begin(), heads.end()));
        for (std::size_t under : down_revisions(pos))
            if (!remaining[under]) heads.insert(under);
        step.heads_after = snapshot();
        steps.push_back(std::move(step));
    }
    return steps;
}

std::vector<Step> RevisionGraph::plan_upgrade(const std::vector<std::string>& current,
                                              const std::vector<std::string>& destination) const {
    detail::require_known_current(*this, current);
    const Mask applied = ancestors(positions(current));
    refuse_overlap(current, applied);
    const Mask wanted = ancestors(positions(destination));

    std::vector<std::size_t> to_apply;
    for (std::size_t pos = 0; pos < ordered_.size(); ++pos) {
        if (applied[pos] && !wanted[pos])
            throw RevisionError("Destination " + describe_rows(destination) +
                                " is not a valid upgrade target from current head(s) " +
                                describe_rows(current) + "; it would undo revision " +
                                quoted(ordered_[pos].id) + " — use downgrade");
        if (wanted[pos] && !applied[pos]) to_apply.push_back(pos);
    }
    return make_steps(current, to_apply, Direction::upgrade);
}

std::vector<Step> RevisionGraph::plan_downgrade(const std::vector<std::string>& current,
                                                const std::vector<std::string>& destination) const {
    detail::require_known_current(*this, current);
    const Mask applied = ancestors(positions(current));
    const Mask wanted = ancestors(positions(destination));

    std::vector<std::size_t> to_remove;
    for (std::size_t pos = ordered_.size(); pos-- > 0;) {
        if (wanted[pos] && !applied[pos])
            throw RevisionError("Destination " + describe_rows(destination) +
                                " is not a valid downgrade target from current head(s) " +
                                describe_rows(current) + "; it needs revision " +
                                quoted(ordered_[pos].id) + ", which is not applied — use upgrade");
        if (applied[pos] && !wanted[pos]) to_remove.push_back(pos);
    }
    return make_steps(current, to_remove, Direction::downgrade);
}

}  // namespace migrator
