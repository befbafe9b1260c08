import Foundation
import HTTPTypes
import HummingbirdTesting
import NIOCore
import ShimCore
import ShimServer
import Testing

/// The API description: docs/openapi.yaml built into the binary (as a
/// generated Swift file, no SwiftPM resources) and served at
/// `api_description.path` when configured.
@Suite("API description: the embedded docs/openapi.yaml, served where configured")
struct APIDescriptionTests {
    /// docs/openapi.yaml of this checkout, found from this file's path.
    static func documentOnDisk() throws -> Data {
        let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        return try Data(contentsOf: repository.appendingPathComponent("docs/openapi.yaml"))
    }

    @Test("the embedded copy is docs/openapi.yaml byte for byte (else run scripts/embed-openapi.sh)")
    func embeddedCopyIsCurrent() throws {
        let onDisk = try Self.documentOnDisk()
        #expect(
            Data(APIDescriptionDocument.yaml.utf8) == onDisk,
            "Sources/ShimServer/HTTP/APIDescriptionDocument.swift differs from docs/openapi.yaml: run scripts/embed-openapi.sh")
    }

    @Test("with api_description.path: GET answers the document as application/yaml, cacheable")
    func servedWhereConfigured() async throws {
        let onDisk = try Self.documentOnDisk()
        let harness = try ShimHarness(overrides: ["api_description": .map(["path": .string("/openapi.yaml")])])
        try await harness.run { client async throws in
            let response = try await client.get("/openapi.yaml")
            #expect(response.status == .ok)
            #expect(response.headers[.contentType] == "application/yaml")
            #expect(response.headers[.cacheControl] == "public, max-age=3600")
            #expect(Data(response.body.readableBytesView) == onDisk)
        }
    }

    @Test("without api_description: not served (404)")
    func notServedByDefault() async throws {
        let harness = try ShimHarness()
        try await harness.run { client async throws in
            #expect(try await client.get("/openapi.yaml").status == .notFound)
        }
    }
}
