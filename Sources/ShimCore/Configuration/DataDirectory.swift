import Foundation

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Where `data_dir` is when the configuration does not say: a state
/// directory of the service, never the working directory (which may be a
/// checkout, a shared or world-readable place, or `/`).
public enum DataDirectory {
    /// In this order:
    /// 1. `$STATE_DIRECTORY`, set by systemd for `StateDirectory=` (the first
    ///    of a colon-separated list);
    /// 2. `/var/lib/dcr-shim` when running as root;
    /// 3. `$XDG_STATE_HOME/dcr-shim` (an absolute `XDG_STATE_HOME` only, as the
    ///    XDG Base Directory Specification asks);
    /// 4. `~/.local/state/dcr-shim` (the specification's default for it);
    /// 5. `/var/lib/dcr-shim` when there is no home directory either.
    public static func standard(environment: [String: String], isRoot: Bool, home: String?) -> String {
        if let state = environment["STATE_DIRECTORY"]?.split(separator: ":").first, !state.isEmpty { return String(state) }
        if isRoot { return "/var/lib/dcr-shim" }
        if let xdg = environment["XDG_STATE_HOME"], xdg.hasPrefix("/") { return (xdg as NSString).appendingPathComponent("dcr-shim") }
        if let home, home.hasPrefix("/"), home != "/" { return (home as NSString).appendingPathComponent(".local/state/dcr-shim") }
        return "/var/lib/dcr-shim"
    }

    /// `standard` for this process: its environment, effective user and home.
    public static func forThisProcess() -> String {
        let environment = ProcessInfo.processInfo.environment
        let home = environment["HOME"].flatMap { $0.isEmpty ? nil : $0 } ?? NSHomeDirectory()
        return standard(environment: environment, isRoot: geteuid() == 0, home: home)
    }
}
