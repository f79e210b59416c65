/// A knob change or lookup that was refused; nothing was changed.
public struct KnobError: Error, Sendable, Hashable, CustomStringConvertible {
    /// Why a change was refused.
    public struct Code: Sendable, Hashable, CustomStringConvertible {
        private let raw: String
        private init(_ raw: String) { self.raw = raw }
        /// No knob has this name.
        public static let unknownKnob = Code("unknown_knob")
        /// The name is not `<pipeline>.<policy>.<knob>`.
        public static let malformedName = Code("malformed_name")
        /// The value is NaN.
        public static let notANumber = Code("not_a_number")
        /// The value is infinite.
        public static let notFinite = Code("not_finite")
        /// A duration below zero.
        public static let negativeDuration = Code("negative_duration")
        /// A capacity of zero.
        public static let zeroCapacity = Code("zero_capacity")
        /// Outside the knob's bounds.
        public static let outOfBounds = Code("out_of_bounds")
        /// A traffic weight outside `0...100`.
        public static let weightOutOfRange = Code("weight_out_of_range")
        /// A fractional value for a whole-number knob.
        public static let notAnInteger = Code("not_an_integer")
        /// The knob's own validator refused the value.
        public static let rejectedByValidator = Code("rejected_by_validator")
        /// The knob cannot have a shadow value (traffic split weights).
        public static let notShadowable = Code("not_shadowable")
        /// Promote was asked for a knob without a shadow value.
        public static let noShadow = Code("no_shadow")
        /// A knob or pipeline with this name already exists.
        public static let duplicateName = Code("duplicate_name")
        /// A duration string could not be read.
        public static let invalidDuration = Code("invalid_duration")
        /// A pipeline has more knobs than a configuration can hold.
        public static let tooManyKnobs = Code("too_many_knobs")
        /// The registry is attached to a control plane: its knobs change only through it.
        public static let attached = Code("attached")
        /// The code as a snake_case string.
        public var description: String { raw }
    }

    /// Why the change was refused.
    public var code: Code
    /// The knob's full name (or the text that was not a name).
    public var knob: String
    /// A message that names the knob and the reason.
    public var message: String

    /// Makes an error.
    public init(_ code: Code, knob: String, _ message: String) {
        self.code = code
        self.knob = knob
        self.message = message
    }

    /// The message.
    public var description: String { message }
}
