package idl

import (
	"fmt"
	"math"
	"math/big"
	"strings"

	"capsim/diag"
)

// Constant expressions are evaluated exactly (math/big) and must stay
// within the range of int64 at every step.

var (
	bigMinInt64 = big.NewInt(math.MinInt64)
	bigMaxInt64 = big.NewInt(math.MaxInt64)
)

// evalError is a positioned failure of constant evaluation.
type evalError struct {
	pos diag.Pos
	msg string
}

// eval evaluates e; lookup resolves a (possibly qualified) constant name
// and reports a failure itself. ok is false when e has no value; every
// reason was added to errs.
func eval(e astExpr, lookup func(q qname) (int64, bool), errs *diag.List) (v int64, ok bool) {
	b, err := evalBig(e, lookup)
	if err != nil {
		errs.Add(err.pos, err.msg)
		return 0, false
	}
	if b == nil {
		return 0, false
	}
	return b.Int64(), true
}

// evalBig returns nil, nil when lookup failed (and reported it).
func evalBig(e astExpr, lookup func(q qname) (int64, bool)) (*big.Int, *evalError) {
	switch e := e.(type) {
	case *intLit:
		return literal(e, false)
	case *nameRef:
		v, ok := lookup(e.qname)
		if !ok {
			return nil, nil // lookup has reported it; nil, nil means "already reported"
		}
		return big.NewInt(v), nil
	case *unaryExpr:
		var x *big.Int
		var err *evalError
		if lit, ok := e.X.(*intLit); ok && e.Op == tSub {
			x, err = literal(lit, true) // -9223372036854775808 is in range
		} else {
			x, err = evalBig(e.X, lookup)
		}
		if x == nil {
			return nil, err
		}
		if e.Op == tSub {
			x.Neg(x)
		}
		return checkRange(x, e.Pos)
	case *binaryExpr:
		x, err := evalBig(e.X, lookup)
		if x == nil {
			return nil, err
		}
		y, err := evalBig(e.Y, lookup)
		if y == nil {
			return nil, err
		}
		return binaryOp(e, x, y)
	}
	return nil, &evalError{e.exprPos(), "not a constant expression"}
}

// literal evaluates an integer literal, which must fit int64 (once
// negated when negated is set).
func literal(e *intLit, negated bool) (*big.Int, *evalError) {
	text, base := strings.ToLower(e.Text), 10
	switch {
	case strings.HasPrefix(text, "0x"):
		text, base = text[2:], 16
	case len(text) > 1 && text[0] == '0':
		// Go and C read 010 as octal; an IDL reader would not expect it.
		return nil, &evalError{e.Pos, fmt.Sprintf("integer %s has a leading zero: integers are decimal or 0x-hexadecimal", e.Text)}
	}
	v, ok := new(big.Int).SetString(text, base)
	if !ok {
		return nil, &evalError{e.Pos, fmt.Sprintf("malformed integer %s", e.Text)}
	}
	if neg := new(big.Int).Neg(v); !fitsInt64(v) && !(negated && fitsInt64(neg)) {
		return nil, &evalError{e.Pos, fmt.Sprintf("integer %s overflows a 64-bit constant", e.Text)}
	}
	return v, nil
}

func fitsInt64(v *big.Int) bool { return v.Cmp(bigMinInt64) >= 0 && v.Cmp(bigMaxInt64) <= 0 }

func checkRange(v *big.Int, pos diag.Pos) (*big.Int, *evalError) {
	if !fitsInt64(v) {
		return nil, &evalError{pos, "constant overflows 64 bits"}
	}
	return v, nil
}

func binaryOp(e *binaryExpr, x, y *big.Int) (*big.Int, *evalError) {
	z := new(big.Int)
	switch e.Op {
	case tAdd:
		z.Add(x, y)
	case tSub:
		z.Sub(x, y)
	case tMul:
		z.Mul(x, y)
	case tQuo, tRem:
		if y.Sign() == 0 {
			return nil, &evalError{e.Pos, "division by zero"}
		}
		if e.Op == tQuo {
			z.Quo(x, y)
		} else {
			z.Rem(x, y)
		}
	case tShl, tShr:
		if y.Sign() < 0 || y.Cmp(big.NewInt(64)) > 0 {
			return nil, &evalError{e.Pos, fmt.Sprintf("shift count %s out of range 0..64", y)}
		}
		if e.Op == tShl {
			z.Lsh(x, uint(y.Int64()))
		} else {
			z.Rsh(x, uint(y.Int64()))
		}
	case tAnd:
		z.And(x, y)
	case tOr:
		z.Or(x, y)
	case tPow:
		if y.Sign() < 0 {
			return nil, &evalError{e.Pos, "negative exponent"}
		}
		if x.CmpAbs(big.NewInt(1)) > 0 && y.Cmp(big.NewInt(64)) > 0 {
			return nil, &evalError{e.Pos, "constant overflows 64 bits"}
		}
		z.Exp(x, y, nil)
	default:
		return nil, &evalError{e.Pos, "unknown operator " + e.Op.String()}
	}
	return checkRange(z, e.Pos)
}

// intRange returns the range of an integer kind.
func intRange(k Kind) (lo, hi *big.Int, ok bool) {
	bitsOf := map[Kind]uint{UInt8: 8, UInt16: 16, UInt32: 32, UInt64: 64, SInt8: 8, SInt16: 16, SInt32: 32, SInt64: 64}
	n, ok := bitsOf[k]
	if !ok {
		return nil, nil, false
	}
	one := big.NewInt(1)
	if k <= UInt64 {
		return big.NewInt(0), new(big.Int).Sub(new(big.Int).Lsh(one, n), one), true
	}
	hi = new(big.Int).Sub(new(big.Int).Lsh(one, n-1), one)
	return new(big.Int).Neg(new(big.Int).Lsh(one, n-1)), hi, true
}
