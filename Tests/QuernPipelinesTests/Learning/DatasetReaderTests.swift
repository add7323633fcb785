import Foundation
import QuernPipelines
import QuernTestSupport
import Testing

@Suite struct DatasetReaderTests {
    static func reasons(_ dataset: Dataset) -> [String: SkippedExample.Reason] {
        Dictionary(dataset.skipped.map { (($0.origin as NSString).lastPathComponent, $0.reason) }, uniquingKeysWith: { first, _ in first })
    }

    /// JPEGs are images by content, whatever their extension, beside PNGs in
    /// one image dataset; a truncated JPEG is skipped as undecodable.
    @Test func folderOfJPEGImages() throws {
        let images = try DatasetFolder()
        try images.copy(JPEGTestSupport.corpus + "/baseline-420.jpg", to: "cat/a.jpg")
        try images.copy(JPEGTestSupport.corpus + "/progressive-420.jpg", to: "cat/b.JPEG")
        try images.copy(JPEGTestSupport.corpus + "/gray.jpg", to: "dog/c.jpeg")
        try images.copy(DatasetFolder.cifar("train/dog/0000.png"), to: "dog/d.png")
        try images.copy(JPEGTestSupport.corpus + "/truncated-header.jpg", to: "dog/cut.jpg")
        let imageSet = try DatasetReader.read(images.root)
        #expect(imageSet.kind == .image && imageSet.classCounts == [2, 2])
        #expect(Self.reasons(imageSet)["cut.jpg"] == .undecodable)
    }

    @Test func folderOfTextFilesWithWhatItSkipsAndWhy() throws {
        let folder = try DatasetFolder()
        try folder.write("pos/a.txt", text: "A wonderful, moving film.")
        try folder.write("pos/b.md", text: "# Great\n\nI loved every minute.")
        try folder.write("pos/2024/c.txt", text: "Nested folders keep the top folder's label.")
        try folder.write("neg/x.txt", text: "Dull and far too long.")
        try folder.write("neg/no-extension", text: "Text is text by its content, whatever its name.")
        try folder.write("neg/.DS_Store", [0, 1, 2])
        try folder.write("neg/download.part", text: "half a")
        try folder.write("neg/empty.txt", [])
        try folder.write("neg/blank.txt", text: "  \n\t\n")
        try folder.write("neg/latin1.txt", [0x63, 0x61, 0x66, 0xE9, 0x20, 0x6E, 0x6F, 0x69, 0x72])
        try folder.write("neg/binary.bin", [0x00, 0x01, 0x02, 0x03, 0xFF, 0x00, 0x10])
        try folder.write("README.md", text: "Not an example.")

        let dataset = try DatasetReader.read(folder.root)
        #expect(dataset.kind == .text)
        #expect(dataset.classes == ["neg", "pos"])
        #expect(dataset.classCounts == [2, 3])
        #expect(dataset.examples.count == 5)
        #expect(dataset.examples.contains { $0.input == .text("Nested folders keep the top folder's label.") && $0.target == .label(1) })
        let reasons = Self.reasons(dataset)
        #expect(reasons["download.part"] == .temporaryFile)
        #expect(reasons["empty.txt"] == .empty)
        #expect(reasons["blank.txt"] == .emptyText)
        #expect(reasons["latin1.txt"] == .notUTF8)
        #expect(reasons["binary.bin"] == .unrecognized)
        #expect(reasons["README.md"] == .outsideLabelFolder)
        #expect(reasons[".DS_Store"] == nil)  // hidden files are the tools', passed over silently
        #expect(dataset.skipped.count == 6)
        // A text file's SHA-256 is its bytes', as the daemon reports it.
        let a = try #require(dataset.examples.first { $0.origin.hasSuffix("/pos/a.txt") })
        #expect(a.sha256 == SHA256Hex.of(Array("A wonderful, moving film.".utf8)))
        #expect(dataset.sha256 == DatasetDigest.of(dataset.examples, classes: dataset.classes))
    }

