package main

import (
	"encoding/json"
	"io"
	"os/exec"
	"strings"
	"testing"
)

// TestDependenciesPointInward holds the layering of ARCHITECTURE.md: the
// knowledge package is a leaf, handlers never reach a transport or a
// driver, and the adapters do not import each other. Only cmd wires.
func TestDependenciesPointInward(t *testing.T) {
	out, err := exec.Command("go", "list", "-json", "policybot/...").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	dec := json.NewDecoder(strings.NewReader(string(out)))
	rules := map[string][]string{ // package prefix → imports it must not have
		"policybot/knowledge": {"policybot/", "net/http"},
		"policybot/handlers":  {"policybot/bot", "policybot/scheduler", "policybot/cmd", "policybot/store", "policybot/llm", "net/http", "github.com/redis/", "go.etcd.io/", "github.com/silenceper/", "github.com/sashabaranov/"},
		"policybot/store":     {"policybot/bot", "policybot/scheduler", "policybot/cmd", "policybot/knowledge"},
		"policybot/bot":       {"policybot/scheduler", "policybot/cmd"},
		"policybot/scheduler": {"policybot/bot", "policybot/cmd"},
		"policybot/console":   {"policybot/bot", "policybot/scheduler", "policybot/cmd", "policybot/store", "policybot/llm"},
		"policybot/llm":       {"policybot/bot", "policybot/scheduler", "policybot/cmd", "policybot/store"},
		"policybot/quiz":      {"policybot/", "net/http"},
		"policybot/roster":    {"policybot/", "net/http"},
	}
	checked := 0
	for {
		var p struct {
			ImportPath string
			Imports    []string
		}
		if err := dec.Decode(&p); err == io.EOF {
			break
		} else if err != nil {
			t.Fatal(err)
		}
		for prefix, banned := range rules {
			if p.ImportPath != prefix && !strings.HasPrefix(p.ImportPath, prefix+"/") {
				continue
			}
			checked++
			for _, imp := range p.Imports {
				for _, b := range banned {
					if strings.HasPrefix(imp, b) && !strings.HasPrefix(imp, prefix) {
						t.Errorf("%s imports %s (layering rule: not %s)", p.ImportPath, imp, b)
					}
				}
			}
		}
	}
	if checked < 2 {
		t.Fatalf("checked %d packages: go list did not see the module", checked)
	}
}
