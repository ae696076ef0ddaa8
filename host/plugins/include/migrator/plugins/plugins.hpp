// Revision plugin files: find them, check they can be trusted, read their metadata without running
// code, load on demand.
#ifndef MIGRATOR_PLUGINS_HPP
#define MIGRATOR_PLUGINS_HPP

#include <migrator/plugin_abi.h>

#include <cstdint>
#include <filesystem>
#include <memory>
#include <migrator/graph/graph.hpp>
#include <migrator/plugins/signatures.hpp>
#include <string>
#include <string_view>
#include <vector>

namespace migrator {

/// Whether the ownership and permission rule of check_permissions applies. The file type (a
/// regular plugin file, a directory) is checked either way.
enum class PermissionCheck {
    enforce,  ///< the default
    skip,     ///< --no-permission-check, or permission_check = false in migrator.ini
};

/// Which file a file's identity is: what fstat said when its metadata was read. LoadedPlugin
/// loads a file only if it is still the same one.
struct FileIdentity {
    std::uint64_t device = 0;   ///< st_dev
    std::uint64_t inode = 0;    ///< st_ino
    std::uint64_t size = 0;     ///< st_size
    std::int64_t mtime_ns = 0;  ///< st_mtim, in nanoseconds since the epoch

    friend bool operator==(const FileIdentity& a, const FileIdentity& b) {
        return a.device == b.device && a.inode == b.inode && a.size == b.size &&
               a.mtime_ns == b.mtime_ns;
    }
    friend bool operator!=(const FileIdentity& a, const FileIdentity& b) { return !(a == b); }
};

/// A plugin file whose metadata has been read (the plugin itself is not loaded, and the file is
/// not kept open).
/// Kept small (a string, not a std::filesystem::path with its parsed components, and no copy of
/// the metadata text): a versions directory of 10,000 revisions holds 10,000 of them.
struct PluginFile {
    std::string path;       ///< absolute; a symlink's own path, not its target's
    Revision revision;      ///< parsed from the metadata section; revision.path == path
    FileIdentity identity;  ///< the file (a symlink's target) the metadata was read from
    /// The rule the file passed when it was read, and must pass again when it is loaded.
    PermissionCheck permission_check = PermissionCheck::enforce;
    /// When trusted keys are configured: the whole-file digest a trusted signature file lists for
    /// it, which the seal of the file loaded must record; empty otherwise.
    std::string signed_sha256;
    /// The base64 of the key that signed it; empty when no keys are trusted.
    std::string signer;
};

/// What check_permissions judges; its messages name it.
enum class TrustedPath {
    plugin_file,
    versions_dir,
    config_file,  ///< a config file that turns the check off must itself pass it
    schema_file,  ///< the declared schema of `check --schema`: SQL run on the target database
    key_file,     ///< a file of trusted public keys: whoever writes it decides what code runs
};

/// OpenSSH's rule for key files, applied to the code migrator runs: a file (or directory) may be
/// trusted when it is owned by root or by `effective_uid` and is writable by neither its group
/// nor others. `mode` and `owner_uid` are st_mode and st_uid as fstat reported them. Throws
/// PluginError, one sentence naming `path` (and a symlink's target), what is wrong ("is writable
/// by others (mode 0757)", "is owned by uid 65534, not by root or you (uid 0)") and the fix
/// (chmod go-w, chown, or --no-permission-check). The file type is not its concern.
void check_permissions(const std::string& path, TrustedPath kind, std::uint32_t mode,
                       std::uint32_t owner_uid, std::uint32_t effective_uid);

/// What an ELF file is built for, from its header: the machine (e_machine), the ELF class
/// (EI_CLASS) and the byte order (EI_DATA). A plugin must share all three with the program that
/// loads it.
struct ElfPlatform {
    std::uint16_t machine = 0;     ///< e_machine: 62 x86-64, 183 AArch64, ...
    unsigned char elf_class = 0;   ///< EI_CLASS: 1 for 32-bit, 2 for 64-bit
    unsigned char byte_order = 0;  ///< EI_DATA: 1 little-endian, 2 big-endian

    /// Spelled as MIGRATOR_PLATFORM spells it ("x86_64-elf64-le", "aarch64-elf64-le"); a machine
    /// without a name here is "machine <n>" ("machine 4660-elf64-le").
    std::string name() const;

