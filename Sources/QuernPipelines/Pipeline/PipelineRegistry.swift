/// Which pipeline answers which task. Built once at start-up, read-only after.
public struct PipelineRegistry: Sendable {
    private var byTask: [TaskName: AnyPipeline] = [:]

    public init() {}

    /// Routes every task the pipeline declares to it; a later registration for
    /// the same task replaces the earlier one.
    public mutating func register<P: Pipeline>(_ pipeline: P) {
        let erased = AnyPipeline(pipeline)
        for task in pipeline.tasks { byTask[task] = erased }
    }

    public func pipeline(for task: TaskName) -> AnyPipeline? { byTask[task] }

    public var servedTasks: [TaskName] { TaskName.allCases.filter { byTask[$0] != nil } }

    /// The error a job gets when no model serves its task yet: honest, never a made-up answer.
    public static func unsupported(_ task: TaskName) -> QuernError {
        QuernError(.unsupported, "no model for task \"\(task.rawValue)\" is installed in this build of Quern yet")
    }
}
