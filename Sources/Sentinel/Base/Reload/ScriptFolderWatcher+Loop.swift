import Dispatch
import Logging
import ServiceLifecycle
import UnixSignals

extension ScriptFolderWatcher {
    /// The one loop behind both `run` methods.
    ///
    /// Every source (inotify's Dispatch handler, `SIGHUP` through a
    /// `UnixSignalsSequence` child task, the
    /// pushed triggers, `reloadNow()`, timers) only yields an ``Event`` into
    /// one inbox; this loop alone owns the schedule, the watch table and the
    /// scans, so none of them needs a lock. Timers are child tasks that sleep
    /// until a deadline and post `.timer`: while inotify watches every folder
    /// and nothing happens, no timer exists and nothing wakes up.
    func runLoop<C: Clock>(
        clock: C, automatic: Bool,
        pump: (@Sendable (AsyncStream<Event>.Continuation) async -> Void)?,
        onChange: @escaping @Sendable ([ScriptFolderChange]) async -> Void
    ) async where C.Duration == Duration {
        guard !Task.isCancelled else { return }
        let (inbox, continuation) = AsyncStream.makeStream(of: Event.self)
        let started = state.withLock { state -> Bool in
            guard state.inbox == nil else { return false }
            state.inbox = continuation
            return true
        }
        guard started else {
            logger.error("ScriptFolderWatcher.run called while it is already running; ignoring the second call")
            return
        }

        var session = WatchSession(watcher: self, clock: clock, inbox: continuation)
        if automatic { session.start() }
        defer {
            session.stop()
            let waiters = state.withLock { state in
                state.inbox = nil
                state.polledFolders = [:]
                defer { state.waiters = [:] }
                return Array(state.waiters.values)
            }
            continuation.finish()
            for waiter in waiters { waiter.resume(returning: false) }
        }

        await withDiscardingTaskGroup { group in
            if automatic, configuration.reloadsOnHangup {
                group.addTask {
                    for await _ in await UnixSignalsSequence(trapping: .sighup) {
                        continuation.yield(.trigger(.hangup))
                    }
                }
            }
            if let pump {
                group.addTask {
                    await pump(continuation)
                    continuation.yield(.triggersFinished)
                }
            }
            await session.scan(answering: [], onChange: onChange)
            armTimer(in: &group, session: &session, clock: clock)

            events: for await event in inbox.cancelOnGracefulShutdown() {
                if session.handle(event) == .finish {
                    if let pending = session.schedule.takeAll() {
                        await session.scan(answering: pending, onChange: onChange)
                    }
                    break events
                }
                while let due = session.schedule.takeDue(at: session.now) {
                    if due.contains(.poll) { session.pollTick() }
                    await session.scan(answering: due, onChange: onChange)
                }
                armTimer(in: &group, session: &session, clock: clock)
            }
            group.cancelAll()
        }
    }

    /// Starts a timer task for the schedule's next deadline, unless one
    /// already sleeps until then or earlier.
    private func armTimer<C: Clock>(
        in group: inout DiscardingTaskGroup, session: inout WatchSession<C>, clock: C
    ) where C.Duration == Duration {
        guard let wake = session.timerToArm() else { return }
        let deadline = session.origin.advanced(by: wake)
        let inbox = session.inbox
        group.addTask {
            // Cancellation ends the sleep early; the loop is gone by then.
            try? await clock.sleep(until: deadline, tolerance: nil)
            inbox.yield(.timer(wake))
        }
    }

    /// Scans on the scan queue, off the cooperative pool.
    func scanOffPool() async -> [ScriptFolderChange] {
        await withCheckedContinuation { continuation in
            scanQueue.async { continuation.resume(returning: self.scanner.scan()) }
        }
    }
}
