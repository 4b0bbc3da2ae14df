/// Floorgate's version: what `floorgate --version` prints and what the Debian package is called
/// (`make deb` reads it from the binary). Raised with each release.
enum FloorgateVersion {
    static let current = "0.9.0"
}
