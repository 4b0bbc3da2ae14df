import DeviceIO
import Foundation
public import FloorgateCore
public import Gateway
import HTTPTypes
import Hummingbird
import HummingbirdCore
import HummingbirdTLS
import NIOCore
public import Logging
public import RecordProtocol
public import ServiceLifecycle

/// The station page's web server (Hummingbird), in the gateway process, on 127.0.0.1 by default:
///
/// - `GET /` the station page; `GET /build` the open build and its history so far (the device
///   history record, as the record renders it); `GET /devices` the station's devices and what is
///   plugged in;
/// - `GET /events` the live channel (Server-Sent Events; `Last-Event-ID` or `?after=` resumes);
/// - `GET /signer?user=` who a user id is (printed name, roles), before they sign;
/// - `POST /actions/redline-acknowledge|step-complete|nc-disposition` a signed action, sent to
///   the record like any client's, with the signer's user id and password;
/// - `GET /state.json` viewers and the open build, for scripts and the demo.
public enum StationPageServer {
    /// What the pages need besides the board.
    public struct Context: Sendable {
        public var board: StationBoard
        public var record: RecordClient
        public var profiles: [DeviceProfile]
        /// Renders a device history record (JSON from `dhr.export`) as a page.
        public var historyPage: @Sendable (JSONValue) -> String
        /// The signing dialogs open on the page.
        let dialogs = SigningDialogs()
        /// How long a connection may go without a request part or an answer before it is
        /// closed: an idle keep-alive, or a request whose head comes a byte at a time (its parts
        /// count only once the whole head is in). A live channel being answered is never idle.
        public var idleTimeout: Duration = .seconds(30)
        /// The page's TLS where it is served beyond loopback (`[page] tls_certificate`,
        /// `tls_key`): then operators log in before it shows them anything.
        public var tls: PageTLS?
        /// Who has logged in, where the page asks for a login.
        let sessions = PageSessions()

        public init(board: StationBoard, record: RecordClient, profiles: [DeviceProfile], historyPage: @escaping @Sendable (JSONValue) -> String) {
            self.board = board
            self.record = record
            self.profiles = profiles
            self.historyPage = historyPage
        }
    }

    /// The actions a page may ask for: the record method, and the params a page may set.
    static let actions: [String: (method: RecordMethod, params: Set<String>)] = [
        "redline-acknowledge": (.redlineAcknowledge, ["build_id", "redline_id"]),
        "step-complete": (.stepComplete, ["build_id", "step"]),
        "nc-disposition": (.ncDisposition, ["nc_id", "disposition", "comment"]),
    ]

