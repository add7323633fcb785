/// The colour type a PNG file declares in IHDR (PNG specification 11.2.2).
public enum PNGColorType: Int, Sendable, Equatable, CaseIterable {
    case gray = 0
    case rgb = 2
    case palette = 3
    case grayAlpha = 4
    case rgba = 6

    /// The stable name used in results: `gray`, `rgb`, `palette`, `gray_alpha`, `rgba`.
    public var name: String {
        switch self {
        case .gray: "gray"
        case .rgb: "rgb"
        case .palette: "palette"
        case .grayAlpha: "gray_alpha"
        case .rgba: "rgba"
        }
    }

    /// Whether the pixels carry an alpha channel (tRNS is separate).
    public var hasAlphaChannel: Bool { self == .grayAlpha || self == .rgba }
}
