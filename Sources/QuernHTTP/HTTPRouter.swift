import Synchronization

/// One request as the routes see it: the method, the path without the query,
/// the query text, the headers and the body (read whole, within the route's
/// body limit; empty for routes that take none).
public struct HTTPRequest: Sendable {
    public var method: String
    public var path: String
    public var query: String?
    public var headers: [(name: String, value: String)]
    public var body: [UInt8]

    public init(method: String, path: String, query: String? = nil, headers: [(name: String, value: String)] = [], body: [UInt8] = []) {
        self.method = method
        self.path = path
        self.query = query
        self.headers = headers
        self.body = body
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

/// Answers one request later, from any thread, through `responder`: a whole
/// response, or a stream (server-sent events). Called on the event-loop
/// thread like `HTTPRouteHandler`, so real work goes to another thread.
public typealias HTTPDeferredRouteHandler = @Sendable (HTTPRequest, HTTPResponder) -> Void

/// A route's handler and the largest body it reads.
public struct HTTPRoute: Sendable {
    public enum Handler: Sendable {
        case immediate(HTTPRouteHandler)
        case deferred(HTTPDeferredRouteHandler)
    }

    public var handler: Handler
    /// Bodies over this many bytes get 413 without being stored (0: the
    /// route takes no body; any body sent is discarded unread).
    public var maxBodyBytes: Int
    /// The response to a body over `maxBodyBytes` (routes that speak an API
    /// answer with that API's error shape).
    public var tooLarge: (@Sendable (Int) -> HTTPResponse)?

    public init(handler: Handler, maxBodyBytes: Int, tooLarge: (@Sendable (Int) -> HTTPResponse)? = nil) {
        self.handler = handler
        self.maxBodyBytes = maxBodyBytes
        self.tooLarge = tooLarge
    }
}

/// The server's routes, registered by whoever runs it (the monitoring
/// endpoints, the OpenAI-compatible API), so the server knows no route itself.
/// Routes are matched on the exact path. A GET route answers HEAD too.
public final class HTTPRouter: Sendable {
    private let routes = Mutex<[String: [String: HTTPRoute]]>([:])

    public init() {}

    /// Adds (or replaces) the handler for `method` (upper case) on `path`.
    public func register(_ method: String, _ path: String, _ handler: @escaping HTTPRouteHandler) {
        register(method, path, HTTPRoute(handler: .immediate(handler), maxBodyBytes: 0))
    }

    public func register(_ method: String, _ path: String, _ route: HTTPRoute) {
        routes.withLock { $0[path, default: [:]][method.uppercased()] = route }
    }

    public func get(_ path: String, _ handler: @escaping HTTPRouteHandler) { register("GET", path, handler) }

    /// What answers `method` on `path`: a route, or the 404/405 response.
    public func route(method: String, path: String) -> Result<HTTPRoute, HTTPRoutingFailure> {
        let methods = routes.withLock { $0[path] }
        guard let methods else { return .failure(HTTPRoutingFailure(response: .text(404, "not found: \(path)"))) }
        let method = method.uppercased()
        if let route = methods[method] ?? (method == "HEAD" ? methods["GET"] : nil) {
            return .success(route)
        }
        var allowed = Set(methods.keys)
        if allowed.contains("GET") { allowed.insert("HEAD") }
        var response = HTTPResponse.text(405, "method \(method) not allowed on \(path)")
        response.headers.append(("Allow", allowed.sorted().joined(separator: ", ")))
        return .failure(HTTPRoutingFailure(response: response))
    }

    /// The response to `request` for an immediate route; else 404 for an
    /// unknown path or 405 (with Allow) for a method the path does not take.
    public func respond(to request: HTTPRequest) -> HTTPResponse {
        switch route(method: request.method, path: request.path) {
        case let .failure(failure): return failure.response
        case let .success(route):
            switch route.handler {
            case let .immediate(handler): return handler(request)
            case .deferred: return .text(500, "\(request.path) answers asynchronously")
            }
        }
    }
}

/// No route takes the request; `response` says why (404 or 405).
public struct HTTPRoutingFailure: Error, Sendable {
    public var response: HTTPResponse
}
