import QuernMedia
import Testing

@Test func mediaErrorCodesAreStable() {
    #expect(MediaError(.corrupt, "x").code == "media.corrupt")
    #expect(MediaError(.tooLarge, "x").code == "media.too_large")
}
