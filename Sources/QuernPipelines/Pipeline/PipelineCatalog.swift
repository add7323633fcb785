/// The pipelines a daemon or `quern run` starts with.
public enum PipelineCatalog {
    public struct Options: Sendable {
        public var modelsDirectory: String
        /// Replaces every model by `DiagnosticPipeline` (tests, overhead benchmark).
        public var diagnostic: Bool
        public var diagnosticDelay: Duration

        public init(modelsDirectory: String, diagnostic: Bool = false, diagnosticDelay: Duration = .zero) {
            self.modelsDirectory = modelsDirectory
            self.diagnostic = diagnostic
            self.diagnosticDelay = diagnosticDelay
        }
    }

    /// Each real model plugs in here with one line once its pipeline exists, e.g.
    /// `registry.register(try ChatPipeline(directory: options.modelsDirectory + "/smollm2"))`.
    /// Until then its tasks answer `unsupported`.
    public static func makeRegistry(_ options: Options) throws(QuernError) -> PipelineRegistry {
        var registry = PipelineRegistry()
        if options.diagnostic {
            registry.register(DiagnosticPipeline(delay: options.diagnosticDelay))
        }
        return registry
    }
}
