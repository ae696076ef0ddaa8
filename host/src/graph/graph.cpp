// The revision graph: validation, topological order, identifier resolution and step planning.
#include <algorithm>
#include <functional>
#include <limits>
#include <migrator/errors.hpp>
#include <migrator/graph.hpp>
#include <queue>
#include <set>
#include <utility>

namespace migrator {

namespace {

std::string join(const std::vector<std::string>& ids) {
    std::string out;
    for (const auto& id : ids) {
        if (!out.empty()) out += ", ";
        out += id;
    }
    return out;
}

// Version rows as users read them: no rows is `base`, Alembic's word for an empty database.
std::string describe_heads(const std::vector<std::string>& ids) {
    return ids.empty() ? std::string("base") : join(ids);
}

std::string from_file(const Revision& revision) {
    return revision.path.empty() ? std::string() : " (in " + revision.path + ")";
}

bool starts_with(std::string_view text, std::string_view prefix) {
    return text.substr(0, prefix.size()) == prefix;
}

bool all_digits(std::string_view text) {
    return !text.empty() &&
           std::all_of(text.begin(), text.end(), [](char c) { return c >= '0' && c <= '9'; });
}

// Saturates rather than overflows: a count beyond the graph's size fails in the walk anyway,
// with the message that says how far it got.
std::size_t parse_steps(std::string_view digits) {
    constexpr std::size_t max = std::numeric_limits<std::size_t>::max();
    std::size_t value = 0;
    for (char c : digits) {
        const auto digit = static_cast<std::size_t>(c - '0');
        if (value > (max - digit) / 10) return max;
        value = value * 10 + digit;
    }
    return value;
}

std::string several_heads(std::string_view expression, const std::vector<std::string>& heads) {
    return "Revision '" + std::string(expression) + "' is ambiguous: there are several heads (" +
           join(heads) + "); use 'heads' to target all of them, or name one revision";
}

// The database's rows come from outside the graph; a row whose plugin has gone deserves a
// message that says so rather than a bare "no such revision".
void require_known_current(const RevisionGraph& graph, const std::vector<std::string>& current) {
    for (const auto& id : current)
        if (graph.find(id) == nullptr)
            throw RevisionError("The database is at revision '" + id +
                                "', which is not among the known revisions; was its plugin "
                                "removed from the versions directory?");
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
    std::vector<std::size_t> pending_parents(count);
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
        pending_parents[i] = revision.parents.size();
    }

    // Kahn's algorithm; taking the smallest ready id first makes the order independent of the
    // order the revisions were found in.
    const auto later = [&](std::size_t a, std::size_t b) {
        return revisions[a].id > revisions[b].id;
    };
    std::priority_queue<std::size_t, std::vector<std::size_t>, decltype(later)> ready(later);
    for (std::size_t i = 0; i < count; ++i)
        if (pending_parents[i] == 0) ready.push(i);
    std::vector<std::size_t> order;
    order.reserve(count);
    while (!ready.empty()) {
        const std::size_t next = ready.top();
        ready.pop();
        order.push_back(next);
        for (std::size_t child : children_of[next])
            if (--pending_parents[child] == 0) ready.push(child);
    }

    if (order.size() != count) {
        // Every revision left over still waits for a parent that is also left over, so following
        // such parents must come back to a revision already seen: that loop is the cycle.
        std::size_t start = count;
        for (const auto& [id, i] : input)
            if (pending_parents[i] != 0) {
                start = i;
                break;
            }
        std::vector<std::size_t> seen_at(count, count);
        std::vector<std::size_t> path;
        std::size_t at = start;
        while (seen_at[at] == count) {
            seen_at[at] = path.size();
            path.push_back(at);
            for (std::size_t parent : parents_of[at])
                if (pending_parents[parent] != 0) {
                    at = parent;
                    break;
                }
        }
        std::vector<std::size_t> cycle(path.begin() + static_cast<std::ptrdiff_t>(seen_at[at]),
                                       path.end());
        // Walked from child to parent; shown from parent to child, starting at the smallest id.
        std::reverse(cycle.begin(), cycle.end());
        const auto smallest = std::min_element(
            cycle.begin(), cycle.end(),
            [&](std::size_t a, std::size_t b) { return revisions[a].id < revisions[b].id; });
        std::rotate(cycle.begin(), smallest, cycle.end());
        std::string text;
        for (std::size_t i : cycle) text += revisions[i].id + " -> ";
        text += revisions[cycle.front()].id;
        throw RevisionError("Revisions form a cycle (each is a parent of the next): " + text);
    }

