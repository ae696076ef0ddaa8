// The revision graph: resolving identifiers (`head`, prefixes, `label@+N`, ...) and history ranges.
#include <algorithm>
#include <limits>
#include <migrator/errors.hpp>
#include <migrator/graph.hpp>

#include "graph_text.hpp"

namespace migrator {

using detail::join;
using detail::quoted;

namespace {

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

// A short prefix can match thousands of ids; a few are enough to pick a longer one.
std::string some_of(const std::vector<std::string>& ids) {
    constexpr std::size_t shown = 10;
    if (ids.size() <= shown) return join(ids);
    std::vector<std::string> listed(ids.begin(), ids.begin() + static_cast<std::ptrdiff_t>(shown));
    return join(listed) + ", ... (" + std::to_string(ids.size()) + " in all)";
}

}  // namespace

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
    throw RevisionError("Revision prefix '" + std::string(id_or_prefix) +
                        "' is ambiguous; it matches " + some_of(matches));
}

// An id, a branch label or an id prefix; behind `label@`, only revisions of that branch count, so
// a prefix shared with another branch's revision is still unique there.
std::size_t RevisionGraph::resolve_on_branch(std::string_view expression, std::string_view text,
                                             const Branch* branch) const {
    if (text.empty())
        throw RevisionError("Revision " + quoted(expression) + " names an empty revision");
    if (branch == nullptr) {
        if (const auto label = labels_.find(text); label != labels_.end()) return label->second;
        return position(resolve_id(text));
    }
    const std::string on = "branch " + quoted(branch->label);
    if (const auto found = index_.find(text); found != index_.end()) {
        if (!branch->members[found->second])
            throw RevisionError("Revision " + quoted(text) + " in " + quoted(expression) +
                                " is not on " + on);
        return found->second;
    }
    const std::vector<std::string> matches = prefix_matches(text);
    std::vector<std::string> on_branch;
    for (const auto& id : matches)
        if (branch->members[position(id)]) on_branch.push_back(id);
    if (on_branch.size() == 1) return position(on_branch.front());
    if (matches.empty()) throw RevisionError("No such revision " + quoted(text));
    if (on_branch.empty())
        throw RevisionError("Revision " + quoted(text) + " in " + quoted(expression) +
                            " is not on " + on + "; it matches " + some_of(matches));
    throw RevisionError("Revision prefix " + quoted(text) + " is ambiguous on " + on +
                        "; it matches " + some_of(on_branch));
}

// The revision `+N`/`-N` counts from: the single current row, or behind `label@` the current
// revision on that branch, or npos (base, or below the branch when none of it is applied).
std::size_t RevisionGraph::current_on_branch(std::string_view expression,
                                             const std::vector<std::string>& current,
                                             const Branch* branch, bool forward) const {
    detail::require_known_current(*this, current);
    const std::vector<std::size_t> rows_at = positions(current);
    if (branch == nullptr) {
        if (rows_at.size() > 1) {
            std::vector<std::string> sorted(current);
            std::sort(sorted.begin(), sorted.end());
            throw RevisionError("Relative revision " + quoted(expression) +
                                " is ambiguous from multiple current revisions (" + join(sorted) +
                                "); count from one of them, as in '" + sorted.front() +
                                std::string(expression) + "', or name a branch, as in 'label@" +
                                std::string(expression) + "'");
        }
        return rows_at.empty() ? npos : rows_at.front();
    }
    // A branch is closed under children, so an applied child of a member is a member too.
    const Mask applied = ancestors(rows_at);
    std::vector<std::string> found;
    std::size_t at = npos;
    for (std::size_t pos = 0; pos < ordered_.size(); ++pos) {
        if (!applied[pos] || !branch->members[pos]) continue;
        const auto& children = child_positions_[pos];
        if (std::none_of(children.begin(), children.end(),
                         [&](std::size_t child) { return applied[child] != 0; })) {
            found.push_back(ordered_[pos].id);
            at = pos;
        }
    }
    if (found.size() > 1)
        throw RevisionError("Relative revision " + quoted(expression) + " is ambiguous: branch " +
                            quoted(branch->label) + " has several current revisions (" +
                            join(found) + "); count from one of them, as in '" + branch->label +
                            "@" + found.front() + (forward ? "+1'" : "-1'"));
    if (found.empty() && !forward)
        throw RevisionError("Relative revision " + quoted(expression) +
                            " has nothing to count back from: no revision of branch " +
                            quoted(branch->label) + " is applied");
    return at;
}

