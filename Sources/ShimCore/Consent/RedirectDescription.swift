/// How the consent page tells a person where the authorization will go
/// (rule 4; threat C7; MCP "Localhost Redirect URI Risks": the
/// server "MUST clearly display the redirect URI hostname").
///
/// The full redirect URI is always shown. Next to it, plain words: a program
/// on this computer for loopback (a bare `127.0.0.1` means nothing to most
/// people), an app on this device for a private-use scheme, the host for the
/// web. Some allowlisted callbacks need a note of their own, because the
/// code does not stop where the URL suggests:
/// - `https://vscode.dev/redirect` (and `insiders.vscode.dev`) is a relay:
///   the page hands the code on to the VS Code instance that opened the
///   sign-in, desktop or web. The host is Microsoft's, but the receiver is
///   whichever VS Code started the flow.
/// - `https://chatgpt.com/connector/oauth/<id>` is per connector: the code
///   goes to the ChatGPT account that owns connector `<id>`, which need not
///   be the person signing in.
public struct RedirectDescription: Sendable, Equatable {
    public enum Destination: Sendable, Equatable {
        /// http on loopback: a program on this computer, listening on `port` (nil: 80).
        case thisComputer(port: Int?)
        /// A private-use scheme (RFC 8252 §7.1): an app on this device registered for it.
        case appOnThisDevice(scheme: String)
        /// https: a website.
        case website(host: String)
    }

    public var uri: String
    public var destination: Destination
    /// Why this callback deserves a second look, in words for the user.
    public var note: String?

    public init(_ uri: String) {
        self.uri = uri
        guard let parsed = RedirectURI(uri) else {
            destination = .website(host: uri)
            note = nil
            return
        }
        if parsed.scheme == "http", parsed.isLoopback {
            destination = .thisComputer(port: parsed.port)
        } else if parsed.scheme == "http" || parsed.scheme == "https" {
            destination = .website(host: parsed.host.lowercased() + (parsed.port.map { ":\($0)" } ?? ""))
        } else {
            destination = .appOnThisDevice(scheme: parsed.scheme)
        }
        note = Self.note(for: uri)
    }

    /// The destination in plain words.
    public var plainWords: String {
        switch destination {
        case .thisComputer(let port):
            "an application on this computer" + (port.map { " (listening on port \($0))" } ?? "")
        case .appOnThisDevice(let scheme):
            "an app on this device that opens \(scheme): links"
        case .website(let host):
            "the website \(host)"
        }
    }

    static let relays = ["https://vscode.dev/redirect", "https://insiders.vscode.dev/redirect"]
    static let chatgptConnector = "https://chatgpt.com/connector/oauth/"

    static func note(for uri: String) -> String? {
        if relays.contains(where: { $0.utf8.elementsEqual(uri.utf8) }) {
            return "This is VS Code's relay page: it passes the sign-in on to the VS Code window that started it. "
                + "Continue only if you started this sign-in from VS Code yourself."
        }
        if uri.utf8.starts(with: chatgptConnector.utf8) {
            let id = uri.dropFirst(chatgptConnector.count)
            return "This is the callback of one ChatGPT connector (\(id)): access goes to the ChatGPT account that owns it. "
                + "Continue only if you are adding this connector to your own ChatGPT account."
        }
        return nil
    }
}
