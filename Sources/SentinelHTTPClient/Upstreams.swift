/// The base URLs requests are sent to: one for every call, or one per
/// traffic-split variant.
struct Upstreams: Sendable {
    /// The base URL of every call, when there is one upstream.
    let single: String?
    /// The base URL of each variant, when there is one per variant.
    let byVariant: [String: String]

    /// One upstream for every call.
    init(single url: String, pipeline: String) throws(PipelineHTTPClientError) {
        single = try Self.normalized(url, for: "upstream", pipeline: pipeline)
        byVariant = [:]
    }

    /// One upstream per variant of the split: every variant needs one, and every name must be a variant.
    init(byVariant urls: [String: String], variants: [String], pipeline: String) throws(PipelineHTTPClientError) {
        if variants.isEmpty {
            throw PipelineHTTPClientError(
                .unknownVariant,
                "\(pipeline): upstreams per variant (\(urls.keys.sorted().joined(separator: ", "))) need a TrafficSplit "
                    + "in the pipeline; give one upstream instead (upstream:)")
        }
        for name in urls.keys.sorted() where !variants.contains(name) {
            throw PipelineHTTPClientError(
                .unknownVariant,
                "\(pipeline): upstream \"\(name)\" names no variant of the split (\(variants.joined(separator: ", ")))")
        }
        var normalized: [String: String] = [:]
        for variant in variants {
            guard let url = urls[variant] else {
                throw PipelineHTTPClientError(.missingUpstream, "\(pipeline): variant \"\(variant)\" has no upstream")
            }
            normalized[variant] = try Self.normalized(url, for: "upstream \"\(variant)\"", pipeline: pipeline)
        }
        single = nil
        byVariant = normalized
    }

    /// The base URL for a call routed to `variant`.
    @inline(__always)
    func base(for variant: String?) -> String? {
        if let single { return single }
        return variant.flatMap { byVariant[$0] }
    }

    /// `url` without a trailing `/`, once checked to be an `http` or `https` URL with a host
    /// and neither query nor fragment.
    static func normalized(_ url: String, for what: String, pipeline: String) throws(PipelineHTTPClientError) -> String {
        let lowered = url.lowercased()
        let scheme = lowered.hasPrefix("http://") ? "http://" : lowered.hasPrefix("https://") ? "https://" : nil
        guard let scheme else {
            throw PipelineHTTPClientError(.invalidURL, "\(pipeline): \(what) \"\(url)\" is not an http or https URL")
        }
        let rest = url.dropFirst(scheme.count)
        let host = rest.prefix { $0 != "/" }
        guard !host.isEmpty, !url.contains("?"), !url.contains("#") else {
            throw PipelineHTTPClientError(
                .invalidURL, "\(pipeline): \(what) \"\(url)\" needs a host, and no query or fragment")
        }
        var base = Substring(url)
        while base.hasSuffix("/") { base.removeLast() }
        return String(base)
    }
}