    /// The server as a service; `onRunning` gets the port it listens on (useful with port 0).
    public static func application(
        _ context: Context, address: String, port: Int, logger: Logger, onRunning: @escaping @Sendable (Int) async -> Void
    ) throws -> some Service {
        let router = Router()
        router.add(middleware: PageGuard(address: address, names: context.tls?.names ?? []))
        if context.tls != nil {
            router.add(middleware: PageLogin(sessions: context.sessions))
            router.get("/login") { _, _ in html(PageHTML.login(station: context.board.station, message: nil)) }
            router.post("/login") { request, _ in
                let form = try await request.body.collect(upTo: 4096)
                return await logIn(context, form: String(buffer: form))
            }
        }
        router.get("/") { _, _ in html(PageHTML.station(await context.board.snapshot)) }
        router.get("/build") { _, _ in html(await buildPage(context)) }
        router.get("/build/history") { _, _ in html(await history(context)) }
        router.get("/step/charts") { _, _ in html(await stepCharts(context)) }
        router.get("/spc") { _, _ in html(PageHTML.spcPage(await context.board.snapshot, table: await capabilityTable(context))) }
        router.get("/spc/table") { _, _ in html(PageHTML.framedDocument(await capabilityTable(context))) }
        router.get("/spc/chart") { request, _ in
            let query = request.uri.queryParameters
            guard let build = await context.board.build else { return html(PageHTML.framedDocument("<p>No build is open.</p>")) }
            return html(PageHTML.framedDocument(await chart(context, build: build, step: query.get("step") ?? "", point: query.get("point") ?? "")))
        }
        router.get("/media/:hash") { _, requestContext in await picture(context, hash: requestContext.parameters.get("hash") ?? "") }
        router.get("/devices") { _, _ in html(await devicesPage(context)) }
        router.get("/devices/plugged") { _, _ in html(pluggedPage(context)) }
        router.get("/events") { request, _ in
            // The browser's Last-Event-ID (`RUN-N`) when it reconnects; the page's own start first.
            let query = request.uri.queryParameters
            let resume = request.headers[HTTPField.Name("Last-Event-ID")!].flatMap(EventPosition.init(lastEventID:))
                ?? EventPosition(run: query.get("run"), id: query.get("after").flatMap { Int($0) })
            return await events(context.board, from: resume)
        }
        router.get("/state.json") { _, _ in
            let board = context.board
            let state: JSONValue = [
                "viewers": .integer(Int64(await board.viewers)), "last_update": .integer(Int64(await board.lastUpdateID)),
                "serial": await board.build?["serial"] ?? .null,
            ]
            return json(state, status: .ok)
        }
        router.get("/signer") { request, _ in await signer(context, login: request.uri.queryParameters.get("user") ?? "") }
        router.post("/actions/:name") { request, requestContext in
            // Only the page's own script: JSON (which a form on another site cannot send without
            // the browser asking first), and from this page's origin when the browser says one.
            guard request.headers[.contentType]?.hasPrefix("application/json") == true, sameOrigin(request) else {
                return json(["ok": false, "message": "actions come from the station page only"], status: .forbidden)
            }
            let name = requestContext.parameters.get("name") ?? ""
            let body = try await request.body.collect(upTo: 64 * 1024)
            return await act(context, name: name, body: Array(buffer: body))
        }
        let http1 = HTTPServerBuilder.http1(configuration: .init(idleTimeout: TimeAmount(context.idleTimeout)))
        return Application(
            router: router, server: try context.tls.map { try .tls(http1, tlsConfiguration: $0.configuration) } ?? http1,
            configuration: .init(address: .hostname(address, port: port), serverName: "floorgate"),
            onServerRunning: { channel in await onRunning(channel.localAddress?.port ?? port) }, logger: logger)
    }

    /// Whether a request's `Origin` (when the browser sent one) is the page's own host.
    static func sameOrigin(_ request: Request) -> Bool {
        guard let origin = request.headers[.origin] else { return true }
        guard let host = request.head.authority else { return false }  // HTTP/1.1 Host
        return origin == "http://\(host)"
    }

    /// Where a page's live channel resumes: a run of the board and the last update it saw.
    struct EventPosition {
        var run: String?
        var id: Int?

        init(run: String?, id: Int?) {
            self.run = run
            self.id = id
        }

        /// `RUN-N`, as the server sends event ids.
        init?(lastEventID: String) {
            guard let dash = lastEventID.lastIndex(of: "-"), let id = Int(lastEventID[lastEventID.index(after: dash)...]) else { return nil }
            run = String(lastEventID[..<dash])
            self.id = id
        }
    }

    static func html(_ text: String, status: HTTPResponse.Status = .ok) -> Response {
        Response(status: status, headers: [.contentType: "text/html; charset=utf-8", .cacheControl: "no-store"], body: .init(byteBuffer: ByteBuffer(string: text)))
    }

