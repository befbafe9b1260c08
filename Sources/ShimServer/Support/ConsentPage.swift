import Foundation
import HTTPTypes
import Hummingbird
import Logging
import ShimCore
import ShimStorage
import ShimUpstream

/// The consent page. It names the client as it registered itself, and,
/// because a name is only a claim, the host the authorization will be sent
/// to, which the user can recognise.
enum ConsentPage {
    static func render(client: RegisteredClient, request: AuthorizationRequest, requestID: String, csrfToken: String,
                       styleNonce: String, formAction: String) -> String {
        let e = HTMLPage.escape
        let redirect = RedirectURI(request.redirectURI)
        let destination = redirect.map { $0.scheme == "http" || $0.scheme == "https" ? $0.host : "\($0.scheme)://\($0.host)" } ?? request.redirectURI
        let scopes = request.scope.values.map { "<li><code>\(e($0))</code></li>" }.joined()
        return """
        <!doctype html>
        <html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
        <title>Allow \(e(client.displayName))?</title>
        <style nonce="\(styleNonce)">
        body{font-family:system-ui,sans-serif;max-width:34rem;margin:3rem auto;padding:0 1rem;color:#1d1d1f}
        .card{border:1px solid #ccc;border-radius:12px;padding:1.5rem}
        h1{font-size:1.3rem}.host{font-weight:600;word-break:break-all}
        .warn{color:#8a4b00;font-size:.9rem}
        button{font-size:1rem;padding:.6rem 1.4rem;border-radius:8px;border:1px solid #888;margin-right:.6rem;cursor:pointer}
        #allow{background:#0a58ca;color:#fff;border-color:#0a58ca}
        </style></head>
        <body><div class="card">
        <h1>Allow <span id="client-name">\(e(client.displayName))</span> to access <code id="resource">\(e(request.resource))</code>?</h1>
        <p>After you sign in, access will be sent to <span class="host" id="redirect-host">\(e(destination))</span>.</p>
        <p>It asks for:</p><ul id="scopes">\(scopes)</ul>
        <p class="warn">Only continue if you started this sign-in from that application just now.
        The name above is chosen by the application itself.</p>
        <form method="post" action="\(e(formAction))">
        <input type="hidden" name="request_id" value="\(e(requestID))">
        <input type="hidden" name="csrf_token" value="\(e(csrfToken))">
        <button type="submit" name="decision" value="allow" id="allow">Allow</button>
        <button type="submit" name="decision" value="deny" id="deny">Deny</button>
        </form></div></body></html>
        """
    }
}
