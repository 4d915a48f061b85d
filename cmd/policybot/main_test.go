package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// runCmd runs the command line in-process with its own data directory.
func runCmd(t *testing.T, stdin string, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errb bytes.Buffer
	code = run(context.Background(), args, strings.NewReader(stdin), &out, &errb)
	return code, out.String(), errb.String()
}

func TestAskJSONFromStdin(t *testing.T) {
	dir := t.TempDir()
	code, out, errOut := runCmd(t, "四类人员有哪些\n退耕还林一亩地补多少钱\n", "ask", "--json", "--data-dir", dir, "-")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	sc := bufio.NewScanner(strings.NewReader(out))
	var lines []askJSON
	for sc.Scan() {
		var a askJSON
		if err := json.Unmarshal(sc.Bytes(), &a); err != nil {
			t.Fatalf("line %q: %v", sc.Text(), err)
		}
		lines = append(lines, a)
	}
	if len(lines) != 2 {
		t.Fatalf("got %d lines", len(lines))
	}
	if !lines[0].Answered || lines[0].Sources[0].File != "000_0f4e317a7dc85b4e.txt" || lines[0].Sources[0].Quote == "" || lines[0].LatencyUS <= 0 {
		t.Errorf("first = %+v", lines[0])
	}
	if lines[1].Answered || lines[1].Sources == nil {
		t.Errorf("second = %+v (sources must be [] not null)", lines[1])
	}
	// the refused question is in the unanswered log
	data, err := os.ReadFile(filepath.Join(dir, "unanswered.jsonl"))
	if err != nil || !strings.Contains(string(data), "退耕还林") || strings.Contains(string(data), "四类人员") {
		t.Errorf("unanswered log = %q, %v", data, err)
	}
}

func TestAskPlainText(t *testing.T) {
	code, out, _ := runCmd(t, "", "ask", "--data-dir", t.TempDir(), "四类人员有哪些")
	if code != 0 || !strings.Contains(out, "来源:") || strings.HasPrefix(out, "{") {
		t.Errorf("exit %d, out %q", code, out)
	}
}

func TestUsageErrors(t *testing.T) {
	for _, args := range [][]string{{}, {"nope"}, {"ask"}, {"ask", "-"}, {"eval"}} {
		if code, _, _ := runCmd(t, "", args...); code != 2 {
			t.Errorf("%v: exit %d, want 2", args, code)
		}
	}
	if code, _, errOut := runCmd(t, "", "eval", "/no/such/file.jsonl"); code != 1 || !strings.Contains(errOut, "no/such/file") {
		t.Errorf("missing eval file: exit %d, %q", code, errOut)
	}
}

func TestBrokenKnowledgeFolderIsReportedNotFatal(t *testing.T) {
	kb := t.TempDir()
	os.WriteFile(filepath.Join(kb, "坏文件.docx"), []byte("not a zip"), 0o644)
	code, out, errOut := runCmd(t, "", "ask", "--kb", kb, "--data-dir", t.TempDir(), "四类人员有哪些")
	if code != 0 || !strings.Contains(out, "财政供养人员") {
		t.Errorf("exit %d, out %q", code, out)
	}
	if !strings.Contains(errOut, "坏文件.docx") {
		t.Errorf("the broken file was not named: %q", errOut)
	}
}

func TestConfigFromEnvAndFile(t *testing.T) {
	file := filepath.Join(t.TempDir(), "c.json")
	os.WriteFile(file, []byte(`{"data_dir": "/from/file", "min_confidence": 0.3}`), 0o644)
	env := map[string]string{"POLICYBOT_MIN_CONFIDENCE": "0.5", "POLICYBOT_KB_DIRS": "/a:/b"}
	cf := commonFlags{configFile: file}
	c, err := cf.load(func(k string) string { return env[k] })
	if err != nil {
		t.Fatal(err)
	}
	if c.DataDir != "/from/file" || c.MinConfidence != 0.5 || strings.Join(c.KBDirs, ",") != "/a,/b" {
		t.Errorf("config = %+v", c)
	}
	// flags win over everything
	cf.dataDir = "/from/flag"
	if c, _ = cf.load(func(k string) string { return env[k] }); c.DataDir != "/from/flag" {
		t.Errorf("flag did not win: %+v", c)
	}
	bad := map[string]string{"POLICYBOT_MIN_CONFIDENCE": "lots"}
	if _, err := (&commonFlags{}).load(func(k string) string { return bad[k] }); err == nil || !strings.Contains(err.Error(), "POLICYBOT_MIN_CONFIDENCE") {
		t.Errorf("bad env value: %v", err)
	}
	os.WriteFile(file, []byte(`{"data_dri": "typo"}`), 0o644)
	if _, err := (&commonFlags{configFile: file}).load(func(string) string { return "" }); err == nil {
		t.Error("unknown config key accepted")
	}
}

func TestKBCommandListsDocuments(t *testing.T) {
	code, out, _ := runCmd(t, "", "kb")
	if code != 0 || !strings.Contains(out, "14 documents") || !strings.Contains(out, "002_7f4e662bb716b1da.txt") {
		t.Errorf("exit %d: %s", code, out)
	}
}
