import Foundation
import ShimCore
import Testing

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Key files under `data_dir`: generated only where there is no file, with
/// mode 0600 exactly; a file open to others, unreadable or not a key stops
/// the start and is left as it is (never replaced by a new key).
@Suite("Key files: 0600, never replaced, refused when open to others or unreadable")
struct KeyFileTests {
    /// A fresh directory, removed afterwards.
    static func withDirectory<T>(_ body: (String) throws -> T) throws -> T {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("dcr-shim-keyfile-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        return try body(dir)
    }

    /// The test's "key": a line of text that starts with `key-`.
    static func parse(_ data: Data) -> String? {
        guard let text = String(data: data, encoding: .utf8), text.hasPrefix("key-") else { return nil }
        return text
    }

    static func load(_ path: String, newKey: String = "key-new", created: (String) -> Void = { _ in }) throws -> String {
        try KeyFile.load(path: path, parse: parse, generate: { (newKey, Data(newKey.utf8)) }, created: created)
    }

    static func write(_ contents: Data, to path: String, mode: Int) throws {
        try contents.write(to: URL(fileURLWithPath: path))
        try FileManager.default.setAttributes([.posixPermissions: mode], ofItemAtPath: path)
    }

    static func mode(_ path: String) throws -> Int? {
        (try FileManager.default.attributesOfItem(atPath: path)[.posixPermissions] as? NSNumber)?.intValue
    }

    @Test("no file: a new key, mode exactly 0600, in a directory created for it; read back after")
    func generatedOnce() throws {
        try Self.withDirectory { dir in
            let path = dir + "/state/signing.key"
            var createdPaths: [String] = []
            let first = try Self.load(path, newKey: "key-first") { createdPaths.append($0) }
            #expect(first == "key-first" && createdPaths == [path])
            #expect(try Self.mode(path) == 0o600)
            #expect(try String(contentsOfFile: path, encoding: .utf8) == "key-first")
            let second = try Self.load(path, newKey: "key-second") { createdPaths.append($0) }
            #expect(second == "key-first" && createdPaths == [path])
        }
    }

    @Test(
        "a key file group or others may access is refused, naming the file and chmod 600; the file is left as it is",
        arguments: [0o644, 0o640, 0o604, 0o660, 0o602, 0o620, 0o601])
    func openToOthers(mode: Int) throws {
        try Self.withDirectory { dir in
            let path = dir + "/cookie.key"
            try Self.write(Data("key-old".utf8), to: path, mode: mode)
            #expect(throws: KeyFileError.readableByOthers(path: path, mode: UInt32(mode))) { try Self.load(path) }
            #expect("\(KeyFileError.readableByOthers(path: path, mode: UInt32(mode)))".contains("chmod 600 \(path)"))
            #expect(try String(contentsOfFile: path, encoding: .utf8) == "key-old")
            #expect(try Self.mode(path) == mode)
        }
    }

    @Test(
        "a file that holds no key (garbage, bad UTF-8, empty) is refused and left byte for byte",
        arguments: [Data("not a key".utf8), Data([0x6b, 0x65, 0x79, 0x2d, 0xff, 0xfe]), Data()])
    func invalidContent(contents: Data) throws {
        try Self.withDirectory { dir in
            let path = dir + "/encryption.key"
            try Self.write(contents, to: path, mode: 0o600)
            #expect(throws: KeyFileError.invalid(path: path)) { try Self.load(path) }
            #expect(try Data(contentsOf: URL(fileURLWithPath: path)) == contents)
        }
    }

    @Test("something at the key path that cannot be read as a file (a directory) is refused, never replaced")
    func directoryAtThePath() throws {
        try Self.withDirectory { dir in
            let path = dir + "/signing-key.pem"
            try FileManager.default.createDirectory(
                atPath: path, withIntermediateDirectories: false,
                attributes: [.posixPermissions: 0o700])
            let error = #expect(throws: KeyFileError.self) { try Self.load(path) }
            guard case .unreadable(let failedPath, _) = error else {
                Issue.record("not unreadable: \(String(describing: error))")
                return
            }
            #expect(failedPath == path)
            var isDirectory: ObjCBool = false
            #expect(FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) && isDirectory.boolValue)
        }
    }

    @Test(
        "a key file the process may not read (mode 0000) is refused, never replaced (not as root: root reads it)",
        .enabled(if: geteuid() != 0))
    func permissionDenied() throws {
        try Self.withDirectory { dir in
            let path = dir + "/cookie.key"
            try Self.write(Data("key-old".utf8), to: path, mode: 0o000)
            defer { try? FileManager.default.setAttributes([.posixPermissions: 0o600], ofItemAtPath: path) }
            let error = #expect(throws: KeyFileError.self) { try Self.load(path) }
            guard case .unreadable(let failedPath, _) = error else {
                Issue.record("not unreadable: \(String(describing: error))")
                return
            }
            #expect(failedPath == path)
            try FileManager.default.setAttributes([.posixPermissions: 0o600], ofItemAtPath: path)
            #expect(try String(contentsOfFile: path, encoding: .utf8) == "key-old")
        }
    }

    @Test("another process creates the file between the look and the create: its key is used, the file left as it wrote it")
    func raceWithAnotherProcess() throws {
        try Self.withDirectory { dir in
            let path = dir + "/signing-key.pem"
            var createdPaths: [String] = []
            // `generate` runs after the look found no file and before the
            // O_EXCL create: the other process writes its key right then.
            let key = try KeyFile.load(
                path: path, parse: Self.parse,
                generate: {
                    try? Self.write(Data("key-theirs".utf8), to: path, mode: 0o600)
                    return ("key-mine", Data("key-mine".utf8))
                }, created: { createdPaths.append($0) })
            #expect(key == "key-theirs" && createdPaths.isEmpty)
            #expect(try String(contentsOfFile: path, encoding: .utf8) == "key-theirs")
        }
    }

    @Test(
        "no data_dir set: a state directory, never the working directory",
        arguments: [
            (["STATE_DIRECTORY": "/var/lib/private/dcr-shim:/var/lib/other"], false, "/home/u", "/var/lib/private/dcr-shim"),
            (["STATE_DIRECTORY": "/var/lib/dcr-shim"], true, "/root", "/var/lib/dcr-shim"),
            ([:], true, "/root", "/var/lib/dcr-shim"),
            (["XDG_STATE_HOME": "/home/u/.state"], false, "/home/u", "/home/u/.state/dcr-shim"),
            (["XDG_STATE_HOME": "relative/state"], false, "/home/u", "/home/u/.local/state/dcr-shim"),
            ([:], false, "/home/u", "/home/u/.local/state/dcr-shim"),
            ([:], false, nil, "/var/lib/dcr-shim"),
            ([:], false, "/", "/var/lib/dcr-shim"),
        ] as [([String: String], Bool, String?, String)])
    func defaultDataDirectory(environment: [String: String], isRoot: Bool, home: String?, expected: String) {
        #expect(DataDirectory.standard(environment: environment, isRoot: isRoot, home: home) == expected)
    }
}
