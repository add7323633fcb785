@testable import QuernQueue
import Testing

/// The password never comes from the URL: a file, or libpq's password file.
@Suite struct QueuePasswordTests {
    @Test func theFirstMatchingPgpassLineWins() throws {
        let text = """
            # comment
            db.example:5432:quern:quern:first
            *:*:quern:quern:second
            localhost:5433:*:*:sock\\:et
            """
        #expect(QueuePassword.lookup(text, location: try QueueLocation("postgres://quern@db.example/quern")) == "first")
        #expect(QueuePassword.lookup(text, location: try QueueLocation("postgres://quern@other/quern")) == "second")
        #expect(QueuePassword.lookup(text, location: try QueueLocation("postgres://me@/x?host=/run/postgresql&port=5433")) == "sock:et")
        #expect(QueuePassword.lookup(text, location: try QueueLocation("postgres://me@other/x")) == nil)
    }

    @Test func urlsWithPasswordsAndTLSOverSocketsAreRefused() {
        #expect(throws: QueueError.self) { try QueueLocation("postgres://quern:secret@db/quern") }
        #expect(throws: QueueError.self) { try QueueLocation("postgres://quern@/quern?host=/tmp&sslmode=require") }
        #expect(throws: QueueError.self) { try QueueLocation("mysql://quern@db/quern") }
        #expect((try? QueueLocation("postgres://quern@db:6432/jobs?sslmode=verify-full"))?.tls == .require)
    }
}
