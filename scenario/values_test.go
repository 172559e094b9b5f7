package scenario

import (
	"testing"
	"time"
)

func TestParseSize(t *testing.T) {
	tests := []struct {
		in   string
		want Size
		ok   bool
	}{
		{"4MiB", 4 << 20, true},
		{"512KiB", 512 << 10, true},
		{"64MiB", 64 << 20, true},
		{"1GiB", 1 << 30, true},
		{"1.5KiB", 1536, true},
		{"64KB", 64000, true},
		{"64kB", 64000, true},
		{"2MB", 2000000, true},
		{"1024", 1024, true},
		{"1024B", 1024, true},
		{" 4 MiB ", 4 << 20, true},
		{"0.3B", 0, false},
		{"-1MiB", 0, false},
		{"MiB", 0, false},
		{"4 parsecs", 0, false},
		{"1e3", 0, false},
		{"NaN", 0, false},
		{"99999999999TiB", 0, false},
	}
	for _, tt := range tests {
		got, err := ParseSize(tt.in)
		if (err == nil) != tt.ok || got != tt.want {
			t.Errorf("ParseSize(%q) = %d, %v; want %d, ok=%v", tt.in, got, err, tt.want, tt.ok)
		}
	}
}

func TestParseRate(t *testing.T) {
	tests := []struct {
		in   string
		want Rate
		ok   bool
	}{
		{"10Mbit", 10_000_000, true},
		{"512kbit", 512_000, true},
		{"1Gbit", 1_000_000_000, true},
		{"800bit", 800, true},
		{"1.5Mbit", 1_500_000, true},
		{"10", 0, false},
		{"10Mbps", 0, false},
		{"-1Mbit", 0, false},
	}
	for _, tt := range tests {
		got, err := ParseRate(tt.in)
		if (err == nil) != tt.ok || got != tt.want {
			t.Errorf("ParseRate(%q) = %d, %v; want %d, ok=%v", tt.in, got, err, tt.want, tt.ok)
		}
	}
}

func TestParseRatio(t *testing.T) {
	tests := []struct {
		in   string
		max  float64
		want Ratio
		ok   bool
	}{
		{"5%", 100, 0.05, true},
		{"0%", 100, 0, true},
		{"100%", 100, 1, true},
		{"12.5%", 100, 0.125, true},
		{"150%", 0, 1.5, true},
		{"150%", 100, 0, false},
		{"5", 100, 0, false},
		{"-1%", 100, 0, false},
		{"x%", 100, 0, false},
	}
	for _, tt := range tests {
		got, err := ParseRatio(tt.in, tt.max)
		if (err == nil) != tt.ok || got != tt.want {
			t.Errorf("ParseRatio(%q, %g) = %g, %v; want %g, ok=%v", tt.in, tt.max, got, err, tt.want, tt.ok)
		}
	}
}

func TestParseDuration(t *testing.T) {
	tests := []struct {
		in     string
		signed bool
		want   time.Duration
		ok     bool
	}{
		{"50ms", false, 50 * time.Millisecond, true},
		{"2s", false, 2 * time.Second, true},
		{"1h30m", false, 90 * time.Minute, true},
		{"-1h", true, -time.Hour, true},
		{"+1h", true, time.Hour, true},
		{"-1h", false, 0, false},
		{"+1h", false, 0, false},
		{"30", false, 0, false},
	}
	for _, tt := range tests {
		got, err := ParseDuration(tt.in, tt.signed)
		if (err == nil) != tt.ok || got != tt.want {
			t.Errorf("ParseDuration(%q, %v) = %v, %v; want %v, ok=%v", tt.in, tt.signed, got, err, tt.want, tt.ok)
		}
	}
}

func TestParseHostPort(t *testing.T) {
	tests := []struct {
		in   string
		want HostPort
		ok   bool
	}{
		{"cloud:443", HostPort{"cloud", 443}, true},
		{"my-host:1", HostPort{"my-host", 1}, true},
		{"cloud", HostPort{}, false},
		{"cloud:0", HostPort{}, false},
		{"cloud:70000", HostPort{}, false},
		{"10.0.0.1:80", HostPort{}, false},
		{":80", HostPort{}, false},
	}
	for _, tt := range tests {
		got, err := ParseHostPort(tt.in)
		if (err == nil) != tt.ok || got != tt.want {
			t.Errorf("ParseHostPort(%q) = %v, %v; want %v, ok=%v", tt.in, got, err, tt.want, tt.ok)
		}
	}
	if s := (HostPort{"cloud", 443}).String(); s != "cloud:443" {
		t.Errorf("String() = %q", s)
	}
}

func TestSuggest(t *testing.T) {
	tests := []struct {
		in   string
		cand []string
		want string
	}{
		{"adress", []string{"name", "addresses", "routes"}, ` (did you mean "addresses"?)`},
		{"sever", []string{"server", "client"}, ` (did you mean "server"?)`},
		{"tsak", []string{"task", "class"}, ` (did you mean "task"?)`},
		{"zzzzzz", []string{"task", "class"}, ""},
		{"x", nil, ""},
	}
	for _, tt := range tests {
		if got := suggest(tt.in, tt.cand); got != tt.want {
			t.Errorf("suggest(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}
