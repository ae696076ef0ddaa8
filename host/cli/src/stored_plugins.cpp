// What a run stores with the revisions it applies, and reading those plugins back, signatures
// required, for an older release to undo revisions its versions directory lacks.
#include "stored_plugins.hpp"

#include <fcntl.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <map>
#include <migrator/common/errors.hpp>
#include <migrator/plugins/signatures.hpp>
#include <set>
#include <sstream>

#include "format.hpp"

namespace migrator::cli {
namespace {

bool ends_with(const std::string& text, std::string_view suffix) {
    return text.size() >= suffix.size() &&
           text.compare(text.size() - suffix.size(), suffix.size(), suffix) == 0;
}

/// Writes `bytes` to a new file `path` (mode 0600); throws PluginError naming it.
void write_new_file(const std::filesystem::path& path, const std::string& bytes) {
    const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (fd < 0) throw PluginError("cannot write " + path.string() + ": " + std::strerror(errno));
    std::size_t done = 0;
    while (done < bytes.size()) {
        const ssize_t wrote = ::write(fd, bytes.data() + done, bytes.size() - done);
        if (wrote < 0 && errno == EINTR) continue;
        if (wrote <= 0) {
            const int error = errno;
            ::close(fd);
            throw PluginError("cannot write " + path.string() + ": " + std::strerror(error));
        }
        done += static_cast<std::size_t>(wrote);
    }
    if (::close(fd) != 0)
        throw PluginError("cannot write " + path.string() + ": " + std::strerror(errno));
}

/// Whether a stored file name can be a file of the temporary directory, as it was of a versions
/// directory: a plugin file name, no path.
bool is_plugin_file_name(const std::string& name) {
    return name.size() > 3 && name.size() <= 255 && name.find('/') == std::string::npos &&
           name.front() != '.' && ends_with(name, ".so");
}

}  // namespace

PluginProvenance provenance_of(const std::filesystem::path& versions_dir,
                               const RevisionGraph& graph, const ReleaseHistory& releases,
                               const std::vector<Step>& plan) {
    namespace fs = std::filesystem;
    PluginProvenance provenance;
    std::error_code error;
    for (fs::directory_iterator it(versions_dir, error), end; !error && it != end;
         it.increment(error)) {
        const auto name = it->path().filename().string();
        if (!ends_with(name, signature_file_extension) || !it->is_regular_file(error) ||
            it->file_size(error) > max_signature_file_size)
            continue;
        std::ifstream in(it->path(), std::ios::binary);
        std::ostringstream text;
        text << in.rdbuf();
        try {
            const auto file = parse_signature_file(text.str(), it->path().string());
            const auto sha256 = sha256_hex(text.str());
            for (const auto& entry : file.entries) provenance.signed_by.emplace(entry.name, sha256);
            provenance.signature_files.emplace(sha256, text.str());
        } catch (const PluginError&) {
            // A signature file that does not parse vouches for nothing; reading the directory
            // already refused it if signatures are required.
        }
    }
    if (releases.empty()) return provenance;
    std::set<std::string> wanted;
    for (const auto& step : plan)
        if (step.direction == Direction::upgrade) wanted.insert(step.revision);
    for (const auto& release : releases.releases())
        for (const auto& id : graph.ancestors_or_self(release.rows))
            if (wanted.count(id) != 0) provenance.releases.emplace(id, release.name);
    return provenance;
}

std::string ahead_refusal(Database& db, const std::vector<std::string>& unknown,
                          const std::filesystem::path& versions_dir, const RevisionGraph& graph,
                          const ReleaseHistory& releases) {
    std::map<std::string, StoredPlugin> stored;
    for (auto& plugin : db.read_stored_plugins()) stored[plugin.revision] = plugin;
    std::vector<std::string> missing;
    std::set<std::string> applied_by;
    for (const auto& id : unknown) {
        const auto found = stored.find(id);
        if (found == stored.end())
            missing.push_back(id);
        else
            applied_by.insert(found->second.release.empty() ? "an unreleased build"
                                                            : "release " + found->second.release);
    }
    const bool one = unknown.size() == 1;
    std::string text = "database " + db.describe() + " is at " + join(unknown) + ", which " +
                       "the versions directory " + versions_dir.string() + " does not know";
    if (!missing.empty())
        return text + ", and the database holds no stored plugin of " + join(missing) +
               " (the migrator that applied " + (missing.size() == 1 ? "it" : "them") +
               " stores none, or " + (missing.size() == 1 ? "it was" : "they were") +
               " pruned); undo " + (one ? "it" : "them") +
               " with the versions directory that applied " + (one ? "it" : "them") +
               " (migrator --versions-dir DIR downgrade ...)";
    text += ": " + join(std::vector<std::string>(applied_by.begin(), applied_by.end()), " and ") +
            " applied " + (one ? "it" : "them") + " and stored " +
            (one ? "its plugin" : "their plugins") + " there; ";
    if (!releases.empty())
        return text + "to bring the database back to release " + releases.latest().name +
               " (the newest of this versions directory) with the downgrades stored there, run "
               "`migrator converge --stored-downgrades`";
    const auto heads = graph.head_rows();
    return text + "to undo " + (one ? "it" : "them") +
           " with the downgrades stored there, run `migrator downgrade " +
           (heads.empty() ? std::string("base") : heads.front()) + " --stored-downgrades`";
}

StoredPluginDir::StoredPluginDir(Database& db, const RevisionGraph& known,
                                 const std::vector<std::string>& unknown,
                                 const std::vector<PublicKey>& trusted, PermissionCheck check) {
    if (trusted.empty())
        throw PluginError(
            "migrator runs plugins stored in the database only when a key it trusts signed them, "
            "and no key is trusted; name the release key with --trusted-keys (or "
            "MIGRATOR_TRUSTED_KEYS, trusted_keys in migrator.ini)");
    // Only the plugins of revisions this versions directory lacks are read in full.
    std::vector<StoredPlugin> needed;
    for (auto& plugin : db.read_stored_plugins())
        if (known.find(plugin.revision) == nullptr) needed.push_back(std::move(plugin));
    for (const auto& id : unknown) {
        bool stored = false;
        for (const auto& plugin : needed) stored = stored || plugin.revision == id;
        if (!stored)
            throw RevisionError("database " + db.describe() + " is at " + id +
                                ", which this versions directory does not know, and no plugin of "
                                "it is stored in the database; undo it with the versions "
                                "directory that applied it");
    }
    const char* tmp = std::getenv("TMPDIR");
    std::string pattern =
        std::string(tmp != nullptr && *tmp != '\0' ? tmp : "/tmp") + "/migrator-stored-XXXXXX";
    if (::mkdtemp(pattern.data()) == nullptr)
        throw PluginError("cannot create a temporary directory for the plugins stored in " +
                          db.describe() + " (" + pattern + "): " + std::strerror(errno));
    dir_ = pattern;
    try {
        // The loader maps the plugins from there: a noexec mount (a hardened /tmp) would refuse.
        struct statvfs mount {};
        if (::statvfs(dir_.c_str(), &mount) == 0 && (mount.f_flag & ST_NOEXEC) != 0)
            throw PluginError("cannot run the plugins stored in " + db.describe() + " from " +
                              dir_.parent_path().string() +
                              ": it is on a mount that forbids executing code (noexec); set "
                              "TMPDIR to a directory on a mount that allows it");
        std::set<std::string> names;
        std::set<std::string> signature_files;
        for (const auto& plugin : needed) {
            const std::string subject =
                "the plugin of revision " + plugin.revision + " stored in " + db.describe();
            if (!is_plugin_file_name(plugin.file_name) || !names.insert(plugin.file_name).second)
                throw PluginError(subject + " has a file name that cannot be used: '" +
                                  plugin.file_name + "'");
            if (plugin.signatures_sha256.empty())
                throw PluginError(subject +
                                  " has no bytes: no signature file listed it where it "
                                  "was applied, and migrator stores, and runs, only "
                                  "signed plugins; undo it with the versions "
                                  "directory that applied it");
            const std::string image = db.read_stored_image(plugin.revision);
            if (image.size() != plugin.size)
                throw PluginError(subject + " is damaged: " + std::to_string(image.size()) +
                                  " bytes stored, " + std::to_string(plugin.size) + " recorded");
            write_new_file(dir_ / plugin.file_name, image);
            if (plugin.signatures_sha256.empty() ||
                !signature_files.insert(plugin.signatures_sha256).second)
                continue;
            const auto document = db.read_stored_signatures(plugin.signatures_sha256);
            if (document.empty()) continue;  // then the plugin is refused as not signed
            if (sha256_hex(document) != plugin.signatures_sha256)
                throw PluginError("the signature file " + plugin.signatures_sha256.substr(0, 16) +
                                  "... stored in " + db.describe() +
                                  " is damaged: its text does not have the SHA-256 it is "
                                  "stored under");
            write_new_file(dir_ / ("stored-" + plugin.signatures_sha256.substr(0, 16) +
                                   std::string(signature_file_extension)),
                           document);
        }
        try {
            files = scan_versions_dir(dir_, check, trusted);
        } catch (const PluginError& e) {
            throw PluginError("a plugin stored in " + db.describe() +
                              " cannot be run: " + e.what());
        }
        for (const auto& file : files) {
            const auto name = file.path.substr(file.path.find_last_of('/') + 1);
            for (const auto& plugin : needed)
                if (plugin.file_name == name && plugin.revision != file.revision.id)
                    throw PluginError("the plugin stored in " + db.describe() + " for revision " +
                                      plugin.revision + " holds revision " + file.revision.id +
                                      "; it was tampered with");
        }
    } catch (...) {
        std::error_code ignored;
        std::filesystem::remove_all(dir_, ignored);
        throw;
    }
}

StoredPluginDir::~StoredPluginDir() {
    std::error_code ignored;
    std::filesystem::remove_all(dir_, ignored);
}

}  // namespace migrator::cli
