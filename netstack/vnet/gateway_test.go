package vnet

import (
	"bytes"
	"io"
	"net"
	"net/netip"
	"strings"
	"testing"
	"time"
)

func TestHighestHost(t *testing.T) {
	for _, tc := range []struct{ prefix, want string }{
		{"10.0.0.0/24", "10.0.0.254"},
		{"10.0.0.7/24", "10.0.0.254"},
		{"192.168.0.0/16", "192.168.255.254"},
		{"10.0.0.0/30", "10.0.0.2"},
		{"fd00::1/64", "fd00::ffff:ffff:ffff:ffff"},
		{"10.0.0.0/31", ""},
		{"10.0.0.1/32", ""},
	} {
		got, err := HighestHost(netip.MustParsePrefix(tc.prefix))
		if tc.want == "" {
			if err == nil {
				t.Errorf("HighestHost(%s) = %v, want error", tc.prefix, got)
			}
			continue
		}
		if err != nil || got.String() != tc.want {
			t.Errorf("HighestHost(%s) = %v, %v; want %s", tc.prefix, got, err, tc.want)
		}
	}
}

func TestGatewayRejectsNonLoopback(t *testing.T) {
	n := startNet(t, Config{Segments: []SegmentConfig{{Name: "lan", Subnets: []netip.Prefix{netip.MustParsePrefix("10.0.0.0/24")}}}})
	sim := netip.MustParseAddrPort("10.0.0.1:80")
	src := []netip.Prefix{netip.MustParsePrefix("10.0.0.1/32")}
	for _, tc := range []struct {
		name string
		cfg  GatewayConfig
		want string
	}{
		{"forward listen", GatewayConfig{Forwards: []Forward{{Listen: netip.MustParseAddrPort("0.0.0.0:8443"), To: sim}}}, "loopback"},
		{"forward listen v6", GatewayConfig{Forwards: []Forward{{Listen: netip.MustParseAddrPort("[fd00::1]:8443"), To: sim}}}, "loopback"},
		{"egress to", GatewayConfig{Egresses: []Egress{{Address: netip.MustParseAddrPort("10.0.0.250:4433"), To: netip.MustParseAddrPort("192.0.2.1:4433"), Sources: src}}}, "loopback"},
		{"egress no sources", GatewayConfig{Egresses: []Egress{{Address: netip.MustParseAddrPort("10.0.0.250:4433"), To: netip.MustParseAddrPort("127.0.0.1:4433")}}}, "no source"},
		{"egress loopback address", GatewayConfig{Egresses: []Egress{{Address: netip.MustParseAddrPort("127.0.0.2:4433"), To: netip.MustParseAddrPort("127.0.0.1:4433"), Sources: src}}}, "simulated"},
		{"unknown segment", GatewayConfig{Segment: "wan"}, "unknown segment"},
	} {
		_, err := n.AddGateway(tc.cfg)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: err = %v, want %q", tc.name, err, tc.want)
		}
	}
}

// gatewayNet is one segment 10.0.0.0/24 with a simulated host at .1.
func gatewayNet(t *testing.T) (*Network, *simHost) {
	cfg := Config{Seed: 1, Segments: []SegmentConfig{{Name: "lan", Subnets: []netip.Prefix{netip.MustParsePrefix("10.0.0.0/24")}}}}
	n := startNet(t, cfg)
	return n, addSimHost(t, n, "lan", "device", "10.0.0.1/24", 1)
}

