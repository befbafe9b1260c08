import FuzzSupport
import ShimCore

@_cdecl("FuzzRedirectURI_main")
func entry(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>) -> CInt {
    runFuzzer(argc, argv, fuzz)
}

/// Every client- and operator-listed allowlist bundle, as a server that
/// admits all of them configures it.
let policy = RedirectPolicy(
    allowlist: RedirectAllowlist(
        clients: ["claude", "chatgpt", "vscode", "cursor", "mcp-inspector", "loopback"],
        allow: ["https://app.example.com/oauth/callback", "cursor://anysphere.cursor-mcp/oauth/callback"]))

/// The input is a redirect URI (registration, /authorize's `redirect_uri`);
/// after a newline, more lines are the URIs a client registered.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ start: UnsafePointer<UInt8>?, _ count: Int) -> CInt {
    let text = String(decoding: bytes(start, count), as: UTF8.self)
    let lines = text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
    let requested = lines[0]
    let registered = Array(lines.dropFirst())

    if let uri = RedirectURI(requested) {
        check(uri.raw.utf8.elementsEqual(requested.utf8), "raw is the input")
        check(RedirectURI(uri.raw) == uri, "parsing is deterministic")
        // The port-less spelling (rule 2's loopback comparison) parses to the
        // same parts, without port, userinfo or fragment.
        let bare = RedirectURI(uri.withoutPort)
        check(bare != nil, "withoutPort parses: \(uri.withoutPort)")
        if let bare {
            check(
                bare.scheme == uri.scheme && bare.host == uri.host && bare.path == uri.path && bare.query == uri.query
                    && bare.port == nil && !bare.hasUserinfo && !bare.hasFragment && bare.hasAuthority == uri.hasAuthority,
                "withoutPort keeps scheme, host, path and query: \(uri.withoutPort)")
            check(bare.withoutPort == uri.withoutPort, "withoutPort is idempotent")
        }
        check(uri.scheme == uri.scheme.lowercased(), "the scheme is lowercased")
        check(!uri.host.utf8.contains(UInt8(ascii: "@")), "the host has no userinfo")
        if uri.hasAuthority, !uri.host.hasPrefix("[") { check(!uri.host.utf8.contains(UInt8(ascii: ":")), "a host is without port") }
        check(uri.port.map { (0...65535).contains($0) } ?? true, "a port is in range")
        check(!uri.path.utf8.contains(UInt8(ascii: "?")) && !uri.path.utf8.contains(UInt8(ascii: "#")), "the path stops at ? and #")
        if uri.isLoopback { check(RedirectURI.isLoopbackHost(uri.host), "isLoopback is isLoopbackHost") }
    }

    // Rule 1: what passes the shape check is a parseable URI without
    // fragment, userinfo, wildcard or dot-segment, and names a host for http(s).
    for operatorListed in [false, true] {
        if (try? RedirectPolicy.checkShape(requested, operatorListed: operatorListed)) != nil {
            let uri = RedirectURI(requested)
            check(uri != nil, "a shape-checked URI parses")
            if let uri {
                check(!uri.hasFragment && !uri.hasUserinfo, "no fragment or userinfo")
                check(!requested.utf8.contains(UInt8(ascii: "*")), "no wildcard")
                check(uri.scheme != "http" || uri.isLoopback, "plain http only on loopback")
                check(!(uri.scheme == "https" || uri.scheme == "http") || !uri.host.isEmpty, "http(s) names a host")
                check(!["javascript", "data", "file", "vbscript"].contains(uri.scheme), "not a dangerous scheme")
            }
        }
    }
    if policy.stillAllowed(requested) {
        check((try? RedirectPolicy.checkShape(requested, operatorListed: true)) != nil, "an allowed URI passes the shape check")
        check(policy.allowlist.permits(requested), "an allowed URI is on the allowlist")
    }

    // Rule 2: an exact (byte) match, or a registered loopback URI that
    // differs only in its port.
    if let chosen = RedirectPolicy.matches(requested: requested, registered: registered) {
        check(registered.contains { $0.utf8.elementsEqual(chosen.utf8) }, "the match is a registered URI")
        if !chosen.utf8.elementsEqual(requested.utf8) {
            let asked = RedirectURI(requested)
            let known = RedirectURI(chosen)
            check(
                asked?.scheme == "http" && asked?.isLoopback == true && known?.scheme == "http" && known?.isLoopback == true,
                "an inexact match is loopback http on both sides")
            check(asked?.withoutPort == known?.withoutPort, "an inexact match differs only in the port")
            check(asked?.hasFragment == false && asked?.hasUserinfo == false, "the requested URI has no fragment or userinfo")
        }
    }
    if !requested.isEmpty {
        check(RedirectPolicy.matches(requested: requested, registered: [requested]) == requested, "a URI matches itself")
    }

    // A Client ID Metadata Document URL (an untrusted client_id).
    if let clientID = try? CIMDClientID(validating: requested) {
        check(clientID.url.utf8.elementsEqual(requested.utf8), "the client id is kept byte for byte")
        check(CIMDClientID.isCandidate(requested), "a valid client id is a candidate")
        check(clientID.host == clientID.host.lowercased(), "the host is lowercased")
    }
    return 0
}
