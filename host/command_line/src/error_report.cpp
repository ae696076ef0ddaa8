// The one mapping from an error's kind to the exit status both programs report it with, and the
// one line they report it in.
#include <iostream>
#include <migrator/command_line/error_report.hpp>
#include <migrator/common/errors.hpp>
#include <migrator/common/terminal_text.hpp>
#include <migrator/db/database_url.hpp>
#include <typeinfo>

namespace migrator {

ErrorReport report_of_current_exception() {
    const auto report = [](int status, const std::exception& e) {
        return ErrorReport{status, mask_password(e.what()), status == exit_internal};
    };
    try {
        throw;
    } catch (const ConfigError& e) {
        return report(exit_usage, e);
    } catch (const MigrationError& e) {
        return report(exit_migration_failed, e);
    } catch (const DirtyError& e) {
        return report(exit_dirty, e);
    } catch (const RevisionError& e) {
        return report(exit_revision, e);
    } catch (const PluginError& e) {
        return report(exit_plugin, e);
    } catch (const LockError& e) {
        return report(exit_lock_timeout, e);
    } catch (const DatabaseError& e) {
        return report(exit_database, e);
    } catch (const NotUpToDateError& e) {
        return report(exit_not_at_head, e);
    } catch (const Error& e) {
        return report(typeid(e) == typeid(Error) ? exit_usage : exit_internal, e);
    } catch (const std::exception& e) {
        return report(exit_internal, e);
    } catch (...) {
        return ErrorReport{exit_internal, "an exception that is not a std::exception", true};
    }
}

void print_error_report(std::ostream& err, const ErrorReport& report, bool colour) {
    const std::string message = printable(mask_password(report.message));
    if (report.internal)
        err << "internal error: " << message << '\n';
    else
        err << (colour ? "\033[31merror:\033[0m" : "error:") << " " << message << '\n';
}

int report_current_exception(bool colour) {
    const ErrorReport report = report_of_current_exception();
    print_error_report(std::cerr, report, colour);
    return report.status;
}

}  // namespace migrator
