// Prints the cost of the shim's JWT work per token (issued tokens and the gateway):
// signing an issued token, checking one (header, ES256 signature, claims),
// and the gateway's whole check including the grant lookup in a MemoryStore,
// one at a time and from 8 concurrent tasks (jwt-kit's key collection is
// an actor, so signatures are checked one at a time per process).
// Run: swift run -c release jwt-bench [iterations]
import Crypto
import Foundation
import Logging
import ShimCore
import ShimStorage
import ShimTokens

let iterations = CommandLine.arguments.count > 1 ? Int(CommandLine.arguments[1]) ?? 5000 : 5000
let issuer = "https://auth.example.com"
let resource = "https://mcp.example.com/mcp"
let keys = try await SigningKeys.make(current: P256.Signing.PrivateKey())
let store = MemoryStore()
let now = Date()
let upstream = SealedUpstreamTokens(accessToken: "x", accessTokenExpiresAt: nil, refreshToken: nil, tokenType: "Bearer", scope: nil)
_ = try await store.createGrant(
    Grant(
        id: "grant-1", clientID: "client-1", subject: "user-1", resource: resource, scope: ScopeSet("mcp"),
        upstreamScope: ScopeSet("mcp"), upstream: upstream, createdAt: now, expiresAt: now.addingTimeInterval(3600)),
    refreshTokenHash: "h", refreshToken: RefreshTokenRecord(grantID: "grant-1", clientID: "client-1", issuedAt: now))
let validator = IssuedTokenValidator(keys: keys, issuer: issuer, store: store)
let epoch = Int(now.timeIntervalSince1970)
let claims = AccessTokenClaims(
    issuer: issuer, subject: "user-1", audience: [resource], expiresAt: epoch + 300, issuedAt: epoch,
    tokenID: "jti", clientID: "client-1", scope: "mcp", grantID: "grant-1",
    extra: ["email": .string("alice@example.com"), "roles": .array([.string("reader")])])

func measure(_ name: String, concurrency: Int = 1, _ body: @escaping @Sendable () async throws -> Void) async throws {
    for _ in 0..<200 { try await body() }  // warm-up
    let start = ContinuousClock.now
    try await withThrowingTaskGroup(of: Void.self) { group in
        for _ in 0..<concurrency {
            group.addTask { for _ in 0..<(iterations / concurrency) { try await body() } }
        }
        try await group.waitForAll()
    }
    let elapsed = ContinuousClock.now - start
    let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
    let done = (iterations / concurrency) * concurrency
    let label = name.padding(toLength: 52, withPad: " ", startingAt: 0)
    print(label + String(format: " %8.1f µs/op  %9.0f ops/s", seconds / Double(done) * 1e6, Double(done) / seconds))
}

let token = try await keys.sign(claims, type: "at+jwt")
print("jwt-bench: \(iterations) operations each, token \(token.utf8.count) bytes")
try await measure("sign an issued token (ES256)") { _ = try await keys.sign(claims, type: "at+jwt") }

// Fresh tokens (distinct jti): the first check of each, through a fresh validator (no cache).
let fresh = try await (0..<(iterations + 200)).asyncMap { i -> String in
    var distinct = claims
    distinct.tokenID = "jti-\(i)"
    return try await keys.sign(distinct, type: "at+jwt")
}
let cold = IssuedTokenValidator(keys: keys, issuer: issuer, store: store)
let counter = Counter()
try await measure("first check of a token (signature, claims)") {
    _ = try await cold.verify(fresh[counter.next()], resource: resource, now: now)
}
try await measure("  of which: split and decode (CompactJWS)") { _ = try CompactJWS.parse(token) }
let payload = try CompactJWS.parse(token).payload
try await measure("  of which: claims decoded (JSONDecoder)") { _ = try JSONDecoder().decode(AccessTokenClaims.self, from: payload) }
try await measure("  of which: signature (jwt-kit)") { _ = await keys.verifySignature(token) }
try await measure("a token already checked (cache) + claim rules") { _ = try await validator.verify(token, resource: resource, now: now) }
try await measure("  the same, 8 concurrent tasks", concurrency: 8) { _ = try await validator.verify(token, resource: resource, now: now) }
try await measure("gateway check: cached + grant status (memory)") {
    _ = try await validator.validate(token, resource: resource, now: now)
}

// The same check with the grant read from SQLite (the default store).
let path = FileManager.default.temporaryDirectory.appendingPathComponent("jwt-bench-\(UUID().uuidString).db").path
let sqlite = try await SQLiteStore.open(path: path, logger: .init(label: "jwt-bench", factory: { _ in SwiftLogNoOpLogHandler() }))
_ = try await sqlite.createGrant(
    Grant(
        id: "grant-1", clientID: "client-1", subject: "user-1", resource: resource, scope: ScopeSet("mcp"),
        upstreamScope: ScopeSet("mcp"), upstream: upstream, createdAt: now, expiresAt: now.addingTimeInterval(3600)),
    refreshTokenHash: "h", refreshToken: RefreshTokenRecord(grantID: "grant-1", clientID: "client-1", issuedAt: now))
let onDisk = IssuedTokenValidator(keys: keys, issuer: issuer, store: sqlite)
try await measure("gateway check: cached + grant status (SQLite)") { _ = try await onDisk.validate(token, resource: resource, now: now) }
try await measure("  the same, 8 concurrent tasks", concurrency: 8) { _ = try await onDisk.validate(token, resource: resource, now: now) }
try await sqlite.close()
for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: path + suffix) }

final class Counter: @unchecked Sendable {
    private let lock = NSLock()
    private var value = 0
    func next() -> Int {
        lock.lock()
        defer { lock.unlock() }
        value += 1
        return value - 1
    }
}

extension Range where Bound == Int {
    func asyncMap<T>(_ transform: (Int) async throws -> T) async rethrows -> [T] {
        var out: [T] = []
        out.reserveCapacity(count)
        for i in self { out.append(try await transform(i)) }
        return out
    }
}
