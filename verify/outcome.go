package verify

// outcome is the set of results a list of policy statements can produce
// for one event: no rule called, every called rule granted, or some called
// rule denied. Sets over-approximate what can happen at run time, so that
// "Grant is not possible" and "only Grant is possible" are both sound.
type outcome uint8

const (
	oNone  outcome = 1 << iota // no rule was called
	oGrant                     // at least one rule called, all granted
	oDeny                      // at least one rule called, one denied
)

// oEither is a rule whose verdict depends on the message or model state.
const oEither = oGrant | oDeny

// seq is the outcome of running a, then b.
func seq(a, b outcome) outcome {
	var out outcome
	for _, x := range [3]outcome{oNone, oGrant, oDeny} {
		if a&x == 0 {
			continue
		}
		for _, y := range [3]outcome{oNone, oGrant, oDeny} {
			if b&y == 0 {
				continue
			}
			out |= combine(x, y)
		}
	}
	return out
}

func combine(x, y outcome) outcome {
	switch {
	case x == oNone:
		return y
	case y == oNone:
		return x
	case x == oDeny || y == oDeny:
		return oDeny
	}
	return oGrant
}

// Status is what the policy says of an edge.
type Status uint8

const (
	// Never: no message in no model state is granted.
	Never Status = iota
	// May: some messages or model states are granted.
	May
	// Always: every message in every model state is granted.
	Always
)

var statusNames = [...]string{"never", "may", "always"}

func (s Status) String() string {
	if int(s) < len(statusNames) {
		return statusNames[s]
	}
	return "invalid"
}

// MarshalText writes the status's name.
func (s Status) MarshalText() ([]byte, error) { return []byte(s.String()), nil }

// status turns a decision's outcome set into an edge status.
func (o outcome) status() Status {
	switch {
	case o == oGrant:
		return Always
	case o&oGrant != 0:
		return May
	}
	return Never
}
