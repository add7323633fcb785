import NIOCore
import NIOHTTP1
import NIOPosix

/// Why the server could not start; `quern serve` prints it and exits 1.
public enum HTTPServerError: Error, Sendable, CustomStringConvertible {
    /// The address could not be bound (in use, not a local address, no such host, no permission).
    case cannotBind(address: ListenAddress, purpose: String, reason: String)

    /// Stable, for scripts and tests.
    public var code: String { "http.cannot_bind" }

    public var description: String {
        switch self {
        case let .cannotBind(address, purpose, reason):
            return "cannot listen on \(address) for \(purpose): \(reason) (choose another address or port, or 0 for any free port)"
        }
    }
}

/// A small HTTP/1.1 server on SwiftNIO: one event-loop thread, keep-alive and
/// pipelining, malformed requests answered with 400 by NIO. It knows no
/// route: `HTTPRouter` holds them, registered by its user.
public final class HTTPServer: Sendable {
    /// The address actually bound (with the port the system chose for port 0).
    public let boundAddress: ListenAddress
    private let group: MultiThreadedEventLoopGroup
    private let channel: any Channel

    private init(boundAddress: ListenAddress, group: MultiThreadedEventLoopGroup, channel: any Channel) {
        self.boundAddress = boundAddress
        self.group = group
        self.channel = channel
    }

    /// Binds `address` and starts answering; returns once it listens.
    /// `purpose` names the server in errors ("the metrics (--metrics-listen)").
    public static func start(address: ListenAddress, router: HTTPRouter, purpose: String) throws(HTTPServerError) -> HTTPServer {
        // One thread is plenty for scrapes and health checks; the daemon's
        // compute threads keep the cores.
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let bootstrap = ServerBootstrap(group: group)
            .serverChannelOption(.backlog, value: 64)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelOption(.socketOption(.tcp_nodelay), value: 1)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.configureHTTPServerPipeline(withErrorHandling: true)
                    try channel.pipeline.syncOperations.addHandler(RouteChannelHandler(router: router))
                }
            }
        let channel: any Channel
        do {
            channel = try bootstrap.bind(host: address.host, port: address.port).wait()
        } catch {
            try? group.syncShutdownGracefully()
            throw .cannotBind(address: address, purpose: purpose, reason: "\(error)")
        }
        let port = channel.localAddress?.port ?? address.port
        return HTTPServer(boundAddress: ListenAddress(host: address.host, port: port), group: group, channel: channel)
    }

    /// Stops listening and closes every connection.
    public func stop() {
        try? channel.close().wait()
        try? group.syncShutdownGracefully()
    }
}

