import Foundation
import FuzzSupport
import ShimCore

@_cdecl("FuzzClientMetadata_main")
func entry(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>) -> CInt {
    runFuzzer(argc, argv, fuzz)
}

let allowlist = RedirectAllowlist(
    clients: ["claude", "chatgpt", "vscode", "cursor", "mcp-inspector", "loopback"],
    allow: ["https://app.example.com/oauth/callback"])
let policy = RedirectPolicy(allowlist: allowlist)
let scopes = ResourcePolicy(
    resources: [.init(resource: "https://mcp.example.com/mcp", scopes: ["mcp:tools", "mcp:read"])],
    upstreamScopes: ["openid", "profile", "email", "offline_access"])
/// The URL the fuzzed metadata documents claim to be fetched from (the seed
/// documents and the dictionary use it as their `client_id`).
let documentURL = try! CIMDClientID(validating: "https://app.example.com/oauth/client.json")

/// One body, read both as an RFC 7591 registration request and as a Client
/// ID Metadata Document: both are attacker-written JSON.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ start: UnsafePointer<UInt8>?, _ count: Int) -> CInt {
    let body = Data(bytes(start, count))
    let strict = (try? StrictJSON.checkObject(body)) != nil

    for assertionGrant in [false, true] {
        guard let metadata = try? ClientMetadata.parse(json: body, policy: policy, scopes: scopes, assertionGrant: assertionGrant) else { continue }
        check(strict, "an accepted registration passed the strict scan")
        checkCommon(metadata)
        for uri in metadata.redirectURIs {
            check((try? policy.checkRegistration(uri)) != nil, "every registered redirect URI passes rule 1")
        }
        if metadata.grantTypes.contains(EMAProtocol.jwtBearerGrant) {
            check(assertionGrant, "jwt-bearer only when the shim accepts ID-JAGs")
            check(metadata.tokenEndpointAuthMethod != .none, "jwt-bearer only for a confidential client")
        }
    }

    if let document = try? CIMDDocument.parse(body, clientID: documentURL, allowlist: allowlist, scopes: scopes) {
        check(strict, "an accepted metadata document passed the strict scan")
        check(document.clientID == documentURL, "the document is the client it was fetched for")
        check(document.metadata.tokenEndpointAuthMethod == .none, "a metadata document is a public client")
        check(document.documentHash.utf8.count == 16, "the hash is 16 hex digits")
        checkCommon(document.metadata)
        for uri in document.metadata.redirectURIs {
            check((try? RedirectPolicy.checkShape(uri, operatorListed: false)) != nil, "every document redirect URI passes the shape check")
        }
        _ = document.redirectsAreAllLoopback
        _ = document.client(firstSeen: Date(timeIntervalSince1970: 0))
    }
    return 0
}

func checkCommon(_ metadata: ClientMetadata) {
    check(!metadata.redirectURIs.isEmpty, "at least one redirect URI")
    check(metadata.redirectURIs.count <= ClientMetadata.maxListLength, "at most maxListLength redirect URIs")
    check(metadata.grantTypes.count <= ClientMetadata.maxListLength, "at most maxListLength grant types")
    check(metadata.responseTypes.count <= ClientMetadata.maxListLength, "at most maxListLength response types")
    check(
        metadata.redirectURIs.allSatisfy { RedirectURI($0).map { !$0.hasFragment && !$0.hasUserinfo } ?? false },
        "redirect URIs parse, without fragment or userinfo")
    if let name = metadata.clientName {
        check(name.count <= 200, "client_name within 200 characters")
    }
}
