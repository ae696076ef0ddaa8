// Reads one named section of an ELF file without loading it: the only object-format-specific code.
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <memory>
#include <migrator/common/errors.hpp>
#include <migrator/plugins/plugins.hpp>
#include <string>
#include <string_view>

#include "open_file.hpp"

namespace migrator {
namespace {

// A revision plugin is a few dozen KiB; anything this large is not one, and the cap keeps every
// offset well inside std::streamoff.
constexpr std::uint64_t max_file_size = std::uint64_t{256} << 20;

// Constants of the System V gABI, spelled out so the reader needs no <elf.h> (absent on macOS).
constexpr unsigned char elf_class_32 = 1;
constexpr unsigned char elf_class_64 = 2;
constexpr unsigned char elf_data_lsb = 1;
constexpr unsigned char elf_data_msb = 2;
constexpr unsigned char elf_version_current = 1;
constexpr std::string_view elf_magic = "\177ELF";
constexpr std::size_t ident_size = 16;
constexpr std::uint32_t sht_strtab = 3;
constexpr std::uint32_t sht_nobits = 8;
constexpr std::uint32_t sht_dynsym = 11;
constexpr std::uint64_t shn_undef = 0;
constexpr std::uint64_t shn_loreserve = 0xff00;
constexpr std::uint64_t shn_xindex = 0xffff;
constexpr std::uint64_t et_rel = 1;
constexpr std::uint64_t et_exec = 2;
constexpr std::uint64_t et_dyn = 3;
constexpr std::uint64_t pt_load = 1;
constexpr std::uint64_t pt_dynamic = 2;
constexpr std::uint64_t pt_interp = 3;
constexpr std::uint64_t stt_func = 2;

/// The ELF class, byte order and machine of this program: a plugin must share them to be loaded.
constexpr unsigned char host_class = sizeof(void*) == 8 ? elf_class_64 : elf_class_32;
constexpr unsigned char host_data =
    __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__ ? elf_data_msb : elf_data_lsb;

/// An ELF machine number (e_machine) and its name in MIGRATOR_PLATFORM's spelling, per class
/// where the two classes have names of their own.
struct Machine {
    std::uint64_t number;
    const char* name_64;
    const char* name_32;
};

constexpr Machine known_machines[] = {
    {62, "x86_64", "x86_64"},    {183, "aarch64", "aarch64"},
    {3, "i386", "i386"},         {40, "arm", "arm"},
    {243, "riscv64", "riscv32"}, {21, "ppc64", "ppc64"},
    {20, "ppc", "ppc"},          {22, "s390x", "s390"},
    {8, "mips64", "mips"},       {258, "loongarch64", "loongarch32"},
};

#if defined(__x86_64__)
constexpr std::uint16_t host_machine = 62;
#elif defined(__i386__)
constexpr std::uint16_t host_machine = 3;
#elif defined(__aarch64__)
constexpr std::uint16_t host_machine = 183;
#elif defined(__arm__)
constexpr std::uint16_t host_machine = 40;
#elif defined(__powerpc64__)
constexpr std::uint16_t host_machine = 21;
#elif defined(__s390x__)
constexpr std::uint16_t host_machine = 22;
#elif defined(__riscv)
constexpr std::uint16_t host_machine = 243;
#elif defined(__loongarch__)
constexpr std::uint16_t host_machine = 258;
#else
constexpr std::uint16_t host_machine = 0;  // unknown here: class and byte order still count
#endif

/// Whether a file of platform `file` is one this program can load: machine (where this program
/// knows its own), class and byte order.
bool runs_here(const ElfPlatform& file) {
    const ElfPlatform host = host_platform();
    return file.elf_class == host.elf_class && file.byte_order == host.byte_order &&
           (host.machine == 0 || file.machine == host.machine);
}

/// The refusal of a plugin file built for another platform, in the manner of LLVM's pass-plugin
/// version check: the file, what it was built for, what this program runs on.
[[noreturn]] void refuse_platform(const std::string& file, const std::string& built_for,
                                  const std::string& detail = {}) {
    throw PluginError("plugin file " + file + " was built for " + built_for + detail +
                      ", but this migrator runs on " MIGRATOR_PLATFORM
                      "; rebuild it on this platform");
}

/// Where the fields this reader needs sit in one ELF class.
struct Layout {
    std::size_t word;  // width of addresses and offsets: 4 or 8
    std::size_t header_size;
    std::size_t e_shoff;
    std::size_t e_shentsize;
    std::size_t e_shnum;
    std::size_t e_shstrndx;
    std::size_t section_header_size;
    std::size_t sh_name;
    std::size_t sh_type;
    std::size_t sh_offset;
    std::size_t sh_size;
    std::size_t sh_link;
    std::size_t e_phoff;
    std::size_t e_phentsize;
    std::size_t e_phnum;
    std::size_t program_header_size;
    std::size_t symbol_size;
    std::size_t st_info;
    std::size_t st_shndx;
};

// e_type (offset 16) and e_machine (18) sit at the same place in both classes, as does p_type (0)
// and st_name (0).
constexpr std::size_t e_type = 16;
constexpr std::size_t e_machine = 18;
constexpr Layout layout_32{4, 52, 32, 46, 48, 50, 40, 0, 4, 16, 20, 24, 28, 42, 44, 32, 16, 12, 14};
constexpr Layout layout_64{8, 64, 40, 58, 60, 62, 64, 0, 4, 24, 32, 40, 32, 54, 56, 56, 24, 4, 6};

/// Offset and size of one section as its header declares them; not yet checked against the file.
struct SectionHeader {
    std::uint64_t name = 0;
    std::uint64_t type = 0;
    std::uint64_t offset = 0;
    std::uint64_t size = 0;
    std::uint64_t link = 0;
};

/// One ELF file, opened by the caller. Every read goes through read_at(), which refuses anything
/// outside the file.
class ElfFile {
public:
    /// Reads `fd` (not owned) of `size` bytes; `file` names it in messages.
    ElfFile(int fd, std::uint64_t size, const std::string& file)
        : name_(file), fd_(fd), size_(size) {
        if (size_ == 0) fail("is empty");
        if (size_ > max_file_size)
            fail("is larger than 256 MiB, far too large to be a revision plugin");
    }

