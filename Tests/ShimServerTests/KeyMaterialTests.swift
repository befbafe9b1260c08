import Foundation
import ShimCore
import ShimServer
import Testing

/// The encryption and cookie keys generated into `data_dir`: 0600, read back
/// on every start, and never silently replaced (which would end every sealed
/// upstream token and browser binding).
@Suite("Key material in data_dir")
struct KeyMaterialTests {
    @Test("generated once (0600) and read back; a key file open to others or not a key stops the start, left as it is")
    func keyFiles() throws {
        var config = try ShimHarness.configuration(consent: "always", refreshGrace: "45s")
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("dcr-shim-keymaterial-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: dir) }
        config.dataDir = dir
        var created: [String] = []
        let first = try KeyMaterial.load(config: config, ephemeral: false) { created.append($0) }
        let cookiePath = dir + "/cookie.key"
        let encryptionPath = dir + "/encryption.key"
        #expect(Set(created) == [cookiePath, encryptionPath])
        #expect(KeyMaterial.filePaths(config: config, ephemeral: false) == [encryptionPath, cookiePath])
        for path in [cookiePath, encryptionPath] {
            #expect((try FileManager.default.attributesOfItem(atPath: path)[.posixPermissions] as? NSNumber)?.intValue == 0o600)
        }
        let again = try KeyMaterial.load(config: config, ephemeral: false) { created.append($0) }
        #expect(again.cookieKey == first.cookieKey && again.encryptionKey == first.encryptionKey && created.count == 2)

        try FileManager.default.setAttributes([.posixPermissions: 0o640], ofItemAtPath: cookiePath)
        #expect(throws: KeyFileError.readableByOthers(path: cookiePath, mode: 0o640)) { try KeyMaterial.load(config: config, ephemeral: false) }
        try FileManager.default.setAttributes([.posixPermissions: 0o600], ofItemAtPath: cookiePath)

        let garbage = Data([0xff, 0xfe, 0x00, 0x41])
        try garbage.write(to: URL(fileURLWithPath: encryptionPath))
        try FileManager.default.setAttributes([.posixPermissions: 0o600], ofItemAtPath: encryptionPath)
        #expect(throws: KeyFileError.invalid(path: encryptionPath)) { try KeyMaterial.load(config: config, ephemeral: false) }
        #expect(try Data(contentsOf: URL(fileURLWithPath: encryptionPath)) == garbage)
        #expect(try KeyMaterial.load(config: config, ephemeral: true).cookieKey != first.cookieKey)
    }
}