std::size_t RevisionGraph::walk(std::string_view expression, std::size_t from, bool forward,
                                std::size_t steps, const Branch* branch) const {
    const std::string name = quoted(expression);
    const auto on_branch = [branch](std::size_t pos) {
        return branch == nullptr || branch->members[pos] != 0;
    };
    std::size_t at = from;
    for (std::size_t done = 0; done < steps; ++done) {
        if (forward) {
            std::vector<std::size_t> above;
            if (at == npos) {
                // Base, or below a branch: where the (branch's) revisions start.
                for (std::size_t pos = 0; pos < ordered_.size(); ++pos) {
                    const auto& parents = parent_positions_[pos];
                    if (on_branch(pos) && std::none_of(parents.begin(), parents.end(), on_branch))
                        above.push_back(pos);
                }
            } else {
                for (std::size_t child : child_positions_[at])
                    if (on_branch(child)) above.push_back(child);
            }
            if (above.empty()) {
                std::string where = "there are no revisions";
                if (at != npos)
                    where = quoted(ordered_[at].id) +
                            (child_positions_[at].empty()
                                 ? std::string(" is a head")
                                 : " has no child on branch " + quoted(branch->label)) +
                            " after " + std::to_string(done) + " step(s)";
                // Alembic's wording, so its users recognise the error.
                throw RevisionError("Relative revision " + name + " didn't produce " +
                                    std::to_string(steps) + " migrations; " + where);
            }
            if (above.size() > 1) {
                std::vector<std::string> names;
                for (std::size_t pos : above) names.push_back(ordered_[pos].id);
                throw RevisionError(
                    "Relative revision " + name + " is ambiguous: " +
                    (at == npos ? std::string("base has several revisions above it (")
                                : "revision " + quoted(ordered_[at].id) +
                                      " is a branch point with children (") +
                    join(names) + "); name the branch to count along, as in 'label@" +
                    std::string(expression) + "', or count from one of them");
            }
            at = above.front();
        } else {
            if (at == npos)
                throw RevisionError("Relative revision " + name + " didn't produce " +
                                    std::to_string(steps) + " migrations; it reaches base after " +
                                    std::to_string(done) + " step(s)");
            std::vector<std::size_t> below = parent_positions_[at];
            if (below.size() > 1 && branch != nullptr) {
                // Behind `label@`, the parent on that branch is the way back.
                std::vector<std::size_t> mine;
                for (std::size_t parent : below)
                    if (branch->members[parent]) mine.push_back(parent);
                if (mine.size() == 1) below = mine;
            }
            if (below.size() > 1) {
                std::vector<std::string> names;
                for (std::size_t pos : below) names.push_back(ordered_[pos].id);
                throw RevisionError("Relative revision " + name + " is ambiguous: revision " +
                                    quoted(ordered_[at].id) + " is a merge of " + join(names) +
                                    "; name the parent to count from");
            }
            at = below.empty() ? npos : below.front();
        }
    }
    return at;
}

