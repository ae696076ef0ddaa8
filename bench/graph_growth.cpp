// How RevisionGraph's work grows with the number of revisions: builds synthetic graphs in memory
// (no files, no database) and times construction, identifier resolution and planning.
//
//   migrator_bench_graph_growth [N...]       default: 1000 10000 100000
//
// Prints a markdown table: the median time of each operation at each size, and how much it grew
// from the smallest to the largest size next to how much the size grew (linear = the same).
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <migrator/graph/graph.hpp>
#include <string>
#include <utility>
#include <vector>

#include "synthetic_revisions.hpp"

using migrator::Revision;
using migrator::RevisionGraph;
using migrator::bench::revision_id;

namespace {

/// A straight chain: 1 <- 2 <- ... <- n.
std::vector<Revision> chain(std::size_t n) {
    std::vector<Revision> out(n);
    for (std::size_t i = 1; i <= n; ++i) {
        Revision& r = out[i - 1];
        r.id = revision_id(i);
        if (i > 1) r.parents = {revision_id(i - 1)};
        r.message = migrator::bench::message(i);
    }
    return out;
}

/// Diamonds of ten: a revision branches into two lines of four that a merge revision joins; the
/// next diamond grows from that merge. A branch point and a merge point every ten revisions.
std::vector<Revision> diamonds(std::size_t n) {
    std::vector<Revision> out(n);
    for (std::size_t i = 1; i <= n; ++i) {
        Revision& r = out[i - 1];
        r.id = revision_id(i);
        r.message = migrator::bench::message(i);
        const std::size_t slot = (i - 1) % 10;  // 0 root, 1-4 line A, 5-8 line B, 9 merge
        const std::size_t root = i - slot;
        if (slot == 0) {
            if (i > 1) r.parents = {revision_id(i - 1)};
        } else if (slot == 1 || slot == 5) {
            r.parents = {revision_id(root)};
        } else if (slot == 9) {
            r.parents = {revision_id(root + 4), revision_id(root + 8)};
        } else {
            r.parents = {revision_id(i - 1)};
        }
    }
    return out;
}

/// Median seconds of `body` over enough runs to fill ~0.2 s (at least 3, at most 50).
double median_seconds(const std::function<void()>& body) {
    std::vector<double> times;
    double total = 0;
    while (times.size() < 3 || (total < 0.2 && times.size() < 50)) {
        const auto start = std::chrono::steady_clock::now();
        body();
        const double seconds =
            std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
        times.push_back(seconds);
        total += seconds;
    }
    std::sort(times.begin(), times.end());
    return times[times.size() / 2];
}

std::string format_time(double seconds) {
    char text[32];
    if (seconds < 1e-3)
        std::snprintf(text, sizeof text, "%.1f µs", seconds * 1e6);
    else if (seconds < 1)
        std::snprintf(text, sizeof text, "%.2f ms", seconds * 1e3);
    else
        std::snprintf(text, sizeof text, "%.2f s", seconds);
    return text;
}

// Keeps results alive so the optimiser cannot drop the work.
volatile std::size_t sink = 0;

struct Operation {
    std::string name;
    std::function<double(std::size_t)> time_at;  // seconds at size n
};

std::vector<Operation> operations() {
    using Shape = std::vector<Revision> (*)(std::size_t);
    std::vector<Operation> out;
    for (const auto& [shape_name, shape] : {std::pair<const char*, Shape>{"chain", &chain},
                                            std::pair<const char*, Shape>{"diamonds", &diamonds}}) {
        const std::string prefix = std::string(shape_name) + ": ";
        out.push_back({prefix + "build graph (validate, sort, index)", [shape](std::size_t n) {
                           const auto revisions = shape(n);
                           return median_seconds([&] {
                               RevisionGraph graph(revisions);  // the copy is part of the cost
                               sink = sink + graph.size();
                           });
                       }});
        // The remaining operations share one graph per size.
        const auto with_graph = [shape](std::function<void(const RevisionGraph&, std::size_t)> op) {
            return [shape, op](std::size_t n) {
                const RevisionGraph graph(shape(n));
                return median_seconds([&] { op(graph, n); });
            };
        };
        out.push_back({prefix + "heads()", with_graph([](const RevisionGraph& g, std::size_t) {
                           sink = sink + g.heads().size();
                       })});
        out.push_back(
            {prefix + "resolve `head`", with_graph([](const RevisionGraph& g, std::size_t) {
                 sink = sink + g.resolve_target("head", {}).size();
             })});
        out.push_back({prefix + "resolve an 8-digit prefix",
                       with_graph([](const RevisionGraph& g, std::size_t n) {
                           sink = sink + g.resolve_id(revision_id(n / 2).substr(0, 8)).size();
                       })});
        // Relative steps through a merge or a branch point are ambiguous (refused), so walks are
        // timed on the chain only.
        if (shape == &chain) {
            out.push_back({prefix + "resolve `head-<n/2>` (walk)",
                           with_graph([](const RevisionGraph& g, std::size_t n) {
                               const std::string target = "head-" + std::to_string(n / 2);
                               sink = sink + g.resolve_target(target, {}).size();
                           })});
            out.push_back({prefix + "downgrade_destination(`-1`) from head",
                           with_graph([](const RevisionGraph& g, std::size_t) {
                               sink = sink + g.downgrade_destination("-1", g.heads()).size();
                           })});
        }
        out.push_back({prefix + "upgrade_destination(`head`) from base",
                       with_graph([](const RevisionGraph& g, std::size_t) {
                           sink = sink + g.upgrade_destination("head", {}).size();
                       })});
        out.push_back({prefix + "plan_upgrade base → head (n steps)",
                       with_graph([](const RevisionGraph& g, std::size_t) {
                           sink = sink + g.plan_upgrade({}, g.heads()).size();
                       })});
        out.push_back({prefix + "plan_downgrade head → base (n steps)",
                       with_graph([](const RevisionGraph& g, std::size_t) {
                           sink = sink + g.plan_downgrade(g.heads(), {}).size();
                       })});
        out.push_back({prefix + "plan_upgrade head-1 → head (1 step)",
                       with_graph([](const RevisionGraph& g, std::size_t) {
                           const auto below = g.at(g.heads().front()).parents;
                           sink = sink + g.plan_upgrade(below, g.heads()).size();
                       })});
        out.push_back({prefix + "history -r `:head` (range)",
                       with_graph([](const RevisionGraph& g, std::size_t) {
                           sink = sink + g.resolve_range(":head", {}).size();
                       })});
    }
    return out;
}

std::string with_commas(std::size_t n) {
    std::string digits = std::to_string(n);
    for (int at = static_cast<int>(digits.size()) - 3; at > 0; at -= 3)
        digits.insert(static_cast<std::size_t>(at), ",");
    return digits;
}

}  // namespace

