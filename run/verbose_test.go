package run

import (
	"testing"

	"capsim/kernel"
)

func TestFormatRecord(t *testing.T) {
	code := 1
	tests := []struct {
		rec  kernel.Record
		want string
	}{
		{kernel.Record{Seq: 7, Kind: "request", Src: "client", Dst: "device-tls", Endpoint: "socket", Method: "Connect", Decision: "grant"},
			"trace      7 request  client -> device-tls socket.Connect grant"},
		{kernel.Record{Seq: 9, Kind: "error", Src: "device-tls", Dst: "client", Endpoint: "socket", Method: "Connect",
			Decision: "grant", Errno: "EACCES", LatencyNS: 1500000},
			"trace      9 error    device-tls -> client socket.Connect grant EACCES 1.5ms"},
		{kernel.Record{Seq: 3, Kind: "request", Src: "client", Dst: "kernel", Method: "Connect", Decision: "deny", Reason: "no rule"},
			"trace      3 request  client -> kernel Connect deny (no rule)"},
		{kernel.Record{Seq: 1, Kind: "execute", Src: "kernel", Dst: "client", Method: "main", Decision: "grant", PID: 42},
			"trace      1 execute  kernel -> client grant pid 42"},
		{kernel.Record{Seq: 20, Kind: "exit", Src: "client", Code: &code},
			"trace     20 exit     client code 1"},
	}
	for _, tt := range tests {
		if got := formatRecord(&tt.rec); got != tt.want {
			t.Errorf("formatRecord:\n got %q\nwant %q", got, tt.want)
		}
	}
}
