/// When the watcher should scan next: the debounce and polling rules as a
/// pure state machine, so they are tested without a clock or a folder.
///
/// Times are durations since the watcher started.
///
/// - A debounced trigger (a file-system event, an overflow) sets the scan
///   for `debounce` after the latest one, so the burst of events one save
///   makes (create, modify, close, rename) becomes one scan; but never later
///   than `maximumDelay` after the first, so a folder that never stops
///   changing is still scanned.
/// - Any other trigger scans at once, taking the pending debounced triggers
///   with it (every scan is a full scan).
/// - While some folder cannot be watched, a poll comes every `pollInterval`.
struct ReloadSchedule: Sendable {
    let debounce: Duration
    let maximumDelay: Duration
    let pollInterval: Duration

    /// The triggers the next scan answers.
    private(set) var pending: Set<ReloadTrigger> = []
    private var firstDebounced: Duration?
    private var lastDebounced: Duration?
    private var immediateSince: Duration?
    /// When the next poll is due; nil while no folder needs polling.
    private(set) var nextPoll: Duration?

    init(debounce: Duration, maximumDelay: Duration, pollInterval: Duration) {
        self.debounce = max(debounce, .zero)
        self.maximumDelay = max(maximumDelay, self.debounce)
        self.pollInterval = max(pollInterval, .milliseconds(1))
    }

    /// Notes a trigger that arrived at `now`.
    mutating func record(_ trigger: ReloadTrigger, at now: Duration) {
        pending.insert(trigger)
        if trigger.isDebounced {
            if firstDebounced == nil { firstDebounced = now }
            lastDebounced = now
        } else if immediateSince == nil {
            immediateSince = now
        }
    }

    /// Starts polling (the first poll one interval from `now`) or stops it.
    mutating func setPolling(_ polling: Bool, at now: Duration) {
        if !polling {
            nextPoll = nil
        } else if nextPoll == nil {
            nextPoll = now + pollInterval
        }
    }

    /// When the pending triggers are due for a scan; nil when none are pending.
    var scanDeadline: Duration? {
        if let immediateSince { return immediateSince }
        guard let firstDebounced, let lastDebounced else { return nil }
        return min(lastDebounced + debounce, firstDebounced + maximumDelay)
    }

    /// The next time the watcher must look at the schedule, if any.
    var nextWake: Duration? {
        switch (scanDeadline, nextPoll) {
        case (let scan?, let poll?): min(scan, poll)
        case (let scan?, nil): scan
        case (nil, let poll?): poll
        case (nil, nil): nil
        }
    }

    /// The triggers a scan at `now` answers, or nil when no scan is due yet.
    /// A due poll is among them, and the next poll is set one interval later.
    mutating func takeDue(at now: Duration) -> Set<ReloadTrigger>? {
        if let poll = nextPoll, now >= poll {
            pending.insert(.poll)
            nextPoll = now + pollInterval
            if immediateSince == nil { immediateSince = now }
        }
        guard let deadline = scanDeadline, now >= deadline else { return nil }
        return takeAll()
    }

    /// Every pending trigger, due or not (when the watcher stops), or nil.
    mutating func takeAll() -> Set<ReloadTrigger>? {
        guard !pending.isEmpty else { return nil }
        defer {
            pending = []
            firstDebounced = nil
            lastDebounced = nil
            immediateSince = nil
        }
        return pending
    }
}