RevisionGraph::Target RevisionGraph::resolve(std::string_view expression,
                                             const std::vector<std::string>& current) const {
    if (expression.empty()) throw RevisionError("An empty string is not a revision identifier");
    Target target;
    // An exact id wins even when it contains '@', '+' or '-'.
    if (const auto found = index_.find(expression); found != index_.end()) {
        target.positions.push_back(found->second);
        return target;
    }

    std::string_view text = expression;
    if (const std::size_t at = expression.find('@'); at != std::string_view::npos) {
        text = expression.substr(at + 1);
        if (at == 0 || text.empty())
            throw RevisionError("Revision " + quoted(expression) +
                                " must name a branch label and a revision on it, as in "
                                "'label@head' or 'label@+1'");
        target.branch = branch(expression.substr(0, at));
    }
    const Branch* on = target.branch.label.empty() ? nullptr : &target.branch;
    const auto heads_on = [&] {
        std::vector<std::size_t> out;
        for (std::size_t pos = 0; pos < ordered_.size(); ++pos)
            if (child_positions_[pos].empty() && (on == nullptr || on->members[pos]))
                out.push_back(pos);
        return out;
    };
    const auto single_head = [&](const std::vector<std::size_t>& heads) {
        if (heads.size() <= 1) return heads.empty() ? npos : heads.front();
        std::vector<std::string> names;
        for (std::size_t pos : heads) names.push_back(ordered_[pos].id);
        if (on != nullptr)
            throw RevisionError("Revision " + quoted(expression) + " is ambiguous: branch " +
                                quoted(on->label) + " has several heads (" + join(names) +
                                "); use '" + on->label + "@heads' to target all of them");
        throw RevisionError(
            "Revision " + quoted(expression) + " is ambiguous: there are several heads (" +
            join(names) +
            "); use 'heads' to target all of them, 'label@head' for the head of one " + "branch" +
            (labels_.empty() ? std::string() : " (labels: " + join(branch_labels()) + ")") +
            ", or name one revision");
    };

    if (text == "base") {
        if (on != nullptr) {
            // The revision(s) the branch grows from: parents of its lowest revisions.
            target.below_branch = true;
            for (std::size_t pos = 0; pos < ordered_.size(); ++pos) {
                if (!on->members[pos]) continue;
                const auto& parents = parent_positions_[pos];
                if (std::any_of(parents.begin(), parents.end(),
                                [&](std::size_t p) { return on->members[p] != 0; }))
                    continue;
                target.positions.insert(target.positions.end(), parents.begin(), parents.end());
            }
            std::sort(target.positions.begin(), target.positions.end());
            target.positions.erase(std::unique(target.positions.begin(), target.positions.end()),
                                   target.positions.end());
        }
        return target;
    }
    if (text == "heads") {
        target.positions = heads_on();
        return target;
    }
    if (text == "head") {
        if (const std::size_t head = single_head(heads_on()); head != npos)
            target.positions.push_back(head);
        return target;
    }

    const std::size_t op = text.find_last_of("+-");
    if (op == std::string_view::npos || (on != nullptr && find(text) != nullptr)) {
        target.positions.push_back(resolve_on_branch(expression, text, on));
        return target;
    }
    const std::string_view anchor = text.substr(0, op);
    const std::string_view count = text.substr(op + 1);
    if (!all_digits(count)) {
        if (!prefix_matches(text).empty()) {
            target.positions.push_back(resolve_on_branch(expression, text, on));
            return target;
        }
        throw RevisionError("Relative revision " + quoted(expression) +
                            " must end in '+' or '-' and a whole number of steps, as in '+1', "
                            "'head-2', 'base+3' or 'label@+1'");
    }
    const std::size_t steps = parse_steps(count);
    if (steps == 0)
        throw RevisionError("Relative revision " + quoted(expression) +
                            " must move at least one step");
    const bool forward = text[op] == '+';

    std::size_t from = npos;
    if (anchor.empty())
        from = current_on_branch(expression, current, on, forward);
    else if (anchor == "head")
        from = single_head(heads_on());
    else if (anchor == "heads")
        throw RevisionError("Relative revision " + quoted(expression) +
                            " cannot count from 'heads', which may be several revisions; "
                            "count from 'head' or from one revision");
    else if (anchor != "base")
        from = resolve_on_branch(expression, anchor, on);

    if (const std::size_t to = walk(expression, from, forward, steps, on); to != npos)
        target.positions.push_back(to);
    return target;
}

std::vector<std::string> RevisionGraph::resolve_target(
    std::string_view expression, const std::vector<std::string>& current) const {
    const Target target = resolve(expression, current);
    std::vector<std::string> out;
    for (std::size_t pos : target.positions) out.push_back(ordered_[pos].id);
    return out;
}

std::vector<std::string> RevisionGraph::resolve_range(
    std::string_view expression, const std::vector<std::string>& current) const {
    const std::size_t colon = expression.find(':');
    if (colon == std::string_view::npos ||
        expression.find(':', colon + 1) != std::string_view::npos)
        throw RevisionError("Range " + quoted(expression) +
                            " must have one ':' between its ends, as in 'A:B', ':B', 'A:' or "
                            "'current:'");
    const std::string_view lower = expression.substr(0, colon);
    const std::string_view upper = expression.substr(colon + 1);

    // `current` is a range end only, as in Alembic's `history -r current:`.
    const auto resolve_end = [&](std::string_view text, Target& target) {
        if (text == "current") {
            detail::require_known_current(*this, current);
            target.positions = positions(current);
        } else {
            target = resolve(text, current);
        }
    };

    const Mask everything(ordered_.size(), 1);
    Mask from = everything;
    if (!lower.empty()) {
        Target target;
        resolve_end(lower, target);
        if (target.below_branch) {
            from = descendants(target.branch.members, true);
        } else if (!target.positions.empty()) {
            Mask seeds(ordered_.size(), 0);
            for (std::size_t pos : target.positions) seeds[pos] = 1;
            from = descendants(seeds, true);
        }
    }
    Mask to = everything;
    if (!upper.empty()) {
        Target target;
        resolve_end(upper, target);
        to = ancestors(target.positions);
    }

    Mask both(ordered_.size(), 0);
    bool any = false;
    for (std::size_t pos = 0; pos < ordered_.size(); ++pos) {
        both[pos] = static_cast<char>(from[pos] && to[pos]);
        any = any || both[pos];
    }
    const bool from_everything = std::all_of(from.begin(), from.end(), [](char c) { return c; });
    const bool to_nothing = std::none_of(to.begin(), to.end(), [](char c) { return c; });
    if (!any && !from_everything && !to_nothing)
        throw RevisionError("Range " + quoted(expression) + " is empty: " + quoted(lower) +
                            " is not below " + quoted(upper));
    return ids(both);
}

}  // namespace migrator
