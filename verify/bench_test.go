package verify

import (
	"testing"
)

// BenchmarkVerify builds the permission graph of a generated design of
// 100 entities and 1,000 bindings (compiling its policy included) and
// answers a path and a TCB question on it.
func BenchmarkVerify(b *testing.B) {
	d := newGenDesign(42, genSize{ifaces: 10, classes: 20, tasks: 100, bindings: 1000, handles: true})
	dir := b.TempDir()
	d.write(b, dir)
	b.ResetTimer()
	for b.Loop() {
		g, err := Load(dir)
		if err != nil {
			b.Fatal(err)
		}
		_ = g.Path("t0", "t99", nil)
		_ = g.Influencers("t50")
		b.ReportMetric(float64(len(g.Edges)), "edges")
	}
}