    /// A step's picture, from the record by its hash. An SVG is served as an image that may load
    /// and run nothing (its own Content-Security-Policy), whatever got past the record's check.
    static func picture(_ context: Context, hash: String) async -> Response {
        do {
            let picture = try await context.record.call(.mediaGet, ["hash": .string(hash)])
            guard let type = picture["content_type"]?.stringValue, let data = picture["data"]?.stringValue.flatMap({ Data(base64Encoded: $0) }) else {
                return html("<p>The record gave no picture.</p>", status: .badGateway)
            }
            // The record took an SVG only as UTF-8; the browser is told so.
            return Response(
                status: .ok,
                headers: [
                    .contentType: type == "image/svg+xml" ? "image/svg+xml; charset=utf-8" : type, .cacheControl: "public, max-age=31536000, immutable",
                    .contentSecurityPolicy: PictureServing.securityPolicy,
                ],
                body: .init(byteBuffer: ByteBuffer(bytes: data)))
        } catch {
            return html("<p>No picture \(HTMLText.escaped(hash)): \(HTMLText.escaped(error.description))</p>", status: error.code == .notFound ? .notFound : .badGateway)
        }
    }

    static func json(_ value: JSONValue, status: HTTPResponse.Status) -> Response {
        Response(status: status, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(string: value.text)))
    }

    /// The live channel: what the page missed since `after`, then every update as it comes, and
    /// a comment every 15 s so a dead connection is noticed. A page too far behind is told to load
    /// again (`event: reload`).
    static func events(_ board: StationBoard, from position: EventPosition) async -> Response {
        let (missed, updates) = await board.subscribe(after: position.id, run: position.run)
        let headers: HTTPFields = [.contentType: "text/event-stream", .cacheControl: "no-store"]
        return Response(status: .ok, headers: headers, body: ResponseBody { writer in
            guard let missed else {
                try await writer.write(ByteBuffer(string: "event: reload\ndata: {}\n\n"))
                try await writer.finish(nil)
                return
            }
            try await writer.write(ByteBuffer(string: "retry: 1000\n\n" + missed.map(\.serverSentEvent).joined()))
            // Ends when the page goes away (the write fails) or the board closes the stream on
            // the gateway's graceful shutdown; the page then reconnects to the next run.
            for await update in updates {
                try await writer.write(ByteBuffer(string: update.serverSentEvent))
            }
            try await writer.finish(nil)
        })
    }

    /// Who `login` is, from the record: printed name and roles, shown before they sign.
    static func signer(_ context: Context, login: String) async -> Response {
        guard !login.isEmpty else { return json(["ok": false, "message": "give a user id"], status: .badRequest) }
        do {
            let user = try await context.record.call(.userGet, ["login": .string(login)])
            let locked = user["locked"] == .bool(true)
            return json([
                "ok": .bool(!locked), "printed_name": user["printed_name"] ?? .null, "roles": user["roles"] ?? [],
                "message": .string(locked ? "\(login) is locked out for a while after failed signatures: an admin can unlock the account sooner" : ""),
                // The dialog this user may now sign in (the only one the page relays for them).
                "token": locked ? .null : .string(context.dialogs.open(for: login)),
            ], status: .ok)
        } catch {
            return json(["ok": false, "message": .string(error.description)], status: .ok)
        }
    }

    /// A login form (`user`, `password`, URL-encoded) checked by the record: a session cookie and
    /// the station page, or the login form again with the record's refusal.
    static func logIn(_ context: Context, form: String) async -> Response {
        struct Form: Decodable {
            var user: String
            var password: String
        }
        let station = context.board.station
        guard let given = try? URLEncodedFormDecoder().decode(Form.self, from: form), !given.user.isEmpty, !given.password.isEmpty else {
            return html(PageHTML.login(station: station, message: "Give your user id and password."), status: .badRequest)
        }
        do {
            let user = try await context.record.call(.userAuthenticate, [
                "idempotency_key": .string(UUIDv7.make()), "signature": ["user": .string(given.user), "password": .string(given.password)],
            ])
            let token = context.sessions.open(.init(login: given.user, printedName: user["printed_name"]?.stringValue ?? given.user))
            var response = Response(status: .seeOther, headers: [.location: "/"])
            response.setCookie(PageSessions.cookie(token))
            return response
        } catch {
            return html(PageHTML.login(station: station, message: error.description), status: .unauthorized)
        }
    }

    /// A signed action: the page's params (only those the action takes), the signature, the key.
    static func act(_ context: Context, name: String, body: [UInt8]) async -> Response {
        guard let action = actions[name] else { return json(["ok": false, "message": .string("no action '\(name)'")], status: .notFound) }
        guard let request = try? JSONValue(parsing: body), let user = request["user"]?.stringValue, !user.isEmpty,
              let password = request["password"]?.stringValue, !password.isEmpty, let token = request["token"]?.stringValue,
              let key = request["idempotency_key"]?.stringValue, case .object(let given)? = request["params"]
        else {
            return json(["ok": false, "message": "give user id, password, the dialog's token and the action's params"], status: .badRequest)
        }
        do {
            try context.dialogs.check(token, for: user)
        } catch {
            return json(["ok": false, "message": .string(error.description)], status: .forbidden)
        }
        var params = given.filter { action.params.contains($0.key) }
        params["signature"] = ["user": .string(user), "password": .string(password)]
        params["idempotency_key"] = .string(key)
        do {
            let answer = try await context.record.call(action.method, .object(params))
            context.dialogs.close(token, for: user)
            let signature = answer["signature_id"].map { " (signature \($0.text))" } ?? ""
            return json(["ok": true, "message": .string("Signed by \(user)\(signature).")], status: .ok)
        } catch {
            if error.code == .signatureRejected || error.code == .userLocked { context.dialogs.wrongPassword(token, for: user) }
            return json(["ok": false, "message": .string(error.description)], status: .ok)
        }
    }

    static func buildPage(_ context: Context) async -> String {
        PageHTML.buildPage(await context.board.snapshot)  // state and update id read together
    }

    static func history(_ context: Context) async -> String {
        guard let serial = await context.board.build?["serial"]?.stringValue else {
            return PageHTML.framedDocument("<p>No build is open.</p>")
        }
        do {
            return context.historyPage(try await context.record.call(.dhrExport, ["serial": .string(serial)]))
        } catch {
            return PageHTML.framedDocument("<p>The record cannot give the history now: \(HTMLText.escaped(error.description))</p>")
        }
    }

    /// Whether an instruction point gives values to chart: a measurement or a tightening (not a
    /// scan, a component's or the unit's label).
    static func isMeasured(_ point: JSONValue) -> Bool {
        ["measure", "torque"].contains(point["kind"]?.stringValue)
    }

    /// The charts of the active step's measured points, beside the step on the station page.
    static func stepCharts(_ context: Context) async -> String {
        guard let build = await context.board.build, let step = build["active_step"], !step.isNull else {
            return PageHTML.framedDocument("<p class=\"hint\">No step is active.</p>")
        }
        let points = (step["points"]?.arrayValue ?? []).filter(isMeasured).compactMap { $0["name"]?.stringValue }
        guard !points.isEmpty else { return PageHTML.framedDocument("<p class=\"hint\">This step measures nothing: it has no chart.</p>") }
        var figures: [String] = []
        for point in points {
            figures.append(await chart(context, build: build, step: step["key"]?.stringValue ?? "", point: point))
        }
        return PageHTML.framedDocument(figures.joined())
    }

    /// One point's chart (its last 50 subgroups) for the open build's part and operation.
    static func chart(_ context: Context, build: JSONValue, step: String, point: String) async -> String {
        let params: JSONValue = [
            "part": build["part"] ?? .null, "operation": build["operation"] ?? .null, "step": .string(step), "point": .string(point),
            "last": .integer(SPCChart.subgroupsShown),
        ]
        do {
            return SPCChart.figure(try await context.record.call(.spcGet, params))
        } catch {
            return "<p>The record cannot give the chart of \(HTMLText.escaped(point)) now: \(HTMLText.escaped(error.description))</p>"
        }
    }

    /// The open build's measured points with their capability, worst Cpk first.
    static func capabilityTable(_ context: Context) async -> String {
        guard let build = await context.board.build else { return "<p class=\"hint\">No build is open: the table lists its points.</p>" }
        let instruction: JSONValue
        do {
            instruction = try await context.record.call(.instructionGet, [
                "part": build["part"] ?? .null, "part_revision": build["part_revision"] ?? .null, "operation": build["operation"] ?? .null,
                "revision": build["instruction"]?["revision"] ?? .null,
            ])
        } catch {
            return "<p>The record cannot give the instruction now: \(HTMLText.escaped(error.description))</p>"
        }
        var rows: [SPCChart.CapabilityRow] = []
        for step in instruction["steps"]?.arrayValue ?? [] {
            for point in step["points"]?.arrayValue ?? [] where isMeasured(point) {
                let params: JSONValue = [
                    "part": build["part"] ?? .null, "operation": build["operation"] ?? .null, "step": step["key"] ?? .null,
                    "point": point["name"] ?? .null, "last": 1,
                ]
                let report = try? await context.record.call(.spcGet, params)
                rows.append(SPCChart.CapabilityRow(step: step["key"]?.stringValue ?? "", point: point["name"]?.stringValue ?? "", report: report))
            }
        }
        return SPCChart.capabilityTable(rows)
    }

    static func devicesPage(_ context: Context) async -> String {
        PageHTML.devicesPage(await context.board.snapshot)
    }

    /// What `floorgate devices` shows, as a table.
    static func pluggedPage(_ context: Context) -> String {
        let devices = ((try? Udev.devices(subsystems: ["tty", "hidraw", "usb"])) ?? []).filter(PluggedDevice.isBenchCandidate)
        return PageHTML.framedDocument(PageHTML.plugged(devices.map { PluggedDevice(device: $0, profiles: context.profiles) }))
    }
}

