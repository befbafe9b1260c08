import Foundation
import HTTPTypes
import Hummingbird
import Logging
import NIOCore
import ShimCore
import ShimStorage
import ShimUpstream

/// Server-rendered pages: the consent page and error pages. Every value is
/// HTML-escaped; no script runs; the page cannot be framed.
enum HTMLPage {
    static func response(status: HTTPResponse.Status, html: String, styleNonce: String? = nil) -> Response {
        var headers: HTTPFields = [.contentType: "text/html; charset=utf-8", .cacheControl: "no-store"]
        let style = styleNonce.map { "'nonce-\($0)'" } ?? "'none'"
        // form-action is left out on purpose: browsers apply it to the
        // redirects that follow a form POST (upstream IdP, client callback,
        // private-use schemes), which cannot be listed in advance.
        headers[.contentSecurityPolicy] = "default-src 'none'; style-src \(style); img-src 'self'; frame-ancestors 'none'; base-uri 'none'"
        headers[HTTPField.Name("X-Frame-Options")!] = "DENY"
        headers[HTTPField.Name("X-Content-Type-Options")!] = "nosniff"
        headers[HTTPField.Name("Referrer-Policy")!] = "no-referrer"
        return Response(status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(string: html)))
    }

    static func escape(_ text: String) -> String {
        var out = ""
        for ch in text.unicodeScalars {
            switch ch {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&#39;"
            default: out.unicodeScalars.append(ch)
            }
        }
        return out
    }

    static func errorPage(_ error: OAuthError) -> String {
        """
        <!doctype html><html lang="en"><head><meta charset="utf-8"><title>Sign-in error</title></head>
        <body><h1>Sign-in cannot continue</h1>
        <p>\(escape(error.description))</p>
        <p>Error: <code>\(escape(error.code.rawValue))</code></p>
        <p>Return to the application and start the sign-in again.</p></body></html>
        """
    }
}
