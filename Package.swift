// swift-tools-version:6.1
import PackageDescription

/// Strict settings for our own targets: Swift 6 language mode
/// plus the upcoming features Hummingbird itself builds with.
let strictSettings: [SwiftSetting] = [
    .enableUpcomingFeature("ExistentialAny"),
    .enableUpcomingFeature("MemberImportVisibility"),
    .enableUpcomingFeature("InternalImportsByDefault"),
]

let package = Package(
    name: "dcr-shim",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "dcr-shim", targets: ["dcr-shim"]),
        // For the fuzz package (fuzz/Package.swift), which fuzzes ShimCore's parsers.
        .library(name: "ShimCore", targets: ["ShimCore"]),
        .library(name: "ShimConfigFile", targets: ["ShimConfigFile"]),
    ],
    dependencies: [
        .package(url: "https://github.com/hummingbird-project/hummingbird.git", from: "2.28.0"),
        .package(url: "https://github.com/swift-server/async-http-client.git", from: "1.37.0"),
        .package(url: "https://github.com/apple/swift-crypto.git", from: "4.0.0"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.0"),
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.0"),
        .package(url: "https://github.com/vapor/sqlite-nio.git", from: "1.13.0"),
        .package(url: "https://github.com/vapor/postgres-nio.git", from: "1.33.0"),
        .package(url: "https://github.com/jpsim/Yams.git", from: "6.2.0"),
        .package(url: "https://github.com/apple/swift-http-types.git", from: "1.8.0"),
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.100.0"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.0.0"),
        .package(url: "https://github.com/x-sheep/swift-property-based.git", from: "2.0.0"),
        .package(url: "https://github.com/apple/swift-metrics.git", from: "2.9.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus.git", from: "2.4.0"),
        // JWTs: issued access tokens, /jwks.json, ID-token and ID-JAG verification.
        .package(url: "https://github.com/vapor/jwt-kit.git", from: "5.7.0"),
        // TLS for the SSRF-guarded fetcher (an operator's extra CA) and its tests' listeners.
        .package(url: "https://github.com/apple/swift-nio-ssl.git", from: "2.30.0"),
        // Traces: the span API (Hummingbird and AsyncHTTPClient already build it) and,
        // in the executable only, the OTLP/HTTP exporter (no gRPC: the trait keeps grpc-swift out).
        .package(url: "https://github.com/apple/swift-distributed-tracing.git", from: "1.7.0"),
        .package(url: "https://github.com/swift-otel/swift-otel.git", from: "1.6.0", traits: ["OTLPHTTP"]),
    ],
    targets: [
        .target(
            name: "ShimCore",
            dependencies: [.product(name: "Crypto", package: "swift-crypto")],
            swiftSettings: strictSettings
        ),
        .target(
            name: "ShimStorage",
            dependencies: [
                "ShimCore",
                .product(name: "SQLiteNIO", package: "sqlite-nio"),
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "Logging", package: "swift-log"),
                // The SQLite store's own threads (writer and readers).
                .product(name: "Tracing", package: "swift-distributed-tracing"),
                .product(name: "NIOPosix", package: "swift-nio"),
            ],
            swiftSettings: strictSettings
        ),
        .target(
            name: "ShimUpstream",
            dependencies: [
                "ShimCore",
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "JWTKit", package: "jwt-kit"),
                // RSA (PS256/RS256) for the private_key_jwt client assertion; jwt-kit builds it already.
                .product(name: "CryptoExtras", package: "swift-crypto"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                .product(name: "Tracing", package: "swift-distributed-tracing"),
            ],
            swiftSettings: strictSettings
        ),
        // The shim's own ES256 keys (/jwks.json), and signing and validating
        // the tokens it issues (jwt-kit); shared by ShimServer and ShimGateway.
        .target(
            name: "ShimTokens",
            dependencies: [
                "ShimCore", "ShimStorage",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "JWTKit", package: "jwt-kit"),
            ],
            swiftSettings: strictSettings
        ),
        .target(
            name: "ShimServer",
            dependencies: [
                "ShimCore", "ShimStorage", "ShimUpstream", "ShimTokens",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "Tracing", package: "swift-distributed-tracing"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strictSettings
        ),
        // Gateway mode: the streaming reverse proxy in front of MCP servers
        // (its own target: depends on Core, Storage and the token
        // validation, never on ShimServer).
        .target(
            name: "ShimGateway",
            dependencies: [
                "ShimCore", "ShimStorage", "ShimTokens",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "Tracing", package: "swift-distributed-tracing"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strictSettings
        ),
        // The configuration file's YAML as ShimCore's tree: the executable
        // reads it, the fuzz package fuzzes it.
        .target(
            name: "ShimConfigFile",
            dependencies: ["ShimCore", .product(name: "Yams", package: "Yams")],
            swiftSettings: strictSettings
        ),
        .executableTarget(
            name: "dcr-shim",
            dependencies: [
                "ShimCore", "ShimConfigFile", "ShimStorage", "ShimServer", "ShimUpstream", "ShimTokens", "ShimGateway",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
                .product(name: "OTel", package: "swift-otel"),
                .product(name: "Tracing", package: "swift-distributed-tracing"),
            ],
            swiftSettings: strictSettings
        ),
        // What the test targets share: the test clock, a lock for test
        // doubles, log capture (as HummingbirdTesting serves Hummingbird's).
        .target(
            name: "ShimTesting",
            dependencies: ["ShimCore", .product(name: "Logging", package: "swift-log")],
            swiftSettings: strictSettings
        ),
        // bench/jwt-bench: the cost of signing and checking issued tokens (figures, not a test).
        .executableTarget(
            name: "jwt-bench",
            dependencies: ["ShimTokens", "ShimStorage", "ShimCore", .product(name: "Crypto", package: "swift-crypto"),
                           .product(name: "Logging", package: "swift-log")],
            path: "bench/jwt-bench",
            swiftSettings: strictSettings
        ),
        .testTarget(
            name: "ShimCoreTests",
            dependencies: ["ShimTesting", "ShimCore", "ShimConfigFile", .product(name: "PropertyBased", package: "swift-property-based")],
            swiftSettings: strictSettings
        ),
        .testTarget(
            name: "ShimStorageTests",
            dependencies: [
                "ShimTesting", "ShimStorage", "ShimCore",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "PostgresNIO", package: "postgres-nio"),
            ],
            swiftSettings: strictSettings
        ),
        .testTarget(
            name: "ShimUpstreamTests",
            dependencies: [
                "ShimTesting", "ShimUpstream", "ShimCore",
                .product(name: "JWTKit", package: "jwt-kit"),
                .product(name: "CryptoExtras", package: "swift-crypto"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdTesting", package: "hummingbird"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strictSettings
        ),
        .testTarget(
            name: "ShimTokensTests",
            dependencies: ["ShimTesting", "ShimTokens", "ShimStorage", "ShimCore", .product(name: "Crypto", package: "swift-crypto")],
            swiftSettings: strictSettings
        ),
        .testTarget(
            name: "ShimGatewayTests",
            dependencies: [
                "ShimTesting", "ShimGateway", "ShimTokens", "ShimStorage", "ShimCore",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdTesting", package: "hummingbird"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strictSettings
        ),
        .testTarget(
            name: "ShimServerTests",
            dependencies: [
                "ShimTesting", "ShimServer", "ShimStorage", "ShimUpstream", "ShimCore", "ShimTokens",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdTesting", package: "hummingbird"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strictSettings
        ),
    ]
)
