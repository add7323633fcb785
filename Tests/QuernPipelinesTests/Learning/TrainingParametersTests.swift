import QuernJSON
import QuernLearning
import QuernPipelines
import Testing

/// The one table behind `quern train`'s flags and `train` requests.
@Suite struct TrainingParametersTests {
    let base = TrainingPlan(data: "data.csv", name: "head")

    @Test func appliesEveryKindOfValue() throws {
        let plan = try TrainingParameters.apply([
            ("head", .string("mlp")), ("hidden", .int(32)), ("activation", .string("gelu")), ("optimiser", .string("sgd")),
            ("momentum", .number("0.9")), ("nesterov", .bool(true)), ("schedule", .string("cosine")), ("min_learning_rate", .number("1e-5")),
            ("warmup_steps", .int(10)), ("patience", .int(0)), ("class_weights", .string("balanced")), ("folds", .int(5)), ("seed", .int(9)),
        ], to: base)
        #expect(plan.head == .mlp && plan.hiddenWidth == 32 && plan.activation == .gelu)
        #expect(plan.training.optimiser.kind == .sgd && plan.training.optimiser.momentum == 0.9 && plan.training.optimiser.nesterov)
        #expect(plan.training.schedule == LearningRateSchedule(warmupSteps: 10, decay: .cosine(minimum: 1e-5)))
        #expect(plan.training.patience == nil && plan.training.classWeighting == .balanced && plan.folds == 5 && plan.training.seed == 9)
        let architecture = try plan.architecture(inputWidth: 384, outputWidth: 3)
        #expect(architecture.hiddenWidth == 32 && architecture.kindName == "mlp")
        #expect(plan.hyperParameters["optimiser"] == .string("sgd") && plan.hyperParameters["folds"] == .int(5))
    }

    @Test func commandLineWordsBecomeTheValuesARequestWouldCarry() {
        #expect(TrainingParameters.value(fromArgument: "0.01") == .number("0.01"))
        #expect(TrainingParameters.value(fromArgument: "true") == .bool(true))
        #expect(TrainingParameters.value(fromArgument: "mlp") == .string("mlp"))
        #expect(TrainingParameters.value(fromArgument: "1e-4") == .number("1e-4"))
        #expect(TrainingParameters.table.first { $0.key == "learning_rate" }?.flag == "--learning-rate")
    }

    @Test(arguments: [
        ([("head", JSONValue.string("forest"))], "not one of: logistic, mlp"),
        ([("learning_rate", .int(0))], "above 0"),
        ([("hidden", .int(8))], "mlp"),
        ([("min_learning_rate", .number("0.1"))], "\"schedule\": \"cosine\""),
        ([("epochs", .string("ten"))], "epochs"),
        ([("kind", .string("video"))], "text, image, audio"),
    ] as [([(key: String, value: JSONValue)], String)])
    func refusesValuesNamingTheField(members: [(key: String, value: JSONValue)], expected: String) {
        do {
            _ = try TrainingParameters.apply(members, to: base)
            Issue.record("accepted \(members)")
        } catch {
            #expect(error.message.contains(expected), "\(error.message)")
        }
    }
}