    std::string read_section(std::string_view section_name) {
        read_header();
        const std::string table = read_section_table();
        const SectionHeader names = decode(table, string_table_index_);
        if (names.type != sht_strtab)
            fail("has a malformed section table (its section name table is not a string table)");
        const std::string strings = read_at(names.offset, names.size, "section name table");

        bool found = false;
        SectionHeader match;
        // Index 0 is the reserved null section; it never names anything.
        for (std::uint64_t index = 1; index < section_count_; ++index) {
            const SectionHeader section = decode(table, index);
            if (name_of(strings, section, index) != section_name) continue;
            if (found)
                fail("has more than one " + std::string(section_name) +
                     " section, so its metadata is ambiguous");
            found = true;
            match = section;
        }
        if (!found)
            fail("has no " + std::string(section_name) +
                 " section; was it built with migrator_add_revision()?");
        if (match.type == sht_nobits)
            fail("has a " + std::string(section_name) +
                 " section with no contents in the file (SHT_NOBITS)");
        return read_at(match.offset, match.size, std::string(section_name) + " section");
    }

    /// What the ELF header says the file was built for.
    ElfPlatform platform() {
        read_header();
        return platform_;
    }

    /// Throws unless the dynamic loader could load this file as a shared library of this
    /// process and find `entry_symbol` in it: what dlopen would refuse (or run as something else)
    /// is refused here with a sentence, before any of its code runs.
    void check_loadable(std::string_view entry_symbol) {
        read_header();
        const std::string header = read_at(0, layout_->header_size, "header");
        if (!runs_here(platform_)) refuse_platform(name_, platform_.name());
        const std::uint64_t type = field(header, e_type, 2);
        const char* rebuild = "; a revision plugin is built with migrator_add_revision()";
        if (type == et_rel)
            fail(std::string("is a relocatable object file (ELF type ET_REL), not a shared "
                             "library") +
                 rebuild);
        if (type == et_exec)
            fail(std::string("is an executable (ELF type ET_EXEC), not a shared library") +
                 rebuild);
        if (type != et_dyn)
            fail("is not a shared library (ELF type " + std::to_string(type) + ")" + rebuild);
        check_segments(header, rebuild);
        if (!defines_dynamic_symbol(entry_symbol))
            fail("does not export " + std::string(entry_symbol) +
                 "; was it built with migrator_add_revision()?");
    }

private:
    /// The program headers: something to map, a dynamic segment, and no program interpreter
    /// (which only an executable names: a position-independent executable is ET_DYN too).
    void check_segments(const std::string& header, const char* rebuild) {
        const std::uint64_t offset = field(header, layout_->e_phoff, layout_->word);
        const std::uint64_t entry_size = field(header, layout_->e_phentsize, 2);
        const std::uint64_t count = field(header, layout_->e_phnum, 2);
        if (offset == 0 || count == 0)
            fail("has no program headers, so it cannot be loaded as a shared library");
        if (entry_size != layout_->program_header_size)
            fail("has malformed program headers (entries of " + std::to_string(entry_size) +
                 " bytes instead of " + std::to_string(layout_->program_header_size) + ")");
        if (count > size_ / entry_size)
            fail("is truncated: its program headers lie past the end of the file");
        const std::string table = read_at(offset, count * entry_size, "program headers");
        bool loadable = false;
        bool dynamic = false;
        for (std::uint64_t index = 0; index < count; ++index) {
            const std::uint64_t type = field(table, index * entry_size, 4);
            if (type == pt_interp)
                fail(std::string("is an executable (it names a program interpreter), not a shared "
                                 "library") +
                     rebuild);
            loadable = loadable || type == pt_load;
            dynamic = dynamic || type == pt_dynamic;
        }
        if (!loadable) fail("has no loadable segment, so it cannot be loaded as a shared library");
        if (!dynamic) fail("has no dynamic section, so it cannot be loaded as a shared library");
    }

