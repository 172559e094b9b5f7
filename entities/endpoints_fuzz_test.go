package entities

import (
	"fmt"
	"slices"
	"strings"
	"testing"
)

// FuzzParseEndpoints parses arbitrary CAPSIM_ENDPOINTS values: no panic,
// and the endpoints read, written back as the kernel writes them, read
// the same.
func FuzzParseEndpoints(f *testing.F) {
	f.Add("socket=0:capsim.Socket,file=1:capsim.File")
	f.Add("a=65536:x,b=1,=2:y,c=-1:z,d=3:e:f=g")
	f.Add("")
	f.Fuzz(func(t *testing.T, s string) {
		eps := parseEndpoints(s)
		var items []string
		for _, ep := range eps {
			if strings.ContainsAny(ep.name, ",=") || strings.Contains(ep.iface, ",") {
				t.Fatalf("%q: endpoint %+v", s, ep)
			}
			items = append(items, fmt.Sprintf("%s=%d:%s", ep.name, ep.id, ep.iface))
		}
		again := parseEndpoints(strings.Join(items, ","))
		if !slices.Equal(again, eps) {
			t.Fatalf("%q reads %+v, written back %+v", s, eps, again)
		}
	})
}
