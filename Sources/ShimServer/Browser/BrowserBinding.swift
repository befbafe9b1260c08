import Foundation
import HTTPTypes
import Hummingbird
import Logging
import ShimCore
import ShimStorage
import ShimUpstream

/// Rule 4 and 5: the browser is identified by a random id in a signed
/// `__Host-` cookie (Secure, HttpOnly, SameSite=Lax, Path=/). Records store
/// only the hash of the id (`key`), so the database never holds a cookie.
struct BrowserBinding: Sendable {
    static let cookieName = "__Host-dcr-shim-browser"
    static let maxAge = 180 * 86400

    let id: String
    let isNew: Bool

    /// The hash records are bound to.
    var key: String { SecretToken.hash(id) }

    /// The browser's verified binding, or nil when the cookie is absent or forged.
    static func current(_ request: Request, signer: MessageSigner) -> BrowserBinding? {
        guard let value = request.cookies[cookieName]?.value else { return nil }
        let parts = value.split(separator: ".")
        guard parts.count == 2, signer.verify(String(parts[1]), [String(parts[0])], domain: "browser") else { return nil }
        return BrowserBinding(id: String(parts[0]), isNew: false)
    }

    static func currentOrNew(_ request: Request, signer: MessageSigner) -> BrowserBinding {
        current(request, signer: signer) ?? BrowserBinding(id: SecretToken.generate(), isNew: true)
    }

    /// Sets the cookie on `response` when it was just created.
    func apply(to response: inout Response, signer: MessageSigner) {
        guard isNew else { return }
        let value = id + "." + signer.sign([id], domain: "browser")
        response.setCookie(
            Cookie(
                name: Self.cookieName, value: value, maxAge: Self.maxAge, path: "/",
                secure: true, httpOnly: true, sameSite: .lax))
    }

    /// Rule 4: a CSRF token per rendered page, `nonce.mac` over (browser,
    /// request, nonce). Stateless, so rendering the page again does not
    /// invalidate a copy the user is looking at; the pending request is
    /// consumed by the POST, so each token works once.
    func csrfToken(requestID: String, signer: MessageSigner) -> String {
        let nonce = SecretToken.generate(bytes: 16)
        return nonce + "." + signer.sign([id, requestID, nonce], domain: "csrf")
    }

    func verifyCSRF(_ token: String, requestID: String, signer: MessageSigner) -> Bool {
        let parts = token.split(separator: ".")
        guard parts.count == 2 else { return false }
        return signer.verify(String(parts[1]), [id, requestID, String(parts[0])], domain: "csrf")
    }
}
