package scenario

import (
	"fmt"

	"capsim/diag"
)

// suggest returns ` (did you mean "x"?)` for the candidate closest to s,
// or "" when none is close enough.
func suggest(s string, candidates []string) string {
	best, bestDist := "", -1
	for _, c := range candidates {
		d := diag.EditDistance(s, c)
		if d <= max(2, len(s)/2) && (bestDist < 0 || d < bestDist) {
			best, bestDist = c, d
		}
	}
	if bestDist < 0 {
		return ""
	}
	return fmt.Sprintf(" (did you mean %q?)", best)
}
