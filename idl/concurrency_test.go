package idl

import (
	"sync"
	"testing"
)

// TestLoaderConcurrent loads the same names from many goroutines (run with
// -race): every caller gets the same cached result.
func TestLoaderConcurrent(t *testing.T) {
	l := okLoader()
	var wg sync.WaitGroup
	classes := make([]*Class, 8)
	for i := range classes {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c, err := l.Class("test.Server")
			if err != nil {
				t.Error(err)
			}
			if _, err := l.Package("capsim.Socket"); err != nil {
				t.Error(err)
			}
			classes[i] = c
		}()
	}
	wg.Wait()
	for _, c := range classes {
		if c != classes[0] {
			t.Fatal("callers got different classes")
		}
	}
}
