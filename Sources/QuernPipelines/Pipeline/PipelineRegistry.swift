import QuernTensor

/// Which pipeline answers which task. Built once at start-up, read-only after.
public struct PipelineRegistry: Sendable {
    private var byTask: [TaskName: AnyPipeline] = [:]
    private var unavailable: [TaskName: String] = [:]
    /// The heads under `<models>/heads/` the pipelines run (nil with the
    /// diagnostic pipeline).
    public var headLibrary: HeadLibrary?
    /// The models behind the pipelines, loaded on first use and unloaded
    /// when idle (nil with the diagnostic pipeline).
    public var residency: ModelResidency?
    /// Where chat conversations are kept and cached (nil: none).
    public var conversations: Conversations?

    public init() {}

    /// Routes every task the pipeline declares to it; a later registration for
    /// the same task replaces the earlier one.
    public mutating func register<P: Pipeline>(_ pipeline: P) {
        let erased = AnyPipeline(pipeline)
        for task in pipeline.tasks { byTask[task] = erased }
    }

    /// Routes `tasks` (some of those the pipeline declares) to it.
    public mutating func register<P: Pipeline>(_ pipeline: P, for tasks: Set<TaskName>) {
        let erased = AnyPipeline(pipeline)
        for task in tasks.intersection(pipeline.tasks) { byTask[task] = erased }
    }

    public func pipeline(for task: TaskName) -> AnyPipeline? { byTask[task] }

    /// Each task's model in bfloat16, for the models that offer it; loaded
    /// on its first job like the float32 one, which it shares a lane with.
    private var bfloat16ByTask: [TaskName: AnyPipeline] = [:]
    /// The precision a task runs in when its request does not say
    /// (`--precision TASK=PRECISION`); float32 when absent.
    public var defaultPrecision: [TaskName: Precision] = [:]

    /// Routes `tasks` to `pipeline` for jobs that run in bfloat16.
    public mutating func registerBFloat16<P: Pipeline>(_ pipeline: P, for tasks: Set<TaskName>) {
        let erased = AnyPipeline(pipeline)
        for task in tasks.intersection(pipeline.tasks) { bfloat16ByTask[task] = erased }
    }

    /// The pipeline that runs `job`: its task's, in the job's precision
    /// (its `precision` field, else the task's setting). A model without a
    /// bfloat16 form runs in float32, and its result's `model` says so.
    public func pipeline(for job: Job) -> AnyPipeline? {
        let task = job.request.task
        if (job.precision ?? defaultPrecision[task]) == .bfloat16, let reduced = bfloat16ByTask[task] { return reduced }
        return byTask[task]
    }

    /// Records why tasks have no pipeline (e.g. "model file … is missing; run
    /// scripts/fetch-models.sh"), so a missing model makes its files fail with
    /// that reason instead of stopping the daemon from serving the others.
    public mutating func markUnavailable(_ tasks: Set<TaskName>, reason: String) {
        for task in tasks where byTask[task] == nil { unavailable[task] = reason }
    }

    /// Tasks left without a pipeline because their model could not be loaded, and why.
    public var unavailableTasks: [(task: TaskName, reason: String)] {
        TaskName.allCases.compactMap { task in unavailable[task].map { (task, $0) } }
    }

    /// The error a job gets when its task has no pipeline here.
    public func missingPipeline(for task: TaskName) -> QuernError {
        guard let reason = unavailable[task] else { return Self.unsupported(task) }
        return QuernError(.unsupported, "task \"\(task.rawValue)\" is unavailable: \(reason)")
    }

    public var servedTasks: [TaskName] { TaskName.allCases.filter { byTask[$0] != nil } }

    /// The error a job gets when no model serves its task yet: honest, never a made-up answer.
    public static func unsupported(_ task: TaskName) -> QuernError {
        QuernError(.unsupported, "no model for task \"\(task.rawValue)\" is installed in this build of Quern yet")
    }
}
