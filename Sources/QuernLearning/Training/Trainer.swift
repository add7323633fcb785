import QuernTensor

/// Trains a head's parameters on standardised feature rows: seeded
/// mini-batches, the loss and its gradients by hand as GEMMs, an optimiser
/// step per batch at the schedule's rate, the validation split measured
/// after each epoch, early stopping with the best epoch's weights restored.
///
/// Deterministic: the same options (seed included), data and compute
/// thread count give bit-identical weights. (OpenBLAS sums a product in an
/// order that depends on its thread count, hence the thread count.)
public struct Trainer: Sendable {
    public let architecture: HeadArchitecture
    public let options: TrainingOptions

    public init(architecture: HeadArchitecture, options: TrainingOptions) throws(LearningError) {
        try options.validate()
        if architecture.task == .regression, options.classWeighting != .uniform || options.labelSmoothing != 0 {
            throw LearningError(.invalidParameter, "class_weights and label_smoothing apply to classification heads only")
        }
        self.architecture = architecture
        self.options = options
    }

    /// Trains from `initialParameters` (copied, never modified; default:
    /// PyTorch's initialisation from the seed) on `training`, measuring
    /// `validation` after every epoch, and calls `progress` with each
    /// epoch's record as it ends.
    public func train(
        _ training: TrainingExamples, validation: TrainingExamples? = nil, initialParameters: HeadParameters? = nil,
        batchOrder: BatchOrder = .shuffled, progress: (EpochRecord) -> Void = { _ in }
    ) throws(LearningError) -> TrainingResult {
        try training.validate(for: architecture, role: "training")
        try validation?.validate(for: architecture, role: "validation")
        try batchOrder.validate(epochs: options.epochs, count: training.count)
        let loss = try resolvedLoss(for: training)
        try loss.validate(outputWidth: architecture.outputWidth)
        let parameters: HeadParameters
        if let initialParameters {
            try initialParameters.validate(against: architecture)
            parameters = initialParameters.copy()
        } else {
            parameters = HeadParameters(initialisedFor: architecture, seed: options.seed)
        }

        // Separate streams for shuffling and dropout, derived from the seed
        // (the initial weights use the seed itself).
        var streams = SeededGenerator(seed: options.seed)
        var shuffling = SeededGenerator(seed: streams.next())
        var dropout = SeededGenerator(seed: streams.next())

        let backpropagation = Backpropagation(
            architecture: architecture, capacity: batchOrder.largestBatch(batchSize: options.batchSize, count: training.count),
            dropout: Float(options.dropout))
        var optimiser = options.optimiser.makeOptimiser()
        let totalSteps = batchOrder.totalSteps(epochs: options.epochs, batchSize: options.batchSize, count: training.count)
        var step = 0
        var history: [EpochRecord] = []
        var best: (loss: Double, epoch: Int, parameters: HeadParameters)?
        var epochsWithoutImprovement = 0
        var stoppedEarly = false

        for epoch in 0..<options.epochs {
            var lossSum = 0.0, correct = 0, seen = 0
            var learningRate = options.learningRate
            for indices in batchOrder.batches(epoch: epoch, batchSize: options.batchSize, count: training.count, generator: &shuffling) {
                learningRate = options.schedule.learningRate(base: options.learningRate, step: step, epoch: epoch, totalSteps: totalSteps)
                let targets = training.targets.selecting(indices)
                let batch = backpropagation.run(features: training.features, indices: indices, targets: targets,
                                                parameters: parameters, loss: loss, generator: &dropout)
                guard batch.loss.isFinite else { throw diverged(epoch: epoch, learningRate: learningRate, what: "the training loss became \(batch.loss)") }
                optimiser.step(parameters, gradients: backpropagation.gradients, learningRate: learningRate)
                step += 1
                lossSum += batch.loss * Double(indices.count)
                seen += indices.count
                if case let .classes(classes) = targets {
                    correct += ClassificationCount.correct(outputs: batch.outputs, width: architecture.outputWidth, targets: classes)
                }
            }
            guard parameters.layers.allSatisfy({ $0.weight.scalars.allSatisfy(\.isFinite) && $0.bias.scalars.allSatisfy(\.isFinite) }) else {
                throw diverged(epoch: epoch, learningRate: learningRate, what: "the weights became non-finite")
            }
            var record = EpochRecord(epoch: epoch + 1, trainLoss: lossSum / Double(seen), learningRate: learningRate)
            if architecture.task == .classification { record.trainAccuracy = Double(correct) / Double(seen) }
            if let validation {
                let measured = evaluate(validation, parameters: parameters, loss: loss)
                guard measured.loss.isFinite else { throw diverged(epoch: epoch, learningRate: learningRate, what: "the validation loss became \(measured.loss)") }
                record.validationLoss = measured.loss
                record.validationAccuracy = measured.accuracy
            }
            history.append(record)
            progress(record)

            guard let validationLoss = record.validationLoss else { continue }
            if let current = best, validationLoss >= current.loss {
                epochsWithoutImprovement += 1
                if let patience = options.patience, epochsWithoutImprovement >= patience, epoch + 1 < options.epochs {
                    stoppedEarly = true
                    break
                }
            } else {
                best = (validationLoss, epoch + 1, parameters.copy())
                epochsWithoutImprovement = 0
            }
        }
        if let best {
            return TrainingResult(parameters: best.parameters, history: history, bestEpoch: best.epoch, stoppedEarly: stoppedEarly, loss: loss)
        }
        return TrainingResult(parameters: parameters, history: history, bestEpoch: history.count, stoppedEarly: false, loss: loss)
    }

    /// The mean loss (as trained: same class weights and smoothing) and the
    /// accuracy (classification) of `parameters` on `examples`, without dropout.
    public func evaluate(_ examples: TrainingExamples, parameters: HeadParameters, loss: LossFunction) -> (loss: Double, accuracy: Double?) {
        let outputs = Head.forward(examples.features, parameters: parameters, activation: architecture.activation).scalars
        let value = loss.value(outputs: outputs, width: architecture.outputWidth, targets: examples.targets)
        guard case let .classes(classes) = examples.targets else { return (value, nil) }
        let correct = ClassificationCount.correct(outputs: outputs, width: architecture.outputWidth, targets: classes)
        return (value, Double(correct) / Double(classes.count))
    }

    /// The options' loss for this head, with balanced weights counted on `training`.
    private func resolvedLoss(for training: TrainingExamples) throws(LearningError) -> LossFunction {
        guard architecture.task == .classification else { return .meanSquaredError }
        let weights = try options.classWeighting.weights(classCounts: training.classCounts(classes: architecture.outputWidth))
        return .crossEntropy(classWeights: weights, labelSmoothing: options.labelSmoothing)
    }

    private func diverged(epoch: Int, learningRate: Double, what: String) -> LearningError {
        LearningError(.diverged, "training diverged in epoch \(epoch + 1): \(what); try a lower learning_rate (this epoch used \(learningRate))")
    }
}

/// How many rows' largest output (the first of equal maxima, as argmax
/// takes it) is the target class.
enum ClassificationCount {
    static func correct(outputs: [Float], width: Int, targets: [Int]) -> Int {
        var correct = 0
        for (row, target) in targets.enumerated() {
            let start = row * width
            var best = 0
            for column in 1..<width where outputs[start + column] > outputs[start + best] { best = column }
            if best == target { correct += 1 }
        }
        return correct
    }
}
