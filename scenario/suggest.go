package scenario

import (
	"fmt"

	"capsim/diag"
)

// suggest returns ` (did you mean "x"?)` for the candidate closest to s,
// or "" when none is close enough.
func suggest(s string, candidates []string) string {
	if best, ok := diag.Closest(s, candidates); ok {
		return fmt.Sprintf(" (did you mean %q?)", best)
	}
	return ""
}
