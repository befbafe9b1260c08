import Foundation
import HTTPTypes
import Hummingbird
import Logging
import ShimCore
import ShimStorage
import ShimUpstream

/// The consent page (rule 4). A name is only a claim, so the page shows
/// what the user can check:
/// - for a client known by its metadata document, the document's verified
///   host, prominently, and its full URL (draft-ietf-oauth-client-id-metadata-document
///   §6 "OAuth Phishing Attacks": "SHOULD display the hostname of the client_id");
///   for a registered client, that the name is self-declared;
/// - the FULL redirect URI, with plain words for where it leads and a note
///   for relay and per-connector callbacks (`RedirectDescription`);
/// - a warning when a document's redirects are all on loopback: anyone can
///   publish such a document naming any application (MCP "Localhost
///   Redirect URI Risks");
/// - the identity provider the user is about to sign in with.
/// Every value is HTML-escaped; the page runs no script.
enum ConsentPage {
    static func render(
        client: ResolvedClient, request: AuthorizationRequest, identityProvider: String, requestID: String,
        csrfToken: String, styleNonce: String, formAction: String
    ) -> String {
        let e = HTMLPage.escape
        let name = client.client.displayName
        let redirect = RedirectDescription(request.redirectURI)
        let scopes = request.scope.values.map { "<li><code>\(e($0))</code></li>" }.joined()
        var identity: String
        if let document = client.document {
            identity = """
                <p class="origin">Published by <strong class="host" id="document-host">\(e(document.clientID.host))</strong></p>
                <p class="small">This application identifies itself with the document at <code id="client-id">\(e(document.clientID.url))</code>.
                Its name is what that document says.</p>
                """
            if document.redirectsAreAllLoopback {
                identity += """
                    <p class="warn" id="loopback-warning">Anyone can publish a document that names a program on your computer, so
                    \(e(document.clientID.host)) does not prove which application is asking. Continue only if you started this sign-in
                    yourself, just now.</p>
                    """
            }
        } else {
            identity = """
                <p class="small" id="self-registered">This application registered itself with this server; the name above is its own claim.</p>
                """
        }
        let note = redirect.note.map { "<p class=\"warn\" id=\"redirect-note\">\(e($0))</p>" } ?? ""
        return """
            <!doctype html>
            <html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
            <title>Allow \(e(name))?</title>
            <style nonce="\(styleNonce)">
            body{font-family:system-ui,sans-serif;max-width:36rem;margin:3rem auto;padding:0 1rem;color:#1d1d1f}
            .card{border:1px solid #ccc;border-radius:12px;padding:1.5rem}
            h1{font-size:1.3rem}.host{font-weight:600;word-break:break-all}.origin{font-size:1.1rem}
            code{word-break:break-all}.small{font-size:.9rem;color:#444}
            .warn{color:#8a4b00;font-size:.9rem}
            button{font-size:1rem;padding:.6rem 1.4rem;border-radius:8px;border:1px solid #888;margin-right:.6rem;cursor:pointer}
            #allow{background:#0a58ca;color:#fff;border-color:#0a58ca}
            </style></head>
            <body><div class="card">
            <h1>Allow <span id="client-name">\(e(name))</span> to access <code id="resource">\(e(request.resource))</code>?</h1>
            \(identity)
            <p>You will sign in with <strong id="identity-provider">\(e(identityProvider))</strong>. Access will then be sent to
            <strong id="redirect-destination">\(e(redirect.plainWords))</strong>, at</p>
            <p><code id="redirect-uri">\(e(request.redirectURI))</code></p>
            \(note)
            <p>It asks for:</p><ul id="scopes">\(scopes)</ul>
            <p class="warn">Only continue if you started this sign-in from that application just now.</p>
            <form method="post" action="\(e(formAction))">
            <input type="hidden" name="request_id" value="\(e(requestID))">
            <input type="hidden" name="csrf_token" value="\(e(csrfToken))">
            <button type="submit" name="decision" value="allow" id="allow">Allow</button>
            <button type="submit" name="decision" value="deny" id="deny">Deny</button>
            </form></div></body></html>
            """
    }
}