/// Reads one request at a time: its head, then its body within the route's
/// limit, then hands it to the route. A body over the limit is answered with
/// 413 as soon as that is known (from Content-Length, before any of it
/// arrives, or when the bytes read pass the limit); the rest is read and
/// dropped, never stored, and the connection is closed after the answer.
/// NIO's pipelining helper holds later requests of a keep-alive connection
/// until the current one is answered, so deferred answers stay in order.
private final class RouteChannelHandler: ChannelInboundHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    private enum Reading {
        case idle
        /// Collecting the body of a request its route takes.
        case body(head: HTTPRequestHead, route: HTTPRoute, bytes: [UInt8])
        /// Answered already (404, 405, 413): the body is dropped as it comes.
        case discarding
    }

    private let router: HTTPRouter
    private var reading = Reading.idle

    init(router: HTTPRouter) { self.router = router }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch Self.unwrapInboundIn(data) {
        case let .head(head):
            begin(head, context: context)
        case var .body(buffer):
            guard case .body(let head, let route, var bytes) = reading else { return }
            reading = .idle
            if bytes.count + buffer.readableBytes > route.maxBodyBytes {
                refuseTooLarge(head, route: route, size: bytes.count + buffer.readableBytes, context: context)
                return
            }
            bytes.append(contentsOf: buffer.readBytes(length: buffer.readableBytes) ?? [])
            reading = .body(head: head, route: route, bytes: bytes)
        case .end:
            let current = reading
            reading = .idle
            switch current {
            case .idle:
                break
            case .discarding:
                context.close(promise: nil)
            case let .body(head, route, bytes):
                dispatch(head, route: route, body: bytes, context: context)
            }
        }
    }

    private func begin(_ head: HTTPRequestHead, context: ChannelHandlerContext) {
        switch router.route(method: head.method.rawValue, path: Self.path(of: head.uri)) {
        case let .failure(failure):
            // Any body is read and dropped; the connection stays usable.
            reading = .idle
            write(failure.response, for: head, context: context)
        case let .success(route):
            let declared = head.headers.first(name: "Content-Length").flatMap { Int($0) }
            if let declared, declared > route.maxBodyBytes {
                refuseTooLarge(head, route: route, size: declared, context: context)
                return
            }
            if head.headers.first(name: "Expect")?.lowercased() == "100-continue" {
                context.writeAndFlush(Self.wrapOutboundOut(.head(HTTPResponseHead(version: head.version, status: .continue))), promise: nil)
            }
            reading = .body(head: head, route: route, bytes: [])
        }
    }

    private func refuseTooLarge(_ head: HTTPRequestHead, route: HTTPRoute, size: Int, context: ChannelHandlerContext) {
        reading = .discarding
        var response = route.tooLarge?(size) ?? .text(413, "the request body is \(size) bytes or more; this endpoint takes at most \(route.maxBodyBytes)")
        response.headers.append(("Connection", "close"))
        write(response, for: head, context: context, close: true)
    }

    private func dispatch(_ head: HTTPRequestHead, route: HTTPRoute, body: [UInt8], context: ChannelHandlerContext) {
        let target = Self.split(head.uri)
        let request = HTTPRequest(method: head.method.rawValue, path: target.path, query: target.query,
                                  headers: head.headers.map { ($0.name, $0.value) }, body: body)
        switch route.handler {
        case let .immediate(handler):
            write(handler(request), for: head, context: context)
        case let .deferred(handler):
            let responder = HTTPResponder(channel: context.channel, version: head.version, keepAlive: head.isKeepAlive, isHead: head.method == .HEAD)
            handler(request, responder)
        }
    }

    private func write(_ response: HTTPResponse, for head: HTTPRequestHead, context: ChannelHandlerContext, close: Bool = false) {
        var headers = HTTPHeaders(response.headers.map { ($0.name, $0.value) })
        headers.replaceOrAdd(name: "Content-Length", value: String(response.body.count))
        let keepAlive = head.isKeepAlive && !close
        headers.replaceOrAdd(name: "Connection", value: keepAlive ? "keep-alive" : "close")
        let status = HTTPResponseStatus(statusCode: response.status)
        context.write(Self.wrapOutboundOut(.head(HTTPResponseHead(version: head.version, status: status, headers: headers))), promise: nil)
        if head.method != .HEAD, !response.body.isEmpty {
            var buffer = context.channel.allocator.buffer(capacity: response.body.count)
            buffer.writeBytes(response.body)
            context.write(Self.wrapOutboundOut(.body(.byteBuffer(buffer))), promise: nil)
        }
        let written = context.writeAndFlush(Self.wrapOutboundOut(.end(nil)))
        if !keepAlive && !close {
            let channel = context.channel
            written.whenComplete { _ in channel.close(promise: nil) }
        }
        // A refused upload: the client may still be sending. Its bytes are
        // dropped as they come and the connection closes at the body's end,
        // or after a grace period (as nginx's lingering close does), so the
        // client reads the 413 instead of a reset.
        if close {
            let channel = context.channel
            written.whenComplete { _ in
                channel.eventLoop.scheduleTask(in: .seconds(10)) { channel.close(promise: nil) }
            }
        }
    }

    private static func path(of uri: String) -> String { split(uri).path }

    private static func split(_ uri: String) -> (path: String, query: String?) {
        guard let mark = uri.firstIndex(of: "?") else { return (uri, nil) }
        return (String(uri[..<mark]), String(uri[uri.index(after: mark)...]))
    }
}
