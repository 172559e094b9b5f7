package vnet

import (
	"bytes"
	"crypto/sha256"
	"errors"
	"io"
	"math/rand/v2"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"gvisor.dev/gvisor/pkg/tcpip/adapters/gonet"
)

// listenSim listens for TCP on a simulated host.
func listenSim(t testing.TB, h *simHost, ap string) *gonet.TCPListener {
	t.Helper()
	full, proto := fullAddr(netip.MustParseAddrPort(ap))
	l, err := gonet.ListenTCP(h.st, full, proto)
	if err != nil {
		t.Fatalf("listen %s: %v", ap, err)
	}
	t.Cleanup(func() { l.Close() })
	return l
}

func dialSim(t testing.TB, h *simHost, ap string) *gonet.TCPConn {
	t.Helper()
	full, proto := fullAddr(netip.MustParseAddrPort(ap))
	c, err := gonet.DialTCP(h.st, full, proto)
	if err != nil {
		t.Fatalf("dial %s: %v", ap, err)
	}
	return c
}

// serveSink accepts one connection, reads it to the end and sends back the
// SHA-256 of what it read.
func serveSink(l net.Listener) <-chan error {
	errc := make(chan error, 1)
	go func() {
		c, err := l.Accept()
		if err != nil {
			errc <- err
			return
		}
		defer c.Close()
		h := sha256.New()
		if _, err := io.Copy(h, c); err != nil {
			errc <- err
			return
		}
		_, err = c.Write(h.Sum(nil))
		errc <- err
	}()
	return errc
}

// transfer sends data over c, half-closes, and checks the peer's digest.
func transfer(t testing.TB, c *gonet.TCPConn, data []byte, errc <-chan error) {
	t.Helper()
	transferWithin(t, c, data, errc, guard)
}

func transferWithin(t testing.TB, c *gonet.TCPConn, data []byte, errc <-chan error, limit time.Duration) {
	t.Helper()
	c.SetDeadline(time.Now().Add(limit))
	if _, err := c.Write(data); err != nil {
		t.Fatalf("write: %v", err)
	}
	if err := c.CloseWrite(); err != nil {
		t.Fatalf("close write: %v", err)
	}
	sum, err := io.ReadAll(c)
	if err != nil {
		t.Fatalf("read digest: %v", err)
	}
	if err := <-errc; err != nil {
		t.Fatalf("server: %v", err)
	}
	want := sha256.Sum256(data)
	if !bytes.Equal(sum, want[:]) {
		t.Fatalf("digest mismatch")
	}
	c.Close()
}

func randomBytes(n int, seed uint64) []byte {
	r := rand.New(rand.NewPCG(seed, seed))
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(r.Uint32())
	}
	return b
}

func TestTCPThroughSwitch(t *testing.T) {
	v4 := [3]string{"10.0.0.1/24", "10.0.0.2/24", "10.0.0.2:80"}
	v6 := [3]string{"fd00::1/64", "fd00::2/64", "[fd00::2]:80"}
	for _, tc := range []struct {
		name  string
		addrs [3]string
		im    Impairments
	}{
		{"clean", v4, Impairments{}},
		{"ipv6", v6, Impairments{}},
		{"lossy", v4, Impairments{Loss: 0.05, Delay: 5e6, Jitter: 1e6}},
		{"rate", v4, Impairments{Rate: 100e6}},
		{"duplicate-reorder", v6, Impairments{Duplicate: 0.05, Reorder: 0.05}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			n := startNet(t, oneSegment(tc.im))
			a := addSimHost(t, n, "lan", "a", tc.addrs[0], 1)
			b := addSimHost(t, n, "lan", "b", tc.addrs[1], 2)
			errc := serveSink(listenSim(t, b, tc.addrs[2]))
			transfer(t, dialSim(t, a, tc.addrs[2]), randomBytes(512<<10, 1), errc)
			st := stats(t, n, "lan")
			if tc.im.Loss > 0 && st.Lost == 0 {
				t.Errorf("5%% loss, nothing lost: %+v", st)
			}
			if tc.im.Duplicate > 0 && (st.Duplicated == 0 || st.Reordered == 0) {
				t.Errorf("nothing duplicated or reordered: %+v", st)
			}
			if st.Delivered == 0 {
				t.Errorf("nothing delivered: %+v", st)
			}
		})
	}
}

