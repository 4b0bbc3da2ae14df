import Gateway
import HTTPTypes
import Hummingbird

/// What every request to the station page passes and every answer carries:
///
/// - a request that names its host (`Host`, as every browser does) must name this machine
///   (127.0.0.1, ::1, localhost, the configured address or a name its TLS certificate is for), else 421: a page on another site that has its own name resolve to
///   127.0.0.1 (DNS rebinding) could otherwise post actions and read the device history record
///   through the station's browser;
/// - every answer forbids framing by other sites (the build page frames its own history),
///   sniffing and referrers, and loads nothing from elsewhere (a step's picture keeps its
///   stricter policy: it runs and loads nothing).
struct PageGuard<Context: RequestContext>: RouterMiddleware {
    /// The configured address, also accepted as a host name.
    let address: String
    /// The names a TLS page's certificate is for, also accepted.
    var names: [String] = []

    static var securityHeaders: HTTPFields {
        [
            .contentSecurityPolicy:
                "default-src 'self'; script-src 'self' 'unsafe-inline'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; frame-ancestors 'self'; base-uri 'none'; form-action 'self'",
            HTTPField.Name("X-Frame-Options")!: "SAMEORIGIN",
            HTTPField.Name("X-Content-Type-Options")!: "nosniff",
            HTTPField.Name("Referrer-Policy")!: "no-referrer",
        ]
    }

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        var response: Response
        // A browser always names the host; a request without one is a local program's.
        let host = request.head.authority.map(Self.hostName)
        if host == nil || host == address.lowercased() || host.map(StationConfiguration.Page.isLoopback) == true || host.map(names.contains) == true {
            response = try await next(request, context)
        } else {
            response = Response(
                status: .misdirectedRequest, headers: [.contentType: "text/plain; charset=utf-8"],
                body: .init(byteBuffer: ByteBuffer(string: "The station page answers to this machine's own address (127.0.0.1) only.\n")))
        }
        // A picture keeps its own, stricter policy (nothing runs, nothing loads); every other
        // answer gets the page's.
        let ownPolicy = response.headers[.contentSecurityPolicy] == PictureServing.securityPolicy
        for field in Self.securityHeaders where !(ownPolicy && field.name == .contentSecurityPolicy) {
            response.headers[field.name] = field.value
        }
        return response
    }

    /// The host name of a `Host` value, without its port and brackets, in lower case.
    static func hostName(_ authority: String) -> String {
        var host = Substring(authority)
        if host.hasPrefix("["), let end = host.firstIndex(of: "]") {
            host = host[host.index(after: host.startIndex)..<end]
        } else if let colon = host.lastIndex(of: ":") {
            host = host[..<colon]
        }
        return host.lowercased()
    }
}

/// How the page serves a step's picture.
enum PictureServing {
    /// The policy a picture is served under: it may run, load and submit nothing, even opened on
    /// its own (a sandboxed document of no origin).
    static let securityPolicy = "default-src 'none'; style-src 'unsafe-inline'; sandbox"
}
