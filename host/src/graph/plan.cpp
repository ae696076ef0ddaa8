// The revision graph: where an upgrade or downgrade leads, and the ordered steps that get there.
#include <algorithm>
#include <migrator/errors.hpp>
#include <migrator/graph.hpp>
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

    // Going up never takes a row away; a target under an applied child (or base under any row, or
    // `label@base` under an applied revision of the branch) asks to go back.
    bool older = false;
    if (target.below_branch) {
        for (std::size_t pos = 0; pos < ordered_.size() && !older; ++pos)
            older = applied[pos] && target.branch.members[pos];
    } else if (target.positions.empty()) {
        older = !current.empty();
    } else {
        for (std::size_t pos : target.positions)
            if (applied[pos])
                for (std::size_t child : child_positions_[pos]) older = older || applied[child];
    }
    if (older)
        throw RevisionError("Destination " + quoted(expression) +
                            " is not a valid upgrade target from current head(s) " +
                            describe_rows(current) + "; it is older — use downgrade");

    const Mask wanted = ancestors(target.positions);
    for (std::size_t pos = 0; pos < ordered_.size(); ++pos) applied[pos] |= wanted[pos];
    return rows(applied);
}

std::vector<std::string> RevisionGraph::downgrade_destination(
    std::string_view expression, const std::vector<std::string>& current) const {
    detail::require_known_current(*this, current);
    const Target target = resolve(expression, current);
    Mask applied = ancestors(positions(current));

    // What goes: everything above the target, starting from its children (the target stays, so
    // what depends on the target itself may stay: Alembic, since 0.8.7), then whatever grows from
    // or depends on a revision that goes.
    Mask above(ordered_.size(), 0);
    if (target.positions.empty() || target.below_branch) {
        above.assign(ordered_.size(), 1);
    } else {
        for (std::size_t pos : target.positions) {
            if (!applied[pos])
                throw RevisionError("Destination " + quoted(expression) + " (" + ordered_[pos].id +
                                    ") is not a valid downgrade target from current head(s) " +
                                    describe_rows(current) + "; it is not applied — use upgrade");
            for (std::size_t child : child_positions_[pos]) above[child] = 1;
        }
        above = descendants(above, true);
    }
    // Behind `label@`, only that branch comes down, with what grows from or depends on it.
    if (!target.branch.label.empty()) {
        const Mask branch_and_above = descendants(target.branch.members, true);
        for (std::size_t pos = 0; pos < ordered_.size(); ++pos) above[pos] &= branch_and_above[pos];
    }
    for (std::size_t pos = 0; pos < ordered_.size(); ++pos)
        if (above[pos]) applied[pos] = 0;
    return rows(applied);
}

std::vector<Step> RevisionGraph::make_steps(Mask applied, const std::vector<std::size_t>& order,
                                            Direction direction) const {
    // Version rows are the applied revisions with no applied child; counting applied children
    // keeps each step's rows up to date without rescanning the graph.
    std::vector<std::size_t> applied_children(ordered_.size(), 0);
    for (std::size_t pos = 0; pos < ordered_.size(); ++pos)
        if (applied[pos])
            for (std::size_t parent : parent_positions_[pos]) ++applied_children[parent];
    std::set<std::string_view> current;
    for (std::size_t pos = 0; pos < ordered_.size(); ++pos)
        if (applied[pos] && applied_children[pos] == 0) current.insert(ordered_[pos].id);

    const auto snapshot = [&current] {
        return std::vector<std::string>(current.begin(), current.end());
    };
    std::vector<Step> steps;
    steps.reserve(order.size());
    for (std::size_t pos : order) {
        Step step{ordered_[pos].id, direction, snapshot(), {}};
        if (direction == Direction::upgrade) {
            applied[pos] = 1;
            current.insert(ordered_[pos].id);
            for (std::size_t parent : parent_positions_[pos])
                if (applied_children[parent]++ == 0) current.erase(ordered_[parent].id);
        } else {
            applied[pos] = 0;
            current.erase(ordered_[pos].id);
            for (std::size_t parent : parent_positions_[pos])
                if (--applied_children[parent] == 0) current.insert(ordered_[parent].id);
        }
        step.heads_after = snapshot();
        steps.push_back(std::move(step));
    }
    return steps;
}

std::vector<Step> RevisionGraph::plan_upgrade(const std::vector<std::string>& current,
                                              const std::vector<std::string>& destination) const {
    detail::require_known_current(*this, current);
    const Mask applied = ancestors(positions(current));
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
    return make_steps(applied, to_apply, Direction::upgrade);
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
    return make_steps(applied, to_remove, Direction::downgrade);
}

}  // namespace migrator
