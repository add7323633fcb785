import QuernDaemon
import Testing

@Suite struct ResultNamesTests {
    @Test func plainThenNumbered() {
        let name = Array("cat.png".utf8)
        #expect(ResultNames.candidate(for: name, index: 0) == Array("cat.png.json".utf8))
        #expect(ResultNames.candidate(for: name, index: 1) == Array("cat.png.1.json".utf8))
        #expect(ResultNames.candidate(for: name, index: 12) == Array("cat.png.12.json".utf8))
    }

    @Test func longNamesAreShortenedDeterministically() {
        let long = [UInt8](repeating: UInt8(ascii: "a"), count: 255)
        let first = ResultNames.candidate(for: long, index: 0)
        #expect(first.count <= 255)
        #expect(first == ResultNames.candidate(for: long, index: 0))
        #expect(String(decoding: first, as: UTF8.self).hasSuffix(".json"))
        #expect(String(decoding: first, as: UTF8.self).contains("~"))
        let second = ResultNames.candidate(for: long, index: 7)
        #expect(second.count <= 255)
        #expect(second != first)
        // Two long names that share their first 240 bytes still get different results.
        var other = long
        other[254] = UInt8(ascii: "b")
        #expect(ResultNames.candidate(for: other, index: 0) != first)
    }

    @Test func neverCutsACharacterInHalf() {
        let name = Array(String(repeating: "é", count: 127).utf8)  // 254 bytes
        let result = ResultNames.candidate(for: name, index: 0)
        #expect(result.count <= 255)
        #expect(String(validating: result, as: UTF8.self) != nil)
    }

    @Test func exactlyFittingNamesAreKept() {
        let name = [UInt8](repeating: UInt8(ascii: "x"), count: 250)
        #expect(ResultNames.candidate(for: name, index: 0) == name + Array(".json".utf8))
    }
}