/// The station page as one service of the gateway: the board following the station's events,
/// a keep-alive for open pages, and the web server. On graceful shutdown the pages' streams are
/// closed (they reconnect to the next run) and the server stops.
public struct StationPageService: Service {
    public let context: StationPageServer.Context
    public let address: String
    public let port: Int
    private let logger: Logger
    private let onRunning: @Sendable (Int) async -> Void
    private let onUnavailable: @Sendable (String) async -> Void

    /// `onRunning` gets the port the page listens on; `onUnavailable` why it cannot be served
    /// (the port taken): the gateway goes on without its page.
    public init(
        context: StationPageServer.Context, address: String, port: Int, logger: Logger,
        onUnavailable: @escaping @Sendable (String) async -> Void = { _ in }, onRunning: @escaping @Sendable (Int) async -> Void
    ) {
        self.context = context
        self.address = address
        self.port = port
        self.logger = logger
        self.onUnavailable = onUnavailable
        self.onRunning = onRunning
    }

    /// Runs until the gateway shuts down. The server is what this service is; the board, the
    /// keep-alive and the watchers run beside it and stop with it.
    public func run() async throws {
        let board = context.board
        let server = try StationPageServer.application(context, address: address, port: port, logger: logger, onRunning: onRunning)
        await withTaskGroup(of: Void.self) { background in
            background.addTask { await board.run() }
            // What is plugged in changes: the devices page fetches its list again.
            background.addTask {
                guard let monitor = try? UdevMonitor(subsystems: ["tty", "hidraw", "usb"]) else { return }
                for await _ in monitor.changes { await board.refresh(["plugged"]) }
            }
            background.addTask {
                await withGracefulShutdownHandler {
                    while !Task.isCancelled {
                        try? await Task.sleep(for: .seconds(15))
                        await board.keepAlive()
                    }
                } onGracefulShutdown: {
                    Task { await board.closeAll() }  // open pages' streams end, so the server can stop
                }
            }
            do {
                try await server.run()
            } catch {
                // The page is for people; the gateway's work goes on without it.
                logger.critical("the station page cannot be served; the gateway goes on without it", metadata: [
                    "address": "\(address):\(port)", "reason": "\(error)"])
                await onUnavailable("\(address):\(port): \(error)")
                try? await gracefulShutdown()
            }
            background.cancelAll()
        }
    }
}
