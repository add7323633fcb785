import Foundation

/// Reads a dataset: a folder of `<label>/<files>` (`FolderListing`) or a
/// `.jsonl`/`.csv`/`.tsv` file (`TableListing`). Every example file is read,
/// hashed and judged by the daemon's own probes; unusable examples are
/// skipped with their reason; then the dataset as a whole is checked — one
/// kind of input, enough examples per class, at least two classes, or for a
/// test set, only the classes its head knows.
public enum DatasetReader {
    public static func read(_ path: String, options: DatasetOptions = DatasetOptions(), role: DatasetRole = .training) throws(DatasetError) -> Dataset {
        guard options.minimumExamplesPerClass >= 1 else {
            throw DatasetError(.invalidOption, "the fewest examples per class must be at least 1, got \(options.minimumExamplesPerClass)")
        }
        let targetColumn = try targetColumn(options: options, role: role, path: path)
        var listing: RawListing
        switch EntryKind(path) {
        case .missing:
            throw DatasetError(.notFound, path: path, "dataset \(path) does not exist; give a folder of <label>/<files> or a .jsonl, .csv or .tsv file")
        case .other:
            throw DatasetError(.unreadable, path: path, "dataset \(path) is not a folder or a regular file")
        case .directory:
            if targetColumn != nil {
                throw DatasetError(.invalidOption, path: path,
                                   "\(path) is a folder, whose labels are its folder names; a numeric target needs a .jsonl, .csv or .tsv file with a target column")
            }
            listing = try FolderListing.list(path)
        case .file:
            guard let format = DataTable.Format(path: path) else {
                throw DatasetError(.unsupportedFormat, path: path,
                                   "\(path) is not a dataset: give a folder of <label>/<files> or a .jsonl, .csv or .tsv file")
            }
            listing = try TableListing.list(path, format: format, options: options, targetColumn: targetColumn)
        }

        var resolved = resolve(listing.examples, options: options, skipped: &listing.skipped)
        let kind = try chooseKind(&resolved, options: options, role: role, path: path, skipped: &listing.skipped)
        guard !resolved.isEmpty else {
            throw DatasetError(.empty, path: path, "\(path) holds no usable example\(SkippedSummary.describe(listing.skipped))")
        }
        let task: Dataset.Task
        let examples: [DatasetExample]
        switch (role, targetColumn) {
        case let (_, column?):
            task = .regression(target: column)
            examples = resolved.map { $0.example(target: .value($0.value)) }
        case (.training, nil):
            let classes = Set(resolved.map(\.label)).sorted { $0.utf8.lexicographicallyPrecedes($1.utf8) }
            try checkTrainingClasses(classes, resolved: resolved, options: options, path: path)
            task = .classification(classes: classes)
            examples = try labelled(resolved, classes: classes, path: path)
        case let (.evaluation(.classification(classes), _), nil):
            task = .classification(classes: classes)
            examples = try labelled(resolved, classes: classes, path: path)
        case (.evaluation(.regression, _), nil):
            throw DatasetError(.invalidOption, path: path, "a regression head needs a target column")
        }
        var dataset = Dataset(source: path, kind: kind, task: task, examples: examples, skipped: listing.skipped, sha256: "")
        dataset.sha256 = DatasetDigest.of(examples, classes: dataset.classes)
        return dataset
    }

    /// The target column in force: the option, or for a regression head's
    /// test set, the head's own.
    private static func targetColumn(options: DatasetOptions, role: DatasetRole, path: String) throws(DatasetError) -> String? {
        switch role {
        case .training: return options.targetColumn
        case let .evaluation(.regression(target), _): return options.targetColumn ?? target
        case .evaluation(.classification, _):
            if let column = options.targetColumn {
                throw DatasetError(.invalidOption, path: path, "the head is a classifier, so its test set has labels, not a numeric target (\"\(column)\")")
            }
            return nil
        }
    }

    /// An example whose input has been read and judged, before its label is numbered.
    struct Resolved {
        var input: DatasetExample.Input
        var kind: InputKind
        var sha256: String
        var origin: String
        var label: String
        var value: Double

        func example(target: DatasetTarget) -> DatasetExample {
            DatasetExample(input: input, kind: kind, sha256: sha256, origin: origin, target: target)
        }
    }

