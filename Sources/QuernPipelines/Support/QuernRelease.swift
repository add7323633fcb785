/// This build's version: results, head.json and `quern --version` report it.
public enum QuernRelease {
    public static let version = "0.1.0"
}
