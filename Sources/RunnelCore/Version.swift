/// Runnel's release version: what `runnel --version` prints and what the client sends as its
/// software version in ApiVersions (KIP-511). Bumped by hand at a release.
public enum RunnelVersion {
    public static let current = "0.1.0"
}
