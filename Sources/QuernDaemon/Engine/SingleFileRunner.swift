import Dispatch
import Logging
import QuernPipelines

/// `quern run`: the daemon's intake and compute steps for one file, without
/// claiming, archiving or writing to the outbox.
public struct SingleFileRunner: Sendable {
    private let processor: FileProcessor
    private let lane: ComputeLane

    public init(processor: FileProcessor, logger: Logger) {
        self.processor = processor
        lane = ComputeLane(timeout: processor.timeout, logger: logger)
    }

    public func run(path: String) -> ResultDocument {
        let pathBytes = Array(path.utf8)
        let name = Array(pathBytes.split(separator: UInt8(ascii: "/"), omittingEmptySubsequences: true).last ?? [])
        let result = FileIntake(processor: processor).inspect(path: pathBytes, name: name, seen: DispatchTime.now().uptimeNanoseconds)
        var document: ResultDocument
        switch result.next {
        case let .decided(error):
            document = ResultDocument(claimID: nil, input: result.facts, task: result.task, outcome: .failure(error), model: nil, timings: result.timings, quernVersion: processor.quernVersion)
        case let .needsModel(job, pipeline):
            var outcome: ComputeLane.Outcome?
            _ = lane.run([ModelWork(intake: result, job: job, pipeline: pipeline)], hooks: ComputeLane.Hooks(deliver: { delivered in
                if let first = delivered.first { outcome = first }
            }))
            let delivered = outcome ?? ComputeLane.Outcome(0, .failure(QuernError(.internalError, "the pipeline returned nothing")), result.timings)
            document = ResultDocument(claimID: nil, input: result.facts, task: job.request.task, outcome: delivered.result, model: pipeline.identity,
                                      timings: delivered.timings, quernVersion: processor.quernVersion, partial: delivered.partial)
        }
        document.timings.total = document.timings.queued + document.timings.decode + document.timings.inference
        return document
    }
}
