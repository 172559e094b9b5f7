package netstack

import (
	"slices"
	"testing"
)

// TestSeedRepeatsPorts: hosts built with the same seed choose the same
// ephemeral ports, so a scenario's run repeats; another seed other ones.
func TestSeedRepeatsPorts(t *testing.T) {
	ports := func(seed int64) []uint16 {
		p := newSeededPair(t, 1500, seed)
		ctx := testCtx(t)
		var out []uint16
		for i := range 3 {
			c, _ := p.connected(t, uint16(6000+i))
			a, err := p.sa.GetSockName(ctx, 1, c)
			check(t, err)
			out = append(out, a.Port())
		}
		return out
	}
	first, again, other := ports(7), ports(7), ports(8)
	if !slices.Equal(first, again) {
		t.Errorf("seed 7 chose ports %v, then %v", first, again)
	}
	if slices.Equal(first, other) {
		t.Errorf("seeds 7 and 8 chose the same ports %v", first)
	}
}
