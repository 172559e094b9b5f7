package policy

import (
	"capsim/diag"
	"sort"
	"strings"
)

// suggest returns "did you mean X?" for the closest of names to s, or a
// neutral note when none is close.
func suggest(s string, names []string) string {
	best, bestD := "", 1<<30
	for _, n := range names {
		if d := diag.EditDistance(strings.ToLower(s), strings.ToLower(n)); d < bestD || d == bestD && n < best {
			best, bestD = n, d
		}
	}
	if best == "" || bestD > (len(s)+2)/3+1 {
		if len(names) == 0 {
			return "none is known"
		}
		if len(names) <= 8 {
			sort.Strings(names)
			return "known: " + strings.Join(names, ", ")
		}
		return "no similar name"
	}
	return "did you mean " + best + "?"
}

func keys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