    friend bool operator==(const ElfPlatform& a, const ElfPlatform& b) {
        return a.machine == b.machine && a.elf_class == b.elf_class && a.byte_order == b.byte_order;
    }
    friend bool operator!=(const ElfPlatform& a, const ElfPlatform& b) { return !(a == b); }
};

/// The platform of this program, from the compiler's predefined macros (machine 0 where this
/// reader has no number for the machine it was built for: then only class and byte order count).
ElfPlatform host_platform();

/// Refuses a plugin file whose ELF header (`header`) or metadata `revision.platform` (absent, so
/// empty, in a plugin of ABI 1) names another platform than this program's: throws PluginError,
/// "plugin file <file> was built for aarch64-elf64-le, but this migrator runs on
/// x86_64-elf64-le; rebuild it on this platform" (what LLVM's pass-plugin check says of
/// versions). The header is judged first: it is what the dynamic loader would judge.
void check_plugin_platform(const Revision& revision, const ElfPlatform& header,
                           const std::string& file);

/// Reads the raw bytes of the named section of an ELF file, without loading it. Bounds-checked:
/// throws PluginError naming `file` when it is missing, not a regular file, empty, truncated, not
/// ELF, malformed, or has no such section. Never reads outside the file. Checks no permissions.
/// (This and the overload below are the only object-format-specific code.)
std::string read_elf_section(const std::filesystem::path& file, std::string_view section_name);

/// The same, from an open regular file of `size` bytes (as fstat reported it) that `file` names
/// in messages. Reads with pread only, so the file offset is left alone; does not close `fd`.
std::string read_elf_section(int fd, std::uint64_t size, const std::string& file,
                             std::string_view section_name);

/// The same, also storing what the file's ELF header says of its platform into `platform`
/// (untouched when the header cannot be read: the call throws then).
std::string read_elf_section(int fd, std::uint64_t size, const std::string& file,
                             std::string_view section_name, ElfPlatform& platform);

/// Every check the loader makes on a plugin file before any of its code runs, on the regular file
/// open as `fd` (`size` bytes, as fstat reported it; `file` names it in messages), read with pread
/// only: the integrity seal the build appended matches the file's content (plugin_abi.h,
/// MIGRATOR_SEAL_MAGIC); the file is an ELF shared library of this program's class, byte order
/// and machine (ET_DYN, naming no program interpreter, as a position-independent executable
/// would), with a loadable and a dynamic segment, whose dynamic symbol table defines
/// MIGRATOR_ENTRY_SYMBOL. Throws PluginError naming `file` and the check that failed: "... is
/// corrupt or was modified after it was built: its content does not match the digest its build
/// embedded" before any other, so a damaged file is called so; a missing seal last.
/// When `signed_sha256` is not empty (the plugin was read under trusted keys), the file's seal
/// must also record that digest: "... does not match its signature" otherwise.
void check_plugin_image(int fd, std::uint64_t size, const std::string& file,
                        const std::string& signed_sha256 = {});

/// Whether `id` is a revision id: 1 to 32 characters of [0-9A-Za-z_] (Alembic's version_num is
/// VARCHAR(32)).
bool is_revision_id(std::string_view id);

/// Whether `text` is a SHA-256 (or other 32-byte digest) in 64 lowercase hexadecimal digits.
bool is_sha256_hex(std::string_view text);

/// The digest the integrity seal of the file open as `fd` records, after checking that it is the
/// SHA-256 of every byte before the seal (what a signature file lists for the file). Throws
/// PluginError naming `file` when the seal is missing or does not match.
std::string read_plugin_seal(int fd, std::uint64_t size, const std::string& file);

/// Opens `file.path` again and makes, without loading it, every check LoadedPlugin makes before
/// it loads a plugin: the same file as was read, still trusted (unless file.permission_check is
/// skip), and check_plugin_image. What `verify` runs on every plugin, and `upgrade` and
/// `downgrade` on each plugin of their plan before they write to the database. Throws PluginError.
void check_plugin_file(const PluginFile& file);

/// Parses metadata text (see plugin_abi.h). Throws PluginError naming `file` when the magic line,
/// a required key or the ABI version is missing or wrong, or an id is malformed. A version outside
/// 1 to MIGRATOR_ABI_VERSION is refused naming both: "plugin file <file> was built for plugin ABI
/// version 99, but this migrator supports versions 1 to 2; rebuild it". Records abi, api= as
/// plugin_api and platform= as platform (both absent from ABI 1 metadata).
Revision parse_metadata(std::string_view text, const std::string& file);

/// parse_metadata for metadata text read from elsewhere than a plugin file: what the revision
/// source `path` compiles into (scaffold reads sources so), with the same rules, so that nothing
/// is accepted from a source that the built plugin would be refused for. Refusals name `subject`
/// ("revision source <path> has invalid metadata: the revision id 'a-b' is not 1 to 32
/// characters of [0-9A-Za-z_]"); Revision::path is `path`. Throws PluginError.
Revision parse_metadata(std::string_view text, const std::string& subject, const std::string& path);

/// The refusal of `name` as a `what` ("revision id", "branch label", ...) of a revision, under
/// the rule every name in metadata follows (is_revision_id): "the branch label 'a-b' is not 1 to
/// 32 characters of [0-9A-Za-z_]"; empty when `name` follows it.
std::string name_refusal(std::string_view what, std::string_view name);

/// The refusal of a plugin ABI version this migrator does not support: "<subject> was built for
/// plugin ABI version 99, but this migrator supports versions 1 to 2; rebuild it".
std::string abi_refusal(const std::string& subject, unsigned long version);

/// Reads one plugin file's metadata: opens it once (following a symlink), checks with fstat that
/// it is a regular file and, unless `check` is skip, that check_permissions accepts it, then reads
/// the metadata section from that open file, refuses a foreign platform (check_plugin_platform)
/// and records its identity. The revision's platform is its metadata's or, for ABI 1, its ELF
/// header's. Throws PluginError.
PluginFile read_plugin_file(const std::filesystem::path& file,
                            PermissionCheck check = PermissionCheck::enforce);

/// Every `*.so` file in `dir` (not recursive), read as read_plugin_file does, sorted by path.
/// `dir` itself must be a directory (a symlink to one will do) that, unless `check` is skip,
/// check_permissions accepts; it is opened once and listed from that open directory. Other files,
/// directories and dangling symlinks are ignored. A large directory (512 files or more) is read
/// by up to four threads, each holding one file open at a time. Throws PluginError when `dir`
/// cannot be used or a `.so` is not a valid plugin or cannot be trusted (the first such file by
/// name).
///
/// When `trusted_keys` is not empty, signatures are required: the directory's signature files
/// (signatures.hpp) are checked (while the plugins' metadata sections are read; a failing
/// signature file is reported before any plugin), and each `.so` must be listed by one signed
/// with a trusted key, under its file name, with the metadata section it holds; its file digest
/// is recorded as PluginFile::signed_sha256 for the loader. A plugin that is not is refused
/// before its metadata are parsed.
std::vector<PluginFile> scan_versions_dir(const std::filesystem::path& dir,
                                          PermissionCheck check = PermissionCheck::enforce,
                                          const std::vector<PublicKey>& trusted_keys = {});

/// Raises this process's soft limit on open files (RLIMIT_NOFILE) to its hard limit, since every
/// LoadedPlugin keeps its file open. Call once at start. Returns the soft limit now in force; a
/// limit that cannot be raised is left as it was (LoadedPlugin then refuses clearly when a plan
/// needs more files than it allows).
std::uint64_t raise_open_file_limit();

/// A plugin loaded into the process (dlopen RTLD_NOW|RTLD_LOCAL via Boost.DLL). Stays loaded,
/// and its file open, while this object lives.
class LoadedPlugin {
public:
    /// Opens `file.path` again and loads that open file (through /proc/self/fd), so the file
    /// loaded is the file whose metadata was read: refuses, with PluginError, a file that is not
    /// the same one any more ("changed since it was read; run again") or that check_permissions
    /// no longer accepts (unless file.permission_check is skip), that check_plugin_image refuses
    /// (read from that open file), and refuses to take the last open files the process may have
    /// (naming the limit and what to do). Loading runs the plugin's static constructors, and
    /// destroying this object its static destructors: a caller that must report a crash in them
    /// guards both (the runner does). Then calls the entry
    /// point and checks that the ABI version is known, the struct is complete and its metadata
    /// equals the section's (read again from the file loaded). Throws PluginError.
    explicit LoadedPlugin(const PluginFile& file);
    ~LoadedPlugin();
    LoadedPlugin(const LoadedPlugin&) = delete;
    LoadedPlugin& operator=(const LoadedPlugin&) = delete;

    const PluginFile& file() const { return file_; }
    /// The metadata the loaded plugin's entry point returned (equal to its metadata section's).
    std::string_view entry_metadata() const;
    /// The bytes of the file loaded (read from the descriptor it was loaded from), and the digest
    /// its integrity seal records: what the runner stores for an older release to undo it.
    /// Throws PluginError when the file cannot be read.
    std::string image() const;
    std::string seal_digest() const;
    /// The step function for a direction; never null.
    migrator_step_fn step(Direction direction) const;
    /// The plugin ABI version its entry point reports (equal to its metadata's, 1 to
    /// MIGRATOR_ABI_VERSION): what the host's calls must mean to it
    /// (HostSession::serve_plugin_abi).
    std::uint32_t abi_version() const;

private:
    struct Library;
    PluginFile file_;
    std::unique_ptr<Library> library_;
    const migrator_plugin* entry_ = nullptr;
};

}  // namespace migrator

#endif  // MIGRATOR_PLUGINS_HPP
