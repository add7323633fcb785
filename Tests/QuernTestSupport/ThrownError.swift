import Testing

/// The error of type `E` that `body` throws; nil when it throws nothing, and
/// a recorded issue (then nil) when it throws something else.
public func thrownError<E: Error>(_ type: E.Type, _ body: () throws -> Void) -> E? {
    do {
        try body()
        return nil
    } catch let error as E {
        return error
    } catch {
        Issue.record("expected \(E.self), got \(error)")
        return nil
    }
}
