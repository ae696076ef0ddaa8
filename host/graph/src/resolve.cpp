// The revision graph: resolving identifiers (`head`, prefixes, `label@+N`, ...) and history ranges.
#include <algorithm>
#include <limits>
#include <migrator/common/errors.hpp>
#include <migrator/graph/graph.hpp>

#include "graph_text.hpp"

namespace migrator {

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
    // Alembic counts from the current rows in the lineage; going up with none there, from the
    // tips of what is applied in it (base when nothing is).
    std::vector<std::string> found;
    std::size_t at = npos;
    for (std::size_t pos : rows_at)
        if (branch->members[pos]) {
            found.push_back(ordered_[pos].id);
            at = pos;
        }
    const Mask applied = ancestors(rows_at);
    for (std::size_t pos = 0; found.empty() && forward && pos < ordered_.size(); ++pos) {
        if (!applied[pos] || !branch->members[pos]) continue;
        const auto& children = child_positions_[pos];
        if (std::none_of(children.begin(), children.end(), [&](std::size_t child) {
                return applied[child] != 0 && branch->members[child] != 0;
            })) {
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
                            " has nothing to count back from: no current revision is on branch " +
                            quoted(branch->label));
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
                                " must name a branch label (or a revision) and a revision in its "
                                "lineage, as in 'label@head' or 'label@+1'");
        target.branch = lineage(expression.substr(0, at));
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

    // `X@base` is base, as in Alembic; a downgrade still reads X from the target.
    if (text == "base") return target;
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

std::vector<std::string> RevisionGraph::outside_lineage(
    std::string_view expression, const std::vector<std::string>& ids_given) const {
    const std::size_t at = expression.find('@');
    if (find(expression) != nullptr || at == std::string_view::npos || at == 0) return {};
    const Branch scope = lineage(expression.substr(0, at));
    std::vector<std::string> out;
    for (const auto& id : ids_given)
        if (!scope.members[position(id)]) out.push_back(id);
    return out;
}

std::vector<std::string> RevisionGraph::resolve_target(
    std::string_view expression, const std::vector<std::string>& current) const {
    const Target target = resolve(expression, current);
    std::vector<std::string> out;
    for (std::size_t pos : target.positions) out.push_back(ordered_[pos].id);
    return out;
}

namespace {

// `+N`, `-N`, `X@+N` or `X@-N`: a count with no revision to count from; `sign` gets '+' or '-'.
bool anchorless_relative(std::string_view text, char& sign) {
    const std::size_t at = text.find('@');
    const std::string_view count = at == std::string_view::npos ? text : text.substr(at + 1);
    if (count.size() < 2 || (count[0] != '+' && count[0] != '-') || !all_digits(count.substr(1)))
        return false;
    sign = count[0];
    return true;
}

}  // namespace

// Alembic's lower end `-N` (`get_revisions("-N")`): N down from each head (in X's lineage for
// `X@-N`); when that walks past base, N down from the upper end instead.
std::vector<std::size_t> RevisionGraph::range_lower(std::string_view expression,
                                                    std::string_view text, std::string_view upper,
                                                    const std::vector<std::string>& current) const {
    const std::size_t at = text.find('@');
    Branch scope;
    if (at != std::string_view::npos) scope = lineage(text.substr(0, at));
    const Branch* on = at == std::string_view::npos ? nullptr : &scope;
    const std::size_t steps = parse_steps(text.substr(at == std::string_view::npos ? 1 : at + 2));
    std::vector<std::size_t> out;
    try {
        for (std::size_t pos = 0; pos < ordered_.size(); ++pos)
            if (child_positions_[pos].empty() && (on == nullptr || on->members[pos]))
                if (const std::size_t to = walk(text, pos, false, steps, on); to != npos)
                    out.push_back(to);
        return out;
    } catch (const RevisionError&) {
        char sign = 0;
        if (upper.empty() || upper == "current" || anchorless_relative(upper, sign)) throw;
    }
    const Target end = resolve(upper, current);
    if (end.positions.size() != 1)
        throw RevisionError("Range " + quoted(expression) + ": " + quoted(text) +
                            " walks past base from the heads and cannot count down from " +
                            quoted(upper) + ", which is not one revision");
    if (const std::size_t to = walk(text, end.positions.front(), false, steps, on); to != npos)
        out.push_back(to);
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
    char lower_sign = 0;
    char upper_sign = 0;
    const bool lower_relative = find(lower) == nullptr && anchorless_relative(lower, lower_sign);
    const bool upper_relative = find(upper) == nullptr && anchorless_relative(upper, upper_sign);
    if (lower_relative && lower_sign == '+')
        throw RevisionError("Range " + quoted(expression) +
                            ": a relative lower end counts down "
                            "from the heads, as in '-1:'; " +
                            quoted(lower) + " is not one");
    if (upper_relative && upper_sign == '-')
        throw RevisionError("Range " + quoted(expression) +
                            ": a relative upper end counts up "
                            "from the lower end, as in 'A:+1'; " +
                            quoted(upper) + " is not one");
    if (lower_relative && upper_relative)
        throw RevisionError("Range " + quoted(expression) +
                            " has two relative ends; name a revision at one of them");

    // `current` is a range end only, as in Alembic's `history -r current:`.
    const auto resolve_end = [&](std::string_view text,
                                 const std::vector<std::string>& from) -> std::vector<std::size_t> {
        if (text == "current") {
            detail::require_known_current(*this, current);
            return positions(current);
        }
        return resolve(text, from).positions;
    };

    const Mask everything(ordered_.size(), 1);
    Mask from = everything;
    std::vector<std::string> lower_ids;  // where a relative upper end counts from
    if (!lower.empty()) {
        const std::vector<std::size_t> start = lower_relative
                                                   ? range_lower(expression, lower, upper, current)
                                                   : resolve_end(lower, current);
        if (!start.empty()) {
            Mask seeds(ordered_.size(), 0);
            for (std::size_t pos : start) {
                seeds[pos] = 1;
                lower_ids.push_back(ordered_[pos].id);
            }
            from = descendants(seeds, true);
        }
    }
    // Alembic keeps only the upper targets on the lower end's branch (`lbl@base:` lists the
    // branch's heads and what they need, not every head).
    std::vector<std::size_t> top;
    if (upper.empty()) {
        for (std::size_t pos = 0; pos < ordered_.size(); ++pos)
            if (child_positions_[pos].empty()) top.push_back(pos);
    } else {
        top = resolve_end(upper, upper_relative ? lower_ids : current);
    }
    if (const std::size_t at = lower.find('@');
        at != std::string_view::npos && find(lower) == nullptr) {
        const Branch scope = lineage(lower.substr(0, at));
        top.erase(std::remove_if(top.begin(), top.end(),
                                 [&](std::size_t pos) { return !scope.members[pos]; }),
                  top.end());
    }
    const Mask to = ancestors(top);

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