    @Test func folderOfImagesAndOfAudio() throws {
        let images = try DatasetFolder()
        for (label, name) in [("cat", "0000"), ("cat", "0001"), ("dog", "0000"), ("dog", "0001")] {
            try images.copy(DatasetFolder.cifar("train/\(label)/\(name).png"), to: "\(label)/\(name).png")
        }
        // A PNG whose chunks are broken is refused by the daemon's probe.
        var broken = try DatasetFolder.bytes(DatasetFolder.cifar("train/dog/0002.png"))
        broken[40] ^= 0xFF
        try images.write("dog/broken.png", broken)
        let imageSet = try DatasetReader.read(images.root)
        #expect(imageSet.kind == .image && imageSet.classCounts == [2, 2])
        #expect(Self.reasons(imageSet)["broken.png"] == .undecodable)
        #expect(imageSet.examples.allSatisfy { if case .file = $0.input { return true } else { return false } })

        let audio = try DatasetFolder()
        for name in ["0_george_0", "0_jackson_0", "1_george_0", "1_jackson_0"] {
            try audio.copy(DatasetFolder.fsdd(name + ".wav"), to: "\(name.prefix(1))/\(name).wav")
        }
        let audioSet = try DatasetReader.read(audio.root)
        #expect(audioSet.kind == .audio && audioSet.classes == ["0", "1"] && audioSet.classCounts == [2, 2])
    }

    @Test func mixedKindsAreRefusedNamingAnExampleOfEach() throws {
        let folder = try DatasetFolder()
        try folder.copy(DatasetFolder.cifar("train/cat/0000.png"), to: "cat/0000.png")
        try folder.copy(DatasetFolder.cifar("train/cat/0001.png"), to: "cat/0001.png")
        try folder.copy(DatasetFolder.fsdd("0_george_0.wav"), to: "zero/0_george_0.wav")
        try folder.copy(DatasetFolder.fsdd("0_george_1.wav"), to: "zero/0_george_1.wav")
        let error = thrownError(DatasetError.self) { _ = try DatasetReader.read(folder.root) }
        #expect(error?.code == "dataset.mixed_kinds")
        #expect(error?.message.contains("2 PNG/JPEG images (e.g. \(folder.root)/cat/0000.png)") == true)
        #expect(error?.message.contains("2 audio files (e.g. \(folder.root)/zero/0_george_0.wav)") == true)
        #expect(error?.message.contains("--kind") == true)
        // Choosing a kind skips the others instead (and then one class is left).
        let chosen = thrownError(DatasetError.self) { _ = try DatasetReader.read(folder.root, options: DatasetOptions(kind: .image)) }
        #expect(chosen?.code == "dataset.too_few_classes")
    }

    @Test func aClassWithOneExampleIsRefusedByNameAndCount() throws {
        let folder = try DatasetFolder()
        try folder.write("pos/a.txt", text: "good")
        try folder.write("pos/b.txt", text: "great")
        try folder.write("neg/a.txt", text: "bad")
        try folder.write("neg/b.txt", text: "   ")
        let error = thrownError(DatasetError.self) { _ = try DatasetReader.read(folder.root) }
        #expect(error?.code == "dataset.too_few_examples")
        #expect(error?.message.contains("\"neg\" has 1") == true)
        #expect(error?.message.contains("at least 2") == true)
    }

    @Test func emptyAndMissingDatasetsAreErrors() throws {
        let folder = try DatasetFolder()
        try folder.write("pos/blank.txt", text: " ")
        let empty = thrownError(DatasetError.self) { _ = try DatasetReader.read(folder.root) }
        #expect(empty?.code == "dataset.empty")
        #expect(empty?.message.contains("empty_text") == true)
        #expect(thrownError(DatasetError.self) { _ = try DatasetReader.read(folder.root + "/nowhere") }?.code == "dataset.not_found")
        let other = try folder.write("data.xlsx", text: "x")
        #expect(thrownError(DatasetError.self) { _ = try DatasetReader.read(other) }?.code == "dataset.unsupported_format")
    }

