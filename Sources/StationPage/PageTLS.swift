public import Gateway
import HummingbirdTLS
import NIOSSL

/// The station page's TLS: the certificate chain and key `station.toml` names, read and checked
/// when the gateway starts, before anything listens, so a wrong file is named at once.
public struct PageTLS: Sendable {
    let configuration: TLSConfiguration
    /// The host names the certificate is for (its DNS subject alternative names): the page
    /// answers to them besides its address.
    let names: [String]

    /// Reads `files`: a PEM certificate chain and the PEM private key that goes with it.
    public static func load(_ files: StationConfiguration.Page.TLSFiles) throws(PageTLSError) -> PageTLS {
        let chain: [NIOSSLCertificate]
        do {
            chain = try NIOSSLCertificate.fromPEMFile(files.certificate)
        } catch {
            throw PageTLSError(key: "tls_certificate", file: files.certificate, reason: "cannot be read as a PEM certificate chain (\(error))")
        }
        guard let leaf = chain.first else {
            throw PageTLSError(key: "tls_certificate", file: files.certificate, reason: "holds no certificate")
        }
        let key: NIOSSLPrivateKey
        do {
            key = try NIOSSLPrivateKey(file: files.key, format: .pem)
        } catch {
            throw PageTLSError(key: "tls_key", file: files.key, reason: "cannot be read as a PEM private key (\(error))")
        }
        let configuration = TLSConfiguration.makeServerConfiguration(certificateChain: chain.map { .certificate($0) }, privateKey: .privateKey(key))
        do {
            _ = try NIOSSLContext(configuration: configuration)  // the key must be the certificate's
        } catch {
            throw PageTLSError(key: "tls_key", file: files.key, reason: "does not go with the certificate \(files.certificate) (\(error))")
        }
        // NIOSSL's accessor for the names is underscored (its shape may change); it is the one way in.
        let names = leaf._subjectAlternativeNames().compactMap { name -> String? in
            name.nameType == .dnsName ? String(decoding: name.contents, as: UTF8.self).lowercased() : nil
        }
        return PageTLS(configuration: configuration, names: names)
    }
}

/// Why the page's certificate or key cannot be used: the `[page]` key, its file and the reason.
public struct PageTLSError: Error, Sendable, CustomStringConvertible {
    public var key: String
    public var file: String
    public var reason: String

    public var description: String { "[page] \(key) = \(file): \(reason)" }
}
