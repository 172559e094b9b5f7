package policy
import "testing"
func BenchmarkMicroLookup(b *testing.B) {
	p, ev := benchPolicy(b, 1000)
	for b.Loop() { p.lookup(ev) }
}
func BenchmarkMicroRule(b *testing.B) {
	p, ev := benchPolicy(b, 1000)
	bs := p.lookup(ev)
	f := &frame{ev: ev}
	for b.Loop() { f.rules = f.rbuf[:0]; bs[0].body[0].run(f) }
}
func BenchmarkMicroMap(b *testing.B) {
	m := map[int]int{1:1}
	x := 0
	for b.Loop() { x += m[1] }
}
