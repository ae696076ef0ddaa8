// The revision graph: validation, topological order, and the structural queries (heads, branches).
#include <algorithm>
#include <functional>
#include <migrator/common/errors.hpp>
#include <migrator/graph/graph.hpp>
#include <queue>
#include <utility>

#include "graph_text.hpp"

namespace migrator {

using detail::quoted;

namespace {

std::string from_file(const Revision& revision) {
    return revision.path.empty() ? std::string() : " (in " + revision.path + ")";
}

// Each label names one branch; the characters that the target grammar gives a meaning to would
// make the label impossible to use in `label@head` or in a range.
void check_label(const Revision& revision, const std::string& label) {
    if (label.empty())
        throw RevisionError("Revision '" + revision.id + "' has an empty branch label" +
                            from_file(revision));
    if (label.find_first_of("@:") != std::string::npos)
        throw RevisionError("Branch label '" + label + "' of revision '" + revision.id +
                            "' contains '@' or ':', which revision identifiers reserve" +
                            from_file(revision));
}

}  // namespace

RevisionGraph::RevisionGraph(std::vector<Revision> revisions) {
    const std::size_t count = revisions.size();

    std::map<std::string_view, std::size_t, std::less<>> input;  // id -> index in `revisions`
    for (std::size_t i = 0; i < count; ++i) {
        const Revision& revision = revisions[i];
        if (revision.id.empty())
            throw RevisionError("A revision has an empty id" + from_file(revision));
        const auto [it, inserted] = input.emplace(revision.id, i);
        if (!inserted) {
            const Revision& first = revisions[it->second];
            std::string where;
            if (!first.path.empty() || !revision.path.empty())
                where = " (in " + first.path + " and " + revision.path + ")";
            throw RevisionError("Revision id '" + revision.id + "' is defined more than once" +
                                where);
        }
    }

    std::vector<std::vector<std::size_t>> parents_of(count);
    std::vector<std::vector<std::size_t>> children_of(count);
    for (std::size_t i = 0; i < count; ++i) {
        const Revision& revision = revisions[i];
        for (std::size_t k = 0; k < revision.parents.size(); ++k) {
            const std::string& parent = revision.parents[k];
            const auto found = input.find(parent);
            if (found == input.end())
                throw RevisionError("Revision '" + revision.id + "' names parent '" + parent +
                                    "', which does not exist" + from_file(revision));
            if (std::find(revision.parents.begin(), revision.parents.begin() + k, parent) !=
                revision.parents.begin() + k)
                throw RevisionError("Revision '" + revision.id + "' names parent '" + parent +
                                    "' more than once" + from_file(revision));
            parents_of[i].push_back(found->second);
            children_of[found->second].push_back(i);
        }
    }

    // Alembic refuses a label carried by two revisions and a label equal to an id, because either
    // would make `label@head` mean two things.
    std::map<std::string_view, std::size_t, std::less<>> label_owner;  // label -> index
    for (std::size_t i = 0; i < count; ++i) {
        const Revision& revision = revisions[i];
        for (const auto& label : revision.branch_labels) {
            check_label(revision, label);
            if (input.count(label) != 0)
                throw RevisionError("Branch label '" + label + "' of revision '" + revision.id +
                                    "' is also the id of a revision" + from_file(revision));
            const auto [it, inserted] = label_owner.emplace(label, i);
            if (!inserted && it->second != i)
                throw RevisionError("Branch label '" + label + "' is used by both revision '" +
                                    revisions[it->second].id + "' and revision '" + revision.id +
                                    "'; a label names a single branch");
        }
    }

    // A dependency may be named by id or, as in Alembic, by a branch label (the revision carrying
    // it). One that is also a parent adds nothing.
    std::vector<std::vector<std::size_t>> dependencies_of(count);
    std::vector<std::vector<std::size_t>> dependents_of(count);
    for (std::size_t i = 0; i < count; ++i) {
        const Revision& revision = revisions[i];
        for (const auto& name : revision.depends_on) {
            std::size_t dependency = count;
            if (const auto id = input.find(name); id != input.end())
                dependency = id->second;
            else if (const auto label = label_owner.find(name); label != label_owner.end())
                dependency = label->second;
            else
                throw RevisionError("Revision '" + revision.id + "' depends on '" + name +
                                    "', which is neither a revision nor a branch label" +
                                    from_file(revision));
            auto& listed = dependencies_of[i];
            if (std::find(parents_of[i].begin(), parents_of[i].end(), dependency) !=
                    parents_of[i].end() ||
                std::find(listed.begin(), listed.end(), dependency) != listed.end())
                continue;
            listed.push_back(dependency);
            dependents_of[dependency].push_back(i);
        }
    }

    // Kahn's algorithm over parent and depends_on edges; taking the smallest ready id first makes
    // the order independent of the order the revisions were found in.
    std::vector<std::size_t> pending(count);
    for (std::size_t i = 0; i < count; ++i)
        pending[i] = parents_of[i].size() + dependencies_of[i].size();
    const auto later = [&](std::size_t a, std::size_t b) {
        return revisions[a].id > revisions[b].id;
    };
    std::priority_queue<std::size_t, std::vector<std::size_t>, decltype(later)> ready(later);
    for (std::size_t i = 0; i < count; ++i)
        if (pending[i] == 0) ready.push(i);
    std::vector<std::size_t> order;
    order.reserve(count);
    while (!ready.empty()) {
        const std::size_t next = ready.top();
        ready.pop();
        order.push_back(next);
        for (std::size_t child : children_of[next])
            if (--pending[child] == 0) ready.push(child);
        for (std::size_t dependent : dependents_of[next])
            if (--pending[dependent] == 0) ready.push(dependent);
    }

    if (order.size() != count) {
        // Every revision left over still waits for a parent or dependency that is also left over,
        // so following those must come back to a revision already seen: that loop is the cycle.
        std::size_t start = count;
        for (const auto& entry : input)
            if (pending[entry.second] != 0) {
                start = entry.second;
                break;
            }
        const auto waiting_on = [&](std::size_t at) {
            for (std::size_t parent : parents_of[at])
                if (pending[parent] != 0) return parent;
            for (std::size_t dependency : dependencies_of[at])
                if (pending[dependency] != 0) return dependency;
            return count;  // unreachable: a left-over revision always waits on another
        };
        std::vector<std::size_t> seen_at(count, count);
        std::vector<std::size_t> path;
        std::size_t at = start;
        while (at != count && seen_at[at] == count) {
            seen_at[at] = path.size();
            path.push_back(at);
            at = waiting_on(at);
        }
        std::vector<std::size_t> cycle(path.begin() + static_cast<std::ptrdiff_t>(seen_at[at]),
                                       path.end());
        // Walked from later to earlier; shown in applying order, starting at the smallest id.
        std::reverse(cycle.begin(), cycle.end());
        const auto smallest = std::min_element(
            cycle.begin(), cycle.end(),
            [&](std::size_t a, std::size_t b) { return revisions[a].id < revisions[b].id; });
        std::rotate(cycle.begin(), smallest, cycle.end());
        std::string text;
        for (std::size_t i : cycle) text += revisions[i].id + " -> ";
        text += revisions[cycle.front()].id;
        throw RevisionError(
            "Revisions form a cycle (each is a parent of the next or a revision it depends "
            "on): " +
            text);
    }

    std::vector<std::size_t> position_of(count);
    for (std::size_t pos = 0; pos < count; ++pos) position_of[order[pos]] = pos;

    ordered_.reserve(count);
    parent_positions_.resize(count);
    child_positions_.resize(count);
    dependency_positions_.resize(count);
    dependent_positions_.resize(count);
    children_.resize(count);
    for (std::size_t pos = 0; pos < count; ++pos) {
        // Positions are visited in ascending order, so child and dependent lists come out sorted.
        for (std::size_t parent : parents_of[order[pos]]) {
            parent_positions_[pos].push_back(position_of[parent]);
            child_positions_[position_of[parent]].push_back(pos);
        }
        for (std::size_t dependency : dependencies_of[order[pos]]) {
            dependency_positions_[pos].push_back(position_of[dependency]);
            dependent_positions_[position_of[dependency]].push_back(pos);
        }
    }
    for (const auto& [label, i] : label_owner) labels_.emplace(std::string(label), position_of[i]);
    for (std::size_t pos = 0; pos < count; ++pos)
        ordered_.push_back(std::move(revisions[order[pos]]));
    for (std::size_t pos = 0; pos < count; ++pos) {
        index_.emplace(ordered_[pos].id, pos);
        for (std::size_t child : child_positions_[pos])
            children_[pos].push_back(ordered_[child].id);
    }
}

std::size_t RevisionGraph::position(std::string_view id) const {
    const auto found = index_.find(id);
    if (found == index_.end()) throw RevisionError("No such revision '" + std::string(id) + "'");
    return found->second;
}

std::vector<std::size_t> RevisionGraph::positions(const std::vector<std::string>& ids) const {
    std::vector<std::size_t> out;
    out.reserve(ids.size());
    for (const auto& id : ids) out.push_back(position(id));
    std::sort(out.begin(), out.end());
    out.erase(std::unique(out.begin(), out.end()), out.end());
    return out;
}

std::vector<std::string> RevisionGraph::ids(const Mask& mask) const {
    std::vector<std::string> out;
    for (std::size_t pos = 0; pos < ordered_.size(); ++pos)
        if (mask[pos]) out.push_back(ordered_[pos].id);
    return out;
}

std::vector<std::string> RevisionGraph::rows(const Mask& applied) const {
    // Alembic hands a row over to a revision that depends on it as to a child: only revisions
    // nothing applied builds on keep a row.
    const auto built_on = [&](const std::vector<std::size_t>& above) {
        return std::any_of(above.begin(), above.end(),
                           [&](std::size_t pos) { return applied[pos] != 0; });
    };
    std::vector<std::string> out;
    for (std::size_t pos = 0; pos < ordered_.size(); ++pos)
        if (applied[pos] && !built_on(child_positions_[pos]) &&
            !built_on(dependent_positions_[pos]))
            out.push_back(ordered_[pos].id);
    std::sort(out.begin(), out.end());
    return out;
}

const Revision& RevisionGraph::at(std::string_view id) const { return ordered_[position(id)]; }

const Revision* RevisionGraph::find(std::string_view id) const {
    const auto found = index_.find(id);
    return found == index_.end() ? nullptr : &ordered_[found->second];
}

std::vector<std::string> RevisionGraph::heads() const {
    std::vector<std::string> out;
    for (std::size_t pos = 0; pos < ordered_.size(); ++pos)
        if (child_positions_[pos].empty()) out.push_back(ordered_[pos].id);
    return out;
}

std::vector<std::string> RevisionGraph::head_rows() const { return rows(Mask(ordered_.size(), 1)); }

std::vector<std::string> RevisionGraph::bases() const {
    std::vector<std::string> out;
    for (std::size_t pos = 0; pos < ordered_.size(); ++pos)
        if (parent_positions_[pos].empty()) out.push_back(ordered_[pos].id);
    return out;
}

std::vector<std::string> RevisionGraph::branch_points() const {
    std::vector<std::string> out;
    for (std::size_t pos = 0; pos < ordered_.size(); ++pos)
        if (child_positions_[pos].size() > 1) out.push_back(ordered_[pos].id);
    return out;
}

const std::vector<std::string>& RevisionGraph::children(std::string_view id) const {
    return children_[position(id)];
}

// Positions are a topological order of parent and depends_on edges, so one pass downwards (for
// ancestors) or upwards (for descendants) visits every edge once: linear, and no recursion.
RevisionGraph::Mask RevisionGraph::ancestors(const std::vector<std::size_t>& seeds) const {
    Mask mask(ordered_.size(), 0);
    for (std::size_t pos : seeds) mask[pos] = 1;
    for (std::size_t pos = ordered_.size(); pos-- > 0;) {
        if (!mask[pos]) continue;
        for (std::size_t parent : parent_positions_[pos]) mask[parent] = 1;
        for (std::size_t dependency : dependency_positions_[pos]) mask[dependency] = 1;
    }
    return mask;
}

RevisionGraph::Mask RevisionGraph::descendants(const Mask& seeds, bool through_dependents) const {
    Mask mask = seeds;
    for (std::size_t pos = 0; pos < ordered_.size(); ++pos) {
        if (!mask[pos]) continue;
        for (std::size_t child : child_positions_[pos]) mask[child] = 1;
        if (through_dependents)
            for (std::size_t dependent : dependent_positions_[pos]) mask[dependent] = 1;
    }
    return mask;
}

RevisionGraph::Mask RevisionGraph::ancestors_by_parents(std::size_t seed) const {
    Mask mask(ordered_.size(), 0);
    mask[seed] = 1;
    for (std::size_t pos = seed + 1; pos-- > 0;)
        if (mask[pos])
            for (std::size_t parent : parent_positions_[pos]) mask[parent] = 1;
    return mask;
}

std::vector<std::string> RevisionGraph::ancestors_or_self(
    const std::vector<std::string>& ids_given) const {
    return ids(ancestors(positions(ids_given)));
}

std::vector<std::string> RevisionGraph::branch_labels() const {
    std::vector<std::string> out;
    for (const auto& entry : labels_) out.push_back(entry.first);
    return out;
}

// Alembic's rule: a label also covers the straight line of ancestors below its revision, up to
// the branch point it grew from; a merge point belongs to several branches, so it ends the line
// too. The next revision down that line, or npos where the line ends.
std::size_t RevisionGraph::line_below(std::size_t pos) const {
    if (parent_positions_[pos].size() != 1) return npos;
    const std::size_t below = parent_positions_[pos].front();
    if (child_positions_[below].size() != 1 || parent_positions_[below].size() > 1) return npos;
    return below;
}

RevisionGraph::Branch RevisionGraph::branch(std::string_view label) const {
    const auto found = labels_.find(label);
    if (found == labels_.end())
        throw RevisionError("No such branch label '" + std::string(label) + "'; " +
                            (labels_.empty() ? std::string("no revision has a branch label")
                                             : "the labels are " + join(branch_labels())));
    const std::size_t owner = found->second;
    Mask seed(ordered_.size(), 0);
    seed[owner] = 1;
    Branch out{found->first, descendants(seed, false)};
    for (std::size_t at = line_below(owner); at != npos; at = line_below(at)) out.members[at] = 1;
    return out;
}

std::vector<std::string> RevisionGraph::branch_members(std::string_view label) const {
    return ids(branch(label).members);
}

std::vector<std::string> RevisionGraph::labels_of(std::string_view id) const {
    const std::size_t target = position(id);
    // The revision is on a label's branch when the labelled revision is one of its ancestors (by
    // parents only: a dependency is not lineage), or when it lies on the line below the label.
    const Mask lineage = ancestors_by_parents(target);
    std::vector<std::string> out;
    for (const auto& [label, owner] : labels_) {
        bool member = lineage[owner] != 0;
        for (std::size_t at = line_below(owner); !member && at != npos; at = line_below(at))
            member = at == target;
        if (member) out.push_back(label);
    }
    return out;
}

// Alembic's `X@`: X is a branch label or, failing that, a revision (id or prefix), and the
// lineage is X's revision with its ancestors and descendants by parents (`_shares_lineage`).
RevisionGraph::Branch RevisionGraph::lineage(std::string_view name) const {
    std::size_t owner = npos;
    if (const auto found = labels_.find(name); found != labels_.end())
        owner = found->second;
    else if (find(name) != nullptr || !prefix_matches(name).empty())
        owner = position(resolve_id(name));  // throws for an ambiguous prefix
    else
        throw RevisionError("No such branch label or revision '" + std::string(name) + "'; " +
                            (labels_.empty() ? std::string("no revision has a branch label")
                                             : "the labels are " + join(branch_labels())));
    Mask seed(ordered_.size(), 0);
    seed[owner] = 1;
    Branch out{std::string(name), descendants(seed, false), owner};
    const Mask below = ancestors_by_parents(owner);
    for (std::size_t pos = 0; pos < ordered_.size(); ++pos) out.members[pos] |= below[pos];
    return out;
}

// Rows with an applied revision building on them sit below another row.
std::vector<std::size_t> RevisionGraph::overlapping(const std::vector<std::size_t>& rows_at,
                                                    const Mask& applied) const {
    std::vector<std::size_t> out;
    const auto built_on = [&](const std::vector<std::size_t>& above) {
        return std::any_of(above.begin(), above.end(),
                           [&](std::size_t pos) { return applied[pos] != 0; });
    };
    for (std::size_t pos : rows_at)
        if (built_on(child_positions_[pos]) || built_on(dependent_positions_[pos]))
            out.push_back(pos);
    return out;
}

void RevisionGraph::refuse_overlap(const std::vector<std::string>& current,
                                   const Mask& applied) const {
    const std::vector<std::size_t> below = overlapping(positions(current), applied);
    if (below.empty()) return;
    std::vector<std::string> names;
    for (std::size_t pos : below) names.push_back(ordered_[pos].id);
    const std::vector<std::string> repaired = rows(applied);
    throw RevisionError("The version rows " + detail::describe_rows(current) +
                        " overlap: " + join(names) + (names.size() == 1 ? " is" : " are") +
                        " below another row, so there is no single state to upgrade from "
                        "(Alembic refuses too: the requested revisions overlap); run " +
                        detail::stamp_command(repaired) +
                        " to keep only the rows on top, then upgrade");
}

// Alembic's down revisions of a step: the parents and the dependencies, less the dependencies
// already below another of them (Alembic keeps some of those and then writes a row below
// another on downgrade; leaving them out keeps the rows from overlapping).
std::vector<std::size_t> RevisionGraph::down_revisions(std::size_t pos) const {
    std::vector<std::size_t> out = parent_positions_[pos];
    const auto& dependencies = dependency_positions_[pos];
    if (dependencies.empty()) return out;
    std::vector<std::size_t> seeds = out;
    seeds.insert(seeds.end(), dependencies.begin(), dependencies.end());
    for (std::size_t dependency : dependencies) {
        std::vector<std::size_t> others;
        for (std::size_t seed : seeds)
            if (seed != dependency) others.push_back(seed);
        if (!ancestors(others)[dependency]) out.push_back(dependency);
    }
    return out;
}

}  // namespace migrator
