package knowledge

import (
	"archive/zip"
	"bytes"
	"os"
	"path/filepath"
	"sync"
	"testing"
)

var (
	defaultOnce sync.Once
	defaultBase *Base
	defaultErr  error
)

// mustDefault returns the knowledge base built from the embedded corpus,
// loaded once for the whole test binary.
func mustDefault(tb testing.TB) *Base {
	tb.Helper()
	defaultOnce.Do(func() {
		var problems []Problem
		defaultBase, problems, defaultErr = Load(Options{})
		if defaultErr == nil && len(problems) > 0 {
			defaultErr = problems[0]
		}
	})
	if defaultErr != nil {
		tb.Fatalf("load embedded corpus: %v", defaultErr)
	}
	return defaultBase
}

// mustWrite writes files (name → content) into a new temporary folder.
func mustWrite(tb testing.TB, files map[string][]byte) string {
	tb.Helper()
	dir := tb.TempDir()
	for name, data := range files {
		if err := os.WriteFile(filepath.Join(dir, name), data, 0o644); err != nil {
			tb.Fatal(err)
		}
	}
	return dir
}

// makeDocx builds a minimal Word document with one paragraph per element.
func makeDocx(tb testing.TB, paragraphs ...string) []byte {
	tb.Helper()
	var body bytes.Buffer
	body.WriteString(`<?xml version="1.0" encoding="UTF-8" standalone="yes"?><w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"><w:body>`)
	for _, p := range paragraphs {
		// split each paragraph over two runs, as Word does, with a tab
		half := len([]rune(p)) / 2
		rs := []rune(p)
		body.WriteString(`<w:p><w:r><w:t>` + string(rs[:half]) + `</w:t></w:r><w:r><w:t xml:space="preserve">` + string(rs[half:]) + `</w:t></w:r></w:p>`)
	}
	body.WriteString(`</w:body></w:document>`)
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for name, content := range map[string]string{
		"[Content_Types].xml": `<?xml version="1.0"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"/>`,
		"word/document.xml":   body.String(),
	} {
		w, err := zw.Create(name)
		if err != nil {
			tb.Fatal(err)
		}
		if _, err := w.Write([]byte(content)); err != nil {
			tb.Fatal(err)
		}
	}
	if err := zw.Close(); err != nil {
		tb.Fatal(err)
	}
	return buf.Bytes()
}

// zipOf builds a zip archive of name → content.
func zipOf(files map[string]string) []byte {
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for name, content := range files {
		w, _ := zw.Create(name)
		w.Write([]byte(content))
	}
	zw.Close()
	return buf.Bytes()
}

// wantOf, factsOf, unitOrder and stopWords read with the embedded
// vocabulary, for tests; the want comes back without its vocabulary so
// tests can compare it with a literal (its methods fall back to the
// default).
func wantOf(q string) want {
	w := defaultVocab.wantOf(q)
	w.v = nil
	return w
}

func factsOf(text string) facts { return defaultVocab.factsOf(text) }

var (
	unitOrder = defaultVocab.unitOrder
	stopWords = defaultVocab.stop
)
