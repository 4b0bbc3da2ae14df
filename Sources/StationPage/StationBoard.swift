public import FloorgateCore
import Foundation
public import Gateway

/// What the station page shows, kept current from the station's events: the open build, the
/// active step, the latest readings with their verdicts, the devices' links and what needs the
/// operator. Every change becomes a ``PageUpdate`` (the page's parts it changes, rendered), sent
/// to each open page and kept in a short history, so a page that reconnects gets what it missed.
public actor StationBoard {
    /// One result as the page lists it.
    public struct Reading: Sendable, Hashable {
        public var source: String
        public var summary: String
        public var verdict: PageVerdict
        public var point: String?
        public var step: String?
        public var ncID: Int64?
        public var reason: String?
    }

    public let station: String
    public let operatorLogin: String
    public private(set) var build: JSONValue?
    public private(set) var readings: [Reading] = []
    /// Each configured device's link, in configuration order.
    public private(set) var devices: [(name: String, state: DeviceState?, message: String)]
    public private(set) var notices: [String] = []
    /// What the calibration register says of a device that is not in order, by device name.
    public private(set) var calibration: [String: CalibrationWarning] = [:]
    /// Commanded tools' states, by device name.
    public private(set) var tools: [String: ToolStatus] = [:]

    /// This run of the board: update ids count from 1 in each run, so a page that followed an
    /// earlier run (the gateway restarted) is told to load again rather than replayed the wrong ones.
    public nonisolated let run: String = String(UUIDv7.make().suffix(12))
    private var nextID = 1
    private var history: [PageUpdate] = []
    private var subscribers: [Int: AsyncStream<PageUpdate>.Continuation] = [:]
    private var nextSubscriber = 0
    private var closed = false
    private let inbox: (stream: AsyncStream<StationEvent>, continuation: AsyncStream<StationEvent>.Continuation)

    /// How many readings the page lists, and how many updates a reconnecting page can catch up on.
    static let readingsShown = 12
    static let historyKept = 512

    public init(station: String, operatorLogin: String, deviceNames: [String]) {
        self.station = station
        self.operatorLogin = operatorLogin
        devices = deviceNames.map { ($0, nil, "not yet seen") }
        inbox = AsyncStream.makeStream(bufferingPolicy: .unbounded)
    }

    /// Hands a station event to the board, in order, from any thread (the gateway's view).
    public nonisolated func post(_ event: StationEvent) {
        inbox.continuation.yield(event)
    }

    /// Applies posted events until the task is cancelled.
    public func run() async {
        for await event in inbox.stream {
            apply(event)
        }
    }

    /// The id of the last update sent; a page rendered now follows on from it.
    public var lastUpdateID: Int { nextID - 1 }

    /// Pages following the board now.
    public var viewers: Int { subscribers.count }

    /// Applies one station event and sends the page the parts it changed.
    public func apply(_ event: StationEvent) {
        switch event {
        case .device(let name, let state, let message):
            if let index = devices.firstIndex(where: { $0.name == name }) {
                devices[index] = (name, state, message)
            } else {
                devices.append((name, state, message))
            }
            publish([.replace("devices", PageHTML.devices(devices, calibration: calibration, tools: tools))])
        case .calibration(let device, let warning):
            guard calibration[device] != warning else { return }
            calibration[device] = warning
            publish([.replace("devices", PageHTML.devices(devices, calibration: calibration, tools: tools))])
        case .tool(let device, let status):
            guard tools[device] != status else { return }
            tools[device] = status
            publish([.replace("devices", PageHTML.devices(devices, calibration: calibration, tools: tools))])
        case .build(let view):
            build = view["status"] == "open" ? view : nil
            if view["status"] != "open" { notices.insert("build \(view["build_id"]?.text ?? "?") \(view["status"]?.stringValue ?? "closed")", at: 0) }
            publish(buildParts(), refresh: Self.framesFromTheRecord)
        case .step(_, let step):
            if case .object(var members) = build {
                members["active_step"] = step
                build = .object(members)
            }
            publish([.replace("step", PageHTML.step(build)), .replace("needs", PageHTML.needs(build))], refresh: Self.framesFromTheRecord)
        case .recorded(let source, let summary, let answer):
            let verdict = PageVerdict(record: answer["verdict"]?.stringValue)
            let reading = Reading(
                source: source, summary: summary, verdict: verdict, point: answer["point"]?.stringValue,
                step: answer["step"]?.stringValue, ncID: answer["nc_id"]?.integerValue, reason: answer["reason"]?.stringValue)
            add(reading)
        case .unbound(let source, let summary, let reason):
            add(Reading(source: source, summary: summary, verdict: .notBound, point: nil, step: nil, ncID: nil, reason: reason))
        case .notice(let text, _):
            notices.insert(text, at: 0)
            notices = Array(notices.prefix(5))
            publish([.replace("notices", PageHTML.notices(notices))])
        }
    }

    private func add(_ reading: Reading) {
        readings.insert(reading, at: 0)
        readings = Array(readings.prefix(Self.readingsShown))
        publish(
            [.replace("latest", PageHTML.latest(reading)), .prepend("reading-list", PageHTML.readingItem(reading))],
            cue: reading.verdict.isFailure ? "fail" : nil, refresh: Self.framesFromTheRecord)
    }

    private func buildParts() -> [PageFragment] {
        [.replace("build", PageHTML.buildSummary(build)), .replace("step", PageHTML.step(build)), .replace("needs", PageHTML.needs(build)),
         .replace("steps", PageHTML.steps(build)), .replace("notices", PageHTML.notices(notices))]
    }

    /// Every part of the station page as it stands, for a page loaded now.
    public var snapshot: PageHTML.Station {
        PageHTML.Station(
            station: station, operatorLogin: operatorLogin, build: build, readings: readings, devices: devices, calibration: calibration, tools: tools, notices: notices,
            run: run, lastUpdateID: lastUpdateID)
    }

    /// The framed parts the server renders from the record (the history, the step's charts,
    /// the capability table): a build, step or result changes them.
    static let framesFromTheRecord = ["history", "chart", "capability"]

    private func publish(_ fragments: [PageFragment], cue: String? = nil, refresh: [String] = []) {
        let update = PageUpdate(run: run, id: nextID, fragments: fragments, cue: cue, refresh: refresh)
        nextID += 1
        history.append(update)
        if history.count > Self.historyKept { history.removeFirst(history.count - Self.historyKept) }
        send(update)
    }

    /// Sends `update` to every page; a page so far behind that its buffer overflows is cut off
    /// (it reconnects and catches up, or loads again), never left with a gap it cannot see.
    private func send(_ update: PageUpdate) {
        for (key, continuation) in subscribers {
            if case .dropped = continuation.yield(update) {
                continuation.finish()
                subscribers[key] = nil
            }
        }
    }

    /// Asks open pages to fetch `parts` again (parts only the server renders from elsewhere,
    /// such as the list of devices plugged in).
    public func refresh(_ parts: [String]) {
        publish([], refresh: parts)
    }

    /// A page following the board from update `after` of run `run` on: the updates it missed (or
    /// nil when they are no longer kept, or belong to another run: the page must load again) and
    /// the stream of those to come.
    public func subscribe(after lastSeen: Int?, run seenRun: String? = nil) -> (missed: [PageUpdate]?, updates: AsyncStream<PageUpdate>) {
        let (stream, continuation) = AsyncStream.makeStream(of: PageUpdate.self, bufferingPolicy: .bufferingNewest(Self.historyKept))
        guard !closed else {
            continuation.finish()  // the gateway is stopping: the page reconnects to the next run
            return ([], stream)
        }
        let key = nextSubscriber
        nextSubscriber += 1
        subscribers[key] = continuation
        continuation.onTermination = { _ in Task { await self.unsubscribe(key) } }
        guard let lastSeen else { return ([], stream) }
        if let seenRun, seenRun != run { return (nil, stream) }
        guard lastSeen <= lastUpdateID else { return (nil, stream) }
        guard lastSeen < lastUpdateID else { return ([], stream) }
        guard let first = history.first, first.id <= lastSeen + 1 else { return (nil, stream) }
        return (history.filter { $0.id > lastSeen }, stream)
    }

    private func unsubscribe(_ key: Int) {
        subscribers[key] = nil
    }

    /// A comment to every open page, so a connection that died is noticed by the server.
    public func keepAlive() {
        send(PageUpdate(run: run, id: 0, fragments: [], cue: nil, refresh: []))
    }

    /// Ends every page's stream (the gateway is stopping); pages reconnect to the next run.
    public func closeAll() {
        closed = true
        for continuation in subscribers.values { continuation.finish() }
        subscribers = [:]
    }
}

