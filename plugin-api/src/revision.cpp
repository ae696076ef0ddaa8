// The bodies of the revision authoring layer (revision.hpp): compiled once into the plugin-api
// support library that every plugin links, so a revision compiles only its own code. Queries are
// in revision_query.cpp, an object file of its own that a revision which never queries leaves out.
#include <cstring>
#include <migrator/revision.hpp>
#include <string>
#include <utility>

namespace migrator {

SqlError::SqlError(const std::string& message, CallSite site, std::string statement)
    : std::runtime_error(message), site_(site), statement_(std::move(statement)) {}

std::string SqlError::described() const {
    std::string where;
    if (site_.file != nullptr && *site_.file != '\0') {
        const std::string_view file = site_.file;
        const std::size_t slash = file.find_last_of('/');
        where = "at " +
                std::string(slash == std::string_view::npos ? file : file.substr(slash + 1)) + ":" +
                std::to_string(site_.line);
    }
    if (!statement_.empty()) {
        // On one line, and short: the statement is there to be recognised, not re-read.
        constexpr std::size_t longest = 120;
        std::string line;
        for (const char c : statement_) {
            const bool space = c == ' ' || c == '\n' || c == '\t' || c == '\r';
            if (space && (line.empty() || line.back() == ' ')) continue;
            line += space ? ' ' : c;
        }
        while (!line.empty() && line.back() == ' ') line.pop_back();
        if (line.size() > longest) line = line.substr(0, longest - 3) + "...";
        where += (where.empty() ? "in `" : ", in `") + line + "`";
    }
    return where.empty() ? std::string(what()) : std::string(what()) + " (" + where + ")";
}

void Context::execute(std::string_view sql, CallSite site) const {
    const std::string text(sql);
    if (host_->execute(host_->session, text.c_str()) != MIGRATOR_OK)
        throw SqlError(host_->last_error(host_->session), site, text);
}

void Context::log(std::string_view message) const {
    const std::string text(message);
    host_->log(host_->session, MIGRATOR_LOG_INFO, text.c_str());
}

void Context::run_operation(const void* operation, std::size_t size, CallSite site) const {
    if (!MIGRATOR_HOST_HAS(host_, run_operation) || host_->run_operation == nullptr)
        throw SqlError("this migrator cannot run portable operations (its plugin ABI is " +
                       std::to_string(host_->abi_version) + "); upgrade migrator");
    if (host_->run_operation(host_->session, operation, size) != MIGRATOR_OK)
        throw SqlError(host_->last_error(host_->session), site, "");
}

std::optional<std::string> Context::argument(std::string_view key) const {
    if (!MIGRATOR_HOST_HAS(host_, argument) || host_->argument == nullptr) return std::nullopt;
    const std::string name(key);
    const char* value = host_->argument(host_->session, name.c_str());
    if (value == nullptr) return std::nullopt;
    return std::string(value);
}

namespace detail {

void copy_error(char* error, std::size_t size, const char* text) noexcept {
    if (error == nullptr || size == 0) return;
    std::strncpy(error, text, size - 1);
    error[size - 1] = '\0';
}

}  // namespace detail
}  // namespace migrator