    /// Whether the dynamic symbol table defines `name` as a function (what dlsym would find).
    bool defines_dynamic_symbol(std::string_view name) {
        const std::string table = read_section_table();
        for (std::uint64_t index = 1; index < section_count_; ++index) {
            const SectionHeader symbols = decode(table, index);
            if (symbols.type != sht_dynsym) continue;
            if (symbols.link == 0 || symbols.link >= section_count_)
                fail("has a malformed dynamic symbol table (its string table index " +
                     std::to_string(symbols.link) + " is out of range)");
            const SectionHeader names = decode(table, symbols.link);
            const std::string strings = read_at(names.offset, names.size, "dynamic string table");
            const std::string entries =
                read_at(symbols.offset, symbols.size, "dynamic symbol table");
            const std::size_t entry_size = layout_->symbol_size;
            for (std::size_t at = entry_size; at + entry_size <= entries.size(); at += entry_size) {
                const std::uint64_t name_offset = field(entries, at, 4);
                if (name_offset >= strings.size()) continue;
                const std::string_view rest = std::string_view(strings).substr(name_offset);
                if (rest.substr(0, rest.find('\0')) != name) continue;
                const std::uint64_t info = field(entries, at + layout_->st_info, 1);
                if (field(entries, at + layout_->st_shndx, 2) != shn_undef &&
                    (info & 0xf) == stt_func)
                    return true;
            }
            return false;
        }
        fail(
            "has no dynamic symbol table, so it exports nothing; was it built with "
            "migrator_add_revision()?");
    }

    [[noreturn]] void fail(const std::string& what) const {
        throw PluginError("plugin file " + name_ + " " + what);
    }

    /// Reads exactly `size` bytes at `offset`, or throws naming `what` as the truncated part.
    std::string read_at(std::uint64_t offset, std::uint64_t size, const std::string& what) {
        // Written so that no sum can wrap: offset <= size_ is checked before size_ - offset.
        if (offset > size_ || size > size_ - offset)
            fail("is truncated: its " + what + " lies past the end of the file");
        if (!head_) read_head();
        if (size <= head_size_ && offset <= head_size_ - size)
            return std::string(head_.get() + offset, static_cast<std::size_t>(size));
        std::string bytes(static_cast<std::size_t>(size), '\0');
        read_exactly(bytes.data(), bytes.size(), offset);
        return bytes;
    }

