import NIOCore
import NIOHTTP1
import Synchronization

/// Answers one request of a deferred route, from any thread: either
/// `respond` once, or `startStream`, any number of `send`, then `finish`
/// (chunked transfer encoding, as server-sent events need). Calls after the
/// answer is complete, or after the client went away, are ignored.
public final class HTTPResponder: Sendable {
    private enum State {
        case waiting, streaming, done
    }

    private let channel: any Channel
    private let version: HTTPVersion
    private let keepAlive: Bool
    private let isHead: Bool
    private let state = Mutex<State>(.waiting)
    private let closeCallbacks = Mutex<[@Sendable () -> Void]>([])
    private let closed = Atomic<Bool>(false)

    init(channel: any Channel, version: HTTPVersion, keepAlive: Bool, isHead: Bool) {
        self.channel = channel
        self.version = version
        self.keepAlive = keepAlive
        self.isHead = isHead
        channel.closeFuture.whenComplete { [self] _ in
            closed.store(true, ordering: .releasing)
            let callbacks = closeCallbacks.withLock { callbacks in
                defer { callbacks.removeAll() }
                return callbacks
            }
            for callback in callbacks { callback() }
        }
    }

    /// Whether the connection is gone (the client disconnected): work for it
    /// can stop.
    public var isClosed: Bool { closed.load(ordering: .acquiring) }

    /// Calls `callback` once when the connection closes (at once if it has).
    public func onClose(_ callback: @escaping @Sendable () -> Void) {
        let already = closeCallbacks.withLock { callbacks -> Bool in
            if closed.load(ordering: .acquiring) { return true }
            callbacks.append(callback)
            return false
        }
        if already { callback() }
    }

    /// The whole response. Content-Length is added.
    public func respond(_ response: HTTPResponse) {
        guard transition(from: .waiting, to: .done) else { return }
        var headers = HTTPHeaders(response.headers.map { ($0.name, $0.value) })
        headers.replaceOrAdd(name: "Content-Length", value: String(response.body.count))
        headers.replaceOrAdd(name: "Connection", value: keepAlive ? "keep-alive" : "close")
        let head = HTTPResponseHead(version: version, status: HTTPResponseStatus(statusCode: response.status), headers: headers)
        let body = isHead ? [] : response.body
        let keepAlive = keepAlive
        let channel = channel
        channel.eventLoop.execute {
            channel.write(HTTPServerResponsePart.head(head), promise: nil)
            if !body.isEmpty {
                channel.write(HTTPServerResponsePart.body(.byteBuffer(channel.allocator.buffer(bytes: body))), promise: nil)
            }
            let written = channel.writeAndFlush(HTTPServerResponsePart.end(nil))
            if !keepAlive { written.whenComplete { _ in channel.close(promise: nil) } }
        }
    }

    /// Starts a streamed response (chunked, no Content-Length).
    public func startStream(status: Int, headers: [(name: String, value: String)]) {
        guard transition(from: .waiting, to: .streaming) else { return }
        var fields = HTTPHeaders(headers.map { ($0.name, $0.value) })
        fields.replaceOrAdd(name: "Transfer-Encoding", value: "chunked")
        fields.replaceOrAdd(name: "Connection", value: keepAlive ? "keep-alive" : "close")
        fields.replaceOrAdd(name: "Cache-Control", value: "no-cache")
        let head = HTTPResponseHead(version: version, status: HTTPResponseStatus(statusCode: status), headers: fields)
        let channel = channel
        channel.eventLoop.execute {
            channel.writeAndFlush(HTTPServerResponsePart.head(head), promise: nil)
        }
    }

    /// One piece of a streamed response, sent at once.
    public func send(_ bytes: [UInt8]) {
        guard !bytes.isEmpty, state.withLock({ $0 == .streaming }) else { return }
        let channel = channel
        channel.eventLoop.execute {
            channel.writeAndFlush(HTTPServerResponsePart.body(.byteBuffer(channel.allocator.buffer(bytes: bytes))), promise: nil)
        }
    }

    /// Ends a streamed response.
    public func finish() {
        guard transition(from: .streaming, to: .done) else { return }
        let keepAlive = keepAlive
        let channel = channel
        channel.eventLoop.execute {
            let written = channel.writeAndFlush(HTTPServerResponsePart.end(nil))
            if !keepAlive { written.whenComplete { _ in channel.close(promise: nil) } }
        }
    }

    private func transition(from: State, to: State) -> Bool {
        state.withLock { state in
            guard state == from else { return false }
            state = to
            return true
        }
    }
}
