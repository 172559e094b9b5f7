package vnet

import (
	"math"
	"testing"
	"time"
)

func TestParsePercent(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want float64
		ok   bool
	}{
		{"5%", 0.05, true},
		{" 0.5 % ", 0.005, true},
		{"100%", 1, true},
		{"0%", 0, true},
		{"5", 0, false},
		{"101%", 0, false},
		{"-1%", 0, false},
		{"NaN%", 0, false},
		{"%", 0, false},
		{"five%", 0, false},
	} {
		got, err := ParsePercent(tc.in)
		if (err == nil) != tc.ok || math.Abs(got-tc.want) > 1e-12 {
			t.Errorf("ParsePercent(%q) = %v, %v; want %v ok=%v", tc.in, got, err, tc.want, tc.ok)
		}
	}
}

func TestParseRate(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want uint64
		ok   bool
	}{
		{"10Mbit", 10e6, true},
		{"10mbit", 10e6, true},
		{"512kbit", 512e3, true},
		{"1Gbit", 1e9, true},
		{"2.5Gbit", 2.5e9, true},
		{"9600bit", 9600, true},
		{"100Mbps", 100e6, true},
		{"1Mbit/s", 1e6, true},
		{"10", 0, false},
		{"Mbit", 0, false},
		{"10MB", 0, false},
		{"0bit", 0, false},
		{"0.5bit", 0, false},
		{"1..2kbit", 0, false},
		{"99999999999Tbit", 0, false},
	} {
		got, err := ParseRate(tc.in)
		if (err == nil) != tc.ok || got != tc.want {
			t.Errorf("ParseRate(%q) = %v, %v; want %v ok=%v", tc.in, got, err, tc.want, tc.ok)
		}
	}
}

func TestParseDelayAndAction(t *testing.T) {
	if d, err := ParseDelay("50ms"); err != nil || d != 50*time.Millisecond {
		t.Errorf("ParseDelay(50ms) = %v, %v", d, err)
	}
	for _, bad := range []string{"-1s", "soon", ""} {
		if _, err := ParseDelay(bad); err == nil {
			t.Errorf("ParseDelay(%q) succeeded", bad)
		}
	}
	for in, want := range map[string]Action{"partition": Partition, "Heal": Heal} {
		if a, err := ParseAction(in); err != nil || a != want {
			t.Errorf("ParseAction(%q) = %v, %v", in, a, err)
		}
	}
	if _, err := ParseAction("flap"); err == nil {
		t.Error("ParseAction(flap) succeeded")
	}
}

func TestPcapPath(t *testing.T) {
	for _, tc := range []struct {
		base, seg string
		n         int
		want      string
	}{
		{"run.pcap", "wan", 1, "run.pcap"},
		{"run.pcap", "wan", 2, "run-wan.pcap"},
		{"/tmp/x/run", "lan", 3, "/tmp/x/run-lan"},
		{"a.b/run.pcapng", "lan", 2, "a.b/run-lan.pcapng"},
	} {
		if got := PcapPath(tc.base, tc.seg, tc.n); got != tc.want {
			t.Errorf("PcapPath(%q, %q, %d) = %q, want %q", tc.base, tc.seg, tc.n, got, tc.want)
		}
	}
}

func TestConfigValidate(t *testing.T) {
	for _, tc := range []struct {
		name string
		cfg  Config
	}{
		{"empty name", Config{Segments: []SegmentConfig{{}}}},
		{"twice", Config{Segments: []SegmentConfig{{Name: "a"}, {Name: "a"}}}},
		{"mtu", Config{Segments: []SegmentConfig{{Name: "a", MTU: 70000}}}},
		{"loss", Config{Segments: []SegmentConfig{{Name: "a", Impair: Impairments{Loss: 1.5}}}}},
		{"nan", Config{Segments: []SegmentConfig{{Name: "a", Impair: Impairments{Reorder: math.NaN()}}}}},
		{"delay", Config{Segments: []SegmentConfig{{Name: "a", Impair: Impairments{Delay: -1}}}}},
		{"action", Config{Segments: []SegmentConfig{{Name: "a", Schedule: []Event{{Do: 9}}}}}},
		{"buffer", Config{SocketBuffer: -1}},
	} {
		if _, err := New(tc.cfg); err == nil {
			t.Errorf("%s: New succeeded", tc.name)
		}
	}
}

func FuzzParseRate(f *testing.F) {
	for _, s := range []string{"10Mbit", "1.5kbit", "9600bit", "1Gbit/s", "x", "1e9bit", ".bit"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		r, err := ParseRate(s)
		if err == nil && r == 0 {
			t.Fatalf("ParseRate(%q) = 0 without error", s)
		}
	})
}

func FuzzParsePercent(f *testing.F) {
	for _, s := range []string{"5%", "0.5%", "100%", "1e2%", "-0%", "%"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		v, err := ParsePercent(s)
		if err == nil && !(v >= 0 && v <= 1) {
			t.Fatalf("ParsePercent(%q) = %v", s, v)
		}
	})
}
