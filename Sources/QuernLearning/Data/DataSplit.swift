/// Which examples (indices into a dataset's examples) train a head and which
/// test it. Both lists are ascending, disjoint, and together cover every
/// example the split was made from.
public struct DataSplit: Sendable, Equatable {
    public var train: [Int]
    public var test: [Int]

    public init(train: [Int], test: [Int]) {
        self.train = train
        self.test = test
    }
}
