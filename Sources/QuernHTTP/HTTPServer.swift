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

/// Collects a request's head, ignores any body, and writes the router's
/// response when the request ends.
private final class RouteChannelHandler: ChannelInboundHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    private let router: HTTPRouter
    private var head: HTTPRequestHead?

    init(router: HTTPRouter) { self.router = router }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch Self.unwrapInboundIn(data) {
        case let .head(head):
            self.head = head
        case .body:
            // No route takes a body yet; it is read and dropped.
            break
        case .end:
            guard let head else { return }
            self.head = nil
            respond(to: head, context: context)
        }
    }

    private func respond(to head: HTTPRequestHead, context: ChannelHandlerContext) {
        let request = HTTPRequest(method: head.method.rawValue, target: head.uri, headers: head.headers.map { ($0.name, $0.value) })
        let response = router.respond(to: request)
        var headers = HTTPHeaders(response.headers.map { ($0.name, $0.value) })
        headers.replaceOrAdd(name: "Content-Length", value: String(response.body.count))
        let keepAlive = head.isKeepAlive
        headers.replaceOrAdd(name: "Connection", value: keepAlive ? "keep-alive" : "close")
        let status = HTTPResponseStatus(statusCode: response.status)
        context.write(Self.wrapOutboundOut(.head(HTTPResponseHead(version: head.version, status: status, headers: headers))), promise: nil)
        if head.method != .HEAD, !response.body.isEmpty {
            var buffer = context.channel.allocator.buffer(capacity: response.body.count)
            buffer.writeBytes(response.body)
            context.write(Self.wrapOutboundOut(.body(.byteBuffer(buffer))), promise: nil)
        }
        let written = context.writeAndFlush(Self.wrapOutboundOut(.end(nil)))
        if !keepAlive {
            let channel = context.channel
            written.whenComplete { _ in channel.close(promise: nil) }
        }
    }
}
