package verify

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"

	"capsim/scenario"
)

// WriteText prints one line per result, "NAME: holds" or "NAME: FAILS",
// each failure followed by its counterexamples, indented: what is wrong,
// then each hop with the bindings that grant it.
func WriteText(w io.Writer, results []Result) error {
	var b strings.Builder
	for _, r := range results {
		verdict := "holds"
		if r.Vacuous != "" {
			verdict += " (vacuously: " + r.Vacuous + ")"
		}
		if !r.Holds {
			verdict = "FAILS"
		}
		fmt.Fprintf(&b, "%s: %s\n", r.Name, verdict)
		if r.Network != "" {
			fmt.Fprintf(&b, "    note: %s\n", r.Network)
		}
		for _, c := range r.Counterexamples {
			fmt.Fprintf(&b, "    %s\n", c.Note)
			for _, h := range c.Hops {
				fmt.Fprintf(&b, "        %s %s\n", h, GrantedBy(h))
			}
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// GrantedBy says which bindings grant an edge: "granted by FILE:LINE:COL,
// ...", or the allow-list's reason.
func GrantedBy(e *Edge) string {
	if len(e.Grants) == 0 {
		if e.Channel != "" {
			return "granted by the allow-list (" + e.Channel + ")"
		}
		return "granted by the allow-list"
	}
	parts := make([]string, len(e.Grants))
	for i, p := range e.Grants {
		parts[i] = p.String()
	}
	return "granted by " + strings.Join(parts, ", ")
}

// jsonEdge is an edge as --json prints it.
type jsonEdge struct {
	Kind     string   `json:"kind"`
	Src      string   `json:"src"`
	Dst      string   `json:"dst"`
	Endpoint string   `json:"endpoint,omitempty"`
	Method   string   `json:"method"`
	Status   Status   `json:"status"`
	Grants   []string `json:"granted_by"`
	Channel  string   `json:"channel,omitempty"`
}

// MarshalJSON writes the edge with its kind and bindings as text.
func (e *Edge) MarshalJSON() ([]byte, error) {
	j := jsonEdge{Kind: e.Kind.String(), Src: e.Src, Dst: e.Dst, Endpoint: e.Endpoint, Method: e.Method,
		Status: e.Status, Grants: []string{}, Channel: e.Channel}
	for _, p := range e.Grants {
		j.Grants = append(j.Grants, p.String())
	}
	return json.Marshal(j)
}

// WriteJSON prints the results as one JSON object:
// {"scenario": NAME, "holds": BOOL, "properties": [...]}.
func WriteJSON(w io.Writer, scenarioName string, results []Result) error {
	all := true
	for _, r := range results {
		all = all && r.Holds
	}
	if results == nil {
		results = []Result{}
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(struct {
		Scenario   string   `json:"scenario"`
		Holds      bool     `json:"holds"`
		Properties []Result `json:"properties"`
	}{scenarioName, all, results})
}

// ExpectProperty checks an [[expect]] property = ... holds = ... of a
// scenario statically, and returns "" when the property's verdict is the
// expected one, else what was expected and what was found.
func ExpectProperty(sc *scenario.Scenario, e *scenario.Expect) string {
	g, err := Prepare(sc)
	if err != nil {
		return fmt.Sprintf("property %q: %v", e.Property, err)
	}
	p := g.Property(e.Property)
	if p == nil {
		return fmt.Sprintf("property %q: no such [[property]]", e.Property)
	}
	r := g.CheckProperty(p)
	want := e.Holds
	if r.Holds == want {
		return ""
	}
	var b strings.Builder
	_ = WriteText(&b, []Result{r})
	return fmt.Sprintf("property %q: expected holds = %t, verify found:\n%s", e.Property, want, strings.TrimRight(b.String(), "\n"))
}