    /// The first head_limit bytes of the file, in one read: a revision plugin is smaller, so its
    /// header, section table, names and metadata all come from this one system call.
    void read_head() {
        head_size_ = size_ < head_limit ? size_ : head_limit;
        // Not value-initialised: every byte is read into before use.
        head_.reset(new char[static_cast<std::size_t>(head_size_)]);
        read_exactly(head_.get(), static_cast<std::size_t>(head_size_), 0);
    }

    void read_exactly(char* into, std::size_t size, std::uint64_t offset) {
        if (!detail::pread_exactly(fd_, into, size, offset))
            fail("could not be read completely (did it change while being read?)");
    }

    /// Decodes an unsigned field of `width` bytes at `offset` of `bytes` in the file's byte order.
    std::uint64_t field(std::string_view bytes, std::size_t offset, std::size_t width) const {
        // Callers only pass offsets inside records they have sized; this guards against a slip.
        if (offset > bytes.size() || width > bytes.size() - offset)
            fail("is malformed (a field lies outside its record)");
        std::uint64_t value = 0;
        for (std::size_t i = 0; i < width; ++i) {
            const std::size_t at = big_endian_ ? offset + i : offset + width - 1 - i;
            value = (value << 8) | static_cast<unsigned char>(bytes[at]);
        }
        return value;
    }

    void read_header() {
        const std::string header =
            read_at(0, size_ < layout_64.header_size ? size_ : layout_64.header_size, "header");
        if (header.compare(0, elf_magic.size(), elf_magic) != 0)
            fail("is not an ELF shared object (bad magic)");
        if (header.size() < ident_size)
            fail("is truncated: its ELF header lies past the end of the file");
        const auto elf_class = static_cast<unsigned char>(header[4]);
        const auto data = static_cast<unsigned char>(header[5]);
        const auto version = static_cast<unsigned char>(header[6]);
        if (elf_class == elf_class_32)
            layout_ = &layout_32;
        else if (elf_class == elf_class_64)
            layout_ = &layout_64;
        else
            fail("is not a valid ELF file (unknown ELF class " + std::to_string(elf_class) + ")");
        if (data != elf_data_lsb && data != elf_data_msb)
            fail("is not a valid ELF file (unknown byte order " + std::to_string(data) + ")");
        big_endian_ = data == elf_data_msb;
        if (version != elf_version_current)
            fail("is not a valid ELF file (unknown ELF version " + std::to_string(version) + ")");
        if (header.size() < layout_->header_size)
            fail("is truncated: its ELF header lies past the end of the file");
        platform_.machine = static_cast<std::uint16_t>(field(header, e_machine, 2));
        platform_.elf_class = elf_class;
        platform_.byte_order = data;

        section_table_offset_ = field(header, layout_->e_shoff, layout_->word);
        const std::uint64_t entry_size = field(header, layout_->e_shentsize, 2);
        section_count_ = field(header, layout_->e_shnum, 2);
        string_table_index_ = field(header, layout_->e_shstrndx, 2);
        if (section_table_offset_ == 0)
            fail("has no section table, so its sections cannot be found");
        if (entry_size != layout_->section_header_size)
            fail("has a malformed section table (entries of " + std::to_string(entry_size) +
                 " bytes instead of " + std::to_string(layout_->section_header_size) + ")");
    }

    std::string read_section_table() {
        const std::uint64_t entry_size = layout_->section_header_size;
        // Files with 0xff00 sections or more keep the real counts in the null section's header.
        if (section_count_ == 0 || string_table_index_ == shn_xindex) {
            const std::string first = read_at(section_table_offset_, entry_size, "section table");
            const SectionHeader null_section = decode(first, 0);
            if (section_count_ == 0) section_count_ = null_section.size;
            if (string_table_index_ == shn_xindex) string_table_index_ = null_section.link;
        } else if (string_table_index_ >= shn_loreserve) {
            fail("has a malformed section table (reserved section name table index " +
                 std::to_string(string_table_index_) + ")");
        }
        if (section_count_ == 0) fail("has an empty section table");
        if (section_count_ > size_ / entry_size)
            fail("is truncated: its section table lies past the end of the file");
        if (string_table_index_ >= section_count_)
            fail("has a malformed section table (section name table index " +
                 std::to_string(string_table_index_) + " is out of range; there are " +
                 std::to_string(section_count_) + " sections)");
        return read_at(section_table_offset_, section_count_ * entry_size, "section table");
    }