    private static func resolve(_ raw: [RawExample], options: DatasetOptions, skipped: inout [SkippedExample]) -> [Resolved] {
        let files = ExampleFile(limits: options.limits, allowedFolders: options.allowedFolders)
        var resolved: [Resolved] = []
        resolved.reserveCapacity(raw.count)
        for item in raw {
            let (label, value): (String, Double)
            switch item.target {
            case let .label(name): (label, value) = (name, .nan)
            case let .value(number): (label, value) = ("", number)
            }
            switch item.input {
            case let .text(text):
                let limit = options.limits.maxTextCharacters
                guard text.unicodeScalars.count <= limit else {
                    skipped.append(SkippedExample(origin: item.origin, reason: .tooLarge,
                                                  detail: "the text is \(text.unicodeScalars.count) characters, more than the limit of \(limit) (raise --max-text-chars)"))
                    continue
                }
                guard case let .text(kept) = ExampleFile.text(text) else {
                    skipped.append(SkippedExample(origin: item.origin, reason: .emptyText, detail: "the text is empty or only white space"))
                    continue
                }
                resolved.append(Resolved(input: .text(kept), kind: .text, sha256: SHA256Hex.of(Array(kept.utf8)), origin: item.origin,
                                         label: label, value: value))
            case let .file(path):
                let origin = item.origin == path ? path : "\(item.origin) (\(path))"
                let bytes: [UInt8]
                switch files.read(path) {
                case let .success(read): bytes = read
                case let .failure(skip):
                    skipped.append(SkippedExample(origin: origin, reason: skip.reason, detail: skip.detail))
                    continue
                }
                let sha256 = SHA256Hex.of(bytes)
                switch files.judge(bytes) {
                case let .text(text):
                    resolved.append(Resolved(input: .text(text), kind: .text, sha256: sha256, origin: origin, label: label, value: value))
                case let .media(kind):
                    resolved.append(Resolved(input: .file(path), kind: kind, sha256: sha256, origin: origin, label: label, value: value))
                case let .skipped(reason, detail):
                    skipped.append(SkippedExample(origin: origin, reason: reason, detail: detail))
                }
            }
        }
        return resolved
    }

    /// The dataset's one kind. With the kind option, examples of other kinds
    /// are skipped; without it, more than one kind is an error showing an
    /// example of each. A test set must be of its head's kind.
    private static func chooseKind(_ resolved: inout [Resolved], options: DatasetOptions, role: DatasetRole, path: String,
                                   skipped: inout [SkippedExample]) throws(DatasetError) -> InputKind {
        if let wanted = options.kind {
            guard [.text, .image, .audio].contains(wanted) else {
                throw DatasetError(.invalidOption, path: path, "a dataset's kind is text, image or audio, not \(wanted.rawValue)")
            }
            for item in resolved where item.kind != wanted {
                skipped.append(SkippedExample(origin: item.origin, reason: .otherKind, detail: "\(noun(item.kind)) in a dataset of \(noun(wanted))s"))
            }
            resolved.removeAll { $0.kind != wanted }
        }
        var firsts: [(kind: InputKind, count: Int, origin: String)] = []
        for item in resolved {
            if let index = firsts.firstIndex(where: { $0.kind == item.kind }) {
                firsts[index].count += 1
            } else {
                firsts.append((item.kind, 1, item.origin))
            }
        }
        if firsts.count > 1 {
            let listed = firsts.map { "\($0.count) \(noun($0.kind))\($0.count == 1 ? "" : "s") (e.g. \($0.origin))" }.joined(separator: ", ")
            throw DatasetError(.mixedKinds, path: path,
                               "\(path) mixes kinds of input: \(listed); a head reads one kind — keep one per dataset, or choose one with --kind (the others are then skipped)")
        }
        let kind = firsts.first?.kind ?? options.kind ?? .text
        if case let .evaluation(_, expected?) = role, !resolved.isEmpty, kind != expected {
            throw DatasetError(.mixedKinds, path: path, "\(path) holds \(noun(kind))s, but the head reads \(noun(expected))s")
        }
        return kind
    }

    private static func noun(_ kind: InputKind) -> String {
        switch kind {
        case .text: return "text file"
        case .image: return "PNG/JPEG image"
        case .audio: return "audio file"
        case .request, .unknown: return "\(kind.rawValue) file"
        }
    }

    private static func checkTrainingClasses(_ classes: [String], resolved: [Resolved], options: DatasetOptions, path: String) throws(DatasetError) {
        var counts: [String: Int] = [:]
        for item in resolved { counts[item.label, default: 0] += 1 }
        let small = classes.filter { counts[$0, default: 0] < options.minimumExamplesPerClass }
        if !small.isEmpty {
            let listed = small.prefix(10).map { "\"\($0)\" has \(counts[$0, default: 0])" }.joined(separator: ", ")
            let more = small.count > 10 ? " and \(small.count - 10) more" : ""
            throw DatasetError(.tooFewExamples, path: path,
                               "in \(path), class \(listed)\(more) — a class needs at least \(options.minimumExamplesPerClass) examples (one to train on, one to test on); add examples or remove the class")
        }
        guard classes.count >= 2 else {
            throw DatasetError(.tooFewClasses, path: path,
                               "\(path) has \(classes.count) class\(classes.count == 1 ? " (\"\(classes[0])\")" : "es"); a classifier needs at least 2 to tell apart")
        }
    }

    private static func labelled(_ resolved: [Resolved], classes: [String], path: String) throws(DatasetError) -> [DatasetExample] {
        var index: [String: Int] = [:]
        for (position, name) in classes.enumerated() { index[name] = position }
        var examples: [DatasetExample] = []
        examples.reserveCapacity(resolved.count)
        for item in resolved {
            guard let label = index[item.label] else {
                let known = classes.prefix(20).map { "\"\($0)\"" }.joined(separator: ", ") + (classes.count > 20 ? ", …" : "")
                throw DatasetError(.unknownClass, path: path,
                                   "\(item.origin) is labelled \"\(item.label)\", a class the training set does not have (its classes: \(known)); fix the label or retrain with it")
            }
            examples.append(item.example(target: .label(label)))
        }
        return examples
    }
}