/// A result's verdict as the page shows it: always in words and with an icon, never by colour
/// alone.
public enum PageVerdict: String, Sendable, Hashable {
    case pass, failLow = "fail-low", failHigh = "fail-high", invalid, notBound = "not-bound", recorded

    init(record: String?) {
        switch record {
        case "pass": self = .pass
        case "fail_low": self = .failLow
        case "fail_high": self = .failHigh
        case "invalid": self = .invalid
        default: self = .recorded  // a scan, or a result without limits
        }
    }

    public var isFailure: Bool { self == .failLow || self == .failHigh || self == .invalid }

    /// `FAIL HIGH`.
    public var words: String {
        switch self {
        case .pass: "PASS"
        case .failLow: "FAIL LOW"
        case .failHigh: "FAIL HIGH"
        case .invalid: "INVALID"
        case .notBound: "NOT BOUND"
        case .recorded: "RECORDED"
        }
    }

    /// A symbol that tells the verdict apart without colour.
    public var icon: String {
        switch self {
        case .pass: "✔"
        case .failLow: "▼"
        case .failHigh: "▲"
        case .invalid: "⚠"
        case .notBound: "?"
        case .recorded: "•"
        }
    }
}

/// One change to an open page: parts to replace or add to, a sound to play, and parts the page
/// must fetch again (those only the server can render from the record, such as the history).
public struct PageUpdate: Sendable, Hashable {
    /// The board's run it belongs to (``StationBoard/run``).
    public var run: String
    public var id: Int
    public var fragments: [PageFragment]
    public var cue: String?
    public var refresh: [String]

    /// The update as one Server-Sent Event: `id` (`RUN-N`, which the browser sends back as
    /// Last-Event-ID when it reconnects), then its JSON on one `data` line; id 0 is a keep-alive
    /// comment.
    public var serverSentEvent: String {
        if id == 0 { return ": keep-alive\n\n" }
        let json: JSONValue = [
            "fragments": .array(fragments.map { ["target": .string($0.target), "mode": .string($0.mode.rawValue), "html": .string($0.html)] }),
            "cue": cue.map(JSONValue.string) ?? .null,
            "refresh": .array(refresh.map(JSONValue.string)),
        ]
        return "id: \(run)-\(id)\ndata: \(json.text)\n\n"
    }
}

/// A rendered part of the page and where it goes.
public struct PageFragment: Sendable, Hashable {
    public enum Mode: String, Sendable, Hashable { case replace, prepend }
    public var target: String
    public var mode: Mode
    public var html: String

    static func replace(_ target: String, _ html: String) -> PageFragment { PageFragment(target: target, mode: .replace, html: html) }
    static func prepend(_ target: String, _ html: String) -> PageFragment { PageFragment(target: target, mode: .prepend, html: html) }
}
