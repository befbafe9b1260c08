public import Foundation

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A key kept in a file of its own under `data_dir` (the signing key, the
/// encryption key, the cookie key), read on every start and generated only
/// the first time.
///
/// A key file that cannot be trusted stops the start; it is never replaced:
/// a new key would silently end every token, sealed refresh token and
/// browser binding made with the old one, and an unreadable file may be a
/// mount not there yet, a permission mistake, or a disk error.
///
/// * No file there (`ENOENT`, and only then): a new key, created with
///   `open(O_CREAT|O_EXCL|O_WRONLY|O_CLOEXEC, 0600)`, written, `fsync`ed.
///   No temporary file with default permissions ever holds it.
/// * A file that group or others may read or write: refused, naming the file
///   and the fix (`chmod 600`), since others may have read the key.
/// * A file that cannot be read, or does not hold a key: refused, the file
///   left as it is.
/// * Another process created the file between the look and the `O_EXCL`
///   create (two replicas starting on one volume): its key is read.
public enum KeyFile {
    /// The bits of a key file's mode that give group or others any access.
    static let groupOrOtherBits: UInt32 = 0o077

    /// The key in the file at `path`, or, when no file is there, a new one
    /// from `generate` written there (its directory created with mode 0700).
    /// - Parameters:
    ///   - parse: the key a file's bytes hold, or nil when they hold none.
    ///   - generate: a new key and the bytes that hold it.
    ///   - created: called with `path` when the file was created now.
    public static func load<Key>(
        path: String, parse: (Data) -> Key?, generate: () -> (key: Key, contents: Data), created: (String) -> Void = { _ in }
    ) throws -> Key {
        if let key = try existingKey(at: path, parse: parse) { return key }
        let directory = (path as NSString).deletingLastPathComponent
        if !directory.isEmpty {
            do {
                try FileManager.default.createDirectory(
                    atPath: directory, withIntermediateDirectories: true,
                    attributes: [.posixPermissions: 0o700])
            } catch {
                throw KeyFileError.cannotCreate(path: path, reason: "cannot create its directory: \(error.localizedDescription)")
            }
        }
        let fresh = generate()
        if try createExclusively(at: path, contents: fresh.contents) {
            created(path)
            return fresh.key
        }
        // Another process created it first: use its key once it is written
        // (its single write() is all but instant; a short wait covers it).
        for _ in 0..<50 {
            if let key = try? existingKey(at: path, parse: parse) { return key }
            usleep(20_000)
        }
        guard let key = try existingKey(at: path, parse: parse) else {
            throw KeyFileError.unreadable(path: path, reason: "it vanished after another process created it")
        }
        return key
    }

    /// The key in the file at `path`; nil when there is no file (ENOENT).
    /// Every other failure throws: nothing is ever generated over a file.
    static func existingKey<Key>(at path: String, parse: (Data) -> Key?) throws -> Key? {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        if fd < 0 {
            let code = errno
            if code == ENOENT { return nil }
            throw KeyFileError.unreadable(path: path, reason: describe(code))
        }
        defer { close(fd) }
        var info = stat()
        guard fstat(fd, &info) == 0 else { throw KeyFileError.unreadable(path: path, reason: describe(errno)) }
        let mode = UInt32(info.st_mode)
        // S_IFMT / S_IFREG: only a regular file holds a key.
        guard mode & 0o170000 == 0o100000 else { throw KeyFileError.unreadable(path: path, reason: "it is not a regular file") }
        guard mode & groupOrOtherBits == 0 else { throw KeyFileError.readableByOthers(path: path, mode: mode & 0o7777) }
        var contents = Data()
        var chunk = [UInt8](repeating: 0, count: 4096)
        while true {
            let count = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if count < 0 {
                let code = errno
                if code == EINTR { continue }
                throw KeyFileError.unreadable(path: path, reason: describe(code))
            }
            if count == 0 { break }
            contents.append(contentsOf: chunk[0..<count])
            // No key is anywhere near this long.
            guard contents.count <= 64 * 1024 else { throw KeyFileError.invalid(path: path) }
        }
        guard let key = parse(contents) else { throw KeyFileError.invalid(path: path) }
        return key
    }

    /// Creates the file with mode 0600 and writes `contents`, durably.
    /// Returns false, writing nothing, when a file is already there.
    static func createExclusively(at path: String, contents: Data) throws -> Bool {
        let fd = open(path, O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC, mode_t(0o600))
        if fd < 0 {
            let code = errno
            if code == EEXIST { return false }
            throw KeyFileError.cannotCreate(path: path, reason: describe(code))
        }
        do {
            // The umask can only take bits away; make the mode exactly 0600.
            guard fchmod(fd, mode_t(0o600)) == 0 else { throw KeyFileError.cannotCreate(path: path, reason: describe(errno)) }
            try contents.withUnsafeBytes { buffer in
                var offset = 0
                while offset < buffer.count {
                    let written = write(fd, buffer.baseAddress! + offset, buffer.count - offset)
                    if written < 0 {
                        let code = errno
                        if code == EINTR { continue }
                        throw KeyFileError.cannotCreate(path: path, reason: describe(code))
                    }
                    offset += written
                }
            }
            guard fsync(fd) == 0 else { throw KeyFileError.cannotCreate(path: path, reason: describe(errno)) }
        } catch {
            // A half-written file of our own would be refused at the next start.
            close(fd)
            unlink(path)
            throw error
        }
        close(fd)
        syncDirectory(of: path)
        return true
    }

    /// Makes the new directory entry durable too. Best effort: some file
    /// systems refuse `fsync` on a directory, and the key is on disk already.
    static func syncDirectory(of path: String) {
        let directory = (path as NSString).deletingLastPathComponent
        let fd = open(directory.isEmpty ? "." : directory, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return }
        _ = fsync(fd)
        close(fd)
    }

    static func describe(_ code: Int32) -> String {
        String(cString: strerror(code))
    }
}

/// Why a key file stopped the start. The descriptions name the file and
/// what to do; they never contain key material.
public enum KeyFileError: Error, Equatable, CustomStringConvertible {
    /// Group or others have access: the key may have been read.
    case readableByOthers(path: String, mode: UInt32)
    /// The file is there but cannot be read (permissions, not a file, I/O).
    case unreadable(path: String, reason: String)
    /// The file does not hold a key of the expected kind.
    case invalid(path: String)
    /// No file was there and none could be created.
    case cannotCreate(path: String, reason: String)

    public var description: String {
        switch self {
        case .readableByOthers(let path, let mode):
            "key file \(path) has mode 0\(String(mode, radix: 8)): group or others may read it. If nobody else could have read it, "
                + "run `chmod 600 \(path)` (as its owner); otherwise remove it, or give the key in configuration, "
                + "and let the old key go (docs/configuration.md, Key files)"
        case .unreadable(let path, let reason):
            "key file \(path) cannot be read (\(reason)); it is not replaced: fix its owner and mode (`chmod 600 \(path)`), "
                + "or move it away to have a new key generated (every token made with the old one then stops working)"
        case .invalid(let path):
            "key file \(path) does not hold a valid key; it is not replaced: restore it from a backup, "
                + "or move it away to have a new key generated (every token made with the old one then stops working)"
        case .cannotCreate(let path, let reason):
            "cannot create key file \(path) (\(reason)): set data_dir to a directory the shim may write"
        }
    }
}