    SectionHeader decode(std::string_view table, std::uint64_t index) const {
        const std::size_t base = static_cast<std::size_t>(index * layout_->section_header_size);
        SectionHeader section;
        section.name = field(table, base + layout_->sh_name, 4);
        section.type = field(table, base + layout_->sh_type, 4);
        section.offset = field(table, base + layout_->sh_offset, layout_->word);
        section.size = field(table, base + layout_->sh_size, layout_->word);
        section.link = field(table, base + layout_->sh_link, 4);
        return section;
    }

    std::string_view name_of(std::string_view strings, const SectionHeader& section,
                             std::uint64_t index) const {
        if (section.name >= strings.size())
            fail("has a malformed section table (the name of section " + std::to_string(index) +
                 " lies outside the section name table)");
        const std::string_view rest = strings.substr(static_cast<std::size_t>(section.name));
        const std::size_t end = rest.find('\0');
        if (end == std::string_view::npos)
            fail("has a malformed section table (the name of section " + std::to_string(index) +
                 " is not NUL-terminated)");
        return rest.substr(0, end);
    }

    static constexpr std::uint64_t head_limit = 64 * 1024;

    std::string name_;
    int fd_;
    std::uint64_t size_;
    std::unique_ptr<char[]> head_;
    std::uint64_t head_size_ = 0;
    const Layout* layout_ = nullptr;
    bool big_endian_ = false;
    ElfPlatform platform_;
    std::uint64_t section_table_offset_ = 0;
    std::uint64_t section_count_ = 0;
    std::uint64_t string_table_index_ = 0;
};

}  // namespace

std::string ElfPlatform::name() const {
    std::string machine_name = "machine " + std::to_string(machine);
    for (const auto& known : known_machines)
        if (known.number == machine)
            machine_name = elf_class == elf_class_32 ? known.name_32 : known.name_64;
    return machine_name + (elf_class == elf_class_32 ? "-elf32" : "-elf64") +
           (byte_order == elf_data_msb ? "-be" : "-le");
}

ElfPlatform host_platform() {
    ElfPlatform host;
    host.machine = host_machine;
    host.elf_class = host_class;
    host.byte_order = host_data;
    return host;
}

void check_plugin_platform(const Revision& revision, const ElfPlatform& header,
                           const std::string& file) {
    if (!runs_here(header)) refuse_platform(file, header.name());
    // The metadata records what the compiler's macros said (MIGRATOR_PLATFORM, ABI 2 on): it
    // catches what the header cannot, such as a plugin for another ABI of the same machine.
    if (!revision.platform.empty() && revision.platform != MIGRATOR_PLATFORM)
        refuse_platform(file, revision.platform,
                        " (its metadata says so; its ELF header says " + header.name() + ")");
}

std::string read_elf_section(int fd, std::uint64_t size, const std::string& file,
                             std::string_view section_name) {
    return ElfFile(fd, size, file).read_section(section_name);
}

std::string read_elf_section(int fd, std::uint64_t size, const std::string& file,
                             std::string_view section_name, ElfPlatform& platform) {
    ElfFile elf(fd, size, file);
    std::string section = elf.read_section(section_name);
    platform = elf.platform();
    return section;
}

namespace detail {

void check_loadable_elf(int fd, std::uint64_t size, const std::string& file,
                        std::string_view entry_symbol) {
    ElfFile(fd, size, file).check_loadable(entry_symbol);
}

}  // namespace detail

std::string read_elf_section(const std::filesystem::path& file, std::string_view section_name) {
    // One open and one fstat, then one pread for a plugin-sized file: discovery reads every
    // plugin on every command, so per-file system calls are the cost that grows.
    const detail::OpenFile open(AT_FDCWD, file.c_str());
    if (!open.is_open()) detail::throw_cannot_open("plugin file " + file.string(), open.error());
    detail::require_regular_file(file, open.status());
    return read_elf_section(open.fd(), static_cast<std::uint64_t>(open.status().st_size), file,
                            section_name);
}

}  // namespace migrator