func TestForwardReachesSimulatedServer(t *testing.T) {
	n, dev := gatewayNet(t)
	errc := serveSink(listenSim(t, dev, "10.0.0.1:443"))
	gw, err := n.AddGateway(GatewayConfig{Forwards: []Forward{{
		Listen: netip.MustParseAddrPort("127.0.0.1:0"),
		To:     netip.MustParseAddrPort("10.0.0.1:443"),
	}}})
	if err != nil {
		t.Fatal(err)
	}
	if got := gw.Address().String(); got != "10.0.0.254/24" {
		t.Errorf("gateway address %s, want the highest host 10.0.0.254/24", got)
	}
	c, err := net.Dial("tcp", gw.ForwardAddrs()[0].String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	data := randomBytes(256<<10, 2)
	realTransfer(t, c.(*net.TCPConn), data, errc)
	if ok, _ := n.Contains("lan", data[:64]); !ok {
		t.Error("the forwarded bytes did not cross the simulated segment")
	}
}

// realTransfer is transfer over a real connection.
func realTransfer(t *testing.T, c *net.TCPConn, data []byte, errc <-chan error) {
	t.Helper()
	c.SetDeadline(time.Now().Add(guard))
	if _, err := c.Write(data); err != nil {
		t.Fatalf("write: %v", err)
	}
	if err := c.CloseWrite(); err != nil {
		t.Fatal(err)
	}
	sum, err := io.ReadAll(c)
	if err != nil {
		t.Fatalf("read: %v", err)
	}
	if err := <-errc; err != nil {
		t.Fatalf("server: %v", err)
	}
	if want := sha256Sum(data); !bytes.Equal(sum, want) {
		t.Fatal("digest mismatch through the forward")
	}
}

func TestEgressReachesRealServer(t *testing.T) {
	n, dev := gatewayNet(t)
	stranger := addSimHost(t, n, "lan", "stranger", "10.0.0.2/24", 2)
	real, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer real.Close()
	_, err = n.AddGateway(GatewayConfig{Egresses: []Egress{{
		Address: netip.MustParseAddrPort("10.0.0.250:4433"),
		To:      real.Addr().(*net.TCPAddr).AddrPort(),
		Sources: []netip.Prefix{netip.MustParsePrefix("10.0.0.1/32")},
	}}})
	if err != nil {
		t.Fatal(err)
	}

	// A host not on the list is reset and the real server never sees a
	// connection (serveSink would take it first and the transfer below
	// would fail).
	c := dialSim(t, stranger, "10.0.0.250:4433")
	c.SetDeadline(time.Now().Add(guard))
	if got, err := io.ReadAll(c); len(got) != 0 || err == nil || !strings.Contains(err.Error(), "reset") {
		t.Errorf("stranger read %q, %v; want a reset", got, err)
	}
	c.Close()

	errc := serveSink(real)
	data := randomBytes(300<<10, 3)
	transfer(t, dialSim(t, dev, "10.0.0.250:4433"), data, errc)
	if ok, _ := n.Contains("lan", data[1000:1064]); !ok {
		t.Error("the egress bytes did not cross the simulated segment")
	}
}

func TestCloseEndsGatewayConnections(t *testing.T) {
	cfg := Config{Segments: []SegmentConfig{{Name: "lan"}}}
	n := startNet(t, cfg)
	// The host outlives the network's Close: it needs the Readv dispatcher.
	dev := addSimHostMode(t, n, "lan", "device", "10.0.0.1/24", 1, true)
	l := listenSim(t, dev, "10.0.0.1:7")
	go func() { // echo
		c, err := l.Accept()
		if err == nil {
			io.Copy(c, c)
			c.Close()
		}
	}()
	gw, err := n.AddGateway(GatewayConfig{
		Address:  netip.MustParsePrefix("10.0.0.9/24"),
		Forwards: []Forward{{Listen: netip.MustParseAddrPort("127.0.0.1:0"), To: netip.MustParseAddrPort("10.0.0.1:7")}},
	})
	if err != nil {
		t.Fatal(err)
	}
	c, err := net.Dial("tcp", gw.ForwardAddrs()[0].String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(guard))
	buf := make([]byte, 5)
	if _, err := c.Write([]byte("hello")); err != nil {
		t.Fatal(err)
	}
	if _, err := io.ReadFull(c, buf); err != nil || string(buf) != "hello" {
		t.Fatalf("echo: %q, %v", buf, err)
	}
	if err := n.Close(); err != nil {
		t.Fatal(err)
	}
	if k, err := c.Read(buf); err == nil {
		t.Fatalf("read %d bytes after Close, want an error", k)
	}
	if _, err := net.Dial("tcp", gw.ForwardAddrs()[0].String()); err == nil {
		t.Error("the forward still listens after Close")
	}
}
