package main

import (
	"bytes"
	"encoding/json"
	"io"
	"os"
	"os/exec"
	"path/filepath"
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
		"policybot/eval":      {"policybot/bot", "policybot/scheduler", "policybot/cmd", "policybot/store", "policybot/llm", "policybot/console", "net/http"},
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

// maxFileLines bounds a non-test Go file: past it, a file holds more than
// one job and is split by job (one file per page, intent or step).
const maxFileLines = 400

func TestNoFileOverMaxLines(t *testing.T) {
	out, err := exec.Command("go", "list", "-f", `{{$d := .Dir}}{{range .GoFiles}}{{$d}}/{{.}}{{"\n"}}{{end}}`, "policybot/...").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	files := strings.Fields(string(out))
	if len(files) < 20 {
		t.Fatalf("go list saw %d files", len(files))
	}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if n := bytes.Count(b, []byte("\n")); n > maxFileLines {
			t.Errorf("%s has %d lines (at most %d: split it by job)", f, n, maxFileLines)
		}
	}
}

// TestDomainPackagesAreUsedOutsideCmd: the domain packages are there for
// the adapters (bot, console, scheduler) and for each other; one that only
// cmd imports is logic that drifted into the wiring's reach. And cmd does
// not reach the store's records itself: reading and writing records is a
// domain package's job, so the console and the commands share it.
func TestDomainPackagesAreUsedOutsideCmd(t *testing.T) {
	out, err := exec.Command("go", "list", "-json", "policybot/...").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	importers := map[string][]string{}
	dec := json.NewDecoder(bytes.NewReader(out))
	for {
		var p struct {
			ImportPath string
			Dir        string
			GoFiles    []string
			Imports    []string
		}
		if err := dec.Decode(&p); err == io.EOF {
			break
		} else if err != nil {
			t.Fatal(err)
		}
		for _, imp := range p.Imports {
			importers[imp] = append(importers[imp], p.ImportPath)
		}
		if p.ImportPath != "policybot/cmd/policybot" {
			continue
		}
		for _, f := range p.GoFiles {
			b, err := os.ReadFile(filepath.Join(p.Dir, f))
			if err != nil {
				t.Fatal(err)
			}
			for _, call := range []string{".PutRecord(", ".GetRecord(", ".GetRecords(", ".LookupRecords(", ".ListRecords(", ".DeleteRecord("} {
				if bytes.Contains(b, []byte(call)) {
					t.Errorf("cmd/policybot/%s calls %s: record access belongs in a domain package", f, call)
				}
			}
		}
	}
	for _, pkg := range []string{"policybot/handlers", "policybot/knowledge", "policybot/quiz", "policybot/roster"} {
		outside := 0
		for _, by := range importers[pkg] {
			if !strings.HasPrefix(by, "policybot/cmd/") {
				outside++
			}
		}
		if outside == 0 {
			t.Errorf("%s is imported by cmd only (%v): it should serve the adapters", pkg, importers[pkg])
		}
	}
}