func TestCaptureAndContains(t *testing.T) {
	dir := t.TempDir()
	base := filepath.Join(dir, "cap.pcap")
	cfg := Config{Seed: 1, Pcap: base, Segments: []SegmentConfig{{Name: "lan"}, {Name: "wan"}}}
	n := startNet(t, cfg)
	a := addSimHost(t, n, "wan", "a", "10.0.0.1/24", 1)
	b := addSimHost(t, n, "wan", "b", "10.0.0.2/24", 2)
	errc := serveSink(listenSim(t, b, "10.0.0.2:80"))
	secret := []byte("GET /capsim-secret HTTP/1.0\r\n\r\n")
	transfer(t, dialSim(t, a, "10.0.0.2:80"), secret, errc)

	for _, tc := range []struct {
		seg    string
		needle string
		want   bool
	}{
		{"wan", "GET /capsim-secret", true},
		{"wan", "never sent", false},
		{"lan", "GET /", false},
	} {
		got, err := n.Contains(tc.seg, []byte(tc.needle))
		if err != nil || got != tc.want {
			t.Errorf("Contains(%s, %q) = %v, %v; want %v", tc.seg, tc.needle, got, err, tc.want)
		}
	}
	if _, err := n.Contains("nope", nil); err == nil {
		t.Error("Contains on an unknown segment succeeded")
	}
	if err := n.Flush(); err != nil {
		t.Fatal(err)
	}
	wan := filepath.Join(dir, "cap-wan.pcap")
	pkts := readPcapFile(t, wan)
	var tcpFrames, withSecret int
	for _, p := range pkts {
		if len(p.Data) > 23 && p.Data[12] == 0x08 && p.Data[13] == 0 && p.Data[23] == 6 {
			tcpFrames++
		}
		if bytes.Contains(p.Data, secret) {
			withSecret++
		}
	}
	if tcpFrames < 6 || withSecret == 0 {
		t.Errorf("capture: %d frames, %d TCP, %d with the request", len(pkts), tcpFrames, withSecret)
	}
	if lan := readPcapFile(t, filepath.Join(dir, "cap-lan.pcap")); len(lan) != 0 {
		t.Errorf("lan capture has %d frames, want 0", len(lan))
	}
	checkTcpdump(t, wan, len(pkts))
}

func readPcapFile(t testing.TB, path string) []Packet {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	pr, err := NewPcapReader(f)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	if pr.LinkType != pcapLinkEther {
		t.Fatalf("%s: link type %d", path, pr.LinkType)
	}
	var out []Packet
	for {
		p, err := pr.Next()
		if errors.Is(err, io.EOF) {
			return out
		}
		if err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		out = append(out, p)
	}
}

// checkTcpdump has tcpdump read the capture, when tcpdump is installed.
func checkTcpdump(t *testing.T, path string, frames int) {
	tool, err := exec.LookPath("tcpdump")
	if err != nil {
		t.Log("tcpdump not installed; skipping the standard-reader check")
		return
	}
	out, err := exec.Command(tool, "-nn", "-r", path).CombinedOutput()
	if err != nil {
		t.Fatalf("tcpdump -r: %v\n%s", err, out)
	}
	lines := bytes.Count(out, []byte("\n"))
	if lines < frames || !bytes.Contains(out, []byte("10.0.0.1.")) || !bytes.Contains(out, []byte("10.0.0.2.80")) {
		t.Errorf("tcpdump shows %d lines for %d frames:\n%s", lines, frames, out)
	}
}

func TestRecordTruncated(t *testing.T) {
	cfg := oneSegment(Impairments{})
	cfg.RecordCap = 100
	n := startNet(t, cfg)
	a := addRawPort(t, n, "lan", "a", 1)
	b := addRawPort(t, n, "lan", "b", 2)
	a.send(broadcast, 0x41424344, 80) // "ABCD" at offset 14
	a.send(broadcast, 2, 80)
	b.recv()
	b.recv()
	if ok, err := n.Contains("lan", []byte("ABCD")); !ok || err != nil {
		t.Errorf("Contains(ABCD) = %v, %v; want true", ok, err)
	}
	ok, err := n.Contains("lan", []byte("absent"))
	if ok || !errors.Is(err, ErrTruncated) {
		t.Errorf("Contains(absent) = %v, %v; want false, ErrTruncated", ok, err)
	}
}

func sha256Sum(b []byte) []byte {
	s := sha256.Sum256(b)
	return s[:]
}
