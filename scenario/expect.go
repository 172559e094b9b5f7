package scenario

import (
	"reflect"
	"strconv"
	"strings"
)

// ExpectKind says what an [[expect]] checks.
type ExpectKind uint8

// Kinds of expectation.
const (
	ExpectTask      ExpectKind = iota + 1 // Task with Exit and/or Output
	ExpectTrace                           // Trace with Min/Max
	ExpectAudit                           // Audit with Min/Max
	ExpectLink                            // Link with Contains/Absent (text or hex)
	ExpectKernelRSS                       // KernelMaxRSS
	ExpectProperty                        // Property with Holds
)

var expectKindNames = [...]string{"", "task", "trace", "audit", "link", "kernel_max_rss", "property"}

func (k ExpectKind) String() string {
	if int(k) < len(expectKindNames) && k > 0 {
		return expectKindNames[k]
	}
	return "invalid"
}

// Expect is one [[expect]], checked at the end of a run. The loader sets
// Kind, defaults Min to 1 (0 when Max is 0) and Holds to true.
type Expect struct {
	Node
	Kind ExpectKind `toml:"-"`

	Task   string  `toml:"task"`
	Exit   *int    `toml:"exit"`
	Output *string `toml:"output"` // a substring of the task's stdout+stderr

	Trace *Match `toml:"trace"`
	Audit *Match `toml:"audit"`
	Min   int    `toml:"min"`
	Max   *int   `toml:"max"` // nil: no upper bound

	Link        string  `toml:"link"`
	Contains    *string `toml:"contains"`
	Absent      *string `toml:"absent"`
	ContainsHex Hex     `toml:"contains_hex"`
	AbsentHex   Hex     `toml:"absent_hex"`

	KernelMaxRSS Size `toml:"kernel_max_rss"`

	Property string `toml:"property"`
	Holds    bool   `toml:"holds"`
}

// Hex is a byte string written in hexadecimal ("474554" or "47 45 54").
type Hex []byte

// Patterns returns the byte strings a link expectation wants present and
// absent, from the text and hex keys together.
func (e *Expect) Patterns() (contains, absent [][]byte) {
	if e.Contains != nil {
		contains = append(contains, []byte(*e.Contains))
	}
	if e.ContainsHex != nil {
		contains = append(contains, e.ContainsHex)
	}
	if e.Absent != nil {
		absent = append(absent, []byte(*e.Absent))
	}
	if e.AbsentHex != nil {
		absent = append(absent, e.AbsentHex)
	}
	return contains, absent
}

// Match selects trace or audit records: a record matches when every given
// field is equal, except Reason, which matches by prefix. Field names are
// those of the trace.
type Match struct {
	Node
	Seq       *int64  `toml:"seq"`
	Kind      *string `toml:"kind"` // execute request response error security exit cancel
	Src       *string `toml:"src"`
	Dst       *string `toml:"dst"`
	SrcClass  *string `toml:"src_class"`
	DstClass  *string `toml:"dst_class"`
	SrcSID    *int64  `toml:"src_sid"`
	DstSID    *int64  `toml:"dst_sid"`
	Endpoint  *string `toml:"endpoint"`
	Interface *string `toml:"interface"`
	Method    *string `toml:"method"`
	Decision  *string `toml:"decision"` // grant or deny
	Reason    *string `toml:"reason"`   // a prefix
	Txn       *int64  `toml:"txn"`
	Bytes     *int64  `toml:"bytes"`
	LatencyNs *int64  `toml:"latency_ns"`
	PID       *int64  `toml:"pid"`
	Code      *int64  `toml:"code"`
	Signal    *string `toml:"signal"`
	Errno     *string `toml:"errno"` // "ECONNREFUSED"
}

// Field is one field of a Match: its trace name and wanted value (integers
// in decimal).
type Field struct {
	Name, Value string
}

// Fields returns the fields the match gives, in the order of the trace
// record.
func (m *Match) Fields() []Field {
	var out []Field
	v := reflect.ValueOf(m).Elem()
	t := v.Type()
	for i := range t.NumField() {
		name := t.Field(i).Tag.Get("toml")
		f := v.Field(i)
		if name == "" || f.Kind() != reflect.Pointer || f.IsNil() {
			continue
		}
		switch p := f.Interface().(type) {
		case *string:
			out = append(out, Field{name, *p})
		case *int64:
			out = append(out, Field{name, strconv.FormatInt(*p, 10)})
		}
	}
	return out
}

// Matches reports whether a record matches. get returns a record's field
// as text (integers in decimal) and whether the record has it.
func (m *Match) Matches(get func(name string) (string, bool)) bool {
	for _, f := range m.Fields() {
		v, ok := get(f.Name)
		if !ok {
			return false
		}
		if f.Name == "reason" {
			if !strings.HasPrefix(v, f.Value) {
				return false
			}
		} else if v != f.Value {
			return false
		}
	}
	return true
}

// Trace record kinds and decisions that a Match may name.
var (
	traceKinds = []string{"execute", "request", "response", "error", "security", "exit", "cancel"}
	decisions  = []string{"grant", "deny"}
)