    @Test func jsonLinesWithTextAndLabels() throws {
        let folder = try DatasetFolder()
        let path = try folder.write("reviews.jsonl", text: """
            {"text": "A joy from start to finish.", "label": "pos"}
            {"text": "Tedious.", "label": "neg", "id": 7}

            {"text": "Loved it.", "label": "pos"}\r
            {"text": "Never again.", "label": "neg"}
            {"text": "No label here."}
            {"text": "", "label": "neg"}
            {"text": 42, "label": "pos"}
            """)
        let dataset = try DatasetReader.read(path)
        #expect(dataset.classes == ["neg", "pos"] && dataset.classCounts == [2, 2])
        #expect(dataset.examples[0].origin == "reviews.jsonl line 1")
        #expect(dataset.examples[0].sha256 == SHA256Hex.of(Array("A joy from start to finish.".utf8)))
        let byLine = Dictionary(uniqueKeysWithValues: dataset.skipped.map { ($0.origin, $0.reason) })
        #expect(byLine == ["reviews.jsonl line 6": .noLabel, "reviews.jsonl line 7": .emptyText, "reviews.jsonl line 8": .noInput])

        let broken = try folder.write("broken.jsonl", text: "{\"text\": \"ok\", \"label\": \"a\"}\n{\"text\": \"oops\" \"label\": \"b\"}\n")
        let error = thrownError(DatasetError.self) { _ = try DatasetReader.read(broken) }
        #expect(error?.code == "dataset.malformed" && error?.line == 2)
        #expect(error?.message.contains("broken.jsonl line 2") == true)
        let array = try folder.write("array.jsonl", text: "[\"text\", \"label\"]\n")
        #expect(thrownError(DatasetError.self) { _ = try DatasetReader.read(array) }?.message.contains("not an object") == true)
    }

    @Test func csvWithQuotesEmbeddedNewlinesAndDoubledQuotes() throws {
        let folder = try DatasetFolder()
        let path = try folder.write("quotes.csv", text: "label,text\r\n"
            + "pos,\"Funny, warm and \"\"smart\"\".\"\r\n"
            + "neg,\"First line\nsecond line\"\r\n"
            + "pos,plain text\r\n"
            + "neg,\"\"\r\n"
            + "neg,Bland.\r\n")
        let dataset = try DatasetReader.read(path)
        #expect(dataset.examples.map(\.input) == [.text("Funny, warm and \"smart\"."), .text("First line\nsecond line"), .text("plain text"), .text("Bland.")])
        // Line numbers count the line break inside the quoted field.
        #expect(dataset.examples.map(\.origin) == ["quotes.csv line 2", "quotes.csv line 3", "quotes.csv line 5", "quotes.csv line 7"])
        #expect(dataset.skipped.map(\.origin) == ["quotes.csv line 6"])

        let wrongCount = try folder.write("fields.csv", text: "text,label\nhello, world,pos\n")
        let fields = thrownError(DatasetError.self) { _ = try DatasetReader.read(wrongCount) }
        #expect(fields?.code == "dataset.malformed" && fields?.line == 2 && fields?.message.contains("quote a field") == true)
        let unclosed = try folder.write("unclosed.csv", text: "text,label\nfine,pos\n\"never closed,neg\nmore,pos\n")
        let open = thrownError(DatasetError.self) { _ = try DatasetReader.read(unclosed) }
        #expect(open?.code == "dataset.malformed" && open?.line == 3)
        let stray = try folder.write("stray.csv", text: "text,label\n\"quoted\"x,pos\n")
        #expect(thrownError(DatasetError.self) { _ = try DatasetReader.read(stray) }?.line == 2)
    }

    @Test func tsvNeedsAHeaderAndSplitsOnTabs() throws {
        let folder = try DatasetFolder()
        let path = try folder.write("topics.tsv", text: "label\ttext\nsport\tA late goal won it.\nsport\tThe match went to penalties.\nspace\tThe probe reached orbit.\nspace\tA new comet, seen \"tonight\".\n")
        let dataset = try DatasetReader.read(path)
        #expect(dataset.classes == ["space", "sport"] && dataset.classCounts == [2, 2])
        #expect(dataset.examples[3].input == .text("A new comet, seen \"tonight\"."))
        let headerless = try folder.write("headerless.tsv", text: "sport\tA late goal won it.\nspace\tThe probe reached orbit.\n")
        let error = thrownError(DatasetError.self) { _ = try DatasetReader.read(headerless) }
        #expect(error?.code == "dataset.missing_column")
        #expect(error?.message.contains("needs a header line") == true)
        let renamed = try DatasetReader.read(path, options: DatasetOptions(textColumn: "text", labelColumn: "label"))
        #expect(renamed.sha256 == dataset.sha256)
        #expect(thrownError(DatasetError.self) { _ = try DatasetReader.read(path, options: DatasetOptions(labelColumn: "topic")) }?.code == "dataset.missing_column")
    }