int main(int argc, char** argv) {
    std::vector<std::size_t> sizes;
    for (int i = 1; i < argc; ++i) {
        const long long n = std::atoll(argv[i]);
        if (n < 10 || n % 10 != 0) {
            std::fprintf(stderr, "migrator_bench_graph_growth: sizes are multiples of 10\n");
            return 2;
        }
        sizes.push_back(static_cast<std::size_t>(n));
    }
    if (sizes.empty()) sizes = {1000, 10000, 100000};
    const double size_growth =
        static_cast<double>(sizes.back()) / static_cast<double>(sizes.front());

    std::printf("| operation |");
    for (std::size_t n : sizes) std::printf(" %s |", with_commas(n).c_str());
    std::printf(" growth %s → %s (size ×%.0f) |\n|---|", with_commas(sizes.front()).c_str(),
                with_commas(sizes.back()).c_str(), size_growth);
    for (std::size_t i = 0; i < sizes.size(); ++i) std::printf("---:|");
    std::printf("---:|\n");
    for (const auto& op : operations()) {
        std::vector<double> times;
        for (std::size_t n : sizes) times.push_back(op.time_at(n));
        std::printf("| %s |", op.name.c_str());
        for (double t : times) std::printf(" %s |", format_time(t).c_str());
        const double growth = times.back() / std::max(times.front(), 1e-9);
        // Per-revision cost growth: 1.0 is linear, log-linear shows as a slow climb.
        std::printf(" ×%.0f (per revision ×%.2f) |\n", growth, growth / size_growth);
        std::fflush(stdout);
    }
    return 0;
}