    std::vector<std::size_t> position_of(count);
    for (std::size_t pos = 0; pos < count; ++pos) position_of[order[pos]] = pos;

    ordered_.reserve(count);
    parent_positions_.resize(count);
    child_positions_.resize(count);
    children_.resize(count);
    for (std::size_t pos = 0; pos < count; ++pos) {
        for (std::size_t parent : parents_of[order[pos]]) {
            const std::size_t parent_pos = position_of[parent];
            parent_positions_[pos].push_back(parent_pos);
            // Positions are visited in ascending order, so each child list comes out sorted.
            child_positions_[parent_pos].push_back(pos);
        }
        ordered_.push_back(std::move(revisions[order[pos]]));
    }
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

std::vector<std::string> RevisionGraph::bases() const {
    std::vector<std::string> out;
    for (std::size_t pos = 0; pos < ordered_.size(); ++pos)
        if (parent_positions_[pos].empty()) out.push_back(ordered_[pos].id);
    return out;
}

const std::vector<std::string>& RevisionGraph::children(std::string_view id) const {
    return children_[position(id)];
}

std::vector<std::string> RevisionGraph::prefix_matches(std::string_view prefix) const {
    std::vector<std::string> out;
    for (auto it = index_.lower_bound(prefix); it != index_.end() && starts_with(it->first, prefix);
         ++it)
        out.push_back(it->first);
    return out;
}

std::string RevisionGraph::resolve_id(std::string_view id_or_prefix) const {
    if (id_or_prefix.empty()) throw RevisionError("An empty string is not a revision identifier");
    if (find(id_or_prefix) != nullptr) return std::string(id_or_prefix);
    const std::vector<std::string> matches = prefix_matches(id_or_prefix);
    if (matches.empty())
        throw RevisionError("No such revision '" + std::string(id_or_prefix) + "'");
    if (matches.size() == 1) return matches.front();
    // A short prefix can match thousands of ids; a few are enough to pick a longer prefix.
    constexpr std::size_t shown = 10;
    std::vector<std::string> listed(
        matches.begin(),
        matches.begin() + static_cast<std::ptrdiff_t>(std::min(shown, matches.size())));
    std::string text = join(listed);
    if (matches.size() > shown) text += ", ... (" + std::to_string(matches.size()) + " in all)";
    throw RevisionError("Revision prefix '" + std::string(id_or_prefix) +
                        "' is ambiguous; it matches " + text);
}

std::size_t RevisionGraph::walk(std::string_view expression, std::size_t from, bool forward,
                                std::size_t steps) const {
    const std::string quoted = "'" + std::string(expression) + "'";
    std::size_t at = from;
    for (std::size_t done = 0; done < steps; ++done) {
        if (forward) {
            std::vector<std::size_t> above;
            if (at == npos) {
                for (std::size_t pos = 0; pos < ordered_.size(); ++pos)
                    if (parent_positions_[pos].empty()) above.push_back(pos);
            } else {
                above = child_positions_[at];
            }
            if (above.empty())
                // Alembic's wording, so its users recognise the error.
                throw RevisionError("Relative revision " + quoted + " didn't produce " +
                                    std::to_string(steps) + " migrations; " +
                                    (at == npos ? std::string("there are no revisions")
                                                : "'" + ordered_[at].id + "' is a head after " +
                                                      std::to_string(done) + " step(s)"));
            if (above.size() > 1) {
                std::vector<std::string> ids;
                for (std::size_t pos : above) ids.push_back(ordered_[pos].id);
                throw RevisionError(
                    "Relative revision " + quoted + " is ambiguous: " +
                    (at == npos ? std::string("base has several revisions above it (")
                                : "revision '" + ordered_[at].id + "' has several children (") +
                    join(ids) + "); name the branch to count from");
            }
            at = above.front();
        } else {
            if (at == npos)
                throw RevisionError("Relative revision " + quoted + " didn't produce " +
                                    std::to_string(steps) + " migrations; it reaches base after " +
                                    std::to_string(done) + " step(s)");
            const auto& below = parent_positions_[at];
            if (below.size() > 1) {
                std::vector<std::string> ids;
                for (std::size_t pos : below) ids.push_back(ordered_[pos].id);
                throw RevisionError("Relative revision " + quoted + " is ambiguous: revision '" +
                                    ordered_[at].id + "' is a merge of " + join(ids) +
                                    "; name the parent to count from");
            }
            at = below.empty() ? npos : below.front();
        }
    }
    return at;
}

std::vector<std::string> RevisionGraph::resolve_target(
    std::string_view expression, const std::vector<std::string>& current) const {
    if (expression == "base") return {};
    if (expression == "heads") return heads();
    if (expression == "head") {
        std::vector<std::string> all = heads();
        if (all.size() > 1) throw RevisionError(several_heads(expression, all));
        return all;
    }
    // An exact id wins even when it contains '+' or '-'.
    if (find(expression) != nullptr) return {std::string(expression)};

    const std::size_t op = expression.find_last_of("+-");
    if (op == std::string_view::npos) return {resolve_id(expression)};
    const std::string_view anchor = expression.substr(0, op);
    const std::string_view count = expression.substr(op + 1);
    if (!all_digits(count)) {
        if (!prefix_matches(expression).empty()) return {resolve_id(expression)};
        throw RevisionError("Relative revision '" + std::string(expression) +
                            "' must end in '+' or '-' and a whole number of steps, as in '+1', "
                            "'head-2' or 'base+3'");
    }
    const std::size_t steps = parse_steps(count);
    if (steps == 0)
        throw RevisionError("Relative revision '" + std::string(expression) +
                            "' must move at least one step");

    std::size_t from = npos;
    if (anchor.empty()) {
        require_known_current(*this, current);
        if (current.size() > 1)
            throw RevisionError("Relative revision '" + std::string(expression) +
                                "' is ambiguous from multiple current revisions (" + join(current) +
                                "); count from one of them, as in '" + current.front() +
                                std::string(expression) + "'");
        if (!current.empty()) from = position(current.front());
    } else if (anchor == "head") {
        const std::vector<std::string> all = heads();
        if (all.size() > 1) throw RevisionError(several_heads(expression, all));
        if (!all.empty()) from = position(all.front());
    } else if (anchor == "heads") {
        throw RevisionError("Relative revision '" + std::string(expression) +
                            "' cannot count from 'heads', which may be several revisions; "
                            "count from 'head' or from one revision");
    } else if (anchor != "base") {
        from = position(resolve_id(anchor));
    }

    const std::size_t to = walk(expression, from, expression[op] == '+', steps);
    if (to == npos) return {};
    return {ordered_[to].id};
}

std::vector<char> RevisionGraph::applied_mask(const std::vector<std::string>& heads) const {
    // An explicit stack: a 10,000-revision chain would overflow the call stack if recursed.
    std::vector<char> applied(ordered_.size(), 0);
    std::vector<std::size_t> stack;
    for (const auto& id : heads) {
        const std::size_t pos = position(id);
        if (!applied[pos]) {
            applied[pos] = 1;
            stack.push_back(pos);
        }
    }
    while (!stack.empty()) {
        const std::size_t pos = stack.back();
        stack.pop_back();
        for (std::size_t parent : parent_positions_[pos])
            if (!applied[parent]) {
                applied[parent] = 1;
                stack.push_back(parent);
            }
    }
    return applied;
}

std::vector<std::string> RevisionGraph::ancestors_or_self(
    const std::vector<std::string>& ids) const {
    const std::vector<char> mask = applied_mask(ids);
    std::vector<std::string> out;
    for (std::size_t pos = 0; pos < ordered_.size(); ++pos)
        if (mask[pos]) out.push_back(ordered_[pos].id);
    return out;
}

std::vector<Step> RevisionGraph::make_steps(std::vector<char> applied,
                                            const std::vector<std::size_t>& order,
                                            Direction direction) const {
    // Version rows are the applied revisions with no applied child; counting applied children
    // keeps each step's rows up to date without rescanning the graph.
    std::vector<std::size_t> applied_children(ordered_.size(), 0);
    for (std::size_t pos = 0; pos < ordered_.size(); ++pos)
        if (applied[pos])
            for (std::size_t parent : parent_positions_[pos]) ++applied_children[parent];
    std::set<std::string_view> rows;
    for (std::size_t pos = 0; pos < ordered_.size(); ++pos)
        if (applied[pos] && applied_children[pos] == 0) rows.insert(ordered_[pos].id);

    const auto snapshot = [&rows] { return std::vector<std::string>(rows.begin(), rows.end()); };
    std::vector<Step> steps;
    steps.reserve(order.size());
    for (std::size_t pos : order) {
        Step step{ordered_[pos].id, direction, snapshot(), {}};
        if (direction == Direction::upgrade) {
            applied[pos] = 1;
            rows.insert(ordered_[pos].id);
            for (std::size_t parent : parent_positions_[pos])
                if (applied_children[parent]++ == 0) rows.erase(ordered_[parent].id);
        } else {
            applied[pos] = 0;
            rows.erase(ordered_[pos].id);
            for (std::size_t parent : parent_positions_[pos])
                if (--applied_children[parent] == 0) rows.insert(ordered_[parent].id);
        }
        step.heads_after = snapshot();
        steps.push_back(std::move(step));
    }
    return steps;
}

std::vector<Step> RevisionGraph::plan_upgrade(const std::vector<std::string>& current,
                                              const std::vector<std::string>& target) const {
    require_known_current(*this, current);
    const std::vector<char> applied = applied_mask(current);
    const std::vector<char> wanted = applied_mask(target);

    std::vector<std::size_t> to_apply;
    for (std::size_t pos = 0; pos < ordered_.size(); ++pos)
        if (wanted[pos] && !applied[pos]) to_apply.push_back(pos);

    if (to_apply.empty()) {
        // Nothing to apply is "already there" only if no target revision lies below a current
        // head; otherwise the user asked to go back, and that is downgrade's job.
        bool older = target.empty() && !current.empty();
        for (const auto& id : target)
            for (std::size_t child : child_positions_[position(id)])
                older = older || applied[child];
        if (older)
            throw RevisionError("Destination " + describe_heads(target) +
                                " is not a valid upgrade target from current head(s) " +
                                describe_heads(current) + "; it is older — use downgrade");
    }
    return make_steps(applied, to_apply, Direction::upgrade);
}

std::vector<Step> RevisionGraph::plan_downgrade(const std::vector<std::string>& current,
                                                const std::vector<std::string>& target) const {
    require_known_current(*this, current);
    const std::vector<char> applied = applied_mask(current);

    // Only applied revisions can be strict descendants of an applied target and themselves be
    // applied, so the search stays inside the applied set.
    std::vector<char> remove = target.empty() ? applied : std::vector<char>(ordered_.size(), 0);
    std::vector<std::size_t> stack;
    for (const auto& id : target) {
        const std::size_t pos = position(id);
        if (!applied[pos])
            throw RevisionError("Destination " + describe_heads(target) +
                                " is not a valid downgrade target from current head(s) " +
                                describe_heads(current) + "; it is not applied — use upgrade");
        stack.push_back(pos);
    }
    while (!stack.empty()) {
        const std::size_t pos = stack.back();
        stack.pop_back();
        for (std::size_t child : child_positions_[pos])
            if (applied[child] && !remove[child]) {
                remove[child] = 1;
                stack.push_back(child);
            }
    }

    std::vector<std::size_t> to_remove;
    for (std::size_t pos = ordered_.size(); pos-- > 0;)
        if (remove[pos]) to_remove.push_back(pos);
    return make_steps(applied, to_remove, Direction::downgrade);
}

}  // namespace migrator
