import Foundation
import ImageIO
import Tensor

/// What the server keeps for one open page: its label map, its z, the two ends of a morph in
/// progress, and its own stream of random draws. Changed by the worker thread only, and only by
/// a request that is still its page's latest when it finishes.
struct PageState {
    /// The two latents a morph slider moves between: the z when the morph began, and a fresh
    /// draw. Any other action ends the morph; the next one starts from the z it left.
    struct Morph {
        var from: [Float]
        var to: [Float]
    }

    var label: LabelMap?
    /// z as its values (shape: the model's latent shape at batch 1).
    var z: [Float]?
    var morph: Morph?
    var random: RandomSource
}

/// One page of the browser, known by an unguessable id that the page sends with each request.
final class PageSession: @unchecked Sendable {
    let id: String
    /// The newest request number the server accepted from this page (guarded by the
    /// `InferenceQueue`'s lock, which alone reads and writes it).
    var latestRequest = 0
    /// Read and written by the worker thread only (a commit holds the queue's lock).
    var state: PageState

    init(id: String, random: RandomSource) {
        self.id = id
        state = PageState(random: random)
    }
}

/// The open pages, at most `capacity`: a new page pushes out the one used least recently,
/// whose next request then answers 404 (the page says to reload). Memory per page is a label
/// map and two or three latents (about 76 KB at the DeepFashion preset).
final class SessionStore: @unchecked Sendable {
    let capacity: Int
    private let seed: UInt64
    private let lock = NSLock()
    private var sessions: [String: (session: PageSession, used: UInt64)] = [:]
    private var clock: UInt64 = 0
    private var created: UInt64 = 0

    init(capacity: Int, seed: UInt64) {
        self.capacity = max(1, capacity)
        self.seed = seed
    }

    var count: Int { lock.withLock { sessions.count } }

    /// A new page, with random draws of its own (the seed mixed with the page's number).
    func create() -> PageSession {
        var system = SystemRandomNumberGenerator()
        let id = (0..<4).map { _ in String(format: "%08x", UInt32.random(in: .min ... .max, using: &system)) }.joined()
        return lock.withLock {
            created += 1
            let session = PageSession(id: id, random: RandomSource(seed: seed, keys: created))
            if sessions.count >= capacity, let oldest = sessions.min(by: { $0.value.used < $1.value.used })?.key {
                sessions[oldest] = nil
            }
            clock += 1
            sessions[id] = (session, clock)
            return session
        }
    }

    /// The page `id`, or 404 with a sentence.
    func session(_ id: String) throws -> PageSession {
        try lock.withLock {
            guard let entry = sessions[id] else {
                throw ServeError(
                    .notFound,
                    "There is no page session \(id.prefix(40)); reload the page "
                        + "(the server keeps the last \(capacity)).")
            }
            clock += 1
            sessions[id] = (entry.session, clock)
            return entry.session
        }
    }
}
