import FloorgateCore
import Foundation
import HTTPTypes
import Hummingbird
import Synchronization

/// Who has logged in to a station page served over TLS (beyond the station PC): a random token
/// per login, in a cookie only this page gets (`Secure`, `HttpOnly`, `SameSite=Strict`), for a
/// shift at most. Kept in memory: a gateway restart logs everyone out.
final class PageSessions: Sendable {
    /// A logged-in user, as the record authenticated them.
    struct User: Sendable, Equatable {
        var login: String
        var printedName: String
    }

    static let cookieName = "floorgate_session"
    /// How long a login lasts.
    static let lifetime: Duration = .seconds(8 * 3600)
    /// Sessions kept at most; the oldest goes first.
    static let capacity = 256

    private let sessions = Mutex<[String: (user: User, expires: ContinuousClock.Instant)]>([:])

    /// A new session for `user`; its token.
    func open(_ user: User) -> String {
        var generator = SystemRandomNumberGenerator()
        let token = DeviceEvent.hex((0..<32).map { _ in UInt8.random(in: 0...255, using: &generator) })
        let now = ContinuousClock.now
        sessions.withLock { sessions in
            sessions = sessions.filter { $0.value.expires > now }
            if sessions.count >= Self.capacity, let oldest = sessions.min(by: { $0.value.expires < $1.value.expires })?.key {
                sessions[oldest] = nil
            }
            sessions[token] = (user, now + Self.lifetime)
        }
        return token
    }

    /// The user of a live session, or nil.
    func user(token: String?) -> User? {
        guard let token else { return nil }
        return sessions.withLock { sessions in
            guard let session = sessions[token], session.expires > .now else { return nil }
            return session.user
        }
    }

    /// The cookie that carries `token`.
    static func cookie(_ token: String) -> Cookie {
        Cookie(name: cookieName, value: token, maxAge: Int(lifetime.components.seconds), path: "/", secure: true, httpOnly: true, sameSite: .strict)
    }
}

/// Lets a request past only with a live session, where the page asks operators to log in: a page
/// asked for goes to `/login` (303); anything else is answered 401.
struct PageLogin<Context: RequestContext>: RouterMiddleware {
    let sessions: PageSessions

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        if request.uri.path == "/login" || sessions.user(token: request.cookies[PageSessions.cookieName]?.value) != nil {
            return try await next(request, context)
        }
        if request.method == .get {
            return Response(status: .seeOther, headers: [.location: "/login"])
        }
        let refusal = #"{"ok":false,"message":"log in to the station page first"}"#
        return Response(status: .unauthorized, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(string: refusal)))
    }
}
