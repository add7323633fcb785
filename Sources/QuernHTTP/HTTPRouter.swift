import Synchronization

/// One request as the routes see it: the method, the path without the query,
/// the query text and the headers. Bodies are not read yet (the monitoring
/// routes take none); routes that need one will add it here.
public struct HTTPRequest: Sendable {
    public var method: String
    public var path: String
    public var query: String?
    public var headers: [(name: String, value: String)]

    public init(method: String, path: String, query: String? = nil, headers: [(name: String, value: String)] = []) {
        self.method = method
        self.path = path
        self.query = query
        self.headers = headers
    }

    /// Splits a request target ("/metrics?x=1") into path and query.
    public init(method: String, target: String, headers: [(name: String, value: String)] = []) {
        if let mark = target.firstIndex(of: "?") {
            self.init(method: method, path: String(target[..<mark]), query: String(target[target.index(after: mark)...]), headers: headers)
        } else {
            self.init(method: method, path: target, headers: headers)
        }
    }

    /// The first header of that name, compared without case.
    public func header(_ name: String) -> String? {
        let wanted = name.lowercased()
        return headers.first { $0.name.lowercased() == wanted }?.value
    }
}

/// A complete response. The server adds Content-Length and, for HEAD,
/// leaves the body out.
public struct HTTPResponse: Sendable {
    public var status: Int
    public var headers: [(name: String, value: String)]
    public var body: [UInt8]

    public init(status: Int, headers: [(name: String, value: String)] = [], body: [UInt8] = []) {
        self.status = status
        self.headers = headers
        self.body = body
    }

    /// A plain-text response (UTF-8), a newline added when missing.
    public static func text(_ status: Int, _ text: String, contentType: String = "text/plain; charset=utf-8") -> HTTPResponse {
        let line = text.hasSuffix("\n") ? text : text + "\n"
        return HTTPResponse(status: status, headers: [("Content-Type", contentType)], body: Array(line.utf8))
    }
}

/// Answers one request. Called on the server's event-loop thread: it must
/// return quickly (take a lock, format some text), never block on I/O.
public typealias HTTPRouteHandler = @Sendable (HTTPRequest) -> HTTPResponse

/// The server's routes, registered by whoever runs it (the monitoring
/// endpoints today; an API later), so the server knows no route itself.
/// Routes are matched on the exact path. A GET route answers HEAD too.
public final class HTTPRouter: Sendable {
    private let routes = Mutex<[String: [String: HTTPRouteHandler]]>([:])

    public init() {}

    /// Adds (or replaces) the handler for `method` (upper case) on `path`.
    public func register(_ method: String, _ path: String, _ handler: @escaping HTTPRouteHandler) {
        routes.withLock { $0[path, default: [:]][method.uppercased()] = handler }
    }

    public func get(_ path: String, _ handler: @escaping HTTPRouteHandler) { register("GET", path, handler) }

    /// The response to `request`: its route's, else 404 for an unknown path
    /// or 405 (with Allow) for a method the path does not take.
    public func respond(to request: HTTPRequest) -> HTTPResponse {
        let methods = routes.withLock { $0[request.path] }
        guard let methods else { return .text(404, "not found: \(request.path)") }
        let method = request.method.uppercased()
        if let handler = methods[method] ?? (method == "HEAD" ? methods["GET"] : nil) {
            return handler(request)
        }
        var allowed = Set(methods.keys)
        if allowed.contains("GET") { allowed.insert("HEAD") }
        var response = HTTPResponse.text(405, "method \(request.method) not allowed on \(request.path)")
        response.headers.append(("Allow", allowed.sorted().joined(separator: ", ")))
        return response
    }
}
