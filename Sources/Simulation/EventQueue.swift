import HeapModule

/// What the simulator does at an instant. Small and trivially copyable: a run
/// pushes and pops millions of them.
struct ScheduledEvent: Comparable {
    enum Kind: UInt8 {
        /// A request arrives at pipeline `a` (`c == 1`), or its rate is looked at again (`c == 0`).
        case arrival
        /// Backend `a` finished serving call `c`'s attempt `token`, successfully.
        case served
        /// Backend `a` finished serving call `c`'s attempt `token`, with an error.
        case servedWithError
        /// Call `c`'s attempt `token` reached its deadline.
        case deadline
        /// Call `c` finished backing off (`token`).
        case backoffOver
        /// Call `c` waited in the bulkhead queue as long as it may (`token`).
        case queueTimeout
        /// The scripts fall due.
        case scriptTick
        /// A shadow trial falls due.
        case trialTick
        /// Scenario event number `a`.
        case scenarioEvent
        /// A `stats` sample.
        case sample
        /// A fleet's slice `a` ended: every instance alive writes its report.
        case fleetSlice
        /// The leader merges the reports written since it last did.
        case fleetMerge
        /// A dead leader's lease ran out: the next instance leads.
        case fleetElection
    }

    var time: Int64
    /// Breaks ties: events at the same instant run in the order they were scheduled.
    var sequence: UInt64
    var kind: Kind
    var a: Int32
    var c: Int32
    var token: UInt32

    static func < (lhs: ScheduledEvent, rhs: ScheduledEvent) -> Bool {
        lhs.time != rhs.time ? lhs.time < rhs.time : lhs.sequence < rhs.sequence
    }

    static func == (lhs: ScheduledEvent, rhs: ScheduledEvent) -> Bool {
        lhs.time == rhs.time && lhs.sequence == rhs.sequence
    }
}

/// The discrete-event queue: a binary heap ordered by (time, sequence).
struct EventQueue {
    private var heap = Heap<ScheduledEvent>()
    private var sequence: UInt64 = 0

    var isEmpty: Bool { heap.isEmpty }

    mutating func schedule(_ kind: ScheduledEvent.Kind, at time: Int64, a: Int32 = 0, c: Int32 = 0, token: UInt32 = 0) {
        sequence &+= 1
        heap.insert(ScheduledEvent(time: time, sequence: sequence, kind: kind, a: a, c: c, token: token))
    }

    mutating func next() -> ScheduledEvent? { heap.popMin() }

    var nextTime: Int64? { heap.min?.time }
}
