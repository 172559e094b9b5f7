package diag

import (
	"bytes"
	"errors"
	"testing"
)

func TestPosString(t *testing.T) {
	tests := []struct {
		pos  Pos
		want string
	}{
		{Pos{"a.idl", 3, 7}, "a.idl:3:7"},
		{Pos{"a.idl", 3, 0}, "a.idl:3"},
		{Pos{"a.idl", 0, 0}, "a.idl"},
		{Pos{}, "-"},
	}
	for _, tt := range tests {
		if got := tt.pos.String(); got != tt.want {
			t.Errorf("%#v.String() = %q, want %q", tt.pos, got, tt.want)
		}
	}
}

func TestListSortAndErr(t *testing.T) {
	var l List
	if l.Err() != nil {
		t.Fatal("empty list: Err() != nil")
	}
	l.Addf(Pos{"b.psl", 1, 1}, "second file")
	l.Addf(Pos{"a.psl", 9, 2}, "later line")
	l.Addf(Pos{"a.psl", 2, 5}, "first")
	l.Addf(Pos{"a.psl", 2, 9}, "same line")
	l.Sort()
	if l[0].Msg != "first" || l[3].Msg != "second file" {
		t.Fatalf("sorted order wrong: %v", []*Error(l))
	}
	err := l.Err()
	if got, want := err.Error(), "a.psl:2:5: first (and 3 more errors)"; got != want {
		t.Errorf("Error() = %q, want %q", got, want)
	}
	var back List
	if !errors.As(err, &back) || len(back) != 4 {
		t.Fatalf("errors.As did not recover the list")
	}
	l.RemoveMultiples()
	if len(l) != 3 {
		t.Errorf("RemoveMultiples kept %d errors, want 3", len(l))
	}
	var buf bytes.Buffer
	Print(&buf, l.Err())
	if got := buf.String(); got != "a.psl:2:5: first\na.psl:9:2: later line\nb.psl:1:1: second file\n" {
		t.Errorf("Print wrote %q", got)
	}
}

func TestEditDistance(t *testing.T) {
	tests := []struct {
		a, b string
		want int
	}{
		{"", "", 0}, {"adress", "address", 1}, {"clas", "class", 1}, {"ab", "ba", 1},
		{"server", "sever", 1}, {"kitten", "sitting", 3}, {"x", "", 1},
	}
	for _, tt := range tests {
		if got := EditDistance(tt.a, tt.b); got != tt.want {
			t.Errorf("EditDistance(%q, %q) = %d, want %d", tt.a, tt.b, got, tt.want)
		}
	}
}
