package knowledge

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"testing"
)

// temporary: dumps every answer on every labelled set (not committed)
func TestZZSnapshot(t *testing.T) {
	out := os.Getenv("SNAP")
	if out == "" {
		t.Skip()
	}
	f, _ := os.Create(out)
	defer f.Close()
	plain, _, _ := Load(Options{})
	extra, _, _ := Load(Options{Dirs: []string{"testdata/extra"}})
	sets, _ := filepath.Glob("testdata/qa-*.jsonl")
	sets = append(sets, "../../shared/eval/qa-dev.jsonl")
	for _, s := range sets {
		r, _ := os.Open(s)
		sc := bufio.NewScanner(r)
		sc.Buffer(make([]byte, 1<<20), 1<<20)
		for sc.Scan() {
			var it struct{ Q string }
			json.Unmarshal(sc.Bytes(), &it)
			for _, kb := range []*Base{plain, extra} {
				a := kb.answer(it.Q)
				fmt.Fprintf(f, "%s|%q|%.6f|%q|%v\n", s, it.Q, a.Score, a.Text, a.Choices)
			}
		}
		r.Close()
	}
}