    @Test func pathColumnRelativeToTheFileGivesTheFolderDigest() throws {
        let folder = try DatasetFolder()
        for (label, name) in [("cat", "0000"), ("cat", "0001"), ("dog", "0000"), ("dog", "0001")] {
            try folder.copy(DatasetFolder.cifar("train/\(label)/\(name).png"), to: "images/\(label)/\(name).png")
        }
        // Rows in another order, one path absolute, under the `file` column.
        let csv = try folder.write("list.csv", text: "file,label\nimages/dog/0001.png,dog\nimages/cat/0000.png,cat\n\(folder.root)/images/dog/0000.png,dog\nimages/cat/0001.png,cat\nimages/cat/missing.png,cat\n")
        let fromTable = try DatasetReader.read(csv)
        let fromFolder = try DatasetReader.read(folder.root + "/images")
        #expect(fromTable.kind == .image && fromTable.classCounts == [2, 2])
        #expect(fromTable.sha256 == fromFolder.sha256)
        #expect(fromTable.skipped.map(\.reason) == [.unreadable])
        #expect(fromTable.skipped.first?.origin.hasPrefix("list.csv line 6") == true)
    }

    @Test func numericTargetsMakeARegressionDataset() throws {
        let folder = try DatasetFolder()
        let path = try folder.write("ratings.csv", text: "text,rating\nSuperb.,3.5\nAwful.,-2\nFine.,0\nWhat?,abc\n")
        let dataset = try DatasetReader.read(path, options: DatasetOptions(targetColumn: "rating"))
        #expect(dataset.task == .regression(target: "rating"))
        #expect(dataset.values == [3.5, -2, 0])
        #expect(dataset.skipped.map(\.reason) == [.invalidTarget])
        #expect(thrownError(DatasetError.self) { _ = try DatasetReader.read(folder.root, options: DatasetOptions(targetColumn: "rating")) }?.code == "dataset.invalid_option")
        // A test set of a regression head reads the head's target column.
        let test = try DatasetReader.read(path, role: .evaluation(task: .regression(target: "rating"), kind: .text))
        #expect(test.values == [3.5, -2, 0])
    }

    @Test func aTestSetUsesTheTrainingClassesAndRefusesUnknownOnes() throws {
        let folder = try DatasetFolder()
        let train = try folder.write("train.jsonl", text: """
            {"text": "good", "label": "pos"}
            {"text": "great", "label": "pos"}
            {"text": "bad", "label": "neg"}
            {"text": "awful", "label": "neg"}
            {"text": "so-so", "label": "mixed"}
            {"text": "meh", "label": "mixed"}
            """)
        let training = try DatasetReader.read(train)
        #expect(training.classes == ["mixed", "neg", "pos"])
        let test = try folder.write("test.jsonl", text: "{\"text\": \"lovely\", \"label\": \"pos\"}\n")
        let role = DatasetRole.evaluation(task: training.task, kind: training.kind)
        let evaluation = try DatasetReader.read(test, role: role)
        #expect(evaluation.classes == training.classes && evaluation.labels == [2])
        let unknown = try folder.write("unknown.jsonl", text: "{\"text\": \"lovely\", \"label\": \"pos\"}\n{\"text\": \"huh\", \"label\": \"neutral\"}\n")
        let error = thrownError(DatasetError.self) { _ = try DatasetReader.read(unknown, role: role) }
        #expect(error?.code == "dataset.unknown_class")
        #expect(error?.message.contains("\"neutral\"") == true && error?.message.contains("unknown.jsonl line 2") == true)
        let images = DatasetRole.evaluation(task: training.task, kind: .image)
        #expect(thrownError(DatasetError.self) { _ = try DatasetReader.read(test, role: images) }?.code == "dataset.mixed_kinds")
    }

    @Test func digestDependsOnContentAndLabelsOnly() throws {
        let folder = try DatasetFolder()
        let one = try folder.write("one.jsonl", text: "{\"text\": \"a\", \"label\": \"x\"}\n{\"text\": \"b\", \"label\": \"y\"}\n{\"text\": \"c\", \"label\": \"x\"}\n{\"text\": \"d\", \"label\": \"y\"}\n")
        let reordered = try folder.write("two.csv", text: "label,text\ny,d\nx,c\ny,b\nx,a\n")
        let relabelled = try folder.write("three.csv", text: "label,text\ny,d\nx,c\nx,b\ny,a\n")
        let digest = try DatasetReader.read(one).sha256
        #expect(try DatasetReader.read(reordered).sha256 == digest)
        #expect(try DatasetReader.read(relabelled).sha256 != digest)
        #expect(digest.count == 64)
    }
}
