package policy

import "strings"

// PAL: policy tests inside a policy file.
//
//	assert "set" {
//	    setup { s <- execute dst=demo.Server }
//	    sequence "name" { grant c ~> s : ping.Ping { value : 1 } }
//	    finally { }
//	}

func (p *parser) parseTestSet() *TestSet {
	pos := p.next().pos
	ts := &TestSet{Name: p.str("a test set name").val, Pos: pos}
	p.expect("{")
	for !p.is("}") {
		t := p.ident("setup, sequence or finally")
		switch t.text {
		case "setup":
			if ts.Setup != nil {
				p.errorf(t.pos, "setup given twice")
			}
			ts.Setup = p.parseSteps()
		case "finally":
			if ts.Finally != nil {
				p.errorf(t.pos, "finally given twice")
			}
			ts.Finally = p.parseSteps()
		case "sequence":
			s := &Sequence{Name: p.str("a sequence name").val, Pos: t.pos}
			s.Steps = p.parseSteps()
			ts.Sequences = append(ts.Sequences, s)
		default:
			p.errorf(t.pos, "expected setup, sequence or finally, found %s", describe(t))
		}
	}
	p.next()
	return ts
}

func (p *parser) parseSteps() []*TestStep {
	p.expect("{")
	steps := []*TestStep{}
	for !p.is("}") {
		steps = append(steps, p.parseStep())
	}
	p.next()
	return steps
}

func (p *parser) parseStep() *TestStep {
	start := p.i
	t := p.ident("a test case")
	s := &TestStep{Pos: t.pos}
	defer func() { s.Text = p.text(start) }()
	if p.is("<-") {
		p.next()
		s.Bind, s.Expect = t.text, "grant"
		if !p.is("execute") {
			p.errorf(p.tok().pos, "expected \"execute\" after \"<-\", found %s", describe(p.tok()))
		}
		p.next()
		s.Kind = Execute
		s.Sel = p.parseSelectors()
		return s
	}
	switch t.text {
	case "grant", "deny", "any":
		s.Expect = t.text
	default:
		p.errorf(t.pos, "expected a test case (grant, deny, any or NAME <- execute), found %s", describe(t))
	}
	if p.tok().kind == tString {
		s.Name = p.next().val
	}
	if p.tok().kind == tIdent && p.peek(1).kind == tPunct && p.peek(1).text == "~>" {
		p.parseShorthand(s)
	} else {
		k := p.ident("an event kind")
		if eventKinds[k.text] == 0 {
			p.errorf(k.pos, "expected an event kind (execute, request, response, error, security), found %s", describe(k))
		}
		s.Kind = eventKinds[k.text]
		s.Sel = p.parseSelectors()
	}
	if p.is("{") {
		s.Message = p.parseRecord()
	}
	return s
}

// parseShorthand parses `c ~> s : endpoint.Method`.
func (p *parser) parseShorthand(s *TestStep) {
	src := p.next()
	p.next()
	dst := p.ident("a server name")
	p.expect(":")
	name, pos := p.qualName("endpoint.Method")
	i := strings.LastIndexByte(name, '.')
	if i < 0 {
		p.errorf(pos, "expected endpoint.Method, found %q", name)
	}
	s.Kind = Request
	s.Sel = Selectors{Src: src.text, Dst: dst.text, Endpoint: name[:i], Method: name[i+1:],
		List: []Selector{
			{Key: "src", Value: src.text, Pos: src.pos},
			{Key: "dst", Value: dst.text, Pos: dst.pos},
			{Key: "endpoint", Value: name[:i], Pos: pos},
			{Key: "method", Value: name[i+1:], Pos: pos},
		}}
}
