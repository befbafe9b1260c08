// swift-tools-version:6.1
import Foundation
import PackageDescription

/// Coverage-guided fuzz targets (libFuzzer, `-sanitize=fuzzer`) for the
/// parsers that read untrusted bytes. Built and run by scripts/fuzz.sh; see
/// the "Fuzzing" section of docs/security.md. Linux only: each target is an
/// executable whose `main` is libFuzzer's, so it must be built with
/// `-Xswiftc -sanitize=fuzzer -Xswiftc -parse-as-library`.
let strictSettings: [SwiftSetting] = [
    .enableUpcomingFeature("ExistentialAny"),
    .enableUpcomingFeature("MemberImportVisibility"),
    .enableUpcomingFeature("InternalImportsByDefault"),
]

/// SwiftPM names a path dependency after its directory (the checkout's name,
/// "dcr-shim" or a worktree's), not after its manifest's `name`.
let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().lastPathComponent

let targets = ["FuzzRedirectURI", "FuzzStrictJSON", "FuzzClientMetadata", "FuzzJWS", "FuzzForm", "FuzzMCPRequest"]

let package = Package(
    name: "dcr-shim-fuzz",
    platforms: [.macOS(.v14)],
    dependencies: [
        .package(path: ".."),
    ],
    targets: targets.map { name in
        .executableTarget(
            name: name,
            dependencies: ["FuzzSupport", .product(name: "ShimCore", package: root)],
            swiftSettings: strictSettings
        )
    } + [
        // libFuzzer's entry point and the invariant check shared by the targets.
        .target(name: "FuzzSupport", swiftSettings: strictSettings),
        .executableTarget(
            name: "FuzzConfig",
            dependencies: [
                "FuzzSupport",
                .product(name: "ShimCore", package: root),
                .product(name: "ShimConfigFile", package: root),
            ],
            swiftSettings: strictSettings
        ),
    ]
)
