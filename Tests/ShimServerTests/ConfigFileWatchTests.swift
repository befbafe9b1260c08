import Foundation
import ShimCore
import ShimServer
import ShimTesting
import Testing

/// `reload.watch_interval`: the configuration file is looked at every
/// interval; a changed modification time, size or content is a change (the
/// caller then reloads as on SIGHUP), a missing file is not.
@Suite("Config file watch: a changed file is noticed, a missing one waited for")
struct ConfigFileWatchTests {
    /// Waits (up to 5 s) until `count` reaches `expected`.
    static func wait(for expected: Int, _ count: Locked<Int>) async throws {
        let deadline = ContinuousClock.now + .seconds(5)
        while count.current < expected, ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(10)) }
    }

    @Test(
        "an edit, even of the same size within the same second, is one change; no edit is none; a removed file is waited for", .timeLimit(.minutes(1))
    )
    func noticesChanges() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("watch-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let file = directory.appendingPathComponent("dcr-shim.yaml")
        let modified = Date(timeIntervalSince1970: 1_700_000_000)
        func write(_ text: String) throws {
            let staged = directory.appendingPathComponent("staged.yaml")
            try Data(text.utf8).write(to: staged)
            // The same modification time every time: only the content can tell.
            try FileManager.default.setAttributes([.modificationDate: modified], ofItemAtPath: staged.path)
            // Moved into place in one step (as an editor saving atomically does): the watch never sees it half done.
            #expect(rename(staged.path, file.path) == 0)
        }
        try write("log: {level: info}\n")
        let changes = Locked(0)
        let watch = ConfigFileWatch(path: file.path, interval: .milliseconds(20))
        let watching = Task { await watch.run { changes.withLock { $0 += 1 } } }
        defer { watching.cancel() }

        try await Task.sleep(for: .milliseconds(200))
        #expect(changes.current == 0, "an unchanged file was taken for a change")
        try write("log: {level: warn}\n")
        try await Self.wait(for: 1, changes)
        #expect(changes.current == 1)

        try FileManager.default.removeItem(at: file)
        try await Task.sleep(for: .milliseconds(200))
        #expect(changes.current == 1, "a missing file was taken for a change")
        try write("log: {level: error}\n")
        try await Self.wait(for: 2, changes)
        #expect(changes.current == 2)
        try await Task.sleep(for: .milliseconds(200))
        #expect(changes.current == 2, "one edit was reported more than once")

        watching.cancel()
        await watching.value
    }

    @Test("the fingerprint: modification time, size and content each make a difference")
    func fingerprint() {
        let when = Date(timeIntervalSince1970: 1_700_000_000)
        let base = ConfigFileFingerprint(modified: when, content: Data("a: 1\n".utf8))
        #expect(base == ConfigFileFingerprint(modified: when, content: Data("a: 1\n".utf8)))
        #expect(base != ConfigFileFingerprint(modified: when.addingTimeInterval(1), content: Data("a: 1\n".utf8)))
        #expect(base != ConfigFileFingerprint(modified: when, content: Data("a: 2\n".utf8)))
        #expect(base != ConfigFileFingerprint(modified: when, content: Data("a: 10\n".utf8)))
    }
}
