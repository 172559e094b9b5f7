package httpdemo

import (
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
	"testing/fstest"
)

func TestServeIndexAnswersTheFileItself(t *testing.T) {
	fsys := fstest.MapFS{
		"index.html":     {Data: []byte("<h1>home</h1>")},
		"sub/index.html": {Data: []byte("<h1>sub</h1>")},
		"other.txt":      {Data: []byte("other")},
	}
	h := serveIndex(fsys, http.FileServerFS(fsys))
	tests := []struct {
		path string
		code int
		body string
	}{
		{"/index.html", http.StatusOK, "<h1>home</h1>"},
		{"/sub/index.html", http.StatusOK, "<h1>sub</h1>"},
		{"/", http.StatusOK, "<h1>home</h1>"}, // the file server's own index
		{"/other.txt", http.StatusOK, "other"},
		{"/nope/index.html", http.StatusNotFound, ""},
	}
	for _, tt := range tests {
		t.Run(tt.path, func(t *testing.T) {
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, httptest.NewRequest("GET", tt.path, nil))
			body, _ := io.ReadAll(rec.Body)
			if rec.Code != tt.code {
				t.Fatalf("GET %s: %d, want %d (Location %q)", tt.path, rec.Code, tt.code, rec.Header().Get("Location"))
			}
			if tt.body != "" && string(body) != tt.body {
				t.Errorf("GET %s: body %q, want %q", tt.path, body, tt.body)
			}
		})
	}
}
