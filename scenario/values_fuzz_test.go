package scenario

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"testing"

	"capsim/diag"
)

// FuzzValues parses one string as every kind of scenario value. Nothing
// may panic; an error must quote the input; a value must be in range and,
// written back in its plainest form, parse to itself.
func FuzzValues(f *testing.F) {
	for _, s := range []string{"4MiB", "512KiB", " 64 MB ", "1024", "1.5KiB", "10Mbit", "800bit", "5%", "12.5%",
		"150%", "50ms", "-1h", "+1h", "cloud:443", "a.b-c:1", ":80", "1e3B", "NaN%", "9223372036854775807B"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		quoted := func(err error) {
			if !strings.Contains(err.Error(), strconv.Quote(s)) {
				t.Fatalf("error %q does not quote the input %q", err, s)
			}
		}
		if v, err := ParseSize(s); err != nil {
			quoted(err)
		} else if v < 0 {
			t.Fatalf("ParseSize(%q) = %d", s, v)
		} else if w, err := ParseSize(strconv.FormatInt(int64(v), 10)); err != nil || w != v {
			t.Fatalf("ParseSize(%q) = %d, but %d parses to %d, %v", s, v, v, w, err)
		}
		if v, err := ParseRate(s); err != nil {
			quoted(err)
		} else if v <= 0 {
			t.Fatalf("ParseRate(%q) = %d", s, v)
		} else if w, err := ParseRate(fmt.Sprintf("%dbit", v)); err != nil || w != v {
			t.Fatalf("ParseRate(%q) = %d, but %dbit parses to %d, %v", s, v, v, w, err)
		}
		for _, max := range []float64{0, 100} {
			if v, err := ParseRatio(s, max); err != nil {
				quoted(err)
			} else if v < 0 || math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) || max > 0 && float64(v) > max/100 {
				t.Fatalf("ParseRatio(%q, %g) = %g", s, max, v)
			}
		}
		for _, signed := range []bool{false, true} {
			if d, err := ParseDuration(s, signed); err != nil {
				quoted(err)
			} else if !signed && d < 0 {
				t.Fatalf("ParseDuration(%q, false) = %v", s, d)
			} else if e, err := ParseDuration(d.String(), true); err != nil || e != d {
				t.Fatalf("ParseDuration(%q) = %v, but %q parses to %v, %v", s, d, d.String(), e, err)
			}
		}
		if hp, err := ParseHostPort(s); err != nil {
			quoted(err)
		} else if hp.Port == 0 || hp.Host == "" {
			t.Fatalf("ParseHostPort(%q) = %+v", s, hp)
		} else if again, err := ParseHostPort(hp.String()); err != nil || again != hp {
			t.Fatalf("ParseHostPort(%q) = %+v, but %q parses to %+v, %v", s, hp, hp.String(), again, err)
		}
	})
}

// TestTOMLErrorAtEndIsPositioned: the TOML library reports a backslash at
// the end of the file a line short (line 0 on the first line), quoting the
// end as a NUL; the error came back unpositioned ("file: ...", not a
// diag.List) or on the wrong line, with a raw NUL in its text
// (FuzzLoad/96aac43014471adc).
func TestTOMLErrorAtEndIsPositioned(t *testing.T) {
	for _, tt := range []struct{ src, want string }{
		{"\"\\", "s.toml:1:2: invalid escape in string '\\\\x00'"},
		{"name = \"x\"\nseed = \"\\", "s.toml:2:9: invalid escape in string '\\\\x00'"},
	} {
		_, err := Parse("s.toml", t.TempDir(), []byte(tt.src))
		if _, ok := err.(diag.List); !ok || err.Error() != tt.want {
			t.Errorf("Parse(%q) = %T %q, want %q", tt.src, err, err, tt.want)
		}
	}
}

// TestNonTableElementIsPositioned: an array-of-tables element that is not
// a table (certs = [""]) is reported where it is, and so is what the
// validator then finds missing; "cert needs a name" used to come without
// a position (FuzzLoad/2f52c570bd52fc10).
func TestNonTableElementIsPositioned(t *testing.T) {
	_, err := Parse("s.toml", t.TempDir(), []byte("name = \"x\"\ncerts = [\"\"]\n"))
	list, ok := err.(diag.List)
	if !ok || len(list) == 0 {
		t.Fatalf("Parse = %T %v, want a diag.List", err, err)
	}
	for _, e := range list {
		if e.Pos.Line != 2 {
			t.Errorf("error %v, want it on line 2", e)
		}
	}
}
